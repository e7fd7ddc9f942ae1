"""Command line beside the app: `python cli.py --help` lists the commands.

`validate` lives here. Later layers add their commands from their own modules: each has
`register(subparsers)` that adds parsers with `set_defaults(func=...)`, where `func(args)`
returns the exit code.
"""
from __future__ import annotations

import argparse
import importlib
import sys

# Modules that add commands; each is optional so that `validate` works on its own.
COMMAND_MODULES = ("assessments.cli_commands", "reports.cli_commands", "workshops.cli_commands")


def cmd_validate(args: argparse.Namespace) -> int:
    from matrix import MatrixFileError, load_file

    bad = 0
    for name in args.files:
        try:
            doc = load_file(name)
        except MatrixFileError as exc:
            bad += 1
            for problem in exc.problems:
                print(problem)
            continue
        if not args.quiet:
            extra = f", {len(doc.element_ids())} elements" if hasattr(doc, "element_ids") else ""
            print(f"{name}: ok ({doc.kind} '{doc.id}' version {doc.version}{extra})")
    print(f"{len(args.files) - bad} valid, {bad} invalid", file=sys.stderr)
    return 1 if bad else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python cli.py", description="PCN maturity matrix tools.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("validate", help="check matrix, pathway and reference YAML files (exit 1 if any is invalid)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    p.set_defaults(func=cmd_validate)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name not in (name, name.split(".")[0]):
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

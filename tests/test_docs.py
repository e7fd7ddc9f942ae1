"""README.md documents what a user can set and run: every environment variable the code reads and
every `python cli.py` command.

Variables are found in the source (not by importing it), in every .py file outside tests/ and
benchmarks/: the names passed to `os.environ.get`, `os.environ[...]`, `os.getenv`,
`os.environ.setdefault` and `... in os.environ`, as literals or through string constants
(`ENV_URL = "PCN_DATABASE_URL"`, also when imported from another module), and, as a safety net
for reads the AST cannot follow, every string literal that is a whole `PCN_*` or `STREAMLIT_*` name.
Commands are read from the real parser: the output of `python cli.py --help`.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from layer_rules import source_files

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
ENV_NAME = re.compile(r"^(PCN|STREAMLIT)_[A-Z0-9_]+$")
ENV_READERS = {"get", "getenv", "setdefault"}


def environment_variables(root: Path) -> dict[str, str]:
    """Every environment variable name the code under root reads, with the first "path:line" seen."""
    trees = {}
    for path in source_files(root):
        try:
            trees[path.relative_to(root).as_posix()] = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError:
            continue  # another test reports files that do not parse
    constants: dict[str, dict[str, str]] = {rel: _string_constants(tree) for rel, tree in trees.items()}
    everywhere: dict[str, set[str]] = {}
    for table in constants.values():
        for name, value in table.items():
            everywhere.setdefault(name, set()).add(value)

    def value_of(node: ast.expr, rel: str) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        if name in constants[rel]:
            return constants[rel][name]
        values = everywhere.get(name, set())
        return next(iter(values)) if len(values) == 1 else None  # imported: from matrix.loader import ENV_DIR

    found: dict[str, str] = {}
    for rel, tree in trees.items():
        for node in ast.walk(tree):
            names: list[str | None] = []
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ENV_NAME.match(node.value):
                names.append(node.value)
            elif isinstance(node, ast.Call) and node.args and _reads_environment(node.func):
                names.append(value_of(node.args[0], rel))
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_environ(node.value):
                names.append(value_of(node.slice, rel))
            elif isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops) \
                    and any(_is_environ(c) for c in node.comparators):
                names.append(value_of(node.left, rel))
            for name in names:
                if name:
                    found.setdefault(name, f"{rel}:{node.lineno}")
    return dict(sorted(found.items()))


def _string_constants(tree: ast.Module) -> dict[str, str]:
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value.value
    return out


def _is_environ(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "environ") or \
        (isinstance(node, ast.Attribute) and node.attr == "environ")


def _reads_environment(func: ast.expr) -> bool:
    if isinstance(func, ast.Attribute):
        return (func.attr in ENV_READERS and _is_environ(func.value)) or \
            (func.attr == "getenv" and isinstance(func.value, ast.Name) and func.value.id == "os")
    return isinstance(func, ast.Name) and func.id == "getenv"


def cli_commands(root: Path) -> list[str]:
    """The subcommands of root/cli.py, as its own `--help` lists them."""
    done = subprocess.run([sys.executable, "cli.py", "--help"], cwd=root, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr or done.stdout
    return commands_in_help(done.stdout)


def commands_in_help(text: str) -> list[str]:
    """argparse lists subcommands under "positional arguments:", indented by four spaces:
    `    name  help`, `    name (alias, ...)`, or the name alone when it is long."""
    commands, section = [], None
    for line in text.splitlines():
        if line and not line[0].isspace() and line.rstrip().endswith(":"):
            section = line.strip()
        elif section == "positional arguments:" and (m := re.match(r"^ {4}([A-Za-z0-9][\w.-]*)(?:\s|$)", line)):
            commands.append(m.group(1))
    return commands


def undocumented(readme: str, variables: Iterable[str] = (), commands: Iterable[str] = ()) -> list[str]:
    problems = [f"environment variable {v} is not in README.md" for v in variables
                if not re.search(rf"(?<![A-Za-z0-9_]){re.escape(v)}(?![A-Za-z0-9_])", readme)]
    problems += [f"command `python cli.py {c}` is not in README.md" for c in commands
                 if not re.search(rf"python cli\.py {re.escape(c)}(?![\w-])", readme)]
    return problems


def test_every_environment_variable_is_in_the_readme():
    variables = environment_variables(ROOT)
    assert "PCN_DATABASE_URL" in variables
    problems = undocumented(README.read_text(encoding="utf-8"), variables=variables)
    assert not problems, "\n".join(f"{p} (read at {variables[p.split()[2]]})" for p in problems)


def test_every_command_is_in_the_readme():
    commands = cli_commands(ROOT)
    assert "validate" in commands
    problems = undocumented(README.read_text(encoding="utf-8"), commands=commands)
    assert not problems, "\n".join(problems)


PLANTED_CODE = {
    "matrix/loader.py": 'import os\nENV_DIR = "PCN_PLANTED_DIR"\nDIRS = os.environ.get(ENV_DIR, "")\n',
    "views/page.py": ("import os\nfrom matrix.loader import ENV_DIR\n"
                      "a = os.environ.get(ENV_DIR)\nb = os.getenv('PLANTED_HOME')\nc = os.environ['PCN_PLANTED_KEY']\n"
                      "d = 'PCN_PLANTED_FLAG' in os.environ\n"),
    "components/state.py": ("from os import environ, getenv\nURL: str = 'PCN_PLANTED_URL'\n"
                            "environ.setdefault(URL, 'x')\ngetenv('OTHER_PLANTED')\n"
                            "note = 'set STREAMLIT_PLANTED_PORT'\nhelper = dict(name='STREAMLIT_PLANTED_THEME')\n"),
    "tests/test_x.py": "import os\nos.environ.get('PCN_ONLY_IN_TESTS')\n",
    "benchmarks/bench.py": "import os\nos.environ.get('PCN_ONLY_IN_BENCHMARKS')\n",
    "cli.py": ("import argparse\np = argparse.ArgumentParser(prog='python cli.py')\n"
               "sub = p.add_subparsers(dest='command', required=True, metavar='COMMAND')\n"
               "sub.add_parser('validate', help='check the files')\n"
               "sub.add_parser('export-plan', help='one plan')\n"
               "sub.add_parser('export-plans', aliases=['plans'], help='every plan')\n"
               "sub.add_parser('import-organisations-from-a-very-long-name', help='a name too long for its column')\n"
               "p.add_argument('--verbose', help='a long option help text ' * 5)\n"
               "p.parse_args()\n"),
}


def test_the_checks_catch_what_the_readme_leaves_out(tmp_path):
    for name, text in PLANTED_CODE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    variables = environment_variables(tmp_path)
    assert set(variables) == {"PCN_PLANTED_DIR", "PLANTED_HOME", "PCN_PLANTED_KEY", "PCN_PLANTED_FLAG",
                              "PCN_PLANTED_URL", "OTHER_PLANTED", "STREAMLIT_PLANTED_THEME"}
    assert variables["PLANTED_HOME"] == "views/page.py:4"
    commands = cli_commands(tmp_path)
    assert commands == ["validate", "export-plan", "export-plans", "import-organisations-from-a-very-long-name"]

    readme = ("Set `PCN_PLANTED_DIR`, PCN_PLANTED_KEY, `PCN_PLANTED_URL=...`, OTHER_PLANTED and PLANTED_HOME.\n"
              "PCN_PLANTED_FLAGS is another name. STREAMLIT_PLANTED_THEME_X neither.\n"
              "    python cli.py validate a.yaml\n    python cli.py export-plans -o plans/\n"
              "python cli.py import-organisations-from-a-very-long-name x.csv\n")
    assert undocumented(readme, variables, commands) == [
        "environment variable PCN_PLANTED_FLAG is not in README.md",
        "environment variable STREAMLIT_PLANTED_THEME is not in README.md",
        "command `python cli.py export-plan` is not in README.md",
    ]
    assert not undocumented(readme + "PCN_PLANTED_FLAG, STREAMLIT_PLANTED_THEME, `python cli.py export-plan`",
                            variables, commands)

"""Commands for the records: `python cli.py demo | backup | restore | import-ratings |
export-ratings | template | grant | revoke | who`. The command line acts as an administrator
(whoever can run it can open the database file or its URL anyway). Each prints what it did and returns 0, or prints the problems and
returns 1; user errors never show a traceback."""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from .values import StoreError

USER_ENV = "PCN_USER"


def _who(args: argparse.Namespace) -> str:
    if getattr(args, "by", None):
        return args.by
    try:
        return os.environ.get(USER_ENV) or f"{getpass.getuser()} (command line)"
    except Exception:  # getpass fails without a login name (some containers)
        return "command line"


def _store():
    from .store import Store
    return Store()


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def _guard(func):
    """Turn expected problems into a message and exit code 1."""
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except (StoreError, ValueError, OSError) as exc:
            return _fail(str(exc) if not isinstance(exc, OSError) else f"{exc.filename or ''}: {exc.strerror or exc}")
    return run


@_guard
def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import load_demo

    with _store() as store:
        summary = load_demo(store)
        print(f"Loaded the demonstration data into {store!r}:")
        for line in summary.lines():
            print(f"  {line}")
    return 0


@_guard
def cmd_backup(args: argparse.Namespace) -> int:
    from .exchange import write_backup

    with _store() as store:
        data = write_backup(store, args.output)
    counts = ", ".join(f"{name} {len(t['rows']):,}" for name, t in data["tables"].items())
    print(f"Wrote {args.output} (schema {data['schema_revision']}; rows: {counts})")
    return 0


@_guard
def cmd_restore(args: argparse.Namespace) -> int:
    from .exchange import RestoreError, read_backup, restore

    try:
        data = read_backup(args.file)
        with _store() as store:
            counts = restore(store, data)
            print(f"Restored {args.file} into {store!r} (rows: {', '.join(f'{k} {v:,}' for k, v in counts.items())})")
    except RestoreError as exc:
        return _fail(f"Nothing was restored: {exc}")
    return 0


@_guard
def cmd_import(args: argparse.Namespace) -> int:
    from .exchange import ImportProblems, import_ratings

    with _store() as store:
        try:
            result = import_ratings(store, args.file, by=_who(args))
        except ImportProblems as exc:
            return _fail(exc.report(limit=100))
    print(result.summary())
    return 0


@_guard
def cmd_export(args: argparse.Namespace) -> int:
    from .exchange import export_ratings

    with _store() as store:
        n = export_ratings(store, args.output, ics_code=args.ics, year=args.year)
    print(f"Wrote {n:,} rating row(s) to {args.output}")
    return 0


@_guard
def cmd_template(args: argparse.Namespace) -> int:
    from .exchange import write_template

    with _store() as store:
        matrix = None
        if args.matrix:
            matrix_id, _, version = args.matrix.partition("@")
            matrix = store.matrix(matrix_id, version) if version else max(
                (m for (i, _v), m in store.matrices().items() if i == matrix_id), key=lambda m: m.version,
                default=None) or store.matrix(matrix_id, "?")
        n = write_template(store, args.output, matrix=matrix, pcn_code=args.pcn, year=args.year)
    print(f"Wrote a template with {n} element row(s) to {args.output}")
    return 0


def _table_file(value: str) -> str:
    if Path(value).suffix.lower() not in (".csv", ".xlsx"):
        raise argparse.ArgumentTypeError(f"'{value}': use a .csv or .xlsx file")
    return value


@_guard
def cmd_import_organisations(args: argparse.Namespace) -> int:
    from .exchange import ImportProblems
    from .organisations import import_organisations

    with _store() as store:
        try:
            result = import_organisations(store, args.file, by=_who(args))
        except ImportProblems as exc:
            return _fail(exc.report(limit=100))
    print(result.summary())
    return 0


@_guard
def cmd_export_organisations(args: argparse.Namespace) -> int:
    from .organisations import export_organisations

    with _store() as store:
        n = export_organisations(store, args.output)
    print(f"Wrote {n:,} PCN row(s) to {args.output}")
    return 0


@_guard
def cmd_grant(args: argparse.Namespace) -> int:
    from .people import grant

    with _store() as store:
        g = grant(store, args.email, args.role, ics_code=args.ics, pcn_code=args.pcn, may_edit=args.may_edit,
                  by=_who(args))
        print(f"{g.email}: {g.label}")
    return 0


@_guard
def cmd_revoke(args: argparse.Namespace) -> int:
    from .people import revoke

    with _store() as store:
        done = revoke(store, args.email, args.role, ics_code=args.ics, pcn_code=args.pcn, by=_who(args))
    print(f"{args.email}: role taken away" if done else f"{args.email} did not hold that role; nothing changed")
    return 0


@_guard
def cmd_who(args: argparse.Namespace) -> int:
    from .people import configured_admins, who

    with _store() as store:
        found = who(store, email=args.email, ics_code=args.ics)
    for email in sorted(configured_admins()):
        if not args.email or email == args.email.strip().lower():
            print(f"{email}: Administrator (from PCN_ADMINS)")
    for g in found:
        print(f"{g.email}: {g.label} (given by {g.granted_by} on {g.granted_at:%d %b %Y})")
    if not found and not configured_admins():
        print("No roles are held yet: give the first with `python cli.py grant EMAIL administrator`.")
    return 0


def register(sub) -> None:
    p = sub.add_parser("demo", help="load the fictional demonstration ICS, PCNs and four years of assessments")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("backup", help="write the whole database to a JSON file")
    p.add_argument("-o", "--output", required=True, metavar="FILE.json")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="load a JSON backup into an EMPTY database")
    p.add_argument("file", metavar="FILE.json")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("import-ratings", help="import ratings from .csv or .xlsx (all rows or none)")
    p.add_argument("file", metavar="FILE", type=_table_file)
    p.add_argument("--by", help=f"whose change this is, for the audit log (default: ${USER_ENV} or your login)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("import-organisations", help="add or update ICSs and PCNs from .csv or .xlsx (all rows or none)")
    p.add_argument("file", metavar="FILE", type=_table_file)
    p.add_argument("--by", help=f"whose change this is, for the audit log (default: ${USER_ENV} or your login)")
    p.set_defaults(func=cmd_import_organisations)

    p = sub.add_parser("export-organisations", help="write every ICS and PCN to .csv or .xlsx (the import format)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", type=_table_file)
    p.set_defaults(func=cmd_export_organisations)

    p = sub.add_parser("export-ratings", help="write ratings to .csv or .xlsx (the import format)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", type=_table_file)
    p.add_argument("--ics", metavar="CODE", help="only this ICS")
    p.add_argument("--year", metavar="YYYY/YY", help="only this year, e.g. 2024/25")
    p.set_defaults(func=cmd_export)

    for name, helptext, func in (("grant", "give a person a role: administrator, ics-facilitator or commissioner "
                                           "(--ics CODE), pcn-lead or pcn-member (--pcn CODE)", cmd_grant),
                                 ("revoke", "take a role away (same arguments as grant)", cmd_revoke)):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("email", metavar="EMAIL")
        p.add_argument("role", metavar="ROLE")
        where = p.add_mutually_exclusive_group()
        where.add_argument("--ics", metavar="CODE", help="the ICS the role is held in")
        where.add_argument("--pcn", metavar="CODE", help="the PCN the role is held in")
        if name == "grant":
            p.add_argument("--may-edit", action="store_true", help="a PCN member may edit drafts")
        p.add_argument("--by", help=f"whose change this is, for the audit log (default: ${USER_ENV} or your login)")
        p.set_defaults(func=func)

    p = sub.add_parser("who", help="list who holds which role (of one person with EMAIL, or one ICS with --ics)")
    p.add_argument("email", nargs="?", metavar="EMAIL")
    p.add_argument("--ics", metavar="CODE", help="only roles in this ICS")
    p.set_defaults(func=cmd_who)

    p = sub.add_parser("template", help="write a blank ratings file to fill in (.csv or .xlsx)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", type=_table_file)
    p.add_argument("--pcn", metavar="CODE", help="fill in this PCN's code")
    p.add_argument("--year", metavar="YYYY/YY", help="fill in this year")
    p.add_argument("--matrix", metavar="ID[@VERSION]", help="matrix to use (default: the latest NHS matrix)")
    p.set_defaults(func=cmd_template)

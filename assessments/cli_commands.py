"""Commands for the records: `python cli.py demo | backup | check | restore | import-ratings |
export-ratings | template | grant | revoke | who | default-matrix | years`. The command line acts as an administrator
(whoever can run it can open the database file or its URL anyway). Each prints what it did and returns 0, or prints the problems and
returns 1; user errors never show a traceback."""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

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
        from .values import StoreError  # here, not at the top: building the parser imports nothing heavy

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
    from .backup_files import ENV_BACKUP_DIR, configured_dir, write_to_dir
    from .exchange import write_backup

    if args.output and (args.dir or args.keep is not None):
        return _fail("give either -o FILE or --dir DIR [--keep N], not both")
    folder = None if args.output else (args.dir or configured_dir())
    if not args.output and folder is None:
        return _fail(f"say where the backup goes: -o FILE, or --dir DIR (or set {ENV_BACKUP_DIR})")
    removed: tuple = ()
    with _store() as store:
        if args.output:
            target, data = args.output, write_backup(store, args.output)
        else:
            written = write_to_dir(store, folder, keep=args.keep)
            target, data, removed = written.path, written.data, written.removed
    counts = ", ".join(f"{name} {len(t['rows']):,}" for name, t in data["tables"].items())
    print(f"Wrote {target} (schema {data['schema_revision']}; rows: {counts})")
    if removed:
        print(f"Removed {len(removed)} older backup(s), keeping the newest {args.keep}: "
              + ", ".join(p.name for p in removed))
    return 0


@_guard
def cmd_check(args: argparse.Namespace) -> int:
    """Health checks for the operator: a line per check, exit 1 if any found a problem."""
    if args.max_backup_age <= 0:
        return _fail(f"--max-backup-age must be more than 0 hours (it was {args.max_backup_age:g})")
    # libpq waits for an unreachable host as long as TCP does (minutes); a check should answer soon.
    os.environ.setdefault("PGCONNECT_TIMEOUT", "10")
    from .health import health, unopened
    from .store import Store

    try:
        store = Store(upgrade=False)  # the check reports an old schema rather than upgrading it
    except Exception as exc:  # a URL that cannot even be parsed, or a missing driver: that is the finding
        checks = unopened(str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                          max_backup_age=args.max_backup_age)
    else:
        with store:
            checks = health(store, max_backup_age=args.max_backup_age)
    for c in checks:
        print(c.line())
    return 0 if all(c.ok for c in checks) else 1


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

    from . import matrix_choice
    from .organisations import default_matrix, pcn
    from .years import check_startable

    with _store() as store:
        if args.matrix:
            matrix = matrix_choice.find_matrix(store, *matrix_choice.parse_spec(args.matrix))
        else:  # the PCN's ICS's default matrix, else the national one
            matrix = default_matrix(store, pcn(store, args.pcn).ics_code if args.pcn else None)
        if args.year:  # the import would refuse a year that cannot be started yet (assessments.years)
            check_startable(args.year)
        n = write_template(store, args.output, matrix=matrix, pcn_code=args.pcn, year=args.year)
    print(f"Wrote a template with {n} element row(s) of {matrix.label} to {args.output}")
    return 0


@_guard
def cmd_default_matrix(args: argparse.Namespace) -> int:
    from .matrix_choice import title_of
    from .organisations import default_matrix, default_matrix_id, ics, set_default_matrix

    with _store() as store:
        found = ics(store, args.ics)
        if args.matrix_id or args.national:
            set_default_matrix(store, found.code, None if args.national else args.matrix_id, by=_who(args),
                               expected_version=found.version, source="command line")
        chosen = default_matrix_id(store, found.code)
        used = default_matrix(store, found.code)
    if chosen is None:
        print(f"{found.name} ({found.code}): new years and workshops start on the national matrix, {used.label}")
    elif chosen != used.id:
        print(f"{found.name} ({found.code}): the default is {chosen}, which is not loaded, so new years and "
              f"workshops start on {used.label}")
    else:
        print(f"{found.name} ({found.code}): new years and workshops start on {title_of(store, chosen)} ({chosen}), "
              f"its newest version {used.version}")
    return 0


def _day(value: str):
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date: write it like 2026-12-01") from None


@_guard
def cmd_years(args: argparse.Namespace) -> int:
    from . import years as Y
    from .organisations import ics, pcn
    from .ratings import assessments

    with _store() as store:
        if args.pcn:
            found = pcn(store, args.pcn)
            recorded = Y.recorded_years(store, pcn_code=found.code)
            assessed = {a.year for a in assessments(store, pcn_code=found.code)}
            print(f"{found.name} ({found.code})")
        else:
            found = ics(store, args.ics)
            recorded = Y.recorded_years(store, ics_code=found.code)
            assessed = None
            print(f"{found.name} ({found.code}), all its PCNs")
    rule = Y.year_choice(recorded, args.on)
    for line in rule.lines():
        print(f"  {line}")
    if assessed is not None:
        steps = Y.comparisons(assessed)
        print(f"  Progress compares: {'; '.join(c.label for c in steps) if steps else 'nothing yet (one year or none assessed)'}")
        since = Y.not_assessed_since(assessed, args.on)
        if since:
            print(f"  Not assessed since the latest assessment: {', '.join(since)}")
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

    p = sub.add_parser("backup", help="write the whole database to a JSON file (-o), or to a new "
                                      "pcn-backup-TIME.json in a folder, keeping the newest N (--dir, --keep)")
    p.add_argument("-o", "--output", metavar="FILE.json")
    p.add_argument("--dir", metavar="DIR", help="folder of timestamped backups (default: $PCN_BACKUP_DIR)")
    p.add_argument("--keep", type=int, metavar="N", help="then delete the oldest backups in DIR beyond N "
                                                         "(default: keep all)")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("check", help="health checks: database reachable, migrations current, matrix files "
                                     "valid, last backup's age (exit 1 if any problem)")
    p.add_argument("--max-backup-age", type=float, default=26.0, metavar="HOURS",  # health.DEFAULT_MAX_BACKUP_AGE
                   help="a backup older than this is a problem (default: 26)")
    p.set_defaults(func=cmd_check)

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
    p.add_argument("--matrix", metavar="ID[@VERSION]",
                   help="matrix to use (default: the PCN's ICS's default matrix, else the latest national one)")
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("years", help="the assessment years of a PCN or ICS: this year, the years that can be "
                                     "started, the year pages open on and what progress compares")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--pcn", metavar="CODE", help="one PCN")
    which.add_argument("--ics", metavar="CODE", help="every PCN of one ICS")
    p.add_argument("--on", type=_day, metavar="YYYY-MM-DD", help="apply the rule on another day (default: today)")
    p.set_defaults(func=cmd_years)

    p = sub.add_parser("default-matrix", help="show or set the matrix an ICS's new years and workshops start on")
    p.add_argument("--ics", required=True, metavar="CODE", help="ICS (ICB) code, like QZZ")
    which = p.add_mutually_exclusive_group()
    which.add_argument("matrix_id", nargs="?", metavar="MATRIX_ID",
                       help="a loaded matrix id (its newest version is used); leave out to show the current one")
    which.add_argument("--national", action="store_true", help="go back to the national matrix")
    p.add_argument("--by", help=f"whose change this is, for the audit log (default: ${USER_ENV} or your login)")
    p.set_defaults(func=cmd_default_matrix)

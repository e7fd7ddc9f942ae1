"""Commands for the reports: `python cli.py export-plan | export-plans`.

    python cli.py export-plan --pcn U99001 --year 2024/25 -o plan.pdf     (or -o plan.xlsx)
    python cli.py export-plan --pcn U99001 --year 2024/25 --shared 2 -o plan.pdf   (a shared version, as shared)
    python cli.py export-plans --ics QZZ --year 2024/25 -o plans/
    ... --matrix ID[@VERSION]   the matrix to report against, when a PCN is rated against several

Each prints where the files went and returns 0, or prints the problem and returns 1.

Nothing heavy is imported until a command runs (`python cli.py validate` loads none of this), and
a PDF command starts the chart browser first thing, so that it opens while the database is read
and the plan laid out (reports/images.py).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def _guard(func):
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except Exception as exc:  # the kinds below are the user's problem; their modules load only now
            from assessments.values import StoreError

            from .images import ChartError
            from .pdf import ReportError

            if isinstance(exc, (StoreError, ValueError, ReportError, ChartError)):
                return _fail(str(exc))
            if isinstance(exc, OSError):
                return _fail(f"{exc.filename or ''}: {exc.strerror or exc}")
            raise
    return run


class ProgressBar:
    """A one-line bar on stderr: [########------------]  3/8  Ashby Town PCN"""

    def __init__(self, stream=None, width: int = 30):
        self.stream = stream or sys.stderr
        self.width = width
        self.start = time.perf_counter()

    def __call__(self, done: int, total: int, name: str) -> None:
        filled = round(self.width * done / total) if total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"[{bar}] {done}/{total}  {name}"[:110]
        if done >= total:
            line = f"[{bar}] {done}/{total}  done in {time.perf_counter() - self.start:.1f} s"
        self.stream.write("\r" + line.ljust(110))
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def _warm_charts(**kw) -> None:
    from .images import warm
    warm(**kw)


def _store():
    from assessments.store import Store
    return Store()


def _matrix(store, spec: str | None) -> tuple[str | None, str | None]:
    """--matrix ID[@VERSION] as (id, version), checked against the loaded matrices."""
    from assessments import matrix_choice as choice

    if not spec:
        return None, None
    matrix_id, version = choice.parse_spec(spec)
    return choice.find_matrix(store, matrix_id, version).id, version


def _version_check(store, matrix_id: str | None, version: str | None, year: str, *, pcn_code: str | None = None,
                   ics_code: str | None = None) -> None:
    """A version given with --matrix must be the one the year's assessments against it use."""
    from assessments import ratings as assessing
    from assessments.values import InputError

    if version is None:
        return
    found = assessing.assessments(store, pcn_code=pcn_code, ics_code=ics_code, year=year)
    wrong = sorted(f"{a.pcn_code} ({a.matrix_version})" for a in found
                   if a.matrix_id == matrix_id and a.matrix_version != version)
    if wrong:
        raise InputError(f"these {year} assessments against {matrix_id} are not version {version}: "
                         f"{', '.join(wrong)}; leave out @{version} to report each against the version it uses")


def _not_rated_against(store, report, matrix_id: str) -> None:
    """Say so when the PCN has no assessment that year against the matrix asked for, but has others."""
    from assessments import ratings as assessing

    if report.assessment is not None:
        return
    others = sorted({a.matrix_id for a in assessing.assessments(store, pcn_code=report.pcn.code, year=report.year)})
    if others:
        print(f"Note: {report.pcn.code} has no {report.year} assessment against {matrix_id}; it is rated against "
              f"{', '.join(others)} (use --matrix to choose)", file=sys.stderr)


@_guard
def cmd_export_plan(args: argparse.Namespace) -> int:
    out = Path(args.output)
    if out.suffix.lower() == ".pdf" and args.shared is None:
        _warm_charts(tabs=1)  # one plan draws its charts one after another
    from .data import gather

    if args.shared is not None:
        return _export_shared(args, out)
    with _store() as store:
        matrix_id, version = _matrix(store, args.matrix)
        _version_check(store, matrix_id, version, args.year, pcn_code=args.pcn)
        report = gather(store, args.pcn, args.year, matrix_id=matrix_id)
        if matrix_id:
            _not_rated_against(store, report, matrix_id)
        if out.suffix.lower() == ".xlsx":
            from .excel import workbook
            data = workbook(report)
        elif out.suffix.lower() == ".pdf":
            from .images import release
            from .pdf import render
            data = render(report, after_charts=release)  # the browser closes while the rest is laid out
        else:
            return _fail(f"{out}: use a .pdf or .xlsx file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    print(f"Wrote {out} ({len(data) / 1024:,.0f} KB): development plan {report.year} of {report.pcn.name} ({report.pcn.code})")
    return 0


def _export_shared(args: argparse.Namespace, out: Path) -> int:
    """A version the PCN shared, byte for byte as it was shared (not made again from the live plan)."""
    from assessments import organisations as orgs
    from assessments import plan as plans

    if out.suffix.lower() != ".pdf":
        return _fail(f"{out}: a shared version is a PDF: use a .pdf file name")
    if args.matrix:
        return _fail("--matrix does not apply to a shared version: it is printed as it was shared")
    with _store() as store:
        pcn = orgs.pcn(store, args.pcn)
        data = plans.shared_pdf(store, pcn.code, args.year, args.shared)
        shared = next(v for v in plans.shared_versions(store, pcn.code, args.year) if v.number == args.shared)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    print(f"Wrote {out} ({len(data) / 1024:,.0f} KB): version {shared.number} of the {args.year} plan of {pcn.name} "
          f"({pcn.code}), shared by {shared.shared_by} on {shared.shared_at:%d %b %Y at %H:%M} UTC")
    return 0


BATCH_FROM = 4  # plans from which a pool of processes pays for its start (below, threads in this process)


def _plans(store, codes: list[str], year: str, names: dict[str, str], matrix_id: str | None):
    """Every plan's PDF: in a pool of processes, one per core (two at most), when there are enough
    plans and cores and the database can be opened again by another process; else here."""
    from assessments.records.engine import in_memory

    from .batch import cores, plan_pdfs_in_processes

    processes = min(2, cores())
    if processes > 1 and len(codes) >= BATCH_FROM and not in_memory(store.url):
        url = store.url.render_as_string(hide_password=False)
        return plan_pdfs_in_processes(url, codes, year, ProgressBar(), names=names, matrix_id=matrix_id,
                                      processes=processes)
    _warm_charts()
    from .pdf import plan_pdfs

    return plan_pdfs(store, codes, year, ProgressBar(), matrix_id=matrix_id)


@_guard
def cmd_export_plans(args: argparse.Namespace) -> int:
    from assessments import organisations as orgs

    folder = Path(args.output)
    written = []
    with _store() as store:
        ics = orgs.ics(store, args.ics)
        pcns = orgs.pcns(store, ics.code)
        if not pcns:
            return _fail(f"{ics.name} ({ics.code}) has no PCNs")
        matrix_id, version = _matrix(store, args.matrix)
        _version_check(store, matrix_id, version, args.year, ics_code=ics.code)
        folder.mkdir(parents=True, exist_ok=True)
        names = {p.code: p.name for p in pcns}
        for _, name, data in _plans(store, [p.code for p in pcns], args.year, names, matrix_id):
            path = folder / name
            path.write_bytes(data)
            written.append(path)
    against = f" against {matrix_id}" if matrix_id else ""
    print(f"Wrote {len(written)} development plans for {ics.name} ({ics.code}), {args.year}{against}, to "
          f"{folder.resolve()}:")
    for path in written:
        print(f"  {path.name}")
    return 0


MATRIX_HELP = ("the matrix to report against when a PCN is rated against more than one (default: the ICS's "
               "default matrix if the PCN used it that year, else the latest it used); a version, if given, must "
               "be the one the assessments use")


def register(sub) -> None:
    p = sub.add_parser("export-plan", help="write one PCN's development plan as a PDF (or .xlsx workbook)")
    p.add_argument("--pcn", required=True, metavar="CODE", help="PCN code, like U12345")
    p.add_argument("--year", required=True, help="NHS financial year, like 2024/25")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="plan.pdf or plan.xlsx")
    p.add_argument("--matrix", metavar="ID[@VERSION]", help=MATRIX_HELP)
    p.add_argument("--shared", type=int, metavar="N",
                   help="the version the PCN shared with the ICS and commissioners, exactly as it was shared")
    p.set_defaults(func=cmd_export_plan)
    p = sub.add_parser("export-plans", help="write the development plan PDF of every PCN of an ICS into a folder")
    p.add_argument("--ics", required=True, metavar="CODE", help="ICS (ICB) code, like QZZ")
    p.add_argument("--year", required=True, help="NHS financial year, like 2024/25")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for the PDFs (created if needed)")
    p.add_argument("--matrix", metavar="ID[@VERSION]", help=MATRIX_HELP)
    p.set_defaults(func=cmd_export_plans)

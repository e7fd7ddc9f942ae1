"""Commands for the reports: `python cli.py export-plan | export-plans`.

    python cli.py export-plan --pcn U99001 --year 2024/25 -o plan.pdf     (or -o plan.xlsx)
    python cli.py export-plans --ics QZZ --year 2024/25 -o plans/

Each prints where the files went and returns 0, or prints the problem and returns 1.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from assessments.values import StoreError
from assessments import organisations as orgs


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def _guard(func):
    def run(args: argparse.Namespace) -> int:
        from .images import ChartError
        from .pdf import ReportError

        try:
            return func(args)
        except (StoreError, ValueError, ReportError, ChartError) as exc:
            return _fail(str(exc))
        except OSError as exc:
            return _fail(f"{exc.filename or ''}: {exc.strerror or exc}")
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


def _store():
    from assessments.store import Store
    return Store()


@_guard
def cmd_export_plan(args: argparse.Namespace) -> int:
    from .data import gather

    out = Path(args.output)
    with _store() as store:
        report = gather(store, args.pcn, args.year)
        if out.suffix.lower() == ".xlsx":
            from .excel import workbook
            data = workbook(report)
        elif out.suffix.lower() == ".pdf":
            from .pdf import render
            data = render(report)
        else:
            return _fail(f"{out}: use a .pdf or .xlsx file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    print(f"Wrote {out} ({len(data) / 1024:,.0f} KB): development plan {report.year} of {report.pcn.name} ({report.pcn.code})")
    return 0


@_guard
def cmd_export_plans(args: argparse.Namespace) -> int:
    from .pdf import plan_pdfs

    folder = Path(args.output)
    written = []
    with _store() as store:
        ics = orgs.ics(store, args.ics)
        pcns = orgs.pcns(store, ics.code)
        if not pcns:
            return _fail(f"{ics.name} ({ics.code}) has no PCNs")
        folder.mkdir(parents=True, exist_ok=True)
        for _, name, data in plan_pdfs(store, [p.code for p in pcns], args.year, ProgressBar()):
            path = folder / name
            path.write_bytes(data)
            written.append(path)
    print(f"Wrote {len(written)} development plans for {ics.name} ({ics.code}), {args.year}, to {folder.resolve()}:")
    for path in written:
        print(f"  {path.name}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("export-plan", help="write one PCN's development plan as a PDF (or .xlsx workbook)")
    p.add_argument("--pcn", required=True, metavar="CODE", help="PCN code, like U12345")
    p.add_argument("--year", required=True, help="NHS financial year, like 2024/25")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="plan.pdf or plan.xlsx")
    p.set_defaults(func=cmd_export_plan)
    p = sub.add_parser("export-plans", help="write the development plan PDF of every PCN of an ICS into a folder")
    p.add_argument("--ics", required=True, metavar="CODE", help="ICS (ICB) code, like QZZ")
    p.add_argument("--year", required=True, help="NHS financial year, like 2024/25")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for the PDFs (created if needed)")
    p.set_defaults(func=cmd_export_plans)

"""Many plan PDFs at once, in a small pool of processes: `python cli.py export-plans`.

Laying out a PDF is pure Python (fpdf2 breaking lines, about 0.6 s of a core a plan), so threads
share one core however many there are. Here each of `processes` worker processes (two on a
2-core machine) opens the database itself, keeps one chart browser open for all the plans it
makes (reports/images.py, started as the worker starts, while it imports and reads its first
plan) and hands back the finished PDFs; the caller gets them in order. A PDF made here is the
one `reports.pdf.render` makes in the caller's process: the workers run that same code.

The workers are forked from multiprocessing's fork server, a fresh process that has imported the
PDF code once, never from the caller, so that no database connection or thread of the caller's
is copied into them. As with any multiprocessing pool, a script calling this must guard its own
work with `if __name__ == "__main__":` (cli.py does). The app keeps to threads
(reports.pdf.plan_pdfs): a server process does not start processes per request.
"""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

_worker_store = None  # the worker process's Store
# Workers are forked from a fresh server process that has imported these once (about 1 s of a
# core each time otherwise), never from the caller (its threads and database connections).
START_METHOD = "forkserver"
PRELOAD = ["assessments.store", "reports.data", "reports.pdf", "reports.images"]


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _start_worker(url: str) -> None:
    global _worker_store
    from assessments.store import Store

    from .images import warm

    warm(tabs=1)  # one plan at a time in this process: one tab
    _worker_store = Store(url)


def _make_one(code: str, year: str, matrix_id: str | None) -> tuple[str, str, bytes]:
    from .data import gather
    from .pdf import render

    report = gather(_worker_store, code, year, matrix_id=matrix_id)
    return code, report.file_stem + ".pdf", render(report)


def plan_pdfs_in_processes(url: str, pcn_codes: Sequence[str], year: str,
                           progress: Callable[[int, int, str], None] | None = None, *,
                           names: dict[str, str] | None = None, matrix_id: str | None = None,
                           processes: int = 2) -> Iterator[tuple[str, str, bytes]]:
    """(PCN code, file name, PDF bytes) for each PCN, in order, made by `processes` workers on the
    database at `url` (a file or a server: an in-memory SQLite database is not shared). Like
    reports.pdf.plan_pdfs, `progress(done, total, name of the next PCN)` is called in the
    caller's thread at the start and after each PCN is handed over; `names` maps codes to the
    names it shows."""
    codes = list(pcn_codes)
    names = names or {}
    n = len(codes)
    if progress:
        progress(0, n, names.get(codes[0], codes[0]) if codes else "")
    if not codes:
        return
    context = multiprocessing.get_context(START_METHOD)
    if START_METHOD == "forkserver":
        context.set_forkserver_preload(PRELOAD)
    with ProcessPoolExecutor(max_workers=max(1, min(processes, n)), mp_context=context,
                             initializer=_start_worker, initargs=(url,)) as pool:
        futures = [pool.submit(_make_one, code, year, matrix_id) for code in codes]
        try:
            for i, future in enumerate(futures):
                yield future.result()
                if progress:
                    progress(i + 1, n, names.get(codes[i + 1], codes[i + 1]) if i + 1 < n else "")
        except BrokenProcessPool as exc:
            raise RuntimeError(f"a process making the plan PDFs stopped unexpectedly ({exc})") from exc
        finally:
            for future in futures:
                future.cancel()

"""National-scale figures for the records layer: `python benchmarks/bench_records.py`.

Builds a temporary SQLite database of synthetic records (about 1,250 PCNs in 42 ICSs, six
years), then times the reads the app makes and a backup and restore of the whole database.
Pass a PostgreSQL URL with --url to measure there instead (the database must be empty).

Then the scale: the same reads on databases of 2 and 4 times as many PCNs in 2 and 4 times as
many ICSs (--scales; each ICS keeps its size), so one ICS's portfolio should cost about the same
at every scale while England's grows with the country.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assessments import exchange  # noqa: E402
from assessments.store import Store  # noqa: E402
from assessments.synthetic import generate  # noqa: E402
from assessments import ratings as assessing
from assessments import organisations as orgs

TARGETS = {"pcn_history": 0.050, "ics_portfolio": 0.100, "national_portfolio": 1.0, "backup": 20.0, "restore": 20.0}


def timed(fn, repeat: int = 1):
    """(median seconds, last result)."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def fastest(fn, repeat: int):
    """(fewest CPU seconds of this process over `repeat` runs, last result). CPU time, not the
    clock: SQLite reads in this process, and what else runs on the machine does not count."""
    times, result = [], None
    for _ in range(repeat):
        t = time.process_time()
        result = fn()
        times.append(time.process_time() - t)
    return min(times), result


def portfolio_costs(store, n_pcns: int, n_ics: int) -> tuple[float, float, int, int]:
    """(one ICS's portfolio s, England's portfolio s, PCNs in that ICS, PCNs in England) on a new database."""
    generate(store, n_pcns=n_pcns, n_ics=n_ics)
    latest = max(assessing.assessments(store, pcn_code=orgs.pcns(store)[0].code), key=lambda a: a.year).year
    ics = orgs.list_ics(store)[0].code
    assessing.portfolio(store, latest, ics_code=ics)  # warm: the file's pages in memory
    # The fastest of several runs: on a shared machine the median of a few milliseconds is mostly
    # what else is running.
    ics_s, _ = fastest(lambda: assessing.portfolio(store, latest, ics_code=ics), repeat=20)
    national_s, _ = fastest(lambda: assessing.portfolio(store, latest), repeat=3)
    return ics_s, national_s, len(orgs.pcns(store, ics_code=ics)), n_pcns


def scale_table(scales: list[int], n_pcns: int, url: str | None) -> str:
    """The portfolio reads at each multiple of the national data (SQLite files; --url is not used,
    since each scale needs an empty database of its own)."""
    lines = ["Scale (SQLite, CPU time, fastest of 20 runs for one ICS, of 3 for England; the ICS keeps its size):",
             f"  {'data':>5}  {'PCNs':>6}  {'ICSs':>4}  {'one ICS':>14}  {'England':>14}"]
    costs = []
    with tempfile.TemporaryDirectory(prefix="pcn-bench-scale-") as tmp:
        for k in scales:
            store = Store(f"sqlite:///{Path(tmp) / f'x{k}.db'}")
            try:
                ics_s, national_s, in_ics, n = portfolio_costs(store, n_pcns * k, 42 * k)
            finally:
                store.close()
            costs.append((k, ics_s, national_s))
            lines.append(f"  {k:>4}x  {n:>6,}  {42 * k:>4}  {ics_s * 1000:8.1f} ms {in_ics:>3}  {national_s * 1000:9.1f} ms")
    if len(costs) > 1:
        (k0, i0, n0), (k1, i1, n1) = costs[0], costs[-1]
        follows = i1 / i0 < 1 + (k1 / k0 - 1) / 3  # well under the growth of the country
        lines.append(f"  {k1 // k0}x the data: one ICS's portfolio costs {i1 / i0:.2f} times as much, England's "
                     f"{n1 / n0:.2f} times: the ICS portfolio's cost follows "
                     f"{'the ICS, not the country' if follows else 'THE COUNTRY'}.")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--pcns", type=int, default=1250)
    parser.add_argument("--scales", default="1,2,4",
                        help="data sizes, as multiples of --pcns and 42 ICSs, for the scale table ('' for none)")
    args = parser.parse_args()

    try:
        import assessments.scoring as scoring
    except ImportError:
        scoring = None

    with tempfile.TemporaryDirectory(prefix="pcn-bench-") as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'national.db'}"
        store = Store(url)
        matrix = store.default_matrix()
        figures: dict[str, float] = {}
        rows: list[tuple[str, str]] = []

        seconds, summary = timed(lambda: generate(store, n_pcns=args.pcns))
        figures["generate"] = seconds
        rows.append(("generate", f"{seconds:7.2f} s   {summary.ics} ICSs, {summary.pcns:,} PCNs, "
                                 f"{summary.assessments:,} assessments, {summary.ratings:,} ratings, "
                                 f"{summary.audit_rows:,} audit rows"))

        pcns = orgs.pcns(store)
        pcn = pcns[len(pcns) // 2].code
        matrices = store.matrices()

        def pcn_progress():
            history = assessing.history(store, pcn)
            if scoring is None:
                return history, None
            snaps = [scoring.Snapshot(r.assessment.year, matrices[(r.assessment.matrix_id, r.assessment.matrix_version)],
                                      r.ratings, r.assessment.status) for r in history]
            return history, scoring.progress_series(snaps, matrices)

        seconds, (history, series) = timed(pcn_progress, repeat=20)
        figures["pcn_history"] = seconds
        what = "load + scoring.progress_series" if scoring else "load only (no scoring module)"
        rows.append(("pcn_history", f"{seconds * 1000:7.1f} ms  {pcn}: {len(history)} years, {what}"))

        ics = pcns[0].ics_code
        latest = summary.years[-1]
        seconds, recs = timed(lambda: assessing.portfolio(store, latest, ics_code=ics), repeat=20)
        figures["ics_portfolio"] = seconds
        rows.append(("ics_portfolio", f"{seconds * 1000:7.1f} ms  {ics} {latest}: {len(recs)} assessments, "
                                      f"{sum(len(r.ratings) for r in recs):,} ratings"))

        seconds, recs = timed(lambda: assessing.portfolio(store, latest), repeat=5)
        figures["national_portfolio"] = seconds
        rows.append(("national_portfolio", f"{seconds * 1000:7.1f} ms  England {latest}: {len(recs):,} assessments, "
                                           f"{sum(len(r.ratings) for r in recs):,} ratings"))

        backup_file = Path(tmp) / "backup.json"
        seconds, data = timed(lambda: exchange.write_backup(store, backup_file))
        figures["backup"] = seconds
        rows.append(("backup", f"{seconds:7.2f} s   {backup_file.stat().st_size / 1e6:,.1f} MB of JSON"))

        if args.url:
            rows.append(("restore", "    (skipped: restore needs an empty database; run without --url)"))
        else:
            target = Store(f"sqlite:///{Path(tmp) / 'restored.db'}")
            seconds, counts = timed(lambda: exchange.restore(target, exchange.read_backup(backup_file)))
            figures["restore"] = seconds
            rows.append(("restore", f"{seconds:7.2f} s   {sum(counts.values()):,} rows (read + parse + insert)"))
            same = exchange.dumps_backup(exchange.backup(target)) == backup_file.read_text(encoding="utf-8")
            rows.append(("round trip", "identical backup after restore" if same else "DIFFERENT backup after restore"))
            target.close()
            with store.db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            size = (Path(tmp) / "national.db").stat().st_size
            rows.append(("database size", f"{size / 1e6:7.1f} MB (SQLite file)"))
        store.close()

    scales = [int(x) for x in args.scales.split(",") if x.strip()]
    if scales:
        print(scale_table(scales, args.pcns, args.url))
    width = max(len(k) for k, _ in rows)
    print(f"Records benchmark ({'SQLite' if not args.url else args.url.split(':')[0]}, {matrix.id} {matrix.version}, "
          f"{len(matrix.element_ids())} elements)")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    slow = [k for k, limit in TARGETS.items() if k in figures and figures[k] > limit]
    print("All within targets." if not slow else f"Over target: {', '.join(slow)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

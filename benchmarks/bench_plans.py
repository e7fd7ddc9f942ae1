"""Figures for the development-plan PDF: `python benchmarks/bench_plans.py`.

Times, on temporary SQLite databases, each command as a user runs it (a new `python cli.py ...`
process timed end to end, the median of `--repeat` runs):
- `export-plan` of one demo plan, cold: the process starts, opens the chart browser, reads,
  lays out and writes the PDF, and closes the browser;
- `export-plans` of an ICS of 40 synthetic PCNs with six years of history and a plan of 8
  actions each;
- `validate` of the shipped matrix files.
And, in this process, for comparison: one plan PDF once the chart browser is up (the app's
"Prepare the plan PDF" on a warm server), and the demo ICS's 8 plans through the threads the
app's zip uses.
Targets (issue 15): export-plan cold under 3.5 s, 40 plans under 25 s, validate under 0.3 s.
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assessments import organisations as orgs  # noqa: E402
from assessments import plan as plans  # noqa: E402
from assessments.demo import DEMO_ICS, load_demo  # noqa: E402
from assessments.store import Store  # noqa: E402
from assessments.synthetic import generate  # noqa: E402

TARGETS = {"export-plan cold": 3.5, "40 plans": 25.0, "validate": 0.3}


def add_plan(store: Store, code: str, year: str, n_actions: int = 8) -> None:
    snap = plans.snapshot(store, code, year)
    plans.save_plan(store, code, year, by="bench", expected_version=0, service_spec="care-homes",
                    service_priority="Weekly multidisciplinary rounds in every care home.",
                    priorities=plans.suggest_priorities(snap, 4) if snap else ())
    plans.save_actions(store, code, year, [
        dict(what=f"Action {i}: facilitated sessions with practices and partners on the priority, with a written "
                  f"summary for the board.", owner=f"Lead {i}", due=date(2025, 1 + i % 12, 1), step=1 + i % 6,
             status=plans.STATUSES[i % 4], support_needed="Facilitation and project support", cost=str(500 * i),
             support_from="Commissioning support unit", funding_source=plans.FUNDING_SOURCES[i % 4])
        for i in range(1, n_actions + 1)], by="bench")


def cli(db: Path, *args: str) -> float:
    """Seconds a `python cli.py ...` process takes, start to exit (it must succeed)."""
    env = {**os.environ, "PCN_DATABASE_URL": f"sqlite:///{db}"}
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    took = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"python cli.py {' '.join(args)} failed:\n{r.stderr}")
    return took


def median_of(runs: int, fn) -> tuple[float, list[float]]:
    times = [fn() for _ in range(runs)]
    return statistics.median(times), times


def spread(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command (the median counts)")
    parser.add_argument("--batch-repeat", type=int, default=1, help="runs of the 40-plan export-plans")
    parser.add_argument("--plans", type=int, default=40)
    args = parser.parse_args()
    figures: dict[str, float] = {}
    logging.disable(logging.INFO)  # the records' change log, one line per action written while setting up
    with tempfile.TemporaryDirectory(prefix="pcn-bench-plans-") as tmp:
        out = Path(tmp)
        demo_db = out / "demo.db"
        demo = Store(f"sqlite:///{demo_db}")
        summary = load_demo(demo)
        year = summary.years[-1]
        code = summary.pcn_codes[0]
        add_plan(demo, code, year)

        files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "matrix").glob("*.yaml"))
        figures["validate"], times = median_of(max(args.repeat, 5), lambda: cli(demo_db, "validate", "-q", *files))
        print(f"validate          {figures['validate']:6.2f} s median, a new process each time ({spread(times)}; "
              f"{len(files)} files)")

        pdf = out / "plan.pdf"
        figures["export-plan cold"], times = median_of(
            args.repeat, lambda: cli(demo_db, "export-plan", "--pcn", code, "--year", year, "-o", str(pdf)))
        print(f"export-plan cold  {figures['export-plan cold']:6.2f} s median, a new process each time "
              f"({spread(times)}; {pdf.stat().st_size / 1024:,.0f} KB)")

        from reports.pdf import plan_pdf, plan_pdfs

        t = time.perf_counter()
        plan_pdf(demo, code, year)
        first = time.perf_counter() - t
        warm, times = median_of(5, lambda: _timed(lambda: plan_pdf(demo, code, year)))
        print(f"one plan, warm    {warm:6.2f} s median in this process once the browser is up ({spread(times)}; "
              f"the first, starting it: {first:.2f} s)")

        codes = [p.code for p in orgs.pcns(demo, DEMO_ICS[0])]
        took = _timed(lambda: sum(1 for _ in plan_pdfs(demo, codes, year)))
        print(f"demo ICS, threads {took:6.2f} s for {len(codes)} PCNs in this process, as the app's zip makes them")
        demo.close()

        synth_db = out / "synthetic.db"
        synth = Store(f"sqlite:///{synth_db}")
        s = generate(synth, n_ics=1, n_pcns=args.plans)
        year = s.years[-1]
        ics = orgs.list_ics(synth)[0].code
        for p in orgs.pcns(synth):
            add_plan(synth, p.code, year)
        synth.close()
        folder = out / "plans"
        figures["40 plans"], times = median_of(
            args.batch_repeat, lambda: cli(synth_db, "export-plans", "--ics", ics, "--year", year, "-o", str(folder)))
        n = len(list(folder.glob("*.pdf")))
        print(f"{n} plans          {figures['40 plans']:6.2f} s, export-plans in a new process ({spread(times)}; "
              f"{figures['40 plans'] / n:.2f} s each; synthetic PCNs, {len(s.years)} years of history, 8 actions each)")

    missed = [k for k, limit in TARGETS.items() if figures[k] >= limit]
    for k, limit in TARGETS.items():
        print(f"target {k:<17} < {limit:5.1f} s: {'met' if k not in missed else 'NOT MET'} ({figures[k]:.2f} s)")
    return 1 if missed else 0


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    sys.exit(main())

"""Figures for the development-plan PDF: `python benchmarks/bench_plans.py`.

Times, on temporary SQLite databases:
- one plan PDF (the median of several runs once the chart browser is up, and the first, cold one);
- every PCN of the demo ICS (8 PCNs), as the app's zip and `export-plans` make them;
- 40 plans of synthetic PCNs with six years of history and a plan of 8 actions each.
Targets: under 1.5 s for one plan, under 30 s for 40.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assessments import plan as plans  # noqa: E402
from assessments.demo import DEMO_ICS, load_demo  # noqa: E402
from assessments.store import Store  # noqa: E402
from assessments.synthetic import generate  # noqa: E402
from reports.pdf import plan_pdf, plan_pdfs  # noqa: E402
from assessments import organisations as orgs

TARGETS = {"one plan": 1.5, "40 plans": 30.0}


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs for the one-plan median")
    parser.add_argument("--plans", type=int, default=40)
    args = parser.parse_args()
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="pcn-bench-plans-") as tmp:
        demo = Store(f"sqlite:///{Path(tmp) / 'demo.db'}")
        summary = load_demo(demo)
        year = summary.years[-1]
        code = summary.pcn_codes[0]
        add_plan(demo, code, year)

        t = time.perf_counter()
        size = len(plan_pdf(demo, code, year))
        cold = time.perf_counter() - t
        runs = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            plan_pdf(demo, code, year)
            runs.append(time.perf_counter() - t)
        figures["one plan"] = statistics.median(runs)
        print(f"one plan PDF      {figures['one plan']:6.2f} s median of {args.repeat} "
              f"(min {min(runs):.2f}, max {max(runs):.2f}; first, starting the chart browser: {cold:.2f} s; "
              f"{size / 1024:,.0f} KB)")

        codes = [p.code for p in orgs.pcns(demo, DEMO_ICS[0])]
        t = time.perf_counter()
        n = sum(1 for _ in plan_pdfs(demo, codes, year))
        figures["demo ICS"] = time.perf_counter() - t
        print(f"demo ICS batch    {figures['demo ICS']:6.2f} s for {n} PCNs ({figures['demo ICS'] / n:.2f} s each)")
        demo.close()

        synth = Store(f"sqlite:///{Path(tmp) / 'synthetic.db'}")
        s = generate(synth, n_ics=1, n_pcns=args.plans)
        year = s.years[-1]
        codes = [p.code for p in orgs.pcns(synth)]
        for c in codes:
            add_plan(synth, c, year)
        t = time.perf_counter()
        n = sum(1 for _ in plan_pdfs(synth, codes, year))
        figures["40 plans"] = time.perf_counter() - t
        print(f"{n} plans          {figures['40 plans']:6.2f} s ({figures['40 plans'] / n:.2f} s each; synthetic PCNs, "
              f"{len(s.years)} years of history, 8 actions each)")
        synth.close()

    failed = [k for k, limit in TARGETS.items() if figures[k] >= limit]
    for k, limit in TARGETS.items():
        print(f"target {k:<10} < {limit:5.1f} s: {'met' if k not in failed else 'MISSED'} ({figures[k]:.2f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

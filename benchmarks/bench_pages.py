"""Each page's full script run at national scale: `python benchmarks/bench_pages.py`.

Builds a temporary SQLite database of synthetic records (about 1,250 PCNs in 42 ICSs, six
years), then runs every page of the app with Streamlit's AppTest: one run to warm the caches,
then the median of several reruns, as a user clicking about the app would meet them. The
baseline is a one-line page run the same way. Targets: each page under 300 ms and under 5 times
the one-line page.

What it measures well is the server's share alone: the Python of each page's run, without a
browser, a websocket or drawing, in about a minute, so a slow read or chart shows up by page.
What a user waits for (load and clicks to idle, and the bytes on the wire) is
benchmarks/bench_browser.py.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHELL = """
import streamlit as st
from components.look import apply_look
from components.state import actor_input, offer_demo
st.set_page_config(page_title="PCN maturity matrix", layout="wide")
page = st.navigation([st.Page(lambda: st.write("One line"), title="One line")])
apply_look()
actor_input()
offer_demo()
page.run()
"""
TARGET_MS = 300
TARGET_RATIO = 5


def median_run(at, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t)
        if at.exception:
            raise RuntimeError(at.exception[0].value)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcns", type=int, default=1250)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="pcn-bench-pages-")
    url = f"sqlite:///{tmp}/national.db"
    os.environ["PCN_DATABASE_URL"] = url

    from streamlit.testing.v1 import AppTest

    from assessments import organisations as orgs
    from assessments.store import Store
    from assessments.synthetic import generate

    t = time.perf_counter()
    store = Store(url)
    summary = generate(store, n_pcns=args.pcns)
    print(f"national database: {summary} in {time.perf_counter() - t:.1f} s")
    ics = orgs.list_ics(store)[0].code
    pcn = orgs.pcns(store, ics)[0].code

    bare = AppTest.from_string("import streamlit as st\nst.write('One line')", default_timeout=120)
    bare.run()
    print(f"{'one-line script':<28} {median_run(bare, args.repeat):8.1f} ms  (no app shell)")
    # The baseline: a one-line page inside the same shell every page runs in (navigation, look,
    # name field, demo offer), so the ratio measures what each page itself adds.
    base = AppTest.from_string(SHELL, default_timeout=120)
    base.session_state["actor_name"] = "Benchmark"
    base.run()
    baseline = median_run(base, args.repeat)
    print(f"{'one-line page in the app':<28} {baseline:8.1f} ms")

    failed = 0
    for page in sorted((ROOT / "views").glob("*.py")):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.session_state["actor_name"] = "Benchmark"
        at.query_params["ics"] = ics
        at.query_params["pcn"] = pcn
        at.run()
        at.switch_page(f"views/{page.name}")
        t = time.perf_counter()
        at.run()
        first = (time.perf_counter() - t) * 1000
        if at.exception:
            print(f"{page.name:<28} error: {at.exception[0].value}")
            failed += 1
            continue
        ms = median_run(at, args.repeat)
        ok = ms < TARGET_MS and ms < TARGET_RATIO * baseline
        failed += not ok
        print(f"{page.name:<28} {ms:8.1f} ms  x{ms / baseline:4.1f}  (first run {first:7.1f} ms)"
              f"  {'ok' if ok else 'OVER TARGET'}")
    print(f"targets: under {TARGET_MS} ms and under {TARGET_RATIO}x the one-line page; {failed} page(s) over")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

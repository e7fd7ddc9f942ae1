"""Ratings import at national scale: `python benchmarks/bench_import.py [--postgres] [--sizes 20000,100000]`.

For each size, a fresh database with 1,250 synthetic PCNs gets a ratings file of that many rows
(PCN x year x element of the national matrix, 27,500 rows a year) imported twice: first as new
ratings, then with every row changed. Prints rows per second for both and, while the second
import runs, how long another user's rating save waits (and whether it fails) and how long a
page's read takes. `--postgres` also measures on a throwaway PostgreSQL server, started as the
tests start theirs (Debian's server binaries needed). The CPU seconds show how much of the time
was this process's work when the machine is busy with others.
"""
from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assessments import exchange  # noqa: E402
from assessments import organisations as orgs  # noqa: E402
from assessments import ratings as assessing  # noqa: E402
from assessments.store import Store  # noqa: E402
from assessments.synthetic import YEARS, generate  # noqa: E402

COLUMNS = ["pcn_code", "year", "matrix_id", "matrix_version", "element_id", "current_stage", "target_stage",
           "confidence", "evidence", "note"]
TARGETS = {20_000: 5.0, 100_000: 25.0}  # seconds per import: "20,000 rows in a few seconds"
WAIT_TARGET = 10.0  # seconds another writer may wait behind an import (and it must not fail)
BY = "Import benchmark"


def write_file(path: Path, matrix, pcn_codes: list[str], n: int, variant: int) -> int:
    stages = matrix.stage_ids
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for year in reversed(YEARS):
            for p, code in enumerate(pcn_codes):
                for e, element in enumerate(matrix.element_ids()):
                    current = (p + e + variant) % (len(stages) - 1)
                    w.writerow([code, year, matrix.id, matrix.version, element, stages[current], stages[current + 1],
                                ("low", "medium", "high")[(p + e) % 3], f"Evidence {variant}: {code} {element}", ""])
                    rows += 1
                    if rows == n:
                        return rows
    return rows


class Bystander(threading.Thread):
    """Another user while the import runs: saves a rating (or reads a page) every quarter second."""

    def __init__(self, store, done: threading.Event, action):
        super().__init__(daemon=True)
        self.store, self.done, self.action = store, done, action
        self.waits: list[float] = []
        self.failures: dict[str, int] = {}

    def run(self) -> None:
        while not self.done.is_set():
            t = time.perf_counter()
            try:
                self.action()
            except Exception as exc:  # noqa: BLE001 - the point is to see what a page would meet
                self.failures[type(exc).__name__] = self.failures.get(type(exc).__name__, 0) + 1
            self.waits.append(time.perf_counter() - t)
            self.done.wait(0.25)

    def describe(self) -> str:
        if not self.waits:
            return "no attempts"
        failed = ", ".join(f"{n} x {name}" for name, n in self.failures.items()) or "none failed"
        return f"{len(self.waits)} tries, longest {max(self.waits):.2f} s; {failed}"


def measure(url: str, n: int, tmp: Path) -> dict:
    store = Store(url)
    matrix = store.default_matrix()
    generate(store, n_pcns=1250, years=())  # the organisations only
    codes = [p.code for p in orgs.pcns(store)]
    other = assessing.create_assessment(store, codes[-1], "2018/19", matrix, by=BY)  # not in the file
    element = matrix.element_ids()[0]
    state = {"version": 0, "k": 0}

    def save() -> None:
        state["k"] += 1
        r = assessing.save_rating(store, other.id, element, by="Another user", expected_version=state["version"],
                                  note=f"Typed while the import ran ({state['k']})")
        state["version"] = r.version

    def read() -> None:
        assessing.history(store, codes[len(codes) // 2])

    out = {}
    for variant, label in ((0, "new"), (1, "changed")):
        path = tmp / f"ratings-{n}-{variant}.csv"
        rows = write_file(path, matrix, codes, n, variant)
        done = threading.Event()
        writer, reader = Bystander(store, done, save), Bystander(store, done, read)
        if variant:
            writer.start()
            reader.start()
        t, cpu = time.perf_counter(), time.process_time()
        result = exchange.import_ratings(store, path, by=BY)
        seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
        done.set()
        if variant:
            writer.join()
            reader.join()
        assert result.applied == rows and result.ratings_changed == rows, result.summary()
        out[label] = (rows, seconds, cpu)
        if variant:
            out["writer"], out["reader"] = writer, reader
    out["audit"] = store.counts()["audit_log"]
    store.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,100000", help="rows per file, comma-separated")
    parser.add_argument("--postgres", action="store_true", help="also measure on a throwaway PostgreSQL server")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    verdicts: list[bool] = []
    backends = ["sqlite"] + (["postgresql"] if args.postgres else [])
    server = None
    try:
        for backend in backends:
            if backend == "postgresql":
                sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
                from store_fixtures import PostgresServer

                server = PostgresServer()
                server.start()
            print(f"Ratings import ({backend}; national matrix, 1,250 PCNs)")
            for n in sizes:
                with tempfile.TemporaryDirectory(prefix="pcn-bench-import-") as tmp:
                    url = server.url(server.create_database()) if server else f"sqlite:///{Path(tmp) / 'pcn.db'}"
                    got = measure(url, n, Path(tmp))
                for label in ("new", "changed"):
                    rows, seconds, cpu = got[label]
                    limit = TARGETS.get(n)
                    ok = limit is None or seconds <= limit
                    verdicts.append(ok)
                    target = f"  (target {limit:.0f} s: {'met' if ok else 'not met'})" if limit else ""
                    print(f"  {rows:>7,} rows, {label:<7}  {seconds:7.2f} s  {rows / seconds:9,.0f} rows/s"
                          f"  ({cpu:.1f} s of CPU in this process){target}")
                w = got["writer"]
                ok = bool(w.waits) and not w.failures and max(w.waits) <= WAIT_TARGET
                verdicts.append(ok)
                print(f"  {'':>7}  another user's save during it: {w.describe()} "
                      f"(target {WAIT_TARGET:.0f} s, none failed: {'met' if ok else 'not met'})")
                print(f"  {'':>7}  a page's read during it: {got['reader'].describe()}")
                print(f"  {'':>7}  audit rows afterwards: {got['audit']:,}")
    finally:
        if server is not None:
            server.stop()
    print("All targets met." if all(verdicts) else "Some targets not met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

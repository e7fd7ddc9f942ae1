"""Time and memory of refusing bad backups: `python benchmarks/bench_restore_checks.py`.

Each bad file (up to the app's 20 MB upload limit) is read and restored into an empty SQLite
database in a process of its own, as the Data page does: parse_backup, then restore. The time
is the wall clock of those two; the memory is the process's peak resident size above what it
held before (with the file's bytes already read). Targets: 2 s and 300 MB for each.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LIMIT_MB = 20
TARGET_SECONDS, TARGET_MB = 2.0, 300


def _demo_backup() -> dict:
    from assessments import exchange
    from assessments.demo import load_demo
    from assessments.store import Store

    with Store("sqlite://") as store:
        load_demo(store)
        return exchange.backup(store)


def _grown(data: dict, table: str, size: int) -> dict:
    """The demo backup with `table`'s rows repeated (new keys) until the file is about `size` bytes."""
    from assessments import exchange

    t = data["tables"][table]
    base = len(exchange.dumps_backup(data).encode())
    row_bytes = sum(len(json.dumps(r, ensure_ascii=False)) + 6 for r in t["rows"]) / len(t["rows"])
    want = int((size * 0.99 - base) // row_bytes)
    rows, pk = [], t["columns"].index("id") if "id" in t["columns"] else None
    for i in range(want):
        r = list(t["rows"][i % len(t["rows"])])
        if pk is not None:
            r[pk] = i + 1
        rows.append(r)
    return {**data, "tables": {**data["tables"], table: {**t, "rows": rows}}}


def make_files(folder: Path) -> dict[str, Path]:
    from assessments import exchange

    size = LIMIT_MB * 1024 * 1024
    files: dict[str, bytes] = {}
    files["random bytes"] = random.Random(1).randbytes(size)
    files["nested 20 MB deep"] = b"[" * size
    files["millions of empty lists"] = b"[" + b"[]," * (size // 3 - 1) + b"[]]"
    files["short numbers"] = b"[" + b"1.5," * (size // 4 - 1) + b"1.5]"
    files["short text"] = b"[" + b'"abcdefgh",' * (size // 11 - 1) + b'"abcdefgh"]'
    demo = _demo_backup()
    audit = _grown(demo, "audit_log", size)
    rows = audit["tables"]["audit_log"]["rows"]
    rows[-1][1] = "yesterday"  # one bad datetime in the very last row: every value is checked first
    files["20 MB backup, last row bad"] = exchange.dumps_backup(audit).encode()
    for r in rows:
        r[1] = "yesterday"
    files["20 MB backup, every row bad"] = exchange.dumps_backup(audit).encode()
    ratings = _grown(demo, "rating", size)
    at = ratings["tables"]["rating"]["columns"].index("element_id")
    for i, r in enumerate(ratings["tables"]["rating"]["rows"]):
        r[at] = f"element-{i}"  # unique keys, none of them in the matrix
    files["20 MB of ratings, unknown elements"] = exchange.dumps_backup(ratings).encode()
    paths = {}
    for i, (name, raw) in enumerate(files.items()):
        paths[name] = folder / f"case{i}.json"
        assert len(raw) <= size + 2, (name, len(raw))
        paths[name].write_bytes(raw)
    return paths


def _status_kib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status (this benchmark needs Linux)")


def _reset_peak() -> None:
    """Start the peak resident size (VmHWM) afresh: the start-up's own peak is not the restore's."""
    Path("/proc/self/clear_refs").write_text("5")


def measure(path: str, db: str) -> None:
    """In a child process: read, restore, print seconds, peak MB above the start and the message."""
    from assessments import exchange
    from assessments.exchange import RestoreError
    from assessments.store import Store

    store = Store(f"sqlite:///{db}")
    raw = Path(path).read_bytes()
    before = _status_kib("VmRSS")
    _reset_peak()
    t, cpu = time.perf_counter(), time.process_time()
    try:
        exchange.restore(store, exchange.parse_backup(raw, Path(path).name))
        message = "RESTORED (not refused)"
    except RestoreError as exc:
        message = str(exc).splitlines()[0] + (f" | {str(exc).splitlines()[1]}" if "\n" in str(exc) else "")
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    peak = (_status_kib("VmHWM") - before) / 1024
    empty = store.is_empty()
    print(json.dumps({"seconds": seconds, "cpu": cpu, "mb": peak, "message": message, "empty": empty}))


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        measure(sys.argv[2], sys.argv[3])
        return 0
    worst_s = worst_cpu = worst_mb = 0.0
    ok = True
    with tempfile.TemporaryDirectory(prefix="pcn-restore-bench-") as tmp:
        print(f"Refusing bad backups (each up to {LIMIT_MB} MB, in its own process; targets "
              f"{TARGET_SECONDS:.0f} s and {TARGET_MB} MB)")
        for i, (name, path) in enumerate(make_files(Path(tmp)).items()):
            out = subprocess.run([sys.executable, __file__, "--child", str(path), str(Path(tmp) / f"t{i}.db")],
                                 capture_output=True, text=True, cwd=ROOT)
            if out.returncode:
                print(f"  {name}: FAILED\n{out.stderr}")
                ok = False
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            worst_s, worst_cpu = max(worst_s, r["seconds"]), max(worst_cpu, r["cpu"])
            worst_mb = max(worst_mb, r["mb"])
            refused = r["message"] != "RESTORED (not refused)" and r["empty"]
            ok = ok and refused
            size = path.stat().st_size / 2 ** 20
            print(f"  {name:<36} {size:5.1f} MB  {r['seconds']:5.2f} s ({r['cpu']:4.2f} s CPU)  {r['mb']:4.0f} MB  "
                  f"{'refused, database empty' if refused else 'NOT REFUSED'}: {r['message'][:110]}")
    met = ok and worst_s <= TARGET_SECONDS and worst_mb <= TARGET_MB
    print(f"Worst: {worst_s:.2f} s ({worst_cpu:.2f} s CPU), {worst_mb:.0f} MB: {'met' if met else 'not met'}")
    if not met and ok and worst_cpu <= TARGET_SECONDS and worst_mb <= TARGET_MB:
        print("(the CPU time is within the target: the wall clock includes waiting for a busy machine; "
              f"load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

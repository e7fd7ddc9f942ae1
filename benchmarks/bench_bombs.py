"""Hostile uploads, refused (or read) cheaply: `python benchmarks/bench_bombs.py [--code DIR] [--only NAME]`.

Each case is a file made by tests/bomb_files.py (YAML billion laughs inside validated fields,
deep nesting, an .xlsx zip bomb, a CSV flood) read the way the app reads an upload: the
Matrices page's `load_text`, the Data page's `read_rows`. Each runs in a fresh process with its
address space capped at 4 GB and 180 s, so a bomb cannot take the machine down. Prints the
wall and CPU seconds, the peak memory (resident high-water mark above the process before the
read) and whether the target is met: any input up to the upload limit refused or accepted
within 2 s and 300 MB. The seconds judged are CPU seconds, since on a busy shared machine the
wall time mostly measures the other work. `--code DIR` runs the cases against another copy of the code, e.g. the code before the
limits: `git archive HEAD | tar -x -C /tmp/before`.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from bomb_files import csv_flood, xlsx_bomb, yaml_deep, yaml_laughs  # noqa: E402

TARGET_S, TARGET_MB = 2.0, 300
CAP_BYTES, CAP_S = 4_000_000_000, 180


def yaml_plain(size: int) -> bytes:
    """A matrix with no aliases, as large as a matrix file may be: one element, many prompts."""
    head = ("kind: maturity-matrix\nid: plain\nversion: \"1\"\ntitle: Plain\nsource: A benchmark.\nstages:\n"
            "  - {id: a, label: A, meaning: A}\n  - {id: b, label: B, meaning: B}\ndomains:\n  - id: d\n"
            "    title: D\n    summary: S\n    elements:\n      - id: e\n        title: E\n"
            "        descriptors: {a: x, b: y}\n        evidence_prompts:\n")
    line = "          - Is there written evidence of this?\n"
    return (head + line * ((size - len(head)) // len(line))).encode()


CASES = {  # name: (file name the app would see, maker)
    "yaml billion laughs 6.6 KB": ("laughs.yaml", lambda: yaml_laughs(6600)),
    "yaml billion laughs 9.3 KB": ("laughs.yaml", lambda: yaml_laughs(9300)),
    "yaml nested 190 KB deep": ("deep.yaml", lambda: yaml_deep(190_000)),
    "yaml plain 190 KB (valid)": ("plain.yaml", lambda: yaml_plain(190_000)),
    "xlsx zip bomb 1 MB": ("bomb.xlsx", lambda: xlsx_bomb(1_000_000)),
    "xlsx zip bomb 4 MB": ("bomb.xlsx", lambda: xlsx_bomb(4_000_000)),
    "csv flood 20 MB": ("flood.csv", lambda: csv_flood(20_000_000)),
    "csv flood 20 MB, distinct cells": ("flood.csv", lambda: csv_flood(20_000_000, distinct=True)),
}


def child(code: str, name: str, path: str) -> None:
    """Read one file as the app would and print what happened as JSON."""
    sys.path.insert(0, code)
    data = Path(path).read_bytes()
    if name.endswith((".yaml", ".yml")):
        from matrix import MatrixFileError, load_text

        def run():
            try:
                doc = load_text(data, name)
            except MatrixFileError as exc:
                return f"refused: {exc.problems[0]}"
            return f"accepted ({doc.kind})"
    else:
        from assessments.sheets import ImportProblems, read_rows

        def run():
            try:
                _header, body = read_rows(name, data)
            except ImportProblems as exc:
                return f"refused: {exc.problems[0]}"
            return f"accepted ({len(body):,} rows to check)"
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t, cpu = time.perf_counter(), time.process_time()
    try:
        outcome = run()
    except MemoryError:
        outcome = "MemoryError traceback"
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak, "outcome": outcome}))


def _peak_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")),
                float("nan"))


def _cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CAP_BYTES, CAP_BYTES))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", default=str(ROOT), help="the copy of the code to run (default: this one)")
    parser.add_argument("--only", help="run only the cases whose name contains this")
    parser.add_argument("--child", nargs=2, metavar=("NAME", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.code, *args.child)
        return 0

    print(f"code: {args.code}; target: refused or accepted within {TARGET_S:g} s and {TARGET_MB} MB")
    tmp = Path(tempfile.mkdtemp(prefix="pcn-bombs-"))
    all_met = True
    for case, (name, make) in CASES.items():
        if args.only and args.only not in case:
            continue
        path = tmp / name
        path.write_bytes(make())
        cmd = [sys.executable, __file__, "--code", args.code, "--child", name, str(path)]
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_cap)
        try:
            out, err = proc.communicate(timeout=CAP_S)
        except subprocess.TimeoutExpired:
            peak = _peak_mb(proc.pid)  # the whole process's high-water mark, imports included
            proc.kill()
            proc.communicate()
            result = {"seconds": CAP_S, "cpu": CAP_S, "peak_mb": peak,
                      "outcome": f"still running after {CAP_S} s, stopped (memory: the whole process)"}
        else:
            lines = [line for line in out.splitlines() if line.startswith("{")]
            if lines:
                result = json.loads(lines[-1])
            else:
                last = (err.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
                spent = time.perf_counter() - t
                result = {"seconds": spent, "cpu": spent, "peak_mb": CAP_BYTES / 1e6,
                          "outcome": f"crashed: {last[:90]}"}
        met = result["cpu"] <= TARGET_S and result["peak_mb"] <= TARGET_MB
        all_met &= met
        print(f"{case:<32} {path.stat().st_size / 1e3:>8,.1f} KB {result['seconds']:7.2f} s wall {result['cpu']:7.2f} s cpu "
              f"{result['peak_mb']:8.1f} MB  "
              f"{'met' if met else 'not met'}  {result['outcome'][:110]}")
        path.unlink()
    print("all met" if all_met else "not met")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Plan PDFs made by the pool of processes (reports/batch.py, `export-plans`) are the PDFs the
single path makes: the same pages of text and the same chart images, in the order asked."""
from __future__ import annotations

import io
import os

import pytest
from pypdf import PdfReader

from assessments.demo import DEMO_ICS, STORIES, YEARS, load_demo
from assessments.store import Store
from reports import pdf as report_pdf
from reports.batch import plan_pdfs_in_processes

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs Debian's chromium for kaleido")
YEAR = YEARS[-1]


def contents(data: bytes) -> tuple[list[str], list[bytes]]:
    reader = PdfReader(io.BytesIO(data))
    return [p.extract_text() for p in reader.pages], [img.data for p in reader.pages for img in p.images]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("batch") / "batch.db"
    with Store(f"sqlite:///{path}") as store:
        load_demo(store)
    return path


# The pool runs in a fresh interpreter, as under `python cli.py export-plans`: its worker processes
# are started by multiprocessing, which prepares each from the parent's __main__, and in a test
# process that has run AppTest, __main__ is app.py.
POOL = """
import pickle, sys
from reports.batch import plan_pdfs_in_processes
url, year, processes, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[5]
codes, names = sys.argv[4].split(","), dict(x.split("=", 1) for x in sys.argv[6:])
seen = []
try:
    made = list(plan_pdfs_in_processes(url, codes, year, lambda d, t, n: seen.append((d, t, n)), names=names,
                                       processes=processes))
    result = ("ok", made, seen)
except Exception as exc:
    result = ("error", type(exc).__name__, str(exc))
with open(out, "wb") as f:
    pickle.dump(result, f)
"""


def pool(tmp_path, demo, codes: list[str], processes: int, names: dict[str, str] | None = None):
    import pickle
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "pool.pickle"
    subprocess.run([sys.executable, "-c", POOL, f"sqlite:///{demo}", YEAR, str(processes), ",".join(codes), str(out),
                    *[f"{k}={v}" for k, v in (names or {}).items()]],
                   cwd=Path(__file__).resolve().parents[1], check=True, timeout=600)
    return pickle.loads(out.read_bytes())


def test_the_pool_makes_the_pdfs_the_single_path_makes(demo, tmp_path):
    codes = [s.code for s in STORIES[:3]]
    status, made, seen = pool(tmp_path, demo, codes, 2, {s.code: s.name for s in STORIES})
    assert status == "ok"
    assert [code for code, _, _ in made] == codes
    assert [d for d, _, _ in seen] == [0, 1, 2, 3] and seen[0][2] == STORIES[0].name and seen[-1][2] == ""
    with Store(f"sqlite:///{demo}") as store:
        for code, name, data in made:
            single = report_pdf.plan_pdf(store, code, YEAR)
            text, pictures = contents(data)
            assert (text, pictures) == contents(single)
            assert len(pictures) >= 2 and name == f"development-plan-{code}-{YEAR.replace('/', '-')}.pdf"


def test_a_problem_in_a_worker_reaches_the_caller(demo, tmp_path):
    status, kind, message = pool(tmp_path, demo, ["U00000"], 1)
    from assessments import values

    assert status == "error" and issubclass(getattr(values, kind), values.StoreError) and "U00000" in message


def test_no_pcns_no_processes(demo):
    assert list(plan_pdfs_in_processes(f"sqlite:///{demo}", [], YEAR)) == []
    assert DEMO_ICS  # the demo has an ICS to export, used by tests/test_reports_cli.py

"""`python cli.py export-plan` and `export-plans`, run as a user would, on a fresh SQLite file."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader

from assessments.demo import DEMO_ICS, STORIES, YEARS

ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str], db: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PCN_DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def test_export_plan_and_plans_from_the_command_line(tmp_path):
    db = tmp_path / "cli.db"
    assert run(["demo"], db).returncode == 0
    story = STORIES[0]
    out = tmp_path / "plan.pdf"
    r = run(["export-plan", "--pcn", story.code, "--year", YEARS[-1], "-o", str(out)], db)
    assert r.returncode == 0, r.stderr
    assert f"Wrote {out}" in r.stdout
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    assert story.name in reader.pages[0].extract_text()
    assert reader.metadata.author == story.name

    folder = tmp_path / "plans"
    r = run(["export-plans", "--ics", DEMO_ICS[0], "--year", YEARS[-1], "-o", str(folder)], db)
    assert r.returncode == 0, r.stderr
    files = sorted(p.name for p in folder.glob("*.pdf"))
    assert files == sorted(f"development-plan-{s.code}-{YEARS[-1].replace('/', '-')}.pdf" for s in STORIES)
    assert f"{len(STORIES)}/{len(STORIES)}" in r.stderr and "#" * 30 in r.stderr  # the progress bar
    assert str(folder.resolve()) in r.stdout


def test_command_line_mistakes_get_a_message_not_a_traceback(tmp_path):
    db = tmp_path / "cli.db"
    r = run(["export-plan", "--pcn", "U00000", "--year", "2024/25", "-o", str(tmp_path / "x.pdf")], db)
    assert r.returncode == 1 and "no PCN with code U00000" in r.stderr and "Traceback" not in r.stderr
    r = run(["export-plan", "--pcn", "U00000", "--year", "2024-25", "-o", str(tmp_path / "x.pdf")], db)
    assert r.returncode == 1 and "write it like 2024/25" in r.stderr
    r = run(["export-plans", "--ics", "QAA", "--year", "2024/25", "-o", str(tmp_path / "d")], db)
    assert r.returncode == 1 and "no ICS with code QAA" in r.stderr
    assert not (tmp_path / "x.pdf").exists()

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


# ---------------------------------------------------------------------------------------------
# The matrix is a choice: --matrix on export-plan(s), default-matrix, template

SMALL = (ROOT / "tests" / "fixtures" / "small_matrix.yaml").read_text()


def rated_twice(tmp_path) -> tuple[Path, dict]:
    """The demo, plus the ICS's own matrix (example-matrix) beside the national one: U99001 and a
    one-PCN ICS QZX are rated against it in the last year."""
    from assessments import organisations as orgs
    from assessments import ratings as assessing
    from assessments.demo import load_demo
    from assessments.matrix_choice import find_matrix
    from assessments.store import Store

    folder = tmp_path / "matrices"
    folder.mkdir()
    (folder / "small_matrix.yaml").write_text(SMALL)
    env = {"PCN_MATRIX_DIR": str(folder)}
    db = tmp_path / "cli.db"
    os.environ["PCN_MATRIX_DIR"] = str(folder)
    try:
        with Store(f"sqlite:///{db}") as store:
            load_demo(store)
            orgs.add_ics(store, "QZX", "Small ICS", by="test")
            orgs.add_pcn(store, "U98001", "Lone PCN", ics_code="QZX", list_size=20_000, by="test")
            local = find_matrix(store, "example-matrix")
            for code in (STORIES[0].code, "U98001"):
                a = assessing.create_assessment(store, code, YEARS[-1], local, by="test")
                assessing.save_rating(store, a.id, "governance", by="test", expected_version=0,
                                      current_stage="embedded")
    finally:
        os.environ.pop("PCN_MATRIX_DIR")
    return db, env


def run_with(args: list[str], db: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "cli.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env, "PCN_DATABASE_URL": f"sqlite:///{db}"})


def test_export_plan_reports_against_the_matrix_asked_for(tmp_path):
    from openpyxl import load_workbook

    db, env = rated_twice(tmp_path)
    code, year = STORIES[0].code, YEARS[-1]

    def elements(path: Path) -> set[str]:
        return {row[1] for row in load_workbook(path)["Elements"].iter_rows(min_row=2, values_only=True)} - {None}

    national, local = tmp_path / "national.xlsx", tmp_path / "local.xlsx"
    assert run_with(["export-plan", "--pcn", code, "--year", year, "-o", str(national)], db, env).returncode == 0
    r = run_with(["export-plan", "--pcn", code, "--year", year, "--matrix", "example-matrix", "-o", str(local)], db, env)
    assert r.returncode == 0, r.stderr
    assert elements(local) == {"Governance", "Shared vision", "Data sharing"}
    assert "Governance" not in elements(national) and len(elements(national)) == 22
    r = run_with(["export-plan", "--pcn", code, "--year", year, "--matrix", "example-matrix@1.0", "-o",
                  str(tmp_path / "v1.xlsx")], db, env)
    assert r.returncode == 0, r.stderr
    # A PCN not rated against that matrix this year: the plan says so, and the command names what it has.
    r = run_with(["export-plan", "--pcn", STORIES[1].code, "--year", year, "--matrix", "example-matrix", "-o",
                  str(tmp_path / "other.xlsx")], db, env)
    assert r.returncode == 0 and f"no {year} assessment against example-matrix" in r.stderr
    assert "nhse-pcn-maturity" in r.stderr


def test_an_unknown_matrix_or_version_is_a_clear_error_and_writes_nothing(tmp_path):
    db, env = rated_twice(tmp_path)
    out = tmp_path / "x.pdf"
    r = run_with(["export-plan", "--pcn", STORIES[0].code, "--year", YEARS[-1], "--matrix", "nope", "-o", str(out)],
                 db, env)
    assert r.returncode == 1 and "there is no matrix 'nope'" in r.stderr and "example-matrix" in r.stderr
    assert "Traceback" not in r.stderr and not out.exists()
    r = run_with(["export-plan", "--pcn", STORIES[0].code, "--year", YEARS[-1], "--matrix", "example-matrix@2.0",
                  "-o", str(out)], db, env)
    assert r.returncode == 1 and "has no version 2.0 (versions loaded: 1.0)" in r.stderr and not out.exists()
    r = run_with(["export-plans", "--ics", DEMO_ICS[0], "--year", YEARS[-1], "--matrix", "nope",
                  "-o", str(tmp_path / "d")], db, env)
    assert r.returncode == 1 and "there is no matrix 'nope'" in r.stderr and not (tmp_path / "d").exists()


def test_export_plans_against_a_matrix(tmp_path):
    db, env = rated_twice(tmp_path)
    folder = tmp_path / "plans"
    r = run_with(["export-plans", "--ics", "QZX", "--year", YEARS[-1], "--matrix", "example-matrix",
                  "-o", str(folder)], db, env)
    assert r.returncode == 0, r.stderr
    assert "against example-matrix" in r.stdout
    [pdf] = folder.glob("*.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "Example matrix" in text and "Governance" in text


def test_the_default_matrix_command_sets_shows_and_clears_it(tmp_path):
    from openpyxl import load_workbook

    db, env = rated_twice(tmp_path)
    r = run_with(["default-matrix", "--ics", DEMO_ICS[0]], db, env)
    assert r.returncode == 0 and "national matrix" in r.stdout
    r = run_with(["default-matrix", "--ics", DEMO_ICS[0], "example-matrix", "--by", "Ann Admin"], db, env)
    assert r.returncode == 0, r.stderr
    assert "start on Example matrix (example-matrix), its newest version 1.0" in r.stdout
    # The template for one of its PCNs is now on that matrix; --matrix still chooses another.
    tpl = tmp_path / "t.xlsx"
    r = run_with(["template", "--pcn", STORIES[0].code, "-o", str(tpl)], db, env)
    assert r.returncode == 0 and "3 element row(s) of Example matrix (1.0)" in r.stdout
    assert {row[4] for row in load_workbook(tpl).active.iter_rows(min_row=2, values_only=True)} - {None} == {
        "governance", "vision", "data-sharing"}
    r = run_with(["template", "--matrix", "nhse-pcn-maturity", "-o", str(tpl)], db, env)
    assert r.returncode == 0 and "22 element row(s)" in r.stdout
    r = run_with(["default-matrix", "--ics", DEMO_ICS[0], "nope"], db, env)
    assert r.returncode == 1 and "there is no matrix 'nope'" in r.stderr
    r = run_with(["default-matrix", "--ics", DEMO_ICS[0], "--national"], db, env)
    assert r.returncode == 0 and "national matrix" in r.stdout

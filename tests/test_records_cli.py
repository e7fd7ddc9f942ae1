"""The demonstration data and the records commands of cli.py (run as a user would)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from statistics import mean

import pytest

from assessments import exchange
from assessments.demo import DEMO_ICS, STORIES, YEARS, DemoExistsError, load_demo
from assessments.model import AGREED, DRAFT
from assessments.store import Store
from assessments.synthetic import generate
from assessments import ratings as assessing
from assessments import organisations as orgs

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, url: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PCN_DATABASE_URL": url, "PCN_USER": "Test runner"}
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def test_cli_demo_then_backup(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    r = cli("demo", url=url, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "QZZ" in r.stdout and all(s.code in r.stdout for s in STORIES) and all(y in r.stdout for y in YEARS)

    r = cli("backup", "-o", tmp_path / "backup.json", url=url, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "backup.json" in r.stdout
    data = json.loads((tmp_path / "backup.json").read_text(encoding="utf-8"))
    assert len(data["tables"]["pcn"]["rows"]) == 8 and len(data["tables"]["assessment"]["rows"]) == 32

    r = cli("demo", url=url, cwd=tmp_path)
    assert r.returncode == 1 and "already loaded" in r.stderr and "Traceback" not in r.stderr

    r = cli("restore", tmp_path / "backup.json", url=url, cwd=tmp_path)
    assert r.returncode == 1 and "not empty" in r.stderr and "Traceback" not in r.stderr
    new_url = f"sqlite:///{tmp_path / 'restored.db'}"
    r = cli("restore", tmp_path / "backup.json", url=new_url, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = cli("backup", "-o", tmp_path / "again.json", url=new_url, cwd=tmp_path)
    assert (tmp_path / "again.json").read_bytes() == (tmp_path / "backup.json").read_bytes()


def test_cli_restore_refuses_a_bad_backup_and_writes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert cli("demo", url=url, cwd=tmp_path).returncode == 0
    assert cli("backup", "-o", tmp_path / "backup.json", url=url, cwd=tmp_path).returncode == 0
    data = json.loads((tmp_path / "backup.json").read_text(encoding="utf-8"))
    rating = data["tables"]["rating"]
    rating["rows"][1][rating["columns"].index("target_stage")] = "step-9"
    (tmp_path / "bad.json").write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "deep.json").write_text("[" * 100_000, encoding="utf-8")
    new_url = f"sqlite:///{tmp_path / 'new.db'}"
    r = cli("restore", tmp_path / "bad.json", url=new_url, cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert "Nothing was restored: the backup has 1 problem:\ntable rating, row 2: column target_stage: 'step-9' " \
           "is not a stage of matrix 'nhse-pcn-maturity'" in r.stderr
    r = cli("restore", tmp_path / "deep.json", url=new_url, cwd=tmp_path)
    assert r.returncode == 1 and "nested too deeply" in r.stderr and "Traceback" not in r.stderr
    with Store(new_url) as target:
        assert target.is_empty()


def test_cli_ratings_commands(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert cli("demo", url=url, cwd=tmp_path).returncode == 0
    r = cli("export-ratings", "-o", tmp_path / "e.xlsx", "--ics", "QZZ", "--year", "2024/25", url=url, cwd=tmp_path)
    assert r.returncode == 0 and "Wrote" in r.stdout, r.stderr
    r = cli("import-ratings", tmp_path / "e.xlsx", url=url, cwd=tmp_path)
    assert r.returncode == 0 and "already as stored" in r.stdout, r.stderr
    r = cli("template", "-o", tmp_path / "t.csv", "--pcn", "U99002", "--year", "2025/26", url=url, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "t.csv").read_text(encoding="utf-8-sig").splitlines()
    lines[1] = lines[1].replace(",,,,,,", ",step-9,,,,,", 1)
    (tmp_path / "bad.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = cli("import-ratings", tmp_path / "bad.csv", url=url, cwd=tmp_path)
    assert r.returncode == 1 and "line 2: 'step-9' is not a current stage" in r.stderr and "Traceback" not in r.stderr
    r = cli("export-ratings", "-o", tmp_path / "e.pdf", url=url, cwd=tmp_path)
    assert r.returncode == 2 and "use a .csv or .xlsx file" in r.stderr  # argparse's usage error
    r = cli("export-ratings", "-o", tmp_path / "e.csv", "--year", "2024-25", url=url, cwd=tmp_path)
    assert r.returncode == 1 and "financial year" in r.stderr and "Traceback" not in r.stderr


@pytest.fixture
def nhs_store(db_url):
    """A fresh store that uses the shipped matrices."""
    s = Store(db_url)
    yield s
    s.close()


def test_demo_tells_its_stories(nhs_store):
    summary = load_demo(nhs_store)
    assert (summary.ics_code, summary.years, summary.assessments) == ("QZZ", YEARS, 32)
    assert orgs.ics(nhs_store, "QZZ").name == DEMO_ICS[1] and "fictional" in DEMO_ICS[2].lower()
    pcns = orgs.pcns(nhs_store, "QZZ")
    assert len(pcns) == 8 and all(p.code.startswith("U9") and p.name.endswith("PCN") for p in pcns)
    sizes = [p.list_size for p in pcns]
    assert min(sizes) < 20_000 and max(sizes) > 65_000
    assert min(len(p.practices) for p in pcns) == 1 and max(len(p.practices) for p in pcns) >= 10
    assert {p.rural for p in pcns} == {True, False}

    matrix = nhs_store.default_matrix()
    assert matrix.id == "nhse-pcn-maturity"
    level: dict[str, list[float]] = {}
    for year in YEARS:
        records = assessing.portfolio(nhs_store, year, ics_code="QZZ")
        assert len(records) == 8
        statuses = {r.assessment.status for r in records}
        assert statuses == ({AGREED} if year != YEARS[-1] else {AGREED, DRAFT})
        for r in records:
            assert all(x.target_stage is not None for x in r.ratings.values())
            level.setdefault(r.pcn.code, []).append(
                mean(matrix.stage_index(x.current_stage) for x in r.ratings.values() if x.current_stage))
    steady, stall, merger, fast = level["U99001"], level["U99003"], level["U99004"], level["U99005"]
    assert steady == sorted(steady) and steady[-1] - steady[0] >= 1
    assert abs(stall[2] - stall[1]) < 0.35 and abs(stall[3] - stall[2]) < 0.35
    assert merger[2] < merger[1] - 0.5 and merger[3] > merger[2]
    assert fast[-1] - fast[0] == max(v[-1] - v[0] for v in level.values())
    in_progress = assessing.find_assessment(nhs_store, "U99007", YEARS[-1])
    assert 0 < len(assessing.ratings(nhs_store, in_progress.id)) < len(matrix.element_ids())
    assert any(x.evidence for r in assessing.portfolio(nhs_store, YEARS[-1]) for x in r.ratings.values())
    with pytest.raises(DemoExistsError, match="already loaded"):
        load_demo(nhs_store)


def test_demo_is_deterministic(tmp_path):
    texts = []
    for name in ("a.db", "b.db"):
        with Store(f"sqlite:///{tmp_path / name}") as s:
            load_demo(s)
            texts.append(exchange.dumps_backup(exchange.backup(s)))
    assert texts[0] == texts[1]


def test_synthetic_data_loads_in_bulk_and_the_store_carries_on(nhs_store):
    summary = generate(nhs_store, n_ics=3, n_pcns=24, seed=7)
    counts = nhs_store.counts()
    assert (counts["ics"], counts["pcn"], counts["assessment"], counts["rating"], counts["audit_log"]) == (
        3, 24, summary.assessments, summary.ratings, summary.audit_rows)
    records = assessing.portfolio(nhs_store, "2024/25")
    assert len(records) == 24 and all(len(r.ratings) == len(nhs_store.default_matrix().element_ids()) for r in records)
    # Ids after a bulk load with explicit ids keep counting up (PostgreSQL sequences were moved on).
    draft = next(r.assessment for r in records if r.assessment.status == DRAFT)
    assessing.discard_draft(nhs_store, draft.id, by="t", expected_version=draft.version)
    again = assessing.start_year(nhs_store, draft.pcn_code, "2024/25", by="t")
    assert again.id == summary.assessments + 1


def free_port() -> int:
    import socket

    with socket.socket() as s:  # a port nothing listens on once it is closed
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("command", [("backup", "--dir", "backups"), ("demo",), ("export-plans", "--ics", "QZZ",
                                                                                "--year", "2024/25", "-o", "out")])
def test_an_unreachable_postgresql_server_is_a_plain_message(tmp_path, command):
    port = free_port()
    r = cli(*command, url=f"postgresql://pcn:s3cret-pass@127.0.0.1:{port}/pcn", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "sqlalchemy" not in r.stderr.lower(), r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        f"Cannot open the database (server 127.0.0.1 port {port}, database pcn, user pcn): Connection refused. "
        "Check that the server is running and that PCN_DATABASE_URL (host, port, name, user, password) is right.")
    assert "s3cret-pass" not in r.stdout + r.stderr


def test_an_unopenable_sqlite_path_is_a_plain_message(tmp_path):
    (tmp_path / "a-folder.db").mkdir()  # SQLite cannot open a folder as its file
    (tmp_path / "a-file").write_text("not a folder")
    cases = {tmp_path / "a-folder.db": "SQLite cannot open the file",
             tmp_path / "a-file" / "pcn.db": f"cannot make its folder {tmp_path / 'a-file'}: File exists"}
    for path, reason in cases.items():
        r = cli("backup", "--dir", tmp_path / "backups", url=f"sqlite:///{path}", cwd=tmp_path)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "Traceback" not in r.stderr, r.stderr
        assert r.stderr.strip() == (f"Cannot open the database (SQLite file {path}): {reason}. Check that its folder "
                                    "exists and may be written to, that the path names a file, not a folder, and "
                                    "that PCN_DATABASE_URL is right.")
    assert not (tmp_path / "backups").exists()


def test_a_database_the_server_does_not_have_is_a_plain_message(postgres_server, tmp_path):
    """A real server that answers and refuses: the connection fails at sign-in."""
    url = f"postgresql://postgres:s3cret-pass@127.0.0.1:{postgres_server.port}/no_such_db"
    r = cli("backup", "--dir", tmp_path / "backups", url=url, cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.strip() == (
        f"Cannot open the database (server 127.0.0.1 port {postgres_server.port}, database no_such_db, user postgres): "
        'database "no_such_db" does not exist. Check that the server is running and that PCN_DATABASE_URL (host, '
        "port, name, user, password) is right.")
    assert "s3cret-pass" not in r.stdout + r.stderr

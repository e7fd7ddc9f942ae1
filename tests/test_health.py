"""`python cli.py check`, run as an operator would: one line per check, exit 0 only when every check
passes. A healthy set-up, then each fault on its own: a database that cannot be reached, one at an
older schema, a bad matrix file in the matrix folder, an old or missing backup."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assessments.backup_files import backup_name
from assessments.records import head_revision, make_engine, migrate
from assessments.store import Store

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def check(url: str, *args, backup_dir: Path | None = None, matrix_dir: Path | None = None,
          cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PCN_BACKUP_DIR", "PCN_MATRIX_DIR")}
    env["PCN_DATABASE_URL"] = url
    if backup_dir is not None:
        env["PCN_BACKUP_DIR"] = str(backup_dir)
    if matrix_dir is not None:
        env["PCN_MATRIX_DIR"] = str(matrix_dir)
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "check", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


def lines(r: subprocess.CompletedProcess) -> dict[str, str]:
    """Each check's line by the check's name; nothing else is printed, and never a traceback."""
    assert "Traceback" not in r.stdout + r.stderr, r.stdout + r.stderr
    found = dict(line.split(": ", 1) for line in r.stdout.splitlines())
    assert list(found) == ["database", "migrations", "matrices", "backups"], r.stdout
    return found


def fresh_backup(folder: Path, hours_ago: float = 0.0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / backup_name(datetime.now(UTC) - timedelta(hours=hours_ago))
    path.write_text("{}", encoding="utf-8")
    return path


@pytest.fixture
def healthy(tmp_path):
    url = f"sqlite:///{tmp_path / 'pcn.db'}"
    Store(url).close()  # made and migrated, as the app does on its first start
    fresh_backup(tmp_path / "backups", hours_ago=1)
    return url


def test_a_healthy_set_up_passes_every_check(healthy, tmp_path):
    started = time.monotonic()
    r = check(healthy, backup_dir=tmp_path / "backups", cwd=tmp_path)
    took = time.monotonic() - started
    assert r.returncode == 0, r.stdout + r.stderr
    found = lines(r)
    assert all(v.startswith("OK: ") for v in found.values()), found
    assert head_revision() in found["migrations"]
    assert "1.0 hours old" in found["backups"]
    print(f"python cli.py check took {took:.2f} s")


def test_on_postgresql_too(postgres_server, tmp_path):
    name = postgres_server.create_database()
    try:
        url = postgres_server.url(name)
        Store(url).close()
        fresh_backup(tmp_path / "backups")
        r = check(url, backup_dir=tmp_path / "backups", cwd=tmp_path)
        assert r.returncode == 0, r.stdout + r.stderr
        assert lines(r)["database"].startswith("OK: Store('postgresql")
    finally:
        postgres_server.drop_database(name)


def test_a_database_that_cannot_be_reached(tmp_path):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql+psycopg://pcn:s3cret-pass@127.0.0.1:{port}/pcn"
    r = check(url, backup_dir=fresh_backup(tmp_path / "b").parent, cwd=tmp_path)
    assert r.returncode == 1
    found = lines(r)
    assert found["database"].startswith("PROBLEM: cannot reach Store('postgresql+psycopg://pcn:***@127.0.0.1:")
    assert "What to do: check that the database server is running" in found["database"]
    assert found["migrations"].startswith("PROBLEM: not checked")
    assert found["matrices"].startswith("OK") and found["backups"].startswith("OK")
    assert "s3cret-pass" not in r.stdout + r.stderr


def test_a_database_url_that_makes_no_sense(tmp_path):
    r = check("not a url at all", cwd=tmp_path)
    assert r.returncode == 1
    assert lines(r)["database"].startswith("PROBLEM: cannot open PCN_DATABASE_URL: ")


def test_a_missing_sqlite_file_is_reported_and_not_created(tmp_path):
    db = tmp_path / "nothing-here.db"
    r = check(f"sqlite:///{db}", cwd=tmp_path)
    assert r.returncode == 1
    assert lines(r)["database"] == f"PROBLEM: there is no database file at {db}. What to do: check " \
                                   "PCN_DATABASE_URL; the app creates the file when it first starts."
    assert not db.exists()


def test_a_database_at_an_older_schema_is_reported_and_left_as_it_is(tmp_path):
    from alembic.script import ScriptDirectory

    from assessments.records.engine import alembic_config

    older = ScriptDirectory.from_config(alembic_config()).get_revision(head_revision()).down_revision
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    migrate(engine, older)
    engine.dispose()
    r = check(url, cwd=tmp_path)
    assert r.returncode == 1
    found = lines(r)
    assert found["database"].startswith("OK")
    assert found["migrations"].startswith(f"PROBLEM: the schema is at revision {older}, this version of the app "
                                          f"expects {head_revision()}. What to do: restart the app processes")
    with Store(url, upgrade=False) as s:
        assert s.schema_revision() == older  # the check upgraded nothing


def test_a_database_with_no_tables_yet(tmp_path):
    db = tmp_path / "empty.db"
    db.touch()
    r = check(f"sqlite:///{db}", cwd=tmp_path)
    assert r.returncode == 1
    assert lines(r)["migrations"].startswith("PROBLEM: the database has no tables yet")


def test_a_bad_matrix_file_in_the_matrix_folder(healthy, tmp_path):
    folder = tmp_path / "matrices"
    folder.mkdir()
    good = (FIXTURES / "small_matrix.yaml").read_text(encoding="utf-8")
    (folder / "small.yaml").write_text(good, encoding="utf-8")
    (folder / "broken.yaml").write_text(good.replace("id: small-matrix", "id: Not An Id", 1)
                                        .replace("descriptors:", "descriptor:", 1), encoding="utf-8")
    r = check(healthy, backup_dir=tmp_path / "backups", matrix_dir=folder, cwd=tmp_path)
    assert r.returncode == 1
    found = lines(r)
    assert found["matrices"].startswith(f"PROBLEM: 1 invalid file in the matrix folders: {folder / 'broken.yaml'} "
                                        f"(first problem: {folder / 'broken.yaml'}:"), found["matrices"]
    assert "`python cli.py validate FILE` lists every problem" in found["matrices"]
    assert all(found[k].startswith("OK") for k in ("database", "migrations", "backups"))


def test_a_matrix_folder_that_does_not_exist(healthy, tmp_path):
    r = check(healthy, backup_dir=tmp_path / "backups", matrix_dir=tmp_path / "no-such-folder", cwd=tmp_path)
    assert r.returncode == 1
    assert "PCN_MATRIX_DIR folder not found" in lines(r)["matrices"]


def test_an_old_backup_fails_and_a_longer_limit_lets_it_pass(healthy, tmp_path):
    folder = tmp_path / "old-backups"
    old = fresh_backup(folder, hours_ago=30)
    r = check(healthy, backup_dir=folder, cwd=tmp_path)
    assert r.returncode == 1
    found = lines(r)
    assert found["backups"].startswith(f"PROBLEM: the last backup, {old.name}, is 30.0 hours old (the limit is 26 "
                                       "hours). What to do: check that the scheduled backup runs")
    assert all(found[k].startswith("OK") for k in ("database", "migrations", "matrices"))
    r = check(healthy, "--max-backup-age", 48, backup_dir=folder, cwd=tmp_path)
    assert r.returncode == 0 and lines(r)["backups"].startswith("OK")
    # A newer backup is the one that counts; files of other names are not backups.
    fresh_backup(folder, hours_ago=2)
    (folder / "pcn-backup-latest.json").write_text("{}", encoding="utf-8")
    (folder / ".pcn-backup-x.partial").write_text("", encoding="utf-8")
    assert check(healthy, backup_dir=folder, cwd=tmp_path).returncode == 0


def test_no_backup_yet_or_no_backup_folder(healthy, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    r = check(healthy, backup_dir=empty, cwd=tmp_path)
    assert r.returncode == 1 and lines(r)["backups"].startswith(f"PROBLEM: no backup in {empty}")
    r = check(healthy, backup_dir=tmp_path / "missing", cwd=tmp_path)
    assert r.returncode == 1 and lines(r)["backups"].startswith("PROBLEM: the backup folder")


def test_backups_not_configured_is_said_and_does_not_fail(healthy, tmp_path):
    r = check(healthy, cwd=tmp_path)
    assert r.returncode == 0, r.stdout
    assert lines(r)["backups"].startswith("not configured: PCN_BACKUP_DIR is not set")
    assert "backups: not configured" in r.stdout


def test_a_nonsense_limit_is_refused(healthy, tmp_path):
    r = check(healthy, "--max-backup-age", 0, cwd=tmp_path)
    assert r.returncode == 1 and "--max-backup-age must be more than 0 hours" in r.stderr

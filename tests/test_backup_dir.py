"""`python cli.py backup --dir DIR --keep N`: a timestamped backup written under a temporary name
and renamed into place, the oldest beyond N deleted, nothing else in the folder touched."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assessments import backup_files
from assessments import organisations as orgs
from assessments.store import Store
from assessments.values import InputError

ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"pcn-backup-\d{8}T\d{6}Z\.json")


def cli(*args, url: str, cwd: Path, backup_dir: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PCN_BACKUP_DIR"}
    env.update({"PCN_DATABASE_URL": url, "PCN_USER": "Test runner"})
    if backup_dir is not None:
        env["PCN_BACKUP_DIR"] = str(backup_dir)
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path / 'pcn.db'}"
    with Store(url) as s:
        orgs.add_ics(s, "QZZ", "Test ICS", by="setup")
        orgs.add_pcn(s, "U90001", "Test PCN", ics_code="QZZ", list_size=10_000, by="setup")
    return url


def old_backups(folder: Path, hours: list[int]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for h in hours:
        p = folder / backup_files.backup_name(datetime.now(UTC) - timedelta(hours=h))
        p.write_text("{}", encoding="utf-8")
        made.append(p)
    return made


def test_keep_n_deletes_only_the_oldest_backups_and_nothing_else(url, tmp_path):
    folder = tmp_path / "backups"
    older = old_backups(folder, [96, 72, 48, 24])
    others = [folder / "notes.txt", folder / "pcn-backup-latest.json", folder / "pcn-backup-20240101.json"]
    for p in others:
        p.write_text("keep me", encoding="utf-8")
    r = cli("backup", "--dir", folder, "--keep", 3, url=url, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    kept = sorted(p.name for p in folder.iterdir() if NAME.fullmatch(p.name))
    [new] = [n for n in kept if n not in {p.name for p in older}]
    assert kept == sorted([older[2].name, older[3].name, new])  # the newest three, the new one among them
    assert f"Wrote {folder / new}" in r.stdout
    assert f"Removed 2 older backup(s), keeping the newest 3: {older[0].name}, {older[1].name}" in r.stdout
    assert all(p.read_text(encoding="utf-8") == "keep me" for p in others)
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary file left behind
    stamp = datetime.strptime(new[len("pcn-backup-"):-len(".json")], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 120  # the name is the UTC time


def test_the_folder_defaults_to_pcn_backup_dir_and_the_backup_restores_to_the_same_data(url, tmp_path):
    folder = tmp_path / "from-env" / "nested"  # made when missing
    r = cli("backup", "--keep", 2, url=url, cwd=tmp_path, backup_dir=folder)
    assert r.returncode == 0, r.stderr
    [backup] = list(folder.iterdir())
    assert NAME.fullmatch(backup.name)
    data = json.loads(backup.read_text(encoding="utf-8"))
    assert [r[0] for r in data["tables"]["pcn"]["rows"]] == ["U90001"]
    restored = f"sqlite:///{tmp_path / 'restored.db'}"
    assert cli("restore", backup, url=restored, cwd=tmp_path).returncode == 0
    assert cli("backup", "-o", tmp_path / "again.json", url=restored, cwd=tmp_path).returncode == 0
    assert (tmp_path / "again.json").read_bytes() == backup.read_bytes()


def test_a_folder_that_cannot_be_written_is_a_clear_error(url, tmp_path):
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("", encoding="utf-8")
    for target in (not_a_folder, not_a_folder / "below"):
        r = cli("backup", "--dir", target, url=url, cwd=tmp_path)
        assert r.returncode == 1
        assert f"cannot write backups to {target}: " in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert "write access to that folder" in r.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to a read-only folder anyway")
def test_a_read_only_folder_is_a_clear_error(url, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    r = cli("backup", "--dir", folder, url=url, cwd=tmp_path)
    assert r.returncode == 1 and f"cannot write backups to {folder}: Permission denied" in r.stderr


def test_the_arguments_are_checked(url, tmp_path):
    r = cli("backup", url=url, cwd=tmp_path)
    assert r.returncode == 1 and "say where the backup goes: -o FILE, or --dir DIR (or set PCN_BACKUP_DIR)" in r.stderr
    r = cli("backup", "-o", tmp_path / "x.json", "--dir", tmp_path, url=url, cwd=tmp_path)
    assert r.returncode == 1 and "not both" in r.stderr and not (tmp_path / "x.json").exists()
    r = cli("backup", "--dir", tmp_path / "b", "--keep", 0, url=url, cwd=tmp_path)
    assert r.returncode == 1 and "--keep must be 1 or more" in r.stderr and not (tmp_path / "b").exists()


def test_a_backup_that_fails_midway_leaves_no_file_under_a_backup_name(tmp_path):
    """The database goes away after the temporary file is made: nothing is renamed into place."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    folder = tmp_path / "backups"
    store = Store(f"postgresql+psycopg://pcn@127.0.0.1:{port}/pcn", upgrade=False)
    try:
        with pytest.raises(Exception) as caught:
            backup_files.write_to_dir(store, folder, keep=2)
        assert not isinstance(caught.value, InputError)  # the folder was fine; the database was not
    finally:
        store.close()
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_two_backups_keep_one(url, tmp_path):
    folder = tmp_path / "b"
    old_backups(folder, [5])
    with Store(url) as s:
        w = backup_files.write_to_dir(s, folder, keep=1)
    assert [p.name for p in folder.iterdir()] == [w.path.name] and len(w.removed) == 1

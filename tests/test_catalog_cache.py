"""Cached page reads notice a changed matrix catalog (issue 14, part 2).

A matrix file added through another app process, or dropped into the matrix folder, writes
nothing to the database, so the data version that keys every cached read stays put. The
catalog's generation (Store.catalog_generation) keys them too. Each page test below has two
Store objects on one SQLite database, each with its own catalog read from one matrix folder: the
app's (opened by the page) and the other side's, as two `streamlit run` processes would."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import assessments.store as store_module
from assessments import matrix_files, ratings
from assessments import organisations as orgs
from assessments.store import Store
from app_fixtures import open_page

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "fixtures" / "small_matrix.yaml"
NOT_LOADED = "Left out: U90001 2024/25: the assessment uses matrix example-matrix 1.0, which is not loaded."


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """The matrix folder both sides read (PCN_MATRIX_DIR), empty to start with."""
    path = tmp_path / "matrices"
    path.mkdir()
    monkeypatch.setenv("PCN_MATRIX_DIR", str(path))
    return path


def test_the_generation_names_the_files_loaded(folder, monkeypatch, small_matrix):
    monkeypatch.setattr(store_module, "CATALOG_CHECK_SECONDS", 0)  # look at the folder on every call
    with Store(f"sqlite:///{folder.parent / 'a.db'}") as a, Store(f"sqlite:///{folder.parent / 'b.db'}") as b:
        empty = a.catalog_generation()
        assert a.catalog_generation() == empty  # nothing changed, nothing moved
        shutil.copy(SMALL, folder / "small.yaml")
        added = a.catalog_generation()
        assert added != empty and ("example-matrix", "1.0") in a.matrices()
        assert b.catalog_generation() == added  # the same files: the same name, in any Store
        stat = (folder / "small.yaml").stat()
        os.utime(folder / "small.yaml", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
        assert a.catalog_generation() not in (empty, added)  # edited in place
        (folder / "small.yaml").unlink()
        assert a.catalog_generation() == empty
        a.use_matrix(small_matrix)  # a matrix given by a caller is part of the catalog too
        assert a.catalog_generation() != empty


def test_between_checks_the_generation_stays_until_the_catalog_is_read_again(folder, monkeypatch):
    monkeypatch.setattr(store_module, "CATALOG_CHECK_SECONDS", 3600)
    with Store(f"sqlite:///{folder.parent / 'a.db'}") as a:
        before = a.catalog_generation()
        shutil.copy(SMALL, folder / "small.yaml")
        assert a.catalog_generation() == before  # the folder is not looked at on every call
        a.refresh_catalog()
        assert a.catalog_generation() != before


@pytest.fixture
def two_sides(app_db, folder, small_matrix):
    """The other side's Store, with an assessment against a matrix the folder does not hold yet
    (it was given to that Store, as a process whose catalog had it would have)."""
    other = Store(app_db)
    orgs.add_ics(other, "QZZ", "Test ICS", by="setup")
    orgs.add_pcn(other, "U90001", "Test PCN", ics_code="QZZ", list_size=10_000, by="setup")
    a = ratings.create_assessment(other, "U90001", "2024/25", small_matrix, by="setup")
    ratings.save_rating(other, a.id, "governance", by="setup", expected_version=0, current_stage="developing")
    yield other
    other.close()


def portfolio():
    return open_page("views/portfolio.py", query={"ics": "QZZ", "year": "2024/25"})


def shows_the_assessment(at) -> bool:
    metrics = {m.label: m.value for m in at.metric}
    return NOT_LOADED not in [w.value for w in at.warning] and metrics["Drafts"] == "1"


def test_a_matrix_file_dropped_into_the_folder_shows_without_any_database_write(two_sides, folder, monkeypatch):
    monkeypatch.setattr(store_module, "CATALOG_CHECK_SECONDS", 0)  # the app looks at the folder on every run
    at = portfolio()
    assert NOT_LOADED in [w.value for w in at.warning]
    version = two_sides.data_version()
    shutil.copy(SMALL, folder / "small.yaml")  # by the other side: no database write
    assert ("example-matrix", "1.0") in two_sides.refresh_catalog().matrices
    assert two_sides.data_version() == version
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert shows_the_assessment(at), [w.value for w in at.warning]


def test_a_matrix_added_on_the_matrices_page_of_another_process_shows_once_the_catalog_is_read(
        two_sides, folder, monkeypatch):
    """The other process's add writes a change-log row, so the data version moves at once; this
    process may not look at the folder for another moment (CATALOG_CHECK_SECONDS), and a read
    cached in that moment is stale. The next look at the folder must replace it."""
    monkeypatch.setattr(store_module, "CATALOG_CHECK_SECONDS", 3600)
    at = portfolio()
    assert NOT_LOADED in [w.value for w in at.warning]
    matrix_files.add_matrix_file(two_sides, "small.yaml", SMALL.read_bytes(), by="Ann Admin")
    at.run()  # a new data version, but the app's catalog is not read again yet
    assert NOT_LOADED in [w.value for w in at.warning]
    monkeypatch.setattr(store_module, "CATALOG_CHECK_SECONDS", 0)  # the moment has passed
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert shows_the_assessment(at), [w.value for w in at.warning]

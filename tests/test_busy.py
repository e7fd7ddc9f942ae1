"""A write that meets another transaction's lock waits a bounded time, then gets the core's
BusyError (never "database is locked" or a lock-timeout traceback); nothing is written, reads are
not held up, and the same save works once the lock is gone. On the page, what the user typed stays."""
from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager

import pytest
from app_fixtures import open_page

from assessments import organisations as orgs
from assessments import ratings as assessing
from assessments.records import engine
from assessments.store import Store
from assessments.values import BusyError

WAIT = 1  # seconds a writer waits here before it is told the database is busy (20 in the app)


@contextmanager
def held_lock(url: str, assessment_id: int):
    """Another process in the middle of a long write: SQLite's write lock (BEGIN IMMEDIATE), or on
    PostgreSQL the assessment row locked FOR UPDATE (as an import locks what it changes)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
    else:
        import psycopg

        conn = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"))
        conn.execute("SELECT id FROM assessment WHERE id = %s FOR UPDATE", (assessment_id,))
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


@pytest.fixture
def quick_store(db_url, small_matrix, monkeypatch):
    monkeypatch.setattr(engine, "BUSY_TIMEOUT", WAIT)
    s = Store(db_url, matrices=[small_matrix])
    yield s
    s.close()


def test_a_save_meeting_a_held_lock_is_a_clear_busy_error_and_writes_nothing(quick_store, db_url, small_matrix):
    store = quick_store
    orgs.add_ics(store, "QZZ", "Test ICS", by="setup")
    orgs.add_pcn(store, "U90000", "PCN 0", ics_code="QZZ", list_size=30_000, by="setup")
    a = assessing.create_assessment(store, "U90000", "2024/25", small_matrix, by="setup")
    assessing.save_rating(store, a.id, "vision", by="setup", expected_version=0, current_stage="starting")
    audit_rows = store.counts()["audit_log"]

    with held_lock(db_url, a.id):
        t = time.perf_counter()
        with pytest.raises(BusyError) as caught:
            assessing.save_rating(store, a.id, "vision", by="Sam", expected_version=1, evidence="Board minutes")
        waited = time.perf_counter() - t
        # Readers are not held up by the writer (WAL on SQLite; MVCC on PostgreSQL).
        t = time.perf_counter()
        assert assessing.rating(store, a.id, "vision").evidence is None
        assert time.perf_counter() - t < WAIT

    message = str(caught.value)
    assert message == ("The database is busy with another change (an import may be running). Nothing was lost: "
                       "try again in a moment.")
    assert "locked" not in message.lower() and "operationalerror" not in message.lower()
    assert WAIT * 0.8 <= waited < WAIT + 15  # waited for the other writer, but not for ever
    assert store.counts()["audit_log"] == audit_rows  # nothing of the refused save was written
    saved = assessing.save_rating(store, a.id, "vision", by="Sam", expected_version=1, evidence="Board minutes")
    assert (saved.evidence, saved.version) == ("Board minutes", 2)


def test_busy_errors_are_recognised_from_the_drivers_own_errors(tmp_path):
    path = tmp_path / "x.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError) as caught:
        other.execute("BEGIN IMMEDIATE")
    holder.rollback()
    assert engine.is_busy(caught.value)
    with pytest.raises(sqlite3.OperationalError) as caught:
        other.execute("SELECT * FROM no_such_table")
    assert not engine.is_busy(caught.value)  # other failures stay what they are


# ---------------------------------------------------------------------------------------------
# The assessment page

def test_a_rating_typed_while_the_database_is_busy_is_kept_and_saved_again(demo_db, app_db, monkeypatch):
    monkeypatch.setattr(engine, "BUSY_TIMEOUT", WAIT)
    a = next(x for x in assessing.assessments(demo_db) if x.status == "draft" and x.submitted_at is None)
    matrix = demo_db.matrix(a.matrix_id, a.matrix_version)
    element = matrix.domains[0].elements[0].id
    before = assessing.rating(demo_db, a.id, element)
    at = open_page("views/assess.py", actor="Dr Test", query={"ics": orgs.pcn(demo_db, a.pcn_code).ics_code,
                                                               "pcn": a.pcn_code}, state={"assess_year": a.year})
    box = f"a{a.id}|{element}|evidence"
    typed = "Signed network agreement, minutes of 3 March"

    with held_lock(app_db, a.id):
        at.text_area(key=box).set_value(typed).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = " ".join(e.value for e in at.error)
    assert "The database is busy with another change" in errors and "Nothing was lost" in errors
    assert "locked" not in errors.lower()
    assert at.text_area(key=box).value == typed  # what was typed is still in the box
    assert assessing.rating(demo_db, a.id, element) == before  # and nothing was written

    at.button(key=f"retry|{a.id}|{element}").click().run()
    assert not at.exception
    saved = assessing.rating(demo_db, a.id, element)
    assert (saved.evidence, saved.updated_by) == (typed, "Dr Test")
    assert "busy" not in " ".join(e.value for e in at.error)
    assert not [b for b in at.button if b.key == f"retry|{a.id}|{element}"]

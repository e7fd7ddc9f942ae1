"""What one app process shows stays right when another process writes (issue 14, part 2).

Each Store below has its own engine and connections, as a separate `streamlit run` process
would; the page test at the end runs the writer as a real second process. On SQLite and on a
real PostgreSQL server."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event, text

from assessments import exchange, ratings
from assessments import organisations as orgs
from assessments import workshop as ws
from assessments.values import ConflictError
from assessments.workshop import NotOpenError

ROOT = Path(__file__).resolve().parents[1]
YEAR = "2024/25"


def seed(store, ics="QZZ", pcn="U90001"):
    orgs.add_ics(store, ics, "Test ICS", by="setup")
    orgs.add_pcn(store, pcn, f"PCN {pcn}", ics_code=ics, list_size=10_000, by="setup")


def test_the_data_version_moves_with_another_processs_write(open_store):
    """components.cache keys every page read on it: a write anywhere must move it everywhere."""
    here, there = open_store(), open_store()
    before = here.data_version()
    seed(there)
    after = here.data_version()
    assert after != before
    orgs.update_pcn(there, "U90001", expected_version=orgs.pcn(there, "U90001").version, list_size=12_000, by="x")
    assert here.data_version() not in (before, after)


def test_the_data_version_moves_when_an_earlier_transaction_commits_last(open_store):
    """PostgreSQL hands out ids at insert, not at commit: a transaction holding a lower audit id
    may commit after one holding a higher id. The version must still move when it does."""
    slow, quick, reader = open_store(), open_store(), open_store()
    if slow.dialect == "sqlite":
        pytest.skip("SQLite admits one writer at a time, so transactions commit in the order they write")
    seed(slow)
    with slow.batch(by="slow") as uow:
        orgs.add_ics(uow, "QAA", "Slow ICS")
        uow.session.flush()  # its audit rows have their ids now
        orgs.add_ics(quick, "QAB", "Quick ICS", by="quick")  # higher ids, committed first
        seen = reader.data_version()
    assert reader.data_version() != seen
    assert {i.code for i in orgs.list_ics(reader)} >= {"QAA", "QAB"}


def test_a_workshop_seen_from_one_process_shows_ratings_made_through_another(open_store, small_matrix):
    projector, phones = open_store(), open_store()
    seed(projector)
    w = ws.open_workshop(projector, "U90001", YEAR, small_matrix, by="Fran")
    seen = ws.workshop_version(projector, w.id)
    _, p = ws.join(phones, w.code, "Sam", "GP")
    ws.rate(phones, p.token, "governance", "developing")
    assert ws.workshop_version(projector, w.id) > seen  # the live view's cache key moved
    s = ws.summary(projector, w.id)
    assert s.element("governance").n == 1
    # A pause on the projector's process stops a rating sent through the phones' process.
    ws.pause(projector, w.id, by="Fran")
    with pytest.raises(NotOpenError):
        ws.rate(phones, p.token, "vision", "starting")
    assert ws.summary(phones, w.id).element("vision").n == 0


def test_two_people_on_two_processes_saving_at_once_get_one_conflict(open_store, small_matrix):
    """The second save waits for the first's transaction, then finds the version moved on."""
    ann, bob = open_store(), open_store()
    seed(ann)
    a = ratings.create_assessment(ann, "U90001", YEAR, small_matrix, by="setup")
    ratings.save_rating(ann, a.id, "governance", by="setup", expected_version=0, current_stage="starting")
    outcome: list = []

    def bob_saves():
        try:
            ratings.save_rating(bob, a.id, "governance", by="Bob", expected_version=1, note="Bob's")
            outcome.append("saved")
        except ConflictError as exc:
            outcome.append(exc)

    with ann.batch(by="Ann") as uow:
        ratings.save_rating(uow, a.id, "governance", expected_version=1, note="Ann's")
        uow.session.flush()  # Ann's UPDATE holds the row (PostgreSQL) or the write lock (SQLite)
        t = threading.Thread(target=bob_saves)
        t.start()
        if ann.dialect == "postgresql":  # wait until Bob's save is blocked on Ann's row
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not uow.session.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()")).scalar():
                time.sleep(0.02)
    t.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], ConflictError), outcome
    saved = ratings.rating(bob, a.id, "governance")
    assert (saved.note, saved.version) == ("Ann's", 2)


def test_a_backup_is_one_snapshot_while_another_process_writes(open_store, small_matrix, db_url):
    """A scheduled backup runs while the app processes write. Every table must come from one
    snapshot: under PostgreSQL's default (read committed) each SELECT would see the commits made
    between them, and a PCN could land in the backup without its ICS."""
    source, writer = open_store(), open_store()
    seed(source)
    done = []

    @event.listens_for(source.db.engine, "before_cursor_execute")
    def _write_meanwhile(conn, cursor, statement, params, context, executemany):
        if not done and statement.lstrip().upper().startswith("SELECT") and '"pcn"' in statement.replace(
                "pcn.", '"pcn".') and "FROM" in statement.upper():
            done.append(True)  # the ICS table has been read; add an ICS and its PCN in one transaction
            with writer.batch(by="meanwhile") as uow:
                orgs.add_ics(uow, "QNW", "New ICS")
                orgs.add_pcn(uow, "U90999", "New PCN", ics_code="QNW", list_size=5_000)

    data = exchange.backup(source)
    event.remove(source.db.engine, "before_cursor_execute", _write_meanwhile)
    assert done, "the write between the tables' reads never ran"
    ics_col = data["tables"]["pcn"]["columns"].index("ics_code")
    ics_codes = {r[0] for r in data["tables"]["ics"]["rows"]}
    assert {r[ics_col] for r in data["tables"]["pcn"]["rows"]} <= ics_codes
    assert "QNW" not in ics_codes  # the backup is the state when it started


# ---------------------------------------------------------------------------------------------
# A page's cached reads, with the write made by another operating-system process

WRITER = """
import sys
from assessments import ratings
from assessments.store import Store
with Store(sys.argv[1]) as s:
    r = ratings.rating(s, int(sys.argv[2]), sys.argv[3])
    ratings.save_rating(s, int(sys.argv[2]), sys.argv[3], by="Other process", expected_version=r.version if r else 0,
                        evidence=sys.argv[4])
"""


def _postgres_app_db(request, monkeypatch):
    server = request.getfixturevalue("postgres_server")
    name = server.create_database()
    request.addfinalizer(lambda: server.drop_database(name))
    url = server.url(name)
    monkeypatch.setenv("PCN_DATABASE_URL", url)
    return url


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_page_shows_a_write_made_by_another_process(backend, request, tmp_path, monkeypatch):
    from app_fixtures import open_page

    from assessments.demo import DEMO_ICS, load_demo
    from assessments.store import Store
    from components.rating import domain_tabs_key
    from components.look import plain

    url = f"sqlite:///{tmp_path / 'app.db'}" if backend == "sqlite" else _postgres_app_db(request, monkeypatch)
    monkeypatch.setenv("PCN_DATABASE_URL", url)
    with Store(url) as s:
        load_demo(s)
        a = next(x for x in ratings.assessments(s, ics_code=DEMO_ICS[0]) if x.status == "draft")
        matrix = s.matrix(a.matrix_id, a.matrix_version)
    domain = matrix.domains[0]
    element = domain.elements[0].id
    at = open_page("views/assess.py", query={"ics": DEMO_ICS[0], "pcn": a.pcn_code},
                   state={"assess_year": a.year, domain_tabs_key(matrix): plain(domain.title)})
    key = f"a{a.id}|{element}|evidence"
    assert at.text_area(key=key).value != "Written elsewhere"
    r = subprocess.run([sys.executable, "-c", WRITER, url, str(a.id), element, "Written elsewhere"], cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_area(key=key).value == "Written elsewhere"


RATER = """
import sys
from assessments import workshop as ws
from assessments.store import Store
with Store(sys.argv[1]) as s:
    _, p = ws.join(s, sys.argv[2], "Sam Rater", "GP")
    ws.rate(s, p.token, sys.argv[3], sys.argv[4])
"""


def test_the_projector_shows_a_rating_made_through_another_process(demo_db):
    """The live view is keyed on the workshop's version in the database, not on anything the
    projector's process saw happen."""
    from app_fixtures import open_page

    w = ws.open_workshop(demo_db, "U99003", "2025/26", by="Fran")
    at = open_page("views/workshop.py", query={"ics": "QZZ", "pcn": "U99003", "w": str(w.id)})
    captions = lambda: " ".join(c.value for c in at.caption)  # noqa: E731
    assert "1 rating" not in captions()
    element = demo_db.matrix(w.matrix_id, w.matrix_version).domains[0].elements[0].id
    r = subprocess.run([sys.executable, "-c", RATER, str(demo_db.url.render_as_string(hide_password=False)), w.code,
                        element, "step-2"], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "1 rating" in captions()

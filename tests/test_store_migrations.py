"""Schema migrations: a database made with the first schema keeps every row when upgraded."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import inspect, text

from assessments.model import AGREED

from assessments.records import head_revision, make_engine, migrate

from assessments.store import Store

from assessments.values import LockedError
from assessments import ratings as assessing
from assessments import organisations as orgs

FIRST = "0001_initial"


def test_upgrade_from_the_first_schema_keeps_every_row(db_url, small_matrix):
    engine = make_engine(db_url)
    migrate(engine, FIRST)
    with engine.connect() as conn:
        assert "audit_log" not in inspect(conn).get_table_names()
        assert "confidence" not in {c["name"] for c in inspect(conn).get_columns("rating")}
    when = datetime(2023, 3, 1, 12, 30, 15)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO ics (code, name) VALUES ('QZZ', 'Old ICS')"))
        for i in range(1, 4):
            conn.execute(text("INSERT INTO pcn (code, name, ics_code, list_size, rural, practices) "
                              "VALUES (:c, :n, 'QZZ', :s, :r, :p)"),
                         {"c": f"U9000{i}", "n": f"Old PCN {i}", "s": 10_000 * i, "r": i == 2, "p": '["A", "B"]'})
        for i, (pcn, year, status) in enumerate([("U90001", "2022/23", "agreed"), ("U90001", "2023/24", "draft"),
                                                 ("U90002", "2023/24", "draft")], start=1):
            conn.execute(text("INSERT INTO assessment (pcn_code, year, matrix_id, matrix_version, status, created_by, "
                              "created_at, updated_by, updated_at) VALUES (:p, :y, 'example-matrix', '1.0', :s, "
                              "'old', :t, 'old', :t)"), {"p": pcn, "y": year, "s": status, "t": when})
            assert conn.execute(text("SELECT MAX(id) FROM assessment")).scalar() == i
            for element, stage in (("governance", "starting"), ("vision", "developing")):
                conn.execute(text("INSERT INTO rating (assessment_id, element_id, current_stage, target_stage, evidence, "
                                  "note, updated_by, updated_at) VALUES (:a, :e, :s, 'embedded', 'ev', NULL, 'old', :t)"),
                             {"a": i, "e": element, "s": stage, "t": when})
    engine.dispose()

    store = Store(db_url, matrices=[small_matrix])  # opening upgrades to the latest schema
    try:
        assert store.schema_revision() == head_revision() != FIRST
        assert [(p.code, p.name, p.list_size, p.rural, p.practices, p.version) for p in orgs.pcns(store)] == [
            ("U90001", "Old PCN 1", 10_000, False, ("A", "B"), 1), ("U90002", "Old PCN 2", 20_000, True, ("A", "B"), 1),
            ("U90003", "Old PCN 3", 30_000, False, ("A", "B"), 1)]
        assert orgs.ics(store, "QZZ").region is None
        assessments = assessing.assessments(store)
        assert [(a.id, a.pcn_code, a.year, a.status, a.version, a.revision_of) for a in assessments] == [
            (1, "U90001", "2022/23", "agreed", 1, None), (2, "U90001", "2023/24", "draft", 1, None),
            (3, "U90002", "2023/24", "draft", 1, None)]
        assert assessments[0].created_at.replace(tzinfo=None) == when
        for a in assessments:
            ratings = assessing.ratings(store, a.id)
            assert [(r.element_id, r.current_stage, r.target_stage, r.evidence, r.confidence, r.version)
                    for r in ratings.values()] == [("governance", "starting", "embedded", "ev", None, 1),
                                                   ("vision", "developing", "embedded", "ev", None, 1)]
        # The upgraded rows work with everything added since: versions, confidence, locking, audit, new ids.
        r = assessing.save_rating(store, 2, "vision", by="new", expected_version=1, confidence="medium")
        assert (r.version, r.confidence, r.evidence) == (2, "medium", "ev")
        with pytest.raises(LockedError):
            assessing.save_rating(store, 1, "vision", by="new", expected_version=1, current_stage="embedded")
        assert assessing.assessment(store, 1).status == AGREED
        new = assessing.create_assessment(store, "U90003", "2023/24", small_matrix, by="new")
        assert new.id == 4
        assert [e.field for e in store.audit(entity="rating")] == ["confidence"]
    finally:
        store.close()


def test_opening_a_current_database_again_changes_nothing(db_url, small_matrix):
    with Store(db_url, matrices=[small_matrix]) as s:
        orgs.add_ics(s, "QZZ", "ICS", by="a")
    with Store(db_url, matrices=[small_matrix]) as s:
        assert s.schema_revision() == head_revision() and [i.code for i in orgs.list_ics(s)] == ["QZZ"]


def _old_workshop(db_url: str, revision: str, code: str, version: int) -> None:
    """A database at `revision` holding one workshop with a participant, a rating and an agreed stage."""
    engine = make_engine(db_url)
    migrate(engine, revision)
    when = datetime(2024, 5, 1, 9, 0, 0)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO ics (code, name) VALUES ('QZZ', 'Old ICS')"))
        conn.execute(text("INSERT INTO pcn (code, name, ics_code, list_size, rural, practices) "
                          "VALUES ('U90001', 'Old PCN', 'QZZ', 10000, false, '[]')"))
        conn.execute(text("INSERT INTO workshop (code, pcn_code, year, matrix_id, matrix_version, status, revealed, "
                          "created_by, created_at, updated_by, updated_at, version) VALUES (:c, 'U90001', "
                          "'2024/25', 'example-matrix', '1.0', 'open', false, 'fac', :t, 'fac', :t, :v)"),
                     {"c": code, "t": when, "v": version})
        conn.execute(text("INSERT INTO workshop_participant (workshop_id, name, name_key, role, token_hash, joined_at) "
                          "VALUES (1, 'Ann', 'ann', 'GP', :h, :t)"), {"h": "0" * 64, "t": when})
        conn.execute(text("INSERT INTO workshop_rating (workshop_id, participant_id, element_id, stage, comment, "
                          "updated_at) VALUES (1, 1, 'vision', 'developing', 'so far', :t)"), {"t": when})
        conn.execute(text("INSERT INTO workshop_consensus (workshop_id, element_id, stage, note, updated_by, "
                          "updated_at) VALUES (1, 'vision', 'developing', 'agreed', 'fac', :t)"), {"t": when})
    engine.dispose()


def test_workshops_made_before_target_stages_upgrade_without_loss(db_url, small_matrix):
    from assessments import workshop as ws

    _old_workshop(db_url, "0006_access", "ABCDEFGH", 3)

    with Store(db_url, matrices=[small_matrix]) as store:
        assert store.schema_revision() == head_revision()
        w = ws.get_workshop(store, 1)
        assert (w.code, w.status, w.version, w.rate_target) == ("ABCDEFGH", "open", 3, False)
        e = ws.summary(store, 1).element("vision")
        assert [(r.participant, r.stage, r.comment, r.target_stage) for r in e.ratings] == [
            ("Ann", "developing", "so far", None)]
        assert (e.agreed.stage, e.agreed.note, e.agreed.target_stage) == ("developing", "agreed", None)
        # The new columns work on the upgraded tables.
        new = ws.open_workshop(store, "U90001", "2024/25", small_matrix, by="fac", rate_target=True)
        _, p = ws.join(store, new.code, "Ben", "GP")
        assert ws.rate(store, p.token, "vision", "starting", target="embedded").target_stage == "embedded"
        assert ws.my_ratings(store, p.token)["vision"].target_stage == "embedded"


def test_a_workshop_from_before_longer_codes_keeps_its_participants_and_ratings(db_url, small_matrix):
    # 0006 widens workshop.code, which SQLite does by rebuilding the table: its children must survive.
    from assessments import workshop as ws

    _old_workshop(db_url, "0005_workshops", "ABCDEF", 1)

    with Store(db_url, matrices=[small_matrix]) as store:
        assert store.schema_revision() == head_revision()
        assert [p.name for p in ws.participants(store, 1)] == ["Ann"]
        e = ws.summary(store, 1).element("vision")
        assert [(r.participant, r.stage, r.comment) for r in e.ratings] == [("Ann", "developing", "so far")]
        assert (e.agreed.stage, e.agreed.note) == ("developing", "agreed")

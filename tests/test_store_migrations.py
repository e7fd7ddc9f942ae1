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


def _long_id_matrix(small_matrix):
    """The small matrix with every id as long as the schema allows (200 characters), capitals,
    dots and underscores included."""
    import yaml

    from matrix import load_text

    from tests.store_fixtures import FIXTURES

    text = (FIXTURES / "small_matrix.yaml").read_text(encoding="utf-8")
    long = {old: (f"{old.upper()}_v1.0-" + "x" * 200)[:200] for old in
            ["example-matrix", "starting", "developing", "embedded", "governance", "vision", "data-sharing"]}
    data = yaml.safe_load(text)
    data["id"] = long["example-matrix"]
    for s in data["stages"]:
        s["id"] = long[s["id"]]
    for d in data["domains"]:
        for e in d["elements"]:
            e["id"] = long[e["id"]]
            e["descriptors"] = {long[k]: v for k, v in e["descriptors"].items()}
    return load_text(yaml.safe_dump(data, sort_keys=False), "long.yaml"), long


def test_a_database_at_0007_upgrades_to_0008_without_loss_and_holds_200_character_ids(db_url, small_matrix, tmp_path):
    from assessments import exchange
    from assessments import workshop as ws

    _old_workshop(db_url, "0007_workshop_targets", "ABCDEFGH", 2)
    when = datetime(2024, 6, 1, 10, 0, 0)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO assessment (pcn_code, year, matrix_id, matrix_version, status, created_by, "
                          "created_at, updated_by, updated_at) VALUES ('U90001', '2024/25', 'example-matrix', '1.0', "
                          "'draft', 'old', :t, 'old', :t)"), {"t": when})
        for element, stage, target in (("governance", "starting", "embedded"), ("vision", "developing", None)):
            conn.execute(text("INSERT INTO rating (assessment_id, element_id, current_stage, target_stage, evidence, "
                              "note, confidence, updated_by, updated_at) VALUES (1, :e, :s, :g, 'ev', 'n', 'high', "
                              "'old', :t)"), {"e": element, "s": stage, "g": target, "t": when})
        conn.execute(text("INSERT INTO plan (pcn_code, year, service_spec, created_by, created_at, updated_by, "
                          "updated_at) VALUES ('U90001', '2024/25', 'medication-review', 'old', :t, 'old', :t)"),
                     {"t": when})
        conn.execute(text("INSERT INTO plan_priority (plan_id, element_id, position, reason) "
                          "VALUES (1, 'vision', 1, 'why')"))
        conn.execute(text("INSERT INTO pathway_step (pcn_code, year, pathway_id, step_number, status, ticks, "
                          "created_by, created_at, updated_by, updated_at) VALUES ('U90001', '2024/25', "
                          "'pcn-development-support', 1, 'done', '[\"a\"]', 'old', :t, 'old', :t)"), {"t": when})
        conn.execute(text("INSERT INTO audit_log (at, who, entity, entity_key, field, before, after) "
                          "VALUES (:t, 'old', 'rating', '1/vision', 'current_stage', NULL, 'developing')"), {"t": when})
    engine.dispose()

    long_matrix, long = _long_id_matrix(small_matrix)
    with Store(db_url, matrices=[small_matrix, long_matrix]) as store:
        assert store.schema_revision() == head_revision()
        # Every row is still there, as it was; ratings made before were all rated (not "not applicable").
        assert [(r.element_id, r.current_stage, r.target_stage, r.evidence, r.note, r.confidence, r.version,
                 r.not_applicable) for r in assessing.ratings(store, 1).values()] == [
            ("governance", "starting", "embedded", "ev", "n", "high", 1, False),
            ("vision", "developing", None, "ev", "n", "high", 1, False)]
        e = ws.summary(store, 1).element("vision")
        assert [(r.participant, r.stage, r.comment) for r in e.ratings] == [("Ann", "developing", "so far")]
        assert (e.agreed.stage, e.agreed.note) == ("developing", "agreed")
        with store.db.engine.connect() as conn:
            assert conn.execute(text("SELECT service_spec FROM plan")).all() == [("medication-review",)]
            assert conn.execute(text("SELECT element_id, position, reason FROM plan_priority")).all() == [
                ("vision", 1, "why")]
            assert conn.execute(text("SELECT pathway_id, step_number, status FROM pathway_step")).all() == [
                ("pcn-development-support", 1, "done")]
            assert conn.execute(text("SELECT entity_key, after FROM audit_log WHERE who = 'old'")).all() == [
                ("1/vision", "developing")]
            assert conn.execute(text("SELECT code, default_matrix_id FROM ics")).all() == [("QZZ", None)]
            # The database's own schema says 200 (on SQLite too), so restore's checks read the real room.
            sizes = {(t, c["name"]): c["type"].length for t in ("assessment", "rating", "plan", "plan_priority",
                                                                 "plan_action", "pathway_step", "workshop",
                                                                 "workshop_rating", "workshop_consensus", "audit_log")
                     for c in inspect(conn).get_columns(t) if getattr(c["type"], "length", None)}
        for column in [("assessment", "matrix_id"), ("rating", "element_id"), ("rating", "current_stage"),
                       ("rating", "target_stage"), ("plan", "service_spec"), ("plan_priority", "element_id"),
                       ("plan_action", "funding_category"), ("pathway_step", "pathway_id"),
                       ("workshop", "matrix_id"), ("workshop_rating", "element_id"), ("workshop_rating", "stage"),
                       ("workshop_rating", "target_stage"), ("workshop_consensus", "element_id"),
                       ("workshop_consensus", "stage"), ("workshop_consensus", "target_stage")]:
            assert sizes[column] == 200, column
        assert sizes[("audit_log", "entity_key")] == 300 and sizes[("assessment", "matrix_version")] == 40

        # 200-character ids are stored whole, audited, and go through a backup and a restore.
        new = assessing.create_assessment(store, "U90001", "2024/25", long_matrix, by="new")
        assert len(new.matrix_id) == 200
        saved = assessing.save_rating(store, new.id, long["vision"], by="new", expected_version=0,
                                      current_stage=long["developing"], target_stage=long["embedded"])
        assert (saved.element_id, saved.current_stage, saved.target_stage) == (
            long["vision"], long["developing"], long["embedded"])
        assert [x.entity_key for x in assessing.rating_history(store, new.id, long["vision"])][:1] == [
            f"{new.id}/{long['vision']}"]
        data = exchange.backup(store)
    with Store(f"sqlite:///{tmp_path / 'restored.db'}", matrices=[small_matrix, long_matrix]) as restored:
        exchange.restore(restored, data)
        assert exchange.backup(restored) == data
        assert assessing.rating(restored, new.id, long["vision"]).current_stage == long["developing"]


def test_a_database_at_0008_upgrades_to_0009_without_loss(db_url, small_matrix):
    """Evidence and two-party agreement (0009) add columns and tables only: every row stays, the
    agreements made before name who confirmed them and the submission they confirmed (from the
    audit log), and ratings "copy last year" wrote and nobody saved since are marked carried over."""
    _old_workshop(db_url, "0008_matrix_shapes", "ABCDEFGH", 2)
    t0, t1, t2 = datetime(2024, 6, 1, 10, 0, 0), datetime(2024, 6, 2, 11, 0, 0), datetime(2024, 6, 3, 12, 0, 0)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO pcn (code, name, ics_code, list_size, rural, practices) "
                          "VALUES ('U90002', 'Second PCN', 'QZZ', 9000, false, '[]')"))
        # 1: agreed after a submission (agreeing cleared it, as before 0009); 2: a draft copied from
        # last year; 3: agreed by an administrator with nothing in the audit log.
        for pcn, year, status, who in (("U90001", "2023/24", "agreed", "ics"), ("U90001", "2024/25", "draft", "cd"),
                                       ("U90002", "2023/24", "agreed", "admin")):
            conn.execute(text("INSERT INTO assessment (pcn_code, year, matrix_id, matrix_version, status, created_by, "
                              "created_at, updated_by, updated_at) VALUES (:p, :y, 'example-matrix', '1.0', :s, "
                              "'cd', :t0, :w, :t2)"), {"p": pcn, "y": year, "s": status, "w": who, "t0": t0, "t2": t2})
        rows = [(1, "governance", "developing", "Board minutes", None, 3), (1, "vision", "starting", None, None, 1),
                (2, "governance", "developing", None, "Carried over from 2023/24 (agreed, 'Governance'); review "
                 "the stage and add this year's evidence.", 1),
                (2, "vision", "developing", None, "Carried over from 2023/24 (agreed, 'Shared vision'); review "
                 "the stage and add this year's evidence.", 2),
                (3, "governance", "embedded", "Signed agreement", None, 1)]
        for aid, element, stage, evidence, note, version in rows:
            conn.execute(text("INSERT INTO rating (assessment_id, element_id, current_stage, evidence, note, "
                              "confidence, updated_by, updated_at, version, not_applicable) VALUES (:a, :e, :s, :ev, "
                              ":n, 'high', 'cd', :t, :v, false)"),
                         {"a": aid, "e": element, "s": stage, "ev": evidence, "n": note, "t": t0, "v": version})
        for at, who, field, before, after in ((t1, "cd", "submitted_at", None, t1.isoformat()),
                                              (t2, "ics", "status", "draft", "agreed"),
                                              (t2, "ics", "submitted_at", t1.isoformat(), None)):
            conn.execute(text("INSERT INTO audit_log (at, who, entity, entity_key, field, before, after) "
                              "VALUES (:t, :w, 'assessment', '1', :f, :b, :a)"),
                         {"t": at, "w": who, "f": field, "b": before, "a": after})
    engine.dispose()

    with Store(db_url, matrices=[small_matrix]) as store:
        assert store.schema_revision() == head_revision()
        a1, a2, a3 = (assessing.assessment(store, i) for i in (1, 2, 3))
        assert (a1.status, a1.version, a1.updated_by, a1.confirmed_by, a1.submitted_by) == ("agreed", 1, "ics", "ics",
                                                                                            "cd")
        assert (a1.confirmed_at.replace(tzinfo=None), a1.submitted_at.replace(tzinfo=None)) == (t2, t1)
        assert (a2.status, a2.confirmed_by, a2.submitted_by) == ("draft", None, None)
        assert (a3.confirmed_by, a3.confirmed_at.replace(tzinfo=None), a3.submitted_by) == ("admin", t2, None)
        assert a1.returned_by is a1.return_comment is None
        got = {(aid, r.element_id): (r.current_stage, r.evidence, r.version, r.carried_over)
               for aid in (1, 2, 3) for r in assessing.ratings(store, aid).values()}
        assert got == {(1, "governance"): ("developing", "Board minutes", 3, False),
                       (1, "vision"): ("starting", None, 1, False),
                       (2, "governance"): ("developing", None, 1, True),  # carried over, never saved since
                       (2, "vision"): ("developing", None, 2, False),  # saved since: reviewed
                       (3, "governance"): ("embedded", "Signed agreement", 1, False)}
        from assessments import workshop as ws

        assert [(r.participant, r.stage) for r in ws.summary(store, 1).element("vision").ratings] == [
            ("Ann", "developing")]
        with store.db.engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM evidence")).scalar() == 0
            assert conn.execute(text("SELECT COUNT(*) FROM evidence_file")).scalar() == 0
            assert conn.execute(text("SELECT COUNT(*) FROM audit_log")).scalar() == 3

        # What 0009 adds works on the upgraded rows: evidence with a file on the carried-over draft,
        # and confirming the element reviews its carried-over rating.
        from assessments import evidence as ev

        item = ev.add_evidence(store, 2, "governance", by="cd", description="Board minutes, May 2024",
                               file=ev.Upload("minutes.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"))
        assert (item.file.name, item.file.media_type, item.carried_over) == ("minutes.pdf", "application/pdf", False)
        ev.confirm_element(store, 2, "governance", by="cd")
        assert assessing.rating(store, 2, "governance").carried_over is False

    # And back: restore takes an empty database down to an older backup's schema.
    engine = make_engine(db_url)
    try:
        migrate_down(engine, "0008_matrix_shapes")
        with engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
            assert "evidence" not in names and "evidence_file" not in names
            assert "confirmed_by" not in {c["name"] for c in inspect(conn).get_columns("assessment")}
            assert conn.execute(text("SELECT COUNT(*) FROM rating")).scalar() == 5
    finally:
        engine.dispose()


def migrate_down(engine, revision: str) -> None:
    from alembic import command

    from assessments.records.engine import alembic_config

    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)


def test_the_0009_tables_match_their_migration(store):
    """The model and migration 0009 describe the same tables and columns."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from assessments.records.tables import Base

    with store.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    ours = [d for d in diff if any(n in repr(d) for n in ("'evidence", "confirmed_", "returned_", "return_comment",
                                                          "carried_over"))]
    assert ours == []


def test_a_database_at_0009_upgrades_to_0010_without_loss_and_links_and_shares_its_plans(db_url, small_matrix,
                                                                                        tmp_path):
    """0010 adds a column to plan_action and three tables: the plan, its priorities and actions
    (children of plan, which a batch rebuild would have taken with it) stay as they were, the old
    actions are linked to nothing, and the new parts work on the upgraded rows."""
    from assessments import exchange
    from assessments import plan as P

    engine = make_engine(db_url)
    migrate(engine, "0009_evidence_agreement")
    when = datetime(2024, 7, 1, 9, 30, 0)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO ics (code, name) VALUES ('QZZ', 'Old ICS')"))
        conn.execute(text("INSERT INTO pcn (code, name, ics_code, list_size, rural, practices) "
                          "VALUES ('U90001', 'Old PCN', 'QZZ', 10000, false, '[]')"))
        conn.execute(text("INSERT INTO plan (pcn_code, year, service_priority, shared, created_by, created_at, "
                          "updated_by, updated_at, version) VALUES ('U90001', '2024/25', 'Care homes', false, 'old', "
                          ":t, 'old', :t, 3)"), {"t": when})
        for position, element in ((1, "vision"), (2, "governance")):
            conn.execute(text("INSERT INTO plan_priority (plan_id, element_id, position, reason) "
                              "VALUES (1, :e, :p, 'why')"), {"e": element, "p": position})
        for position, what in ((1, "Away day"), (2, "Data-sharing agreement")):
            conn.execute(text("INSERT INTO plan_action (plan_id, position, what, owner, status, cost_pence, "
                              "updated_by, updated_at, version) VALUES (1, :p, :w, 'Ann', 'in progress', 125050, "
                              "'old', :t, 2)"), {"p": position, "w": what, "t": when})
        conn.execute(text("INSERT INTO audit_log (at, who, entity, entity_key, field, before, after) "
                          "VALUES (:t, 'old', 'plan_action', 'U90001/2024/25/1', 'what', NULL, 'Away day')"),
                     {"t": when})
    engine.dispose()

    with Store(db_url, matrices=[small_matrix]) as store:
        assert store.schema_revision() == head_revision()
        plan = P.get_plan(store, "U90001", "2024/25")
        assert (plan.service_priority, plan.version, plan.shared, plan.cd_development) == ("Care homes", 3, False, ())
        assert [(p.element_id, p.position, p.reason) for p in plan.priorities] == [
            ("vision", 1, "why"), ("governance", 2, "why")]
        assert [(a.what, a.owner, a.status, str(a.cost), a.version, a.links) for a in plan.actions] == [
            ("Away day", "Ann", "in progress", "1250.50", 2, ()),
            ("Data-sharing agreement", "Ann", "in progress", "1250.50", 2, ())]
        assert [g.kind for g in P.group_actions(plan, small_matrix)] == ["service", "priority", "priority", "unlinked"]

        # The upgraded actions take links (the version moves), the plan a shared version and a CD part.
        first, second = plan.actions
        linked = P.update_action(store, first.id, by="new", expected_version=2, matrix=small_matrix,
                                 links="priority 2; service-improvement priority")
        assert (linked.links, linked.version) == ((P.SERVICE_LINK, "governance"), 3)
        P.update_action(store, second.id, by="new", expected_version=2, matrix=small_matrix, links=["Data sharing"])
        plan = P.get_plan(store, "U90001", "2024/25")
        groups = {g.key: [n for n, _ in g.actions] for g in P.group_actions(plan, small_matrix)}
        assert groups == {P.SERVICE_LINK: [1], "vision": [], "governance": [1], "data-sharing": [2]}
        shared = P.share_version(store, "U90001", "2024/25", b"%PDF-1.7 as shared", by="new", expected_version=3)
        plan = P.save_cd_development(store, "U90001", "2024/25", {"managing-change": ("Coaching", "The ICB")},
                                     by="new", expected_version=P.get_plan(store, "U90001", "2024/25").version)
        assert [(c.area_id, c.title, c.wants, c.provider) for c in plan.cd_development] == [
            ("managing-change", "Managing change", "Coaching", "The ICB")]
        assert (shared.number, shared.plan_version, plan.shared) == (1, 3, True)
        with store.db.engine.connect() as conn:
            assert conn.execute(text("SELECT entity_key, after FROM audit_log WHERE who = 'old'")).all() == [
                ("U90001/2024/25/1", "Away day")]
        data = exchange.backup(store)

    # The shared PDF's bytes go through a backup and a restore unchanged.
    with Store(f"sqlite:///{tmp_path / 'restored.db'}", matrices=[small_matrix]) as restored:
        exchange.restore(restored, data)
        assert exchange.backup(restored) == data
        assert P.shared_pdf(restored, "U90001", "2024/25", 1) == b"%PDF-1.7 as shared"
        assert [a.links for a in P.get_plan(restored, "U90001", "2024/25").actions] == [
            (P.SERVICE_LINK, "governance"), ("data-sharing",)]

"""The records store, on SQLite and on a real PostgreSQL server: validation, audit, optimistic
concurrency, locking of agreed assessments, copying between years, bulk reads."""
from __future__ import annotations

import threading
from dataclasses import FrozenInstanceError
from datetime import date

import pytest

from assessments.model import AGREED, DRAFT, SUPERSEDED

from assessments.values import (check_year, ConflictError, DuplicateError, financial_year, InputError, LockedError,

                                NotFoundError)
from assessments import ratings as assessing
from assessments import organisations as orgs


def seed(store, pcns=("U90001",), ics="QZZ"):
    orgs.add_ics(store, ics, "Test ICS", region="Nowhere", by="setup")
    for i, code in enumerate(pcns):
        orgs.add_pcn(store, code, f"PCN {code}", ics_code=ics, list_size=20_000 + i, practices=["Elm Surgery", "Oak Surgery"],
                      rural=bool(i % 2), by="setup")


@pytest.fixture
def draft(store, small_matrix):
    seed(store)
    return assessing.create_assessment(store, "U90001", "2024/25", small_matrix, by="Ann")


# ---------------------------------------------------------------------------------------------
# Plain validation

@pytest.mark.parametrize("year", ["2024/26", "2024-25", "24/25", "2024/2025", "", None, "1999/00"])
def test_bad_years_are_refused_with_a_plain_message(year):
    with pytest.raises(ValueError, match="financial year|outside the years"):
        check_year(year)


def test_year_rolls_over_the_century():
    assert check_year("2099/00") == "2099/00"
    assert check_year(" 2024/25 ") == "2024/25"


def test_bad_input_raises_value_errors_naming_the_problem(store, small_matrix, draft):
    with pytest.raises(InputError, match="U followed by five digits"):
        orgs.add_pcn(store, "X12345", "Bad", ics_code="QZZ", list_size=1, by="a")
    with pytest.raises(NotFoundError, match="no PCN with code U99999"):
        assessing.create_assessment(store, "U99999", "2024/25", small_matrix, by="a")
    with pytest.raises(NotFoundError, match="no ICS"):
        orgs.add_pcn(store, "U90002", "PCN", ics_code="QAB", list_size=1, by="a")
    with pytest.raises(InputError, match="not a financial year|NHS financial year"):
        assessing.create_assessment(store, "U90001", "2025/27", small_matrix, by="a")
    with pytest.raises(InputError, match="'expert' is not a current stage.*starting, developing, embedded"):
        assessing.save_rating(store, draft.id, "governance", by="a", expected_version=0, current_stage="expert")
    with pytest.raises(InputError, match="'finance' is not an element"):
        assessing.save_rating(store, draft.id, "finance", by="a", expected_version=0, current_stage="starting")
    with pytest.raises(InputError, match="not a confidence"):
        assessing.save_rating(store, draft.id, "governance", by="a", expected_version=0, confidence="sure")
    with pytest.raises(DuplicateError, match="already has a draft 2024/25 assessment"):
        assessing.create_assessment(store, "U90001", "2024/25", small_matrix, by="a")
    with pytest.raises(InputError, match="list size"):
        orgs.add_pcn(store, "U90003", "PCN", ics_code="QZZ", list_size="lots", by="a")
    # Nothing above wrote anything.
    assert assessing.ratings(store, draft.id) == {}
    assert [p.code for p in orgs.pcns(store)] == ["U90001"]


def test_stage_labels_and_case_are_accepted_and_stored_as_ids(store, draft):
    r = assessing.save_rating(store, draft.id, "vision", by="a", expected_version=0, current_stage="Developing",
                          target_stage="EMBEDDED", confidence="High")
    assert (r.current_stage, r.target_stage, r.confidence) == ("developing", "embedded", "high")


# ---------------------------------------------------------------------------------------------
# Records and the audit trail

def test_organisations_round_trip_as_frozen_dataclasses(store):
    seed(store, pcns=("U90001", "U90002"))
    p = orgs.pcn(store, "u90002")
    assert (p.code, p.ics_code, p.list_size, p.rural, p.practices, p.version) == (
        "U90002", "QZZ", 20_001, True, ("Elm Surgery", "Oak Surgery"), 1)
    with pytest.raises(FrozenInstanceError):
        p.name = "changed"
    assert [i.code for i in orgs.list_ics(store)] == ["QZZ"] and orgs.ics(store, "QZZ").region == "Nowhere"
    assert [p.code for p in orgs.pcns(store, "QZZ")] == ["U90001", "U90002"]


def test_every_change_is_audited_with_who_when_before_after_and_source(store, draft):
    r1 = assessing.save_rating(store, draft.id, "governance", by="Ann", expected_version=0, current_stage="starting",
                           evidence="Agreement signed", source="workshop ABC123")
    r2 = assessing.save_rating(store, draft.id, "governance", by="Bob", expected_version=r1.version, current_stage="developing")
    assert r2.version == 2 and r2.updated_by == "Bob" and r2.evidence == "Agreement signed"
    trail = assessing.rating_history(store, draft.id, "governance")
    assert [(e.who, e.field, e.before, e.after, e.source) for e in trail] == [
        ("Ann", "current_stage", None, "starting", "workshop ABC123"),
        ("Ann", "evidence", None, "Agreement signed", "workshop ABC123"),
        ("Bob", "current_stage", "starting", "developing", None),
    ]
    assert all(e.at.tzinfo is not None for e in trail)
    # Saving the same values again changes nothing: no new version, no audit row.
    r3 = assessing.save_rating(store, draft.id, "governance", by="Bob", expected_version=2, current_stage="developing")
    assert r3.version == 2 and len(assessing.rating_history(store, draft.id, "governance")) == 3
    created = store.audit(entity="assessment", entity_key=str(draft.id), newest_first=False)
    assert {(e.field, e.after) for e in created} >= {("pcn_code", "U90001"), ("year", "2024/25"), ("status", "draft")}


def test_a_failed_batch_writes_nothing_not_even_audit_rows(store, small_matrix, draft):
    before = store.counts()
    with pytest.raises(InputError):
        with store.batch(by="Ann") as b:
            assessing.save_rating(b, draft.id, "governance", expected_version=0, current_stage="starting")
            assessing.save_rating(b, draft.id, "vision", expected_version=0, current_stage="nonsense")
    assert store.counts() == before and assessing.ratings(store, draft.id) == {}


def test_pcn_update_is_versioned_and_audited(store):
    seed(store)
    p = orgs.update_pcn(store, "U90001", by="Ann", expected_version=1, list_size=25_000, practices=["Elm Surgery"])
    assert (p.version, p.list_size, p.practices) == (2, 25_000, ("Elm Surgery",))
    with pytest.raises(ConflictError, match="PCN U90001 was changed by someone else.*saved by Ann at"):
        orgs.update_pcn(store, "U90001", by="Bob", expected_version=1, name="Renamed")
    assert orgs.pcn(store, "U90001").name == "PCN U90001"
    fields = [(e.field, e.before, e.after) for e in store.audit(entity="pcn", entity_key="U90001", newest_first=False)]
    assert ("list_size", "20000", "25000") in fields and ("practices", '["Elm Surgery", "Oak Surgery"]', '["Elm Surgery"]') in fields


# ---------------------------------------------------------------------------------------------
# Optimistic concurrency

def test_two_sessions_editing_one_rating_give_exactly_one_conflict(open_store, small_matrix):
    first, second = open_store(), open_store()
    seed(first)
    a = assessing.create_assessment(first, "U90001", "2024/25", small_matrix, by="setup")
    assessing.save_rating(first, a.id, "governance", by="setup", expected_version=0, current_stage="starting")
    # Both people open the rating (version 1) ...
    seen_by_ann = assessing.rating(first, a.id, "governance")
    seen_by_bob = assessing.rating(second, a.id, "governance")
    assert seen_by_ann.version == seen_by_bob.version == 1
    # ... Ann saves first, then Bob.
    assessing.save_rating(first, a.id, "governance", by="Ann", expected_version=seen_by_ann.version, current_stage="developing")
    with pytest.raises(ConflictError) as caught:
        assessing.save_rating(second, a.id, "governance", by="Bob", expected_version=seen_by_bob.version, current_stage="embedded")
    err = caught.value
    message = str(err)
    assert "'embedded'" in message and "'developing'" in message and "Ann" in message and "Nothing was saved" in message
    assert (err.attempted, err.stored, err.changed_by, err.stored_version) == (
        {"current_stage": "embedded"}, {"current_stage": "developing"}, "Ann", 2)
    stored = assessing.rating(second, a.id, "governance")
    assert (stored.current_stage, stored.version, stored.updated_by) == ("developing", 2, "Ann")
    assert [e.after for e in assessing.rating_history(second, a.id, "governance") if e.field == "current_stage"] == ["starting", "developing"]


def test_concurrent_saves_from_many_threads_let_exactly_one_win(open_store, small_matrix):
    setup = open_store()
    seed(setup)
    a = assessing.create_assessment(setup, "U90001", "2024/25", small_matrix, by="setup")
    assessing.save_rating(setup, a.id, "governance", by="setup", expected_version=0, current_stage="starting")
    stores = [open_store() for _ in range(6)]
    barrier = threading.Barrier(len(stores))
    outcomes: list[str] = []

    def edit(i, s):
        barrier.wait()
        try:
            assessing.save_rating(s, a.id, "governance", by=f"user{i}", expected_version=1, note=f"note from user{i}")
            outcomes.append(f"saved:user{i}")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=edit, args=(i, s)) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if o.startswith("saved")]
    assert len(winners) == 1 and outcomes.count("conflict") == len(stores) - 1
    final = assessing.rating(setup, a.id, "governance")
    assert final.version == 2 and f"saved:{final.updated_by}" == winners[0]
    assert len([e for e in assessing.rating_history(setup, a.id, "governance") if e.field == "note"]) == 1


def test_two_first_saves_of_a_new_rating_conflict_too(open_store, small_matrix):
    first, second = open_store(), open_store()
    seed(first)
    a = assessing.create_assessment(first, "U90001", "2024/25", small_matrix, by="setup")
    assessing.save_rating(first, a.id, "vision", by="Ann", expected_version=0, current_stage="starting")
    with pytest.raises(ConflictError, match="'developing'.*'starting'"):
        assessing.save_rating(second, a.id, "vision", by="Bob", expected_version=0, current_stage="developing")


# ---------------------------------------------------------------------------------------------
# Agreed assessments, revisions, new years

def test_an_agreed_assessment_refuses_edits(store, draft):
    assessing.save_rating(store, draft.id, "governance", by="Ann", expected_version=0, current_stage="starting")
    with pytest.raises(ConflictError):
        assessing.agree_assessment(store, draft.id, by="Ann", expected_version=draft.version + 5)
    agreed = assessing.agree_assessment(store, draft.id, by="Ann", expected_version=draft.version)
    assert agreed.status == AGREED and agreed.locked
    audit_before = len(store.audit())
    with pytest.raises(LockedError, match="agreed by Ann.*locked"):
        assessing.save_rating(store, draft.id, "governance", by="Bob", expected_version=1, current_stage="embedded")
    with pytest.raises(LockedError):
        assessing.save_rating(store, draft.id, "vision", by="Bob", expected_version=0, current_stage="embedded")
    with pytest.raises(LockedError):
        assessing.agree_assessment(store, draft.id, by="Bob", expected_version=agreed.version)
    with pytest.raises(LockedError):
        assessing.discard_draft(store, draft.id, by="Bob", expected_version=agreed.version)
    assert assessing.rating(store, draft.id, "governance").current_stage == "starting"
    assert assessing.rating(store, draft.id, "vision") is None
    assert len(store.audit()) == audit_before


def test_a_new_draft_can_be_opened_from_an_agreed_one_and_discarded(store, draft):
    assessing.save_rating(store, draft.id, "governance", by="Ann", expected_version=0, current_stage="starting",
                      evidence="Signed agreement")
    agreed = assessing.agree_assessment(store, draft.id, by="Ann", expected_version=draft.version)
    revision = assessing.open_revision(store, agreed.id, by="Bob")
    assert (revision.status, revision.revision_of, revision.year) == (DRAFT, agreed.id, "2024/25")
    assert assessing.assessment(store, agreed.id).status == SUPERSEDED
    copied = assessing.rating(store, revision.id, "governance")
    assert (copied.current_stage, copied.evidence) == ("starting", "Signed agreement")
    # The live assessment is now the revision; the superseded one stays as read-only history.
    assert assessing.find_assessment(store, "U90001", "2024/25").id == revision.id
    assert [a.id for a in assessing.assessments(store, pcn_code="U90001", include_superseded=True)] == [agreed.id, revision.id]
    with pytest.raises(LockedError, match="replaced by a newer draft"):
        assessing.save_rating(store, agreed.id, "governance", by="Bob", expected_version=1, current_stage="embedded")
    assessing.save_rating(store, revision.id, "governance", by="Bob", expected_version=1, current_stage="developing")
    assessing.discard_draft(store, revision.id, by="Bob", expected_version=revision.version)
    back = assessing.assessment(store, agreed.id)
    assert back.status == AGREED and assessing.find_assessment(store, "U90001", "2024/25").id == agreed.id
    assert assessing.rating(store, agreed.id, "governance").current_stage == "starting"
    with pytest.raises(NotFoundError):
        assessing.assessment(store, revision.id)


def test_start_year_copies_stages_and_confidence_but_not_evidence(store, small_matrix, draft):
    assessing.save_rating(store, draft.id, "governance", by="Ann", expected_version=0, current_stage="developing",
                      target_stage="embedded", confidence="high", evidence="Minutes of May board")
    assessing.save_rating(store, draft.id, "vision", by="Ann", expected_version=0, evidence="Only evidence, no stage")
    assessing.agree_assessment(store, draft.id, by="Ann", expected_version=draft.version)
    new = assessing.start_year(store, "U90001", "2025/26", small_matrix, by="Ann")
    assert new.status == DRAFT and new.year == "2025/26"
    ratings = assessing.ratings(store, new.id)
    assert set(ratings) == {"governance"}
    g = ratings["governance"]
    assert (g.current_stage, g.target_stage, g.confidence, g.evidence) == ("developing", "embedded", "high", None)
    assert "Carried over from 2024/25" in g.note
    with pytest.raises(DuplicateError):
        assessing.start_year(store, "U90001", "2025/26", small_matrix, by="Ann")


# ---------------------------------------------------------------------------------------------
# Bulk reads

def test_portfolio_and_history_group_ratings_by_assessment(store, small_matrix):
    orgs.add_ics(store, "QZZ", "Test ICS", by="setup")
    orgs.add_ics(store, "QZY", "Other ICS", by="setup")
    for code, ics in (("U90001", "QZZ"), ("U90002", "QZZ"), ("U90003", "QZY")):
        orgs.add_pcn(store, code, f"PCN {code}", ics_code=ics, list_size=30_000, by="setup")
        for year, stage in (("2023/24", "starting"), ("2024/25", "developing")):
            with store.batch(by="setup") as b:
                a = assessing.create_assessment(b, code, year, small_matrix)
                for element in small_matrix.element_ids():
                    assessing.save_rating(b, a.id, element, expected_version=0, current_stage=stage, target_stage="embedded")
    records = assessing.portfolio(store, "2024/25", ics_code="QZZ")
    assert [r.pcn.code for r in records] == ["U90001", "U90002"]
    assert all(set(r.ratings) == set(small_matrix.element_ids()) for r in records)
    assert {r.ratings["vision"].current_stage for r in records} == {"developing"}
    assert all(r.ratings[e].assessment_id == r.assessment.id for r in records for e in r.ratings)
    assert len(assessing.portfolio(store, "2024/25")) == 3
    assert assessing.portfolio(store, "2022/23") == []
    with pytest.raises(NotFoundError):
        assessing.portfolio(store, "2024/25", ics_code="QXX")
    history = assessing.history(store, "U90003")
    assert [h.assessment.year for h in history] == ["2023/24", "2024/25"]
    assert [h.ratings["governance"].current_stage for h in history] == ["starting", "developing"]
    assert assessing.years(store) == ["2023/24", "2024/25"]


def test_an_ics_portfolio_holds_exactly_its_pcns_read_from_that_ics_alone(store, small_matrix):
    """The ICS's records are those of England's portfolio in that ICS, nothing more or less, and the
    database finds them from the ICS's PCNs, not by reading every assessment of the year."""
    from sqlalchemy import event

    from assessments.synthetic import generate

    generate(store, n_ics=3, n_pcns=18, matrix=small_matrix)
    year = assessing.years(store)[-1]
    agreed = next(a for a in assessing.assessments(store, year=year) if a.status == AGREED)
    assessing.open_revision(store, agreed.id, by="test")  # the agreed one is superseded: history, left out
    national = assessing.portfolio(store, year)
    assert agreed.id not in {r.assessment.id for r in national}
    statements = []
    event.listen(store.db.engine, "before_cursor_execute",
                 lambda conn, cursor, sql, params, context, many: statements.append((cursor, sql, params)))
    for ics in orgs.list_ics(store):
        statements.clear()
        mine = assessing.portfolio(store, year, ics_code=ics.code)
        read = [x for x in statements if "FROM rating" in x[1] or "FROM assessment" in x[1]]
        assert mine and mine == [r for r in national if r.pcn.ics_code == ics.code]
        assert [r.pcn.code for r in mine] == sorted(a.pcn_code for a in assessing.assessments(store, year=year,
                                                                                              ics_code=ics.code))
        assert {r.pcn.code for r in mine} <= {p.code for p in orgs.pcns(store, ics_code=ics.code)}
        assert all(r.assessment.status != SUPERSEDED for r in mine)
        assert assessing.portfolio(store, year, ics_code=ics.code, matrix_id=small_matrix.id) == mine
        if store.db.engine.dialect.name == "sqlite":
            plans = [" ".join(str(x[-1]) for x in cursor.connection.execute("EXPLAIN QUERY PLAN " + sql, params))
                     for cursor, sql, params in read]
            assert len(plans) == 2 and not any("ix_assessment_year" in p for p in plans), plans
    assert sum(len(assessing.portfolio(store, year, ics_code=i.code)) for i in orgs.list_ics(store)) == len(national)


def test_is_empty_until_something_is_stored(store):
    assert store.is_empty()
    orgs.add_ics(store, "QZZ", "Test ICS", by="setup")
    assert not store.is_empty()


def test_data_version_moves_with_every_write(store, draft):
    before = store.data_version()
    assessing.save_rating(store, draft.id, "vision", by="a", expected_version=0, note="x")
    after = store.data_version()
    assert after > before
    assessing.save_rating(store, draft.id, "vision", by="a", expected_version=1, note="x")  # no change, nothing written
    assert store.data_version() == after


@pytest.mark.parametrize("day, year", [
    (date(2025, 3, 31), "2024/25"), (date(2025, 4, 1), "2025/26"), (date(2099, 12, 31), "2099/00"),
])
def test_financial_year_starts_on_the_first_of_april(day, year):
    assert financial_year(day) == year

"""Pathway tracking against a real database (SQLite and PostgreSQL): defaults for steps nothing
is recorded for, saving and reading back, stale writes refused with both values, audit rows,
bad input refused without writing, and the ICS overview of which step each PCN is at."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from assessments import pathway as P
from assessments.values import ConflictError, InputError, NotFoundError
from matrix import Pathway, load_file
from assessments import organisations

ROOT = Path(__file__).resolve().parents[1]
YEAR = "2024/25"


@pytest.fixture(scope="module")
def pw() -> Pathway:
    return load_file(ROOT / "matrix" / "development_pathway.yaml")


@pytest.fixture
def orgs(store):
    organisations.add_ics(store, "QZZ", "Test ICS", by="setup")
    organisations.add_ics(store, "QZY", "Other ICS", by="setup")
    for code, name, ics in (("U90001", "Alder PCN", "QZZ"), ("U90002", "Birch PCN", "QZZ"),
                            ("U90003", "Cedar PCN", "QZZ"), ("U90009", "Elsewhere PCN", "QZY")):
        organisations.add_pcn(store, code, name, ics_code=ics, list_size=30_000, by="setup")
    return store


def items(pw: Pathway, n: int) -> list[str]:
    return [i.id for i in pw.step(n).checklist]


def audit(store) -> list[tuple[str, str, str | None, str | None, str]]:
    return [(a.entity_key, a.field, a.before, a.after, a.who) for a in store.audit(entity="pathway_step", newest_first=False)]


def test_steps_with_nothing_recorded_are_not_started(orgs, pw):
    steps = P.pathway_status(orgs, "U90001", YEAR, pw)
    assert [s.number for s in steps] == [1, 2, 3, 4, 5, 6]
    assert [s.title for s in steps] == [s.title for s in pw.steps]
    for s, step in zip(steps, pw.steps):
        assert (s.status, s.date, s.note, s.version, s.saved) == ("not started", None, None, 0, False)
        assert s.ticks == {i.id: False for i in step.checklist}
        assert (s.n_ticked, s.n_items) == (0, len(step.checklist))
    assert P.current_step(steps).number == 1
    with pytest.raises(NotFoundError, match="no PCN with code U90099"):
        P.pathway_status(orgs, "U90099", YEAR, pw)


def test_a_step_is_saved_read_back_and_audited(orgs, pw):
    first, second, *_ = items(pw, 3)
    s = P.save_step(orgs, "U90001", YEAR, 3, by="Dr Ñúñez", expected_version=0, status="In progress",
                    date="31/03/2025", ticks={first: True}, note="Workshop booked – “matrix” day")
    assert (s.status, s.date, s.note, s.version, s.updated_by) == (
        "in progress", date(2025, 3, 31), "Workshop booked – “matrix” day", 1, "Dr Ñúñez")
    assert s.date_label == "Target date"
    # A second tick changes only that item; unticking the first leaves the second.
    P.save_step(orgs, "U90001", YEAR, 3, by="Sam", expected_version=1, ticks={second: True})
    s = P.save_step(orgs, "U90001", YEAR, 3, by="Sam", expected_version=2, ticks={first: False})
    assert [k for k, v in s.ticks.items() if v] == [second]
    # A list is the whole ticked list, kept in checklist order whatever order it came in.
    s = P.save_step(orgs, "U90001", YEAR, 3, by="Sam", expected_version=3, ticks=[second, first])
    assert [k for k, v in s.ticks.items() if v] == [first, second] and s.version == 4

    back = P.pathway_status(orgs, "U90001", YEAR, pw)[2]
    assert back == s
    assert P.step_status(orgs, "U90001", YEAR, 3, pw) == s
    assert [x.status for x in P.pathway_status(orgs, "U90001", "2023/24", pw)] == ["not started"] * 6
    assert P.pathway_status(orgs, "U90002", YEAR, pw)[2].version == 0

    key = f"U90001/{YEAR}/3"
    assert audit(orgs) == [
        (key, "pathway_id", None, pw.id, "Dr Ñúñez"), (key, "status", None, "in progress", "Dr Ñúñez"),
        (key, "date", None, "2025-03-31", "Dr Ñúñez"), (key, "ticks", None, f'["{first}"]', "Dr Ñúñez"),
        (key, "note", None, "Workshop booked – “matrix” day", "Dr Ñúñez"),
        (key, "ticks", f'["{first}"]', f'["{first}", "{second}"]', "Sam"),
        (key, "ticks", f'["{first}", "{second}"]', f'["{second}"]', "Sam"),
        (key, "ticks", f'["{second}"]', f'["{first}", "{second}"]', "Sam"),
    ]
    # Saving what is already stored writes nothing: no audit row, same version.
    before = orgs.data_version()
    assert P.save_step(orgs, "U90001", YEAR, 3, by="Sam", expected_version=4, note="Workshop booked – “matrix” day").version == 4
    assert orgs.data_version() == before


def test_marking_a_step_done_dates_it_today_unless_a_date_is_given(orgs, pw):
    s = P.save_step(orgs, "U90001", YEAR, 1, by="a", expected_version=0, status="done")
    assert s.date == s.updated_at.date() and s.date_label == "Done on"
    s = P.save_step(orgs, "U90001", YEAR, 2, by="a", expected_version=0, status="in progress", date=date(2025, 6, 30))
    s = P.save_step(orgs, "U90001", YEAR, 2, by="a", expected_version=1, status="done", date=date(2024, 9, 1))
    assert s.date == date(2024, 9, 1)
    # A target date set earlier stays when the step is marked done without a new date.
    P.save_step(orgs, "U90002", YEAR, 1, by="a", expected_version=0, date=date(2024, 5, 1))
    assert P.save_step(orgs, "U90002", YEAR, 1, by="a", expected_version=1, status="done").date == date(2024, 5, 1)


def test_a_stale_write_is_a_conflict_with_both_values_and_writes_nothing(orgs, pw, open_store):
    P.save_step(orgs, "U90001", YEAR, 2, by="Alex", expected_version=0, status="in progress", note="First note")
    other = open_store()  # another process that read version 1
    P.save_step(orgs, "U90001", YEAR, 2, by="Alex", expected_version=1, note="Alex's second note")
    before = orgs.data_version()
    with pytest.raises(ConflictError) as info:
        P.save_step(other, "U90001", YEAR, 2, by="Bea", expected_version=1, note="Bea's note", date=date(2025, 1, 31))
    err = info.value
    assert (err.expected_version, err.stored_version, err.changed_by) == (1, 2, "Alex")
    assert err.attempted == {"note": "Bea's note", "date": "31 Jan 2025"}
    assert err.stored == {"note": "Alex's second note", "date": None}
    assert "Bea's note" in str(err) and "Alex's second note" in str(err) and "Reload" in str(err)
    assert orgs.data_version() == before
    assert P.step_status(orgs, "U90001", YEAR, 2, pw).note == "Alex's second note"


def test_two_people_starting_the_same_step_do_not_overwrite_each_other(orgs, pw, open_store):
    other = open_store()
    P.save_step(orgs, "U90003", YEAR, 4, by="Alex", expected_version=0, status="in progress")
    with pytest.raises(ConflictError, match="Step 4 .*U90003.*changed by someone else") as info:
        P.save_step(other, "U90003", YEAR, 4, by="Bea", expected_version=0, status="done")
    assert info.value.stored == {"status": "in progress"}
    assert P.step_status(orgs, "U90003", YEAR, 4, pw).status == "in progress"


@pytest.mark.parametrize("kwargs, message", [
    (dict(step_number=7), "step 7 is not on the pathway: use a number from 1 to 6"),
    (dict(step_number="two"), "'two' is not a step of the pathway"),
    (dict(status="finished"), "'finished' is not a step status: use one of not started, in progress, done"),
    (dict(date="31st March"), "'31st March' is not a date"),
    (dict(date="01/01/1999"), "outside the years this tool handles"),
    (dict(ticks={"no-such-item": True}), "'no-such-item' is not a checklist item of step 1"),
    (dict(ticks="membership-agreed"), "not one piece of text"),
    (dict(note="x" * 5_001), "note is too long"),
    (dict(status="done", date=(datetime.now(UTC) + timedelta(days=5)).date()), "still to come"),
    (dict(pcn_code="U90099"), "no PCN with code U90099"),
    (dict(pcn_code="nonsense"), "not a PCN code"),
    (dict(year="2024/26"), "not an NHS financial year"),
])
def test_bad_input_is_refused_with_a_plain_message_and_nothing_is_written(orgs, pw, kwargs, message):
    P.save_step(orgs, "U90001", YEAR, 1, by="a", expected_version=0, note="kept")
    before = orgs.data_version()
    kwargs = dict(kwargs)
    args = dict(pcn_code="U90001", year=YEAR, step_number=1)
    args.update({k: kwargs.pop(k) for k in list(kwargs) if k in args})
    with pytest.raises(InputError, match=message):
        P.save_step(orgs, args["pcn_code"], args["year"], args["step_number"], by="a", expected_version=1,
                    pathway=pw, **kwargs)
    assert orgs.data_version() == before
    assert P.step_status(orgs, "U90001", YEAR, 1, pw).note == "kept"


def test_expected_version_is_required(orgs, pw):
    with pytest.raises(TypeError, match="expected_version is required"):
        P.save_step(orgs, "U90001", YEAR, 1, by="a", expected_version=None, status="done")


def test_several_steps_in_one_batch_are_all_or_nothing(orgs, pw):
    with orgs.batch(by="Facilitator") as b:
        P.save_step(b, "U90001", YEAR, 1, expected_version=0, status="done", date=date(2024, 4, 30), pathway=pw)
        P.save_step(b, "U90001", YEAR, 2, expected_version=0, status="in progress", pathway=pw)
    assert [s.status for s in P.pathway_status(orgs, "U90001", YEAR, pw)][:3] == ["done", "in progress", "not started"]
    before = orgs.data_version()
    with pytest.raises(InputError):
        with orgs.batch(by="Facilitator") as b:
            P.save_step(b, "U90001", YEAR, 3, expected_version=0, status="in progress", pathway=pw)
            P.save_step(b, "U90001", YEAR, 4, expected_version=0, status="maybe", pathway=pw)
    assert orgs.data_version() == before
    assert P.step_status(orgs, "U90001", YEAR, 3, pw).version == 0


def test_ticks_a_newer_pathway_no_longer_lists_are_kept(orgs, pw):
    first, second = items(pw, 1)[:2]
    P.save_step(orgs, "U90001", YEAR, 1, by="a", expected_version=0, ticks=[first, second])
    steps = [s if s.number != 1 else s.model_copy(update={"checklist": s.checklist[1:]}) for s in pw.steps]
    newer = pw.model_copy(update={"steps": steps})
    s = P.step_status(orgs, "U90001", YEAR, 1, newer)
    assert s.ticks == {i.id: i.id == second for i in newer.step(1).checklist}
    third = newer.step(1).checklist[1].id
    P.save_step(orgs, "U90001", YEAR, 1, by="a", expected_version=1, ticks={third: True}, pathway=newer)
    # Read with the original pathway, the first tick is still there.
    assert [k for k, v in P.step_status(orgs, "U90001", YEAR, 1, pw).ticks.items() if v] == [first, second, third]


def test_the_ics_overview_says_which_step_each_pcn_is_at(orgs, pw):
    for n in (1, 2):
        P.save_step(orgs, "U90001", YEAR, n, by="a", expected_version=0, status="done", date=date(2024, 5, n))
    P.save_step(orgs, "U90001", YEAR, 3, by="b", expected_version=0, status="in progress", ticks=items(pw, 3)[:2])
    P.save_step(orgs, "U90001", YEAR, 5, by="b", expected_version=0, status="done", date=date(2024, 6, 1))
    for s in pw.steps:
        P.save_step(orgs, "U90002", YEAR, s.number, by="c", expected_version=0, status="done", ticks=items(pw, s.number))
    P.save_step(orgs, "U90009", YEAR, 1, by="d", expected_version=0, status="done")  # another ICS
    P.save_step(orgs, "U90003", "2023/24", 1, by="d", expected_version=0, status="done")  # another year

    df = P.ics_pathway_overview(orgs, "QZZ", YEAR, pw)
    assert list(df.columns) == P.OVERVIEW_COLUMNS
    assert list(df["code"]) == ["U90001", "U90002", "U90003"]
    rows = {r.code: r for r in df.itertuples()}
    a, b, c = rows["U90001"], rows["U90002"], rows["U90003"]
    # The first step not done, even though a later one is done.
    assert (a.at_step, a.at_step_title, a.at_step_status, a.done, a.in_progress, a.ticked) == (
        3, pw.step(3).title, "in progress", 3, 1, 2)
    assert a.updated_by == "b"
    assert (b.at_step is None or str(b.at_step) == "<NA>", b.at_step_title, b.done, b.ticked, b.items) == (
        True, "Every step done", 6, sum(len(s.checklist) for s in pw.steps), sum(len(s.checklist) for s in pw.steps))
    assert (c.at_step, c.at_step_status, c.done, pd.isna(c.updated_by)) == (1, "not started", 0, True)

    counts = P.step_counts(df, pw)
    assert list(counts["pcns"]) == [1, 0, 1, 0, 0, 0, 1]
    assert counts["title"].iloc[-1] == "Every step done"
    assert len(P.ics_pathway_overview(orgs, "QZY", YEAR, pw)) == 1
    table = P.steps_table(P.pathway_status(orgs, "U90001", YEAR, pw))
    assert list(table["Status"]) == ["done", "done", "in progress", "not started", "done", "not started"]
    assert table["Date"][0] == "done on 01 May 2024" and table["Checklist"][2] == f"2 of {len(items(pw, 3))} ticked"


def test_the_table_matches_its_migration(store):
    """The model and migration 0004 describe the same table (columns, types, nullability, indexes)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from assessments.records.tables import Base

    with store.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    ours = [d for d in diff if "pathway_step" in repr(d)]
    assert ours == []


def test_rows_are_stored_once_per_pcn_year_and_step(orgs, pw):
    P.save_step(orgs, "U90001", YEAR, 1, by="a", expected_version=0, status="in progress")
    P.save_step(orgs, "U90001", YEAR, 1, by="a", expected_version=1, status="done")
    with orgs.db.engine.connect() as conn:
        rows = conn.execute(select(P.PathwayStepRow.step_number, P.PathwayStepRow.status,
                                   P.PathwayStepRow.version)).all()
    assert [tuple(r) for r in rows] == [(1, "done", 2)]

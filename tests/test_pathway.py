"""Pathway tracking against a real database (SQLite and PostgreSQL): steps nothing is recorded for
read "not recorded", saving and reading back, the pathway carried forward from year to year (a
step done stays done until reopened), done dates chosen and never stamped, stale writes refused
with both values, audit rows, bad input refused without writing, and the ICS overview of which
step each PCN is at."""
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


def test_steps_with_nothing_recorded_are_not_recorded(orgs, pw):
    """Nobody has said the network has not started a step: it reads "not recorded"."""
    steps = P.pathway_status(orgs, "U90001", YEAR, pw)
    assert [s.number for s in steps] == [1, 2, 3, 4, 5, 6]
    assert [s.title for s in steps] == [s.title for s in pw.steps]
    for s, step in zip(steps, pw.steps):
        assert (s.status, s.date, s.note, s.version, s.saved, s.recorded, s.carried_from) == (
            "not recorded", None, None, 0, False, False, None)
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
    assert [x.status for x in P.pathway_status(orgs, "U90001", "2023/24", pw)] == ["not recorded"] * 6
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


def test_the_day_a_step_was_done_is_chosen_never_stamped(orgs, pw):
    before = orgs.data_version()
    with pytest.raises(InputError, match=r"choose the day step 1 \(Establishing the PCN\) was done"):
        P.save_step(orgs, "U90001", YEAR, 1, by="a", expected_version=0, status="done")
    assert orgs.data_version() == before
    s = P.save_step(orgs, "U90001", YEAR, 1, by="a", expected_version=0, status="done", date=date(2024, 7, 9))
    assert (s.status, s.date, s.date_label) == ("done", date(2024, 7, 9), "Done on")
    # A target date set earlier is not taken for the day it was done.
    P.save_step(orgs, "U90002", YEAR, 1, by="a", expected_version=0, status="in progress", date=date(2024, 5, 1))
    with pytest.raises(InputError, match=r"was done: a done step needs its date \(01 May 2024 was its target\)"):
        P.save_step(orgs, "U90002", YEAR, 1, by="a", expected_version=1, status="done")
    s = P.save_step(orgs, "U90002", YEAR, 1, by="a", expected_version=1, status="done", date=date(2024, 4, 20))
    assert s.date == date(2024, 4, 20)
    # A done step's date can be corrected, not removed.
    assert P.save_step(orgs, "U90002", YEAR, 1, by="a", expected_version=2, date="20/05/2024").date == date(2024, 5, 20)
    with pytest.raises(InputError, match="a done step needs its date"):
        P.save_step(orgs, "U90002", YEAR, 1, by="a", expected_version=3, date=None)


def test_a_past_years_step_marked_done_today_is_refused(orgs, pw):
    """Done today, so done this year: the year it is recorded in ended long ago."""
    today = datetime.now(UTC).date()
    with pytest.raises(InputError, match=f"step 3 of 2022/23 cannot have been done on {today:%d %b %Y}, after "
                                         "2022/23 ended on 31 Mar 2023: record it in the year it was done"):
        P.save_step(orgs, "U90001", "2022/23", 3, by="a", expected_version=0, status="done", date=today)
    s = P.save_step(orgs, "U90001", "2022/23", 3, by="a", expected_version=0, status="done", date=date(2023, 3, 31))
    assert s.date == date(2023, 3, 31)


def test_reopening_a_done_step_clears_the_day_it_was_done(orgs, pw):
    P.save_step(orgs, "U90001", YEAR, 2, by="a", expected_version=0, status="done", date=date(2024, 6, 2))
    s = P.save_step(orgs, "U90001", YEAR, 2, by="a", expected_version=1, status="in progress")
    assert (s.status, s.date, s.date_label) == ("in progress", None, "Target date")
    s = P.save_step(orgs, "U90001", YEAR, 2, by="a", expected_version=2, status="not started", date=date(2025, 1, 31))
    assert (s.status, s.date) == ("not started", date(2025, 1, 31))


def test_the_pathway_carries_forward(orgs, pw):
    """A Step-3 network: steps 1 and 2 done in 2022/23 and 3 in progress, nothing recorded since.
    2024/25 shows them as last recorded, step 4 on "not recorded", and which year each is from."""
    first = items(pw, 1)
    P.save_step(orgs, "U90001", "2022/23", 1, by="Ann", expected_version=0, status="done", date=date(2022, 7, 1),
                ticks=first, note="Agreement signed")
    P.save_step(orgs, "U90001", "2022/23", 2, by="Ann", expected_version=0, status="done", date=date(2022, 11, 15))
    P.save_step(orgs, "U90001", "2022/23", 3, by="Ann", expected_version=0, status="in progress",
                date=date(2023, 6, 30), ticks=items(pw, 3)[:1])
    later = P.pathway_status(orgs, "U90001", YEAR, pw)
    assert [(s.status, s.carried_from, s.version) for s in later] == [
        ("done", "2022/23", 0), ("done", "2022/23", 0), ("in progress", "2022/23", 0),
        ("not recorded", None, 0), ("not recorded", None, 0), ("not recorded", None, 0)]
    assert (later[0].date, later[0].n_ticked, later[0].note, later[0].updated_by) == (
        date(2022, 7, 1), len(first), "Agreement signed", "Ann")
    assert P.current_step(later).number == 3
    table = P.steps_table(later)
    assert list(table["Status"])[:4] == ["done (recorded in 2022/23)", "done (recorded in 2022/23)",
                                         "in progress (recorded in 2022/23)", "not recorded"]
    # Years before the first record know nothing of it.
    assert [s.status for s in P.pathway_status(orgs, "U90001", "2021/22", pw)] == ["not recorded"] * 6

    # Ticking an item of a carried step records the step in 2024/25, starting from what was carried.
    s = P.save_step(orgs, "U90001", YEAR, 3, by="Bo", expected_version=0, ticks={items(pw, 3)[1]: True})
    assert (s.status, s.date, s.n_ticked, s.carried_from, s.version) == ("in progress", date(2023, 6, 30), 2, None, 1)
    assert P.step_status(orgs, "U90001", "2022/23", 3, pw).n_ticked == 1  # the earlier year keeps its record

    # Reopened in 2023/24: open from then on, done again in 2022/23 and in the years before the reopening.
    P.save_step(orgs, "U90001", "2023/24", 1, by="Bo", expected_version=0, status="in progress",
                note="The merger reopens the network agreement")
    assert [P.step_status(orgs, "U90001", y, 1, pw).status for y in ("2022/23", "2023/24", YEAR, "2025/26")] == [
        "done", "in progress", "in progress", "in progress"]
    assert P.step_status(orgs, "U90001", YEAR, 1, pw).carried_from == "2023/24"
    assert P.step_status(orgs, "U90001", YEAR, 1, pw).date is None  # the done date went with the reopening
    P.save_step(orgs, "U90001", YEAR, 1, by="Bo", expected_version=0, status="done", date=date(2024, 10, 1))
    assert [P.step_status(orgs, "U90001", y, 1, pw).status for y in ("2023/24", YEAR, "2025/26")] == [
        "in progress", "done", "done"]


def test_the_first_record_of_a_year_must_be_a_year_that_can_be_started(orgs, pw):
    from assessments.values import financial_year, next_year

    far = next_year(next_year(financial_year()))
    with pytest.raises(InputError, match=f"{far} cannot be started yet"):
        P.save_step(orgs, "U90001", far, 1, by="a", expected_version=0, status="in progress")


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
    assert [s.status for s in P.pathway_status(orgs, "U90001", YEAR, pw)][:3] == ["done", "in progress", "not recorded"]
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
        P.save_step(orgs, "U90002", YEAR, s.number, by="c", expected_version=0, status="done", date=date(2024, 7, 1),
                    ticks=items(pw, s.number))
    P.save_step(orgs, "U90009", YEAR, 1, by="d", expected_version=0, status="done", date=date(2024, 7, 1))  # another ICS
    P.save_step(orgs, "U90003", "2025/26", 1, by="d", expected_version=0, status="done",
                date=date(2025, 7, 1))  # a later year

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
    assert (c.at_step, c.at_step_status, c.done, c.not_recorded, pd.isna(c.updated_by)) == (1, "not recorded", 0, 6, True)
    assert (a.not_recorded, b.not_recorded) == (2, 0)

    counts = P.step_counts(df, pw)
    assert list(counts["pcns"]) == [1, 0, 1, 0, 0, 0, 1]
    assert counts["title"].iloc[-1] == "Every step done"
    assert len(P.ics_pathway_overview(orgs, "QZY", YEAR, pw)) == 1
    table = P.steps_table(P.pathway_status(orgs, "U90001", YEAR, pw))
    assert list(table["Status"]) == ["done", "done", "in progress", "not recorded", "done", "not recorded"]
    # A later year carries every PCN's steps forward; U90003's own record of that year counts there.
    later = {r.code: r for r in P.ics_pathway_overview(orgs, "QZZ", "2025/26", pw).itertuples()}
    assert (later["U90001"].at_step, later["U90001"].done, later["U90002"].at_step_title) == (3, 3, "Every step done")
    assert (later["U90003"].at_step, later["U90003"].done, later["U90003"].updated_by) == (2, 1, "d")
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
    P.save_step(orgs, "U90001", YEAR, 1, by="a", expected_version=1, status="done", date=date(2024, 12, 1))
    with orgs.db.engine.connect() as conn:
        rows = conn.execute(select(P.PathwayStepRow.step_number, P.PathwayStepRow.status,
                                   P.PathwayStepRow.version)).all()
    assert [tuple(r) for r in rows] == [(1, "done", 2)]


def test_a_plan_reads_the_pathway_carried_forward(tmp_path):
    """The demo's fast improver recorded steps 1 to 4 done in earlier years and step 5 in 2024/25:
    its 2024/25 plan says so, and a PCN with nothing recorded says that, never "not started"."""
    from assessments.demo import load_demo
    from assessments.store import Store
    from reports.data import gather, summary_paragraphs

    with Store(f"sqlite:///{tmp_path / 'demo.db'}") as store:
        load_demo(store)
        r = gather(store, "U99005", YEAR)
        assert [(s.status, s.carried_from) for s in r.steps] == [
            ("done", "2022/23"), ("done", "2022/23"), ("done", "2023/24"), ("done", "2023/24"),
            ("in progress", None), ("not recorded", None)]
        assert dict(summary_paragraphs(r))["Development pathway"] == (
            "Step 5, Implementation, is in progress; steps 1, 2, 3 and 4 done. Steps with nothing recorded in "
            "2024/25 are as last recorded (2022/23, 2023/24).")
        nothing = gather(store, "U99001", YEAR)
        assert {s.status for s in nothing.steps} == {"not recorded"}
        assert dict(summary_paragraphs(nothing))["Development pathway"] == (
            "Nothing is recorded on the development pathway for 2024/25 or any year before.")
        # The reopened step of the demo's Greyfield Riverside: done in 2022/23, open again in 2024/25.
        assert [P.step_status(store, "U99008", y, 3).status for y in ("2022/23", "2023/24", YEAR)] == [
            "done", "done", "in progress"]

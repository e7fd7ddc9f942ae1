"""Workshop mode on SQLite and PostgreSQL: many people rating at once, nothing lost or counted
twice; pause and close; the spread and split flag; consensus written to the assessment."""
from __future__ import annotations

import math
import multiprocessing
import sys
import types
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from assessments import workshop as ws
from assessments.store import Store
from assessments.values import DuplicateError, InputError, LockedError, NotFoundError
from assessments.workshop import NotOpenError
from assessments.records.tables import ParticipantRatingRow
from assessments import ratings as assessing
from assessments import organisations as orgs

RATINGS = ParticipantRatingRow.__table__

FIXTURES = Path(__file__).resolve().parent / "fixtures"
YEAR = "2024/25"


def setup_pcn(store, code="U90001"):
    if not orgs.list_ics(store):
        orgs.add_ics(store, "QZZ", "Test ICS", by="setup")
    orgs.add_pcn(store, code, f"PCN {code}", ics_code="QZZ", list_size=10_000, by="setup")


@pytest.fixture
def workshop(store, small_matrix):
    setup_pcn(store)
    return ws.open_workshop(store, "U90001", YEAR, small_matrix, by="Fran Facilitator")


def stored_rows(store) -> list[tuple]:
    with store.db.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(RATINGS.c.participant_id, RATINGS.c.element_id, RATINGS.c.stage,
                                                      RATINGS.c.comment))]


def expected_stage(matrix, i: int, e: int, rerated: bool) -> str:
    return matrix.stage_ids[(i + e + (1 if rerated else 0)) % len(matrix.stage_ids)]


# ---------------------------------------------------------------------------------------------
# Many people at once

def test_thirty_people_rating_at_once_each_have_one_rating_per_element_with_their_latest_value(
        store, workshop, small_matrix):
    elements = small_matrix.element_ids()
    tokens: dict[int, str] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(30)

    def person(i: int) -> None:
        try:
            _, p = ws.join(store, workshop.code, f"Person {i}", ws.ROLES[i % len(ws.ROLES)])
            tokens[i] = p.token
            start.wait()
            for e, element in enumerate(elements):
                ws.rate(store, p.token, element, expected_stage(small_matrix, i, e, False), f"first view {i}")
            if i % 3 == 0:  # some change their minds, element by element
                for e, element in enumerate(elements):
                    ws.rate(store, p.token, element, expected_stage(small_matrix, i, e, True), f"second view {i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=person, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(tokens) == 30

    rows = stored_rows(store)
    assert len(rows) == 30 * len(elements)
    assert Counter((p, e) for p, e, _, _ in rows).most_common(1)[0][1] == 1  # nobody counted twice
    for i, token in tokens.items():
        mine = ws.my_ratings(store, token)
        assert {e: r.stage for e, r in mine.items()} == {
            element: expected_stage(small_matrix, i, e, i % 3 == 0) for e, element in enumerate(elements)}
        assert {r.comment for r in mine.values()} == {f"second view {i}" if i % 3 == 0 else f"first view {i}"}
    summary = ws.summary(store, workshop.id)
    assert [e.n for e in summary.elements] == [30] * len(elements)
    assert len(summary.participants) == 30 and summary.n_ratings == 30 * len(elements)
    assert len(summary.frame) == 30 * len(elements)
    # Every write bumped the workshop's version once: 30 joins, 30 x 3 ratings, 10 x 3 re-ratings.
    assert ws.workshop_version(store, workshop.id) == 1 + 30 + 90 + 30


def _process_worker(url: str, code: str, first: int, count: int, queue) -> None:
    from matrix import load_matrix

    matrix = load_matrix(FIXTURES / "small_matrix.yaml")
    store = Store(url, matrices=[matrix])
    try:
        for i in range(first, first + count):
            _, p = ws.join(store, code, f"Process person {i}", "GP")
            for e, element in enumerate(matrix.element_ids()):
                ws.rate(store, p.token, element, expected_stage(matrix, i, e, False))
            for e, element in enumerate(matrix.element_ids()):
                ws.rate(store, p.token, element, expected_stage(matrix, i, e, True), "changed my mind")
            queue.put((i, p.token))
    except BaseException as exc:  # noqa: BLE001 - the parent reports it
        queue.put(("error", repr(exc)))
    finally:
        store.close()


def test_several_processes_on_one_sqlite_file_lose_nothing(tmp_path, small_matrix, monkeypatch):
    # A spawned process runs the parent's __main__ again; after a page test in this process that is
    # a Streamlit page script, so give the children a plain one.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    store = Store(url, matrices=[small_matrix])
    setup_pcn(store)
    w = ws.open_workshop(store, "U90001", YEAR, small_matrix, by="fac")
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_process_worker, args=(url, w.code, k * 4, 4, queue)) for k in range(4)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in range(16)]
    for p in procs:
        p.join(60)
    assert not [r for r in results if r[0] == "error"], results
    assert all(p.exitcode == 0 for p in procs)
    for i, token in results:
        mine = ws.my_ratings(store, token)
        assert {e: r.stage for e, r in mine.items()} == {
            element: expected_stage(small_matrix, i, e, True) for e, element in enumerate(small_matrix.element_ids())}
    rows = stored_rows(store)
    assert len(rows) == len(set((p, e) for p, e, _, _ in rows)) == 16 * len(small_matrix.element_ids())
    assert [e.n for e in ws.summary(store, w.id).elements] == [16] * 3
    store.close()


def test_a_pause_during_a_burst_of_ratings_keeps_exactly_the_ones_that_were_accepted(store, workshop, small_matrix):
    people = [ws.join(store, workshop.code, f"P{i}", "GP")[1] for i in range(12)]
    accepted: list[tuple[int, str, str]] = []
    refused: list[str] = []
    lock = threading.Lock()
    go = threading.Barrier(len(people) + 1)

    def person(k: int, p) -> None:
        go.wait()
        for n in range(20):
            element = small_matrix.element_ids()[n % 3]
            stage = small_matrix.stage_ids[(k + n) % 3]
            try:
                ws.rate(store, p.token, element, stage)
            except NotOpenError as exc:
                with lock:
                    refused.append(str(exc))
            else:
                with lock:
                    accepted.append((p.id, element, stage))

    threads = [threading.Thread(target=person, args=(k, p)) for k, p in enumerate(people)]
    for t in threads:
        t.start()
    go.wait()
    ws.pause(store, workshop.id, by="fac")
    for t in threads:
        t.join(120)
    assert refused and all("paused" in m for m in refused)
    latest = {}
    for pid, element, stage in accepted:  # each person's calls are in order: the last accepted wins
        latest[(pid, element)] = stage
    assert {(p, e): s for p, e, s, _ in stored_rows(store)} == latest
    assert len(accepted) + len(refused) == 12 * 20


# ---------------------------------------------------------------------------------------------
# Codes, joining, pausing

def test_join_codes_are_unambiguous_and_unique_among_live_workshops(store, small_matrix, monkeypatch):
    setup_pcn(store)
    codes = [ws.open_workshop(store, "U90001", YEAR, small_matrix, by="fac").code for _ in range(40)]
    assert len(set(codes)) == 40
    assert all(len(c) == ws.CODE_LENGTH == 8 and set(c) <= set(ws.CODE_ALPHABET) for c in codes)
    assert not set("01OIL") & set(ws.CODE_ALPHABET)

    # A code already in use is drawn again; a closed workshop's code is free for a new one.
    draws = iter(["AAAAAAAA", "AAAAAAAA", "BBBBBBBB", "AAAAAAAA"])
    monkeypatch.setattr(ws, "new_code", lambda: next(draws))
    first = ws.open_workshop(store, "U90001", YEAR, small_matrix, by="fac")
    second = ws.open_workshop(store, "U90001", YEAR, small_matrix, by="fac")
    assert (first.code, second.code) == ("AAAAAAAA", "BBBBBBBB")
    ws.close(store, first.id, by="fac")
    third = ws.open_workshop(store, "U90001", YEAR, small_matrix, by="fac")
    assert third.code == "AAAAAAAA"
    assert ws.find_workshop(store, "aaaa aaaa").id == third.id  # the live one, typed loosely
    with pytest.raises(DuplicateError, match="used by another open workshop"):
        ws.resume(store, first.id, by="fac")
    ws.close(store, third.id, by="fac")
    assert ws.find_workshop(store, "AAAAAAAA").id == third.id  # the latest closed one
    assert ws.resume(store, first.id, by="fac").status == ws.OPEN


def test_bad_codes_and_names_get_clear_messages(store, workshop):
    with pytest.raises(InputError, match="is not a workshop code"):
        ws.join(store, "12345", "Ann", "GP")
    with pytest.raises(InputError, match="is not a workshop code"):
        ws.join(store, "ABCD0O", "Ann", "GP")  # 0 and O are never in a code
    with pytest.raises(NotFoundError, match="No workshop has the code"):
        ws.join(store, "ZZZZZZZZ" if workshop.code != "ZZZZZZZZ" else "YYYYYYYY", "Ann", "GP")
    with pytest.raises(InputError, match="Your name is required"):
        ws.join(store, workshop.code, "  ", "GP")
    ws.join(store, workshop.code, "Ann Smith", "GP")
    with pytest.raises(DuplicateError, match="already joined as"):
        ws.join(store, workshop.code, "ann  SMITH", "Practice manager")
    assert [p.name for p in ws.participants(store, workshop.id)] == ["Ann Smith"]


def test_rejoining_with_the_token_continues_where_they_left_off(store, workshop, small_matrix):
    w, p = ws.join(store, workshop.code, "Ann", "Practice manager")
    assert p.token and w.id == workshop.id
    ws.rate(store, p.token, "governance", "developing", "we meet monthly")
    again_w, again = ws.rejoin(store, p.token, workshop.code.lower())
    assert (again_w.id, again.id, again.name, again.role, again.token) == (w.id, p.id, "Ann", "Practice manager", None)
    assert {e: (r.stage, r.comment) for e, r in ws.my_ratings(store, p.token).items()} == {
        "governance": ("developing", "we meet monthly")}
    ws.rate(store, p.token, "governance", "Embedded")  # a stage's label works too; the comment is cleared
    ws.rate(store, p.token, "vision", "starting")
    ws.rate(store, p.token, "vision", None)  # taken back
    assert {e: (r.stage, r.comment) for e, r in ws.my_ratings(store, p.token).items()} == {"governance": ("embedded", None)}
    with pytest.raises(NotFoundError, match="does not match"):
        ws.rejoin(store, "not-a-token")
    other = ws.open_workshop(store, "U90001", YEAR, small_matrix, by="fac")
    with pytest.raises(NotFoundError, match="does not match"):
        ws.rejoin(store, p.token, other.code)
    with pytest.raises(InputError, match="not a stage"):
        ws.rate(store, p.token, "governance", "brilliant")
    with pytest.raises(InputError, match="not an element"):
        ws.rate(store, p.token, "nope", "starting")


def test_ratings_are_refused_while_paused_or_closed_and_nothing_changes(store, workshop):
    _, p = ws.join(store, workshop.code, "Ann", "GP")
    ws.rate(store, p.token, "governance", "starting")
    assert ws.pause(store, workshop.id, by="fac").status == ws.PAUSED
    with pytest.raises(NotOpenError, match="paused") as caught:
        ws.rate(store, p.token, "governance", "embedded")
    assert "Your earlier ratings are safe" in str(caught.value)
    _, late = ws.join(store, workshop.code, "Late Larry", "GP")  # joining while paused is fine
    assert ws.resume(store, workshop.id, by="fac").status == ws.OPEN
    ws.rate(store, late.token, "vision", "developing")
    ws.close(store, workshop.id, by="fac")
    with pytest.raises(NotOpenError, match="closed"):
        ws.rate(store, p.token, "vision", "embedded")
    with pytest.raises(NotOpenError, match="closed"):
        ws.join(store, workshop.code, "Someone", "GP")
    assert sorted((e, s) for _, e, s, _ in stored_rows(store)) == [("governance", "starting"), ("vision", "developing")]
    statuses = [(e.field, e.before, e.after, e.who, e.source) for e in store.audit(entity="workshop", newest_first=False)
                if e.field == "status"]
    src = f"workshop {workshop.code}"
    assert statuses == [("status", None, "open", "Fran Facilitator", src), ("status", "open", "paused", "fac", src),
                        ("status", "paused", "open", "fac", src), ("status", "open", "closed", "fac", src)]


def test_reveal_and_hide(store, workshop):
    assert not workshop.revealed
    assert ws.reveal(store, workshop.id, by="fac").revealed
    assert ws.get_workshop(store, workshop.id).revealed
    assert not ws.hide(store, workshop.id, by="fac").revealed


# ---------------------------------------------------------------------------------------------
# The summary

def rate_all(store, workshop, stages_by_person: dict[str, dict[str, str]]) -> None:
    for name, stages in stages_by_person.items():
        _, p = ws.join(store, workshop.code, name, "GP")
        for element, stage in stages.items():
            ws.rate(store, p.token, element, stage, f"{name} on {element}")


def test_spread_and_agreement_on_hand_worked_cases(store, workshop, small_matrix):
    # Stages: starting 0, developing 1, embedded 2 (d = 2). Agreement is Tastle and Wierman's
    # 1 + sum p log2(1 - |x - mu| / d); views differ below 0.8.
    rate_all(store, workshop, {
        # governance: 0, 0, 2, 2 -> lower median 0, IQR 2 - 0 = 2; an even split across the ends: 0
        # vision: 1, 1, 1, 2 -> median 1, IQR 0.25; mu 1.25: 1 + 3/4 log2(7/8) + 1/4 log2(5/8) = 0.686,
        #   so it differs: on a 3-stage scale one stage is half the scale
        # data-sharing: 0, 2 from two people -> median 0, IQR 1; the two ends: 0
        "A": {"governance": "starting", "vision": "developing", "data-sharing": "starting"},
        "B": {"governance": "starting", "vision": "developing", "data-sharing": "embedded"},
        "C": {"governance": "embedded", "vision": "developing"},
        "D": {"governance": "embedded", "vision": "embedded"},
    })
    s = ws.summary(store, workshop.id)
    got = {e.element_id: (e.n, e.median, e.low, e.high, e.iqr, e.split) for e in s.elements}
    assert got == {"governance": (4, 0, 0, 2, 2.0, True), "vision": (4, 1, 1, 2, 0.25, True),
                   "data-sharing": (2, 0, 0, 2, 1.0, True)}
    vision = 1 + 3 / 4 * math.log2(7 / 8) + 1 / 4 * math.log2(5 / 8)
    assert {e.element_id: e.agreement for e in s.elements} == pytest.approx(
        {"governance": 0.0, "vision": vision, "data-sharing": 0.0}, abs=1e-12)
    assert s.element("vision").agreement_words == "0.68: views differ"
    assert s.element("governance").median_stage(small_matrix) == "starting"
    assert [(r.participant, r.stage, r.comment) for r in s.element("data-sharing").ratings] == [
        ("A", "starting", "A on data-sharing"), ("B", "embedded", "B on data-sharing")]
    # Least agreement first: use of data (0) before leadership ((0 + 0.686) / 2 = 0.343).
    assert [d.domain_id for d in s.domains] == ["data", "leadership"]
    assert [d.mean_agreement for d in s.domains] == pytest.approx([0.0, vision / 2], abs=1e-12)
    assert list(s.table["element_id"]) == ["data-sharing", "governance", "vision"]
    assert s.n_split == 3 and s.n_ratings == 10


def test_the_least_agreed_domain_comes_first(store, workshop):
    rate_all(store, workshop, {"A": {"governance": "developing", "data-sharing": "starting"},
                               "B": {"governance": "developing", "data-sharing": "embedded"}})
    s = ws.summary(store, workshop.id)
    assert [d.domain_id for d in s.domains] == ["data", "leadership"]  # agreement 0 before 1
    assert list(s.table["element_id"]) == ["data-sharing", "governance", "vision"]
    assert list(s.frame["element_id"]) == ["data-sharing", "data-sharing", "governance", "governance"]
    assert list(s.profiles["participant"].unique()) == ["A", "B"]


def test_a_domain_with_no_measure_yet_goes_last_even_after_full_agreement(store, workshop):
    # data-sharing has one rating, so no measure; leadership is unanimous (1.0).
    rate_all(store, workshop, {"A": {"governance": "developing", "vision": "embedded", "data-sharing": "starting"},
                               "B": {"governance": "developing", "vision": "embedded"}})
    s = ws.summary(store, workshop.id)
    assert [(d.domain_id, d.mean_agreement) for d in s.domains] == [("leadership", 1.0), ("data", None)]
    assert s.element("data-sharing").agreement is None and not s.element("data-sharing").split
    assert s.element("data-sharing").agreement_words == "too few ratings to say"
    assert s.n_split == 0


def test_three_people_across_the_four_stage_scale_differ_and_one_off_does_not(db_url):
    # The room: Step 1, Step 2 and Step 3 on the same element used to show "split: 0".
    from matrix import load_file

    four = load_file(FIXTURES / "small_matrix_four_stages.yaml")
    with Store(db_url, matrices=[four]) as store:
        setup_pcn(store)
        w = ws.open_workshop(store, "U90001", YEAR, four, by="fac")
        rate_all(store, w, {"A": {"governance": "step-1", "vision": "step-2"},
                            "B": {"governance": "step-2", "vision": "step-2"},
                            "C": {"governance": "step-3", "vision": "step-2"},
                            "D": {"vision": "step-3"}})
        s = ws.summary(store, w.id)
        gov, vision = s.element("governance"), s.element("vision")
        assert gov.split and gov.agreement == pytest.approx(1 + 2 / 3 * math.log2(2 / 3))  # 0.61
        assert gov.agreement_words == "0.61: views differ"
        assert not vision.split and vision.agreement == pytest.approx(
            1 + 3 / 4 * math.log2(1 - 0.25 / 3) + 1 / 4 * math.log2(1 - 0.75 / 3))  # 0.80
        assert vision.agreement_words == "0.80: broad agreement"
        assert s.n_split == 1


# ---------------------------------------------------------------------------------------------
# Target stages (a workshop setting)

@pytest.fixture
def target_workshop(store, small_matrix):
    if not orgs.pcns(store):
        setup_pcn(store)
    return ws.open_workshop(store, "U90001", YEAR, small_matrix, by="fac", rate_target=True)


def test_a_workshop_rates_targets_only_when_opened_to(store, workshop, target_workshop):
    assert not workshop.rate_target and not ws.get_workshop(store, workshop.id).rate_target
    assert target_workshop.rate_target and ws.get_workshop(store, target_workshop.id).rate_target
    assert [(e.field, e.after) for e in store.audit(entity="workshop", entity_key=str(target_workshop.id))
            if e.field == "rate_target"] == [("rate_target", "true")]
    _, p = ws.join(store, workshop.code, "Ann", "GP")
    ws.rate(store, p.token, "vision", "starting")
    with pytest.raises(InputError, match=f"Workshop {workshop.code} rates the current stage only"):
        ws.rate(store, p.token, "vision", "developing", "changed", target="embedded")
    assert [(e, st, c) for _, e, st, c in stored_rows(store)] == [("vision", "starting", None)]  # nothing lost
    with pytest.raises(InputError, match="rates the current stage only"):
        ws.record_consensus(store, workshop.id, "vision", "starting", target="embedded", by="fac")
    assert ws.summary(store, workshop.id).n_agreed == 0


def test_participants_rate_targets_and_the_summary_gives_their_median(store, target_workshop, small_matrix):
    people = {}
    for name, (stage, target) in {"A": ("starting", "developing"), "B": ("starting", "embedded"),
                                  "C": ("developing", None), "D": ("developing", "embedded")}.items():
        _, p = ws.join(store, target_workshop.code, name, "GP")
        people[name] = p.token
        r = ws.rate(store, p.token, "governance", stage, target=target)
        assert (r.stage, r.target_stage) == (stage, target)
    assert ws.my_ratings(store, people["B"])["governance"].target_stage == "embedded"
    e = ws.summary(store, target_workshop.id).element("governance")
    assert [(r.participant, r.stage, r.target_stage) for r in e.ratings] == [
        ("A", "starting", "developing"), ("B", "starting", "embedded"), ("C", "developing", None),
        ("D", "developing", "embedded")]
    # Targets 1, 2, 2 (C gave none): lower median 2 = embedded; the current stages' median is 0.
    assert (e.median, e.target_median, e.target_median_stage(small_matrix)) == (0, 2, "embedded")
    assert ws.summary(store, target_workshop.id).element("vision").target_median is None
    # Re-rating replaces the target too, and a target needs a current stage.
    ws.rate(store, people["B"], "governance", "developing", target=None)
    assert ws.my_ratings(store, people["B"])["governance"].target_stage is None
    with pytest.raises(InputError, match="current stage as well"):
        ws.rate(store, people["A"], "governance", None, target="embedded")
    with pytest.raises(InputError, match="is not a target stage"):
        ws.rate(store, people["A"], "governance", "starting", target="someday")
    assert ws.my_ratings(store, people["A"])["governance"].target_stage == "developing"  # kept


def test_agreed_targets_become_the_assessments_targets(store, target_workshop, small_matrix):
    a = assessing.create_assessment(store, "U90001", YEAR, small_matrix, by="cd")
    assessing.save_rating(store, a.id, "vision", by="cd", expected_version=0, current_stage="starting",
                          target_stage="embedded", evidence="Plan")
    ws.record_consensus(store, target_workshop.id, "governance", "starting", "Aim higher", target="developing",
                        by="fac")
    ws.record_consensus(store, target_workshop.id, "vision", "developing", by="fac")  # no target agreed
    agreed = ws.summary(store, target_workshop.id).element("governance").agreed
    assert (agreed.stage, agreed.target_stage, agreed.note) == ("starting", "developing", "Aim higher")
    assert [(e.field, e.before, e.after) for e in store.audit(entity="workshop_consensus", newest_first=False)
            if e.field == "target_stage"] == [("target_stage", None, "developing")]
    result = ws.apply_consensus(store, target_workshop.id, by="fac")
    assert (result.created, result.written, result.unchanged) == (False, 2, 0)
    r = assessing.ratings(store, a.id)
    assert (r["governance"].current_stage, r["governance"].target_stage) == ("starting", "developing")
    # A target not agreed leaves the assessment's own as it was.
    assert (r["vision"].current_stage, r["vision"].target_stage, r["vision"].evidence) == (
        "developing", "embedded", "Plan")
    assert ws.apply_consensus(store, target_workshop.id, by="fac").unchanged == 2
    # Changing only the agreed target is written on the next apply.
    ws.record_consensus(store, target_workshop.id, "governance", "starting", "Aim higher", target="embedded",
                        by="fac")
    result = ws.apply_consensus(store, target_workshop.id, by="fac")
    assert (result.written, result.unchanged) == (1, 1)
    assert assessing.ratings(store, a.id)["governance"].target_stage == "embedded"
    # Removing the agreed stage removes its target with it.
    ws.record_consensus(store, target_workshop.id, "governance", None, by="fac")
    assert ws.summary(store, target_workshop.id).element("governance").agreed is None


def test_a_backup_keeps_the_targets(store, target_workshop, small_matrix, tmp_path):
    from assessments import exchange

    _, p = ws.join(store, target_workshop.code, "Ann", "GP")
    ws.rate(store, p.token, "vision", "starting", target="embedded")
    ws.record_consensus(store, target_workshop.id, "vision", "developing", target="embedded", by="fac")
    data = exchange.backup(store)
    with Store(f"sqlite:///{tmp_path / 'restored.db'}", matrices=[small_matrix]) as other:
        exchange.restore(other, data)
        w = ws.get_workshop(other, target_workshop.id)
        e = ws.summary(other, w.id).element("vision")
        assert w.rate_target and [r.target_stage for r in e.ratings] == ["embedded"]
        assert (e.agreed.stage, e.agreed.target_stage) == ("developing", "embedded")


# ---------------------------------------------------------------------------------------------
# Consensus and the assessment

def test_consensus_becomes_the_assessment_and_keeps_the_individual_ratings(store, workshop, small_matrix):
    rate_all(store, workshop, {"A": {"governance": "starting", "vision": "developing"},
                               "B": {"governance": "embedded", "vision": "developing"}})
    ws.record_consensus(store, workshop.id, "governance", "developing", "Split between practices; settled on developing",
                        by="Fran Facilitator")
    ws.record_consensus(store, workshop.id, "vision", "developing", by="Fran Facilitator")
    ws.record_consensus(store, workshop.id, "data-sharing", "starting", by="Fran Facilitator")
    ws.record_consensus(store, workshop.id, "data-sharing", None, by="Fran Facilitator")  # taken back
    assert assessing.find_assessment(store, "U90001", YEAR) is None

    result = ws.apply_consensus(store, workshop.id, by="Fran Facilitator")
    assert (result.created, result.written, result.unchanged) == (True, 2, 0)
    a = assessing.find_assessment(store, "U90001", YEAR)
    assert a.id == result.assessment_id and a.status == "draft"
    ratings = assessing.ratings(store, a.id)
    assert {e: r.current_stage for e, r in ratings.items()} == {"governance": "developing", "vision": "developing"}
    assert ratings["governance"].note.startswith(f"Agreed at workshop {workshop.code} on ")
    assert ratings["governance"].note.endswith(": Split between practices; settled on developing")
    assert ratings["vision"].note is None
    sources = {e.source for e in store.audit(entity="rating")} | {e.source for e in store.audit(entity="assessment")}
    assert sources == {f"workshop {workshop.code}"}
    assert {e.who for e in store.audit(entity="rating")} == {"Fran Facilitator"}
    # The individual ratings are still there.
    s = ws.summary(store, workshop.id)
    assert [(e.element_id, e.n) for e in s.elements] == [("governance", 2), ("vision", 2), ("data-sharing", 0)]
    assert s.element("governance").agreed.stage == "developing"
    w = ws.get_workshop(store, workshop.id)
    assert (w.applied_by, w.applied_assessment_id) == ("Fran Facilitator", a.id)
    # Writing again changes nothing.
    again = ws.apply_consensus(store, workshop.id, by="Fran Facilitator")
    assert (again.created, again.written, again.unchanged) == (False, 0, 2)
    assert assessing.ratings(store, a.id) == ratings


def test_consensus_into_an_existing_draft_keeps_other_notes_and_fields(store, workshop, small_matrix):
    a = assessing.create_assessment(store, "U90001", YEAR, small_matrix, by="cd")
    assessing.save_rating(store, a.id, "governance", by="cd", expected_version=0, current_stage="starting",
                      target_stage="embedded", evidence="Minutes", note="Board minutes from May")
    assessing.save_rating(store, a.id, "data-sharing", by="cd", expected_version=0, current_stage="embedded")
    ws.record_consensus(store, workshop.id, "governance", "developing", "First note", by="fac")
    ws.apply_consensus(store, workshop.id, by="fac")
    ws.record_consensus(store, workshop.id, "governance", "developing", "Second thoughts", by="fac")
    result = ws.apply_consensus(store, workshop.id, by="fac")
    assert (result.created, result.written) == (False, 1)
    r = assessing.ratings(store, a.id)
    assert (r["governance"].current_stage, r["governance"].target_stage, r["governance"].evidence) == (
        "developing", "embedded", "Minutes")
    paragraphs = r["governance"].note.split("\n\n")
    assert paragraphs[0] == "Board minutes from May" and len(paragraphs) == 2
    assert paragraphs[1].endswith(": Second thoughts")  # this workshop's paragraph replaced, not repeated
    assert r["data-sharing"].current_stage == "embedded"  # not agreed at the workshop: untouched


def test_a_locked_assessment_refuses_with_a_clear_message_and_nothing_is_written(store, workshop, small_matrix):
    a = assessing.create_assessment(store, "U90001", YEAR, small_matrix, by="cd")
    assessing.save_rating(store, a.id, "governance", by="cd", expected_version=0, current_stage="starting")
    agreed = assessing.agree_assessment(store, a.id, by="Dr Lead", expected_version=1)
    ws.record_consensus(store, workshop.id, "governance", "embedded", by="fac")
    audit_before = store.counts()["audit_log"]
    with pytest.raises(LockedError) as caught:
        ws.apply_consensus(store, workshop.id, by="fac")
    message = str(caught.value)
    assert f"The {YEAR} assessment of U90001 was agreed by Dr Lead" in message
    assert "locked" in message and f"nothing from workshop {workshop.code} was written" in message
    assert "Open a new draft" in message
    assert assessing.ratings(store, a.id)["governance"].current_stage == "starting"
    assert store.counts()["audit_log"] == audit_before
    assert ws.get_workshop(store, workshop.id).applied_at is None
    # After opening a new draft the same call goes through.
    draft = assessing.open_revision(store, agreed.id, by="cd")
    assert ws.apply_consensus(store, workshop.id, by="fac").assessment_id == draft.id
    assert assessing.ratings(store, draft.id)["governance"].current_stage == "embedded"


def test_nothing_agreed_or_another_matrix_version_is_refused(store, workshop, small_matrix):
    with pytest.raises(InputError, match="No agreed stages are recorded yet"):
        ws.apply_consensus(store, workshop.id, by="fac")
    newer = small_matrix.model_copy(update={"version": "2.0"})
    assessing.create_assessment(store, "U90001", YEAR, newer, by="cd")
    ws.record_consensus(store, workshop.id, "vision", "starting", by="fac")
    with pytest.raises(InputError, match="uses version 2.0 of the matrix"):
        ws.apply_consensus(store, workshop.id, by="fac")


def test_consensus_input_is_checked(store, workshop):
    with pytest.raises(InputError, match="is not a stage"):
        ws.record_consensus(store, workshop.id, "vision", "superb", by="fac")
    with pytest.raises(InputError, match="required"):
        ws.record_consensus(store, workshop.id, "vision", "starting", by=" ")
    assert ws.summary(store, workshop.id).n_agreed == 0


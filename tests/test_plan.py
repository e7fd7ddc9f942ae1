"""The development plan: suggested priorities and funding flags worked out by hand, and the stored
plan (save, read back, conflicts, all-or-nothing action saves, audit) on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from assessments import plan as P
from assessments.scoring import Snapshot
from assessments.values import ConflictError, InputError, NotFoundError
from matrix import discover, load_text
from assessments import ratings as assessing
from assessments import organisations as orgs

MATRIX = load_text("""
kind: maturity-matrix
id: hand-matrix
version: "1"
title: Hand-worked matrix
source: Written for these tests.
stages:
""" + "".join(f"  - {{id: s{i}, label: Stage {i}, meaning: Stage {i}.}}\n" for i in range(4)) + """
domains:
""" + "".join(f"""  - id: {d}
    title: Domain {d.upper()}
    summary: Domain {d}.
    elements:
""" + "".join(f"""      - id: {d}{k}
        title: Element {d.upper()}{k}
        descriptors: {{s0: a, s1: b, s2: c, s3: d}}
        evidence_prompts: [Anything]
""" for k in (1, 2)) for d in "abc"))


def snap(**stages: tuple[int | None, int | None]) -> Snapshot:
    ratings = [SimpleNamespace(element_id=e, current_stage=None if c is None else f"s{c}",
                               target_stage=None if t is None else f"s{t}") for e, (c, t) in stages.items()]
    return Snapshot("2024/25", MATRIX, ratings)


# ---------------------------------------------------------------------------------------------
# Suggested priorities

def test_suggestions_put_the_largest_gap_first_then_the_lowest_domain():
    # Domain scores: A = (2 + 2) / 2 = 2.0, B = (0 + 1) / 2 = 0.5 (lowest), C = (2 + 0) / 2 = 1.0.
    # Gaps: a1 1, a2 0, b1 3, b2 1, c1 0, c2 1. a2 and c1 have no gap and are not in B: left out.
    s = snap(a1=(2, 3), a2=(2, 2), b1=(0, 3), b2=(1, 2), c1=(2, 2), c2=(0, 1))
    got = P.suggest_priorities(s, n=5)
    # b1 (gap 3); then the gap-1 elements: b2 (lowest domain), c2 (domain 1.0), a1 (domain 2.0).
    assert [g.element_id for g in got] == ["b1", "b2", "c2", "a1"]
    assert [g.gap for g in got] == [3, 1, 1, 1]
    assert got[0].reason == ("3 stages from its target (Stage 0 now, Stage 3 wanted); "
                             "in Domain B, the domain with the lowest score (0.5)")
    assert got[2].reasons == ("1 stage from its target (Stage 0 now, Stage 1 wanted)",)
    assert (got[0].current_label, got[0].target_label, got[0].domain_title) == ("Stage 0", "Stage 3", "Domain B")
    assert [g.element_id for g in P.suggest_priorities(s, n=2)] == ["b1", "b2"]


def test_the_lowest_domain_always_gets_a_place():
    # A = (0 + 3) / 2 = 1.5, B = 1.0 (lowest, no gaps), C = 2.0. By gap alone: a1 (3), c1 (1), c2 (1).
    s = snap(a1=(0, 3), a2=(3, 3), b1=(1, 1), b2=(1, None), c1=(2, 3), c2=(2, 3))
    assert [g.element_id for g in P.suggest_priorities(s, n=3)] == ["a1", "c1", "b1"]
    b1 = P.suggest_priorities(s, n=3)[-1]
    assert b1.gap == 0 and b1.target_label == "Stage 1"
    assert b1.reason == "In Domain B, the domain with the lowest score (1.0); at Stage 1 now"
    # With room for everyone the order is by gap, then the lowest domain, then domain score.
    assert [g.element_id for g in P.suggest_priorities(s, n=10)] == ["a1", "c1", "c2", "b1", "b2"]


def test_top_stage_and_unrated_elements_are_never_suggested():
    s = snap(a1=(3, 3), a2=(None, 3), b1=(1, 2))
    assert [g.element_id for g in P.suggest_priorities(s)] == ["b1"]
    assert P.suggest_priorities(snap()) == []
    assert P.suggest_priorities(s, n=0) == []


# ---------------------------------------------------------------------------------------------
# Funding eligibility

FUNDING = load_text("""
kind: development-funding
id: hand-funding
version: "1"
title: Hand-worked funding rules
source: Written for these tests.
categories:
  - {id: coaching, title: Coaching, eligible: true, keywords: [coaching]}
  - {id: running-costs, title: Running costs, eligible: false, reason: Not for running costs., keywords: [premises rent, business as usual]}
  - {id: recurrent, title: Recurrent commitments, eligible: false, reason: Paid once only., keywords: [permanent post, arrs]}
""")


def action(what="Leadership coaching for the clinical director", category="coaching",
           source=P.DEVELOPMENT_FUNDING, support_needed=None, support_from=None):
    return {"what": what, "funding_category": category, "funding_source": source,
            "support_needed": support_needed, "support_from": support_from}


def test_an_eligible_category_without_ineligible_words_is_not_flagged():
    assert P.check_funding(action(), FUNDING) == []
    assert P.check_funding(action(category=None), FUNDING) == []


def test_an_ineligible_category_is_flagged_with_its_reason():
    [flag] = P.check_funding(action(what="Cover the heating bill", category="running-costs"), FUNDING)
    assert (flag.category_id, flag.keyword, flag.reason) == ("running-costs", None, "Not for running costs.")
    assert "Running costs" in flag.message and "Not for running costs." in flag.message


def test_ineligible_keywords_are_flagged_whole_words_any_case_or_punctuation():
    [flag] = P.check_funding(action(what="Coaching, then a PERMANENT post for the lead"), FUNDING)
    assert (flag.category_id, flag.keyword) == ("recurrent", "permanent post")
    [flag] = P.check_funding(action(support_needed="Business-as-usual cover"), FUNDING)
    assert flag.category_id == "running-costs"
    [flag] = P.check_funding(action(support_from="ARRS budget"), FUNDING)
    assert flag.keyword == "arrs"
    # Parts of words do not count.
    assert P.check_funding(action(what="Coaching on permanent posters and barrs"), FUNDING) == []


def test_category_and_keywords_together_give_one_flag_per_category():
    flags = P.check_funding(action(what="Premises rent and a permanent post", category="running-costs"), FUNDING)
    assert [(f.category_id, f.keyword) for f in flags] == [("running-costs", None), ("recurrent", "permanent post")]


def test_actions_not_asking_for_development_funding_are_not_flagged():
    assert P.check_funding(action(what="Premises rent", category=None, source="Practice"), FUNDING) == []
    assert P.check_funding(action(what="Premises rent", category=None, source=None), FUNDING) == []


def test_the_shipped_funding_rules_flag_the_obvious_cases():
    rules = discover().default_funding()
    assert rules is not None
    assert P.check_funding(action(what="Fixed-term project manager for the MDT work",
                                  category="transformation-capacity"), rules) == []
    [flag] = P.check_funding(action(what="Extra clinic sessions for vaccination", category="collaborative-working"), rules)
    assert flag.category_id == "clinical-delivery"
    [flag] = P.check_funding(action(what="Anything", category="recurrent-commitments"), rules)
    assert "paid once" in flag.reason


# ---------------------------------------------------------------------------------------------
# Checking typed values

def test_typed_values_are_cleaned_or_reported_per_field():
    clean, problems = P.check_action({"what": " Away day ", "due": "31/03/2025", "cost": "£1,250.50", "step": "Step 3",
                                      "status": "In progress", "funding_source": "pcn development funding",
                                      "funding_category": "Leadership development and coaching"},
                                     funding=discover().default_funding())
    assert problems == []
    assert clean == {"what": "Away day", "due": date(2025, 3, 31), "cost": Decimal("1250.50"), "step": 3,
                     "status": "in progress", "funding_source": P.DEVELOPMENT_FUNDING,
                     "funding_category": "leadership-development"}
    _, problems = P.check_action({"what": "", "due": "soon", "cost": -5, "step": 9, "status": "maybe",
                                  "funding_source": "lottery", "funding_category": "sweets"},
                                 funding=discover().default_funding())
    assert [f for f, _ in problems] == ["what", "due", "status", "step", "cost", "funding_source", "funding_category"]
    messages = dict(problems)
    assert "not a date" in messages["due"] and "negative" in messages["cost"] and "1 to 6" in messages["step"]
    assert P.parse_cost(1250.5) == Decimal("1250.50") and P.parse_cost(None) is None
    with pytest.raises(InputError, match="fractions of a penny"):
        P.parse_cost("1.005")


def test_blank_editor_rows_are_skipped_and_problems_name_row_and_column():
    rows = [{"what": "Fine"}, {"what": None, "status": "not started"}, {"what": "Bad", "due": "tomorrow"}]
    cleaned, problems = P.validate_actions(rows)
    assert [c["what"] for c in cleaned] == ["Fine", "Bad"]
    assert [(p.row, p.field, p.label) for p in problems] == [(2, "due", "Due date")]
    assert str(problems[0]).startswith("row 3, Due date:")


# ---------------------------------------------------------------------------------------------
# Stored plans

def seed(store, matrix):
    orgs.add_ics(store, "QZZ", "Test ICS", by="setup")
    orgs.add_pcn(store, "U90001", "Zoë's PCN", ics_code="QZZ", list_size=30_000, by="setup")
    orgs.add_pcn(store, "U90002", "Other PCN", ics_code="QZZ", list_size=30_000, by="setup")
    assessing.create_assessment(store, "U90001", "2024/25", matrix, by="setup")


def test_a_plan_saves_and_reads_back(store, small_matrix):
    seed(store, small_matrix)
    assert P.get_plan(store, "U90001", "2024/25") is None
    assert P.plan_or_empty(store, "U90001", "2024/25").version == 0
    saved = P.save_plan(store, "U90001", "2024/25", by="Ann", expected_version=0,
                        service_priority="Weekly care-home rounds with the community team", service_spec="Enhanced health in care homes",
                        notes="Agreed at the March board", priorities=[("data-sharing", "Biggest gap"), "governance"])
    got = P.get_plan(store, "U90001", "2024/25")
    assert got == saved
    assert (got.version, got.service_spec, got.notes, got.created_by) == (1, "care-homes", "Agreed at the March board", "Ann")
    assert [(p.element_id, p.position, p.reason) for p in got.priorities] == [
        ("data-sharing", 1, "Biggest gap"), ("governance", 2, None)]
    # Reordering the priorities is a change of the plan: new version, audited.
    again = P.save_plan(store, "U90001", "2024/25", by="Bob", expected_version=1, priorities=["governance", "data-sharing"])
    assert again.version == 2 and [p.element_id for p in again.priorities] == ["governance", "data-sharing"]
    assert again.notes == "Agreed at the March board"  # left as it was
    [entry] = store.audit(entity="plan", entity_key="U90001/2024/25", limit=1)
    assert (entry.who, entry.field, entry.before, entry.after) == (
        "Bob", "priorities", '["data-sharing", "governance"]', '["governance", "data-sharing"]')
    # Saving the same values again changes nothing.
    assert P.save_plan(store, "U90001", "2024/25", by="Bob", expected_version=2, priorities=["governance", "data-sharing"]).version == 2


def test_bad_plan_input_is_refused(store, small_matrix):
    seed(store, small_matrix)
    with pytest.raises(InputError, match="'finance' is not an element"):
        P.save_plan(store, "U90001", "2024/25", by="a", expected_version=0, priorities=["finance"])
    with pytest.raises(InputError, match="listed twice"):
        P.save_plan(store, "U90001", "2024/25", by="a", expected_version=0, priorities=["vision", "vision"])
    with pytest.raises(InputError, match="not one of the"):
        P.save_plan(store, "U90001", "2024/25", by="a", expected_version=0, service_spec="dentistry")
    with pytest.raises(NotFoundError):
        P.save_plan(store, "U99999", "2024/25", by="a", expected_version=0, notes="x")
    assert P.get_plan(store, "U90001", "2024/25") is None


def test_a_stale_plan_write_is_a_conflict_naming_both_values(store, small_matrix):
    seed(store, small_matrix)
    first = P.save_plan(store, "U90001", "2024/25", by="Ann", expected_version=0, service_priority="Care homes")
    P.save_plan(store, "U90001", "2024/25", by="Bob", expected_version=first.version, service_priority="Diabetes")
    with pytest.raises(ConflictError) as err:
        P.save_plan(store, "U90001", "2024/25", by="Cy", expected_version=first.version, service_priority="Frailty")
    assert "'Frailty'" in str(err.value) and "'Diabetes'" in str(err.value) and "Bob" in str(err.value)
    # Two people starting the same plan: the second is told, not merged.
    with pytest.raises(ConflictError):
        P.save_plan(store, "U90001", "2024/25", by="Dee", expected_version=0, notes="mine")
    assert P.get_plan(store, "U90001", "2024/25").service_priority == "Diabetes"


def test_actions_save_in_order_and_read_back(store, small_matrix):
    seed(store, small_matrix)
    rows = [dict(what="Away day with a facilitator", owner="Dr Ñúñez", due="31/03/2025", status="in progress", step=3,
                 support_needed="Facilitation", support_from="CSU", cost="1,250", funding_source=P.DEVELOPMENT_FUNDING,
                 funding_category="organisational-development"),
            dict(what="Share the plan with the board", due=date(2025, 1, 15))]
    plan = P.save_actions(store, "U90001", "2024/25", rows, by="Ann")
    assert plan.version == 1  # created on the way
    a, b = plan.actions
    assert (a.position, a.what, a.owner, a.due, a.status, a.step, a.cost, a.funding_category) == (
        1, "Away day with a facilitator", "Dr Ñúñez", date(2025, 3, 31), "in progress", 3, Decimal("1250.00"),
        "organisational-development")
    assert (b.position, b.status, b.cost, b.funding_source) == (2, "not started", None, None)
    assert plan.total_cost == Decimal("1250.00")
    # Swap them, change one, delete nothing: positions and the change are saved, versions move.
    plan = P.save_actions(store, "U90001", "2024/25", [
        {"id": b.id, "version": b.version, **b.values(), "status": "done"},
        {"id": a.id, "version": a.version, **a.values()}], by="Bob")
    assert [(x.what, x.position, x.status, x.version) for x in plan.actions] == [
        ("Share the plan with the board", 1, "done", 2), ("Away day with a facilitator", 2, "in progress", 2)]
    entries = store.audit(entity="plan_action", entity_key=f"U90001/2024/25/{b.id}", newest_first=False)
    assert sorted((e.field, e.before, e.after) for e in entries if e.who == "Bob") == [
        ("position", "2", "1"), ("status", "not started", "done")]
    # Delete one.
    done = plan.actions[0]
    plan = P.save_actions(store, "U90001", "2024/25", [plan.actions[1].values() | {"id": plan.actions[1].id,
                                                                                  "version": plan.actions[1].version}],
                          deleted={done.id: done.version}, by="Cy")
    assert [x.what for x in plan.actions] == ["Away day with a facilitator"]
    gone = store.audit(entity="plan_action", entity_key=f"U90001/2024/25/{done.id}", limit=20)
    assert {(e.field, e.after) for e in gone if e.who == "Cy"} >= {("what", None), ("status", None)}


def test_one_bad_action_row_saves_nothing(store, small_matrix):
    seed(store, small_matrix)
    before = store.data_version()
    with pytest.raises(P.ActionProblems) as err:
        P.save_actions(store, "U90001", "2024/25", [dict(what="Good one", cost=100),
                                                    dict(what="Bad one", due="next week", cost="-20")], by="Ann")
    assert [(p.row, p.field) for p in err.value.problems] == [(1, "due"), (1, "cost")]
    assert "nothing was saved" in str(err.value)
    assert P.get_plan(store, "U90001", "2024/25") is None
    assert store.data_version() == before


def test_a_stale_action_write_is_a_conflict_and_writes_nothing(store, small_matrix):
    seed(store, small_matrix)
    plan = P.save_actions(store, "U90001", "2024/25", [dict(what="One", owner="Ann"), dict(what="Two")], by="Ann")
    one, two = plan.actions
    P.update_action(store, one.id, by="Bob", expected_version=one.version, owner="Bob")
    with pytest.raises(ConflictError) as err:
        P.save_actions(store, "U90001", "2024/25", [
            {"id": two.id, "version": two.version, **two.values(), "status": "done"},
            {"id": one.id, "version": one.version, **one.values(), "owner": "Cy"}], by="Cy")
    assert "'Cy'" in str(err.value) and "'Bob'" in str(err.value)
    now = P.get_plan(store, "U90001", "2024/25")
    assert [(a.what, a.owner, a.status) for a in now.actions] == [("One", "Bob", "not started"), ("Two", None, "not started")]
    # Deleting an action someone changed is a conflict too.
    with pytest.raises(ConflictError):
        P.delete_action(store, one.id, by="Cy", expected_version=one.version)
    P.delete_action(store, two.id, by="Cy", expected_version=two.version)
    assert [a.what for a in P.get_plan(store, "U90001", "2024/25").actions] == ["One"]


def test_plans_lists_by_ics_and_year(store, small_matrix):
    seed(store, small_matrix)
    P.add_action(store, "U90002", "2024/25", by="a", what="B's action", cost=10)
    P.save_plan(store, "U90001", "2024/25", by="a", expected_version=0, notes="A's plan")
    P.save_plan(store, "U90001", "2025/26", by="a", expected_version=0, notes="next year")
    got = P.plans(store, ics_code="QZZ", year="2024/25")
    assert [(p.pcn_code, p.year, len(p.actions)) for p in got] == [("U90001", "2024/25", 0), ("U90002", "2024/25", 1)]
    assert len(P.plans(store)) == 3


# ---------------------------------------------------------------------------------------------
# Links to priorities and elements, and the actions under them (issue 16)

def test_links_are_read_from_ids_titles_priority_numbers_and_the_service_priority():
    chosen = ["b1", "c2"]
    assert P.parse_links("Element A1; priority 2\nservice-improvement priority", MATRIX, chosen) == (
        P.SERVICE_LINK, "a1", "c2")
    assert P.parse_links(["b2", "P1", "element b2"], MATRIX, chosen) == ("b1", "b2")  # each once; titles in any case
    assert P.parse_links(None, MATRIX) == () and P.parse_links("  ;  ", MATRIX) == ()
    with pytest.raises(InputError, match="'Finance' is not a priority or an element of Hand-worked matrix 1"):
        P.parse_links("Element A1; Finance", MATRIX, chosen)
    with pytest.raises(InputError, match="there is no priority 3: the plan has 2 chosen"):
        P.parse_links("priority 3", MATRIX, chosen)
    with pytest.raises(InputError, match="no priorities are chosen yet"):
        P.parse_links("P1", MATRIX)
    _, problems = P.check_action({"what": "x", "links": "Nowhere"}, matrix=MATRIX)
    assert [f for f, _ in problems] == ["links"]


def _action(n: int, links: tuple[str, ...]) -> P.Action:
    return P.Action(n, 1, n, f"Action {n}", None, None, "not started", None, None, None, None, None, None, "t",
                    None, 1, links)


def test_actions_are_grouped_under_what_they_serve():
    plan = P.Plan(1, "U90001", "2024/25", service_priority="Care homes",
                  priorities=(P.Priority("b1", 1, None), P.Priority("c2", 2, None)),
                  actions=(_action(1, ("b1",)), _action(2, (P.SERVICE_LINK, "a2", "b1")), _action(3, ()),
                           _action(4, ("a1",))))
    groups = P.group_actions(plan, MATRIX)
    assert [(g.kind, g.title, g.detail, [n for n, _ in g.actions]) for g in groups] == [
        ("service", "Service-improvement priority", "Care homes", [2]),
        ("priority", "Priority 1: Element B1", "Domain B", [1, 2]),
        ("priority", "Priority 2: Element C2", "Domain C", []),  # a priority nobody acts on still shows
        ("element", "Element A1", "Domain A", [4]),  # other elements in matrix order
        ("element", "Element A2", "Domain A", [2]),
        ("unlinked", "Not linked to a priority or element", None, [3])]
    # Without a service-improvement priority or anything linked to it, there is no such group.
    bare = P.Plan(1, "U90001", "2024/25", actions=(_action(1, ()),))
    assert [g.kind for g in P.group_actions(bare, MATRIX)] == ["unlinked"]


def test_links_are_stored_audited_and_change_the_actions_version(store, small_matrix):
    seed(store, small_matrix)
    P.save_plan(store, "U90001", "2024/25", by="Ann", expected_version=0, priorities=["vision", "governance"],
                service_priority="Care homes")
    plan = P.save_actions(store, "U90001", "2024/25", [
        dict(what="Away day", links="priority 1; Service-improvement priority"),
        dict(what="Data-sharing agreement", links=["Data sharing", "P2"]),
        dict(what="Newsletter")], by="Ann")
    one, two, three = plan.actions
    assert [a.links for a in plan.actions] == [(P.SERVICE_LINK, "vision"), ("data-sharing", "governance"), ()]
    assert [(g.key, [n for n, _ in g.actions]) for g in P.group_actions(plan, small_matrix)] == [
        (P.SERVICE_LINK, [1]), ("vision", [1]), ("governance", [2]), ("data-sharing", [2]), (None, [3])]
    # A change of links alone is a change of the action: its version moves, the change log says so.
    moved = P.update_action(store, three.id, by="Bob", expected_version=three.version, links=["Governance"])
    assert (moved.links, moved.version) == (("governance",), three.version + 1)
    [entry] = store.audit(entity="plan_action", entity_key=f"U90001/2024/25/{three.id}", limit=1)
    assert (entry.who, entry.field, entry.before, entry.after) == ("Bob", "links", None, "governance")
    # Unlinking, and a link to what is not in the matrix, which saves nothing.
    P.update_action(store, one.id, by="Bob", expected_version=one.version, links=[])
    with pytest.raises(P.ActionProblems, match="'Finance' is not a priority"):
        P.save_actions(store, "U90001", "2024/25", [{"id": two.id, "version": two.version, **two.values(),
                                                     "links": "Finance"}], by="Cy")
    assert [a.links for a in P.get_plan(store, "U90001", "2024/25").actions] == [
        (), ("data-sharing", "governance"), ("governance",)]
    # A stale link change is a conflict like any other.
    with pytest.raises(ConflictError):
        P.update_action(store, three.id, by="Cy", expected_version=three.version, links=["Shared vision"])
    # Deleting an action takes its links with it.
    P.delete_action(store, two.id, by="Cy", expected_version=two.version)
    with store.read() as r:
        from assessments.records.tables import PlanActionLinkRow
        assert {x.action_id for x in r.rows(PlanActionLinkRow)} == {three.id}


# ---------------------------------------------------------------------------------------------
# Requests that support already funded should meet first (the development-support guidance)

def test_existing_support_is_noted_for_requests_it_should_meet_first():
    rules = discover().default_funding()
    # Chosen category with support that already exists: the ICB's programme for clinical directors.
    [note] = P.existing_support_notes(action(what="Course for the CD", category="leadership-development"), rules)
    assert (note.category_id, note.keyword) == ("leadership-development", None)
    assert "clinical directors" in note.existing and "first see whether support that is already funded" in note.message
    # Found by its words, without a category.
    [note] = P.existing_support_notes(action(what="Risk stratification for the frail", category=None), rules)
    assert (note.category_id, note.keyword) == ("phm-analytics", "risk stratification")
    # Not asking for development funding, or a category with no such support: no note.
    assert P.existing_support_notes(action(what="Coaching", category=None, source="Practice"), rules) == []
    assert P.existing_support_notes(action(what="Project manager", category="transformation-capacity"), rules) == []
    # Rules without the field note nothing (the hand-worked rules above).
    assert P.existing_support_notes(action(), FUNDING) == []


# ---------------------------------------------------------------------------------------------
# The clinical director's development part

def test_the_clinical_directors_part_saves_reads_back_and_is_audited(store, small_matrix):
    seed(store, small_matrix)
    areas = [a.id for a in P.leadership_areas(store.funding())]
    assert areas == ["managing-change", "using-data", "finances", "team-and-workforce", "influencing-stakeholders",
                     "involving-the-public"]
    plan = P.save_cd_development(store, "U90001", "2024/25", {
        "involving-the-public": {"wants": "Run a patient panel", "provider": "Healthwatch"},
        "managing-change": ("Coaching through the merger", "The ICB's programme"),
        "finances": {"wants": "  ", "provider": None}}, by="Dr Lee", expected_version=0)
    # In the programme's order; an area with nothing in it is left out.
    assert [(c.area_id, c.title, c.wants, c.provider) for c in plan.cd_development] == [
        ("managing-change", "Managing change", "Coaching through the merger", "The ICB's programme"),
        ("involving-the-public", "Involving the public", "Run a patient panel", "Healthwatch")]
    assert plan.version == 1 and not plan.is_empty
    again = P.save_cd_development(store, "U90001", "2024/25", {"managing-change": ("Coaching", "The ICB's programme")},
                                  by="Dr Lee", expected_version=1)
    assert again.version == 2 and [c.area_id for c in again.cd_development] == ["managing-change"]
    changes = {(e.entity_key.rsplit("/", 1)[-1], e.field, e.after)
               for e in store.audit(entity="plan_cd_development", limit=20) if e.who == "Dr Lee"}
    assert ("involving-the-public", "wants", None) in changes and ("managing-change", "wants", "Coaching") in changes
    with pytest.raises(ConflictError):
        P.save_cd_development(store, "U90001", "2024/25", {}, by="Sam", expected_version=1)
    with pytest.raises(InputError, match="'golf' is not a leadership area"):
        P.save_cd_development(store, "U90001", "2024/25", {"golf": ("Lessons", None)}, by="Sam", expected_version=2)


# ---------------------------------------------------------------------------------------------
# Versions shared with the ICS and commissioners

def test_a_shared_version_exports_the_same_text_after_the_live_plan_changed(tmp_path):
    """The PDF shared is kept: exported again (here and by the command line) after the plan, its
    actions and its clinical director's part changed, its bytes and its text are those shared."""
    import io
    import subprocess
    import sys

    from pypdf import PdfReader

    from assessments.demo import load_demo
    from assessments.store import Store
    from reports.pdf import plan_pdf
    from reports.sharing import share_plan_version

    def text(pdf: bytes) -> str:
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    with Store(url) as store:
        load_demo(store)
        plan = P.save_plan(store, "U99001", "2024/25", by="Dr Lee", expected_version=0,
                           service_priority="Weekly rounds in every care home")
        plan = P.save_actions(store, "U99001", "2024/25", [dict(what="Away day for the practices", owner="Ann",
                                                                 links="service")], by="Dr Lee")
        v = share_plan_version(store, "U99001", "2024/25", expected_version=plan.version, by="Dr Lee",
                               note="Agreed at the board", charts=False)
        assert (v.number, v.shared_by, v.note) == (1, "Dr Lee", "Agreed at the board")
        shared = P.shared_pdf(store, "U99001", "2024/25", 1)
        as_shared = text(shared)
        assert "Away day for the practices" in as_shared and "Version 1, shared with the ICS and commissioners by " \
            "Dr Lee" in " ".join(as_shared.split())

        # The live plan moves on.
        live = P.get_plan(store, "U99001", "2024/25")
        [a] = live.actions
        P.update_action(store, a.id, by="Dr Lee", expected_version=a.version, what="Two away days", owner="Bea")
        P.add_action(store, "U99001", "2024/25", by="Dr Lee", what="Recruit a care co-ordinator")
        live = P.get_plan(store, "U99001", "2024/25")
        P.save_cd_development(store, "U99001", "2024/25", {"finances": ("Budget training", "The ICB")}, by="Dr Lee",
                              expected_version=live.version)
        now = text(plan_pdf(store, "U99001", "2024/25", charts=False))
        assert "Recruit a care co-ordinator" in now and "Version 1, shared" not in now

        # The shared version does not.
        again = P.shared_pdf(store, "U99001", "2024/25", 1)
        assert again == shared and text(again) == as_shared
        assert "Recruit a care co-ordinator" not in as_shared and "Budget training" not in as_shared
        # A version made from a plan someone changed meanwhile is refused, and nothing is stored.
        with pytest.raises(ConflictError):
            share_plan_version(store, "U99001", "2024/25", expected_version=plan.version, by="Dr Lee", charts=False)
        assert [x.number for x in P.shared_versions(store, "U99001", "2024/25")] == [1]
        with pytest.raises(NotFoundError, match="its shared versions are 1"):
            P.shared_pdf(store, "U99001", "2024/25", 2)

    # The command line writes the same bytes.
    out = tmp_path / "shared.pdf"
    env = {**__import__("os").environ, "PCN_DATABASE_URL": url}
    done = subprocess.run([sys.executable, "cli.py", "export-plan", "--pcn", "U99001", "--year", "2024/25",
                           "--shared", "1", "-o", str(out)], env=env, capture_output=True, text=True,
                          cwd=__import__("pathlib").Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    assert "version 1 of the 2024/25 plan" in done.stdout and "shared by Dr Lee" in done.stdout
    assert out.read_bytes() == shared and text(out.read_bytes()) == as_shared
    missing = subprocess.run([sys.executable, "cli.py", "export-plan", "--pcn", "U99001", "--year", "2024/25",
                              "--shared", "7", "-o", str(tmp_path / "x.pdf")], env=env, capture_output=True,
                             text=True, cwd=__import__("pathlib").Path(__file__).resolve().parents[1])
    assert missing.returncode == 1 and "no shared version 7" in missing.stderr


def test_sharing_needs_a_pdf_and_a_saved_plan(store, small_matrix):
    seed(store, small_matrix)
    with pytest.raises(NotFoundError, match="no 2024/25 plan to share"):
        P.share_version(store, "U90001", "2024/25", b"%PDF-1.7", by="Ann", expected_version=0)
    P.save_plan(store, "U90001", "2024/25", by="Ann", expected_version=0, notes="x")
    with pytest.raises(InputError, match="must be the plan's PDF"):
        P.share_version(store, "U90001", "2024/25", b"<html>", by="Ann", expected_version=1)
    first = P.share_version(store, "U90001", "2024/25", b"%PDF-1.7 one", by="Ann", expected_version=1, number=1)
    # Sharing shares the live plan too (its version moves); a PDF made to be version 1 is now late.
    assert P.get_plan(store, "U90001", "2024/25").shared and first.number == 1
    with pytest.raises(ConflictError, match="shared versions"):
        P.share_version(store, "U90001", "2024/25", b"%PDF-1.7 two", by="Bob", expected_version=2, number=1)
    second = P.share_version(store, "U90001", "2024/25", b"%PDF-1.7 two", by="Bob", expected_version=2)
    assert [(v.number, v.shared_by, v.plan_version) for v in P.shared_versions(store, "U90001", "2024/25")] == [
        (1, "Ann", 1), (2, "Bob", 2)]
    assert second.file_name == "development-plan-U90001-2024-25-shared-2.pdf"
    [entry] = store.audit(entity="plan_share", entity_key="U90001/2024/25/2", limit=1)
    assert entry.who == "Bob"

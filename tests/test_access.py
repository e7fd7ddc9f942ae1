"""Every service function, tried as every role, in and out of scope: exactly what the policy table
(assessments.access.POLICY) allows succeeds, everything else is refused with AccessDenied.

The expected outcome of each call is worked out from the policy table itself, so the table drives
both the services' checks and this test; a forged call (a page's function called with another PCN's
code) is one of the out-of-scope cases."""
from __future__ import annotations

import itertools
import tempfile
from datetime import date
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assessments import access as A
from assessments import evidence, exchange, health, matrix_files, pathway, people, plan, ratings, workshop, years
from assessments import organisations as orgs
from assessments.access import AccessDenied, Grant, Principal
from assessments.demo import load_demo
from assessments.model import NATIONAL_MATRIX_ID
from assessments.store import Store
from assessments.values import StoreError

OWN, SAME_ICS, OTHER_ICS = "U99001", "U99002", "U98001"
ICS_OF = {OWN: "QZZ", SAME_ICS: "QZZ", OTHER_ICS: "QZY"}

PRINCIPALS = {
    "administrator": Principal("admin", "Ann Admin", "ann@nhs.net", (Grant(A.ADMINISTRATOR),)),
    "facilitator": Principal("fac", "Fran Facilitator", "fran@nhs.net", (Grant(A.FACILITATOR, ics_code="QZZ"),)),
    "commissioner": Principal("com", "Cass Commissioner", "cass@nhs.net", (Grant(A.COMMISSIONER, ics_code="QZZ"),)),
    "lead": Principal("lead", "Dr Lee Lead", "lee@nhs.net", (Grant(A.LEAD, pcn_code=OWN),)),
    "member": Principal("mem", "Mo Member", "mo@nhs.net", (Grant(A.MEMBER, pcn_code=OWN),)),
    "editing member": Principal("ed", "Ed Member", "ed@nhs.net", (Grant(A.MEMBER, pcn_code=OWN, may_edit=True),)),
    "no role": Principal("nobody", "No Body", "no@nhs.net", ()),
}

_years: dict[str, itertools.count] = {}


def fresh_year(pcn: str) -> str:
    """A year nothing of that PCN is recorded in yet (each call its own). The `system` fixture sets
    the years' clock to 2090, so these can be started (assessments.years)."""
    y = next(_years.setdefault(pcn, itertools.count(2030)))
    return f"{y}/{(y + 1) % 100:02d}"


@pytest.fixture
def system(tmp_path, monkeypatch):
    _years.clear()
    monkeypatch.setattr(years, "today", lambda: date(2090, 4, 1))  # fresh_year's years can be started
    _plan_years.clear()
    monkeypatch.setenv("PCN_MATRIX_DIR", str(tmp_path / "matrices"))
    store = Store(f"sqlite:///{tmp_path / 'access.db'}")
    load_demo(store)
    orgs.add_ics(store, "QZY", "Other ICS", by="setup")
    orgs.add_pcn(store, OTHER_ICS, "Elsewhere PCN", ics_code="QZY", list_size=30_000, by="setup")
    yield store
    store.close()


# ---------------------------------------------------------------------------------------------
# Set-ups, made as the system (administrator) before each call

def draft(s: Store, pcn: str) -> int:
    return ratings.create_assessment(s, pcn, fresh_year(pcn), by="setup").id


def submitted(s: Store, pcn: str) -> int:
    a = ratings.assessment(s, draft(s, pcn))
    return ratings.submit_assessment(s, a.id, by="setup", expected_version=a.version).assessment.id


def agreed(s: Store, pcn: str) -> int:
    a = ratings.assessment(s, submitted(s, pcn))
    return ratings.agree_assessment(s, a.id, by="setup", expected_version=a.version).id


_evidence_drafts: dict[tuple[str, str], int] = {}  # (database, PCN) -> one draft for the evidence calls


def with_evidence(s: Store, pcn: str, then=None):
    """An evidence item with a file on a draft (one draft per PCN, which saves years), then on a
    draft of its own submitted or agreed if asked."""
    key = (str(s.url), pcn)
    if then is None and key not in _evidence_drafts:
        _evidence_drafts[key] = draft(s, pcn)
    aid = _evidence_drafts[key] if then is None else draft(s, pcn)
    item = evidence.add_evidence(s, aid, element(s), by="setup", description="Minutes",
                                 file=evidence.Upload("minutes.txt", b"Agreed at the board."))
    if then is not None:
        a = ratings.assessment(s, aid)
        a = ratings.submit_assessment(s, aid, by="setup", expected_version=a.version).assessment
        if then == "agreed":
            ratings.confirm_assessment(s, aid, by="setup", expected_version=a.version)
    return item


def saved_plan(s: Store, pcn: str, shared: bool = False) -> str:
    year = fresh_year(pcn)
    p = plan.save_plan(s, pcn, year, by="setup", expected_version=0, notes="Our plan")
    if shared:
        plan.share_plan(s, pcn, year, by="setup", expected_version=p.version)
    return year


def action(s: Store, pcn: str) -> plan.Action:
    return plan.add_action(s, pcn, fresh_year(pcn), by="setup", what="Away day")


def opened(s: Store, pcn: str) -> workshop.Workshop:
    return workshop.open_workshop(s, pcn, fresh_year(pcn), by="setup")


def element(s: Store) -> str:
    return s.default_matrix().element_ids()[0]


@dataclass(frozen=True)
class Call:
    label: str
    action: str
    setup: Callable[[Store, str], Any]
    call: Callable[[Store, str, Any], Any]
    ok: Callable[[Any], bool] = lambda result: True  # noqa: E731


def _a(s, aid):  # the version a call must name
    return ratings.assessment(s, aid).version


CALLS = [
    Call("read a draft", A.READ_DRAFTS, draft, lambda s, p, aid: ratings.assessment(s, aid)),
    Call("read a draft's ratings", A.READ_DRAFTS, draft, lambda s, p, aid: ratings.ratings(s, aid)),
    Call("find a draft by year", A.READ_DRAFTS, lambda s, p: ratings.assessment(s, draft(s, p)).year,
         lambda s, p, year: ratings.find_assessment(s, p, year), ok=lambda a: a is not None),
    Call("read a submitted draft", A.READ_SUBMITTED, submitted, lambda s, p, aid: ratings.assessment(s, aid)),
    Call("read an agreed assessment", A.READ_AGREED, agreed, lambda s, p, aid: ratings.assessment(s, aid)),
    Call("read an agreed assessment's ratings", A.READ_AGREED, agreed, lambda s, p, aid: ratings.ratings(s, aid)),
    Call("read the history", A.READ_AGREED, lambda s, p: None, lambda s, p, _: ratings.history(s, p)),
    Call("create an assessment", A.EDIT, lambda s, p: fresh_year(p),
         lambda s, p, year: ratings.create_assessment(s, p, year)),
    Call("start a year", A.EDIT, lambda s, p: fresh_year(p), lambda s, p, year: ratings.start_year(s, p, year)),
    Call("save a rating", A.EDIT, draft, lambda s, p, aid: ratings.save_rating(
        s, aid, element(s), expected_version=0, current_stage=s.default_matrix().stage_ids[1])),
    Call("discard a draft", A.EDIT, draft, lambda s, p, aid: ratings.discard_draft(s, aid, expected_version=1)),
    Call("submit for agreement", A.SUBMIT, draft,
         lambda s, p, aid: ratings.submit_assessment(s, aid, expected_version=1)),
    Call("withdraw a submission", A.SUBMIT, submitted,
         lambda s, p, aid: ratings.withdraw_submission(s, aid, expected_version=2)),
    Call("confirm an agreement", A.CONFIRM, submitted,
         lambda s, p, aid: ratings.agree_assessment(s, aid, expected_version=2)),
    Call("reopen an agreed assessment", A.CONFIRM, agreed, lambda s, p, aid: ratings.open_revision(s, aid)),
    Call("confirm a submitted assessment", A.CONFIRM, submitted,
         lambda s, p, aid: ratings.confirm_assessment(s, aid, expected_version=2)),
    Call("return a submitted assessment with a comment", A.CONFIRM, submitted,
         lambda s, p, aid: ratings.return_assessment(s, aid, expected_version=2, comment="Add the minutes")),
    Call("read a draft's evidence", A.READ_DRAFTS, with_evidence, lambda s, p, it: evidence.items(s, it.assessment_id)),
    Call("read a submitted draft's evidence", A.READ_SUBMITTED, lambda s, p: with_evidence(s, p, "submitted"),
         lambda s, p, it: evidence.item(s, it.id)),
    Call("download an agreed assessment's evidence file", A.READ_AGREED, lambda s, p: with_evidence(s, p, "agreed"),
         lambda s, p, it: evidence.file_content(s, it.id), ok=lambda got: got[1] == b"Agreed at the board."),
    Call("read a draft's evidence coverage", A.READ_DRAFTS, with_evidence,
         lambda s, p, it: evidence.coverage(s, it.assessment_id)),
    Call("read the warnings before submitting", A.READ_DRAFTS, with_evidence,
         lambda s, p, it: evidence.submission_warnings(s, it.assessment_id)),
    Call("add evidence", A.EDIT, lambda s, p: with_evidence(s, p).assessment_id, lambda s, p, aid: evidence.add_evidence(
        s, aid, element(s), description="Rota", link="https://example.org/rota",
        file=evidence.Upload("rota.csv", b"day,who\nMon,Sam\n"))),
    Call("change evidence", A.EDIT, with_evidence,
         lambda s, p, it: evidence.update_evidence(s, it.id, expected_version=it.version, description="Signed minutes")),
    Call("remove evidence", A.EDIT, with_evidence,
         lambda s, p, it: evidence.remove_evidence(s, it.id, expected_version=it.version)),
    Call("confirm evidence still holds", A.EDIT, with_evidence,
         lambda s, p, it: evidence.confirm_evidence(s, it.id, expected_version=it.version)),
    Call("confirm an element carried over", A.EDIT, with_evidence,
         lambda s, p, it: evidence.confirm_element(s, it.assessment_id, it.element_id)),
    Call("save the plan", A.EDIT, lambda s, p: fresh_year(p),
         lambda s, p, year: plan.save_plan(s, p, year, expected_version=0, notes="Edited")),
    Call("add an action", A.EDIT, lambda s, p: fresh_year(p),
         lambda s, p, year: plan.add_action(s, p, year, what="Another action")),
    Call("change an action", A.EDIT, action,
         lambda s, p, act: plan.update_action(s, act.id, expected_version=act.version, owner="Sam")),
    Call("delete an action", A.EDIT, action,
         lambda s, p, act: plan.delete_action(s, act.id, expected_version=act.version)),
    Call("share the plan", A.SUBMIT, saved_plan, lambda s, p, year: plan.share_plan(s, p, year, expected_version=1)),
    Call("read an unshared plan", A.READ_DRAFTS, saved_plan, lambda s, p, year: plan.get_plan(s, p, year),
         ok=lambda found: found is not None),
    Call("read a shared plan", A.READ_AGREED, lambda s, p: saved_plan(s, p, shared=True),
         lambda s, p, year: plan.get_plan(s, p, year), ok=lambda found: found is not None),
    Call("read the pathway", A.READ_PATHWAY, lambda s, p: None,
         lambda s, p, _: pathway.pathway_status(s, p, "2024/25")),
    Call("record a pathway step", A.EDIT_PATHWAY, lambda s, p: fresh_year(p),
         lambda s, p, year: pathway.save_step(s, p, year, 1, expected_version=0, status="in progress")),
    Call("open a workshop", A.RUN_WORKSHOP, lambda s, p: fresh_year(p),
         lambda s, p, year: workshop.open_workshop(s, p, year)),
    Call("see a workshop", A.RUN_WORKSHOP, opened, lambda s, p, w: workshop.summary(s, w.id)),
    Call("pause a workshop", A.RUN_WORKSHOP, opened, lambda s, p, w: workshop.pause(s, w.id)),
    Call("reveal a workshop's results", A.RUN_WORKSHOP, opened, lambda s, p, w: workshop.reveal(s, w.id)),
    Call("record the agreed stage", A.RUN_WORKSHOP, opened,
         lambda s, p, w: workshop.record_consensus(s, w.id, element(s), s.default_matrix().stage_ids[2])),
    Call("write the agreed stages to the assessment", A.RUN_WORKSHOP,
         lambda s, p: (w := opened(s, p), workshop.record_consensus(s, w.id, element(s), s.default_matrix().stage_ids[2],
                                                                    by="setup"))[0],
         lambda s, p, w: workshop.apply_consensus(s, w.id)),
    Call("see the PCN", A.READ_ORGANISATION, lambda s, p: None, lambda s, p, _: orgs.pcn(s, p)),
    Call("change the PCN", A.ADMINISTER, lambda s, p: orgs.pcn(s, p).version,
         lambda s, p, v: orgs.update_pcn(s, p, expected_version=v, list_size=31_000)),
    Call("back up the database", A.ADMINISTER, lambda s, p: None, lambda s, p, _: exchange.backup(s)),
    Call("export every rating", A.ADMINISTER, lambda s, p: None, lambda s, p, _: exchange.export_rows(s)),
    Call("read the change log", A.ADMINISTER, lambda s, p: None, lambda s, p, _: s.audit(limit=5)),
    Call("give a PCN member role", A.MANAGE_PEOPLE, lambda s, p: None,
         lambda s, p, _: people.grant(s, f"new.{p.lower()}@nhs.net", A.MEMBER, pcn_code=p)),
    Call("take a PCN member role away", A.MANAGE_PEOPLE,
         lambda s, p: people.grant(s, f"old.{p.lower()}@nhs.net", A.MEMBER, pcn_code=p, by="setup").email,
         lambda s, p, email: people.revoke(s, email, A.MEMBER, pcn_code=p)),
    Call("see who holds roles", A.MANAGE_PEOPLE,
         lambda s, p: people.grant(s, f"seen.{p.lower()}@nhs.net", A.MEMBER, pcn_code=p, by="setup").email,
         lambda s, p, email: people.who(s, email=email), ok=lambda found: len(found) == 1),
    Call("list everyone who signed in", A.ADMINISTER, lambda s, p: None, lambda s, p, _: people.people(s)),
    Call("read one rating", A.READ_DRAFTS, draft, lambda s, p, aid: ratings.rating(s, aid, element(s))),
    Call("read a draft with its PCN", A.READ_DRAFTS, draft, lambda s, p, aid: ratings.record(s, aid)),
    Call("read a rating's history", A.READ_DRAFTS, draft, lambda s, p, aid: ratings.rating_history(s, aid, element(s))),
    Call("read the plan's snapshot of a draft", A.READ_DRAFTS, lambda s, p: ratings.assessment(s, draft(s, p)).year,
         lambda s, p, year: plan.snapshot(s, p, year), ok=lambda snap: snap is not None),
    Call("save the action list", A.EDIT, lambda s, p: fresh_year(p),
         lambda s, p, year: plan.save_actions(s, p, year, [{"what": "Listed action"}])),
    Call("read one pathway step", A.READ_PATHWAY, lambda s, p: None,
         lambda s, p, _: pathway.step_status(s, p, "2024/25", 2)),
    Call("list the pathway's years", A.READ_PATHWAY, lambda s, p: None, lambda s, p, _: pathway.recorded_years(s, p)),
    Call("list a PCN's workshops", A.RUN_WORKSHOP, opened,
         lambda s, p, w: workshop.workshops(s, pcn_code=p), ok=lambda found: len(found) > 0),
    Call("see who joined a workshop", A.RUN_WORKSHOP, opened, lambda s, p, w: workshop.participants(s, w.id)),
    Call("resume a workshop", A.RUN_WORKSHOP, lambda s, p: workshop.pause(s, opened(s, p).id, by="setup"),
         lambda s, p, w: workshop.resume(s, w.id)),
    Call("close a workshop", A.RUN_WORKSHOP, opened, lambda s, p, w: workshop.close(s, w.id)),
    Call("hide a workshop's results", A.RUN_WORKSHOP, opened, lambda s, p, w: workshop.hide(s, w.id)),
    Call("add an ICS", A.ADMINISTER, lambda s, p: None,
         lambda s, p, _: orgs.add_ics(s, f"Q{next(_codes) % 90 + 10}", "Another ICS")),
    Call("add a PCN", A.ADMINISTER, lambda s, p: None,
         lambda s, p, _: orgs.add_pcn(s, f"U97{next(_codes):03d}", "New PCN", ics_code=ICS_OF[p], list_size=20_000)),
    Call("export the organisations", A.ADMINISTER, lambda s, p: None,
         lambda s, p, _: orgs.export_organisations(s, TMP / f"orgs-{p}-{next(_n)}.csv")),
    Call("import the organisations", A.ADMINISTER,
         lambda s, p: _file("orgs", "ics_code,ics_name,pcn_code,pcn_name,list_size\n"
                                    f"{ICS_OF[p]},{orgs.ics(s, ICS_OF[p]).name},{p},{orgs.pcn(s, p).name},31000\n"),
         lambda s, p, path: orgs.import_organisations(s, path)),
    Call("import ratings", A.ADMINISTER,
         lambda s, p: _file("ratings", f"pcn_code,year,element_id,note\n{p},{fresh_year(p)},{element(s)},Imported\n"),
         lambda s, p, path: exchange.import_ratings(s, path)),
    Call("export ratings to a file", A.ADMINISTER, lambda s, p: None,
         lambda s, p, _: exchange.export_ratings(s, TMP / f"ratings-{p}-{next(_n)}.csv")),
    Call("restore a backup (refused here by the data, not the role)", A.ADMINISTER, lambda s, p: None,
         lambda s, p, _: _past_the_check(lambda: exchange.restore(s, {"format": "nonsense"}))),
    Call("add a matrix file", A.ADMINISTER, lambda s, p: None,
         lambda s, p, _: matrix_files.add_matrix_file(s, f"extra-{p}-{next(_n)}.yaml", SMALL)),
    Call("see the system's health", A.ADMINISTER, lambda s, p: None,
         lambda s, p, _: health.health(s, backup_dir=None), ok=lambda checks: len(checks) == 4),
    Call("choose the ICS's default matrix", A.ADMINISTER,
         lambda s, p: (orgs.ics(s, ICS_OF[p]).version,
                       None if orgs.default_matrix_id(s, ICS_OF[p]) else NATIONAL_MATRIX_ID),  # a real change each time
         lambda s, p, now: orgs.set_default_matrix(s, ICS_OF[p], now[1], expected_version=now[0])),
    # Plans linked, shared as versions, and the clinical director's part (issue 16). Plans have no
    # rule of which years may be started: they take years of their own, far from the assessments'.
    Call("link an action to an element", A.EDIT,
         lambda s, p: plan.add_action(s, p, plan_year(p), by="setup", what="Away day"),
         lambda s, p, act: plan.update_action(s, act.id, expected_version=act.version, links=[element(s)])),
    Call("share a version of the plan", A.SUBMIT, lambda s, p: plan_of(s, p),
         lambda s, p, year: plan.share_version(s, p, year, b"%PDF-1.7 shared", expected_version=1)),
    Call("list the shared versions", A.READ_AGREED, lambda s, p: shared_version(s, p),
         lambda s, p, year: plan.shared_versions(s, p, year), ok=lambda found: len(found) == 1),
    Call("export a shared version's PDF", A.READ_AGREED, lambda s, p: shared_version(s, p),
         lambda s, p, year: plan.shared_pdf(s, p, year, 1), ok=lambda pdf: pdf == b"%PDF-1.7 shared"),
    Call("save the clinical director's development", A.EDIT, lambda s, p: plan_year(p),
         lambda s, p, year: plan.save_cd_development(s, p, year, {"managing-change": {"wants": "Coaching"}},
                                                     expected_version=0)),
]

_plan_years: dict[str, itertools.count] = {}


def plan_year(pcn: str) -> str:
    # Clear of fresh_year's (from 2030: over 30 setups use one each) and below the clock's 2090.
    y = next(_plan_years.setdefault(pcn, itertools.count(2070)))
    return f"{y}/{(y + 1) % 100:02d}"


def plan_of(s: Store, pcn: str) -> str:
    year = plan_year(pcn)
    plan.save_plan(s, pcn, year, by="setup", expected_version=0, notes="Our plan")
    return year


def shared_version(s: Store, pcn: str) -> str:
    year = plan_of(s, pcn)
    plan.share_version(s, pcn, year, b"%PDF-1.7 shared", by="setup", expected_version=1)
    return year

TMP: Path = Path(tempfile.mkdtemp(prefix="pcn-access-"))
SMALL = (Path(__file__).resolve().parent / "fixtures" / "small_matrix.yaml").read_bytes()
_n = itertools.count()
_codes = itertools.count()  # new ICS and PCN codes


def _file(kind: str, text: str) -> Path:
    path = TMP / f"{kind}-{next(_n)}.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _past_the_check(fn) -> bool:
    """True when the call got past the access check (it may still refuse the data itself)."""
    try:
        fn()
    except AccessDenied:
        raise
    except StoreError:
        return True
    return True


@pytest.mark.parametrize("who", list(PRINCIPALS))
def test_every_service_refuses_exactly_what_the_policy_refuses(system, who):
    principal = PRINCIPALS[who]
    scoped = system.acting(principal)
    wrong: list[str] = []
    for c, pcn in itertools.product(CALLS, (OWN, SAME_ICS, OTHER_ICS)):
        expected = A.allowed(principal, c.action, ics_code=ICS_OF[pcn], pcn_code=pcn)
        prepared = c.setup(system, pcn)
        try:
            result = c.call(scoped, pcn, prepared)
        except AccessDenied:
            succeeded = False
        else:
            succeeded = c.ok(result)
        if succeeded != expected:
            wrong.append(f"{c.label} on {pcn}: {'succeeded' if succeeded else 'refused'}, "
                         f"the policy says {'allow' if expected else 'refuse'}")
    assert not wrong, f"{who}:\n" + "\n".join(wrong)


def test_every_action_of_the_policy_is_tried():
    assert {c.action for c in CALLS} == set(A.POLICY)


def test_lists_show_each_reader_only_their_scope(system):
    """ICS-wide and national reads leave out what a reader may not see instead of refusing."""
    year = fresh_year(OWN)
    mine = ratings.create_assessment(system, OWN, year, by="setup")
    theirs = ratings.create_assessment(system, SAME_ICS, year, by="setup")
    ratings.agree_assessment(system, theirs.id, by="setup", expected_version=theirs.version)
    lead = system.acting(PRINCIPALS["lead"])
    commissioner = system.acting(PRINCIPALS["commissioner"])
    assert {a.pcn_code for a in ratings.assessments(lead, year=year)} == {OWN}
    assert {a.pcn_code for a in ratings.assessments(commissioner, year=year)} == {SAME_ICS}  # agreed only
    assert [r.pcn.code for r in ratings.portfolio(commissioner, year, ics_code="QZZ")] == [SAME_ICS]
    assert {p.code for p in orgs.pcns(lead)} == {OWN}
    assert {i.code for i in orgs.list_ics(commissioner)} == {"QZZ"}
    assert [p.code for p in orgs.pcns(system.acting(PRINCIPALS["no role"]))] == []
    assert mine.id not in {a.id for a in ratings.assessments(commissioner)}


def test_a_forged_call_with_another_pcns_code_is_refused_and_writes_nothing(system):
    """What a page would do if someone sent it another PCN's code: the service refuses."""
    other = draft(system, SAME_ICS)
    lead = system.acting(PRINCIPALS["lead"])
    before = len(system.audit())
    with pytest.raises(AccessDenied, match="may not"):
        ratings.save_rating(lead, other, element(system), expected_version=0, note="forged")
    with pytest.raises(AccessDenied):
        plan.save_plan(lead, SAME_ICS, "2024/25", expected_version=0, notes="forged")
    assert len(system.audit()) == before
    assert ratings.rating(system, other, element(system)) is None


def test_the_change_log_names_the_person_and_the_role_used(system):
    aid = draft(system, OWN)
    lead = system.acting(PRINCIPALS["lead"])
    ratings.save_rating(lead, aid, element(system), expected_version=0, note="Evidence from the board")
    [entry] = [e for e in system.audit(entity="rating", entity_key=f"{aid}/{element(system)}") if e.field == "note"]
    assert entry.who == "Dr Lee Lead <lee@nhs.net>"
    with system.read() as r:
        from assessments.records.tables import AuditRow

        row = r.first(AuditRow, id=entry.id)
    assert (row.actor_subject, row.actor_role) == ("lead", A.LEAD)


def test_roles_are_granted_within_scope_only_and_audited(system):
    lead = system.acting(PRINCIPALS["lead"])
    facilitator = system.acting(PRINCIPALS["facilitator"])
    people.grant(lead, "helper@nhs.net", A.MEMBER, pcn_code=OWN, may_edit=True)
    with pytest.raises(AccessDenied):
        people.grant(lead, "boss@nhs.net", A.LEAD, pcn_code=OWN)  # a lead hands out member roles only
    with pytest.raises(AccessDenied):
        people.grant(facilitator, "x@nhs.net", A.LEAD, pcn_code=OTHER_ICS)  # not in the facilitator's ICS
    with pytest.raises(AccessDenied):
        people.grant(facilitator, "x@nhs.net", A.ADMINISTRATOR)
    people.grant(facilitator, "newlead@nhs.net", A.LEAD, pcn_code=SAME_ICS)
    p = people.principal_for(system, subject="s1", name="Helper", email="Helper@NHS.net", via="sign-in")
    assert p.grants == (Grant(A.MEMBER, None, OWN, True),)
    assert people.revoke(lead, "helper@nhs.net", A.MEMBER, pcn_code=OWN)
    assert people.principal_for(system, subject="s1", name="Helper", email="helper@nhs.net", via="sign-in").grants == ()
    log = system.audit(entity="role_grant")
    assert {e.entity_key for e in log} >= {"helper@nhs.net/pcn-member/U99001", "newlead@nhs.net/pcn-lead/U99002"}


def test_the_first_administrators_come_from_configuration(system, monkeypatch):
    monkeypatch.setenv(people.ENV_ADMINS, "Boss@nhs.net, other@nhs.net")
    p = people.principal_for(system, subject="b", name="Boss", email="boss@nhs.net", via="sign-in")
    assert p.is_admin
    assert not people.principal_for(system, subject="c", name="C", email="c@nhs.net", via="sign-in").grants


def test_join_codes_are_rate_limited_per_device_and_workshops_have_a_cap(system, monkeypatch):
    w = opened(system, OWN)
    workshop.JOIN_LIMIT.reset()
    for _ in range(workshop.JOIN_LIMIT.limit):
        with pytest.raises(Exception, match="No workshop has the code"):
            workshop.join(system, "ZZZZZZZZ", "Guess", "GP", client="10.9.9.9")
    with pytest.raises(Exception, match="Too many wrong codes"):
        workshop.join(system, w.code, "Real", "GP", client="10.9.9.9")  # even the right code, for a while
    workshop.join(system, w.code, "Real", "GP", client="10.9.9.8")  # another device is not held up
    monkeypatch.setattr(workshop, "MAX_PARTICIPANTS", 2)
    workshop.join(system, w.code, "Second", "GP", client="10.9.9.8")
    with pytest.raises(workshop.NotOpenError, match="full"):
        workshop.join(system, w.code, "Third", "GP", client="10.9.9.8")
    workshop.JOIN_LIMIT.reset()


def test_evidence_coverage_of_an_ics_shows_each_reader_only_their_scope(system):
    year = fresh_year(OWN)
    mine = ratings.create_assessment(system, OWN, year, by="setup")
    theirs = ratings.create_assessment(system, SAME_ICS, year, by="setup")
    ratings.agree_assessment(system, theirs.id, by="setup", expected_version=theirs.version)
    lead, commissioner = system.acting(PRINCIPALS["lead"]), system.acting(PRINCIPALS["commissioner"])
    assert set(evidence.portfolio_coverage(lead, year, ics_code="QZZ")) == {mine.id}
    assert set(evidence.portfolio_coverage(commissioner, year, ics_code="QZZ")) == {theirs.id}  # agreed only
    assert set(evidence.portfolio_coverage(system.acting(PRINCIPALS["no role"]), year)) == set()

"""Agreement by two parties: the PCN lead submits, a facilitator of the PCN's ICS confirms it (it
becomes agreed) or returns it with a comment (a draft again); both steps are recorded on the
assessment and in the audit log; only the right roles may take each step; an agreed assessment
changes only through a new revision."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assessments import access as A
from assessments import evidence as ev
from assessments import organisations as orgs
from assessments import ratings as assessing
from assessments.access import AccessDenied, Grant, Principal
from assessments.model import AGREED, DRAFT, SUPERSEDED
from assessments.store import Store
from assessments.values import InputError, LockedError

PCN, OTHER = "U90001", "U90009"
LEAD = Principal("lead", "Dr Lee Lead", "lee@nhs.net", (Grant(A.LEAD, pcn_code=PCN),))
OTHER_LEAD = Principal("lead2", "Dr Other", "other@nhs.net", (Grant(A.LEAD, pcn_code=OTHER),))
MEMBER = Principal("mem", "Mo Member", "mo@nhs.net", (Grant(A.MEMBER, pcn_code=PCN, may_edit=True),))
FACILITATOR = Principal("fac", "Fran Facilitator", "fran@nhs.net", (Grant(A.FACILITATOR, ics_code="QZZ"),))
ELSEWHERE = Principal("fac2", "Far Facilitator", "far@nhs.net", (Grant(A.FACILITATOR, ics_code="QZY"),))
COMMISSIONER = Principal("com", "Cass Commissioner", "cass@nhs.net", (Grant(A.COMMISSIONER, ics_code="QZZ"),))
ADMIN = Principal("admin", "Ann Admin", "ann@nhs.net", (Grant(A.ADMINISTRATOR),))


@pytest.fixture
def store(db_url, small_matrix):
    s = Store(db_url, matrices=[small_matrix])
    orgs.add_ics(s, "QZZ", "Test ICS", by="setup")
    orgs.add_ics(s, "QZY", "Other ICS", by="setup")
    orgs.add_pcn(s, PCN, "Agreeing PCN", ics_code="QZZ", list_size=10_000, by="setup")
    orgs.add_pcn(s, OTHER, "Far PCN", ics_code="QZY", list_size=10_000, by="setup")
    yield s
    s.close()


def rated_draft(store: Store):
    a = assessing.create_assessment(store, PCN, "2024/25", by="setup")
    for e in ("governance", "vision", "data-sharing"):
        assessing.save_rating(store, a.id, e, by="setup", expected_version=0, current_stage="developing")
    return assessing.assessment(store, a.id)


def test_the_lead_submits_and_the_ics_facilitator_confirms_both_recorded(store):
    a = rated_draft(store)
    with store.acting(LEAD).batch(at=datetime(2025, 1, 10, 9, 0, tzinfo=UTC)) as uow:
        sub = assessing.submit_assessment(uow, a.id, expected_version=a.version)
    s = sub.assessment
    assert (s.status, s.submitted, s.submitted_by) == (DRAFT, True, "Dr Lee Lead <lee@nhs.net>")
    assert sub.warnings == ("3 of 3 elements have no current evidence: 'Governance', 'Shared vision', 'Data sharing'.",)
    with store.acting(FACILITATOR).batch(at=datetime(2025, 1, 20, 15, 0, tzinfo=UTC)) as uow:
        done = assessing.confirm_assessment(uow, a.id, expected_version=s.version)
    assert (done.status, done.locked, done.submitted) == (AGREED, True, False)
    assert (done.submitted_by, done.submitted_at) == ("Dr Lee Lead <lee@nhs.net>", datetime(2025, 1, 10, 9, 0, tzinfo=UTC))
    assert (done.confirmed_by, done.confirmed_at) == ("Fran Facilitator <fran@nhs.net>",
                                                      datetime(2025, 1, 20, 15, 0, tzinfo=UTC))
    log = [(e.who, e.field, e.after) for e in store.audit(entity="assessment", entity_key=str(a.id),
                                                          newest_first=False) if e.field != "pcn_code"]
    assert ("Dr Lee Lead <lee@nhs.net>", "submitted_at", "2025-01-10T09:00:00+00:00") in log
    assert ("Fran Facilitator <fran@nhs.net>", "status", AGREED) in log
    assert ("Fran Facilitator <fran@nhs.net>", "confirmed_by", "Fran Facilitator <fran@nhs.net>") in log
    with pytest.raises(LockedError, match="agreed by Fran Facilitator <fran@nhs.net> on 20 Jan 2025"):
        assessing.save_rating(store.acting(LEAD), a.id, "vision", expected_version=1, current_stage="embedded")


def test_the_facilitator_returns_it_with_a_comment_and_the_pcn_sees_a_draft_again(store):
    a = rated_draft(store)
    s = assessing.submit_assessment(store.acting(LEAD), a.id, expected_version=a.version).assessment
    fac = store.acting(FACILITATOR)
    with pytest.raises(InputError, match="comment for the PCN"):
        assessing.return_assessment(fac, a.id, expected_version=s.version, comment="  ")
    back = assessing.return_assessment(fac, a.id, expected_version=s.version,
                                       comment="Data sharing looks generous: add the signed agreement.")
    assert (back.status, back.submitted, back.locked) == (DRAFT, False, False)
    assert (back.returned_by, back.return_comment) == ("Fran Facilitator <fran@nhs.net>",
                                                       "Data sharing looks generous: add the signed agreement.")
    seen = assessing.assessment(store.acting(LEAD), a.id)
    assert seen.return_comment == back.return_comment  # the PCN sees why
    with pytest.raises(AccessDenied):
        assessing.assessment(fac, a.id)  # a draft again: the ICS no longer sees it
    fields = {e.field: e.after for e in store.audit(entity="assessment", entity_key=str(a.id))
              if e.who.startswith("Fran")}
    assert fields["return_comment"] == back.return_comment and fields["submitted_at"] is None
    # The PCN changes it and submits again; the facilitator confirms.
    assessing.save_rating(store.acting(LEAD), a.id, "data-sharing", expected_version=1, current_stage="starting")
    ev.add_evidence(store.acting(LEAD), a.id, "data-sharing", description="Signed data-sharing agreement")
    again = assessing.submit_assessment(store.acting(LEAD), a.id, expected_version=back.version).assessment
    withdrawn = assessing.withdraw_submission(store.acting(LEAD), a.id, expected_version=again.version)
    with pytest.raises(InputError, match="not waiting for agreement"):
        assessing.return_assessment(fac, a.id, expected_version=withdrawn.version, comment="x")
    again = assessing.submit_assessment(store.acting(LEAD), a.id, expected_version=withdrawn.version).assessment
    assert assessing.confirm_assessment(fac, a.id, expected_version=again.version).status == AGREED


@pytest.mark.parametrize("who, may", [(LEAD, True), (ADMIN, True), (MEMBER, False), (OTHER_LEAD, False),
                                      (FACILITATOR, False), (COMMISSIONER, False)])
def test_only_the_pcn_lead_of_that_pcn_submits_and_withdraws(store, who, may):
    a = rated_draft(store)
    if not may:
        with pytest.raises(AccessDenied):
            assessing.submit_assessment(store.acting(who), a.id, expected_version=a.version)
        s = assessing.submit_assessment(store, a.id, by="setup", expected_version=a.version).assessment
        with pytest.raises(AccessDenied):
            assessing.withdraw_submission(store.acting(who), a.id, expected_version=s.version)
        assert assessing.assessment(store, a.id).submitted
        return
    s = assessing.submit_assessment(store.acting(who), a.id, expected_version=a.version).assessment
    assert s.submitted
    assert not assessing.withdraw_submission(store.acting(who), a.id, expected_version=s.version).submitted


@pytest.mark.parametrize("who, may", [(FACILITATOR, True), (ADMIN, True), (ELSEWHERE, False), (LEAD, False),
                                      (MEMBER, False), (COMMISSIONER, False)])
def test_only_a_facilitator_of_its_ics_or_an_administrator_confirms_or_returns(store, who, may):
    a = rated_draft(store)
    s = assessing.submit_assessment(store, a.id, by="setup", expected_version=a.version).assessment
    acting = store.acting(who)
    if not may:
        with pytest.raises(AccessDenied):
            assessing.confirm_assessment(acting, a.id, expected_version=s.version)
        with pytest.raises(AccessDenied):
            assessing.return_assessment(acting, a.id, expected_version=s.version, comment="No")
        after = assessing.assessment(store, a.id)
        assert (after.status, after.submitted, after.version) == (DRAFT, True, s.version)
        return
    back = assessing.return_assessment(acting, a.id, expected_version=s.version, comment="Add evidence")
    s = assessing.submit_assessment(store, a.id, by="setup", expected_version=back.version).assessment
    assert assessing.confirm_assessment(acting, a.id, expected_version=s.version).confirmed_by == who.audit_name


def test_a_facilitator_cannot_confirm_what_was_not_submitted(store):
    a = rated_draft(store)
    with pytest.raises(LockedError, match="its PCN lead submits it first"):
        assessing.confirm_assessment(store.acting(FACILITATOR), a.id, expected_version=a.version)
    with pytest.raises(InputError, match="not waiting for agreement"):
        assessing.return_assessment(store.acting(FACILITATOR), a.id, expected_version=a.version, comment="x")
    assert assessing.assessment(store, a.id).status == DRAFT


def test_an_agreed_assessment_changes_only_through_a_new_revision(store):
    a = rated_draft(store)
    item = ev.add_evidence(store, a.id, "vision", by="cd", description="Vision on the website")
    s = assessing.submit_assessment(store.acting(LEAD), a.id, expected_version=a.version).assessment
    agreed = assessing.confirm_assessment(store.acting(FACILITATOR), a.id, expected_version=s.version)
    lead, fac = store.acting(LEAD), store.acting(FACILITATOR)
    refused = [
        lambda: assessing.save_rating(lead, a.id, "vision", expected_version=1, current_stage="embedded"),
        lambda: assessing.save_rating(store, a.id, "vision", by="admin", expected_version=1, note="x"),
        lambda: ev.add_evidence(lead, a.id, "vision", description="More"),
        lambda: ev.remove_evidence(lead, item.id, expected_version=item.version),
        lambda: ev.confirm_element(lead, a.id, "vision"),
        lambda: assessing.submit_assessment(lead, a.id, expected_version=agreed.version),
        lambda: assessing.return_assessment(fac, a.id, expected_version=agreed.version, comment="Reopen"),
        lambda: assessing.confirm_assessment(fac, a.id, expected_version=agreed.version),
        lambda: assessing.discard_draft(lead, a.id, expected_version=agreed.version),
    ]
    for attempt in refused:
        with pytest.raises((LockedError, InputError)):
            attempt()
    assert assessing.assessment(store, a.id).version == agreed.version
    draft = assessing.open_revision(fac, a.id)
    assert (draft.status, draft.revision_of, draft.submitted_by, draft.confirmed_by) == (DRAFT, a.id, None, None)
    old = assessing.assessment(store, a.id)
    assert (old.status, old.confirmed_by, old.submitted_by) == (SUPERSEDED, agreed.confirmed_by, agreed.submitted_by)
    assessing.save_rating(lead, draft.id, "vision", expected_version=1, current_stage="embedded")
    assert assessing.rating(store, a.id, "vision").current_stage == "developing"

"""Signed-in mode against a real OpenID Connect provider (tests/oidc, started on 127.0.0.1): a PCN
lead, an ICS facilitator and a commissioner each see and can change only their scope; signing out
works; someone with no role sees only the "ask your ICS administrator" page."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from assessments import people, ratings
from assessments.demo import load_demo
from assessments.records.tables import AuditRow
from assessments.store import Store
from tests.oidc.fixtures import oidc_app, oidc_provider  # noqa: F401  (pytest fixtures)
from tests.oidc.harness import finish_sign_out, sign_in

from .conftest import ROOT, screenshot, wait_for_app

pytestmark = pytest.mark.browser

LEAD, FACILITATOR, COMMISSIONER = "lead@nhs.net", "fran.facilitator@nhs.net", "cass.commissioner@nhs.net"
ITEM = "A clinical director has been appointed or elected by the member practices."


@pytest.fixture
def signed_in_app(oidc_app, tmp_path):  # noqa: F811
    db = f"sqlite:///{tmp_path / 'roles.db'}"
    store = Store(db)
    load_demo(store)
    people.grant(store, LEAD, "pcn-lead", pcn_code="U99001", by="setup")
    people.grant(store, FACILITATOR, "ics-facilitator", ics_code="QZZ", by="setup")
    people.grant(store, COMMISSIONER, "commissioner", ics_code="QZZ", by="setup")
    store.close()
    return oidc_app(ROOT / "app.py", env_extra={"PCN_DATABASE_URL": db}), db


def enter(page, url: str, who: str) -> None:
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("button", name="Sign in").click()
    sign_in(page, who)
    wait_for_app(page)


def nav(page) -> set[str]:
    links = page.locator('[data-testid="stSidebarNav"] a')
    return {t.strip().splitlines()[-1].strip() for t in links.all_inner_texts() if t.strip()}  # less the icon


def test_a_pcn_lead_sees_and_changes_only_their_pcn(page, signed_in_app):
    url, db = signed_in_app
    enter(page, url, LEAD)
    expect(page.get_by_text("Signed in as Lead")).to_be_visible()
    assert {"Self-assessment", "Development plan", "People and access"} <= nav(page)
    assert not {"Run a workshop", "Data"} & nav(page)

    page.goto(url + "/assess?year=2024/25")
    wait_for_app(page)
    picker = page.get_by_label("Primary care network")
    expect(picker).to_have_value(re.compile("U99001"))
    picker.click()
    options = page.get_by_role("option").all_inner_texts()
    assert len(options) == 1 and "U99001" in options[0]  # only their own PCN
    page.keyboard.press("Escape")
    screenshot(page, "roles-lead")

    # A forged address for another PCN shows nothing of it.
    page.goto(url + "/assess?ics=QZZ&pcn=U99002&year=2024/25")
    wait_for_app(page)
    expect(page.get_by_label("Primary care network")).to_have_value(re.compile("U99001"))

    # Their own PCN's pathway they can change, and the change log names them and the role used.
    page.goto(url + "/pathway?ics=QZZ&pcn=U99001&year=2024/25")
    wait_for_app(page)
    item = page.get_by_role("checkbox", name=ITEM)
    expect(item).to_be_enabled()
    item.check(force=True)  # Streamlit draws its own box over the input
    # plain() puts an invisible word joiner after the "@", so the address is not made a link.
    page.get_by_text(re.compile("Last changed by Lead <lead@\u2060?nhs\\.net>")).first.wait_for()
    store = Store(db)
    try:
        [tick] = [e for e in store.audit(entity="pathway_step", entity_key="U99001/2024/25/1") if e.field == "ticks"]
        assert tick.who == "Lead <lead@nhs.net>"
        with store.read() as r:
            row = r.first(AuditRow, id=tick.id)
        assert (row.actor_subject, row.actor_role) == ("lead@nhs.net", "pcn-lead")
    finally:
        store.close()

    page.get_by_role("button", name="Sign out").click()
    finish_sign_out(page)
    wait_for_app(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_a_facilitator_runs_workshops_and_sees_only_what_pcns_submitted(page, signed_in_app):
    url, db = signed_in_app
    store = Store(db)
    try:
        draft = next(a for a in ratings.assessments(store, pcn_code="U99002") if a.status == "draft")
    finally:
        store.close()
    enter(page, url, FACILITATOR)
    assert {"Run a workshop", "ICS portfolio", "People and access"} <= nav(page)
    assert "Data" not in nav(page)
    page.goto(url + f"/assess?ics=QZZ&pcn=U99002&year={draft.year}")
    wait_for_app(page)
    page.get_by_label("Primary care network").click()
    assert len(page.get_by_role("option").all_inner_texts()) == 8  # every PCN of the ICS
    page.keyboard.press("Escape")
    expect(page.get_by_text(f"There is no {draft.year} assessment")).to_be_visible()  # a draft is the PCN's own
    screenshot(page, "roles-facilitator")


def test_a_commissioner_reads_agreed_work_only(page, signed_in_app):
    url, _db = signed_in_app
    enter(page, url, COMMISSIONER)
    pages = nav(page)
    assert {"PCN progress", "ICS portfolio", "Development plan"} <= pages
    assert not {"Self-assessment", "Run a workshop", "People and access", "Data", "Pathway"} & pages
    page.goto(url + "/data")  # not one of theirs: the default page is shown instead
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Backup")).to_have_count(0)
    screenshot(page, "roles-commissioner")


def test_someone_with_no_role_sees_only_the_no_role_page(page, signed_in_app):
    url, _db = signed_in_app
    enter(page, url, "stranger@example.org")
    expect(page.get_by_role("heading", name="You have no access yet")).to_be_visible()
    expect(page.get_by_text(re.compile("stranger@\u2060?example\\.org")).first).to_be_visible()
    page.goto(url + "/data")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="You have no access yet")).to_be_visible()
    screenshot(page, "roles-no-role")

"""Behind a sign-in proxy (PCN_USER_HEADER, PCN_EMAIL_HEADER), the person the proxy names is the one
in the change log, with the roles granted to their e-mail, and there is no name box to type a
different one into. The headers count only from the proxy's address (PCN_TRUSTED_PROXIES): a
device sending them from anywhere else proves nothing."""
from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from assessments import people
from assessments.demo import load_demo
from assessments.store import Store

from .conftest import start_app, wait_for_app
from .loopback_proxy import LoopbackProxy
from tests.oidc.harness import stop

HEADER, WHO = "X-Forwarded-User", "Dr Proxy Signed-In"
EMAIL_HEADER, EMAIL = "X-Forwarded-Email", "proxy.lead@nhs.net"
LOGGED = f"{WHO} <{EMAIL}>"  # what the change log says: the name and the e-mail
ITEM = "A clinical director has been appointed or elected by the member practices."


@pytest.fixture(scope="module")
def proxied_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("proxied")
    db = f"sqlite:///{tmp / 'proxied.db'}"
    store = Store(db)
    load_demo(store)
    people.grant(store, EMAIL, "pcn-lead", pcn_code="U99001", by="setup")
    store.close()
    # The browser connects from 127.0.0.1, standing in for the proxy (the default trusted address).
    proc, url = start_app({"PCN_DATABASE_URL": db, "PCN_USER_HEADER": HEADER, "PCN_EMAIL_HEADER": EMAIL_HEADER},
                          tmp / "streamlit.log")
    yield url, db
    stop(proc)


@contextmanager
def pathway_with_header(browser, url):
    """The pathway page of U99001, opened by a browser whose every request carries the header."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  extra_http_headers={HEADER: WHO, EMAIL_HEADER: EMAIL})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(url + "/pathway?ics=QZZ&pcn=U99001&year=2024/25")
        wait_for_app(page)
        yield page
    finally:
        context.close()


def test_the_proxy_name_is_recorded(browser, proxied_app):
    url, db = proxied_app
    with pathway_with_header(browser, url) as page:
        page.get_by_text(f"Signed in as {WHO}").first.wait_for()
        expect(page.get_by_label("Your name (for the change log)")).to_have_count(0)
        item = page.get_by_role("checkbox", name=ITEM)
        expect(item).to_be_enabled()  # editing needs no typed name
        item.check(force=True)  # Streamlit draws its own box over the input
        # plain() puts an invisible word joiner after the "@", so the address is not made a link.
        page.get_by_text(re.compile(re.escape(f"Last changed by {LOGGED}").replace("@", "@\u2060?"))).first.wait_for()
    store = Store(db)
    try:
        entries = store.audit(entity="pathway_step", entity_key="U99001/2024/25/1")
        ticks = [e for e in entries if e.field == "ticks"]
        assert [(e.who, e.after) for e in ticks] == [(LOGGED, '["clinical-director-appointed"]')]
        assert {e.who for e in entries} == {LOGGED}
    finally:
        store.close()


def test_without_the_setting_the_header_is_ignored(browser, app_url):
    """Without a proxy anyone could send the header, so it counts only when PCN_USER_HEADER names it."""
    with pathway_with_header(browser, app_url) as page:
        expect(page.get_by_label("Your name (for the change log)")).to_be_visible()
        expect(page.get_by_text(f"Signed in as {WHO}")).to_have_count(0)
        expect(page.get_by_label("Your name (for the change log)")).not_to_have_value(WHO)


def test_the_header_from_anyone_but_the_proxy_is_ignored(browser, proxied_app):
    """A device on the network sending the header itself (here from 127.0.0.2) is not signed in."""
    url, _db = proxied_app
    with LoopbackProxy(int(url.rsplit(":", 1)[1])) as direct:
        context = browser.new_context(extra_http_headers={HEADER: WHO, EMAIL_HEADER: EMAIL})
        try:
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(direct.url_for("/pathway?ics=QZZ&pcn=U99001&year=2024/25"))
            wait_for_app(page)
            expect(page.get_by_text("did not say who you are")).to_be_visible()
            expect(page.get_by_text(f"Signed in as {WHO}")).to_have_count(0)
            expect(page.get_by_role("checkbox", name=ITEM)).to_have_count(0)
        finally:
            context.close()


def test_a_participant_joins_a_workshop_without_an_account(browser, proxied_app):
    """Not signed in, a browser gets the sign-in page everywhere except the join page, where the
    workshop's code is all a participant needs."""
    from assessments import workshop as ws

    url, db = proxied_app
    store = Store(db)
    try:
        w = ws.open_workshop(store, "U99001", "2024/25", by="Fran Facilitator")
    finally:
        store.close()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(url + "/data")
        wait_for_app(page)
        expect(page.get_by_text("did not say who you are")).to_be_visible()
        expect(page.get_by_role("heading", name="Data")).to_have_count(0)
        page.goto(url + f"/join?code={w.code}")
        wait_for_app(page)
        page.get_by_label("Your name, as the group will see it").fill("Nat No-Account")
        page.get_by_label("Your role").click()
        page.get_by_role("option", name="GP", exact=True).click()
        page.get_by_role("button", name="Join").click()
        wait_for_app(page)
        expect(page.get_by_text("You joined workshop")).to_be_visible()
        page.get_by_role("radio").first.check(force=True)
        page.get_by_text("Saved:").first.wait_for()
    finally:
        context.close()
    store = Store(db)
    try:
        [person] = ws.participants(store, w.id)
        assert person.name == "Nat No-Account"
        assert sum(e.n for e in ws.summary(store, w.id).elements) == 1
    finally:
        store.close()

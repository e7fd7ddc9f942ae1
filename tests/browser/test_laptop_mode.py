"""Laptop mode: the browser on the machine running the app is the local administrator; another
device (here a second browser reaching the app through a proxy that connects from 127.0.0.2, the
way a phone on the workshop Wi-Fi would from its own address) gets only the join page and its own
workshop, whatever address it opens, and can join and rate."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from assessments import workshop as ws
from assessments.store import Store

from .conftest import screenshot, wait_for_app
from .loopback_proxy import LoopbackProxy

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def test_a_phone_gets_only_the_join_page_and_can_rate(browser, app_url):
    laptop = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = laptop.new_page()
    page.goto(app_url + "/data")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Data")).to_be_visible()  # the laptop is the administrator
    laptop.close()

    db = _database_of(app_url)
    port = int(app_url.rsplit(":", 1)[1])
    with LoopbackProxy(port) as proxy:
        phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        try:
            p = phone.new_page()
            p.set_default_timeout(30_000)
            for path in ("/data", "/assess", "/workshop?w=1", "/people"):
                p.goto(proxy.url_for(path))
                wait_for_app(p)
                expect(p.get_by_role("heading", name="Join a workshop")).to_be_visible()
                expect(p.get_by_role("button", name="Download the backup")).to_have_count(0)
                expect(p.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
            screenshot(p, "laptop-mode-phone")

            # The laptop's facilitator opens a workshop; the phone joins it and rates.
            store = Store(db)
            try:
                w = ws.open_workshop(store, "U99006", "2025/26", by="Fran Facilitator")
            finally:
                store.close()
            p.goto(proxy.url_for(f"/join?code={w.code}"))
            wait_for_app(p)
            screenshot(p, "laptop-mode-phone-join")
            p.get_by_label("Your name, as the group will see it").fill("Pat Phone")
            p.get_by_label("Your role").click()
            p.get_by_role("option", name="GP", exact=True).click()
            p.get_by_role("button", name="Join").click()
            wait_for_app(p)
            expect(p.get_by_text("You joined workshop")).to_be_visible()
            assert "p=" not in p.url  # the rejoin token stays out of the address
            p.get_by_role("radio").first.check(force=True)
            p.get_by_text("Saved:").first.wait_for()
            expect(p.get_by_text("Domain 1 of 5 · 1 of 22 rated")).to_be_visible()
            # A reload comes back to the same participant (the phone's cookie), still on the join page only.
            p.reload()
            wait_for_app(p)
            expect(p.get_by_text("You joined workshop")).to_be_visible(timeout=30_000)
            expect(p.get_by_text("Domain 1 of 5 · 1 of 22 rated")).to_be_visible()
            expect(p.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
            assert "p=" not in p.url
        finally:
            phone.close()
    store = Store(db)
    try:
        [person] = ws.participants(store, w.id)
        assert person.name == "Pat Phone"
        assert sum(e.n for e in ws.summary(store, w.id).elements) == 1
    finally:
        store.close()


def _database_of(app_url: str) -> str:
    """The session app's database (tests/browser/conftest.py keeps its URL beside the app)."""
    from .conftest import APP_DATABASES

    return APP_DATABASES[app_url]

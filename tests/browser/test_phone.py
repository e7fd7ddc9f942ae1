"""A participant's phone at 390x844, reaching the app from another address as a phone on the
workshop Wi-Fi would (tests/browser/loopback_proxy.py): one domain at a time with next and
previous and a progress line, tap targets of at least 44 px, nothing wider than the screen; a
reload carries on where the participant was, ratings and a comment not yet saved kept; once the
facilitator reveals the results, the participant's own ratings still come first."""
from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from assessments import workshop as ws
from assessments.store import Store

from .conftest import APP_DATABASES, screenshot, wait_for_app
from .layout import COUNT_TARGETS, OVERFLOW, SMALL_TARGETS
from .loopback_proxy import LoopbackProxy

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
TAP = 44
WAIT = 45_000  # ms: a busy two-core machine; every wait is on the page's state

def progress_says(page, text: str) -> None:
    expect(page.locator('[data-testid="stProgress"]')).to_contain_text(text, timeout=WAIT)


def fits_the_phone(page) -> None:
    assert page.evaluate(COUNT_TARGETS) >= 4  # the checks below saw the rating cards
    assert page.evaluate(SMALL_TARGETS, TAP) == []
    layout = page.evaluate(OVERFLOW)
    assert layout["scrollWidth"] <= layout["width"] and layout["out"] == [], layout


# Streamlit scrolls its own container, not the window.
SCROLLERS = """[document.scrollingElement, ...document.querySelectorAll(
    '[data-testid="stAppViewContainer"], [data-testid="stMain"]')]"""


def page_height(page) -> int:
    return page.evaluate(f"() => Math.max(...{SCROLLERS}.map(e => e.scrollHeight))")


def scrolled(page) -> int:
    return page.evaluate(f"() => Math.max(...{SCROLLERS}.map(e => e.scrollTop))")


def whole_page(page, name: str) -> None:
    """A screenshot of the whole page: the viewport is stretched to it for the shot (Streamlit's
    own scrolling container defeats a full-page screenshot), then put back."""
    page.set_viewport_size({"width": PHONE["width"], "height": page_height(page)})
    try:
        wait_for_app(page)
        screenshot(page, name)
    finally:
        page.set_viewport_size(PHONE)


def test_a_phone_rates_domain_by_domain_and_a_reload_carries_on(browser, app_url):
    laptop = browser.new_context()
    try:  # the app loads the demo data on its first visit
        page = laptop.new_page()
        page.goto(app_url)
        wait_for_app(page)
        expect(page.get_by_role("heading", name="PCN maturity matrix", exact=True)).to_be_visible(timeout=WAIT)
    finally:
        laptop.close()
    db = APP_DATABASES[app_url]
    store = Store(db)
    try:
        w = ws.open_workshop(store, "U99008", "2025/26", by="Fran Facilitator", rate_target=True)
        matrix = store.matrix(w.matrix_id, w.matrix_version)
    finally:
        store.close()
    first, second = matrix.domains[0], matrix.domains[1]
    n = len(matrix.element_ids())
    with LoopbackProxy(int(app_url.rsplit(":", 1)[1])) as proxy:
        phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
        try:
            p = phone.new_page()
            p.set_default_timeout(45_000)
            p.goto(proxy.url_for(f"/join?code={w.code}"))
            wait_for_app(p)
            p.get_by_label("Your name, as the group will see it").fill("Pia Phone")
            p.get_by_label("Your role").click()
            p.get_by_role("option", name="Practice nurse", exact=True).click()
            p.get_by_role("button", name="Join").click()
            progress_says(p, f"Domain 1 of 5 · 0 of {n} rated")
            wait_for_app(p)
            assert "p=" not in p.url and f"code={w.code}" in p.url  # the token stays out of the address
            # ... and in a cookie of this device instead: this site's pages only, for a day.
            [cookie] = [c for c in phone.cookies() if c["name"] == "pcn_workshop"]
            assert (cookie["sameSite"], cookie["path"]) == ("Strict", "/")
            assert 23 * 3600 < cookie["expires"] - time.time() <= 24 * 3600
            assert len(cookie["value"]) == 32 and cookie["value"] not in p.url
            expect(p.get_by_role("heading", name=first.title)).to_be_visible(timeout=WAIT)
            expect(p.get_by_role("heading", name=second.title)).to_have_count(0)  # one domain at a time
            # Each element asks for the current stage and the target (this workshop rates both).
            expect(p.get_by_role("radiogroup")).to_have_count(2 * len(first.elements), timeout=WAIT)
            wait_for_app(p)
            heights = {1: page_height(p)}
            fits_the_phone(p)
            whole_page(p, "phone-domain-1")

            p.get_by_role("radiogroup").nth(0).get_by_text("Step 2", exact=True).click()
            progress_says(p, f"Domain 1 of 5 · 1 of {n} rated")
            wait_for_app(p)
            p.get_by_role("radiogroup").nth(1).get_by_text("Step 3", exact=True).click()
            expect(p.get_by_text("Saved: Step 2, target Step 3.")).to_be_visible(timeout=WAIT)

            next_button = p.get_by_role("button", name=f"Next: {second.title}")
            next_button.scroll_into_view_if_needed()
            assert scrolled(p) > 0  # the foot of the domain
            next_button.click()
            progress_says(p, f"Domain 2 of 5 · 1 of {n} rated")
            expect(p.get_by_role("heading", name=second.title)).to_be_visible(timeout=WAIT)
            wait_for_app(p)
            assert "d=2" in p.url
            assert scrolled(p) == 0  # the new domain opens at its top
            heights[2] = page_height(p)
            fits_the_phone(p)

            # In domain 2: rate the first element and comment on it without leaving the box; type a
            # comment on the second before choosing its stage. Neither is left by a blur or Enter.
            p.get_by_role("radiogroup").nth(0).get_by_text("Step 1", exact=True).click()
            progress_says(p, f"Domain 2 of 5 · 2 of {n} rated")
            wait_for_app(p)
            comments = p.get_by_label("Comment (optional)")
            comments.nth(0).press_sequentially("Data sharing agreement signed", delay=20)
            expect(p.get_by_text("Saved: Step 1 with your comment.")).to_be_visible(timeout=WAIT)
            wait_for_app(p)
            comments.nth(1).press_sequentially("Dashboards only in two practices", delay=20)
            expect(p.get_by_text("Choose where the network is now; your comment is saved with it.")).to_be_visible(timeout=WAIT)
            wait_for_app(p)
            whole_page(p, "phone-domain-2")

            # Back and forth keeps everything.
            p.get_by_role("button", name=f"Previous: {first.title}").click()
            progress_says(p, f"Domain 1 of 5 · 2 of {n} rated")
            expect(p.get_by_role("radiogroup").nth(0).get_by_role("radio", name="Step 2")).to_be_checked(timeout=WAIT)
            p.get_by_role("button", name=f"Next: {second.title}").click()
            progress_says(p, f"Domain 2 of 5 · 2 of {n} rated")
            expect(comments.nth(1)).to_have_value("Dashboards only in two practices", timeout=WAIT)

            # A reload is a new session: the device's cookie brings the participant back to domain 2.
            p.reload()
            progress_says(p, f"Domain 2 of 5 · 2 of {n} rated")
            wait_for_app(p)
            expect(p.get_by_role("button", name="Join")).to_have_count(0, timeout=WAIT)
            assert "p=" not in p.url
            expect(p.get_by_role("radiogroup").nth(0).get_by_role("radio", name="Step 1")).to_be_checked(timeout=WAIT)
            expect(comments.nth(0)).to_have_value("Data sharing agreement signed", timeout=WAIT)
            expect(comments.nth(1)).to_have_value("Dashboards only in two practices", timeout=WAIT)
            # The kept comment is saved with the stage when it is chosen.
            p.get_by_role("radiogroup").nth(2).get_by_text("Foundation", exact=True).click()
            progress_says(p, f"Domain 2 of 5 · 3 of {n} rated")
            wait_for_app(p)
            whole_page(p, "phone-after-reload")

            store = Store(db)
            try:
                token_hash_owner = ws.participants(store, w.id)
                assert [x.name for x in token_hash_owner] == ["Pia Phone"]  # the reload did not join again
                s = ws.summary(store, w.id)
                got = {e.element_id: [(r.stage, r.target_stage, r.comment) for r in e.ratings] for e in s.elements
                       if e.ratings}
                ws.reveal(store, w.id, by="Fran Facilitator")
            finally:
                store.close()
            e1, e2 = second.elements[0].id, second.elements[1].id
            assert got == {first.elements[0].id: [("step-2", "step-3", None)],
                           e1: [("step-1", None, "Data sharing agreement signed")],
                           e2: [("foundation", None, "Dashboards only in two practices")]}

            # Revealed: the participant's own ratings stay first, the group's results one tap away.
            group_tab = p.get_by_role("tab", name="The group's results")
            expect(group_tab).to_be_visible(timeout=WAIT)
            wait_for_app(p)
            expect(p.get_by_role("tab", name="Your ratings")).to_have_attribute("aria-selected", "true", timeout=WAIT)
            expect(p.get_by_role("heading", name=second.title)).to_be_visible(timeout=WAIT)
            top = p.get_by_role("radiogroup").nth(0).bounding_box()
            assert top is not None and top["y"] < PHONE["height"]  # the own ratings begin on the first screen
            fits_the_phone(p)
            whole_page(p, "phone-revealed-own")
            group_tab.click()
            expect(p.get_by_role("heading", name="You and the group")).to_be_visible(timeout=WAIT)
            chart = p.locator(".js-plotly-plot").first
            chart.wait_for()
            wait_for_app(p)
            box = chart.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
            layout = p.evaluate(OVERFLOW)
            assert layout["scrollWidth"] <= layout["width"], layout
            assert p.evaluate(SMALL_TARGETS, TAP) == []
            whole_page(p, "phone-revealed-group")
            print(f"\nphone page height at 390x844: domain 1 {heights[1]} px, domain 2 {heights[2]} px "
                  f"({max(heights.values()) / PHONE['height']:.1f} screens at most)")
            expect(p.locator('[data-testid="stProgress"]')).to_have_count(0)  # only the open tab is drawn
        finally:
            phone.close()

"""Behind a sign-in proxy (PCN_USER_HEADER), the name the proxy sends is the one in the change log,
and there is no name box to type a different one into."""
from __future__ import annotations

import subprocess
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from assessments.store import Store

from .conftest import start_app, wait_for_app

HEADER, WHO = "X-Forwarded-User", "Dr Proxy Signed-In"
ITEM = "A clinical director has been appointed or elected by the member practices."


@pytest.fixture(scope="module")
def proxied_app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("proxied")
    db = f"sqlite:///{tmp / 'proxied.db'}"
    proc, url = start_app({"PCN_DATABASE_URL": db, "PCN_LOAD_DEMO": "1", "PCN_USER_HEADER": HEADER},
                          tmp / "streamlit.log")
    yield url, db
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@contextmanager
def pathway_with_header(browser, url):
    """The pathway page of U99001, opened by a browser whose every request carries the header."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, extra_http_headers={HEADER: WHO})
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
        page.get_by_text(f"Signed in as {WHO}").wait_for()
        expect(page.get_by_label("Your name (for the change log)")).to_have_count(0)
        item = page.get_by_role("checkbox", name=ITEM)
        expect(item).to_be_enabled()  # editing needs no typed name
        item.check(force=True)  # Streamlit draws its own box over the input
        page.get_by_text(f"Last changed by {WHO}").first.wait_for()
    store = Store(db)
    try:
        entries = store.audit(entity="pathway_step", entity_key="U99001/2024/25/1")
        ticks = [e for e in entries if e.field == "ticks"]
        assert [(e.who, e.after) for e in ticks] == [(WHO, '["clinical-director-appointed"]')]
        assert {e.who for e in entries} == {WHO}
    finally:
        store.close()


def test_without_the_setting_the_header_is_ignored(browser, app_url):
    """Without a proxy anyone could send the header, so it counts only when PCN_USER_HEADER names it."""
    with pathway_with_header(browser, app_url) as page:
        expect(page.get_by_label("Your name (for the change log)")).to_be_visible()
        expect(page.get_by_text(f"Signed in as {WHO}")).to_have_count(0)
        expect(page.get_by_role("checkbox", name=ITEM)).to_be_disabled()

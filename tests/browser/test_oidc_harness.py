"""The test OIDC provider (tests/oidc) works with Streamlit's own st.login / st.user / st.logout:
a real browser signs in to a tiny app through the provider's login form, sees its e-mail address,
signs out through the provider's end-session page, and is offered the Sign in button again."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.oidc.fixtures import oidc_app, oidc_provider  # noqa: F401  (pytest fixtures)
from tests.oidc.harness import finish_sign_out, sign_in

from .conftest import ROOT, screenshot, wait_for_app

pytestmark = pytest.mark.browser

PROBE = ROOT / "tests" / "oidc" / "probe_app.py"


def test_sign_in_and_out_through_the_provider(page, oidc_app, oidc_provider):  # noqa: F811
    url = oidc_app(PROBE)
    page.goto(url)
    wait_for_app(page)
    page.get_by_text("Not signed in.").wait_for()

    page.get_by_role("button", name="Sign in").click()
    sign_in(page, "lead@nhs.net")
    assert page.url.startswith(url)
    wait_for_app(page)
    expect(page.get_by_text("Signed in as lead@nhs.net")).to_be_visible()
    expect(page.get_by_text("Subject: lead@nhs.net")).to_be_visible()
    expect(page.get_by_text("Name: Lead")).to_be_visible()
    screenshot(page, "oidc-signed-in")

    page.get_by_role("button", name="Sign out").click()
    finish_sign_out(page)
    assert page.url.startswith(url)
    wait_for_app(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_have_count(0)

    # Signing in again meets the login form again (Streamlit asks for prompt=select_account).
    page.get_by_role("button", name="Sign in").click()
    sign_in(page, "jane.smith@nhs.net")
    wait_for_app(page)
    expect(page.get_by_text("Signed in as jane.smith@nhs.net")).to_be_visible()
    expect(page.get_by_text("Name: Jane Smith")).to_be_visible()

"""The main journey: pick a demo PCN, start a new year, rate an element, reload and see the rating
kept, then open the PCN's progress and see the new year drawn on the radar."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import axe_findings, wait_for_app
from .test_progress import plotly_drawn, whole_page

# Ashby Town: no other browser test writes to it.
PCN, NAME = "U99002", "Ashby Town PCN (U99002)"


def test_rate_reload_and_see_progress(page, app_url):
    page.goto(app_url + "/assess?ics=QZZ")
    wait_for_app(page)
    page.get_by_role("heading", name="Self-assessment").wait_for()
    wait_for_app(page)
    pcn = page.get_by_role("combobox", name="Primary care network")
    pcn.click()
    page.get_by_role("option", name=NAME).click()
    wait_for_app(page)
    expect(pcn).to_have_value(NAME)
    page.get_by_label("Your name (for the change log)").fill("Dr Journey")
    page.keyboard.press("Enter")
    wait_for_app(page)
    page.get_by_role("combobox", name="Year").click()
    page.get_by_role("option", name="2025/26").click()
    wait_for_app(page)
    page.get_by_role("heading", name="No 2025/26 assessment yet").wait_for()
    page.get_by_text("Start blank", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name="Start the 2025/26 assessment").click()
    page.get_by_text("0 of 22 elements rated").wait_for()
    wait_for_app(page)

    now = page.get_by_role("radiogroup", name="Where are we now?").first
    now.get_by_role("radio", name="Step 2").click()
    page.get_by_text("1 of 22 elements rated").wait_for()
    wait_for_app(page)
    expect(page.get_by_role("radiogroup", name="Where are we now?").first.get_by_role("radio", name="Step 2")
           ).to_have_attribute("aria-checked", "true")
    assert f"pcn={PCN}" in page.url and "year=2025" in page.url
    # The target by keyboard alone: focus the stage and press Space.
    target = page.get_by_role("radiogroup", name="Where do we want to be in a year?").first
    target.get_by_role("radio", name="Step 3").focus()
    page.keyboard.press("Space")
    page.get_by_text("target Step 3").first.wait_for()  # the toast saying what was saved
    wait_for_app(page)
    whole_page(page, "assess")
    assert axe_findings(page) == []

    # A reload (the URL names the PCN and year) shows the rating as saved.
    page.reload()
    wait_for_app(page)
    page.get_by_text("1 of 22 elements rated").wait_for()
    expect(page.get_by_role("radiogroup", name="Where are we now?").first.get_by_role("radio", name="Step 2")
           ).to_have_attribute("aria-checked", "true")
    expect(page.get_by_role("radiogroup", name="Where do we want to be in a year?").first.get_by_role(
        "radio", name="Step 3")).to_have_attribute("aria-checked", "true")
    page.get_by_text("Last saved by Dr Journey").wait_for()
    # Another domain's tab draws that domain's elements in place of the first's.
    page.get_by_role("tab", name="Use of data and population health management").click()
    page.get_by_role("heading", name="Data sharing and information governance").wait_for()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Network agreement and decision making")).to_have_count(0)

    page.get_by_role("link", name="Progress").first.click()
    page.get_by_role("heading", name="PCN progress").wait_for()
    wait_for_app(page)
    expect(page.get_by_role("combobox", name="Primary care network")).to_have_value(NAME)
    radar = plotly_drawn(page, "progress_radar")
    # The new year has its own line on the radar.
    expect(radar.locator(".legendtext").filter(has_text=re.compile(r"^2025/26$"))).to_have_count(1)


def test_large_text_keeps_the_chosen_year(page, app_url):
    """Large text redraws the pickers in another layout; they must still show the assessment on screen."""
    page.goto(app_url + "/assess?ics=QZZ&pcn=U99007")
    wait_for_app(page)
    year = page.get_by_role("combobox", name="Year")
    expect(year).to_have_value("2024/25")  # the latest year with an assessment
    page.get_by_text("Large text (projector)").click()
    wait_for_app(page)
    page.get_by_text("Draft 2024/25 assessment of Fennick Cross PCN").wait_for()
    expect(year).to_have_count(1)  # the box of the layout before is gone
    expect(year).to_have_value("2024/25")
    # The setting is in the URL, so a reload (or the link on another laptop) keeps it, and so do other pages.
    page.reload()
    wait_for_app(page)
    expect(page.get_by_role("switch", name="Large text (projector)")).to_be_checked()
    page.get_by_role("link", name="PCN progress").click()
    page.get_by_role("heading", name="PCN progress").wait_for()
    wait_for_app(page)
    expect(page.get_by_role("switch", name="Large text (projector)")).to_be_checked()
    expect(page.get_by_role("combobox", name="Primary care network")).to_have_value("Fennick Cross PCN (U99007)")
    expect(page.get_by_role("combobox", name="Primary care network")).to_have_value("Fennick Cross PCN (U99007)")

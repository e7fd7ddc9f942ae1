"""The Progress pages and the Pathway page in a real browser: a PCN's progress opens from its URL
and draws the radar; the ICS portfolio draws the heat map (a coloured table) and opens a PCN's progress from a link;
ticking a pathway checklist item saves it. axe finds nothing serious on any of them."""
import re

from playwright.sync_api import expect

from .conftest import axe_findings, screenshot, wait_for_app

# Kestrel Bridge: the demo's merger story (up, down, up again). Wendmoor Moors for the pathway:
# no other browser test records anything on its pathway.
PROGRESS = "/progress?ics=QZZ&pcn=U99004"
PORTFOLIO = "/portfolio?ics=QZZ"
PATHWAY = "/pathway?ics=QZZ&pcn=U99003&year=2024/25"


def plotly_drawn(page, key: str):
    """Wait until plotly has drawn the chart's SVG with data in it."""
    chart = page.locator(f".st-key-{key} .js-plotly-plot")
    chart.locator(".main-svg").first.wait_for()
    return chart


def whole_page(page, name: str) -> None:
    """Streamlit scrolls inside its own container, so grow the window to the page's height for the screenshot."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": min(height + 40, 8000)})
    page.wait_for_timeout(400)  # plotly redraws on resize
    wait_for_app(page)
    screenshot(page, name)


def test_progress_of_a_pcn_from_its_url(page, app_url):
    page.goto(app_url + PROGRESS)
    wait_for_app(page)
    page.get_by_role("heading", name="Maturity by domain").wait_for()
    radar = plotly_drawn(page, "progress_radar")
    # One line per demo year and the dashed target, drawn on the polar layer.
    expect(radar.locator(".polarlayer .trace.scatter")).to_have_count(5)
    expect(radar.locator(".legendtext")).to_have_text(["2021/22", "2022/23", "2023/24", "2024/25", "Target (2024/25)"])
    expect(page.get_by_role("combobox", name="Primary care network")).to_have_value("Kestrel Bridge PCN (U99004)")
    page.get_by_text("Since 2023/24:").wait_for()
    plotly_drawn(page, "progress_domains")
    wait_for_app(page)
    whole_page(page, "progress")
    assert axe_findings(page) == []


def test_portfolio_heat_map_and_a_link_to_a_pcn(page, app_url):
    page.goto(app_url + PORTFOLIO)
    wait_for_app(page)
    page.get_by_role("heading", name="Domain scores by PCN").wait_for()
    # The heat map is a coloured table: a row per PCN of the demo ICS, a cell per domain.
    heat = page.locator(".st-key-portfolio_heatmap table")
    expect(heat.locator("tbody tr")).to_have_count(8)
    expect(heat.locator("thead th").filter(has_text="Integrating care")).to_have_count(1)
    # The stages reached, as stacked bars: a bar per domain, each segment named for a screen reader.
    bars = page.locator(".st-key-portfolio_distribution .pcn-bar-row")
    expect(bars).to_have_count(5)
    expect(bars.first.get_by_role("img").first).to_have_attribute("aria-label", re.compile(r"elements \(\d+%\)$"))
    expect(page.get_by_test_id("stMetric").first).to_contain_text("of 8")
    wait_for_app(page)
    whole_page(page, "portfolio")
    assert axe_findings(page) == []

    # The keyboard-friendly way to a PCN: choose it (typing searches), then its link.
    picker = page.get_by_role("combobox", name="Open a PCN's progress")
    picker.click()
    page.keyboard.type("Saltmarsh")
    page.get_by_role("option", name="Saltmarsh Coast PCN (U99005)").click()
    link = page.get_by_role("link", name="Open the progress of Saltmarsh Coast PCN")
    expect(link).to_be_visible()
    wait_for_app(page)  # a click on a page link while a run is still drawing can be dropped
    link.click()
    page.wait_for_url("**/progress?*", timeout=60_000)
    page.get_by_role("heading", name="PCN progress").wait_for(timeout=60_000)
    wait_for_app(page)
    expect(page.get_by_role("combobox", name="Primary care network")).to_have_value("Saltmarsh Coast PCN (U99005)")
    assert "pcn=U99005" in page.url


def test_pathway_tick_is_saved(page, app_url):
    page.goto(app_url + PATHWAY)
    wait_for_app(page)
    # Let the first run finish before typing: a rerun that interrupts it can leave a picker whose
    # value was set through session state (components/state.py) showing its first option.
    page.get_by_role("heading", name="Where each PCN of Wendmoor and Ashby Integrated Care System is").wait_for()
    wait_for_app(page)
    page.get_by_label("Your name (for the change log)").fill("Browser Tester")
    page.keyboard.press("Enter")
    wait_for_app(page)
    item = page.get_by_role("checkbox", name="A clinical director has been appointed or elected by the member practices.")
    expect(item).to_be_enabled()
    item.check(force=True)  # Streamlit draws its own box over the input
    page.get_by_text("Checklist (1 of 5 ticked)").wait_for()
    expect(page.get_by_role("combobox", name="Primary care network")).to_have_value("Wendmoor Moors PCN (U99003)")
    wait_for_app(page)
    expect(page.get_by_role("checkbox", name="A clinical director has been appointed or elected by the member practices.")
           ).to_be_checked()
    page.get_by_text("Last changed by Browser Tester").first.wait_for()
    whole_page(page, "pathway")
    assert axe_findings(page) == []

"""The Development plan page in a real browser: a suggestion becomes a priority, the actions
table and funding checks show, the PDF is prepared and offered; axe finds nothing serious."""
from playwright.sync_api import expect

from .conftest import axe_findings, screenshot, wait_for_app

# Fennick Cross: the demo's part-rated draft, which no other browser test changes.
URL = "/plan?ics=QZZ&pcn=U99007"


def test_plan_page_priorities_actions_and_pdf(page, app_url):
    page.goto(app_url + URL)
    wait_for_app(page)
    page.get_by_role("heading", name="Suggested from the assessment").wait_for()
    page.get_by_label("Your name (for the change log)").fill("Browser Tester")
    page.keyboard.press("Enter")
    add = page.get_by_role("button", name="Add to priorities")
    expect(add.first).to_be_enabled()  # editing opens once a name is given
    # Count only once the rerun has finished: while it runs, Streamlit can show the old
    # elements beside the new ones.
    wait_for_app(page)
    before = add.count()
    assert before >= 1
    add.first.click()
    expect(page.get_by_role("button", name="Added")).to_be_visible()
    expect(page.get_by_role("button", name="Remove")).to_be_visible()
    wait_for_app(page)
    expect(page.get_by_role("button", name="Add to priorities")).to_have_count(before - 1)
    wait_for_app(page)
    screenshot(page, "plan-priorities")
    assert axe_findings(page) == []

    page.get_by_role("tab", name="Actions").click()
    page.get_by_role("button", name="Save actions").wait_for()
    page.get_by_text("No actions yet.").wait_for()
    # Type an action into the table's empty row, as a user would, and save it.
    box = page.get_by_test_id("stDataFrame").first.bounding_box()
    page.mouse.dblclick(box["x"] + 120, box["y"] + box["height"] - 18)  # the Action cell of the empty row
    cell = page.locator("textarea.gdg-input")
    cell.wait_for()
    cell.fill("Away day for the member practices")
    page.keyboard.press("Enter")
    # The funding checks follow the table as it is edited: once they speak of an action, the
    # server has the new row.
    page.get_by_text("No action asking for development funding looks ineligible.").wait_for()
    page.get_by_role("button", name="Save actions").click()
    page.get_by_text("Saved 1 action.").wait_for()
    wait_for_app(page)
    # The table now holds the saved action (the grid keeps an accessible copy of its cells).
    page.get_by_role("gridcell", name="Away day for the member practices", include_hidden=True).wait_for(state="attached")
    screenshot(page, "plan-actions")
    assert axe_findings(page) == []

    page.get_by_role("tab", name="Download").click()
    page.get_by_role("button", name="Prepare the plan PDF").click()
    page.get_by_role("button", name="Download the plan PDF").wait_for(timeout=30_000)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download the plan PDF").click()
    path = info.value.path()
    with open(path, "rb") as f:
        assert f.read(5) == b"%PDF-"
    screenshot(page, "plan-download")
    assert axe_findings(page) == []

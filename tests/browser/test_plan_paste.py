"""The actions table in a real browser: a block of three actions copied from a spreadsheet is pasted
into the table from the clipboard, saved, and still there (on the same tab) after a reload; text
typed into two cells is still there after a visit to another page, until it is saved or discarded."""
import re

from playwright.sync_api import expect

from assessments import plan as P
from assessments.store import Store

from .conftest import APP_DATABASES, axe_findings, screenshot, wait_for_app

# Westbury Vale: a PCN no other browser test plans for.
PCN, YEAR = "U99006", "2024/25"
URL = f"/plan?ics=QZZ&pcn={PCN}&year={YEAR}"
BLOCK = [("Map the community assets with the voluntary sector", "Dr Amara Okafor", "31/01/2025"),
         ("Agree the data-sharing agreement with the practices", "Ben Adeyemi", "28/02/2025"),
         ("Recruit a care co-ordinator for the care homes", "Cara Lewis", "31/03/2025")]


def test_a_pasted_block_of_three_actions_saves(page, app_url):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url)
    page.goto(app_url + URL)
    wait_for_app(page)
    page.get_by_label("Your name (for the change log)").fill("Browser Tester")
    page.keyboard.press("Enter")
    wait_for_app(page)
    page.get_by_role("tab", name="Actions").click()
    expect(page).to_have_url(re.compile(r"[?&]tab=Actions(&|$)"))  # the tab is kept in the address
    save = page.get_by_role("button", name="Save actions")
    expect(save).to_be_enabled()
    wait_for_app(page)

    # Click the table's empty row at the bottom (a new row, its Action cell selected) and paste what
    # a spreadsheet puts on the clipboard: tab-separated cells, one row a line, a line break at the end.
    grid = page.get_by_test_id("stDataFrame").first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 120, box["y"] + box["height"] - 18)
    wait_for_app(page)  # the new row is on the server
    page.keyboard.press("Escape")  # out of the cell's typing box: the paste goes to the table itself
    page.evaluate("(text) => navigator.clipboard.writeText(text)", "\n".join("\t".join(r) for r in BLOCK) + "\n")
    page.keyboard.press("Control+V")
    # The funding checks follow the table: once they speak of the pasted rows, the server has them.
    page.get_by_text("No action asking for development funding looks ineligible.").wait_for()
    wait_for_app(page)
    expect(page.get_by_text("Unsaved changes")).to_be_visible()
    screenshot(page, "plan-pasted")
    save.click()
    page.get_by_text("Saved 3 actions.").wait_for()
    wait_for_app(page)
    expect(page.get_by_role("tab", name="Actions")).to_have_attribute("aria-selected", "true")

    with Store(APP_DATABASES[app_url]) as store:
        saved = P.get_plan(store, PCN, YEAR).actions
    assert [(a.what, a.owner, a.due.strftime("%d/%m/%Y"), a.updated_by) for a in saved] == [
        (*row, "Browser Tester") for row in BLOCK]

    # A reload comes back to the Actions tab, with the three actions in the table.
    page.reload()
    wait_for_app(page)
    expect(page.get_by_role("tab", name="Actions")).to_have_attribute("aria-selected", "true")
    for what, owner, _ in BLOCK:
        page.get_by_role("gridcell", name=what, include_hidden=True).wait_for(state="attached")
        page.get_by_role("gridcell", name=owner, include_hidden=True).first.wait_for(state="attached")
    expect(page.get_by_text("Unsaved changes")).to_have_count(0)
    screenshot(page, "plan-actions-pasted")
    assert axe_findings(page) == []

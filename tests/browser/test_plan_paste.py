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


def _cell(page, row: int, column: str):
    """The actions table's cell in `row` (0 for the first) and the column headed `column`, found
    through the grid's accessibility table (its column headers and row and column indexes)."""
    grid = page.get_by_test_id("stDataFrame").first
    header = grid.get_by_role("columnheader", name=column, exact=True, include_hidden=True)
    colindex = header.get_attribute("aria-colindex")
    return grid.locator(f'tr[aria-rowindex="{row + 2}"] td[role="gridcell"][aria-colindex="{colindex}"]')


def _type_into(page, row: int, column: str, text: str) -> None:
    cell = _cell(page, row, column)
    cell.focus()  # the grid selects the cell focused in its accessibility table
    page.keyboard.press("Enter")  # and Enter opens its editor
    editor = page.locator("textarea.gdg-input")
    editor.fill(text)
    editor.press("Enter")  # committed: the table sends its edits to the server
    expect(editor).to_have_count(0)


def test_text_typed_into_two_cells_survives_a_visit_to_another_page(page, app_url):
    """What is typed and not yet saved stays: two cells edited one after the other (found by row and
    column), then another page of the app and back, and the page says the changes are not saved yet."""
    page.goto(app_url + URL + "&tab=Actions")
    wait_for_app(page)  # the app has loaded the demo data
    with Store(APP_DATABASES[app_url]) as store:  # the actions of the test above, when run alone
        plan = P.get_plan(store, PCN, YEAR)
        if plan is None or len(plan.actions) < 2:
            P.save_actions(store, PCN, YEAR, [dict(what=w, owner=o, due=d) for w, o, d in BLOCK], by="setup")
            page.reload()
            wait_for_app(page)
    page.get_by_label("Your name (for the change log)").fill("Browser Tester")
    page.keyboard.press("Enter")
    wait_for_app(page)
    _type_into(page, 0, "Action", "First typed and not saved")
    expect(page.get_by_text("Unsaved changes")).to_be_visible()
    wait_for_app(page)
    _type_into(page, 1, "Owner", "Second typed and not saved")
    wait_for_app(page)
    for typed in ("First typed and not saved", "Second typed and not saved"):
        page.get_by_role("gridcell", name=typed, include_hidden=True).wait_for(state="attached")

    page.get_by_role("link", name="PCN progress").click()
    page.get_by_role("heading", name="PCN progress").first.wait_for()
    wait_for_app(page)
    page.get_by_role("link", name="Development plan").click()
    wait_for_app(page)
    page.get_by_role("tab", name="Actions").click()
    wait_for_app(page)
    expect(page.get_by_text("Unsaved changes")).to_be_visible()
    expect(_cell(page, 0, "Action")).to_have_text("First typed and not saved")
    expect(_cell(page, 1, "Owner")).to_have_text("Second typed and not saved")
    with Store(APP_DATABASES[app_url]) as store:
        saved = P.get_plan(store, PCN, YEAR).actions
        assert "First typed and not saved" not in [a.what for a in saved]
        assert "Second typed and not saved" not in [a.owner for a in saved]
    page.get_by_role("button", name="Discard changes and load the latest").click()
    expect(page.get_by_text("Unsaved changes")).to_have_count(0)
    page.get_by_role("gridcell", name=BLOCK[0][0], include_hidden=True).wait_for(state="attached")

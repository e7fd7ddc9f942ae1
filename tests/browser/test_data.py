"""The Data page in a real browser: a ratings file with a bad row is refused with that row's line
number; axe finds nothing serious on the page."""
from __future__ import annotations

from playwright.sync_api import expect

from .conftest import axe_findings, screenshot, wait_for_app

HEADER = "pcn_code,year,element_id,current_stage,target_stage,confidence,evidence\n"


def test_bad_ratings_file_names_the_row_and_imports_nothing(page, app_url, tmp_path):
    page.goto(app_url + "/data")
    wait_for_app(page)
    page.get_by_role("tab", name="Import ratings").click()
    rows = [f"U99008,2026/27,{element},step-1,step-2,medium,Board minutes"
            for element in ("lead-governance", "lead-clinical-director", "lead-vision")]
    rows[2] = rows[2].replace("step-1", "step-9", 1)
    bad = tmp_path / "ratings.csv"
    bad.write_text(HEADER + "\n".join(rows) + "\n")
    page.locator('.st-key-ratings_upload input[type=file]').set_input_files(str(bad))
    expect(page.get_by_text("Nothing has been imported").first).to_be_visible(timeout=30_000)
    wait_for_app(page)
    # The problems table names line 4 (the header is line 1).
    row = page.get_by_role("row", include_hidden=True).filter(has_text="step-9")
    row.first.wait_for(state="attached")
    assert row.first.get_by_role("gridcell", include_hidden=True).first.inner_text().strip() == "4"
    expect(page.get_by_text("ratings.csv: 1 problem(s). Nothing has been imported.")).to_be_visible()
    screenshot(page, "data-import-problems")
    assert axe_findings(page) == []

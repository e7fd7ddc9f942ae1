from .conftest import axe_findings, screenshot, wait_for_app


def test_home_page_shows_domains_and_pathway(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    tab = page.get_by_role("tab", name="Leadership, planning and partnerships")
    tab.wait_for()
    # Another domain's tab opens its elements with the stage descriptors side by side.
    page.get_by_role("tab", name="Use of data and population health management").click()
    panel = page.get_by_role("tabpanel").filter(has_text="Risk stratification")
    panel.get_by_text("Step 3").first.wait_for()
    assert page.get_by_text("The six-step development pathway").is_visible()
    screenshot(page, "home")
    assert axe_findings(page) == []


def test_matrices_page_lists_files(page, app_url):
    page.goto(app_url + "/matrices")
    wait_for_app(page)
    page.get_by_text("Check a YAML file").wait_for()
    screenshot(page, "matrices")
    assert axe_findings(page) == []

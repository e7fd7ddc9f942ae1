from .conftest import axe_findings, screenshot, wait_for_app


def test_home_page_shows_domains_and_pathway(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_role("radio", name="Leadership, planning and partnerships").wait_for()
    # Another domain's button shows its elements with the stage descriptors side by side.
    page.get_by_role("radio", name="Use of data and population health management").click()
    page.get_by_role("heading", name="Risk stratification and targeted care").wait_for()
    cards = page.get_by_text("Step 3", exact=True)
    assert cards.count() >= 5
    assert page.get_by_text("The six-step development pathway").is_visible()
    screenshot(page, "home")
    assert axe_findings(page) == []


def test_matrices_page_lists_files(page, app_url):
    page.goto(app_url + "/matrices")
    wait_for_app(page)
    page.get_by_text("Check a YAML file").wait_for()
    screenshot(page, "matrices")
    assert axe_findings(page) == []

"""Rating controls that forgive, in a real browser: clicking the chosen stage keeps it (one tap on
a touch screen must not unrate an element), undo puts back the stage before the last change, and
the print view of the whole assessment prints on A4 (chromium's page.pdf(), read back with pypdf
and rendered to PNG for a person to look at)."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import unicodedata

from playwright.sync_api import expect

from assessments import ratings as assessing
from assessments.store import Store

from .conftest import APP_DATABASES, ROOT, SHOTS, axe_findings, screenshot, wait_for_app

# Kestrel Bridge: a 2024/25 draft no other browser test writes to (test_progress only reads it).
PCN, YEAR, ELEMENT = "U99004", "2024/25", "lead-governance"
URL = f"/assess?ics=QZZ&pcn={PCN}&year={YEAR}"
TITLE = "Network agreement and decision making"
PDF_DIR = ROOT / "test-artifacts" / "pdf"


def stored(app_url: str):
    store = Store(APP_DATABASES[app_url])
    try:
        a = assessing.find_assessment(store, PCN, YEAR)
        return a, assessing.rating(store, a.id, ELEMENT)
    finally:
        store.close()


def now_control(page):
    return page.locator(f".st-key-element-{ELEMENT}").get_by_role("radiogroup", name="Where are we now?")


def test_choosing_the_chosen_stage_keeps_it_and_undo_puts_the_last_one_back(page, app_url):
    page.goto(app_url + URL)
    wait_for_app(page)
    page.get_by_role("heading", name=TITLE).wait_for()
    page.get_by_label("Your name (for the change log)").fill("Dr Controls")
    page.keyboard.press("Enter")
    wait_for_app(page)
    a, before = stored(app_url)
    assert a.status == "draft" and before.current_stage
    labels = {"foundation": "Foundation", "step-1": "Step 1", "step-2": "Step 2", "step-3": "Step 3"}
    chosen = now_control(page).get_by_role("radio", name=labels[before.current_stage], exact=True)
    expect(chosen).to_have_attribute("aria-checked", "true")
    expect(chosen).to_be_enabled()

    # The chosen stage clicked again: still chosen, nothing saved, nothing to undo.
    chosen.click()
    wait_for_app(page)
    expect(chosen).to_have_attribute("aria-checked", "true")
    assert stored(app_url)[1].version == before.version
    expect(page.get_by_role("button", name="Undo the last change")).to_have_count(0)

    # Another stage is saved; undo puts the one before back, on screen and in the database.
    other = next(s for s in labels if s != before.current_stage)
    now_control(page).get_by_role("radio", name=labels[other], exact=True).click()
    page.get_by_text(f"Saved '{TITLE}': now {labels[other]}.").first.wait_for()
    wait_for_app(page)
    assert stored(app_url)[1].current_stage == other
    expect(now_control(page).get_by_role("radio", name=labels[other], exact=True)).to_have_attribute(
        "aria-checked", "true")
    undo = page.get_by_role("button", name="Undo the last change")
    expect(undo).to_have_count(1)
    undo.click()
    page.get_by_text(f"Undone: '{TITLE}', now back to {labels[before.current_stage]}.").first.wait_for()
    wait_for_app(page)
    expect(chosen).to_have_attribute("aria-checked", "true")
    assert stored(app_url)[1].current_stage == before.current_stage
    expect(page.get_by_role("button", name="Undo the last change")).to_have_count(0)
    screenshot(page, "rating-controls")
    assert axe_findings(page) == []


def test_the_print_view_prints_every_element_on_a4(page, app_url):
    from pypdf import PdfReader

    page.goto(app_url + URL)
    wait_for_app(page)
    page.get_by_role("button", name="Print view").click()
    page.get_by_role("heading", name=f"Self-assessment: Kestrel Bridge PCN ({PCN}), {YEAR}").wait_for()
    wait_for_app(page)
    assert "print=1" in page.url
    screenshot(page, "assessment-print-screen")
    assert axe_findings(page) == []

    PDF_DIR.mkdir(parents=True, exist_ok=True)
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    (PDF_DIR / "assessment-print.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages}
    assert sizes == {(595, 842)}  # A4 portrait, in points
    assert 4 <= len(reader.pages) <= 20, len(reader.pages)
    # NFKC: chromium's PDF text has ligatures ("ﬁ") where the page had "fi".
    text = unicodedata.normalize("NFKC", " ".join(" ".join(p.extract_text().split()) for p in reader.pages))
    a, _ = stored(app_url)
    store = Store(APP_DATABASES[app_url])
    try:
        matrix = store.matrix(a.matrix_id, a.matrix_version)
        ratings = assessing.ratings(store, a.id)
    finally:
        store.close()
    for _, e in matrix.elements():  # every element, nothing cut off at the first page
        assert " ".join(e.title.split()) in text, e.title
        first_words = " ".join(e.descriptors[matrix.stage_ids[-1]].split()[:4])
        assert first_words in text, (e.id, first_words)
    notes = [r.note for r in ratings.values() if r.note]
    assert notes and " ".join(notes[0].split()[:5]) in text
    assert "Confidence:" in text and "Now" in text and "Target" in text
    # The page's pickers, buttons and navigation are not printed.
    for screen_only in ("Primary care network", "Back to the ratings", "Print view", "Your name"):
        assert screen_only not in text, screen_only

    if shutil.which("pdftoppm"):  # each page as a PNG, to look at
        for old in SHOTS.glob("assessment-print-page-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(PDF_DIR / "assessment-print.pdf"),
                        str(SHOTS / "assessment-print-page")], check=True, timeout=120)
        assert len(list(SHOTS.glob("assessment-print-page-*.png"))) == len(reader.pages)

    page.get_by_role("button", name="Back to the ratings").click()
    page.get_by_role("heading", name=TITLE).wait_for()
    expect(page).not_to_have_url(re.compile(r"print=1"))  # the address follows the run

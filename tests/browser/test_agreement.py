"""Agreement by two parties in a real browser, signed in against the test OpenID Connect provider:
a clinical director (the PCN's lead) adds evidence with an attached file and submits the
assessment; an ICS facilitator, signed in in another browser, downloads the file and confirms the
assessment; the plan PDF the clinical director then exports shows the evidence and both names."""
from __future__ import annotations

import io
import re
import subprocess
from datetime import date

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from assessments import people
from assessments import ratings as assessing
from assessments.demo import YEARS, load_demo
from assessments.store import Store
from tests.oidc.fixtures import oidc_app, oidc_provider  # noqa: F401  (pytest fixtures)
from tests.oidc.harness import sign_in

from .conftest import ROOT, SHOTS, screenshot, wait_for_app

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts" / "pdf"

CD, FACILITATOR = "hannah.brook@nhs.net", "fran.facilitator@nhs.net"  # "Hannah Brook", "Fran Facilitator"
PCN, YEAR = "U99008", YEARS[-1]  # a draft in the demo data
EVIDENCE = "Signed data-sharing agreement, network board 3 March"
FILE = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture
def two_party_app(oidc_app, tmp_path):  # noqa: F811
    db = f"sqlite:///{tmp_path / 'agreement.db'}"
    store = Store(db)
    load_demo(store)
    people.grant(store, CD, "pcn-lead", pcn_code=PCN, by="setup")
    people.grant(store, FACILITATOR, "ics-facilitator", ics_code="QZZ", by="setup")
    matrix = store.matrix(*next((a.matrix_id, a.matrix_version) for a in assessing.assessments(store, pcn_code=PCN)
                                if a.year == YEAR))
    store.close()
    return oidc_app(ROOT / "app.py", env_extra={"PCN_DATABASE_URL": db}), db, matrix


def enter(page, url: str, who: str) -> None:
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("button", name="Sign in").click()
    sign_in(page, who)
    wait_for_app(page)


def pdf_words(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).split())


def test_a_clinical_director_submits_with_evidence_and_a_facilitator_confirms(browser, two_party_app):
    url, db, matrix = two_party_app
    element = matrix.domains[0].elements[0]
    assess = f"{url}/assess?ics=QZZ&pcn={PCN}&year={YEAR}"
    today = date.today()
    day = f"{today.day} {today:%b %Y}"

    # The clinical director adds evidence with a file to the first element and submits.
    cd = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    cd.set_default_timeout(30_000)
    enter(cd, url, CD)
    cd.goto(assess)  # signing in lands on the home page
    wait_for_app(cd)
    card = cd.locator(f".st-key-evidence-{element.id}")
    card.locator("details > summary").click()  # the "Add evidence" expander
    card.get_by_role("textbox", name="What is the evidence?").fill(EVIDENCE)
    card.get_by_role("textbox", name="Link (optional)").fill("https://example.org/dsa")
    card.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        {"name": "dsa-signed.pdf", "mimeType": "application/pdf", "buffer": FILE})
    card.get_by_text("dsa-signed.pdf").wait_for()
    card.get_by_test_id("stBaseButton-primaryFormSubmit").click()
    wait_for_app(cd)
    expect(card.get_by_text(EVIDENCE)).to_be_visible()
    expect(card.get_by_role("button", name=re.compile(r"dsa-signed\.pdf"))).to_be_visible()
    expect(card.get_by_text(re.compile(f"Added by Hannah Brook .*on {day}"))).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    cd.locator(f".st-key-element-{element.id}").screenshot(path=str(SHOTS / "agreement-evidence.png"))
    cd.get_by_role("button", name="Submit for agreement").click()
    wait_for_app(cd)
    expect(cd.get_by_text(re.compile("submitted to the ICS for agreement"))).to_be_visible()
    expect(cd.get_by_text(re.compile(f"Submitted for agreement by Hannah Brook .* on {day}"))).to_be_visible()
    expect(cd.get_by_role("button", name="Confirm the agreement")).to_have_count(0)  # not the PCN's to confirm

    # The facilitator, in a browser of their own, sees the submission, the evidence and its file.
    fac = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    fac.set_default_timeout(30_000)
    enter(fac, url, FACILITATOR)
    fac.goto(assess)
    wait_for_app(fac)
    expect(fac.get_by_text(re.compile("Submitted for agreement by Hannah Brook"))).to_be_visible()
    with fac.expect_download() as got:
        fac.locator(f".st-key-evidence-{element.id}").get_by_role("button", name=re.compile(r"dsa-signed\.pdf")).click()
    with open(got.value.path(), "rb") as f:
        assert f.read() == FILE
    expect(fac.get_by_role("button", name="Submit for agreement")).to_have_count(0)
    fac.get_by_role("button", name="Confirm the agreement").click()
    wait_for_app(fac)
    expect(fac.get_by_text(re.compile(f"confirmed for the ICS by Fran Facilitator .*on {day}"))).to_be_visible()
    screenshot(fac, "agreement-confirmed")

    store = Store(db)
    try:
        a = assessing.find_assessment(store, PCN, YEAR)
        assert (a.status, a.submitted_by, a.confirmed_by) == ("agreed", "Hannah Brook <hannah.brook@nhs.net>",
                                                              "Fran Facilitator <fran.facilitator@nhs.net>")
    finally:
        store.close()

    # The plan PDF the clinical director exports now shows the evidence and both sides of the agreement.
    cd.goto(f"{url}/plan?ics=QZZ&pcn={PCN}&year={YEAR}")
    wait_for_app(cd)
    cd.get_by_role("tab", name="Download").click()
    cd.get_by_role("button", name="Prepare the plan PDF").click()
    cd.get_by_role("button", name="Download the plan PDF").wait_for(timeout=60_000)
    with cd.expect_download() as got:
        cd.get_by_role("button", name="Download the plan PDF").click()
    with open(got.value.path(), "rb") as f:
        exported = f.read()
    text = pdf_words(exported)
    # Its pages as PNG, to look at (test-artifacts/pdf/agreement-*.png).
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("agreement-*.png"):
        old.unlink()
    (ARTIFACTS / "agreement.pdf").write_bytes(exported)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(ARTIFACTS / "agreement.pdf"), str(ARTIFACTS / "agreement")],
                   check=True)
    assert len(list(ARTIFACTS.glob("agreement-*.png"))) == len(PdfReader(io.BytesIO(exported)).pages)
    assert EVIDENCE in text and "File: dsa-signed.pdf · Link: https://example.org/dsa" in text
    assert f"Added {day} by Hannah Brook" in text
    assert f"Submitted by Hannah Brook Date {day}" in text
    assert f"Confirmed by Fran Facilitator Date {day}" in text
    assert "elements have evidence reviewed this year" in text
    cd.context.close()
    fac.context.close()

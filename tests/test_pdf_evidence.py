"""The plan carries the evidence: per element its stages, confidence, dated evidence items and
note; the summary states the evidence coverage; the sign-off names who submitted the assessment
and who confirmed it, with the dates. Read back with pypdf and openpyxl; the pages are left as
PNG in test-artifacts/pdf/ to look at."""
from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image, ImageStat
from pypdf import PdfReader

from assessments import evidence as ev
from assessments import organisations as orgs
from assessments import ratings as assessing
from assessments.access import FACILITATOR, LEAD, Grant, Principal
from assessments.store import Store
from reports.data import gather
from reports.excel import workbook
from reports.pdf import render

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "pdf"
PCN, YEAR = "U90001", "2024/25"
LEAD_P = Principal("lead", "Dr Lee Lead", "lee@nhs.net", (Grant(LEAD, pcn_code=PCN),))
FAC_P = Principal("fac", "Fran Facilitator", "fran@nhs.net", (Grant(FACILITATOR, ics_code="QZZ"),))
PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def at(y, m, d, h=10):
    return datetime(y, m, d, h, 0, tzinfo=UTC)


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def report(tmp_path_factory, small_matrix):
    s = Store(f"sqlite:///{tmp_path_factory.mktemp('pdfev') / 'ev.db'}", matrices=[small_matrix])
    orgs.add_ics(s, "QZZ", "Test ICS", by="setup")
    orgs.add_pcn(s, PCN, "Evidence PCN", ics_code="QZZ", list_size=10_000, by="setup")
    with s.batch(by="Dr Cee", at=at(2023, 10, 2)) as uow:
        old = assessing.create_assessment(uow, PCN, "2023/24")
        assessing.save_rating(uow, old.id, "data-sharing", expected_version=0, current_stage="developing")
        ev.add_evidence(uow, old.id, "data-sharing", description="Data-sharing agreement signed by all practices")
    with s.batch(by="Dr Cee", at=at(2024, 9, 2)) as uow:
        a = assessing.start_year(uow, PCN, YEAR)
    lead = s.acting(LEAD_P)
    with lead.batch(at=at(2024, 10, 1)) as uow:
        for e, now, target, conf, note in (("governance", "developing", "embedded", "medium", "Board meets monthly"),
                                           ("vision", "starting", "developing", "low", None)):
            r = assessing.rating(uow, a.id, e)
            assessing.save_rating(uow, a.id, e, expected_version=r.version if r else 0, current_stage=now,
                                  target_stage=target, confidence=conf, note=note,
                                  evidence="Summary: see the items below" if e == "governance" else None)
        ev.add_evidence(uow, a.id, "governance", description="Signed network agreement", link="https://example.org/na",
                        file=ev.Upload("minutes.pdf", PDF_BYTES))
        ev.add_evidence(uow, a.id, "vision", description="Vision on the PCN website", review_by="2025-06-01")
    with lead.batch(at=at(2025, 1, 10)) as uow:
        assessing.submit_assessment(uow, a.id, expected_version=assessing.assessment(uow, a.id).version)
    with s.acting(FAC_P).batch(at=at(2025, 1, 20, 15)) as uow:
        assessing.confirm_assessment(uow, a.id, expected_version=assessing.assessment(uow, a.id).version)
    r = gather(s, PCN, YEAR, produced=at(2025, 1, 25))
    yield r
    s.close()


@pytest.fixture(scope="module")
def pdf(report) -> bytes:
    return render(report, charts=False)


@pytest.fixture(scope="module")
def text(pdf) -> str:
    return words("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def test_every_element_has_its_stages_confidence_evidence_with_dates_and_note(text):
    assert "Evidence by element" in text
    for line in ("Governance", "Shared vision", "Data sharing"):
        assert line in text
    assert "Now: Developing Target: Embedded Confidence: medium" in text
    assert "Now: Starting Target: Developing Confidence: low" in text
    assert "Summary: see the items below" in text and "Board meets monthly" in text
    assert "• Signed network agreement Added 1 Oct 2024 by Dr Lee Lead · review by 1 Oct 2025" in text
    assert "File: minutes.pdf · Link: https://example.org/na" in text
    assert "• Vision on the PCN website Added 1 Oct 2024 by Dr Lee Lead · review by 1 Jun 2025" in text
    assert ("• Data-sharing agreement signed by all practices Added 2 Oct 2023 by Dr Cee · review by 2 Oct 2024 · "
            "carried over from 2023/24, not yet confirmed") in text


def test_the_summary_states_the_evidence_coverage(text, report):
    line = "2 of 3 elements have evidence reviewed this year; 1 carried over from last year is not yet reviewed."
    assert text.count(line) == 2  # in the summary and above the evidence tables
    assert report.coverage.current == 2 and report.evidence_as_of.isoformat() == "2025-01-25"


def test_the_sign_off_names_who_submitted_and_who_confirmed_with_dates(text):
    agreement = text[text.rindex("Agreement"):]
    assert "submitted for the network, then confirmed for the ICS" in agreement
    assert "For the PCN Evidence PCN Submitted by Dr Lee Lead Date 10 Jan 2025" in agreement
    assert "For the ICS Test ICS Confirmed by Fran Facilitator Date 20 Jan 2025" in agreement
    assert "lee@nhs.net" not in text and "Signature" not in agreement


def test_the_workbook_carries_the_evidence_and_the_agreement(report):
    wb = load_workbook(io.BytesIO(workbook(report)))
    rows = list(wb["Evidence"].iter_rows(values_only=True))
    head = rows[0]
    got = {(r[head.index("Element")], r[head.index("Evidence item")]): r for r in rows[1:]}
    g = got[("Governance", "Signed network agreement")]
    assert (g[head.index("Confidence")], g[head.index("File")], g[head.index("Link")]) == (
        "medium", "minutes.pdf", "https://example.org/na")
    assert g[head.index("Review by")].date().isoformat() == "2025-10-01"
    d = got[("Data sharing", "Data-sharing agreement signed by all practices")]
    assert d[head.index("Freshness")] == "carried over (from 2023/24)"
    facts = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r[0]}
    assert facts["Submitted for the PCN by"] == "Dr Lee Lead on 10 Jan 2025"
    assert facts["Confirmed for the ICS by"] == "Fran Facilitator on 20 Jan 2025"
    assert facts["Evidence"].startswith("2 of 3 elements have evidence reviewed this year")


def test_an_unagreed_plan_says_so_instead_of_empty_lines(report):
    from dataclasses import replace

    draft = replace(report, assessment=replace(report.assessment, status="draft", submitted_by=None,
                                               submitted_at=None, confirmed_by=None, confirmed_at=None))
    t = words("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(render(draft, charts=False))).pages))
    agreement = t[t.rindex("Agreement"):]
    assert "is a draft: it has not been agreed with the ICS yet" in agreement
    assert "Submitted not yet" in agreement and "Confirmed not yet" in agreement


def test_the_pages_render_to_png(pdf):
    """Every run leaves the pages in test-artifacts/pdf/evidence-*.png to look at."""
    assert shutil.which("pdftoppm"), "pdftoppm (poppler-utils) is needed: apt-get install poppler-utils"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("evidence-*.png"):
        old.unlink()
    (ARTIFACTS / "evidence.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(ARTIFACTS / "evidence.pdf"), str(ARTIFACTS / "evidence")],
                   check=True)
    pages = sorted(ARTIFACTS.glob("evidence-*.png"))
    assert len(pages) == len(PdfReader(io.BytesIO(pdf)).pages)
    for png in pages:
        assert ImageStat.Stat(Image.open(png).convert("L")).stddev[0] > 5, f"{png.name} looks blank"

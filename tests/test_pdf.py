"""The development-plan PDF (and workbook): its text, charts, pagination, Unicode and metadata,
read back out of the file the way a reader's software would (pypdf, poppler's pdftoppm)."""
from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image, ImageStat
from pypdf import PdfReader

from assessments import plan as P
from assessments.demo import load_demo
from assessments.store import Store
from reports import pdf as report_pdf
from reports.data import gather, summary_paragraphs
from reports.excel import workbook
from assessments import ratings as assessing
from assessments import organisations as orgs

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "pdf"
YEAR = "2024/25"
UNICODE = "£1,250 – Zoë Ñúñez, Ørsted Café"
MAIN, LONG, BARE = "U99001", "U99002", "U99007"  # a plan; a very long plan; no plan rows at all


def words(text: str) -> str:
    return " ".join(text.split())


def pdf_text(data: bytes) -> str:
    """The text of every page, without the running header and footer lines (as a reader skips
    them), so a paragraph that runs over a page break reads as one."""
    pages = []
    for n, page in enumerate(PdfReader(io.BytesIO(data)).pages):
        lines = page.extract_text().splitlines()
        if n:  # the cover has neither
            assert "Development plan" in lines[0] and lines[-1].startswith("Produced ") and " of " in lines[-1]
            lines = lines[1:-1]
        pages.append("\n".join(lines))
    return words("\n".join(pages))


def long_action(i: int) -> str:
    return (f"Action {i:02d}: run a series of facilitated sessions with the member practices, community nursing, "
            f"social care and the voluntary sector to agree how the network will work on frailty, including who "
            f"leads each part, what data is shared and how progress is reported to the board (item {i:02d}-end).")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = Store(f"sqlite:///{tmp_path_factory.mktemp('pdf') / 'pdf.db'}")
    load_demo(s)
    snap = P.snapshot(s, MAIN, YEAR)
    P.save_plan(s, MAIN, YEAR, by="Priya Shah", expected_version=0, service_spec="care-homes",
                service_priority="Weekly multidisciplinary rounds in every care home, with the community team.",
                priorities=P.suggest_priorities(snap, 3), notes="Agreed in outline at the March board.")
    P.save_actions(s, MAIN, YEAR, [
        dict(what="Away day for the member practices with an external facilitator", owner="Dr Amara Okafor",
             due=date(2025, 3, 31), status="in progress", step=3, support_needed="Facilitation of two sessions",
             support_from="Commissioning support unit", cost="2400", funding_source=P.DEVELOPMENT_FUNDING,
             funding_category="organisational-development"),
        dict(what=f"Coaching for the clinical director, budget {UNICODE}", owner="Zoë Ñúñez", status="not started",
             step=4, support_needed="Leadership coaching", cost="1250", funding_source=P.DEVELOPMENT_FUNDING,
             funding_category="leadership-development"),
        dict(what="Pay the premises rent for the PCN office", owner="PCN manager", status="not started",
             cost="900", funding_source=P.DEVELOPMENT_FUNDING),
    ], by="Priya Shah")
    huge = " ".join(f"Paragraph {k}: the network's notes on how the work was agreed, who took part and what "
                    f"was learnt along the way." for k in range(1, 120))
    P.save_plan(s, LONG, YEAR, by="Tom Whitlock", expected_version=0, notes=huge,
                service_priority="Anticipatory care for people living with frailty " * 20)
    rows = [dict(what=long_action(i), owner=f"Owner {i}", due=date(2025, 1 + i % 12, 1 + i % 28),
                 status=P.STATUSES[i % 4], step=1 + i % 6, support_needed=f"Support needed for action {i:02d}: "
                 + "project management and analytics time " * 3, support_from="ICB transformation team",
                 cost=str(100 * i), funding_source=P.FUNDING_SOURCES[i % 4]) for i in range(1, 60)]
    rows.append(dict(what="Very long action: " + " ".join(f"w{k:04d}" for k in range(800)) + " (the end of it)",
                     owner="Owner 60"))
    P.save_actions(s, LONG, YEAR, rows, by="Tom Whitlock")
    yield s
    s.close()


@pytest.fixture(scope="module")
def main_pdf(store) -> bytes:
    return report_pdf.plan_pdf(store, MAIN, YEAR)


@pytest.fixture(scope="module")
def long_pdf(store) -> bytes:
    return report_pdf.plan_pdf(store, LONG, YEAR)


def test_the_pdf_says_what_the_database_holds(store, main_pdf):
    text = pdf_text(main_pdf)
    pcn = orgs.pcn(store, MAIN)
    assert pcn.name in text and MAIN in text and orgs.ics(store, pcn.ics_code).name in text
    assessment = assessing.find_assessment(store, MAIN, YEAR)
    matrix = store.matrix(assessment.matrix_id, assessment.matrix_version)
    ratings = assessing.ratings(store, assessment.id)
    for domain in matrix.domains:
        assert domain.title in text
        for e in domain.elements:
            r = ratings[e.id]
            row = f"{e.title} {matrix.stage(r.current_stage).label} {matrix.stage(r.target_stage).label}"
            assert words(row) in text, row
    for action in P.get_plan(store, MAIN, YEAR).actions:
        assert words(action.what) in text
    assert "Weekly multidisciplinary rounds in every care home" in text
    assert "Enhanced health in care homes" in text  # the DES specification by its title
    assert f"Assessment status {assessment.status.capitalize()}" in text
    # The sign-off names who submitted the assessment and who confirmed it, with the dates.
    sub, con = assessment.submitted_at, assessment.confirmed_at
    assert (f"For the PCN {pcn.name} Submitted by {assessment.submitted_by} Date {sub.day} {sub:%b %Y}") in text
    assert words(f"Confirmed by {assessment.confirmed_by} Date {con.day} {con:%b %Y}") in text
    assert "Signature" not in text


def test_the_pdf_has_both_charts_as_images(main_pdf):
    reader = PdfReader(io.BytesIO(main_pdf))
    images = [img for page in reader.pages for img in page.images]
    assert len(images) >= 2
    for img in images[:2]:
        w, h = img.image.size
        assert w >= 1000 and h >= 700  # drawn at print resolution, not thumbnails
        assert len(img.image.convert("L").resize((64, 64)).getcolors(4096)) > 20  # a real picture, not a blank


def test_metadata_and_page_numbers(store, main_pdf):
    reader = PdfReader(io.BytesIO(main_pdf))
    name = orgs.pcn(store, MAIN).name
    assert reader.metadata.title == f"Development plan {YEAR}: {name}"
    assert reader.metadata.author == name
    assert YEAR in reader.metadata.subject and reader.metadata.creation_date is not None
    n = len(reader.pages)
    assert f"Page 2 of {n}" in words(reader.pages[1].extract_text())
    assert f"Page {n} of {n}" in words(reader.pages[-1].extract_text())
    outline = [o.title for o in reader.outline]
    assert outline[:3] == ["Summary", "Maturity by domain", "Progress by domain"]


def test_unicode_survives(main_pdf):
    assert UNICODE in pdf_text(main_pdf)


def test_funding_flags_and_suggestions_are_in_the_pdf(store, main_pdf):
    text = pdf_text(main_pdf)
    assert "Funding checks" in text
    assert "It mentions 'premises rent'" in text and "Running costs and business as usual" in text
    # The chosen priorities carry the reasons they were suggested with.
    plan = P.get_plan(store, MAIN, YEAR)
    assert words(plan.priorities[0].reason) in text
    assert "SUGGESTED, NOT YET CHOSEN" not in text


def _text_positions(data: bytes) -> list[tuple[int, float, str]]:
    out = []
    for n, page in enumerate(PdfReader(io.BytesIO(data)).pages, start=1):
        def visit(text, cm, tm, font, size, n=n):
            if text.strip():
                out.append((n, tm[5] * cm[3] + cm[5], text))
        page.extract_text(visitor_text=visit)
    return out


def test_a_long_plan_paginates_without_cutting_text(store, long_pdf):
    reader = PdfReader(io.BytesIO(long_pdf))
    assert len(reader.pages) > 15
    text = pdf_text(long_pdf)
    plan = P.get_plan(store, LONG, YEAR)
    assert len(plan.actions) == 60
    for action in plan.actions:
        assert words(action.what) in text, action.what[:40]
    assert words(plan.notes) in text and words(plan.service_priority) in text
    # The longest action is shortened in its table row and printed in full after the tables.
    assert "Full text of long entries" in text
    # Nothing is written in the bottom margin (20 mm = 56.7 pt) except the footer.
    low = [(n, y, t) for n, y, t in _text_positions(long_pdf) if y < 50 and "Produced" not in t and "Page" not in t]
    assert low == []
    # The actions table repeats its heading row on each page it runs onto.
    headed = [p for p in reader.pages if "# Action Owner and due Status and step Cost and funding" in words(p.extract_text())]
    assert len(headed) >= 3


def test_a_pcn_without_a_plan_gets_a_useful_pdf(store):
    data = report_pdf.plan_pdf(store, BARE, YEAR)
    text = pdf_text(data)
    assert orgs.pcn(store, BARE).name in text
    assert "SUGGESTED, NOT YET CHOSEN" in text
    for s in P.suggest_priorities(P.snapshot(store, BARE, YEAR)):
        assert words(s.element_title) in text
    assert "No actions have been recorded for this year yet." in text
    assert sum(len(p.images) for p in PdfReader(io.BytesIO(data)).pages) >= 2


def test_a_pcn_with_no_assessment_at_all_still_gets_a_pdf(store):
    orgs.add_pcn(store, "U99050", "Brand New PCN", ics_code="QZZ", list_size=20_000, by="test")
    text = pdf_text(report_pdf.plan_pdf(store, "U99050", YEAR))
    assert "Brand New PCN has not started its 2024/25 self-assessment yet." in text
    assert "Not started" in text


def test_the_summary_is_worked_out_from_the_data(store):
    report = gather(store, MAIN, YEAR)
    summary = dict(summary_paragraphs(report))
    best = max(d.score.score for d in report.domains)
    strongest = [d.title for d in report.domains if d.score.score == best]
    assert all(t in summary["Where the network is strongest"] for t in strongest)
    assert "3 actions (2 not started, 1 in progress)" in summary["Actions"]
    assert "£4,550" in summary["Actions"] and "1 action may not meet" in summary["Actions"]


def test_a_missing_font_is_a_clear_error(store, monkeypatch, tmp_path):
    monkeypatch.setattr(report_pdf, "FONT_DIR", tmp_path)
    with pytest.raises(report_pdf.ReportError, match="apt-get install fonts-dejavu-core"):
        report_pdf.render(gather(store, MAIN, YEAR), charts=False)


def test_the_workbook_has_the_same_plan(store):
    data = workbook(gather(store, MAIN, YEAR))
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Summary", "Priorities", "Actions", "Actions by priority", "Elements", "Evidence",
                             "Pathway", "Clinical director"]
    actions = list(wb["Actions"].iter_rows(min_row=2, values_only=True))
    assert [a[1] for a in actions] == [a.what for a in P.get_plan(store, MAIN, YEAR).actions]
    assert actions[0][3].date() == date(2025, 3, 31) and actions[0][9] == 2400
    assert "premises rent" in actions[2][12]


def test_typed_text_never_becomes_a_formula(store):
    P.add_action(store, "U99003", YEAR, by="test", what="=HYPERLINK(\"http://example.com\",\"x\")")
    wb = load_workbook(io.BytesIO(workbook(gather(store, "U99003", YEAR))))
    cell = wb["Actions"]["B2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_an_ics_zip_has_every_pcn(store):
    import zipfile

    seen = []
    data = report_pdf.ics_plans_zip(store, "QZZ", YEAR, progress=lambda done, total, name: seen.append((done, total)))
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    codes = [p.code for p in orgs.pcns(store, "QZZ")]
    assert names == [f"development-plan-{c}-2024-25.pdf" for c in codes]
    assert seen[0] == (0, len(codes)) and seen[-1] == (len(codes), len(codes))


def test_pages_render_to_png_and_are_not_blank(main_pdf):
    """Every test run leaves page images of one plan in test-artifacts/pdf/ to look at."""
    assert shutil.which("pdftoppm"), "pdftoppm (poppler-utils) is needed: apt-get install poppler-utils"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("plan-*.png"):
        old.unlink()
    pdf = ARTIFACTS / "plan.pdf"
    pdf.write_bytes(main_pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(ARTIFACTS / "plan")], check=True)
    pages = sorted(ARTIFACTS.glob("plan-*.png"))
    assert len(pages) == len(PdfReader(io.BytesIO(main_pdf)).pages)
    for png in pages:
        stat = ImageStat.Stat(Image.open(png).convert("L"))
        assert stat.stddev[0] > 5, f"{png.name} looks blank"


def test_pathway_steps_come_from_pathway_status(store, monkeypatch):
    """The PDF asks assessments.pathway.pathway_status(store, pcn, year, pathway) for the six steps."""
    from dataclasses import dataclass

    @dataclass
    class StepStatus:
        number: int
        title: str
        status: str
        date: date | None
        note: str | None
        ticks: dict

    calls = []

    def pathway_status(store_, pcn_code, year, pathway):
        calls.append((pcn_code, year, pathway.id))
        done = {i.id: True for i in pathway.steps[0].checklist}
        return [StepStatus(s.number, s.title, "done" if s.number < 3 else "in progress" if s.number == 3 else "not started",
                           date(2024, 6, s.number) if s.number <= 3 else None,
                           "Clinical director elected – Zoë Ñúñez" if s.number == 1 else None,
                           done if s.number == 1 else {}) for s in pathway.steps]

    import reports.data

    monkeypatch.setattr(reports.data, "pathway_status", pathway_status)
    report = gather(store, MAIN, YEAR)
    assert calls == [(MAIN, YEAR, report.pathway.id)]
    text = pdf_text(report_pdf.render(report, charts=False))
    first = report.pathway.steps[0]
    assert words(f"1 {first.title} done 1 Jun 2024 {len(first.checklist)} of {len(first.checklist)} "
                 f"Clinical director elected – Zoë Ñúñez") in text
    assert "Step 3, What help is required?, is in progress; steps 1 and 2 done." in text


def test_the_recorded_pathway_is_in_the_pdf(store):
    from assessments.pathway import pathway_status, save_step

    code = "U99004"
    pathway = gather(store, code, YEAR).pathway
    first = pathway.steps[0]
    save_step(store, code, YEAR, 1, by="Daniel Osei", expected_version=0, status="done", date=date(2024, 5, 1),
              ticks=[i.id for i in first.checklist[:2]], note="Network agreement signed again after the merger – Zoë")
    save_step(store, code, YEAR, 2, by="Daniel Osei", expected_version=0, status="in progress")
    assert [s.status for s in pathway_status(store, code, YEAR, pathway)][:3] == ["done", "in progress", "not recorded"]
    text = pdf_text(report_pdf.render(gather(store, code, YEAR), charts=False))
    assert words(f"1 {first.title} done 1 May 2024 2 of {len(first.checklist)} "
                 "Network agreement signed again after the merger – Zoë") in text
    assert f"Step 2, {pathway.steps[1].title}, is in progress; step 1 done." in text


def test_actions_print_under_what_they_serve_with_the_clinical_directors_part(store):
    """Issue 16: the actions under the priorities and elements they serve (in the PDF and the
    workbook), the requests existing support should meet first, and the clinical director's part.
    The pages are left in test-artifacts/pdf/ as linked-plan-*.png to look at."""
    code = "U99005"
    chosen = P.suggest_priorities(P.snapshot(store, code, YEAR), 3)
    P.save_plan(store, code, YEAR, by="Dr Ravi Menon", expected_version=0, priorities=chosen,
                       service_priority="A weekly frailty meeting with community nursing and social care")
    P.save_actions(store, code, YEAR, [
        dict(what="Facilitated sessions on the network's vision", owner="Dr Ravi Menon", links="priority 1; priority 2",
             cost="2400", funding_source=P.DEVELOPMENT_FUNDING, funding_category="organisational-development"),
        dict(what="Leadership coaching for the clinical director", links="priority 1", cost="1250",
             funding_source=P.DEVELOPMENT_FUNDING, funding_category="leadership-development"),
        dict(what="Weekly frailty meeting set up", owner="Ann", links="service"),
        dict(what="Newsletter to patients"),
    ], by="Dr Ravi Menon")
    P.save_cd_development(store, code, YEAR, {"using-data": ("Read the population dashboards with the leads",
                                                             "The ICB's analytics team")},
                          by="Dr Ravi Menon", expected_version=P.get_plan(store, code, YEAR).version)
    report = gather(store, code, YEAR)
    data = report_pdf.render(report, charts=False)
    text = pdf_text(data)
    first, second, third = (s.element_title for s in chosen)
    start = text.index("Each action is listed under")
    actions = text[start:text.index("Support requested and funding checks", start)]
    # In order: the service-improvement priority, each priority (action 1 under both, saying so), the rest.
    parts = ["Service-improvement priority", "3 Weekly frailty meeting set up Ann",
             f"Priority 1: {first}", "1 Facilitated sessions on the network's vision", f"(Also for: Priority 2: {second})",
             "2 Leadership coaching for the clinical director",
             f"Priority 2: {second}", "1 Facilitated sessions on the network's vision", f"(Also for: Priority 1: {first})",
             f"Priority 3: {third}", "No action is linked to this priority yet.",
             "Not linked to a priority or element", "4 Newsletter to patients"]
    at = 0
    for part in parts:
        found = actions.find(words(part), at)
        assert found >= 0, (part, actions[at:at + 300])
        at = found + len(words(part))
    # The coaching request: the ICB's programme for clinical directors comes first.
    assert "Support that already exists comes first" in text
    assert words("Action 2: Leadership coaching for the clinical director • It asks for 'Leadership development and "
                 "coaching': first see whether support that is already funded covers it (the ICB's development "
                 "programme for clinical directors") in text
    # The clinical director's part, with the areas nothing was asked from.
    cd = text[text.index("The clinical director's development Support is for"):]
    assert words("Using data for decisions Read the population dashboards with the leads The ICB's analytics team") in cd
    assert words("Nothing asked for this year from: Managing change; Finances; Building the team and workforce; "
                 "Influencing and engaging stakeholders; Involving the public.") in cd
    assert words("The clinical director's development Asks for support in 1 of the 6 areas") in text  # the summary
    # The workbook says the same.
    wb = load_workbook(io.BytesIO(workbook(report)))
    grouped = list(wb["Actions by priority"].iter_rows(min_row=2, values_only=True))
    assert [(g[0], g[2]) for g in grouped] == [
        ("Service-improvement priority", 3), (f"Priority 1: {first}", 1), (f"Priority 1: {first}", 2),
        (f"Priority 2: {second}", 1), (f"Priority 3: {third}", None), ("Not linked to a priority or element", 4)]
    flat = list(wb["Actions"].iter_rows(min_row=2, values_only=True))
    assert flat[0][13] == f"Priority 1: {first}\nPriority 2: {second}" and "already funded" in flat[1][14]
    cd_rows = list(wb["Clinical director"].iter_rows(min_row=2, values_only=True))
    assert [(c[0], c[2], c[3]) for c in cd_rows][:2] == [
        ("Managing change", None, None),
        ("Using data for decisions", "Read the population dashboards with the leads", "The ICB's analytics team")]

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("linked-plan-*.png"):
        old.unlink()
    (ARTIFACTS / "linked-plan.pdf").write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(ARTIFACTS / "linked-plan.pdf"), str(ARTIFACTS / "linked-plan")],
                   check=True)
    pages = sorted(ARTIFACTS.glob("linked-plan-*.png"))
    assert len(pages) == len(PdfReader(io.BytesIO(data)).pages)
    assert all(ImageStat.Stat(Image.open(png).convert("L")).stddev[0] > 5 for png in pages)

"""Matrices of extreme shapes (tests/fixtures/shapes.py: 1 to 30 domains, 2 to 10 stages, long
labels and names) load, get ratings for two years through the services, show on every page, and
export a plan PDF that reads right, checked from the PDF itself with pdfplumber's word boxes:
every word inside the printable area, no two words on top of each other, every domain name in
full, no white text off its coloured background, no chart off the page, and no page holding only
a heading. Each run leaves the PDFs of the 12- and 30-domain matrices as PNG pages under
test-artifacts/pdf/ to look at."""
from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pdfplumber
import pytest
from app_fixtures import open_page, shown_tables
from fpdf import FPDF
from PIL import Image, ImageStat

from assessments import ratings as assessing
from assessments import workshop as ws
from assessments.store import Store
from matrix import load_file
from reports import pdf as report_pdf
from tests.fixtures import shapes as S

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "pdf"
LOOKED_AT = ("twelve", "thirty")  # rendered to PNG on every run

MM = 72 / 25.4
PAGE_W, PAGE_H = 210 * MM, 297 * MM
EDGE = 8 * MM  # nothing nearer the top or bottom edge than this (printers leave about 5 mm)
COLUMN = (report_pdf.MARGIN * MM, PAGE_W - report_pdf.MARGIN * MM)  # the text column, left to right
BODY_TOP, BODY_BOTTOM = report_pdf.TOP * MM, (297 - 20) * MM  # below the running header, above the footer
HEADING_PT = 12  # headings are 12.5 pt and up; body text and tables are 10 pt and smaller
INTRO = ((66, 85, 99), 9.5)  # the grey 9.5 pt of the paragraph under a section heading
TOL = 0.6  # points


# ---------------------------------------------------------------------------------------------
# Reading a PDF's layout


def _rgb(colour) -> tuple[int, ...] | None:
    if colour is None or not isinstance(colour, (tuple, list)) or len(colour) != 3:
        return None
    return tuple(round(float(c) * 255) for c in colour)


def page_words(page) -> list[dict]:
    return page.extract_words(extra_attrs=["size", "non_stroking_color"], return_chars=True)


def furniture(word: dict) -> bool:
    """The running header and footer, which every page but the cover carries."""
    return word["top"] < BODY_TOP - 2 * MM or word["bottom"] > BODY_BOTTOM + 2 * MM


def _overlap(a: dict, b: dict) -> bool:
    return (min(a["x1"], b["x1"]) - max(a["x0"], b["x0"]) > TOL
            and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > TOL)


def _lead_in(w: dict) -> bool:
    """Text that introduces what follows rather than being it: the grey intro under a section
    heading, and the small secondary line under a domain's heading."""
    return _rgb(w["non_stroking_color"]) in (INTRO[0], (76, 98, 114)) and w["size"] < 10


def layout_problems(data: bytes) -> list[str]:
    """Everything that reads wrong in the PDF's layout, as 'page n: what' lines."""
    out = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        pages = [(page, page_words(page)) for page in pdf.pages]
        for n, (page, words) in enumerate(pages, start=1):
            where = f"page {n}"
            for w in words:
                if w["x0"] < COLUMN[0] - TOL or w["x1"] > COLUMN[1] + TOL or w["top"] < EDGE or w["bottom"] > PAGE_H - EDGE:
                    out.append(f"{where}: '{w['text']}' lies outside the printable area "
                               f"(x {w['x0'] / MM:.1f}-{w['x1'] / MM:.1f} mm, y {w['top'] / MM:.1f}-{w['bottom'] / MM:.1f} mm)")
                for a, b in zip(w["chars"], w["chars"][1:]):  # two texts printed over each other merge into one word
                    narrower = min(a["x1"] - a["x0"], b["x1"] - b["x0"])
                    if a["x1"] - b["x0"] > 0.4 * narrower:
                        out.append(f"{where}: text printed over other text at '{w['text']}'")
                        break
            ordered = sorted(words, key=lambda w: w["x0"])
            for i, a in enumerate(ordered):
                for b in ordered[i + 1:]:
                    if b["x0"] >= a["x1"] - TOL:
                        break
                    if _overlap(a, b):
                        out.append(f"{where}: '{a['text']}' and '{b['text']}' overlap")
            # White text must sit on a coloured fill (the cover's band, a table's heading row).
            fills = [r for r in page.rects if r.get("fill") and _rgb(r.get("non_stroking_color")) not in (None, (255, 255, 255))]
            for w in words:
                if _rgb(w["non_stroking_color"]) == (255, 255, 255) and not any(
                        r["x0"] - TOL <= w["x0"] and w["x1"] <= r["x1"] + TOL and r["top"] - TOL <= w["top"]
                        and w["bottom"] <= r["bottom"] + TOL for r in fills):
                    out.append(f"{where}: white '{w['text']}' is not on a coloured background")
            for im in page.images:
                if (im["x0"] < COLUMN[0] - TOL or im["x1"] > COLUMN[1] + TOL or im["top"] < BODY_TOP - TOL
                        or im["bottom"] > BODY_BOTTOM + TOL):
                    out.append(f"{where}: an image runs outside the page's body "
                               f"(y {im['top'] / MM:.1f}-{im['bottom'] / MM:.1f} mm)")
                for w in words:
                    if _overlap(w, im):
                        out.append(f"{where}: '{w['text']}' is printed over an image")
            if n > 1:
                body = [w for w in words if not furniture(w)]
                content = [w for w in body if w["size"] < HEADING_PT
                           and not (_rgb(w["non_stroking_color"]) == INTRO[0] and abs(w["size"] - INTRO[1]) < 0.1)]
                if body and not content and not page.images:
                    out.append(f"{where}: holds only a heading ({' '.join(w['text'] for w in body)[:80]})")
                if not body and not page.images:
                    out.append(f"{where}: is empty")
                # A heading whose section goes on over the page must take some of it along.
                headings = [w for w in body if w["size"] >= HEADING_PT]
                if headings and n < len(pages):
                    last = max(w["bottom"] for w in headings)
                    alone = all(_lead_in(w) for w in body if w["top"] > last) and not any(
                        im["top"] > last for im in page.images)
                    next_page, next_words = pages[n]
                    nxt = [w for w in next_words if not furniture(w)]
                    first = min(nxt, key=lambda w: (w["top"], w["x0"])) if nxt else None
                    image_top = min((im["top"] for im in next_page.images), default=PAGE_H)
                    new_section = first is not None and first["size"] >= HEADING_PT and first["top"] < image_top
                    if alone and not new_section:
                        text = " ".join(w["text"] for w in headings if w["bottom"] > last - 8 * MM)
                        out.append(f"{where}: the heading '{text[:60]}' is parted from what follows it")
    return out


def reading_text(data: bytes) -> str:
    """The words of the whole PDF without the running header and footer, in reading order, with
    no spaces: a name wrapped anywhere, even inside a word, still reads in order."""
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "".join(w["text"] for n, page in enumerate(pdf.pages) for w in page_words(page)
                       if n == 0 or not furniture(w))


def missing_names(data: bytes, names: list[str]) -> list[str]:
    text = reading_text(data)
    return [name for name in names if "".join(name.split()) not in text]


# ---------------------------------------------------------------------------------------------
# The checks find what they look for


def _pdf(draw) -> bytes:
    pdf = FPDF(format="A4", unit="mm")
    pdf.add_font("DejaVu", "", str(report_pdf.FONT_DIR / "DejaVuSans.ttf"))
    pdf.set_font("DejaVu", "", 10)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_xy(report_pdf.MARGIN, 30)
    pdf.cell(100, 5, "A well placed line of body text")
    draw(pdf)
    return bytes(pdf.output())


def test_the_layout_checks_find_each_fault():
    assert layout_problems(_pdf(lambda pdf: None)) == []

    def overprint(pdf):
        pdf.set_xy(report_pdf.MARGIN, 60)
        pdf.cell(60, 5, "Greater Northern Neighbourhood PCN with a long name")
        pdf.set_xy(report_pdf.MARGIN + 50, 60)
        pdf.cell(40, 5, "Assessment: draft", align="R")

    def off_page(pdf):
        pdf.set_xy(150, 80)
        pdf.cell(100, 5, "runs past the right margin of the page")

    def white(pdf):
        pdf.set_text_color(255, 255, 255)
        pdf.set_xy(report_pdf.MARGIN, 90)
        pdf.cell(50, 5, "white on white")

    def heading_only(pdf):
        pdf.add_page()
        pdf.set_font("DejaVu", "", 18)
        pdf.set_xy(report_pdf.MARGIN, report_pdf.TOP)
        pdf.cell(100, 9, "Progress by domain")
        pdf.set_font("DejaVu", "", 9.5)
        pdf.set_text_color(66, 85, 99)
        pdf.set_xy(report_pdf.MARGIN, report_pdf.TOP + 12)
        pdf.cell(100, 5, "Each domain's average stage in every year.")

    def parted(pdf):
        pdf.add_page()
        pdf.set_font("DejaVu", "", 10)
        pdf.set_xy(report_pdf.MARGIN, report_pdf.TOP)
        pdf.cell(100, 5, "The end of the section before")
        pdf.set_font("DejaVu", "", 12.5)
        pdf.set_xy(report_pdf.MARGIN, 250)
        pdf.cell(100, 7, "D7 a domain heading")
        pdf.set_font("DejaVu", "", 9)
        pdf.set_text_color(76, 98, 114)
        pdf.set_xy(report_pdf.MARGIN, 258)
        pdf.cell(100, 5, "Average 1.0 (2 of 2 rated)")
        pdf.add_page()
        pdf.set_font("DejaVu", "", 8.5)
        pdf.set_text_color(33, 43, 50)
        pdf.set_xy(report_pdf.MARGIN, report_pdf.TOP)
        pdf.cell(100, 5, "Element Now Target")

    for draw, expected in ((overprint, "printed over other text"), (off_page, "outside the printable area"),
                           (white, "not on a coloured background"), (heading_only, "page 2: holds only a heading"),
                           (parted, "page 2: the heading 'D7 a domain heading' is parted")):
        found = layout_problems(_pdf(draw))
        assert len(found) >= 1 and all(expected in p or "overlap" in p for p in found), (draw.__name__, found)
        assert any(expected in p for p in found), (draw.__name__, found)
    text = _pdf(lambda pdf: (pdf.set_xy(report_pdf.MARGIN, 40), pdf.multi_cell(30, 5, "Interoperability and governance")))
    assert missing_names(text, ["Interoperability and governance", "A well placed line"]) == []
    assert missing_names(text, ["Interoperability and government"]) == ["Interoperability and government"]


# ---------------------------------------------------------------------------------------------
# Each shape: loads, rates, shows, prints


@pytest.fixture(scope="module")
def shape_pdfs(tmp_path_factory) -> dict[str, tuple[object, bytes, int]]:
    """(matrix, PDF bytes, seconds to render) per shape, and the shipped matrix's demo PDF."""
    import time

    out = {}
    folder = tmp_path_factory.mktemp("shapes")
    for shape in S.SHAPES:
        matrix = load_file(S.write(shape, folder / shape.name))
        store = Store(f"sqlite:///{folder / shape.name / 'pdf.db'}", matrices=[matrix])
        S.populate(store, matrix, shape)
        started = time.perf_counter()
        out[shape.name] = (matrix, report_pdf.plan_pdf(store, S.PCN_CODES[0], S.YEARS[1]), time.perf_counter() - started)
        store.close()
    from assessments.demo import load_demo

    store = Store(f"sqlite:///{folder / 'demo.db'}")
    load_demo(store)
    out["shipped"] = (store.default_matrix(), report_pdf.plan_pdf(store, "U99001", "2024/25"), 0.0)
    store.close()
    return out


@pytest.mark.parametrize("shape", [s.name for s in S.SHAPES])
def test_a_generated_matrix_loads_as_written(shape, tmp_path):
    s = S.BY_NAME[shape]
    m = load_file(S.write(s, tmp_path))
    assert (len(m.domains), len(m.stages)) == (s.domains, s.stages)
    assert max(len(x.label) for x in m.stages) == s.stage_label and len(m.title) == s.matrix_title
    assert {len(d.title) for d in m.domains} == {s.domain_title}
    assert {len(e.title) for _, e in m.elements()} == {s.element_title}
    assert max(len(e.id) for _, e in m.elements()) == 80 and len(S.pcn_name(s)) == s.pcn_name


@pytest.mark.parametrize("shape", [s.name for s in S.SHAPES] + ["shipped"])
def test_the_plan_pdf_reads_right(shape, shape_pdfs):
    matrix, data, _ = shape_pdfs[shape]
    assert layout_problems(data) == []
    names = [d.title for d in matrix.domains]
    if shape != "shipped":
        names.append(S.pcn_name(S.BY_NAME[shape]))
    assert missing_names(data, names) == []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert sum(len(p.images) for p in pdf.pages) >= 2  # both charts are drawn


def test_the_long_names_are_whole_on_the_cover_and_cut_only_in_the_header(shape_pdfs):
    matrix, data, _ = shape_pdfs["one"]
    name = S.pcn_name(S.BY_NAME["one"])
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        cover = "".join(w["text"] for w in page_words(pdf.pages[0]))
        header = " ".join(w["text"] for w in page_words(pdf.pages[1]) if w["top"] < BODY_TOP - 2 * MM)
    assert "".join(name.split()) in cover
    assert header.endswith("Assessment: draft") and "…" in header and f"({S.PCN_CODES[0]})" in header


def test_pdfs_of_the_12_and_30_domain_matrices_render_to_png(shape_pdfs):
    """Every run leaves their pages in test-artifacts/pdf/ to look at."""
    assert shutil.which("pdftoppm"), "pdftoppm (poppler-utils) is needed: apt-get install poppler-utils"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name in LOOKED_AT:
        for old in ARTIFACTS.glob(f"shape-{name}-*.png"):
            old.unlink()
        _, data, _ = shape_pdfs[name]
        pdf = ARTIFACTS / f"shape-{name}.pdf"
        pdf.write_bytes(data)
        subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(ARTIFACTS / f"shape-{name}")], check=True)
        pages = sorted(ARTIFACTS.glob(f"shape-{name}-*.png"))
        with pdfplumber.open(io.BytesIO(data)) as doc:
            assert len(pages) == len(doc.pages)
        for png in pages:
            assert ImageStat.Stat(Image.open(png).convert("L")).stddev[0] > 5, f"{png.name} looks blank"


PAGES = ("views/home.py", "views/assess.py", "views/progress.py", "views/plan.py", "views/portfolio.py",
         "views/workshop.py", "views/pathway.py", "views/data.py")


@pytest.mark.parametrize("shape", [s.name for s in S.SHAPES])
def test_every_page_shows_a_generated_matrix(shape, tmp_path, monkeypatch, app_db):
    s = S.BY_NAME[shape]
    S.write(s, tmp_path / "matrices")
    monkeypatch.setenv("PCN_MATRIX_DIR", str(tmp_path / "matrices"))
    store = Store(app_db)
    matrix = store.matrix(s.matrix_id, "1.0")
    S.populate(store, matrix, s)
    code, year = S.PCN_CODES[0], S.YEARS[1]
    assert [a.matrix_id for a in assessing.assessments(store, pcn_code=code)] == [s.matrix_id] * 2
    w = ws.open_workshop(store, code, year, matrix, by="Fran")
    for k, who in enumerate(("Dr Ayo", "Sam Patel")):
        _, person = ws.join(store, w.code, who, "Practice manager")
        for i, eid in enumerate(matrix.element_ids()[:4]):
            ws.rate(store, person.token, eid, matrix.stages[(i + k) % len(matrix.stages)].id)
    query = {"ics": S.ICS_CODE, "pcn": code, "year": year}
    for page in PAGES:
        at = open_page(page, query={**query, "w": str(w.id)} if page.endswith("workshop.py") else query)
        assert not at.exception, (page, [e.value for e in at.exception])
        if page.endswith("assess.py"):
            assert len(at.tabs) == s.domains  # a tab per domain of the generated matrix
        if page.endswith("progress.py"):
            assert len(shown_tables(at)[0]) == s.domains  # a row per domain beside the chart
            assert len(at.get("plotly_chart")) >= 2
        if page.endswith("portfolio.py"):
            assert set(shown_tables(at)[0]["Code"]) == set(S.PCN_CODES)
    store.close()

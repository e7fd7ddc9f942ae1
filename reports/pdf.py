"""The development plan as an A4 PDF for joint PCN / ICS discussions (fpdf2, DejaVu Sans).

Contents, in order: a cover; a one-page summary in plain words; the radar chart (this year,
last year, target) and the progress-by-domain chart, drawn by the same builders as the app
(figures/charts.py) and rendered with kaleido; a table per domain; the service-improvement
priority and the priorities (chosen, or suggested and marked so); the actions; support
requested with funding checks; the six-step pathway; notes; sign-off for the clinical director
and the ICS lead. Every page but the cover has a running header and "Page n of N".

DejaVu Sans (Debian's fonts-dejavu-core) carries £, dashes, accents and most other Unicode; the
PDF refuses to build without it rather than dropping characters. Tables repeat their heading
row on each page and never cut text: a cell too long to sit sensibly in a table row is shortened
there and printed in full under "Full text of long entries".
"""
from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout, TableCellFillMode, VAlign

from assessments.store import Store
from figures import charts, tables

from .data import PlanReport, coverage_sentence, gather, money, person, score_words, summary_paragraphs
from assessments import organisations as orgs

FONT_DIR = Path(os.environ.get("PCN_PDF_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

BLUE = (0, 94, 184)  # NHS blue
DARK_BLUE = (0, 48, 135)
TEXT = (33, 43, 50)
GREY = (66, 85, 99)
SECONDARY = (76, 98, 114)
PALE = (232, 237, 238)
ROW_FILL = (244, 246, 247)
WARM = (255, 244, 214)  # pale NHS warm yellow: the background of funding checks
WARM_EDGE = (255, 184, 28)
WHITE = (255, 255, 255)

MARGIN = 20
TOP = 24
WIDTH = 210 - 2 * MARGIN
MAX_CELL_LINES = 24  # longer cells are shortened in the table and printed in full after it


class ReportError(RuntimeError):
    """The PDF cannot be built on this computer (a missing font), with what to install."""


def _font_paths() -> dict[str, Path]:
    paths = {style: FONT_DIR / name for style, name in FONT_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise ReportError(f"The PDF needs the DejaVu Sans font, which is missing ({', '.join(missing)}). "
                          "On Debian or Ubuntu: apt-get install fonts-dejavu-core "
                          "(or set PCN_PDF_FONT_DIR to a folder holding DejaVuSans.ttf and DejaVuSans-Bold.ttf).")
    return paths


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _t(text: object) -> str:
    """Text as it should print: control characters out, tabs as spaces, no trailing blanks."""
    if text is None:
        return ""
    return _CONTROL.sub("", str(text).replace("\t", "    ").replace("\r\n", "\n").replace("\r", "\n")).strip()


def _day(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, date):
        return f"{value.day} {value:%b %Y}"
    return _t(value)


@dataclass
class _Long:
    ref: str
    title: str
    text: str


class PlanPDF(FPDF):
    def __init__(self, report: PlanReport):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.r = report
        fonts = _font_paths()
        for style, path in fonts.items():
            self.add_font("DejaVu", style, str(path))
        self.set_margins(MARGIN, TOP, MARGIN)
        self.set_auto_page_break(True, margin=20)
        self.alias_nb_pages()
        self.set_text_color(*TEXT)
        self.set_font("DejaVu", "", 10)
        self.long: list[_Long] = []
        self.contents_lh = 5.6  # the cover sets it to what its room allows
        r = report
        self.set_title(f"Development plan {r.year}: {r.pcn.name}")
        self.set_author(r.pcn.name)
        self.set_subject(f"PCN maturity self-assessment and development plan, {r.year}, {r.ics.name}")
        self.set_keywords(["primary care network", "maturity matrix", "development plan", r.pcn.code, r.year])
        self.set_creator("PCN maturity matrix tool")
        self.set_creation_date(r.produced)
        self.set_lang("en-GB")

    def multi_cell(self, *args, **kwargs):
        # fpdf2 justifies by default; NHS documents are set ragged-right, which reads better.
        kwargs.setdefault("align", "L")
        return super().multi_cell(*args, **kwargs)

    # -- page furniture ----------------------------------------------------------------------
    def shorten(self, text: str, width: float) -> str:
        """`text` as it fits in `width` mm in the current font: cut at a word with "…" when too
        long (for running headers and footers; the cover gives names in full)."""
        text = _t(text)
        if self.get_string_width(text) <= width:
            return text
        words = text.split()
        while len(words) > 1 and self.get_string_width(" ".join(words) + "…") > width:
            words.pop()
        short = " ".join(words)
        while short and self.get_string_width(short + "…") > width:  # one long word: cut it
            short = short[:-1]
        return short.rstrip(" ,;:·-") + "…"

    def furniture(self, left_parts: tuple[str, str], right: str) -> None:
        """One line of a running header or footer: `right` in full at the right, and at the
        left the first part (a name) shortened as needed so that the second part still fits."""
        right_w = self.get_string_width(right) + 6
        name, rest = left_parts
        rest = _CONTROL.sub("", rest)  # not _t(): its leading space is wanted
        name = self.shorten(name, WIDTH - right_w - self.get_string_width(rest))
        self.cell(WIDTH - right_w, 5, name + rest, align="L")
        self.cell(right_w, 5, right, align="R")

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_y(10)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(*SECONDARY)
        self.furniture((self.r.pcn.name, f" ({self.r.pcn.code}) · Development plan {self.r.year}"),
                       f"Assessment: {self.r.status}")
        self.set_draw_color(*BLUE)
        self.set_line_width(0.6)
        self.line(MARGIN, 16.5, 210 - MARGIN, 16.5)
        self.set_text_color(*TEXT)
        self.set_y(TOP)

    def footer(self) -> None:
        if self.page_no() == 1:
            return
        self.set_y(-13)
        self.set_font("DejaVu", "", 8)
        self.set_text_color(*SECONDARY)
        # {nb} becomes the page count only at the end: leave room for a four-digit one.
        page = f"Page {self.page_no()} of {{nb}}"
        self.set_x(MARGIN)
        right_w = self.get_string_width(f"Page {self.page_no()} of 9999") + 6
        name = self.shorten(self.r.ics.name, WIDTH - right_w - self.get_string_width(f"Produced {_day(self.r.produced.date())} · "))
        self.cell(WIDTH - right_w, 5, f"Produced {_day(self.r.produced.date())} · {name}", align="L")
        self.cell(right_w, 5, page, align="R")
        self.set_text_color(*TEXT)

    # -- building blocks ----------------------------------------------------------------------
    def lines(self, text: str, width: float, size: float, *, bold: bool = False) -> int:
        """How many lines `text` takes in a `width` mm column at `size` pt (the font is kept)."""
        family, style, kept = self.font_family, self.font_style, self.font_size_pt
        self.set_font("DejaVu", "B" if bold else "", size)
        n = len(self.multi_cell(width, 1, _t(text) or " ", dry_run=True, output="LINES"))
        self.set_font(family, style, kept)
        return n

    def need(self, height: float) -> None:
        """Start a new page unless `height` mm still fit on this one (keeps headings with their text)."""
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()

    def h1(self, text: str, *, new_page: bool = True) -> None:
        if new_page:
            self.add_page()
        else:
            self.need(70)
            if self.get_y() > TOP + 1:
                self.ln(8)
        self.start_section(_t(text), level=0)  # the PDF's bookmarks and the contents on the cover
        self.set_font("DejaVu", "B", 18)
        self.set_text_color(*BLUE)
        self.multi_cell(WIDTH, 9, _t(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(3)
        self.set_text_color(*TEXT)
        self.set_font("DejaVu", "", 10)

    def h2(self, text: str, *, keep: float = 35) -> None:
        self.need(keep)
        self.ln(2)
        self.set_font("DejaVu", "B", 12.5)
        self.set_text_color(*DARK_BLUE)
        self.multi_cell(WIDTH, 6.5, _t(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1.5)
        self.set_text_color(*TEXT)
        self.set_font("DejaVu", "", 10)

    def para(self, text: str, *, size: float = 10, colour=TEXT, bold: bool = False, gap: float = 2.5) -> None:
        self.set_font("DejaVu", "B" if bold else "", size)
        self.set_text_color(*colour)
        self.multi_cell(WIDTH, size * 0.5, _t(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(gap)
        self.set_text_color(*TEXT)
        self.set_font("DejaVu", "", 10)

    def note_box(self, text: str, *, fill=PALE, edge=BLUE) -> None:
        """A shaded box with a coloured bar on the left, for notes the reader must not miss."""
        self.set_font("DejaVu", "", 9.5)
        lines = self.multi_cell(WIDTH - 10, 5, _t(text), dry_run=True, output="LINES")
        h = len(lines) * 5 + 6
        self.need(h + 2)
        x, y = self.l_margin, self.get_y()
        self.set_fill_color(*fill)
        self.rect(x, y, WIDTH, h, style="F")
        self.set_fill_color(*edge)
        self.rect(x, y, 1.6, h, style="F")
        self.set_xy(x + 5, y + 3)
        self.multi_cell(WIDTH - 10, 5, _t(text), new_x="LMARGIN", new_y="NEXT")
        self.set_y(y + h + 4)
        self.set_font("DejaVu", "", 10)

    def clip(self, text: str, width: float, ref: str, title: str, size: float = 8.5) -> str:
        """The text for a table cell `width` mm wide; if it would run past MAX_CELL_LINES lines,
        its start and a pointer to the full text, which is kept for the end of the document."""
        text = _t(text)
        if not text:
            return ""
        self.set_font("DejaVu", "", size)
        lines = self.multi_cell(width - 3, 4.3, text, dry_run=True, output="LINES")
        if len(lines) <= MAX_CELL_LINES:
            return text
        self.long.append(_Long(ref, title, text))
        return " ".join(lines[:MAX_CELL_LINES - 3]).rstrip() + f" … (continued under 'Full text of long entries', {ref})"

    def grid(self, headings: Sequence[str], rows: Iterable[Sequence[str]], widths: Sequence[float], *,
              size: float = 8.5, bold_first: bool = False, fills: Sequence[tuple | None] | None = None) -> None:
        """A table that breaks between rows, repeating its heading row on every page."""
        self.set_font("DejaVu", "", size)
        self.set_draw_color(*PALE)
        self.set_line_width(0.3)
        self.set_fill_color(*WHITE)  # the table's base style takes the current fill colour
        self.set_text_color(*TEXT)
        heading = FontFace(emphasis="BOLD", color=WHITE, fill_color=BLUE, size_pt=size)
        rows = list(rows)
        self.need(14 + 4.3 * 3)
        with self.table(col_widths=tuple(widths), width=sum(widths), align="LEFT", text_align="LEFT",
                        v_align=VAlign.T, line_height=4.3, padding=(1.6, 1.5, 1.6, 1.5),
                        headings_style=heading, borders_layout=TableBordersLayout.HORIZONTAL_LINES,
                        cell_fill_color=ROW_FILL, cell_fill_mode=TableCellFillMode.EVEN_ROWS,
                        repeat_headings=1) as t:
            head = t.row()
            for h in headings:
                head.cell(_t(h))
            for i, values in enumerate(rows):
                fill = fills[i] if fills else None
                row = t.row()
                for j, v in enumerate(values):
                    style = None
                    if j == 0 and bold_first:
                        style = FontFace(emphasis="BOLD", fill_color=fill) if fill else FontFace(emphasis="BOLD")
                    elif fill:
                        style = FontFace(fill_color=fill)
                    row.cell(_t(v), style=style)
        self.ln(3)
        self.set_font("DejaVu", "", 10)

    def no_chart(self, problem: str | None) -> None:
        self.note_box(f"The chart could not be drawn on this computer: {problem} The table below gives the same figures.")

    def chart(self, fig, draw: _Drawer, alt: str, width_mm: float, px: tuple[int, int]) -> None:
        """One figure drawn `px` pixels and printed `width_mm` wide, centred, on this page if it fits."""
        png = draw(fig, *px)
        if png is None:
            self.no_chart(draw.problem)
            return
        h = width_mm * px[1] / px[0]
        self.need(h + 2)
        self.image(io.BytesIO(png), x=MARGIN + (WIDTH - width_mm) / 2, w=width_mm, h=h, alt_text=alt)
        self.ln(2)

    def split_chart(self, build: Callable[[list[str]], object], height: Callable[[list[str]], float],
                    ids: Sequence[str], draw: _Drawer, alt: str, *, step: int = 1) -> None:
        """A figure of many domains in pieces that fit the pages: `build(some ids)` makes the figure
        of those domains and `height(some ids)` says how tall (px) it will be, without building it.
        As many domains as fit (a multiple of `step`: a row of small charts) go in the room left on
        this page, the rest on the pages after, each piece printed WIDTH mm wide from CHART_PX
        pixels. A piece of one step taller than a whole page (never seen) is scaled down to fit."""
        px_per_mm = CHART_PX / WIDTH
        rest = list(ids)
        while rest:
            room = (self.page_break_trigger - self.get_y() - 2) * px_per_mm
            k = -(-len(rest) // step)
            while k > 1 and height(rest[:k * step]) > room:
                k -= 1
            if height(rest[:k * step]) > room and self.get_y() > TOP + 1:
                self.add_page()
                continue
            fig = build(rest[:k * step])
            png = draw(fig, CHART_PX, fig.layout.height)
            if png is None:
                self.no_chart(draw.problem)
                return
            h = min(fig.layout.height, room) / px_per_mm
            w = WIDTH * h / (fig.layout.height / px_per_mm)
            self.image(io.BytesIO(png), x=MARGIN + (WIDTH - w) / 2, w=w, h=h, alt_text=alt)
            self.ln(2)
            rest = rest[k * step:]


class _Drawer:
    """Figures to PNG through kaleido, or None and `problem` when there is no image to be had
    (charts turned off, or no browser: then every later figure is skipped at once)."""

    def __init__(self, problem: str | None = None):
        self.problem = problem

    def __call__(self, fig, width: int, height: int) -> bytes | None:
        from .images import ChartError, png

        if self.problem is not None:
            return None
        try:
            return png(fig, width=width, height=round(height))
        except ChartError as exc:
            self.problem = str(exc)
            return None


# ---------------------------------------------------------------------------------------------
# Sections

RADAR_PX = (700, 540)
CHART_PX = 820  # the width the dot chart and the small charts are drawn at, printed WIDTH mm wide
PROGRESS_COLS = 3


def _of_domains(series, ids: Sequence[str]):
    return series[series["domain_id"].isin(set(ids))]


COVER_NOTE = ("Prepared for joint discussion between the primary care network and the integrated care system. The "
              "assessment is the network's own view of its development; it is not a performance measure and is not "
              "for comparing networks.")
CONTENTS_ENTRIES = 12  # the most sections the plan has (the level-0 headings), reserved on the cover


def _cover(pdf: PlanPDF) -> None:
    """The cover: a blue band with the name (its height measured from the text, so a long name
    stays white on blue), the facts, the contents and a note at the foot. When long names leave
    too little room for the contents, the facts drop the ICS and PCN rows, which the band gives
    in full already."""
    r = pdf.r
    pdf.add_page()
    name = _t(r.pcn.name)
    size = 26
    pdf.set_font("DejaVu", "B", size)
    while size > 16 and len(pdf.multi_cell(WIDTH, 1, name, dry_run=True, output="LINES")) > 3:
        size -= 2
        pdf.set_font("DejaVu", "B", size)
    name_lh = size * 0.46
    name_lines = len(pdf.multi_cell(WIDTH, name_lh, name, dry_run=True, output="LINES"))
    sub = _t(f"Primary care network {r.pcn.code}\n{r.ics.name} ({r.ics.code})")
    pdf.set_font("DejaVu", "", 13)
    sub_lines = len(pdf.multi_cell(WIDTH, 6.5, sub, dry_run=True, output="LINES"))
    band = max(100.0, 30 + 7 + 4 + name_lines * name_lh + 2 + sub_lines * 6.5 + 12)
    pdf.set_fill_color(*BLUE)
    pdf.rect(0, 0, 210, band, style="F")
    pdf.set_text_color(*WHITE)
    pdf.set_xy(MARGIN, 30)
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(WIDTH, 7, "DEVELOPMENT PLAN " + r.year, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", size)
    pdf.multi_cell(WIDTH, name_lh, name, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("DejaVu", "", 13)
    pdf.multi_cell(WIDTH, 6.5, sub, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*TEXT)

    status = {"agreed": "Agreed", "draft": "Draft (not yet agreed)"}.get(r.status, "Not started")
    facts = [
        ("Year", r.year),
        ("Integrated care system", f"{r.ics.name} ({r.ics.code})"),
        ("Primary care network", f"{r.pcn.name} ({r.pcn.code})"),
        ("Member practices", f"{len(r.pcn.practices)}" + (f" · list size {r.pcn.list_size:,}" if r.pcn.list_size else "")),
        ("Maturity matrix", f"{r.matrix.title}, version {r.matrix.version}"),
        ("Assessment status", status),
        *([("Shared version", r.shared_as)] if r.shared_as else []),
        ("Date produced", _day(r.produced.date())),
    ]
    pdf.set_font("DejaVu", "", 9)
    note_h = len(pdf.multi_cell(WIDTH, 4.8, COVER_NOTE, dry_run=True, output="LINES")) * 4.8
    note_y = 297 - 20 - note_h
    pdf.set_font("DejaVu", "B", 10.5)

    def height(rows) -> float:
        return sum(len(pdf.multi_cell(WIDTH - 55, 5.5, _t(v), dry_run=True, output="LINES")) * 5.5 + 1.5
                   for _, v in rows)

    facts_y = band + 12
    room = note_y - 6 - (facts_y + height(facts) + 8 + 7)
    if room < CONTENTS_ENTRIES * 5.0:
        facts = [f for f in facts if f[0] not in ("Integrated care system", "Primary care network")]
    pdf.set_y(facts_y)
    for label, value in facts:
        y = pdf.get_y()
        pdf.set_font("DejaVu", "", 10)
        pdf.set_text_color(*SECONDARY)
        pdf.set_xy(MARGIN, y + 0.75)
        pdf.cell(55, 5.5, label)
        pdf.set_font("DejaVu", "B", 10.5)
        pdf.set_text_color(*TEXT)
        pdf.set_xy(MARGIN + 55, y + 0.75)
        pdf.multi_cell(WIDTH - 55, 5.5, _t(value), new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(pdf.get_y() + 0.75)
        pdf.set_draw_color(*PALE)
        pdf.set_line_width(0.3)
        pdf.line(MARGIN, pdf.get_y(), 210 - MARGIN, pdf.get_y())
    contents_y = max(pdf.get_y() + 8, 182 if band <= 100 else 0)
    pdf.contents_lh = max(4.4, min(5.6, (note_y - 6 - contents_y - 7) / CONTENTS_ENTRIES))
    pdf.set_y(note_y)
    pdf.set_font("DejaVu", "", 9)
    pdf.set_text_color(*SECONDARY)
    pdf.multi_cell(WIDTH, 4.8, COVER_NOTE, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*TEXT)
    pdf.set_y(contents_y)
    pdf.set_font("DejaVu", "B", 11)
    pdf.set_text_color(*DARK_BLUE)
    pdf.cell(WIDTH, 7, "In this plan", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*TEXT)
    # The contents are written at the end, when the page of every section is known.
    pdf.insert_toc_placeholder(_contents, pages=1)


def _contents(pdf: PlanPDF, outline) -> None:
    pdf.set_font("DejaVu", "", 9.5 if pdf.contents_lh >= 5 else 8.5)
    pdf.set_x(MARGIN)
    for section in outline:
        if section.level:
            continue
        link = pdf.add_link(page=section.page_number)
        pdf.set_text_color(*TEXT)
        pdf.cell(WIDTH - 20, pdf.contents_lh, section.name, link=link)
        pdf.set_text_color(*SECONDARY)
        pdf.cell(20, pdf.contents_lh, str(section.page_number), align="R", link=link, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*TEXT)


def _key_figures(pdf: PlanPDF) -> None:
    r = pdf.r
    rated = sum(d.score.n_rated for d in r.domains)
    total = sum(d.score.n_elements for d in r.domains)
    cost = sum(r.cost_by_source().values()) if r.actions else None
    boxes = [("Elements rated", f"{rated} of {total}" if r.snapshot else "none yet"),
             ("Priorities", f"{len(r.priorities)}" + (" suggested" if r.priorities_are_suggestions else "")),
             ("Actions", str(len(r.actions))),
             ("Estimated cost", money(cost) if cost else "none given")]
    w = (WIDTH - 3 * 4) / 4
    y = pdf.get_y()
    for i, (label, value) in enumerate(boxes):
        x = MARGIN + i * (w + 4)
        pdf.set_fill_color(*PALE)
        pdf.rect(x, y, w, 19, style="F")
        pdf.set_xy(x + 3, y + 2.5)
        pdf.set_font("DejaVu", "", 8.5)
        pdf.set_text_color(*SECONDARY)
        pdf.cell(w - 6, 4.5, label)
        pdf.set_xy(x + 3, y + 8.5)
        pdf.set_font("DejaVu", "B", 12.5)
        pdf.set_text_color(*DARK_BLUE)
        pdf.cell(w - 6, 7, _t(value))
    pdf.set_text_color(*TEXT)
    pdf.set_y(y + 25)


def _summary(pdf: PlanPDF) -> None:
    pdf.h1("Summary", new_page=False)  # the contents placeholder on the cover has just turned the page
    _key_figures(pdf)
    for heading, text in summary_paragraphs(pdf.r):
        pdf.need(16)
        pdf.set_font("DejaVu", "B", 10.5)
        pdf.set_text_color(*DARK_BLUE)
        pdf.cell(WIDTH, 6, _t(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.para(text, gap=3)


def _stage_key(r: PlanReport) -> str:
    values = charts.stage_values(r.matrix)
    return "; ".join(f"{v:g} = {s.label}" for v, s in zip(values, r.matrix.stages))


def _charts(pdf: PlanPDF, draw: _Drawer) -> None:
    r = pdf.r
    pdf.h1("Maturity by domain")
    years = sorted(r.radar_series["year"].unique()) if not r.radar_series.empty else []
    shown = " and ".join(years) if years else "no year"
    ids = list(tables.domains_of(r.radar_series)["domain_id"]) if years else []
    radar = charts.uses_radar(len(ids))
    where = "The further out, the more mature." if radar else "The further right, the more mature."
    target = "dashed" if radar else "as open diamonds"
    pdf.para(f"The average stage of each domain in {shown}, with the targets for {years[-1] if years else r.year} "
             f"{target}. {where} The stages: {_stage_key(r)}.", colour=GREY, size=9.5)
    if r.series.empty:
        pdf.no_chart("there is no assessment to draw yet.")
    elif radar:
        fig = charts.radar(r.radar_series, r.matrix, title=None)
        fig.update_layout(height=RADAR_PX[1])
        pdf.chart(fig, draw, f"Radar chart of domain scores for {shown}, with targets", 150, RADAR_PX)
    else:
        pdf.split_chart(lambda part: charts.profile_dots(_of_domains(r.radar_series, part), r.matrix, title=None,
                                                         width=CHART_PX),
                        lambda part: charts.profile_dots_height(_of_domains(r.radar_series, part), r.matrix,
                                                                title=None, width=CHART_PX),
                        ids, draw, f"Dot chart of domain scores for {shown}, with targets")
    if not r.radar_series.empty:
        table = tables.profile_table(r.radar_series)
        if "Notes" in table and not table["Notes"].astype(str).str.strip().any():
            table = table.drop(columns="Notes")
        pdf.h2("The chart as a table", keep=40)
        n = len(table.columns)
        widths = [62] + [(WIDTH - 62) / (n - 1)] * (n - 1)
        pdf.grid(list(table.columns), table.astype(str).values.tolist(), widths, bold_first=True)
    if not r.series.empty:
        pdf.h1("Progress by domain")
        pdf.para("Each domain's average stage in every year assessed, with the target dashed. Points are labelled "
                 "with the score.", colour=GREY, size=9.5)
        pdf.split_chart(lambda part: charts.domain_progress(_of_domains(r.series, part), r.matrix, title=None,
                                                            columns=PROGRESS_COLS, width=CHART_PX),
                        lambda part: charts.domain_progress_height(_of_domains(r.series, part), r.matrix, title=None,
                                                                   columns=PROGRESS_COLS, width=CHART_PX),
                        list(tables.domains_of(r.series)["domain_id"]), draw,
                        "Line charts of each domain's score by year, with targets", step=PROGRESS_COLS)


def _domains(pdf: PlanPDF) -> None:
    r = pdf.r
    pdf.h1("Elements by domain")
    since = f"Since {r.previous.year}" if r.previous else "Since last year"
    pdf.para(f"Where the network placed itself on each element in {r.year} ('Now'), where it wants to be "
             f"('Target'), and the change since the previous assessment.", colour=GREY, size=9.5)
    for d in r.domains:
        s = d.score
        score = (f"average {score_words(s.score, r.matrix)} ({s.score:.1f}; {s.n_rated} of {s.n_elements} rated)"
                 if s.score is not None else "not rated")
        rows = [(e.title, e.current, e.target, e.change) for e in d.elements]
        widths = [74, 28, 28, 40]
        # The heading stays with its table's first row, however many lines each takes.
        # (grid() asks for 27 mm itself; the heading row and padding take 11 mm around the first row.)
        first = max(pdf.lines(v, w - 3.2, 8.5) for v, w in zip(rows[0], widths)) * 4.3
        keep = (pdf.lines(d.title, WIDTH, 12.5, bold=True) * 6.5 + pdf.lines(score, WIDTH, 9) * 4.5 + 6
                + max(27, 11 + first))
        pdf.h2(f"{d.title}", keep=keep)
        pdf.para(score[:1].upper() + score[1:], colour=SECONDARY, size=9, gap=1.5)
        pdf.grid(["Element", "Now", "Target", since], rows, widths)


def _evidence_cell(pdf: PlanPDF, line) -> str:
    """The summary text and each dated item: what it is, who added it when, its review-by date,
    whether it was carried over or confirmed, and its file and link."""
    parts = [line.summary] if line.summary else []
    for x, state in zip(line.items, line.states):
        when = f"Added {_day(x.created_at.date())} by {person(x.created_by)} · review by {_day(x.review_by)}"
        if x.carried_over:
            when += f" · carried over from {x.carried_from_year}, not yet confirmed"
        elif x.confirmed_at is not None:
            when += f" · confirmed {_day(x.confirmed_at.date())} by {person(x.confirmed_by)}"
        if state == "review due":
            when += " · review due"
        where = " · ".join(w for w in ((f"File: {x.file.name}" if x.file else ""), (f"Link: {x.link}" if x.link else ""))
                           if w)
        parts.append("\n".join(t for t in (f"• {x.description}", when, where) if t))
    if not parts:
        return "No evidence recorded."
    return "\n".join(parts)


def _evidence(pdf: PlanPDF) -> None:
    """Per element: where the network says it is and wants to be, how sure it is, the evidence
    behind it with dates, and the note. Elements without current evidence are shaded."""
    r = pdf.r
    if not r.evidence:
        return
    pdf.h1("Evidence by element")
    as_of = _day(r.evidence_as_of) if r.evidence_as_of else ""
    pdf.para(f"What shows where the network is on each element: the summary it wrote and each dated evidence item, "
             f"with who added it and when it should be reviewed. Shaded rows have no current evidence on {as_of} "
             f"(none added or confirmed this year, or past its review-by date).", colour=GREY, size=9.5)
    if r.coverage is not None:
        pdf.para(coverage_sentence(r.coverage), bold=True, size=10)
    widths = [36, 36, 66, 32]  # 'Target: Developing' on one line
    for domain in dict.fromkeys(line.domain for line in r.evidence):
        lines = [x for x in r.evidence if x.domain == domain]
        rows, fills = [], []
        for line in lines:
            ref = f"evidence for {line.title}"
            stages = f"Now: {line.current}\nTarget: {line.target}"
            if not line.not_applicable:
                stages += f"\nConfidence: {line.confidence or 'not said'}"
            if line.carried_over:
                stages += "\nCarried over, not reviewed"
            rows.append((line.title, stages, pdf.clip(_evidence_cell(pdf, line), widths[2], ref, f"Evidence: {line.title}"),
                         pdf.clip(line.note or "", widths[3], f"note on {line.title}", f"Note: {line.title}")))
            current = "current" in line.states
            fills.append(None if current or line.not_applicable else WARM)
        first = max(pdf.lines(v, w - 3.2, 8.5) for v, w in zip(rows[0], widths)) * 4.3
        pdf.h2(domain, keep=pdf.lines(domain, WIDTH, 12.5, bold=True) * 6.5 + 6 + max(27, 11 + first))
        pdf.grid(["Element", "Stages", "Evidence, with dates", "Note"], rows, widths, fills=fills)


def _priorities(pdf: PlanPDF) -> None:
    r = pdf.r
    pdf.h1("Priorities")
    pdf.h2("Service-improvement priority", keep=30)
    if r.plan.service_priority or r.service_spec_title:
        text = r.plan.service_priority or ""
        if r.service_spec_title:
            text += ("\n\n" if text else "") + f"Linked to the DES service specification: {r.service_spec_title}."
        pdf.note_box(text)
    else:
        pdf.para("Not chosen yet.", colour=SECONDARY)
    pdf.h2("Development priorities", keep=40)
    if not r.priorities:
        pdf.para("None chosen yet, and there is no assessment for this year to suggest them from.", colour=SECONDARY)
        return
    if r.priorities_are_suggestions:
        pdf.note_box("SUGGESTED, NOT YET CHOSEN. No priorities have been chosen for this year. These suggestions are "
                     "worked out from the assessment: the largest gaps between the current and target stage come "
                     "first, and the domain with the lowest score always has a place.", fill=WARM, edge=WARM_EDGE)
    head = "Suggested because" if r.priorities_are_suggestions else "Why"
    rows = [(str(p.position), f"{p.title}\n({p.domain})", p.current, p.target,
             pdf.clip(p.reason, 60, f"priority {p.position}", f"Priority {p.position}: {p.title}")) for p in r.priorities]
    pdf.grid(["#", "Element", "Now", "Target", head], rows, [8, 56, 23, 23, 60])


def _action_rows(pdf: PlanPDF, lines=None, under: str | None = None) -> list[tuple[str, ...]]:
    """Table rows for `lines` (default: every action). In a group, an action that serves other
    things too says so, and its long text is clipped once, where it first appears."""
    rows = []
    for line in (pdf.r.actions if lines is None else lines):
        i, a = line.number or pdf.r.actions.index(line) + 1, line.action
        owner = "\n".join(x for x in (_t(a.owner), f"Due {_day(a.due)}" if a.due else "") if x)
        status = a.status + (f"\nStep {a.step}" if a.step else "")
        money_cell = "\n".join(x for x in (money(a.cost), _t(a.funding_source),
                                           "⚠ Check funding (see below)" if line.flags else "",
                                           "Existing support first (see below)" if line.notes else "") if x)
        ref, kept = f"action {i}", len(pdf.long)
        known = any(e.ref == ref for e in pdf.long)
        what = pdf.clip(a.what, 72, ref, f"Action {i}")
        if known:
            del pdf.long[kept:]  # its full text is kept once, from where it first appeared
        also = [x for x in line.links if x != under]
        if under is not None and also:
            what += f"\n(Also for: {'; '.join(also)})"
        rows.append((str(i), what, owner, status, money_cell))
    return rows


def _action_groups(pdf: PlanPDF) -> None:
    """The actions under the priorities and elements they serve (an action serving two is under both)."""
    r = pdf.r
    headings, widths = ["#", "Action", "Owner and due", "Status and step", "Cost and funding"], [8, 72, 32, 26, 32]
    if not any(line.links for line in r.actions):
        # Nothing linked yet (plans made before actions could be): one table, no row of empty headings.
        pdf.para("No action is linked to a priority or element yet.", colour=SECONDARY, size=9.5)
        pdf.grid(headings, _action_rows(pdf), widths, fills=[WARM if line.flags else None for line in r.actions])
        return
    for g in r.groups:
        detail = g.detail if g.kind != "service" else None
        size = 11
        keep = pdf.lines(g.title, WIDTH, size, bold=True) * 5.5 + (pdf.lines(detail, WIDTH, 9) * 4.5 if detail else 0)
        pdf.need(keep + (30 if g.actions else 12))
        pdf.ln(1.5)
        pdf.set_font("DejaVu", "B", size)
        pdf.set_text_color(*DARK_BLUE)
        pdf.multi_cell(WIDTH, 5.5, _t(g.title), new_x="LMARGIN", new_y="NEXT")
        if detail:
            pdf.para(detail, size=9, colour=SECONDARY, gap=1)
        else:
            pdf.ln(1)
        if not g.actions:
            pdf.para("No action is linked to this priority yet.", size=9, colour=SECONDARY)
            continue
        under = g.title if g.kind != "unlinked" else None
        pdf.grid(headings, _action_rows(pdf, g.actions, under), widths,
                 fills=[WARM if line.flags else None for line in g.actions])


def _actions(pdf: PlanPDF) -> None:
    r = pdf.r
    pdf.h1("Actions", new_page=False)
    if not r.actions:
        pdf.para("No actions have been recorded for this year yet.", colour=SECONDARY)
        return
    counts = {s: sum(1 for a in r.actions if a.action.status == s) for s in ("not started", "in progress", "done", "dropped")}
    pdf.para(" · ".join(f"{n} {s}" for s, n in counts.items() if n), colour=SECONDARY, size=9.5)
    if any(line.links for line in r.actions):
        pdf.para("Each action is listed under the priorities and elements it serves; the numbers are the plan's own, "
                 "so an action serving two of them appears under both with the same number.", colour=GREY, size=9)
    _action_groups(pdf)
    if any(line.action.support_needed or line.action.support_from for line in r.actions):
        pdf.para("The support each action needs is listed under 'Support requested and funding checks'.",
                 colour=SECONDARY, size=8.5)
    if any(line.action.step for line in r.actions) and r.pathway:
        pdf.para("Pathway steps: " + "; ".join(f"{s.number} {s.title}" for s in r.pathway.steps), colour=SECONDARY,
                 size=8.5)


def _support(pdf: PlanPDF) -> None:
    r = pdf.r
    pdf.h1("Support requested and funding checks", new_page=False)
    asks = [(i, line) for i, line in enumerate(r.actions, start=1)
            if line.action.support_needed or line.action.support_from or line.action.asks_development_funding]
    if not asks:
        pdf.para("No support or funding has been asked for yet.", colour=SECONDARY)
    else:
        rows = [(str(i), pdf.clip(line.action.support_needed, 58, f"action {i}, support", f"Action {i}: support needed")
                 if line.action.support_needed else "not stated", _t(line.action.support_from),
                 "\n".join(x for x in (_t(line.action.funding_source), _t(line.category_title)) if x),
                 money(line.action.cost)) for i, line in asks]
        pdf.grid(["#", "Support needed", "Who could provide it", "Funding source and category", "Cost"], rows,
                  [8, 58, 38, 44, 22])
        costs = r.cost_by_source()
        if costs:
            pdf.h2("Estimated cost by funding source (actions not dropped)", keep=30)
            total = sum(costs.values())
            pdf.grid(["Funding source", "Estimated cost"],
                      [(k, money(v)) for k, v in sorted(costs.items())] + [("Total", money(total))], [120, 50])
    pdf.h2("Funding checks", keep=30)
    rules = r.funding.title if r.funding else "the development-funding rules"
    if not r.flagged:
        pdf.para(f"No action asking for PCN development funding looks ineligible under {rules}.", colour=SECONDARY)
        return
    pdf.para(f"These actions ask for PCN development funding but look ineligible under {rules}. A flag is a prompt "
             "for discussion, not a funding decision.", colour=GREY, size=9.5)
    for i, line in enumerate(r.actions, start=1):
        if not line.flags:
            continue
        what = _t(line.action.what)
        short = what if len(what) <= 160 else what[:157] + "…"
        pdf.note_box(f"Action {i}: {short}\n" + "\n".join(f"• {f.message}" for f in line.flags), fill=WARM, edge=WARM_EDGE)


def _support_first(pdf: PlanPDF) -> None:
    """Requests that support already funded should meet before development funding does."""
    r = pdf.r
    if not r.noted:
        return
    pdf.h2("Support that already exists comes first", keep=30)
    pdf.para("Support that is already funded is used before PCN development funding. These requests may be met "
             "from it; a note is a prompt for discussion, not a funding decision.", colour=GREY, size=9.5)
    for line in r.noted:
        what = _t(line.action.what)
        short = what if len(what) <= 160 else what[:157] + "…"
        pdf.note_box(f"Action {line.number}: {short}\n" + "\n".join(f"• {n.message}" for n in line.notes))


def _cd_development(pdf: PlanPDF) -> None:
    """The clinical director's own development, per leadership area of the ICS's programme."""
    r = pdf.r
    if not r.cd_part:
        return
    pdf.h1("The clinical director's development", new_page=False)
    pdf.para(f"Support is for the network and for its clinical director. What the clinical director of {r.pcn.name} "
             "wants from the areas of the ICS's leadership programme for clinical directors, and who provides it.",
             colour=GREY, size=9.5)
    asked = [c for c in r.cd_part if c.wants or c.provider]
    others = [c.title for c in r.cd_part if not (c.wants or c.provider)]
    if not asked:
        pdf.para("Not filled in yet. The programme's areas: " + "; ".join(others) + ".", colour=SECONDARY)
        return
    rows = [(c.title, pdf.clip(c.wants, 80, f"CD area {i}", f"Clinical director: {c.title}") if c.wants else "not stated",
             _t(c.provider) or "not stated") for i, c in enumerate(asked, start=1)]
    pdf.grid(["Leadership area", "What the clinical director wants", "Who provides it"], rows, [48, 80, 42],
             bold_first=True)
    if others:
        pdf.para("Nothing asked for this year from: " + "; ".join(others) + ".", colour=SECONDARY, size=9)


def _pathway(pdf: PlanPDF) -> None:
    r = pdf.r
    title = r.pathway.title if r.pathway else "Development pathway"
    pdf.h1("Development pathway", new_page=False)
    pdf.para(f"Where the network is on the six steps of the {title}.", colour=GREY, size=9.5)
    if r.steps is None:
        if r.pathway:
            pdf.grid(["Step", "Title", "Status"], [(str(s.number), s.title, "not recorded") for s in r.pathway.steps],
                      [14, 110, 46])
        pdf.para("Progress along the pathway is not recorded in this tool yet.", colour=SECONDARY)
        return
    rows = [(str(s.number), s.title, s.status, _day(s.date), f"{s.ticked} of {s.items}" if s.items else "",
             pdf.clip(s.note or "", 50, f"step {s.number}", f"Pathway step {s.number}: note")) for s in r.steps]
    pdf.grid(["Step", "Title", "Status", "Date", "Checklist ticked", "Note"], rows, [11, 43, 22, 22, 22, 50], bold_first=True)


def _notes(pdf: PlanPDF) -> None:
    if not pdf.r.plan.notes:
        return
    pdf.h2("Notes", keep=30)
    pdf.para(pdf.r.plan.notes)


def _long_entries(pdf: PlanPDF) -> None:
    if not pdf.long:
        return
    pdf.h1("Full text of long entries")
    for entry in pdf.long:
        pdf.need(16)
        pdf.set_font("DejaVu", "B", 10)
        pdf.set_text_color(*DARK_BLUE)
        pdf.multi_cell(WIDTH, 5.5, _t(entry.title), new_x="LMARGIN", new_y="NEXT")
        pdf.para(entry.text, size=9.5)


def _sign_off(pdf: PlanPDF) -> None:
    """Who agreed the year's ratings, as the tool recorded it: the PCN's submission and the ICS's
    confirmation, each with the name and date; what has not happened yet says so."""
    r = pdf.r
    so = r.sign_off
    pdf.need(90)
    pdf.start_section("Agreement", level=0)
    pdf.h2("Agreement", keep=80)
    if r.status == "agreed" or (r.assessment is not None and r.assessment.status == "superseded"):
        lead = (f"The {r.year} self-assessment was agreed in two steps, each recorded in the tool: submitted for the "
                "network, then confirmed for the ICS.")
    elif r.assessment is not None and r.assessment.submitted:
        lead = f"The {r.year} self-assessment has been submitted to the ICS and is waiting for its confirmation."
    elif r.assessment is not None:
        lead = f"The {r.year} self-assessment is a draft: it has not been agreed with the ICS yet."
    else:
        lead = f"There is no {r.year} self-assessment to agree yet."
    pdf.para(lead, size=10)
    if so.submitted_at is not None:
        pcn_rows = [("Submitted by", so.submitted_by), ("Date", _day(so.submitted_at.date()))]
    elif so.confirmed_at is not None:
        pcn_rows = [("Submitted", "agreed directly, without a submission recorded in the tool")]
    else:
        pcn_rows = [("Submitted", "not yet")]
    ics_rows = ([("Confirmed by", so.confirmed_by), ("Date", _day(so.confirmed_at.date()))]
                if so.confirmed_at is not None else [("Confirmed", "not yet")])
    signers = (("For the PCN", r.pcn.name, pcn_rows), ("For the ICS", r.ics.name, ics_rows))
    col = (WIDTH - 8) / 2
    label_w = 26

    def height(org: str, rows) -> float:
        h = 10 + pdf.lines(org, col - 8, 8.5) * 4.3 + 3
        return h + sum(max(pdf.lines(v, col - 8 - label_w, 10, bold=True), 1) * 5.2 + 3 for _, v in rows) + 2

    box = max(height(org, rows) for _, org, rows in signers)
    pdf.need(box + 4)
    top = pdf.get_y() + 2
    for i, (who, org, rows) in enumerate(signers):
        x = MARGIN + i * (col + 8)
        pdf.set_fill_color(*PALE)
        pdf.rect(x, top, col, box, style="F")
        pdf.set_xy(x + 4, top + 4)
        pdf.set_font("DejaVu", "B", 11)
        pdf.set_text_color(*DARK_BLUE)
        pdf.cell(col - 8, 6, who)
        pdf.set_xy(x + 4, top + 10)
        pdf.set_font("DejaVu", "", 8.5)
        pdf.set_text_color(*SECONDARY)
        pdf.multi_cell(col - 8, 4.3, _t(org), new_x="LEFT", new_y="NEXT")
        y = pdf.get_y() + 3
        for label, value in rows:
            pdf.set_xy(x + 4, y)
            pdf.set_font("DejaVu", "", 9)
            pdf.set_text_color(*SECONDARY)
            pdf.cell(label_w, 5.2, label)
            pdf.set_xy(x + 4 + label_w, y)
            pdf.set_font("DejaVu", "B", 10)
            pdf.set_text_color(*TEXT)
            pdf.multi_cell(col - 8 - label_w, 5.2, _t(value), new_x="LEFT", new_y="NEXT")
            y = pdf.get_y() + 3
    pdf.set_y(top + box + 6)
    pdf.set_font("DejaVu", "", 10)
    pdf.set_text_color(*TEXT)


# ---------------------------------------------------------------------------------------------
# Public API

def render(report: PlanReport, *, charts: bool = True, after_charts: Callable[[], None] | None = None) -> bytes:
    """The PDF for a gathered report, as bytes. `after_charts()`, if given, is called once the
    last chart is drawn (the command line closes the chart browser then, while the rest is laid out)."""
    pdf = PlanPDF(report)
    _cover(pdf)
    _summary(pdf)
    _charts(pdf, _Drawer(None if charts else "charts were turned off."))
    if after_charts is not None:
        after_charts()
    _domains(pdf)
    _evidence(pdf)
    _priorities(pdf)
    _actions(pdf)
    _support(pdf)
    _support_first(pdf)
    _cd_development(pdf)
    _pathway(pdf)
    _notes(pdf)
    _long_entries(pdf)
    _sign_off(pdf)
    return bytes(pdf.output())


def plan_pdf(store: Store, pcn_code: str, year: str, **kw) -> bytes:
    """The development-plan PDF of one PCN for one year."""
    return render(gather(store, pcn_code, year), **kw)


def plan_pdfs(store: Store, pcn_codes: Sequence[str], year: str,
              progress: Callable[[int, int, str], None] | None = None, *, workers: int = 2,
              matrix_id: str | None = None) -> Iterator[tuple[str, str, bytes]]:
    """(PCN code, file name, PDF bytes) for each PCN, in order, against `matrix_id` if given.

    Two workers by default: while one waits for the browser to draw its charts, the other
    lays out its PDF, which on a 2-core machine cuts a batch's time by about a third.
    `progress(done, total, name of the next PCN)` is called in the caller's thread at the start
    and after each PCN is handed over, so it may update a user interface."""
    from concurrent.futures import ThreadPoolExecutor

    codes = list(pcn_codes)

    def one(code: str) -> tuple[str, str, bytes]:
        report = gather(store, code, year, matrix_id=matrix_id)
        return code, report.file_stem + ".pdf", render(report)

    names = {p.code: p.name for p in orgs.pcns(store)} if progress else {}
    n = len(codes)
    if progress:
        progress(0, n, names.get(codes[0], codes[0]) if codes else "")
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for i, result in enumerate(pool.map(one, codes)):
            yield result
            if progress:
                progress(i + 1, n, names.get(codes[i + 1], codes[i + 1]) if i + 1 < n else "")


def ics_plan_pdfs(store: Store, ics_code: str, year: str,
                  progress: Callable[[int, int, str], None] | None = None) -> list[tuple[str, str, bytes]]:
    """(PCN code, file name, PDF bytes) for every PCN of the ICS."""
    return list(plan_pdfs(store, [p.code for p in orgs.pcns(store, ics_code)], year, progress))


def ics_plans_zip(store: Store, ics_code: str, year: str,
                  progress: Callable[[int, int, str], None] | None = None) -> bytes:
    """A zip of every PCN's plan PDF for the ICS and year."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for _, name, data in ics_plan_pdfs(store, ics_code, year, progress):
            z.writestr(name, data)
    return buf.getvalue()

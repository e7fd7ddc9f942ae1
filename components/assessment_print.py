"""The print view of one assessment: every element of every domain with its stage descriptors (the
current and target stages marked), confidence, evidence text and evidence items, and note, laid
out to print on A4 from the browser (Ctrl+P).

A mode of the self-assessment page (`?print=1`, so a reload or a shared link keeps it): the page
draws its pickers, then this block, one piece of HTML, and stops. Print CSS hides everything but
that block and Streamlit's own bars, lets the page grow past one screen (Streamlit's scrolling
containers would otherwise print one page), and keeps each element on one page where it fits.

Everything from a user or a YAML file goes through html.escape: this is HTML, not markdown.
"""
from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import date

import streamlit as st

from assessments.evidence import as_of
from assessments.model import CARRIED, NOT_APPLICABLE, REVIEW_DUE, Assessment, EvidenceItem, Rating
from matrix import Matrix

QUERY = "print"
KEY = "assessment-print"

CSS = f"""
<style>
  .print-doc {{ font-family: Arial, "Helvetica Neue", sans-serif; color: #212B32; font-size: 10.5pt;
               line-height: 1.35; max-width: 1100px; }}
  .print-doc h1 {{ font-size: 17pt; margin: 0 0 2pt; padding: 0; }}
  .print-doc h2 {{ font-size: 13pt; margin: 14pt 0 2pt; padding: 4pt 0 2pt; border-bottom: 2px solid #005EB8; }}
  .print-doc h3 {{ font-size: 11pt; margin: 0 0 4pt; padding: 0; }}
  /* Streamlit gives p and li its own size: the document sets its own. */
  .print-doc p, .print-doc li, .print-doc ul {{ margin: 2pt 0 4pt; font-size: inherit; line-height: inherit; }}
  .print-doc .meta, .print-doc .summary {{ color: #4C6272; }}
  .print-doc .element {{ border: 1px solid #AEB7BD; border-radius: 4px; padding: 6pt 8pt; margin: 6pt 0 8pt;
                        break-inside: avoid; page-break-inside: avoid; }}
  .print-doc table.stages {{ width: 100%; border-collapse: separate; border-spacing: 4px 0; table-layout: fixed;
                            margin: 0 -4px 4pt; }}
  .print-doc table.stages th, .print-doc table.stages td {{ border: 1px solid #D8DDE0; vertical-align: top;
                            padding: 3pt 4pt; font-size: 9pt; text-align: left; }}
  .print-doc table.stages th {{ border-bottom: none; font-size: 9.5pt; }}
  .print-doc table.stages td {{ border-top: none; }}
  .print-doc .now {{ border: 2.5px solid #005EB8 !important; background: #EEF5FB; }}
  .print-doc .target {{ border: 2.5px dashed #425563 !important; background: #F6F7F8; }}
  .print-doc th.now, .print-doc th.target {{ border-bottom: none !important; }}
  .print-doc td.now, .print-doc td.target {{ border-top: none !important; }}
  .print-doc .badge {{ display: inline-block; font-size: 8pt; font-weight: bold; padding: 0 3pt; margin-left: 3pt;
                      border-radius: 3px; color: #FFFFFF; background: #005EB8; }}
  .print-doc .badge.aim {{ background: #425563; }}
  .print-doc .rating b, .print-doc .label {{ font-weight: bold; }}
  .print-doc ul.items {{ margin: 0 0 4pt 14pt; padding: 0; }}
  .print-doc ul.items li {{ margin: 0 0 2pt; font-size: 0.95em; }}
  .print-doc .warn {{ color: #8A1538; font-weight: bold; }}
  .print-doc .none {{ color: #4C6272; font-style: italic; }}
  .print-doc .link {{ overflow-wrap: anywhere; }}
  @media print {{
    @page {{ size: A4 portrait; margin: 12mm 11mm 13mm; }}
    html, body, [data-testid="stApp"], [data-testid="stAppViewContainer"], [data-testid="stMain"],
    [data-testid="stMainBlockContainer"], .main {{ height: auto !important; min-height: 0 !important;
      overflow: visible !important; position: static !important; }}
    [data-testid="stHeader"], [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
    [data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stStatusWidget"],
    [data-testid="stBottom"], [data-testid="stMainBlockContainer"] [data-testid="stElementContainer"],
    [data-testid="stMainBlockContainer"] [data-testid="stHorizontalBlock"] {{ display: none !important; }}
    .st-key-{KEY} [data-testid="stElementContainer"] {{ display: block !important; }}
    .st-key-{KEY}-tools {{ display: none !important; }}
    [data-testid="stMainBlockContainer"] {{ padding: 0 !important; max-width: none !important; }}
    .print-doc {{ max-width: none; font-size: 9.5pt; }}
    .print-doc table.stages th, .print-doc table.stages td {{ font-size: 8pt; }}
    .print-doc * {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
  }}
</style>
"""


def wanted() -> bool:
    return st.query_params.get(QUERY) == "1"


def _open() -> None:
    st.query_params[QUERY] = "1"


def _close() -> None:
    st.query_params.pop(QUERY, None)


def open_button() -> None:
    st.button("Print view", icon=":material/print:", key="assess_print_open", on_click=_open,
              help="Every element with its stages, evidence and note, laid out to print on A4 (or save as PDF)")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _day(d: date | None) -> str:
    return f"{d.day} {d:%b %Y}" if d else ""


def _item(x: EvidenceItem, today: date) -> str:
    parts = [_e(x.description)]
    if x.link:
        parts.append(f'<span class="link">{_e(x.link)}</span>')
    if x.file:
        parts.append(f"file: {_e(x.file.name)}")
    when = f"added by {_e(x.created_by)} on {_day(x.created_at.date())}; review by {_day(x.review_by)}"
    state = x.freshness(today)
    if state == CARRIED:
        when += f' <span class="warn">(carried over from {_e(x.carried_from_year)}: not yet confirmed)</span>'
    elif state == REVIEW_DUE:
        when += ' <span class="warn">(review due)</span>'
    elif x.carried_from_year and x.confirmed_by:
        when += f"; from {_e(x.carried_from_year)}, confirmed by {_e(x.confirmed_by)}"
    return f"<li>{' · '.join(parts)}<br><span class=\"meta\">{when}</span></li>"


def _element(matrix: Matrix, element, rating: Rating | None, items: Sequence[EvidenceItem], today: date) -> str:
    now = rating.current_stage if rating else None
    aim = rating.target_stage if rating else None
    heads, cells = [], []
    for s in matrix.stages:
        mark = "now" if s.id == now else "target" if s.id == aim else ""
        badges = ('<span class="badge">Now</span>' if s.id == now else "") + (
            '<span class="badge aim">Target</span>' if s.id == aim else "")
        heads.append(f'<th class="{mark}">{_e(s.label)}{badges}</th>')
        cells.append(f'<td class="{mark}">{_e(element.descriptors[s.id])}</td>')
    if rating is not None and rating.not_applicable:
        line = f"<b>{_e(NOT_APPLICABLE)}</b>: left out of the domain's score."
    else:
        label = {s.id: s.label for s in matrix.stages}
        line = (f"<b>Now:</b> {_e(label[now]) if now else '<span class=none>not rated</span>'} · "
                f"<b>Target:</b> {_e(label[aim]) if aim else '<span class=none>not set</span>'} · "
                f"<b>Confidence:</b> {_e((rating.confidence or 'not said').capitalize()) if rating else 'not said'}")
    out = [f'<article class="element"><h3>{_e(element.title)}</h3>',
           f'<table class="stages"><tr>{"".join(heads)}</tr><tr>{"".join(cells)}</tr></table>',
           f'<p class="rating">{line}</p>']
    if rating is not None and rating.evidence:
        out.append(f'<p><span class="label">Evidence:</span> {_e(rating.evidence)}</p>')
    if items:
        out.append('<p class="label">Evidence items</p><ul class="items">'
                   + "".join(_item(x, today) for x in items) + "</ul>")
    elif not (rating is not None and rating.evidence):
        out.append('<p class="none">No evidence recorded.</p>')
    if rating is not None and rating.note:
        out.append(f'<p><span class="label">Note:</span> {_e(rating.note)}</p>')
    return "".join(out) + "</article>"


def document(matrix: Matrix, assessment: Assessment, ratings: Mapping[str, Rating],
             items: Mapping[str, Sequence[EvidenceItem]], pcn_name: str, ics_name: str, today: date) -> str:
    """The whole assessment as one HTML document (the part inside the page)."""
    elements = [e for _, e in matrix.elements()]
    rated = sum(1 for e in elements if (r := ratings.get(e.id)) is not None and (r.current_stage or r.not_applicable))
    status = "Agreed" if assessment.status == "agreed" else (
        "Submitted for agreement" if assessment.submitted_at else assessment.status.capitalize())
    out = [f'<div class="print-doc"><h1>Self-assessment: {_e(pcn_name)} ({_e(assessment.pcn_code)}), '
           f'{_e(assessment.year)}</h1>',
           f'<p class="meta">{_e(ics_name)} · {_e(matrix.label)} · {status} · {rated} of {len(elements)} elements '
           f'rated · printed {_day(today)}</p>']
    if assessment.confirmed_by and assessment.confirmed_at:
        out.append(f'<p class="meta">Agreed: confirmed by {_e(assessment.confirmed_by)} on '
                   f'{_day(assessment.confirmed_at.date())}'
                   + (f", submitted by {_e(assessment.submitted_by)} on {_day(assessment.submitted_at.date())}"
                      if assessment.submitted_by and assessment.submitted_at else "") + ".</p>")
    out.append('<p class="meta">Stages: ' + " ".join(f"<b>{_e(s.label)}</b>: {_e(s.meaning)}" for s in matrix.stages)
               + ' The current stage is marked <span class="badge">Now</span> (solid border), the target '
                 '<span class="badge aim">Target</span> (dashed border).</p>')
    for domain in matrix.domains:
        out.append(f'<section><h2>{_e(domain.title)}</h2><p class="summary">{_e(domain.summary)}</p>')
        out += [_element(matrix, e, ratings.get(e.id), items.get(e.id, ()), _judged(assessment, today))
                for e in domain.elements]
        out.append("</section>")
    return "".join(out) + "</div>"


def print_view(matrix: Matrix, assessment: Assessment, ratings: Mapping[str, Rating],
               items: Mapping[str, Sequence[EvidenceItem]], pcn_name: str, ics_name: str) -> None:
    """The print mode of the page: a way back, how to print, and the document."""
    with st.container(key=KEY):
        with st.container(horizontal=True, key=f"{KEY}-tools"):
            st.button("Back to the ratings", icon=":material/arrow_back:", key="assess_print_close", on_click=_close)
            st.caption("Print with your browser (Ctrl+P, or ⌘P on a Mac): choose A4 portrait, or save as PDF.")
        st.html(CSS + document(matrix, assessment, ratings, items, pcn_name, ics_name, date.today()))


def _judged(assessment: Assessment, today: date) -> date:
    """The day evidence freshness is judged on: today, or the last day of a year that has ended."""
    return as_of(assessment.year, today)

"""The development plan as an Excel workbook (openpyxl): the same content as the PDF, as tables
people can sort, filter and copy into their own papers.

Sheets: Summary, Priorities, Actions (dates as dates, costs as numbers in £, one row per action),
Actions by priority (the actions under what they serve, as in the PDF), Elements, Evidence (one row
per evidence item, with its dates and freshness), Pathway, and
Clinical director (the clinical director's own development, per leadership area).
Typed text is always stored as text, never as a formula, whatever it starts with.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .data import PlanReport, person, summary_paragraphs

HEADING_FILL = PatternFill("solid", fgColor="005EB8")
HEADING_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=14, color="003087")
WRAP = Alignment(wrap_text=True, vertical="top")
MONEY = '"£"#,##0.00'


def _put(ws, row: int, col: int, value: Any):
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        cell.data_type = "s"  # text typed by a user is never run as a formula
    cell.alignment = WRAP
    return cell


def _table(ws, top: int, headings: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float],
           formats: dict[int, str] | None = None) -> None:
    for j, h in enumerate(headings, start=1):
        c = ws.cell(row=top, column=j, value=h)
        c.fill, c.font, c.alignment = HEADING_FILL, HEADING_FONT, WRAP
        ws.column_dimensions[get_column_letter(j)].width = widths[j - 1]
    for i, values in enumerate(rows, start=top + 1):
        for j, v in enumerate(values, start=1):
            c = _put(ws, i, j, v)
            if formats and j in formats and v is not None:
                c.number_format = formats[j]
    ws.freeze_panes = ws.cell(row=top + 1, column=1)
    if rows:
        ws.auto_filter.ref = f"A{top}:{get_column_letter(len(headings))}{top + len(rows)}"


def _agreement_facts(r: PlanReport) -> list[tuple[str, Any]]:
    """Who submitted the assessment for the PCN and who confirmed it for the ICS, and when."""
    so = r.sign_off
    return [("Submitted for the PCN by", f"{so.submitted_by} on {so.submitted_at:%d %b %Y}" if so.submitted_at
             else "not yet"),
            ("Confirmed for the ICS by", f"{so.confirmed_by} on {so.confirmed_at:%d %b %Y}" if so.confirmed_at
             else "not yet")]


def _evidence_sheet(ws, r: PlanReport) -> None:
    """One row per evidence item (and one per element without any), dates as dates, so the
    items can be sorted and filtered by element, freshness or review-by date."""
    rows = []
    for line in r.evidence:
        head = (line.domain, line.title, line.current, line.target, line.confidence, line.summary, line.note)
        if not line.items:
            rows.append((*head, None, None, None, None, None, None, "no evidence items"))
        for x, state in zip(line.items, line.states):
            detail = state + (f" (from {x.carried_from_year})" if x.carried_over else "")
            if x.confirmed_at is not None:
                detail += f", confirmed by {person(x.confirmed_by)} on {x.confirmed_at:%d %b %Y}"
            rows.append((*head, x.description, x.link, x.file.name if x.file else None, person(x.created_by),
                         x.created_at.date(), x.review_by, detail))
    _table(ws, 1, ["Domain", "Element", "Now", "Target", "Confidence", "Evidence summary", "Note", "Evidence item",
                   "Link", "File", "Added by", "Added on", "Review by", "Freshness"], rows,
           [30, 40, 12, 12, 12, 40, 40, 50, 40, 24, 22, 12, 12, 30], formats={12: "DD/MM/YYYY", 13: "DD/MM/YYYY"})


def workbook(r: PlanReport) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    ws["A1"] = f"Development plan {r.year}: {r.pcn.name}"
    ws["A1"].font = TITLE_FONT
    facts = [("PCN", f"{r.pcn.name} ({r.pcn.code})"), ("ICS", f"{r.ics.name} ({r.ics.code})"), ("Year", r.year),
             ("Maturity matrix", f"{r.matrix.title}, version {r.matrix.version}"), ("Assessment status", r.status),
             ("Produced", r.produced.strftime("%d %b %Y %H:%M UTC"))] + _agreement_facts(r)
    row = 3
    for label, value in facts + [("", "")] + summary_paragraphs(r):
        _put(ws, row, 1, label).font = Font(bold=True)
        _put(ws, row, 2, value)
        row += 1
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 100

    ws = wb.create_sheet("Priorities")
    _put(ws, 1, 1, "Service-improvement priority").font = Font(bold=True)
    _put(ws, 1, 2, r.plan.service_priority or "")
    _put(ws, 2, 1, "DES service specification").font = Font(bold=True)
    _put(ws, 2, 2, r.service_spec_title or "")
    _table(ws, 4, ["#", "Element", "Domain", "Now", "Target", "Why", "Chosen or suggested"],
           [(p.position, p.title, p.domain, p.current, p.target, p.reason, "suggested" if p.suggested else "chosen")
            for p in r.priorities], [5, 40, 34, 13, 13, 70, 18])

    ws = wb.create_sheet("Actions")
    rows = []
    for i, line in enumerate(r.actions, start=1):
        a = line.action
        rows.append((i, a.what, a.owner, a.due, a.status, a.step, line.step_title, a.support_needed, a.support_from,
                     float(a.cost) if a.cost is not None else None, a.funding_source, line.category_title,
                     "\n".join(f.message for f in line.flags), "\n".join(line.links),
                     "\n".join(n.message for n in line.notes)))
    _table(ws, 1, ["#", "Action", "Owner", "Due", "Status", "Pathway step", "Step title", "Support needed",
                   "Support from", "Cost (£)", "Funding source", "Funding category", "Funding check", "Linked to",
                   "Existing support first"],
           rows, [5, 50, 20, 12, 13, 8, 24, 40, 24, 12, 24, 30, 60, 40, 60], formats={4: "DD/MM/YYYY", 10: MONEY})

    # The same actions under what they serve: an action serving two things is under both, same number.
    ws = wb.create_sheet("Actions by priority")
    grouped = []
    for g in r.groups:
        for line in g.actions or (None,):
            a = line.action if line else None
            grouped.append((g.title, g.detail if g.kind != "service" else None, line.number if line else None,
                            a.what if a else "No action linked yet", a.owner if a else None, a.due if a else None,
                            a.status if a else None))
    _table(ws, 1, ["Priority or element", "Domain", "#", "Action", "Owner", "Due", "Status"], grouped,
           [40, 30, 5, 60, 20, 12, 13], formats={6: "DD/MM/YYYY"})

    ws = wb.create_sheet("Elements")
    since = f"Since {r.previous.year}" if r.previous else "Since last year"
    _table(ws, 1, ["Domain", "Element", "Now", "Target", since],
           [(d.title, e.title, e.current, e.target, e.change) for d in r.domains for e in d.elements],
           [40, 50, 13, 13, 22])

    _evidence_sheet(wb.create_sheet("Evidence"), r)

    ws = wb.create_sheet("Pathway")
    if r.steps is not None:
        _table(ws, 1, ["Step", "Title", "Status", "Date", "Checklist ticked", "Note"],
               [(s.number, s.title, s.status, s.date, f"{s.ticked} of {s.items}", s.note) for s in r.steps],
               [6, 34, 14, 12, 16, 60], formats={4: "DD/MM/YYYY"})
    elif r.pathway is not None:
        _table(ws, 1, ["Step", "Title", "Status"], [(s.number, s.title, "not recorded") for s in r.pathway.steps],
               [6, 34, 14])

    ws = wb.create_sheet("Clinical director")
    _table(ws, 1, ["Leadership area", "What it covers", "What the clinical director wants", "Who provides it"],
           [(c.title, c.description, c.wants, c.provider) for c in r.cd_part], [34, 60, 60, 34])
    wb.properties.title = f"Development plan {r.year}: {r.pcn.name}"
    wb.properties.creator = r.pcn.name
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

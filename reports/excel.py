"""The development plan as an Excel workbook (openpyxl): the same content as the PDF, as tables
people can sort, filter and copy into their own papers.

Sheets: Summary, Priorities, Actions (dates as dates, costs as numbers in £), Elements, Pathway.
Typed text is always stored as text, never as a formula, whatever it starts with.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .data import PlanReport, summary_paragraphs

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


def workbook(r: PlanReport) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    ws["A1"] = f"Development plan {r.year}: {r.pcn.name}"
    ws["A1"].font = TITLE_FONT
    facts = [("PCN", f"{r.pcn.name} ({r.pcn.code})"), ("ICS", f"{r.ics.name} ({r.ics.code})"), ("Year", r.year),
             ("Maturity matrix", f"{r.matrix.title}, version {r.matrix.version}"), ("Assessment status", r.status),
             ("Produced", r.produced.strftime("%d %b %Y %H:%M UTC"))]
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
                     "\n".join(f.message for f in line.flags)))
    _table(ws, 1, ["#", "Action", "Owner", "Due", "Status", "Pathway step", "Step title", "Support needed",
                   "Support from", "Cost (£)", "Funding source", "Funding category", "Funding check"],
           rows, [5, 50, 20, 12, 13, 8, 24, 40, 24, 12, 24, 30, 60], formats={4: "DD/MM/YYYY", 10: MONEY})

    ws = wb.create_sheet("Elements")
    since = f"Since {r.previous.year}" if r.previous else "Since last year"
    _table(ws, 1, ["Domain", "Element", "Now", "Target", since],
           [(d.title, e.title, e.current, e.target, e.change) for d in r.domains for e in d.elements],
           [40, 50, 13, 13, 22])

    ws = wb.create_sheet("Pathway")
    if r.steps is not None:
        _table(ws, 1, ["Step", "Title", "Status", "Date", "Checklist ticked", "Note"],
               [(s.number, s.title, s.status, s.date, f"{s.ticked} of {s.items}", s.note) for s in r.steps],
               [6, 34, 14, 12, 16, 60], formats={4: "DD/MM/YYYY"})
    elif r.pathway is not None:
        _table(ws, 1, ["Step", "Title", "Status"], [(s.number, s.title, "not recorded") for s in r.pathway.steps],
               [6, 34, 14])
    wb.properties.title = f"Development plan {r.year}: {r.pcn.name}"
    wb.properties.creator = r.pcn.name
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

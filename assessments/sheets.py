"""Spreadsheets in and out: reading .csv and .xlsx rows with the line numbers a spreadsheet shows,
and writing them back, for the ratings and organisations files.

A file with any bad row is refused whole: ImportProblems lists every bad row by line.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from matrix import Matrix

from .values import InputError

MAX_ROWS = 200_000
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_unsafe(value: str) -> str:
    """The text csv_safe was given."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START + ("'",)) else value


def csv_safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula, with a leading apostrophe, as OWASP advises;
    reading a CSV takes the apostrophe off again (`csv_unsafe`), so an export imports back unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START + ("'",)):
        return "'" + value
    return value


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportProblems(InputError):
    """A ratings file with bad rows. Nothing was written."""

    def __init__(self, file: str, problems: list[RowProblem]):
        self.file = file
        self.problems = problems
        super().__init__(self.report(limit=None))

    def report(self, limit: int | None = 50) -> str:
        n = len(self.problems)
        shown = self.problems if limit is None else self.problems[:limit]
        more = [f"... and {n - len(shown)} more"] if len(shown) < n else []
        return "\n".join([f"{self.file}: {n} problem{'s' if n != 1 else ''}; nothing was imported",
                          *(str(p) for p in shown), *more])


def cell(value: Any) -> tuple[str | None, str | None]:
    """A cell as text, or a problem. Numbers keep no '.0'; dates are refused (Excel's doing)."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), None
    if isinstance(value, (datetime, date)):
        return None, ("a date, but text was expected (Excel may have changed what was typed; "
                      "format the column as Text and type it again)")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    v = str(value).strip()
    return (v or None), None


def read_rows(path: str | Path, data: bytes | None = None) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """Header and data rows of a .csv or .xlsx file, with spreadsheet line numbers (header = 1)."""
    name = str(path)
    suffix = Path(name).suffix.lower()
    if data is None:
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise ImportProblems(name, [RowProblem(1, "file not found")]) from None
    if suffix == ".xlsx":
        rows = xlsx_rows(name, data)
    elif suffix in (".csv", ".txt"):
        rows = csv_rows(data)
    else:
        raise ImportProblems(name, [RowProblem(1, f"'{suffix or name}' files are not supported: use .csv or .xlsx")])
    if not rows:
        raise ImportProblems(name, [RowProblem(1, "the file is empty: expected a header row naming the columns")])
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    body = [(i + 2, r) for i, r in enumerate(rows[1:]) if any(v not in (None, "") for v in r)]
    if len(body) > MAX_ROWS:
        raise ImportProblems(name, [RowProblem(1, f"too many rows ({len(body):,}; the limit is {MAX_ROWS:,})")])
    return header, body


def csv_rows(data: bytes) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "cp1252"):  # Excel on Windows saves "CSV" as cp1252
        try:
            content = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    try:
        dialect = csv.Sniffer().sniff(content.split("\n", 1)[0], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    return [[csv_unsafe(v) for v in r] for r in csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)]


def xlsx_rows(name: str, data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or non-Excel file
        raise ImportProblems(name, [RowProblem(1, f"cannot read this as an Excel .xlsx file ({exc})")]) from None
    try:
        ws = wb["Ratings"] if "Ratings" in wb.sheetnames else wb.worksheets[0]
        return [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


def write_table(path: str | Path, rows: Iterable[list[Any]], header: list[str], matrix: Matrix | None = None,
                guide: list[list[str]] | None = None) -> None:
    """Rows under `header` as .csv (UTF-8 with BOM) or .xlsx (text-formatted code columns, stage pickers
    when `matrix` is given, a Guide sheet when `guide` is)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        # utf-8 with BOM: Excel then opens accented names correctly.
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows([["" if v is None else csv_safe(v) for v in r] for r in rows])
        return
    if suffix != ".xlsx":
        raise InputError(f"'{suffix or path}' is not a supported file type: use .csv or .xlsx")
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "Ratings"
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    n = 1
    for r in rows:
        n += 1
        for j, v in enumerate(r, start=1):
            c = ws.cell(n, j, v)
            if isinstance(v, str) and v.startswith("="):
                c.data_type = "s"  # text typed by a user is kept as text, never run as a formula
    ws.freeze_panes = "A2"
    widths = {"evidence": 60, "note": 40, "pcn_name": 30, "element_title": 40, "matrix_id": 22}
    for i, h in enumerate(header):
        ws.column_dimensions[ws.cell(1, i + 1).column_letter].width = widths.get(h, 16)
    # Text format on the code and year columns stops Excel turning them into numbers or dates.
    for h in [h for h in ("pcn_code", "year", "matrix_version", "ics_code") if h in header]:
        col = ws.cell(1, header.index(h) + 1).column_letter
        for row in range(2, max(n, 200) + 1):
            ws[f"{col}{row}"].number_format = "@"
    if matrix is not None:
        stages = ",".join(matrix.stage_ids)
        for h in ("current_stage", "target_stage"):
            col = ws.cell(1, header.index(h) + 1).column_letter
            dv = DataValidation(type="list", formula1=f'"{stages}"', allow_blank=True)
            dv.add(f"{col}2:{col}{max(n, 200)}")
            ws.add_data_validation(dv)
        col = ws.cell(1, header.index("confidence") + 1).column_letter
        dv = DataValidation(type="list", formula1='"low,medium,high"', allow_blank=True)
        dv.add(f"{col}2:{col}{max(n, 200)}")
        ws.add_data_validation(dv)
    if guide:
        g = wb.create_sheet("Guide")
        for r in guide:
            g.append(r)
        g.column_dimensions["A"].width = 24
        g.column_dimensions["B"].width = 100
    wb.save(path)

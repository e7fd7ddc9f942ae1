"""Spreadsheets in and out: reading .csv and .xlsx rows with the line numbers a spreadsheet shows,
and writing them back, for the ratings and organisations files.

A file with any bad row is refused whole: ImportProblems lists every bad row by line.
"""
from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from matrix import Matrix

from .values import InputError

# Limits that make a hostile file (a zip bomb, millions of tiny cells) cheap to refuse, each
# well above a national file of six years: 161,000 rows, 1.6 million filled cells, a 22 MB CSV, or
# an .xlsx of 6.3 MB holding a 104 MB sheet (about 17 times smaller packed).
MAX_ROWS = 250_000  # data rows, blank ones not counted
MAX_COLUMNS = 50
MAX_CELLS = 3_000_000  # cells with something in them
MAX_CSV_BYTES = 100_000_000
MAX_XLSX_BYTES = 50_000_000  # the .xlsx file itself
MAX_XLSX_UNPACKED = 300_000_000  # every part of it unpacked, together
MAX_XLSX_STRINGS = 60_000_000  # the shared-strings part, read whole into memory
MAX_XLSX_OTHER = 10_000_000  # any other part (styles, workbook, ...), also read whole
MAX_XLSX_RATIO = 50  # unpacked over packed size, for a part of more than 1 MB (exports pack about 15 times)
# Equal texts repeat (codes, years, stages): the readers keep one copy of each of the first
# _SHARED, which halves the memory of a national file and makes millions of equal cells cheap.
_SHARED = 200_000
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

    def __init__(self, file: str, problems: list[RowProblem], *, stopped: bool = False):
        self.file = file
        self.problems = problems
        self.stopped = stopped  # checking gave up after MAX_PROBLEMS: there may be more
        super().__init__(self.report(limit=None))

    def report(self, limit: int | None = 50) -> str:
        n = len(self.problems)
        shown = self.problems if limit is None else self.problems[:limit]
        more = [f"... and {n - len(shown)} more"] if len(shown) < n else []
        count = f"{n} problem{'s' if n != 1 else ''}"
        if self.stopped:
            count = f"checking stopped after the first {count}"
        return "\n".join([f"{self.file}: {count}; nothing was imported", *(str(p) for p in shown), *more])


# A file that is wrong throughout would otherwise build a problem per row (hundreds of thousands,
# hundreds of MB): the first thousand say what to fix.
MAX_PROBLEMS = 1_000


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
    """Header and data rows of a .csv or .xlsx file, with spreadsheet line numbers (header = 1).

    Reading stops, with a message naming the limit, at the first limit a file goes past, so a
    hostile file costs little to refuse."""
    name = str(path)
    suffix = Path(name).suffix.lower()
    if suffix not in (".xlsx", ".csv", ".txt"):
        raise ImportProblems(name, [RowProblem(1, f"'{suffix or name}' files are not supported: use .csv or .xlsx")])
    if data is None:
        try:
            size = Path(path).stat().st_size
            limit = MAX_XLSX_BYTES if suffix == ".xlsx" else MAX_CSV_BYTES
            if size > limit:
                raise ImportProblems(name, [RowProblem(1, _too_large(size, limit))])
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise ImportProblems(name, [RowProblem(1, "file not found")]) from None
    rows = xlsx_rows(name, data) if suffix == ".xlsx" else csv_rows(data, name)
    header: list[str] | None = None
    body: list[tuple[int, list[Any]]] = []
    cells = 0
    try:
        for i, r in enumerate(rows):
            if header is None:
                header = [str(h).strip() if h is not None else "" for h in r]
                continue
            filled = len(r) - r.count(None) - r.count("")
            if not filled:
                continue
            body.append((i + 1, r))
            cells += filled
            if len(body) > MAX_ROWS:
                raise ImportProblems(name, [RowProblem(i + 1, f"the file has more than {MAX_ROWS:,} rows, the limit "
                                                              "(a national file of six years has about 165,000): "
                                                              "split it and import each part")])
            if cells > MAX_CELLS:
                raise ImportProblems(name, [RowProblem(i + 1, f"the file has more than {MAX_CELLS:,} filled cells, "
                                                              "the limit: split it and import each part")])
    finally:
        rows.close()
    if header is None:
        raise ImportProblems(name, [RowProblem(1, "the file is empty: expected a header row naming the columns")])
    return header, body


def _too_large(size: int, limit: int) -> str:
    return f"the file is {size / 1e6:,.1f} MB, more than the limit of {limit / 1e6:,.0f} MB: split it and import each part"


def csv_rows(data: bytes, name: str = "file") -> Iterator[list[Any]]:
    """The rows of a CSV file, read as they are needed."""
    if len(data) > MAX_CSV_BYTES:
        raise ImportProblems(name, [RowProblem(1, _too_large(len(data), MAX_CSV_BYTES))])
    for encoding in ("utf-8-sig", "cp1252"):  # Excel on Windows saves "CSV" as cp1252
        try:
            data.decode(encoding)
            break
        except UnicodeDecodeError as exc:
            bad = exc
    else:
        line = data.count(b"\n", 0, bad.start) + 1
        raise ImportProblems(name, [RowProblem(line, f"byte 0x{data[bad.start:bad.start + 1].hex().upper()} cannot be "
                                                     "read as text: save the file as CSV UTF-8")])
    # The delimiter is guessed from the start of the first line only: the sniffer is slow on long text.
    first = data[:65_536].split(b"\n", 1)[0].decode(encoding, errors="ignore")
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    # Decoded as it is read (not all at once into a StringIO, which holds four bytes a character).
    text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
    reader = csv.reader(text, delimiter=delimiter)
    shared: dict[str, str] = {}
    try:
        for r in reader:
            if len(r) > MAX_COLUMNS and any(r[MAX_COLUMNS:]):
                raise ImportProblems(name, [RowProblem(reader.line_num, f"the row has more than {MAX_COLUMNS} columns, "
                                                                        "the limit")])
            r = r[:MAX_COLUMNS]
            if "'" in "".join(r):  # most rows have no apostrophe
                r = [csv_unsafe(v) for v in r]
            yield list(map(shared.setdefault, r, r)) if len(shared) < _SHARED else r
    except csv.Error as exc:  # e.g. a field longer than the csv module's limit of 131,072 characters
        raise ImportProblems(name, [RowProblem(reader.line_num, f"cannot read this line as CSV ({exc})")]) from None


def check_xlsx_parts(name: str, data: bytes) -> None:
    """Refuse a workbook whose parts would unpack too large (a zip bomb) before anything reads them.

    The sizes are the zip directory's own; Python's zipfile never unpacks more than a part's
    stated size (and fails on a wrong checksum), so the stated sizes bound what openpyxl reads."""
    def refuse(message: str) -> ImportProblems:
        return ImportProblems(name, [RowProblem(1, message)])

    if len(data) > MAX_XLSX_BYTES:
        raise refuse(_too_large(len(data), MAX_XLSX_BYTES))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise refuse(f"cannot read this as an Excel .xlsx file ({exc})") from None
    total = sum(p.file_size for p in parts)
    if total > MAX_XLSX_UNPACKED:
        raise refuse(f"the workbook unpacks to {total / 1e6:,.0f} MB, more than the limit of "
                     f"{MAX_XLSX_UNPACKED / 1e6:,.0f} MB: save it again from Excel, or as CSV")
    for p in parts:
        if p.file_size > 1_000_000 and p.file_size > MAX_XLSX_RATIO * max(p.compress_size, 1):
            raise refuse(f"part {p.filename} unpacks {p.file_size // max(p.compress_size, 1):,} times larger than it "
                         f"is packed, more than the limit of {MAX_XLSX_RATIO} times (real sheets pack about 5 to 20 "
                         "times): this is not a workbook that can be read safely")
        worksheet = p.filename.startswith("xl/worksheets/")
        limit = MAX_XLSX_STRINGS if p.filename.endswith("sharedStrings.xml") else None if worksheet else MAX_XLSX_OTHER
        if limit is not None and p.file_size > limit:
            raise refuse(f"part {p.filename} unpacks to {p.file_size / 1e6:,.1f} MB, more than the limit of "
                         f"{limit / 1e6:,.0f} MB for it")


def xlsx_rows(name: str, data: bytes) -> Iterator[list[Any]]:
    """The rows of the Ratings sheet (or the first), read as they are needed, at most MAX_COLUMNS wide."""
    check_xlsx_parts(name, data)
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or non-Excel file
        raise ImportProblems(name, [RowProblem(1, f"cannot read this as an Excel .xlsx file ({exc})")]) from None
    try:
        ws = wb["Ratings"] if "Ratings" in wb.sheetnames else wb.worksheets[0]
        # The sheet's stated size (<dimension>), read before any row: openpyxl pads every row to it.
        if ws.max_row is not None and ws.max_row - 1 > MAX_ROWS:
            raise ImportProblems(name, [RowProblem(1, f"the sheet has {ws.max_row - 1:,} rows below the header, more "
                                                      f"than the limit of {MAX_ROWS:,}: delete the empty rows at the "
                                                      "end, or split the file")])
        if ws.max_column is not None and ws.max_column > MAX_COLUMNS:
            raise ImportProblems(name, [RowProblem(1, f"the sheet has {ws.max_column:,} columns, more than the limit "
                                                      f"of {MAX_COLUMNS}: delete the empty columns at the right")])
        width = min(ws.max_column or MAX_COLUMNS, MAX_COLUMNS)
        shared: dict[str, str] = {}
        for r in ws.iter_rows(max_col=width, values_only=True):
            # Only text is shared: as dictionary keys 1, 1.0 and True are one value.
            yield [shared.setdefault(v, v) if v.__class__ is str and len(shared) < _SHARED else v for v in r]
    finally:
        wb.close()


MAX_LIST_FORMULA = 255  # characters Excel allows in a data validation list written out in its formula


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
        if len(stages) + 2 > MAX_LIST_FORMULA:
            # Excel refuses a written-out list longer than 255 characters (long stage ids): the
            # pickers read the stage ids from a hidden sheet instead.
            lists = wb.create_sheet("Stages")
            for i, sid in enumerate(matrix.stage_ids, start=1):
                lists.cell(i, 1, sid).data_type = "s"
            lists.sheet_state = "hidden"
            stages_formula = f"Stages!$A$1:$A${len(matrix.stage_ids)}"
        else:
            stages_formula = f'"{stages}"'
        for h in ("current_stage", "target_stage"):
            col = ws.cell(1, header.index(h) + 1).column_letter
            dv = DataValidation(type="list", formula1=stages_formula, allow_blank=True)
            dv.add(f"{col}2:{col}{max(n, 200)}")
            ws.add_data_validation(dv)
        pickers = [("confidence", '"low,medium,high"')]
        if "not_applicable" in header and (matrix.allow_not_applicable or any(
                e.allow_not_applicable for _, e in matrix.elements())):
            pickers.append(("not_applicable", '"yes"'))
        for h, formula in pickers:
            col = ws.cell(1, header.index(h) + 1).column_letter
            dv = DataValidation(type="list", formula1=formula, allow_blank=True)
            dv.add(f"{col}2:{col}{max(n, 200)}")
            ws.add_data_validation(dv)
    if guide:
        g = wb.create_sheet("Guide")
        for r in guide:
            g.append(r)
        g.column_dimensions["A"].width = 24
        g.column_dimensions["B"].width = 100
    wb.save(path)

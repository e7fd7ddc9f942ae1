"""Moving records in and out: whole-database backup and restore (JSON), ratings import and export
(CSV and Excel), and a blank template to fill in.

Backup reads the tables from the database itself, so tables added by later migrations are
included without changes here. Rows are ordered by primary key and timestamps written as ISO
8601 in UTC, so backing up, restoring into an empty database and backing up again gives the
same bytes.

Ratings files have one row per PCN, year and element. Importing checks every row first; a file
with any bad row changes nothing and every bad row is reported with its line number as a
spreadsheet shows it (the header is line 1). A row is applied as written: blank cells clear
the field. Rows with no rating values at all (no stages, confidence, evidence or note) are
skipped, so an untouched template imports as nothing.
"""
from __future__ import annotations

import base64
import csv
import difflib
import io
import json
from operator import itemgetter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime, LargeBinary, MetaData, Numeric, func, insert, select, text

from matrix import Matrix

from .store import (AGREED, InputError, LockedError, NotFoundError, RatingRow, Store, StoreError,
                    alembic_config, check_confidence, check_element, check_pcn_code, check_stage, check_text, check_year,
                    head_revision, reset_sequences)

BACKUP_FORMAT = "pcn-maturity-records-backup"
BACKUP_FORMAT_VERSION = 1
SKIP_TABLES = {"alembic_version"}

COLUMNS = ["pcn_code", "year", "matrix_id", "matrix_version", "element_id", "current_stage", "target_stage",
           "confidence", "evidence", "note"]
INFO_COLUMNS = ["pcn_name", "element_title"]  # written for people reading the file; ignored on import
REQUIRED = ("pcn_code", "year", "element_id")
VALUE_COLUMNS = ("current_stage", "target_stage", "confidence", "evidence", "note")
MAX_ROWS = 200_000


class RestoreError(StoreError):
    """A backup that cannot be restored here; nothing was written."""


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


@dataclass(frozen=True)
class ImportResult:
    file: str
    rows: int  # data rows read
    applied: int  # rows written
    skipped: int  # rows with no rating values
    unchanged: int  # rows that match what is stored already
    ratings_changed: int
    assessments_created: tuple[tuple[str, str], ...]  # (pcn code, year)

    def summary(self) -> str:
        made = f", created {len(self.assessments_created)} draft assessment(s)" if self.assessments_created else ""
        skipped = f", skipped {self.skipped} row(s) with nothing to rate" if self.skipped else ""
        same = f", {self.unchanged} row(s) already as stored" if self.unchanged else ""
        return (f"{self.file}: imported {self.applied} row(s), {self.ratings_changed} rating(s) changed"
                f"{made}{same}{skipped}")


# ---------------------------------------------------------------------------------------------
# Backup and restore

def _reflect(conn) -> list:
    meta = MetaData()
    meta.reflect(bind=conn)
    return [t for t in meta.sorted_tables if t.name not in SKIP_TABLES]


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _sort_key(pk_index: list[int] | None, width: int):
    if pk_index:  # primary keys are never NULL
        return itemgetter(*pk_index)

    def key(row):  # a table without a primary key: every column, NULLs first
        return tuple((0, v) if v is not None else (-1, 0) for v in row)
    return key


def _converted(t) -> bool:
    """Columns whose values need turning into JSON text and back (the rest go as they are)."""
    return isinstance(t, (DateTime, Date, Numeric, LargeBinary))


def _convert_rows(rows: list, cols: list, fn) -> list:
    which = [i for i, c in enumerate(cols) if _converted(c.type)]
    if not which:
        return rows
    for r in rows:
        for i in which:
            if r[i] is not None:
                r[i] = fn(cols[i], r[i])
    return rows


def backup(store: Store) -> dict:
    """Every table (but Alembic's own) as {"columns": [...], "rows": [[...], ...]}, in a stable order."""
    with store.engine.connect() as conn:
        tables = _reflect(conn)
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        out: dict[str, Any] = {}
        for t in tables:
            cols = list(t.columns)
            rows = [list(r) for r in conn.execute(select(*cols))]
            pk = [i for i, c in enumerate(cols) if c.primary_key]
            # Sorted here, not by the database: text collations differ between SQLite and PostgreSQL.
            rows.sort(key=_sort_key(pk, len(cols)))
            out[t.name] = {"columns": [c.name for c in cols],
                           "rows": _convert_rows(rows, cols, lambda _c, v: _to_json(v))}
    return {"format": BACKUP_FORMAT, "format_version": BACKUP_FORMAT_VERSION, "schema_revision": revision,
            "tables": out}


def dumps_backup(data: dict) -> str:
    """The backup as JSON text: one table row per line, so files diff and stream well."""
    dump = lambda v: json.dumps(v, ensure_ascii=False)  # noqa: E731
    parts = ["{\n"]
    for key in ("format", "format_version", "schema_revision"):
        parts.append(f" {dump(key)}: {dump(data[key])},\n")
    parts.append(' "tables": {')
    for ti, (name, table) in enumerate(data["tables"].items()):
        parts.append(("," if ti else "") + f"\n  {dump(name)}: {{\n   \"columns\": {dump(table['columns'])},\n   \"rows\": [")
        parts.append(",".join(f"\n    {dump(r)}" for r in table["rows"]))
        parts.append("\n   ]\n  }" if table["rows"] else "]\n  }")
    parts.append("\n }\n}\n")
    return "".join(parts)


def write_backup(store: Store, path: str | Path) -> dict:
    data = backup(store)
    Path(path).write_text(dumps_backup(data), encoding="utf-8")
    return data


def read_backup(path: str | Path) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RestoreError(f"{path}: file not found") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RestoreError(f"{path}: not a JSON backup ({exc})") from None
    return data


def _from_json(column, value: Any) -> Any:
    if value is None:
        return None
    t = column.type
    if isinstance(t, DateTime):
        v = datetime.fromisoformat(value)
        if not t.timezone and v.tzinfo is not None:
            v = v.astimezone(UTC).replace(tzinfo=None)
        return v
    if isinstance(t, Date):
        return date.fromisoformat(value)
    if isinstance(t, LargeBinary):
        return base64.b64decode(value)
    return value


def _known_revision(revision: Any) -> bool:
    from alembic.script import ScriptDirectory

    try:
        return isinstance(revision, str) and ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an unknown or malformed id
        return False


def restore(store: Store, data: dict) -> dict[str, int]:
    """Load a backup into an EMPTY database (one transaction). Returns rows restored per table.

    A backup made with an older schema is restored into that schema (the empty database is
    taken down to it first) and then upgraded with the migrations, as the live database was.
    """
    from alembic import command

    if not isinstance(data, dict) or data.get("format") != BACKUP_FORMAT:
        raise RestoreError("this is not a backup made by this tool (the 'format' field is missing or different)")
    if data.get("format_version") != BACKUP_FORMAT_VERSION:
        raise RestoreError(f"backup format version {data.get('format_version')} is not supported (expected {BACKUP_FORMAT_VERSION})")
    here, revision = head_revision(), data.get("schema_revision")
    if revision != here and not _known_revision(revision):
        raise RestoreError(f"the backup was made with database schema {revision!r}, which this version of the tool does "
                           f"not know (it uses {here}): restore it with the newer version that made it")
    tables_in = data.get("tables")
    if not isinstance(tables_in, dict):
        raise RestoreError("the backup has no 'tables'")
    counts: dict[str, int] = {}
    with store.transaction() as conn:
        tables = _reflect(conn)
        filled = {t.name: n for t in tables if (n := conn.execute(select(func.count()).select_from(t)).scalar())}
        if filled:
            what = ", ".join(f"{n:,} row(s) in {name}" for name, n in filled.items())
            raise RestoreError(f"the database is not empty ({what}). Restore only into an empty database, "
                               f"for example a new file: PCN_DATABASE_URL=sqlite:///path/to/new.db")
        if revision != here:
            try:
                command.downgrade(alembic_config(conn), revision)
            except Exception as exc:  # a migration without a way back
                raise RestoreError(f"cannot prepare an empty database at schema {revision}: {exc}") from None
            tables = _reflect(conn)
        by_name = {t.name: t for t in tables}
        unknown = sorted(set(tables_in) - set(by_name))
        if unknown:
            raise RestoreError(f"the backup has tables this database does not: {', '.join(unknown)}")
        for t in tables:
            table = tables_in.get(t.name)
            if not table:
                counts[t.name] = 0
                continue
            names = table.get("columns") or []
            missing = [n for n in names if n not in t.columns]
            if missing:
                raise RestoreError(f"table {t.name}: the backup has columns this database does not: {', '.join(missing)}")
            cols = [t.columns[n] for n in names]
            rows = table.get("rows") or []
            if any(len(r) != len(names) for r in rows):
                raise RestoreError(f"table {t.name}: a row does not have {len(names)} values")
            for start in range(0, len(rows), 20_000):
                part = _convert_rows([list(r) for r in rows[start:start + 20_000]], cols, _from_json)
                chunk = [dict(zip(names, r)) for r in part]
                try:
                    conn.execute(insert(t), chunk)
                except Exception as exc:  # constraint violations: a damaged or hand-edited backup
                    raise RestoreError(f"table {t.name}: rows could not be restored ({str(exc).splitlines()[0]})") from None
            counts[t.name] = len(rows)
        reset_sequences(conn)
        if revision != here:
            command.upgrade(alembic_config(conn), "head")
    return counts


# ---------------------------------------------------------------------------------------------
# Reading ratings files

def _cell(value: Any) -> tuple[str | None, str | None]:
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
        rows = _xlsx_rows(name, data)
    elif suffix in (".csv", ".txt"):
        rows = _csv_rows(data)
    else:
        raise ImportProblems(name, [RowProblem(1, f"'{suffix or name}' files are not supported: use .csv or .xlsx")])
    if not rows:
        raise ImportProblems(name, [RowProblem(1, "the file is empty: expected a header row naming the columns")])
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    body = [(i + 2, r) for i, r in enumerate(rows[1:]) if any(v not in (None, "") for v in r)]
    if len(body) > MAX_ROWS:
        raise ImportProblems(name, [RowProblem(1, f"too many rows ({len(body):,}; the limit is {MAX_ROWS:,})")])
    return header, body


def _csv_rows(data: bytes) -> list[list[Any]]:
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
    return [list(r) for r in csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)]


def _xlsx_rows(name: str, data: bytes) -> list[list[Any]]:
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


# ---------------------------------------------------------------------------------------------
# Import

@dataclass
class _Row:
    line: int
    pcn_code: str
    year: str
    matrix: Matrix
    element_id: str
    values: dict[str, Any]
    unchanged: bool = False


@dataclass
class _Plan:
    rows: list[_Row] = field(default_factory=list)
    skipped: int = 0
    unchanged: int = 0


def check_rows(store: Store, header: list[str], body: list[tuple[int, list[Any]]], file: str) -> _Plan:
    """Validate every row against the database and the matrices; raise ImportProblems listing all."""
    problems: list[RowProblem] = []
    names = [h.strip().lower().replace(" ", "_") for h in header]
    known = set(COLUMNS) | set(INFO_COLUMNS)
    for h in names:
        if h and h not in known:
            close = difflib.get_close_matches(h, COLUMNS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (columns are: {', '.join(COLUMNS)})"
            problems.append(RowProblem(1, f"unknown column '{h}'{hint}"))
    for col in REQUIRED:
        if col not in names:
            problems.append(RowProblem(1, f"missing column '{col}'"))
    dupes = sorted({h for h in names if h and names.count(h) > 1})
    if dupes:
        problems.append(RowProblem(1, f"column(s) named twice: {', '.join(dupes)}"))
    if problems:
        raise ImportProblems(file, problems)

    pcns = {p.code for p in store.pcns()}
    live: dict[tuple[str, str, str], Any] = {}
    for a in store.assessments():
        live[(a.pcn_code, a.year, a.matrix_id)] = a
    by_pcn_year: dict[tuple[str, str], list[Any]] = {}
    for a in live.values():
        by_pcn_year.setdefault((a.pcn_code, a.year), []).append(a)
    seen: dict[tuple[str, str, str, str], int] = {}
    plan = _Plan()
    cache: dict[int, dict] = {}

    def stored_ratings(assessment_id: int) -> dict:
        if assessment_id not in cache:
            cache[assessment_id] = store.ratings(assessment_id)
        return cache[assessment_id]

    for line, raw in body:
        cells: dict[str, str | None] = {}
        bad: list[str] = []
        for i, h in enumerate(names):
            if not h or h in INFO_COLUMNS:
                continue
            value, problem = _cell(raw[i] if i < len(raw) else None)
            if problem:
                bad.append(f"{h}: {problem}")
            cells[h] = value
        if bad:
            problems.extend(RowProblem(line, b) for b in bad)
            continue
        if all(cells.get(c) is None for c in VALUE_COLUMNS):
            plan.skipped += 1
            continue
        try:
            row = _check_row(store, line, cells, pcns, live, by_pcn_year, stored_ratings)
        except InputError as exc:
            problems.append(RowProblem(line, str(exc)))
            continue
        key = (row.pcn_code, row.year, row.matrix.id, row.element_id)
        if key in seen:
            problems.append(RowProblem(line, f"{row.pcn_code} {row.year} '{row.element_id}' is already given on line {seen[key]}"))
            continue
        seen[key] = line
        if row.unchanged:  # e.g. re-importing an export: fine even where the assessment is agreed
            plan.unchanged += 1
        else:
            plan.rows.append(row)
    if problems:
        raise ImportProblems(file, problems)
    return plan


def _check_row(store: Store, line: int, cells: dict, pcns: set[str], live: dict, by_pcn_year: dict,
               stored_ratings) -> _Row:
    for col in REQUIRED:
        if cells.get(col) is None:
            raise InputError(f"{col} is empty")
    pcn = check_pcn_code(cells["pcn_code"])
    if pcn not in pcns:
        raise NotFoundError(f"there is no PCN with code {pcn} (add it before importing its ratings)")
    year = check_year(cells["year"])
    matrix_id, version = cells.get("matrix_id"), cells.get("matrix_version")
    existing = None
    if matrix_id is None:
        if version is not None:
            raise InputError("matrix_version is given without matrix_id")
        found = by_pcn_year.get((pcn, year), [])
        if len(found) > 1:
            raise InputError(f"{pcn} has {year} assessments against several matrices: say which in matrix_id")
        existing = found[0] if found else None
        matrix = store.matrix(existing.matrix_id, existing.matrix_version) if existing else store.default_matrix()
    else:
        existing = live.get((pcn, year, matrix_id))
        if version is None:
            if existing is not None:
                version = existing.matrix_version
            else:
                versions = sorted(v for (i, v) in store.matrices() if i == matrix_id)
                if not versions:
                    raise NotFoundError(f"matrix '{matrix_id}' is not available")
                version = versions[-1]
        matrix = store.matrix(matrix_id, version)
    if existing is not None:
        if existing.matrix_version != matrix.version:
            raise InputError(f"the {year} assessment of {pcn} uses {matrix.id} version {existing.matrix_version}, "
                             f"not {matrix.version}")
    element = check_element(matrix, cells["element_id"])
    values = {
        "current_stage": check_stage(matrix, cells.get("current_stage"), "current stage"),
        "target_stage": check_stage(matrix, cells.get("target_stage"), "target stage"),
        "confidence": check_confidence(cells.get("confidence")),
        "evidence": check_text(cells.get("evidence"), "evidence"),
        "note": check_text(cells.get("note"), "note"),
    }
    unchanged = False
    if existing is not None:
        stored = stored_ratings(existing.id).get(element)
        unchanged = stored is not None and all(getattr(stored, k) == v for k, v in values.items())
        if existing.status == AGREED and not unchanged:
            raise InputError(f"the {year} assessment of {pcn} is agreed and locked, and this row would change "
                             f"'{element}': open a new draft from it in the app before importing changes")
    return _Row(line, pcn, year, matrix, element, values, unchanged)


def import_ratings(store: Store, path: str | Path, *, by: str, data: bytes | None = None,
                   name: str | None = None) -> ImportResult:
    """Check every row, then write them all in one transaction with audit rows naming the file.

    `data` lets the app pass an uploaded file's bytes; `name` is what messages and the audit
    trail call it.
    """
    name = name or Path(path).name
    header, body = read_rows(path, data)
    plan = check_rows(store, header, body, name)
    created: list[tuple[str, str]] = []
    changed = 0
    try:
        with store.batch(by=by, source=f"import {name}") as b:
            assessments: dict[tuple[str, str, str], int] = {}
            for row in plan.rows:
                key = (row.pcn_code, row.year, row.matrix.id)
                if key not in assessments:
                    found = b._live_assessment(*key)
                    if found is None:
                        found = b.create_assessment(row.pcn_code, row.year, row.matrix)
                        created.append((row.pcn_code, row.year))
                    assessments[key] = found.id
                before = b.s.get(RatingRow, (assessments[key], row.element_id))
                before_version = before.version if before is not None else 0
                r = b.save_rating(assessments[key], row.element_id, expected_version=None, **row.values)
                changed += r.version != before_version
    except (InputError, LockedError) as exc:
        # Something changed between the check and the write (someone agreed an assessment...).
        line = row.line if plan.rows else 1
        raise ImportProblems(name, [RowProblem(line, str(exc))]) from None
    return ImportResult(name, len(body), len(plan.rows), plan.skipped, plan.unchanged, changed, tuple(created))


# ---------------------------------------------------------------------------------------------
# Export and template

def export_rows(store: Store, *, ics_code: str | None = None, year: str | None = None) -> list[list[Any]]:
    """Rows (without header) for every live assessment's ratings, ordered by PCN, year, element."""
    years = [check_year(year)] if year is not None else store.years()
    out: list[list[Any]] = []
    matrices = store.matrices()
    for y in years:
        for rec in store.portfolio(y, ics_code=ics_code):
            a = rec.assessment
            m = matrices.get((a.matrix_id, a.matrix_version))
            order = {e: i for i, e in enumerate(m.element_ids())} if m else {}
            for eid in sorted(rec.ratings, key=lambda e: (order.get(e, len(order)), e)):
                r = rec.ratings[eid]
                title = m.element(eid).title if m and eid in order else ""
                out.append([a.pcn_code, a.year, a.matrix_id, a.matrix_version, eid, r.current_stage, r.target_stage,
                            r.confidence, r.evidence, r.note, rec.pcn.name, title])
    out.sort(key=lambda r: (r[0], r[1], r[2]))  # stable: element order kept within an assessment
    return out


def _write_table(path: str | Path, rows: Iterable[list[Any]], matrix: Matrix | None = None,
                 guide: list[list[str]] | None = None, header: list[str] | None = None) -> None:
    header = header or COLUMNS + INFO_COLUMNS
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        # utf-8 with BOM: Excel then opens accented names correctly.
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows([["" if v is None else v for v in r] for r in rows])
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
        ws.append(r)
        n += 1
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


def export_ratings(store: Store, path: str | Path, *, ics_code: str | None = None, year: str | None = None) -> int:
    """Write ratings to .csv or .xlsx (the import format). Returns the number of rows written."""
    rows = export_rows(store, ics_code=ics_code, year=year)
    _write_table(path, rows)
    return len(rows)


def write_template(store: Store, path: str | Path, *, matrix: Matrix | None = None, pcn_code: str | None = None,
                   year: str | None = None) -> int:
    """A file to fill in: one row per element of the matrix, stages and notes left blank.

    With `pcn_code` and `year` the rows are ready to import once rated. Returns rows written.
    """
    matrix = matrix or store.default_matrix()
    pcn = store.pcn(pcn_code) if pcn_code else None
    year = check_year(year) if year else None
    rows = [[pcn.code if pcn else None, year, matrix.id, matrix.version, e.id, None, None, None, None, None,
             pcn.name if pcn else None, e.title] for _, e in matrix.elements()]
    guide = [
        ["Column", "What to write"],
        ["pcn_code", "The PCN's ODS code: U followed by five digits, e.g. U12345"],
        ["year", "The NHS financial year, written like 2024/25"],
        ["matrix_id, matrix_version", f"Leave as they are ({matrix.id}, {matrix.version})"],
        ["element_id", "Leave as it is: it says which element the row rates"],
        ["current_stage, target_stage", "One of: " + ", ".join(f"{s.id} ({s.label})" for s in matrix.stages)],
        ["confidence", "low, medium or high (or leave empty)"],
        ["evidence, note", "Plain text"],
        ["pcn_name, element_title", "For reading only; ignored on import"],
        ["", "Rows with no stage, confidence, evidence or note are skipped. "
             "A file with any bad row imports nothing and lists every problem by line."],
    ]
    _write_table(path, rows, matrix, guide)
    return len(rows)


__all__ = [
    "BACKUP_FORMAT", "COLUMNS", "INFO_COLUMNS", "ImportProblems", "ImportResult", "RestoreError", "RowProblem",
    "backup", "check_rows", "dumps_backup", "export_ratings", "export_rows", "import_ratings", "read_backup",
    "read_rows", "restore", "write_backup", "write_template",
]

"""Moving records in and out: whole-database backup and restore (JSON), ratings import and export
(CSV and Excel), and a blank template to fill in.

Backup and restore themselves read and write the tables (assessments.records.backup); here is
the backup file's JSON layout, one table row per line.

Ratings files have one row per PCN, year and element. Importing checks every row first; a file
with any bad row changes nothing and every bad row is reported with its line number as a
spreadsheet shows it (the header is line 1). A row is applied as written: blank cells clear
the field. Rows with no rating values at all (no stages, confidence, evidence, note or "not
applicable") are skipped, so an untouched template imports as nothing.

"Not applicable" is the column `not_applicable` (yes or blank; true/false, y/n and 1/0 are read
too), or "not applicable" / "n/a" written as the current stage. Only elements whose matrix allows
it may be not applicable, and such a row names no stage. A file without the column leaves what is
stored as it is, unless the row gives a stage (then the element applies).
"""
from __future__ import annotations

import difflib
import gc
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matrix import Matrix

from . import ratings
from .model import AGREED, DRAFT, RATING_FIELDS, SUPERSEDED, rating_audit_value
from .organisations import pcn as get_pcn
from .organisations import pcns as all_pcns
from . import guard
from .years import check_startable
from .access import ADMINISTER
from .records import backup as dump
from .records.backup import BACKUP_FORMAT, RestoreError
from .records.tables import AssessmentRow, RatingRow
from .sheets import MAX_PROBLEMS, ImportProblems, RowProblem, cell, read_rows, write_table
from .values import (InputError, LockedError, NotFoundError, check_confidence, check_element, check_pcn_code,
                     check_stage, check_text, check_year)

COLUMNS = ["pcn_code", "year", "matrix_id", "matrix_version", "element_id", "current_stage", "target_stage",
           "confidence", "evidence", "note", "not_applicable"]
INFO_COLUMNS = ["pcn_name", "element_title"]  # written for people reading the file; ignored on import
REQUIRED = ("pcn_code", "year", "element_id")
VALUE_COLUMNS = ("current_stage", "target_stage", "confidence", "evidence", "note", "not_applicable")
NOT_APPLICABLE_YES = "yes"  # how an export writes "not applicable" (blank when the element applies)
_YES = {"yes", "y", "true", "1", "n/a", "na", "not applicable"}
_NO = {"no", "n", "false", "0"}
_NA_STAGE = {"n/a", "na", "not applicable"}


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

def backup(store) -> dict:
    """Every table as JSON-ready data (see records.backup). Administrators only: it holds every
    PCN's ratings, evidence, notes and change log."""
    guard.check(store, ADMINISTER)
    return dump.backup(store)


def restore(store, data: dict) -> dict[str, int]:
    """Load a backup into an empty database (see records.backup). Administrators only. Rows that
    name a matrix, stage or element not available here are refused, so no page meets them."""
    guard.check(store, ADMINISTER)
    known = {key: (m.stage_ids, m.element_ids()) for key, m in store.matrices().items()}
    return dump.restore(store, data, known=known)


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


def write_backup(store, path: str | Path) -> dict:
    data = backup(store)
    Path(path).write_text(dumps_backup(data), encoding="utf-8")
    return data


def read_backup(path: str | Path) -> dict:
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise RestoreError(f"{path}: file not found") from None
    return parse_backup(raw, str(path))


# Read, a backup takes about five times its size in memory (demo and national backups alike). Any
# file that would take over ten times is not one: refused before reading, so that a file of
# millions of tiny lists cannot take the server's memory (or seconds of its time).
MEMORY_PER_BYTE = 10


def parse_backup(raw: bytes, name: str) -> Any:
    """The JSON of a backup file, or RestoreError saying plainly why it is not one."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RestoreError(f"{name} is not a backup: it is not UTF-8 text (byte {exc.start + 1:,} cannot be read). "
                           f"Backups made by this tool are UTF-8 JSON.") from None
    # What each list or object, text value and other value costs once read (CPython's sizes).
    need = (56 * (raw.count(b"[") + raw.count(b"{")) + 50 * (raw.count(b'"') // 2) + 24 * raw.count(b",")
            + len(raw))
    if need > MEMORY_PER_BYTE * len(raw) + 10_000_000:
        raise RestoreError(f"{name} is not a backup: it holds far more separate values than a backup of its size "
                           f"(reading it would take about {need / 1e6:,.0f} MB)")
    gc_was_on = gc.isenabled()
    gc.disable()  # JSON makes no reference cycles, and collecting during a big read costs seconds
    try:
        return json.loads(text)
    except RecursionError:
        raise RestoreError(f"{name} is not a backup: its JSON is nested too deeply to read") from None
    except json.JSONDecodeError as exc:
        raise RestoreError(f"{name} is not a JSON backup: {exc.msg} at line {exc.lineno:,}, column {exc.colno:,}") from None
    except ValueError as exc:  # a number too long to read, for one
        raise RestoreError(f"{name} is not a JSON backup: {exc}") from None
    finally:
        if gc_was_on:
            gc.enable()


def table_sizes(data: Any) -> list[tuple[str, int | None]]:
    """(table, rows) of what looks like a backup, for a preview before restoring; None where a
    table is not in a backup's shape (restore says why)."""
    tables = data.get("tables") if isinstance(data, dict) else None
    if not isinstance(tables, dict):
        return []
    out: list[tuple[str, int | None]] = []
    for name, table in tables.items():
        rows = table.get("rows") if isinstance(table, dict) else table
        out.append((str(name), len(rows) if isinstance(rows, list) and isinstance(table, dict)
                    else 0 if rows is None else None))
    return out


# ---------------------------------------------------------------------------------------------
# Reading ratings files

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


def check_rows(store, header: list[str], body: list[tuple[int, list[Any]]], file: str) -> _Plan:
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

    pcns = {p.code for p in all_pcns(store)}
    live: dict[tuple[str, str, str], Any] = {}
    for a in ratings.assessments(store):
        live[(a.pcn_code, a.year, a.matrix_id)] = a
    by_pcn_year: dict[tuple[str, str], list[Any]] = {}
    for a in live.values():
        by_pcn_year.setdefault((a.pcn_code, a.year), []).append(a)
    seen: dict[tuple[str, str, str, str], int] = {}
    plan = _Plan()
    # What is stored, read in a few queries for every assessment of the file's years (not one
    # query per assessment): a national file is mostly existing assessments.
    year_at = names.index("year")
    years_given = {str(raw[year_at]).strip() for _, raw in body if year_at < len(raw) and raw[year_at] is not None}
    cache = _stored(store, [a.id for a in live.values() if a.year in years_given])

    store = _Memo(store)

    def stored_ratings(assessment_id: int) -> dict:
        if assessment_id not in cache:
            cache.update(_stored(store, [assessment_id]))
        return cache[assessment_id]

    for line, raw in body:
        if len(problems) >= MAX_PROBLEMS:
            raise ImportProblems(file, problems, stopped=True)
        cells: dict[str, str | None] = {}
        bad: list[str] = []
        for i, h in enumerate(names):
            if not h or h in INFO_COLUMNS:
                continue
            value, problem = cell(raw[i] if i < len(raw) else None)
            if problem:
                bad.append(f"{h}: {problem}")
            cells[h] = value
        if bad:
            problems.extend(RowProblem(line, b) for b in bad)
            continue
        if all(cells.get(c) is None or (c == "not_applicable" and str(cells[c]).strip().lower() in _NO)
               for c in VALUE_COLUMNS):
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


class _Memo:
    """The store with its matrix look-ups remembered for one file: a row checks them each."""

    def __init__(self, store):
        self._store, self._found = store, {}

    def __getattr__(self, name):
        return getattr(self._store, name)

    def _once(self, *key):
        if key not in self._found:
            self._found[key] = getattr(self._store, key[0])(*key[1:])
        return self._found[key]

    def matrix(self, matrix_id: str, version: str) -> Matrix:
        return self._once("matrix", matrix_id, version)

    def default_matrix(self) -> Matrix:
        return self._once("default_matrix")

    def matrices(self) -> dict:
        return self._once("matrices")


def _stored(store, assessment_ids: list[int]) -> dict[int, dict[str, dict[str, Any]]]:
    """{assessment id: {element: {field: value}}} of the stored ratings (import is for
    administrators, who see every assessment)."""
    out: dict[int, dict[str, dict[str, Any]]] = {i: {} for i in assessment_ids}
    with store.read() as r:
        for aid, element, *values in r.values(RatingRow, ["assessment_id", "element_id", *RATING_FIELDS],
                                              assessment_id__in=assessment_ids):
            out[aid][element] = dict(zip(RATING_FIELDS, values))
    return out


def _check_row(store, line: int, cells: dict, pcns: set[str], live: dict, by_pcn_year: dict,
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
    else:
        check_startable(year)  # a new assessment: only in a year that can be started
    element = check_element(matrix, cells["element_id"])
    current = cells.get("current_stage")
    na_stage = current is not None and str(current).strip().lower() in _NA_STAGE
    values = {
        "current_stage": None if na_stage else check_stage(matrix, current, "current stage"),
        "target_stage": check_stage(matrix, cells.get("target_stage"), "target stage"),
        "confidence": check_confidence(cells.get("confidence")),
        "evidence": check_text(cells.get("evidence"), "evidence"),
        "note": check_text(cells.get("note"), "note"),
    }
    na = _not_applicable(cells, na_stage)
    if na is None and (values["current_stage"] or values["target_stage"]):
        na = False  # a stage given: the element applies
    if na is not None:
        values["not_applicable"] = ratings.check_not_applicable(matrix, element, na)
        if na and (values["current_stage"] or values["target_stage"]):
            raise InputError(f"'{element}' is marked not applicable, so it takes no stage: leave current_stage and "
                             f"target_stage empty")
    unchanged = False
    if existing is not None:
        stored = stored_ratings(existing.id).get(element)
        unchanged = stored is not None and all(stored[k] == v for k, v in values.items())
        if existing.status == AGREED and not unchanged:
            raise InputError(f"the {year} assessment of {pcn} is agreed and locked, and this row would change "
                             f"'{element}': open a new draft from it in the app before importing changes")
    return _Row(line, pcn, year, matrix, element, values, unchanged)


def _not_applicable(cells: dict, na_stage: bool) -> bool | None:
    """The row's "not applicable": True, False, or None when the file does not say (no column)."""
    if "not_applicable" not in cells:
        return True if na_stage else None
    raw = cells["not_applicable"]
    text = "" if raw is None else str(raw).strip().lower()
    if text in _YES:
        return True
    if text in _NO or not text:
        return na_stage
    raise InputError(f"not_applicable: {str(raw)!r} is not yes or no (write yes, or leave it empty)")


def import_ratings(store, path: str | Path, *, by: str | None = None, data: bytes | None = None,
                   name: str | None = None) -> ImportResult:
    """Check every row, then write them all in one transaction with audit rows naming the file.

    `data` lets the app pass an uploaded file's bytes; `name` is what messages and the audit
    trail call it.
    """
    guard.check(store, ADMINISTER)
    name = name or Path(path).name
    header, body = read_rows(path, data)
    plan = check_rows(store, header, body, name)
    changed, created = _write(store, plan, by, name)
    return ImportResult(name, len(body), len(plan.rows), plan.skipped, plan.unchanged, changed, tuple(created))


def _write(store, plan: _Plan, by: str | None, name: str) -> tuple[int, list[tuple[str, str]]]:
    """Write the checked rows in one transaction, set-based: the stored state read in a few
    queries (locked, so nobody changes it under the import), then inserts, versioned updates
    and one audit row per changed field, a statement per few thousand rows. The rules are
    save_rating's: drafts only, the version of every updated rating moves, who and when are
    stamped, the file's name is the audit rows' source."""
    if not plan.rows:
        return 0, []
    line = plan.rows[0].line
    first: dict[tuple[str, str, str], _Row] = {}
    for row in plan.rows:
        first.setdefault((row.pcn_code, row.year, row.matrix.id), row)
    try:
        with store.batch(by=by, source=f"import {name}") as b:
            guard.check(b, ADMINISTER)
            live = {(a.pcn_code, a.year, a.matrix_id): a for a in b.rows(
                AssessmentRow, pcn_code__in=sorted({k[0] for k in first}), year__in=sorted({k[1] for k in first}),
                status__ne=SUPERSEDED, lock="share")}
            ids: dict[tuple[str, str, str], int] = {}
            new: list[tuple[str, str, str]] = []
            for key, row in first.items():
                line, a = row.line, live.get(key)
                if a is None:
                    new.append(key)
                    continue
                if a.matrix_version != row.matrix.version:
                    raise InputError(f"the {a.year} assessment of {a.pcn_code} uses {a.matrix_id} version "
                                     f"{a.matrix_version}, not {row.matrix.version}")
                ratings.check_draft(a)  # agreed or submitted since the check: LockedError
                ids[key] = a.id
            line = first[new[0]].line if new else line
            made = b.insert_many(AssessmentRow, [
                {"pcn_code": k[0], "year": k[1], "matrix_id": k[2], "matrix_version": first[k].matrix.version,
                 "status": DRAFT, "revision_of": None, "created_by": b.by, "created_at": b.at, "updated_by": b.by,
                 "updated_at": b.at, "version": 1} for k in new], returning=("id",),
                duplicate="someone created one of these assessments while the file was importing: import it again")
            audits: list[tuple[str, str, dict]] = []
            for k, (aid,) in zip(new, made):
                ids[k] = aid
                values = {"pcn_code": k[0], "year": k[1], "matrix_id": k[2], "matrix_version": first[k].matrix.version,
                          "status": DRAFT, "revision_of": None}
                audits.append(("assessment", str(aid), {f: (None, values[f]) for f in ratings.ASSESSMENT_AUDIT_FIELDS}))

            stored = {(aid, element): (version, dict(zip(RATING_FIELDS, values)))
                      for aid, element, version, *values in b.values(
                          RatingRow, ["assessment_id", "element_id", "version", *RATING_FIELDS],
                          assessment_id__in=sorted(ids[k] for k in ids.keys() - set(new)), lock="update")}
            inserts, updates, lines = [], [], {}
            for row in plan.rows:
                aid = ids[(row.pcn_code, row.year, row.matrix.id)]
                lines[(aid, row.element_id)] = row.line
                before = stored.get((aid, row.element_id))
                if before is None:
                    values = {f: row.values.get(f) for f in RATING_FIELDS}
                    values["not_applicable"] = bool(values["not_applicable"])
                    inserts.append({"assessment_id": aid, "element_id": row.element_id, "updated_by": b.by,
                                    "updated_at": b.at, "version": 1, **values})
                    audits.append(("rating", f"{aid}/{row.element_id}",
                                   {f: (None, rating_audit_value(f, v)) for f, v in values.items()}))
                    continue
                version, old = before
                changes = {k: (old[k], v) for k, v in row.values.items() if old[k] != v}
                if changes:
                    updates.append({"assessment_id": aid, "element_id": row.element_id, "version": version,
                                    **{k: v for k, (_, v) in changes.items()}})
                    audits.append(("rating", f"{aid}/{row.element_id}",
                                   {k: (rating_audit_value(k, o), rating_audit_value(k, v))
                                    for k, (o, v) in changes.items()}))
            line = plan.rows[0].line
            b.insert_many(RatingRow, inserts, duplicate="someone saved one of these ratings while the file was "
                                                        "importing: import it again")

            def conflict(r) -> ImportProblems:
                return ImportProblems(name, [RowProblem(lines[(r["assessment_id"], r["element_id"])], (
                    f"someone saved the rating of '{r['element_id']}' while the file was importing; nothing was "
                    f"imported: import it again"))])

            b.update_many(RatingRow, updates, conflict=conflict)
            b.audit_many(audits)
    except ImportProblems:
        raise
    except (InputError, LockedError) as exc:
        # Something changed between the check and the write (someone agreed an assessment...).
        raise ImportProblems(name, [RowProblem(line, str(exc))]) from None
    return len(inserts) + len(updates), [(k[0], k[1]) for k in new]


# ---------------------------------------------------------------------------------------------
# Export and template

def export_rows(store, *, ics_code: str | None = None, year: str | None = None) -> list[list[Any]]:
    """Rows (without header) for every live assessment's ratings, ordered by PCN, year, element."""
    guard.check(store, ADMINISTER)
    years = [check_year(year)] if year is not None else ratings.years(store)
    out: list[list[Any]] = []
    matrices = store.matrices()
    for y in years:
        for rec in ratings.portfolio(store, y, ics_code=ics_code):
            a = rec.assessment
            m = matrices.get((a.matrix_id, a.matrix_version))
            order = {e: i for i, e in enumerate(m.element_ids())} if m else {}
            for eid in sorted(rec.ratings, key=lambda e: (order.get(e, len(order)), e)):
                r = rec.ratings[eid]
                title = m.element(eid).title if m and eid in order else ""
                out.append([a.pcn_code, a.year, a.matrix_id, a.matrix_version, eid, r.current_stage, r.target_stage,
                            r.confidence, r.evidence, r.note, NOT_APPLICABLE_YES if r.not_applicable else None,
                            rec.pcn.name, title])
    out.sort(key=lambda r: (r[0], r[1], r[2]))  # stable: element order kept within an assessment
    return out


def export_ratings(store, path: str | Path, *, ics_code: str | None = None, year: str | None = None) -> int:
    """Write ratings to .csv or .xlsx (the import format). Returns the number of rows written."""
    rows = export_rows(store, ics_code=ics_code, year=year)
    write_table(path, rows, COLUMNS + INFO_COLUMNS)
    return len(rows)


def write_template(store, path: str | Path, *, matrix: Matrix | None = None, pcn_code: str | None = None,
                   year: str | None = None) -> int:
    """A file to fill in: one row per element of the matrix, stages and notes left blank.

    With `pcn_code` and `year` the rows are ready to import once rated. Returns rows written.
    """
    matrix = matrix or store.default_matrix()
    pcn = get_pcn(store, pcn_code) if pcn_code else None
    year = check_year(year) if year else None
    rows = [[pcn.code if pcn else None, year, matrix.id, matrix.version, e.id, None, None, None, None, None, None,
             pcn.name if pcn else None, e.title] for _, e in matrix.elements()]
    allowed = [e for _, e in matrix.elements() if matrix.allows_not_applicable(e.id)]
    if not allowed:
        na_rule = "Leave empty: no element of this matrix may be rated not applicable"
    elif len(allowed) == len(rows):
        na_rule = "yes when the element does not apply to the PCN (then leave the stages empty); otherwise empty"
    else:
        na_rule = ("yes when the element does not apply to the PCN (then leave the stages empty); only for: "
                   + ", ".join(e.id for e in allowed))
    guide = [
        ["Column", "What to write"],
        ["pcn_code", "The PCN's ODS code: U followed by five digits, e.g. U12345"],
        ["year", "The NHS financial year, written like 2024/25"],
        ["matrix_id, matrix_version", f"Leave as they are ({matrix.id}, {matrix.version})"],
        ["element_id", "Leave as it is: it says which element the row rates"],
        ["current_stage, target_stage", "One of: " + ", ".join(f"{s.id} ({s.label})" for s in matrix.stages)],
        ["confidence", "low, medium or high (or leave empty)"],
        ["evidence, note", "Plain text"],
        ["not_applicable", na_rule],
        ["pcn_name, element_title", "For reading only; ignored on import"],
        ["", "Rows with no stage, confidence, evidence or note are skipped. "
             "A file with any bad row imports nothing and lists every problem by line."],
    ]
    write_table(path, rows, COLUMNS + INFO_COLUMNS, matrix, guide)
    return len(rows)


__all__ = [
    "BACKUP_FORMAT", "COLUMNS", "INFO_COLUMNS", "ImportProblems", "ImportResult", "RestoreError", "RowProblem",
    "backup", "check_rows", "dumps_backup", "export_ratings", "export_rows", "import_ratings", "parse_backup",
    "read_backup", "read_rows", "restore", "table_sizes", "write_backup", "write_template",
]

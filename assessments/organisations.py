"""ICSs and PCNs: the service functions that read and change them, and the spreadsheet import
that is how a real ICS loads its own networks.

Every change is audited (entities "ics" and "pcn"); each row carries a version, and a save
against a stale one raises ConflictError naming both values.

The spreadsheet has one row per PCN: ics_code, ics_name, pcn_code, pcn_name, list_size, rural, practices (member
practices separated by ';'), and optionally ics_region. As with ratings, every row is checked
first and a file with any bad row changes nothing. New ICSs and PCNs are added; existing ones
are updated where the file differs, each change audited with the file's name as its source.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matrix import Matrix

from . import guard, matrix_choice
from .access import ADMINISTER, AccessDenied, denied
from .model import ICS, KEEP, PCN
from .records import queries
from .records.tables import IcsRow, PcnRow
from .sheets import MAX_PROBLEMS, ImportProblems, RowProblem, cell, read_rows, write_table
from .values import (DuplicateError, InputError, NotFoundError, check_ics_code, check_list_size, check_name,
                     check_pcn_code, check_practices, check_text)

COLUMNS = ["ics_code", "ics_name", "ics_region", "pcn_code", "pcn_name", "list_size", "rural", "practices"]
REQUIRED = ("ics_code", "ics_name", "pcn_code", "pcn_name", "list_size")
_YES = {"yes", "y", "true", "1", "rural"}
_NO = {"no", "n", "false", "0", "urban", ""}


# ---------------------------------------------------------------------------------------------
# Reads

# Everyone with a role sees the organisations in their scope: a PCN's people their PCN and its
# ICS, an ICS's facilitators and commissioners that ICS and its PCNs.

def _denied(store, what: str) -> AccessDenied:
    return denied(guard.principal_of(store), f"see {what}")


def ics(store, code: str) -> ICS:
    with store.read() as r:
        row = r.get(IcsRow, check_ics_code(code))
        if row is None:
            raise NotFoundError(f"there is no ICS with code {code}")
        found = queries.as_ics(row)
        members = [p.code for p in queries.pcns(r, found.code)] if not guard.principal_of(store).is_admin else []
    if not guard.Visibility(store).sees_ics(found.code, members):
        raise _denied(store, f"ICS {found.code}")
    return found


def list_ics(store) -> list[ICS]:
    with store.read() as r:
        found = queries.list_ics(r)
        v = guard.Visibility(store)
        if v.admin:
            return found
        by_ics: dict[str, list[str]] = {}
        for p in queries.pcns(r):
            by_ics.setdefault(p.ics_code, []).append(p.code)
    return [i for i in found if v.sees_ics(i.code, by_ics.get(i.code, []))]


def pcn(store, code: str) -> PCN:
    with store.read() as r:
        row = r.get(PcnRow, check_pcn_code(code))
        if row is None:
            raise NotFoundError(f"there is no PCN with code {code}")
        found = queries.as_pcn(row)
    if not guard.Visibility(store).sees_pcn(found.code, found.ics_code):
        raise _denied(store, f"PCN {found.code}")
    return found


def pcns(store, ics_code: str | None = None) -> list[PCN]:
    """PCNs by code, of one ICS or all of England, that the principal may see."""
    if ics_code is not None:
        ics_code = ics(store, ics_code).code
    with store.read() as r:
        found = queries.pcns(r, ics_code)
    v = guard.Visibility(store)
    return found if v.admin else [p for p in found if v.sees_pcn(p.code, p.ics_code)]


# ---------------------------------------------------------------------------------------------
# The ICS's default matrix: what its new years and workshops start on (an administrator sets it).
# Only the matrix id is kept; its newest loaded version is used, as for the national matrix.

def default_matrix_id(store, ics_code: str) -> str | None:
    """The matrix id the ICS has chosen, or None (the national matrix). Anyone who sees the ICS sees it."""
    found = ics(store, ics_code)
    with store.read() as r:
        return r.get(IcsRow, found.code).default_matrix_id


def default_matrix_ids(store) -> dict[str, str | None]:
    """Every ICS the principal sees -> its chosen matrix id (None: the national matrix), in two reads."""
    seen = {i.code for i in list_ics(store)}
    with store.read() as r:
        return {code: chosen for code, chosen in r.values(IcsRow, ["code", "default_matrix_id"]) if code in seen}


def default_matrix(store, ics_code: str | None) -> Matrix:
    """The matrix an ICS's new years and workshops start on: the newest loaded version of the ICS's
    choice, else (none chosen, or its file is gone) the national matrix."""
    chosen = default_matrix_id(store, ics_code) if ics_code else None
    loaded = getattr(store, "store", store)  # a unit of work reads the catalog of its store
    return matrix_choice.newest(loaded, chosen) or loaded.default_matrix()


def set_default_matrix(store, ics_code: str, matrix_id: str | None, *, by: str | None = None,
                       expected_version: int, source: str | None = None) -> ICS:
    """Choose the ICS's default matrix (a loaded matrix id), or None for the national matrix."""
    guard.check(store, ADMINISTER)
    matrix_id = check_text(matrix_id, "matrix id", 200)
    if matrix_id is not None:
        matrix_id = matrix_choice.find_matrix(store.store, matrix_id).id
    with store.batch(by=by, source=source) as uow:
        guard.check(uow, ADMINISTER)
        row = _row(uow, IcsRow, check_ics_code(ics_code), "ICS")
        return queries.as_ics(_update(uow, row, "ics", f"ICS {row.code}", {"default_matrix_id": matrix_id},
                                      expected_version))


# ---------------------------------------------------------------------------------------------
# Writes

def _row(uow, table, code: str, what: str):
    row = uow.get(table, code)
    if row is None:
        raise NotFoundError(f"there is no {what} with code {code}")
    return row


def _update(uow, row, entity: str, what: str, new: dict, expected: int):
    key = row.code
    if row.version != expected:
        raise uow.conflict(what, row, new, expected, new.keys(), entity, key)
    changes = {k: (getattr(row, k), v) for k, v in new.items() if getattr(row, k) != v}
    if not changes:
        return row
    uow.update(row, {k: v for k, (_, v) in changes.items()}, conflict=lambda: uow.conflict(
        what, uow.get(type(row), key), new, expected, new.keys(), entity, key))
    uow.audit(entity, key, changes)
    return row


def add_ics(store, code: str, name: str, *, region: str | None = None, by: str | None = None,
            source: str | None = None) -> ICS:
    code = check_ics_code(code)
    with store.batch(by=by, source=source) as uow:
        guard.check(uow, ADMINISTER)
        if uow.get(IcsRow, code) is not None:
            raise DuplicateError(f"ICS {code} already exists")
        row = uow.add(IcsRow(code=code, name=check_name(name, "ICS name"), region=check_text(region, "region", 100)),
                      duplicate=f"ICS {code} already exists (someone added it a moment ago)")
        uow.audit("ics", code, {"name": (None, row.name), "region": (None, row.region)})
        return queries.as_ics(row)


def update_ics(store, code: str, *, by: str | None = None, expected_version: int, source: str | None = None,
               name: Any = KEEP, region: Any = KEEP) -> ICS:
    new: dict[str, Any] = {}
    if name is not KEEP:
        new["name"] = check_name(name, "ICS name")
    if region is not KEEP:
        new["region"] = check_text(region, "region", 100)
    with store.batch(by=by, source=source) as uow:
        guard.check(uow, ADMINISTER)
        row = _row(uow, IcsRow, check_ics_code(code), "ICS")
        return queries.as_ics(_update(uow, row, "ics", f"ICS {row.code}", new, expected_version))


PCN_FIELDS = ("name", "ics_code", "list_size", "rural", "practices")


def add_pcn(store, code: str, name: str, *, ics_code: str, list_size: int, rural: bool = False,
            practices: Any = (), by: str | None = None, source: str | None = None) -> PCN:
    code = check_pcn_code(code)
    with store.batch(by=by, source=source) as uow:
        guard.check(uow, ADMINISTER)
        if uow.get(PcnRow, code) is not None:
            raise DuplicateError(f"PCN {code} already exists")
        ics_code = _row(uow, IcsRow, check_ics_code(ics_code), "ICS").code
        row = uow.add(PcnRow(code=code, name=check_name(name, "PCN name"), ics_code=ics_code,
                             list_size=check_list_size(list_size), rural=bool(rural),
                             practices=check_practices(practices)),
                      duplicate=f"PCN {code} already exists (someone added it a moment ago)")
        uow.audit("pcn", code, {f: (None, getattr(row, f)) for f in PCN_FIELDS})
        return queries.as_pcn(row)


def update_pcn(store, code: str, *, by: str | None = None, expected_version: int, source: str | None = None,
               name: Any = KEEP, ics_code: Any = KEEP, list_size: Any = KEEP, rural: Any = KEEP,
               practices: Any = KEEP) -> PCN:
    with store.batch(by=by, source=source) as uow:
        guard.check(uow, ADMINISTER)
        row = _row(uow, PcnRow, check_pcn_code(code), "PCN")
        new: dict[str, Any] = {}
        if name is not KEEP:
            new["name"] = check_name(name, "PCN name")
        if ics_code is not KEEP:
            new["ics_code"] = _row(uow, IcsRow, check_ics_code(ics_code), "ICS").code
        if list_size is not KEEP:
            new["list_size"] = check_list_size(list_size)
        if rural is not KEEP:
            new["rural"] = bool(rural)
        if practices is not KEEP:
            new["practices"] = check_practices(practices)
        return queries.as_pcn(_update(uow, row, "pcn", f"PCN {row.code}", new, expected_version))


# ---------------------------------------------------------------------------------------------
# The spreadsheet


@dataclass(frozen=True)
class OrganisationsResult:
    file: str
    ics_added: int
    ics_updated: int
    pcns_added: int
    pcns_updated: int
    unchanged: int

    def summary(self) -> str:
        return (f"{self.file}: {self.ics_added} ICS added, {self.ics_updated} updated; {self.pcns_added} PCN(s) added, "
                f"{self.pcns_updated} updated, {self.unchanged} already as stored")


def _rural(value: str | None) -> bool:
    v = (value or "").strip().lower()
    if v in _YES:
        return True
    if v in _NO:
        return False
    raise InputError(f"rural '{value}' should be yes or no")


def _check(header: list[str], body: list[tuple[int, list[Any]]], file: str) -> tuple[dict, list[dict]]:
    names = [h.strip().lower().replace(" ", "_") for h in header]
    problems = []
    for h in names:
        if h and h not in COLUMNS:
            close = difflib.get_close_matches(h, COLUMNS, n=1)
            problems.append(RowProblem(1, f"unknown column '{h}'" + (f" (did you mean '{close[0]}'?)" if close else "")))
    problems += [RowProblem(1, f"missing column '{c}'") for c in REQUIRED if c not in names]
    if problems:
        raise ImportProblems(file, problems)
    ics: dict[str, dict] = {}
    pcns: list[dict] = []
    seen: dict[str, int] = {}
    for line, raw in body:
        if len(problems) >= MAX_PROBLEMS:
            raise ImportProblems(file, problems, stopped=True)
        cells: dict[str, Any] = {}
        for i, h in enumerate(names):
            if h:
                value, problem = cell(raw[i] if i < len(raw) else None)
                if problem:
                    problems.append(RowProblem(line, f"{h}: {problem}"))
                cells[h] = value
        try:
            code = check_ics_code(cells.get("ics_code"))
            ics_name = check_name(cells.get("ics_name"), "ICS name")
            region = check_text(cells.get("ics_region"), "region", 100)
            if code in ics and (ics[code]["name"], ics[code]["region"]) != (ics_name, region):
                raise InputError(f"ICS {code} has a different name or region on line {ics[code]['line']}")
            ics.setdefault(code, {"name": ics_name, "region": region, "line": line})
            pcn = check_pcn_code(cells.get("pcn_code"))
            if pcn in seen:
                raise InputError(f"PCN {pcn} is already given on line {seen[pcn]}")
            seen[pcn] = line
            practices = [p.strip() for p in (cells.get("practices") or "").split(";") if p.strip()]
            pcns.append({"line": line, "code": pcn, "name": check_name(cells.get("pcn_name"), "PCN name"),
                         "ics_code": code, "list_size": check_list_size(cells.get("list_size")),
                         "rural": _rural(cells.get("rural")), "practices": check_practices(practices)})
        except InputError as exc:
            problems.append(RowProblem(line, str(exc)))
    if problems:
        raise ImportProblems(file, problems)
    return ics, pcns


def import_organisations(store, path: str | Path, *, by: str | None = None, data: bytes | None = None,
                         name: str | None = None) -> OrganisationsResult:
    guard.check(store, ADMINISTER)
    name = name or Path(path).name
    header, body = read_rows(path, data)
    given_ics, given_pcns = _check(header, body, name)
    counts = {"ics_added": 0, "ics_updated": 0, "pcns_added": 0, "pcns_updated": 0, "unchanged": 0}
    line = 1
    try:
        with store.batch(by=by, source=f"import {name}") as b:
            # Set-based, as add_ics/add_pcn/update_pcn would do row by row: what is stored read in
            # two queries (locked), then inserts, versioned updates and audit rows in a few statements.
            guard.check(b, ADMINISTER)
            ics_cols, pcn_cols = ["name", "region"], list(PCN_FIELDS)
            stored_ics = {c: (v, dict(zip(ics_cols, rest))) for c, *rest, v in b.values(
                IcsRow, ["code", *ics_cols, "version"], lock="update")}
            stored_pcns = {c: (v, dict(zip(pcn_cols, rest))) for c, *rest, v in b.values(
                PcnRow, ["code", *pcn_cols, "version"], lock="update")}
            new_ics, new_pcns, ics_updates, pcn_updates, audits, lines = [], [], [], [], [], {}
            for code, i in given_ics.items():
                lines[code] = i["line"]
                given = {"name": i["name"], "region": i["region"]}
                if code not in stored_ics:
                    new_ics.append({"code": code, **given, "version": 1})
                    audits.append(("ics", code, {f: (None, v) for f, v in given.items()}))
                    counts["ics_added"] += 1
                    continue
                version, old = stored_ics[code]
                changes = {f: (old[f], v) for f, v in given.items() if old[f] != v}
                if changes:
                    ics_updates.append({"code": code, "version": version, **{f: v for f, (_, v) in changes.items()}})
                    audits.append(("ics", code, changes))
                    counts["ics_updated"] += 1
            for p in given_pcns:
                lines[p["code"]] = p["line"]
                given = {f: p[f] for f in PCN_FIELDS}
                if p["code"] not in stored_pcns:
                    new_pcns.append({"code": p["code"], **given, "version": 1})
                    audits.append(("pcn", p["code"], {f: (None, v) for f, v in given.items()}))
                    counts["pcns_added"] += 1
                    continue
                version, old = stored_pcns[p["code"]]
                old = {**old, "rural": bool(old["rural"]), "practices": list(old["practices"] or [])}
                changes = {f: (old[f], v) for f, v in given.items() if old[f] != v}
                if changes:
                    pcn_updates.append({"code": p["code"], "version": version,
                                        **{f: v for f, (_, v) in changes.items()}})
                    audits.append(("pcn", p["code"], changes))
                    counts["pcns_updated"] += 1
                else:
                    counts["unchanged"] += 1

            def conflict(r) -> ImportProblems:
                return ImportProblems(name, [RowProblem(lines[r["code"]], (
                    f"someone changed {r['code']} while the file was importing; nothing was imported: import it "
                    f"again"))])

            line = min((lines[r["code"]] for r in new_ics), default=line)
            b.insert_many(IcsRow, new_ics, duplicate="someone added one of these ICSs while the file was importing: "
                                                      "import it again")
            b.update_many(IcsRow, ics_updates, conflict=conflict)
            line = min((lines[r["code"]] for r in new_pcns), default=line)
            b.insert_many(PcnRow, new_pcns, duplicate="someone added one of these PCNs while the file was importing: "
                                                       "import it again")
            b.update_many(PcnRow, pcn_updates, conflict=conflict)
            b.audit_many(audits)
    except ImportProblems:
        raise
    except InputError as exc:
        raise ImportProblems(name, [RowProblem(line, str(exc))]) from None
    return OrganisationsResult(name, **counts)


def export_organisations(store, path: str | Path) -> int:
    """Every ICS and PCN in the import format (.csv or .xlsx). Returns the number of PCN rows."""
    guard.check(store, ADMINISTER)
    by_code = {i.code: i for i in list_ics(store)}
    rows = [[p.ics_code, by_code[p.ics_code].name, by_code[p.ics_code].region, p.code, p.name, p.list_size,
             "yes" if p.rural else "no", "; ".join(p.practices)] for p in pcns(store)]
    write_table(path, rows, COLUMNS)
    return len(rows)

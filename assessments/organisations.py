"""ICSs and PCNs from a spreadsheet: how a real ICS loads its own networks.

One row per PCN: ics_code, ics_name, pcn_code, pcn_name, list_size, rural, practices (member
practices separated by ';'), and optionally ics_region. As with ratings, every row is checked
first and a file with any bad row changes nothing. New ICSs and PCNs are added; existing ones
are updated where the file differs, each change audited with the file's name as its source.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .exchange import ImportProblems, RowProblem, _cell, _write_table, read_rows
from .store import (InputError, Store, check_list_size, check_practices, check_ics_code, check_name, check_pcn_code,
                    check_text)

COLUMNS = ["ics_code", "ics_name", "ics_region", "pcn_code", "pcn_name", "list_size", "rural", "practices"]
REQUIRED = ("ics_code", "ics_name", "pcn_code", "pcn_name", "list_size")
_YES = {"yes", "y", "true", "1", "rural"}
_NO = {"no", "n", "false", "0", "urban", ""}


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
        cells: dict[str, Any] = {}
        for i, h in enumerate(names):
            if h:
                value, problem = _cell(raw[i] if i < len(raw) else None)
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


def import_organisations(store: Store, path: str | Path, *, by: str, data: bytes | None = None,
                         name: str | None = None) -> OrganisationsResult:
    name = name or Path(path).name
    header, body = read_rows(path, data)
    ics, pcns = _check(header, body, name)
    counts = {"ics_added": 0, "ics_updated": 0, "pcns_added": 0, "pcns_updated": 0, "unchanged": 0}
    existing_ics = {i.code: i for i in store.list_ics()}
    existing_pcns = {p.code: p for p in store.pcns()}
    line = 1
    try:
        with store.batch(by=by, source=f"import {name}") as b:
            for code, i in ics.items():
                line = i["line"]
                old = existing_ics.get(code)
                if old is None:
                    b.add_ics(code, i["name"], region=i["region"])
                    counts["ics_added"] += 1
                elif (old.name, old.region) != (i["name"], i["region"]):
                    b.update_ics(code, expected_version=old.version, name=i["name"], region=i["region"])
                    counts["ics_updated"] += 1
            for p in pcns:
                line = p["line"]
                old = existing_pcns.get(p["code"])
                fields = {k: p[k] for k in ("name", "ics_code", "list_size", "rural", "practices")}
                if old is None:
                    b.add_pcn(p["code"], fields.pop("name"), **fields)
                    counts["pcns_added"] += 1
                    continue
                changed = {k: v for k, v in fields.items()
                           if (tuple(v) if k == "practices" else v) != getattr(old, k)}
                if changed:
                    b.update_pcn(p["code"], expected_version=old.version, **changed)
                    counts["pcns_updated"] += 1
                else:
                    counts["unchanged"] += 1
    except InputError as exc:
        raise ImportProblems(name, [RowProblem(line, str(exc))]) from None
    return OrganisationsResult(name, **counts)


def export_organisations(store: Store, path: str | Path) -> int:
    """Every ICS and PCN in the import format (.csv or .xlsx). Returns the number of PCN rows."""
    ics = {i.code: i for i in store.list_ics()}
    rows = [[p.ics_code, ics[p.ics_code].name, ics[p.ics_code].region, p.code, p.name, p.list_size,
             "yes" if p.rural else "no", "; ".join(p.practices)] for p in store.pcns()]
    _write_table(path, rows, header=COLUMNS)
    return len(rows)

"""Synthetic national-scale records for benchmarks: about 1,250 PCNs in 42 ICSs, six years.

Every name says it is synthetic. Rows go in with core `insert()` executemany in one
transaction, with the audit rows the store would have written (a row per field set, per
agreement), so backups and queries are measured on a realistically sized database.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from matrix import Matrix

from .model import AGREED, DRAFT
from .records.bulk import insert_rows
from .values import InputError

YEARS = ("2019/20", "2020/21", "2021/22", "2022/23", "2023/24", "2024/25")
REGIONS = ("North East and Yorkshire", "North West", "Midlands", "East of England", "London", "South East", "South West")


@dataclass(frozen=True)
class SyntheticSummary:
    ics: int
    pcns: int
    assessments: int
    ratings: int
    audit_rows: int
    years: tuple[str, ...]


def _naive(dt: datetime) -> datetime:
    return dt.replace(tzinfo=None)


def generate(store, *, n_ics: int = 42, n_pcns: int = 1250, years: tuple[str, ...] = YEARS,
             seed: int = 1, matrix: Matrix | None = None) -> SyntheticSummary:
    """Fill an EMPTY database with synthetic records (refuses a non-empty one)."""
    if not store.is_empty():
        raise InputError("synthetic data goes only into an empty database")
    matrix = store.use_matrix(matrix)
    rng = random.Random(seed)
    stages = matrix.stage_ids
    top = len(stages) - 1
    elements = matrix.element_ids()
    by = "Synthetic data"
    src = "synthetic"
    t0 = datetime(2019, 5, 1, 9, 0, tzinfo=UTC)

    ics_rows, pcn_rows, a_rows, r_rows, audit = [], [], [], [], []

    def log(at, entity, key, field, before, after):
        audit.append({"at": at, "who": by, "entity": entity, "entity_key": key, "field": field,
                      "before": before, "after": after, "source": src})

    for i in range(n_ics):
        code = f"Q{i // 26}{chr(65 + i % 26)}"
        ics_rows.append({"code": code, "name": f"Synthetic ICS {i + 1:02d}", "region": REGIONS[i % len(REGIONS)],
                         "version": 1})
        log(_naive(t0), "ics", code, "name", None, ics_rows[-1]["name"])
        log(_naive(t0), "ics", code, "region", None, ics_rows[-1]["region"])

    aid = 0
    for p in range(n_pcns):
        code = f"U{10000 + p:05d}"
        ics = ics_rows[p * n_ics // n_pcns]["code"]
        n_practices = max(1, min(14, int(rng.gauss(5, 2.5))))
        practices = [f"Synthetic Practice {code}-{k + 1}" for k in range(n_practices)]
        pcn = {"code": code, "name": f"Synthetic PCN {code}", "ics_code": ics,
               "list_size": int(min(120_000, max(18_000, rng.gauss(45_000, 15_000)))), "rural": rng.random() < 0.3,
               "practices": practices, "version": 1}
        pcn_rows.append(pcn)
        for f in ("name", "ics_code", "list_size"):
            log(_naive(t0), "pcn", code, f, None, str(pcn[f]))
        log(_naive(t0), "pcn", code, "rural", None, "true" if pcn["rural"] else "false")
        log(_naive(t0), "pcn", code, "practices", None, json.dumps(practices))

        base = rng.uniform(-0.3, 1.2)
        pace = rng.uniform(0.0, 0.45)
        lean = {e: rng.gauss(0, 0.5) for e in elements}
        first = 0 if rng.random() > 0.06 else rng.randint(1, 3)  # a few PCNs started later
        for y, year in enumerate(years[first:], start=first):
            aid += 1
            start = int(year[:4])
            opened = datetime(start, 9, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=p)
            agreed_at = datetime(start + 1, 1, 15, 9, 0, tzinfo=UTC) + timedelta(minutes=p)
            status = AGREED if (y < len(years) - 1 or rng.random() < 0.7) else DRAFT
            a_rows.append({"id": aid, "pcn_code": code, "year": year, "matrix_id": matrix.id,
                           "matrix_version": matrix.version, "status": status, "created_by": by,
                           "created_at": _naive(opened), "updated_by": by,
                           "updated_at": _naive(agreed_at if status == AGREED else opened),
                           "revision_of": None, "version": 2 if status == AGREED else 1})
            key = str(aid)
            for f, v in (("pcn_code", code), ("year", year), ("matrix_id", matrix.id),
                         ("matrix_version", matrix.version), ("status", DRAFT)):
                log(_naive(opened), "assessment", key, f, None, v)
            level = base + pace * y
            for e in elements:
                current = max(0, min(top, round(level + lean[e] + rng.gauss(0, 0.3))))
                target = min(top, current + (1 if rng.random() < 0.8 else 2))
                confidence = rng.choice(("low", "medium", "medium", "high", "high"))
                r_rows.append({"assessment_id": aid, "element_id": e, "current_stage": stages[current],
                               "target_stage": stages[target], "evidence": None, "note": None,
                               "confidence": confidence, "updated_by": by, "updated_at": _naive(opened), "version": 1})
                rk = f"{aid}/{e}"
                log(_naive(opened), "rating", rk, "current_stage", None, stages[current])
                log(_naive(opened), "rating", rk, "target_stage", None, stages[target])
                log(_naive(opened), "rating", rk, "confidence", None, confidence)
            if status == AGREED:
                log(_naive(agreed_at), "assessment", key, "status", DRAFT, AGREED)

    insert_rows(store, {"ics": ics_rows, "pcn": pcn_rows, "assessment": a_rows, "rating": r_rows, "audit_log": audit})
    return SyntheticSummary(len(ics_rows), len(pcn_rows), len(a_rows), len(r_rows), len(audit), tuple(years))

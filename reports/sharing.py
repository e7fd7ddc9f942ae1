"""Sharing a version of the plan with the ICS and commissioners: the PDF is made once, naming the
version it is, and stored as it was shared (assessments.plan.share_version); exporting that
version later gives the same bytes, whatever the live plan, the matrix files or this code say by then.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from assessments import plan as plans
from assessments.store import Store

from .data import gather


def shared_as(number: int, name: str, when: datetime) -> str:
    """What a shared version's PDF says it is, on its cover."""
    return f"Version {number}, shared with the ICS and commissioners by {name} on {when.day} {when:%b %Y}"


def share_plan_version(store: Store, pcn_code: str, year: str, *, expected_version: int, by: str | None = None,
                       note: Any = None, matrix_id: str | None = None, charts: bool = True) -> plans.SharedVersion:
    """Make the plan's PDF as it stands at `expected_version`, marked as the next shared version,
    and record it. If the plan changed since the caller read it, or someone shared a version in
    between, nothing is stored and ConflictError says so."""
    from .pdf import render

    report = gather(store, pcn_code, year, matrix_id=matrix_id)
    number = plans.next_share_number(store, report.pcn.code, report.year)
    p = store.principal
    name = by if p.via == "command line" and by else p.name
    stamp = shared_as(number, name, datetime.now(UTC))
    pdf = render(replace(report, shared_as=stamp), charts=charts)
    return plans.share_version(store, report.pcn.code, report.year, pdf, by=by, expected_version=expected_version,
                               number=number, note=note)

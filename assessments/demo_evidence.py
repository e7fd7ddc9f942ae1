"""The demonstration data's evidence items and two-party agreements (assessments/demo.py).

Each year, elements whose rating has an evidence summary get a dated item (some with a link,
the first of each assessment with a small attached minutes file); items carried over from the
year before are confirmed where they still hold, or replaced by the new one. Agreed years are
submitted by the PCN's manager and confirmed by the ICS's facilitator; one PCN's latest draft was
returned by the ICS with a comment, and in the latest drafts some carried-over items are still
waiting to be confirmed. Everything is deterministic: the same data every time.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from matrix import Matrix

from . import evidence as ev
from . import ratings as assessing

FACILITATOR = "Joanne Pryce (ICS facilitator)"
RETURNED = ("U99002", "Thank you. Before we confirm: the data-sharing and workforce ratings need this year's evidence "
                      "(the signed agreement, the rota). Please add it and submit again.")
ITEMS = (
    "Network board minutes, {month} {year}, agreeing the approach",
    "Signed network agreement and schedules, reviewed {month} {year}",
    "Data-sharing agreement signed by every member practice",
    "Workforce plan for the additional roles, {month} {year}",
    "Population health report from the ICB's analytics team, {month} {year}",
    "Patient participation group feedback summary, {month} {year}",
    "Quality improvement project report presented to the board",
    "Shared rota and job plans across the practices",
    "Clinical director's quarterly report to the ICB, {month} {year}",
    "Partnership meeting notes with the community and voluntary sector",
)
SEED = 20240402


def _minutes(pcn_name: str, year: str) -> bytes:
    return (f"{pcn_name}: network board minutes ({year})\n\n"
            "Present: clinical director, PCN manager, practice leads.\n"
            "Item 4: the maturity self-assessment was discussed and the ratings agreed for submission.\n"
            "Demonstration data: every name is invented.\n").encode("utf-8")


def year_evidence(store, manager: str, code: str, pcn_name: str, assessment_id: int, matrix: Matrix, year: str,
                  planned: dict[str, dict], at: datetime, *, final: bool) -> int:
    """Add one year's items (one transaction); returns how many were added. `final`: a draft still
    in progress, which leaves some carried-over items unconfirmed."""
    added = 0
    rng = random.Random(f"{SEED}/{code}/{year}")
    month = f"{at:%B}"
    with store.batch(by=manager, source="demo evidence", at=at) as b:
        found = ev.items(b, assessment_id)
        first = True
        for eid in matrix.element_ids():
            carried = [x for x in found.get(eid, []) if x.carried_over]
            has_new = bool((planned.get(eid) or {}).get("evidence"))
            if has_new:
                for x in carried:  # replaced by this year's
                    ev.remove_evidence(b, x.id, expected_version=x.version)
                text = rng.choice(ITEMS).format(month=month, year=at.year)
                link = f"https://example.org/demo/{code.lower()}/{eid}" if rng.random() < 0.4 else None
                upload = ev.Upload(f"board-minutes-{year.replace('/', '-')}.txt", _minutes(pcn_name, year)) \
                    if first else None
                ev.add_evidence(b, assessment_id, eid, description=text, link=link, file=upload)
                first = False
                added += 1
            elif carried and (not final or rng.random() < 0.5):  # still holds; drafts in progress leave some open
                for x in carried:
                    ev.confirm_evidence(b, x.id, expected_version=x.version)
    return added


def agree(store, manager: str, assessment_id: int, submitted: datetime, confirmed: datetime) -> None:
    """The PCN's manager submits; the ICS's facilitator confirms."""
    with store.batch(by=manager, source="demo", at=submitted) as b:
        a = assessing.assessment(b, assessment_id)
        assessing.submit_assessment(b, a.id, expected_version=a.version)
    with store.batch(by=FACILITATOR, source="demo", at=confirmed) as b:
        a = assessing.assessment(b, assessment_id)
        assessing.confirm_assessment(b, a.id, expected_version=a.version)


def returned(store, manager: str, assessment_id: int, submitted: datetime) -> None:
    """Submitted by the PCN, returned by the ICS with a comment a week later."""
    with store.batch(by=manager, source="demo", at=submitted) as b:
        a = assessing.assessment(b, assessment_id)
        assessing.submit_assessment(b, a.id, expected_version=a.version)
    with store.batch(by=FACILITATOR, source="demo", at=submitted + timedelta(days=7)) as b:
        a = assessing.assessment(b, assessment_id)
        assessing.return_assessment(b, a.id, expected_version=a.version, comment=RETURNED[1])

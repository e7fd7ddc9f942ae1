"""What the core hands back: plain frozen dataclasses and the names of statuses.

Nothing here touches the database or Streamlit, so pages, reports and tests can use these types
without opening a store.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

DRAFT, AGREED, SUPERSEDED = "draft", "agreed", "superseded"
STATUSES = (DRAFT, AGREED, SUPERSEDED)
CONFIDENCES = ("low", "medium", "high")
RATING_FIELDS = ("current_stage", "target_stage", "evidence", "note", "confidence", "not_applicable")
NOT_APPLICABLE = "Not applicable"  # how a rating of an element that does not apply is shown, wherever a stage is


def rating_audit_value(name: str, value):
    """A rating field's value as its audit row records it: "not applicable" unset is no value,
    so a new rating's audit names only what was set."""
    return (value or None) if name == "not_applicable" else value
NATIONAL_MATRIX_ID = "nhse-pcn-maturity"


class _Keep(Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP  # "leave this field as it is" in update and save calls


@dataclass(frozen=True, slots=True)
class ICS:
    code: str
    name: str
    region: str | None
    version: int


@dataclass(frozen=True, slots=True)
class PCN:
    code: str
    name: str
    ics_code: str
    list_size: int
    rural: bool
    practices: tuple[str, ...]
    version: int


@dataclass(frozen=True, slots=True)
class Assessment:
    id: int
    pcn_code: str
    year: str
    matrix_id: str
    matrix_version: str
    status: str
    revision_of: int | None
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    version: int
    submitted_by: str | None = None  # a draft submitted for agreement with the ICS
    submitted_at: datetime | None = None

    @property
    def locked(self) -> bool:
        return self.status != DRAFT or self.submitted_at is not None

    @property
    def submitted(self) -> bool:
        return self.status == DRAFT and self.submitted_at is not None


@dataclass(frozen=True, slots=True)
class Rating:
    assessment_id: int
    element_id: str
    current_stage: str | None
    target_stage: str | None
    evidence: str | None
    note: str | None
    confidence: str | None
    updated_by: str
    updated_at: datetime
    version: int
    not_applicable: bool = False  # rated "does not apply here": no stages, left out of every mean


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    who: str
    entity: str
    entity_key: str
    field: str
    before: str | None
    after: str | None
    source: str | None


@dataclass(frozen=True, slots=True)
class AssessmentRecord:
    """One assessment with its PCN and its ratings by element id."""
    pcn: PCN
    assessment: Assessment
    ratings: Mapping[str, Rating] = field(default_factory=dict)

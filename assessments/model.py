"""What the core hands back: plain frozen dataclasses and the names of statuses.

Nothing here touches the database or Streamlit, so pages, reports and tests can use these types
without opening a store.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
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
    confirmed_by: str | None = None  # the ICS confirmed it: it became agreed
    confirmed_at: datetime | None = None
    returned_by: str | None = None  # the ICS returned it to the PCN as a draft, saying why
    returned_at: datetime | None = None
    return_comment: str | None = None

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
    carried_over: bool = False  # copied from an earlier year and not reviewed since


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


# ---------------------------------------------------------------------------------------------
# Evidence items and the agreement (assessments.evidence, assessments.ratings)

CURRENT, CARRIED, REVIEW_DUE = "current", "carried over", "review due"  # an evidence item's freshness


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """An attached file, without its bytes (evidence.file_content reads those)."""
    id: int
    name: str
    media_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    id: int
    assessment_id: int
    element_id: str
    description: str
    link: str | None
    file: EvidenceFile | None
    review_by: date
    carried_from_year: str | None  # copied by "copy last year" from that year's assessment
    confirmed_by: str | None  # someone confirmed a carried-over item still holds
    confirmed_at: datetime | None
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    version: int

    @property
    def carried_over(self) -> bool:
        """Copied from an earlier year and not yet confirmed to still hold."""
        return self.carried_from_year is not None and self.confirmed_at is None

    def freshness(self, today: date) -> str:
        """CARRIED until confirmed, REVIEW_DUE once its review-by date has passed, else CURRENT."""
        if self.carried_over:
            return CARRIED
        return REVIEW_DUE if self.review_by < today else CURRENT


@dataclass(frozen=True, slots=True)
class EvidenceCoverage:
    """How many of an assessment's elements have current evidence. Elements rated not applicable
    are left out; `carried` counts elements with a carried-over rating or item not yet reviewed."""
    current: int
    elements: int
    carried: int = 0
    review_due: int = 0
    without: tuple[str, ...] = ()  # element ids with no current evidence, in matrix order
    unreviewed: tuple[str, ...] = ()  # element ids with something carried over not yet reviewed

    @property
    def text(self) -> str:
        return f"{self.current} of {self.elements} elements have current evidence"


@dataclass(frozen=True, slots=True)
class Submission:
    """What submitting an assessment for agreement returns: the assessment, and what the PCN lead
    was warned about (elements without current evidence, carried-over ratings not reviewed)."""
    assessment: Assessment
    warnings: tuple[str, ...] = ()

"""Typed reads of the organisation and assessment records, tuned for the pages that wait on them.

Each takes a Reader (or a UnitOfWork, to read inside a write) and returns the plain types of
assessments.model. Checking codes and years is the caller's job (assessments.ratings,
assessments.organisations); these only read.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import exists, func, select

from ..model import ICS, PCN, SUPERSEDED, Assessment, AssessmentRecord, AuditEntry, Rating
from .tables import AssessmentRow, AuditRow, IcsRow, PcnRow, RatingRow
from .unit_of_work import Reader

PCN_COLS = [PcnRow.code, PcnRow.name, PcnRow.ics_code, PcnRow.list_size, PcnRow.rural, PcnRow.practices, PcnRow.version]
ASSESSMENT_COLS = [AssessmentRow.id, AssessmentRow.pcn_code, AssessmentRow.year, AssessmentRow.matrix_id,
                   AssessmentRow.matrix_version, AssessmentRow.status, AssessmentRow.revision_of,
                   AssessmentRow.created_by, AssessmentRow.created_at, AssessmentRow.updated_by,
                   AssessmentRow.updated_at, AssessmentRow.version, AssessmentRow.submitted_by,
                   AssessmentRow.submitted_at, AssessmentRow.confirmed_by, AssessmentRow.confirmed_at,
                   AssessmentRow.returned_by, AssessmentRow.returned_at, AssessmentRow.return_comment]
RATING_COLS = [RatingRow.assessment_id, RatingRow.element_id, RatingRow.current_stage, RatingRow.target_stage,
               RatingRow.evidence, RatingRow.note, RatingRow.confidence, RatingRow.updated_by,
               RatingRow.updated_at, RatingRow.version, RatingRow.not_applicable, RatingRow.carried_over]


def as_ics(r) -> ICS:
    return ICS(r.code, r.name, r.region, r.version)


def as_pcn(r) -> PCN:
    return PCN(r.code, r.name, r.ics_code, r.list_size, bool(r.rural), tuple(r.practices or ()), r.version)


def as_assessment(r) -> Assessment:
    return Assessment(r.id, r.pcn_code, r.year, r.matrix_id, r.matrix_version, r.status, r.revision_of,
                      r.created_by, r.created_at, r.updated_by, r.updated_at, r.version, r.submitted_by,
                      r.submitted_at, r.confirmed_by, r.confirmed_at, r.returned_by, r.returned_at, r.return_comment)


def as_rating(r) -> Rating:
    return Rating(r.assessment_id, r.element_id, r.current_stage, r.target_stage, r.evidence, r.note,
                  r.confidence, r.updated_by, r.updated_at, r.version, bool(r.not_applicable), bool(r.carried_over))


def as_audit_entry(r) -> AuditEntry:
    return AuditEntry(r.id, r.at, r.who, r.entity, r.entity_key, r.field, r.before, r.after, r.source)


# ---------------------------------------------------------------------------------------------
# Organisations

def list_ics(r: Reader) -> list[ICS]:
    return [as_ics(x) for x in r.session.scalars(select(IcsRow).order_by(IcsRow.code))]


def pcns(r: Reader, ics_code: str | None = None) -> list[PCN]:
    q = select(*PCN_COLS).order_by(PcnRow.code)
    if ics_code is not None:
        q = q.where(PcnRow.ics_code == ics_code)
    return [as_pcn(x) for x in r.session.execute(q)]


# ---------------------------------------------------------------------------------------------
# Assessments and ratings

def _live(conds: list, matrix_id: str | None) -> list:
    conds = [*conds, AssessmentRow.status != SUPERSEDED]
    if matrix_id is not None:
        conds.append(AssessmentRow.matrix_id == matrix_id)
    return conds


def find_assessment(r: Reader, pcn_code: str, year: str, matrix_id: str | None = None) -> Assessment | None:
    q = select(*ASSESSMENT_COLS).where(*_live([AssessmentRow.pcn_code == pcn_code, AssessmentRow.year == year],
                                              matrix_id))
    row = r.session.execute(q.order_by(AssessmentRow.matrix_id)).first()
    return as_assessment(row) if row else None


def assessments(r: Reader, *, pcn_code: str | None = None, year: str | None = None, ics_code: str | None = None,
                include_superseded: bool = False) -> list[Assessment]:
    q = select(*ASSESSMENT_COLS)
    if pcn_code is not None:
        q = q.where(AssessmentRow.pcn_code == pcn_code)
    if year is not None:
        q = q.where(AssessmentRow.year == year)
    if ics_code is not None:
        q = q.join(PcnRow, PcnRow.code == AssessmentRow.pcn_code).where(PcnRow.ics_code == ics_code)
    if not include_superseded:
        q = q.where(AssessmentRow.status != SUPERSEDED)
    q = q.order_by(AssessmentRow.pcn_code, AssessmentRow.year, AssessmentRow.id)
    return [as_assessment(x) for x in r.session.execute(q)]


def years(r: Reader) -> list[str]:
    return list(r.session.scalars(select(AssessmentRow.year).distinct().order_by(AssessmentRow.year)))


def ratings(r: Reader, assessment_id: int) -> dict[str, Rating]:
    rows = r.session.execute(select(*RATING_COLS).where(RatingRow.assessment_id == assessment_id)
                             .order_by(RatingRow.element_id))
    return {x.element_id: as_rating(x) for x in rows}


def history(r: Reader, pcn: PCN, matrix_id: str | None = None) -> list[AssessmentRecord]:
    """Every live assessment of one PCN with its ratings, oldest year first (two queries)."""
    conds = _live([AssessmentRow.pcn_code == pcn.code], matrix_id)
    heads = r.session.execute(select(*ASSESSMENT_COLS).where(*conds)
                              .order_by(AssessmentRow.year, AssessmentRow.matrix_id)).all()
    rows = r.session.execute(select(*RATING_COLS).join(AssessmentRow, AssessmentRow.id == RatingRow.assessment_id)
                             .where(*conds)).all()
    return _records(((pcn, a) for a in heads), rows)


def portfolio(r: Reader, year: str, *, ics_code: str | None = None, matrix_id: str | None = None) -> list[AssessmentRecord]:
    """All live assessments of a year with their ratings, for one ICS or all of England; two
    queries whatever the size, ordered by PCN code.

    For one ICS the assessments are found from its PCNs (the PCN codes of the ICS, then each
    one's live assessment of the year by the (pcn_code, year) index), so the cost follows the
    ICS, not the country: joined on the ICS code alone, the planner reads every assessment of the
    year in England by the year index and drops the other ICSs' (benchmarks/bench_records.py)."""
    conds = _live([AssessmentRow.year == year], matrix_id)
    if ics_code is not None:
        conds.append(AssessmentRow.pcn_code.in_(select(PcnRow.code).where(PcnRow.ics_code == ics_code)))
    heads = r.session.execute(select(*PCN_COLS, *ASSESSMENT_COLS).join(PcnRow, PcnRow.code == AssessmentRow.pcn_code)
                              .where(*conds).order_by(PcnRow.code, AssessmentRow.matrix_id)).all()
    q = select(*RATING_COLS).join(AssessmentRow, AssessmentRow.id == RatingRow.assessment_id)
    rows = r.session.execute(q.where(*conds)).all()
    n = len(PCN_COLS)
    return _records(((PCN(h[0], h[1], h[2], h[3], bool(h[4]), tuple(h[5] or ()), h[6]), h[n:]) for h in heads), rows)


def _records(heads: Iterable[tuple[PCN, Any]], rating_rows: Iterable[Any]) -> list[AssessmentRecord]:
    by_assessment: dict[int, dict[str, Rating]] = {}
    for x in rating_rows:
        by_assessment.setdefault(x[0], {})[x[1]] = Rating(*x)
    out = []
    for pcn, a in heads:
        assessment = Assessment(*a)
        out.append(AssessmentRecord(pcn, assessment, by_assessment.get(assessment.id, {})))
    return out


# ---------------------------------------------------------------------------------------------
# The change log and the whole database

def audit(r: Reader, *, entity: str | None = None, entity_key: str | None = None, limit: int | None = None,
          newest_first: bool = True) -> list[AuditEntry]:
    q = select(AuditRow)
    if entity is not None:
        q = q.where(AuditRow.entity == entity)
    if entity_key is not None:
        q = q.where(AuditRow.entity_key == entity_key)
    q = q.order_by(AuditRow.id.desc() if newest_first else AuditRow.id)
    if limit is not None:
        q = q.limit(limit)
    return [as_audit_entry(x) for x in r.session.scalars(q)]


def is_empty(r: Reader) -> bool:
    """True when no organisation, assessment or audit row has been stored yet."""
    return not any(r.session.scalar(select(exists().select_from(t))) for t in (IcsRow, PcnRow, AssessmentRow, AuditRow))


def data_version(r: Reader) -> int:
    """Changes whenever anything is written (every write adds audit rows): a cheap cache key."""
    # SQLite commits writers one at a time, so the newest audit id is enough. On PostgreSQL a
    # transaction holding a lower id can commit after one holding a higher id, leaving the
    # maximum unchanged; audit rows are never deleted, so their count always moves.
    dialect = r.session.get_bind().dialect.name
    q = select(func.coalesce(func.max(AuditRow.id), 0)) if dialect == "sqlite" else \
        select(func.count()).select_from(AuditRow)
    return r.session.scalar(q)


def counts(r: Reader) -> dict[str, int]:
    """Rows per table, for messages like 'restored 8 PCNs, 32 assessments'."""
    return {m.__tablename__: r.session.scalar(select(func.count()).select_from(m)) for m in
            (IcsRow, PcnRow, AssessmentRow, RatingRow, AuditRow)}

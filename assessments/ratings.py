"""Assessments and their ratings: the rules, and the service functions that keep them.

Who sees what (assessments.access): a PCN's own people see its drafts; its ICS facilitator sees
what it submitted for agreement or agreed; commissioners see agreed assessments only. A reader
out of scope gets AccessDenied for one PCN's records and nothing of that PCN in ICS-wide lists.

Every function takes `store` first: a Store, or a unit of work already open (then it joins that
transaction). Writes take `by` (who) and, for records people edit, `expected_version` (the
version you read; 0 for a rating not saved before), and raise ConflictError when someone else
saved in between. Agreed assessments are locked (LockedError); `open_revision` makes a new draft
from one. Callers get frozen dataclasses back (assessments.model), never rows.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from matrix import Matrix

from . import guard
from .access import CONFIRM, EDIT, SUBMIT, AccessDenied
from .model import AGREED, DRAFT, RATING_FIELDS, SUPERSEDED, Assessment, AssessmentRecord, AuditEntry, Rating
from .organisations import pcn as get_pcn
from .records import UnitOfWork, queries
from .records.tables import AssessmentRow, PcnRow, RatingRow
from .values import (DuplicateError, InputError, LockedError, NotFoundError, check_element, check_ics_code,
                     check_pcn_code, check_year, rating_values)

ASSESSMENT_AUDIT_FIELDS = ("pcn_code", "year", "matrix_id", "matrix_version", "status", "revision_of")


# ---------------------------------------------------------------------------------------------
# Reads

def _visible(store, a: Assessment) -> Assessment:
    """The assessment if the principal may see it, else AccessDenied (it says no more than that)."""
    if not guard.shows(guard.require_depth(store, a.pcn_code), a.status, a.submitted):
        raise AccessDenied(f"the {a.year} assessment of {a.pcn_code} is a draft its PCN has not submitted yet")
    return a


def _filter(store, found: list, key=lambda x: x) -> list:
    """Only what the principal may see, PCN by PCN (ICS-wide and national lists)."""
    return guard.Visibility(store).keep(found, lambda depth, x: guard.shows(depth, key(x).status, key(x).submitted),
                                        pcn_of=lambda x: key(x).pcn_code)


def assessment(store, assessment_id: int) -> Assessment:
    with store.read() as r:
        row = r.get(AssessmentRow, int(assessment_id))
        if row is None:
            raise NotFoundError(f"there is no assessment with id {assessment_id}")
        a = queries.as_assessment(row)
    return _visible(store, a)


def find_assessment(store, pcn_code: str, year: str, matrix_id: str | None = None) -> Assessment | None:
    """The live (draft or agreed) assessment of a PCN for a year, if there is one the principal may see."""
    code, year = check_pcn_code(pcn_code), check_year(year)
    d = guard.require_depth(store, code)
    with store.read() as r:
        a = queries.find_assessment(r, code, year, matrix_id)
    return a if a is not None and guard.shows(d, a.status, a.submitted) else None


def assessments(store, *, pcn_code: str | None = None, year: str | None = None, ics_code: str | None = None,
                include_superseded: bool = False) -> list[Assessment]:
    """Assessments by PCN, year and id. For one PCN, AccessDenied if the principal may see none of
    its records; ICS-wide and national lists leave out what the principal may not see."""
    if pcn_code is not None:
        guard.require_depth(store, check_pcn_code(pcn_code))
    with store.read() as r:
        found = queries.assessments(
            r, pcn_code=check_pcn_code(pcn_code) if pcn_code is not None else None,
            year=check_year(year) if year is not None else None,
            ics_code=check_ics_code(ics_code) if ics_code is not None else None,
            include_superseded=include_superseded)
    return _filter(store, found)


def years(store) -> list[str]:
    """Every year in which some PCN has an assessment the principal may see, oldest first."""
    if guard.principal_of(store).is_admin:
        with store.read() as r:
            return queries.years(r)
    return sorted({a.year for a in assessments(store)})


def ratings(store, assessment_id: int) -> dict[str, Rating]:
    assessment(store, assessment_id)
    with store.read() as r:
        return queries.ratings(r, int(assessment_id))


def rating(store, assessment_id: int, element_id: str) -> Rating | None:
    assessment(store, assessment_id)
    with store.read() as r:
        row = r.get(RatingRow, (int(assessment_id), element_id))
        return queries.as_rating(row) if row else None


def record(store, assessment_id: int) -> AssessmentRecord:
    a = assessment(store, assessment_id)
    return AssessmentRecord(get_pcn(store, a.pcn_code), a, ratings(store, a.id))


def history(store, pcn_code: str, matrix_id: str | None = None) -> list[AssessmentRecord]:
    """Every live assessment of one PCN with its ratings, oldest year first (two queries)."""
    pcn = get_pcn(store, pcn_code)
    d = guard.require_depth(store, pcn.code, pcn.ics_code)
    with store.read() as r:
        found = queries.history(r, pcn, matrix_id)
    return [x for x in found if guard.shows(d, x.assessment.status, x.assessment.submitted)]


def portfolio(store, year: str, *, ics_code: str | None = None, matrix_id: str | None = None) -> list[AssessmentRecord]:
    """All live assessments of a year with their ratings, for one ICS or all of England, by PCN code."""
    year = check_year(year)
    with store.read() as r:
        if ics_code is not None:
            code = check_ics_code(ics_code)
            if r.get(queries.IcsRow, code) is None:
                raise NotFoundError(f"there is no ICS with code {ics_code}")
            ics_code = code
        found = queries.portfolio(r, year, ics_code=ics_code, matrix_id=matrix_id)
    return _filter(store, found, key=lambda rec: rec.assessment)


def rating_history(store, assessment_id: int, element_id: str) -> list[AuditEntry]:
    assessment(store, assessment_id)
    with store.read() as r:
        return queries.audit(r, entity="rating", entity_key=f"{int(assessment_id)}/{element_id}", newest_first=False)


# ---------------------------------------------------------------------------------------------
# Rules kept inside a unit of work

def _assessment_row(uow: UnitOfWork, assessment_id: int, lock: str | None = None) -> AssessmentRow:
    # lock="share" (FOR SHARE on PostgreSQL): agreeing (an UPDATE) waits for rating saves in
    # flight, and a save waits for an agreement in flight, then sees the agreed status.
    # lock="update" for a row about to be deleted, so two deleters queue instead of deadlocking.
    row = uow.get(AssessmentRow, int(assessment_id), lock=lock)
    if row is None:
        raise NotFoundError(f"there is no assessment with id {assessment_id}")
    return row


def _pcn_row(uow: UnitOfWork, code: str) -> PcnRow:
    row = uow.get(PcnRow, check_pcn_code(code))
    if row is None:
        raise NotFoundError(f"there is no PCN with code {code}")
    return row


def check_draft(a) -> None:
    """LockedError unless the assessment (a row or an Assessment) is a draft."""
    if a.status == AGREED:
        raise LockedError(f"The {a.year} assessment of {a.pcn_code} was agreed by {a.updated_by} on "
                          f"{a.updated_at:%d %b %Y}; it is locked. Open a new draft from it to make changes.")
    if a.status == SUPERSEDED:
        raise LockedError(f"The {a.year} assessment of {a.pcn_code} (id {a.id}) has been replaced by a newer "
                          f"draft; it is kept as history and cannot be changed.")
    if a.submitted_at is not None:
        raise LockedError(f"The {a.year} assessment of {a.pcn_code} was submitted for agreement by {a.submitted_by} "
                          f"on {a.submitted_at:%d %b %Y}; withdraw the submission to make changes.")


def live_row(uow: UnitOfWork, pcn_code: str, year: str, matrix_id: str, lock: str | None = None):
    """The live (draft or agreed) assessment row of a PCN, year and matrix, if any."""
    return uow.first(AssessmentRow, pcn_code=pcn_code, year=year, matrix_id=matrix_id, status__ne=SUPERSEDED,
                     lock=lock)


def _insert_assessment(uow: UnitOfWork, pcn_code: str, year: str, matrix: Matrix, status: str,
                       revision_of: int | None) -> AssessmentRow:
    def clash() -> Exception:
        if live_row(uow, pcn_code, year, matrix.id) is None:
            return InputError(f"the {year} assessment of {pcn_code} could not be stored")
        return DuplicateError(f"{pcn_code} already has a {year} assessment against {matrix.id} "
                              f"(someone created it a moment ago)")

    row = uow.add(AssessmentRow(pcn_code=pcn_code, year=year, matrix_id=matrix.id, matrix_version=matrix.version,
                                status=status, created_by=uow.by, created_at=uow.at, updated_by=uow.by,
                                updated_at=uow.at, revision_of=revision_of), duplicate=clash)
    uow.audit("assessment", str(row.id), {f: (None, getattr(row, f)) for f in ASSESSMENT_AUDIT_FIELDS})
    return row


def _set_status(uow: UnitOfWork, row: AssessmentRow, status: str, expected: int | None) -> AssessmentRow:
    what = f"The {row.year} assessment of {row.pcn_code}"
    if expected is not None and row.version != expected:
        raise uow.conflict(what, row, {"status": status}, expected, ["status"])
    before = row.status
    uow.update(row, {"status": status}, conflict=lambda: uow.conflict(
        what, uow.get(AssessmentRow, row.id), {"status": status}, expected, ["status"]))
    uow.audit("assessment", str(row.id), {"status": (before, status)})
    return row


def _insert_rating(uow: UnitOfWork, assessment_id: int, element_id: str, values: Mapping[str, Any]) -> RatingRow:
    row = RatingRow(assessment_id=assessment_id, element_id=element_id, updated_by=uow.by, updated_at=uow.at,
                    **{f: values.get(f) for f in RATING_FIELDS})
    uow.add(row, duplicate=f"the rating of {element_id} already exists (someone saved it a moment ago)")
    uow.audit("rating", f"{assessment_id}/{element_id}", {f: (None, values.get(f)) for f in RATING_FIELDS})
    return row


# ---------------------------------------------------------------------------------------------
# Writes

def create_assessment(store, pcn_code: str, year: str, matrix: Matrix | None = None, *, by: str | None = None,
                      source: str | None = None) -> Assessment:
    """A new draft assessment (no ratings yet)."""
    with store.batch(by=by, source=source) as uow:
        pcn = _pcn_row(uow, pcn_code)
        guard.check(uow, EDIT, pcn_code=pcn.code, ics_code=pcn.ics_code)
        year = check_year(year)
        matrix = uow.store.use_matrix(matrix)
        existing = live_row(uow, pcn.code, year, matrix.id)
        if existing is not None:
            raise DuplicateError(f"{pcn.code} already has a {existing.status} {year} assessment against "
                                 f"{matrix.id} (id {existing.id})")
        return queries.as_assessment(_insert_assessment(uow, pcn.code, year, matrix, DRAFT, None))


def agree_assessment(store, assessment_id: int, *, by: str | None = None, expected_version: int,
                     source: str | None = None) -> Assessment:
    """Confirm a draft as agreed between the PCN and its ICS; from then on it is locked. The ICS
    facilitator confirms what the PCN submitted; an administrator may agree any draft."""
    with store.batch(by=by, source=source) as uow:
        row = _assessment_row(uow, assessment_id)
        g = guard.check(uow, CONFIRM, pcn_code=row.pcn_code)
        if row.status == DRAFT and row.submitted_at is None and g.role != "administrator":
            raise LockedError(f"The {row.year} assessment of {row.pcn_code} has not been submitted for agreement "
                              f"yet: its PCN lead submits it first.")
        if row.status != DRAFT:
            check_draft(row)
        before = row.submitted_at
        _set_status(uow, row, AGREED, expected_version)
        if before is not None:
            uow.set(row, {"submitted_by": None, "submitted_at": None})
            uow.audit("assessment", str(row.id), {"submitted_at": (before, None)})
        return queries.as_assessment(row)


def submit_assessment(store, assessment_id: int, *, by: str | None = None, expected_version: int,
                      source: str | None = None) -> Assessment:
    """The PCN lead submits a draft for agreement with the ICS: the ICS then sees it, and the
    draft is locked until the ICS confirms it or the PCN withdraws it."""
    with store.batch(by=by, source=source) as uow:
        row = _assessment_row(uow, assessment_id)
        guard.check(uow, SUBMIT, pcn_code=row.pcn_code)
        check_draft(row)
        return queries.as_assessment(_set_submitted(uow, row, True, expected_version))


def withdraw_submission(store, assessment_id: int, *, by: str | None = None, expected_version: int,
                        source: str | None = None) -> Assessment:
    """Take a submitted draft back to edit it again."""
    with store.batch(by=by, source=source) as uow:
        row = _assessment_row(uow, assessment_id)
        guard.check(uow, SUBMIT, pcn_code=row.pcn_code)
        if row.status != DRAFT or row.submitted_at is None:
            raise InputError(f"the {row.year} assessment of {row.pcn_code} is not waiting for agreement")
        return queries.as_assessment(_set_submitted(uow, row, False, expected_version))


def _set_submitted(uow: UnitOfWork, row: AssessmentRow, on: bool, expected: int) -> AssessmentRow:
    what = f"The {row.year} assessment of {row.pcn_code}"
    change = {"submitted_by": uow.by if on else None, "submitted_at": uow.at if on else None}
    if row.version != expected:
        raise uow.conflict(what, row, {"submitted": on}, expected, ["status"])
    before = row.submitted_at
    uow.update(row, change, conflict=lambda: uow.conflict(
        what, uow.get(AssessmentRow, row.id), {"submitted": on}, expected, ["status"]))
    uow.audit("assessment", str(row.id), {"submitted_at": (before, change["submitted_at"])})
    return row


def open_revision(store, assessment_id: int, *, by: str | None = None, source: str | None = None) -> Assessment:
    """A new draft copied from an agreed assessment (same PCN, year and matrix), ratings and all.

    The agreed one becomes 'superseded' and stays as read-only history; discarding the new
    draft reinstates it."""
    with store.batch(by=by, source=source) as uow:
        old = _assessment_row(uow, assessment_id)
        guard.check(uow, CONFIRM, pcn_code=old.pcn_code)
        if old.status != AGREED:
            raise InputError(f"only an agreed assessment can be revised; this one is {old.status}")
        matrix = uow.store.matrix(old.matrix_id, old.matrix_version)
        _set_status(uow, old, SUPERSEDED, None)
        new = _insert_assessment(uow, old.pcn_code, old.year, matrix, DRAFT, old.id)
        for r in uow.rows(RatingRow, assessment_id=old.id):
            _insert_rating(uow, new.id, r.element_id, {f: getattr(r, f) for f in RATING_FIELDS})
        return queries.as_assessment(new)


def start_year(store, pcn_code: str, year: str, matrix: Matrix | None = None, *, by: str | None = None,
               copy_from: int | None = None, source: str | None = None) -> Assessment:
    """A new draft for `year`, with last year's ratings as the starting point.

    Copies current stage, target stage and confidence from `copy_from` (default: the PCN's
    latest earlier assessment against the same matrix id). Evidence is NOT copied: it
    describes the year it was gathered in and must be looked at afresh, so each copied
    rating's note says where it came from instead. Element ids are carried across matrix
    versions directly or through the newer matrix's `supersedes` mapping; stages the new
    matrix does not have are left empty."""
    with store.batch(by=by, source=source) as uow:
        pcn = _pcn_row(uow, pcn_code)
        guard.check(uow, EDIT, pcn_code=pcn.code, ics_code=pcn.ics_code)
        year = check_year(year)
        matrix = uow.store.use_matrix(matrix)
        if copy_from is not None:
            source_row = _assessment_row(uow, copy_from)
            if source_row.pcn_code != pcn.code:
                raise InputError(f"assessment {copy_from} belongs to {source_row.pcn_code}, not {pcn.code}")
        else:
            source_row = uow.first(AssessmentRow, pcn_code=pcn.code, matrix_id=matrix.id, status__ne=SUPERSEDED,
                                   year__lt=year, order_by=["-year"])
        new = create_assessment(uow, pcn.code, year, matrix)
        if source_row is None:
            return new
        old_matrix = uow.store.matrices().get((source_row.matrix_id, source_row.matrix_version))
        mapping: dict[str, str] = {}
        if matrix.supersedes and (matrix.supersedes.matrix, matrix.supersedes.version) == (
                source_row.matrix_id, source_row.matrix_version):
            mapping = dict(matrix.supersedes.elements)
        elements, stages = set(matrix.element_ids()), set(matrix.stage_ids)
        state = "agreed" if source_row.status == AGREED else "draft"
        for r in uow.rows(RatingRow, assessment_id=source_row.id, order_by=["element_id"]):
            element = mapping.get(r.element_id, r.element_id)
            if element not in elements or (r.current_stage is None and r.target_stage is None):
                continue
            known = old_matrix is not None and r.element_id in old_matrix.element_ids()
            title = old_matrix.element(r.element_id).title if known else r.element_id
            _insert_rating(uow, new.id, element, {
                "current_stage": r.current_stage if r.current_stage in stages else None,
                "target_stage": r.target_stage if r.target_stage in stages else None,
                "confidence": r.confidence, "evidence": None,
                "note": f"Carried over from {source_row.year} ({state}, '{title}'); review the stage and add this "
                        f"year's evidence.",
            })
        return new


def discard_draft(store, assessment_id: int, *, by: str | None = None, expected_version: int,
                  source: str | None = None) -> None:
    """Delete a draft and its ratings. If it was a revision, the agreed one it replaced is reinstated."""
    with store.batch(by=by, source=source) as uow:
        row = _assessment_row(uow, assessment_id, lock="update")
        guard.check(uow, EDIT, pcn_code=row.pcn_code)
        if row.status != DRAFT:
            raise LockedError(f"only a draft can be discarded; the {row.year} assessment of {row.pcn_code} is "
                              f"{row.status}")
        if row.submitted_at is not None:
            raise LockedError(f"the {row.year} assessment of {row.pcn_code} is waiting for agreement with the ICS; "
                              f"withdraw the submission before discarding it")
        if row.version != expected_version:
            raise uow.conflict(f"The {row.year} assessment of {row.pcn_code}", row, {"status": "discarded"},
                               expected_version, ["status"])
        for r in uow.rows(RatingRow, assessment_id=row.id, order_by=["element_id"]):
            uow.audit("rating", f"{row.id}/{r.element_id}", {f: (getattr(r, f), None) for f in RATING_FIELDS})
        uow.audit("assessment", str(row.id), {f: (getattr(row, f), None) for f in ASSESSMENT_AUDIT_FIELDS})
        revision_of = row.revision_of
        uow.delete_where(RatingRow, assessment_id=row.id)
        uow.delete(row)
        if revision_of is not None:
            old = uow.get(AssessmentRow, revision_of)
            if old is not None and old.status == SUPERSEDED:
                _set_status(uow, old, AGREED, None)


def save_rating(store, assessment_id: int, element_id: str, *, by: str | None = None, expected_version: int | None,
                source: str | None = None, **fields: Any) -> Rating:
    """Set the given fields of one rating: current_stage, target_stage, evidence, note, confidence
    (fields not given stay as they are).

    `expected_version` is the version you read (0 if there was no rating yet). None skips the
    check: only inside a unit of work of a bulk import, whose every change is still audited."""
    unknown = set(fields) - set(RATING_FIELDS)
    if unknown:
        raise TypeError(f"unknown rating field(s): {', '.join(sorted(unknown))}")
    if expected_version is None and not isinstance(store, UnitOfWork):
        raise TypeError("expected_version is required (0 for a rating not saved before)")
    with store.batch(by=by, source=source) as uow:
        a = _assessment_row(uow, assessment_id, lock="share")
        guard.check(uow, EDIT, pcn_code=a.pcn_code)
        check_draft(a)
        matrix = uow.store.matrix(a.matrix_id, a.matrix_version)
        element_id = check_element(matrix, element_id)
        new = rating_values(matrix, **fields)
        what = f"The rating of '{matrix.element(element_id).title}' in the {a.year} assessment of {a.pcn_code}"
        row = uow.get(RatingRow, (a.id, element_id))
        stored_version = row.version if row is not None else 0
        if expected_version is not None and expected_version != stored_version:
            raise uow.conflict(what, row, new, expected_version, new.keys())

        def conflict():
            return uow.conflict(what, uow.get(RatingRow, (a.id, element_id)), new, expected_version, new.keys())

        if row is None:
            return queries.as_rating(_insert_rating_or_conflict(uow, a.id, element_id, new, conflict))
        changes = {k: (getattr(row, k), v) for k, v in new.items() if getattr(row, k) != v}
        if not changes:
            return queries.as_rating(row)
        uow.update(row, {k: v for k, (_, v) in changes.items()}, conflict=conflict)
        uow.audit("rating", f"{a.id}/{element_id}", changes)
        return queries.as_rating(row)


def _insert_rating_or_conflict(uow: UnitOfWork, assessment_id: int, element_id: str, values: Mapping[str, Any],
                               conflict) -> RatingRow:
    try:
        return _insert_rating(uow, assessment_id, element_id, values)
    except DuplicateError:
        raise conflict() from None

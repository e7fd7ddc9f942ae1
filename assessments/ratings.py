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
from .model import (AGREED, CONFIDENCES, DRAFT, RATING_FIELDS, SUPERSEDED, Assessment, AssessmentRecord, AuditEntry,
                    Rating, Submission, rating_audit_value)
from .organisations import default_matrix
from .organisations import pcn as get_pcn
from .years import check_startable
from .records import UnitOfWork, queries
from .records.tables import AssessmentRow, PcnRow, RatingRow
from .values import (DuplicateError, InputError, LockedError, NotFoundError, check_element, check_ics_code,
                     check_name, check_pcn_code, check_year, rating_values)

ASSESSMENT_AUDIT_FIELDS = ("pcn_code", "year", "matrix_id", "matrix_version", "status", "revision_of")
# Saving any of these, even unchanged, reviews a rating carried over from last year (the pages
# save only changes; evidence.confirm_element reviews one whose stages stay as they were).
REVIEWING_FIELDS = {"current_stage", "target_stage", "confidence", "not_applicable"}


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
        who, when = (a.confirmed_by, a.confirmed_at) if a.confirmed_at is not None else (a.updated_by, a.updated_at)
        raise LockedError(f"The {a.year} assessment of {a.pcn_code} was agreed by {who} on "
                          f"{when:%d %b %Y}; it is locked. Open a new draft from it to make changes.")
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

    if revision_of is None:  # a new year's assessment, not a revision of one (assessments.years)
        check_startable(year)
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
    """A new rating from `values` (RATING_FIELDS, and `carried_over` for one copied from last year)."""
    carried_over = bool(values.get("carried_over"))
    full = {f: values.get(f) for f in RATING_FIELDS}
    full["not_applicable"] = bool(full["not_applicable"])
    row = RatingRow(assessment_id=assessment_id, element_id=element_id, updated_by=uow.by, updated_at=uow.at,
                    carried_over=carried_over, **full)
    uow.add(row, duplicate=f"the rating of {element_id} already exists (someone saved it a moment ago)")
    audited = {f: (None, rating_audit_value(f, v)) for f, v in full.items()}
    if carried_over:
        audited["carried_over"] = (None, True)
    uow.audit("rating", f"{assessment_id}/{element_id}", audited)
    return row


def check_not_applicable(matrix: Matrix, element_id: str, value: Any) -> bool:
    """True/False for "does not apply here"; refused for an element whose matrix does not allow it."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InputError(f"'not applicable' must be true or false, not {value!r}")
    if value and not matrix.allows_not_applicable(element_id):
        raise InputError(f"'{matrix.element(element_id).title}' cannot be rated not applicable: {matrix.title} "
                         f"{matrix.version} does not allow it for this element")
    return value


def _with_not_applicable(matrix: Matrix, element_id: str, new: dict[str, Any], fields: Mapping[str, Any],
                         stored: RatingRow | None) -> dict[str, Any]:
    """The checked values with "not applicable" kept consistent with the stages: marking an
    element not applicable clears its stages (naming a stage as well is refused); choosing a
    stage for an element marked not applicable means it applies after all."""
    if "not_applicable" in fields:
        na = check_not_applicable(matrix, element_id, fields["not_applicable"])
        new["not_applicable"] = na
        if na:
            staged = [f for f in ("current_stage", "target_stage") if new.get(f) is not None]
            if staged:
                raise InputError(f"'{matrix.element(element_id).title}' is rated not applicable, so it takes no "
                                 f"{' or '.join(f.replace('_', ' ') for f in staged)}: leave the stages empty")
            new["current_stage"] = new["target_stage"] = None
    elif stored is not None and stored.not_applicable and any(
            new.get(f) is not None for f in ("current_stage", "target_stage")):
        new["not_applicable"] = False
    return new


# ---------------------------------------------------------------------------------------------
# Writes

def create_assessment(store, pcn_code: str, year: str, matrix: Matrix | None = None, *, by: str | None = None,
                      source: str | None = None) -> Assessment:
    """A new draft assessment (no ratings yet)."""
    with store.batch(by=by, source=source) as uow:
        pcn = _pcn_row(uow, pcn_code)
        guard.check(uow, EDIT, pcn_code=pcn.code, ics_code=pcn.ics_code)
        year = check_year(year)
        matrix = uow.store.use_matrix(matrix or default_matrix(uow, pcn.ics_code))  # the ICS's choice
        existing = live_row(uow, pcn.code, year, matrix.id)
        if existing is not None:
            raise DuplicateError(f"{pcn.code} already has a {existing.status} {year} assessment against "
                                 f"{matrix.id} (id {existing.id})")
        return queries.as_assessment(_insert_assessment(uow, pcn.code, year, matrix, DRAFT, None))


def confirm_assessment(store, assessment_id: int, *, by: str | None = None, expected_version: int,
                       source: str | None = None) -> Assessment:
    """The ICS's side of the agreement: a facilitator of the PCN's ICS (or an administrator)
    confirms what the PCN lead submitted, and it becomes agreed and locked. Who submitted it and
    who confirmed it, and when, stay on the assessment for the plan's sign-off. An administrator
    may also agree a draft nobody submitted (the command line, the laptop)."""
    with store.batch(by=by, source=source) as uow:
        row = _assessment_row(uow, assessment_id)
        g = guard.check(uow, CONFIRM, pcn_code=row.pcn_code)
        if row.status == DRAFT and row.submitted_at is None and g.role != "administrator":
            raise LockedError(f"The {row.year} assessment of {row.pcn_code} has not been submitted for agreement "
                              f"yet: its PCN lead submits it first.")
        if row.status != DRAFT:
            check_draft(row)
        _set_status(uow, row, AGREED, expected_version)
        uow.set(row, {"confirmed_by": uow.by, "confirmed_at": uow.at})
        uow.audit("assessment", str(row.id), {"confirmed_by": (None, uow.by), "confirmed_at": (None, uow.at)})
        return queries.as_assessment(row)


agree_assessment = confirm_assessment  # the name the command line, the demo and imports know


def return_assessment(store, assessment_id: int, *, by: str | None = None, expected_version: int, comment: str,
                      source: str | None = None) -> Assessment:
    """The ICS returns a submitted assessment to the PCN with a comment: it is a draft again, which
    the PCN can change and submit again; the comment is shown to the PCN until then."""
    with store.batch(by=by, source=source) as uow:
        row = _assessment_row(uow, assessment_id)
        guard.check(uow, CONFIRM, pcn_code=row.pcn_code)
        if row.status != DRAFT:
            check_draft(row)
        if row.submitted_at is None:
            raise InputError(f"the {row.year} assessment of {row.pcn_code} is not waiting for agreement, so it "
                             f"cannot be returned")
        comment = check_name(comment, "the comment for the PCN (what should change before it is agreed)", 2_000)
        what = f"The {row.year} assessment of {row.pcn_code}"
        if row.version != expected_version:
            raise uow.conflict(what, row, {"returned": True}, expected_version, ["status"])
        before = {k: getattr(row, k) for k in ("submitted_by", "submitted_at", "returned_by", "returned_at",
                                               "return_comment")}
        change = {"submitted_by": None, "submitted_at": None, "returned_by": uow.by, "returned_at": uow.at,
                  "return_comment": comment}
        uow.update(row, change, conflict=lambda: uow.conflict(
            what, uow.get(AssessmentRow, row.id), {"returned": True}, expected_version, ["status"]))
        uow.audit("assessment", str(row.id), {k: (before[k], v) for k, v in change.items() if k != "submitted_by"})
        return queries.as_assessment(row)


def submit_assessment(store, assessment_id: int, *, by: str | None = None, expected_version: int,
                      source: str | None = None) -> Submission:
    """The PCN lead submits a draft for agreement with the ICS: the ICS then sees it, and the
    draft is locked until the ICS confirms it or returns it, or the PCN withdraws it.

    It is submitted whatever the warnings say (elements not rated, without current evidence, or
    carried over from last year and not reviewed): they are returned for the page to show, as
    the page showed them before the button (evidence.submission_warnings)."""
    from . import evidence  # evidence uses this module's rules; imported here to avoid a cycle

    with store.batch(by=by, source=source) as uow:
        row = _assessment_row(uow, assessment_id)
        guard.check(uow, SUBMIT, pcn_code=row.pcn_code)
        check_draft(row)
        warnings = evidence.warnings_in(uow, row)
        return Submission(queries.as_assessment(_set_submitted(uow, row, True, expected_version)), warnings)


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
            _insert_rating(uow, new.id, r.element_id,
                           {**{f: getattr(r, f) for f in RATING_FIELDS}, "carried_over": r.carried_over})
        from . import evidence  # see submit_assessment

        evidence.copy_for_revision(uow, old.id, new.id)
        return queries.as_assessment(new)


def _lineage(matrix: Matrix, matrices: Mapping[tuple[str, str], Matrix]) -> list[str]:
    """The matrix id, then each id it continues through `supersedes` (a renamed model's old id)."""
    ids, m, seen = [matrix.id], matrix, {matrix.key}
    while m.supersedes is not None:
        key = (m.supersedes.matrix, m.supersedes.version)
        if m.supersedes.matrix not in ids:
            ids.append(m.supersedes.matrix)
        m = matrices.get(key)
        if m is None or key in seen:
            break
        seen.add(key)
    return ids


_CONFIDENCE_ORDER = {c: i for i, c in enumerate(CONFIDENCES)}


def _lowest(values: list[Any], order: Mapping[Any, int]) -> Any:
    """The lowest of the values that are set, by `order`; None when none is."""
    known = [v for v in values if v in order]
    return min(known, key=order.__getitem__) if known else None


def element_map(old_ids, old_key: tuple[str, str], new: Matrix,
                matrices: Mapping[tuple[str, str], Matrix]) -> dict[str, tuple[str, ...]]:
    """Old element id -> the ids of `new` that continue it, following every `supersedes` step
    from the older matrix (without a path, ids the new matrix has carry across as they are)."""
    from .scoring import carry_over, supersedes_path

    steps, _ = supersedes_path(old_key, new, matrices)
    ids = set(new.element_ids())
    old_ids = sorted(set(old_ids))
    return carry_over(old_ids, steps) if steps is not None else {e: ((e,) if e in ids else ()) for e in old_ids}


def carried_ratings(rows: list[Any], old: Matrix | None, old_key: tuple[str, str], new: Matrix,
                    matrices: Mapping[tuple[str, str], Matrix], year: str, state: str) -> dict[str, dict[str, Any]]:
    """What `start_year` writes: new element id -> rating values, from the older year's ratings
    (`rows`: objects with element_id, current_stage, target_stage, confidence, not_applicable).

    Element ids follow every `supersedes` step from the older matrix to `new` (without a path,
    ids the new matrix has carry across as they are):
    - a rename carries the rating across;
    - a split (one old element -> several new ones) gives each new element the old rating;
    - a merge (several old elements -> one new one) keeps the LOWER of the sources' current
      stages, and the lower of their targets and confidences: the conservative start, to be
      reviewed; the note names every source and its stage;
    - a retired old element is not carried; a new element starts unrated.
    Stages the new matrix does not have are left empty; "not applicable" carries where every
    source was and the new element allows it."""
    goes = element_map({r.element_id for r in rows}, old_key, new, matrices)
    by_new: dict[str, list[Any]] = {}
    for r in sorted(rows, key=lambda r: r.element_id):
        if r.current_stage is None and r.target_stage is None and not r.not_applicable:
            continue
        for n in goes.get(r.element_id, ()):
            by_new.setdefault(n, []).append(r)
    order = {sid: i for i, sid in enumerate(new.stage_ids)}
    known = set(old.element_ids()) if old is not None else set()

    def title(eid: str) -> str:
        return old.element(eid).title if eid in known else eid

    def stage_name(r) -> str:
        if r.not_applicable:
            return "not applicable"
        if r.current_stage is None:
            return "no current stage"
        return new.stage(r.current_stage).label if r.current_stage in order else r.current_stage

    out: dict[str, dict[str, Any]] = {}
    parts = {e: len(news) for e, news in goes.items()}  # how many new elements each old one became
    for eid in new.element_ids():
        sources = by_new.get(eid)
        if not sources:
            continue
        rated = [r for r in sources if not r.not_applicable]
        na = not rated and new.allows_not_applicable(eid)
        values = {
            "current_stage": None if na else _lowest([r.current_stage for r in rated], order),
            "target_stage": None if na else _lowest([r.target_stage for r in rated], order),
            "confidence": _lowest([r.confidence for r in sources], _CONFIDENCE_ORDER),
            "not_applicable": na, "evidence": None,
        }
        if len(sources) > 1:
            named = ", ".join(f"'{title(r.element_id)}' ({stage_name(r)})" for r in sources)
            origin = (f"merged from {len(sources)} elements of {year} ({state}): {named}. The lower of their stages "
                      f"is kept")
        else:
            r = sources[0]
            origin = f"from {year} ({state}, '{title(r.element_id)}'" + (
                f", now split into {parts[r.element_id]} elements)" if parts[r.element_id] > 1 else ")")
            if r.not_applicable and not na:
                origin += f"; it was not applicable then, which {new.title} does not allow for this element"
        values["note"] = f"Carried over {origin}; review the stage and add this year's evidence."
        out[eid] = values
    return out


def start_year(store, pcn_code: str, year: str, matrix: Matrix | None = None, *, by: str | None = None,
               copy_from: int | None = None, source: str | None = None) -> Assessment:
    """A new draft for `year`, with last year's ratings as the starting point.

    Copies current stage, target stage, confidence and "not applicable" from `copy_from`
    (default: the PCN's latest earlier live assessment against the same matrix, or one it
    continues through `supersedes`), each rating marked carried over until someone reviews it.
    The evidence items come too, marked carried over until someone confirms they still hold
    (assessments.evidence); the summary evidence text does not: it describes the year it was
    written in, so each copied rating's note says where it came from instead. How elements carry
    across matrix versions (renames, merges, splits, retired and new elements): `carried_ratings`.
    One transaction: if anything fails, nothing is written."""
    with store.batch(by=by, source=source) as uow:
        pcn = _pcn_row(uow, pcn_code)
        guard.check(uow, EDIT, pcn_code=pcn.code, ics_code=pcn.ics_code)
        year = check_year(year)
        matrix = uow.store.use_matrix(matrix or default_matrix(uow, pcn.ics_code))  # the ICS's choice
        matrices = uow.store.matrices()
        if copy_from is not None:
            source_row = _assessment_row(uow, copy_from)
            if source_row.pcn_code != pcn.code:
                raise InputError(f"assessment {copy_from} belongs to {source_row.pcn_code}, not {pcn.code}")
        else:
            lineage = _lineage(matrix, matrices)
            earlier = uow.rows(AssessmentRow, pcn_code=pcn.code, matrix_id__in=lineage, status__ne=SUPERSEDED,
                               year__lt=year)
            source_row = max(earlier, key=lambda a: (a.year, -lineage.index(a.matrix_id)), default=None)
        new = create_assessment(uow, pcn.code, year, matrix)
        if source_row is None:
            return new
        key = (source_row.matrix_id, source_row.matrix_version)
        state = "agreed" if source_row.status == AGREED else "draft"
        rows = uow.rows(RatingRow, assessment_id=source_row.id, order_by=["element_id"])
        for element, values in carried_ratings(rows, matrices.get(key), key, matrix, matrices, source_row.year,
                                               state).items():
            _insert_rating(uow, new.id, element, {**values, "carried_over": True})
        from . import evidence  # see submit_assessment
        from .records.tables import EvidenceRow

        with_evidence = uow.column(EvidenceRow, "element_id", distinct=True, assessment_id=source_row.id)
        evidence.carry_forward(uow, source_row.id, new.id, element_map(with_evidence, key, matrix, matrices),
                               source_row.year)
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
            uow.audit("rating", f"{row.id}/{r.element_id}",
                      {f: (rating_audit_value(f, getattr(r, f)), None) for f in RATING_FIELDS})
        uow.audit("assessment", str(row.id), {f: (getattr(row, f), None) for f in ASSESSMENT_AUDIT_FIELDS})
        revision_of = row.revision_of
        from . import evidence  # see submit_assessment

        evidence.delete_for(uow, row.id)
        uow.delete_where(RatingRow, assessment_id=row.id)
        uow.delete(row)
        if revision_of is not None:
            old = uow.get(AssessmentRow, revision_of)
            if old is not None and old.status == SUPERSEDED:
                _set_status(uow, old, AGREED, None)


def save_rating(store, assessment_id: int, element_id: str, *, by: str | None = None, expected_version: int | None,
                source: str | None = None, **fields: Any) -> Rating:
    """Set the given fields of one rating: current_stage, target_stage, evidence, note, confidence,
    not_applicable (fields not given stay as they are). Not applicable only where the element's
    matrix allows it; it clears the stages.

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
        new = rating_values(matrix, **{k: v for k, v in fields.items() if k != "not_applicable"})
        what = f"The rating of '{matrix.element(element_id).title}' in the {a.year} assessment of {a.pcn_code}"
        row = uow.get(RatingRow, (a.id, element_id))
        new = _with_not_applicable(matrix, element_id, new, fields, row)
        stored_version = row.version if row is not None else 0
        if expected_version is not None and expected_version != stored_version:
            raise uow.conflict(what, row, new, expected_version, new.keys())

        def conflict():
            return uow.conflict(what, uow.get(RatingRow, (a.id, element_id)), new, expected_version, new.keys())

        if row is None:
            return queries.as_rating(_insert_rating_or_conflict(uow, a.id, element_id, new, conflict))
        changes = {k: (getattr(row, k), v) for k, v in new.items() if getattr(row, k) != v}
        if row.carried_over and set(new) & REVIEWING_FIELDS:
            changes["carried_over"] = (True, False)  # someone chose the stage this year, even the same one
        if not changes:
            return queries.as_rating(row)
        uow.update(row, {k: v for k, (_, v) in changes.items()}, conflict=conflict)
        uow.audit("rating", f"{a.id}/{element_id}",
                  {k: (rating_audit_value(k, b), rating_audit_value(k, v)) for k, (b, v) in changes.items()})
        return queries.as_rating(row)


def _insert_rating_or_conflict(uow: UnitOfWork, assessment_id: int, element_id: str, values: Mapping[str, Any],
                               conflict) -> RatingRow:
    try:
        return _insert_rating(uow, assessment_id, element_id, values)
    except DuplicateError:
        raise conflict() from None

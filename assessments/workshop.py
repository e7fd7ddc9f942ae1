"""Workshop mode: several people rate one PCN's elements on their own phones or laptops, the
room sees how far apart the views are, and the facilitator records the agreed stage per element,
which then becomes the PCN's assessment for the year.

People join with a short code and a display name; they are not audit actors, so their names live
only in these tables. Each gets a secret token (kept in their browser) to carry on after a reload.
The facilitator's actions (open, pause, reveal, agree, write to the assessment) go through the
store's batches, with audit rows whose source names the workshop.

Concurrency: every write locks the workshop's row first (SQLite: the store's IMMEDIATE writer;
PostgreSQL: an UPDATE of that row) and bumps its `version`, so a pause and a rating in flight
are ordered, a rating can never land in a paused or closed workshop, and readers can tell at a
glance whether anything changed. A rating is one row per workshop, participant and element,
written with INSERT ... ON CONFLICT DO UPDATE, so re-rating replaces it and nothing is counted twice.
"""
from __future__ import annotations

import hashlib
import secrets
import string
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from matrix import Matrix

from .scoring import (DomainScore, agreement_words, consensus, consensus_profile, participant_profiles, workshop_frame,
                      workshop_summary)
from . import guard, oplog
from .years import check_startable
from . import organisations as orgs
from .access import LEAD, RUN_WORKSHOP, AccessDenied, Grant, allowed
from .limits import RateLimiter
from .model import AGREED
from .records import UnitOfWork
from .records import workshops as rows
from .records.tables import ConsensusRow, PcnRow, WorkshopRow
from .values import (DuplicateError, InputError, LockedError, NotFoundError, StoreError, check_element, check_name,
                     check_pcn_code, check_stage, check_text)
from . import ratings as assessing

OPEN, PAUSED, CLOSED = "open", "paused", "closed"
STATUSES = (OPEN, PAUSED, CLOSED)
# No 0/O, 1/I/L: the code is read off a projector across a room and typed on a phone.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
# 31^8 (about 8.5e11) codes: with a few dozen live workshops and wrong codes limited per client
# (JOIN_LIMIT), guessing one is hopeless. Shown and typed as two groups of four.
CODE_LENGTH = 8
MAX_PARTICIPANTS = 80  # a workshop room; stops a flood of fake joins filling the projector
JOIN_LIMIT = RateLimiter(limit=10, per_seconds=60.0)  # wrong codes per client a minute
ROLES = ("Clinical director", "Practice manager", "GP", "Practice nurse", "Additional roles staff",
         "Community services", "Social care", "Voluntary sector", "ICB / ICS", "Patient representative", "Other")
MAX_NAME = 60
MAX_COMMENT = 2_000
MAX_NOTE = 5_000


class NotOpenError(StoreError):
    """A rating sent while the workshop is paused or closed. Nothing was written."""


# ---------------------------------------------------------------------------------------------
# What callers get back

@dataclass(frozen=True, slots=True)
class Workshop:
    id: int
    code: str
    pcn_code: str
    year: str
    matrix_id: str
    matrix_version: str
    status: str
    revealed: bool
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    applied_by: str | None
    applied_at: datetime | None
    applied_assessment_id: int | None
    version: int
    rate_target: bool = False  # participants rate the target stage too (chosen when opening)

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    @property
    def source(self) -> str:
        """What the audit log says a change came from."""
        return f"workshop {self.code}"


@dataclass(frozen=True, slots=True)
class Participant:
    id: int
    workshop_id: int
    name: str
    role: str
    joined_at: datetime
    token: str | None = None  # only when just joined: the one time the secret is known here


@dataclass(frozen=True, slots=True)
class ParticipantRating:
    participant_id: int
    participant: str  # display name
    role: str
    element_id: str
    stage: str
    comment: str | None
    updated_at: datetime
    target_stage: str | None = None  # only in workshops that rate targets


@dataclass(frozen=True, slots=True)
class AgreedRating:
    element_id: str
    stage: str
    note: str | None
    updated_by: str
    updated_at: datetime
    target_stage: str | None = None


@dataclass(frozen=True, slots=True)
class ElementSummary:
    domain_id: str
    element_id: str
    element_title: str
    n: int
    median: int | None  # lower median, a stage position
    low: int | None
    high: int | None
    iqr: float | None  # in stages
    agreement: float | None  # scoring.agreement: 0 none to 1 full; None with fewer than 2 ratings
    split: bool  # views differ: agreement below scoring.AGREEMENT_THRESHOLD
    ratings: tuple[ParticipantRating, ...]
    agreed: AgreedRating | None
    target_median: int | None = None  # lower median of the targets rated, a stage position

    def median_stage(self, matrix: Matrix) -> str | None:
        return matrix.stage_ids[self.median] if self.median is not None else None

    def target_median_stage(self, matrix: Matrix) -> str | None:
        return matrix.stage_ids[self.target_median] if self.target_median is not None else None

    @property
    def agreement_words(self) -> str:
        return agreement_words(self.agreement)


@dataclass(frozen=True, slots=True)
class DomainSummary:
    domain_id: str
    title: str
    elements: tuple[ElementSummary, ...]

    @property
    def n_split(self) -> int:
        return sum(e.split for e in self.elements)

    @property
    def mean_iqr(self) -> float:
        rated = [e.iqr for e in self.elements if e.iqr is not None]
        return sum(rated) / len(rated) if rated else 0.0

    @property
    def mean_agreement(self) -> float | None:
        """The mean agreement of the elements with 2 or more ratings; None if there are none."""
        known = [e.agreement for e in self.elements if e.agreement is not None]
        return sum(known) / len(known) if known else None


@dataclass(frozen=True)
class WorkshopSummary:
    """Everything the projector shows, read in one go. `domains` has the least agreement first
    (lowest mean agreement, then most elements whose views differ; domains with no element rated
    twice last), elements in matrix order within each."""
    workshop: Workshop
    matrix: Matrix
    participants: tuple[Participant, ...]
    domains: tuple[DomainSummary, ...]
    frame: pd.DataFrame  # scoring.workshop_frame: one row per rating, in display order
    table: pd.DataFrame  # scoring.workshop_summary, rows in display order
    profiles: pd.DataFrame  # scoring.participant_profiles
    median_profile: tuple[DomainScore, ...]  # scoring.consensus_profile

    @property
    def elements(self) -> list[ElementSummary]:
        return [e for d in self.domains for e in d.elements]

    def element(self, element_id: str) -> ElementSummary:
        return next(e for e in self.elements if e.element_id == element_id)

    @property
    def n_ratings(self) -> int:
        return sum(e.n for e in self.elements)

    @property
    def n_split(self) -> int:
        return sum(d.n_split for d in self.domains)

    @property
    def n_agreed(self) -> int:
        return sum(e.agreed is not None for e in self.elements)


@dataclass(frozen=True, slots=True)
class ApplyResult:
    assessment_id: int
    created: bool  # a new draft was made for the year
    written: int  # elements whose agreed stage was written
    unchanged: int  # elements that already said so


def _workshop(r) -> Workshop:
    return Workshop(r.id, r.code, r.pcn_code, r.year, r.matrix_id, r.matrix_version, r.status, bool(r.revealed),
                    r.created_by, r.created_at, r.updated_by, r.updated_at, r.applied_by, r.applied_at,
                    r.applied_assessment_id, r.version, bool(r.rate_target))


def _participant(r, token: str | None = None) -> Participant:
    return Participant(r.id, r.workshop_id, r.name, r.role, r.joined_at, token)


# ---------------------------------------------------------------------------------------------
# Plain values

def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(value: Any) -> str:
    """'abc 234' -> 'ABC234'. Raises InputError for anything that cannot be a join code."""
    raw = str(value or "")
    code = "".join(ch for ch in raw.upper() if ch not in string.whitespace + "-")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        shown = raw.strip() or "(empty)"
        raise InputError(f"'{shown}' is not a workshop code: codes are {CODE_LENGTH} letters and digits, "
                         f"like the one on the facilitator's screen")
    return code


def _token_hash(token: str) -> str:
    return hashlib.sha256(str(token).encode("utf-8")).hexdigest()


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


def _now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------------------------------
# Reads

def get_workshop(store, workshop_id: int) -> Workshop:
    """A workshop, for whoever may run workshops for its PCN (participants use their token)."""
    with store.read() as r:
        row = rows.workshop(r, id=int(workshop_id))
    if row is None:
        raise NotFoundError(f"there is no workshop with id {workshop_id}")
    guard.check(store, RUN_WORKSHOP, pcn_code=row.pcn_code)
    return _workshop(row)


def find_workshop(store, code: str) -> Workshop:
    """The workshop a join code names: the one not closed, else the latest closed one."""
    code = normalise_code(code)
    with store.read() as r:
        row = rows.by_code(r, code, closed=CLOSED)
    if row is None:
        raise NotFoundError(f"No workshop has the code {code}. Check the code on the facilitator's screen.")
    return _workshop(row)


def workshops(store, *, pcn_code: str | None = None, include_closed: bool = True) -> list[Workshop]:
    """The workshops the principal may run, newest first."""
    with store.read() as r:
        found = [_workshop(x) for x in rows.workshops(
            r, pcn_code=check_pcn_code(pcn_code) if pcn_code is not None else None,
            exclude_status=None if include_closed else CLOSED)]
    v = guard.Visibility(store)
    return v.keep(found, lambda _depth, w: allowed(v.p, RUN_WORKSHOP, ics_code=v.ics_of(w.pcn_code),
                                                   pcn_code=w.pcn_code))


def workshop_version(store, workshop_id: int) -> int:
    """Changes whenever anything in the workshop changes (a rating, a pause, an agreed stage)."""
    with store.read() as r:
        v = rows.version(r, int(workshop_id))
    if v is None:
        raise NotFoundError(f"there is no workshop with id {workshop_id}")
    return v


def participants(store, workshop_id: int) -> list[Participant]:
    get_workshop(store, workshop_id)
    with store.read() as r:
        return [_participant(x) for x in rows.participants(r, int(workshop_id))]


def rejoin(store, token: str, code: str | None = None) -> tuple[Workshop, Participant]:
    """The participant a rejoin token belongs to (and their workshop). With `code`, the token must
    belong to that workshop."""
    with store.read() as r:
        p = rows.participant_by_token(r, _token_hash(token or ""))
        w = rows.workshop(r, id=p.workshop_id) if p is not None else None
    if p is None or w is None or (code is not None and w.code != normalise_code(code)):
        raise NotFoundError("This link does not match anyone who joined the workshop. Join again with the code.")
    return _workshop(w), _participant(p)


def my_ratings(store, token: str) -> dict[str, ParticipantRating]:
    """One participant's ratings by element id."""
    w, p = rejoin(store, token)
    with store.read() as r:
        return {x.element_id: ParticipantRating(p.id, p.name, p.role, x.element_id, x.stage, x.comment, x.updated_at,
                                                x.target_stage)
                for x in rows.ratings(r, w.id, p.id)}


def summary(store, workshop_id: int) -> WorkshopSummary:
    """Per element: how many rated, the median, the spread, the agreement and whether views
    differ, each rating (with its target, where the workshop rates targets) and the targets'
    median; per domain, least agreement first; the agreed stages recorded so far. Four queries. For whoever runs
    the workshop; participants see it through `results` once it is revealed."""
    get_workshop(store, workshop_id)
    return _summary(store, workshop_id)


def pcn_name(store, token: str) -> str:
    """The name of the PCN a participant's workshop is for (their capability covers that much)."""
    w, _p = rejoin(store, token)
    with store.read() as r:
        row = r.get(PcnRow, w.pcn_code)
    return row.name if row is not None else w.pcn_code


def results(store, token: str, *, max_age: float = 0.0) -> WorkshopSummary:
    """What a participant may see of the group: the summary, once the facilitator has revealed it.
    `max_age`: results up to that many seconds old will do (a phone's view while the room rates)."""
    w, _p = rejoin(store, token)
    if not w.revealed:
        raise AccessDenied("The facilitator has not shown the group's results yet.")
    return _summary(store, w.id, max_age)


# Summaries of recent workshop versions, shared by every caller in the process: once results are
# revealed, each of 60 phones asks for the same version at once, and building one takes about
# 0.1 s of CPU (py-spy: most of the app's time while a revealed room rated). A version is
# immutable: anything that changes the workshop moves it.
SUMMARIES_KEPT = 32
_summaries: OrderedDict[tuple, WorkshopSummary] = OrderedDict()
_summaries_lock = threading.Lock()


_latest: dict[tuple, tuple[float, tuple]] = {}  # (database, workshop, catalog) -> (built at, key)


def _summary(store, workshop_id: int, max_age: float = 0.0) -> WorkshopSummary:
    """The summary at the workshop's current version; with `max_age`, one built at most that many
    seconds ago will do, if the workshop's state (open, paused, revealed) is the same."""
    with store.read() as r:
        w = rows.workshop(r, id=int(workshop_id))
        if w is None:
            raise NotFoundError(f"there is no workshop with id {workshop_id}")
        where = (str(store.store.url), w.id, store.store.catalog_generation())
        key = (*where, w.version)
        with _summaries_lock:
            kept = _summaries.get(key)
            if kept is None and max_age > 0 and where in _latest:
                at, recent = _latest[where]
                old = _summaries.get(recent)
                if old is not None and time.monotonic() - at < max_age and \
                        (old.workshop.status, old.workshop.revealed) == (w.status, bool(w.revealed)):
                    kept = old
        if kept is not None:
            return kept
        people = [_participant(x) for x in rows.participants(r, w.id)]
        rated = rows.ratings(r, w.id)
        agreed = {x.element_id: AgreedRating(x.element_id, x.stage, x.note, x.updated_by, x.updated_at, x.target_stage)
                  for x in rows.consensus(r, w.id)}
    w = _workshop(w)
    matrix = store.store.matrix(w.matrix_id, w.matrix_version)
    by_id = {p.id: p for p in people}
    order = {p.id: i for i, p in enumerate(people)}
    known = set(matrix.element_ids())
    ratings = sorted((ParticipantRating(r.participant_id, by_id[r.participant_id].name, by_id[r.participant_id].role,
                                        r.element_id, r.stage, r.comment, r.updated_at,
                                        r.target_stage if r.target_stage in matrix.stage_ids else None)
                      for r in rated if r.element_id in known and r.stage in matrix.stage_ids),
                     key=lambda r: order[r.participant_id])
    frame = workshop_frame(matrix, [{"participant": r.participant, "element_id": r.element_id, "stage": r.stage}
                                    for r in ratings])
    table = workshop_summary(matrix, frame)
    by_element: dict[str, list[ParticipantRating]] = {}
    for r in ratings:
        by_element.setdefault(r.element_id, []).append(r)
    stats = {t.element_id: t for t in table.itertuples()}

    def num(x, kind=int):
        return None if pd.isna(x) else kind(x)

    n_stages = len(matrix.stages)
    domains = []
    for d in matrix.domains:
        elements = []
        for e in d.elements:
            t = stats[e.id]
            mine = tuple(by_element.get(e.id, ()))
            targets = consensus([matrix.stage_ids.index(x.target_stage) for x in mine if x.target_stage], n_stages)
            elements.append(ElementSummary(d.id, e.id, e.title, int(t.n), num(t.median), num(t.low), num(t.high),
                                           num(t.iqr, float), num(t.agreement, float), bool(t.split), mine,
                                           agreed.get(e.id), targets.median))
        domains.append(DomainSummary(d.id, d.title, tuple(elements)))
    position = {d.id: i for i, d in enumerate(matrix.domains)}
    # Least agreement first; domains where no element has two ratings yet (no measure) go last.
    domains.sort(key=lambda d: (d.mean_agreement is None, d.mean_agreement or 0.0, -d.n_split,
                                position[d.domain_id]))
    shown = [e.element_id for d in domains for e in d.elements]
    table = table.set_index("element_id").loc[shown].reset_index()[table.columns]
    rank = {e: i for i, e in enumerate(shown)}
    frame = frame.sort_values("element_id", key=lambda c: c.map(rank), kind="stable").reset_index(drop=True)
    built = WorkshopSummary(w, matrix, tuple(people), tuple(domains), frame, table,
                            participant_profiles(matrix, frame), tuple(consensus_profile(matrix, frame)))
    with _summaries_lock:
        _summaries[key] = built
        _latest[where] = (time.monotonic(), key)
        while len(_summaries) > SUMMARIES_KEPT:
            _summaries.popitem(last=False)
    return built


# ---------------------------------------------------------------------------------------------
# Writes. Each takes the workshop's row lock first, then writes, in one transaction.

def _lock(db, workshop_id: int, *, require_open: bool = False, what: str = ""):
    """Lock the workshop's row and bump its version; the row as it was before. With `require_open`,
    a paused or closed workshop raises NotOpenError and nothing is written."""
    done, row = rows.lock(db, int(workshop_id), only_status=OPEN if require_open else None)
    if row is None:
        raise NotFoundError(f"there is no workshop with id {workshop_id}")
    if not done:
        if row.status == PAUSED:
            raise NotOpenError(f"The facilitator has paused rating for a moment, so {what or 'this'} was not saved. "
                               "Your earlier ratings are safe; try again when rating resumes.")
        raise NotOpenError(f"This workshop has closed, so {what or 'this'} was not saved. Ratings made before it "
                           "closed are kept.")
    return row


@contextmanager
def _facilitator(store, workshop_id: int, by: str | None) -> Iterator[tuple[UnitOfWork, Any]]:
    w = get_workshop(store, workshop_id)
    with store.batch(by=by, source=w.source) as b:
        guard.check(b, RUN_WORKSHOP, pcn_code=w.pcn_code)
        yield b, _lock(b, w.id)


def _set(b: UnitOfWork, row, **values: Any) -> Workshop:
    changes = {k: (getattr(row, k), v) for k, v in values.items() if getattr(row, k) != v}
    rows.set_workshop(b, row.id, {**values, "updated_by": b.by, "updated_at": b.at})
    b.audit("workshop", str(row.id), changes)
    return _workshop(rows.workshop(b, id=row.id))


def open_workshop(store, pcn_code: str, year: str, matrix: Matrix | None = None, *,
                  by: str | None = None, rate_target: bool = False) -> Workshop:
    """A new open workshop with a join code no other open or paused workshop has. With
    `rate_target`, participants rate the target stage as well as the current one."""
    year = check_startable(year)
    pcn = orgs.pcn(store, pcn_code)
    matrix = store.store.use_matrix(matrix or orgs.default_matrix(store, pcn.ics_code))  # the ICS's choice
    guard.check(store, RUN_WORKSHOP, pcn_code=pcn.code, ics_code=pcn.ics_code)
    for _attempt in range(20):
        code = new_code()
        try:
            with store.batch(by=by, source=f"workshop {code}") as b:
                guard.check(b, RUN_WORKSHOP, pcn_code=pcn.code, ics_code=pcn.ics_code)
                row = b.add(WorkshopRow(code=code, pcn_code=pcn.code, year=year, matrix_id=matrix.id,
                                        matrix_version=matrix.version, status=OPEN, revealed=False,
                                        rate_target=bool(rate_target), created_by=b.by, created_at=b.at,
                                        updated_by=b.by, updated_at=b.at, version=1),
                            duplicate=f"the code {code} is in use")
                b.audit("workshop", str(row.id), {"code": (None, code), "pcn_code": (None, pcn.code),
                                                  "year": (None, year), "matrix_id": (None, matrix.id),
                                                  "matrix_version": (None, matrix.version), "status": (None, OPEN),
                                                  "rate_target": (None, bool(rate_target))})
                return _workshop(row)
        except DuplicateError:
            continue  # that code is in use by a live workshop: draw another
    raise StoreError("could not find a free workshop code; close some old workshops and try again")


def _status(store, workshop_id: int, status: str, by: str | None) -> Workshop:
    with _facilitator(store, workshop_id, by) as (b, row):
        if row.status == status:
            return _workshop(rows.workshop(b, id=row.id))
        with b.savepoint(duplicate=f"the code {row.code} is now used by another open workshop, so this one "
                                   "cannot be reopened; open a new workshop instead"):
            return _set(b, row, status=status)


def pause(store, workshop_id: int, *, by: str | None = None) -> Workshop:
    """Stop ratings for a moment (while the room talks); ratings sent meanwhile are refused."""
    return _status(store, workshop_id, PAUSED, by)


def resume(store, workshop_id: int, *, by: str | None = None) -> Workshop:
    """Open for ratings again (also a closed workshop, while its code is still free)."""
    return _status(store, workshop_id, OPEN, by)


def close(store, workshop_id: int, *, by: str | None = None) -> Workshop:
    """No more ratings. Agreed stages can still be recorded and written to the assessment."""
    return _status(store, workshop_id, CLOSED, by)


def reveal(store, workshop_id: int, *, by: str | None = None, revealed: bool = True) -> Workshop:
    """Let participants see the group's results (or hide them again with revealed=False)."""
    with _facilitator(store, workshop_id, by) as (b, row):
        return _set(b, row, revealed=bool(revealed))


def hide(store, workshop_id: int, *, by: str | None = None) -> Workshop:
    return reveal(store, workshop_id, by=by, revealed=False)


def join(store, code: str, name: str, role: str, *, client: str | None = None) -> tuple[Workshop, Participant]:
    """Join an open or paused workshop. The returned participant carries the secret `token` that
    `rejoin` and `rate` take; keep it, it is not stored anywhere readable. `client` (the device's
    address, which the join page always gives) is what wrong codes are counted by: after
    JOIN_LIMIT of them in a minute, that device must wait."""
    if client is not None:
        wait = JOIN_LIMIT.wait(client)
        if wait:
            raise InputError(f"Too many wrong codes from this device: wait {wait} seconds, then check the code on "
                             "the facilitator's screen.")
    try:
        w = find_workshop(store, code)
    except InputError:
        if client is not None:
            JOIN_LIMIT.hit(client)
        raise
    name = check_name(name, "Your name", MAX_NAME)
    role = check_name(role, "Your role", 100)
    if w.status == CLOSED:
        raise NotOpenError(f"Workshop {w.code} has closed; ask the facilitator for the code of the current one.")
    token = secrets.token_urlsafe(24)
    try:
        with store.transaction() as conn:
            _lock(conn, w.id)
            if rows.participant_count(conn, w.id) >= MAX_PARTICIPANTS:
                raise NotOpenError(f"Workshop {w.code} is full ({MAX_PARTICIPANTS} people); ask the facilitator.")
            row = rows.add_participant(conn, dict(workshop_id=w.id, name=name, name_key=_name_key(name), role=role,
                                                  token_hash=_token_hash(token), joined_at=_now()))
    except DuplicateError:
        raise DuplicateError(f"Someone has already joined as '{name}'. If that was you on another device, carry on "
                             "there (or use its link); otherwise add an initial or your practice to your name.") from None
    oplog.event("change", who=f"participant:{row.id}", role="participant", action="add",
                entity="workshop_participant", key=f"{w.id}/{row.id}", fields="name,role")
    return w, _participant(row, token)


def _check_target(w: Workshop, matrix: Matrix, stage: str | None, target: Any) -> str | None:
    target = check_stage(matrix, target, "target stage")
    if target is None:
        return None
    if not w.rate_target:
        raise InputError(f"Workshop {w.code} rates the current stage only, so the target stage was not saved.")
    if stage is None:
        raise InputError("Choose the current stage as well as the target stage.")
    return target


def rate(store, token: str, element_id: str, stage: Any, comment: Any = None, target: Any = None
         ) -> ParticipantRating | None:
    """Set (or, with stage None, take back) one participant's rating of one element, with the
    target stage when the workshop rates targets (InputError otherwise).

    Re-rating replaces the earlier rating, target and comment. Refused with NotOpenError while the
    workshop is paused or closed; nothing is written then."""
    w, p = rejoin(store, token)
    matrix = store.store.matrix(w.matrix_id, w.matrix_version)
    element_id = check_element(matrix, element_id)
    stage = check_stage(matrix, stage)
    target = _check_target(w, matrix, stage, target)
    comment = check_text(comment, "Your comment", MAX_COMMENT)
    title = matrix.element(element_id).title
    at = _now()
    with store.transaction() as conn:
        _lock(conn, w.id, require_open=True, what=f"your rating of '{title}'")
        if stage is None:
            rows.delete_rating(conn, w.id, p.id, element_id)
        else:
            rows.upsert_rating(conn, dict(workshop_id=w.id, participant_id=p.id, element_id=element_id, stage=stage,
                                          target_stage=target, comment=comment, updated_at=at))
    oplog.event("change", who=f"participant:{p.id}", role="participant", action="remove" if stage is None else "update",
                entity="workshop_rating", key=f"{w.id}/{p.id}/{element_id}",
                fields="stage,target_stage,comment" if w.rate_target else "stage,comment")
    if stage is None:
        return None
    return ParticipantRating(p.id, p.name, p.role, element_id, stage, comment, at, target)


def record_consensus(store, workshop_id: int, element_id: str, stage: Any, note: Any = None, *,
                     target: Any = None, by: str | None = None) -> AgreedRating | None:
    """The stage the group agreed for one element, with a note of the discussion and, in a
    workshop that rates targets, the agreed target (stage None removes it all). Does not touch the
    assessment until `apply_consensus`."""
    w = get_workshop(store, workshop_id)
    matrix = store.store.matrix(w.matrix_id, w.matrix_version)
    element_id = check_element(matrix, element_id)
    stage = check_stage(matrix, stage)
    target = _check_target(w, matrix, stage, target)
    note = check_text(note, "Discussion note", MAX_NOTE)
    with _facilitator(store, w.id, by) as (b, _row):
        row = b.get(ConsensusRow, (w.id, element_id))
        key = f"{w.id}/{element_id}"
        if stage is None:
            if row is not None:
                b.audit("workshop_consensus", key, {"stage": (row.stage, None), "target_stage": (row.target_stage, None),
                                                    "note": (row.note, None)})
                b.delete(row)
            return None
        # The workshop's row lock (taken above) orders every change to its agreed stages.
        if row is None:
            row = b.add(ConsensusRow(workshop_id=w.id, element_id=element_id, stage=stage, target_stage=target,
                                     note=note, updated_by=b.by, updated_at=b.at),
                        duplicate=f"the agreed stage of {element_id} was recorded a moment ago")
            b.audit("workshop_consensus", key, {"stage": (None, stage), "target_stage": (None, target),
                                                "note": (None, note)})
        else:
            b.audit("workshop_consensus", key, {"stage": (row.stage, stage), "target_stage": (row.target_stage, target),
                                                "note": (row.note, note)})
            b.set(row, {"stage": stage, "target_stage": target, "note": note, "updated_by": b.by, "updated_at": b.at})
        return AgreedRating(element_id, row.stage, row.note, row.updated_by, row.updated_at, row.target_stage)


def _note_with(existing: str | None, code: str, line: str | None) -> str | None:
    """The rating's note with this workshop's paragraph replaced by `line` (others kept)."""
    mark = f"Agreed at workshop {code}"
    kept = [p for p in (existing or "").split("\n\n") if p.strip() and not p.startswith(mark)]
    if line:
        kept.append(line)
    return "\n\n".join(kept) or None


def apply_consensus(store, workshop_id: int, *, by: str | None = None) -> ApplyResult:
    """Write the agreed stages to the PCN's assessment for the workshop's year (a new draft if
    there is none), in one transaction whose audit rows name the workshop: the current stage and,
    where one was agreed, the target stage (a target not agreed leaves the assessment's as it is).
    Each discussion note goes into the rating's note as its own paragraph. The individual ratings
    stay as they are.

    Raises LockedError if the year's assessment is agreed (nothing is written), InputError if
    nothing is agreed yet or the assessment is against another version of the matrix."""
    w = get_workshop(store, workshop_id)
    matrix = store.store.matrix(w.matrix_id, w.matrix_version)
    with _facilitator(store, w.id, by) as (b, row):
        # Running the workshop lets the facilitator write its agreed stages into the PCN's draft,
        # and nothing else of the PCN's, for this one transaction.
        b.principal = b.principal.with_grant(Grant(LEAD, pcn_code=w.pcn_code))
        agreed = rows.consensus(b, w.id)
        if not agreed:
            raise InputError("No agreed stages are recorded yet: record the group's agreed stage for at least one "
                             "element first.")
        a = assessing.live_row(b, w.pcn_code, w.year, w.matrix_id, lock="share")
        created = a is None
        if a is None:
            assessment_id = assessing.create_assessment(b, w.pcn_code, w.year, matrix).id
        else:
            if a.status == AGREED:
                raise LockedError(
                    f"The {w.year} assessment of {w.pcn_code} was agreed by {a.updated_by} on {a.updated_at:%d %b %Y}, "
                    f"so it is locked and nothing from workshop {w.code} was written. Open a new draft from it, then "
                    f"write the agreed ratings again.")
            if a.matrix_version != w.matrix_version:
                raise InputError(
                    f"The {w.year} assessment of {w.pcn_code} uses version {a.matrix_version} of the matrix, but "
                    f"workshop {w.code} rated version {w.matrix_version}; nothing was written.")
            assessment_id = a.id
        current = assessing.ratings(b, assessment_id)
        written = unchanged = 0
        day = f"{b.at:%d %b %Y}"
        for c in agreed:
            old = current.get(c.element_id)
            line = f"Agreed at workshop {w.code} on {day}: {c.note}" if c.note else None
            note = _note_with(old.note if old else None, w.code, line)
            fields = dict(current_stage=c.stage, note=note)
            if c.target_stage is not None:
                fields["target_stage"] = c.target_stage
            if old is not None and all((getattr(old, k) or None) == v for k, v in fields.items()):
                unchanged += 1
                continue
            assessing.save_rating(b, assessment_id, c.element_id, expected_version=None, **fields)
            written += 1
        _set(b, row, applied_by=b.by, applied_at=b.at, applied_assessment_id=assessment_id)
        return ApplyResult(assessment_id, created, written, unchanged)

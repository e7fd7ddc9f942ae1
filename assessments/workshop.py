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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Boolean, Connection, ForeignKey, Index, Integer, String, Text, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from matrix import Matrix

from .scoring import DomainScore, consensus_profile, participant_profiles, workshop_frame, workshop_summary
from .store import (AGREED, SUPERSEDED, AssessmentRow, Base, Batch, DuplicateError, InputError, LockedError,
                    NotFoundError, RatingRow, Store, StoreError, UTCDateTime, check_element, check_name, check_pcn_code, check_stage,
                    check_text, check_year)

OPEN, PAUSED, CLOSED = "open", "paused", "closed"
STATUSES = (OPEN, PAUSED, CLOSED)
# No 0/O, 1/I/L: the code is read off a projector across a room and typed on a phone.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
ROLES = ("Clinical director", "Practice manager", "GP", "Practice nurse", "Additional roles staff",
         "Community services", "Social care", "Voluntary sector", "ICB / ICS", "Patient representative", "Other")
MAX_NAME = 60
MAX_COMMENT = 2_000
MAX_NOTE = 5_000


class NotOpenError(StoreError):
    """A rating sent while the workshop is paused or closed. Nothing was written."""


# ---------------------------------------------------------------------------------------------
# Tables (migration 0005_workshops creates them; keep both in step)

class WorkshopRow(Base):
    __tablename__ = "workshop"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(6))
    pcn_code: Mapped[str] = mapped_column(String(6), ForeignKey("pcn.code"))
    year: Mapped[str] = mapped_column(String(7))
    matrix_id: Mapped[str] = mapped_column(String(80))
    matrix_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(8), default=OPEN)
    revealed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    applied_by: Mapped[str | None] = mapped_column(String(100))
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_assessment_id: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __table_args__ = (
        Index("uq_workshop_code_live", "code", unique=True,
              sqlite_where=text("status <> 'closed'"), postgresql_where=text("status <> 'closed'")),
    )


class ParticipantRow(Base):
    __tablename__ = "workshop_participant"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workshop_id: Mapped[int] = mapped_column(Integer, ForeignKey("workshop.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (
        Index("uq_workshop_participant_name", "workshop_id", "name_key", unique=True),
        Index("uq_workshop_participant_token", "token_hash", unique=True),
    )


class ParticipantRatingRow(Base):
    __tablename__ = "workshop_rating"
    workshop_id: Mapped[int] = mapped_column(Integer, ForeignKey("workshop.id", ondelete="CASCADE"), primary_key=True)
    participant_id: Mapped[int] = mapped_column(Integer, ForeignKey("workshop_participant.id", ondelete="CASCADE"),
                                                primary_key=True)
    element_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    stage: Mapped[str] = mapped_column(String(80))
    comment: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ConsensusRow(Base):
    __tablename__ = "workshop_consensus"
    workshop_id: Mapped[int] = mapped_column(Integer, ForeignKey("workshop.id", ondelete="CASCADE"), primary_key=True)
    element_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    stage: Mapped[str] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


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


@dataclass(frozen=True, slots=True)
class AgreedRating:
    element_id: str
    stage: str
    note: str | None
    updated_by: str
    updated_at: datetime


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
    split: bool
    ratings: tuple[ParticipantRating, ...]
    agreed: AgreedRating | None

    def median_stage(self, matrix: Matrix) -> str | None:
        return matrix.stage_ids[self.median] if self.median is not None else None


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


@dataclass(frozen=True)
class WorkshopSummary:
    """Everything the projector shows, read in one go. `domains` has the most divided first
    (most split elements, then the widest mean spread, then rated before unrated), elements in
    matrix order within each."""
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
                    r.applied_assessment_id, r.version)


def _participant(r, token: str | None = None) -> Participant:
    return Participant(r.id, r.workshop_id, r.name, r.role, r.joined_at, token)


_W = WorkshopRow.__table__
_P = ParticipantRow.__table__
_R = ParticipantRatingRow.__table__
_C = ConsensusRow.__table__


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

def _workshop_by(conn_or_session, **where: Any):
    q = select(_W)
    for k, v in where.items():
        q = q.where(_W.c[k] == v)
    return conn_or_session.execute(q).first()


def get_workshop(store: Store, workshop_id: int) -> Workshop:
    with store._read() as s:
        row = _workshop_by(s, id=int(workshop_id))
    if row is None:
        raise NotFoundError(f"there is no workshop with id {workshop_id}")
    return _workshop(row)


def find_workshop(store: Store, code: str) -> Workshop:
    """The workshop a join code names: the one not closed, else the latest closed one."""
    code = normalise_code(code)
    with store._read() as s:
        row = s.execute(select(_W).where(_W.c.code == code)
                        .order_by((_W.c.status == CLOSED).asc(), _W.c.id.desc()).limit(1)).first()
    if row is None:
        raise NotFoundError(f"No workshop has the code {code}. Check the code on the facilitator's screen.")
    return _workshop(row)


def workshops(store: Store, *, pcn_code: str | None = None, include_closed: bool = True) -> list[Workshop]:
    """Workshops, newest first."""
    q = select(_W).order_by(_W.c.id.desc())
    if pcn_code is not None:
        q = q.where(_W.c.pcn_code == check_pcn_code(pcn_code))
    if not include_closed:
        q = q.where(_W.c.status != CLOSED)
    with store._read() as s:
        return [_workshop(r) for r in s.execute(q)]


def workshop_version(store: Store, workshop_id: int) -> int:
    """Changes whenever anything in the workshop changes (a rating, a pause, an agreed stage)."""
    with store._read() as s:
        v = s.execute(select(_W.c.version).where(_W.c.id == int(workshop_id))).scalar()
    if v is None:
        raise NotFoundError(f"there is no workshop with id {workshop_id}")
    return v


def participants(store: Store, workshop_id: int) -> list[Participant]:
    with store._read() as s:
        return [_participant(r) for r in s.execute(select(_P).where(_P.c.workshop_id == int(workshop_id))
                                                   .order_by(_P.c.id))]


def rejoin(store: Store, token: str, code: str | None = None) -> tuple[Workshop, Participant]:
    """The participant a rejoin token belongs to (and their workshop). With `code`, the token must
    belong to that workshop."""
    with store._read() as s:
        p = s.execute(select(_P).where(_P.c.token_hash == _token_hash(token or ""))).first()
        w = _workshop_by(s, id=p.workshop_id) if p is not None else None
    if p is None or w is None or (code is not None and w.code != normalise_code(code)):
        raise NotFoundError("This link does not match anyone who joined the workshop. Join again with the code.")
    return _workshop(w), _participant(p)


def my_ratings(store: Store, token: str) -> dict[str, ParticipantRating]:
    """One participant's ratings by element id."""
    w, p = rejoin(store, token)
    with store._read() as s:
        rows = s.execute(select(_R).where(_R.c.workshop_id == w.id, _R.c.participant_id == p.id))
        return {r.element_id: ParticipantRating(p.id, p.name, p.role, r.element_id, r.stage, r.comment, r.updated_at)
                for r in rows}


def summary(store: Store, workshop_id: int) -> WorkshopSummary:
    """Per element: how many rated, the median, the spread, each rating and the split flag; per
    domain, most divided first; the agreed stages recorded so far. Four queries."""
    with store._read() as s:
        w = _workshop_by(s, id=int(workshop_id))
        if w is None:
            raise NotFoundError(f"there is no workshop with id {workshop_id}")
        people = [_participant(r) for r in s.execute(select(_P).where(_P.c.workshop_id == w.id).order_by(_P.c.id))]
        rows = s.execute(select(_R).where(_R.c.workshop_id == w.id)).all()
        agreed = {r.element_id: AgreedRating(r.element_id, r.stage, r.note, r.updated_by, r.updated_at)
                  for r in s.execute(select(_C).where(_C.c.workshop_id == w.id))}
    w = _workshop(w)
    matrix = store.matrix(w.matrix_id, w.matrix_version)
    by_id = {p.id: p for p in people}
    order = {p.id: i for i, p in enumerate(people)}
    known = set(matrix.element_ids())
    ratings = sorted((ParticipantRating(r.participant_id, by_id[r.participant_id].name, by_id[r.participant_id].role,
                                        r.element_id, r.stage, r.comment, r.updated_at)
                      for r in rows if r.element_id in known and r.stage in matrix.stage_ids),
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

    domains = []
    for d in matrix.domains:
        elements = []
        for e in d.elements:
            t = stats[e.id]
            elements.append(ElementSummary(d.id, e.id, e.title, int(t.n), num(t.median), num(t.low), num(t.high),
                                           num(t.iqr, float), bool(t.split), tuple(by_element.get(e.id, ())), agreed.get(e.id)))
        domains.append(DomainSummary(d.id, d.title, tuple(elements)))
    position = {d.id: i for i, d in enumerate(matrix.domains)}
    # Most divided first; among equally divided ones, those nobody has rated yet go last.
    domains.sort(key=lambda d: (-d.n_split, -d.mean_iqr, not any(e.n for e in d.elements), position[d.domain_id]))
    shown = [e.element_id for d in domains for e in d.elements]
    table = table.set_index("element_id").loc[shown].reset_index()[table.columns]
    rank = {e: i for i, e in enumerate(shown)}
    frame = frame.sort_values("element_id", key=lambda c: c.map(rank), kind="stable").reset_index(drop=True)
    return WorkshopSummary(w, matrix, tuple(people), tuple(domains), frame, table,
                           participant_profiles(matrix, frame), tuple(consensus_profile(matrix, frame)))


# ---------------------------------------------------------------------------------------------
# Writes. Each takes the workshop's row lock first, then writes, in one transaction.

def _lock(conn_or_session, workshop_id: int, *, require_open: bool = False, what: str = ""):
    """Lock the workshop's row and bump its version; the row as it was before. With `require_open`,
    a paused or closed workshop raises NotOpenError and nothing is written."""
    q = update(_W).where(_W.c.id == int(workshop_id)).values(version=_W.c.version + 1)
    if require_open:
        q = q.where(_W.c.status == OPEN)
    done = conn_or_session.execute(q).rowcount
    row = _workshop_by(conn_or_session, id=int(workshop_id))
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
def _facilitator(store: Store, workshop_id: int, by: str) -> Iterator[tuple[Batch, Any]]:
    w = get_workshop(store, workshop_id)
    with store.batch(by=by, source=w.source) as b:
        yield b, _lock(b.s, w.id)


def _set(b: Batch, row, **values: Any) -> Workshop:
    changes = {k: (getattr(row, k), v) for k, v in values.items() if getattr(row, k) != v}
    b.s.execute(update(_W).where(_W.c.id == row.id).values(**values, updated_by=b.by, updated_at=b.at))
    b._audit("workshop", str(row.id), changes)
    return _workshop(_workshop_by(b.s, id=row.id))


def open_workshop(store: Store, pcn_code: str, year: str, matrix: Matrix | None = None, *, by: str) -> Workshop:
    """A new open workshop with a join code no other open or paused workshop has."""
    year = check_year(year)
    matrix = store.use_matrix(matrix)
    for _attempt in range(20):
        code = new_code()
        try:
            with store.batch(by=by, source=f"workshop {code}") as b:
                pcn = b._pcn_row(pcn_code)
                row = WorkshopRow(code=code, pcn_code=pcn.code, year=year, matrix_id=matrix.id,
                                  matrix_version=matrix.version, status=OPEN, revealed=False, created_by=b.by,
                                  created_at=b.at, updated_by=b.by, updated_at=b.at, version=1)
                with b.s.begin_nested():
                    b.s.add(row)
                b._audit("workshop", str(row.id), {"code": (None, code), "pcn_code": (None, pcn.code),
                                                   "year": (None, year), "matrix_id": (None, matrix.id),
                                                   "matrix_version": (None, matrix.version), "status": (None, OPEN)})
                return _workshop(row)
        except IntegrityError:
            continue  # that code is in use by a live workshop: draw another
    raise StoreError("could not find a free workshop code; close some old workshops and try again")


def _status(store: Store, workshop_id: int, status: str, by: str) -> Workshop:
    with _facilitator(store, workshop_id, by) as (b, row):
        if row.status == status:
            return _workshop(_workshop_by(b.s, id=row.id))
        try:
            with b.s.begin_nested():
                return _set(b, row, status=status)
        except IntegrityError:
            raise DuplicateError(f"the code {row.code} is now used by another open workshop, so this one cannot be "
                                 "reopened; open a new workshop instead") from None


def pause(store: Store, workshop_id: int, *, by: str) -> Workshop:
    """Stop ratings for a moment (while the room talks); ratings sent meanwhile are refused."""
    return _status(store, workshop_id, PAUSED, by)


def resume(store: Store, workshop_id: int, *, by: str) -> Workshop:
    """Open for ratings again (also a closed workshop, while its code is still free)."""
    return _status(store, workshop_id, OPEN, by)


def close(store: Store, workshop_id: int, *, by: str) -> Workshop:
    """No more ratings. Agreed stages can still be recorded and written to the assessment."""
    return _status(store, workshop_id, CLOSED, by)


def reveal(store: Store, workshop_id: int, *, by: str, revealed: bool = True) -> Workshop:
    """Let participants see the group's results (or hide them again with revealed=False)."""
    with _facilitator(store, workshop_id, by) as (b, row):
        return _set(b, row, revealed=bool(revealed))


def hide(store: Store, workshop_id: int, *, by: str) -> Workshop:
    return reveal(store, workshop_id, by=by, revealed=False)


def join(store: Store, code: str, name: str, role: str) -> tuple[Workshop, Participant]:
    """Join an open or paused workshop. The returned participant carries the secret `token` that
    `rejoin` and `rate` take; keep it, it is not stored anywhere readable."""
    w = find_workshop(store, code)
    name = check_name(name, "Your name", MAX_NAME)
    role = check_name(role, "Your role", 100)
    if w.status == CLOSED:
        raise NotOpenError(f"Workshop {w.code} has closed; ask the facilitator for the code of the current one.")
    token = secrets.token_urlsafe(18)
    try:
        with store.transaction() as conn:
            _lock(conn, w.id)
            pid = conn.execute(_P.insert().values(workshop_id=w.id, name=name, name_key=_name_key(name), role=role,
                                                  token_hash=_token_hash(token), joined_at=_now())
                               .returning(_P.c.id)).scalar_one()
            row = conn.execute(select(_P).where(_P.c.id == pid)).first()
    except IntegrityError:
        raise DuplicateError(f"Someone has already joined as '{name}'. If that was you on another device, carry on "
                             "there (or use its link); otherwise add an initial or your practice to your name.") from None
    return w, _participant(row, token)


def rate(store: Store, token: str, element_id: str, stage: Any, comment: Any = None) -> ParticipantRating | None:
    """Set (or, with stage None, take back) one participant's rating of one element.

    Re-rating replaces the earlier rating and comment. Refused with NotOpenError while the
    workshop is paused or closed; nothing is written then."""
    w, p = rejoin(store, token)
    matrix = store.matrix(w.matrix_id, w.matrix_version)
    element_id = check_element(matrix, element_id)
    stage = check_stage(matrix, stage)
    comment = check_text(comment, "Your comment", MAX_COMMENT)
    title = matrix.element(element_id).title
    at = _now()
    with store.transaction() as conn:
        _lock(conn, w.id, require_open=True, what=f"your rating of '{title}'")
        key = (_R.c.workshop_id == w.id, _R.c.participant_id == p.id, _R.c.element_id == element_id)
        if stage is None:
            conn.execute(_R.delete().where(*key))
            return None
        _upsert_rating(conn, dict(workshop_id=w.id, participant_id=p.id, element_id=element_id, stage=stage,
                                  comment=comment, updated_at=at))
    return ParticipantRating(p.id, p.name, p.role, element_id, stage, comment, at)


def _upsert_rating(conn: Connection, values: Mapping[str, Any]) -> None:
    changes = {k: values[k] for k in ("stage", "comment", "updated_at")}
    name = conn.dialect.name
    if name in ("postgresql", "sqlite"):
        from sqlalchemy.dialects import postgresql, sqlite

        ins = (postgresql.insert if name == "postgresql" else sqlite.insert)(_R).values(**values)
        conn.execute(ins.on_conflict_do_update(index_elements=["workshop_id", "participant_id", "element_id"],
                                               set_=changes))
        return
    key = (_R.c.workshop_id == values["workshop_id"], _R.c.participant_id == values["participant_id"],
           _R.c.element_id == values["element_id"])
    try:
        with conn.begin_nested():
            conn.execute(_R.insert().values(**values))
    except IntegrityError:
        conn.execute(_R.update().where(*key).values(**changes))


def record_consensus(store: Store, workshop_id: int, element_id: str, stage: Any, note: Any = None, *,
                     by: str) -> AgreedRating | None:
    """The stage the group agreed for one element, with a note of the discussion (stage None
    removes it). Does not touch the assessment until `apply_consensus`."""
    w = get_workshop(store, workshop_id)
    matrix = store.matrix(w.matrix_id, w.matrix_version)
    element_id = check_element(matrix, element_id)
    stage = check_stage(matrix, stage)
    note = check_text(note, "Discussion note", MAX_NOTE)
    with _facilitator(store, w.id, by) as (b, _row):
        row = b.s.get(ConsensusRow, (w.id, element_id), populate_existing=True)
        key = f"{w.id}/{element_id}"
        if stage is None:
            if row is not None:
                b._audit("workshop_consensus", key, {"stage": (row.stage, None), "note": (row.note, None)})
                b.s.delete(row)
            return None
        if row is None:
            row = ConsensusRow(workshop_id=w.id, element_id=element_id, stage=stage, note=note, updated_by=b.by,
                               updated_at=b.at)
            b.s.add(row)
            b._audit("workshop_consensus", key, {"stage": (None, stage), "note": (None, note)})
        else:
            b._audit("workshop_consensus", key, {"stage": (row.stage, stage), "note": (row.note, note)})
            row.stage, row.note, row.updated_by, row.updated_at = stage, note, b.by, b.at
        b.s.flush()
        return AgreedRating(element_id, row.stage, row.note, row.updated_by, row.updated_at)


def _note_with(existing: str | None, code: str, line: str | None) -> str | None:
    """The rating's note with this workshop's paragraph replaced by `line` (others kept)."""
    mark = f"Agreed at workshop {code}"
    kept = [p for p in (existing or "").split("\n\n") if p.strip() and not p.startswith(mark)]
    if line:
        kept.append(line)
    return "\n\n".join(kept) or None


def apply_consensus(store: Store, workshop_id: int, *, by: str) -> ApplyResult:
    """Write the agreed stages to the PCN's assessment for the workshop's year (a new draft if
    there is none), in one transaction whose audit rows name the workshop. Each discussion note
    goes into the rating's note as its own paragraph. The individual ratings stay as they are.

    Raises LockedError if the year's assessment is agreed (nothing is written), InputError if
    nothing is agreed yet or the assessment is against another version of the matrix."""
    w = get_workshop(store, workshop_id)
    matrix = store.matrix(w.matrix_id, w.matrix_version)
    with _facilitator(store, w.id, by) as (b, row):
        agreed = list(b.s.execute(select(_C).where(_C.c.workshop_id == w.id).order_by(_C.c.element_id)))
        if not agreed:
            raise InputError("No agreed stages are recorded yet: record the group's agreed stage for at least one "
                             "element first.")
        a = b.s.scalars(select(AssessmentRow).where(
            AssessmentRow.pcn_code == w.pcn_code, AssessmentRow.year == w.year, AssessmentRow.matrix_id == w.matrix_id,
            AssessmentRow.status != SUPERSEDED).with_for_update(read=True)
            .execution_options(populate_existing=True)).first()
        created = a is None
        if a is None:
            assessment_id = b.create_assessment(w.pcn_code, w.year, matrix).id
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
        current = {r.element_id: r for r in b.s.execute(
            select(RatingRow.element_id, RatingRow.current_stage, RatingRow.note)
            .where(RatingRow.assessment_id == assessment_id))}
        written = unchanged = 0
        day = f"{b.at:%d %b %Y}"
        for c in agreed:
            old = current.get(c.element_id)
            line = f"Agreed at workshop {w.code} on {day}: {c.note}" if c.note else None
            note = _note_with(old.note if old else None, w.code, line)
            if old is not None and old.current_stage == c.stage and (old.note or None) == note:
                unchanged += 1
                continue
            b.save_rating(assessment_id, c.element_id, expected_version=None, current_stage=c.stage, note=note)
            written += 1
        _set(b, row, applied_by=b.by, applied_at=b.at, applied_assessment_id=assessment_id)
        return ApplyResult(assessment_id, created, written, unchanged)

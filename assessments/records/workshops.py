"""The workshop tables' own paths. Ratings from phones arrive in bursts while the projector polls,
so these use core statements on a connection (no ORM identity map), and every change to a
workshop or anything in it moves the workshop's version in the same UPDATE that locks its row:
the projector's cheap "has anything changed?" read is that version.

Each function takes a Reader, a UnitOfWork or a Connection from Store.transaction().
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from ..values import DuplicateError
from .tables import ConsensusRow, ParticipantRatingRow, ParticipantRow, WorkshopRow

W = WorkshopRow.__table__
P = ParticipantRow.__table__
R = ParticipantRatingRow.__table__
C = ConsensusRow.__table__


def _ex(db):
    return getattr(db, "session", db)


def workshop(db, **where: Any):
    """The workshop row matching the equality filters, or None."""
    q = select(W)
    for k, v in where.items():
        q = q.where(W.c[k] == v)
    return _ex(db).execute(q).first()


def by_code(db, code: str, *, closed: str):
    """The workshop a join code names: the one not closed, else the latest closed one."""
    return _ex(db).execute(select(W).where(W.c.code == code)
                           .order_by((W.c.status == closed).asc(), W.c.id.desc()).limit(1)).first()


def workshops(db, *, pcn_code: str | None = None, exclude_status: str | None = None) -> list:
    q = select(W).order_by(W.c.id.desc())
    if pcn_code is not None:
        q = q.where(W.c.pcn_code == pcn_code)
    if exclude_status is not None:
        q = q.where(W.c.status != exclude_status)
    return list(_ex(db).execute(q))


def version(db, workshop_id: int) -> int | None:
    return _ex(db).execute(select(W.c.version).where(W.c.id == workshop_id)).scalar()


def participants(db, workshop_id: int) -> list:
    return list(_ex(db).execute(select(P).where(P.c.workshop_id == workshop_id).order_by(P.c.id)))


def participant_count(db, workshop_id: int) -> int:
    from sqlalchemy import func

    return _ex(db).execute(select(func.count()).select_from(P).where(P.c.workshop_id == workshop_id)).scalar()


def participant_by_token(db, token_hash: str):
    return _ex(db).execute(select(P).where(P.c.token_hash == token_hash)).first()


def ratings(db, workshop_id: int, participant_id: int | None = None) -> list:
    q = select(R).where(R.c.workshop_id == workshop_id)
    if participant_id is not None:
        q = q.where(R.c.participant_id == participant_id)
    return list(_ex(db).execute(q))


def consensus(db, workshop_id: int) -> list:
    return list(_ex(db).execute(select(C).where(C.c.workshop_id == workshop_id).order_by(C.c.element_id)))


def lock(db, workshop_id: int, *, only_status: str | None = None) -> tuple[bool, Any]:
    """Lock the workshop's row and move its version: (whether it was moved, the row now). With
    `only_status`, a workshop in another status is left as it is."""
    q = update(W).where(W.c.id == workshop_id).values(version=W.c.version + 1)
    if only_status is not None:
        q = q.where(W.c.status == only_status)
    done = _ex(db).execute(q).rowcount
    return bool(done), workshop(db, id=workshop_id)


def set_workshop(db, workshop_id: int, values: Mapping[str, Any]) -> None:
    _ex(db).execute(update(W).where(W.c.id == workshop_id).values(**values))


def add_participant(conn: Connection, values: Mapping[str, Any]):
    """Insert a participant; DuplicateError when the name or token is taken in that workshop."""
    try:
        with conn.begin_nested():
            pid = conn.execute(P.insert().values(**values).returning(P.c.id)).scalar_one()
    except IntegrityError:
        raise DuplicateError("that participant has already joined") from None
    return conn.execute(select(P).where(P.c.id == pid)).first()


def delete_rating(conn: Connection, workshop_id: int, participant_id: int, element_id: str) -> None:
    conn.execute(R.delete().where(R.c.workshop_id == workshop_id, R.c.participant_id == participant_id,
                                  R.c.element_id == element_id))


def upsert_rating(conn: Connection, values: Mapping[str, Any]) -> None:
    """One participant's rating of one element, replacing an earlier one."""
    changes = {k: values[k] for k in ("stage", "target_stage", "comment", "updated_at") if k in values}
    name = conn.dialect.name
    if name in ("postgresql", "sqlite"):
        from sqlalchemy.dialects import postgresql, sqlite

        ins = (postgresql.insert if name == "postgresql" else sqlite.insert)(R).values(**values)
        conn.execute(ins.on_conflict_do_update(index_elements=["workshop_id", "participant_id", "element_id"],
                                               set_=changes))
        return
    key = (R.c.workshop_id == values["workshop_id"], R.c.participant_id == values["participant_id"],
           R.c.element_id == values["element_id"])
    try:
        with conn.begin_nested():
            conn.execute(R.insert().values(**values))
    except IntegrityError:
        conn.execute(R.update().where(*key).values(**changes))

"""Persistence of organisations, assessments and ratings, with an audit row for every change.

SQLite file `data/pcn.db` (under the repository root) by default; any SQLAlchemy URL in the
environment variable `PCN_DATABASE_URL` instead (PostgreSQL through psycopg 3). Opening a
`Store` brings the schema up to date with the Alembic migrations in `assessments/migrations`.

Rules the store keeps, whoever calls it:
- every write is one transaction (`Store.batch()` groups several writes into one);
- every changed field gets an audit row: who, when, entity, key, field, before, after, source;
- mutable records carry `version`; writes take `expected_version` and raise `ConflictError`
  when someone else saved in between, never overwriting silently;
- agreed assessments are locked (`LockedError`); `open_revision` makes a new draft from one;
- callers get frozen dataclasses back, never ORM objects or sessions.

Bad input raises `InputError` (a `ValueError`) or one of its subclasses, with a plain message.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import (JSON, Boolean, Connection, DateTime, Engine, ForeignKey, Index, Integer, String, Text, TypeDecorator,
                        create_engine, delete, event, exists, func, select, text)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from matrix import Catalog, Matrix

from .model import (AGREED, CONFIDENCES, DRAFT, KEEP, NATIONAL_MATRIX_ID, RATING_FIELDS, STATUSES, SUPERSEDED, ICS,
                    PCN, Assessment, AssessmentRecord, AuditEntry, Rating)
from .values import (MAX_TEXT, ConflictError, DuplicateError, InputError, LockedError, NotFoundError, StoreError,
                     blank_to_none, check_confidence, check_element, check_ics_code, check_list_size, check_name,
                     check_pcn_code, check_practices, check_stage, check_text, check_year, financial_year, next_year,
                     rating_values, year_start)

REPO_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
ENV_URL = "PCN_DATABASE_URL"


# ---------------------------------------------------------------------------------------------
# Tables (the migrations in assessments/migrations create them; keep both in step)

class UTCDateTime(TypeDecorator):
    """Stored as naive UTC (same on SQLite and PostgreSQL), returned as aware UTC."""
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    pass


class IcsRow(Base):
    __tablename__ = "ics"
    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}


class PcnRow(Base):
    __tablename__ = "pcn"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    ics_code: Mapped[str] = mapped_column(String(3), ForeignKey("ics.code"), index=True)
    list_size: Mapped[int] = mapped_column(Integer)
    rural: Mapped[bool] = mapped_column(Boolean, server_default="0")
    practices: Mapped[list] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}


class AssessmentRow(Base):
    __tablename__ = "assessment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pcn_code: Mapped[str] = mapped_column(String(6), ForeignKey("pcn.code"))
    year: Mapped[str] = mapped_column(String(7), index=True)
    matrix_id: Mapped[str] = mapped_column(String(80))
    matrix_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), server_default=DRAFT)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revision_of: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # One live (draft or agreed) assessment per PCN, year and matrix; superseded ones are history.
        Index("uq_assessment_live", "pcn_code", "year", "matrix_id", unique=True,
              sqlite_where=text("status <> 'superseded'"), postgresql_where=text("status <> 'superseded'")),
    )


class RatingRow(Base):
    __tablename__ = "rating"
    assessment_id: Mapped[int] = mapped_column(Integer, ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True)
    element_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    current_stage: Mapped[str | None] = mapped_column(String(80))
    target_stage: Mapped[str | None] = mapped_column(String(80))
    evidence: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[str | None] = mapped_column(String(6))
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    __mapper_args__ = {"version_id_col": version}


class AuditRow(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    who: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(40))
    entity_key: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(80))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(300))
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_key"),)


def _ics(r) -> ICS:
    return ICS(r.code, r.name, r.region, r.version)


def _pcn(r) -> PCN:
    return PCN(r.code, r.name, r.ics_code, r.list_size, bool(r.rural), tuple(r.practices or ()), r.version)


def _assessment(r) -> Assessment:
    return Assessment(r.id, r.pcn_code, r.year, r.matrix_id, r.matrix_version, r.status, r.revision_of,
                      r.created_by, r.created_at, r.updated_by, r.updated_at, r.version)


def _rating(r) -> Rating:
    return Rating(r.assessment_id, r.element_id, r.current_stage, r.target_stage, r.evidence, r.note,
                  r.confidence, r.updated_by, r.updated_at, r.version)


def _audit_entry(r) -> AuditEntry:
    return AuditEntry(r.id, r.at, r.who, r.entity, r.entity_key, r.field, r.before, r.after, r.source)


_PCN_COLS = [PcnRow.code, PcnRow.name, PcnRow.ics_code, PcnRow.list_size, PcnRow.rural, PcnRow.practices, PcnRow.version]
_ASSESSMENT_COLS = [AssessmentRow.id, AssessmentRow.pcn_code, AssessmentRow.year, AssessmentRow.matrix_id,
                    AssessmentRow.matrix_version, AssessmentRow.status, AssessmentRow.revision_of,
                    AssessmentRow.created_by, AssessmentRow.created_at, AssessmentRow.updated_by,
                    AssessmentRow.updated_at, AssessmentRow.version]
_RATING_COLS = [RatingRow.assessment_id, RatingRow.element_id, RatingRow.current_stage, RatingRow.target_stage,
                RatingRow.evidence, RatingRow.note, RatingRow.confidence, RatingRow.updated_by,
                RatingRow.updated_at, RatingRow.version]


def _audit_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


# ---------------------------------------------------------------------------------------------
# Engine and migrations

def database_url() -> str:
    """PCN_DATABASE_URL if set, else the SQLite file data/pcn.db under the repository root."""
    return os.environ.get(ENV_URL) or f"sqlite:///{REPO_ROOT / 'data' / 'pcn.db'}"


def make_engine(url: str | URL) -> Engine:
    """An engine with the settings the store relies on (SQLite: WAL, foreign keys, real BEGINs)."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    if u.get_backend_name() != "sqlite":
        return create_engine(u, pool_pre_ping=True)
    db = u.database
    if db and db != ":memory:" and not db.startswith("file:"):
        Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(u, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own handling breaks savepoints and DDL).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Writers take the write lock at BEGIN, so a read-then-write never meets a stale snapshot.
        conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', '')}".strip())

    return engine


def alembic_config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cache
def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`. Safe to call from several processes at once."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    writer = engine.execution_options(sqlite_begin="IMMEDIATE")
    with writer.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(742217001)")
        current = MigrationContext.configure(conn).get_current_revision()
        if revision == "head" and current == head_revision():
            return
        command.upgrade(alembic_config(conn), revision)


def reset_sequences(conn: Connection) -> None:
    """After rows were inserted with explicit ids (restore, bulk loads), move PostgreSQL's serial
    sequences past them. SQLite needs nothing: it takes the next rowid after the largest."""
    if conn.dialect.name != "postgresql":
        return
    for table, column in conn.execute(text(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c "
            "WHERE c.table_schema = current_schema() AND c.column_default LIKE 'nextval(%'")).all():
        conn.execute(text(f'SELECT setval(pg_get_serial_sequence(:t, :c), '
                          f'COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false)'),
                     {"t": table, "c": column})


# ---------------------------------------------------------------------------------------------
# Writes

class Batch:
    """One transaction: every write made through it is committed together or not at all.

    Get one from `Store.batch(by=..., source=...)`. All rows it writes share one timestamp.
    """

    def __init__(self, store: Store, session: Session, by: str, source: str | None, at: datetime):
        self.store = store
        self.s = session
        self.by = check_name(by, "who is making the change (by)", 100)
        self.source = check_text(source, "source", 300)
        self.at = at

    # -- helpers ------------------------------------------------------------------------------
    def _audit(self, entity: str, key: str, changes: Mapping[str, tuple[Any, Any]]) -> None:
        for name, (before, after) in changes.items():
            b, a = _audit_text(before), _audit_text(after)
            if b != a:
                self.s.add(AuditRow(at=self.at, who=self.by, entity=entity, entity_key=key, field=name,
                                    before=b, after=a, source=self.source))

    def _flush_versioned(self, row, apply, conflict):
        """Apply changes to a versioned row in a savepoint; a concurrent save becomes ConflictError."""
        try:
            with self.s.begin_nested():
                apply()
        except StaleDataError:
            raise conflict() from None

    def _ics_row(self, code: str) -> IcsRow:
        row = self.s.get(IcsRow, check_ics_code(code), populate_existing=True)
        if row is None:
            raise NotFoundError(f"there is no ICS with code {code}")
        return row

    def _pcn_row(self, code: str) -> PcnRow:
        row = self.s.get(PcnRow, check_pcn_code(code), populate_existing=True)
        if row is None:
            raise NotFoundError(f"there is no PCN with code {code}")
        return row

    def _assessment_row(self, assessment_id: int, lock: str | None = None) -> AssessmentRow:
        # lock="share" (FOR SHARE on PostgreSQL): agreeing (an UPDATE) waits for rating saves in
        # flight, and a save waits for an agreement in flight, then sees the agreed status.
        # lock="update" for a row about to be deleted, so two deleters queue instead of deadlocking.
        row = self.s.get(AssessmentRow, int(assessment_id), populate_existing=True,
                         with_for_update={"read": lock == "share"} if lock else None)
        if row is None:
            raise NotFoundError(f"there is no assessment with id {assessment_id}")
        return row

    @staticmethod
    def _check_draft(a: AssessmentRow) -> None:
        if a.status == AGREED:
            raise LockedError(f"The {a.year} assessment of {a.pcn_code} was agreed by {a.updated_by} on "
                              f"{a.updated_at:%d %b %Y}; it is locked. Open a new draft from it to make changes.")
        if a.status == SUPERSEDED:
            raise LockedError(f"The {a.year} assessment of {a.pcn_code} (id {a.id}) has been replaced by a newer "
                              f"draft; it is kept as history and cannot be changed.")

    def _conflict(self, what: str, row, attempted: Mapping[str, Any], expected: int | None, fields: Iterable[str],
                  entity: str | None = None, key: str | None = None):
        stored = None if row is None else {f: getattr(row, f) for f in fields}
        who, when = getattr(row, "updated_by", None), getattr(row, "updated_at", None)
        if row is not None and who is None and entity is not None:
            # ICS and PCN rows keep no "updated by": the audit log knows.
            last = self.s.execute(select(AuditRow.who, AuditRow.at).where(
                AuditRow.entity == entity, AuditRow.entity_key == key).order_by(AuditRow.id.desc()).limit(1)).first()
            who, when = last if last else (None, None)
        return ConflictError(what, attempted, stored, who, when, expected, row.version if row is not None else 0)

    def _add_new(self, row, what: str) -> None:
        try:
            with self.s.begin_nested():
                self.s.add(row)
        except IntegrityError:
            raise DuplicateError(f"{what} already exists (someone added it a moment ago)") from None

    # -- organisations ------------------------------------------------------------------------
    def add_ics(self, code: str, name: str, *, region: str | None = None) -> ICS:
        code = check_ics_code(code)
        if self.s.get(IcsRow, code) is not None:
            raise DuplicateError(f"ICS {code} already exists")
        row = IcsRow(code=code, name=check_name(name, "ICS name"), region=check_text(region, "region", 100))
        self._add_new(row, f"ICS {code}")
        self._audit("ics", code, {"name": (None, row.name), "region": (None, row.region)})
        return _ics(row)

    def update_ics(self, code: str, *, expected_version: int, name: Any = KEEP, region: Any = KEEP) -> ICS:
        row = self._ics_row(code)
        new = {}
        if name is not KEEP:
            new["name"] = check_name(name, "ICS name")
        if region is not KEEP:
            new["region"] = check_text(region, "region", 100)
        return _ics(self._update(row, "ics", row.code, f"ICS {row.code}", new, expected_version))

    def add_pcn(self, code: str, name: str, *, ics_code: str, list_size: int, rural: bool = False,
                practices: Iterable[str] = ()) -> PCN:
        code = check_pcn_code(code)
        if self.s.get(PcnRow, code) is not None:
            raise DuplicateError(f"PCN {code} already exists")
        ics_code = self._ics_row(ics_code).code
        row = PcnRow(code=code, name=check_name(name, "PCN name"), ics_code=ics_code,
                     list_size=check_list_size(list_size), rural=bool(rural), practices=check_practices(practices))
        self._add_new(row, f"PCN {code}")
        self._audit("pcn", code, {f: (None, getattr(row, f)) for f in ("name", "ics_code", "list_size", "rural", "practices")})
        return _pcn(row)

    def update_pcn(self, code: str, *, expected_version: int, name: Any = KEEP, ics_code: Any = KEEP,
                   list_size: Any = KEEP, rural: Any = KEEP, practices: Any = KEEP) -> PCN:
        row = self._pcn_row(code)
        new: dict[str, Any] = {}
        if name is not KEEP:
            new["name"] = check_name(name, "PCN name")
        if ics_code is not KEEP:
            new["ics_code"] = self._ics_row(ics_code).code
        if list_size is not KEEP:
            new["list_size"] = check_list_size(list_size)
        if rural is not KEEP:
            new["rural"] = bool(rural)
        if practices is not KEEP:
            new["practices"] = check_practices(practices)
        return _pcn(self._update(row, "pcn", row.code, f"PCN {row.code}", new, expected_version))

    def _update(self, row, entity: str, key: str, what: str, new: Mapping[str, Any], expected: int):
        if row.version != expected:
            raise self._conflict(what, row, new, expected, new.keys(), entity, key)
        changes = {k: (getattr(row, k), v) for k, v in new.items() if getattr(row, k) != v}
        if not changes:
            return row

        def apply():
            for k, (_, v) in changes.items():
                setattr(row, k, v)

        def conflict():
            fresh = self.s.get(type(row), key, populate_existing=True)
            return self._conflict(what, fresh, new, expected, new.keys(), entity, key)

        self._flush_versioned(row, apply, conflict)
        self._audit(entity, key, changes)
        return row

    # -- assessments --------------------------------------------------------------------------
    def create_assessment(self, pcn_code: str, year: str, matrix: Matrix | None = None) -> Assessment:
        """A new draft assessment (no ratings yet)."""
        pcn = self._pcn_row(pcn_code)
        year = check_year(year)
        matrix = self.store.use_matrix(matrix)
        existing = self._live_assessment(pcn.code, year, matrix.id)
        if existing is not None:
            raise DuplicateError(f"{pcn.code} already has a {existing.status} {year} assessment against "
                                 f"{matrix.id} (id {existing.id})")
        return _assessment(self._insert_assessment(pcn.code, year, matrix, DRAFT, None))

    def _live_assessment(self, pcn_code: str, year: str, matrix_id: str) -> AssessmentRow | None:
        return self.s.scalars(select(AssessmentRow).where(
            AssessmentRow.pcn_code == pcn_code, AssessmentRow.year == year, AssessmentRow.matrix_id == matrix_id,
            AssessmentRow.status != SUPERSEDED)).first()

    def _insert_assessment(self, pcn_code, year, matrix: Matrix, status: str, revision_of: int | None) -> AssessmentRow:
        row = AssessmentRow(pcn_code=pcn_code, year=year, matrix_id=matrix.id, matrix_version=matrix.version,
                            status=status, created_by=self.by, created_at=self.at, updated_by=self.by,
                            updated_at=self.at, revision_of=revision_of)
        try:
            with self.s.begin_nested():
                self.s.add(row)
        except IntegrityError:
            if self._live_assessment(pcn_code, year, matrix.id) is None:
                raise
            raise DuplicateError(f"{pcn_code} already has a {year} assessment against {matrix.id} "
                                 f"(someone created it a moment ago)") from None
        self._audit("assessment", str(row.id), {
            "pcn_code": (None, pcn_code), "year": (None, year), "matrix_id": (None, matrix.id),
            "matrix_version": (None, matrix.version), "status": (None, status), "revision_of": (None, revision_of)})
        return row

    def agree_assessment(self, assessment_id: int, *, expected_version: int) -> Assessment:
        """Mark a draft as agreed; from then on it is locked."""
        row = self._assessment_row(assessment_id)
        self._check_draft(row)
        return _assessment(self._set_status(row, AGREED, expected_version))

    def _set_status(self, row: AssessmentRow, status: str, expected: int | None) -> AssessmentRow:
        what = f"The {row.year} assessment of {row.pcn_code}"
        if expected is not None and row.version != expected:
            raise self._conflict(what, row, {"status": status}, expected, ["status"])
        before = row.status

        def apply():
            row.status, row.updated_by, row.updated_at = status, self.by, self.at

        def conflict():
            fresh = self.s.get(AssessmentRow, row.id, populate_existing=True)
            return self._conflict(what, fresh, {"status": status}, expected, ["status"])

        self._flush_versioned(row, apply, conflict)
        self._audit("assessment", str(row.id), {"status": (before, status)})
        return row

    def open_revision(self, assessment_id: int) -> Assessment:
        """A new draft copied from an agreed assessment (same PCN, year and matrix), ratings and all.

        The agreed one becomes 'superseded' and stays as read-only history; discarding the new
        draft reinstates it.
        """
        old = self._assessment_row(assessment_id)
        if old.status != AGREED:
            raise InputError(f"only an agreed assessment can be revised; this one is {old.status}")
        matrix = self.store.matrix(old.matrix_id, old.matrix_version)
        self._set_status(old, SUPERSEDED, None)
        new = self._insert_assessment(old.pcn_code, old.year, matrix, DRAFT, old.id)
        for r in self.s.scalars(select(RatingRow).where(RatingRow.assessment_id == old.id)):
            self._insert_rating(new.id, r.element_id, {f: getattr(r, f) for f in RATING_FIELDS})
        return _assessment(new)

    def start_year(self, pcn_code: str, year: str, matrix: Matrix | None = None, *,
                   copy_from: int | None = None) -> Assessment:
        """A new draft for `year`, with last year's ratings as the starting point.

        Copies current stage, target stage and confidence from `copy_from` (default: the PCN's
        latest earlier assessment against the same matrix id). Evidence is NOT copied: it
        describes the year it was gathered in and must be looked at afresh, so each copied
        rating's note says where it came from instead. Element ids are carried across matrix
        versions directly or through the newer matrix's `supersedes` mapping; stages the new
        matrix does not have are left empty.
        """
        pcn = self._pcn_row(pcn_code)
        year = check_year(year)
        matrix = self.store.use_matrix(matrix)
        if copy_from is not None:
            source = self._assessment_row(copy_from)
            if source.pcn_code != pcn.code:
                raise InputError(f"assessment {copy_from} belongs to {source.pcn_code}, not {pcn.code}")
        else:
            source = self.s.scalars(select(AssessmentRow).where(
                AssessmentRow.pcn_code == pcn.code, AssessmentRow.matrix_id == matrix.id,
                AssessmentRow.status != SUPERSEDED, AssessmentRow.year < year,
            ).order_by(AssessmentRow.year.desc())).first()
        new = self.create_assessment(pcn.code, year, matrix)
        if source is None:
            return new
        old_matrix = self.store.matrices().get((source.matrix_id, source.matrix_version))
        mapping: dict[str, str] = {}
        if matrix.supersedes and (matrix.supersedes.matrix, matrix.supersedes.version) == (source.matrix_id, source.matrix_version):
            mapping = dict(matrix.supersedes.elements)
        elements, stages = set(matrix.element_ids()), set(matrix.stage_ids)
        state = "agreed" if source.status == AGREED else "draft"
        for r in self.s.scalars(select(RatingRow).where(RatingRow.assessment_id == source.id).order_by(RatingRow.element_id)):
            element = mapping.get(r.element_id, r.element_id)
            if element not in elements or (r.current_stage is None and r.target_stage is None):
                continue
            title = old_matrix.element(r.element_id).title if old_matrix and r.element_id in old_matrix.element_ids() else r.element_id
            self._insert_rating(new.id, element, {
                "current_stage": r.current_stage if r.current_stage in stages else None,
                "target_stage": r.target_stage if r.target_stage in stages else None,
                "confidence": r.confidence, "evidence": None,
                "note": f"Carried over from {source.year} ({state}, '{title}'); review the stage and add this year's evidence.",
            })
        return new

    def discard_draft(self, assessment_id: int, *, expected_version: int) -> None:
        """Delete a draft and its ratings. If it was a revision, the agreed one it replaced is reinstated."""
        row = self._assessment_row(assessment_id, lock="update")
        if row.status != DRAFT:
            raise LockedError(f"only a draft can be discarded; the {row.year} assessment of {row.pcn_code} is {row.status}")
        if row.version != expected_version:
            raise self._conflict(f"The {row.year} assessment of {row.pcn_code}", row, {"status": "discarded"},
                                 expected_version, ["status"])
        for r in self.s.execute(select(*_RATING_COLS).where(RatingRow.assessment_id == row.id).order_by(RatingRow.element_id)):
            self._audit("rating", f"{row.id}/{r.element_id}", {f: (getattr(r, f), None) for f in RATING_FIELDS})
        self._audit("assessment", str(row.id), {f: (getattr(row, f), None) for f in (
            "pcn_code", "year", "matrix_id", "matrix_version", "status", "revision_of")})
        revision_of = row.revision_of
        # Plain DELETEs: the ORM knows no relationship between the two tables to order them by.
        self.s.execute(delete(RatingRow).where(RatingRow.assessment_id == row.id),
                       execution_options={"synchronize_session": False})
        self.s.execute(delete(AssessmentRow).where(AssessmentRow.id == row.id),
                       execution_options={"synchronize_session": False})
        self.s.expunge(row)
        if revision_of is not None:
            old = self.s.get(AssessmentRow, revision_of, populate_existing=True)
            if old is not None and old.status == SUPERSEDED:
                self._set_status(old, AGREED, None)

    # -- ratings ------------------------------------------------------------------------------
    def save_rating(self, assessment_id: int, element_id: str, *, expected_version: int | None,
                    current_stage: Any = KEEP, target_stage: Any = KEEP, evidence: Any = KEEP,
                    note: Any = KEEP, confidence: Any = KEEP) -> Rating:
        """Set the given fields of one rating (fields left as KEEP stay as they are).

        `expected_version` is the version you read (0 if there was no rating yet). None skips
        the check: only for bulk imports, whose every change is still audited.
        """
        a = self._assessment_row(assessment_id, lock="share")
        self._check_draft(a)
        matrix = self.store.matrix(a.matrix_id, a.matrix_version)
        element_id = check_element(matrix, element_id)
        new = rating_values(matrix, current_stage=current_stage, target_stage=target_stage, evidence=evidence,
                             note=note, confidence=confidence)
        what = f"The rating of '{matrix.element(element_id).title}' in the {a.year} assessment of {a.pcn_code}"
        row = self.s.get(RatingRow, (a.id, element_id), populate_existing=True)
        stored_version = row.version if row is not None else 0
        if expected_version is not None and expected_version != stored_version:
            raise self._conflict(what, row, new, expected_version, new.keys())

        def conflict():
            fresh = self.s.get(RatingRow, (a.id, element_id), populate_existing=True)
            return self._conflict(what, fresh, new, expected_version, new.keys())

        if row is None:
            try:
                return _rating(self._insert_rating(a.id, element_id, new))
            except IntegrityError:
                raise conflict() from None
        changes = {k: (getattr(row, k), v) for k, v in new.items() if getattr(row, k) != v}
        if not changes:
            return _rating(row)

        def apply():
            for k, (_, v) in changes.items():
                setattr(row, k, v)
            row.updated_by, row.updated_at = self.by, self.at

        self._flush_versioned(row, apply, conflict)
        self._audit("rating", f"{a.id}/{element_id}", changes)
        return _rating(row)

    def _insert_rating(self, assessment_id: int, element_id: str, values: Mapping[str, Any]) -> RatingRow:
        row = RatingRow(assessment_id=assessment_id, element_id=element_id, updated_by=self.by, updated_at=self.at,
                        **{f: values.get(f) for f in RATING_FIELDS})
        with self.s.begin_nested():
            self.s.add(row)
        self._audit("rating", f"{assessment_id}/{element_id}", {f: (None, values.get(f)) for f in RATING_FIELDS})
        return row


# ---------------------------------------------------------------------------------------------
# The store

class Store:
    """The assessment records. Cheap to share: it holds an engine, not a session.

    `matrices`: where the store looks matrices up to check element and stage ids (a Catalog,
    or Matrix objects); by default `matrix.discover()`, the first time one is needed.
    """

    def __init__(self, url: str | URL | None = None, *, matrices: Catalog | Iterable[Matrix] | None = None,
                 upgrade: bool = True):
        self.url = make_url(url or database_url())
        self.engine = make_engine(self.url)
        self._writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._matrix_source = matrices
        self._matrices: dict[tuple[str, str], Matrix] | None = None
        if upgrade:
            migrate(self.engine)

    def __repr__(self) -> str:
        return f"Store({self.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- matrices -----------------------------------------------------------------------------
    def matrices(self) -> dict[tuple[str, str], Matrix]:
        if self._matrices is None:
            src = self._matrix_source
            if src is None:
                from matrix import discover
                src = discover()
            self._matrices = dict(src.matrices) if isinstance(src, Catalog) else {m.key: m for m in src}
        return self._matrices

    def matrix(self, matrix_id: str, version: str) -> Matrix:
        try:
            return self.matrices()[(matrix_id, version)]
        except KeyError:
            raise NotFoundError(f"matrix '{matrix_id}' version {version} is not available") from None

    def default_matrix(self) -> Matrix:
        found = self.matrices().values()
        if not found:
            raise NotFoundError("no maturity matrix is available (none found in the matrix folders)")
        return max(found, key=lambda m: (m.id == NATIONAL_MATRIX_ID, m.version))

    def use_matrix(self, matrix: Matrix | None) -> Matrix:
        """The given matrix (remembered for later checks), or the default one."""
        if matrix is None:
            return self.default_matrix()
        known = self.matrices().get(matrix.key)
        if known is None:
            self.matrices()[matrix.key] = matrix
        elif known != matrix:
            raise InputError(f"a different matrix '{matrix.id}' version {matrix.version} is already in use")
        return matrix

    # -- transactions -------------------------------------------------------------------------
    @contextmanager
    def batch(self, *, by: str, source: str | None = None, at: datetime | None = None) -> Iterator[Batch]:
        """One write transaction: `with store.batch(by="Sam") as b: b.save_rating(...)`."""
        at = (at or datetime.now(UTC))
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        with Session(self._writer, expire_on_commit=False) as s, s.begin():
            yield Batch(self, s, by, source, at)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A core connection in a write transaction, for bulk loaders (restore, demo, synthetic data).

        Whatever is written through it must keep the store's rules itself (audit rows included).
        """
        with self._writer.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self.engine) as s, s.begin():
            yield s

    # -- writes, one transaction each -----------------------------------------------------------
    def add_ics(self, code: str, name: str, *, region: str | None = None, by: str, source: str | None = None) -> ICS:
        with self.batch(by=by, source=source) as b:
            return b.add_ics(code, name, region=region)

    def update_ics(self, code: str, *, by: str, expected_version: int, source: str | None = None, **changes) -> ICS:
        with self.batch(by=by, source=source) as b:
            return b.update_ics(code, expected_version=expected_version, **changes)

    def add_pcn(self, code: str, name: str, *, ics_code: str, list_size: int, rural: bool = False,
                practices: Iterable[str] = (), by: str, source: str | None = None) -> PCN:
        with self.batch(by=by, source=source) as b:
            return b.add_pcn(code, name, ics_code=ics_code, list_size=list_size, rural=rural, practices=practices)

    def update_pcn(self, code: str, *, by: str, expected_version: int, source: str | None = None, **changes) -> PCN:
        with self.batch(by=by, source=source) as b:
            return b.update_pcn(code, expected_version=expected_version, **changes)

    def create_assessment(self, pcn_code: str, year: str, matrix: Matrix | None = None, *, by: str,
                          source: str | None = None) -> Assessment:
        with self.batch(by=by, source=source) as b:
            return b.create_assessment(pcn_code, year, matrix)

    def agree_assessment(self, assessment_id: int, *, by: str, expected_version: int, source: str | None = None) -> Assessment:
        with self.batch(by=by, source=source) as b:
            return b.agree_assessment(assessment_id, expected_version=expected_version)

    def open_revision(self, assessment_id: int, *, by: str, source: str | None = None) -> Assessment:
        with self.batch(by=by, source=source) as b:
            return b.open_revision(assessment_id)

    def start_year(self, pcn_code: str, year: str, matrix: Matrix | None = None, *, by: str,
                   copy_from: int | None = None, source: str | None = None) -> Assessment:
        with self.batch(by=by, source=source) as b:
            return b.start_year(pcn_code, year, matrix, copy_from=copy_from)

    def discard_draft(self, assessment_id: int, *, by: str, expected_version: int, source: str | None = None) -> None:
        with self.batch(by=by, source=source) as b:
            b.discard_draft(assessment_id, expected_version=expected_version)

    def save_rating(self, assessment_id: int, element_id: str, *, by: str, expected_version: int,
                    source: str | None = None, **fields: Any) -> Rating:
        """Fields: current_stage, target_stage, evidence, note, confidence (others stay as they are)."""
        unknown = set(fields) - set(RATING_FIELDS)
        if unknown:
            raise TypeError(f"unknown rating field(s): {', '.join(sorted(unknown))}")
        if expected_version is None:
            raise TypeError("expected_version is required (0 for a rating not saved before)")
        with self.batch(by=by, source=source) as b:
            return b.save_rating(assessment_id, element_id, expected_version=expected_version, **fields)

    # -- reads --------------------------------------------------------------------------------
    def is_empty(self) -> bool:
        """True when no organisation, assessment or audit row has been stored yet."""
        with self._read() as s:
            return not any(s.scalar(select(exists().select_from(t))) for t in (IcsRow, PcnRow, AssessmentRow, AuditRow))

    def data_version(self) -> int:
        """Changes whenever anything is written (every write adds audit rows): a cheap cache key."""
        # SQLite commits writers one at a time, so the newest audit id is enough. On PostgreSQL a
        # transaction holding a lower id can commit after one holding a higher id, leaving the
        # maximum unchanged; audit rows are never deleted, so their count always moves.
        q = select(func.coalesce(func.max(AuditRow.id), 0)) if self.dialect == "sqlite" else \
            select(func.count()).select_from(AuditRow)
        with self._read() as s:
            return s.scalar(q)

    def schema_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def ics(self, code: str) -> ICS:
        with self._read() as s:
            row = s.get(IcsRow, check_ics_code(code))
            if row is None:
                raise NotFoundError(f"there is no ICS with code {code}")
            return _ics(row)

    def list_ics(self) -> list[ICS]:
        with self._read() as s:
            return [_ics(r) for r in s.scalars(select(IcsRow).order_by(IcsRow.code))]

    def pcn(self, code: str) -> PCN:
        with self._read() as s:
            row = s.get(PcnRow, check_pcn_code(code))
            if row is None:
                raise NotFoundError(f"there is no PCN with code {code}")
            return _pcn(row)

    def pcns(self, ics_code: str | None = None) -> list[PCN]:
        q = select(*_PCN_COLS).order_by(PcnRow.code)
        if ics_code is not None:
            q = q.where(PcnRow.ics_code == self.ics(ics_code).code)
        with self._read() as s:
            return [_pcn(r) for r in s.execute(q)]

    def assessment(self, assessment_id: int) -> Assessment:
        with self._read() as s:
            row = s.get(AssessmentRow, int(assessment_id))
            if row is None:
                raise NotFoundError(f"there is no assessment with id {assessment_id}")
            return _assessment(row)

    def find_assessment(self, pcn_code: str, year: str, matrix_id: str | None = None) -> Assessment | None:
        """The live (draft or agreed) assessment of a PCN for a year, if there is one."""
        q = select(*_ASSESSMENT_COLS).where(AssessmentRow.pcn_code == check_pcn_code(pcn_code),
                                            AssessmentRow.year == check_year(year), AssessmentRow.status != SUPERSEDED)
        if matrix_id is not None:
            q = q.where(AssessmentRow.matrix_id == matrix_id)
        with self._read() as s:
            row = s.execute(q.order_by(AssessmentRow.matrix_id)).first()
        return _assessment(row) if row else None

    def assessments(self, *, pcn_code: str | None = None, year: str | None = None, ics_code: str | None = None,
                    include_superseded: bool = False) -> list[Assessment]:
        q = select(*_ASSESSMENT_COLS)
        if pcn_code is not None:
            q = q.where(AssessmentRow.pcn_code == check_pcn_code(pcn_code))
        if year is not None:
            q = q.where(AssessmentRow.year == check_year(year))
        if ics_code is not None:
            q = q.join(PcnRow, PcnRow.code == AssessmentRow.pcn_code).where(PcnRow.ics_code == check_ics_code(ics_code))
        if not include_superseded:
            q = q.where(AssessmentRow.status != SUPERSEDED)
        with self._read() as s:
            return [_assessment(r) for r in s.execute(q.order_by(AssessmentRow.pcn_code, AssessmentRow.year, AssessmentRow.id))]

    def years(self) -> list[str]:
        with self._read() as s:
            return list(s.scalars(select(AssessmentRow.year).distinct().order_by(AssessmentRow.year)))

    def ratings(self, assessment_id: int) -> dict[str, Rating]:
        with self._read() as s:
            rows = s.execute(select(*_RATING_COLS).where(RatingRow.assessment_id == int(assessment_id))
                             .order_by(RatingRow.element_id))
            return {r.element_id: _rating(r) for r in rows}

    def rating(self, assessment_id: int, element_id: str) -> Rating | None:
        with self._read() as s:
            row = s.get(RatingRow, (int(assessment_id), element_id))
            return _rating(row) if row else None

    def record(self, assessment_id: int) -> AssessmentRecord:
        a = self.assessment(assessment_id)
        return AssessmentRecord(self.pcn(a.pcn_code), a, self.ratings(a.id))

    def history(self, pcn_code: str, matrix_id: str | None = None) -> list[AssessmentRecord]:
        """Every live assessment of one PCN with its ratings, oldest year first (two queries)."""
        code = check_pcn_code(pcn_code)
        conds = [AssessmentRow.pcn_code == code, AssessmentRow.status != SUPERSEDED]
        if matrix_id is not None:
            conds.append(AssessmentRow.matrix_id == matrix_id)
        with self._read() as s:
            pcn = s.get(PcnRow, code)
            if pcn is None:
                raise NotFoundError(f"there is no PCN with code {pcn_code}")
            pcn = _pcn(pcn)
            heads = s.execute(select(*_ASSESSMENT_COLS).where(*conds).order_by(AssessmentRow.year, AssessmentRow.matrix_id)).all()
            rows = s.execute(select(*_RATING_COLS).join(AssessmentRow, AssessmentRow.id == RatingRow.assessment_id)
                             .where(*conds)).all()
        return _records(((pcn, a) for a in heads), rows)

    def portfolio(self, year: str, *, ics_code: str | None = None, matrix_id: str | None = None) -> list[AssessmentRecord]:
        """All live assessments of a year with their ratings, for one ICS or all of England.

        Two queries whatever the size; ordered by PCN code.
        """
        conds = [AssessmentRow.year == check_year(year), AssessmentRow.status != SUPERSEDED]
        if matrix_id is not None:
            conds.append(AssessmentRow.matrix_id == matrix_id)
        with self._read() as s:
            if ics_code is not None:
                code = check_ics_code(ics_code)
                if s.get(IcsRow, code) is None:
                    raise NotFoundError(f"there is no ICS with code {ics_code}")
                conds.append(PcnRow.ics_code == code)
            heads = s.execute(select(*_PCN_COLS, *_ASSESSMENT_COLS).join(PcnRow, PcnRow.code == AssessmentRow.pcn_code)
                              .where(*conds).order_by(PcnRow.code, AssessmentRow.matrix_id)).all()
            q = select(*_RATING_COLS).join(AssessmentRow, AssessmentRow.id == RatingRow.assessment_id)
            if ics_code is not None:
                q = q.join(PcnRow, PcnRow.code == AssessmentRow.pcn_code)
            rows = s.execute(q.where(*conds)).all()
        n = len(_PCN_COLS)
        return _records(((PCN(h[0], h[1], h[2], h[3], bool(h[4]), tuple(h[5] or ()), h[6]), h[n:]) for h in heads), rows)

    def audit(self, *, entity: str | None = None, entity_key: str | None = None, limit: int | None = None,
              newest_first: bool = True) -> list[AuditEntry]:
        q = select(AuditRow)
        if entity is not None:
            q = q.where(AuditRow.entity == entity)
        if entity_key is not None:
            q = q.where(AuditRow.entity_key == entity_key)
        q = q.order_by(AuditRow.id.desc() if newest_first else AuditRow.id)
        if limit is not None:
            q = q.limit(limit)
        with self._read() as s:
            return [_audit_entry(r) for r in s.scalars(q)]

    def rating_history(self, assessment_id: int, element_id: str) -> list[AuditEntry]:
        return self.audit(entity="rating", entity_key=f"{int(assessment_id)}/{element_id}", newest_first=False)

    def counts(self) -> dict[str, int]:
        """Rows per table, for messages like 'restored 8 PCNs, 32 assessments'."""
        with self._read() as s:
            return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in
                    (IcsRow, PcnRow, AssessmentRow, RatingRow, AuditRow)}


def _records(heads: Iterable[tuple[PCN, Any]], rating_rows: Iterable[Any]) -> list[AssessmentRecord]:
    by_assessment: dict[int, dict[str, Rating]] = {}
    for r in rating_rows:
        by_assessment.setdefault(r[0], {})[r[1]] = Rating(*r)
    out = []
    for pcn, a in heads:
        assessment = Assessment(*a)
        out.append(AssessmentRecord(pcn, assessment, by_assessment.get(assessment.id, {})))
    return out

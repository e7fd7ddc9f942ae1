"""The one way to read and write the records.

`Database.read()` gives a `Reader`; `Database.unit_of_work(by=..., source=...)` gives a
`UnitOfWork`, one transaction in which every write is committed together or not at all. The
feature modules (ratings, plan, pathway, workshop, organisations, exchange) work only through
these two, so the rules below hold whoever writes:
- every changed field gets an audit row: who, when, entity, key, field, before, after, source;
- a versioned row saved against a stale version raises the caller's ConflictError, never
  overwriting silently (the UPDATE itself checks the version, so two processes are caught too);
- an insert that meets a unique constraint raises the caller's DuplicateError.

Filters are keyword arguments: `year="2024/25"` is equality; a suffix compares otherwise:
`status__ne`, `year__lt`, `year__le`, `year__gt`, `year__ge`, `id__in` (any iterable). `in_ics`
keeps rows whose `pcn_code` belongs to that ICS. `order_by` names columns, `-name` descending.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from .. import oplog
from ..values import ConflictError, DuplicateError, check_name, check_text
from .engine import database_url, in_memory, make_engine, migrate, schema_revision
from .tables import AuditRow, PcnRow

_IN_CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits
_WRITE_CHUNK = 5_000  # rows per executemany: big enough to be fast, small enough to bound memory


def audit_text(value: Any) -> str | None:
    """A value as the audit log stores it: text, JSON for lists, ISO for times."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _condition(table, name: str, value: Any):
    column, _, op = name.partition("__")
    c = getattr(table, column)
    if op == "":
        return c.is_(None) if value is None else c == value
    if op == "ne":
        return c.is_not(None) if value is None else c != value
    if op == "in":
        return c.in_(list(value))
    return {"lt": c < value, "le": c <= value, "gt": c > value, "ge": c >= value}[op]


def _query(table, where: Mapping[str, Any], order_by: Iterable[str] = (), limit: int | None = None):
    q = select(table)
    where = dict(where)
    ics = where.pop("in_ics", None)
    if ics is not None:
        q = q.join(PcnRow, PcnRow.code == table.pcn_code).where(PcnRow.ics_code == ics)
    for name, value in where.items():
        q = q.where(_condition(table, name, value))
    for name in order_by:
        col = getattr(table, name.lstrip("-"))
        q = q.order_by(col.desc() if name.startswith("-") else col)
    return q.limit(limit) if limit is not None else q


class Reader:
    """Reads rows in one consistent transaction. Rows are plain attribute holders: change them
    only through a UnitOfWork."""

    def __init__(self, session: Session):
        self.session = session

    def get(self, table, key: Any, *, lock: str | None = None):
        """The row with that primary key, or None; always as stored now. lock="share" (FOR SHARE on
        PostgreSQL) makes a concurrent UPDATE of the row wait; lock="update" a concurrent lock too."""
        return self.session.get(table, key, populate_existing=True,
                                with_for_update={"read": lock == "share"} if lock else None)

    def rows(self, table, *, order_by: Iterable[str] = (), limit: int | None = None, lock: str | None = None,
             **where: Any) -> list:
        """Rows matching the filters (see the module's docstring). A long `__in` list is split."""
        long = [k for k, v in where.items() if k.endswith("__in") and not isinstance(v, (str, bytes))]
        if long:
            values = list(where[long[0]])
            if len(values) > _IN_CHUNK:
                out = []
                for i in range(0, len(values), _IN_CHUNK):
                    out += self.rows(table, order_by=order_by, lock=lock, **{**where, long[0]: values[i:i + _IN_CHUNK]})
                return out[:limit] if limit is not None else out
        q = _query(table, where, order_by, limit).execution_options(populate_existing=True)
        if lock:
            q = q.with_for_update(read=lock == "share")
        return list(self.session.scalars(q))

    def first(self, table, *, order_by: Iterable[str] = (), lock: str | None = None, **where: Any):
        found = self.rows(table, order_by=order_by, limit=1, lock=lock, **where)
        return found[0] if found else None

    def count(self, table, **where: Any) -> int:
        q = _query(table, where).with_only_columns(func.count()).order_by(None)
        return self.session.scalar(q)

    def column(self, table, name: str, *, distinct: bool = False, order_by: Iterable[str] = (), **where: Any) -> list:
        """One column's values (distinct ones if asked) of the matching rows."""
        q = _query(table, where, order_by).with_only_columns(getattr(table, name))
        if distinct:
            q = q.distinct()
        return list(self.session.scalars(q))

    def values(self, table, names: Sequence[str], *, lock: str | None = None, **where: Any) -> list[tuple]:
        """Some columns of the matching rows as plain tuples, for set-based work on many rows (no
        row objects are made). `lock` as for `rows`; a long `__in` list is split."""
        long = [k for k, v in where.items() if k.endswith("__in") and not isinstance(v, (str, bytes))]
        chunks = [where]
        if long:
            given = list(where[long[0]])
            chunks = [{**where, long[0]: given[i:i + _IN_CHUNK]} for i in range(0, len(given), _IN_CHUNK)]
        out: list[tuple] = []
        for w in chunks:
            q = _query(table, w).with_only_columns(*(getattr(table, n) for n in names))
            if lock:
                q = q.with_for_update(read=lock == "share")
            out += [tuple(r) for r in self.session.execute(q)]
        return out


class UnitOfWork(Reader):
    """One write transaction. All rows it writes share one timestamp `at` and one `by`."""

    def __init__(self, session: Session, by: str, source: str | None, at: datetime, store: Any = None,
                 subject: str | None = None):
        super().__init__(session)
        self.by = check_name(by, "who is making the change (by)", 100)
        self.source = check_text(source, "source", 300)
        self.at = at
        self.store = store  # the Store that opened it: services reach the catalog and the principal through it
        self.subject = subject  # the sign-in subject of whoever acts
        self.role: str | None = None  # the role the change is made under (set by the access check)
        self.principal = getattr(store, "principal", None)  # who acts; a service may widen it for one transaction
        # For the operator's log once committed: (entity, key) -> [every before empty, every after empty, fields].
        self.logged: dict[tuple[str, str], list] = {}

    def _log(self, entity: str, key: str, names: list[str], all_before_empty: bool, all_after_empty: bool) -> None:
        seen = self.logged.setdefault((entity, str(key)), [True, True, set()])
        seen[0] &= all_before_empty
        seen[1] &= all_after_empty
        seen[2].update(names)

    def log_commit(self) -> None:
        """One operator's log line per record changed (names of fields only, see assessments.oplog)."""
        if self.logged:
            oplog.commit(subject=self.subject, role=self.role, changes={
                k: (oplog.action_of(b, a), names) for k, (b, a, names) in self.logged.items()})

    @contextmanager
    def batch(self, *, by: str | None = None, source: str | None = None, at: datetime | None = None) -> Iterator[UnitOfWork]:
        """A service called inside this unit of work joins it: one transaction for all."""
        yield self

    @contextmanager
    def read(self) -> Iterator[Reader]:
        yield self  # reads inside a transaction see its own writes

    # -- writes -------------------------------------------------------------------------------
    def audit(self, entity: str, key: str, changes: Mapping[str, tuple[Any, Any]]) -> None:
        """An audit row for every field whose value changed: {field: (before, after)}."""
        names, no_before, no_after = [], True, True
        for name, (before, after) in changes.items():
            b, a = audit_text(before), audit_text(after)
            if b != a:
                names.append(name)
                no_before, no_after = no_before and b is None, no_after and a is None
                self.session.add(AuditRow(at=self.at, who=self.by, entity=entity, entity_key=key, field=name,
                                          before=b, after=a, source=self.source, actor_subject=self.subject,
                                          actor_role=self.role))
        if names:
            self._log(entity, key, names, no_before, no_after)

    def add(self, row, *, duplicate: str | Callable[[], Exception]):
        """Insert a row now (its generated id is then known). A unique clash raises DuplicateError
        with the message `duplicate`, or whatever `duplicate()` returns."""
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            raise (DuplicateError(duplicate) if isinstance(duplicate, str) else duplicate()) from None
        return row

    @contextmanager
    def savepoint(self, *, duplicate: str | Callable[[], Exception]) -> Iterator[None]:
        """Writes that may meet a unique constraint: undone alone, raising DuplicateError(duplicate)."""
        try:
            with self.session.begin_nested():
                yield
        except IntegrityError:
            raise (DuplicateError(duplicate) if isinstance(duplicate, str) else duplicate()) from None

    def update(self, row, values: Mapping[str, Any], *, conflict: Callable[[], Exception], stamp: bool = True,
               touch: bool = False) -> None:
        """Set `values` on a versioned row; its version moves. With `stamp`, updated_by/at too.
        `touch` moves the version even when no column of this row changed (its children did).
        A concurrent save of the row raises `conflict()` and writes nothing of this change."""
        try:
            with self.session.begin_nested():
                for k, v in values.items():
                    setattr(row, k, v)
                if stamp and hasattr(row, "updated_by"):
                    row.updated_by, row.updated_at = self.by, self.at
                if touch:
                    flag_modified(row, "updated_at" if hasattr(row, "updated_at") else "version")
        except StaleDataError:
            raise conflict() from None

    def set(self, row, values: Mapping[str, Any]) -> None:
        """Set values on a row that carries no version (it is checked some other way)."""
        for k, v in values.items():
            setattr(row, k, v)
        self.session.flush()

    def delete(self, row) -> None:
        """Delete one row; with a version, only if it is still that version."""
        table = type(row)
        keys = {c.key: getattr(row, c.key) for c in table.__mapper__.primary_key}
        q = delete(table).where(*(getattr(table, k) == v for k, v in keys.items()))
        if "version" in table.__table__.c:
            q = q.where(table.version == row.version)
        self.session.execute(q, execution_options={"synchronize_session": False})
        self.session.expunge(row)

    def delete_where(self, table, **where: Any) -> None:
        q = delete(table)
        for name, value in where.items():
            q = q.where(_condition(table, name, value))
        self.session.execute(q, execution_options={"synchronize_session": False})

    def add_all(self, rows: Iterable[Any]) -> None:
        self.session.add_all(rows)
        self.session.flush()

    # -- set-based writes (imports): the same rules, a statement per few thousand rows -------------
    def insert_many(self, table, rows: Sequence[Mapping[str, Any]], *, duplicate: str,
                    returning: Sequence[str] = ()) -> list[tuple]:
        """Insert many rows (dicts with the same keys) at once; with `returning`, those columns of
        each new row, in the order given. A unique clash raises DuplicateError(duplicate) and
        inserts none of them. The caller writes their audit rows (`audit_many`)."""
        if not rows:
            return []
        self.session.flush()
        t = table.__table__
        q = insert(t)
        if returning:
            q = q.returning(*(t.c[n] for n in returning), sort_by_parameter_order=True)
        out: list[tuple] = []
        try:
            with self.session.begin_nested():
                for i in range(0, len(rows), _WRITE_CHUNK):
                    if returning:
                        out += [tuple(r) for r in self.session.execute(q, list(rows[i:i + _WRITE_CHUNK]))]
                    else:
                        self._driver_many(q, rows[i:i + _WRITE_CHUNK])
        except IntegrityError:
            raise DuplicateError(duplicate) from None
        return out

    def update_many(self, table, rows: Sequence[Mapping[str, Any]], *, conflict: Callable[[Mapping[str, Any]], Exception]) -> None:
        """Set values on many versioned rows at once. Each dict holds the row's primary key, the
        `version` it was read at and the columns to set; every version moves (and updated_by/at
        are stamped). A row saved by someone else since (its version moved) raises `conflict(row)`
        and writes nothing of the whole transaction's change."""
        if not rows:
            return
        self.session.flush()
        t = table.__table__
        keys = [c.key for c in t.primary_key]
        stamp = {"updated_by": self.by, "updated_at": self.at} if "updated_by" in t.c else {}
        groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
        for r in rows:  # one statement per set of columns changed
            groups.setdefault(tuple(sorted(k for k in r if k not in keys and k != "version")), []).append(r)
        sane = self.session.get_bind().dialect.supports_sane_multi_rowcount
        for names, group in groups.items():
            q = update(t).where(*(t.c[k] == bindparam(f"k_{k}") for k in keys), t.c.version == bindparam("k_version"))
            q = q.values({**{n: bindparam(f"v_{n}") for n in names}, "version": t.c.version + 1, **stamp})
            for i in range(0, len(group), _WRITE_CHUNK):
                part = group[i:i + _WRITE_CHUNK]
                params = [{**{f"k_{k}": r[k] for k in keys}, "k_version": r["version"],
                           **{f"v_{n}": r[n] for n in names}} for r in part]
                if self._driver_many(q, params) != len(part) and sane:
                    raise conflict(self._moved(table, keys, part))

    def _driver_many(self, statement, params: Sequence[Mapping[str, Any]]) -> int:
        """executemany handed straight to the driver: compiled once, each value converted by its
        column's type, constants once. SQLAlchemy's own per-row parameter handling is about half
        of an import's time otherwise. Returns the rows affected."""
        conn = self.session.connection()
        dialect = conn.dialect
        compiled = statement.compile(dialect=dialect, column_keys=list(params[0]))
        names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
        given, fixed, convert = set(params[0]), {}, {}
        for n in names:
            bind = compiled.binds[n]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if n in given:
                convert[n] = process
            else:
                fixed[n] = process(bind.effective_value) if process else bind.effective_value
        ordered = [(n, convert.get(n), n in given) for n in names]
        rows = [[(c(p[n]) if c else p[n]) if row_value else fixed[n] for n, c, row_value in ordered] for p in params]
        if not compiled.positional:
            escaped = [compiled.escaped_bind_names.get(n, n) for n in names]
            rows = [dict(zip(escaped, r)) for r in rows]
        else:
            rows = [tuple(r) for r in rows]
        return conn.exec_driver_sql(compiled.string, rows).rowcount

    def _moved(self, table, keys: list[str], part: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
        """The first of `part` whose stored version is not the one it was read at."""
        now = {tuple(r[:-1]): r[-1] for r in self.values(
            table, [*keys, "version"], **{f"{keys[0]}__in": sorted({r[keys[0]] for r in part})})}
        return next((r for r in part if now.get(tuple(r[k] for k in keys)) != r["version"] + 1), part[0])

    def audit_many(self, changes: Iterable[tuple[str, str, Mapping[str, tuple[Any, Any]]]]) -> None:
        """`audit` for many records at once: (entity, key, {field: (before, after)}) each."""
        base = {"at": self.at, "who": self.by, "source": self.source, "actor_subject": self.subject,
                "actor_role": self.role}
        rows = []
        for entity, key, fields in changes:
            names, no_before, no_after = [], True, True
            for name, (before, after) in fields.items():
                b, a = audit_text(before), audit_text(after)
                if b != a:
                    names.append(name)
                    no_before, no_after = no_before and b is None, no_after and a is None
                    rows.append({**base, "entity": entity, "entity_key": key, "field": name, "before": b, "after": a})
            if names:
                self._log(entity, key, names, no_before, no_after)
        self.insert_many(AuditRow, rows, duplicate="the change log could not be written")

    def last_change(self, entity: str, key: str) -> tuple[str | None, datetime | None]:
        """Who changed that record last and when, from the audit log (for rows with no stamp)."""
        last = self.session.execute(select(AuditRow.who, AuditRow.at).where(
            AuditRow.entity == entity, AuditRow.entity_key == key).order_by(AuditRow.id.desc()).limit(1)).first()
        return (last[0], last[1]) if last else (None, None)

    def conflict(self, what: str, row, attempted: Mapping[str, Any], expected: int | None, fields: Iterable[str],
                 entity: str | None = None, key: str | None = None) -> ConflictError:
        """The ConflictError for a save of `attempted` against `expected` when `row` is what is stored."""
        stored = None if row is None else {f: getattr(row, f) for f in fields}
        who, when = getattr(row, "updated_by", None), getattr(row, "updated_at", None)
        if row is not None and who is None and entity is not None:
            who, when = self.last_change(entity, key)
        return ConflictError(what, attempted, stored, who, when, expected, row.version if row is not None else 0)


class Database:
    """An engine and the ways into it. Cheap to share: it holds an engine, not a session."""

    def __init__(self, url: str | URL | None = None, *, upgrade: bool = True):
        self.url = make_url(url or database_url())
        self.engine = make_engine(self.url)
        self._writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        # Burst writes get their own small pool (engine.py), so they never take the pages' connections.
        self.burst_engine = self.engine if in_memory(self.url) else make_engine(self.url, burst=True)
        self._burst = self.burst_engine.execution_options(sqlite_begin="IMMEDIATE")
        if upgrade:
            migrate(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()
        self.burst_engine.dispose()

    def schema_revision(self) -> str | None:
        return schema_revision(self.engine)

    @contextmanager
    def read(self) -> Iterator[Reader]:
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            yield Reader(s)

    @contextmanager
    def unit_of_work(self, *, by: str, source: str | None = None, at: datetime | None = None,
                     store: Any = None, subject: str | None = None) -> Iterator[UnitOfWork]:
        at = at or datetime.now(UTC)
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
        with Session(self._writer, expire_on_commit=False) as s, s.begin():
            uow = UnitOfWork(s, by, source, at, store, subject)
            yield uow
        uow.log_commit()  # only once committed: a rolled-back change is not one

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A core connection in a write transaction, for the bulk paths in records/ (restore,
        generated data, workshop ratings), which keep the rules above themselves."""
        with self._burst.begin() as conn:
            yield conn

"""Backup and restore of the whole database, table by table, read from the database itself.

Tables added by later migrations are included without changes here. Rows are ordered by primary
key and timestamps written as ISO 8601 in UTC, so backing up, restoring into an empty database and
backing up again gives the same bytes.
"""
from __future__ import annotations

import base64
from datetime import UTC, date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import Date, DateTime, LargeBinary, MetaData, Numeric, func, insert, select, text

from .. import oplog
from ..values import StoreError
from .backup_checks import Known, check_backup, converter, shown
from .engine import alembic_config, head_revision, reset_sequences

BACKUP_FORMAT = "pcn-maturity-records-backup"
BACKUP_FORMAT_VERSION = 1
SKIP_TABLES = {"alembic_version"}


class RestoreError(StoreError):
    """A backup that cannot be restored here; nothing was written."""


def _reflect(conn) -> list:
    meta = MetaData()
    meta.reflect(bind=conn)
    return [t for t in meta.sorted_tables if t.name not in SKIP_TABLES]


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _sort_key(pk_index: list[int] | None, width: int):
    if pk_index:  # primary keys are never NULL
        return itemgetter(*pk_index)

    def key(row):  # a table without a primary key: every column, NULLs first
        return tuple((0, v) if v is not None else (-1, 0) for v in row)
    return key


def _converted(t) -> bool:
    """Columns whose values need turning into JSON text and back (the rest go as they are)."""
    return isinstance(t, (DateTime, Date, Numeric, LargeBinary))


def _convert_rows(rows: list, cols: list, fn) -> list:
    which = [i for i, c in enumerate(cols) if _converted(c.type)]
    if not which:
        return rows
    for r in rows:
        for i in which:
            if r[i] is not None:
                r[i] = fn(cols[i], r[i])
    return rows


def backup(store) -> dict:
    """Every table (but Alembic's own) as {"columns": [...], "rows": [[...], ...]}, in a stable order."""
    with store.db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # One snapshot for every table: under read committed each SELECT would see the commits
            # other processes make between them, and a PCN could land in the backup without its ICS.
            conn.execution_options(isolation_level="REPEATABLE READ")
        tables = _reflect(conn)
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        out: dict[str, Any] = {}
        for t in tables:
            cols = list(t.columns)
            rows = [list(r) for r in conn.execute(select(*cols))]
            pk = [i for i, c in enumerate(cols) if c.primary_key]
            # Sorted here, not by the database: text collations differ between SQLite and PostgreSQL.
            rows.sort(key=_sort_key(pk, len(cols)))
            out[t.name] = {"columns": [c.name for c in cols],
                           "rows": _convert_rows(rows, cols, lambda _c, v: _to_json(v))}
    return {"format": BACKUP_FORMAT, "format_version": BACKUP_FORMAT_VERSION, "schema_revision": revision,
            "tables": out}


def _known_revision(revision: Any) -> bool:
    from alembic.script import ScriptDirectory

    try:
        return isinstance(revision, str) and ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an unknown or malformed id
        return False


def restore(store, data: dict, *, known: Known | None = None) -> dict[str, int]:
    """Load a backup into an EMPTY database (one transaction). Returns rows restored per table.

    A backup made with an older schema is restored into that schema (the empty database is
    taken down to it first) and then upgraded with the migrations, as the live database was.
    Every value is checked first (backup_checks): `known` gives the stages and elements of each
    matrix available here, so that rows naming anything else are refused. A refused backup
    writes nothing and leaves the database as it was.
    """
    from alembic import command

    if not isinstance(data, dict) or data.get("format") != BACKUP_FORMAT:
        raise RestoreError("this is not a backup made by this tool (the 'format' field is missing or different)")
    if data.get("format_version") != BACKUP_FORMAT_VERSION:
        raise RestoreError(f"backup format version {shown(data.get('format_version'))} is not supported "
                           f"(expected {BACKUP_FORMAT_VERSION})")
    here, revision = head_revision(), data.get("schema_revision")
    if revision != here and not _known_revision(revision):
        raise RestoreError(f"the backup was made with database schema {shown(revision)}, which this version of the tool "
                           f"does not know (it uses {here}): restore it with the newer version that made it")
    tables_in = data.get("tables")
    if not isinstance(tables_in, dict):
        raise RestoreError("the backup has no 'tables' (an object of tables by name)")
    counts: dict[str, int] = {}
    with store.transaction() as conn:
        tables = _reflect(conn)
        filled = {t.name: n for t in tables if (n := conn.execute(select(func.count()).select_from(t)).scalar())}
        if filled:
            what = ", ".join(f"{n:,} row(s) in {name}" for name, n in filled.items())
            raise RestoreError(f"the database is not empty ({what}). Restore only into an empty database, "
                               f"for example a new file: PCN_DATABASE_URL=sqlite:///path/to/new.db")
        if revision != here:
            try:
                command.downgrade(alembic_config(conn), revision)
            except Exception as exc:  # a migration without a way back
                raise RestoreError(f"cannot prepare an empty database at schema {revision}: {exc}") from None
            tables = _reflect(conn)
        # Raised inside the transaction, so a downgrade made for the backup is rolled back with it.
        problems, ready = check_backup(tables, tables_in, known)
        if problems:
            raise RestoreError(problems.report())
        for t in tables:
            if t.name not in ready:
                counts[t.name] = 0
                continue
            names, rows = ready[t.name]
            cols = [t.columns[n] for n in names]
            which = [(i, converter(c)) for i, c in enumerate(cols) if _converted(c.type)]  # checked: only dates etc. change
            for start in range(0, len(rows), 20_000):
                part = [list(r) for r in rows[start:start + 20_000]]
                for r in part:
                    for i, f in which:
                        if r[i] is not None:
                            r[i] = f(r[i])
                chunk = [dict(zip(names, r)) for r in part]
                try:
                    conn.execute(insert(t), chunk)
                except Exception as exc:  # what only the database checks (unique indexes)
                    detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]  # the database's words, not the driver's
                    raise RestoreError(f"table {t.name}: rows {start + 1:,} to {start + len(chunk):,} could not be "
                                       f"restored: {detail}") from None
            counts[t.name] = len(rows)
        reset_sequences(conn)
        if revision != here:
            command.upgrade(alembic_config(conn), "head")
    oplog.bulk("restore", store, counts, schema=revision)
    return counts

"""The database: its URL, an engine with the settings the records rely on, and the migrations.

SQLite file `data/pcn.db` (under the repository root) by default; any SQLAlchemy URL in the
environment variable `PCN_DATABASE_URL` instead (PostgreSQL through psycopg 3). Opening the
records brings the schema up to date with the Alembic migrations beside this file.

Two pools per database (`make_engine(url, burst=...)`): the pages' pool, and a small one for the
burst writes (participants' ratings and joins, restores, bulk loads), so however many phones save
at once the facilitator's controls and every page's reads still find a free connection. A pool
that stays full past its timeout raises the core's BusyError, never SQLAlchemy's TimeoutError.
A database that cannot be opened (no server at that address, a refused sign-in, an SQLite file
that cannot be opened) raises the core's UnreachableError, naming where but never the password.
"""
from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import QueuePool

from ..values import BusyError, UnreachableError

REPO_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
ENV_URL = "PCN_DATABASE_URL"

# Connections per process. Streamlit runs each session's script in its own thread, and a run holds
# one connection at a time, briefly; SQLite connections cost little, so the pages' pool covers 60
# phones and a facilitator polling at once. The burst pool is small on purpose: SQLite takes one
# writer at a time anyway, and writers queued here (first come, first served) do not crowd the
# database's own lock, where the facilitator's write would have to win a busy-wait lottery.
PAGE_POOL = {"sqlite": (10, 50), "postgresql": (10, 10)}  # (pool size, overflow)
BURST_POOL = {"sqlite": 2, "postgresql": 4}
POOL_TIMEOUT = 20  # seconds a run waits for a free connection before it is told the database is busy
# Seconds a writer waits for another's transaction (SQLite's busy timeout, PostgreSQL's
# lock_timeout) before it is told the database is busy. Imports commit in seconds, so this is rare.
BUSY_TIMEOUT = 20


class _FairPool(QueuePool):
    """A QueuePool whose timeout is the core's BusyError: the page says so plainly, nothing is lost."""

    def _do_get(self):
        try:
            return super()._do_get()
        except exc.TimeoutError:
            raise BusyError("The server is busy with many saves at once. Nothing was lost: try again in a "
                            "moment.") from None


def database_url() -> str:
    """PCN_DATABASE_URL if set, else the SQLite file data/pcn.db under the repository root."""
    return os.environ.get(ENV_URL) or f"sqlite:///{REPO_ROOT / 'data' / 'pcn.db'}"


def _pool_args(backend: str, burst: bool) -> dict:
    size, overflow = (BURST_POOL[backend], 0) if burst else PAGE_POOL[backend]
    return {"poolclass": _FairPool, "pool_size": size, "max_overflow": overflow, "pool_timeout": POOL_TIMEOUT}


def in_memory(url: str | URL) -> bool:
    """A SQLite database that lives in one connection: a second engine would be a different one."""
    u = make_url(url)
    db = u.database or ""
    return u.get_backend_name() == "sqlite" and (db in ("", ":memory:") or "mode=memory" in str(u))


def make_engine(url: str | URL, *, burst: bool = False) -> Engine:
    """An engine with the settings the records rely on (SQLite: WAL, foreign keys, real BEGINs).
    `burst`: the small pool for burst writes (module docstring)."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    if u.get_backend_name() != "sqlite":
        return _busy_is_core_error(create_engine(u, pool_pre_ping=True, **_pool_args("postgresql", burst)))
    db = u.database
    if db and db != ":memory:" and not db.startswith("file:"):
        try:
            Path(db).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # a file where a folder should be, or no right to make one
            folder = error.filename or Path(db).expanduser().parent
            raise unreachable(u, OSError(f"cannot make its folder {folder}: {error.strerror or error}")) from None
    pooling = {} if in_memory(u) else _pool_args("sqlite", burst)
    engine = create_engine(u, connect_args={"timeout": BUSY_TIMEOUT}, **pooling)

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

    return _busy_is_core_error(engine)


# SQLite's primary result codes SQLITE_BUSY and SQLITE_LOCKED; PostgreSQL's lock_not_available
# (lock_timeout), serialization_failure and deadlock_detected. Each means "another transaction
# held what this one needed": it was rolled back whole, so trying again is safe.
_SQLITE_BUSY = (5, 6)
_PG_BUSY = ("55P03", "40001", "40P01")


def is_busy(error: BaseException) -> bool:
    """Whether a driver error means the database was busy with another transaction."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_BUSY
    if getattr(error, "sqlstate", None) in _PG_BUSY:
        return True
    text_ = str(error).lower()
    return "database is locked" in text_ or "database table is locked" in text_


_SQLITE_UNOPENABLE = "unable to open database file"
# libpq repeats the address the message names already: 'connection failed: connection to server at
# "127.0.0.1", port 1 failed: Connection refused'.
_PG_PREFIX = re.compile(r'^(connection failed: )?(connection to server (at|on) .*? failed: )?(FATAL: +)?')


def unreachable(url: URL, error: BaseException) -> UnreachableError:
    """The core's error for a database that cannot be opened: where it is (host and port, or the
    file) and the driver's reason, with the password taken out wherever it appears."""
    driver = getattr(error, "orig", None) or error
    if url.get_backend_name() == "sqlite":
        where = f"SQLite file {url.database}" if url.database else "SQLite in memory"
        reason = "SQLite cannot open the file" if _SQLITE_UNOPENABLE in str(driver) else str(driver)
        what_to_do = (f"Check that its folder exists and may be written to, that the path names a file, not a "
                      f"folder, and that {ENV_URL} is right.")
    else:
        host = url.host or "the local socket"
        where = f"server {host} port {url.port or 5432}, database {url.database or '(none)'}, user {url.username or '(none)'}"
        reason = _PG_PREFIX.sub("", str(driver).strip())
        what_to_do = f"Check that the server is running and that {ENV_URL} (host, port, name, user, password) is right."
    reason = (reason.strip().splitlines() or [""])[0].strip()[:300].rstrip(".") or type(driver).__name__
    if url.password:
        where, reason = where.replace(str(url.password), "***"), reason.replace(str(url.password), "***")
    return UnreachableError(where, reason, what_to_do, driver)


def _at_connect(context) -> bool:
    """Whether the error came from opening a connection (no connection or statement yet)."""
    return (context.connection is None and context.statement is None
            and isinstance(context.sqlalchemy_exception, (exc.OperationalError, exc.InterfaceError)))


def _busy_is_core_error(engine: Engine) -> Engine:
    """Every statement (reads, unit of work, bulk paths, migrations) that meets a busy database
    raises the core's BusyError, so no page ever shows "database is locked"; a database that
    cannot be opened raises UnreachableError, so the command line and the pages say so plainly."""
    url = engine.url

    @event.listens_for(engine, "handle_error")
    def _busy(context):
        if context.is_pre_ping:
            return  # the pool tries a fresh connection itself; its failure comes back here
        original = context.original_exception
        if is_busy(original):
            raise BusyError() from original
        if _at_connect(context) or _SQLITE_UNOPENABLE in str(original):
            raise unreachable(url, original) from original

    if engine.dialect.name == "postgresql":
        @event.listens_for(engine, "connect")
        def _lock_timeout(dbapi_connection, _record):
            # Bounded like SQLite's busy timeout: a save waiting on a row an import holds gives up
            # with BusyError instead of hanging the page. Committed so a pool reset keeps it.
            dbapi_connection.execute(f"SET lock_timeout = '{BUSY_TIMEOUT}s'")
            dbapi_connection.commit()

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
    if engine.dialect.name == "sqlite":
        _migrate_sqlite(writer, revision)
        return
    with writer.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL lock_timeout = 0")  # another process's upgrade may take a while
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(742217001)")
        current = MigrationContext.configure(conn).get_current_revision()
        if revision == "head" and current == head_revision():
            return
        command.upgrade(alembic_config(conn), revision)


def _migrate_sqlite(writer: Engine, revision: str) -> None:
    """SQLite alters a column by copying its table and dropping the old one; with foreign keys on,
    that drop deletes every row that cascades from it (0006 rebuilt `workshop` and took its
    participants and ratings). So foreign keys are off for the upgrade, as SQLite's ALTER TABLE
    guide says, and checked whole before it commits."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    with writer.connect() as conn:
        raw = conn.connection.driver_connection
        raw.execute("PRAGMA foreign_keys=OFF")  # only outside a transaction does this take effect
        try:
            with conn.begin():
                current = MigrationContext.configure(conn).get_current_revision()
                if revision == "head" and current == head_revision():
                    return
                command.upgrade(alembic_config(conn), revision)
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"the upgrade to {revision} would leave {len(broken)} row(s) pointing at "
                                       f"nothing (first: table {broken[0][0]}, row {broken[0][1]}); nothing changed")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


def schema_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


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

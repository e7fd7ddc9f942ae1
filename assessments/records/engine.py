"""The database: its URL, an engine with the settings the records rely on, and the migrations.

SQLite file `data/pcn.db` (under the repository root) by default; any SQLAlchemy URL in the
environment variable `PCN_DATABASE_URL` instead (PostgreSQL through psycopg 3). Opening the
records brings the schema up to date with the Alembic migrations beside this file.
"""
from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url

REPO_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
ENV_URL = "PCN_DATABASE_URL"


def database_url() -> str:
    """PCN_DATABASE_URL if set, else the SQLite file data/pcn.db under the repository root."""
    return os.environ.get(ENV_URL) or f"sqlite:///{REPO_ROOT / 'data' / 'pcn.db'}"


def make_engine(url: str | URL) -> Engine:
    """An engine with the settings the records rely on (SQLite: WAL, foreign keys, real BEGINs)."""
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

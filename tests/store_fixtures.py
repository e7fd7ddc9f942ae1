"""Fixtures for the records layer: a real PostgreSQL server for the session, and a fresh empty
database per test on SQLite and on PostgreSQL.

PostgreSQL is not optional: if Debian's server binaries are missing the tests fail and say how
to install them (the README's test command does it), so a green run always means both backends.
"""
from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from matrix import load_matrix

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BACKENDS = ["sqlite", "postgresql"]


def _pg_bindir() -> Path:
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not found:
        pytest.fail("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb). The store tests need a real "
                    "server: run the README's test command, `bash scripts/test.sh`, which installs it "
                    "(or `apt-get install -y postgresql`).", pytrace=False)
    return Path(max(found, key=lambda p: int(Path(p).parts[4]))).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(args: list[str], **kw) -> subprocess.CompletedProcess:
    # The server refuses to run as root; we are root in CI and on the dev machines.
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + args, capture_output=True, text=True, **kw)


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1 with its socket in a temp folder."""

    def __init__(self):
        self.bindir = _pg_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="pcn-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._names = itertools.count(1)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")

    def start(self) -> None:
        r = _as_postgres([str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                          "-E", "UTF8", "--locale=C", "--no-sync"])
        if r.returncode:
            raise RuntimeError(f"initdb failed: {r.stderr or r.stdout}")
        # Durability is pointless for a test cluster; these make CREATE DATABASE and commits quick.
        opts = (f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c synchronous_commit=off "
                f"-c full_page_writes=off -c max_connections=200")
        r = _as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l",
                          str(self.root / "server.log"), "-w", "-t", "60", "start"])
        if r.returncode:
            log = (self.root / "server.log").read_text(errors="replace") if (self.root / "server.log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {r.stderr or r.stdout}\n{log}")

    def stop(self) -> None:
        _as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self) -> str:
        name = f"t{os.getpid()}_{next(self._names)}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def small_matrix():
    return load_matrix(FIXTURES / "small_matrix.yaml")


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """The URL of a fresh, empty database (no tables yet) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pcn.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def store(db_url, small_matrix):
    """An empty, migrated Store that knows the small test matrix."""
    from assessments.store import Store

    s = Store(db_url, matrices=[small_matrix])
    yield s
    s.close()


@pytest.fixture
def open_store(db_url, small_matrix):
    """Open more Store objects on the same database (as separate processes would)."""
    from assessments.store import Store

    opened = []

    def open_() -> Store:
        s = Store(db_url, matrices=[small_matrix])
        opened.append(s)
        return s

    yield open_
    for s in opened:
        s.close()

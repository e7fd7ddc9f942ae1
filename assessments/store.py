"""The Store: the records (assessments.records) and the one catalog of reference data.

Everything that reads or writes goes through a Store: `store.read()` for a consistent read,
`store.batch(by=..., source=...)` for one write transaction (a records.UnitOfWork). The feature
modules (ratings, organisations, plan, pathway, workshop, exchange) are service functions of one
shape, `fn(store, ..., by=..., expected_version=...)`, that take either a Store or a unit of work
already open, so several services can share one transaction.

The catalog (matrices, the pathway, the service specifications, the funding rules) comes from
the matrix folders and is read again when a file there changes, so a long-running server never
prints stale rules; a Store made with `matrices=` keeps exactly what it was given.
`catalog_generation()` names the catalog as loaded now: it moves whenever the catalog is read
again from changed files, so caches keyed on it (components.cache) notice a matrix file added by
another process or dropped into the folder, which moves no data version.
"""
from __future__ import annotations

import copy
import hashlib
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from matrix import Catalog, DevelopmentFunding, Matrix, Pathway, ServiceSpecifications, discover, matrix_dirs, version_key

from .access import SYSTEM, Principal
from .model import NATIONAL_MATRIX_ID, AuditEntry
from .records import Database, Reader, UnitOfWork, database_url, queries
from .values import InputError, NotFoundError

__all__ = ["Store", "database_url", "files_signature"]

CATALOG_CHECK_SECONDS = 2.0  # how often at most the matrix folders are looked at for changed files


def files_signature(dirs: Iterable[Path]) -> tuple:
    """Names, sizes and modification times of every YAML file: cheap to compute, changes with any edit."""
    sig: list = []
    for folder in dirs:
        sig.append(str(folder))
        if folder.is_dir():
            for p in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
                stat = p.stat()
                sig.append((str(p), stat.st_size, stat.st_mtime_ns))
    return tuple(sig)


class _Reference:
    """The catalog's state, shared by a Store and every view of it made by `acting`."""

    def __init__(self, fixed: Catalog | None, only_matrices: bool):
        self.fixed, self.only_matrices = fixed, only_matrices
        self.found: Catalog | None = None
        self.signature: tuple | None = None
        self.checked = 0.0
        self.dirs: list[Path] | None = None
        self.added: dict[tuple[str, str], Matrix] = {}
        self.generation = ""

    def name_it(self) -> str:
        """A short name for what the catalog holds now: the files (path, size, time) it was read
        from, and the matrices given or added. Equal catalogs get equal names in every Store."""
        given = sorted(self.fixed.matrices) if self.fixed is not None and self.only_matrices else None
        text = repr((self.signature, given, sorted(self.added)))
        return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


class Store:
    """The assessment records and the reference data. Cheap to share between threads and sessions.

    `matrices`: Matrix objects to use instead of the folders' matrices, or a whole Catalog to use
    instead of the folders (tests, tools).
    """

    def __init__(self, url=None, *, matrices: Catalog | Iterable[Matrix] | None = None, upgrade: bool = True):
        self.db = Database(url, upgrade=upgrade)
        self.url = self.db.url
        if matrices is None or isinstance(matrices, Catalog):
            fixed = matrices
        else:
            fixed = Catalog(matrices={m.key: m for m in matrices})
        self._ref = _Reference(fixed, matrices is not None and not isinstance(matrices, Catalog))
        self.principal: Principal = SYSTEM

    def acting(self, principal: Principal) -> Store:
        """The same records and catalog, with every service checking what `principal` may do."""
        view = copy.copy(self)
        view.principal = principal
        return view

    def __repr__(self) -> str:
        return f"Store({self.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        return self.db.dialect

    # -- the one way in -----------------------------------------------------------------------
    @contextmanager
    def batch(self, *, by: str | None = None, source: str | None = None,
              at: datetime | None = None) -> Iterator[UnitOfWork]:
        """One write transaction: `with store.batch(by="Sam") as uow: ratings.save_rating(uow, ...)`.

        A person acting through `acting()` is who the change log names, whatever `by` says; the
        command line and tools (the system principal) name themselves with `by`."""
        p = self.principal
        who = by if p.via == "command line" and by else p.audit_name
        with self.db.unit_of_work(by=who, source=source, at=at, store=self, subject=p.subject) as uow:
            yield uow

    @contextmanager
    def read(self) -> Iterator[Reader]:
        with self.db.read() as r:
            yield r

    @contextmanager
    def transaction(self):
        """A core connection in a write transaction, for the bulk paths of records/."""
        with self.db.connection() as conn:
            yield conn

    @property
    def store(self) -> Store:
        return self  # a unit of work's `owner` and a store answer the same question

    # -- the catalog of reference data ----------------------------------------------------------
    def catalog(self) -> Catalog:
        """The reference data: the matrix folders' documents, read again when a file there has
        changed. Matrices given to the Store replace the folders' matrices; a Catalog given
        replaces everything."""
        ref = self._ref
        if ref.fixed is not None and not ref.only_matrices:
            return ref.fixed
        now, dirs = time.monotonic(), matrix_dirs()
        if ref.found is None or now - ref.checked >= CATALOG_CHECK_SECONDS or dirs != ref.dirs:
            ref.checked, ref.dirs = now, dirs
            signature = files_signature(dirs)
            if signature != ref.signature or ref.found is None:
                found = discover(dirs)
                if ref.fixed is not None:
                    found.matrices = dict(ref.fixed.matrices)
                # The catalog before its name: a reader that sees the new name finds the new catalog.
                ref.found, ref.signature = found, signature
                ref.generation = ref.name_it()
        return ref.found

    def catalog_generation(self) -> str:
        """Moves whenever the catalog is read again from changed files or a matrix is added to
        it (checked as `catalog()` checks, at most every few seconds): with `data_version()`, what
        keys the pages' cached reads."""
        ref = self._ref
        if ref.fixed is not None and not ref.only_matrices:
            return f"fixed:{id(ref.fixed):x}:{len(ref.added)}"
        self.catalog()
        return ref.generation

    def refresh_catalog(self) -> Catalog:
        """Read the matrix folders now (after the app itself saved a file there)."""
        self._ref.checked = float("-inf")
        self._ref.signature = None
        return self.catalog()

    def matrices(self) -> dict[tuple[str, str], Matrix]:
        return {**self.catalog().matrices, **self._ref.added}

    def matrix(self, matrix_id: str, version: str) -> Matrix:
        found = self._ref.added.get((matrix_id, version)) or self.catalog().matrices.get((matrix_id, version))
        if found is None:
            raise NotFoundError(f"matrix '{matrix_id}' version {version} is not available")
        return found

    def default_matrix(self) -> Matrix:
        found = self.matrices().values()
        if not found:
            raise NotFoundError("no maturity matrix is available (none found in the matrix folders)")
        return max(found, key=lambda m: (m.id == NATIONAL_MATRIX_ID, version_key(m.version)))

    def use_matrix(self, matrix: Matrix | None) -> Matrix:
        """The given matrix (remembered for later checks), or the default one."""
        if matrix is None:
            return self.default_matrix()
        known = self.matrices().get(matrix.key)
        if known is None:
            self._ref.added[matrix.key] = matrix
            self._ref.generation = self._ref.name_it()
        elif known != matrix:
            raise InputError(f"a different matrix '{matrix.id}' version {matrix.version} is already in use")
        return matrix

    def pathway(self) -> Pathway | None:
        return self.catalog().default_pathway()

    def specifications(self) -> ServiceSpecifications | None:
        return self.catalog().default_specifications()

    def funding(self) -> DevelopmentFunding | None:
        return self.catalog().default_funding()

    # -- the database as a whole ----------------------------------------------------------------
    def is_empty(self) -> bool:
        with self.read() as r:
            return queries.is_empty(r)

    def data_version(self) -> int:
        with self.read() as r:
            return queries.data_version(r)

    def counts(self) -> dict[str, int]:
        with self.read() as r:
            return queries.counts(r)

    def schema_revision(self) -> str | None:
        return self.db.schema_revision()

    def audit(self, *, entity: str | None = None, entity_key: str | None = None, limit: int | None = None,
              newest_first: bool = True) -> list[AuditEntry]:
        """The change log, newest first unless asked otherwise. Administrators only: it holds every
        value ever saved."""
        from .guard import check

        check(self, "administer")
        with self.read() as r:
            return queries.audit(r, entity=entity, entity_key=entity_key, limit=limit, newest_first=newest_first)

"""The operator's health checks: database reachable, migrations current, matrix files valid, and
the last backup's age. Used by `python cli.py check` and the administrators' "System health" page.

Each check gives a status (OK, PROBLEM, or "not configured" for backups when PCN_BACKUP_DIR is
unset: a laptop has no scheduled backups, and a server's environment file sets it, so the check
does not fail there) and, for a problem, what to do. Nothing here writes anything.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import backup_files, guard
from .access import ADMINISTER

OK, PROBLEM, NOT_CONFIGURED = "OK", "PROBLEM", "not configured"
DEFAULT_MAX_BACKUP_AGE = 26.0  # hours: a daily backup, with two hours' grace for a slow or late run
_FROM_ENV = object()


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != PROBLEM

    def line(self) -> str:
        return f"{self.name}: {self.status}: {_sentence(self.detail)}" + (
            f" What to do: {_sentence(self.fix)}" if self.fix else "")


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _error_text(exc: BaseException) -> str:
    """The driver's own first line (e.g. "connection refused"), without SQL or library links."""
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip().splitlines()
    return (text[0] if text else type(inner).__name__)[:300]


def database(store) -> tuple[Check, str | None]:
    """Whether the database answers, and the schema revision it holds (None: no tables yet)."""
    where = repr(store)
    if store.dialect == "sqlite":
        file = store.url.database or ""
        if file and file != ":memory:" and not file.startswith("file:") and not Path(file).exists():
            return Check("database", PROBLEM, f"there is no database file at {file}",
                         "check PCN_DATABASE_URL; the app creates the file when it first starts"), None
    try:
        revision = store.schema_revision()
    except Exception as exc:  # any driver or network failure is the finding itself, not a crash
        return Check("database", PROBLEM, f"cannot reach {where}: {_error_text(exc)}",
                     "check that the database server is running and that PCN_DATABASE_URL (host, port, name, "
                     "user, password) is right"), None
    return Check("database", OK, f"{where} answers"), revision


def migrations(revision: str | None, reachable: bool) -> Check:
    from .records import head_revision

    if not reachable:
        return Check("migrations", PROBLEM, "not checked: the database cannot be reached", "fix the database first")
    head = head_revision()
    if revision is None:
        return Check("migrations", PROBLEM, "the database has no tables yet",
                     "start the app (or run any other `python cli.py` command), which creates them")
    if revision != head:
        return Check("migrations", PROBLEM, f"the schema is at revision {revision}, this version of the app expects "
                     f"{head}", "restart the app processes (each upgrades the schema when it starts) or run any "
                     "other `python cli.py` command; if the database is newer than this copy of the app, deploy "
                     "the newer version")
    return Check("migrations", OK, f"the schema is at the current revision {head}")


def matrices(catalog) -> Check:
    if catalog.invalid:
        first_file, problems = next(iter(catalog.invalid.items()))
        n = len(catalog.invalid)
        first = str(problems[0]) if problems else first_file
        return Check("matrices", PROBLEM, f"{n} invalid file{'s' if n != 1 else ''} in the matrix folders: "
                     + ", ".join(catalog.invalid) + f" (first problem: {first})",
                     "correct or remove each file (`python cli.py validate FILE` lists every problem); the app "
                     "keeps working with the valid files")
    if not catalog.matrices:
        return Check("matrices", PROBLEM, "no maturity matrix was found in the matrix folders",
                     "put the shipped matrix/ folder back, or add a matrix file to PCN_MATRIX_DIR")
    n = len(catalog.files)
    return Check("matrices", OK, f"{n} file{'s' if n != 1 else ''} valid ({len(catalog.matrices)} "
                 f"matri{'ces' if len(catalog.matrices) != 1 else 'x'}, {len(catalog.pathways)} pathway, "
                 f"{len(catalog.specifications) + len(catalog.funding)} reference)")


def _age_text(hours: float) -> str:
    if hours < 1:
        minutes = int(hours * 60)
        return "under a minute" if minutes < 1 else f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


def backups(folder: Path | None, max_age_hours: float, now: datetime | None = None) -> Check:
    if folder is None:
        return Check("backups", NOT_CONFIGURED, f"{backup_files.ENV_BACKUP_DIR} is not set, so the last backup's "
                     "age is not checked (set it to the folder `python cli.py backup` writes to)")
    if not folder.is_dir():
        return Check("backups", PROBLEM, f"the backup folder {folder} does not exist",
                     f"check {backup_files.ENV_BACKUP_DIR}, and that the scheduled backup runs "
                     "(`python cli.py backup` makes the folder)")
    try:
        found = backup_files.backups(folder)
    except OSError as exc:
        return Check("backups", PROBLEM, f"cannot read the backup folder {folder}: {exc.strerror or exc}",
                     "let the user running the check read it")
    if not found:
        return Check("backups", PROBLEM, f"no backup in {folder}",
                     "run `python cli.py backup`, and check that the scheduled backup runs")
    at, path = found[-1]
    hours = ((now or datetime.now(UTC)) - at).total_seconds() / 3600
    if hours > max_age_hours:
        return Check("backups", PROBLEM, f"the last backup, {path.name}, is {_age_text(hours)} old (the limit is "
                     f"{max_age_hours:g} hours)", "check that the scheduled backup runs and read its log; "
                     "`python cli.py backup` takes one now")
    return Check("backups", OK, f"the last backup, {path.name}, is {_age_text(max(hours, 0))} old "
                 f"({len(found)} kept in {folder})")


def health(store, *, backup_dir: Path | str | None | object = _FROM_ENV,
           max_backup_age: float = DEFAULT_MAX_BACKUP_AGE, now: datetime | None = None) -> list[Check]:
    """Every check, in order. Administrators only. `backup_dir` defaults to PCN_BACKUP_DIR (None:
    not configured); `max_backup_age` is in hours."""
    guard.check(store, ADMINISTER)
    db, revision = database(store)
    return [db, migrations(revision, db.ok), matrices(store.catalog()),
            backups(_folder(backup_dir), max_backup_age, now)]


def unopened(problem: str, *, backup_dir: Path | str | None | object = _FROM_ENV,
             max_backup_age: float = DEFAULT_MAX_BACKUP_AGE) -> list[Check]:
    """The checks when the database URL cannot even be opened (the command line's case)."""
    from matrix import discover

    return [Check("database", PROBLEM, f"cannot open PCN_DATABASE_URL: {problem}", "correct PCN_DATABASE_URL"),
            migrations(None, False), matrices(discover()), backups(_folder(backup_dir), max_backup_age)]


def _folder(backup_dir) -> Path | None:
    if backup_dir is _FROM_ENV:
        return backup_files.configured_dir()
    return Path(backup_dir).expanduser() if backup_dir else None


__all__ = ["Check", "DEFAULT_MAX_BACKUP_AGE", "NOT_CONFIGURED", "OK", "PROBLEM", "health", "unopened"]

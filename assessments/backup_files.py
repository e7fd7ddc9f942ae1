"""Backups kept in a folder: `python cli.py backup --dir DIR --keep N` and the health check's
"last backup age".

Each backup is DIR/pcn-backup-<UTC time as YYYYmmddTHHMMSSZ>.json. It is written to a temporary
file in DIR (a name no listing here counts) and renamed into place, so a backup that is cut short
(a full disc, a killed timer) never looks like a good one, and the newest name is always a whole
file. Then the oldest backups beyond N are deleted; files of any other name are never touched.
"""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .values import InputError

ENV_BACKUP_DIR = "PCN_BACKUP_DIR"
PREFIX = "pcn-backup-"
STAMP = "%Y%m%dT%H%M%SZ"
NAME = re.compile(r"pcn-backup-(\d{8}T\d{6}Z)\.json")


@dataclass(frozen=True)
class Written:
    path: Path
    data: dict
    removed: tuple[Path, ...]
    created_folder: bool


def configured_dir() -> Path | None:
    value = os.environ.get(ENV_BACKUP_DIR, "").strip()
    return Path(value).expanduser() if value else None


def backup_name(at: datetime) -> str:
    return f"{PREFIX}{at.astimezone(UTC).strftime(STAMP)}.json"


def taken_at(path: Path) -> datetime | None:
    """When a backup was taken, from its name; None for any other file."""
    m = NAME.fullmatch(path.name)
    if m is None:
        return None
    try:
        return datetime.strptime(m.group(1), STAMP).replace(tzinfo=UTC)
    except ValueError:  # 20251399T... matches the pattern but is no time
        return None


def backups(folder: Path) -> list[tuple[datetime, Path]]:
    """The backups in a folder, oldest first."""
    found = [(t, p) for p in folder.iterdir() if p.is_file() and (t := taken_at(p)) is not None]
    return sorted(found)


def _cannot(folder: Path, exc: OSError) -> InputError:
    return InputError(f"cannot write backups to {folder}: {exc.strerror or exc}. Give the user the backup runs as "
                      f"write access to that folder, or choose another with --dir or {ENV_BACKUP_DIR}.")


def write_to_dir(store, folder: str | os.PathLike, *, keep: int | None = None, now: datetime | None = None) -> Written:
    """Take a backup into `folder` (made if missing) and keep only the newest `keep` backups there.
    InputError, before the database is read, when the folder cannot be written."""
    from .exchange import backup, dumps_backup

    if keep is not None and keep < 1:
        raise InputError(f"--keep must be 1 or more (it was {keep}): the backup just taken is always kept")
    folder = Path(folder).expanduser()
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, prefix=".pcn-backup-",
                                             suffix=".partial", delete=False)
    except OSError as exc:
        raise _cannot(folder, exc) from None
    partial = Path(handle.name)
    try:
        with handle:
            data = backup(store)
            handle.write(dumps_backup(data))
            handle.flush()
            os.fsync(handle.fileno())
        target = folder / backup_name(now or datetime.now(UTC))
        os.replace(partial, target)
        _sync_folder(folder)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise _cannot(folder, exc) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    removed: list[Path] = []
    if keep is not None:
        for _t, old in backups(folder)[:-keep]:
            if old != target:
                old.unlink(missing_ok=True)
                removed.append(old)
    return Written(target, data, tuple(removed), created)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX: fsync the folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


__all__ = ["ENV_BACKUP_DIR", "NAME", "Written", "backup_name", "backups", "configured_dir", "taken_at", "write_to_dir"]

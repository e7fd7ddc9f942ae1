"""Value checks and parsing (codes, years, stages, text), and the errors the core raises on purpose.

Pure functions: the store, the importers and the pages use the same checks, so a value refused
in a form is refused in a spreadsheet with the same words.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from matrix import Matrix

from .model import CONFIDENCES, KEEP

MAX_TEXT = 20_000


# ---------------------------------------------------------------------------------------------
# Errors

class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class InputError(StoreError, ValueError):
    """Input that cannot be stored (bad code, bad year, unknown stage...)."""


class NotFoundError(InputError):
    """A PCN, ICS, assessment or matrix that does not exist."""


class DuplicateError(InputError):
    """A record that already exists."""


class LockedError(StoreError):
    """A write to an agreed (or superseded) assessment."""


class BusyError(StoreError):
    """The database could not take the change in time: another write holds it (a long import, a
    lock wait, a serialization failure). Nothing of this change was written; trying again works."""

    DEFAULT = ("The database is busy with another change (an import may be running). "
               "Nothing was lost: try again in a moment.")

    def __init__(self, message: str | None = None):
        super().__init__(message or self.DEFAULT)


class UnreachableError(StoreError):
    """The database could not be opened: its server refused or did not answer, the sign-in was
    refused, or the SQLite file cannot be opened. The message names where (host and port, or the
    file) and the driver's reason, never the password. `orig` is the driver's own error."""

    def __init__(self, where: str, reason: str, what_to_do: str, orig: BaseException | None = None):
        self.where, self.reason, self.orig = where, reason, orig
        super().__init__(f"Cannot open the database ({where}): {reason}. {what_to_do}")


class ConflictError(StoreError):
    """Someone else saved the record since you read it. Nothing was written.

    `attempted` holds what you tried to save, `stored` what is there now (None if deleted),
    `changed_by` / `changed_at` who saved it and when.
    """

    def __init__(self, what: str, attempted: Mapping[str, Any], stored: Mapping[str, Any] | None,
                 changed_by: str | None, changed_at: datetime | None, expected_version: int | None,
                 stored_version: int):
        self.what = what
        self.attempted = dict(attempted)
        self.stored = dict(stored) if stored is not None else None
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.expected_version = expected_version
        self.stored_version = stored_version
        if stored is None and stored_version == 0:
            now = "it no longer exists"
        else:
            when = changed_at.strftime("%d %b %Y %H:%M UTC") if changed_at else "an unknown time"
            now = f"it now says {_describe(stored or {}, attempted.keys())} (saved by {changed_by or 'someone'} at {when})"
        super().__init__(
            f"{what} was changed by someone else while you were editing it. Nothing was saved. "
            f"You tried to save {_describe(attempted, attempted.keys())}; {now}. "
            f"Reload to see the current version (you had version {expected_version}, the stored one is {stored_version})."
        )


def _describe(values: Mapping[str, Any], keys: Iterable[str]) -> str:
    parts = []
    for k in keys:
        v = values.get(k)
        parts.append(f"{k.replace('_', ' ')} {'(empty)' if v is None else repr(v)}")
    return ", ".join(parts) if parts else "no change"


# ---------------------------------------------------------------------------------------------
# Checks of plain values

_YEAR = re.compile(r"^(\d{4})/(\d{2})$")
_PCN = re.compile(r"^U\d{5}$")
_ICS = re.compile(r"^Q[A-Z0-9]{2}$")


def check_year(year: Any) -> str:
    """'2024/25' -> '2024/25'. The second part must be the year after the first."""
    value = str(year).strip() if year is not None else ""
    m = _YEAR.match(value)
    if not m:
        raise InputError(f"'{value}' is not an NHS financial year: write it like 2024/25")
    start, end = int(m.group(1)), int(m.group(2))
    if end != (start + 1) % 100:
        raise InputError(f"'{value}' is not an NHS financial year: after {start} comes {(start + 1) % 100:02d}, "
                         f"so write {_year_from(start)}")
    if not 2000 <= start <= 2099:
        raise InputError(f"'{value}' is outside the years this tool handles (2000/01 to 2099/00)")
    return value


def year_start(year: str) -> int:
    return int(check_year(year)[:4])


def _year_from(start: int) -> str:
    return f"{start}/{(start + 1) % 100:02d}"


def next_year(year: str) -> str:
    return _year_from(year_start(year) + 1)


def financial_year(day: date | None = None) -> str:
    """The NHS financial year (1 April to 31 March) a day falls in; today if none is given."""
    d = day or date.today()
    return _year_from(d.year if d.month >= 4 else d.year - 1)


def check_pcn_code(code: Any) -> str:
    value = str(code or "").strip().upper()
    if not _PCN.match(value):
        raise InputError(f"'{code}' is not a PCN code: PCN codes are U followed by five digits, like U12345")
    return value


def check_ics_code(code: Any) -> str:
    value = str(code or "").strip().upper()
    if not _ICS.match(value):
        raise InputError(f"'{code}' is not an ICS code: ICS (ICB) codes are three characters starting with Q, like QZZ")
    return value


def check_confidence(value: Any) -> str | None:
    v = blank_to_none(value)
    if v is None:
        return None
    v = str(v).strip().lower()
    if v not in CONFIDENCES:
        raise InputError(f"'{value}' is not a confidence: use low, medium or high (or leave it empty)")
    return v


def check_stage(matrix: Matrix, value: Any, what: str = "stage") -> str | None:
    """A stage id of the matrix, or None. A stage's label is accepted too ('Step 1' -> 'step-1')."""
    v = blank_to_none(value)
    if v is None:
        return None
    v = str(v).strip()
    ids = matrix.stage_ids
    if v in ids:
        return v
    for s in matrix.stages:
        if v.lower() in (s.id.lower(), s.label.lower()):
            return s.id
    raise InputError(f"'{value}' is not a {what} of {matrix.title} {matrix.version}: use one of {', '.join(ids)}")


def check_element(matrix: Matrix, element_id: Any) -> str:
    v = str(element_id or "").strip()
    if v not in matrix.element_ids():
        raise InputError(f"'{element_id}' is not an element of {matrix.title} {matrix.version}")
    return v


def check_text(value: Any, what: str, limit: int = MAX_TEXT) -> str | None:
    v = blank_to_none(value)
    if v is None:
        return None
    v = str(v).strip()
    if len(v) > limit:
        raise InputError(f"{what} is too long ({len(v):,} characters; the limit is {limit:,})")
    return v


def check_name(value: Any, what: str, limit: int = 200) -> str:
    v = check_text(value, what, limit)
    if v is None:
        raise InputError(f"{what} is required")
    return v


def blank_to_none(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value


def check_list_size(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():  # spreadsheets hand numbers over as floats
        value = int(value)
    if isinstance(value, str) and value.strip().replace(",", "").isdigit():
        value = int(value.strip().replace(",", ""))
    if not isinstance(value, int) or isinstance(value, bool):
        raise InputError(f"list size '{value}' is not a whole number")
    if not 0 <= value <= 2_000_000:
        raise InputError(f"list size {value:,} is not plausible for a PCN (0 to 2,000,000)")
    return value


def check_practices(practices: Iterable[str]) -> list[str]:
    if isinstance(practices, str):
        raise InputError("member practices must be a list of names, not one piece of text")
    out = [check_name(p, "member practice name") for p in practices]
    if len(set(out)) != len(out):
        raise InputError("a member practice is listed twice")
    return out


def rating_values(matrix: Matrix, **given: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in given.items():
        if value is KEEP:
            continue
        if name == "current_stage":
            out[name] = check_stage(matrix, value, "current stage")
        elif name == "target_stage":
            out[name] = check_stage(matrix, value, "target stage")
        elif name == "confidence":
            out[name] = check_confidence(value)
        else:
            out[name] = check_text(value, name)
    return out

"""Evidence items per element of an assessment: what shows the network is where it says, with a
link or an attached file, who added it, when, and when it should be looked at again.

An item is CURRENT until its review-by date passes (then REVIEW_DUE), judged today, or for a
year that has ended on its last day (`as_of`). "Copy last year"
(ratings.start_year) copies last year's items into the new draft marked carried over, pointing
at the same attached files; they count as current only once someone confirms they still hold
(`confirm_evidence`, or `confirm_element` for an element's rating and items at once). The
rating's own `evidence` text stays as the element's summary; coverage counts items.

Attached files are kept in the database (table `evidence_file`), not in a folder: they then go
into every backup and restore with the ratings they support, one transaction writes an item and
its file together, and several app servers on one PostgreSQL see the same files without a
shared disk. Each is at most MAX_FILE_BYTES and of a type recognised from its content (PDF,
PNG/JPEG/GIF/WebP images, Word/Excel/PowerPoint or OpenDocument files, plain text/CSV/Markdown),
whatever its name says.

Who may do what is the assessment's: whoever sees an assessment sees its evidence; whoever may
edit its draft adds, changes, removes and confirms evidence; an agreed or submitted assessment's
evidence is locked with it (ratings.check_draft).
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import filetype

from matrix import Matrix

from . import guard
from . import ratings as assessing
from .access import EDIT
from .model import (CARRIED, CURRENT, KEEP, REVIEW_DUE, AssessmentRecord, EvidenceCoverage, EvidenceFile,
                    EvidenceItem, Rating)
from .records import UnitOfWork
from .records.tables import AssessmentRow, EvidenceFileRow, EvidenceRow, RatingRow
from .values import InputError, NotFoundError, check_element, check_text, year_start

MAX_FILE_BYTES = 10 * 1024 * 1024  # 10 MB: a scanned set of minutes fits; a video does not
MAX_ITEMS = 50  # per element
MAX_DESCRIPTION = 2_000
MAX_LINK = 2_000
MAX_NAME = 255

# What may be attached: media type -> (what it is called, the name endings it may have).
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "application/pdf": ("a PDF", ("pdf",)),
    "image/png": ("a PNG image", ("png",)),
    "image/jpeg": ("a JPEG image", ("jpg", "jpeg")),
    "image/gif": ("a GIF image", ("gif",)),
    "image/webp": ("a WebP image", ("webp",)),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("a Word document", ("docx",)),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("an Excel workbook", ("xlsx",)),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("a PowerPoint file", ("pptx",)),
    "application/msword": ("a Word 97-2003 document", ("doc",)),
    "application/vnd.ms-excel": ("an Excel 97-2003 workbook", ("xls",)),
    "application/vnd.ms-powerpoint": ("a PowerPoint 97-2003 file", ("ppt",)),
    "application/vnd.oasis.opendocument.text": ("an OpenDocument text", ("odt",)),
    "application/vnd.oasis.opendocument.spreadsheet": ("an OpenDocument spreadsheet", ("ods",)),
    "application/vnd.oasis.opendocument.presentation": ("an OpenDocument presentation", ("odp",)),
    "text/plain": ("a text file", ("txt",)),
    "text/csv": ("a CSV file", ("csv",)),
    "text/markdown": ("a Markdown file", ("md",)),
}
ALLOWED_ENDINGS = tuple(sorted({e for _, ends in KINDS.values() for e in ends}))
_BY_ENDING = {e: mime for mime, (_, ends) in KINDS.items() for e in ends}
_TEXT_ENDINGS = ("txt", "csv", "md")
# The 97-2003 Office formats share one container (Compound File Binary); which one it holds is the
# name's to say when the content's own markers are not found in its first blocks.
_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLD_OFFICE = ("doc", "xls", "ppt")
_OLD_OFFICE_TYPES = {_BY_ENDING[e] for e in _OLD_OFFICE}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Upload:
    """A file to attach: its name as the person's computer called it, and its bytes."""
    name: str
    content: bytes


def allowed_types_text() -> str:
    return "PDF, images (PNG, JPEG, GIF, WebP), Word, Excel, PowerPoint, OpenDocument, text, CSV or Markdown"


# ---------------------------------------------------------------------------------------------
# Checks of what is typed or attached

def check_link(value: Any) -> str | None:
    """An http or https address with a host, or None; anything else is refused with why."""
    v = check_text(value, "the link", MAX_LINK)
    if v is None:
        return None
    if any(c.isspace() for c in v) or _CONTROL.search(v):
        raise InputError("the link has spaces or line breaks in it: paste the address on its own")
    parts = urlsplit(v)
    if parts.scheme.lower() not in ("http", "https"):
        raise InputError(f"the link must start with https:// or http:// (it starts with "
                         f"'{(parts.scheme or v)[:20]}')")
    if not parts.hostname:
        raise InputError("the link has no web address after https://")
    return v


def check_description(value: Any) -> str:
    v = check_text(value, "the description", MAX_DESCRIPTION)
    if v is None:
        raise InputError("say what the evidence is: the description is empty")
    return v


def _file_name(name: Any) -> str:
    """The name without any folder, control characters or surrounding blanks."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = _CONTROL.sub("", text.replace("\\", "/").rsplit("/", 1)[-1]).strip().strip(".")
    if not text:
        raise InputError("the file has no name")
    if len(text) > MAX_NAME:
        stem, dot, ending = text.rpartition(".")
        text = (stem[:MAX_NAME - len(ending) - 1] + dot + ending) if dot and len(ending) <= 10 else text[:MAX_NAME]
    return text


def _is_text(content: bytes) -> bool:
    if b"\x00" in content:
        return False
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return not any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text[:200_000])


def check_upload(upload: Upload) -> tuple[str, str]:
    """(clean name, media type) of a file that may be attached, told by its content; InputError
    naming what is wrong otherwise (too large, empty, a type not allowed, a name that says one
    type when the content is another)."""
    if not isinstance(upload, Upload) or not isinstance(upload.content, (bytes, bytearray)):
        raise InputError("the attachment must be a file's name and its bytes")
    name, content = _file_name(upload.name), bytes(upload.content)
    size = len(content)
    if size == 0:
        raise InputError(f"'{name}' is empty")
    if size > MAX_FILE_BYTES:
        raise InputError(f"'{name}' is {size / 1024 / 1024:.1f} MB; files up to {MAX_FILE_BYTES // 1024 // 1024} MB "
                         f"can be attached. Link to a larger file instead.")
    ending = name.rpartition(".")[2].lower() if "." in name else ""
    guessed = filetype.guess(content)
    mime = guessed.mime if guessed is not None else None
    if mime is None and content.startswith(_CFB) and ending in _OLD_OFFICE:
        mime = _BY_ENDING[ending]
    if mime is None and _is_text(content):
        mime = _BY_ENDING.get(ending, "text/plain") if ending in _TEXT_ENDINGS else None
        if mime is None:
            raise InputError(f"'{name}' holds text, but only .txt, .csv and .md text files can be attached "
                             f"(allowed: {allowed_types_text()})")
    if mime not in KINDS:
        what = f"{guessed.mime} ({guessed.extension})" if guessed is not None else "not a type this tool recognises"
        raise InputError(f"'{name}' cannot be attached: its content is {what}. Allowed: {allowed_types_text()}, "
                         f"up to {MAX_FILE_BYTES // 1024 // 1024} MB.")
    label, endings = KINDS[mime]
    if not ending:
        return _file_name(f"{name}.{endings[0]}"), mime
    if ending in endings:
        return name, mime
    if ending in _OLD_OFFICE and mime in _OLD_OFFICE_TYPES:
        return name, _BY_ENDING[ending]  # the same 97-2003 container: the name tells which program it is for
    raise InputError(f"'{name}' is called .{ending}, but its content is {label}: rename it .{endings[0]} if that "
                     f"is what it is")


def default_review_by(day: date) -> date:
    """A year after `day` (28 February for 29 February)."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


def check_review_by(value: Any, today: date) -> date:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise InputError(f"the review-by date '{value}' is not a date (use YYYY-MM-DD)") from None
    if not isinstance(value, date):
        raise InputError(f"the review-by date must be a date, not {value!r}")
    if value < today:
        raise InputError(f"the review-by date {value:%d %b %Y} has passed already: choose today or a later date")
    if value > today.replace(year=today.year + 5):
        raise InputError(f"the review-by date {value:%d %b %Y} is more than five years away")
    return value


# ---------------------------------------------------------------------------------------------
# Reads

def _as_file(r: EvidenceFileRow | None) -> EvidenceFile | None:
    return None if r is None else EvidenceFile(r.id, r.name, r.media_type, r.size, r.sha256)


def _as_item(r: EvidenceRow, files: Mapping[int, EvidenceFile]) -> EvidenceItem:
    return EvidenceItem(r.id, r.assessment_id, r.element_id, r.description, r.link,
                        files.get(r.file_id) if r.file_id is not None else None, r.review_by, r.carried_from_year,
                        r.confirmed_by, r.confirmed_at, r.created_by, r.created_at, r.updated_by, r.updated_at,
                        r.version)


_FILE_COLUMNS = ["id", "name", "media_type", "size", "sha256"]  # never the bytes


def _files(r, ids: Iterable[int]) -> dict[int, EvidenceFile]:
    ids = sorted({i for i in ids if i is not None})
    if not ids:
        return {}
    return {v[0]: EvidenceFile(*v) for v in r.values(EvidenceFileRow, _FILE_COLUMNS, id__in=ids)}


def _items_of(r, assessment_ids: Iterable[int]) -> list[EvidenceItem]:
    rows = r.rows(EvidenceRow, assessment_id__in=sorted(set(assessment_ids)), order_by=["element_id", "id"])
    files = _files(r, (x.file_id for x in rows))
    return [_as_item(x, files) for x in rows]


def items(store, assessment_id: int) -> dict[str, list[EvidenceItem]]:
    """Every evidence item of an assessment by element id, oldest first; for whoever may see it."""
    assessing.assessment(store, assessment_id)
    with store.read() as r:
        found = _items_of(r, [int(assessment_id)])
    out: dict[str, list[EvidenceItem]] = {}
    for x in found:
        out.setdefault(x.element_id, []).append(x)
    return out


def item(store, evidence_id: int) -> EvidenceItem:
    with store.read() as r:
        row = r.get(EvidenceRow, int(evidence_id))
        if row is None:
            raise NotFoundError(f"there is no evidence item with id {evidence_id}")
        found = _as_item(row, _files(r, [row.file_id]))
    assessing.assessment(store, found.assessment_id)  # AccessDenied unless the reader may see it
    return found


def file_content(store, evidence_id: int) -> tuple[EvidenceFile, bytes]:
    """An item's attached file and its bytes (NotFoundError when it has none)."""
    found = item(store, evidence_id)
    if found.file is None:
        raise NotFoundError(f"evidence item {evidence_id} has no attached file")
    with store.read() as r:
        content = r.get(EvidenceFileRow, found.file.id).content
    return found.file, bytes(content)


# ---------------------------------------------------------------------------------------------
# Freshness

def coverage_of(matrix: Matrix, ratings: Mapping[str, Rating], found: Mapping[str, list[EvidenceItem]],
                today: date) -> EvidenceCoverage:
    """How many elements (those not rated not applicable) have at least one current item, how
    many have something carried over not yet reviewed, and how many only items due for review."""
    current = due = 0
    without: list[str] = []
    unreviewed: list[str] = []
    elements = 0
    for eid in matrix.element_ids():
        r = ratings.get(eid)
        if r is not None and r.not_applicable:
            continue
        elements += 1
        states = {x.freshness(today) for x in found.get(eid, ())}
        if CURRENT in states:
            current += 1
        else:
            without.append(eid)
            if REVIEW_DUE in states:
                due += 1
        if CARRIED in states or (r is not None and r.carried_over):
            unreviewed.append(eid)
    return EvidenceCoverage(current, elements, len(unreviewed), due, tuple(without), tuple(unreviewed))


def as_of(year: str, today: date | None = None) -> date:
    """The day an assessment's evidence is judged on: today, or for a year that has ended, its
    last day (31 March), so a past year's record shows what was current then."""
    today = today or date.today()
    return min(today, date(year_start(year) + 1, 3, 31))


def coverage(store, assessment_id: int, today: date | None = None) -> EvidenceCoverage:
    """The assessment's evidence coverage as of `as_of(its year, today)`."""
    a = assessing.assessment(store, assessment_id)
    matrix = store.store.matrix(a.matrix_id, a.matrix_version)
    return coverage_of(matrix, assessing.ratings(store, a.id), items(store, a.id), as_of(a.year, today))


def _with_coverage(store, records: list[AssessmentRecord], today: date | None) -> list[tuple[AssessmentRecord,
                                                                                             EvidenceCoverage]]:
    """Each record with its coverage (as of its year), from one read of evidence for them all."""
    with store.read() as r:
        found = _items_of(r, [x.assessment.id for x in records]) if records else []
    by: dict[int, dict[str, list[EvidenceItem]]] = {}
    for x in found:
        by.setdefault(x.assessment_id, {}).setdefault(x.element_id, []).append(x)
    matrices, out = store.store.matrices(), []
    for rec in records:
        m = matrices.get((rec.assessment.matrix_id, rec.assessment.matrix_version))
        if m is not None:
            out.append((rec, coverage_of(m, rec.ratings, by.get(rec.assessment.id, {}),
                                         as_of(rec.assessment.year, today))))
    return out


def portfolio_evidence(store, year: str, *, ics_code: str | None = None, matrix_id: str | None = None,
                       today: date | None = None) -> list[tuple[AssessmentRecord, EvidenceCoverage]]:
    """Every live assessment of a year the reader may see (ratings.portfolio), by PCN code, with its
    evidence coverage; two reads of evidence whatever the number of PCNs."""
    return _with_coverage(store, assessing.portfolio(store, year, ics_code=ics_code, matrix_id=matrix_id), today)


def portfolio_coverage(store, year: str, *, ics_code: str | None = None, matrix_id: str | None = None,
                       today: date | None = None) -> dict[int, EvidenceCoverage]:
    """Assessment id -> evidence coverage, for `portfolio_evidence`'s assessments."""
    return {rec.assessment.id: c for rec, c in portfolio_evidence(store, year, ics_code=ics_code,
                                                                   matrix_id=matrix_id, today=today)}


def pcn_coverage(store, pcn_code: str, matrix_id: str | None = None,
                 today: date | None = None) -> list[tuple[AssessmentRecord, EvidenceCoverage]]:
    """Every live assessment of one PCN the reader may see (ratings.history), oldest year first,
    with its evidence coverage."""
    return _with_coverage(store, assessing.history(store, pcn_code, matrix_id), today)


def _titles(matrix: Matrix, ids: Iterable[str], limit: int = 5) -> str:
    ids = list(ids)
    names = [f"'{matrix.element(e).title}'" for e in ids[:limit]]
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(names) + more


def warnings_for(matrix: Matrix, ratings: Mapping[str, Rating], found: Mapping[str, list[EvidenceItem]],
                 today: date) -> tuple[str, ...]:
    """What a PCN lead is told before submitting: elements not rated, without current evidence,
    and with carried-over ratings or evidence not yet reviewed."""
    c = coverage_of(matrix, ratings, found, today)
    out = []
    unrated = [e for e in matrix.element_ids() if (r := ratings.get(e)) is None
               or (r.current_stage is None and not r.not_applicable)]
    if unrated:
        out.append(f"{len(unrated)} of {len(matrix.element_ids())} elements are not rated yet: "
                   f"{_titles(matrix, unrated)}.")
    if c.without:
        out.append(f"{len(c.without)} of {c.elements} elements have no current evidence: {_titles(matrix, c.without)}.")
    if c.unreviewed:
        out.append(f"{len(c.unreviewed)} element{'s' if len(c.unreviewed) != 1 else ''} carried over from last year "
                   f"{'have' if len(c.unreviewed) != 1 else 'has'} not been reviewed: {_titles(matrix, c.unreviewed)}. "
                   f"Check the stage and confirm the evidence still holds, or add this year's.")
    return tuple(out)


def submission_warnings(store, assessment_id: int, today: date | None = None) -> tuple[str, ...]:
    """The warnings `ratings.submit_assessment` returns, for the page to show before the button."""
    a = assessing.assessment(store, assessment_id)
    matrix = store.store.matrix(a.matrix_id, a.matrix_version)
    return warnings_for(matrix, assessing.ratings(store, a.id), items(store, a.id), as_of(a.year, today))


def warnings_in(uow: UnitOfWork, row: AssessmentRow) -> tuple[str, ...]:
    """submission_warnings inside a unit of work that has checked access already."""
    from .records import queries

    matrix = uow.store.matrix(row.matrix_id, row.matrix_version)
    found: dict[str, list[EvidenceItem]] = {}
    for x in _items_of(uow, [row.id]):
        found.setdefault(x.element_id, []).append(x)
    return warnings_for(matrix, queries.ratings(uow, row.id), found, as_of(row.year, uow.at.date()))


# ---------------------------------------------------------------------------------------------
# Writes

_AUDIT_FIELDS = ("element_id", "description", "link", "review_by", "carried_from_year", "confirmed_by")


def _draft_row(uow: UnitOfWork, assessment_id: int) -> AssessmentRow:
    row = uow.get(AssessmentRow, int(assessment_id), lock="share")
    if row is None:
        raise NotFoundError(f"there is no assessment with id {assessment_id}")
    guard.check(uow, EDIT, pcn_code=row.pcn_code)
    assessing.check_draft(row)
    return row


def _item_row(uow: UnitOfWork, evidence_id: int, expected_version: int | None) -> tuple[EvidenceRow, AssessmentRow]:
    row = uow.get(EvidenceRow, int(evidence_id))
    if row is None:
        raise NotFoundError(f"there is no evidence item with id {evidence_id} (someone may have removed it)")
    a = _draft_row(uow, row.assessment_id)
    if expected_version is not None and row.version != expected_version:
        raise uow.conflict(f"The evidence item '{row.description[:60]}'", row, {}, expected_version, ["description"])
    return row, a


def _file_audit(f: EvidenceFileRow | EvidenceFile | None) -> str | None:
    return None if f is None else f"{f.name} ({f.media_type}, {f.size:,} bytes, sha256 {f.sha256})"


def _store_file(uow: UnitOfWork, upload: Upload) -> EvidenceFileRow:
    name, mime = check_upload(upload)
    content = bytes(upload.content)
    row = EvidenceFileRow(name=name, media_type=mime, size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                          content=content, created_by=uow.by, created_at=uow.at)
    return uow.add(row, duplicate="the file could not be stored")


def _result(uow: UnitOfWork, row: EvidenceRow) -> EvidenceItem:
    return _as_item(row, _files(uow, [row.file_id]))


def add_evidence(store, assessment_id: int, element_id: str, *, by: str | None = None, description: str,
                 link: str | None = None, file: Upload | None = None, review_by: date | str | None = None,
                 source: str | None = None) -> EvidenceItem:
    """A new evidence item on an element of a draft. `review_by` defaults to a year from today."""
    with store.batch(by=by, source=source) as uow:
        a = _draft_row(uow, assessment_id)
        matrix = uow.store.matrix(a.matrix_id, a.matrix_version)
        element_id = check_element(matrix, element_id)
        today = uow.at.date()
        values = {"description": check_description(description), "link": check_link(link),
                  "review_by": default_review_by(today) if review_by in (None, "") else check_review_by(review_by, today)}
        if uow.count(EvidenceRow, assessment_id=a.id, element_id=element_id) >= MAX_ITEMS:
            raise InputError(f"'{matrix.element(element_id).title}' has {MAX_ITEMS} evidence items already, the most "
                             f"one element can hold: remove one first")
        f = _store_file(uow, file) if file is not None else None
        row = uow.add(EvidenceRow(assessment_id=a.id, element_id=element_id, file_id=f.id if f else None,
                                  created_by=uow.by, created_at=uow.at, updated_by=uow.by, updated_at=uow.at,
                                  **values), duplicate="the evidence item could not be stored")
        uow.audit("evidence", str(row.id), {"assessment_id": (None, a.id), "file": (None, _file_audit(f)),
                                            **{k: (None, getattr(row, k)) for k in _AUDIT_FIELDS}})
        return _result(uow, row)


def update_evidence(store, evidence_id: int, *, by: str | None = None, expected_version: int,
                    description: Any = KEEP, link: Any = KEEP, review_by: Any = KEEP,
                    source: str | None = None) -> EvidenceItem:
    """Change an item's description, link (None removes it) or review-by date; what is not given
    stays. Changing an item carried over from last year confirms it."""
    with store.batch(by=by, source=source) as uow:
        row, _ = _item_row(uow, evidence_id, expected_version)
        new: dict[str, Any] = {}
        if description is not KEEP:
            new["description"] = check_description(description)
        if link is not KEEP:
            new["link"] = check_link(link)
        if review_by is not KEEP:
            new["review_by"] = check_review_by(review_by, uow.at.date())
        changes = {k: (getattr(row, k), v) for k, v in new.items() if getattr(row, k) != v}
        if changes and row.carried_from_year is not None and row.confirmed_at is None:
            changes["confirmed_by"], changes["confirmed_at"] = (None, uow.by), (None, uow.at)
        if not changes:
            return _result(uow, row)
        _update(uow, row, {k: v for k, (_, v) in changes.items()}, expected_version)
        uow.audit("evidence", str(row.id), changes)
        return _result(uow, row)


def _update(uow: UnitOfWork, row: EvidenceRow, values: Mapping[str, Any], expected: int | None) -> None:
    uow.update(row, values, conflict=lambda: uow.conflict(
        f"The evidence item '{row.description[:60]}'", uow.get(EvidenceRow, row.id), dict(values), expected,
        list(values)))


def remove_evidence(store, evidence_id: int, *, by: str | None = None, expected_version: int,
                    source: str | None = None) -> None:
    """Take an item off its element; its file goes too unless another item (a later year's copy) uses it."""
    with store.batch(by=by, source=source) as uow:
        row, _ = _item_row(uow, evidence_id, expected_version)
        _delete_items(uow, [row])


def _delete_items(uow: UnitOfWork, rows: list[EvidenceRow]) -> None:
    files = _files(uow, (r.file_id for r in rows))
    for r in rows:
        uow.audit("evidence", str(r.id), {"assessment_id": (r.assessment_id, None),
                                          "file": (_file_audit(files.get(r.file_id)), None),
                                          **{k: (getattr(r, k), None) for k in _AUDIT_FIELDS}})
        uow.delete(r)
    for file_id in sorted(files):
        if uow.count(EvidenceRow, file_id=file_id) == 0:
            uow.delete_where(EvidenceFileRow, id=file_id)


def _confirm(uow: UnitOfWork, row: EvidenceRow, expected: int | None) -> None:
    """Confirmed today: it still holds, and is due for review a year from now (or its own later date)."""
    review_by = max(row.review_by, default_review_by(uow.at.date()))
    change = {"confirmed_by": uow.by, "confirmed_at": uow.at, "review_by": review_by}
    before = {k: getattr(row, k) for k in change}
    _update(uow, row, change, expected)
    uow.audit("evidence", str(row.id), {k: (before[k], v) for k, v in change.items()})


def confirm_evidence(store, evidence_id: int, *, by: str | None = None, expected_version: int,
                     source: str | None = None) -> EvidenceItem:
    """Confirm that an item carried over from last year still holds (also renews one due for review)."""
    with store.batch(by=by, source=source) as uow:
        row, _ = _item_row(uow, evidence_id, expected_version)
        _confirm(uow, row, expected_version)
        return _result(uow, row)


def confirm_element(store, assessment_id: int, element_id: str, *, by: str | None = None,
                    source: str | None = None) -> list[EvidenceItem]:
    """Confirm an element carried over from last year as it stands: its rating is reviewed and
    every carried-over item still holds. Returns the element's items."""
    with store.batch(by=by, source=source) as uow:
        a = _draft_row(uow, assessment_id)
        element_id = check_element(uow.store.matrix(a.matrix_id, a.matrix_version), element_id)
        rating = uow.get(RatingRow, (a.id, element_id))
        if rating is not None and rating.carried_over:
            uow.update(rating, {"carried_over": False}, conflict=lambda: uow.conflict(
                f"The rating of {element_id}", uow.get(RatingRow, (a.id, element_id)), {"carried_over": False},
                None, ["carried_over"]))
            uow.audit("rating", f"{a.id}/{element_id}", {"carried_over": (True, False)})
        rows = uow.rows(EvidenceRow, assessment_id=a.id, element_id=element_id, order_by=["id"])
        for r in rows:
            if r.carried_from_year is not None and r.confirmed_at is None:
                _confirm(uow, r, None)
        files = _files(uow, (r.file_id for r in rows))
        return [_as_item(r, files) for r in rows]


# ---------------------------------------------------------------------------------------------
# Used by ratings.start_year, open_revision and discard_draft, inside their unit of work

def carry_forward(uow: UnitOfWork, old_id: int, new_id: int, goes: Mapping[str, tuple[str, ...]],
                  year: str) -> int:
    """Copy an earlier year's items into a new draft, element ids mapped by `goes` (old id -> new
    ids), marked carried over from `year` and sharing the same files. Returns how many."""
    n = 0
    for r in uow.rows(EvidenceRow, assessment_id=old_id, order_by=["element_id", "id"]):
        for eid in goes.get(r.element_id, ()):
            new = uow.add(EvidenceRow(assessment_id=new_id, element_id=eid, description=r.description, link=r.link,
                                      file_id=r.file_id, review_by=r.review_by, carried_from_year=year,
                                      created_by=r.created_by, created_at=r.created_at, updated_by=uow.by,
                                      updated_at=uow.at), duplicate="the evidence could not be copied")
            uow.audit("evidence", str(new.id), {"assessment_id": (None, new_id), "copied_from": (None, r.id),
                                                **{k: (None, getattr(new, k)) for k in _AUDIT_FIELDS}})
            n += 1
    return n


def copy_for_revision(uow: UnitOfWork, old_id: int, new_id: int) -> None:
    """A new draft of an agreed assessment keeps its evidence as it was (dates, carried-over marks)."""
    for r in uow.rows(EvidenceRow, assessment_id=old_id, order_by=["id"]):
        new = uow.add(EvidenceRow(assessment_id=new_id, element_id=r.element_id, description=r.description,
                                  link=r.link, file_id=r.file_id, review_by=r.review_by,
                                  carried_from_year=r.carried_from_year, confirmed_by=r.confirmed_by,
                                  confirmed_at=r.confirmed_at, created_by=r.created_by, created_at=r.created_at,
                                  updated_by=r.updated_by, updated_at=r.updated_at),
                      duplicate="the evidence could not be copied")
        uow.audit("evidence", str(new.id), {"assessment_id": (None, new_id), "copied_from": (None, r.id)})


def delete_for(uow: UnitOfWork, assessment_id: int) -> None:
    """Every item of an assessment being deleted, audited, with the files no other item uses."""
    _delete_items(uow, uow.rows(EvidenceRow, assessment_id=assessment_id, order_by=["id"]))

"""Pathway tracking: where each PCN is on the six-step development-support pathway.

Per PCN, year and step of the pathway (matrix/development_pathway*.yaml): a status (not started,
in progress, done), one date (the day the step was done; before that, its target date), which
checklist items are ticked, and a note. Nothing is stored for a step until someone records
something.

The pathway carries forward: a year with nothing recorded for a step shows the step as it was
last recorded in an earlier year (`StepStatus.carried_from` names that year), so a step done
stays done in later years until someone reopens it there. A step recorded in no year up to the
one read is "not recorded", never "not started": nobody has said it has not started. A change to
a carried step is recorded in the year it is made in, starting from what was carried, and the
earlier year keeps its own record.

Stored the records' way: each save is one transaction (a unit of work) with an audit row per
changed field (entity "pathway_step", key "PCN/year/step"), each step row carries a `version`,
and a save made against a stale version raises `ConflictError` naming both values and writes
nothing. Pathway records are not locked when the year's assessment is agreed: the steps move on
all year.

Rules kept here, whoever calls:
- the day a step was done is chosen, never stamped: marking a step done needs its date, and a
  target date set earlier is not taken for it (a step of a past year marked done today would
  otherwise read as done today);
- a done date cannot lie in the future (one day of slack for time zones): a date still to come
  is a target date, so the step is not done yet; nor after the year it is recorded in ended
  (record it in the year it was done);
- reopening a done step clears its date, which was the day it was done, not a target;
- a first record of a year only in a year that can be started (assessments.years);
- ticks are checklist item ids of that step; ids stored earlier that a newer pathway file no
  longer lists are kept, not shown.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from matrix import Pathway
from matrix.schema import Step

from . import guard
from . import organisations as orgs
from .access import EDIT_PATHWAY, READ_PATHWAY, allowed
from .model import KEEP
from .records import UnitOfWork
from .records.tables import PathwayStepRow, PcnRow
from .values import (ConflictError, InputError, NotFoundError, check_ics_code, check_pcn_code, check_text, check_year,
                     year_start)
from .years import check_startable

NOT_STARTED, IN_PROGRESS, DONE = "not started", "in progress", "done"
STATUSES = (NOT_STARTED, IN_PROGRESS, DONE)  # what can be recorded
NOT_RECORDED = "not recorded"  # what a step reads when nothing is recorded for it in the year or before
FIELDS = ("status", "date", "ticks", "note")
MAX_NOTE = 5_000
ENTITY = "pathway_step"


# ---------------------------------------------------------------------------------------------
# What callers get back

@dataclass(frozen=True, slots=True)
class StepStatus:
    """One step of the pathway for a PCN and year: its record in that year, else the latest
    earlier year's (`carried_from`), else "not recorded". Version 0 unless recorded in the year."""
    number: int
    step_id: str
    title: str
    status: str  # one of STATUSES, or NOT_RECORDED
    date: date | None  # done on (status done), else the target date
    ticks: dict[str, bool]  # every checklist item of the step, in checklist order
    note: str | None
    updated_by: str | None = None
    updated_at: datetime | None = None
    version: int = 0
    carried_from: str | None = None  # the earlier year this record is from, when the year has none

    @property
    def saved(self) -> bool:
        """Recorded in the year read (not carried, not missing)."""
        return self.version > 0

    @property
    def recorded(self) -> bool:
        """Recorded in the year read or an earlier one."""
        return self.status != NOT_RECORDED

    @property
    def n_ticked(self) -> int:
        return sum(1 for v in self.ticks.values() if v)

    @property
    def n_items(self) -> int:
        return len(self.ticks)

    @property
    def date_label(self) -> str:
        return "Done on" if self.status == DONE else "Target date"


# ---------------------------------------------------------------------------------------------
# Checking values (pure)

def default_pathway(store) -> Pathway:
    """The pathway of the store's catalog (the newest version in the matrix folders)."""
    found = store.store.pathway()
    if found is None:
        raise NotFoundError("no development pathway is available (none found in the matrix folders)")
    return found


def _pathway(store, pathway: Pathway | None) -> Pathway:
    return pathway if pathway is not None else default_pathway(store)


def check_step(pathway: Pathway, number: Any) -> Step:
    try:
        n = int(number)
    except (TypeError, ValueError):
        n = None
    if n is None or isinstance(number, bool) or (isinstance(number, float) and not number.is_integer()):
        raise InputError(f"'{number}' is not a step of the pathway: use a number from 1 to {len(pathway.steps)}")
    try:
        return pathway.step(n)
    except KeyError:
        numbers = [s.number for s in pathway.steps]
        raise InputError(f"step {n} is not on the pathway: use a number from {min(numbers)} to {max(numbers)}") from None


def check_status(value: Any) -> str:
    text = str(value or "").strip().lower().replace("-", " ").replace("_", " ")
    text = " ".join(text.split())
    if not text:
        return NOT_STARTED
    if text not in STATUSES:
        raise InputError(f"'{value}' is not a step status: use one of {', '.join(STATUSES)}")
    return text


def year_end(year: str) -> date:
    """The last day of an NHS financial year (31 March)."""
    return date(year_start(year) + 1, 3, 31)


def check_date(value: Any) -> date | None:
    from .plan import parse_due

    d = parse_due(value)
    if d is not None and not 2000 <= d.year <= 2100:
        raise InputError(f"{d:%d %b %Y} is outside the years this tool handles (2000 to 2100)")
    return d


def check_ticks(step: Step, ticks: Any) -> dict[str, bool] | list[str]:
    """A mapping {item id: ticked} (a partial change) or an iterable of ticked ids (the whole list)."""
    ids = [i.id for i in step.checklist]

    def known(item: Any) -> str:
        item = str(item or "").strip()
        if item not in ids:
            raise InputError(f"'{item}' is not a checklist item of step {step.number} ({step.title}): "
                             f"use one of {', '.join(ids)}")
        return item

    if isinstance(ticks, Mapping):
        return {known(k): bool(v) for k, v in ticks.items()}
    if isinstance(ticks, str):
        raise InputError("ticks must be a list of checklist item ids, not one piece of text")
    if ticks is None:
        return []
    out = [known(t) for t in ticks]
    return list(dict.fromkeys(out))


def _ordered(step: Step, ticked: Iterable[str]) -> list[str]:
    """Checklist order first; ids the pathway no longer lists keep their place at the end."""
    ticked = set(ticked)
    ids = [i.id for i in step.checklist]
    return [i for i in ids if i in ticked] + sorted(ticked - set(ids))


# ---------------------------------------------------------------------------------------------
# Reads

def _status(step: Step, row: Any | None, year: str | None = None) -> StepStatus:
    """The step as `row` records it; a row of another year than `year` is carried from it."""
    ticked = set(row.ticks or ()) if row is not None else set()
    ticks = {i.id: i.id in ticked for i in step.checklist}
    if row is None:
        return StepStatus(step.number, step.id, step.title, NOT_RECORDED, None, ticks, None)
    carried = year is not None and row.year != year
    return StepStatus(step.number, step.id, step.title, row.status, row.date, ticks, row.note, row.updated_by,
                      row.updated_at, 0 if carried else row.version, row.year if carried else None)


def _latest(rows: Iterable[Any]) -> dict[tuple[str, int], Any]:
    """(PCN, step) -> the row of the latest year among `rows` (rows of one year and the years before it)."""
    out: dict[tuple[str, int], Any] = {}
    for x in rows:
        key = (x.pcn_code, x.step_number)
        if key not in out or x.year > out[key].year:
            out[key] = x
    return out


def pathway_status(store, pcn_code: str, year: str, pathway: Pathway | None = None) -> list[StepStatus]:
    """Every step of the pathway for the PCN and year, in order: as recorded in the year, else as
    last recorded before it (carried forward), else "not recorded"."""
    pathway = _pathway(store, pathway)
    code, year = check_pcn_code(pcn_code), check_year(year)
    guard.check(store, READ_PATHWAY, pcn_code=code)
    with store.read() as r:
        if r.get(PcnRow, code) is None:
            raise NotFoundError(f"there is no PCN with code {pcn_code}")
        rows = _latest(r.rows(PathwayStepRow, pcn_code=code, year__le=year, pathway_id=pathway.id))
    return [_status(step, rows.get((code, step.number)), year) for step in pathway.steps]


def step_status(store, pcn_code: str, year: str, step_number: int, pathway: Pathway | None = None) -> StepStatus:
    pathway = _pathway(store, pathway)
    number = check_step(pathway, step_number).number
    return next(s for s in pathway_status(store, pcn_code, year, pathway) if s.number == number)


def recorded_years(store, pcn_code: str) -> list[str]:
    """Years in which anything is recorded on the pathway for the PCN, oldest first."""
    guard.check(store, READ_PATHWAY, pcn_code=check_pcn_code(pcn_code))
    with store.read() as r:
        return r.column(PathwayStepRow, "year", distinct=True, order_by=["year"], pcn_code=check_pcn_code(pcn_code))


def current_step(steps: Iterable[StepStatus]) -> StepStatus | None:
    """The first step not done (where the PCN is on the pathway); None when every step is done."""
    return next((s for s in steps if s.status != DONE), None)


OVERVIEW_COLUMNS = ["code", "name", "list_size", "rural", "at_step", "at_step_title", "at_step_status", "done",
                    "in_progress", "not_recorded", "ticked", "items", "updated_by", "updated_at"]


def ics_pathway_overview(store, ics_code: str, year: str, pathway: Pathway | None = None) -> pd.DataFrame:
    """One row per PCN of the ICS (by code): the step it is at (the first step not done; <NA> when
    all are done), that step's title and status, and counts: steps done, in progress, not recorded,
    checklist items ticked of all items, and who changed the PCN's pathway last. Steps carry
    forward from earlier years as in `pathway_status`. Two queries whatever the size."""
    pathway = _pathway(store, pathway)
    year = check_year(year)
    v = guard.Visibility(store)
    pcns = [p for p in orgs.pcns(store, ics_code=check_ics_code(ics_code))
            if v.admin or allowed(v.p, READ_PATHWAY, ics_code=p.ics_code, pcn_code=p.code)]
    with store.read() as r:
        rows = r.rows(PathwayStepRow, in_ics=check_ics_code(ics_code), year__le=year, pathway_id=pathway.id)
    by_pcn: dict[str, dict[int, Any]] = {}
    for (code, number), x in _latest(rows).items():
        by_pcn.setdefault(code, {})[number] = x
    out = []
    for p in pcns:
        mine = by_pcn.get(p.code, {})
        steps = [_status(step, mine.get(step.number), year) for step in pathway.steps]
        at = current_step(steps)
        last = max((s for s in steps if s.recorded), key=lambda s: s.updated_at, default=None)
        out.append(dict(
            code=p.code, name=p.name, list_size=p.list_size, rural=p.rural,
            at_step=at.number if at else None, at_step_title=at.title if at else "Every step done",
            at_step_status=at.status if at else DONE,
            done=sum(s.status == DONE for s in steps), in_progress=sum(s.status == IN_PROGRESS for s in steps),
            not_recorded=sum(not s.recorded for s in steps), ticked=sum(s.n_ticked for s in steps), items=sum(s.n_items for s in steps),
            updated_by=last.updated_by if last else None, updated_at=last.updated_at if last else None))
    df = pd.DataFrame(out, columns=OVERVIEW_COLUMNS)
    return df.astype({"at_step": "Int64", "list_size": "int64", "done": "int64", "in_progress": "int64",
                      "not_recorded": "int64", "ticked": "int64", "items": "int64", "rural": "bool"})


def step_counts(overview: pd.DataFrame, pathway: Pathway) -> pd.DataFrame:
    """How many PCNs are at each step (step, title, pcns), then a row for "Every step done"."""
    at = overview["at_step"]
    rows = [dict(step=s.number, title=s.title, pcns=int((at == s.number).sum())) for s in pathway.steps]
    rows.append(dict(step=None, title="Every step done", pcns=int(at.isna().sum())))
    return pd.DataFrame(rows, columns=["step", "title", "pcns"]).astype({"step": "Int64"})


def steps_table(steps: Iterable[StepStatus]) -> pd.DataFrame:
    """The steps as text for a page or a file: Step, Title, Status, Date, Checklist, Note. A step
    carried from an earlier year says so in its status."""
    rows = []
    for s in steps:
        when = f"{s.date_label.lower()} {s.date:%d %b %Y}" if s.date else ""
        status = f"{s.status} (recorded in {s.carried_from})" if s.carried_from else s.status
        rows.append({"Step": s.number, "Title": s.title, "Status": status, "Date": when,
                     "Checklist": f"{s.n_ticked} of {s.n_items} ticked", "Note": s.note or ""})
    return pd.DataFrame(rows, columns=["Step", "Title", "Status", "Date", "Checklist", "Note"])


# ---------------------------------------------------------------------------------------------
# Writes

def _key(code: str, year: str, number: int) -> str:
    return f"{code}/{year}/{number}"


def _shown(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values as a conflict message should show them: dates as people write them, a change of
    ticks as what was ticked and unticked."""
    def one(v: Any) -> Any:
        if isinstance(v, date):
            return f"{v:%d %b %Y}"
        if isinstance(v, dict):
            return ", ".join(f"{'tick' if on else 'untick'} {k}" for k, on in v.items())
        return v
    return {k: one(v) for k, v in values.items()}


def _row(uow: UnitOfWork, code: str, year: str, pathway_id: str, number: int) -> PathwayStepRow | None:
    return uow.first(PathwayStepRow, pcn_code=code, year=year, pathway_id=pathway_id, step_number=number)


def _carried(uow: UnitOfWork, code: str, year: str, pathway_id: str, number: int) -> PathwayStepRow | None:
    """The step's record in the latest year before `year`, which the year carries forward."""
    return uow.first(PathwayStepRow, pcn_code=code, year__lt=year, pathway_id=pathway_id, step_number=number,
                     order_by=["-year"])


def save_step(store, pcn_code: str, year: str, step_number: int, *, by: str | None = None, expected_version: int,
              status: Any = KEEP, date: Any = KEEP, ticks: Any = KEEP, note: Any = KEEP,
              pathway: Pathway | None = None, source: str | None = None) -> StepStatus:
    """Record one step in one year (expected_version 0 for a step with nothing recorded in that
    year, carried or not). Fields left as KEEP stay as they are, or as carried from an earlier
    year. `ticks`: {item id: ticked} changes only those items; a list of item ids is the whole
    ticked list. Marking a step done needs `date`, the day it was done. Several steps go in one
    transaction when `store` is a unit of work the caller opened."""
    if expected_version is None:
        raise TypeError("expected_version is required (0 for a step with nothing recorded yet)")
    with store.batch(by=by, source=source) as b:
        pathway = _pathway(b, pathway)
        code, year = check_pcn_code(pcn_code), check_year(year)
        step = check_step(pathway, step_number)
        pcn_row = b.get(PcnRow, code)
        if pcn_row is None:
            raise NotFoundError(f"there is no PCN with code {pcn_code}")
        guard.check(b, EDIT_PATHWAY, pcn_code=code, ics_code=pcn_row.ics_code)
        new: dict[str, Any] = {}
        if status is not KEEP:
            new["status"] = check_status(status)
        if date is not KEEP:
            new["date"] = check_date(date)
        if note is not KEEP:
            new["note"] = check_text(note, "note", MAX_NOTE)
        tick_change = check_ticks(step, ticks) if ticks is not KEEP else None
        what = f"Step {step.number} ({step.title}) of the {year} pathway of {code}"

        row = _row(b, code, year, pathway.id, step.number)
        stored_version = row.version if row is not None else 0

        def attempted() -> dict[str, Any]:
            out = dict(new)
            if tick_change is not None:
                out["ticks"] = tick_change
            return out

        def conflict(fresh: PathwayStepRow | None) -> ConflictError:
            tried = attempted()
            stored = None if fresh is None else {f: getattr(fresh, f) for f in tried}
            return ConflictError(what, _shown(tried), _shown(stored) if stored is not None else None,
                                 fresh.updated_by if fresh else None, fresh.updated_at if fresh else None,
                                 expected_version, fresh.version if fresh else 0)

        if expected_version != stored_version:
            raise conflict(row)

        if row is None:
            check_startable(year)
            base = _carried(b, code, year, pathway.id, step.number)
        else:
            base = row
        before = {f: getattr(base, f) for f in FIELDS} if base is not None else \
            {"status": NOT_STARTED, "date": None, "ticks": [], "note": None}
        after = {**before, **new}
        if tick_change is not None:
            if isinstance(tick_change, dict):
                ticked = set(before["ticks"])
                ticked |= {k for k, v in tick_change.items() if v}
                ticked -= {k for k, v in tick_change.items() if not v}
            else:
                ticked = set(tick_change)
            after["ticks"] = _ordered(step, ticked)
        today = b.at.date()
        if before["status"] == DONE and after["status"] != DONE and "date" not in new:
            after["date"] = None  # the day it was done, which is no target
        if after["status"] == DONE:
            if after["date"] is None or (before["status"] != DONE and "date" not in new):
                raise InputError(f"choose the day step {step.number} ({step.title}) was done: a done step needs its "
                                 f"date" + (f" ({after['date']:%d %b %Y} was its target)" if after["date"] else ""))
            if after["date"] > today + timedelta(days=1):
                raise InputError(f"a step cannot have been done on {after['date']:%d %b %Y}, which is still to come: "
                                 f"keep the step in progress and use the date as its target")
            if after["date"] > year_end(year):
                raise InputError(f"step {step.number} of {year} cannot have been done on {after['date']:%d %b %Y}, "
                                 f"after {year} ended on {year_end(year):%d %b %Y}: record it in the year it was done")

        if row is None:
            row = PathwayStepRow(pcn_code=code, year=year, pathway_id=pathway.id, step_number=step.number,
                                 created_by=b.by, created_at=b.at, updated_by=b.by, updated_at=b.at, **after)
            b.add(row, duplicate=lambda: conflict(_row(b, code, year, pathway.id, step.number)))
            b.audit(ENTITY, _key(code, year, step.number), {
                "pathway_id": (None, pathway.id), "status": (None, after["status"]),
                **{f: (None, after[f]) for f in ("date", "ticks", "note") if after[f] not in (None, [])}})
            return _status(step, row, year)

        changes = {f: (before[f], after[f]) for f in FIELDS if before[f] != after[f]}
        if not changes:
            return _status(step, row, year)

        b.update(row, {f: v for f, (_, v) in changes.items()},
                 conflict=lambda: conflict(_row(b, code, year, pathway.id, step.number)))
        b.audit(ENTITY, _key(code, year, step.number), changes)
        return _status(step, row, year)

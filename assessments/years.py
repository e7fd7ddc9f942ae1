"""The one rule for assessment years, used by every page (self-assessment, workshop, plan, pathway,
portfolio, progress), the command line and the services that start a year.

- **This year** is the NHS financial year today falls in (1 April to 31 March).
- **A year can be started** (a first assessment, workshop or pathway record in it) if it is not
  later than next year: last year's records may be made late, history may be imported, and
  next year may be planned ahead, but nothing further ahead.
- **The years a page offers**: every year with records (they never drop out of a list), and the
  years a network would start next: last year, this year, next year, and the year after its
  latest records (so a network whose records stop some years back carries on from them).
- **The year a page opens on**: this year once anything is recorded in it; until then the latest
  earlier year with records (the network's last work, still open to change); with nothing
  recorded, this year.
- **What progress compares**: each assessed year with the assessed year before it. When years
  lie between them, the comparison names them, and the latest assessment names the years since
  it that have none (this year included).

The rules are pure functions of the recorded years and the day. `today()` is the one clock they
are given, so tests can set it; `recorded_years` reads the years with records of a PCN or ICS.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from .values import InputError, check_year, financial_year, next_year, year_start


def today() -> date:
    """The day the rules are applied to (the server's date)."""
    return date.today()


def current_year(day: date | None = None) -> str:
    """This NHS financial year."""
    return financial_year(day or today())


def previous_year(year: str) -> str:
    start = year_start(year) - 1
    return f"{start}/{(start + 1) % 100:02d}"


def _recorded(recorded: Iterable[str]) -> set[str]:
    return {check_year(y) for y in recorded}


def can_start(year: str, day: date | None = None) -> bool:
    return check_year(year) <= next_year(current_year(day))


def check_startable(year: str, day: date | None = None) -> str:
    """The year, if a first record may be made in it; else InputError saying which years can."""
    year = check_year(year)
    if not can_start(year, day):
        now = current_year(day)
        raise InputError(f"{year} cannot be started yet: this financial year is {now}, so years up to "
                         f"{next_year(now)} can be started")
    return year


def startable_years(recorded: Iterable[str], day: date | None = None) -> list[str]:
    """The years with nothing recorded a page offers to start, oldest first."""
    have = _recorded(recorded)
    now = current_year(day)
    years = {previous_year(now), now, next_year(now)}
    if have:
        years.add(next_year(max(have)))
    return sorted(y for y in years - have if can_start(y, day))


def offered_years(recorded: Iterable[str], day: date | None = None) -> list[str]:
    """Every year with records and every year that can be started from here, oldest first."""
    have = _recorded(recorded)
    return sorted(have | set(startable_years(have, day)))


def default_year(recorded: Iterable[str], day: date | None = None) -> str:
    """The year a page opens on: this year once it has records, else the latest earlier year with
    records, else this year."""
    have = _recorded(recorded)
    now = current_year(day)
    if now in have:
        return now
    earlier = [y for y in have if y < now]
    return max(earlier) if earlier else now


def years_between(before: str, after: str) -> list[str]:
    """The years strictly between two years, oldest first."""
    out, y = [], next_year(check_year(before))
    while y < check_year(after):
        out.append(y)
        y = next_year(y)
    return out


@dataclass(frozen=True)
class Comparison:
    """One step of progress: `after` compared with `before`, the assessed year before it."""
    after: str
    before: str
    missing: tuple[str, ...]  # years between them with no assessment

    @property
    def label(self) -> str:
        """'2026/27 with 2024/25 (no 2025/26 assessment)'."""
        text = f"{self.after} with {self.before}"
        return text + (f" (no {_and(self.missing)} assessment)" if self.missing else "")

    @property
    def note(self) -> str | None:
        """What the comparison skips, in a sentence; None when the years follow on."""
        if not self.missing:
            return None
        n = len(self.missing)
        return (f"There is no {_and(self.missing)} assessment, so {self.after} is compared with {self.before}, "
                f"{n + 1} years earlier.")


def _and(years: Iterable[str]) -> str:
    years = list(years)
    return years[0] if len(years) == 1 else ", ".join(years[:-1]) + " or " + years[-1]


def comparisons(assessed: Iterable[str]) -> list[Comparison]:
    """Each assessed year (but the first) with the assessed year before it, oldest first."""
    years = sorted(_recorded(assessed))
    return [Comparison(a, b, tuple(years_between(b, a))) for b, a in zip(years, years[1:])]


def not_assessed_since(assessed: Iterable[str], day: date | None = None) -> list[str]:
    """The years after the latest assessment up to this year that have none (this year included)."""
    years = _recorded(assessed)
    if not years:
        return []
    now = current_year(day)
    latest = max(years)
    return years_between(latest, next_year(now)) if latest < now else []


# ---------------------------------------------------------------------------------------------
# The years with records, from the store

def recorded_years(store, *, pcn_code: str | None = None, ics_code: str | None = None) -> list[str]:
    """Years in which anything is recorded for the PCN (or for any PCN of the ICS) that the reader
    may see: assessments, plans, pathway steps, workshops. Oldest first."""
    from . import organisations as orgs
    from . import pathway, plan, ratings, workshop
    from .access import AccessDenied

    if (pcn_code is None) == (ics_code is None):
        raise TypeError("name a PCN or an ICS")

    def seen(read, **where) -> set[str]:
        try:
            return {getattr(x, "year", x) for x in read(store, **where)}
        except AccessDenied:  # a kind of record this reader may not see (a commissioner's pathway)
            return set()

    where = {"pcn_code": pcn_code} if pcn_code is not None else {"ics_code": ics_code}
    codes = [pcn_code] if pcn_code is not None else [p.code for p in orgs.pcns(store, ics_code=ics_code)]
    years = seen(ratings.assessments, **where) | seen(plan.plans, **where)
    for code in codes:
        years |= seen(pathway.recorded_years, pcn_code=code) | seen(workshop.workshops, pcn_code=code)
    return sorted(years)


@dataclass(frozen=True)
class YearChoice:
    """What the rule gives for one PCN or ICS on one day, for a page or the command line."""
    today: date
    current: str
    recorded: tuple[str, ...]
    offered: tuple[str, ...]
    startable: tuple[str, ...]
    default: str

    def lines(self) -> list[str]:
        started = ", ".join(self.startable) or "none"
        return [f"This financial year: {self.current}",
                f"Years with records: {', '.join(self.recorded) or 'none'}",
                f"Years that can be started: {started}",
                f"Pages open on: {self.default}"]


def year_choice(recorded: Iterable[str], day: date | None = None) -> YearChoice:
    day = day or today()
    have = sorted(_recorded(recorded))
    return YearChoice(day, current_year(day), tuple(have), tuple(offered_years(have, day)),
                      tuple(startable_years(have, day)), default_year(have, day))

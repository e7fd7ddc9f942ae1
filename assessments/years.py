"""Which years a page offers for a PCN (or an ICS), and which one it starts on: one rule for
every page (assessment, plan, pathway, portfolio, workshop).

Pure functions of the years that have records of any kind (assessments, plans, pathway steps,
workshops) and of the day, so the rule reads and tests without a database or Streamlit.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from .values import check_year, financial_year, next_year


def offered_years(recorded: Iterable[str], today: date) -> list[str]:
    """The years with records, the current NHS financial year and the year after the latest of
    those, oldest first. The year after the latest record is offered too, so a network whose
    records stop some years back can still carry on from them."""
    have = {check_year(y) for y in recorded}
    years = have | {financial_year(today)}
    years.add(next_year(max(years)))
    if have:
        years.add(next_year(max(have)))
    return sorted(years)


def default_year(recorded: Iterable[str], today: date) -> str:
    """The year a page starts on: the latest year with records, else the current financial year."""
    have = {check_year(y) for y in recorded}
    return max(have) if have else financial_year(today)

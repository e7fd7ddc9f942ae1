"""The row of pickers at the top of a page: ICS, PCN and year, and a column for the page's own
picker beside them. One function for every page, so the pickers look, start and behave alike.

Each picker starts from this session's choice, then the address (?ics=, ?pcn=, ?year=), then
its default; the ICS and PCN also follow the user from page to page (components/state.py). The
years offered and the year a page starts on follow one rule (assessments/years.py). The choice is
written back to the address, so a view can be shared or reloaded. On a projector (large text)
more than two pickers take two rows, so each box stays readable. A page whose PCN is rated against
several matrices adds a matrix picker (`pick_matrix`) in its own column, shown only when there is
a choice.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from assessments import matrix_choice as choice
from assessments import years as Y
from assessments.model import ICS, PCN

from .cache import cached
from .state import get_store, keep, pick_ics, pick_pcn

YEAR_HELP = ("NHS financial years (1 April to 31 March): every year with records, and last, this and next "
             "year. A page opens on this year once anything is recorded in it, until then on the latest "
             "earlier year with records.")
# Widths of the ICS, PCN, year and page picker columns on one row.
_WIDTHS = {"ics": 3, "pcn": 3, "year": 1.8, "extra": 2.5}


class Chosen(NamedTuple):
    ics: ICS
    pcn: PCN | None  # None when the page picks no PCN
    year: str | None  # None when the page picks no year
    extra: DeltaGenerator | None  # the column left for the page's own picker, if asked for


@cached()
def pcn_record_years(pcn_code: str) -> list[str]:
    """Years in which anything is recorded for the PCN: assessments, plans, pathway steps, workshops."""
    return Y.recorded_years(get_store(), pcn_code=pcn_code)


@cached()
def ics_record_years(ics_code: str) -> list[str]:
    """Years in which anything is recorded for any PCN of the ICS."""
    return Y.recorded_years(get_store(), ics_code=ics_code)


def pick_year(key: str, recorded: list[str], *, label: str = "Year", help: str | None = YEAR_HELP) -> str:
    """The year picker (assessments.years): this session's choice if still offered, else ?year= from
    the address, else the year last chosen here before another page ran (Streamlit forgets a
    widget's value then, as for the ICS and PCN pickers), else the year pages open on."""
    rule = Y.year_choice(recorded)
    years = list(rule.offered)
    wanted = st.query_params.get("year")
    remembered = st.session_state.get(f"{key}_chosen")
    if st.session_state.get(key) in years:
        keep(key)  # a box drawn anew (another layout) must show the real choice
    elif wanted in years:
        st.session_state[key] = wanted
    elif remembered in years:
        st.session_state[key] = remembered
    else:
        st.session_state[key] = rule.default
    year = st.selectbox(label, years, key=key, help=help)
    st.session_state[f"{key}_chosen"] = year
    return year


def pick_matrix(key: str, options: Sequence[str], default: str | None, *, label: str = "Matrix",
                help: str | None = None) -> str | None:
    """The matrix picker, drawn only when there is a choice (two or more options): this session's
    choice if still offered, else ?matrix= from the address, else `default`. With one option that
    one is used and nothing is drawn. Options are matrix ids, shown by title (assessments.matrix_choice)."""
    if len(options) < 2:
        st.query_params.pop("matrix", None)
        return options[0] if options else default
    wanted = st.query_params.get("matrix")
    if st.session_state.get(key) in options:
        keep(key)
    elif wanted in options:
        st.session_state[key] = wanted
    else:
        st.session_state[key] = default if default in options else options[0]
    store = get_store()
    titles = {x: choice.title_of(store, x) for x in options}
    twice = {t for t in titles.values() if list(titles.values()).count(t) > 1}
    chosen = st.selectbox(label, list(options), key=key, help=help,
                          format_func=lambda x: f"{titles[x]} ({x})" if titles[x] in twice else titles[x])
    st.query_params["matrix"] = chosen
    return chosen


def _columns(names: list[str]) -> dict[str, DeltaGenerator]:
    if st.session_state.get("large_text") and len(names) > 2:  # on a projector: two to a row
        cols = [c for i in range(0, len(names), 2) for c in st.columns(2)]
    else:
        cols = st.columns([_WIDTHS[n] for n in names])
    return dict(zip(names, cols))


def page_header(*, pcn: bool = True, year_key: str | None = None, year_label: str = "Year",
                year_help: str | None = YEAR_HELP, extra: bool = False) -> Chosen:
    """Draw the pickers the page needs (ICS always; PCN unless `pcn=False`; a year when `year_key`
    names its widget; an empty column for the page's own picker with `extra=True`) and return the
    choice. The years are those of the PCN, or of the ICS when the page picks no PCN."""
    names = ["ics", *(["pcn"] if pcn else []), *(["year"] if year_key else []), *(["extra"] if extra else [])]
    cols = _columns(names)
    with cols["ics"]:
        ics = pick_ics()
    network = None
    if pcn:
        with cols["pcn"]:
            network = pick_pcn(ics.code)
    year = None
    if year_key:
        recorded = pcn_record_years(network.code) if network else ics_record_years(ics.code)
        with cols["year"]:
            year = pick_year(year_key, recorded, label=year_label, help=year_help)
    if year and year != (now := Y.current_year()):
        st.caption(f"Showing {year}. This financial year is {now}.")
    # The address names what is on screen, so it can be shared or reloaded.
    st.query_params.update({"ics": ics.code, **({"pcn": network.code} if network else {}),
                            **({"year": year} if year else {})})
    return Chosen(ics, network, year, cols.get("extra"))

"""Pieces of the development pathway page: one step's card (status, date, note and checklist,
each saved as soon as it changes) and where each PCN of the ICS is on the pathway.

Widget keys carry the stored version (for a step carried from an earlier year, that year and the
time of its record): after anyone's save the widgets start from what is stored, and a save from
a stale screen is a conflict, not a silent overwrite. What a save has to say is shown once beside
its step (components.messages, `where` = the step number).

Marking a step done asks for the day it was done before anything is saved: choosing "done" opens
a date box and a button, and the step is saved done only with the date chosen there.

The step the PCN is at (its first step not done) is drawn open; every other step shows a line of
where it stands and opens with its switch. Six open steps were most of what the browser drew on
the page (1,300 elements, two thirds of its load time)."""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from assessments import pathway as P
from assessments.model import ICS
from matrix import Pathway, Step

from . import messages as M
from .cache import cached
from .catalog import get_catalog
from .look import plain, static_table
from .state import get_store


@cached()
def load_steps(pcn_code: str, year: str, pathway_key: tuple[str, str]) -> list[P.StepStatus]:
    return P.pathway_status(get_store(), pcn_code, year, get_catalog().pathways[pathway_key])


@cached(max_entries=32)
def load_overview(ics_code: str, year: str, pathway_key: tuple[str, str]) -> pd.DataFrame:
    return P.ics_pathway_overview(get_store(), ics_code, year, get_catalog().pathways[pathway_key])


def write(message_key: str, step: int, expected: int, pcn_code: str, year: str, by: str, pathway: Pathway,
          **fields) -> None:
    """Save one change from a widget callback; what to tell the user is shown beside the step."""
    M.act(message_key, f"Step {step} saved.", P.save_step, get_store(), pcn_code, year, step, by=by,
          expected_version=expected, pathway=pathway, where=step, **fields)


def save_field(message_key: str, step: int, field: str, key: str, expected: int, *where) -> None:
    write(message_key, step, expected, *where, **{field: st.session_state[key]})


def save_tick(message_key: str, step: int, item: str, key: str, expected: int, *where) -> None:
    write(message_key, step, expected, *where, ticks={item: bool(st.session_state[key])})


def save_status(message_key: str, step: int, key: str, expected: int, *where) -> None:
    """A status other than done is saved at once; done waits for its date (`mark_done`)."""
    if st.session_state[key] not in (None, P.DONE):
        write(message_key, step, expected, *where, status=st.session_state[key])


def mark_done(message_key: str, step: int, date_key: str, expected: int, *where) -> None:
    write(message_key, step, expected, *where, status=P.DONE, date=st.session_state.get(date_key))


def cancel_done(status_key: str) -> None:
    st.session_state.pop(status_key, None)  # the status box starts again from what is stored


def _widget_key(pcn_code: str, year: str, s: P.StepStatus) -> str:
    if s.saved or not s.carried_from:
        return f"pathway_{pcn_code}_{year}_{s.number}_{s.version}"
    stamp = f"{s.updated_at:%Y%m%d%H%M%S%f}" if s.updated_at else "x"
    return f"pathway_{pcn_code}_{year}_{s.number}_from{s.carried_from.replace('/', '')}_{stamp}"


def _where_from(s: P.StepStatus, year: str) -> str | None:
    """What the card says about where its record comes from."""
    if s.carried_from:
        return (f"As recorded in {s.carried_from}: nothing is recorded for this step in {year}, so it stays as it "
                f"was until someone changes it here (the change is recorded in {year}).")
    if not s.recorded:
        return f"Not recorded: nothing is recorded for this step in {year} or any year before."
    return None


def standing(s: P.StepStatus, year: str) -> str:
    """One line on where a step stands: its status and date, the checklist, the last change."""
    if not s.recorded:
        parts = [f"Not recorded in {year} or any year before"]
    else:
        when = (f" on {s.date:%d %b %Y}" if s.status == P.DONE else f", target date {s.date:%d %b %Y}") if s.date else ""
        parts = [f"{s.status.capitalize()}{when}" + (f" (as recorded in {s.carried_from})" if s.carried_from else "")]
    parts.append(f"checklist {s.n_ticked} of {s.n_items} ticked")
    if s.updated_by and s.updated_at:
        parts.append(f"last changed by {s.updated_by} on {s.updated_at:%d %b %Y}")
    if s.note:
        parts.append("a note")
    return "; ".join(parts) + "."


def step_card(message_key: str, message: M.Message | None, step: Step, s: P.StepStatus, pcn_code: str, year: str,
              actor: str | None, pathway: Pathway, *, is_current: bool = True) -> None:
    """One step of the pathway for the PCN and year, every field saved as it changes. A step other than
    the current one shows where it stands and opens with its switch (the module notes)."""
    context = (pcn_code, year, actor, pathway)
    with st.container(border=True):
        st.subheader(plain(f"Step {step.number}: {step.title}"), anchor=False)
        st.caption(plain(step.purpose))
        M.show(message, step.number, reload_key=f"pathway_reload_{step.number}",
               reload_help="Show this step as it is saved now")
        key = _widget_key(pcn_code, year, s)
        if not is_current:
            open_key = f"pathway_open_{pcn_code}_{step.number}"
            if message is not None and message.where == step.number:
                st.session_state[open_key] = True  # what was just saved stays in view, beside its message
            st.markdown(plain(standing(s, year)))
            if not st.toggle(f"{'Edit' if actor else 'Show'} step {step.number}: status, date, note and checklist",
                             key=open_key):
                return
        left, right = st.columns([2, 3], gap="large")
        with left:
            where_from = _where_from(s, year)
            if where_from:
                st.caption(plain(where_from))
            chosen = st.radio(f"Status of step {step.number}", P.STATUSES,
                              index=P.STATUSES.index(s.status) if s.recorded else None, horizontal=True,
                              key=f"{key}_status", disabled=not actor, on_change=save_status,
                              args=(message_key, step.number, f"{key}_status", s.version, *context))
            # A done date lies neither ahead of today nor after the year ended (assessments.pathway).
            last_day = min(date.today() + timedelta(days=1), P.year_end(year))
            if chosen == P.DONE and s.status != P.DONE and actor:
                with st.container(border=True):
                    when = st.date_input(f"Step {step.number} done on", value=None, min_value=date(2000, 1, 1),
                                         max_value=last_day, format="DD/MM/YYYY", key=f"{key}_done_on",
                                         help=f"The day the step was done (by {P.year_end(year):%d %b %Y}, the end "
                                              f"of {year})")
                    ok, back = st.columns(2)
                    ok.button(f"Mark step {step.number} done", type="primary", key=f"{key}_mark_done",
                              disabled=when is None, on_click=mark_done,
                              args=(message_key, step.number, f"{key}_done_on", s.version, *context),
                              help="Choose the day it was done first" if when is None else None)
                    back.button("Cancel", key=f"{key}_cancel_done", on_click=cancel_done, args=(f"{key}_status",))
            elif s.status == P.DONE:
                st.date_input(f"Step {step.number} done on", value=s.date, min_value=date(2000, 1, 1),
                              max_value=max(last_day, s.date or last_day), format="DD/MM/YYYY", key=f"{key}_date",
                              disabled=not actor, on_change=save_field,
                              args=(message_key, step.number, "date", f"{key}_date", s.version, *context),
                              help="The day the step was done")
            else:
                st.date_input(f"Target date for step {step.number}", value=s.date, min_value=date(2000, 1, 1),
                              max_value=date(2100, 12, 31), format="DD/MM/YYYY", key=f"{key}_date",
                              disabled=not actor, on_change=save_field,
                              args=(message_key, step.number, "date", f"{key}_date", s.version, *context),
                              help="When the step should be done")
            st.text_area(f"Note on step {step.number}", value=s.note or "", max_chars=P.MAX_NOTE, height=100,
                         key=f"{key}_note", disabled=not actor, on_change=save_field,
                         args=(message_key, step.number, "note", f"{key}_note", s.version, *context),
                         help="Saved when you leave the box")
            if s.saved:
                st.caption(plain(f"Last changed by {s.updated_by} on {s.updated_at:%d %b %Y at %H:%M} UTC."))
            elif s.carried_from:
                st.caption(plain(f"Recorded in {s.carried_from} by {s.updated_by} on {s.updated_at:%d %b %Y}."))
        with right:
            st.markdown(f"**Checklist** ({s.n_ticked} of {s.n_items} ticked)")
            for item in step.checklist:
                st.checkbox(plain(item.text), value=s.ticks[item.id], key=f"{key}_tick_{item.id}", disabled=not actor,
                            on_change=save_tick,
                            args=(message_key, step.number, item.id, f"{key}_tick_{item.id}", s.version, *context))
            if step.outputs:
                st.caption(plain("Outputs: " + "; ".join(step.outputs) + "."))


def ics_overview(overview: pd.DataFrame, pathway: Pathway, ics: ICS, year: str) -> None:
    """How many PCNs of the ICS are at each step, then the step each PCN is at: HTML tables, the
    second across the page's width in five columns so that it wraps rather than scrolls."""
    counts = P.step_counts(overview, pathway)
    n_steps = len(pathway.steps)
    static_table(pd.DataFrame({"Step": [f"{int(n)}: {t}" if pd.notna(n) else t for n, t in zip(counts["step"], counts["title"])],
                               "PCNs at this step": counts["pcns"]}),
                 alt=f"How many PCNs of {ics.name} are at each step in {year}")
    at_step = [f"{int(n)}: {t} ({status})" if pd.notna(n) else t
               for n, t, status in zip(overview["at_step"], overview["at_step_title"], overview["at_step_status"])]
    done = [f"{d} of {n_steps}" + (f"; {m} not recorded" if m else "")
            for d, m in zip(overview["done"], overview["not_recorded"])]
    static_table(pd.DataFrame({
        "PCN": [f"{name} ({code})" for name, code in zip(overview["name"], overview["code"])],
        "At step (its status)": at_step,
        "Steps done": done,
        "Checklist": [f"{t} of {n} ticked" for t, n in zip(overview["ticked"], overview["items"])],
        "Last change": [f"{w}, {t:%d %b %Y}" if pd.notna(t) else "" for w, t in zip(overview["updated_by"], overview["updated_at"])],
    }), alt=f"The pathway step each PCN of {ics.name} is at in {year}")

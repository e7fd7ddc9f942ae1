"""Pieces of the development pathway page: one step's card (status, date, note and checklist,
each saved as soon as it changes) and where each PCN of the ICS is on the pathway.

Widget keys carry the stored version: after anyone's save the widgets start from what is stored,
and a save from a stale screen is a conflict, not a silent overwrite. What a save has to say is
shown once beside its step (components.messages, `where` = the step number)."""
from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from assessments import pathway as P
from assessments.model import ICS
from matrix import Pathway, Step

from . import messages as M
from .cache import cached
from .catalog import get_catalog
from .look import plain
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


def step_card(message_key: str, message: M.Message | None, step: Step, s: P.StepStatus, pcn_code: str, year: str,
              actor: str | None, pathway: Pathway) -> None:
    """One step of the pathway for the PCN and year, every field saved as it changes."""
    context = (pcn_code, year, actor, pathway)
    with st.container(border=True):
        st.subheader(plain(f"Step {step.number}: {step.title}"), anchor=False)
        st.caption(plain(step.purpose))
        M.show(message, step.number, reload_key=f"pathway_reload_{step.number}",
               reload_help="Show this step as it is saved now")
        key = f"pathway_{pcn_code}_{year}_{step.number}_{s.version}"
        left, right = st.columns([2, 3], gap="large")
        with left:
            st.radio(f"Status of step {step.number}", P.STATUSES, index=P.STATUSES.index(s.status), horizontal=True,
                     key=f"{key}_status", disabled=not actor, on_change=save_field,
                     args=(message_key, step.number, "status", f"{key}_status", s.version, *context))
            label = f"Step {step.number} done on" if s.status == P.DONE else f"Target date for step {step.number}"
            st.date_input(label, value=s.date, min_value=date(2000, 1, 1), max_value=date(2100, 12, 31),
                          format="DD/MM/YYYY", key=f"{key}_date", disabled=not actor, on_change=save_field,
                          args=(message_key, step.number, "date", f"{key}_date", s.version, *context),
                          help="When the step was done; until then, when it should be done")
            st.text_area(f"Note on step {step.number}", value=s.note or "", max_chars=P.MAX_NOTE, height=100,
                         key=f"{key}_note", disabled=not actor, on_change=save_field,
                         args=(message_key, step.number, "note", f"{key}_note", s.version, *context),
                         help="Saved when you leave the box")
            if s.saved:
                st.caption(plain(f"Last changed by {s.updated_by} on {s.updated_at:%d %b %Y at %H:%M} UTC."))
        with right:
            st.markdown(f"**Checklist** ({s.n_ticked} of {s.n_items} ticked)")
            for item in step.checklist:
                st.checkbox(plain(item.text), value=s.ticks[item.id], key=f"{key}_tick_{item.id}", disabled=not actor,
                            on_change=save_tick,
                            args=(message_key, step.number, item.id, f"{key}_tick_{item.id}", s.version, *context))
            if step.outputs:
                st.caption(plain("Outputs: " + "; ".join(step.outputs) + "."))


def ics_overview(overview: pd.DataFrame, pathway: Pathway, ics: ICS, year: str) -> None:
    """The step each PCN of the ICS is at, and how many PCNs are at each step."""
    counts = P.step_counts(overview, pathway)
    left, right = st.columns([3, 2], gap="large")
    with left:
        table = pd.DataFrame({
            "PCN": overview["name"], "Code": overview["code"],
            "At step": [f"{int(n)}: {t}" if pd.notna(n) else t for n, t in zip(overview["at_step"], overview["at_step_title"])],
            "Status of that step": overview["at_step_status"],
            "Steps done": [f"{d} of {len(pathway.steps)}" for d in overview["done"]],
            "Checklist": [f"{t} of {n} ticked" for t, n in zip(overview["ticked"], overview["items"])],
            "Last change": [f"{w}, {t:%d %b %Y}" if pd.notna(t) else "" for w, t in zip(overview["updated_by"], overview["updated_at"])],
        })
        st.dataframe(table, hide_index=True, width="stretch", alt=f"The pathway step each PCN of {ics.name} is at in {year}")
    with right:
        st.dataframe(pd.DataFrame({"Step": [f"{int(n)}: {t}" if pd.notna(n) else t for n, t in zip(counts["step"], counts["title"])],
                                   "PCNs at this step": counts["pcns"]}),
                     hide_index=True, width="stretch", alt=f"How many PCNs of {ics.name} are at each step in {year}")

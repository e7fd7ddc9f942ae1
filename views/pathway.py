"""Development pathway: the six steps for one PCN and year (status, date, checklist, note, each
saved as soon as it changes), and which step each PCN of the ICS is at."""
from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from assessments import pathway as P
from assessments.store import ConflictError, StoreError, database_url, next_year
from components.catalog import get_catalog
from components.look import plain
from components.state import data_version, get_store, pick_ics, pick_pcn, require_actor

MESSAGE = "pathway_message"  # (step number, kind, text), shown once beside the step it concerns


@st.cache_data(show_spinner=False, max_entries=64)
def load_steps(url: str, version: int, pcn_code: str, year: str, pathway_key: tuple[str, str]) -> list[P.StepStatus]:
    return P.pathway_status(get_store(), pcn_code, year, get_catalog().pathways[pathway_key])


@st.cache_data(show_spinner=False, max_entries=32)
def load_overview(url: str, version: int, ics_code: str, year: str, pathway_key: tuple[str, str]) -> pd.DataFrame:
    return P.ics_pathway_overview(get_store(), ics_code, year, get_catalog().pathways[pathway_key])


def pathway_years(pcn_code: str) -> list[str]:
    store = get_store()
    years = {a.year for a in store.assessments(pcn_code=pcn_code)} | set(P.recorded_years(store, pcn_code))
    if years:
        years.add(next_year(max(years)))
    return sorted(years) or [store.years()[-1] if store.years() else "2024/25"]


def write(step: int, expected: int, pcn_code: str, year: str, by: str, pathway, **fields) -> None:
    """Save one change from a widget callback; remember what to tell the user beside the step."""
    try:
        P.save_step(get_store(), pcn_code, year, step, by=by, expected_version=expected, pathway=pathway, **fields)
    except ConflictError as exc:
        st.session_state[MESSAGE] = (step, "conflict", str(exc))
    except StoreError as exc:
        st.session_state[MESSAGE] = (step, "error", str(exc))
    else:
        st.session_state[MESSAGE] = (step, "success", f"Step {step} saved.")


def save_field(step: int, field: str, key: str, expected: int, *where) -> None:
    write(step, expected, *where, **{field: st.session_state[key]})


def save_tick(step: int, item: str, key: str, expected: int, *where) -> None:
    write(step, expected, *where, ticks={item: bool(st.session_state[key])})


st.title("Development pathway")
st.markdown("The six steps of development support, from establishing the network to checking the goals are being "
            "met. Record where the network is on each step; every change is saved as you make it.")

c1, c2, c3 = st.columns([2, 2, 1])
with c1:
    ics = pick_ics()
with c2:
    pcn = pick_pcn(ics.code)
with c3:
    years = pathway_years(pcn.code)
    # The choice goes in as the index, not by setting session state: a browser that redraws the
    # box mid-run shows the index it was given, so it must be the real choice.
    current, wanted = st.session_state.get("pathway_year"), st.query_params.get("year")
    if current not in years:
        with_assessment = [a.year for a in get_store().assessments(pcn_code=pcn.code)]
        current = wanted if wanted in years else max(with_assessment) if with_assessment else years[-1]
    year = st.selectbox("Year", years, index=years.index(current), key="pathway_year")

pathway = get_catalog().default_pathway()
if pathway is None:
    st.error("No development pathway is available: the matrix folders hold no development-pathway file.")
    st.stop()
actor = require_actor()
version = data_version()
steps = load_steps(database_url(), version, pcn.code, year, pathway.key)
at = P.current_step(steps)
done = sum(s.status == P.DONE for s in steps)
where = (f"Now at step {at.number}, {at.title} ({at.status})." if at else "Every step is done.")
st.progress(done / len(steps), text=plain(f"{done} of {len(steps)} steps done. {where}"))

message = st.session_state.pop(MESSAGE, None)
context = (pcn.code, year, actor, pathway)
for step, s in zip(pathway.steps, steps):
    with st.container(border=True):
        st.subheader(plain(f"Step {step.number}: {step.title}"), anchor=False)
        st.caption(plain(step.purpose))
        if message and message[0] == step.number:
            kind, text = message[1], message[2]
            if kind == "success":
                st.toast(text)
            else:
                st.error(plain(text))
                if kind == "conflict":
                    st.button("Load the latest", key=f"pathway_reload_{step.number}",
                              help="Show this step as it is saved now")
        # Keys carry the stored version: after anyone's save the widgets start from what is stored,
        # and a save from a stale screen is a conflict, not a silent overwrite.
        key = f"pathway_{pcn.code}_{year}_{step.number}_{s.version}"
        left, right = st.columns([2, 3], gap="large")
        with left:
            st.radio(f"Status of step {step.number}", P.STATUSES, index=P.STATUSES.index(s.status), horizontal=True,
                     key=f"{key}_status", disabled=not actor, on_change=save_field,
                     args=(step.number, "status", f"{key}_status", s.version, *context))
            label = f"Step {step.number} done on" if s.status == P.DONE else f"Target date for step {step.number}"
            st.date_input(label, value=s.date, min_value=date(2000, 1, 1), max_value=date(2100, 12, 31),
                          format="DD/MM/YYYY", key=f"{key}_date", disabled=not actor, on_change=save_field,
                          args=(step.number, "date", f"{key}_date", s.version, *context),
                          help="When the step was done; until then, when it should be done")
            st.text_area(f"Note on step {step.number}", value=s.note or "", max_chars=P.MAX_NOTE, height=100,
                         key=f"{key}_note", disabled=not actor, on_change=save_field,
                         args=(step.number, "note", f"{key}_note", s.version, *context),
                         help="Saved when you leave the box")
            if s.saved:
                st.caption(plain(f"Last changed by {s.updated_by} on {s.updated_at:%d %b %Y at %H:%M} UTC."))
        with right:
            st.markdown(f"**Checklist** ({s.n_ticked} of {s.n_items} ticked)")
            for item in step.checklist:
                st.checkbox(plain(item.text), value=s.ticks[item.id], key=f"{key}_tick_{item.id}", disabled=not actor,
                            on_change=save_tick, args=(step.number, item.id, f"{key}_tick_{item.id}", s.version, *context))
            if step.outputs:
                st.caption(plain("Outputs: " + "; ".join(step.outputs) + "."))

# ---------------------------------------------------------------------------------------------
st.subheader(f"Where each PCN of {plain(ics.name)} is", anchor=False)
overview = load_overview(database_url(), version, ics.code, year, pathway.key)
st.caption(plain(f"{year}: the step each network is at is its first step not yet done."))
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

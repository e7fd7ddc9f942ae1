"""The facilitator's side of a workshop (views/workshop.py): continue one or open a new one; the
projector view with the join code, QR code and controls; the live results; recording the stage
the group agrees per element; and writing the agreed stages to the year's assessment.

Every action runs from a callback through components.messages under the page's message key and
is told once next to what caused it (`where`: "top", "agree" or "write")."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from assessments import organisations as orgs
from assessments import ratings as assessing
from assessments import workshop as ws
from assessments.store import Store
from assessments.values import LockedError, StoreError

from . import messages as M
from .catalog import get_catalog
from .header import page_header
from .look import plain
from .state import database_url
from .workshop import app_base_url, big_code, group_radar, join_url, qr_png, spread_by_domain, status_text, summary

PAGE_PATH = "workshop"
CURRENT = "workshop_id"
BASE_URL = "workshop_base_url"


def choose(workshop_id: int | None) -> None:
    """Show this workshop (None: the list to choose from); the address names it, so a reload keeps it."""
    st.session_state[CURRENT] = workshop_id
    if workshop_id is None:
        st.query_params.pop("w", None)
    else:
        st.query_params["w"] = str(workshop_id)


def chosen_workshop(store: Store) -> ws.Workshop | None:
    """The workshop named by the address (?w=) or chosen in this session, if it exists."""
    if (st.query_params.get("w") or "").isdigit():  # a link or a reload names the workshop
        st.session_state[CURRENT] = int(st.query_params["w"])
    workshop_id = st.session_state.get(CURRENT)
    if workshop_id is not None:
        try:
            return ws.get_workshop(store, workshop_id)
        except StoreError:
            choose(None)
    return None


def workshop_label(w: ws.Workshop, names: dict[str, str]) -> str:
    return f"{w.code} · {names.get(w.pcn_code, w.pcn_code)} · {w.year} · {w.status} · opened {w.created_at:%d %b %Y}"


# ---------------------------------------------------------------------------------------------
# No workshop chosen

def continue_one(store: Store) -> None:
    """The most recent workshops, to carry on with one."""
    recent = ws.workshops(store)[:40]
    if not recent:
        return
    st.subheader("Continue a workshop", anchor=False)
    names = {p.code: p.name for p in orgs.pcns(store)}
    pick = st.selectbox("Workshop", [x.id for x in recent], index=None, placeholder="Choose a workshop",
                        format_func=lambda i: workshop_label(next(x for x in recent if x.id == i), names))
    st.button("Continue", disabled=pick is None, on_click=choose, args=(pick,))


def open_new(message_key: str, store: Store, actor: str | None) -> None:
    """Pick the PCN, year and matrix, and open a workshop for them."""
    st.subheader("Open a new workshop", anchor=False)
    ics, pcn, year, matrix_column = page_header(year_key="workshop_year", year_label="Assessment year", extra=True)
    catalog = get_catalog()
    matrices = sorted(catalog.matrices.values(), key=lambda m: (m.title, m.version))
    existing = assessing.find_assessment(store, pcn.code, year)
    default = (catalog.matrices.get((existing.matrix_id, existing.matrix_version)) if existing else None) \
        or catalog.latest_matrix()
    with matrix_column:
        matrix = st.selectbox("Matrix", matrices, index=matrices.index(default) if default in matrices else 0,
                              format_func=lambda m: m.label)
    if existing is not None:
        st.caption(f"{plain(pcn.name)} already has a {existing.status} {year} assessment; the agreed ratings from "
                   "the workshop will be written into it.")

    def open_it() -> None:
        try:
            new = ws.open_workshop(store, pcn.code, year, matrix, by=actor)
        except StoreError as exc:
            M.say(message_key, "error", str(exc))
        else:
            choose(new.id)

    st.button("Open the workshop", type="primary", disabled=actor is None, on_click=open_it)


# ---------------------------------------------------------------------------------------------
# The projector view

def heading(store: Store, w: ws.Workshop) -> None:
    pcn = orgs.pcn(store, w.pcn_code)
    st.title(f"Workshop: {plain(pcn.name)}, {w.year}")
    try:
        matrix_name = store.matrix(w.matrix_id, w.matrix_version).title
    except StoreError:  # the matrix file has gone since the workshop opened: its id still says which it was
        matrix_name = w.matrix_id
    st.caption(f"{plain(status_text(w.status, w.revealed))} · {plain(matrix_name)} ({plain(w.matrix_version)}) · "
               f"opened by {plain(w.created_by)} on {w.created_at:%d %b %Y at %H:%M} UTC")
    st.button("Choose another workshop", on_click=choose, args=(None,))


def join_and_controls(message_key: str, store: Store, w: ws.Workshop, actor: str | None) -> None:
    """The join code, link and QR code for the room, and the facilitator's controls."""
    if not st.session_state.get(BASE_URL):
        st.session_state[BASE_URL] = app_base_url(PAGE_PATH)
    link = join_url(st.session_state[BASE_URL], w.code)

    code_col, qr_col, control_col = st.columns([3, 2, 2], gap="large")
    with code_col:
        big_code(w.code)
        st.markdown(f"Join at **{plain(link)}**")
        st.text_input("Address participants use (change it to the laptop's address on the room's network)",
                      key=BASE_URL, help="The app's address as phones in the room reach it, e.g. http://192.168.1.20:8501")
    with qr_col:
        st.image(qr_png(link), caption=link, width=240, alt=f"QR code that opens {link}")
    with control_col:
        st.markdown("**Controls**")
        disabled = actor is None
        by = {"by": actor}
        if w.status == ws.OPEN:
            st.button("Pause rating", on_click=M.act, args=(message_key, "Rating is paused.", ws.pause, store, w.id),
                      kwargs=by, disabled=disabled, width="stretch")
        else:
            st.button("Reopen rating" if w.status == ws.CLOSED else "Resume rating", width="stretch", disabled=disabled,
                      on_click=M.act, args=(message_key, "Rating is open again.", ws.resume, store, w.id), kwargs=by)
        if w.revealed:
            st.button("Hide results from participants", on_click=M.act,
                      args=(message_key, "Results are hidden.", ws.hide, store, w.id), kwargs=by, disabled=disabled,
                      width="stretch")
        else:
            st.button("Reveal results to participants", on_click=M.act,
                      args=(message_key, "Participants can now see the results.", ws.reveal, store, w.id), kwargs=by,
                      disabled=disabled, width="stretch")
        if w.status != ws.CLOSED:
            sure = st.checkbox("Yes, close the workshop", key=f"close_sure_{w.id}",
                               help="Closing stops all ratings; agreed stages can still be recorded and written.")
            st.button("Close the workshop", on_click=M.act,
                      args=(message_key, "The workshop is closed.", ws.close, store, w.id), kwargs=by,
                      disabled=disabled or not sure, width="stretch")


# Live results: looked at every two seconds; the charts are built again only when something changed
@st.fragment(run_every="2s")
def live_results(workshop_id: int) -> None:
    s = summary(workshop_id)
    st.header("Live results", anchor=False)
    n_el = len(s.elements)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Joined", len(s.participants))
    c2.metric("Ratings", s.n_ratings)
    c3.metric("Elements with views split", s.n_split)
    c4.metric("Agreed", f"{s.n_agreed} of {n_el}")
    st.caption(f"{plain(status_text(s.workshop.status, s.workshop.revealed))} · "
               f"updated {pd.Timestamp.now(tz='UTC'):%H:%M:%S} UTC")
    if s.n_ratings == 0:
        st.info("Waiting for ratings. People join with the code above; each rating shows here within a few seconds.")
    else:
        st.markdown("Each dot is one person's rating; the grey bar is the range, the dark tick the median. "
                    "Domains where views differ most come first.")
        spread_by_domain(s, database_url(), "live")
    left, right = st.columns([3, 2], gap="large")
    with left:
        if s.n_ratings:
            st.subheader("Each participant's view", anchor=False)
            group_radar(s, database_url(), "live")
    with right:
        st.subheader("Who has joined", anchor=False)
        counts = {p.id: 0 for p in s.participants}
        for e in s.elements:
            for r in e.ratings:
                counts[r.participant_id] += 1
        st.dataframe(pd.DataFrame({"Name": [p.name for p in s.participants], "Role": [p.role for p in s.participants],
                                   "Rated": [f"{counts[p.id]} of {n_el}" for p in s.participants]}),
                     hide_index=True, width="stretch")


# ---------------------------------------------------------------------------------------------
# Agree and record

def next_to_agree(s: ws.WorkshopSummary, after: str | None = None) -> str:
    """The next element without an agreed stage, split views first, in the order shown."""
    ids = [e.element_id for e in s.elements]
    todo = [e for e in s.elements if not e.agreed and e.element_id != after]
    if after in ids:
        later = ids.index(after)
        todo = sorted(todo, key=lambda e: ids.index(e.element_id) < later)  # wrap round after the current one
    return next((e.element_id for e in todo if e.split), next((e.element_id for e in todo if e.n), after or ids[0]))


def _element_label(s: ws.WorkshopSummary, stage_label: dict[str, str], eid: str) -> str:
    e = s.element(eid)
    tags = []
    if e.split:
        tags.append("views split")
    if e.agreed:
        tags.append(f"agreed: {stage_label[e.agreed.stage]}")
    elif e.n == 0:
        tags.append("not rated")
    return e.element_title + (f" ({', '.join(tags)})" if tags else "")


@st.fragment(run_every="2s")
def element_ratings(workshop_id: int, element_id: str) -> None:
    """Everyone's rating of one element, kept up to date while the room talks."""
    s = summary(workshop_id)
    matrix, e = s.matrix, s.element(element_id)
    stage_label = {stage.id: stage.label for stage in matrix.stages}
    if not e.ratings:
        st.caption("Nobody has rated this element yet.")
        return
    median = stage_label[matrix.stage_ids[e.median]]
    st.caption(plain(f"{e.n} rating(s) · median {median} · range {stage_label[matrix.stage_ids[e.low]]} to "
                     f"{stage_label[matrix.stage_ids[e.high]]}" + (" · views split" if e.split else "")))
    st.dataframe(pd.DataFrame({"Name": [r.participant for r in e.ratings], "Role": [r.role for r in e.ratings],
                               "Stage": [stage_label[r.stage] for r in e.ratings],
                               "Comment": [r.comment or "" for r in e.ratings]}), hide_index=True, width="stretch")


def agree_and_record(message_key: str, message: M.Message | None, store: Store, w: ws.Workshop,
                     actor: str | None) -> ws.WorkshopSummary:
    """Go through the elements, most divided first, and record the stage the group agrees; then the
    agreed stages so far. Returns the summary the section was drawn from."""
    s = summary(w.id)
    matrix = s.matrix
    stage_label = {stage.id: stage.label for stage in matrix.stages}
    st.header("Agree and record", anchor=False)
    st.markdown("Go through the elements with the room, most divided first. Record the stage the group agrees on "
                "(the median is suggested) and a note of the discussion.")

    ids = [e.element_id for e in s.elements]
    element_key, next_key = f"agree_element_{w.id}", f"agree_next_{w.id}"
    if next_key in st.session_state:  # just recorded one: move on to the next to agree
        st.session_state[element_key] = next_to_agree(s, after=st.session_state.pop(next_key))
    elif st.session_state.get(element_key) not in ids:
        st.session_state[element_key] = next_to_agree(s)
    eid = st.selectbox("Element", ids, format_func=lambda i: _element_label(s, stage_label, i), key=element_key)
    element = matrix.element(eid)
    with st.container(border=True):
        st.markdown(f"**{plain(element.title)}**")
        for stage in matrix.stages:
            st.markdown(f"- **{plain(stage.label)}**: {plain(element.descriptors[stage.id])}")
    element_ratings(w.id, eid)

    current = s.element(eid)
    suggested = current.agreed.stage if current.agreed else current.median_stage(matrix)
    with st.form(f"agree_{w.id}_{eid}", border=True):
        stage = st.radio("Agreed stage", matrix.stage_ids, format_func=lambda x: plain(stage_label[x]), horizontal=True,
                         index=matrix.stage_ids.index(suggested) if suggested else None)
        note = st.text_area("Discussion note (optional)", value=current.agreed.note if current.agreed else "",
                            max_chars=ws.MAX_NOTE,
                            placeholder="What the group said, and what would move it to the next stage")
        recorded = st.form_submit_button("Record the agreed stage", type="primary", disabled=actor is None)
    if recorded:
        if stage is None:
            st.error("Choose the stage the group agreed on.")
        else:
            try:
                ws.record_consensus(store, w.id, eid, stage, note, by=actor)
            except StoreError as exc:
                st.error(plain(str(exc)))
            else:
                M.say(message_key, "done", f"Recorded: {element.title} at {stage_label[stage]}.", "agree")
                st.session_state[next_key] = eid
                st.rerun()
    if current.agreed:
        st.button("Remove the agreed stage", disabled=actor is None, on_click=M.act,
                  args=(message_key, f"Removed the agreed stage of {element.title}.", ws.record_consensus, store,
                        w.id, eid, None),
                  kwargs={"by": actor, "where": "agree"})
    M.show(message, "agree", done="box")

    st.subheader("Agreed so far", anchor=False)
    agreed = [e for e in s.elements if e.agreed]
    if not agreed:
        st.caption("No agreed stages yet.")
    else:
        st.dataframe(pd.DataFrame({
            "Element": [e.element_title for e in agreed],
            "Group median": [stage_label[matrix.stage_ids[e.median]] if e.median is not None else "" for e in agreed],
            "Agreed stage": [stage_label[e.agreed.stage] for e in agreed],
            "Note": [e.agreed.note or "" for e in agreed],
            "Recorded by": [e.agreed.updated_by for e in agreed]}), hide_index=True, width="stretch")
    return s


# ---------------------------------------------------------------------------------------------
# Write the agreed stages to the assessment

def write_to_assessment(message_key: str, message: M.Message | None, store: Store, w: ws.Workshop,
                        s: ws.WorkshopSummary, actor: str | None) -> None:
    """Write the agreed stages into the year's draft assessment (a new one if there is none); when the
    assessment is agreed (locked), say so and offer to open a new draft of it."""
    if w.applied_at:
        st.caption(f"Last written to the assessment by {plain(w.applied_by)} on {w.applied_at:%d %b %Y at %H:%M} UTC.")

    def write() -> None:
        try:
            r = ws.apply_consensus(store, w.id, by=actor)
        except LockedError as exc:
            M.say(message_key, "locked", str(exc), "write")
        except StoreError as exc:
            M.say(message_key, "error", str(exc), "write")
        else:
            made = "a new draft assessment" if r.created else "the draft assessment"
            M.say(message_key, "done", f"Wrote {r.written} agreed rating(s) to {made} for {w.year}"
                  + (f"; {r.unchanged} already said so" if r.unchanged else "")
                  + ". Everyone's individual ratings are kept with the workshop.", "write")

    n_agreed = sum(1 for e in s.elements if e.agreed)
    st.button(f"Write the agreed ratings to the {w.year} assessment", type="primary", on_click=write,
              disabled=actor is None or not n_agreed,
              help=f"{n_agreed} of {len(s.elements)} elements have an agreed stage; only those are written.")
    M.show(message, "write", done="box")
    if not (message and message.kind == "locked"):
        return
    locked = assessing.find_assessment(store, w.pcn_code, w.year, w.matrix_id)

    def new_draft() -> None:
        try:
            assessing.open_revision(store, locked.id, by=actor)
        except StoreError as exc:
            M.say(message_key, "error", str(exc), "write")
        else:
            M.say(message_key, "done", f"A new draft of the {w.year} assessment is open. Write the agreed ratings again.",
                  "write")

    if locked is not None and locked.status == "agreed":
        st.button("Open a new draft of the assessment", on_click=new_draft, disabled=actor is None)

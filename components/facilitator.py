"""The facilitator's side of a workshop (views/workshop.py): continue one or open a new one; the
projector view with the join code, QR code and controls; the live results; recording the stage
the group agrees per element; and writing the agreed stages to the year's assessment.

The projector's counts refresh by themselves every LIVE_EVERY, the agree part every AGREE_EVERY and
the charts every RESULTS_EVERY, from the summary cached on the workshop's version. Controls run from callbacks through
components.messages under the page's message key and are told once next to what caused it
(`where`: "top" or "write"); recording an agreed stage is told in its own section for
AGREE_MESSAGE_SECONDS, since that section redraws itself."""
from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from assessments import organisations as orgs
from assessments import ratings as assessing
from assessments import workshop as ws
from assessments.scoring import AGREEMENT_THRESHOLD
from assessments.store import Store
from assessments.values import LockedError, StoreError
from matrix import version_key

from . import messages as M
from .assessment import first_matrix
from .catalog import get_catalog
from .header import page_header
from .look import PRESENT_KEY, is_large, plain, static_table
from .state import database_url
from .workshop import app_base_url, big_code, group_radar, join_url, qr_png, spread_by_domain, status_text, summary

PAGE_PATH = "workshop"
CURRENT = "workshop_id"
BASE_URL = "workshop_base_url"
AGREE_MESSAGE = "workshop_agree_message"
AGREE_MESSAGE_SECONDS = 20
# The counts are what the room watches for its rating to land: the projector's browser asks for them
# every second (with 60 people rating, a rating reached it in a median 0.61 s, 95th percentile 1.43 s;
# at 2 s, 1.19 s and 2.45 s). A round costs the server one version query and a few metrics.
LIVE_EVERY = "1s"
AGREE_EVERY = "2s"  # the picker's labels and the suggested stage: a larger part, and no one waits on it
RESULTS_EVERY = "4s"  # the charts below the headline numbers: each redraw costs the projector's browser too
QR_SMALL, QR_LARGE = 240, 300  # px; the large one still fits its column at 1280 px with large text


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
    matrices = sorted(catalog.matrices.values(), key=lambda m: (m.title, version_key(m.version)))
    this_year = assessing.assessments(store, pcn_code=pcn.code, year=year)
    # The year's own assessment's matrix, else the ICS's default matrix (components.assessment).
    default = catalog.matrices.get(first_matrix(store, catalog, pcn, this_year))
    with matrix_column:
        matrix = st.selectbox("Matrix", matrices, index=matrices.index(default) if default in matrices else 0,
                              format_func=lambda m: m.label)
    existing = next((a for a in this_year if a.matrix_id == matrix.id), None)
    if existing is not None:
        st.caption(f"{plain(pcn.name)} already has a {existing.status} {year} assessment; the agreed ratings from "
                   "the workshop will be written into it.")

    rate_target = st.checkbox("Participants also rate the target stage", key="workshop_rate_target",
                              help="Each person says where the network should be next year as well as where it is; "
                                   "the agreed targets go into the assessment with the agreed stages.")

    def open_it() -> None:
        try:
            new = ws.open_workshop(store, pcn.code, year, matrix, by=actor, rate_target=rate_target)
        except StoreError as exc:
            M.say(message_key, "error", str(exc))
        else:
            choose(new.id)

    st.button("Open the workshop", type="primary", disabled=actor is None, on_click=open_it)


# ---------------------------------------------------------------------------------------------
# The projector view

# Only inside the workshop page: the sidebar and Streamlit's top bar go, the margins shrink and the
# headline metrics' labels wrap instead of being cut, so the join code, the controls, the numbers and
# the start of the live spread fit a 1280x720 projector.
_PRESENT_CSS = """
<style>
  [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"],
  [data-testid="stExpandSidebarButton"] { display: none !important; }
  .block-container, [data-testid="stMainBlockContainer"] { padding: .6rem 1.5rem 2rem 1.5rem !important;
    max-width: 100% !important; }
  h1 { font-size: 1.7rem !important; padding: 0 !important; }
  /* The controls are the facilitator's, not the room's: body-sized, so they keep to one line. */
  .st-key-workshop-controls button p, .st-key-workshop-controls label p { font-size: 1rem !important; }
</style>
"""
_NARROW_MARGINS_CSS = """
<style>
  .block-container, [data-testid="stMainBlockContainer"] { padding-left: 1.5rem !important;
    padding-right: 1.5rem !important; }
</style>
"""
# The headline numbers large, and no label cut short with an ellipsis: labels of metrics and
# buttons wrap onto a second line when large text leaves them too little room.
_LIVE_CSS = """
<style>
  [data-testid="stMetricLabel"], [data-testid="stMetricLabel"] *,
  [data-testid="stMain"] button, [data-testid="stMain"] button *,
  [data-testid="stMain"] [data-testid="stCheckbox"] label * { white-space: normal !important;
    overflow: visible !important; text-overflow: clip !important; }
  [data-testid="stMetricValue"], [data-testid="stMetricValue"] * { font-size: 2.2rem !important;
    line-height: 1.3 !important; overflow: visible !important; }
</style>
"""


def presenting() -> bool:
    """The projector layout: the switch's state, or the address on a reload or a shared link."""
    return bool(st.session_state.get(PRESENT_KEY)) or st.query_params.get(PRESENT_KEY) == "true"


def heading(store: Store, w: ws.Workshop) -> None:
    """The workshop's name, and the switch to the projector layout (kept in the address)."""
    present = presenting()
    if present:
        st.html(_PRESENT_CSS)
    elif is_large():  # large text beside the sidebar: the wide layout's 5rem margins would squeeze it
        st.html(_NARROW_MARGINS_CSS)
    st.html(_LIVE_CSS)
    pcn = orgs.pcn(store, w.pcn_code)
    title_col, switch_col = st.columns([5, 2], vertical_alignment="center")
    title_col.title(f"Workshop: {plain(pcn.name)}, {w.year}")
    with switch_col:
        st.toggle("Present on a projector", key=PRESENT_KEY, bind="query-params",
                  help="Hides the sidebar and shows large text, so the room can read the code and the results.")
    if present:
        return
    try:
        matrix_name = store.matrix(w.matrix_id, w.matrix_version).title
    except StoreError:  # the matrix file has gone since the workshop opened: its id still says which it was
        matrix_name = w.matrix_id
    st.caption(f"{plain(status_text(w.status, w.revealed))} · {plain(matrix_name)} ({plain(w.matrix_version)}) · "
               f"opened by {plain(w.created_by)} on {w.created_at:%d %b %Y at %H:%M} UTC"
               + (" · participants rate the target stage too" if w.rate_target else ""))
    st.button("Choose another workshop", on_click=choose, args=(None,))


def join_and_controls(message_key: str, store: Store, w: ws.Workshop, actor: str | None) -> None:
    """The join code, link and QR code for the room beside the headline numbers (live), then the
    facilitator's controls in one row: on a 1280x720 projector the spread still starts on the
    first screen."""
    if not st.session_state.get(BASE_URL):
        st.session_state[BASE_URL] = app_base_url(PAGE_PATH)
    link = join_url(st.session_state[BASE_URL], w.code)

    code_col, qr_col, count_col = st.columns([4, 3, 4], gap="medium")
    with code_col:
        big_code(w.code)
        st.markdown(f"Join at **{plain(link)}**")
    # Kept in session state under its key while folded away or left out of the projector layout.
    if not presenting():
        with code_col, st.expander("Change the address phones use"):
            st.text_input("Address participants use (the laptop's address on the room's network)",
                          key=BASE_URL, persist_state="session",
                          help="The app's address as phones in the room reach it, e.g. http://192.168.1.20:8501")
    with qr_col:
        st.image(qr_png(link), width=QR_LARGE if is_large() else QR_SMALL, alt=f"QR code that opens {link}")
    with count_col:
        live_counts(w.id)

    disabled = actor is None
    by = {"by": actor}
    pause_col, reveal_col, sure_col, close_col = st.container(key="workshop-controls").columns(
        [2, 3.6, 3, 2.4], vertical_alignment="center")
    with pause_col:
        if w.status == ws.OPEN:
            st.button("Pause rating", on_click=M.act, args=(message_key, "Rating is paused.", ws.pause, store, w.id),
                      kwargs=by, disabled=disabled, width="stretch")
        else:
            st.button("Reopen rating" if w.status == ws.CLOSED else "Resume rating", width="stretch", disabled=disabled,
                      on_click=M.act, args=(message_key, "Rating is open again.", ws.resume, store, w.id), kwargs=by)
    with reveal_col:
        if w.revealed:
            st.button("Hide results from participants", on_click=M.act,
                      args=(message_key, "Results are hidden.", ws.hide, store, w.id), kwargs=by, disabled=disabled,
                      width="stretch")
        else:
            st.button("Reveal results to participants", on_click=M.act,
                      args=(message_key, "Participants can now see the results.", ws.reveal, store, w.id), kwargs=by,
                      disabled=disabled, width="stretch")
    if w.status != ws.CLOSED:
        sure = sure_col.checkbox("Yes, close the workshop", key=f"close_sure_{w.id}",
                                 help="Closing stops all ratings; agreed stages can still be recorded and written.")
        close_col.button("Close the workshop", on_click=M.act,
                         args=(message_key, "The workshop is closed.", ws.close, store, w.id), kwargs=by,
                         disabled=disabled or not sure, width="stretch")


# Live: looked at every second (one cheap version query); the summary and the charts are read
# and built again only when the workshop's version has moved on.
@st.fragment(run_every=LIVE_EVERY)
def live_counts(workshop_id: int) -> None:
    """The headline numbers, two by two beside the QR code, and the workshop's state."""
    s = summary(workshop_id)
    n_el = len(s.elements)
    c1, c2 = st.columns(2)
    c1.metric("Joined", len(s.participants))
    c2.metric("Ratings", s.n_ratings)
    c3, c4 = st.columns(2)
    c3.metric("Views differ", f"{s.n_split} of {n_el}", help="Elements whose ratings agree less than "
              f"{AGREEMENT_THRESHOLD:.2f} on Tastle and Wierman's measure (1 = everyone on one stage)")
    c4.metric("Agreed", f"{s.n_agreed} of {n_el}")
    if presenting():  # one line, so the spread below still starts on the projector's first screen
        st.caption(plain(status_text(s.workshop.status, s.workshop.revealed).replace(" from participants", "")
                         .replace(" to participants", "")))
    else:
        st.caption(f"{plain(status_text(s.workshop.status, s.workshop.revealed))} · "
                   f"updated {pd.Timestamp.now(tz='UTC'):%H:%M:%S} UTC")


@st.fragment(run_every=RESULTS_EVERY)
def live_results(workshop_id: int) -> None:
    s = summary(workshop_id)
    n_el = len(s.elements)
    if not presenting():
        st.header("Live results", anchor=False)
    if s.n_ratings == 0:
        st.info("Waiting for ratings. People join with the code above; each rating shows here within a few seconds.")
    else:
        if not presenting():  # the projector keeps its first screen for the spread itself
            st.markdown("Each blue disc says how many chose that stage; the grey bar is the range, the dark tick the median. "
                        "Domains where views differ most come first.")
        spread_by_domain(s, database_url(), brief=presenting())
    # With large text the spiders take the page's width: in three fifths of 1280 px the median's
    # domain names ran off both sides and the small spiders' numbers ran into each other.
    left, right = (st.container(), st.container()) if is_large() else st.columns([3, 2], gap="large")
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
        static_table(pd.DataFrame({"Name": [p.name for p in s.participants], "Role": [p.role for p in s.participants],
                                   "Rated": [f"{counts[p.id]} of {n_el}" for p in s.participants]}),
                     alt="Who has joined, and how many elements each has rated")


# ---------------------------------------------------------------------------------------------
# Agree and record

def next_to_agree(s: ws.WorkshopSummary, after: str | None = None) -> str:
    """The next element without an agreed stage, views that differ first, in the order shown."""
    ids = [e.element_id for e in s.elements]
    todo = [e for e in s.elements if not e.agreed and e.element_id != after]
    if after in ids:
        later = ids.index(after)
        todo = sorted(todo, key=lambda e: ids.index(e.element_id) < later)  # wrap round after the current one
    return next((e.element_id for e in todo if e.split), next((e.element_id for e in todo if e.n), after or ids[0]))


def element_label(s: ws.WorkshopSummary, stage_label: dict[str, str], eid: str) -> str:
    e = s.element(eid)
    tags = [f"{e.n} rating{'s' if e.n != 1 else ''}" if e.n else "not rated"]
    if e.split:
        tags.append("views differ")
    if e.agreed:
        tags.append(f"agreed: {stage_label[e.agreed.stage]}")
    return f"{e.element_title} ({', '.join(tags)})"


def _follow(key: str, suggestion: str | None) -> None:
    """Preselect `suggestion` in the picker under `key`, and keep it following the suggestion as
    ratings arrive, until the facilitator chooses something else (which is then kept)."""
    seen = key + "_suggested"
    if key not in st.session_state or st.session_state[key] == st.session_state.get(seen):
        st.session_state[key] = suggestion
    st.session_state[seen] = suggestion


def _say_agree(text: str, kind: str = "done") -> None:
    st.session_state[AGREE_MESSAGE] = (M.Message(kind, text, "agree"), time.monotonic())


def _agree_message() -> M.Message | None:
    """The last outcome of recording, shown for a while: the section redraws every few seconds,
    so a message shown only once would flash past."""
    kept = st.session_state.get(AGREE_MESSAGE)
    if kept is None or time.monotonic() - kept[1] > AGREE_MESSAGE_SECONDS:
        st.session_state.pop(AGREE_MESSAGE, None)
        return None
    return kept[0]


def _stage_picker(label: str, key: str, matrix, stage_label: dict[str, str], suggestion: str | None,
                  why: str) -> str | None:
    _follow(key, suggestion)

    def shown(x: str) -> str:
        return plain(stage_label[x]) + (f" (suggested: {why})" if x == suggestion else "")

    return st.radio(label, matrix.stage_ids, format_func=shown, horizontal=True, key=key)


# Live too: the picker's labels, the ratings and the suggested stage follow the incoming ratings.
# Every input here has its own key, so a refresh keeps what the facilitator has chosen or typed.
@st.fragment(run_every=AGREE_EVERY)
def agree_and_record(store: Store, workshop_id: int, actor: str | None) -> None:
    """Go through the elements, least agreement first, and record the stage the group agrees (and
    its target, when the workshop rates targets); then the agreed stages so far."""
    s = summary(workshop_id)
    w, matrix = s.workshop, s.matrix
    stage_label = {stage.id: stage.label for stage in matrix.stages}
    st.header("Agree and record", anchor=False)
    st.markdown("Go through the elements with the room, where views differ most first. Record the stage the group "
                "agrees on (the group's median is suggested) and a note of the discussion.")

    ids = [e.element_id for e in s.elements]
    element_key, next_key = f"agree_element_{w.id}", f"agree_next_{w.id}"
    if next_key in st.session_state:  # just recorded one: move on to the next to agree
        st.session_state[element_key] = next_to_agree(s, after=st.session_state.pop(next_key))
    elif st.session_state.get(element_key) not in ids:
        st.session_state[element_key] = next_to_agree(s)
    eid = st.selectbox("Element", ids, format_func=lambda i: element_label(s, stage_label, i), key=element_key)
    element, current = matrix.element(eid), s.element(eid)
    with st.container(border=True):
        st.markdown(f"**{plain(element.title)}**")
        for stage in matrix.stages:
            st.markdown(f"- **{plain(stage.label)}**: {plain(element.descriptors[stage.id])}")
    # One slot whatever it holds: the inputs below keep their places in the page, so the browser
    # keeps what is typed in them when the first ratings arrive.
    with st.container():
        element_ratings(s, current, stage_label)

    median = current.median_stage(matrix)
    target_median = current.target_median_stage(matrix)
    agreed = current.agreed
    with st.container(border=True):
        stage = _stage_picker("Agreed stage", f"agree_stage_{w.id}_{eid}", matrix, stage_label,
                              agreed.stage if agreed else median, "agreed" if agreed else "the group's median")
        target = None
        if w.rate_target:
            target = _stage_picker("Agreed target stage", f"agree_target_{w.id}_{eid}", matrix, stage_label,
                                   agreed.target_stage if agreed else target_median,
                                   "agreed" if agreed else "the group's median target")
        note_key = f"agree_note_{w.id}_{eid}"
        if note_key not in st.session_state:
            st.session_state[note_key] = (agreed.note or "") if agreed else ""
        note = st.text_area("Discussion note (optional)", key=note_key, max_chars=ws.MAX_NOTE,
                            placeholder="What the group said, and what would move it to the next stage")
        record_col, remove_col = st.columns(2)
        recorded = record_col.button("Record the agreed stage", type="primary", disabled=actor is None,
                                     key=f"agree_record_{w.id}")
        removed = bool(agreed) and remove_col.button("Remove the agreed stage", disabled=actor is None,
                                                     key=f"agree_remove_{w.id}")
    if recorded:
        if stage is None:
            _say_agree("Choose the stage the group agreed on.", "error")
        else:
            try:
                ws.record_consensus(store, w.id, eid, stage, note, target=target, by=actor)
            except StoreError as exc:
                _say_agree(str(exc), "error")
            else:
                _say_agree(f"Recorded: {element.title} at {stage_label[stage]}"
                           + (f", target {stage_label[target]}" if target else "") + ".")
                st.session_state[next_key] = eid
                st.rerun()  # the whole page: the write button below counts the agreed stages
    if removed:
        try:
            ws.record_consensus(store, w.id, eid, None, by=actor)
        except StoreError as exc:
            _say_agree(str(exc), "error")
        else:
            _say_agree(f"Removed the agreed stage of {element.title}.")
            for key in (f"agree_stage_{w.id}_{eid}", f"agree_target_{w.id}_{eid}"):
                st.session_state.pop(key, None)  # back to following the median
            st.rerun()
    M.show(_agree_message(), "agree", done="box")

    st.subheader("Agreed so far", anchor=False)
    done = [e for e in s.elements if e.agreed]
    if not done:
        st.caption("No agreed stages yet.")
        return
    columns = {
        "Element": [e.element_title for e in done],
        "Group median": [stage_label[matrix.stage_ids[e.median]] if e.median is not None else "" for e in done],
        "Agreed stage": [stage_label[e.agreed.stage] for e in done]}
    if w.rate_target:
        columns["Agreed target"] = [stage_label.get(e.agreed.target_stage, "") for e in done]
    columns |= {"Note": [e.agreed.note or "" for e in done], "Recorded by": [e.agreed.updated_by for e in done]}
    st.dataframe(pd.DataFrame(columns), hide_index=True, width="stretch")


def element_ratings(s: ws.WorkshopSummary, e: ws.ElementSummary, stage_label: dict[str, str]) -> None:
    """Everyone's rating of one element, with the median, the range and the agreement in words."""
    matrix = s.matrix
    if not e.ratings:
        st.caption("Nobody has rated this element yet.")
        return
    line = (f"{e.n} rating(s) · median {stage_label[matrix.stage_ids[e.median]]} · range "
            f"{stage_label[matrix.stage_ids[e.low]]} to {stage_label[matrix.stage_ids[e.high]]} · agreement "
            f"{e.agreement_words}")
    if s.workshop.rate_target and e.target_median is not None:
        line += f" · median target {stage_label[matrix.stage_ids[e.target_median]]}"
    st.caption(plain(line))
    columns = {"Name": [r.participant for r in e.ratings], "Role": [r.role for r in e.ratings],
               "Stage": [stage_label[r.stage] for r in e.ratings]}
    if s.workshop.rate_target:
        columns["Target"] = [stage_label.get(r.target_stage, "") for r in e.ratings]
    columns["Comment"] = [r.comment or "" for r in e.ratings]
    st.dataframe(pd.DataFrame(columns), hide_index=True, width="stretch")


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

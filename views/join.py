"""Join a workshop: no account, just the code, a name the group will see and a role. Then rate
each element on one screen (phone-sized), with the stage descriptors to hand. Ratings save as
they are chosen; the group's results appear once the facilitator reveals them."""
from __future__ import annotations

import streamlit as st

from assessments import workshop as ws
from assessments.store import InputError, StoreError, database_url
from components.look import plain
from components.state import get_store
from components.workshop import group_radar, spread_by_domain

TOKEN = "workshop_token"
SEEN = "workshop_seen"  # (status, revealed) this page was drawn with
NOTES = "workshop_notes"  # element id -> (kind, text) shown under that element once


@st.cache_data(show_spinner=False, max_entries=16)
def load_summary(url: str, workshop_id: int, version: int) -> ws.WorkshopSummary:
    return ws.summary(get_store(), workshop_id)


def remember(token: str, code: str) -> None:
    """Keep the token in the session and in the address, so a reload or a dropped connection
    brings the participant back to their own ratings."""
    st.session_state[TOKEN] = token
    st.query_params["code"] = code
    st.query_params["p"] = token


def forget() -> None:
    st.session_state.pop(TOKEN, None)
    st.query_params.pop("p", None)


store = get_store()
st.title("Join a workshop")

# Who is this? A token from this session or from the address, if it belongs to the code asked for.
wanted_code = (st.query_params.get("code") or "").strip() or None
token = st.query_params.get("p") or st.session_state.get(TOKEN)
workshop = me = None
if token:
    try:
        workshop, me = ws.rejoin(store, token, wanted_code)
    except (InputError, StoreError):
        if st.query_params.get("p") == token:
            st.warning("This link does not match anyone in that workshop. Join again below.")
        forget()

if me is None:
    st.markdown("Rate where your network is on each element of the maturity matrix. Only a name for the group "
                "to see is needed; no account.")
    with st.form("join"):
        code = st.text_input("Workshop code", value=wanted_code or "", max_chars=10,
                             placeholder="The 6 letters and digits on the screen")
        name = st.text_input("Your name, as the group will see it", max_chars=ws.MAX_NAME,
                             placeholder="e.g. Sam Patel")
        role = st.selectbox("Your role", ws.ROLES, index=None, placeholder="Choose or type your role",
                            accept_new_options=True)
        joined = st.form_submit_button("Join", type="primary")
    if joined:
        try:
            workshop, me = ws.join(store, code, name, role or "")
        except InputError as exc:
            msg = str(exc).replace("Your role is required", "Choose your role (or type it)")
            st.error(plain(msg))
        except StoreError as exc:
            st.error(plain(str(exc)))
        else:
            remember(me.token, workshop.code)
            st.rerun()
    st.stop()

remember(token, workshop.code)
pcn = store.pcn(workshop.pcn_code)
matrix = store.matrix(workshop.matrix_id, workshop.matrix_version)
st.session_state[SEEN] = (workshop.status, workshop.revealed)
st.subheader(f"{plain(pcn.name)}, {workshop.year}", anchor=False)
st.caption(f"You joined workshop {workshop.code} as {plain(me.name)} ({plain(me.role)}). Reloading this page, or "
           "opening its address again on this device, brings you back here.")


# ---------------------------------------------------------------------------------------------
# What the facilitator is doing: one small query every few seconds. The results are drawn with
# the page, not polled, so thirty phones do not each redraw every chart every few seconds.
@st.fragment(run_every="3s")
def facilitator_news(workshop_id: int, drawn_version: int | None) -> None:
    try:
        w = ws.get_workshop(store, workshop_id)
    except StoreError:
        return
    if (w.status, w.revealed) != st.session_state.get(SEEN):
        st.rerun()  # paused, resumed, closed, revealed or hidden: redraw the whole page to match
    if w.status == ws.PAUSED:
        st.warning("The facilitator has paused rating while the group talks. Your ratings so far are saved.")
    elif w.status == ws.CLOSED:
        st.info("This workshop has closed. Thank you: your ratings are saved.")
    if w.revealed and drawn_version is not None and w.version != drawn_version:
        if st.button("Show the latest results", help="New ratings have come in since these results were drawn"):
            st.rerun()


results_version = None
if workshop.revealed:
    s = load_summary(database_url(), workshop.id, ws.workshop_version(store, workshop.id))
    results_version = s.workshop.version
facilitator_news(workshop.id, results_version)
if workshop.revealed:
    with st.expander("The group's results", expanded=True):
        st.caption(f"{len(s.participants)} people, {s.n_ratings} ratings. Each dot is one person's rating; the "
                   "dark tick is the median.")
        spread_by_domain(s, database_url(), "group")
        if not s.profiles.empty:
            st.subheader("Each person's view and the group median", anchor=False)
            group_radar(s, database_url(), "group")

# ---------------------------------------------------------------------------------------------
# My ratings
mine = ws.my_ratings(store, token)
n_elements = len(matrix.element_ids())
st.progress(len(mine) / n_elements, text=f"You have rated {len(mine)} of {n_elements} elements")
if not workshop.revealed:
    st.caption("You see only your own ratings until the facilitator shows the group's results.")


def stage_key(eid: str) -> str:
    return f"ws_{workshop.id}_stage_{eid}"


def comment_key(eid: str) -> str:
    return f"ws_{workshop.id}_comment_{eid}"


def save(eid: str) -> None:
    stage = st.session_state.get(stage_key(eid))
    comment = st.session_state.get(comment_key(eid)) or None
    notes = st.session_state.setdefault(NOTES, {})
    if stage is None:
        notes[eid] = ("info", "Choose a stage first; your comment is saved with it.")
        return
    try:
        ws.rate(store, token, eid, stage, comment)
    except StoreError as exc:
        notes[eid] = ("error", str(exc))
        # Put the widgets back to what is saved, so the screen never shows an unsaved rating.
        saved = ws.my_ratings(store, token).get(eid)
        st.session_state[stage_key(eid)] = saved.stage if saved else None
        st.session_state[comment_key(eid)] = (saved.comment or "") if saved else ""
    else:
        notes[eid] = ("saved", "Saved.")


for eid, r in mine.items():  # a fresh session starts from what is saved
    st.session_state.setdefault(stage_key(eid), r.stage)
    st.session_state.setdefault(comment_key(eid), r.comment or "")

closed = workshop.status != ws.OPEN
notes = st.session_state.pop(NOTES, {})
labels = {s.id: s.label for s in matrix.stages}
# Every domain on one page: on a phone, scrolling down is easier than finding the way between pages.
for domain in matrix.domains:
    st.subheader(plain(domain.title), anchor=False)
    done = sum(e.id in mine for e in domain.elements)
    st.caption(f"{plain(domain.summary)} ({done} of {len(domain.elements)} rated)")
    for element in domain.elements:
        with st.container(border=True):
            st.radio(f"**{plain(element.title)}**", matrix.stage_ids, index=None, key=stage_key(element.id),
                     format_func=lambda x: plain(labels[x]),
                     captions=[plain(element.descriptors[s]) for s in matrix.stage_ids],
                     on_change=save, args=(element.id,), disabled=closed)
            st.text_input("Comment (optional)", key=comment_key(element.id), max_chars=ws.MAX_COMMENT,
                          on_change=save, args=(element.id,), disabled=closed,
                          placeholder="Why this stage? An example helps the discussion")
            kind, text = notes.get(element.id, (None, None))
            saved = mine.get(element.id)
            if kind == "error":
                st.error(plain(text))
            elif kind == "info":
                st.info(plain(text))
            elif saved:
                st.caption(f"Saved: {plain(labels[saved.stage])}" + (" with your comment." if saved.comment else "."))
            else:
                st.caption("Not rated yet.")

st.caption("That is every element. You can change any rating until the facilitator pauses or closes the workshop.")

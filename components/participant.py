"""The participant's side of a workshop (views/join.py): who is here (a token kept in the session,
never left in the address: over plain HTTP on a workshop's Wi-Fi an address is easily seen), the
join form, what the facilitator is doing, the group's results once revealed, and
the participant's own ratings, each saved as it is chosen.

What a save has to say is shown once under its element (components.messages, one key per element,
so several changes sent in one go each keep their note)."""
from __future__ import annotations

import streamlit as st

from assessments import workshop as ws
from assessments.store import Store
from assessments.values import InputError, StoreError
from matrix import Matrix

from . import messages as M
from .look import plain
from .cache import cached
from .state import client_address, database_url, get_store
from .workshop import group_radar, spread_by_domain

TOKEN = "workshop_token"
SEEN = "workshop_seen"  # (status, revealed) this page was drawn with
NOTE = "workshop_note"  # + workshop and element: the message shown under that element once


def remember(token: str, code: str) -> None:
    """Keep the token in the session (a dropped connection comes back to it) and take it out of the
    address if a saved rejoin link brought it there."""
    st.session_state[TOKEN] = token
    st.query_params["code"] = code
    st.query_params.pop("p", None)


def forget() -> None:
    st.session_state.pop(TOKEN, None)
    st.query_params.pop("p", None)


def own_address() -> str:
    """The app's address as this device reached it (the participant's phone knows its own way in)."""
    from urllib.parse import urlsplit

    parts = urlsplit(st.context.url or "")
    return f"{parts.scheme or 'http'}://{parts.netloc}" if parts.netloc else ""


def rejoin_link(base: str, code: str, token: str) -> str:
    from urllib.parse import urlencode

    return f"{base.rstrip('/')}/join?{urlencode({'code': code, 'p': token})}"


def _version_of(token: str) -> int:
    w, _me = ws.rejoin(get_store(), token)
    return w.version


@cached(max_entries=32, version=_version_of)
def results(token: str) -> ws.WorkshopSummary:
    """The group's results this participant may see (once revealed), read again when the workshop changes."""
    return ws.results(get_store(), token)


def who_is_here(store: Store) -> tuple[ws.Workshop | None, ws.Participant | None, str | None]:
    """The workshop and participant of the token in this session or in the address, if it belongs to
    the code asked for; (None, None, None) when the participant has still to join."""
    wanted_code = (st.query_params.get("code") or "").strip() or None
    token = st.query_params.get("p") or st.session_state.get(TOKEN)
    if token:
        try:
            workshop, me = ws.rejoin(store, token, wanted_code)
        except (InputError, StoreError):
            if st.query_params.get("p") == token:
                st.warning("This link does not match anyone in that workshop. Join again below.")
            forget()
        else:
            return workshop, me, token
    return None, None, None


def join_form(store: Store) -> None:
    """The code (from the link, if it gave one), a name for the group and a role."""
    wanted_code = (st.query_params.get("code") or "").strip() or None
    st.markdown("Rate where your network is on each element of the maturity matrix. Only a name for the group "
                "to see is needed; no account.")
    with st.form("join"):
        code = st.text_input("Workshop code", value=wanted_code or "", max_chars=10,
                             placeholder="The 8 letters and digits on the screen")
        name = st.text_input("Your name, as the group will see it", max_chars=ws.MAX_NAME,
                             placeholder="e.g. Sam Patel")
        role = st.selectbox("Your role", ws.ROLES, index=None, placeholder="Choose or type your role",
                            accept_new_options=True)
        joined = st.form_submit_button("Join", type="primary")
    if joined:
        try:
            workshop, me = ws.join(store, code, name, role or "", client=client_address() or "loopback")
        except InputError as exc:
            msg = str(exc).replace("Your role is required", "Choose your role (or type it)")
            st.error(plain(msg))
        except StoreError as exc:
            st.error(plain(str(exc)))
        else:
            remember(me.token, workshop.code)
            st.rerun()


# What the facilitator is doing: one small query every few seconds. The results are drawn with
# the page, not polled, so thirty phones do not each redraw every chart every few seconds.
@st.fragment(run_every="3s")
def facilitator_news(token: str, drawn_version: int | None) -> None:
    try:
        w, _me = ws.rejoin(get_store(), token)
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


def news_and_results(workshop: ws.Workshop, token: str) -> None:
    """The facilitator's news, and the group's results when they are revealed."""
    st.session_state[SEEN] = (workshop.status, workshop.revealed)
    s = results(token) if workshop.revealed else None
    facilitator_news(token, s.workshop.version if s else None)
    if s is None:
        return
    with st.expander("The group's results", expanded=True):
        st.caption(f"{len(s.participants)} people, {s.n_ratings} ratings. Each dot is one person's rating; the "
                   "dark tick is the median.")
        spread_by_domain(s, database_url(), "group")
        if not s.profiles.empty:
            st.subheader("Each person's view and the group median", anchor=False)
            group_radar(s, database_url(), "group")


def stage_key(workshop_id: int, eid: str) -> str:
    return f"ws_{workshop_id}_stage_{eid}"


def comment_key(workshop_id: int, eid: str) -> str:
    return f"ws_{workshop_id}_comment_{eid}"


def note_key(workshop_id: int, eid: str) -> str:
    return f"{NOTE}|{workshop_id}|{eid}"


def save(store: Store, token: str, workshop_id: int, eid: str) -> None:
    """Save one element's stage and comment from a widget callback."""
    stage = st.session_state.get(stage_key(workshop_id, eid))
    comment = st.session_state.get(comment_key(workshop_id, eid)) or None
    note = note_key(workshop_id, eid)
    if stage is None:
        M.say(note, "info", "Choose a stage first; your comment is saved with it.", eid)
        return
    try:
        ws.rate(store, token, eid, stage, comment)
    except StoreError as exc:
        M.say(note, "error", str(exc), eid)
        # Put the widgets back to what is saved, so the screen never shows an unsaved rating.
        saved = ws.my_ratings(store, token).get(eid)
        st.session_state[stage_key(workshop_id, eid)] = saved.stage if saved else None
        st.session_state[comment_key(workshop_id, eid)] = (saved.comment or "") if saved else ""
    else:
        M.say(note, "done", "Saved.", eid)


def my_ratings(store: Store, token: str, workshop: ws.Workshop, matrix: Matrix) -> None:
    """Every element on one page, domain by domain (on a phone, scrolling down is easier than finding
    the way between pages), with the stage descriptors beside the choices."""
    mine = ws.my_ratings(store, token)
    n_elements = len(matrix.element_ids())
    st.progress(len(mine) / n_elements, text=f"You have rated {len(mine)} of {n_elements} elements")
    if not workshop.revealed:
        st.caption("You see only your own ratings until the facilitator shows the group's results.")
    for eid, r in mine.items():  # a fresh session starts from what is saved
        st.session_state.setdefault(stage_key(workshop.id, eid), r.stage)
        st.session_state.setdefault(comment_key(workshop.id, eid), r.comment or "")

    closed = workshop.status != ws.OPEN
    labels = {s.id: s.label for s in matrix.stages}
    for domain in matrix.domains:
        st.subheader(plain(domain.title), anchor=False)
        done = sum(e.id in mine for e in domain.elements)
        st.caption(f"{plain(domain.summary)} ({done} of {len(domain.elements)} rated)")
        for element in domain.elements:
            with st.container(border=True):
                args = (store, token, workshop.id, element.id)
                st.radio(f"**{plain(element.title)}**", matrix.stage_ids, index=None,
                         key=stage_key(workshop.id, element.id), format_func=lambda x: plain(labels[x]),
                         captions=[plain(element.descriptors[s]) for s in matrix.stage_ids],
                         on_change=save, args=args, disabled=closed)
                st.text_input("Comment (optional)", key=comment_key(workshop.id, element.id),
                              max_chars=ws.MAX_COMMENT, on_change=save, args=args, disabled=closed,
                              placeholder="Why this stage? An example helps the discussion")
                note = M.take(note_key(workshop.id, element.id))
                M.show(note, element.id, done=None)  # a save is told by the line below
                if note is None or note.kind == "done":
                    saved = mine.get(element.id)
                    if saved:
                        st.caption(f"Saved: {plain(labels[saved.stage])}"
                                   + (" with your comment." if saved.comment else "."))
                    else:
                        st.caption("Not rated yet.")

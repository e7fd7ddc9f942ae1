"""The participant's side of a workshop (views/join.py), built for a phone: who is here, the join
form, what the facilitator is doing, one domain of rating cards at a time with a progress line,
and, once the facilitator reveals them, the group's results in a tab beside the participant's own.

Who is here: the 192-bit token is kept in the session and in a cookie on this device (SameSite
Strict, a day), never left in the address: over plain HTTP on a workshop's Wi-Fi an address is
seen on screens, in history and in logs. A reload or a new connection reads the cookie and carries
on; the domain the participant was on is in the address (?d=2), which is not secret. A saved
rejoin link (with the token) is offered for another device and taken out of the address on arrival.

Nothing typed is lost: a stage saves as it is chosen; a comment saves after a short pause in
typing, and a comment typed before its stage is kept by the app until the stage is chosen.
What a save has to say is shown once under its element (components.messages, one key per element)."""
from __future__ import annotations

import json
import threading
from collections import OrderedDict

import streamlit as st

from assessments.access import AccessDenied
from assessments import workshop as ws
from assessments.store import Store
from assessments.values import InputError, StoreError
from figures.workshop import own_vs_group, own_vs_group_table
from matrix import Matrix

from . import messages as M
from .cache import cached
from .look import plain
from .state import client_address, database_url, get_store
from .workshop import spread_by_domain

TOKEN = "workshop_token"
SEEN = "workshop_seen"  # (status, revealed) this page was drawn with
NOTE = "workshop_note"  # + workshop and element: the message shown under that element once
DOMAIN = "workshop_domain"  # the index of the domain on screen
DOMAIN_PARAM = "d"  # the same, counted from 1, in the address so a reload comes back to it
COOKIE = "pcn_workshop"
COOKIE_AGE = 24 * 60 * 60  # a workshop is a day; after that the saved link still works
COMMENT_PAUSE = "800ms"  # a comment saves this long after the last key, not only when the field is left


def cookie_script(value: str, max_age: int) -> str:
    # Secure only over HTTPS: a laptop on the room's Wi-Fi serves plain HTTP, where a Secure
    # cookie would never be sent back. Strict: no other site's page can make the phone send it.
    text = json.dumps(value).replace("<", "\\u003c")  # nothing in the value can close the script
    return ("<script>(function(){var s=location.protocol==='https:'?';Secure':'';"
            f"document.cookie='{COOKIE}='+encodeURIComponent({text})"
            f"+';Path=/;Max-Age={int(max_age)};SameSite=Strict'+s;}})();</script>")


def device_token() -> str | None:
    """The token this device's cookie carried when the page connected."""
    return st.context.cookies.get(COOKIE) or None


def keep_on_device(token: str) -> None:
    """Write the cookie, unless the device already sent it. The script runs once per value."""
    if device_token() != token:
        st.html(cookie_script(token, COOKIE_AGE), unsafe_allow_javascript=True)


def forget_on_device() -> None:
    st.html(cookie_script("", 0), unsafe_allow_javascript=True)


def remember(token: str, code: str) -> None:
    """Keep the token in the session and take it out of the address if a saved rejoin link
    brought it there (the page then writes it to the device's cookie with keep_on_device)."""
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


RESULTS_MAX_AGE = 3.0  # seconds: while 60 phones rate, the group's results are built once a few seconds


# shared: the summary is one object for every phone (the core keeps one per workshop version), not
# a pickled copy per phone and rerun; an entry per phone of a full room.
@cached(max_entries=128, version=_version_of, shared=True)
def results(token: str) -> ws.WorkshopSummary:
    """The group's results this participant may see (once revealed), read again when the workshop changes."""
    return ws.results(get_store(), token, max_age=RESULTS_MAX_AGE)


def _asked_code() -> str | None:
    wanted = (st.query_params.get("code") or "").strip()
    if not wanted:
        return None
    try:
        return ws.normalise_code(wanted)
    except InputError:
        return wanted  # matches no workshop: the join form says why


def who_is_here(store: Store) -> tuple[ws.Workshop | None, ws.Participant | None, str | None]:
    """The workshop and participant of the token in the address (a saved link), the session or the
    device's cookie, if it belongs to the workshop asked for; (None, None, None) when the participant
    has still to join."""
    wanted = _asked_code()
    link = st.query_params.get("p")
    for token, source in ((link, "link"), (st.session_state.get(TOKEN), "session"), (device_token(), "device")):
        if not token:
            continue
        try:
            workshop, me = ws.rejoin(store, token)
        except (InputError, StoreError):
            if source == "link":
                st.warning("This link does not match anyone in that workshop. Join again below.")
            elif source == "device":
                forget_on_device()  # a workshop since deleted, or a database started afresh
            continue
        if wanted is not None and workshop.code != wanted:
            # This device took part in another workshop: join the one asked for (the cookie is
            # replaced then, and the other workshop's saved link still works).
            if source == "link":
                st.warning("This link does not match anyone in that workshop. Join again below.")
            continue
        return workshop, me, token
    forget()
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
        joined = st.form_submit_button("Join", type="primary", width="stretch")
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
            st.query_params.pop(DOMAIN_PARAM, None)
            st.session_state.pop(DOMAIN, None)
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


def news(workshop: ws.Workshop, token: str) -> ws.WorkshopSummary | None:
    """The facilitator's news; the group's results when they are revealed."""
    st.session_state[SEEN] = (workshop.status, workshop.revealed)
    try:
        s = results(token) if workshop.revealed else None
    except AccessDenied:  # hidden again between reading the workshop and its results: show none
        s = None
    facilitator_news(token, s.workshop.version if s else None)
    return s


def group_results(s: ws.WorkshopSummary, store: Store, token: str, matrix: Matrix) -> None:
    """The participant's own domain profile against the group's (rows a phone can read, not a
    radar), then the spread of every rating, domain by domain."""
    own = {eid: r.stage for eid, r in ws.my_ratings(store, token).items()}
    people = len(s.participants)
    st.caption(f"{people} {'person' if people == 1 else 'people'}, {s.n_ratings} "
               f"rating{'' if s.n_ratings == 1 else 's'}.")
    st.subheader("You and the group", anchor=False)
    st.plotly_chart(own_vs_group(matrix, own, s), key="own_vs_group", config={"displayModeBar": False},
                    alt="Your score in each domain as a blue dot and the group median as a grey diamond on the "
                        "stage scale; the table below gives the same figures")
    with st.expander("You and the group: chart as a table"):
        st.dataframe(own_vs_group_table(matrix, own, s), hide_index=True, width="stretch")
    st.subheader("Everyone's ratings", anchor=False)
    st.caption("Each blue disc says how many chose that stage; the dark tick is the median.")
    spread_by_domain(s, database_url())


def stage_key(workshop_id: int, eid: str) -> str:
    return f"ws_{workshop_id}_stage_{eid}"


def target_key(workshop_id: int, eid: str) -> str:
    return f"ws_{workshop_id}_target_{eid}"


def comment_key(workshop_id: int, eid: str) -> str:
    return f"ws_{workshop_id}_comment_{eid}"


def note_key(workshop_id: int, eid: str) -> str:
    return f"{NOTE}|{workshop_id}|{eid}"


MAX_DRAFTS = 3_000  # participants whose unsaved comments are kept: a bound on memory, oldest dropped first


class Drafts:
    """Comments typed before their stage was chosen, per participant token, so a reload or a lost
    connection keeps them (in this app process: rate() needs a stage to store a comment). Every
    session's script thread uses the one instance, hence the lock."""

    def __init__(self) -> None:
        self._by_token: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str, eid: str) -> str | None:
        with self._lock:
            return self._by_token.get(token, {}).get(eid)

    def keep(self, token: str, eid: str, comment: str | None) -> None:
        with self._lock:
            mine = self._by_token.setdefault(token, {})
            if comment:
                mine[eid] = comment
            else:
                mine.pop(eid, None)
            self._by_token.move_to_end(token)
            while len(self._by_token) > MAX_DRAFTS:
                self._by_token.popitem(last=False)


@st.cache_resource
def drafts() -> Drafts:
    return Drafts()


def save(store: Store, token: str, workshop: ws.Workshop, eid: str) -> None:
    """Save one element's stage (and target) and comment from a widget callback."""
    stage = st.session_state.get(stage_key(workshop.id, eid))
    target = st.session_state.get(target_key(workshop.id, eid)) if workshop.rate_target else None
    comment = (st.session_state.get(comment_key(workshop.id, eid)) or "").strip() or None
    note = note_key(workshop.id, eid)
    if stage is None:
        drafts().keep(token, eid, comment)
        if target is not None or comment:
            M.say(note, "info", "Choose where the network is now; your "
                  + ("target and comment are" if target is not None and comment else
                     "target is" if target is not None else "comment is") + " saved with it.", eid)
        return
    try:
        ws.rate(store, token, eid, stage, comment, target=target)
    except StoreError as exc:
        M.say(note, "error", str(exc), eid)
        # Put the widgets back to what is saved, so the screen never shows an unsaved rating (a
        # comment stays as typed, kept for when rating opens again).
        saved = ws.my_ratings(store, token).get(eid)
        st.session_state[stage_key(workshop.id, eid)] = saved.stage if saved else None
        if workshop.rate_target:
            st.session_state[target_key(workshop.id, eid)] = saved.target_stage if saved else None
        if comment and (saved is None or saved.comment != comment):
            drafts().keep(token, eid, comment)
    else:
        drafts().keep(token, eid, None)
        M.say(note, "done", "Saved.", eid)


def domain_index(n_domains: int) -> int:
    """The domain on screen: this session's, else the address's (a reload), else the first."""
    if DOMAIN not in st.session_state:
        try:
            st.session_state[DOMAIN] = int(st.query_params.get(DOMAIN_PARAM) or 1) - 1
        except ValueError:
            st.session_state[DOMAIN] = 0
    i = min(max(int(st.session_state[DOMAIN]), 0), n_domains - 1)
    st.session_state[DOMAIN] = i
    st.query_params[DOMAIN_PARAM] = str(i + 1)
    return i


def _go(to: int) -> None:
    st.session_state[DOMAIN] = to


def _scroll_to_top(i: int) -> None:
    # Streamlit keeps the scroll position across a rerun, so after "Next" at the foot of a long
    # domain the next one would open at its foot. Only a change of domain scrolls.
    st.html("<script>(function(){if(window.__pcnDomain===%d)return;window.__pcnDomain=%d;"
            "window.scrollTo(0,0);document.querySelectorAll('[data-testid=\"stMain\"],"
            "[data-testid=\"stAppViewContainer\"]').forEach(function(e){e.scrollTo(0,0)});})();</script>"
            % (i, i), unsafe_allow_javascript=True)


# Not a fragment, though a rating would cost less: with the cards in a fragment, a load test with 30
# phones' browsers lost 4 of 512 choices (no save reached the server), likely those made while the
# 3-second news fragment ran (not confirmed). Whole-page runs stored all 432 in the same test.
def my_ratings(store: Store, token: str, workshop: ws.Workshop, matrix: Matrix) -> None:
    """One domain at a time (a phone's whole matrix is 17 screens), a progress line over the lot,
    previous and next at the foot, and the stage descriptors beside the choices."""
    mine = ws.my_ratings(store, token)
    n_elements = len(matrix.element_ids())
    domains = matrix.domains
    i = domain_index(len(domains))
    domain = domains[i]
    _scroll_to_top(i)
    st.progress(len(mine) / n_elements,
                text=f"Domain {i + 1} of {len(domains)} · {len(mine)} of {n_elements} rated")
    for element in domain.elements:  # a fresh session starts from what is saved, or was typed
        r = mine.get(element.id)
        if r is not None:
            st.session_state.setdefault(stage_key(workshop.id, element.id), r.stage)
            if workshop.rate_target and r.target_stage:
                st.session_state.setdefault(target_key(workshop.id, element.id), r.target_stage)
        comment = drafts().get(token, element.id) or (r.comment if r is not None else None)  # unsaved first
        if comment:
            st.session_state.setdefault(comment_key(workshop.id, element.id), comment)

    closed = workshop.status != ws.OPEN
    labels = {s.id: s.label for s in matrix.stages}
    st.subheader(plain(domain.title), anchor=False)
    done = sum(e.id in mine for e in domain.elements)
    st.caption(f"{plain(domain.summary)} ({done} of {len(domain.elements)} rated)")
    for element in domain.elements:
        with st.container(border=True):
            args = (store, token, workshop, element.id)
            st.radio(f"**{plain(element.title)}**" + (": where is the network now?" if workshop.rate_target else ""),
                     matrix.stage_ids, index=None, key=stage_key(workshop.id, element.id),
                     format_func=lambda x: plain(labels[x]),
                     captions=[plain(element.descriptors[s]) for s in matrix.stage_ids],
                     on_change=save, args=args, disabled=closed)
            if workshop.rate_target:
                st.radio("Where should it be in a year? (target)", matrix.stage_ids, index=None, horizontal=True,
                         key=target_key(workshop.id, element.id), format_func=lambda x: plain(labels[x]),
                         on_change=save, args=args, disabled=closed)
            st.text_input("Comment (optional)", key=comment_key(workshop.id, element.id),
                          max_chars=ws.MAX_COMMENT, on_change=save, args=args, disabled=closed, live=COMMENT_PAUSE,
                          placeholder="Why this stage? An example helps the discussion")
            note = M.take(note_key(workshop.id, element.id))
            M.show(note, element.id, done=None)  # a save is told by the line below
            if note is None or note.kind == "done":
                saved = mine.get(element.id)
                if saved:
                    target = (f", target {plain(labels[saved.target_stage])}"
                              if saved.target_stage in labels else "")
                    st.caption(f"Saved: {plain(labels[saved.stage])}{target}"
                               + (" with your comment." if saved.comment else "."))
                else:
                    st.caption("Not rated yet.")
    previous, following = st.columns(2)
    if i > 0:
        previous.button(f"Previous: {plain(domains[i - 1].title)}", key="domain_previous", on_click=_go,
                        args=(i - 1,), icon=":material/arrow_back:", width="stretch")
    if i + 1 < len(domains):
        following.button(f"Next: {plain(domains[i + 1].title)}", key="domain_next", on_click=_go, args=(i + 1,),
                         icon=":material/arrow_forward:", type="primary", width="stretch")
    else:
        following.caption("That is the last domain. You can change any rating until the facilitator pauses or "
                          "closes the workshop.")


# Tap targets of at least 44 px (WCAG 2.5.5, Apple's and the NHS's guidance) on a phone, and long
# words that wrap instead of pushing the page sideways.
PHONE_CSS = """
<style>
  [data-testid="stMain"] button, [data-testid="stMain"] [role="tab"] { min-height: 44px; }
  [data-testid="stMain"] [role="radiogroup"] label { min-height: 44px; align-items: center; padding: 4px 0; }
  [data-testid="stMain"] [role="radiogroup"] { flex-wrap: wrap; }
  [data-testid="stMain"] [data-baseweb="input"], [data-testid="stMain"] [data-baseweb="select"] > div { min-height: 44px; }
  [data-testid="stMain"] [data-testid="stExpander"] summary { min-height: 44px; }
  [data-testid="stMain"] p, [data-testid="stMain"] h1, [data-testid="stMain"] h2, [data-testid="stMain"] h3 {
    overflow-wrap: anywhere; }
  /* A domain's name on "Next" wraps rather than ending in an ellipsis. */
  [data-testid="stMain"] [data-testid="stButton"] button * { white-space: normal; text-overflow: clip; }
  @media (max-width: 640px) { [data-testid="stMain"] h1 { font-size: 2rem; } }
</style>
"""


def phone_look() -> None:
    st.html(PHONE_CSS)

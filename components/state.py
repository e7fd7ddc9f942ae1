"""The shared store, who the user is, and the ICS / PCN / year pickers every page uses.

The store is opened once per database URL (st.cache_resource); heavy reads elsewhere are cached
with st.cache_data keyed on `data_version()`, which changes on every write, so a save made in
one browser tab is seen by the next run of every page.
"""
from __future__ import annotations

import os

import streamlit as st

from assessments.store import PCN, Store, database_url

from .catalog import get_catalog
from .look import plain

ACTOR_KEY = "actor_name"
# Behind a reverse proxy that signs users in, PCN_USER_HEADER names the request header carrying
# the user's name (e.g. X-Forwarded-User). Off by default: without such a proxy anyone could
# send the header and write under another name.
USER_HEADER_ENV = "PCN_USER_HEADER"


def _header_name() -> str | None:
    header = os.environ.get(USER_HEADER_ENV, "").strip()
    if not header:
        return None
    value = st.context.headers.get(header)
    return value.strip()[:100] if value and value.strip() else None


@st.cache_resource(show_spinner="Opening the database...")
def _open_store(url: str) -> Store:
    store = Store(url, matrices=get_catalog())
    if os.environ.get("PCN_LOAD_DEMO") == "1" and store.is_empty():
        from assessments.demo import load_demo

        load_demo(store)
    return store


def get_store() -> Store:
    return _open_store(database_url())


def data_version() -> int:
    return get_store().data_version()


def actor() -> str | None:
    """The name written to the audit log for this user's changes, or None if not given yet."""
    header = _header_name()
    if header:
        return header
    name = (st.session_state.get(ACTOR_KEY) or "").strip()
    return name[:100] or None


def actor_input() -> None:
    """Sidebar field for the user's name; hidden when the proxy already says who they are."""
    if _header_name():
        st.sidebar.caption(f"Signed in as {plain(actor())}")
        return
    st.sidebar.text_input("Your name (for the change log)", key=ACTOR_KEY, max_chars=100,
                          placeholder="e.g. Dr A. Patel, clinical director")


def require_actor() -> str | None:
    """The actor, or a clear message saying why editing is off until a name is given."""
    name = actor()
    if name is None:
        st.info("Enter your name in the sidebar to make changes: every change is recorded with who made it.")
    return name


def offer_demo() -> None:
    """On first start the database is empty: offer the fictional demo ICS so there is something to explore."""
    store = get_store()
    if not store.is_empty():
        return
    with st.container(border=True):
        st.markdown(
            "**The database is empty.** Load the demo data (one fictional ICS with eight fictional PCNs and "
            "four years of assessments) to explore the tool, or import your own ratings on the Data page."
        )
        if st.button("Load demo data", type="primary"):
            from assessments.demo import load_demo

            with st.spinner("Loading demo data..."):
                load_demo(store)
            st.cache_data.clear()
            st.rerun()


def pick_ics(label: str = "Integrated care system", key: str = "ics"):
    ics = get_store().list_ics()
    if not ics:
        st.warning("No ICS in the database yet. Load the demo data or import your organisations on the Data page.")
        st.stop()
    codes = [i.code for i in ics]
    names = {i.code: f"{i.name} ({i.code})" for i in ics}
    _default_from_query(key, codes)
    code = st.selectbox(label, codes, format_func=names.get, key=key)
    _remember(key, code)
    return next(i for i in ics if i.code == code)


def pick_pcn(ics_code: str, label: str = "Primary care network", key: str = "pcn") -> PCN:
    pcns = get_store().pcns(ics_code=ics_code)
    if not pcns:
        st.warning("This ICS has no PCNs yet.")
        st.stop()
    codes = [p.code for p in pcns]
    names = {p.code: f"{p.name} ({p.code})" for p in pcns}
    _default_from_query(key, codes)
    code = st.selectbox(label, codes, format_func=names.get, key=key)
    _remember(key, code)
    return next(p for p in pcns if p.code == code)


def _default_from_query(key: str, options: list[str]) -> None:
    """Choose the picker's starting value: a link such as ?pcn=U91001 first, then the choice made on
    another page (Streamlit forgets a widget's value when a page without it runs), then the first option."""
    wanted = st.query_params.get(key)
    remembered = st.session_state.get(f"{key}_chosen")
    if st.session_state.get(key) in options:
        keep(key)
    elif wanted in options:
        st.session_state[key] = wanted
    elif remembered in options:
        st.session_state[key] = remembered
    else:
        st.session_state.pop(key, None)


def keep(key: str) -> None:
    """Send a picker's value to the browser again on this run.

    A widget drawn anew (on another page, or in a new layout such as large text) starts at its
    first option in the browser unless its value was set through session state in this run.
    """
    st.session_state[key] = st.session_state[key]


def _remember(key: str, value: str) -> None:
    st.session_state[f"{key}_chosen"] = value

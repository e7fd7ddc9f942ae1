"""The shared store, who the user is, and the ICS and PCN pickers (drawn in a row with the year
by components/header.py).

Who the user is depends on how the app runs (README "Ways to run"):
- laptop (the default): the browser on this machine (a loopback address, PCN_LAPTOP_ADDRESSES)
  is the local administrator; every other device is a workshop participant and gets only the
  join page;
- signed in: `[auth]` in .streamlit/secrets.toml, OpenID Connect through st.login; roles from
  the database (assessments.people);
- behind a sign-in proxy: PCN_USER_HEADER (and PCN_EMAIL_HEADER) name the headers the proxy
  sets, trusted only from PCN_TRUSTED_PROXIES.
Every page gets `get_store()`, the store acting as that principal, so the services refuse what
the user may not do whatever the page shows.

The store is opened once per database URL (st.cache_resource); heavy reads elsewhere are cached
by components/cache.py, keyed on `data_version()`, which changes on every write, so a save made
in one browser tab is seen by the next run of every page.
"""
from __future__ import annotations

import getpass
import os
import time

import streamlit as st

from assessments import organisations as orgs
from assessments import people
from assessments.access import ADMINISTRATOR, Grant, Principal
from assessments.model import PCN
from assessments.store import Store, database_url

from .look import plain

ACTOR_KEY = "actor_name"
# Behind a reverse proxy that signs users in, PCN_USER_HEADER names the request header carrying
# the user's name (e.g. X-Forwarded-User). Off by default: without such a proxy anyone could
# send the header and write under another name.
USER_HEADER_ENV = "PCN_USER_HEADER"
EMAIL_HEADER_ENV = "PCN_EMAIL_HEADER"
PROXIES_ENV = "PCN_TRUSTED_PROXIES"  # addresses the sign-in proxy connects from
LAPTOP_ENV = "PCN_LAPTOP_ADDRESSES"  # addresses that are "this laptop" in laptop mode
LOOPBACK = "127.0.0.1,::1"
LAPTOP, SIGN_IN, PROXY = "laptop", "sign-in", "proxy"


def _addresses(env: str) -> set[str]:
    return {a.strip() for a in os.environ.get(env, LOOPBACK).split(",") if a.strip()}


def client_address() -> str | None:
    """The device's address as the app sees it. Streamlit gives None for 127.0.0.1 and ::1 (and
    when there is no browser, as in page tests); an IPv4 address seen on an IPv6 socket is unwrapped."""
    ip = st.context.ip_address
    if not isinstance(ip, str):  # no browser: Streamlit's page tests
        return None
    if ip.lower().startswith("::ffff:"):
        ip = ip[7:]
    return ip


# Headers a reverse proxy adds. Behind one, every browser reaches the app from the proxy's address,
# often loopback: a request that came through a proxy is never the laptop's own browser.
PROXY_HEADERS = ("x-forwarded-for", "x-real-ip", "forwarded", "via")


def proxied() -> bool:
    headers = st.context.headers or {}
    return any(headers.get(h) for h in PROXY_HEADERS)


def _from(addresses: set[str]) -> bool:
    ip = client_address()
    if ip is None:  # Streamlit's own spelling of the two loopback addresses
        return bool(addresses & {"127.0.0.1", "::1"})
    return ip in addresses


# Streamlit keeps a parsed secrets file, but with no file at all it looks for one again, under a
# process-wide lock, on every `in st.secrets`. Every run asks several times, so with 60 phones the
# runs queued on that lock (py-spy: 87 of 142 samples of script threads). A few seconds' answer
# is kept instead; a secrets file added later is seen within that time.
AUTH_RECHECK_SECONDS = 5.0
_auth_seen: tuple[int, float, bool] = (0, float("-inf"), False)


def auth_configured() -> bool:
    global _auth_seen
    secrets_id, at, seen = _auth_seen
    now = time.monotonic()
    if secrets_id == id(st.secrets) and now - at < AUTH_RECHECK_SECONDS:  # AppTest swaps st.secrets
        return seen
    try:
        seen = "auth" in st.secrets
    except Exception:  # no secrets file at all
        seen = False
    _auth_seen = (id(st.secrets), now, seen)
    return seen


def mode() -> str:
    if os.environ.get(USER_HEADER_ENV, "").strip():
        return PROXY
    return SIGN_IN if auth_configured() else LAPTOP


def _header(env: str, limit: int) -> str | None:
    name = os.environ.get(env, "").strip()
    if not name or not _from(_addresses(PROXIES_ENV)):
        return None  # a header from anyone but the proxy proves nothing
    value = st.context.headers.get(name)
    return value.strip()[:limit] if value and value.strip() else None


def _header_name() -> str | None:
    return _header(USER_HEADER_ENV, 100) if mode() == PROXY else None


@st.cache_resource(show_spinner="Opening the database...")
def _open_store(url: str) -> Store:
    store = Store(url)  # the store reads the matrix folders itself and notices changed files
    if os.environ.get("PCN_LOAD_DEMO") == "1" and store.is_empty():
        from assessments.demo import load_demo

        load_demo(store)
    return store


def base_store() -> Store:
    """The store as the system: for the app's own set-up only (opening, the demo), never a page's reads."""
    return _open_store(database_url())


@st.cache_resource
def _remembered() -> dict[str, str]:
    """The laptop user's name per database, kept by the app process across reloads."""
    return {}


def _laptop_name() -> str | None:
    """The name the laptop's user gave, remembered by the app for the next reload; else PCN_USER."""
    typed = (st.session_state.get(ACTOR_KEY) or "").strip()[:100]
    if typed:
        _remembered()[database_url()] = typed
        return typed
    remembered = _remembered().get(database_url()) or os.environ.get("PCN_USER", "").strip()[:100]
    if remembered and ACTOR_KEY not in st.session_state:
        st.session_state[ACTOR_KEY] = remembered
    return remembered or None


def principal() -> Principal | None:
    """Who this browser is. None: signed-in mode and not signed in yet."""
    m = mode()
    if m == LAPTOP:
        if proxied() or not _from(_addresses(LAPTOP_ENV)):
            return Principal(f"device:{client_address()}", "Workshop participant", None, (), "phone")
        name = _laptop_name() or "This laptop"
        return Principal(f"laptop:{getpass.getuser() if hasattr(os, 'getuid') else 'user'}", name, None,
                         (Grant(ADMINISTRATOR),), "laptop")
    if m == PROXY:
        name = _header_name()
        if name is None:
            return None
        email = _header(EMAIL_HEADER_ENV, 200) or (name if "@" in name else None)
        return _signed_in(f"proxy:{email or name}", name, email, "proxy")
    if not st.user.is_logged_in:
        return None
    return _signed_in(str(st.user.get("sub") or st.user.get("email")), st.user.get("name"), st.user.get("email"),
                      "sign-in")


def _signed_in(subject: str, name: str | None, email: str | None, via: str) -> Principal:
    key = (subject, name, email, via, data_version())  # roles change only with a write
    cached = st.session_state.get("_principal")
    if cached and cached[0] == key:
        return cached[1]
    p = people.principal_for(base_store(), subject=subject, name=name, email=email, via=via)
    st.session_state["_principal"] = (key, p)
    if st.session_state.get("_signed_in_as") != (p.subject, p.roles_text()):
        people.record_sign_in(base_store().acting(p), p)  # the sign-in, and any change of roles, is audited
        st.session_state["_signed_in_as"] = (p.subject, p.roles_text())
    return p


def can(action: str, *, pcn: PCN | None = None, ics_code: str | None = None) -> bool:
    """Whether this user may do `action` there: for what a page offers. The services check again."""
    from assessments.access import allowed

    p = principal()
    if p is None:
        return False
    return allowed(p, action, ics_code=pcn.ics_code if pcn is not None else ics_code,
                   pcn_code=pcn.code if pcn is not None else None)


def principal_key() -> tuple:
    """Who reads, for cache keys: the same subject with the same roles sees the same records."""
    p = principal()
    return (p.subject, p.grants) if p is not None else ("anonymous", ())


def get_store() -> Store:
    """The store acting as this browser's user: every service checks what they may do."""
    p = principal()
    return base_store().acting(p if p is not None else Principal("anonymous", "Not signed in", None, (), "none"))


def data_version() -> int:
    return base_store().data_version()


def actor() -> str | None:
    """The name written to the audit log for this user's changes, or None if they cannot make any."""
    p = principal()
    if p is None or not p.grants:
        return None
    if p.via == "laptop":
        return _laptop_name()
    return p.audit_name


def actor_input() -> None:
    """Sidebar: who is signed in (and sign out), or on the laptop the name for the change log."""
    p = principal()
    if p is None:
        return
    if p.via == "laptop":
        st.sidebar.text_input("Your name (for the change log)", key=ACTOR_KEY, max_chars=100,
                              placeholder="e.g. Dr A. Patel, clinical director")
        return
    if p.via == "phone":
        return
    st.sidebar.caption(f"Signed in as {plain(p.name)}" + (f" ({plain(p.roles_text())})" if p.grants else ""))
    if p.via == "sign-in":
        st.sidebar.button("Sign out", on_click=st.logout, key="sign_out")


def require_actor() -> str | None:
    """The actor, or a clear message saying why editing is off until a name is given."""
    name = actor()
    if name is None:
        st.info("Enter your name in the sidebar to make changes: every change is recorded with who made it.")
    return name


def offer_demo() -> None:
    """On first start the database is empty: offer the fictional demo ICS so there is something to explore."""
    store = base_store()
    p = principal()
    if p is None or not p.is_admin or not store.is_empty():
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
    ics = orgs.list_ics(get_store())
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
    pcns = orgs.pcns(get_store(), ics_code=ics_code)
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

"""Pieces of the workshop pages: the workshop's summary (read once per workshop version), the join
link and its QR code, the big join code, and the group's results (spread per element, domain by
domain, and each participant's profile), each chart with its table."""
from __future__ import annotations

import io
import socket
import threading
import time
from urllib.parse import urlencode, urlsplit

import streamlit as st

from assessments import workshop as ws
from assessments.scoring import agreement_words
from assessments.workshop import WorkshopSummary
from figures import charts
from figures import workshop as figs

from .cache import cached
from .look import is_large, plain, spread_strip
from .state import get_store

JOIN_PATH = "join"
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


def workshop_version(workshop_id: int) -> int:
    """Moves on whenever anything in the workshop changes (a rating, a pause, an agreed stage): one
    cheap query, so the projector and the phones can look every few seconds."""
    return ws.workshop_version(get_store(), workshop_id)


@cached(max_entries=16, version=workshop_version, shared=True)  # one object, not a pickled copy per rerun
def summary(workshop_id: int) -> WorkshopSummary:
    """The workshop's ratings, spread and agreed stages, read again only when the workshop changed."""
    return ws.summary(get_store(), workshop_id)


def join_url(base: str, code: str) -> str:
    base = base.strip().rstrip("/")
    if "://" not in base:  # typed as "192.168.1.20:8501"
        base = "http://" + base
    return f"{base}/{JOIN_PATH}?{urlencode({'code': code})}"


def _lan_address() -> str | None:
    """This machine's address on the local network (connecting a UDP socket sends nothing)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            ip = s.getsockname()[0]
    except OSError:
        return None
    return None if ip.startswith("127.") else ip


def app_base_url(page_path: str) -> str:
    """The app's own address as this browser sees it, without the page's path.

    Phones cannot reach "localhost": when the facilitator's browser uses it, the laptop's
    address on the local network is suggested instead (the app must listen on it, e.g.
    `streamlit run app.py --server.address 0.0.0.0`)."""
    url = st.context.url or ""
    if not url:
        host = st.context.headers.get("Host") or "localhost:8501"
        url = f"http://{host}"
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path.endswith("/" + page_path):
        path = path[: -len(page_path) - 1]
    host, port = parts.hostname or "localhost", parts.port
    if host in _LOCAL_HOSTS:
        host = _lan_address() or host
    netloc = f"[{host}]" if ":" in host else host
    if port:
        netloc += f":{port}"
    return f"{parts.scheme or 'http'}://{netloc}{path}"


@st.cache_data(show_spinner=False, max_entries=32)
def qr_png(text: str) -> bytes:
    import qrcode

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=2)
    qr.add_data(text)
    qr.make(fit=True)
    buf = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buf, format="PNG")
    return buf.getvalue()


def big_code(code: str) -> None:
    """The join code in letters large enough to read from the back of a room.

    Sized by its column's width (container query units), not the window's: eight monospace
    letters with their spacing take 5.9em, so 16% of the column always fits on one line."""
    spaced = " ".join(code)  # screen readers spell it out letter by letter
    safe = "".join(ch for ch in code if ch.isalnum())  # codes are letters and digits only
    st.html(f'<div style="container-type:inline-size;width:100%">'
            f'<p style="margin:0;color:#4C6272;font-size:1rem">Join code</p>'
            f'<p aria-label="Join code {spaced}" style="margin:0 0 .5rem 0;white-space:nowrap;'
            f'font:700 min(6rem,16cqi)/1.25 ui-monospace,Menlo,Consolas,monospace;letter-spacing:.12em;'
            f'color:#003087">{safe}</p></div>')


def status_text(status: str, revealed: bool) -> str:
    text = {"open": "Open for ratings", "paused": "Rating paused", "closed": "Closed"}.get(status, status)
    return text + (" · results shown to participants" if revealed else " · results hidden from participants")


# Charts are built for one version of the workshop and shared by every session showing it. While a
# room rates, the version moves several times a second, so building at every version would keep
# the projector's session busy (60 spiders take about 0.7 s of CPU, and the projector's browser
# redraws them) and its controls waiting. So a chart is rebuilt only once it is this old; the
# headline numbers stay live, and anything that changes what is shown (revealing, the text size)
# is part of the key and draws at once.
SPREAD_EVERY = 3.0  # seconds
SPIDERS_EVERY = 10.0
_drawn: dict[tuple, tuple[int, float]] = {}
_drawn_lock = threading.Lock()


def drawn_version(key: tuple, version: int, every: float) -> int:
    """The workshop version to draw a chart at: `version`, unless another was drawn under `key`
    less than `every` seconds ago."""
    now = time.monotonic()
    with _drawn_lock:
        last = _drawn.get(key)
        if last is not None and last[0] != version and now - last[1] < every:
            return last[0]
        if last is None or last[0] != version:
            if len(_drawn) > 1_000:  # one entry per workshop and look: drop the oldest
                del _drawn[min(_drawn, key=lambda k: _drawn[k][1])]
            _drawn[key] = (version, now)
        return version


@st.cache_resource(show_spinner=False, max_entries=48)
def _spreads(url: str, workshop_id: int, version: int, _s: WorkshopSummary) -> dict:
    """The spread rows and table of each domain with ratings."""
    out: dict = {}
    for d in _s.domains:
        if not any(e.n for e in d.elements):
            continue
        table = _s.table[_s.table["domain_id"] == d.domain_id]
        frame = _s.frame[_s.frame["domain_id"] == d.domain_id]
        out[d.domain_id] = (charts.spread_rows(frame, _s.matrix, summary=table),
                            charts.workshop_spread_table(table, _s.matrix))
    return out


@st.cache_resource(show_spinner=False, max_entries=16)
def _spiders(url: str, workshop_id: int, version: int, large: bool, reveal: bool, _s: WorkshopSummary):
    """Each participant's spider and the group's; names only once the results are revealed."""
    if _s.profiles.empty:
        return None
    return (figs.participant_spiders(_s, reveal_names=reveal, large=large),
            figs.participant_spiders_table(_s, reveal_names=reveal))


def spread_by_domain(s: WorkshopSummary, url: str, *, brief: bool = False) -> None:
    """One spread chart per domain, the least agreement first, each with its table. `brief` (the
    projector) leaves the names of the elements whose views differ to the chart's own labels."""
    version = drawn_version((url, s.workshop.id, "spread"), s.workshop.version, SPREAD_EVERY)
    built = _spreads(url, s.workshop.id, version, s)
    stages = [stage.label for stage in s.matrix.stages]
    for d in s.domains:
        st.subheader(plain(d.title), anchor=False)
        if d.domain_id not in built:
            st.caption("No ratings yet.")
            continue
        n = sum(e.n for e in d.elements)
        split = [e.element_title for e in d.elements if e.split]
        line = f"{n} rating{'s' if n != 1 else ''}"
        if d.mean_agreement is not None:
            line += f" · agreement {agreement_words(d.mean_agreement)}"
        if split:
            line += f" · views differ on {len(split)} of {len(d.elements)} elements" + ("" if brief else
                                                                                    ": " + "; ".join(split))
        st.caption(plain(line))
        rows, table = built[d.domain_id]
        # HTML, not plotly: a disc with its count still reads when 60 people crowd one stage (dots
        # piled up), and no hover names a participant on the projector before the reveal.
        spread_strip(rows, stages, alt=f"How the group rated each {d.title} element on the stage scale; the table "
                                       "below gives the same figures")
        with st.expander(f"{plain(d.title)}: chart as a table"):
            st.dataframe(table, hide_index=True, width="stretch")


def group_radar(s: WorkshopSummary, url: str, key: str) -> None:
    """The group median as a strong spider, then a small spider per participant (initials until the
    results are revealed)."""
    large, reveal = is_large(), s.workshop.revealed
    version = drawn_version((url, s.workshop.id, "spiders", large, reveal, s.profiles.empty), s.workshop.version,
                            SPIDERS_EVERY)
    built = _spiders(url, s.workshop.id, version, large, reveal, s)
    if built is None:
        return
    fig, table = built
    st.plotly_chart(fig, key=f"{key}_radar", config={"displayModeBar": False},
                    alt="The group median's domain scores as a strong spider, then each participant's as a small "
                        "spider of their own; the table below gives the same figures")
    with st.expander("Each participant's view: chart as a table"):
        st.dataframe(table, hide_index=True, width="stretch")

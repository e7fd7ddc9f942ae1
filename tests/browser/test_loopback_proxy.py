"""LoopbackProxy stands in for a second device: through it the app sees the client as 127.0.0.2.

A tiny page (probe_ip.py) prints `st.context.ip_address` and the raw TCP peer. Opened directly,
the peer is 127.0.0.1, which `st.context.ip_address` reports as None (Streamlit normalises
127.0.0.1 and ::1 to None). Opened through the proxy, both say 127.0.0.2, and a button click
(a rerun over the websocket) goes through the proxy too.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from .conftest import ROOT, _free_port, wait_for_app
from .loopback_proxy import LoopbackProxy
from tests.oidc.harness import stop

pytestmark = pytest.mark.browser

PROBE = ROOT / "tests" / "browser" / "probe_ip.py"


@pytest.fixture(scope="module")
def probe_port(tmp_path_factory):
    log_path = tmp_path_factory.mktemp("probe") / "streamlit.log"
    port = _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(PROBE), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    # FORWARDED_ALLOW_IPS would widen which peers uvicorn believes X-Forwarded-For from.
    env = {k: v for k, v in os.environ.items() if k != "FORWARDED_ALLOW_IPS"}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer on port {port} within 60 s:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield port
    finally:
        stop(proc)


@pytest.fixture
def proxy(probe_port):
    with LoopbackProxy(probe_port) as p:
        yield p
    assert not p.errors, p.errors


@pytest.fixture
def new_page(browser):
    contexts = []

    def make(**kw):
        ctx = browser.new_context(viewport={"width": 900, "height": 600}, **kw)
        contexts.append(ctx)
        pg = ctx.new_page()
        pg.set_default_timeout(30_000)
        return pg

    yield make
    for ctx in contexts:
        ctx.close()


def _open(page, url):
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(url)
    wait_for_app(page)
    return sockets


def test_direct_browser_is_local_and_proxied_browser_is_127_0_0_2(probe_port, proxy, new_page):
    direct = new_page()
    direct_ws = _open(direct, f"http://127.0.0.1:{probe_port}/")
    expect(direct.locator(".st-key-peer")).to_have_text("peer='127.0.0.1'")
    expect(direct.locator(".st-key-ip")).to_have_text("ip_address=None")
    assert direct_ws and all(f"127.0.0.1:{probe_port}/" in u for u in direct_ws), direct_ws

    phone = new_page()
    phone_ws = _open(phone, proxy.url_for("/"))
    expect(phone.locator(".st-key-ip")).to_have_text("ip_address='127.0.0.2'")
    expect(phone.locator(".st-key-peer")).to_have_text("peer='127.0.0.2'")
    # The session's websocket itself went through the proxy, not around it.
    assert phone_ws and all(f"127.0.0.1:{proxy.port}/" in u for u in phone_ws), phone_ws
    assert proxy.connections >= 2

    # A rerun over the proxied websocket: the click reaches the app and the answer comes back.
    for n in (1, 2):
        phone.locator(".st-key-count button").click()
        expect(phone.locator(".st-key-clicks")).to_have_text(f"clicks={n}")
    expect(phone.locator(".st-key-ip")).to_have_text("ip_address='127.0.0.2'")
    # The other browser's session is untouched.
    expect(direct.locator(".st-key-clicks")).to_have_text("clicks=0")


def test_forwarded_header_through_proxy_does_not_pass_for_local(proxy, new_page):
    """uvicorn trusts X-Forwarded-For only from 127.0.0.1/::1, so a device cannot claim to be local."""
    phone = new_page(extra_http_headers={"X-Forwarded-For": "127.0.0.1"})
    _open(phone, proxy.url_for("/"))
    expect(phone.locator(".st-key-ip")).to_have_text("ip_address='127.0.0.2'")


def test_proxy_relays_bytes_and_stops_cleanly(probe_port):
    with LoopbackProxy(probe_port) as p:
        with urllib.request.urlopen(p.url_for("/_stcore/health"), timeout=5) as r:
            assert r.read() == b"ok"
        # An idle connection left open must not keep stop() waiting.
        idle = socket.create_connection(("127.0.0.1", p.port), timeout=5)
        port = p.port
        deadline = time.monotonic() + 5
        while p.connections < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert p.connections == 2
    idle.settimeout(5)
    assert idle.recv(1) == b""  # the proxy closed its end
    idle.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()

"""A first visit on poor Wi-Fi (components/compression.py, .streamlit/config.toml): Streamlit's
bundles come gzipped to a browser that asks, kept from one request to the next, and plain to one
that does not; the page's websocket negotiates permessage-deflate, in the browser and in a raw
handshake."""
from __future__ import annotations

import base64
import gzip
import os
import re
import socket
import time
import urllib.request
from pathlib import Path

import pytest
import streamlit

from components.compression import accepts_gzip, edit_index, kept_as, own_font, streamlit_static_path

from .conftest import wait_for_app

pytestmark = pytest.mark.browser

STATIC = Path(os.path.realpath(Path(streamlit.__file__).parent / "static"))
PAGES = ["assess", "data", "health", "join", "matrices", "pathway", "people", "plan", "portfolio", "progress",
         "start", "workshop"]


def get(url: str, accept_encoding: str | None) -> tuple[int, dict[str, str], bytes]:
    """The raw answer: urllib's own request sends `Accept-Encoding: identity` unless told otherwise."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": accept_encoding} if accept_encoding else {})
    if accept_encoding is None:
        request.remove_header("Accept-encoding")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()


def test_the_page_and_its_bundles_come_gzipped_and_the_websocket_deflated(page, app_url):
    handshakes = []
    cdp = page.context.new_cdp_session(page)
    cdp.on("Network.webSocketHandshakeResponseReceived", lambda e: handshakes.append(e["response"]["headers"]))
    cdp.send("Network.enable")
    html = (STATIC / "index.html").read_bytes()
    bundle = re.search(rb'src="\./(static/js/index\.[^"]+\.js)"', html).group(1).decode()
    on_disk = (STATIC / bundle).read_bytes()
    url = f"{app_url}/{bundle}"

    page.goto(app_url)  # the first script run installs the hook (app.py): the page's first lines
    page.wait_for_selector('[data-testid="stApp"]')
    deadline = time.monotonic() + 90  # the demo data may still be loading on a busy machine
    while get(url, "gzip")[1].get("content-encoding") != "gzip" or not handshakes:
        assert time.monotonic() < deadline, f"no gzip or no websocket handshake: {handshakes}"
        page.wait_for_timeout(250)
    extensions = [v for h in handshakes for k, v in h.items() if k.lower() == "sec-websocket-extensions"]
    assert extensions and all("permessage-deflate" in v for v in extensions), handshakes

    status, headers, body = get(url, "gzip, deflate, br")
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert int(headers["content-length"]) == len(body) < len(on_disk) / 2
    assert "accept-encoding" in headers["vary"].lower()
    assert headers["etag"].startswith('W/"')  # not the plain file's strong ETag
    assert "immutable" in headers["cache-control"]  # Streamlit's own cache headers kept
    assert gzip.decompress(body) == on_disk
    assert get(url, "gzip")[2] == body  # kept: the same bytes the next time

    for plain_client in (None, "identity", "gzip;q=0, br"):
        status, headers, body = get(url, plain_client)
        assert status == 200 and "content-encoding" not in headers, plain_client
        assert body == on_disk and int(headers["content-length"]) == len(on_disk)
        assert "accept-encoding" in headers["vary"].lower()

    # The root page too, and a page's own address (index.html, Streamlit's fallback): kept gzipped,
    # with the server's address named for the pages and without the unused Source Sans preload.
    for path in ("/", "/join"):
        status, headers, body = get(app_url + path, "gzip")
        assert status == 200 and headers.get("content-encoding") == "gzip", path
        assert gzip.decompress(body) == edit_index(html, PAGES, own_font()), path
        assert b"BACKEND_BASE_URL" in gzip.decompress(body) and b"SourceSans" not in gzip.decompress(body)
    # A range request gets the plain bytes asked for.
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip", "Range": "bytes=0-99"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 206 and answer.headers.get("Content-Encoding") is None
        assert answer.read() == on_disk[:100]


def test_a_raw_websocket_handshake_is_offered_permessage_deflate(app_url):
    host = app_url.removeprefix("http://")
    address, port = host.rsplit(":", 1)
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection((address, int(port)), timeout=10) as s:
        s.sendall((f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nOrigin: {app_url}\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: streamlit\r\n"
                   "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n").encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    head = answer.split(b"\r\n\r\n")[0].decode("latin-1").lower()
    assert head.startswith("http/1.1 101"), head
    assert re.search(r"^sec-websocket-extensions: permessage-deflate", head, re.M), head


@pytest.mark.parametrize(("header", "ok"), [
    ("gzip", True), ("gzip, deflate, br, zstd", True), ("br;q=1.0, gzip;q=0.8", True), ("*", True),
    ("", False), ("identity", False), ("gzip;q=0", False), ("GZIP;Q=0.000", False), ("*, gzip;q=0", False),
    ("deflate, br", False), ("gzip;q=x", False),
])
def test_accept_encoding_is_read_as_http_says(header, ok):
    assert accepts_gzip(header) is ok


@pytest.mark.parametrize(("path", "root_path", "base_url", "within"), [
    ("/", "", "", "/"), ("/static/js/index.js", "", "", "/static/js/index.js"), ("/join", "", "", "/join"),
    ("/_stcore/health", "", "", None), ("/staticx/a.js", "", "", None), ("/media/x.png", "", "", None),
    ("/_stcore", "", "", None), ("/auth/login", "", "", None), ("/oauth2callback", "", "", None),
    ("/pcn/join", "", "pcn", "/join"), ("/join/other", "", "", None),
    ("/pcn/static/js/index.js", "", "pcn/", "/static/js/index.js"), ("/pcn", "", "/pcn", "/"),
    ("/pcnx/static/a.js", "", "pcn", None), ("/mount/static/a.js", "/mount", "", "/static/a.js"),
])
def test_only_the_paths_streamlit_leaves_uncompressed_are_taken(path, root_path, base_url, within):
    assert streamlit_static_path(path, root_path, base_url) == within


def test_made_up_addresses_share_index_html_and_nothing_leaves_the_static_folder():
    index = str(STATIC / "index.html")
    html = (STATIC / "index.html").read_bytes()
    bundle = re.search(rb'src="\./(static/js/index\.[^"]+\.js)"', html).group(1).decode()
    assert kept_as("/" + bundle) == str(STATIC / bundle)
    for path in ("/", "/static/", "/static/no-such-file.js", "/static/js", "/static/../../../etc/passwd",
                 "/static/" + "../" * 12 + "etc/passwd"):
        assert kept_as(path) == index, path


def test_edit_index_names_the_server_for_the_pages_and_drops_the_unused_font():
    html = (STATIC / "index.html").read_bytes()
    edited = edit_index(html, ["join", "", "join"], "Arial, <b>sans-serif")
    assert edited.count(b"BACKEND_BASE_URL") == 1 and b'["join"]' in edited
    assert edited.index(b"BACKEND_BASE_URL") < edited.index(b'type="module"')  # before Streamlit's bundle
    assert b"SourceSans" in html and b"SourceSans" not in edited
    assert b"<b>" not in edited and b"font-family: Arial, bsans-serif" in edited
    kept = edit_index(html, ["join"], None)  # the theme uses Source Sans: its preload stays
    assert b"SourceSans" in kept and b"stSkipToContent" not in kept


def test_a_page_opened_at_its_own_address_asks_the_server_once(page, app_url):
    """No health check at /join/_stcore/health (a 404 and a wait) before the right one."""
    page.goto(app_url)  # the first script run installs the hook
    wait_for_app(page)
    asked = []
    page.on("request", lambda r: asked.append(r.url) if "_stcore/health" in r.url else None)
    page.goto(f"{app_url}/join")
    page.get_by_role("button", name="Join").wait_for()
    assert asked == [f"{app_url}/_stcore/health"], asked
    assert page.evaluate("() => window.__streamlit.BACKEND_BASE_URL") == app_url + "/"

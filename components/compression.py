"""Streamlit's own JavaScript, compressed once and kept: a phone's first visit on poor Wi-Fi.

Streamlit's server gzips its other answers but deliberately sends its static bundles (`/static/...`)
and the root page uncompressed (`SelectiveGZipMiddleware` in
streamlit/web/server/starlette/starlette_gzip_middleware.py): Starlette's gzip would compress
every bundle again on every request, and a proxy in front usually compresses anyway. A laptop
running a workshop has no proxy, so a phone fetched 2.9 MB for the join page and 8.7 MB for a page
with a chart (plotly's bundle alone is 4.7 MB); gzipped they are about a third of that.

So the bundles are compressed here once per file (gzip level 9, in a worker thread, one
compression however many phones ask at once) and kept in memory for the life of the process: the
CPU cost Streamlit objects to is paid once, not per request. What is kept is only what browsers
asked for, about 3 MB compressed for every page of this app. Streamlit's static handler still
answers every request (its path checks, index.html fallback, cache headers, 304s, ranges); this
only swaps a whole 200 answer's body for the kept gzip when the browser accepts gzip, and sets
Content-Encoding, Content-Length, `Vary: Accept-Encoding` and a weak ETag (as nginx does when it
compresses). A client that does not accept gzip gets the same bytes as before, with the Vary.

Behind deploy/'s nginx the answer arrives already encoded and nginx's gzip leaves it alone (it
never compresses a response that has a Content-Encoding), so nothing is compressed twice.

The hook is installed from app.py, so it takes effect at the first script run of the process,
not at server start (Streamlit runs no project code before then): the very first page load after
a start, usually the laptop's own browser that `streamlit run` opens, gets its bundles
uncompressed; every browser after it gets them compressed. Streamlit builds its middleware as
the server starts, so the class's method is replaced, which the running instance looks up on each
request. Not under AppTest, which serves no HTTP."""
from __future__ import annotations

import asyncio
import functools
import gzip
import json
import os
import re
from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from streamlit import config, file_util
from streamlit.web.server.starlette.starlette_gzip_middleware import SelectiveGZipMiddleware
from streamlit.web.server.starlette.starlette_routes import BASE_ROUTE_STATIC

_MARK = "_pcn_precompressed"
MINIMUM_SIZE = 1024  # bytes: below this gzip's header costs more than it saves
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/wasm", "image/svg+xml",
                "font/ttf", "font/otf")

_kept: dict[tuple[str, str], bytes] = {}  # (kept_as, the file's ETag) -> its gzip
_pending: dict[tuple[str, str], asyncio.Future] = {}  # the same, while one request compresses it


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (`gzip`, or `*`, with a quality above 0)."""
    allowed: dict[str, bool] = {}
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        allowed[coding.strip().lower()] = quality > 0
    return allowed.get("gzip", allowed.get("*", False))


# Top-level names of Streamlit's own routes (and its auth pages): never a page's address.
_STREAMLIT_ROUTES = frozenset({BASE_ROUTE_STATIC, "_stcore", "media", "component", "app", "auth", "oauth2callback"})


def streamlit_static_path(path: str, root_path: str = "", base_url: str = "") -> str | None:
    """The path within Streamlit's static folder if it is one Streamlit sends from there: the root
    page, a page's own address (one segment, answered with index.html) or `/static/...`; else None."""
    for prefix in (root_path, "/" + base_url.strip("/") if base_url.strip("/") else ""):
        if prefix and (path == prefix or path.startswith(prefix + "/")):
            path = path[len(prefix):] or "/"
    if path == "/" or path.startswith(f"/{BASE_ROUTE_STATIC}/"):
        return path
    segment = path[1:]
    if path.startswith("/") and segment and "/" not in segment and segment not in _STREAMLIT_ROUTES:
        return path
    return None


# ---------------------------------------------------------------------------------------------
# The page itself (index.html, the answer for every page's address)
#
# Opened at a page's own address (/join, /assess), Streamlit's frontend cannot tell whether "join"
# is a page or the path the app is served under, so it first asks /join/_stcore/health, gets a 404,
# waits and only then asks /_stcore/health: about 110 ms before every page other than the first
# one is even requested, more on a phone's slow Wi-Fi. It reads the server's address from
# `window.__streamlit.BACKEND_BASE_URL` when a page sets it (its embedding hook), so a few lines
# before its bundle name the address without the page's name. Streamlit's own guessing still
# applies to anything else (an app served under a path prefix keeps working).
#
# index.html also preloads Source Sans whatever the theme says, and the "Skip to main content" link
# is drawn in it before the theme arrives with the first script run: a theme with its own font (the
# NHS fallback, Arial) would download 170 kB it never uses. So the preload goes and the link gets
# the theme's font from the start.

_HINT = """<script>(function () {
  var pages = %s, parts = location.pathname.replace(/\\/+$/, "").split("/");
  if (pages.indexOf(parts[parts.length - 1]) !== -1) parts.pop();
  window.__streamlit = Object.assign({}, window.__streamlit, {BACKEND_BASE_URL: location.origin + parts.join("/") + "/"});
})();</script>"""
_FONT_PRELOAD = re.compile(rb'\s*<link\s+rel="preload"\s+href="[^"]*SourceSans[^"]*"[^>]*>', re.S)
_page_addresses: tuple[str, ...] = ()


def edit_index(html: bytes, pages: Sequence[str], font: str | None) -> bytes:
    """Streamlit's index.html with the server's address for `pages` named before its bundle loads
    (see above); with `font` (the theme's, when it is not Source Sans), no Source Sans preload and
    the skip link drawn in `font` before the theme arrives."""
    if b"<head>" not in html:
        return html
    head = _HINT % json.dumps(sorted({p for p in pages if p}))
    if font:
        family = re.sub(r"[^\w\s,'\"-]", "", font)
        head += f"<style>[data-testid=\"stSkipToContent\"], noscript {{ font-family: {family} !important; }}</style>"
        html = _FONT_PRELOAD.sub(b"", html, count=1)
    return html.replace(b"<head>", b"<head>\n    " + head.encode(), 1)


def own_font() -> str | None:
    """The theme's font, if nothing is drawn in Source Sans (see theme_uses_source_sans)."""
    return None if theme_uses_source_sans() else config.get_option("theme.font").strip()


def theme_uses_source_sans() -> bool:
    """Whether text or headings may be drawn in Streamlit's own Source Sans: the theme's font unset
    or "sans-serif" (Streamlit's name for it), or a list of fonts without a generic family to fall
    back on (Streamlit appends Source Sans to such a list). Headings and the sidebar follow the
    theme's font unless set."""
    for option in ("theme.font", "theme.headingFont", "theme.sidebar.font", "theme.sidebar.headingFont"):
        try:
            value = (config.get_option(option) or "").strip()
        except RuntimeError:  # an option this Streamlit does not have
            continue
        if not value and option != "theme.font":
            continue
        names = [n.strip().strip("'\"").lower() for n in value.split(",") if n.strip()]
        if not names or names == ["sans-serif"] or not set(names) & _GENERIC_FAMILIES:
            return True
    return False


_GENERIC_FAMILIES = {"sans-serif", "serif", "monospace", "system-ui", "ui-sans-serif", "ui-serif"}


def kept_as(route_path: str) -> str:
    """The file an answer for this path comes from, which names its kept gzip: the file itself, or
    index.html, which Streamlit answers for any path that is no file (so made-up addresses all
    share one entry and cannot fill the memory)."""
    root = os.path.realpath(file_util.get_static_dir())
    candidate = os.path.realpath(os.path.join(root, route_path.lstrip("/")))
    if candidate.startswith(root + os.sep) and os.path.isfile(candidate):
        return candidate
    return os.path.join(root, "index.html")


def compress(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=9, mtime=0)


async def _gzip_of(key: tuple[str, str], body: bytes) -> bytes:
    from anyio import to_thread

    if key in _kept:
        return _kept[key]
    if key in _pending:  # another request is compressing the same file: wait for it
        return await asyncio.shield(_pending[key])
    future = asyncio.get_running_loop().create_future()
    _pending[key] = future
    try:
        packed = await to_thread.run_sync(functools.partial(compress, body))
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
        raise
    finally:
        _pending.pop(key, None)
    _kept[key] = packed
    future.set_result(packed)
    return packed


class _Answered(Exception):
    """Raised from `send` once the kept gzip has gone: stops the static handler before it reads the file."""


def _compressible(headers: Headers) -> bool:
    kind = headers.get("content-type", "").lower()
    return any(kind.startswith(k) for k in COMPRESSIBLE)


async def _serve(app, route_path: str, scope, receive, send) -> None:
    """Run Streamlit's static handler, answering a compressible 200 with the kept gzip."""
    request = Headers(scope=scope)
    wanted = scope["method"] == "GET" and "range" not in request and accepts_gzip(request.get("accept-encoding", ""))
    state = {"mode": "pass", "start": None, "key": None, "body": []}

    async def send_gzip(start: dict, packed: bytes) -> None:
        headers = MutableHeaders(raw=list(start["headers"]))
        headers["content-encoding"] = "gzip"
        headers["content-length"] = str(len(packed))
        headers.add_vary_header("Accept-Encoding")
        if (etag := headers.get("etag")) and not etag.startswith("W/"):
            headers["etag"] = "W/" + etag
        await send({**start, "headers": headers.raw})
        await send({"type": "http.response.body", "body": packed, "more_body": False})

    async def relay(message) -> None:
        if message["type"] == "http.response.start":
            headers = Headers(raw=message["headers"])
            if message["status"] != 200 or "content-encoding" in headers or not _compressible(headers):
                await send(message)
                return
            size = headers.get("content-length")
            key = (kept_as(route_path), headers.get("etag") or "")
            if not wanted or not key[1] or (size is not None and size.isdigit() and int(size) < MINIMUM_SIZE):
                out = MutableHeaders(raw=list(message["headers"]))
                out.add_vary_header("Accept-Encoding")
                await send({**message, "headers": out.raw})
                return
            if key in _kept:
                await send_gzip(message, _kept[key])
                raise _Answered
            state.update(mode="collect", start=message, key=key)
            return
        if message["type"] != "http.response.body" or state["mode"] == "pass":
            await send(message)
        elif state["mode"] == "collect":
            state["body"].append(message.get("body", b""))
            if not message.get("more_body", False):
                body = b"".join(state["body"])
                if state["key"][0] == _index_file():
                    body = edit_index(body, _page_addresses, own_font())
                await send_gzip(state["start"], await _gzip_of(state["key"], body))

    try:
        await app(scope, receive, relay)
    except _Answered:
        pass


def _index_file() -> str:
    return os.path.join(os.path.realpath(file_util.get_static_dir()), "index.html")


def precompressed_static_files(page_addresses: Sequence[str] = ()) -> None:
    """Install the hook (once per process); `page_addresses` are the app's pages' url paths, which
    the page sent for them names as pages (see edit_index)."""
    global _page_addresses
    _page_addresses = tuple(page_addresses)
    if getattr(SelectiveGZipMiddleware.__call__, _MARK, False):
        return
    if config.get_option("global.appTest"):  # no HTTP server under AppTest: nothing to compress
        return
    original = SelectiveGZipMiddleware.__call__

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope.get("method") in ("GET", "HEAD"):
            route_path = streamlit_static_path(scope.get("path", ""), scope.get("root_path", ""),
                                               config.get_option("server.baseUrlPath") or "")
            if route_path is not None:
                await _serve(self.app, route_path, scope, receive, send)
                return
        await original(self, scope, receive, send)

    __call__.__doc__ = original.__doc__
    setattr(__call__, _MARK, True)
    SelectiveGZipMiddleware.__call__ = __call__

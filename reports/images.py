"""Plotly figures to PNG bytes with kaleido, through one browser kept open per process.

Starting Chromium and loading plotly.js into it costs about 2 s, so a process opens one browser
(the `Renderer`) and keeps it: every image after the first takes a tenth of that. The browser is
started in the background, on the first image or earlier through `warm()`, which the command
line calls before it reads the database and the plan page calls when it is shown, so the start
overlaps the rest of the work. Images are drawn in two tabs at once: any number of threads may
ask (Streamlit runs each session's script in its own thread, a batch draws two plans at once);
`pngs()` draws several figures in one call.

What kaleido does between images, and what is done here instead:
- it reloads the tab after every image, which parses plotly.js again (about 0.1 s of a core per
  image); `Plotly.toImage` leaves nothing behind in the page, so a tab here is reloaded only
  every `RELOAD_EVERY` images;
- its page loads MathJax from a CDN, which offline only fails (and chart text is escaped to be
  literal anyway, figures.theme.chart_text), so MathJax is left out.
Neither changes an image: tests/test_images.py compares the bytes.

A browser that dies (killed, out of memory) is noticed on the next image, which starts a new one
and draws again. The browser is closed at exit.
"""
from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import threading
from collections.abc import Sequence
from typing import Any

TABS = 2  # images drawn at once: a batch's two workers, or two sessions of the app
RELOAD_EVERY = 100  # images a tab draws before it is reloaded (a fresh plotly.js, memory given back)
TIMEOUT = 90.0  # seconds one call may take, browser start included


class ChartError(RuntimeError):
    """A chart could not be drawn as an image (no browser, or the browser failed)."""


INSTALL = "Charts in the PDF need Chromium: on Debian or Ubuntu, apt-get install chromium"


def _kaleido_class():
    """kaleido.Kaleido, with a tab put back after an image without reloading it (but every
    RELOAD_EVERY images). Imported here, in the renderer's thread: kaleido takes 0.2 s to import."""
    import kaleido

    class Browser(kaleido.Kaleido):
        drawn = 0

        async def _return_kaleido_tab(self, tab) -> None:  # kaleido reloads after every image
            self.drawn += 1
            if self.drawn % RELOAD_EVERY == 0:
                await tab.reload()
            await self.tabs_ready.put(tab)

    if not hasattr(kaleido.Kaleido, "_return_kaleido_tab"):
        return kaleido.Kaleido  # a kaleido of another shape: keep its own behaviour
    return Browser


class Renderer:
    """One Chromium with `tabs` tabs of plotly.js, kept open, drawing figures for any thread.

    It runs on its own thread and asyncio loop; `start()` returns at once and the browser opens
    in the background; `png()` and `pngs()` wait for it. `starts` counts the browsers opened
    (1 unless one died), `pid` is the live browser's process id."""

    def __init__(self, *, tabs: int = TABS, timeout: float = TIMEOUT):
        self.tabs = tabs
        self.timeout = timeout
        self.starts = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._opening: concurrent.futures.Future | None = None  # resolves to the open browser
        self._closed = False
        self._closing: concurrent.futures.Future | None = None
        self._pid = os.getpid()

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Open the browser in the background if it is not open or opening (returns at once)."""
        with self._lock:
            self._ensure_opening()

    def _ensure_opening(self) -> concurrent.futures.Future:
        """The future of the open browser, a new one if there is none or the last one died (lock held)."""
        if self._closed:
            raise ChartError("the chart renderer was closed")
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name="chart-renderer", daemon=True)
            self._thread.start()
        if self._opening is None or (self._opening.done() and not self._alive(self._opening)):
            old = self._opening
            self._opening = asyncio.run_coroutine_threadsafe(self._open(old), self._loop)
        return self._opening

    async def _open(self, old: concurrent.futures.Future | None):
        if old is not None and old.done() and old.exception() is None:
            await self._close_browser(old.result())
        browser = _kaleido_class()(n=self.tabs, mathjax=False, timeout=self.timeout)
        self.starts += 1
        try:
            await browser.open()
        except BaseException:
            await self._close_browser(browser)
            raise
        return browser

    @staticmethod
    async def _close_browser(browser) -> None:
        try:
            await browser.close()
        except Exception:  # noqa: BLE001 - a browser already gone closes with complaints; it is gone
            pass

    @staticmethod
    def _alive(opening: concurrent.futures.Future) -> bool:
        """A done opening future whose browser is still running (False if it failed to open)."""
        if opening.exception() is not None:
            return False
        process = getattr(opening.result(), "subprocess", None)
        return process is not None and process.poll() is None

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pid(self) -> int | None:
        with self._lock:
            opening = self._opening
        if opening is None or not opening.done() or not self._alive(opening):
            return None
        return opening.result().subprocess.pid

    def close(self, *, wait: bool = True) -> None:
        """Close the browser and stop the renderer's thread; a closed renderer draws nothing.
        `wait=False` starts closing and returns at once (a process that has drawn its last image
        and has other work left); a later close() (at exit) waits for it to end."""
        if os.getpid() != self._pid:
            return  # a forked child's copy: the browser and thread are the parent's
        with self._lock:
            self._closed = True
            if self._loop is None:
                return
            if self._closing is None:
                self._closing = asyncio.run_coroutine_threadsafe(self._shut(self._opening), self._loop)
            closing, loop, thread = self._closing, self._loop, self._thread
        if not wait:
            return
        try:
            closing.result(timeout=15)
        except Exception:  # noqa: BLE001 - at exit, a browser that will not close is left to the OS
            pass
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=5)

    async def _shut(self, opening: concurrent.futures.Future | None) -> None:
        if opening is not None:
            try:
                browser = await asyncio.wrap_future(opening)
            except BaseException:  # noqa: BLE001 - it never opened: nothing to close
                return
            await self._close_browser(browser)

    # -- drawing --------------------------------------------------------------------------------

    def png(self, fig: Any, *, width: int, height: int, scale: float = 2) -> bytes:
        """The figure as PNG bytes, `width` x `height` CSS pixels times `scale`."""
        return self.pngs([(fig, width, height)], scale=scale)[0]

    def pngs(self, figures: Sequence[tuple[Any, int, int]], *, scale: float = 2) -> list[bytes]:
        """(figure, width, height) to PNG bytes each, in order, drawn on all tabs at once."""
        if not figures:
            return []
        opts = [{"format": "png", "width": w, "height": round(h), "scale": scale} for _, w, h in figures]
        specs = [{"fig": fig, "opts": o} for (fig, _, _), o in zip(figures, opts)]
        for attempt in (1, 2):
            with self._lock:
                opening = self._ensure_opening()
            try:
                browser = opening.result(timeout=self.timeout)
            except BaseException as exc:  # noqa: BLE001 - kaleido and choreographer raise several kinds
                raise self._error(exc) from exc
            job = asyncio.run_coroutine_threadsafe(self._draw(browser, specs), self._loop)
            try:
                return job.result(timeout=self.timeout)
            except BaseException as exc:  # noqa: BLE001
                if isinstance(exc, concurrent.futures.TimeoutError):
                    job.cancel()
                if attempt == 1 and not self._alive(opening):
                    continue  # the browser died: the next round opens a new one
                raise self._error(exc) from exc
        raise AssertionError("unreachable")

    @staticmethod
    async def _draw(browser, specs: list[dict]) -> list[bytes]:
        return list(await asyncio.gather(*(browser.calc_fig(s["fig"], opts=s["opts"]) for s in specs)))

    @staticmethod
    def _error(exc: BaseException) -> ChartError:
        return ChartError(f"the chart could not be drawn as an image ({type(exc).__name__}: {exc}). {INSTALL}")


_renderer: Renderer | None = None
_renderer_lock = threading.Lock()


def renderer(*, tabs: int | None = None) -> Renderer:
    """This process's renderer, made on first use (with `tabs` tabs, TABS if not given) and closed at exit."""
    global _renderer
    with _renderer_lock:
        if _renderer is None or _renderer.closed:  # a released renderer gives way to a new one if asked again
            _renderer = Renderer(tabs=tabs or TABS)
            atexit.register(_renderer.close)
        return _renderer


def _forget_renderer() -> None:
    global _renderer, _renderer_lock
    _renderer, _renderer_lock = None, threading.Lock()


# A forked child has the parent's Renderer but not its thread or browser: it makes its own.
os.register_at_fork(after_in_child=_forget_renderer)


def warm(*, tabs: int | None = None) -> None:
    """Start this process's browser in the background, when an image is likely soon (with `tabs`
    tabs if it is the first use: one for a single plan). Returns at once; never fails (a problem
    shows when an image is asked for)."""
    try:
        renderer(tabs=tabs).start()
    except Exception:  # noqa: BLE001
        pass


def release() -> None:
    """This process draws no more images: close its browser in the background (at exit, if
    it is still closing, the process waits for it)."""
    with _renderer_lock:
        r = _renderer
    if r is not None:
        r.close(wait=False)


def png(fig: Any, *, width: int, height: int, scale: float = 2) -> bytes:
    """The figure as PNG bytes, `width` x `height` CSS pixels times `scale`, through this process's browser."""
    return renderer().png(fig, width=width, height=height, scale=scale)


def pngs(figures: Sequence[tuple[Any, int, int]], *, scale: float = 2) -> list[bytes]:
    """Several figures at once through this process's browser: (figure, width, height) each."""
    return renderer().pngs(figures, scale=scale)

"""Plotly figures to PNG bytes with kaleido, through one browser kept open per process.

Starting Chromium costs about 2 s; kaleido's sync server keeps one open, so every image after
the first takes a fraction of that. The server is started on first use and stopped at exit.
Calls are serialised with a lock: the server answers one request at a time, and Streamlit runs
each session's script in its own thread.
"""
from __future__ import annotations

import atexit
import threading

import plotly.graph_objects as go


class ChartError(RuntimeError):
    """A chart could not be drawn as an image (no browser, or the browser failed)."""


_lock = threading.Lock()
_started = False


def _stop() -> None:
    global _started
    import kaleido

    with _lock:
        if _started:
            kaleido.stop_sync_server(silence_warnings=True)
            _started = False


def png(fig: go.Figure, *, width: int, height: int, scale: float = 2) -> bytes:
    """The figure as PNG bytes, `width` x `height` CSS pixels times `scale`."""
    global _started
    import kaleido

    with _lock:
        if not _started:
            # Never kaleido.get_chrome(): it downloads. Debian's /usr/bin/chromium is found by itself.
            kaleido.start_sync_server(silence_warnings=True)
            _started = True
            atexit.register(_stop)
        try:
            return kaleido.calc_fig_sync(fig, opts={"format": "png", "width": width, "height": height, "scale": scale})
        except Exception as exc:  # kaleido raises several kinds; all mean "no image"
            raise ChartError(f"the chart could not be drawn as an image ({type(exc).__name__}: {exc}). "
                             "Charts in the PDF need Chromium: on Debian or Ubuntu, apt-get install chromium") from exc

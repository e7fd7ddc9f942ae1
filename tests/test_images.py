"""The chart renderer (reports/images.py): one Chromium kept open, drawing for any thread, coming
back after the browser dies, closing at exit, and drawing exactly what kaleido draws on its own."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import plotly.graph_objects as go
import pytest

from reports import images

pytestmark = pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs Debian's chromium for kaleido")

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"


def figure(i: int) -> go.Figure:
    fig = go.Figure(go.Bar(x=["a", "b", "c"], y=[i, i + 1, 3 - i], marker_color="#005eb8"))
    fig.update_layout(title=f"Figure {i}", template="none")
    return fig


def size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def gone(pid: int, within: float = 10) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def renderer():
    r = images.Renderer(tabs=2)
    yield r
    r.close()


def test_two_figures_take_one_browser_start(renderer):
    a = renderer.png(figure(1), width=300, height=200, scale=1)
    b = renderer.png(figure(2), width=400, height=250, scale=2)
    assert size(a) == (300, 200) and size(b) == (800, 500)
    assert a != b
    assert renderer.starts == 1 and renderer.pid is not None


def test_many_figures_in_one_call_come_back_in_order_and_match_one_at_a_time(renderer):
    figs = [(figure(i), 300 + 10 * i, 200) for i in range(5)]
    together = renderer.pngs(figs, scale=1)
    alone = [renderer.png(f, width=w, height=h, scale=1) for f, w, h in figs]
    assert together == alone
    assert [size(p)[0] for p in together] == [300, 310, 320, 330, 340]
    assert renderer.starts == 1


def test_threads_share_the_browser(renderer):
    expected = {i: renderer.png(figure(i), width=320, height=200, scale=1) for i in range(4)}
    got: dict[int, bytes] = {}
    errors: list[BaseException] = []

    def draw(i: int) -> None:
        try:
            for _ in range(3):
                got[i] = renderer.png(figure(i), width=320, height=200, scale=1)
                assert got[i] == expected[i]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and got == expected
    assert renderer.starts == 1


def test_a_killed_browser_is_replaced_on_the_next_image(renderer):
    first = renderer.png(figure(1), width=300, height=200, scale=1)
    pid = renderer.pid
    os.killpg(pid, signal.SIGKILL)  # the browser and its tabs' processes, as a crash or the OOM killer would
    assert gone(pid)
    again = renderer.png(figure(1), width=300, height=200, scale=1)
    assert again == first
    assert renderer.starts == 2 and renderer.pid not in (None, pid)


def test_close_ends_the_browser_and_a_closed_renderer_refuses():
    r = images.Renderer(tabs=1)
    r.png(figure(1), width=200, height=100, scale=1)
    pid = r.pid
    r.close()
    assert gone(pid)
    with pytest.raises(images.ChartError):
        r.png(figure(1), width=200, height=100, scale=1)


def test_closing_in_the_background_returns_at_once_and_a_later_close_waits():
    r = images.Renderer(tabs=1)
    r.png(figure(1), width=200, height=100, scale=1)
    pid = r.pid
    t = time.perf_counter()
    r.close(wait=False)
    assert time.perf_counter() - t < 0.1
    r.close()
    assert gone(pid, within=1)


def test_start_returns_at_once_and_the_browser_opens_in_the_background():
    r = images.Renderer(tabs=1)
    try:
        t = time.perf_counter()
        r.start()
        assert time.perf_counter() - t < 0.5
        end = time.monotonic() + 60
        while r.pid is None and time.monotonic() < end:
            time.sleep(0.05)
        assert r.pid is not None and r.starts == 1
        r.png(figure(1), width=200, height=100, scale=1)
        assert r.starts == 1
    finally:
        r.close()


def test_images_are_what_kaleido_draws_with_its_own_settings(renderer):
    """No reload between images and no MathJax change nothing in the picture."""
    import kaleido

    figs = [figure(1), figure(2)]
    ours = [renderer.png(f, width=500, height=300) for f in figs]
    theirs = [kaleido.calc_fig_sync(f, opts={"format": "png", "width": 500, "height": 300, "scale": 2}) for f in figs]
    assert ours == theirs


def in_a_process(code: str, *, timeout: float) -> subprocess.CompletedProcess:
    """Run `code` in a new Python process with the project on its path (argv[1])."""
    return subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, timeout=timeout)


def test_the_process_renderer_closes_its_browser_at_exit(tmp_path):
    """A process that drew a chart leaves no browser behind when it ends."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]);"
            "import plotly.graph_objects as go; from reports import images;"
            "images.png(go.Figure(go.Bar(y=[1, 2])), width=200, height=100, scale=1);"
            "print(images.renderer().pid)")
    r = in_a_process(code, timeout=120)
    assert r.returncode == 0, r.stderr
    assert gone(int(r.stdout.split()[-1]))


def test_after_release_the_process_renderer_opens_again_if_asked(tmp_path):
    """`export-plan` releases the browser once its charts are drawn; a later image still gets drawn."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]);"
            "import plotly.graph_objects as go; from reports import images;"
            "f = go.Figure(go.Bar(y=[1, 2])); a = images.png(f, width=200, height=100, scale=1);"
            "images.release(); b = images.png(f, width=200, height=100, scale=1); print(a == b)")
    r = in_a_process(code, timeout=180)
    assert r.returncode == 0 and r.stdout.split()[-1] == "True", r.stderr

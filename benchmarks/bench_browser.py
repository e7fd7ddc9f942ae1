"""Every page and the main clicks in a real browser at national scale: `python benchmarks/bench_browser.py`.

Builds a temporary SQLite database of synthetic records (about 1,250 PCNs in 42 ICSs, six years)
with one open workshop, starts `streamlit run app.py` on it and, beside it with the same server
flags and the same .streamlit/config.toml, a one-line page (a button and a line of text). Debian's
chromium (Playwright) then measures, each against the one-line page in the same run:

- every page's first visit (a fresh browser context: empty cache, new session) and its warm load
  (a reload in the same context), from the request to idle;
- the main clicks, from the pointer going down to idle: rate an element and switch the domain tab
  (Self-assessment), change the year (ICS portfolio), add a priority (Development plan), and rate
  on a phone that joined the workshop (Join a workshop, 390x844, from 127.0.0.2 as a phone on the
  workshop Wi-Fi would be);
- the bytes each of those moved. The browser reaches each app through a counting TCP relay
  (tests/browser/loopback_proxy.py), so the figures are what crossed the wire (HTTP with its gzip,
  websocket frames with their headers), both ways, not what the browser decoded.

"Idle" is a state, never a fixed wait: for a click, the run it asked for has finished (the
websocket's script_finished message for it, a fragment's or the whole page's), then the page has stopped running and stopped growing
(tests/browser/conftest.py's predicate); the time is when the page reached what it then kept.
Times and bytes are medians of --repeat (warm loads, clicks after one to warm up) and of
--first-visits (first visits); the one-line page is measured before and after the app's pages and
its medians taken over both. Targets, printed as met or not (exit code 1 if any is not):
a rating click under 2.5 times the one-line page's click, every warm page load under 2.5 times
the one-line page's load, under 8 KiB of websocket traffic per rating click, and a phone's first
visit to the join page under 1.2 MB.

`--app-root PATH` measures another checkout's app (its own .streamlit/config.toml and its own
code build the database) with this benchmark. Develop at small scale: `--pcns 60 --repeat 3`.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RATIO_TARGET = 2.5
RATING_BYTES_TARGET = 8 * 1024
PHONE_FIRST_VISIT_TARGET = 1_200_000  # bytes: 1.2 MB
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1400, "height": 1000}
TIMEOUT_MS = 120_000
POLL_MS = 25  # how often the idle predicate is evaluated, so a time is good to about this much
ACTOR = "Benchmark"
NAME_FIELD = "Your name (for the change log)"

# Run with the app's own checkout on sys.path, so the database matches that code's migrations.
SETUP = """
import json, sys, time
from assessments import organisations as orgs
from assessments import ratings as assessing
from assessments import workshop as ws
from assessments import years as Y
from assessments.store import Store
from assessments.synthetic import generate
t = time.perf_counter()
store = Store(sys.argv[1])
summary = generate(store, n_pcns=int(sys.argv[2]))
took = time.perf_counter() - t
year = summary.years[-1]
ics = orgs.list_ics(store)[0].code
pcns = [p.code for p in orgs.pcns(store, ics)]
drafts = [c for c in pcns if any(a.year == year and a.status == "draft" for a in assessing.assessments(store, pcn_code=c))]
pcn = (drafts or pcns)[0]
w = ws.open_workshop(store, pcns[-1], Y.current_year(), by="Benchmark")
print(json.dumps({"summary": str(summary), "seconds": took, "ics": ics, "pcn": pcn, "draft": bool(drafts),
                  "year": year, "previous_year": summary.years[-2], "workshop": w.id, "code": w.code}))
"""

ONE_LINE = """import streamlit as st

st.button("Click")
st.write("One line")
"""

# Where the pointer last went down, in the page's wall clock (ms): a click's time starts there, not
# when Playwright began looking for the element.
POINTER = "document.addEventListener('pointerdown', () => { window.__pcnDown = Date.now(); }, true);"


# ---------------------------------------------------------------------------------------------
# The table

@dataclass
class Row:
    name: str
    ms: float | None
    ratio: float | None  # to the one-line page's figure of the same kind
    bytes_in: int | None  # app -> browser
    bytes_out: int | None = None  # browser -> app
    target: str = ""
    met: bool | None = None  # None: no target for this row
    decoded_in: int | None = None  # websocket payload received, as the browser decoded it

    @property
    def bytes_total(self) -> int | None:
        return None if self.bytes_in is None else self.bytes_in + (self.bytes_out or 0)


def size(n: int | None) -> str:
    if n is None:
        return "-"
    if n < 10_000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1_000_000:.2f} MB"


def format_table(rows: Sequence[Row]) -> str:
    """A plain table: name, ms, ratio to the one-line page, bytes in (+ out), target, met or NOT MET."""
    head = ("", "ms", "x one-line", "bytes in + out", "ws decoded in", "target", "")
    body = [(r.name, "-" if r.ms is None else f"{r.ms:.0f}", "-" if r.ratio is None else f"{r.ratio:.2f}",
             size(r.bytes_in) + ("" if r.bytes_out is None else f" + {size(r.bytes_out)}"), size(r.decoded_in),
             r.target or "-", "" if r.met is None else ("met" if r.met else "NOT MET")) for r in rows]
    widths = [max(len(line[i]) for line in (head, *body)) for i in range(len(head))]
    lines = []
    for line in (head, *body):
        cells = [line[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(line[1:5], widths[1:5])),
                 line[5].ljust(widths[5]), line[6]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# ---------------------------------------------------------------------------------------------
# Measuring

# Settled for a page whose own run has finished: its main area has kept the same number of elements
# for 400 ms. A fragment refreshing itself meanwhile (running, its elements marked stale while it
# redraws) does not count as busy; a change in what the page shows does.
LIVE_SETTLED = """() => {
  const n = document.querySelectorAll('[data-testid="stMainBlockContainer"] *').length;
  if (n <= 5 || n !== window.__pcnCount) {
    window.__pcnCount = n <= 5 ? -1 : n;
    window.__pcnSince = Date.now();
    return false;
  }
  return Date.now() - window.__pcnSince >= 400;
}"""


class Tab:
    """One page of a browser context, with the websocket it has open and what crossed the relay."""

    def __init__(self, context, proxy):
        self.proxy = proxy
        self.page = context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.ws = None
        self.decoded_in = 0  # websocket payload received, as the browser decoded it (after any deflate)
        self.runs = RunLedger()
        self.page.on("websocket", self._socket)

    def _socket(self, ws) -> None:
        self.ws = ws
        self.runs = RunLedger()
        ws.on("framereceived", self._received)
        ws.on("framesent", self.runs.sent)

    def _received(self, payload) -> None:
        self.decoded_in += len(payload)
        self.runs.received(payload)

    def counts(self) -> tuple[int, int, int]:
        return self.proxy.bytes_down, self.proxy.bytes_up, self.decoded_in

    def settled_at(self, *, live: bool = False) -> float:
        """Wait until the page has stopped running and growing; the wall-clock ms it reached that state.

        `live`: the page's own run has finished, so a run now is one of its fragments refreshing
        itself on a timer (the projector's counts, every second): it does not count as busy, but
        any change it makes to the page does."""
        from tests.browser.conftest import _SETTLED

        predicate = LIVE_SETTLED if live else _SETTLED
        self.page.evaluate("() => { window.__pcnCount = -1; }")
        self.page.wait_for_function(predicate, polling=POLL_MS, timeout=TIMEOUT_MS)
        return self.page.evaluate("() => window.__pcnSince")

    def load(self, url: str | None = None) -> Measured:
        """Open url (or reload): ms to idle and bytes in and out meanwhile."""
        before = self.counts()
        socket_before = self.ws
        start = time.time() * 1000
        if url is None:
            self.page.reload(wait_until="commit")
        else:
            self.page.goto(url, wait_until="commit")
        self.page.wait_for_selector('[data-testid="stApp"]')
        # The run the page asked for as it opened its websocket, then idle (fragments refreshing
        # themselves on a timer are the page being live, not loading).
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while self.ws is socket_before or self.runs.user_done < 1:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the page's run never finished: {self.page.url}")
            self.page.wait_for_timeout(POLL_MS)  # lets Playwright deliver the websocket's frames
        end = self.settled_at(live=True)
        return Measured(end - start, *(b - a for a, b in zip(before, self.counts())))

    def click(self, act: Callable[[], None]) -> Measured:
        """Do act (a click), wait for the full run it starts and then idle: ms from the pointer going
        down, and bytes in and out meanwhile."""
        if self.ws is None:
            raise RuntimeError("the page has no websocket open")
        self.page.evaluate("() => { window.__pcnDown = 0; }")
        before = self.counts()
        target = self.runs.user_done + 1  # every run asked for before has finished: the page was idle
        try:
            with self.ws.expect_event("framereceived", predicate=lambda _: self.runs.user_done >= target,
                                      timeout=TIMEOUT_MS):
                act()
        except Exception:
            shot = Path(tempfile.gettempdir()) / f"bench-browser-failed-{int(time.time())}.png"
            self.page.screenshot(path=str(shot), full_page=True)
            print(f"no run finished after the click on {self.page.url}; screenshot {shot}", flush=True)
            raise
        end = self.settled_at()
        start = self.page.evaluate("() => window.__pcnDown")
        if not start:
            raise RuntimeError("the click sent no pointer event")
        return Measured(end - start, *(b - a for a, b in zip(before, self.counts())))

    def name_yourself(self) -> None:
        self.page.get_by_label(NAME_FIELD).fill(ACTOR)
        self.page.keyboard.press("Enter")
        self.settled_at()


class RunLedger:
    """Which script runs the browser asked for (its rerun messages, in order) and which have finished.

    A click asks for a run of the whole script or, for a widget inside a fragment, of that fragment;
    a fragment with run_every is also rerun by the browser on its own timer ("auto" reruns). The
    server runs them in the order asked; each ends with a script_finished message, a fragment's
    with its own status. So the click's run is over when the oldest requests up to it have
    finished. A full run also stands for any fragment reruns queued before it (the server drops them).
    """

    def __init__(self) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.back, self.forward = BackMsg, ForwardMsg
        self.pending: list[str] = []  # "user" or "auto", oldest first
        self.user_done = 0

    def sent(self, payload) -> None:
        if isinstance(payload, str):
            return
        msg = self.back()
        msg.ParseFromString(payload)
        if msg.WhichOneof("type") == "rerun_script":
            self.pending.append("auto" if msg.rerun_script.is_auto_rerun else "user")

    def received(self, payload) -> None:
        if isinstance(payload, str):
            return
        msg = self.forward()
        msg.ParseFromString(payload)
        if msg.WhichOneof("type") != "script_finished":
            return
        if msg.script_finished == self.forward.FINISHED_SUCCESSFULLY:  # a full run: every request up to a user's
            while self.pending:
                if self.pending.pop(0) == "user":
                    self.user_done += 1
                    break
        elif msg.script_finished == self.forward.FINISHED_FRAGMENT_RUN_SUCCESSFULLY and self.pending:
            if self.pending.pop(0) == "user":
                self.user_done += 1


class Measured(NamedTuple):
    ms: float
    bytes_in: int  # on the wire, app -> browser
    bytes_out: int  # on the wire, browser -> app
    decoded_in: int  # websocket payload received, as decoded


@dataclass
class Sample:
    ms: list[float]
    bytes_in: list[int]
    bytes_out: list[int]
    decoded_in: list[int]

    @classmethod
    def of(cls, measured: Sequence[Measured]) -> Sample:
        return cls(*([m[i] for m in measured] for i in range(4)))

    def __add__(self, other: Sample) -> Sample:
        return Sample(self.ms + other.ms, self.bytes_in + other.bytes_in, self.bytes_out + other.bytes_out,
                      self.decoded_in + other.decoded_in)

    @property
    def median_ms(self) -> float:
        return median(self.ms)

    @property
    def median_in(self) -> int:
        return int(median(self.bytes_in))

    @property
    def median_out(self) -> int:
        return int(median(self.bytes_out))

    @property
    def median_decoded(self) -> int:
        return int(median(self.decoded_in))

    def row(self, name: str, baseline: Sample, target: str = "", met: bool | None = None) -> Row:
        return Row(name, self.median_ms, self.median_ms / baseline.median_ms, self.median_in, self.median_out,
                   target, met, self.median_decoded)


def visit(browser, proxy, path: str, repeat: int, firsts: int = 1, *, viewport=LAPTOP,
          phone: bool = False) -> tuple[Sample, Sample]:
    """`firsts` first visits, each in a fresh context; after the last, `repeat` warm reloads in its context."""
    first = []
    for i in range(firsts):
        context = new_context(browser, viewport, phone)
        try:
            tab = Tab(context, proxy)
            first.append(tab.load(proxy.url_for(path)))
            if i == firsts - 1:
                return Sample.of(first), Sample.of([tab.load() for _ in range(repeat)])
        finally:
            context.close()
    raise ValueError("firsts must be at least 1")


def new_context(browser, viewport, phone: bool):
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    context.add_init_script(POINTER)
    return context


def clicks(browser, proxy, path: str, repeat: int, prepare: Callable[[Tab], None], act: Callable[[Tab], None],
           *, after: Callable[[Tab], None] | None = None, viewport=LAPTOP, phone: bool = False) -> Sample:
    """Open path, prepare, then one click to warm up and `repeat` measured ones (`after` each, unmeasured)."""
    context = new_context(browser, viewport, phone)
    try:
        tab = Tab(context, proxy)
        tab.load(proxy.url_for(path))
        prepare(tab)
        measured = []
        for i in range(repeat + 1):
            m = tab.click(lambda: act(tab))
            if i:
                measured.append(m)
            if after is not None:
                after(tab)
        return Sample.of(measured)
    finally:
        context.close()


# The clicks ---------------------------------------------------------------------------------

def other_radio(group):
    """The first option of a radio group that is not the chosen one."""
    radios = group.get_by_role("radio")
    radios.first.wait_for()  # a run that redraws the cards may be just starting
    for i in range(radios.count()):
        if not radios.nth(i).is_checked():
            return radios.nth(i)
    raise RuntimeError("no unchosen option to click")


def rate_element(tab: Tab) -> None:
    group = tab.page.locator('[class*="st-key-element-"]').first.get_by_role("radiogroup", name="Where are we now?")
    other_radio(group).click()


def switch_domain(tab: Tab) -> None:
    tabs = tab.page.locator('[data-testid="stMain"]').get_by_role("tab")
    target = tabs.nth(1) if tabs.nth(0).get_attribute("aria-selected") == "true" else tabs.nth(0)
    target.click()


def change_year(years: tuple[str, str]) -> Callable[[Tab], None]:
    """Choose the other of two years each time, starting from years[0] (the year the page opened on)."""
    chosen = [years[0]]

    def act(tab: Tab) -> None:
        other = years[1] if chosen[0] == years[0] else years[0]
        tab.page.get_by_label("Year", exact=True).click()
        tab.page.evaluate("() => { window.__pcnDown = 0; }")  # the option's click, not the box's
        tab.page.get_by_role("option", name=other, exact=True).click()
        chosen[0] = other
    return act


def add_priority(tab: Tab) -> None:
    tab.page.get_by_role("button", name="Add to priorities").first.click()


def remove_priority(tab: Tab) -> None:
    tab.click(lambda: tab.page.get_by_role("button", name="Remove").first.click())


def join_workshop(tab: Tab) -> None:
    page = tab.page
    page.get_by_label("Your name, as the group will see it").fill("Pat Phone")
    page.get_by_label("Your role").click()
    page.get_by_role("option", name="GP", exact=True).click()
    page.get_by_role("button", name="Join").click()
    page.get_by_text("You joined workshop").wait_for()
    tab.settled_at()


def rate_on_phone(tab: Tab) -> None:
    group = tab.page.locator('[data-testid="stMain"] [role="radiogroup"]').first
    other_radio(group).check(force=True)


# ---------------------------------------------------------------------------------------------
# The run

def build_database(app_root: Path, url: str, pcns: int) -> dict:
    out = subprocess.run([sys.executable, "-c", SETUP, url, str(pcns)], cwd=app_root, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(args) -> list[Row]:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.browser.loopback_proxy import LoopbackProxy
    from tests.oidc.harness import start_streamlit, stop

    app_root = Path(args.app_root).resolve()
    tmp = Path(tempfile.mkdtemp(prefix="pcn-bench-browser-"))
    db = f"sqlite:///{tmp / 'national.db'}"
    setup = build_database(app_root, db, args.pcns)
    print(f"national database: {setup['summary']} in {setup['seconds']:.1f} s", flush=True)
    script = tmp / "one_line.py"
    script.write_text(ONE_LINE)
    started = []
    try:
        app, app_url = start_streamlit(app_root / "app.py", tmp / "app.log", env_extra={"PCN_DATABASE_URL": db},
                                       timeout=120, cwd=app_root)
        started.append(app)
        one, one_url = start_streamlit(script, tmp / "one_line.log", timeout=120, cwd=app_root)
        started.append(one)
        with sync_playwright() as pw, \
                LoopbackProxy(int(app_url.rsplit(":", 1)[1]), source_address="127.0.0.1") as laptop, \
                LoopbackProxy(int(app_url.rsplit(":", 1)[1]), source_address="127.0.0.2") as phone, \
                LoopbackProxy(int(one_url.rsplit(":", 1)[1]), source_address="127.0.0.1") as baseline:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                return run_pages(browser, args.repeat, args.first_visits, setup, laptop, phone, baseline)
            finally:
                browser.close()
    finally:
        for proc in started:
            stop(proc)
        print(f"logs and database in {tmp}")


def run_pages(browser, repeat: int, firsts: int, setup: dict, laptop, phone, baseline) -> list[Row]:
    q = f"ics={setup['ics']}&pcn={setup['pcn']}&year={setup['year']}"
    join = f"/join?code={setup['code']}"
    pages = [("Matrix and pathway", f"/?{q}"), ("Self-assessment", f"/assess?{q}"),
             ("Run a workshop", f"/workshop?{q}"), ("Run a workshop: projector", f"/workshop?w={setup['workshop']}"),
             ("Join a workshop", join), ("PCN progress", f"/progress?{q}"),
             ("ICS portfolio", f"/portfolio?{q}"), ("Development plan", f"/plan?{q}"), ("Pathway", f"/pathway?{q}"),
             ("People and access", f"/people?{q}"), ("Data", f"/data?{q}"), ("Matrices", f"/matrices?{q}"),
             ("System health", f"/health?{q}")]

    def one_line() -> tuple[Sample, Sample, Sample]:
        first, warm = visit(browser, baseline, "/", repeat, firsts)
        click = clicks(browser, baseline, "/", repeat, lambda tab: None,
                       lambda tab: tab.page.get_by_role("button", name="Click").click())
        return first, warm, click

    def step(name: str) -> None:
        print(f"  {time.strftime('%H:%M:%S')} {name}", flush=True)

    # Warm the app (imports, first reads) and the one-line page before anything is measured.
    step("warming up")
    visit(browser, laptop, pages[0][1], 1)
    visit(browser, baseline, "/", 1)
    step("one-line page")
    base = one_line()

    loads: list[tuple[str, Sample, Sample]] = []
    for name, path in pages:
        step(name)
        loads.append((name, *visit(browser, laptop, path, repeat, firsts)))
    step("Join a workshop on a phone")
    phone_first, phone_warm = visit(browser, phone, join, repeat, firsts, viewport=PHONE, phone=True)

    def named(tab: Tab) -> None:
        tab.name_yourself()

    step("clicks")
    rate = clicks(browser, laptop, f"/assess?{q}", repeat, named, rate_element)
    step("  switch domain")
    domain = clicks(browser, laptop, f"/assess?{q}", repeat, named, switch_domain)
    step("  change year")
    year = clicks(browser, laptop, f"/portfolio?{q}", repeat, lambda tab: None,
                  change_year((setup["year"], setup["previous_year"])))
    step("  add a priority")
    priority = clicks(browser, laptop, f"/plan?{q}", repeat, named, add_priority, after=remove_priority)
    step("  rate on a phone")
    phone_rate = clicks(browser, phone, join, repeat, join_workshop, rate_on_phone, viewport=PHONE, phone=True)

    step("one-line page again")
    again = one_line()
    b_first, b_warm, b_click = (a + b for a, b in zip(base, again))

    def warm_row(name: str, warm: Sample) -> Row:
        ratio = warm.median_ms / b_warm.median_ms
        return warm.row(f"{name}: warm load", b_warm, f"< {RATIO_TARGET}x", ratio < RATIO_TARGET)

    def rating_row(name: str, s: Sample) -> Row:
        ratio = s.median_ms / b_click.median_ms
        return s.row(name, b_click, f"< {RATIO_TARGET}x, < {RATING_BYTES_TARGET // 1024} KiB",
                     ratio < RATIO_TARGET and s.median_in + s.median_out < RATING_BYTES_TARGET)

    rows = [b_first.row("one-line page: first visit", b_first), b_warm.row("one-line page: warm load", b_warm),
            b_click.row("one-line page: click", b_click)]
    for name, first, warm in loads:
        rows += [first.row(f"{name}: first visit", b_first), warm_row(name, warm)]
    rows += [phone_first.row("Join a workshop (phone): first visit", b_first, f"< {size(PHONE_FIRST_VISIT_TARGET)}",
                             phone_first.median_in + phone_first.median_out < PHONE_FIRST_VISIT_TARGET),
             warm_row("Join a workshop (phone)", phone_warm),
             rating_row("click: rate an element (Self-assessment)", rate),
             domain.row("click: switch domain (Self-assessment)", b_click),
             year.row("click: change year (ICS portfolio)", b_click),
             priority.row("click: add a priority (Development plan)", b_click),
             rating_row("click: rate in a workshop (phone)", phone_rate)]
    return rows


def describe(app_root: Path) -> str:
    """The checkout measured: its commit, and whether its files differ from it (read-only git)."""
    def git(*args: str) -> str:
        out = subprocess.run(["git", "-C", str(app_root), *args], capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return str(app_root)
    changed = len(git("status", "--porcelain", "--untracked-files=no").splitlines())
    return f"{app_root} at {commit}" + (f" with {changed} changed file(s)" if changed else "")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcns", type=int, default=1250, help="PCNs in the synthetic database (default 1250)")
    parser.add_argument("--repeat", type=int, default=7, help="measurements per figure, of which the median")
    parser.add_argument("--first-visits", type=int, default=3, help="first visits per page (fresh contexts), of which the median")
    parser.add_argument("--app-root", default=str(ROOT), help="the checkout whose app.py is measured")
    parser.add_argument("--out", help="also write the table to this file")
    args = parser.parse_args(argv)
    t = time.perf_counter()
    rows = measure(args)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    text = (f"bench_browser: {describe(Path(args.app_root).resolve())}\n{args.pcns} PCNs; medians of {args.repeat} "
            f"(first visits: of {args.first_visits}); load average {load} at the end; {time.perf_counter() - t:.0f} s\n"
            "bytes in + out: TCP payload through the relay, app -> browser + browser -> app (HTTP as sent, gzip "
            "included; websocket frames with their headers, deflated if the server compresses them);\n"
            "ws decoded in: the websocket messages received as the browser decoded them (Playwright's frames)\n\n"
            + format_table(rows))
    missed = [r.name for r in rows if r.met is False]
    text += f"\n\n{sum(r.met is not None for r in rows) - len(missed)} targets met, {len(missed)} not met"
    text += "".join(f"\n  NOT MET: {name}" for name in missed)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

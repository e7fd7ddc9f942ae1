"""A workshop at full size against one `streamlit run`: `python benchmarks/bench_workshop_load.py`.

A temporary database with the demo data and one open workshop; then the facilitator's projector
view in Debian's chromium (Playwright), 30 participants in real phone-sized browser contexts
(several per browser) and 30 more as light websocket clients that speak Streamlit's protocol as a
browser does (they fill the join form, poll the page's 3-second fragment, rate by sending the
radio's new value as a run of the fragment that draws it). Everyone joins, the room sits idle for a moment (what polling alone costs),
then everyone rates at once for about a minute, with a few seconds' thought between ratings; the
facilitator reveals the results half way and hides them again.

Checks: every rating is stored exactly once with the stage last chosen, and no page shows an
error. Prints: join times; the app process's CPU (idle polling and while rating) and what one
poll costs; memory per connected session; bytes a phone receives per rating; how long the
facilitator's controls take; and, for each rating, the delay from it leaving the phone to the
projector's "Ratings" number counting it (matched to its own save in the app's change log), split
into sent -> saved and saved -> projector. Targets, printed as met or not: median delay under
1.5 s, 95th percentile under 3 s, under 15 MB per session.

The phones' browsers run niced and in a CPU cgroup of nice 19's weight (see `phones_cgroup`): in
the room each phone has its own processor, here thirty share two cores with the app.

`--before` runs Streamlit with its garbage collection after every script run switched back on
(STREAMLIT_RUNNER_POST_SCRIPT_GC=true), as the project shipped before .streamlit/config.toml set
runner.postScriptGC = false. `--app-root` runs the app of another checkout (its own
.streamlit/config.toml applies). Develop at small scale: `--browsers 3 --light 3 --seconds 20`.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_MEDIAN_S = 1.5
TARGET_P95_S = 3.0
TARGET_MB_PER_SESSION = 15
PCN = "U99005"  # Saltmarsh Coast in the demo
ROLES = ("Clinical director", "Practice manager", "GP", "Practice nurse", "Social care")
CHROMIUM = os.environ.get("PCN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
TIMEOUT_MS = 60_000
JOIN_TIMEOUT_S = 180  # a room joins within a few minutes; a phone still waiting after that has failed

# Run in the app's own checkout, so the database matches that code's migrations.
SETUP = """
import json, sys
from assessments import workshop as ws
from assessments.demo import load_demo
from assessments.store import Store
store = Store(sys.argv[1])
load_demo(store)
w = ws.open_workshop(store, sys.argv[2], sys.argv[3], by="Load test")
m = store.matrix(w.matrix_id, w.matrix_version)
print(json.dumps({"id": w.id, "code": w.code, "stages": {s.label: s.id for s in m.stages},
                  "titles": {e.title: e.id for d in m.domains for e in d.elements}}))
"""


# ---------------------------------------------------------------------------------------------
# The app process

def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(app_root: Path, env_extra: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, str]:
    from tests.oidc.harness import start_streamlit

    return start_streamlit(app_root / "app.py", log_path, env_extra=env_extra, timeout=120, cwd=app_root)


# Linux's autogroups: chromium starts each of its processes in a session of its own, and the kernel
# shares the processor fairly between sessions before niceness counts, so `nice` alone left every
# phone's renderer an equal share with the app (the app got 27% of a core while everyone rated). A
# CPU cgroup holds all of the phones' processes whatever sessions they start, with the weight nice 19
# has (15 against 1024).
CGROUP_V1 = Path("/sys/fs/cgroup/cpu")
CGROUP_V2 = Path("/sys/fs/cgroup")
NICE_19_WEIGHT = {"shares": 15, "weight": 1}  # cgroup v1 cpu.shares; v2 cpu.weight (1..10000, 100 is normal)


def phones_cgroup(name: str) -> Path | None:
    """A CPU cgroup of low weight for the phones' browsers, or None where this machine has none to give."""
    try:
        if (CGROUP_V1 / "cpu.shares").exists():
            group, setting, value = CGROUP_V1 / name, "cpu.shares", NICE_19_WEIGHT["shares"]
        elif "cpu" in (CGROUP_V2 / "cgroup.controllers").read_text().split():
            (CGROUP_V2 / "cgroup.subtree_control").write_text("+cpu")
            group, setting, value = CGROUP_V2 / name, "cpu.weight", NICE_19_WEIGHT["weight"]
        else:
            return None
        group.mkdir(exist_ok=True)
        (group / setting).write_text(str(value))
    except OSError:  # not root, or a container without a writable cgroup tree
        return None
    return group


def drop_cgroup(group: Path | None) -> None:
    if group is not None:
        try:
            group.rmdir()  # only once its processes have gone
        except OSError:
            pass


def niced_chromium(folder: Path, nice: int, group: Path | None) -> str:
    """A launcher for chromium at the given niceness and in `group` (its child processes inherit both)."""
    if nice <= 0:
        return CHROMIUM
    exe = folder / "chromium-niced"
    join = f'echo $$ > "{group}/cgroup.procs" 2>/dev/null\n' if group else ""
    exe.write_text(f'#!/bin/sh\n{join}exec nice -n {int(nice)} "{CHROMIUM}" "$@"\n')
    exe.chmod(0o755)
    return str(exe)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---------------------------------------------------------------------------------------------
# What every participant keeps

@dataclass
class Participant:
    name: str
    kind: str  # "browser" or "light"
    joined_s: float | None = None
    chosen: dict[str, str] = field(default_factory=dict)  # element title -> stage label, as last chosen
    acks: list[float] = field(default_factory=list)  # seconds from choosing to the page coming back
    first_chosen_at: list[float] = field(default_factory=list)  # when each element was first rated (epoch)
    first_chosen: dict[str, float] = field(default_factory=dict)  # element title -> when first rated (epoch)
    first_sent: dict[str, float] = field(default_factory=dict)  # element title -> when that left the phone
    sends: list[float] = field(default_factory=list)  # when the phone sent each run it asked for (epoch)
    changed: int = 0  # ratings chosen again for an element already rated
    unanswered: int = 0  # choices with no page back within the timeout
    unanswered_what: list[str] = field(default_factory=list)  # which run each of those was
    errors: list[str] = field(default_factory=list)
    bytes_in: int = 0
    bytes_rating_phase: int = 0
    ratings_in_phase: int = 0


def bare(label: str) -> str:
    """An element's title as its radio shows it, without markdown or the target-rating suffix."""
    return re.sub(r"[\\*]", "", label).split(": where is the network now?")[0].strip()


def choose(p: Participant, title: str, stage: str, at: float | None = None) -> None:
    if title in p.chosen:
        p.changed += 1
    else:
        p.first_chosen_at.append(at or time.time())
        p.first_chosen[title] = at or time.time()
        if p.kind == "light":  # it sends the moment it chooses
            p.first_sent[title] = p.first_chosen[title]
    p.chosen[title] = stage


def stamp(p: Participant, phase: dict) -> None:
    if phase["rating"]:
        p.ratings_in_phase += 1


# ---------------------------------------------------------------------------------------------
# A light participant: Streamlit's websocket protocol, as the browser speaks it

class LightClient:
    """One phone without a browser: it sends the runs a browser would and reads what comes back."""

    def __init__(self, url: str, code: str, p: Participant, phase: dict):
        self.url, self.code, self.p, self.phase = url, code, p, phase
        self.query = f"code={code}"
        self.page_hash = ""
        self.widgets: dict[str, dict] = {}  # widget id -> {"type", "label", "options", "disabled", ...}
        self.states: dict[str, object] = {}  # widget id -> the value this client has sent
        self.fragments: dict[str, float] = {}  # fragment id -> its auto-rerun interval
        self.widget_fragment: dict[str, str] = {}  # widget id -> the fragment drawing it ("" outside any)
        self.awaited = ""  # the fragment whose run this client waits for
        self.awaited_seen = False  # whether that fragment has sent anything since
        self.finished = asyncio.Event()
        self.runs_done = 0
        self.trace: list[tuple[float, str]] = []
        self.sent_at = 0.0
        self.deltas: dict[str, int] = {}  # deltas since the last other message, by where they draw  # the last messages each way, to say what happened to a run with no page back
        self.ws = self.reader = self.poller = None

    async def connect(self) -> None:
        import websockets

        host = self.url.removeprefix("http://")
        self.ws = await websockets.connect(f"ws://{host}/_stcore/stream", subprotocols=["streamlit"],
                                           origin=self.url, max_size=None, open_timeout=60)
        self.reader = asyncio.create_task(self._read())
        self.poller = asyncio.create_task(self._poll())

    async def close(self) -> None:
        for t in (self.poller, self.reader):
            if t is not None:
                t.cancel()
        if self.ws is not None:
            await self.ws.close()

    def _client_state(self, fragment_id: str = "", auto: bool = False, triggers: dict | None = None):
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        cs.page_script_hash = self.page_hash
        if not self.page_hash:
            cs.page_name = "join"
        cs.fragment_id = fragment_id
        cs.is_auto_rerun = auto
        cs.context_info.timezone = "Europe/London"
        cs.context_info.locale = "en-GB"
        cs.context_info.url = f"{self.url}/join?{self.query}"
        for wid, value in {**self.states, **(triggers or {})}.items():
            ws_ = WidgetState(id=wid)
            if value is True and wid in (triggers or {}):
                ws_.trigger_value = True
            else:
                ws_.string_value = str(value)
            cs.widget_states.widgets.append(ws_)
        return msg.SerializeToString()

    async def run(self, *, triggers: dict | None = None, timeout: float = 60, fragment_id: str = "") -> float | None:
        """A run with the current widget values (of the whole page, or of the fragment a changed
        widget belongs to, as the browser sends it); seconds until it finished, None if it never did."""
        self.finished.clear()
        self.awaited, self.awaited_seen = fragment_id, False
        t = time.monotonic()
        self._note(f"sent run {fragment_id[:6] or 'page'}")
        self.sent_at = time.monotonic()
        await self.ws.send(self._client_state(fragment_id=fragment_id, triggers=triggers))
        try:
            await asyncio.wait_for(self.finished.wait(), timeout)
        except TimeoutError:
            return None
        return time.monotonic() - t

    async def _poll(self) -> None:
        # The browser reruns each fragment with run_every on its own timer, and so do we.
        last: dict[str, float] = {}
        while True:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            for fid, every in list(self.fragments.items()):
                if now - last.get(fid, now - every) >= every:
                    last[fid] = now
                    self._note(f"sent auto {fid[:6]}")
                    await self.ws.send(self._client_state(fragment_id=fid, auto=True))

    def _note(self, what: str) -> None:
        self.trace = [*self.trace[-400:], (time.monotonic(), what)]

    def around(self, t: float) -> str:
        """The messages from a second before `t` to ten seconds after it."""
        return " | ".join(f"{at - t:+.2f} {what}" for at, what in self.trace if t - 1 <= at <= t + 10)

    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        async for data in self.ws:
            self.p.bytes_in += len(data)
            if self.phase["rating"]:
                self.p.bytes_rating_phase += len(data)
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "delta":
                where = "frag" if msg.delta.fragment_id else "page"
                self.deltas[where] = self.deltas.get(where, 0) + 1
            elif self.deltas:
                self._note(", ".join(f"{n} deltas ({w})" for w, n in self.deltas.items()))
                self.deltas = {}
            if kind in ("new_session", "session_status_changed"):
                self._note(kind if kind == "new_session" else
                           f"status running={msg.session_status_changed.script_is_running}")
            if kind == "stop_auto_rerun":
                for fid in msg.stop_auto_rerun.fragment_ids:
                    self.fragments.pop(fid, None)
            elif kind == "navigation":
                self.page_hash = msg.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "auto_rerun":
                self.fragments[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
            elif kind == "delta":
                if self.awaited and msg.delta.fragment_id == self.awaited:
                    self.awaited_seen = True
                if msg.delta.WhichOneof("type") == "new_element":
                    self._element(msg.delta.new_element, msg.delta.fragment_id)
            elif kind == "script_finished":
                self._note(f"finished {ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)}")
                # A polled fragment's run finishes too: only the awaited fragment's finish counts.
                if msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY or (
                        msg.script_finished == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY and self.awaited
                        and self.awaited_seen):
                    self.runs_done += 1
                    # As the browser does, forget the values of widgets the run no longer drew (the
                    # last domain's radios after Next): sent again, they would be saved again.
                    self.states = {wid: v for wid, v in self.states.items() if wid in self.widgets}
                    self.finished.set()

    def _element(self, el, fragment_id: str = "") -> None:
        kind = el.WhichOneof("type")
        if kind == "exception":
            self.p.errors.append(f"exception: {el.exception.message[:200]}")
        elif kind == "alert" and el.alert.format == 1:  # ERROR
            self.p.errors.append(f"error: {el.alert.body[:200]}")
        elif kind in ("radio", "text_input", "selectbox", "button"):
            w = getattr(el, kind)
            self.widget_fragment[w.id] = fragment_id
            self.widgets[w.id] = {"type": kind, "label": w.label, "disabled": w.disabled,
                                  "options": list(getattr(w, "options", [])),
                                  "value": w.raw_value if kind == "radio" and w.HasField("raw_value") else None}

    def drop_widgets(self, fragment_id: str) -> None:
        """Forget the widgets a run is about to draw again: the fragment's, or all of them."""
        if not fragment_id:
            self.widgets.clear()
            return
        for wid in [w for w in self.widgets if self.widget_fragment.get(w) == fragment_id]:
            del self.widgets[wid]

    def find(self, kind: str, label_starts: str) -> str | None:
        return next((wid for wid, w in self.widgets.items()
                     if w["type"] == kind and w["label"].startswith(label_starts)), None)

    async def join(self, name: str, role: str) -> bool:
        await self.connect()
        if await self.run(timeout=JOIN_TIMEOUT_S) is None:
            self.p.errors.append("the join page never came")
            return False
        code_id = self.find("text_input", "Workshop code")
        name_id = self.find("text_input", "Your name, as the group")
        role_id = self.find("selectbox", "Your role")
        join_id = self.find("button", "Join")
        if None in (code_id, name_id, role_id, join_id):
            self.p.errors.append("the join form was not found")
            return False
        self.states.update({code_id: self.code, name_id: name, role_id: role})
        self.widgets.clear()
        if await self.run(triggers={join_id: True}, timeout=JOIN_TIMEOUT_S) is None:
            self.p.errors.append("no page back after Join")
            return False
        for wid in (code_id, name_id, role_id):
            self.states.pop(wid, None)  # the form has gone: a browser stops sending its values
        return any(w["type"] == "radio" for w in self.widgets.values())

    def next_choice(self) -> tuple[str, str] | None:
        for wid, w in self.widgets.items():
            if w["type"] == "radio" and not w["disabled"] and w["options"] and wid not in self.states \
                    and not w["label"].startswith("Where should it be"):
                return wid, w["label"]
        return None

    async def rate_once(self, rng: random.Random, stages: list[str]) -> bool:
        """Rate the next element on screen (moving on to the next domain when this one is done)."""
        choice = self.next_choice()
        if choice is None:
            nxt = next((wid for wid, w in self.widgets.items()
                        if w["type"] == "button" and w["label"].startswith("Next")), None)
            if nxt is None:
                return False
            fid = self.widget_fragment.get(nxt, "")
            self.drop_widgets(fid)
            if await self.run(triggers={nxt: True}, fragment_id=fid) is None:
                self.p.unanswered += 1
                self.p.unanswered_what.append(f"Next ({'fragment ' + fid[:8] if fid else 'whole page'}); "
                                              f"messages around it: {self.around(self.sent_at)}")
            return True
        wid, label = choice
        stage = rng.choice([s for s in self.widgets[wid]["options"] if s in stages] or stages)
        self.states[wid] = stage
        choose(self.p, bare(label), stage)
        stamp(self.p, self.phase)
        keep = dict(self.widgets)
        fid = self.widget_fragment.get(wid, "")
        self.drop_widgets(fid)
        took = await self.run(fragment_id=fid)
        if took is None:
            self.p.unanswered += 1
            self.p.unanswered_what.append(f"rating ({'fragment ' + fid[:8] if fid else 'whole page'}); "
                                          f"messages around it: {self.around(self.sent_at)}")
            self.widgets = keep
        else:
            self.p.acks.append(took)
        return True


# ---------------------------------------------------------------------------------------------
# A browser participant: a phone-sized context of Debian's chromium

NEXT_UNRATED = """() => [...document.querySelectorAll('[data-testid="stMain"] [role="radiogroup"]')]
  .findIndex(g => !g.querySelector('input:checked') && !g.querySelector('input:disabled'))"""
IDLE = """() => { const app = document.querySelector('[data-testid="stApp"]');
  return app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-stale="true"]'); }"""
ERRORS = """() => [...document.querySelectorAll('[data-testid="stException"], [data-testid="stAlertContentError"]')]
  .map(e => e.innerText.slice(0, 200))"""


async def browser_join(context, url: str, code: str, p: Participant, role: str, phase: dict, t0: float):
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    page = await context.new_page()
    page.set_default_timeout(JOIN_TIMEOUT_S * 1000)
    # "full" counts runs that drew the rating cards: the whole page's, or the cards' own fragment's
    # (a rating reruns only that fragment; the news fragment's polls draw no radio).
    done = {"full": 0, "radios": False}

    def on_ws(sock):
        def frame(payload):
            if isinstance(payload, str):
                return
            p.bytes_in += len(payload)
            if phase["rating"]:
                p.bytes_rating_phase += len(payload)
            msg = ForwardMsg()
            msg.ParseFromString(payload)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element" \
                    and msg.delta.new_element.WhichOneof("type") == "radio":
                done["radios"] = True
            elif kind == "script_finished" and done["radios"] and msg.script_finished in (
                    ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
                done["full"] += 1
                done["radios"] = False

        def sent(payload):
            if isinstance(payload, str):
                return
            msg = BackMsg()
            msg.ParseFromString(payload)
            if msg.WhichOneof("type") == "rerun_script" and not msg.rerun_script.is_auto_rerun:
                p.sends.append(time.time())
        sock.on("framereceived", frame)
        sock.on("framesent", sent)
    page.on("websocket", on_ws)
    await page.goto(f"{url}/join?code={code}")
    await page.get_by_label("Your name, as the group will see it").fill(p.name)
    await page.get_by_label("Your role").click()
    await page.get_by_role("option", name=role, exact=True).click()
    await page.get_by_role("button", name="Join").click()
    await page.locator('[data-testid="stMain"] [role="radiogroup"]').first.wait_for()
    p.joined_s = time.monotonic() - t0
    page.set_default_timeout(TIMEOUT_MS)
    return page, done


async def browser_rate_once(page, done: dict, p: Participant, rng: random.Random, stages: list[str],
                            phase: dict) -> bool:
    await page.wait_for_function(IDLE, polling=100, timeout=TIMEOUT_MS)
    i = await page.evaluate(NEXT_UNRATED)
    if i < 0:
        nxt = page.get_by_role("button", name="Next")
        if not await nxt.count():
            return False
        before = done["full"]
        await nxt.first.click()
        await _full_run(page, done, before, p)
        return True
    radio = page.locator('[data-testid="stMain"] [data-testid="stRadio"]').nth(i)
    label = await radio.locator('[data-testid="stWidgetLabel"]').first.inner_text()
    stage = rng.choice(stages)
    before = done["full"]
    started, started_at = time.monotonic(), time.time()
    await radio.get_by_role("radiogroup").get_by_text(stage, exact=True).first.click()
    title = bare(label)
    first = title not in p.chosen
    choose(p, title, stage, at=started_at)
    stamp(p, phase)
    if await _full_run(page, done, before, p):
        p.acks.append(time.monotonic() - started)
    if first:  # the first run the phone asked for after the tap carried the rating
        p.first_sent[title] = next((t for t in p.sends if t >= started_at), started_at)
    return True


async def _full_run(page, done: dict, before: int, p: Participant) -> bool:
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while done["full"] <= before:
        if time.monotonic() > deadline:
            p.unanswered += 1
            p.unanswered_what.append("rating")
            return False
        await asyncio.sleep(0.05)
    return True


# ---------------------------------------------------------------------------------------------
# The projector

PROJECTOR_LOG = """() => {
  window.__ratings = [];
  const read = () => {
    for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
      if (m.querySelector('[data-testid="stMetricLabel"]')?.innerText.trim() !== 'Ratings') continue;
      const n = Number(m.querySelector('[data-testid="stMetricValue"]')?.innerText.replace(/,/g, ''));
      const last = window.__ratings.length ? window.__ratings[window.__ratings.length - 1][1] : -1;
      if (!Number.isNaN(n) && n !== last) window.__ratings.push([Date.now(), n]);
    }
  };
  setInterval(read, 50);
}"""


async def facilitator(browser, url: str, workshop_id: int):
    context = await browser.new_context(viewport={"width": 1280, "height": 720})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{url}/workshop?w={workshop_id}")
    box = page.get_by_label("Your name (for the change log)")
    await box.fill("Fran Facilitator")
    await box.press("Enter")
    await page.get_by_role("button", name="Reveal results to participants").wait_for()
    await page.locator('[data-testid="stMetric"]:has-text("Ratings")').first.wait_for()
    await page.evaluate(PROJECTOR_LOG)
    return context, page


async def press(page, button: str, then: str) -> float | None:
    """Click a control; seconds until the page shows its effect (the button's other state), None if
    it never did within the timeout."""
    t = time.monotonic()
    try:
        await page.get_by_role("button", name=button).click(timeout=TIMEOUT_MS)
        await page.get_by_role("button", name=then).wait_for(timeout=TIMEOUT_MS)
    except Exception as exc:  # reported as a failure of the run, not raised past the clean-up
        print(f"the facilitator's {button!r} got no answer: {str(exc).splitlines()[0]}")
        return None
    return time.monotonic() - t


# ---------------------------------------------------------------------------------------------
# The run

def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def participant_ids(db_path: Path, workshop_id: int) -> dict[str, int]:
    con = sqlite3.connect(db_path)
    try:
        return dict(con.execute("SELECT name, id FROM workshop_participant WHERE workshop_id = ?", (workshop_id,)))
    finally:
        con.close()


def first_saves_by_key(log_text: str, workshop_id: int) -> dict[tuple[int, str], float]:
    """(participant id, element id) -> when it was first saved (epoch seconds), from the change lines."""
    first: dict[tuple[int, str], float] = {}
    pattern = re.compile(r"time=(\S+) .*event=change .*action=update entity=workshop_rating key=(\d+)/(\d+)/(\S+)")
    for line in log_text.splitlines():
        m = pattern.search(line)
        if m and int(m.group(2)) == workshop_id and (int(m.group(3)), m.group(4)) not in first:
            first[(int(m.group(3)), m.group(4))] = datetime.fromisoformat(m.group(1).replace("Z", "+00:00")).timestamp()
    return first


def stored(db_path: Path, workshop_id: int) -> list[tuple[str, str, str, datetime]]:
    """(participant, element id, stage, saved at) for every rating in the workshop."""
    con = sqlite3.connect(db_path)
    try:
        rows = con.execute("SELECT p.name, r.element_id, r.stage, r.updated_at FROM workshop_rating r "
                           "JOIN workshop_participant p ON p.id = r.participant_id WHERE r.workshop_id = ?",
                           (workshop_id,)).fetchall()
    finally:
        con.close()

    def when(v) -> datetime:
        d = datetime.fromisoformat(str(v))
        return d.replace(tzinfo=UTC) if d.tzinfo is None else d

    return [(n, e, s, when(u)) for n, e, s, u in rows]


async def main_async(args) -> int:
    from playwright.async_api import async_playwright

    app_root = Path(args.app_root).resolve() if args.app_root else ROOT
    tmp = Path(tempfile.mkdtemp(prefix="pcn-bench-load-", dir=os.environ.get("PCN_BENCH_TMP")))
    db_path = tmp / "load.db"
    from assessments.values import financial_year

    year = financial_year()
    setup = subprocess.run([sys.executable, "-c", SETUP, f"sqlite:///{db_path}", PCN, year], cwd=app_root,
                           env={**os.environ, "PYTHONPATH": str(app_root)}, capture_output=True, text=True)
    if setup.returncode:
        print(setup.stderr)
        return 2
    w = json.loads(setup.stdout.strip().splitlines()[-1])
    stages = list(w["stages"])
    env = {"PCN_DATABASE_URL": f"sqlite:///{db_path}"}
    if args.before:
        env["STREAMLIT_RUNNER_POST_SCRIPT_GC"] = "true"
    print(f"load average at start: {load_average()} (2 cores; other work on the machine counts)")
    group = phones_cgroup(f"pcn-bench-phones-{os.getpid()}") if args.phones_nice > 0 else None
    proc, url = start_app(app_root, env, tmp / "streamlit.log")
    pid = proc.pid
    rng = random.Random(args.seed)
    phase = {"rating": False}
    people = [Participant(f"Browser {i + 1:02d}", "browser") for i in range(args.browsers)] + \
             [Participant(f"Light {i + 1:02d}", "light") for i in range(args.light)]
    print(f"app on {url} ({'garbage collection after every run, as before' if args.before else 'project config'}); "
          f"workshop {w['code']}; {args.browsers} browser and {args.light} light participants; "
          f"{args.seconds} s of rating; phones' browsers at nice {args.phones_nice}"
          + (f" in the CPU cgroup {group} ({NICE_19_WEIGHT})" if group else
             " (no CPU cgroup could be made: the kernel's autogroups may give each phone's renderer the app's share)"))
    async with async_playwright() as pw:
        n_browsers = max(1, -(-args.browsers // args.contexts_per_browser)) + 1
        # The projector's browser is the laptop's and runs as usual. In the room each phone has its own
        # processor; here the phones' browsers share two cores with the app, so they run niced and in
        # a cgroup of nice 19's weight: they get the CPU the app and the projector leave, instead of
        # starving them (30 chromium pages at normal priority took 112% of the machine's 200% and
        # left the app a third of a core).
        phones_exe = niced_chromium(tmp, args.phones_nice, group)
        browsers = [await pw.chromium.launch(executable_path=CHROMIUM if i == 0 else phones_exe, args=CHROMIUM_ARGS)
                    for i in range(n_browsers)]
        try:
            fac_context, projector = await facilitator(browsers[0], url, w["id"])
            # What the projector alone costs: its fragments every 2 s.
            c0, t0 = cpu_seconds(pid), time.monotonic()
            await asyncio.sleep(args.idle)
            facilitator_cpu = (cpu_seconds(pid) - c0) / (time.monotonic() - t0)
            rss_base = rss_mb(pid)

            # Everyone joins at once.
            t_join = time.monotonic()
            contexts, pages, lights = [], [], []
            for i, p in enumerate(people):
                if p.kind == "browser":
                    b = browsers[1 + i // args.contexts_per_browser]
                    contexts.append(await b.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                                        has_touch=True))
            joins = []
            for i, p in enumerate(people):
                role = ROLES[i % len(ROLES)]
                if p.kind == "browser":
                    joins.append(browser_join(contexts[i], url, w["code"], p, role, phase, t_join))
                else:
                    c = LightClient(url, w["code"], p, phase)
                    lights.append(c)
                    joins.append(light_join(c, p, role, t_join))
            results = await asyncio.gather(*(asyncio.wait_for(j, JOIN_TIMEOUT_S) for j in joins),
                                           return_exceptions=True)
            for p, r in zip(people, results, strict=True):
                if isinstance(r, BaseException):
                    where = traceback.extract_tb(r.__traceback__)[-1] if r.__traceback__ else None
                    p.errors.append(f"join failed: {type(r).__name__}: {str(r)[:200]}"
                                    + (f" ({Path(where.filename).name}:{where.lineno})" if where else ""))
                elif p.kind == "browser":
                    pages.append((p, *r))
            joined = [p for p in people if p.joined_s is not None]
            print(f"joined: {len(joined)} of {len(people)}; median {statistics.median([p.joined_s for p in joined]):.1f} s,"
                  f" slowest {max(p.joined_s for p in joined):.1f} s" if joined else "joined: none")

            # The room idle: every phone polling, nobody rating.
            await asyncio.sleep(3)
            c0, t0 = cpu_seconds(pid), time.monotonic()
            await asyncio.sleep(args.idle)
            idle_cpu = (cpu_seconds(pid) - c0) / (time.monotonic() - t0)
            rss_all = rss_mb(pid)
            n_sessions = len(joined) + 1

            # Everyone rates at once; the facilitator reveals half way and hides at three quarters.
            phase["rating"] = True
            end = time.monotonic() + args.seconds
            c0, t0 = cpu_seconds(pid), time.monotonic()
            tasks = [asyncio.create_task(light_loop(c, c.p, rng, stages, end)) for c in lights if c.p.joined_s]
            tasks += [asyncio.create_task(browser_loop(pg, done, p, random.Random(rng.random()), stages, end, phase))
                      for p, pg, done in pages]
            controls = {}
            if not args.no_controls:
                await asyncio.sleep(args.seconds / 2)
                controls["Reveal"] = await press(projector, "Reveal results to participants",
                                                 "Hide results from participants")
                await asyncio.sleep(max(0.0, end - time.monotonic() - args.seconds / 4))
                controls["Hide"] = await press(projector, "Hide results from participants",
                                               "Reveal results to participants")
            await asyncio.gather(*tasks, return_exceptions=True)
            rating_cpu = (cpu_seconds(pid) - c0) / (time.monotonic() - t0)
            phase["rating"] = False
            rss_end = rss_mb(pid)

            # The projector catches up with the last ratings; then every page is looked at again.
            total = len(stored(db_path, w["id"]))
            try:
                await projector.wait_for_function(
                    "(n) => window.__ratings.length && window.__ratings[window.__ratings.length - 1][1] >= n",
                    arg=total, timeout=TIMEOUT_MS)
            except Exception:
                print("the projector never showed every rating")
            log = await projector.evaluate("() => window.__ratings")
            for p, pg, _done in pages:
                p.errors += [f"on the page: {e}" for e in await pg.evaluate(ERRORS)]
            projector_errors = await projector.evaluate(ERRORS)
            for c in lights:
                await c.close()
        finally:
            for b in browsers:
                await b.close()
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
    drop_cgroup(group)

    return report(args, people, stored(db_path, w["id"]), log, w, controls, projector_errors,
                  facilitator_cpu=facilitator_cpu, idle_cpu=idle_cpu, rating_cpu=rating_cpu, rss_base=rss_base,
                  rss_all=rss_all, rss_end=rss_end, n_sessions=n_sessions, log_path=tmp / "streamlit.log",
                  ids=participant_ids(db_path, w["id"]))


async def light_join(c: LightClient, p: Participant, role: str, t0: float) -> None:
    if await c.join(p.name, role):
        p.joined_s = time.monotonic() - t0
    else:
        p.errors.append("could not join")


async def light_loop(c: LightClient, p: Participant, rng: random.Random, stages: list[str], end: float) -> None:
    await asyncio.sleep(rng.uniform(0, 3))  # people start at slightly different moments
    while time.monotonic() < end:
        if not await c.rate_once(rng, stages):
            break
        await asyncio.sleep(rng.uniform(*THINK))


async def browser_loop(page, done, p: Participant, rng: random.Random, stages: list[str], end: float,
                       phase: dict) -> None:
    await asyncio.sleep(rng.uniform(0, 3))
    try:
        while time.monotonic() < end:
            if not await browser_rate_once(page, done, p, rng, stages, phase):
                break
            await asyncio.sleep(rng.uniform(*THINK))
    except Exception as exc:  # a timeout waiting for the page is a failure to report, not to hide
        p.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")


THINK = (2.0, 5.0)  # seconds a person takes over each element


def report(args, people, rows, log, w, controls, projector_errors, *, facilitator_cpu,
           idle_cpu, rating_cpu, rss_base, rss_all, rss_end, n_sessions, log_path, ids) -> int:
    by_title = {bare(t): e for t, e in w["titles"].items()}
    ok = True
    # Every rating stored exactly once, with the stage last chosen.
    expected = {(p.name, by_title.get(t, t)): w["stages"][s] for p in people for t, s in p.chosen.items()}
    got: dict[tuple[str, str], list[str]] = {}
    for name, eid, stage_id, _at in rows:
        got.setdefault((name, eid), []).append(stage_id)
    wrong = [k for k, v in expected.items() if got.get(k) != [v]]
    extra = [k for k in got if k not in expected]
    made = len(expected)
    print(f"ratings: {made} chosen, {len(rows)} stored; missing or wrong: {len(wrong)}; not chosen: {len(extra)}")
    if wrong or extra:
        ok = False
        print("  e.g.", (wrong + extra)[:5])
    unanswered = sum(p.unanswered for p in people)
    acks = [a for p in people for a in p.acks]
    if acks:
        print(f"choice -> page back: median {statistics.median(acks):.2f} s, 95th percentile "
              f"{percentile(acks, 0.95):.2f} s; no page back within {TIMEOUT_MS // 1000} s: {unanswered}")
        for p in people:
            if p.unanswered_what:
                print(f"  no page back for {p.name}: {', '.join(p.unanswered_what)}")
        for kind in ("browser", "light"):  # light clients do not draw the page: theirs is the server's share
            ka = [a for p in people if p.kind == kind for a in p.acks]
            if ka:
                print(f"  {kind} participants: median {statistics.median(ka):.2f} s, 95th percentile "
                      f"{percentile(ka, 0.95):.2f} s over {len(ka)} ratings")
    errors = [(p.name, e) for p in people for e in p.errors] + [("projector", e) for e in projector_errors]
    print(f"errors on pages: {len(errors)}")
    for name, e in errors[:10]:
        print(f"  {name}: {e}")
    ok = ok and not errors and not unanswered

    # Each rating matched exactly: its first save is the app's change line for (participant, element),
    # and the projector has counted it once its "Ratings" number reaches that save's rank among all
    # first saves (a changed rating does not move the number, so only first ones count). The delay
    # runs from the moment the rating left the phone (a light client sends as it chooses; a browser
    # phone's websocket send after the tap), since in the room each phone has its own processor
    # while here 30 share two cores; the tap's own share on these phones is printed beside it.
    saves = first_saves_by_key(log_path.read_text(errors="replace"), w["id"])
    rank = {key: i for i, key in enumerate(sorted(saves, key=saves.get), start=1)}
    times, counts = [t / 1000 for t, _ in log], [n for _, n in log]

    def shown_at(k: int) -> float | None:
        i = next((j for j, n in enumerate(counts) if n >= k), None)
        return None if i is None else times[i]

    sent_to_shown, tap_to_shown, to_save, save_to_shown = {"browser": [], "light": []}, [], [], []
    unmatched = 0
    for p in people:
        pid = ids.get(p.name)
        for title, sent in p.first_sent.items():
            key = (pid, by_title.get(title))
            if key not in saves:
                unmatched += 1
                continue
            shown = shown_at(rank[key])
            if shown is None:
                unmatched += 1
                continue
            sent_to_shown[p.kind].append(max(0.0, shown - sent))
            to_save.append(saves[key] - sent)
            save_to_shown.append(max(0.0, shown - saves[key]))
            if p.kind == "browser":
                tap_to_shown.append(max(0.0, shown - p.first_chosen[title]))
    delays = sent_to_shown["browser"] + sent_to_shown["light"]
    changed = sum(p.changed for p in people)
    if delays:
        med, p95 = statistics.median(delays), percentile(delays, 0.95)
        print(f"rating sent -> projector, each rating matched to its own save: median {med:.2f} s, 95th percentile "
              f"{p95:.2f} s, worst {max(delays):.2f} s over {len(delays)} ratings ({unmatched} not matched or never "
              f"shown; {changed} changed ratings not timed)")
        print(f"  target median under {TARGET_MEDIAN_S} s: {'met' if med < TARGET_MEDIAN_S else 'not met'}; "
              f"95th percentile under {TARGET_P95_S} s: {'met' if p95 < TARGET_P95_S else 'not met'}")
        print(f"  of which sent -> saved: median {statistics.median(to_save):.2f} s, 95th percentile "
              f"{percentile(to_save, 0.95):.2f} s; saved -> projector (its polling and drawing): median "
              f"{statistics.median(save_to_shown):.2f} s, 95th percentile {percentile(save_to_shown, 0.95):.2f} s")
        for kind, values in sent_to_shown.items():
            if values:
                print(f"  {kind} participants: median {statistics.median(values):.2f} s, 95th percentile "
                      f"{percentile(values, 0.95):.2f} s over {len(values)} ratings")
        if tap_to_shown:
            print(f"  browser phones from the tap (their own page's work on this shared machine included): median "
                  f"{statistics.median(tap_to_shown):.2f} s, 95th percentile {percentile(tap_to_shown, 0.95):.2f} s")
        ok = ok and not unmatched
    # The larger of the two: sessions hold more once their pages have ratings and results drawn.
    per_session = (max(rss_all, rss_end) - rss_base) / max(1, n_sessions - 1)
    print(f"memory: {rss_base:.0f} MB with the projector alone, {rss_all:.0f} MB with {n_sessions} sessions, "
          f"{rss_end:.0f} MB after rating: {per_session:.1f} MB per session added "
          f"({max(rss_all, rss_end) / n_sessions:.1f} MB per session all told, the app's own start-up included)")
    print(f"  target under {TARGET_MB_PER_SESSION} MB per session: "
          f"{'met' if per_session < TARGET_MB_PER_SESSION else 'not met'}")
    phones = n_sessions - 1
    polls_per_s = phones / 3
    per_poll_ms = (idle_cpu - facilitator_cpu) / polls_per_s * 1000 if polls_per_s else float("nan")
    print(f"app CPU (one core = 100%): {facilitator_cpu:.0%} with the projector alone ({facilitator_cpu * 2000:.0f} ms "
          f"per 2-second round of its live fragments), {idle_cpu:.0%} with {phones} phones polling "
          f"({per_poll_ms:.1f} ms per phone's 3-second check), {rating_cpu:.0%} while everyone rated")
    for kind in ("browser", "light"):
        group = [p for p in people if p.kind == kind and p.ratings_in_phase]
        if group:
            kb = sum(p.bytes_rating_phase for p in group) / sum(p.ratings_in_phase for p in group) / 1024
            print(f"bytes a phone receives per rating ({kind}, polling included): {kb:.1f} KB")
    if controls:
        print("facilitator's controls while everyone rated (click to page back): "
              + ", ".join(f"{k} {'no answer' if v is None else f'{v:.2f} s'}" for k, v in controls.items()))
        ok = ok and None not in controls.values()
    print(f"load average at end: {load_average()}")
    log_text = log_path.read_text(errors="replace")
    if "Traceback" in log_text:
        ok = False
        print("the app's log has a traceback:\n" + log_text[log_text.index("Traceback"):][:2000])
    print("all ratings stored once, no errors" if ok else "PROBLEMS: see above")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--browsers", type=int, default=30, help="participants in real browser contexts")
    parser.add_argument("--light", type=int, default=30, help="participants as light websocket clients")
    parser.add_argument("--contexts-per-browser", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60, help="how long everyone rates")
    parser.add_argument("--idle", type=float, default=10, help="seconds of idle polling measured for CPU")
    parser.add_argument("--before", action="store_true",
                        help="Streamlit's garbage collection after every run on, as the project shipped before")
    parser.add_argument("--app-root", help="another checkout's app to run (default: this one)")
    parser.add_argument("--no-controls", action="store_true", help="the facilitator does not reveal and hide")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--phones-nice", type=int, default=19,
                        help="niceness of the phones' browsers (0: same priority as the app and the projector)")
    args = parser.parse_args()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())

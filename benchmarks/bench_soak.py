"""A soak of the deployed set-up: `python benchmarks/bench_soak.py` (about 5 minutes with the set-up and sign-ins).

The set-up of deploy/ on 127.0.0.1 (tests/deploy/harness.py: PostgreSQL, the test OpenID Connect
provider, two app processes started with the shipped systemd unit's command, nginx with the
shipped site), then --users simulated people through nginx, half routed to each process by
nginx's routing cookie: --projectors facilitators keep a workshop's projector page open (its counts
refresh every second, its other live parts every 2 and 4 s) and the rest are participants. Each
signs in through the provider (the real redirects, login form and consent, over HTTP), then
speaks Streamlit's websocket protocol as a browser does (benchmarks/bench_workshop_load.py's
light client, here over TLS with the browser's cookies and XSRF token): participants join one of
the workshops, rate an element every few seconds and, once every element is rated, change earlier
ratings, polling the page's 3-second fragment all the while. It runs for --seconds, and stops
sooner after --max-ratings ratings in all.

Prints: requests nginx served (by status), script runs the app processes answered, errors (the
target is none: error messages or tracebacks on a page, runs with no answer, failed sign-ins or
joins, 5xx answers, tracebacks in an app's log, ratings not stored exactly once as last chosen),
the median and 95th percentile of a rating save (choice sent to the page back), and each app
process's memory (RSS) at the start (set up, nobody connected) and at the end. Exit status 1 if
there was any error.
"""
from __future__ import annotations

import argparse
import asyncio
import html.parser
import random
import re
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_workshop_load as load  # noqa: E402  (the light client, as the load benchmark drives one)

from tests.deploy.harness import ROUTE_COOKIE, Deployment, insecure_tls  # noqa: E402

PCNS = ("U99005", "U99006", "U99007", "U99008")  # one workshop each, in the demo ICS
FACILITATOR = "soak.facilitator@nhs.net"


@dataclass
class Plan:
    workshops: list[dict]  # id, code, pcn
    stages: list[str]  # stage labels, as the radios show them
    people: list[str]  # participants' e-mails
    titles: dict[str, str] = field(default_factory=dict)  # element title -> id
    stage_ids: dict[str, str] = field(default_factory=dict)  # stage label -> id


def set_up(database_url: str, plan: Plan, n_workshops: int, n_people: int) -> None:
    import logging

    from assessments import people
    from assessments import workshop as ws
    from assessments.demo import load_demo
    from assessments.store import Store
    from assessments.values import financial_year

    logging.disable(logging.INFO)  # the operator's log would print a line per demo row
    store = Store(database_url)
    try:
        load_demo(store)
        people.grant(store, FACILITATOR, "ics-facilitator", ics_code="QZZ", by="soak set-up")
        for k in range(n_workshops):
            w = ws.open_workshop(store, PCNS[k % len(PCNS)], financial_year(), by="soak set-up")
            plan.workshops.append({"id": w.id, "code": w.code, "pcn": w.pcn_code})
        matrix = store.matrix(w.matrix_id, w.matrix_version)
        plan.stages = [s.label for s in matrix.stages]
        plan.stage_ids = {s.label: s.id for s in matrix.stages}
        plan.titles = {e.title: e.id for dom in matrix.domains for e in dom.elements}
        for i in range(n_people):
            email = f"soak.person{i + 1:02d}@nhs.net"
            people.grant(store, email, "pcn-member", pcn_code=plan.workshops[i % n_workshops]["pcn"], by="soak set-up")
            plan.people.append(email)
    finally:
        store.close()
        logging.disable(logging.NOTSET)


# ---------------------------------------------------------------------------------------------
# Signing in over HTTP: the provider's own pages, as a browser submits them

class Forms(html.parser.HTMLParser):
    """Every form of a page: its action and its inputs (name -> value)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "id": a.get("id"), "inputs": {}})
        elif tag in ("input", "button") and a.get("name") and self.forms:
            self.forms[-1]["inputs"].setdefault(a["name"], a.get("value") or "")


def provider_sign_in(session, start_url: str, email: str, app_url: str) -> None:
    """Follow st.login's redirect to the provider, fill its login form, approve its consent page,
    and come back through nginx to /oauth2callback, which sets Streamlit's signed-in cookie."""
    r = session.get(start_url, timeout=60)
    for _step in range(4):
        if r.url.startswith(app_url):
            break
        parser = Forms()
        parser.feed(r.text)
        form = next((f for f in parser.forms if f["inputs"].get("prompt") in ("login", "consent")), None)
        if form is None:
            raise RuntimeError(f"no login or consent form at {r.url}: {r.text[:300]}")
        data = dict(form["inputs"])
        if data.get("prompt") == "login":
            data.update(login=email, password="any password")
        r = session.post(urljoin(r.url, form["action"]), data=data, timeout=60)
    r.raise_for_status()
    if not r.url.startswith(app_url) or "_streamlit_user" not in session.cookies:
        raise RuntimeError(f"the sign-in did not come back signed in (at {r.url})")


# ---------------------------------------------------------------------------------------------
# A simulated person: the load benchmark's light client, through nginx

class SoakClient(load.LightClient):
    def __init__(self, d: Deployment, route: str, page_name: str, query: str, p: load.Participant, phase: dict,
                 code: str = ""):
        import requests
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # the test certificate
        super().__init__(d.url, code, p, phase)
        self.d, self.page_name, self.query = d, page_name, query
        self.http = requests.Session()
        self.http.verify = False
        self.http.trust_env = False  # no proxy or CA bundle from the environment: all of it is on 127.0.0.1
        self.http.cookies.set(ROUTE_COOKIE, route, domain="127.0.0.1", path="/")
        self.redirect: asyncio.Future | None = None
        self.runs = 0  # script runs answered (whole pages and fragments)
        self.busy = False

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)

    async def connect(self) -> None:
        import websockets

        if "_streamlit_xsrf" not in self.http.cookies:  # the browser's health check before connecting sets it
            await asyncio.to_thread(self.http.get, self.url + "/_stcore/health", timeout=60)
        xsrf = self.http.cookies["_streamlit_xsrf"]
        host = self.url.removeprefix("https://")
        self.ws = await websockets.connect(f"wss://{host}/_stcore/stream", subprotocols=["streamlit", xsrf],
                                           origin=self.url, additional_headers={"Cookie": self.cookie_header()},
                                           ssl=insecure_tls(), max_size=None, open_timeout=60)
        self.reader = asyncio.create_task(self._read())
        self.poller = asyncio.create_task(self._poll())

    async def reconnect(self) -> None:
        await self.close()
        self.page_hash, self.widgets, self.states, self.fragments = "", {}, {}, {}
        await self.connect()

    async def run(self, *, triggers: dict | None = None, timeout: float = 60) -> float | None:
        # A page waiting for its own run sends no fragment reruns meanwhile: one arriving then can
        # absorb the run (it finishes as a fragment run), and the client would wait for nothing.
        self.busy = True
        try:
            return await super().run(triggers=triggers, timeout=timeout)
        finally:
            self.busy = False

    async def _poll(self) -> None:
        last: dict[str, float] = {}
        while True:
            await asyncio.sleep(0.25)
            if self.busy:
                continue
            now = time.monotonic()
            for fid, every in list(self.fragments.items()):
                if now - last.get(fid, now - every) >= every:
                    last[fid] = now
                    await self.ws.send(self._client_state(fragment_id=fid, auto=True))

    def _client_state(self, fragment_id: str = "", auto: bool = False, triggers: dict | None = None):
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        cs.page_script_hash = self.page_hash
        if not self.page_hash:
            cs.page_name = self.page_name
        cs.fragment_id = fragment_id
        cs.is_auto_rerun = auto
        cs.context_info.timezone = "Europe/London"
        cs.context_info.locale = "en-GB"
        cs.context_info.url = f"{self.url}/{self.page_name}?{self.query}"
        for wid, value in {**self.states, **(triggers or {})}.items():
            w = WidgetState(id=wid)
            if value is True and wid in (triggers or {}):
                w.trigger_value = True
            else:
                w.string_value = str(value)
            cs.widget_states.widgets.append(w)
        return msg.SerializeToString()

    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        ok = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)
        try:
            async for data in self.ws:
                self.p.bytes_in += len(data)
                msg = ForwardMsg()
                msg.ParseFromString(data)
                kind = msg.WhichOneof("type")
                if kind == "stop_auto_rerun":
                    for fid in msg.stop_auto_rerun.fragment_ids:
                        self.fragments.pop(fid, None)
                elif kind == "navigation":
                    self.page_hash = msg.navigation.page_script_hash
                elif kind == "page_info_changed":
                    self.query = msg.page_info_changed.query_string
                elif kind == "auto_rerun":
                    self.fragments[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
                elif kind == "auth_redirect" and self.redirect is not None and not self.redirect.done():
                    self.redirect.set_result(msg.auth_redirect.url)
                elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                    self._element(msg.delta.new_element)
                elif kind == "script_finished" and msg.script_finished in ok:
                    self.runs += 1
                    if msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                        self.runs_done += 1
                        self.finished.set()
        except Exception as exc:  # a dropped connection is an error of the soak, not of this task
            if not self.phase.get("over"):
                self.p.errors.append(f"websocket: {type(exc).__name__}: {str(exc)[:150]}")

    async def sign_in(self, email: str) -> None:
        """The sign-in page's button (st.login), then the provider; connected again, signed in."""
        await self.connect()
        if await self.run(timeout=120) is None:
            raise RuntimeError("the sign-in page never came")
        button = self.find("button", "Sign in")
        if button is None:
            raise RuntimeError("no Sign in button")
        self.redirect = asyncio.get_running_loop().create_future()
        await self.ws.send(self._client_state(triggers={button: True}))
        target = await asyncio.wait_for(self.redirect, 60)
        await asyncio.to_thread(provider_sign_in, self.http, urljoin(self.url, target), email, self.url)
        await self.reconnect()

    async def change_once(self, rng: random.Random, stages: list[str]) -> bool:
        """Everything on screen is rated: choose another stage for one of them (people change their minds)."""
        radios = [(wid, w) for wid, w in self.widgets.items() if w["type"] == "radio" and not w["disabled"]
                  and w["options"] and not w["label"].startswith("Where should it be")]
        if not radios:
            return False
        wid, w = rng.choice(radios)
        stage = rng.choice([s for s in w["options"] if s in stages and s != self.states.get(wid)] or stages)
        self.states[wid] = stage
        load.choose(self.p, load.bare(w["label"]), stage)
        keep = dict(self.widgets)
        self.widgets.clear()
        took = await self.run()
        if took is None:
            self.p.unanswered += 1
            self.widgets = keep
        else:
            self.p.acks.append(took)
        return True


@dataclass
class Clock:
    """Everyone signs in and joins first (a few at a time); the soak proper starts when all are in."""
    go: asyncio.Event
    gate: asyncio.Semaphore
    end: float = 0.0
    ratings_left: int = 0


async def participant(c: SoakClient, email: str, role: str, rng: random.Random, stages: list[str], clock: Clock,
                      think: tuple[float, float]) -> None:
    p = c.p
    try:
        async with clock.gate:
            await c.sign_in(email)
            await c.close()
            if not await c.join(p.name, role):
                p.errors.append("could not join")
                return
            p.joined_s = time.monotonic()
        await clock.go.wait()
        await asyncio.sleep(rng.uniform(0, think[1]))  # people start at slightly different moments
        while time.monotonic() < clock.end and clock.ratings_left > 0:
            clock.ratings_left -= 1
            if not await c.rate_once(rng, stages) and not await c.change_once(rng, stages):
                p.errors.append("nothing left to rate on the page")
                break
            await asyncio.sleep(rng.uniform(*think))
        while time.monotonic() < clock.end:  # the ratings are spent: the page stays open, polling
            await asyncio.sleep(0.5)
    except Exception as exc:
        p.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")


async def projector(c: SoakClient, clock: Clock) -> None:
    p = c.p
    try:
        async with clock.gate:
            await c.sign_in(FACILITATOR)
            if await c.run(timeout=120) is None:
                p.errors.append("the workshop page never came")
                return
            p.joined_s = time.monotonic()
        await clock.go.wait()
        while time.monotonic() < clock.end:  # its live fragments rerun by themselves (the poller)
            await asyncio.sleep(0.5)
    except Exception as exc:
        p.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")


def stored(database_url: str, workshop_ids: list[int]) -> list[tuple[str, str, str]]:
    from assessments import workshop as ws
    from assessments.store import Store

    store = Store(database_url)
    try:
        out = []
        for wid in workshop_ids:
            s = ws.summary(store, wid)
            names = {p.id: p.name for p in s.participants}
            out += [(names[r.participant_id], e.element_id, r.stage) for e in s.elements for r in e.ratings]
        return out
    finally:
        store.close()


async def soak(args, d: Deployment, plan: Plan) -> int:
    rng = random.Random(args.seed)
    # Two routing cookies per process, as nginx would have given two sets of browsers.
    routes = {port: [d.route_to(port) for _ in range(2)] for port in d.ports}
    phase = {"over": False, "rating": True}
    clock = Clock(asyncio.Event(), asyncio.Semaphore(args.sign_in_at_once), ratings_left=args.max_ratings)
    rss_start = {port: d.rss_mb(port) for port in d.ports}
    log_start = len(d.access_log())
    clients: list[tuple[SoakClient, int]] = []
    tasks = []
    t0 = time.monotonic()
    for i in range(args.users):
        port = d.ports[i % len(d.ports)]
        route = routes[port][(i // len(d.ports)) % 2]
        if i < args.projectors:
            w = plan.workshops[i % len(plan.workshops)]
            c = SoakClient(d, route, "workshop", f"w={w['id']}", load.Participant(f"Projector {i + 1}", "light"),
                           phase)
            coro = projector(c, clock)
        else:
            k = i - args.projectors
            w = plan.workshops[k % len(plan.workshops)]
            c = SoakClient(d, route, "join", f"code={w['code']}",
                           load.Participant(f"Soak person {k + 1:02d}", "light"), phase, code=w["code"])
            coro = participant(c, plan.people[k], load.ROLES[k % len(load.ROLES)], random.Random(rng.random()),
                               plan.stages, clock, (args.think_min, args.think_max))
        clients.append((c, port))
        tasks.append(asyncio.create_task(coro))
    people = [c.p for c, _ in clients]
    deadline = time.monotonic() + args.join_timeout
    while time.monotonic() < deadline and not all(p.joined_s is not None or p.errors for p in people):
        await asyncio.sleep(0.5)
    n_in = sum(p.joined_s is not None for p in people)
    print(f"signed in through the provider and on their page: {n_in} of {len(people)} in {time.monotonic() - t0:.0f} s"
          f" ({', '.join(f'{sum(pt == port for _c, pt in clients)} routed to {port}' for port in d.ports)})",
          flush=True)
    rss_in = {port: d.rss_mb(port) for port in d.ports}
    log_soak = len(d.access_log())
    runs_start = {port: sum(c.runs for c, pt in clients if pt == port) for port in d.ports}
    started = time.monotonic()
    clock.end = started + args.seconds
    clock.go.set()
    await asyncio.wait(tasks, timeout=args.seconds + 120)
    took = time.monotonic() - started
    rss_end = {port: d.rss_mb(port) for port in d.ports}
    runs = {port: sum(c.runs for c, pt in clients if pt == port) - runs_start[port] for port in d.ports}
    phase["over"] = True
    for task in tasks:
        task.cancel()
    for c, _ in clients:
        await c.close()
    await asyncio.sleep(1)  # nginx logs each websocket as it closes
    lines = d.access_log()
    statuses = [Counter(m.group(1) for line in part if (m := re.search(r'" (\d{3}) ', line)))
                for part in (lines[log_start:], lines[log_soak:])]
    return report(d, plan, people, statuses, runs, (rss_start, rss_in, rss_end), took)


def report(d, plan, people, statuses, runs, rss, took) -> int:
    print(f"soak: {took:.0f} s with {len(people)} users through nginx; load average now "
          f"{load.load_average()} (2 cores, shared)")
    for what, counted in zip(("in all (sign-ins included)", "during the soak"), statuses, strict=True):
        by_class = Counter(f"{s[0]}xx" for s in counted.elements())
        print(f"HTTP requests nginx served {what}: {sum(counted.values())} "
              f"({', '.join(f'{k} {v}' for k, v in sorted(by_class.items()))})")
    print("requests over the websockets (script runs: pages, ratings, live fragments) during the soak: "
          + ", ".join(f"{n} by {port}" for port, n in runs.items()) + f", {sum(runs.values())} in all "
          f"({sum(runs.values()) / took:.1f} a second)")
    acks = [a for p in people for a in p.acks]
    if acks:
        print(f"rating saves: {len(acks)}; choice -> page back: median {statistics.median(acks):.2f} s, "
              f"95th percentile {load.percentile(acks, 0.95):.2f} s, worst {max(acks):.2f} s")
    # Every rating stored exactly once, with the stage last chosen.
    by_title, stage_id = plan.titles, plan.stage_ids
    expected = {(p.name, by_title.get(t, t)): stage_id.get(s, s) for p in people for t, s in p.chosen.items()}
    got: dict[tuple[str, str], list[str]] = {}
    for name, eid, stage in stored(d.database_url, [w["id"] for w in plan.workshops]):
        got.setdefault((name, eid), []).append(stage)
    wrong = [k for k, v in expected.items() if got.get(k) != [v]]
    extra = [k for k in got if k not in expected]
    errors = [(p.name, e) for p in people for e in p.errors]
    errors += [("stored", f"{len(wrong)} ratings missing or wrong, e.g. {wrong[:3]}")] if wrong else []
    errors += [("stored", f"{len(extra)} ratings nobody chose, e.g. {extra[:3]}")] if extra else []
    unanswered = sum(p.unanswered for p in people)
    errors += [("runs", f"{unanswered} choices had no page back within the timeout")] if unanswered else []
    errors += [("nginx", f"{n} answers {s}") for s, n in statuses[0].items() if s.startswith("5")]
    for port in d.ports:
        text = d.app_log(port).read_text(errors="replace")
        if "Traceback" in text:
            errors.append((f"app {port}", "traceback in the log: " + text[text.index("Traceback"):][:300]))
    print(f"ratings stored: {sum(len(v) for v in got.values())}, as chosen: {len(expected) - len(wrong)} of "
          f"{len(expected)}")
    print(f"errors: {len(errors)} (target: none)")
    for who, e in errors[:15]:
        print(f"  {who}: {e}")
    start, joined, end = rss
    for port in d.ports:
        print(f"memory (RSS) of the app process on {port}: {start[port]:.0f} MB at the start (nobody connected), "
              f"{joined[port]:.0f} MB with everyone in, {end[port]:.0f} MB at the end")
    return 1 if errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="simulated people in all (projectors included)")
    parser.add_argument("--projectors", type=int, default=2, help="of them, facilitators with a projector page open")
    parser.add_argument("--workshops", type=int, default=2, help="workshops the participants are shared among")
    parser.add_argument("--seconds", type=float, default=180, help="how long the soak runs once everyone is in")
    parser.add_argument("--max-ratings", type=int, default=5000, help="stop rating after this many in all")
    parser.add_argument("--think-min", type=float, default=2.0, help="seconds a person takes over an element, at least")
    parser.add_argument("--think-max", type=float, default=5.0, help="... and at most")
    parser.add_argument("--sign-in-at-once", type=int, default=6,
                        help="people signing in and joining at the same moment (the rest wait their turn)")
    parser.add_argument("--join-timeout", type=float, default=600, help="seconds for everyone to sign in and join")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    if args.users <= args.projectors or not 1 <= args.workshops <= len(PCNS):
        parser.error("--users must exceed --projectors, and --workshops be 1 to 4")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop everything on the way out
    plan = Plan([], [], [])
    tmp = Path(tempfile.mkdtemp(prefix="pcn-soak-"))
    print(f"setting up: PostgreSQL, the OIDC provider, 2 app processes, nginx (load average "
          f"{load.load_average()})", flush=True)
    with Deployment(tmp, setup=lambda url: set_up(url, plan, args.workshops, args.users - args.projectors)) as d:
        print(f"nginx on {d.url} in front of {d.ports}; logs in {tmp}", flush=True)
        return asyncio.run(soak(args, d, plan))


if __name__ == "__main__":
    raise SystemExit(main())

"""The set-up of deploy/, as an ICS would run it, on 127.0.0.1 (tests/deploy/harness.py): PostgreSQL,
two app processes started with the shipped systemd unit's command, nginx with the shipped site and
the OpenID Connect provider of the sign-in tests.

- nginx: every answer carries the security headers; a browser gets a routing cookie once and
  stays on one process; uploads over the app's limit stop at nginx; plain http goes to https.
- In real browsers through nginx: the facilitator's projector on one process and the participants
  on the other see each other's work; the participants' process is killed with SIGKILL in the
  middle of the workshop, their browsers reconnect to the survivor by themselves and carry on,
  and every rating they were told was saved is stored once.
- The backup timer's command (ExecStart of the shipped unit) writes a backup that restores into an
  empty database as identical data.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, wait_for_app
from tests.oidc.harness import sign_in

from .conftest import FACILITATOR, PARTICIPANTS
from .harness import ROOT, ROUTE_COOKIE, fetch

pytestmark = pytest.mark.browser
WAIT = 60_000  # ms: two app processes, nginx, PostgreSQL and three browsers on a busy two-core machine
expect.set_options(timeout=WAIT)

PROGRESS = '[data-testid="stProgress"]'
# The projector's "Ratings" number has reached n (polled in the page, so the change is seen at once).
RATINGS_AT_LEAST = """(n) => [...document.querySelectorAll('[data-testid="stMetric"]')].some(m =>
    m.querySelector('[data-testid="stMetricLabel"]')?.innerText.trim() === "Ratings"
    && Number(m.querySelector('[data-testid="stMetricValue"]')?.innerText) >= n)"""
METRIC = '[data-testid="stMetric"]:has-text("{}") [data-testid="stMetricValue"]'
HEADERS = {
    "content-security-policy": None,  # checked below
    "x-content-type-options": "nosniff",
    "x-frame-options": "SAMEORIGIN",
    "referrer-policy": "same-origin",
    "strict-transport-security": "max-age=31536000",
}


def route_of(headers: dict[str, list[str]]) -> str | None:
    for value in headers.get("set-cookie", []):
        if value.startswith(ROUTE_COOKIE + "="):
            return value.split(";")[0].split("=", 1)[1]
    return None


def test_nginx_routes_by_cookie_and_sets_the_headers(deployment):
    d = deployment
    status, headers, body = fetch(d.url + "/")
    assert status == 200 and b"<html" in body
    assert headers["server"] == ["nginx"]  # server_tokens off: no version
    for name, value in HEADERS.items():
        assert headers.get(name), f"no {name} header"
        if value is not None:
            assert headers[name] == [value]
    csp = headers["content-security-policy"][0]
    for part in ("default-src 'self'", "frame-ancestors 'self'", "object-src 'none'", "connect-src 'self'"):
        assert part in csp

    # A browser without a routing cookie is given one (with the page and with an error alike)...
    route = route_of(headers)
    assert route is not None and re.fullmatch(r"[0-9a-f]{32}", route)
    cookie = next(v for v in headers["set-cookie"] if v.startswith(ROUTE_COOKIE + "="))
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {p.strip() for p in cookie.split(";")}
    # ... and no other once it has one, and stays on one process; a forged value is replaced.
    again = fetch(d.url + "/", headers={"Cookie": f"{ROUTE_COOKIE}={route}"})[1]
    assert route_of(again) is None
    assert route_of(fetch(d.url + "/", headers={"Cookie": f"{ROUTE_COOKIE}=../../etc"})[1]) is not None
    assert len({d.served_by(route) for _ in range(4)}) == 1
    # Both processes take browsers: each has a cookie that reaches it.
    assert {d.served_by(d.route_to(port)) for port in d.ports} == set(d.ports)

    # Streamlit's bundles come compressed.
    js = re.search(rb'src="\./(static/js/index\.[^"]+\.js)"', body).group(1).decode()
    status, headers, _ = fetch(f"{d.url}/{js}", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("content-encoding") == ["gzip"]

    # Uploads: nginx stops a body over the app's 20 MB (plus the multipart envelope); one within
    # it reaches the app (which answers for itself: no session, so not 413).
    upload = f"{d.url}/_stcore/upload_file/none/none"
    assert fetch(upload, method="PUT", data=b"x" * (22 * 1024 * 1024), timeout=60)[0] == 413
    assert fetch(upload, method="PUT", data=b"x" * (20 * 1024 * 1024), timeout=60)[0] != 413

    # Plain http is sent to https; Streamlit's agent API is not served.
    status, headers, _ = fetch(f"http://127.0.0.1:{d.http_port}/join?code=X")
    assert status == 301 and headers["location"][0].startswith("https://")
    assert fetch(d.url + "/_stcore/agent/openapi.json")[0] == 404
    # The access log names the path, never the query (a rejoin link's ?p= is a participant's secret).
    fetch(d.url + "/join?p=SECRET-TOKEN-VALUE")
    assert not any("SECRET-TOKEN-VALUE" in line for line in d.access_log())


# ---------------------------------------------------------------------------------------------
# A workshop across two processes, one of them killed

class Watched:
    """A browser page through nginx, with its websockets and any Content Security Policy refusal seen."""

    def __init__(self, context, name: str):
        self.context, self.name = context, name
        self.page = context.new_page()
        self.page.set_default_timeout(WAIT)
        self.sockets: list[dict] = []
        self.refused: list[str] = []
        self.page.on("websocket", self._socket)
        self.page.on("console", lambda m: self.refused.append(m.text) if "Content Security Policy" in m.text else None)
        self.page.on("pageerror", lambda e: self.refused.append(f"page error: {e}"))

    def _socket(self, ws) -> None:
        entry = {"url": ws.url, "closed": False}
        self.sockets.append(entry)
        ws.on("close", lambda *_: entry.update(closed=True))

    def from_here(self) -> None:
        """Count websockets from now on: one a page has left may never report its closing."""
        self.sockets = []

    def open_sockets(self) -> int:
        return sum(not s["closed"] for s in self.sockets if s["url"].endswith("/_stcore/stream"))


def browser_for(browser, d, port: int, name: str, **kw) -> Watched:
    """A browser whose routing cookie nginx sends to the app process on this port."""
    context = browser.new_context(ignore_https_errors=True, **kw)
    context.add_cookies([d.route_cookie(d.route_to(port))])
    return Watched(context, name)


def enter(w: Watched, url: str, email: str) -> None:
    """Sign in through the OpenID Connect provider, as on the ICS's server."""
    page = w.page
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("button", name="Sign in").click()
    sign_in(page, email, timeout=WAIT)
    wait_for_app(page)


def join(w: Watched, url: str, code: str, name: str, role: str) -> None:
    page = w.page
    page.goto(f"{url}/join?code={code}")
    wait_for_app(page)
    page.get_by_label("Your name, as the group will see it").fill(name)
    page.get_by_label("Your role").click()
    page.get_by_role("option", name=role, exact=True).click()
    page.get_by_role("button", name="Join").click()
    expect(page.locator(PROGRESS)).to_contain_text("Domain 1 of 5 · 0 of 22 rated")
    wait_for_app(page)


def rate(w: Watched, element: int, stage: str, rated_before: int) -> None:
    """Choose a stage on the phone and wait until the page says it is saved (the acknowledgement)."""
    page = w.page
    group = page.get_by_role("radiogroup").nth(element)
    expect(group.get_by_role("radio", name=stage)).to_be_enabled()
    group.get_by_text(stage, exact=True).click()
    expect(page.locator(PROGRESS)).to_contain_text(f"· {rated_before + 1} of 22 rated")
    card = group.locator("xpath=ancestor::div[@data-testid='stVerticalBlock'][1]")
    expect(card).to_contain_text(f"Saved: {stage}.")
    wait_for_app(page)


def wait_until(what: str, check, page, timeout_s: float = WAIT / 1000) -> None:
    """Poll a condition on the Python side (Playwright's own event loop runs meanwhile)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(100)


def stored(d, workshop_id: int) -> tuple[list[str], dict[tuple[str, str], list[str]]]:
    """The workshop's participants, and each (participant, element)'s stored stages."""
    from assessments import workshop as ws
    from assessments.store import Store

    store = Store(d.database_url)
    try:
        s = ws.summary(store, workshop_id)
        names = {p.id: p.name for p in s.participants}
        got: dict[tuple[str, str], list[str]] = {}
        for e in s.elements:
            for r in e.ratings:
                got.setdefault((names[r.participant_id], e.element_id), []).append(r.stage)
        return sorted(names.values()), got
    finally:
        store.close()


def test_a_workshop_across_two_processes_survives_losing_one(browser, deployment, workshop):
    d = deployment
    projector_port, phones_port = d.ports
    from assessments.store import Store

    store = Store(d.database_url)
    try:
        from assessments import workshop as ws

        w = ws.get_workshop(store, workshop.id)
        matrix = store.matrix(w.matrix_id, w.matrix_version)
    finally:
        store.close()
    elements = [e.id for e in matrix.domains[0].elements]
    stage_id = {s.label: s.id for s in matrix.stages}
    watched: list[Watched] = []
    try:
        fac = browser_for(browser, d, projector_port, "projector", viewport={"width": 1400, "height": 1000})
        watched.append(fac)
        enter(fac, d.url, FACILITATOR)
        projector = fac.page
        fac.from_here()
        projector.goto(f"{d.url}/workshop?w={workshop.id}")
        wait_for_app(projector)
        expect(projector.locator(METRIC.format("Joined"))).to_have_text("0")

        phones = []
        for email, name, role in PARTICIPANTS:
            phone = browser_for(browser, d, phones_port, name, viewport={"width": 420, "height": 900},
                                is_mobile=True, has_touch=True)
            watched.append(phone)
            enter(phone, d.url, email)
            phone.from_here()
            join(phone, d.url, workshop.code, name, role)
            phones.append(phone)
        # The projector's process sees who joined through the other one.
        expect(projector.locator(METRIC.format("Joined"))).to_have_text("2")

        # Ratings made on the phones' process reach the projector on the other.
        acknowledged: dict[tuple[str, str], str] = {}
        plan = {0: ["Step 1", "Step 2", "Step 3", "Step 1"], 1: ["Step 3", "Step 2", "Foundation", "Step 2"]}
        done = 0
        for element in (0, 1):
            for i, phone in enumerate(phones):
                rate(phone, element, plan[i][element], rated_before=element)
                acknowledged[(phone.name, elements[element])] = stage_id[plan[i][element]]
                done += 1
                projector.wait_for_function(RATINGS_AT_LEAST, arg=done, timeout=WAIT)

        # The facilitator's pause, made on the projector's process, reaches the phones on the other.
        projector.get_by_role("button", name="Pause rating").click()
        for phone in phones:
            expect(phone.page.get_by_text("The facilitator has paused rating")).to_be_visible()
            expect(phone.page.get_by_role("radiogroup").nth(2).get_by_role("radio").first).to_be_disabled()
        projector.get_by_role("button", name="Resume rating").click()
        for phone in phones:
            expect(phone.page.get_by_role("radiogroup").nth(2).get_by_role("radio").first).to_be_enabled()
            wait_for_app(phone.page)
        screenshot(projector, "deployed-projector-before-kill")
        before = [len(p.sockets) for p in phones]
        projector_sockets = len(fac.sockets)
        assert [len(w.sockets) for w in watched] == [1, 1, 1]  # one websocket each since its page opened
        assert all(w.open_sockets() == 1 for w in watched)

        # The phones' process dies in the middle of the workshop.
        d.kill(phones_port)
        for phone, n in zip(phones, before, strict=True):
            # Their websocket ends with the process; the browser opens another by itself, which nginx
            # sends to the surviving process, and the page carries on where it was.
            wait_until(f"{phone.name}'s browser to reconnect",
                       lambda p=phone, n=n: len(p.sockets) > n and p.open_sockets() == 1, phone.page)
            wait_for_app(phone.page)
            expect(phone.page.locator(PROGRESS)).to_contain_text("Domain 1 of 5 · 2 of 22 rated")
        assert all(d.served_by(_route(phone)) == projector_port for phone in phones)  # nginx moved them
        # The projector's own connection was never touched: it was on the other process all along.
        assert len(fac.sockets) == projector_sockets and fac.open_sockets() == 1

        # They carry on rating, now on the survivor, and the projector counts every rating.
        for element in (2, 3):
            for i, phone in enumerate(phones):
                rate(phone, element, plan[i][element], rated_before=element)
                acknowledged[(phone.name, elements[element])] = stage_id[plan[i][element]]
                done += 1
                projector.wait_for_function(RATINGS_AT_LEAST, arg=done, timeout=WAIT)
        expect(projector.locator(METRIC.format("Ratings"))).to_have_text(str(done))
        screenshot(phones[0].page, "deployed-phone-after-kill")
        screenshot(projector, "deployed-projector-after-kill")

        # Every acknowledged rating is stored, once, as chosen; nobody joined twice on reconnecting.
        names, got = stored(d, workshop.id)
        assert names == sorted(name for _e, name, _r in PARTICIPANTS)
        assert got == {key: [stage] for key, stage in acknowledged.items()}
        # The killed process comes back (systemd's Restart=always): once nginx tries it again
        # (fail_timeout), the browsers hashed to it are sent there for their next page.
        d.restart(phones_port)
        wait_until("nginx to send the phones back to their process",
                   lambda: d.served_by(_route(phones[0])) == phones_port, projector, timeout_s=60)
        for w in watched:  # no page shows a traceback
            expect(w.page.locator('[data-testid="stException"]')).to_have_count(0)
        refused = [(w.name, r) for w in watched for r in w.refused]
        assert refused == [], refused  # the Content Security Policy let Streamlit's pages work
    except BaseException:
        print(d.logs())
        raise
    finally:
        for w in watched:
            w.context.close()


def _route(w: Watched) -> str:
    return next(c["value"] for c in w.context.cookies() if c["name"] == ROUTE_COOKIE)


# ---------------------------------------------------------------------------------------------
# The backup timer

def test_the_backup_timers_command_restores_to_identical_data(deployment, tmp_path):
    d = deployment
    folder = Path(d.env["PCN_BACKUP_DIR"])
    cmd = d.backup_command()  # ExecStart of deploy/systemd/pcn-dashboard-backup.service
    assert cmd[1:4] == ["cli.py", "backup", "--dir"] and cmd[4] == str(folder) and "--keep" in cmd
    r = subprocess.run(cmd, cwd=ROOT, env=d.unit_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    [written] = list(folder.glob("pcn-backup-*.json"))
    assert re.fullmatch(r"pcn-backup-\d{8}T\d{6}Z\.json", written.name)

    other = d.postgres.create_database()
    env = {**d.unit_env(), "PCN_DATABASE_URL": d.postgres.url(other)}
    r = subprocess.run([sys.executable, "cli.py", "restore", str(written)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr

    def backup_of(url: str, name: str) -> dict:
        out = tmp_path / name
        done = subprocess.run([sys.executable, "cli.py", "backup", "-o", str(out)], cwd=ROOT,
                              env={**d.unit_env(), "PCN_DATABASE_URL": url}, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(out.read_text())

    timer = json.loads(written.read_text())
    assert len(timer["tables"]["pcn"]["rows"]) == 8 and timer["tables"]["workshop"]["rows"]  # the demo and the workshop
    assert backup_of(d.postgres.url(other), "restored.json") == timer
    assert backup_of(d.database_url, "original.json") == timer

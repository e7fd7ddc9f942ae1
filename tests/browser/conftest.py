"""A real `streamlit run app.py` on 127.0.0.1 and Debian's chromium driven by Playwright.

Playwright's own browser download does not work offline, so the tests launch /usr/bin/chromium
(installed by scripts/test.sh with apt-get). Screenshots go to test-artifacts/screenshots/.
"""
from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest
from tests.oidc.harness import stop

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("PCN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(env_extra: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on 127.0.0.1 with these settings; returns once it answers /_stcore/health."""
    from tests.oidc.harness import start_streamlit

    return start_streamlit(ROOT / "app.py", log_path, env_extra=env_extra)


APP_DATABASES: dict[str, str] = {}  # the session app's URL -> its database URL


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("app")
    db = f"sqlite:///{tmp / 'browser.db'}"
    proc, url = start_app({"PCN_DATABASE_URL": db, "PCN_LOAD_DEMO": "1"}, tmp / "streamlit.log")
    APP_DATABASES[url] = db
    yield url
    stop(proc)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def screenshot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# The run is over (the app root says so, and nothing from the run before is left stale), and the
# page has stopped growing: the browser keeps painting for a second or more after a long run.
_SETTLED = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const state = app && app.getAttribute('data-test-script-state');
  const n = document.querySelectorAll('[data-testid="stMainBlockContainer"] *').length;
  const busy = !app || state === 'initial' || state === 'running' || n <= 5
    || document.querySelector('[data-testid="stStatusWidget"]') || document.querySelector('[data-stale="true"]');
  if (busy || n !== window.__pcnCount) {
    window.__pcnCount = busy ? -1 : n;
    window.__pcnSince = Date.now();
    return false;
  }
  return Date.now() - window.__pcnSince >= 400;
}"""


def wait_for_app(page) -> None:
    """Wait until the script run has finished and the browser has painted what it sent."""
    page.wait_for_selector('[data-testid="stApp"]')
    page.evaluate("() => { window.__pcnCount = -1; }")
    page.wait_for_function(_SETTLED, polling=100, timeout=30_000)


AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"

# Findings inside Streamlit's own chrome, which the project cannot change. Each entry: axe rule id,
# the data-testid of the Streamlit container the offending node sits in, and why it is accepted.
AXE_ALLOW = [
    ("list", "stSidebarNav", "Streamlit's page navigation wraps its <li> items in <div>s inside the <ul>."),
    ("listitem", "stSidebarNav", "The same navigation list: its <li> items sit in <div>s, not directly in the <ul>."),
]


def axe_findings(page) -> list[dict]:
    """Serious or critical axe-core violations on the current page, minus the allow-list."""
    if not AXE.exists():
        pytest.fail(f"{AXE} not found: run the README's test command, which installs axe-core with npm.")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations'],"
        " runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"
    )
    findings = []
    for v in result["violations"]:
        if v["impact"] not in ("serious", "critical"):
            continue
        for node in v["nodes"]:
            target = " ".join(map(str, node["target"]))
            containers = page.evaluate(
                "(sel) => { const out = []; let n = document.querySelector(sel);"
                " while (n) { if (n.dataset && n.dataset.testid) out.push(n.dataset.testid); n = n.parentElement; }"
                " return out; }", node["target"][-1] if len(node["target"]) == 1 else target)
            if any(rule == v["id"] and testid in containers for rule, testid, _ in AXE_ALLOW):
                continue
            findings.append({"rule": v["id"], "impact": v["impact"], "target": target,
                             "summary": node.get("failureSummary", "")[:300]})
    return findings

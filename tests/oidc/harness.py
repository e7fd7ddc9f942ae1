"""A real OpenID Connect provider on 127.0.0.1 for the tests, and what a test needs around it.

Plain Python (no pytest here; fixtures.py wraps these for pytest):

    provider = start_provider(tmp / "oidc.log")            # node tests/oidc/provider.js
    with running_streamlit(script, provider, tmp) as url:   # `streamlit run` with an [auth] secrets file
        page.goto(url)
        page.get_by_role("button", name="Sign in").click()  # the app calls st.login()
        sign_in(page, "lead@nhs.net")                       # the provider's login form, then consent
        ...
        page.get_by_role("button", name="Sign out").click() # the app calls st.logout()
        finish_sign_out(page)                               # the provider's "sign out?" page
    provider.stop()

The provider (oidc-provider 8, npm, installed in tests/browser/node_modules by scripts/test.sh)
accepts any login name with any password: login "jane.smith@nhs.net" signs in with sub and email
"jane.smith@nhs.net" and name "Jane Smith". Its one client accepts the redirect URI
http://127.0.0.1:<any port>/oauth2callback, so a single provider serves every app a test starts.

The secrets file is written into a temporary folder and handed to Streamlit with
`--secrets.files PATH`, which replaces the default search list (~/.streamlit/secrets.toml and
./.streamlit/secrets.toml): nothing is written into the repository's .streamlit/ folder.
"""
from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PROVIDER_JS = HERE / "provider.js"
NODE_MODULES = ROOT / "tests" / "browser" / "node_modules"
READY = "OIDC_PROVIDER_READY "
CLIENT_ID = "pcn-maturity-tests"
# Any port matches, as RFC 8252 allows for loopback redirects (provider.js, OIDC_ANY_PORT).
REDIRECT_URI = "http://127.0.0.1/oauth2callback"

# The provider's pages (oidc-provider's development interactions, as served by provider.js).
LOGIN_FORM = 'form:has(input[name="prompt"][value="login"])'
CONSENT_FORM = 'form:has(input[name="prompt"][value="consent"])'
LOGOUT_BUTTON = 'button[name="logout"][value="yes"]'
STREAMLIT_APP = '[data-testid="stApp"]'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Stop a child process: politely, then for sure."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


@dataclass
class OidcProvider:
    """A running provider: its issuer URL and its one client's credentials."""

    issuer: str
    client_id: str
    client_secret: str
    process: subprocess.Popen
    log_path: Path
    _log: IO[str] | None = field(default=None, repr=False)

    @property
    def metadata_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        stop(self.process)
        if self._log is not None:
            self._log.close()
            self._log = None


def start_provider(log_path: Path, *, client_id: str = CLIENT_ID, client_secret: str | None = None,
                   redirect_uris: tuple[str, ...] = (REDIRECT_URI,), port: int = 0,
                   timeout: float = 30) -> OidcProvider:
    """Start tests/oidc/provider.js on 127.0.0.1 and return once its discovery document answers.

    port 0 (the default) lets the provider bind any free port itself (no race with another process
    taking a port picked here); it prints the issuer on its ready line. Its stderr goes to log_path.
    """
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node not found: the OIDC test provider runs on Node.js")
    if not (NODE_MODULES / "oidc-provider").is_dir():
        raise RuntimeError(f"{NODE_MODULES / 'oidc-provider'} not found: run the README's test command "
                           "(scripts/test.sh), which runs npm install in tests/browser")
    client_secret = client_secret or secrets.token_urlsafe(24)
    env = {**os.environ, "OIDC_HOST": "127.0.0.1", "OIDC_CLIENT_ID": client_id,
           "OIDC_CLIENT_SECRET": client_secret, "OIDC_REDIRECT_URIS": " ".join(redirect_uris),
           "OIDC_ANY_PORT": "1"}
    log = open(log_path, "w")
    proc = subprocess.Popen([node, str(PROVIDER_JS), str(port)], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=log, text=True)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:  # keeps reading stdout to its end, so the pipe never fills
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, name="oidc-provider-stdout", daemon=True).start()
    deadline = time.monotonic() + timeout
    try:
        issuer = None
        while issuer is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the OIDC provider printed no ready line within {timeout} s:\n"
                                   f"{log_path.read_text()}")
            if proc.poll() is not None and lines.empty():
                raise RuntimeError(f"the OIDC provider exited early ({proc.returncode}):\n{log_path.read_text()}")
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line.startswith(READY):
                issuer = line[len(READY):].strip()
        provider = OidcProvider(issuer, client_id, client_secret, proc, log_path, log)
        wait_for_discovery(provider, deadline)
        return provider
    except BaseException:
        stop(proc)
        log.close()
        raise


def wait_for_discovery(provider: OidcProvider, deadline: float) -> dict:
    """Poll the discovery document until it answers with this issuer (bounded by deadline)."""
    last: Exception | None = None
    while time.monotonic() < deadline:
        if provider.process.poll() is not None:
            raise RuntimeError(f"the OIDC provider exited ({provider.process.returncode}):\n{provider.log()}")
        try:
            with urllib.request.urlopen(provider.metadata_url, timeout=2) as r:
                doc = json.load(r)
            if doc.get("issuer") == provider.issuer:
                return doc
            last = RuntimeError(f"issuer {doc.get('issuer')!r} is not {provider.issuer!r}")
        except (OSError, ValueError) as e:
            last = e
        time.sleep(0.1)
    raise RuntimeError(f"{provider.metadata_url} did not answer in time ({last}):\n{provider.log()}")


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def write_secrets(directory: Path, app_port: int, provider: OidcProvider, *,
                  cookie_secret: str | None = None, extra: dict[str, str] | None = None) -> Path:
    """Write <directory>/secrets.toml with the [auth] section st.login needs for an app on app_port."""
    directory.mkdir(parents=True, exist_ok=True)
    auth = {
        "redirect_uri": f"http://127.0.0.1:{app_port}/oauth2callback",
        "cookie_secret": cookie_secret or secrets.token_urlsafe(32),
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
        "server_metadata_url": provider.metadata_url,
        **(extra or {}),
    }
    path = directory / "secrets.toml"
    path.write_text("[auth]\n" + "".join(f"{k} = {_toml_str(v)}\n" for k, v in auth.items()))
    return path


def start_streamlit(script: Path, log_path: Path, *, secrets_file: Path | None = None, port: int | None = None,
                    env_extra: dict[str, str] | None = None, timeout: float = 60,
                    cwd: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """`streamlit run script` on 127.0.0.1 from `cwd` (whose .streamlit/config.toml applies) (as tests/browser/conftest.py starts app.py), with the
    given secrets file in place of the default ones; returns once /_stcore/health says ok."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    if secrets_file is not None:
        cmd += ["--secrets.files", str(secrets_file)]
    env = {**os.environ, **(env_extra or {})}
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return proc, url
        except OSError:
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"streamlit did not answer on {url} within {timeout} s:\n{log_path.read_text()}")


@contextlib.contextmanager
def running_streamlit(script: Path, provider: OidcProvider, directory: Path, *,
                      env_extra: dict[str, str] | None = None) -> Iterator[str]:
    """Start `streamlit run script` signed up with the provider; yield its URL; stop it after."""
    port = free_port()
    secrets_file = write_secrets(directory, port, provider)
    proc, url = start_streamlit(script, directory / "streamlit.log", secrets_file=secrets_file, port=port,
                                env_extra=env_extra)
    try:
        yield url
    finally:
        stop(proc)


def sign_in(page, username: str, password: str = "any password", timeout: float = 30_000) -> None:
    """On the provider's login page (where st.login() sends the browser), sign in as username,
    approve the consent page if it comes, and return once the browser is back on the app.

    Call it right after the click that calls st.login(). timeout is in milliseconds per step.
    """
    form = page.locator(LOGIN_FORM)
    form.wait_for(timeout=timeout)
    op_origin = _origin(page.url)
    form.locator('input[name="login"]').fill(username)
    password_box = form.locator('input[type="password"]')
    if password_box.count():
        password_box.fill(password)
    form.locator('button[type="submit"]').click()
    consent = page.locator(CONSENT_FORM)
    error = page.get_by_role("heading", name="Sign-in error")
    consent.or_(page.locator(STREAMLIT_APP)).or_(error).first.wait_for(timeout=timeout)
    if _origin(page.url) == op_origin:
        if error.count():
            raise AssertionError(f"the OIDC provider refused the sign-in: {page.locator('main').inner_text()}")
        consent.locator('button[type="submit"]').click()
    page.wait_for_url(lambda url: _origin(url) != op_origin, timeout=timeout)
    page.locator(STREAMLIT_APP).wait_for(timeout=timeout)


def finish_sign_out(page, timeout: float = 30_000) -> None:
    """After the click that calls st.logout(): Streamlit sends the browser to the provider's
    end-session page; confirm there and return once the browser is back on the app."""
    button = page.locator(LOGOUT_BUTTON)
    button.wait_for(timeout=timeout)
    op_origin = _origin(page.url)
    button.click()
    page.wait_for_url(lambda url: _origin(url) != op_origin, timeout=timeout)
    page.locator(STREAMLIT_APP).wait_for(timeout=timeout)


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"

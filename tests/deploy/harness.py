"""The shipped set-up of deploy/ brought up on 127.0.0.1, for tests/deploy/ and benchmarks/bench_soak.py.

    with Deployment(tmp, setup=load_people) as d:   # PostgreSQL, the OIDC provider, 2 apps, nginx
        d.url                                         # https://127.0.0.1:PORT, nginx's address
        d.route_to(d.ports[0])                        # a routing cookie that nginx sends to that app
        d.kill(d.ports[1])                            # SIGKILL
        d.backup_command()                            # the backup unit's ExecStart, ready to run

What runs is what deploy/ ships, with only ports and paths rewritten:
- PostgreSQL: a throwaway cluster (tests/store_fixtures.py's PostgresServer) and one database.
- The OpenID Connect provider of the sign-in tests (tests/oidc/harness.py), with nginx's
  https://127.0.0.1:PORT/oauth2callback registered as a redirect URI.
- Two app processes started with the ExecStart of deploy/systemd/pcn-dashboard@.service (the
  checkout's interpreter for the virtual environment's, the port for %i, a folder holding the
  [auth] secrets file for %d, the unit's Environment= lines), each on its own port.
- nginx (Debian's package) as a child process, not a daemon, under a prefix of its own: the main
  configuration is Debian's /etc/nginx/nginx.conf with its paths moved into the prefix (and two
  workers, whatever the machine's core count), and the site is deploy/nginx/pcn-dashboard.conf
  with its listen ports, upstream ports, certificate and log paths rewritten (each rewrite must
  match, so a changed site fails here rather than being tested half). The certificate is a
  self-signed one for 127.0.0.1 made with openssl.
Everything is stopped by stop() (or leaving the with block), whatever happened.
"""
from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.oidc.harness import OidcProvider, REDIRECT_URI, start_provider, stop, write_secrets
from tests.store_fixtures import PostgresServer

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SITE = DEPLOY / "nginx" / "pcn-dashboard.conf"
APP_UNIT = DEPLOY / "systemd" / "pcn-dashboard@.service"
BACKUP_UNIT = DEPLOY / "systemd" / "pcn-dashboard-backup.service"
DEBIAN_NGINX_CONF = Path("/etc/nginx/nginx.conf")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
ROUTE_COOKIE = "pcn_route"
# The paths the units name on a server, and where the test puts each (filled in per deployment).
VENV_PYTHON = "/opt/pcn-dashboard/.venv/bin/python"
STATE_DIR = "/var/lib/pcn-dashboard"
ADMIN = "admin@nhs.net"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL it if the harness itself dies, so nothing is left running."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def insecure_tls() -> ssl.SSLContext:
    """The test certificate is self-signed: check nothing (the server is on this machine)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def fetch(url: str, *, method: str = "GET", headers: dict[str, str] | None = None, data: bytes | None = None,
          timeout: float = 10) -> tuple[int, dict[str, list[str]], bytes]:
    """One request, redirects not followed: (status, headers as lists by lower-case name, body)."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=insecure_tls()), NoRedirect)
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with opener.open(req, timeout=timeout) as r:
            status, raw, body = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, raw, body = e.code, e.headers, e.read()
    out: dict[str, list[str]] = {}
    for k, v in raw.items():
        out.setdefault(k.lower(), []).append(v)
    return status, out, body


# ---------------------------------------------------------------------------------------------
# The unit files

def unit_service(path: Path) -> dict[str, list[str]]:
    """The [Service] settings of a unit file: each key's values in order (a key may repeat)."""
    out: dict[str, list[str]] = {}
    section = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        if section == "Service" and "=" in line:
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def unit_environment(path: Path, paths: dict[str, str]) -> dict[str, str]:
    """The unit's Environment= assignments, with server paths moved to the test's."""
    env = {}
    for value in unit_service(path).get("Environment", []):
        for word in shlex.split(value):
            key, _, val = word.partition("=")
            env[key] = paths.get(val, val)
    return env


def unit_command(path: Path, *, instance: str | None = None, credentials: Path | None = None,
                 env: dict[str, str] | None = None) -> list[str]:
    """The unit's ExecStart as an argument list for this machine: this interpreter for the virtual
    environment's, %i and %d filled in, ${VAR} taken from env (as systemd does from EnvironmentFile=)."""
    [line] = unit_service(path)["ExecStart"]
    words = shlex.split(line)
    assert words[0] == VENV_PYTHON, f"{path.name}: ExecStart should start with {VENV_PYTHON}: {line}"
    words[0] = sys.executable
    env = env or {}
    out = []
    for w in words[1:]:
        if instance is not None:
            w = w.replace("%i", instance)
        if credentials is not None:
            w = w.replace("%d", str(credentials))
        w = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], w)
        assert "%" not in w and "$" not in w, f"{path.name}: {w!r} is left unexpanded"
        out.append(w)
    return [words[0], *out]


# ---------------------------------------------------------------------------------------------
# nginx

def _rewrite(text: str, pattern: str, repl, count: int | None, what: str) -> str:
    new, n = re.subn(pattern, repl, text, flags=re.MULTILINE)
    if n == 0 or (count is not None and n != count):
        raise AssertionError(f"{what}: expected {count or 'some'} match(es) of {pattern!r}, found {n}")
    return new


def site_for_test(site: str, *, https_port: int, http_port: int, app_ports: list[int], logs: Path,
              cert: Path, key: Path) -> str:
    """The shipped site with only its ports and paths moved to the test's."""
    s = _rewrite(site, r"^\s*listen \[::\]:\d+.*\n", "", 2, "IPv6 listens (the test stays on 127.0.0.1)")
    s = _rewrite(s, r"^(\s*)listen 443 ssl http2;", rf"\g<1>listen 127.0.0.1:{https_port} ssl http2;", 1, "https")
    s = _rewrite(s, r"^(\s*)listen 80;", rf"\g<1>listen 127.0.0.1:{http_port};", 1, "http")
    ports = iter(app_ports)
    s = _rewrite(s, r"^(\s*server 127\.0\.0\.1:)\d+( .*;)", lambda m: f"{m.group(1)}{next(ports)}{m.group(2)}",
                 len(app_ports), "upstream servers (one per app process)")
    s = _rewrite(s, r"/var/log/nginx/", f"{logs}/", None, "log paths")
    s = _rewrite(s, r"/etc/ssl/certs/pcn-dashboard\.pem", str(cert), 1, "certificate")
    s = _rewrite(s, r"/etc/ssl/private/pcn-dashboard\.key", str(key), 1, "certificate key")
    return s


def main_conf_for_test(debian: str, prefix: Path) -> str:
    """Debian's nginx.conf with its paths in the prefix, so the site is tested inside Debian's http block."""
    c = _rewrite(debian, r"^pid .*;", f"pid {prefix}/nginx.pid;", 1, "pid")
    c = _rewrite(c, r"/var/log/nginx/", f"{prefix}/logs/", None, "log paths")
    c = _rewrite(c, r"include /etc/nginx/sites-enabled/\*;", f"include {prefix}/sites-enabled/*;", 1, "sites")
    c = _rewrite(c, r"include /etc/nginx/conf\.d/\*\.conf;", f"include {prefix}/conf.d/*.conf;", 1, "conf.d")
    c = _rewrite(c, r"^worker_processes .*;", "worker_processes 2;", 1, "workers")
    if os.geteuid() != 0:
        c = _rewrite(c, r"^user .*;\n", "", 1, "user (only root can switch)")
    temp = "".join(f"\t{d}_temp_path {prefix}/temp/{d};\n" for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return _rewrite(c, r"^http \{\n", "http {\n" + temp, 1, "http block")


def make_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "pcn-dashboard.pem", directory / "pcn-dashboard.key"
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"openssl could not make the test certificate: {r.stderr}")
    return cert, key


# ---------------------------------------------------------------------------------------------
# The whole set-up

class Deployment:
    """PostgreSQL, the OIDC provider, the app processes and nginx, as deploy/ ships them."""

    def __init__(self, tmp: Path | None = None, *, apps: int = 2,
                 setup: Callable[[str], None] | None = None, env_extra: dict[str, str] | None = None):
        self.tmp = Path(tmp or tempfile.mkdtemp(prefix="pcn-deploy-"))
        # nginx's workers (www-data when started as root) must reach the prefix's temp folders.
        self.prefix = Path(tempfile.mkdtemp(prefix="pcn-nginx-"))
        self.prefix.chmod(0o755)
        self.n_apps = apps
        self.setup = setup
        self.env_extra = env_extra or {}
        self.https_port, self.http_port = free_port(), free_port()
        self.url = f"https://127.0.0.1:{self.https_port}"
        self.ports: list[int] = []
        self.apps: dict[int, subprocess.Popen] = {}
        self.nginx: subprocess.Popen | None = None
        self.provider: OidcProvider | None = None
        self.postgres: PostgresServer | None = None
        self.database_url = ""
        self.env: dict[str, str] = {}
        self.cookie_secret = secrets.token_urlsafe(32)

    # -- bring-up ----------------------------------------------------------------------------
    def __enter__(self) -> Deployment:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self.provider = start_provider(self.tmp / "oidc.log",
                                       redirect_uris=(REDIRECT_URI, f"{self.url}/oauth2callback"))
        self.postgres = PostgresServer()
        self.postgres.start()
        self.database_url = self.postgres.url(self.postgres.create_database())
        state = self.tmp / "state"
        state.mkdir()
        self.paths = {STATE_DIR: str(state)}
        self.env = {"PCN_DATABASE_URL": self.database_url, "PCN_ADMINS": ADMIN,
                    "PCN_BACKUP_DIR": str(self.tmp / "backups"), **self.env_extra}
        if self.setup is not None:
            self.setup(self.database_url)
        self.ports = [free_port() for _ in range(self.n_apps)]
        for port in self.ports:  # all at once, as systemd starts them at boot
            self.apps[port] = self._start_app(port)
        for port in self.ports:
            self._wait_healthy(f"http://127.0.0.1:{port}", self.apps[port], self.app_log(port))
        self._start_nginx()

    def _start_app(self, port: int) -> subprocess.Popen:
        credentials = self.tmp / f"credentials-{port}"  # what LoadCredential= gives each process
        assert self.provider is not None
        write_secrets(credentials, port, self.provider, cookie_secret=self.cookie_secret,
                      extra={"redirect_uri": f"{self.url}/oauth2callback"})
        cmd = unit_command(APP_UNIT, instance=str(port), credentials=credentials)
        env = {**os.environ, **unit_environment(APP_UNIT, self.paths), **self.env}
        with open(self.app_log(port), "a") as log:
            return subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)

    def app_log(self, port: int) -> Path:
        return self.tmp / f"app-{port}.log"

    @staticmethod
    def _wait_healthy(url: str, proc: subprocess.Popen | None, log: Path, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{proc.args[:3]} exited early ({proc.returncode}):\n{log.read_text(errors='replace')}")
            try:
                status, _h, body = fetch(url + "/_stcore/health", timeout=5)
                if status == 200 and body == b"ok":
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{url} did not answer /_stcore/health within {timeout} s:\n{log.read_text(errors='replace')}")

    def _start_nginx(self) -> None:
        p = self.prefix
        for d in ("logs", "temp", "sites-enabled", "conf.d"):
            (p / d).mkdir()
        cert, key = make_certificate(p)
        (p / "sites-enabled" / "pcn-dashboard.conf").write_text(
            site_for_test(SITE.read_text(), https_port=self.https_port, http_port=self.http_port, app_ports=self.ports,
                      logs=p / "logs", cert=cert, key=key))
        (p / "nginx.conf").write_text(main_conf_for_test(DEBIAN_NGINX_CONF.read_text(), p))
        args = [NGINX, "-p", str(p), "-e", str(p / "logs" / "error.log"), "-c", str(p / "nginx.conf")]
        check = subprocess.run([*args, "-t"], capture_output=True, text=True)
        if check.returncode:
            raise RuntimeError(f"nginx -t refused the site:\n{check.stderr}")
        self.nginx = subprocess.Popen([*args, "-g", "daemon off;"], stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=open(p / "logs" / "stderr.log", "w"), preexec_fn=_die_with_parent)
        self._wait_healthy(self.url, self.nginx, p / "logs" / "error.log", timeout=60)

    # -- what a test does --------------------------------------------------------------------
    @property
    def access_log_path(self) -> Path:
        return self.prefix / "logs" / "pcn-dashboard.access.log"

    def access_log(self) -> list[str]:
        path = self.access_log_path
        return path.read_text(errors="replace").splitlines() if path.exists() else []

    def served_by(self, cookie: str, path: str = "/_stcore/host-config") -> int:
        """The app port nginx sends a browser with this routing cookie to (the last one it tried).
        Asked with HEAD, which no browser sends, so its line in the access log is this request's."""
        before = len(self.access_log())
        status, _h, _b = fetch(self.url + path, method="HEAD", headers={"Cookie": f"{ROUTE_COOKIE}={cookie}"})
        assert status == 200, f"HEAD {path} answered {status}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # nginx writes the line once the answer is sent
            lines = self.access_log()[before:]
            mine = [line for line in lines if f'"HEAD {path}" ' in line]
            if mine:
                upstream = re.search(r"upstream=(\S+(?:, \S+)*) time=", mine[-1]).group(1)
                return int(upstream.split(", ")[-1].rsplit(":", 1)[1])
            time.sleep(0.05)
        raise AssertionError(f"no access log line for {path}")

    def route_to(self, port: int, tries: int = 200) -> str:
        """A routing cookie value (as nginx itself would set) that nginx hashes to this app process."""
        for _ in range(tries):
            value = secrets.token_hex(16)
            if self.served_by(value) == port:
                return value
        raise AssertionError(f"no routing cookie reached port {port} in {tries} tries")

    def route_cookie(self, value: str) -> dict:
        """The cookie for a Playwright context (browser.new_context(...).add_cookies([...]))."""
        return {"name": ROUTE_COOKIE, "value": value, "url": self.url, "secure": True, "httpOnly": True,
                "sameSite": "Lax"}

    def kill(self, port: int) -> None:
        """SIGKILL: the process gets no chance to close anything."""
        proc = self.apps[port]
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)

    def restart(self, port: int) -> None:
        """Start the process on this port again, as systemd's Restart=always does."""
        self.apps[port] = self._start_app(port)
        self._wait_healthy(f"http://127.0.0.1:{port}", self.apps[port], self.app_log(port))

    def backup_command(self) -> list[str]:
        return unit_command(BACKUP_UNIT, env=self.env)

    def unit_env(self) -> dict[str, str]:
        """The environment the backup unit's command runs with (its EnvironmentFile= and Environment=)."""
        return {**os.environ, **unit_environment(BACKUP_UNIT, self.paths), **self.env}

    def rss_mb(self, port: int) -> float:
        for line in Path(f"/proc/{self.apps[port].pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def logs(self) -> str:
        """Every log, for a failing test's message."""
        parts = []
        for port in self.ports:
            parts.append(f"--- app {port}\n{self.app_log(port).read_text(errors='replace')[-4000:]}")
        for name in ("error.log", "stderr.log"):
            path = self.prefix / "logs" / name
            if path.exists():
                parts.append(f"--- nginx {name}\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)

    # -- teardown ----------------------------------------------------------------------------
    def stop(self) -> None:
        if self.nginx is not None:
            stop(self.nginx)
            self.nginx = None
        for proc in self.apps.values():
            stop(proc)
        self.apps = {}
        if self.provider is not None:
            self.provider.stop()
            self.provider = None
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None
        shutil.rmtree(self.prefix, ignore_errors=True)


"""The shipped systemd units are what systemd accepts (no unknown or misspelt setting), keep their
hardening, and agree with the environment file example and the nginx site on names and ports.
(tests/deploy/test_deployed.py runs their commands; there is no systemd to run them under here.)"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .harness import APP_UNIT, BACKUP_UNIT, DEPLOY, SITE, VENV_PYTHON, unit_command, unit_service

UNITS = sorted((DEPLOY / "systemd").glob("*"))
EXPOSURE_AT_MOST = 2.0  # systemd-analyze security: 0 is locked down, 10 is none of it


@pytest.fixture(scope="module")
def analyze():
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.fail("systemd-analyze not found: run the README's test command, which installs Debian's systemd "
                    "(or `apt-get install -y systemd`).", pytrace=False)
    return tool


@pytest.fixture
def units_here(tmp_path) -> Path:
    """The units with this machine's interpreter in place of the server's virtual environment (which
    systemd-analyze checks exists), and the app template as one instance of it."""
    for unit in UNITS:
        (tmp_path / unit.name).write_text(unit.read_text().replace(VENV_PYTHON, sys.executable))
    shutil.copy(tmp_path / APP_UNIT.name, tmp_path / "pcn-dashboard@8501.service")
    return tmp_path


def test_systemd_accepts_every_unit(analyze, units_here):
    names = ["pcn-dashboard@8501.service", BACKUP_UNIT.name, "pcn-dashboard-backup.timer"]
    r = subprocess.run([analyze, "verify", "--man=no", *names], cwd=units_here, capture_output=True, text=True)
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr


@pytest.mark.parametrize("unit", ["pcn-dashboard@8501.service", BACKUP_UNIT.name])
def test_the_services_are_hardened(analyze, units_here, unit):
    r = subprocess.run([analyze, "security", "--offline=yes", "--no-pager", unit], cwd=units_here,
                       capture_output=True, text=True)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout + r.stderr)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) <= EXPOSURE_AT_MOST, r.stdout


def test_the_units_the_env_file_and_the_site_agree():
    app, backup = unit_service(APP_UNIT), unit_service(BACKUP_UNIT)
    # Both read the one environment file, which sets what they need.
    assert app["EnvironmentFile"] == backup["EnvironmentFile"] == ["/etc/pcn-dashboard/pcn-dashboard.env"]
    env = (DEPLOY / "pcn-dashboard.env.example").read_text()
    for name in ("PCN_DATABASE_URL", "PCN_ADMINS", "PCN_BACKUP_DIR", "PCN_TRUSTED_PROXIES"):
        assert re.search(rf"^#?{name}=", env, re.MULTILINE), f"{name} missing from the environment file example"
    # The backup goes where the example's PCN_BACKUP_DIR says, which the backup unit makes writable.
    folder = re.search(r"^PCN_BACKUP_DIR=(.+)$", env, re.MULTILINE).group(1)
    made = ["/var/lib/" + d for v in backup["StateDirectory"] for d in v.split()]
    assert folder in made
    assert "--dir" in unit_command(BACKUP_UNIT, env={"PCN_BACKUP_DIR": folder})
    # Matrix files added on the Matrices page go where the app unit may write.
    matrices = re.search(r"^PCN_MATRIX_DIR=([^:\n]+)", env, re.MULTILINE).group(1)
    assert matrices in ["/var/lib/" + d for v in app["StateDirectory"] for d in v.split()]
    # Each app process listens on 127.0.0.1 on its instance's port, where the site's upstream looks.
    cmd = unit_command(APP_UNIT, instance="8501", credentials=Path("/run/credentials"))
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1" and cmd[cmd.index("--server.port") + 1] == "8501"
    assert cmd[cmd.index("--secrets.files") + 1] == "/run/credentials/secrets.toml"
    assert app["LoadCredential"] == ["secrets.toml:/etc/pcn-dashboard/secrets.toml"]
    assert re.findall(r"^\s*server 127\.0\.0\.1:(\d+) ", SITE.read_text(), re.MULTILINE) == ["8501", "8502"]
    # Never laptop mode behind nginx (everyone would connect from 127.0.0.1).
    assert "PCN_LAPTOP_ADDRESSES=" in app["Environment"]

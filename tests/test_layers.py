"""The domain code runs without Streamlit: matrix/, assessments/ and reports/ never import it,
so the command line, the PDF and the benchmarks work on a machine without the app."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["matrix", "assessments", "reports"]


def test_domain_modules_import_without_streamlit():
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")
        if "migrations" not in p.parts and p.name != "__init__.py")
    assert len(modules) > 15
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "sys.exit(sorted(n for n in sys.modules if n == 'streamlit' or n.startswith('streamlit.')) or 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr or done.stdout

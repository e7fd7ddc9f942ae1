"""The command line imports only what the command run needs: `validate` reads YAML files and
must start quickly, without the database layer, pandas, plotly, fpdf or kaleido."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sqlalchemy", "alembic", "pandas", "plotly", "fpdf", "kaleido", "openpyxl", "numpy")


def modules_after(argv: list[str]) -> tuple[int, set[str], str]:
    code = ("import json, sys, io, contextlib; sys.path.insert(0, '.'); import cli;"
            "out = io.StringIO();\n"
            "with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):\n"
            f"    rc = cli.main({argv!r})\n"
            "print(json.dumps([rc, sorted({m.partition('.')[0] for m in sys.modules}), out.getvalue()]))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rc, mods, out = json.loads(r.stdout.splitlines()[-1])
    return rc, set(mods), out


def test_validate_imports_no_database_layer_and_no_charts():
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "matrix").glob("*.yaml"))
    rc, mods, out = modules_after(["validate", *files])
    assert rc == 0 and f"{len(files)} valid, 0 invalid" in out
    assert "matrix" in mods
    assert not mods & set(HEAVY), sorted(mods & set(HEAVY))


def test_every_command_is_still_on_the_parser():
    code = ("import sys; sys.path.insert(0, '.'); import cli;"
            "p = cli.build_parser(); sub = next(a for a in p._actions if a.dest == 'command');"
            "print(' '.join(sorted(sub.choices)))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    names = set(r.stdout.split())
    assert {"validate", "demo", "export-plan", "export-plans", "backup", "check", "restore"} <= names
    # building the parser for --help imports none of the heavy layers either
    code = ("import sys; sys.path.insert(0, '.'); import cli; cli.build_parser();"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "[]", r.stdout + r.stderr

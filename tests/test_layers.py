"""The layers of the code and their import rules (see tests/layer_rules.py).

The domain code runs without Streamlit: matrix/, assessments/, figures/ and reports/ never import
it, so the command line, the PDF and the benchmarks work on a machine without the app. Beyond
that, imports flow one way, app -> views -> components -> reports -> figures -> assessments ->
matrix, only assessments/records/ talks to the database, and no private name crosses a module.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from layer_rules import DATABASE_RULE, FLOW_RULE, MATRIX_ALONE, NO_UI_RULE, PRIVATE, REPORTS_NO_UI, check, violations

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["matrix", "assessments", "figures", "reports"]


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


def test_the_code_keeps_its_layer_rules():
    found = check(ROOT)
    assert not found, f"{len(found)} import rule violation(s):\n" + "\n".join(found)


# A small tree: each file either breaks the rules named beside it, or none.
FIXTURE = {
    "matrix/__init__.py": "",
    "matrix/a.py": "import assessments\n",                                          # 3, 6
    "matrix/b.py": "import importlib\nimportlib.import_module('streamlit')\n",       # 4
    "matrix/clean.py": "from __future__ import annotations\nimport os\nfrom . import a\nfrom .a import __doc__\n",
    "assessments/__init__.py": "",
    "assessments/x.py": "def f():\n    from sqlalchemy import select\n    return select\n",  # 1
    "assessments/y.py": "from .records.engine import _private\n",                   # 2
    "assessments/z.py": "import assessments.records.engine as e\nprint(e._private)\n",  # 2
    "assessments/w.py": "from assessments.records import engine\nengine._private()\n",   # 2
    "assessments/v.py": "import alembic.config\n",                                   # 1
    "assessments/records/__init__.py": "from . import _impl\nfrom ._impl import thing\n",
    "assessments/records/_impl.py": "thing = 1\n",
    "assessments/records/engine.py": "from sqlalchemy import select\nimport alembic\n_private = select\n",
    "assessments/records/migrations/env.py": "from alembic import context\nimport sqlalchemy as sa\n",
    "assessments/clean.py": ("import matrix\nfrom matrix import a\nfrom .records import engine\n"
                             "print(engine.__name__, engine.select, a.__file__)\n"),
    "assessments/u.py": "from assessments.records._impl import thing\n",                 # 2
    "figures/__init__.py": "",
    "figures/f.py": "import streamlit as st\n",                                       # 4
    "figures/clean.py": "import plotly\nfrom assessments import clean\nfrom matrix.a import assessments\n",
    "reports/__init__.py": "",
    "reports/r.py": "def pdf():\n    import components.charts\n    return components.charts\n",  # 4, 5, 6
    "reports/clean.py": "from figures import clean\nfrom assessments.records import engine\nfrom . import r\n",
    "components/__init__.py": "",
    "components/charts.py": "import streamlit\nfrom reports import clean\nfrom views import home\n",  # 6
    "views/home.py": "import streamlit\nfrom components import charts\nimport app\n",              # 6
    "views/clean.py": "from components import charts\nfrom reports import r\nimport matrix\n",
    "app.py": "import streamlit\nimport views.home\nimport cli\n",                                 # 6
    "cli.py": ("import importlib\nMODULES = ('assessments.x', 'reports.r', 'workshops.cli')\n"
               "for name in MODULES:\n    importlib.import_module(name)\n"
               "from importlib import import_module\nimport_module('.charts', package='components')\n"),  # 6
    "scripts/tool.py": "import sqlalchemy\n",                                          # 1
    "tests/test_x.py": "import sqlalchemy\nfrom assessments.records.engine import _private\n",
    "benchmarks/bench.py": "import sqlalchemy\nimport streamlit\n",
    "node_modules/pkg/m.py": "import sqlalchemy\n",
    ".git/hooks/h.py": "import sqlalchemy\n",
}
PLANTED = {
    ("matrix/a.py", MATRIX_ALONE), ("matrix/a.py", FLOW_RULE),
    ("matrix/b.py", NO_UI_RULE),
    ("assessments/x.py", DATABASE_RULE),
    ("assessments/y.py", PRIVATE), ("assessments/z.py", PRIVATE), ("assessments/w.py", PRIVATE),
    ("assessments/u.py", PRIVATE),
    ("assessments/v.py", DATABASE_RULE),
    ("figures/f.py", NO_UI_RULE),
    ("reports/r.py", NO_UI_RULE), ("reports/r.py", REPORTS_NO_UI), ("reports/r.py", FLOW_RULE),
    ("components/charts.py", FLOW_RULE),
    ("views/home.py", FLOW_RULE),
    ("app.py", FLOW_RULE),
    ("cli.py", FLOW_RULE),
    ("scripts/tool.py", DATABASE_RULE),
}


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checker_finds_exactly_the_planted_violations(tmp_path):
    write_tree(tmp_path, FIXTURE)
    found = violations(tmp_path)
    assert {(v.path, v.rule) for v in found} == PLANTED, "\n".join(map(str, found))
    assert not [v for v in found if "clean" in v.path]
    lines = {(v.path, v.rule): v.line for v in found}
    assert lines[("assessments/x.py", DATABASE_RULE)] == 2        # the import inside the function
    assert lines[("assessments/z.py", PRIVATE)] == 2              # the attribute access, not the import
    assert lines[("cli.py", FLOW_RULE)] == 6                      # components, by import_module
    assert sum(1 for v in found if v.path == "views/home.py") == 1  # importing app; components is fine


def test_violations_read_as_path_line_message(tmp_path):
    write_tree(tmp_path, {"matrix/a.py": "\n\nfrom assessments import store\n", "figures/f.py": "def broken(:\n"})
    broken, *found = check(tmp_path)
    assert broken.startswith("figures/f.py:1: rule 0: cannot check imports: ")
    assert found == [
        "matrix/a.py:3: rule 3: matrix/ imports assessments (store): matrix/ depends on nothing else of ours",
        "matrix/a.py:3: rule 6: matrix imports assessments (store): one-way flow app -> views -> components"
        " -> reports -> figures -> assessments -> matrix; matrix imports nothing else of ours",
    ]

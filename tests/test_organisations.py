"""Loading an ICS's own PCNs from a spreadsheet: all rows or none, updates audited."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assessments.exchange import ImportProblems
from assessments.organisations import export_organisations, import_organisations
from assessments import organisations as orgs

ROOT = Path(__file__).resolve().parents[1]
HEADER = "ics_code,ics_name,pcn_code,pcn_name,list_size,rural,practices\n"
GOOD = HEADER + (
    "QAB,Northfield ICS,U10001,Alder PCN,41000,no,Alder Surgery; Beech Practice\n"
    "QAB,Northfield ICS,U10002,Birch PCN,\"28,500\",yes,Birch Health Centre\n"
    "QAC,Southmere ICS,U10003,Cedar PCN,52000,N,\n"
)


def _write(tmp_path, text, name="orgs.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_adds_ics_and_pcns(store, tmp_path):
    result = import_organisations(store, _write(tmp_path, GOOD), by="Ann Admin")
    assert (result.ics_added, result.pcns_added) == (2, 3)
    birch = orgs.pcn(store, "U10002")
    assert (birch.name, birch.ics_code, birch.list_size, birch.rural, birch.practices) == (
        "Birch PCN", "QAB", 28500, True, ("Birch Health Centre",))
    assert orgs.pcn(store, "U10001").practices == ("Alder Surgery", "Beech Practice")
    assert {e.source for e in store.audit(entity="pcn")} == {"import orgs.csv"}


def test_reimport_updates_only_what_changed(store, tmp_path):
    import_organisations(store, _write(tmp_path, GOOD), by="Ann Admin")
    changed = GOOD.replace("Alder PCN,41000", "Alder and Elm PCN,43000")
    result = import_organisations(store, _write(tmp_path, changed, "v2.csv"), by="Ann Admin")
    assert (result.pcns_added, result.pcns_updated, result.unchanged) == (0, 1, 2)
    assert orgs.pcn(store, "U10001").name == "Alder and Elm PCN"
    assert orgs.pcn(store, "U10001").version == 2


def test_any_bad_row_changes_nothing_and_names_each_line(store, tmp_path):
    bad = GOOD + "QAB,Northfield ICS,U1003,Short Code PCN,30000,no,\nQAC,Southmere ICS,U10004,Dove PCN,lots,maybe,\n"
    with pytest.raises(ImportProblems) as info:
        import_organisations(store, _write(tmp_path, bad), by="Ann Admin")
    lines = [(p.line, p.message) for p in info.value.problems]
    assert [line for line, _ in lines] == [5, 6]
    assert "U followed by five digits" in lines[0][1]
    assert "not a whole number" in lines[1][1]
    assert store.is_empty()


def test_same_ics_with_two_names_is_refused(store, tmp_path):
    bad = GOOD.replace("QAB,Northfield ICS,U10002", "QAB,Northfield ICB,U10002")
    with pytest.raises(ImportProblems) as info:
        import_organisations(store, _write(tmp_path, bad), by="Ann Admin")
    assert info.value.problems[0].line == 3 and "line 2" in info.value.problems[0].message


def test_export_round_trips_through_import(store, tmp_path):
    import_organisations(store, _write(tmp_path, GOOD), by="Ann Admin")
    out = tmp_path / "out.xlsx"
    assert export_organisations(store, out) == 3
    result = import_organisations(store, out, by="Ann Admin")
    assert (result.pcns_added, result.pcns_updated, result.unchanged) == (0, 0, 3)


def test_cli_import_organisations(tmp_path):
    env = {"PCN_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PATH": "/usr/bin:/bin", "PCN_USER": "cli test"}
    run = subprocess.run([sys.executable, "cli.py", "import-organisations", str(_write(tmp_path, GOOD))],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 PCN(s) added" in run.stdout
    bad = subprocess.run([sys.executable, "cli.py", "import-organisations", str(_write(tmp_path, HEADER + "x,y,z,w,1,no,\n", "b.csv"))],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and "line 2" in bad.stdout + bad.stderr

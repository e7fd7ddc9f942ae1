"""AppTest: the System health page is an administrator's; every other role neither has it in
the navigation nor gets anything from it (the core refuses)."""
from __future__ import annotations

import pytest
from app_fixtures import ROOT, open_page
from streamlit.testing.v1 import AppTest

from assessments import access as A
from assessments.access import Grant, Principal
from assessments.backup_files import ENV_BACKUP_DIR, backup_name
from components import state

OTHERS = {
    "facilitator": Principal("fac", "Fran", "fran@nhs.net", (Grant(A.FACILITATOR, ics_code="QZZ"),)),
    "commissioner": Principal("com", "Cass", "cass@nhs.net", (Grant(A.COMMISSIONER, ics_code="QZZ"),)),
    "lead": Principal("lead", "Lee", "lee@nhs.net", (Grant(A.LEAD, pcn_code="U99001"),)),
    "member": Principal("mem", "Mo", "mo@nhs.net", (Grant(A.MEMBER, pcn_code="U99001", may_edit=True),)),
}


def shown(at) -> str:
    return "\n".join(e.value for kind in ("success", "error", "info", "warning") for e in at.get(kind))


def test_the_administrator_sees_every_check(demo_db, monkeypatch):
    monkeypatch.delenv(ENV_BACKUP_DIR, raising=False)
    at = open_page("views/health.py", actor="Ann Admin")
    assert [t.value for t in at.title] == ["System health"]
    page = shown(at)
    for name in ("Database: OK", "Migrations: OK", "Matrix files: OK", "Backups: not configured"):
        assert name in page, page
    assert [s.value for s in at.success][0] == "All 4 checks passed."


def test_the_administrator_is_told_what_to_do_about_an_old_backup(demo_db, monkeypatch, tmp_path):
    from datetime import UTC, datetime, timedelta

    (tmp_path / backup_name(datetime.now(UTC) - timedelta(hours=50))).write_text("{}", encoding="utf-8")
    monkeypatch.setenv(ENV_BACKUP_DIR, str(tmp_path))
    at = open_page("views/health.py", actor="Ann Admin")
    [summary, problem] = [e.value for e in at.error]
    assert summary == "1 of 4 checks found a problem."
    assert "Backups: PROBLEM" in problem and "2.1 days old" in problem and "What to do:" in problem


@pytest.mark.parametrize("who", list(OTHERS))
def test_no_other_role_has_the_page(demo_db, monkeypatch, who):
    monkeypatch.setattr(state, "principal", lambda: OTHERS[who])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page("views/matrices.py")  # a page every role has: the navigation is theirs
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/health.py")


@pytest.mark.parametrize("who", list(OTHERS))
def test_the_page_run_by_anyone_else_shows_only_the_refusal(demo_db, monkeypatch, who):
    monkeypatch.setattr(state, "principal", lambda: OTHERS[who])
    at = AppTest.from_file(str(ROOT / "views" / "health.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    [refusal] = [e.value for e in at.error]
    assert "may not do this (administrators only)" in refusal
    assert not at.success and not at.info

"""AppTest: the People and access page gives and takes roles, and in laptop mode another device
gets only the join page (whatever page it asks for)."""
from __future__ import annotations

from app_fixtures import ROOT, open_page
from streamlit.testing.v1 import AppTest

from assessments import people
from assessments.access import LEAD
from components import state


def test_the_people_page_gives_and_takes_a_role(demo_db):
    at = open_page("views/people.py", actor="Ann Admin")
    at.text_input[0].input("New.Lead@nhs.net")
    at.selectbox[0].select(LEAD)
    at.selectbox[2].select("U99003")
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    [g] = people.who(demo_db, email="new.lead@nhs.net")
    assert (g.role, g.pcn_code) == (LEAD, "U99003")
    assert "new.lead@nhs.net" in at.dataframe[0].value["E-mail"].tolist()
    entries = demo_db.audit(entity="role_grant")
    assert {e.who for e in entries} == {"Ann Admin"}  # the laptop's name for the change log

    at.text_input[0].input("new.lead@nhs.net")
    at.selectbox[0].select(LEAD)
    at.selectbox[2].select("U99003")
    at.button[1].click().run()
    assert people.who(demo_db, email="new.lead@nhs.net") == []


def test_another_device_in_laptop_mode_gets_only_the_join_page(demo_db, monkeypatch):
    monkeypatch.setattr(state, "client_address", lambda: "192.168.1.20")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Join a workshop"]
    assert not at.get("download_button")
    assert [s.label for s in at.sidebar.get("text_input")] == []  # no name box: it is not the laptop

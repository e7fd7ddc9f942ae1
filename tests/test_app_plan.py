"""AppTest: the Development plan page saves priorities and actions (read back from the database),
refuses bad rows without losing them, shows conflicts with both values, and offers the downloads."""
from __future__ import annotations

import io
import zipfile

from app_fixtures import open_page
from pypdf import PdfReader

from assessments import plan as P
from assessments import organisations as orgs

PAGE = "views/plan.py"
PCN, YEAR = "U99008", "2024/25"


def open_plan(actor: str | None = "Test User"):
    return open_page(PAGE, actor=actor, query={"ics": "QZZ", "pcn": PCN})


def button(at, label: str, n: int = 0):
    return [b for b in at.button if b.label == label][n]


def edit_actions(at, added=(), edited=None, deleted=()):
    """Seed the actions editor's edit state (AppTest cannot type into a data editor) and rerun."""
    key = at.data_editor[0].key
    at.session_state[key] = {"edited_rows": edited or {}, "added_rows": list(added), "deleted_rows": list(deleted)}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return key


def test_suggested_priorities_are_added_and_reordered(demo_db):
    at = open_plan()
    assert at.selectbox(key="plan_year").value == YEAR
    suggestions = P.suggest_priorities(P.snapshot(demo_db, PCN, YEAR))
    assert len([b for b in at.button if b.label == "Add to priorities"]) == len(suggestions)
    # Each suggestion shows its reason.
    captions = " ".join(c.value for c in at.caption)
    assert "from its target" in captions

    button(at, "Add to priorities").click().run()
    plan = P.get_plan(demo_db, PCN, YEAR)
    assert [(p.element_id, p.reason) for p in plan.priorities] == [(suggestions[0].element_id, suggestions[0].reason)]
    assert plan.updated_by == "Test User"
    assert button(at, "Added").disabled

    button(at, "Add to priorities").click().run()  # the next suggestion down
    assert [p.element_id for p in P.get_plan(demo_db, PCN, YEAR).priorities] == [
        suggestions[0].element_id, suggestions[1].element_id]
    button(at, "Move up", 1).click().run()
    assert [p.element_id for p in P.get_plan(demo_db, PCN, YEAR).priorities] == [
        suggestions[1].element_id, suggestions[0].element_id]
    button(at, "Remove", 0).click().run()
    assert [p.element_id for p in P.get_plan(demo_db, PCN, YEAR).priorities] == [suggestions[0].element_id]
    assert not at.exception


def test_an_action_is_added_and_saved(demo_db):
    at = open_plan()
    edit_actions(at, added=[{"Action": "Away day with a facilitator – Zoë's idea", "Owner": "Dr Ñúñez",
                             "Due date": "31/03/2025", "Status": "in progress", "Pathway step": "3 – What help is required?",
                             "Cost (£)": "£1,250.50", "Funding source": "PCN development funding",
                             "Funding category": "Organisational development and change facilitation"}])
    button(at, "Save actions").click().run()
    assert not at.exception and not at.error
    [a] = P.get_plan(demo_db, PCN, YEAR).actions
    assert (a.what, a.owner, a.due.isoformat(), a.status, a.step, str(a.cost), a.funding_category, a.updated_by) == (
        "Away day with a facilitator – Zoë's idea", "Dr Ñúñez", "2025-03-31", "in progress", 3, "1250.50",
        "organisational-development", "Test User")
    # The table now shows the saved action, ready for the next change.
    shown = at.data_editor[0].value
    assert list(shown["Action"]) == [a.what] and list(shown["Cost (£)"]) == ["1,250.50"]


def test_a_bad_action_row_says_what_is_wrong_and_saves_nothing(demo_db):
    at = open_plan()
    before = demo_db.data_version()
    key = edit_actions(at, added=[{"Action": "Fine row", "Cost (£)": "100"},
                                  {"Action": "Bad row", "Due date": "next Tuesday", "Cost (£)": "-20"}])
    button(at, "Save actions").click().run()
    assert not at.exception
    assert any("Nothing was saved: 2 problem(s)" in e.value for e in at.error)
    problems = at.dataframe[-1].value
    assert list(zip(problems["Row"], problems["Column"])) == [(2, "Due date"), (2, "Cost (£)")]
    assert "not a date" in problems["Problem"][0] and "negative" in problems["Problem"][1]
    assert demo_db.data_version() == before and P.get_plan(demo_db, PCN, YEAR) is None
    # The user's rows are still in the editor, to fix.
    assert at.data_editor[0].key == key
    assert [r["Action"] for r in at.session_state[key]["added_rows"]] == ["Fine row", "Bad row"]


def test_a_flagged_action_shows_its_funding_check(demo_db):
    at = open_plan()
    edit_actions(at, added=[{"Action": "Pay the premises rent", "Funding source": "PCN development funding"}])
    flags = " ".join(w.value for w in at.warning)
    assert "premises rent" in flags and "Running costs" in flags  # before saving, as the table stands


def test_a_stale_action_edit_is_a_conflict_with_both_values(demo_db):
    P.add_action(demo_db, PCN, YEAR, by="Ann", what="Draft the terms of reference", owner="Ann")
    at = open_plan()
    [a] = P.get_plan(demo_db, PCN, YEAR).actions
    P.update_action(demo_db, a.id, by="Bob", expected_version=a.version, owner="Bob")  # someone else, meanwhile
    edit_actions(at, edited={0: {"Owner": "Cy"}})
    button(at, "Save actions").click().run()
    message = " ".join(e.value for e in at.error)
    assert "changed by someone else" in message and "Cy" in message and "Bob" in message
    assert P.get_plan(demo_db, PCN, YEAR).actions[0].owner == "Bob"


def test_the_service_priority_form_saves_and_reports_conflicts(demo_db):
    at = open_plan()
    at.text_area[0].input("Weekly rounds in every care home")
    at.selectbox[-1].select("care-homes")
    button(at, "Save priority and notes").click().run()
    plan = P.get_plan(demo_db, PCN, YEAR)
    assert (plan.service_priority, plan.service_spec) == ("Weekly rounds in every care home", "care-homes")
    P.save_plan(demo_db, PCN, YEAR, by="Bob", expected_version=plan.version, service_priority="Frailty")
    at.text_area[0].input("Diabetes")
    button(at, "Save priority and notes").click().run()
    message = " ".join(e.value for e in at.error)
    assert "Diabetes" in message and "Frailty" in message
    assert any(b.label == "Load the latest" for b in at.button)
    assert P.get_plan(demo_db, PCN, YEAR).service_priority == "Frailty"


def test_the_plan_downloads(demo_db):
    at = open_plan()
    labels = [b.label for b in at.get("download_button")]
    assert "Download the plan in Excel" in labels and "Download the plan PDF" not in labels
    button(at, "Prepare the plan PDF").click().run()
    assert not at.exception and not at.error
    assert "Download the plan PDF" in [b.label for b in at.get("download_button")]
    key, data, name = at.session_state["plan_pdf"]
    assert name == f"development-plan-{PCN}-2024-25.pdf" and data.startswith(b"%PDF-")
    assert orgs.pcn(demo_db, PCN).name in PdfReader(io.BytesIO(data)).pages[0].extract_text()


def test_every_pcn_of_the_ics_in_one_zip(demo_db):
    at = open_plan()
    button(at, "Prepare the PDFs of all 8 PCNs").click().run()
    assert not at.exception and not at.error
    assert "Download the 8 plan PDFs (zip)" in [b.label for b in at.get("download_button")]
    _, data, name = at.session_state["plan_zip"]
    assert name == "development-plans-QZZ-2024-25.zip"
    assert len(zipfile.ZipFile(io.BytesIO(data)).namelist()) == len(orgs.pcns(demo_db, "QZZ")) == 8


def test_without_a_name_nothing_can_be_changed(demo_db):
    at = open_plan(actor=None)
    assert any("Enter your name" in i.value for i in at.info)
    assert all(b.disabled for b in at.button if b.label in ("Add to priorities", "Save actions"))

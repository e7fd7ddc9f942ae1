"""AppTest: the Development plan page saves priorities and actions (read back from the database),
refuses bad rows without losing them, keeps what was typed until it is saved, stays on its tab
after a save, shows conflicts with both values, shares versions and offers the downloads."""
from __future__ import annotations

import io
import zipfile

from app_fixtures import open_page
from pypdf import PdfReader

from assessments import plan as P
from assessments import organisations as orgs

PAGE = "views/plan.py"
PCN, YEAR = "U99008", "2024/25"


def open_plan(actor: str | None = "Test User", tab: str | None = None):
    query = {"ics": "QZZ", "pcn": PCN}
    if tab:
        query["tab"] = tab
    return open_page(PAGE, actor=actor, query=query)


def button(at, label: str, n: int = 0):
    return [b for b in at.button if b.label == label][n]


def table(at):
    return next(e for e in at.data_editor if e.key.startswith("plan_actions|"))


def pick_detail(at, n: int) -> None:
    next(w for w in at.selectbox if w.key.startswith("plan_detail_row|")).select(n).run()
    assert not at.exception


def edit_actions(at, added=(), edited=None, deleted=()):
    """Seed the actions table's edit state (AppTest cannot type into a data editor) and rerun."""
    key = table(at).key
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


def test_the_table_has_the_few_columns_that_matter_and_empty_cells_are_empty(demo_db):
    P.add_action(demo_db, PCN, YEAR, by="Ann", what="Draft the terms of reference")  # no owner, due date, link
    at = open_plan(tab="Actions")
    shown = table(at).value
    assert list(shown.columns) == ["Action", "Owner", "Due date", "Status", "Linked to"]
    row = shown.iloc[0].to_dict()
    assert (row["Action"], row["Owner"], row["Due date"], row["Status"], list(row["Linked to"])) == (
        "Draft the terms of reference", "", "", "not started", [])
    # Missing values are drawn as nothing, not "None".
    assert table(at).proto.placeholder == ""


def test_an_action_is_added_with_its_details_and_saved_and_the_tab_is_kept(demo_db):
    at = open_plan(tab="Actions")
    edit_actions(at, added=[{"Action": "Away day with a facilitator – Zoë's idea", "Owner": "Dr Ñúñez",
                             "Due date": "31/03/2025", "Status": "in progress",
                             "Linked to": ["Service-improvement priority"]}])
    button(at, "Save actions").click().run()
    assert not at.exception and not at.error
    assert at.query_params["tab"] == "Actions" and at.session_state["tab"] == "Actions"
    [a] = P.get_plan(demo_db, PCN, YEAR).actions
    assert (a.what, a.owner, a.due.isoformat(), a.status, a.links, a.updated_by) == (
        "Away day with a facilitator – Zoë's idea", "Dr Ñúñez", "2025-03-31", "in progress", (P.SERVICE_LINK,),
        "Test User")
    assert any("Saved 1 action." in s.value for s in at.success)

    # The details of the chosen action: saving them saves the table too, and the tab stays.
    form = {w.key.rsplit("|", 1)[-1]: w for w in [*at.text_input, *at.text_area, *at.selectbox]
            if w.key and w.key.startswith("plan_detail|")}
    form["step"].select("3 – What help is required?")
    form["cost"].input("£1,250.50")
    form["funding_source"].select("PCN development funding")
    form["funding_category"].select("Organisational development and change facilitation")
    form["support_needed"].input("Two facilitated sessions")
    button(at, "Save this action").click().run()
    assert not at.exception and not at.error
    assert at.session_state["tab"] == "Actions"
    [a] = P.get_plan(demo_db, PCN, YEAR).actions
    assert (a.step, str(a.cost), a.funding_category, a.support_needed, a.owner) == (
        3, "1250.50", "organisational-development", "Two facilitated sessions", "Dr Ñúñez")
    shown = table(at).value
    assert list(shown["Action"]) == [a.what] and list(shown["Linked to"].iloc[0]) == ["Service-improvement priority"]


def test_blank_rows_are_ignored_and_never_saved(demo_db):
    at = open_plan(tab="Actions")
    # A stray key press on the table's "+" adds empty rows: they are not actions.
    edit_actions(at, added=[{}, {"Status": "not started"}, {"Action": "The one real action"}, {"Owner": ""}])
    button(at, "Save actions").click().run()
    assert not at.exception and not at.error
    assert [a.what for a in P.get_plan(demo_db, PCN, YEAR).actions] == ["The one real action"]
    assert list(table(at).value["Action"]) == ["The one real action"]
    assert any("Saved 1 action." in s.value for s in at.success)


def test_what_was_typed_is_kept_until_it_is_saved(demo_db):
    at = open_plan(tab="Actions")
    key = edit_actions(at, added=[{"Action": "First typed"}, {"Action": "Second typed", "Owner": "Bea"}])
    # Anything else on the page reruns it (here: choosing another action for the details form)...
    pick_detail(at, 1)
    # ... and a new priority changes the table's options, so the table is drawn afresh: the typed
    # rows are folded into its new rows, nothing is lost.
    P.save_plan(demo_db, PCN, YEAR, by="Someone", expected_version=0, priorities=["care-mdt"])
    at.switch_page("views/progress.py").run()  # another page and back drops the table's own state too
    at.switch_page(PAGE).run()
    assert not at.exception
    assert table(at).key != key
    assert list(table(at).value["Action"]) == ["First typed", "Second typed"]
    assert "Unsaved changes" in [c.value for c in at.caption]
    button(at, "Save actions").click().run()
    assert [(a.what, a.owner) for a in P.get_plan(demo_db, PCN, YEAR).actions] == [
        ("First typed", None), ("Second typed", "Bea")]


def test_a_block_pasted_into_one_cell_becomes_rows(demo_db):
    # Pasted into a cell's typing box instead of the table, spreadsheet rows arrive as one text with
    # tabs: the table spreads them over rows from that cell on, as a spreadsheet would.
    at = open_plan(tab="Actions")
    key = edit_actions(at, added=[{"Action": "Map the assets\tAnn\t31/01/2025\nAgree data sharing\tBen\n"}])
    shown = table(at)
    assert shown.key != key  # drawn afresh, with a row per line
    assert [tuple(r) for r in shown.value[["Action", "Owner", "Due date"]].values] == [
        ("Map the assets", "Ann", "31/01/2025"), ("Agree data sharing", "Ben", "")]
    edit_actions(at, edited={1: {"Owner": "Bea\t28/02/2025"}})  # into the Owner cell: Owner, then Due date
    assert [tuple(r) for r in table(at).value[["Owner", "Due date"]].values] == [("Ann", "31/01/2025"),
                                                                              ("Bea", "28/02/2025")]


def test_a_pasted_block_previews_and_is_added_then_saved(demo_db):
    P.save_plan(demo_db, PCN, YEAR, by="Ann", expected_version=0, priorities=["care-mdt", "data-sharing"])
    at = open_plan(tab="Actions")
    pasted = ("Action\tOwner\tDue date\tLinked to\tCost\n"
              "Map the community assets\tAnn\t31/01/2025\tpriority 1\t500\n"
              "\"Agree the data-sharing\nagreement\"\tBen\t28/02/2025\tData sharing and information governance\t\n"
              "Recruit a care co-ordinator\tCy\tsoon\tNo such element\t\n")
    at.text_area(key=f"plan_paste|{PCN}|{YEAR}").input(pasted).run()
    preview = [d for d in at.dataframe if "Check" in d.value.columns][0].value
    assert list(preview["Action"]) == ["Map the community assets", "Agree the data-sharing\nagreement",
                                       "Recruit a care co-ordinator"]
    assert preview["Check"][0] == "ok" and "not a date" in preview["Check"][2]
    assert any("'No such element' is not a priority or element" in w.value for w in at.warning)
    button(at, "Add these 3 actions to the table").click().run()
    assert list(table(at).value["Action"])[:2] == ["Map the community assets", "Agree the data-sharing\nagreement"]
    # The bad date stops the save, saying where; the rows stay, and once fixed they save.
    button(at, "Save actions").click().run()
    assert any("Nothing was saved: 1 problem" in e.value for e in at.error)
    assert P.get_plan(demo_db, PCN, YEAR).actions == ()
    edit_actions(at, edited={2: {"Due date": "31/03/2025"}})
    button(at, "Save actions").click().run()
    assert not at.error
    saved = P.get_plan(demo_db, PCN, YEAR).actions
    assert [(a.what, a.owner, a.links, a.cost) for a in saved] == [
        ("Map the community assets", "Ann", ("care-mdt",), 500),
        ("Agree the data-sharing\nagreement", "Ben", ("data-sharing",), None),
        ("Recruit a care co-ordinator", "Cy", (), None)]
    # The page lists them under what they serve.
    text = " ".join(m.value for m in at.markdown)
    assert "Priority 1: Multidisciplinary teams with community services" in text and "1. Map the community assets" in text


def test_a_bad_action_row_says_what_is_wrong_and_saves_nothing(demo_db):
    at = open_plan(tab="Actions")
    before = demo_db.data_version()
    edit_actions(at, added=[{"Action": "Fine row"}, {"Action": "Bad row", "Due date": "next Tuesday"}])
    button(at, "Save actions").click().run()
    assert not at.exception
    assert any("Nothing was saved: 1 problem" in e.value for e in at.error)
    problems = next(d for d in at.dataframe if "Problem" in d.value.columns).value
    assert list(zip(problems["Row"], problems["Column"])) == [(2, "Due date")]
    assert "not a date" in problems["Problem"][0]
    assert demo_db.data_version() == before and P.get_plan(demo_db, PCN, YEAR) is None
    # The user's rows are still in the table, to fix.
    assert list(table(at).value["Action"]) == ["Fine row", "Bad row"]


def test_a_flagged_action_shows_its_funding_check_and_existing_support_first(demo_db):
    at = open_plan(tab="Actions")
    edit_actions(at, added=[{"Action": "Pay the premises rent"}, {"Action": "Leadership coaching for the CD"}])
    rows = [dict(what="Pay the premises rent", funding_source="PCN development funding")]
    assert P.check_funding(rows[0], demo_db.funding())  # flagged by the rules...
    form = {w.key.rsplit("|", 1)[-1]: w for w in at.selectbox if w.key and w.key.startswith("plan_detail|")}
    form["funding_source"].select("PCN development funding")
    button(at, "Save this action").click().run()
    flags = " ".join(w.value for w in at.warning)
    assert "premises rent" in flags and "Running costs" in flags
    pick_detail(at, 1)
    form = {w.key.rsplit("|", 1)[-1]: w for w in at.selectbox if w.key and w.key.startswith("plan_detail|")}
    form["funding_source"].select("PCN development funding")
    button(at, "Save this action").click().run()
    notes = " ".join(i.value for i in at.info)
    assert "coaching" in notes and "clinical directors" in notes and "already funded" in notes


def test_a_stale_action_edit_is_a_conflict_with_both_values(demo_db):
    P.add_action(demo_db, PCN, YEAR, by="Ann", what="Draft the terms of reference", owner="Ann")
    at = open_plan(tab="Actions")
    [a] = P.get_plan(demo_db, PCN, YEAR).actions
    P.update_action(demo_db, a.id, by="Bob", expected_version=a.version, owner="Bob")  # someone else, meanwhile
    edit_actions(at, edited={0: {"Owner": "Cy"}})
    button(at, "Save actions").click().run()
    message = " ".join(e.value for e in at.error)
    assert "changed by someone else" in message and "Cy" in message and "Bob" in message
    assert P.get_plan(demo_db, PCN, YEAR).actions[0].owner == "Bob"
    assert list(table(at).value["Owner"]) == ["Cy"]  # what was typed is still there


def test_the_service_priority_form_saves_and_reports_conflicts(demo_db):
    at = open_plan()
    at.text_area(key=f"plan_service_{PCN}_{YEAR}_0").input("Weekly rounds in every care home")
    at.selectbox(key=f"plan_spec_{PCN}_{YEAR}_0").select("care-homes")
    button(at, "Save priority and notes").click().run()
    plan = P.get_plan(demo_db, PCN, YEAR)
    assert (plan.service_priority, plan.service_spec) == ("Weekly rounds in every care home", "care-homes")
    P.save_plan(demo_db, PCN, YEAR, by="Bob", expected_version=plan.version, service_priority="Frailty")
    at.text_area(key=f"plan_service_{PCN}_{YEAR}_{plan.version}").input("Diabetes")
    button(at, "Save priority and notes").click().run()
    message = " ".join(e.value for e in at.error)
    assert "Diabetes" in message and "Frailty" in message
    assert any(b.label == "Load the latest" for b in at.button)
    assert P.get_plan(demo_db, PCN, YEAR).service_priority == "Frailty"


def test_the_clinical_directors_part_saves_and_stays_on_its_tab(demo_db):
    at = open_plan(tab="Clinical director")
    assert [t.value for t in at.text_area if t.key.startswith("plan_cd_wants|")].count("") == 6
    at.text_area(key=f"plan_cd_wants|{PCN}|{YEAR}|0|using-data").input("Reading the practices' data together")
    at.text_input(key=f"plan_cd_from|{PCN}|{YEAR}|0|using-data").input("The ICB's analytics team")
    button(at, "Save the clinical director's development").click().run()
    assert not at.exception and not at.error
    assert at.session_state["tab"] == "Clinical director"
    plan = P.get_plan(demo_db, PCN, YEAR)
    assert [(c.area_id, c.title, c.wants, c.provider) for c in plan.cd_development] == [
        ("using-data", "Using data for decisions", "Reading the practices' data together", "The ICB's analytics team")]


def test_a_version_is_shared_and_commissioners_see_it(demo_db):
    P.save_plan(demo_db, PCN, YEAR, by="Ann", expected_version=0, notes="Our plan")
    at = open_plan(tab="Shared versions")
    assert any("No version shared yet." in c.value for c in at.caption)
    button(at, "Share this version (version 1) with the ICS and commissioners").click().run()
    assert not at.exception and not at.error
    [v] = P.shared_versions(demo_db, PCN, YEAR)
    assert (v.number, v.shared_by) == (1, "Test User")
    text = PdfReader(io.BytesIO(P.shared_pdf(demo_db, PCN, YEAR, 1))).pages[0].extract_text()
    assert "Version 1, shared with the ICS and commissioners by Test User" in " ".join(text.split())
    assert "Download version 1" in [b.label for b in at.get("download_button")]
    assert P.get_plan(demo_db, PCN, YEAR).shared


def test_the_plan_downloads(demo_db):
    at = open_plan(tab="Download")
    labels = [b.label for b in at.get("download_button")]
    assert "Download the plan in Excel" in labels and "Download the plan PDF" not in labels
    button(at, "Prepare the plan PDF").click().run()
    assert not at.exception and not at.error
    assert "Download the plan PDF" in [b.label for b in at.get("download_button")]
    key, data, name = at.session_state["plan_pdf"]
    assert name == f"development-plan-{PCN}-2024-25.pdf" and data.startswith(b"%PDF-")
    assert orgs.pcn(demo_db, PCN).name in PdfReader(io.BytesIO(data)).pages[0].extract_text()


def test_every_pcn_of_the_ics_in_one_zip(demo_db):
    at = open_plan(tab="Download")
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


def test_a_commissioner_sees_the_shared_versions_and_cannot_share(demo_db, monkeypatch):
    from assessments.access import COMMISSIONER, Grant, Principal
    from components import state

    P.save_plan(demo_db, PCN, YEAR, by="Ann", expected_version=0, notes="Our plan")
    P.share_version(demo_db, PCN, YEAR, b"%PDF-1.7 as shared", by="Dr Lee", expected_version=1, note="For the board")
    monkeypatch.setattr(state, "principal", lambda: Principal("com", "Cass", "cass@nhs.net",
                                                              (Grant(COMMISSIONER, ics_code="QZZ"),)))
    at = open_plan(actor=None, tab="Shared versions")
    assert not at.exception and not at.error
    text = " ".join(m.value for m in at.markdown)
    assert "Version 1**, shared by Dr Lee" in text and "For the board" in text
    assert "Download version 1" in [b.label for b in at.get("download_button")]
    assert not any(b.label.startswith("Share this version") for b in at.button)
    assert all(b.disabled for b in at.button if b.label in ("Save actions", "Add to priorities"))

"""The workshop pages through AppTest: the facilitator opens a workshop and sees its code; a
participant joins with it and rates; the facilitator records and writes the agreed stages."""
from __future__ import annotations

from app_fixtures import open_page

from assessments import workshop as ws
from assessments import ratings as assessing

FACILITATOR = "views/workshop.py"
JOIN = "views/join.py"


def texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [h.value for h in at.title])


def button(at, label):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r} in {[b.label for b in at.button]}"
    return found[0]


def test_facilitator_opens_a_workshop_and_sees_its_code(demo_db):
    at = open_page(FACILITATOR, query={"ics": "QZZ", "pcn": "U99003"})
    button(at, "Open the workshop").click().run()
    assert not at.exception, [e.value for e in at.exception]
    [w] = ws.workshops(demo_db)
    assert (w.pcn_code, w.status, w.created_by) == ("U99003", "open", "Test User")
    page = texts(at)
    assert "Workshop: Wendmoor Moors PCN" in page
    assert f"join?code={w.code}" in page  # the join link
    assert at.query_params["w"] == str(w.id)
    assert any(h.value == "Live results" for h in at.header)
    # Pause from the controls: stored, and the button now offers to resume.
    button(at, "Pause rating").click().run()
    assert ws.get_workshop(demo_db, w.id).status == "paused"
    assert [b for b in at.button if b.label == "Resume rating"]


def test_without_a_name_nothing_can_be_opened(demo_db):
    at = open_page(FACILITATOR, actor=None, query={"ics": "QZZ", "pcn": "U99003"})
    assert button(at, "Open the workshop").disabled
    assert any("Enter your name in the sidebar" in i.value for i in at.info)


def test_a_participant_joins_with_the_code_and_rates(demo_db):
    w = ws.open_workshop(demo_db, "U99004", "2025/26", by="Fran")
    at = open_page(JOIN, actor=None, query={"code": w.code.lower()})
    assert at.text_input[0].value == w.code.lower()
    at.text_input[1].input("Sam <Patel>")
    at.selectbox[0].select("Practice manager")
    at.get("form_submit_button")[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    [p] = ws.participants(demo_db, w.id)
    assert (p.name, p.role) == ("Sam <Patel>", "Practice manager")
    assert at.query_params["code"] == w.code
    assert "p" not in at.query_params  # the token never sits in the address
    token = at.session_state["workshop_token"]
    assert "as Sam \\<Patel\\> (Practice manager)" in texts(at)  # shown literally

    first = at.radio[0]
    first.set_value("step-2").run()
    at.text_input[0].input("Board minutes show it").run()
    mine = ws.my_ratings(demo_db, token)
    element = demo_db.default_matrix().element_ids()[0]
    assert {e: (r.stage, r.comment) for e, r in mine.items()} == {element: ("step-2", "Board minutes show it")}
    assert "Saved: Step 2 with your comment." in texts(at)

    # A fresh session from the participant's own rejoin link carries on with the same ratings,
    # and takes the token out of the address again.
    again = open_page(JOIN, actor=None, query={"code": w.code, "p": token})
    assert not again.exception
    assert "p" not in again.query_params
    assert again.radio[0].value == "step-2"
    assert again.text_input[0].value == "Board minutes show it"
    assert len(ws.participants(demo_db, w.id)) == 1


def test_a_rating_sent_while_paused_is_refused_and_the_screen_shows_what_is_saved(demo_db):
    w = ws.open_workshop(demo_db, "U99004", "2025/26", by="Fran")
    _, p = ws.join(demo_db, w.code, "Ann", "GP")
    at = open_page(JOIN, actor=None, query={"code": w.code, "p": p.token})
    at.radio[0].set_value("step-1").run()
    ws.pause(demo_db, w.id, by="Fran")
    at.radio[1].set_value("step-3").run()  # the page still shows the radios as open
    assert any("paused" in e.value for e in at.error)
    assert at.radio[1].value is None
    assert [r.stage for r in ws.my_ratings(demo_db, p.token).values()] == ["step-1"]


def test_a_wrong_code_gets_a_clear_message(demo_db):
    at = open_page(JOIN, actor=None)
    at.text_input[0].input("ABC")
    at.text_input[1].input("Sam")
    at.selectbox[0].select("GP")
    at.get("form_submit_button")[0].click().run()
    assert any("is not a workshop code" in e.value for e in at.error)


def test_facilitator_records_the_agreed_stage_and_writes_the_assessment(demo_db):
    w = ws.open_workshop(demo_db, "U99004", "2025/26", by="Fran")
    matrix = demo_db.default_matrix()
    second = matrix.element_ids()[1]
    for name, stage in (("Ann", "step-1"), ("Bob", "step-3"), ("Cat", "step-1")):
        _, p = ws.join(demo_db, w.code, name, "GP")
        ws.rate(demo_db, p.token, second, stage, f"{name} thinks so")
    at = open_page(FACILITATOR, query={"w": str(w.id)})
    element = at.selectbox(key=f"agree_element_{w.id}")
    assert element.value == second  # the first element whose views differ
    assert at.radio[0].value == "step-1"  # the median is suggested
    at.text_area[0].input("Board minutes; partners not yet involved")
    button(at, "Record the agreed stage").click().run()
    assert not at.exception, [e.value for e in at.exception]
    s = ws.summary(demo_db, w.id)
    assert (s.element(second).agreed.stage, s.element(second).agreed.note) == (
        "step-1", "Board minutes; partners not yet involved")
    assert at.selectbox(key=f"agree_element_{w.id}").value == second  # nothing else was rated, so it stays

    button(at, "Write the agreed ratings to the 2025/26 assessment").click().run()
    a = assessing.find_assessment(demo_db, "U99004", "2025/26")
    assert a is not None and a.status == "draft"
    rating = assessing.ratings(demo_db, a.id)[second]
    assert rating.current_stage == "step-1" and rating.note.endswith("Board minutes; partners not yet involved")
    assert {e.source for e in assessing.rating_history(demo_db, a.id, second)} == {f"workshop {w.code}"}
    assert any("Wrote 1 agreed rating(s) to a new draft assessment" in m.value for m in at.success)


def test_writing_to_an_agreed_assessment_explains_and_offers_a_new_draft(demo_db):
    agreed = assessing.find_assessment(demo_db, "U99001", "2024/25")
    assert agreed.status == "agreed"
    # On the assessment's own version, as the page opens it (the demo's years are on 2019/20).
    w = ws.open_workshop(demo_db, "U99001", "2024/25", demo_db.matrix(agreed.matrix_id, agreed.matrix_version), by="Fran")
    ws.record_consensus(demo_db, w.id, demo_db.default_matrix().element_ids()[0], "step-3", by="Fran")
    at = open_page(FACILITATOR, query={"w": str(w.id)})
    button(at, "Write the agreed ratings to the 2024/25 assessment").click().run()
    assert any("it is locked" in e.value for e in at.error)
    button(at, "Open a new draft of the assessment").click().run()
    draft = assessing.find_assessment(demo_db, "U99001", "2024/25")
    assert draft.status == "draft" and draft.revision_of == agreed.id
    button(at, "Write the agreed ratings to the 2024/25 assessment").click().run()
    assert assessing.ratings(demo_db, draft.id)[demo_db.default_matrix().element_ids()[0]].current_stage == "step-3"


def test_the_join_link_works_from_whatever_address_is_typed():
    from components.workshop import join_url

    assert join_url("http://192.168.1.20:8501/", "ABC234") == "http://192.168.1.20:8501/join?code=ABC234"
    assert join_url(" 192.168.1.20:8501 ", "ABC234") == "http://192.168.1.20:8501/join?code=ABC234"
    assert join_url("https://pcn.example.nhs.uk/tool", "ABC234") == "https://pcn.example.nhs.uk/tool/join?code=ABC234"


def test_a_workshop_can_be_opened_to_rate_targets_too(demo_db):
    at = open_page(FACILITATOR, query={"ics": "QZZ", "pcn": "U99003"})
    at.checkbox(key="workshop_rate_target").check().run()
    button(at, "Open the workshop").click().run()
    assert not at.exception, [e.value for e in at.exception]
    [w] = ws.workshops(demo_db)
    assert w.rate_target is True
    assert "participants rate the target stage too" in texts(at)


def _stage_radio(at, key):
    return at.radio(key=key)


def test_the_suggestion_follows_new_ratings_until_the_facilitator_chooses(demo_db):
    w = ws.open_workshop(demo_db, "U99004", "2025/26", by="Fran", rate_target=True)
    first = ws.summary(demo_db, w.id).elements[0].element_id
    tokens = [ws.join(demo_db, w.code, name, "GP")[1].token for name in ("Ann", "Bob", "Cat")]
    at = open_page(FACILITATOR, query={"w": str(w.id)})
    element = at.selectbox(key=f"agree_element_{w.id}")
    assert element.value == first and "(not rated)" in element.format_func(first)
    stage, target = f"agree_stage_{w.id}_{first}", f"agree_target_{w.id}_{first}"
    assert at.radio(key=stage).value is None and at.radio(key=target).value is None
    at.text_area(key=f"agree_note_{w.id}_{first}").input("Partners not yet involved").run()

    ws.rate(demo_db, tokens[0], first, "step-2", target="step-3")
    ws.rate(demo_db, tokens[1], first, "step-2", target="step-3")
    at.run()
    assert at.selectbox(key=f"agree_element_{w.id}").format_func(first).endswith("(2 ratings)")
    assert at.radio(key=stage).value == "step-2"  # the median, preselected and marked so
    assert "(suggested: the group's median)" in at.radio(key=stage).format_func("step-2")
    assert at.radio(key=target).value == "step-3"

    at.radio(key=stage).set_value("foundation").run()  # the facilitator's own choice
    ws.rate(demo_db, tokens[2], first, "step-3", target="step-3")
    at.run()
    assert at.radio(key=stage).value == "foundation"  # kept, though the median moved
    assert at.radio(key=target).value == "step-3"  # still following
    assert at.text_area(key=f"agree_note_{w.id}_{first}").value == "Partners not yet involved"

    button(at, "Record the agreed stage").click().run()
    assert not at.exception, [e.value for e in at.exception]
    agreed = ws.summary(demo_db, w.id).element(first).agreed
    assert (agreed.stage, agreed.target_stage, agreed.note) == ("foundation", "step-3", "Partners not yet involved")
    assert any("Recorded:" in s.value and "target Step 3" in s.value for s in at.success)


def test_present_mode_leaves_the_page_chrome_out_and_scales_the_charts(demo_db):
    import json

    w = ws.open_workshop(demo_db, "U99004", "2025/26", by="Fran")
    matrix = demo_db.default_matrix()
    for i, name in enumerate(("Ann", "Bob")):
        token = ws.join(demo_db, w.code, name, "GP")[1].token
        ws.rate(demo_db, token, matrix.element_ids()[0], matrix.stage_ids[i])

    def sizes(at) -> list[float]:  # the spiders' text: the figure's, and the median spider's domain names
        layout = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]
        return [layout["font"]["size"], layout["polar"]["angularaxis"]["tickfont"]["size"]]

    normal = open_page(FACILITATOR, query={"w": str(w.id)})
    assert any(h.value == "Live results" for h in normal.header)
    assert [b for b in normal.button if b.label == "Choose another workshop"]
    present = open_page(FACILITATOR, query={"w": str(w.id), "present": "true"})
    assert not any(h.value == "Live results" for h in present.header)
    assert not [b for b in present.button if b.label == "Choose another workshop"]
    assert [b for b in present.button if b.label == "Pause rating"]  # the controls stay
    assert all(big >= 1.5 * small for big, small in zip(sizes(present), sizes(normal)))

"""AppTest: the self-assessment page saves each change at once and respects agreed assessments."""
from __future__ import annotations

import pytest
from app_fixtures import open_page

from assessments.demo import DEMO_ICS
from components.look import plain
from components.rating import domain_tabs_key
from assessments import ratings as assessing


def _draft(store):
    draft = next(a for a in assessing.assessments(store, ics_code=DEMO_ICS[0]) if a.status == "draft")
    return draft


def _open(store, assessment, actor="Dr Test", element=None):
    """The page for the assessment, with the tab of the element's domain open (only that one is drawn)."""
    state = {"assess_year": assessment.year}
    if element:
        matrix = store.matrix(assessment.matrix_id, assessment.matrix_version)
        domain = next(d for d in matrix.domains if any(e.id == element for e in d.elements))
        state[domain_tabs_key(matrix)] = plain(domain.title)
    return open_page("views/assess.py", actor=actor, query={"ics": DEMO_ICS[0], "pcn": assessment.pcn_code},
                     state=state)


def test_rating_an_element_saves_it(demo_db):
    a = _draft(demo_db)
    at = _open(demo_db, a)
    element = demo_db.default_matrix().domains[0].elements[0].id
    key = f"a{a.id}|{element}|current_stage"
    at.button_group(key=key).set_value("step-3").run()
    assert not at.exception
    saved = assessing.rating(demo_db, a.id, element)
    assert (saved.current_stage, saved.updated_by) == ("step-3", "Dr Test")
    at.button_group(key=f"a{a.id}|{element}|target_stage").set_value("step-3").run()
    at.text_area(key=f"a{a.id}|{element}|evidence").set_value("Board minutes, 3 March").run()
    saved = assessing.rating(demo_db, a.id, element)
    assert (saved.target_stage, saved.evidence) == ("step-3", "Board minutes, 3 March")


def test_new_year_copies_last_years_ratings(demo_db):
    a = next(a for a in assessing.assessments(demo_db, ics_code=DEMO_ICS[0]) if a.year == "2024/25")
    at = open_page("views/assess.py", query={"ics": DEMO_ICS[0], "pcn": a.pcn_code}, state={"assess_year": "2025/26"})
    at.radio(key="assess_start_how").set_value("copy").run()
    at.button(key="assess_start").click().run()
    assert not at.exception
    new = assessing.find_assessment(demo_db, a.pcn_code, "2025/26")
    old, copied = assessing.ratings(demo_db, a.id), assessing.ratings(demo_db, new.id)
    assert copied and all(copied[e].current_stage == old[e].current_stage for e in copied)


def test_agreed_assessment_cannot_be_edited(demo_db):
    from assessments.values import LockedError

    a = next(a for a in assessing.assessments(demo_db, ics_code=DEMO_ICS[0]) if a.status == "agreed")
    at = _open(demo_db, a)
    element = demo_db.default_matrix().domains[0].elements[0].id
    assert at.button_group(key=f"a{a.id}|{element}|current_stage").disabled
    with pytest.raises(LockedError):
        assessing.save_rating(demo_db, a.id, element, by="x", expected_version=1, current_stage="step-1")
    [button] = [b for b in at.button if b.label == "Open a new draft from it"]
    button.click().run()
    assert assessing.find_assessment(demo_db, a.pcn_code, a.year).status == "draft"


def test_without_a_name_nothing_can_be_written(demo_db):
    a = _draft(demo_db)
    at = _open(demo_db, a, actor=None)
    element = demo_db.default_matrix().domains[0].elements[0].id
    assert at.button_group(key=f"a{a.id}|{element}|current_stage").disabled


def test_conflict_shows_both_values_and_keeps_the_stored_one(demo_db):
    a = _draft(demo_db)
    at = _open(demo_db, a)
    element = demo_db.default_matrix().domains[0].elements[1].id
    before = assessing.rating(demo_db, a.id, element)
    # Someone else saves between this user's page load and their click.
    assessing.save_rating(demo_db, a.id, element, by="Other Person", expected_version=before.version if before else 0,
                        note="Changed elsewhere")
    at.button_group(key=f"a{a.id}|{element}|current_stage").set_value("step-3").run()
    errors = " ".join(e.value for e in at.error)
    assert "changed by someone else" in errors and "Other Person" in errors
    assert assessing.rating(demo_db, a.id, element).note == "Changed elsewhere"
    assert assessing.rating(demo_db, a.id, element).current_stage != "step-3" or (before and before.current_stage == "step-3")


def test_a_change_arriving_from_an_unfinished_run_is_not_saved(demo_db):
    """Clicks during an unfinished run can report widgets as changed (even cleared); such a change is
    refused with a message and the stored rating stays as it was."""
    a = _draft(demo_db)
    element = next(e for e, r in assessing.ratings(demo_db, a.id).items() if r.current_stage)
    before = assessing.rating(demo_db, a.id, element)
    at = _open(demo_db, a, element=element)
    at.session_state["rating_page_drawn"] = False  # as if the last run was cut short
    at.button_group(key=f"a{a.id}|{element}|current_stage").set_value(None).run()
    assert not at.exception
    assert assessing.rating(demo_db, a.id, element).current_stage == before.current_stage
    assert assessing.rating(demo_db, a.id, element).version == before.version
    assert any("still loading" in e.value for e in at.error)
    # The widget shows the stored stage again, and the next change is saved.
    assert at.button_group(key=f"a{a.id}|{element}|current_stage").value == before.current_stage
    other = next(s for s in ("foundation", "step-1", "step-2", "step-3") if s != before.current_stage)
    at.button_group(key=f"a{a.id}|{element}|current_stage").set_value(other).run()
    assert assessing.rating(demo_db, a.id, element).current_stage == other


def test_text_saved_trimmed_and_unchanged_text_not_resaved(demo_db):
    a = _draft(demo_db)
    element = demo_db.default_matrix().domains[1].elements[0].id
    at = _open(demo_db, a, element=element)
    key = f"a{a.id}|{element}|note"
    at.text_area(key=key).set_value("  Ask the LMC about £ and – dashes, Zoë  ").run()
    saved = assessing.rating(demo_db, a.id, element)
    assert saved.note == "Ask the LMC about £ and – dashes, Zoë"
    at.text_area(key=key).set_value("Ask the LMC about £ and – dashes, Zoë ").run()
    assert assessing.rating(demo_db, a.id, element).version == saved.version


def test_the_chosen_pcn_follows_the_user_to_other_pages(demo_db):
    at = open_page("views/assess.py", query={"ics": DEMO_ICS[0]})
    at.selectbox(key="pcn").set_value("U99006").run()
    for page in ("views/progress.py", "views/plan.py", "views/pathway.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert at.selectbox(key="pcn").value == "U99006", page


def test_only_the_open_domain_tab_is_drawn(demo_db):
    a = _draft(demo_db)
    matrix = demo_db.matrix(a.matrix_id, a.matrix_version)
    first, second = matrix.domains[0].elements[0].id, matrix.domains[1].elements[0].id
    keys = lambda at: {b.key for b in at.button_group}  # noqa: E731
    at = _open(demo_db, a)
    assert f"a{a.id}|{first}|current_stage" in keys(at)
    assert f"a{a.id}|{second}|current_stage" not in keys(at)
    at = _open(demo_db, a, element=second)
    assert f"a{a.id}|{second}|current_stage" in keys(at)
    assert f"a{a.id}|{first}|current_stage" not in keys(at)


def _button(at, key):
    [found] = [b for b in at.button if b.key == key]
    return found


def test_choosing_the_chosen_stage_keeps_it_and_clearing_is_its_own_control(demo_db):
    """A second click on the chosen stage (sent by a client that lets it be unchosen) keeps it; the
    clear button clears the stages and confidence; undo puts them back."""
    a = _draft(demo_db)
    element = next(e for e, r in assessing.ratings(demo_db, a.id).items() if r.current_stage and r.target_stage)
    before = assessing.rating(demo_db, a.id, element)
    at = _open(demo_db, a, element=element)
    now = f"a{a.id}|{element}|current_stage"
    at.button_group(key=now).set_value(None).run()
    assert not at.exception
    assert at.button_group(key=now).value == before.current_stage
    assert assessing.rating(demo_db, a.id, element).version == before.version  # nothing written
    assert not [b for b in at.button if b.key == f"undo|{a.id}|{element}"]  # nothing to undo

    _button(at, f"clear|{a.id}|{element}").click().run()
    cleared = assessing.rating(demo_db, a.id, element)
    assert (cleared.current_stage, cleared.target_stage, cleared.confidence) == (None, None, None)
    assert at.button_group(key=now).value is None
    _button(at, f"undo|{a.id}|{element}").click().run()
    back = assessing.rating(demo_db, a.id, element)
    assert (back.current_stage, back.target_stage, back.confidence) == (
        before.current_stage, before.target_stage, before.confidence)
    assert at.button_group(key=now).value == before.current_stage
    assert not [b for b in at.button if b.key == f"undo|{a.id}|{element}"]  # undone, nothing left


def test_undo_puts_back_the_last_changes_one_at_a_time(demo_db):
    a = _draft(demo_db)
    element = next(e for e, r in assessing.ratings(demo_db, a.id).items() if r.current_stage)
    first = assessing.rating(demo_db, a.id, element).current_stage
    others = [s for s in ("foundation", "step-1", "step-2", "step-3") if s != first]
    at = _open(demo_db, a, element=element)
    now = f"a{a.id}|{element}|current_stage"
    at.button_group(key=now).set_value(others[0]).run()
    at.button_group(key=now).set_value(others[1]).run()
    assert assessing.rating(demo_db, a.id, element).current_stage == others[1]
    undo = _button(at, f"undo|{a.id}|{element}")
    assert undo.label == "Undo the last change"
    undo.click().run()
    assert assessing.rating(demo_db, a.id, element).current_stage == others[0]
    _button(at, f"undo|{a.id}|{element}").click().run()
    assert assessing.rating(demo_db, a.id, element).current_stage == first
    assert at.button_group(key=now).value == first
    # Someone else's change meanwhile is not overwritten by an undo: it is a conflict, shown.
    at.button_group(key=now).set_value(others[2]).run()
    r = assessing.rating(demo_db, a.id, element)
    assessing.save_rating(demo_db, a.id, element, by="Other Person", expected_version=r.version, note="Elsewhere")
    _button(at, f"undo|{a.id}|{element}").click().run()
    assert "changed by someone else" in " ".join(e.value for e in at.error)
    assert assessing.rating(demo_db, a.id, element).current_stage == others[2]


def test_the_print_view_shows_every_element_with_what_people_typed_escaped(demo_db):
    a = _draft(demo_db)
    matrix = demo_db.matrix(a.matrix_id, a.matrix_version)
    element = matrix.element_ids()[-1]
    r = assessing.rating(demo_db, a.id, element)
    typed = "<script>alert(1)</script> & **not bold** <b>nor this</b>"
    assessing.save_rating(demo_db, a.id, element, by="x", expected_version=r.version if r else 0, note=typed)
    at = open_page("views/assess.py", query={"ics": DEMO_ICS[0], "pcn": a.pcn_code, "year": a.year, "print": "1"})
    assert not at.exception
    [doc] = [h.proto.body for h in at.get("html") if "print-doc" in h.proto.body]
    for _, e in matrix.elements():
        assert e.title.replace("'", "&#x27;") in doc
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; **not bold** &lt;b&gt;nor this&lt;/b&gt;" in doc
    assert "<script>" not in doc and "<b>nor this" not in doc
    assert not at.button_group  # no rating controls in the print view
    _button(at, "assess_print_close").click().run()
    assert at.button_group and "print" not in at.query_params


def _other_stage(stage: str | None) -> str:
    return next(s for s in ("step-1", "step-2", "foundation") if s != stage)


def test_a_rating_click_redraws_only_what_it_changes(demo_db):
    """Each card's parts are fragments, and a save's callback reruns what the change reaches (AppTest
    runs the fragments a callback names, as the browser does): moving "Undo" from one card to the
    next redraws that card's stages and the other card's undo and clear buttons, nothing else; a
    change to how many are rated redraws the summary and the domain's count line with it."""
    a = _draft(demo_db)
    matrix = demo_db.matrix(a.matrix_id, a.matrix_version)
    ratings = assessing.ratings(demo_db, a.id)
    domain = next(d for d in matrix.domains if sum(1 for e in d.elements if (r := ratings.get(e.id)) and r.current_stage) >= 2)
    first, second = [e.id for e in domain.elements if (r := ratings.get(e.id)) and r.current_stage][:2]
    at = _open(demo_db, a, element=first)
    assert len({b.key for b in at.button_group}) > 3  # the whole domain was drawn
    at.button_group(key=f"a{a.id}|{first}|current_stage").set_value(_other_stage(ratings[first].current_stage)).run()
    assert not at.exception
    assert [b.key for b in at.button if b.key.startswith("undo|")] == [f"undo|{a.id}|{first}"]
    at.run()  # the whole page again (AppTest keeps only what the last run drew)
    second_now = f"a{a.id}|{second}|current_stage"
    at.button_group(key=second_now).set_value(_other_stage(ratings[second].current_stage)).run()
    assert not at.exception
    assert assessing.rating(demo_db, a.id, second).current_stage == _other_stage(ratings[second].current_stage)
    # Only the second card's stage controls were drawn again (not its confidence, not other cards)...
    assert {b.key for b in at.button_group} == {second_now, f"a{a.id}|{second}|target_stage"}
    # ...and the first card's buttons, which no longer offer to undo.
    assert [b.key for b in at.button if b.key.startswith("undo|")] == [f"undo|{a.id}|{second}"]
    assert f"clear|{a.id}|{first}" in {b.key for b in at.button}

    rated = sum(1 for e in matrix.element_ids() if (r := ratings.get(e)) and (r.current_stage or r.not_applicable))
    _button(at, f"clear|{a.id}|{second}").click().run()
    assert not at.exception
    assert assessing.rating(demo_db, a.id, second).current_stage is None
    shown = " ".join(str(p.proto) for p in at.get("progress"))
    assert f"{rated - 1} of {len(list(matrix.element_ids()))} elements rated" in shown
    assert any("elements rated in this domain" in c.value for c in at.caption)

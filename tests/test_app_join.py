"""The join page (views/join.py) through AppTest: one domain at a time with next and previous and
a progress line; the domain kept in the address; a comment typed before its stage kept for a new
session and saved with the stage; the target stage when the workshop rates it; once results are
revealed, the participant's own ratings in the first tab."""
from __future__ import annotations

from app_fixtures import open_page

from assessments import workshop as ws

JOIN = "views/join.py"


def joined(demo_db, *, rate_target: bool = False, name: str = "Ann"):
    w = ws.open_workshop(demo_db, "U99004", "2025/26", by="Fran", rate_target=rate_target)
    _, p = ws.join(demo_db, w.code, name, "GP")
    return w, p.token


def progress_text(at) -> str:
    [bar] = at.get("progress")
    return bar.proto.text


def headings(at) -> list[str]:
    return [h.value for h in at.subheader]


def button(at, starts: str):
    found = [b for b in at.button if b.label.startswith(starts)]
    assert found, f"no button {starts!r} in {[b.label for b in at.button]}"
    return found[0]


def test_one_domain_at_a_time_with_next_previous_and_a_progress_line(demo_db):
    w, token = joined(demo_db)
    matrix = demo_db.default_matrix()
    first, second = matrix.domains[0], matrix.domains[1]
    at = open_page(JOIN, actor=None, query={"code": w.code, "p": token})
    assert progress_text(at) == "Domain 1 of 5 · 0 of 22 rated"
    assert first.title in headings(at) and second.title not in headings(at)
    assert len(at.radio) == len(first.elements)  # the current stage only: this workshop rates no targets
    assert not [b for b in at.button if b.label.startswith("Previous")]
    at.radio[0].set_value("step-1").run()
    assert progress_text(at) == "Domain 1 of 5 · 1 of 22 rated"

    button(at, f"Next: {second.title}").click().run()
    assert progress_text(at) == "Domain 2 of 5 · 1 of 22 rated"
    assert second.title in headings(at) and first.title not in headings(at)
    assert len(at.radio) == len(second.elements)
    assert at.query_params["d"] == "2"
    at.radio[1].set_value("step-3").run()
    assert {e: r.stage for e, r in ws.my_ratings(demo_db, token).items()} == {
        first.elements[0].id: "step-1", second.elements[1].id: "step-3"}

    button(at, f"Previous: {first.title}").click().run()
    assert progress_text(at) == "Domain 1 of 5 · 2 of 22 rated"
    assert at.radio[0].value == "step-1"  # drawn again from what is saved


def test_a_new_session_opens_at_the_domain_in_the_address(demo_db):
    w, token = joined(demo_db)
    matrix = demo_db.default_matrix()
    last = matrix.domains[-1]
    at = open_page(JOIN, actor=None, query={"code": w.code, "p": token, "d": "5"})
    assert progress_text(at) == "Domain 5 of 5 · 0 of 22 rated"
    assert last.title in headings(at)
    assert not [b for b in at.button if b.label.startswith("Next")]
    assert any("That is the last domain" in c.value for c in at.caption)
    for wrong in ("99", "0", "two"):  # an address edited by hand still gives a domain
        again = open_page(JOIN, actor=None, query={"code": w.code, "p": token, "d": wrong})
        assert progress_text(again).startswith("Domain ")
        assert not again.exception


def test_a_comment_typed_before_its_stage_is_kept_and_saved_with_it(demo_db):
    w, token = joined(demo_db)
    element = demo_db.default_matrix().element_ids()[0]
    at = open_page(JOIN, actor=None, query={"code": w.code, "p": token})
    at.text_input[0].input("Board minutes show it").run()
    assert any("your comment is saved with it" in i.value for i in at.info)
    assert ws.my_ratings(demo_db, token) == {}  # nothing to save without a stage

    # A reload is a new session: the comment is still there, and goes in with the stage.
    again = open_page(JOIN, actor=None, query={"code": w.code, "p": token})
    assert again.text_input[0].value == "Board minutes show it"
    again.radio[0].set_value("step-2").run()
    saved = ws.my_ratings(demo_db, token)[element]
    assert (saved.stage, saved.comment) == ("step-2", "Board minutes show it")
    assert any(c.value == "Saved: Step 2 with your comment." for c in again.caption)

    # Taking the comment away again is saved too.
    again.text_input[0].input("").run()
    assert ws.my_ratings(demo_db, token)[element].comment is None


def test_the_target_stage_when_the_workshop_rates_it(demo_db):
    w, token = joined(demo_db, rate_target=True)
    matrix = demo_db.default_matrix()
    element = matrix.element_ids()[0]
    at = open_page(JOIN, actor=None, query={"code": w.code, "p": token})
    assert len(at.radio) == 2 * len(matrix.domains[0].elements)
    now, target = at.radio[0], at.radio[1]
    assert target.label.startswith("Where should it be in a year?")
    target.set_value("step-3").run()
    assert ws.my_ratings(demo_db, token) == {}
    assert any("your target is saved with it" in i.value for i in at.info)
    at.radio[0].set_value("step-1").run()
    saved = ws.my_ratings(demo_db, token)[element]
    assert (saved.stage, saved.target_stage) == ("step-1", "step-3")
    assert any(c.value == "Saved: Step 1, target Step 3." for c in at.caption)
    assert now.label.endswith("where is the network now?")


def test_revealed_results_sit_in_a_tab_after_the_own_ratings(demo_db):
    w, token = joined(demo_db)
    ws.rate(demo_db, token, demo_db.default_matrix().element_ids()[0], "step-2")
    ws.reveal(demo_db, w.id, by="Fran")
    at = open_page(JOIN, actor=None, query={"code": w.code, "p": token})
    assert [t.label for t in at.tabs] == ["Your ratings", "The group's results"]
    assert progress_text(at) == "Domain 1 of 5 · 1 of 22 rated"
    assert at.radio[0].value == "step-2"
    # Only the open tab is drawn: thirty phones do not each build the group's charts unasked.
    assert "You and the group" not in headings(at)


def test_the_device_cookie_is_strict_for_a_day_and_cannot_break_out_of_its_script():
    from components.participant import COOKIE_AGE, cookie_script

    script = cookie_script("ab</script><script>alert(1)", COOKIE_AGE)
    assert ";Path=/;Max-Age=86400;SameSite=Strict" in script
    assert script.count("</script>") == 1 and script.endswith("</script>")
    assert "location.protocol==='https:'?';Secure'" in script  # Secure whenever the page is served over HTTPS
    assert ";Max-Age=0;" in cookie_script("", 0)  # forgetting the device deletes the cookie

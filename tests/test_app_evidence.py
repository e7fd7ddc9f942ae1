"""AppTest: evidence items on the rating card (freshness, adding, confirming what was carried over),
the submit / confirm / return controls for the right people only, and evidence freshness on the
progress and portfolio pages."""
from __future__ import annotations

import pytest
from app_fixtures import ROOT, shown_tables
from streamlit.testing.v1 import AppTest

from assessments import evidence as ev
from assessments import ratings as assessing
from assessments.access import FACILITATOR, LEAD, Grant, Principal
from assessments.demo import DEMO_ICS, YEARS
from components import state
from components.look import JOINER, plain
from components.rating import domain_tabs_key

LATEST = YEARS[-1]


def page(path: str, *, query: dict, state: dict | None = None) -> AppTest:
    """The page itself as the first run (open_page runs the home page first)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["actor_name"] = "Dr Test"
    for k, v in (state or {}).items():
        at.session_state[k] = v
    for k, v in query.items():
        at.query_params[k] = v
    at.switch_page(path)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _open(store, a, element: str | None = None):
    state_ = {"assess_year": a.year}
    matrix = store.matrix(a.matrix_id, a.matrix_version)
    if element:
        domain = next(d for d in matrix.domains if any(e.id == element for e in d.elements))
        state_[domain_tabs_key(matrix)] = plain(domain.title)
    return page("views/assess.py", query={"ics": DEMO_ICS[0], "pcn": a.pcn_code}, state=state_)


def _text(at) -> str:
    """Everything the page says, without the invisible joiners look.plain puts into addresses."""
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [w.value for w in at.warning]
                    + [i.value for i in at.info] + [e.value for e in at.error]).replace(JOINER, "")


def _button(at, label: str, n: int = 0):
    return [b for b in at.button if b.label == label][n]


def test_the_rating_card_shows_freshness_and_adds_evidence(demo_db):
    a = assessing.find_assessment(demo_db, "U99004", LATEST)  # a draft with items carried over
    found = ev.items(demo_db, a.id)
    matrix = demo_db.matrix(a.matrix_id, a.matrix_version)
    first = matrix.domains[0].elements[0].id
    at = _open(demo_db, a, first)
    assert not at.exception, [e.value for e in at.exception]
    text = _text(at)
    assert "elements have current evidence" in text
    shown = [x for d in matrix.domains[:1] for e in d.elements for x in found.get(e.id, [])]
    assert shown and all(plain(x.description) in text for x in shown)
    assert "Added by" in text and "review by" in text

    # A bad link is refused with a message, and what was typed stays in the box.
    at.text_area(key=f"ev|{a.id}|{first}|desc0").set_value("Board minutes, 3 March, item 4")
    at.text_input(key=f"ev|{a.id}|{first}|link0").set_value("javascript:alert(1)")
    _button(at, "Add evidence").click().run()
    assert "Not added: the link must start with https:// or http://" in _text(at)
    assert at.text_area(key=f"ev|{a.id}|{first}|desc0").value == "Board minutes, 3 March, item 4"
    assert len(ev.items(demo_db, a.id).get(first, [])) == len(found.get(first, []))
    # Then with a good one it is added, by the page's user, and the boxes are empty again.
    at.text_input(key=f"ev|{a.id}|{first}|link0").set_value("https://example.org/minutes")
    _button(at, "Add evidence").click().run()
    assert not at.exception
    new = [x for x in ev.items(demo_db, a.id)[first] if x.description == "Board minutes, 3 March, item 4"]
    assert [(x.link, x.created_by) for x in new] == [("https://example.org/minutes", "Dr Test")]
    assert at.text_area(key=f"ev|{a.id}|{first}|desc1").value == ""
    assert "Board minutes, 3 March, item 4" in _text(at)


def test_confirming_an_element_carried_over(demo_db):
    a = assessing.find_assessment(demo_db, "U99004", LATEST)
    carried = next(e for e, xs in ev.items(demo_db, a.id).items() if any(x.carried_over for x in xs))
    at = _open(demo_db, a, carried)
    assert "Carried over from last year" in _text(at)
    at.button(key=f"evidence-confirm-element-{a.id}-{carried}").click().run()
    assert not at.exception
    assert not any(x.carried_over for x in ev.items(demo_db, a.id)[carried])
    assert f"evidence-confirm-element-{a.id}-{carried}" not in {b.key for b in at.button}


def test_submit_warns_then_the_ics_returns_and_confirms(demo_db):
    a = assessing.find_assessment(demo_db, "U99008", LATEST)
    at = _open(demo_db, a)
    warnings = [w.value for w in at.warning]
    assert any("no current evidence" in w or "not been reviewed" in w for w in warnings)
    at.button(key="assess_submit").click().run()
    assert not at.exception
    assert assessing.assessment(demo_db, a.id).submitted
    assert "submitted to the ICS" in _text(at)
    # Whoever may confirm (here the laptop's administrator) returns it with a comment...
    at.text_area(key=f"assess_return_comment|{a.id}").set_value("Add the signed data-sharing agreement.")
    at.button(key="assess_return").click().run()
    back = assessing.assessment(demo_db, a.id)
    assert (back.submitted, back.return_comment) == (False, "Add the signed data-sharing agreement.")
    assert "Add the signed data-sharing agreement." in _text(at)  # the PCN sees why
    # ...and confirms it once submitted again: the page then names both.
    at.button(key="assess_submit").click().run()
    at.button(key="assess_confirm").click().run()
    done = assessing.assessment(demo_db, a.id)
    assert done.status == "agreed" and done.confirmed_by == "Dr Test"
    assert f"Submitted by Dr Test on {done.submitted_at.day} {done.submitted_at:%b %Y}" in _text(at)
    assert "confirmed for the ICS by Dr Test" in _text(at)


@pytest.fixture
def as_person(monkeypatch):
    def use(p: Principal) -> None:
        monkeypatch.setattr(state, "principal", lambda: p)
    return use


def test_a_pcn_lead_submits_but_cannot_confirm(demo_db, as_person):
    a = assessing.find_assessment(demo_db, "U99008", LATEST)
    as_person(Principal("lead", "Hannah Brook", "hannah@nhs.net", (Grant(LEAD, pcn_code="U99008"),)))
    at = _open(demo_db, a)
    assert "assess_submit" in {b.key for b in at.button}
    at.button(key="assess_submit").click().run()
    assert not at.exception and assessing.assessment(demo_db, a.id).submitted
    keys = {b.key for b in at.button}
    assert "assess_withdraw" in keys and not keys & {"assess_confirm", "assess_return"}


def test_a_facilitator_confirms_but_cannot_submit(demo_db, as_person):
    a = assessing.find_assessment(demo_db, "U99008", LATEST)
    as_person(Principal("fac", "Fran Facilitator", "fran@nhs.net", (Grant(FACILITATOR, ics_code=DEMO_ICS[0]),)))
    at = _open(demo_db, a)
    assert "assess_submit" not in {b.key for b in at.button}  # a draft: not the ICS's to see yet
    assessing.submit_assessment(demo_db, a.id, by="Hannah Brook", expected_version=a.version)
    at = _open(demo_db, a)
    keys = {b.key for b in at.button}
    assert {"assess_confirm", "assess_return"} <= keys and not keys & {"assess_submit", "assess_withdraw"}
    at.button(key="assess_confirm").click().run()
    assert assessing.assessment(demo_db, a.id).confirmed_by == "Fran Facilitator <fran@nhs.net>"


def test_progress_and_portfolio_show_evidence_freshness(demo_db):
    at = page("views/progress.py", query={"ics": DEMO_ICS[0], "pcn": "U99004"})
    assert not at.exception, [e.value for e in at.exception]
    c = ev.coverage(demo_db, assessing.find_assessment(demo_db, "U99004", LATEST).id)
    cells = [str(v) for t in shown_tables(at) for v in t.to_numpy().ravel()]
    assert f"{c.current} of {c.elements}" in cells
    at = page("views/portfolio.py", query={"ics": DEMO_ICS[0]}, state={"portfolio_year": LATEST})
    assert not at.exception, [e.value for e in at.exception]
    rows = ev.portfolio_evidence(demo_db, LATEST, ics_code=DEMO_ICS[0])
    total = f"{sum(x.current for _, x in rows):,} of {sum(x.elements for _, x in rows):,} elements across 8 PCNs"
    assert any(total in m.value for m in at.markdown)
    table = next(d for d in shown_tables(at) if "Elements with current evidence" in d.columns)
    assert list(table["Code"]) == [rec.pcn.code for rec, _ in rows]

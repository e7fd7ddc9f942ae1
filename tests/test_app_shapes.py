"""AppTest: a matrix nobody here wrote, on the self-assessment page. Starting a year from last
year's ratings across a merge and a split works from the page (it once showed a raw
IntegrityError), and an element the matrix lets be "not applicable" gets the control."""
from __future__ import annotations

import pytest
import yaml
from app_fixtures import open_page

from assessments import ratings as assessing
from assessments.demo import DEMO_ICS, YEARS
from components.look import plain
from components.rating import domain_tabs_key

from test_not_applicable import TEXT as NA_TEXT
from test_supersedes_shapes import FIRST, V1, V2

PCN, YEAR, NEW_YEAR = "U99002", YEARS[-1], "2025/26"
ICS = DEMO_ICS[0]


@pytest.fixture
def folder(demo_db, tmp_path, monkeypatch):
    path = tmp_path / "matrices"
    path.mkdir()
    for m in (V1, V2):
        (path / f"shapes-{m.version}.yaml").write_text(yaml.safe_dump(m.model_dump(exclude_defaults=True),
                                                                      sort_keys=False))
    (path / "na.yaml").write_text(NA_TEXT)
    monkeypatch.setenv("PCN_MATRIX_DIR", str(path))
    return demo_db


def test_a_year_started_on_the_page_across_a_merge_and_a_split(folder):
    store = folder
    a = assessing.create_assessment(store, PCN, YEAR, V1, by="test")
    for element, (current, target, confidence) in FIRST.items():
        assessing.save_rating(store, a.id, element, by="test", expected_version=0, current_stage=current,
                              target_stage=target, confidence=confidence)
    at = open_page("views/assess.py", query={"ics": ICS, "pcn": PCN},
                   state={"assess_year": NEW_YEAR, "assess_matrix": V2.key, "assess_matrix_for": (PCN, NEW_YEAR)})
    at.radio(key="assess_start_how").set_value("copy").run()
    at.button(key="assess_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    new = assessing.find_assessment(store, PCN, NEW_YEAR, V2.id)
    got = assessing.ratings(store, new.id)
    assert (got["gov-vision"].current_stage, got["risk-strat"].current_stage, got["dashboards"].current_stage) == (
        "s1", "s1", "s1")


def test_the_rating_card_offers_not_applicable_where_the_matrix_allows_it(folder):
    store = folder
    matrix = store.matrix("na-matrix", "1")
    a = assessing.create_assessment(store, PCN, NEW_YEAR, matrix, by="test")
    at = open_page("views/assess.py", query={"ics": ICS, "pcn": PCN},
                   state={"assess_year": NEW_YEAR, "assess_matrix": matrix.key, "assess_matrix_for": (PCN, NEW_YEAR),
                          domain_tabs_key(matrix): plain("Leadership")})
    keys = {t.key for t in at.toggle}
    assert f"a{a.id}|vision|not_applicable" in keys and f"a{a.id}|governance|not_applicable" not in keys
    at.toggle(key=f"a{a.id}|vision|not_applicable").set_value(True).run()
    assert not at.exception
    r = assessing.rating(store, a.id, "vision")
    assert (r.not_applicable, r.current_stage) == (True, None)
    assert any("Not applicable" in m.value for m in at.markdown)
    assert any("1 of them not applicable" in c.value for c in at.caption)

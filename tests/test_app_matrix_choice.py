"""AppTest: the matrix is a choice on every page. The demo ICS has its own matrix (example-matrix)
beside the national one, and U99001 is rated against both in the last demo year: the progress,
plan, self-assessment and portfolio pages offer a matrix picker only where there is a choice and
name what is not shown; the ICS's default matrix (set on the Matrices page) is what new years and
workshops start on; the Data page's ratings template is for the matrix chosen."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from app_fixtures import open_page, shown_tables
from openpyxl import load_workbook
from streamlit.runtime.media_file_manager import MediaFileManager

from assessments import organisations as orgs
from assessments import ratings as assessing
from assessments.demo import DEMO_ICS, YEARS
from assessments.matrix_choice import find_matrix
from assessments.model import NATIONAL_MATRIX_ID

SMALL = (Path(__file__).resolve().parent / "fixtures" / "small_matrix.yaml").read_text()
LOCAL, PCN, YEAR, NEW_YEAR = "example-matrix", "U99001", YEARS[-1], "2025/26"
ICS = DEMO_ICS[0]


@pytest.fixture
def rated_twice(demo_db, tmp_path, monkeypatch):
    folder = tmp_path / "matrices"
    folder.mkdir()
    (folder / "small_matrix.yaml").write_text(SMALL)
    monkeypatch.setenv("PCN_MATRIX_DIR", str(folder))
    a = assessing.create_assessment(demo_db, PCN, YEAR, find_matrix(demo_db, LOCAL), by="test")
    assessing.save_rating(demo_db, a.id, "governance", by="test", expected_version=0, current_stage="embedded",
                          target_stage="embedded")
    assessing.save_rating(demo_db, a.id, "vision", by="test", expected_version=0, current_stage="starting",
                          target_stage="embedded")
    return demo_db


def use_local_by_default(store) -> None:
    orgs.set_default_matrix(store, ICS, LOCAL, by="test", expected_version=orgs.ics(store, ICS).version)


def matrix_box(at):
    found = [s for s in at.selectbox if s.label == "Matrix"]
    return found[0] if found else None


def texts(at) -> str:
    return " ".join(x.value for x in [*at.markdown, *at.caption, *at.info, *at.warning]).replace("\\", "")


def test_progress_offers_the_matrices_of_a_pcn_rated_against_two(rated_twice):
    at = open_page("views/progress.py", query={"ics": ICS, "pcn": PCN})
    box = matrix_box(at)
    assert box is not None and box.options == ["Example matrix", "PCN maturity matrix"]
    assert box.value == NATIONAL_MATRIX_ID  # the ICS's default: the national one, none chosen
    assert f"also rated against Example matrix in {YEAR}" in texts(at)  # the other is named, not dropped
    [profile, *_] = shown_tables(at)
    assert len(profile) == 5
    box.set_value(LOCAL).run()
    assert not at.exception
    [profile, *_] = shown_tables(at)
    assert len(profile) == len(find_matrix(rated_twice, LOCAL).domains)
    assert set(profile.columns) >= {YEAR} and not set(YEARS[:-1]) & set(profile.columns)
    assert f"also rated against PCN maturity matrix in {', '.join(YEARS)}" in texts(at)
    assert at.query_params["matrix"] == LOCAL  # the view can be shared, and the portfolio's links use it
    assert matrix_box(open_page("views/progress.py", query={"ics": ICS, "pcn": PCN, "matrix": LOCAL})).value == LOCAL


def test_progress_of_a_pcn_on_one_matrix_has_no_picker(rated_twice):
    at = open_page("views/progress.py", query={"ics": ICS, "pcn": "U99002"})
    assert matrix_box(at) is None
    assert "also rated against" not in texts(at)


def test_progress_starts_on_the_ics_default(rated_twice):
    use_local_by_default(rated_twice)
    at = open_page("views/progress.py", query={"ics": ICS, "pcn": PCN})
    assert matrix_box(at).value == LOCAL


def test_the_plan_reads_the_matrix_chosen(rated_twice):
    at = open_page("views/plan.py", query={"ics": ICS, "pcn": PCN, "year": YEAR})
    box = matrix_box(at)
    assert box is not None and box.value == NATIONAL_MATRIX_ID
    assert f"also rated against Example matrix in {YEAR}" in texts(at)
    assert "Shared vision" not in texts(at)
    box.set_value(LOCAL).run()
    assert not at.exception
    # The suggestions now come from the ICS's matrix: vision is two stages from its target.
    assert "Shared vision" in " ".join([texts(at), *(str(d.value.to_dict()) for d in at.dataframe)])
    assert "also rated against PCN maturity matrix" in texts(at)
    assert matrix_box(open_page("views/plan.py", query={"ics": ICS, "pcn": "U99002", "year": YEAR})) is None


def test_self_assessment_names_every_assessment_of_the_year(rated_twice):
    at = open_page("views/assess.py", query={"ics": ICS, "pcn": PCN}, state={"assess_year": YEAR})
    box = matrix_box(at)
    assert box.value == (NATIONAL_MATRIX_ID, "2019/20")
    assert f"also has a {YEAR} assessment against Example matrix (1.0) (draft)" in texts(at)
    box.set_value((LOCAL, "1.0")).run()
    assert not at.exception
    assert f"Draft {YEAR} assessment of" in texts(at) and "against Example matrix (1.0)" in texts(at)
    assert "against PCN maturity matrix (2019/20)" in texts(at)


def test_a_new_year_starts_on_the_ics_default_and_another_can_be_chosen(rated_twice):
    at = open_page("views/assess.py", query={"ics": ICS, "pcn": "U99002"}, state={"assess_year": NEW_YEAR})
    assert matrix_box(at).value[0] == NATIONAL_MATRIX_ID
    use_local_by_default(rated_twice)
    at = open_page("views/assess.py", query={"ics": ICS, "pcn": "U99002"}, state={"assess_year": NEW_YEAR})
    assert matrix_box(at).value == (LOCAL, "1.0")
    assert "Against Example matrix (1.0)." in texts(at)
    at.radio(key="assess_start_how").set_value("blank").run() if at.radio else None
    at.button(key="assess_start").click().run()
    assert not at.exception
    [a] = assessing.assessments(rated_twice, pcn_code="U99002", year=NEW_YEAR)
    assert a.matrix_id == LOCAL
    # Another matrix can still be chosen for a year not started.
    at = open_page("views/assess.py", query={"ics": ICS, "pcn": "U99003"}, state={"assess_year": NEW_YEAR})
    matrix_box(at).set_value((NATIONAL_MATRIX_ID, "2019/20")).run()
    assert "Against PCN maturity matrix (2019/20)." in texts(at)


def test_a_new_workshop_starts_on_the_ics_default(rated_twice):
    query = {"ics": ICS, "pcn": "U99002", "year": NEW_YEAR}
    assert matrix_box(open_page("views/workshop.py", query=query)).value.id == NATIONAL_MATRIX_ID
    use_local_by_default(rated_twice)
    at = open_page("views/workshop.py", query=query)
    assert matrix_box(at).value.id == LOCAL


def test_the_portfolio_picks_the_matrix_and_counts_the_others(rated_twice):
    n = len(orgs.pcns(rated_twice, ICS))
    at = open_page("views/portfolio.py", query={"ics": ICS, "year": YEAR})
    box = matrix_box(at)
    assert box is not None and box.value == NATIONAL_MATRIX_ID
    assert f"1 PCN(s) of Wendmoor and Ashby Integrated Care System have a {YEAR} assessment against Example " \
           "matrix" in texts(at)
    box.set_value(LOCAL).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Drafts"] == "1"
    assert f"{n} PCN(s) of Wendmoor and Ashby Integrated Care System have a {YEAR} assessment against PCN maturity " \
           "matrix" in texts(at)
    [table, *_] = shown_tables(at)
    assert len(table) == n and "Leadership" in table.columns
    use_local_by_default(rated_twice)
    assert matrix_box(open_page("views/portfolio.py", query={"ics": ICS, "year": YEAR})).value == LOCAL


def test_the_template_is_for_the_matrix_chosen(rated_twice, monkeypatch):
    made = {}
    add = MediaFileManager.add_deferred

    def keep_the_file_maker(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        made[file_name] = data_callable  # what the download button would run when clicked
        return add(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", keep_the_file_maker)
    at = open_page("views/data.py")
    # The ICS's default: the newest national version (the 2026/27 wording, matrix/pcn_maturity_matrix_2026.yaml).
    assert at.selectbox(key="tpl_matrix").value == (NATIONAL_MATRIX_ID, "2026/27")
    at.selectbox(key="tpl_matrix").set_value((LOCAL, "1.0")).run()
    assert not at.exception
    assert "3 elements in 2 domain(s); stages: Starting, Developing, Embedded." in texts(at)
    sheets = load_workbook(io.BytesIO(made[f"ratings-template-{LOCAL}-1.0.xlsx"]()))
    rows = [r for r in sheets.worksheets[0].iter_rows(min_row=2, values_only=True) if r[4]]
    assert [r[4] for r in rows] == ["governance", "vision", "data-sharing"]
    assert {(r[2], r[3]) for r in rows} == {(LOCAL, "1.0")}
    guide = " ".join(str(c) for r in sheets.worksheets[-1].iter_rows(values_only=True) for c in r if c)
    assert "starting (Starting), developing (Developing), embedded (Embedded)" in guide
    # An ICS with a default starts the template on it.
    use_local_by_default(rated_twice)
    at = open_page("views/data.py")
    at.selectbox(key="tpl_ics").set_value(ICS).run()
    assert at.selectbox(key="tpl_matrix").value == (LOCAL, "1.0")


def test_an_administrator_sets_the_ics_default_on_the_matrices_page(rated_twice):
    at = open_page("views/matrices.py", actor="Ann Admin")
    version = orgs.ics(rated_twice, ICS).version
    at.selectbox(key="default_matrix_ics").set_value(ICS).run()
    at.selectbox(key=f"default_matrix|{ICS}|{version}").set_value(LOCAL).run()
    at.button(key="default_matrix_save").click().run()
    assert not at.exception
    assert orgs.default_matrix_id(rated_twice, ICS) == LOCAL
    [entry] = rated_twice.audit(entity="ics", entity_key=ICS, limit=1)
    assert (entry.field, entry.after, entry.who, entry.source) == ("default_matrix_id", LOCAL, "Ann Admin",
                                                                   "matrices page")
    listing = next(d for d in shown_tables(at) if "New years start on" in d.columns)
    assert "Example matrix (1.0)" in set(listing["New years start on"])

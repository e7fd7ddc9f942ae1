"""An element rated "not applicable": allowed only where the matrix says so, stored without a
stage, left out of every mean, shown as "Not applicable", and carried through the ratings file.
Also the ratings template of a matrix with long ids and scored stages."""
from __future__ import annotations

import csv

import pytest
import yaml

from assessments import exchange
from assessments import organisations as orgs
from assessments import progress
from assessments import ratings as assessing
from assessments.exchange import ImportProblems
from assessments.store import Store
from assessments.values import InputError
from figures import tables
from matrix import load_text

# vision may be rated not applicable (the matrix's setting); governance may not (its own override).
TEXT = """\
kind: maturity-matrix
id: na-matrix
version: "1"
title: Matrix with exceptions
source: Written for the test suite.
allow_not_applicable: true
stages:
  - {id: starting, label: Starting, meaning: First steps.}
  - {id: developing, label: Developing, meaning: Working in most places.}
  - {id: embedded, label: Embedded, meaning: Everywhere.}
domains:
  - id: leadership
    title: Leadership
    summary: How the network is led.
    elements:
      - id: governance
        title: Governance
        allow_not_applicable: false
        descriptors: {starting: a, developing: b, embedded: c}
        evidence_prompts: ["Signed?"]
      - id: vision
        title: Shared vision
        descriptors: {starting: a, developing: b, embedded: c}
        evidence_prompts: ["Written?"]
"""
MATRIX = load_text(TEXT, "na.yaml")


@pytest.fixture
def store(db_url):
    s = Store(db_url, matrices=[MATRIX])
    orgs.add_ics(s, "QZZ", "Test ICS", by="setup")
    orgs.add_pcn(s, "U90001", "NA PCN", ics_code="QZZ", list_size=10_000, practices=["Elm"], by="setup")
    yield s
    s.close()


def test_not_applicable_is_saved_without_stages_and_left_out_of_the_scores(store):
    a = assessing.create_assessment(store, "U90001", "2024/25", MATRIX, by="Ann")
    assessing.save_rating(store, a.id, "governance", by="Ann", expected_version=0, current_stage="embedded")
    r = assessing.save_rating(store, a.id, "vision", by="Ann", expected_version=0, current_stage="starting")
    r = assessing.save_rating(store, a.id, "vision", by="Ann", expected_version=r.version, not_applicable=True)
    assert (r.not_applicable, r.current_stage, r.target_stage) == (True, None, None)
    series = progress.pcn_progress(store, "U90001").series
    # Leadership is governance alone: 2 (embedded) over 1 of the 1 element that applies.
    assert list(zip(series["score"], series["n_rated"], series["n_elements"])) == [(2.0, 1, 1)]
    history = assessing.rating_history(store, a.id, "vision")
    assert sorted(((e.field, e.before, e.after) for e in history), key=str) == [
        ("current_stage", "starting", None), ("current_stage", None, "starting"), ("not_applicable", None, "true")]
    # Choosing a stage again means the element applies after all.
    r = assessing.save_rating(store, a.id, "vision", by="Ann", expected_version=r.version, current_stage="developing")
    assert (r.not_applicable, r.current_stage) == (False, "developing")


def test_not_applicable_is_refused_where_the_matrix_does_not_allow_it(store):
    a = assessing.create_assessment(store, "U90001", "2024/25", MATRIX, by="Ann")
    with pytest.raises(InputError, match="'Governance' cannot be rated not applicable: Matrix with exceptions 1 "
                                         "does not allow it for this element"):
        assessing.save_rating(store, a.id, "governance", by="Ann", expected_version=0, not_applicable=True)
    with pytest.raises(InputError, match="rated not applicable, so it takes no current stage"):
        assessing.save_rating(store, a.id, "vision", by="Ann", expected_version=0, not_applicable=True,
                              current_stage="starting")
    with pytest.raises(InputError, match="must be true or false"):
        assessing.save_rating(store, a.id, "vision", by="Ann", expected_version=0, not_applicable="yes")
    assert assessing.ratings(store, a.id) == {}


def test_the_ratings_file_writes_and_reads_not_applicable(store, tmp_path):
    a = assessing.create_assessment(store, "U90001", "2024/25", MATRIX, by="Ann")
    assessing.save_rating(store, a.id, "vision", by="Ann", expected_version=0, not_applicable=True)
    out = tmp_path / "out.csv"
    exchange.export_ratings(store, out)
    with open(out, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["element_id"], r["not_applicable"], r["current_stage"]) for r in rows] == [("vision", "yes", "")]
    # Re-importing the export changes nothing.
    assert exchange.import_ratings(store, out, by="Bo").unchanged == 1

    def write(path, rows, header=exchange.COLUMNS):
        with open(path, "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows([header, *rows])
        return path

    base = ["U90001", "2024/25", "na-matrix", "1"]
    # "N/A" as the current stage reads as not applicable; a stage takes it away again.
    ok = write(tmp_path / "ok.csv", [base + ["vision", "developing", "", "", "", "", ""]], header=exchange.COLUMNS[:-1])
    exchange.import_ratings(store, ok, by="Bo")
    assert not assessing.rating(store, a.id, "vision").not_applicable
    na = write(tmp_path / "na.csv", [base + ["vision", "N/A", "", "", "", "", ""]], header=exchange.COLUMNS[:-1])
    exchange.import_ratings(store, na, by="Bo")
    r = assessing.rating(store, a.id, "vision")
    assert (r.not_applicable, r.current_stage) == (True, None)

    bad = write(tmp_path / "bad.csv", [
        base + ["governance", "", "", "", "", "", "yes"],
        base + ["vision", "starting", "", "", "", "", "yes"],
        base + ["vision", "", "", "", "", "", "perhaps"],
    ])
    with pytest.raises(ImportProblems) as caught:
        exchange.import_ratings(store, bad, by="Bo")
    text = str(caught.value)
    assert "line 2: 'Governance' cannot be rated not applicable" in text
    assert "line 3: 'vision' is marked not applicable, so it takes no stage" in text
    assert "line 4: not_applicable: 'perhaps' is not yes or no" in text
    assert "Traceback" not in text
    assert assessing.rating(store, a.id, "vision").not_applicable  # nothing was written


def test_tables_show_not_applicable_where_a_stage_would_be(store):
    a = assessing.create_assessment(store, "U90001", "2024/25", MATRIX, by="Ann")
    assessing.save_rating(store, a.id, "vision", by="Ann", expected_version=0, not_applicable=True)
    assessing.save_rating(store, a.id, "governance", by="Ann", expected_version=0, current_stage="starting")
    assessing.agree_assessment(store, a.id, by="Ann", expected_version=1)
    b = assessing.start_year(store, "U90001", "2025/26", MATRIX, by="Ann")
    carried = assessing.ratings(store, b.id)["vision"]
    assert carried.not_applicable and carried.current_stage is None  # carried forward as it was
    p = progress.pcn_progress(store, "U90001")
    table = tables.element_changes_table(p.comparison("2025/26"), MATRIX, tables.labels_of(MATRIX))
    vision = table[table["Element"] == "Shared vision"].iloc[0]
    assert (vision["2024/25"], vision["2025/26"]) == ("Not applicable", "Not applicable")
    assert vision["Note"] == "not applicable in 2024/25 and 2025/26"
    assert tables.format_score(None, 0, 0) == "Not applicable"
    assert tables.stage_text(None, tables.labels_of(MATRIX), 0, 0) == "Not applicable"


def test_the_template_of_a_matrix_with_long_ids_and_scores(store, tmp_path):
    from openpyxl import load_workbook

    data = yaml.safe_load(TEXT)
    data["id"], data["version"] = "Long.Matrix_" + "M" * 150, "2"
    for i, (s, score) in enumerate(zip(data["stages"], (0, 50, 100))):
        s["id"], s["score"] = f"Stage_{i}." + "s" * 150, score
    for e in data["domains"][0]["elements"]:
        e["descriptors"] = {s["id"]: "d" for s in data["stages"]}
    long = load_text(yaml.safe_dump(data), "long.yaml")
    path = tmp_path / "template.xlsx"
    exchange.write_template(store, path, matrix=long)
    wb = load_workbook(path)
    # Three 157-character stage ids are too long for a list written in the picker's formula.
    assert wb.sheetnames == ["Ratings", "Stages", "Guide"] and wb["Stages"].sheet_state == "hidden"
    assert [c.value for c in wb["Stages"]["A"]] == [s.id for s in long.stages]
    pickers = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in wb["Ratings"].data_validations.dataValidation}
    assert pickers["F2"] == "Stages!$A$1:$A$3" and pickers["K2"] == '"yes"'
    guide = {r[0].value: r[1].value for r in wb["Guide"].iter_rows()}
    assert "only for: vision" in guide["not_applicable"]

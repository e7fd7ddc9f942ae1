"""A national-scale ratings import (20,000 synthetic rows) on both backends: every row lands with
its audit rows and version, a second import of the same file changes nothing, and a row that
fails at the database rolls back the whole file."""
from __future__ import annotations

import csv

import pytest

from assessments import exchange
from assessments import organisations as orgs
from assessments import ratings as assessing
from assessments.exchange import COLUMNS, ImportProblems
from assessments.store import Store
from assessments.synthetic import generate

ROWS = 20_000
YEAR = "2024/25"


@pytest.fixture
def national(db_url):
    """The shipped national matrix and 1,250 synthetic PCNs, no assessments yet."""
    store = Store(db_url)
    generate(store, n_pcns=1250, years=())
    yield store
    store.close()


def ratings_file(path, store, n=ROWS, last_evidence=None):
    matrix = store.default_matrix()
    stages = matrix.stage_ids
    rows = []
    for p, pcn in enumerate(orgs.pcns(store)):
        for e, element in enumerate(matrix.element_ids()):
            now = (p + e) % (len(stages) - 1)
            rows.append([pcn.code, YEAR, matrix.id, matrix.version, element, stages[now], stages[now + 1],
                         ("low", "medium", "high")[(p + e) % 3], f"Evidence for {pcn.code} {element}", ""])
            if len(rows) == n:
                break
        if len(rows) == n:
            break
    if last_evidence is not None:
        rows[-1][8] = last_evidence
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([COLUMNS, *rows])
    return rows


def test_twenty_thousand_rows_import_with_their_audit_trail(national, tmp_path):
    store = national
    matrix = store.default_matrix()
    elements = matrix.element_ids()
    # One assessment exists already: one of its ratings differs from the file, one matches it.
    first = orgs.pcns(store)[0].code
    a = assessing.create_assessment(store, first, YEAR, matrix, by="earlier")
    assessing.save_rating(store, a.id, elements[0], by="earlier", expected_version=0, current_stage="step-3",
                          target_stage="step-3", confidence="low", evidence="Old evidence")
    assessing.save_rating(store, a.id, elements[1], by="earlier", expected_version=0, current_stage="step-1",
                          target_stage="step-2", confidence="medium", evidence=f"Evidence for {first} {elements[1]}")
    audit_before = store.counts()["audit_log"]

    rows = ratings_file(tmp_path / "national.csv", store)
    result = exchange.import_ratings(store, tmp_path / "national.csv", by="Regional team")
    n_assessments = -(-ROWS // len(elements))
    assert (result.rows, result.applied, result.unchanged) == (ROWS, ROWS - 1, 1)
    assert result.ratings_changed == ROWS - 1
    assert len(result.assessments_created) == n_assessments - 1
    assert store.counts()["rating"] == ROWS and store.counts()["assessment"] == n_assessments

    # One audit row per field set: five per new assessment, four per new rating (the note is
    # empty), and only the changed fields of the updated rating.
    first_row = dict(zip(COLUMNS, rows[0]))
    changed = {k for k in ("current_stage", "target_stage", "confidence", "evidence")
               if first_row[k] != {"current_stage": "step-3", "target_stage": "step-3", "confidence": "low",
                                   "evidence": "Old evidence"}[k]}
    new_ratings = ROWS - 2
    assert store.counts()["audit_log"] - audit_before == 5 * (n_assessments - 1) + 4 * new_ratings + len(changed)
    updated = assessing.rating(store, a.id, elements[0])
    assert (updated.current_stage, updated.evidence, updated.version, updated.updated_by) == (
        first_row["current_stage"], first_row["evidence"], 2, "Regional team")
    history = assessing.rating_history(store, a.id, elements[0])
    assert {(h.field, h.who, h.source) for h in history[-len(changed):]} == {
        (f, "Regional team", "import national.csv") for f in changed}
    assert assessing.rating(store, a.id, elements[1]).version == 1  # the matching row was left alone

    last = dict(zip(COLUMNS, rows[-1]))
    made = assessing.find_assessment(store, last["pcn_code"], YEAR)
    r = assessing.rating(store, made.id, last["element_id"])
    assert (made.status, made.created_by, made.version) == ("draft", "Regional team", 1)
    assert (r.current_stage, r.target_stage, r.confidence, r.evidence, r.note, r.version) == (
        last["current_stage"], last["target_stage"], last["confidence"], last["evidence"], None, 1)
    assert [(h.field, h.before, h.after) for h in assessing.rating_history(store, made.id, last["element_id"])] == [
        ("current_stage", None, last["current_stage"]), ("target_stage", None, last["target_stage"]),
        ("evidence", None, last["evidence"]), ("confidence", None, last["confidence"])]

    # The same file again changes nothing at all.
    counts = store.counts()
    again = exchange.import_ratings(store, tmp_path / "national.csv", by="Regional team")
    assert (again.applied, again.unchanged, again.ratings_changed) == (0, ROWS, 0)
    assert store.counts() == counts


def test_a_row_failing_at_the_database_rolls_back_the_whole_file(national, tmp_path):
    store = national
    # The database refuses the file's last row, as it would a rating someone else inserted
    # meanwhile: a unique violation, raised by a trigger after all the other rows were written.
    with store.db.engine.begin() as conn:
        if store.dialect == "sqlite":
            conn.exec_driver_sql("CREATE TRIGGER refuse BEFORE INSERT ON rating WHEN NEW.evidence = 'refuse me' "
                                 "BEGIN SELECT RAISE(ABORT, 'UNIQUE constraint failed: rating.element_id'); END")
        else:
            conn.exec_driver_sql("CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN IF NEW.evidence = 'refuse me' "
                                 "THEN RAISE EXCEPTION 'duplicate rating' USING ERRCODE = 'unique_violation'; END IF; "
                                 "RETURN NEW; END $$ LANGUAGE plpgsql")
            conn.exec_driver_sql("CREATE TRIGGER refuse BEFORE INSERT ON rating FOR EACH ROW EXECUTE FUNCTION refuse()")
    before = store.counts()
    ratings_file(tmp_path / "national.csv", store, last_evidence="refuse me")
    with pytest.raises(ImportProblems) as caught:
        exchange.import_ratings(store, tmp_path / "national.csv", by="Regional team")
    assert "nothing was imported" in str(caught.value) and "import it again" in str(caught.value)
    assert store.counts() == before  # not one assessment, rating or audit row of the file
    assert assessing.assessments(store) == []

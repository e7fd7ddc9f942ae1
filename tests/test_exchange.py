"""Backup and restore of the whole database, and ratings import/export (CSV and Excel)."""
from __future__ import annotations

import csv
import json

import pytest
from openpyxl import Workbook, load_workbook

from assessments import exchange
from assessments.exchange import COLUMNS, ImportProblems, RestoreError
from assessments.store import Store
from assessments import ratings as assessing
from assessments import organisations as orgs

YEARS = ("2023/24", "2024/25")


def fill(store, matrix, n_pcns=4):
    """A little of everything: two ICSs, PCNs, agreed and draft assessments, a revision, audit rows."""
    orgs.add_ics(store, "QZZ", "Test ICS", region="Nowhere", by="setup")
    orgs.add_ics(store, "QZY", "Ünïcode ICS – “quotes”", by="setup")
    for i in range(n_pcns):
        orgs.add_pcn(store, f"U9{i:04d}", f"PCN {i}", ics_code="QZZ" if i % 2 else "QZY", list_size=20_000 + i,
                      rural=bool(i % 3 == 0), practices=[f"Practice {i}-{k}" for k in range(1 + i % 3)], by="setup")
        for y, year in enumerate(YEARS):
            with store.batch(by=f"manager {i}", source="test") as b:
                a = assessing.create_assessment(b, f"U9{i:04d}", year, matrix)
                for e, element in enumerate(matrix.element_ids()):
                    assessing.save_rating(b, a.id, element, expected_version=0, current_stage=matrix.stage_ids[(i + e + y) % 3],
                                  target_stage="embedded", confidence=("low", "medium", "high")[e % 3],
                                  evidence=f"Evidence line one\nline two, with \"quotes\", {i}" if e == 0 else None)
            if y == 0:
                assessing.agree_assessment(store, a.id, by=f"manager {i}", expected_version=1)
    first = assessing.find_assessment(store, "U90000", YEARS[0])
    assessing.open_revision(store, first.id, by="reviser")
    if n_pcns < 2:
        return
    from assessments import plan
    plan.save_plan(store, "U90001", YEARS[1], by="planner", expected_version=0, service_spec="care-homes",
                   service_priority="Care-home rounds – “weekly”", priorities=["vision", "governance"])
    plan.save_actions(store, "U90001", YEARS[1], [dict(what="Away day", due="31/03/2025", cost="1250.50", step=3),
                                                  dict(what="Ask Zoë", status="done")], by="planner")
    from assessments import pathway
    pathway.save_step(store, "U90001", YEARS[1], 1, by="facilitator", expected_version=0, status="done",
                      date="30/04/2024", ticks=["membership-agreed", "des-signed"], note="Agreed – “at last”")
    pathway.save_step(store, "U90001", YEARS[1], 2, by="facilitator", expected_version=0, status="in progress")
    from assessments import workshop
    w = workshop.open_workshop(store, "U90001", YEARS[1], matrix, by="facilitator")
    for name, stage in (("Zoë – “GP”", "starting"), ("Sam", "embedded")):
        _, p = workshop.join(store, w.code, name, "GP")
        workshop.rate(store, p.token, "vision", stage, f"Comment from {name}")
    workshop.record_consensus(store, w.id, "vision", "developing", "Met halfway", by="facilitator")
    workshop.pause(store, w.id, by="facilitator")


def dump(store) -> str:
    return exchange.dumps_backup(exchange.backup(store))


# ---------------------------------------------------------------------------------------------
# Backup and restore

def test_backup_restore_backup_gives_identical_json(store, open_store, small_matrix, tmp_path):
    fill(store, small_matrix)
    path = tmp_path / "backup.json"
    data = exchange.write_backup(store, path)
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == data  # the text is the data
    assert set(data["tables"]) >= {"ics", "pcn", "assessment", "rating", "audit_log", "plan", "plan_priority", "plan_action"}
    assert [len(data["tables"][t]["rows"]) for t in ("plan", "plan_priority", "plan_action")] == [1, 2, 2]
    assert len(data["tables"]["pathway_step"]["rows"]) == 2
    assert [len(data["tables"][t]["rows"]) for t in ("workshop", "workshop_participant", "workshop_rating",
                                                      "workshop_consensus")] == [1, 2, 2, 1]
    assert len(data["tables"]["audit_log"]["rows"]) == store.counts()["audit_log"] > 100
    assert all(r[1].endswith("+00:00") for r in data["tables"]["audit_log"]["rows"])  # ISO, UTC

    target = Store(f"sqlite:///{tmp_path / 'restored.db'}", matrices=[small_matrix])
    counts = exchange.restore(target, exchange.read_backup(path))
    assert {t: counts[t] for t in store.counts()} == store.counts()
    assert counts["plan_action"] == 2
    assert counts["pathway_step"] == 2
    from assessments.pathway import pathway_status
    assert pathway_status(target, "U90001", YEARS[1]) == pathway_status(store, "U90001", YEARS[1])
    from assessments.workshop import summary, workshops
    assert [summary(target, w.id).table.equals(summary(store, w.id).table) for w in workshops(store)] == [True]
    assert dump(target) == text
    # The restored database is fully usable: new ids follow on, versions carry on.
    new = assessing.create_assessment(target, "U90001", "2025/26", small_matrix, by="after")
    assert new.id == max(a.id for a in assessing.assessments(store, include_superseded=True)) + 1
    target.close()


def test_backup_restores_across_backends_byte_for_byte(store, postgres_server, small_matrix, tmp_path):
    fill(store, small_matrix)
    text = dump(store)
    other = postgres_server.create_database() if store.dialect == "sqlite" else None
    url = postgres_server.url(other) if other else f"sqlite:///{tmp_path / 'other.db'}"
    target = Store(url, matrices=[small_matrix])
    try:
        exchange.restore(target, json.loads(text))
        assert dump(target) == text
        assert assessing.portfolio(target, "2024/25") == assessing.portfolio(store, "2024/25")
    finally:
        target.close()
        if other:
            postgres_server.drop_database(other)


def test_restore_refuses_a_database_that_is_not_empty(store, small_matrix):
    fill(store, small_matrix, n_pcns=1)
    data = exchange.backup(store)
    before = dump(store)
    with pytest.raises(RestoreError, match="not empty.*row\\(s\\) in pcn.*empty database"):
        exchange.restore(store, data)
    assert dump(store) == before


def test_restore_refuses_something_that_is_not_a_backup(store):
    with pytest.raises(RestoreError, match="not a backup"):
        exchange.restore(store, {"tables": {}})
    with pytest.raises(RestoreError, match="schema '9999_future'.*newer version"):
        exchange.restore(store, {"format": exchange.BACKUP_FORMAT, "format_version": 1, "schema_revision": "9999_future",
                                 "tables": {}})
    assert store.is_empty()


def test_a_backup_from_the_first_schema_restores_and_is_upgraded(db_url, small_matrix, tmp_path):
    from sqlalchemy import text

    from assessments.records import make_engine, migrate

    old_url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(old_url)
    migrate(engine, "0001_initial")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO ics (code, name) VALUES ('QZZ', 'Old ICS')"))
        conn.execute(text("INSERT INTO pcn (code, name, ics_code, list_size, rural, practices) "
                          "VALUES ('U90001', 'Old PCN', 'QZZ', 12000, 1, '[\"Elm\"]')"))
        conn.execute(text("INSERT INTO assessment (pcn_code, year, matrix_id, matrix_version, status, created_by, "
                          "created_at, updated_by, updated_at) VALUES ('U90001', '2022/23', 'example-matrix', '1.0', "
                          "'agreed', 'old', '2023-01-02 10:00:00.000000', 'old', '2023-01-02 10:00:00.000000')"))
        conn.execute(text("INSERT INTO rating (assessment_id, element_id, current_stage, target_stage, evidence, note, "
                          "updated_by, updated_at) VALUES (1, 'vision', 'developing', 'embedded', 'ev', NULL, 'old', "
                          "'2023-01-02 10:00:00.000000')"))
    engine.dispose()
    with Store(old_url, matrices=[small_matrix], upgrade=False) as old:
        data = exchange.backup(old)
    assert data["schema_revision"] == "0001_initial" and "audit_log" not in data["tables"]

    with Store(db_url, matrices=[small_matrix]) as target:
        exchange.restore(target, data)
        with Store(old_url, matrices=[small_matrix]) as upgraded:  # the same database, upgraded in place
            assert dump(target) == dump(upgraded)
        r = assessing.rating(target, 1, "vision")
        assert (r.current_stage, r.evidence, r.confidence, r.version) == ("developing", "ev", None, 1)
        assert orgs.pcn(target, "U90001").practices == ("Elm",)


# ---------------------------------------------------------------------------------------------
# Import

def write_csv(path, rows, header=COLUMNS):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def many_rows(matrix, n_pcns):
    rows = []
    for i in range(n_pcns):
        for year in YEARS:
            for e, element in enumerate(matrix.element_ids()):
                rows.append([f"U9{i:04d}", year, matrix.id, matrix.version, element, matrix.stage_ids[(i + e) % 3],
                             "embedded", "medium", f"evidence {i} {e}", ""])
    return rows


def add_pcns(store, n):
    orgs.add_ics(store, "QZZ", "Test ICS", by="setup")
    with store.batch(by="setup") as b:
        for i in range(n):
            orgs.add_pcn(b, f"U9{i:04d}", f"PCN {i}", ics_code="QZZ", list_size=30_000)


def test_a_csv_with_one_bad_row_among_hundreds_changes_nothing_and_names_the_line(store, small_matrix, tmp_path):
    add_pcns(store, 60)
    rows = many_rows(small_matrix, 60)
    assert len(rows) == 360
    bad_index = 236
    rows[bad_index][5] = "expert"  # not a stage
    path = write_csv(tmp_path / "ratings.csv", rows)
    before = dump(store)
    with pytest.raises(ImportProblems) as caught:
        exchange.import_ratings(store, path, by="importer")
    assert [(p.line, p.message) for p in caught.value.problems] == [
        (bad_index + 2, "'expert' is not a current stage of Example matrix 1.0: use one of starting, developing, embedded")]
    assert f"line {bad_index + 2}:" in str(caught.value)
    assert dump(store) == before

    rows[bad_index][5] = "developing"
    result = exchange.import_ratings(store, write_csv(tmp_path / "ratings.csv", rows), by="importer")
    assert (result.applied, result.ratings_changed, len(result.assessments_created)) == (360, 360, 120)
    sources = {e.source for e in store.audit()} - {None}
    assert sources == {"import ratings.csv"}
    r = assessing.rating(store, assessing.find_assessment(store, "U90003", "2024/25").id, "vision")
    assert (r.current_stage, r.evidence, r.updated_by) == (small_matrix.stage_ids[(3 + 1) % 3], "evidence 3 1", "importer")


def test_every_kind_of_bad_row_is_reported_with_its_line(store, small_matrix, tmp_path):
    add_pcns(store, 2)
    a = assessing.create_assessment(store, "U90001", "2023/24", small_matrix, by="setup")
    assessing.agree_assessment(store, a.id, by="setup", expected_version=1)
    m, v = small_matrix.id, small_matrix.version
    rows = [
        ["U90000", "2024/25", m, v, "governance", "starting", "", "", "", ""],      # 2 fine
        ["U99999", "2024/25", m, v, "governance", "starting", "", "", "", ""],      # 3 unknown PCN
        ["U90000", "2024/26", m, v, "governance", "starting", "", "", "", ""],      # 4 bad year
        ["U90000", "2024/25", m, v, "finance", "starting", "", "", "", ""],         # 5 unknown element
        ["U90000", "2024/25", m, v, "vision", "", "top", "", "", ""],               # 6 unknown target stage
        ["U90000", "2024/25", m, v, "data-sharing", "", "", "very", "", ""],       # 7 bad confidence
        ["U90001", "2023/24", m, v, "vision", "embedded", "", "", "", ""],          # 8 agreed, locked
        ["U90000", "2024/25", m, v, "governance", "developing", "", "", "", ""],    # 9 duplicate of line 2
        ["U90000", "2024/25", "other-matrix", "", "governance", "starting", "", "", "", ""],  # 10 unknown matrix
        ["", "", "", "", "", "", "", "", "", ""],                                   # 11 blank: ignored
        ["U90000", "2024/25", m, v, "vision", "", "", "", "", ""],                  # 12 nothing to rate: skipped
    ]
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(ImportProblems) as caught:
        exchange.import_ratings(store, path, by="importer")
    got = {p.line: p.message for p in caught.value.problems}
    assert sorted(got) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "no PCN with code U99999" in got[3]
    assert "2024/26" in got[4]
    assert "'finance' is not an element" in got[5]
    assert "'top' is not a target stage" in got[6]
    assert "not a confidence" in got[7]
    assert "agreed and locked" in got[8]
    assert "already given on line 2" in got[9]
    assert "'other-matrix'" in got[10]
    assert assessing.find_assessment(store, "U90000", "2024/25") is None


def test_bad_headers_are_reported_on_line_1(store, tmp_path):
    path = write_csv(tmp_path / "h.csv", [], header=["pcn_code", "year", "elemnt_id", "curent_stage"])
    with pytest.raises(ImportProblems) as caught:
        exchange.import_ratings(store, path, by="x")
    messages = [str(p) for p in caught.value.problems]
    assert "line 1: unknown column 'elemnt_id' (did you mean 'element_id'?)" in messages
    assert "line 1: missing column 'element_id'" in messages
    with pytest.raises(ImportProblems, match="not supported"):
        exchange.import_ratings(store, tmp_path / "r.pdf", by="x", data=b"%PDF")


def test_excel_import_works(store, small_matrix, tmp_path):
    add_pcns(store, 2)
    wb = Workbook()
    ws = wb.active
    ws.append(["PCN code", "Year", "Element ID", "Current stage", "Target stage", "Confidence", "Evidence", "Note"])
    ws.append(["U90001", "2024/25", "governance", "Developing", "embedded", "high", "Signed agreement", None])
    ws.append(["U90001", "2024/25", "vision", "starting", None, None, None, "To discuss"])
    ws.append([None] * 8)
    ws.append(["U90000", "2024/25", "vision", "starting", "developing", "LOW", None, 12345])
    wb.save(tmp_path / "ratings.xlsx")
    result = exchange.import_ratings(store, tmp_path / "ratings.xlsx", by="importer")
    assert (result.applied, result.ratings_changed, result.skipped) == (3, 3, 0)
    a = assessing.find_assessment(store, "U90001", "2024/25")
    assert (a.matrix_id, a.status) == (small_matrix.id, "draft")
    g = assessing.rating(store, a.id, "governance")
    assert (g.current_stage, g.target_stage, g.confidence, g.evidence) == ("developing", "embedded", "high", "Signed agreement")
    assert assessing.rating(store, assessing.find_assessment(store, "U90000", "2024/25").id, "vision").note == "12345"


def test_excel_dates_are_reported_not_guessed(store, small_matrix, tmp_path):
    import datetime as dt

    add_pcns(store, 1)
    wb = Workbook()
    wb.active.append(["pcn_code", "year", "element_id", "current_stage"])
    wb.active.append(["U90000", dt.datetime(2024, 4, 25), "vision", "starting"])
    wb.save(tmp_path / "dates.xlsx")
    with pytest.raises(ImportProblems, match="line 2: year: a date"):
        exchange.import_ratings(store, tmp_path / "dates.xlsx", by="x")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_round_trips_through_import(store, small_matrix, tmp_path, suffix):
    fill(store, small_matrix, n_pcns=3)
    path = tmp_path / f"export{suffix}"
    n = exchange.export_ratings(store, path)
    assert n == 3 * len(YEARS) * len(small_matrix.element_ids())
    before = dump(store)
    # Re-importing what is stored changes nothing, even where assessments are agreed.
    result = exchange.import_ratings(store, path, by="importer")
    assert (result.applied, result.unchanged) == (0, n)
    assert dump(store) == before
    # Into a database with only the organisations, the export recreates the ratings exactly.
    other = Store(f"sqlite:///{tmp_path / 'other.db'}", matrices=[small_matrix])
    exchange.restore(other, {**exchange.backup(store), "tables": {
        k: v for k, v in exchange.backup(store)["tables"].items() if k in ("ics", "pcn")}})
    exchange.import_ratings(other, path, by="importer")
    for rec, copy in zip(assessing.portfolio(store, "2024/25"), assessing.portfolio(other, "2024/25")):
        assert {e: (r.current_stage, r.target_stage, r.confidence, r.evidence, r.note) for e, r in rec.ratings.items()} == \
               {e: (r.current_stage, r.target_stage, r.confidence, r.evidence, r.note) for e, r in copy.ratings.items()}
    other.close()
    if suffix == ".xlsx":
        ws = load_workbook(path, read_only=True).active
        assert [c.value for c in next(ws.iter_rows(max_row=1))][:len(COLUMNS)] == COLUMNS


def test_export_filters_by_ics_and_year(store, small_matrix, tmp_path):
    fill(store, small_matrix, n_pcns=4)
    n = exchange.export_ratings(store, tmp_path / "e.csv", ics_code="QZZ", year="2024/25")
    rows = list(csv.DictReader(open(tmp_path / "e.csv", encoding="utf-8-sig")))
    assert n == len(rows) == 2 * len(small_matrix.element_ids())
    assert {r["pcn_code"] for r in rows} == {"U90001", "U90003"} and {r["year"] for r in rows} == {"2024/25"}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_template_imports_as_nothing_until_filled_in(store, small_matrix, tmp_path, suffix):
    add_pcns(store, 1)
    path = tmp_path / f"template{suffix}"
    assert exchange.write_template(store, path, matrix=small_matrix, pcn_code="U90000", year="2024/25") == 3
    result = exchange.import_ratings(store, path, by="x")
    assert (result.applied, result.skipped) == (0, 3) and assessing.find_assessment(store, "U90000", "2024/25") is None
    header, body = exchange.read_rows(path)
    rows = [[("" if v is None else v) for v in r] for _, r in body]
    rows[1][header.index("current_stage")] = "developing"
    filled = write_csv(tmp_path / "filled.csv", rows, header=header)
    assert exchange.import_ratings(store, filled, by="x").applied == 1
    a = assessing.find_assessment(store, "U90000", "2024/25")
    assert assessing.rating(store, a.id, "vision").current_stage == "developing"


FORMULAS = ['=HYPERLINK("http://example.invalid","x")', "+44 7700 900123", "-2 practices joined", "@SUM(A1)",
            "'=quoted already", "=1+1"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_exports_never_carry_live_formulas_and_import_back_unchanged(store, small_matrix, tmp_path, suffix):
    """Text that a spreadsheet would run (OWASP CSV injection) is written as text, and the same
    file imported again changes nothing: not a rating, not a PCN."""
    fill(store, small_matrix, n_pcns=2)
    draft = assessing.find_assessment(store, "U90001", YEARS[1])
    for k, element in enumerate(small_matrix.element_ids()):
        r = assessing.rating(store, draft.id, element)
        assessing.save_rating(store, draft.id, element, by="typist", expected_version=r.version,
                              evidence=FORMULAS[k % len(FORMULAS)], note=FORMULAS[(k + 1) % len(FORMULAS)])
    p = orgs.pcn(store, "U90001")
    orgs.update_pcn(store, "U90001", by="typist", expected_version=p.version, name="=cmd|' /C calc'!A0",
                    practices=["+Practice", "@Home"])

    ratings_file, orgs_file = tmp_path / f"ratings{suffix}", tmp_path / f"orgs{suffix}"
    exchange.export_ratings(store, ratings_file)
    orgs.export_organisations(store, orgs_file)
    for path in (ratings_file, orgs_file):
        if suffix == ".csv":
            with open(path, encoding="utf-8-sig", newline="") as f:
                cells = [c for row in csv.reader(f) for c in row]
            assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
        else:
            wb = load_workbook(path)
            assert not [c.coordinate for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]

    before = dump(store)
    result = exchange.import_ratings(store, ratings_file, by="importer")
    assert result.ratings_changed == 0 and result.applied == 0
    again = orgs.import_organisations(store, orgs_file, by="importer")
    assert (again.pcns_updated, again.ics_updated) == (0, 0)
    assert dump(store) == before
    assert assessing.rating(store, draft.id, small_matrix.element_ids()[0]).evidence == FORMULAS[0]
    assert orgs.pcn(store, "U90001").name == "=cmd|' /C calc'!A0"


def test_a_file_wrong_throughout_stops_at_the_problem_limit(store, tmp_path):
    from assessments.sheets import MAX_PROBLEMS

    rows = [[f"X{i:05d}", "2024/25", "governance", "starting"] for i in range(MAX_PROBLEMS + 500)]
    path = write_csv(tmp_path / "wrong.csv", rows, header=["pcn_code", "year", "element_id", "current_stage"])
    with pytest.raises(ImportProblems) as caught:
        exchange.import_ratings(store, path, by="importer")
    assert caught.value.stopped and len(caught.value.problems) == MAX_PROBLEMS
    assert str(caught.value).splitlines()[0].endswith(
        f"checking stopped after the first {MAX_PROBLEMS} problems; nothing was imported")

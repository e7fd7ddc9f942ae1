"""AppTest: the Data page imports ratings only when every row is good, and never restores over data."""
from __future__ import annotations

from app_fixtures import open_page

from assessments.demo import DEMO_ICS
from assessments import ratings as assessing
from assessments import organisations as orgs

HEADER = "pcn_code,year,element_id,current_stage,target_stage,confidence,evidence\n"


def _csv(store, year: str, bad_line_stage: str | None = None) -> tuple[bytes, str]:
    pcn = orgs.pcns(store, DEMO_ICS[0])[0].code
    matrix = store.default_matrix()
    rows = [f"{pcn},{year},{eid},step-1,step-2,medium,Minutes of the March board"
            for eid in matrix.element_ids()]
    if bad_line_stage:
        rows[3] = rows[3].replace(",step-1,", f",{bad_line_stage},", 1)
    return (HEADER + "\n".join(rows) + "\n").encode(), pcn


def test_file_with_one_bad_row_imports_nothing_and_names_the_line(demo_db):
    data, pcn = _csv(demo_db, "2025/26", bad_line_stage="step-9")
    before = demo_db.data_version()
    at = open_page("views/data.py")
    at.file_uploader(key="ratings_upload").set_value(("ratings.csv", data, "text/csv")).run()
    assert not at.exception
    assert any("1 problem" in e.value and "Nothing has been imported" in e.value for e in at.error)
    problems = at.dataframe[-1].value
    assert list(problems["Line"]) == [5]
    assert "step-9" in problems["Problem"][0]
    assert assessing.find_assessment(demo_db, pcn, "2025/26") is None
    assert demo_db.data_version() == before


def test_valid_file_is_imported_after_the_check(demo_db):
    data, pcn = _csv(demo_db, "2025/26")
    at = open_page("views/data.py", actor="Rita Import")
    at.file_uploader(key="ratings_upload").set_value(("ratings.csv", data, "text/csv")).run()
    n = len(demo_db.default_matrix().element_ids())
    assert any(f"{n} row(s) to import" in s.value for s in at.success)
    [button] = [b for b in at.button if b.label.startswith("Import ")]
    button.click().run()
    assert not at.exception
    assessment = assessing.find_assessment(demo_db, pcn, "2025/26")
    ratings = assessing.ratings(demo_db, assessment.id)
    assert len(ratings) == n
    r = next(iter(ratings.values()))
    assert (r.current_stage, r.target_stage, r.confidence, r.updated_by) == ("step-1", "step-2", "medium", "Rita Import")
    entries = demo_db.audit(entity="rating", limit=5)
    assert all(e.source == "import ratings.csv" for e in entries)


def test_import_needs_a_name(demo_db):
    data, _ = _csv(demo_db, "2025/26")
    at = open_page("views/data.py", actor=None)
    at.file_uploader(key="ratings_upload").set_value(("ratings.csv", data, "text/csv")).run()
    [button] = [b for b in at.button if b.label.startswith("Import ")]
    assert button.disabled


def test_restore_is_refused_over_existing_data(demo_db):
    from assessments.exchange import backup, dumps_backup

    data = dumps_backup(backup(demo_db)).encode()
    at = open_page("views/data.py")
    at.file_uploader(key="restore_upload").set_value(("backup.json", data, "application/json")).run()
    assert any("already holds data" in w.value for w in at.warning)
    [button] = [b for b in at.button if b.label == "Restore this backup"]
    assert button.disabled


def test_restore_into_an_empty_database(demo_db, tmp_path, monkeypatch):
    from assessments.exchange import backup, dumps_backup
    from assessments.store import Store

    data = dumps_backup(backup(demo_db)).encode()
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    monkeypatch.setenv("PCN_DATABASE_URL", url)
    at = open_page("views/data.py")
    at.file_uploader(key="restore_upload").set_value(("backup.json", data, "application/json")).run()
    [button] = [b for b in at.button if b.label == "Restore this backup"]
    button.click().run()
    assert not at.exception
    assert any("Restored" in s.value for s in at.success)
    restored = Store(url)
    assert dumps_backup(backup(restored)) == data.decode()


def test_organisations_import_from_the_page(app_db):
    from assessments.store import Store

    data = (b"ics_code,ics_name,pcn_code,pcn_name,list_size,rural,practices\n"
            b"QAB,Northfield ICS,U10001,Alder PCN,41000,no,Alder Surgery; Beech Practice\n")
    at = open_page("views/data.py", actor="Ann Admin")
    at.file_uploader(key="orgs_upload").set_value(("orgs.csv", data, "text/csv")).run()
    [button] = [b for b in at.button if b.label == "Import ICSs and PCNs"]
    button.click().run()
    assert not at.exception
    assert any("1 PCN" in s.value and "added" in s.value for s in at.success)
    assert orgs.pcn(Store(app_db), "U10001").practices == ("Alder Surgery", "Beech Practice")

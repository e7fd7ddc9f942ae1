"""Restore checks what a backup holds, not only its shape: every value against its column, the
references within the backup, and the matrices, stages and elements rows name. A bad backup gets
a message naming table, row and column, and writes nothing; a good one still round-trips."""
from __future__ import annotations

import copy
import json
import random

import pytest
from app_fixtures import open_page
from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, MetaData, String
from test_exchange import fill

from assessments import exchange
from assessments.exchange import RestoreError
from assessments.records import head_revision, make_engine, migrate
from assessments.records.backup_checks import MAX_SHOWN, check_backup
from assessments.store import Store

SOURCE_MATRIX = ("example-matrix", "1.0")


@pytest.fixture(scope="module")
def good(tmp_path_factory, small_matrix) -> dict:
    """A backup with a little of everything: ratings, plans, pathway steps, a workshop."""
    path = tmp_path_factory.mktemp("source") / "source.db"
    with Store(f"sqlite:///{path}", matrices=[small_matrix]) as source:
        fill(source, small_matrix)
        return exchange.backup(source)


def changed(good: dict, table: str, row: int, column: str, value) -> dict:
    data = copy.deepcopy(good)
    t = data["tables"][table]
    t["rows"][row][t["columns"].index(column)] = value
    return data


def nothing_written(store) -> None:
    tables = exchange.backup(store)["tables"]
    assert {name: len(t["rows"]) for name, t in tables.items() if t["rows"]} == {}
    assert store.schema_revision() == head_revision()


def refused(store, data, *expected: str) -> str:
    with pytest.raises(RestoreError) as caught:
        exchange.restore(store, data)
    message = str(caught.value)
    for part in expected:
        assert part in message, message
    assert "Traceback" not in message and "sqlalchemy" not in message.lower()
    nothing_written(store)
    return message


def test_a_good_backup_round_trips(store, good):
    counts = exchange.restore(store, good)
    assert counts["rating"] == len(good["tables"]["rating"]["rows"]) > 0
    assert exchange.backup(store) == good
    assert json.loads(exchange.dumps_backup(exchange.backup(store))) == good


BAD_CONTENT = {
    "unknown stage": (("rating", 0, "current_stage", "step-9"),
                      "table rating, row 1: column current_stage: 'step-9' is not a stage of matrix "
                      "'example-matrix' version '1.0'"),
    "unknown element": (("rating", 2, "element_id", "cheese"),
                        "table rating, row 3: column element_id: 'cheese' is not an element of matrix "
                        "'example-matrix' version '1.0'"),
    "unknown matrix version": (("assessment", 1, "matrix_version", "9.9"),
                               "table assessment, row 2: column matrix_version: matrix 'example-matrix' has no "
                               "version '9.9' here"),
    "unknown matrix": (("workshop", 0, "matrix_id", "other-matrix"),
                       "table workshop, row 1: column matrix_id: 'other-matrix' is not a matrix available here"),
    "unknown stage in a workshop": (("workshop_rating", 1, "stage", "nirvana"),
                                    "table workshop_rating, row 2: column stage: 'nirvana' is not a stage of matrix"),
    "unknown plan priority": (("plan_priority", 0, "element_id", "cheese"),
                              "table plan_priority, row 1: column element_id: 'cheese' is not an element of any "
                              "matrix available here"),
    "text in a number column": (("pcn", 0, "list_size", "about 20,000"),
                                "table pcn, row 1: column list_size: 'about 20,000' is not a whole number"),
    "bad date": (("plan_action", 0, "due", "31/03/2025"),
                 "table plan_action, row 1: column due: '31/03/2025' is not a date (ISO 8601"),
    "bad datetime": (("audit_log", 4, "at", "yesterday"),
                     "table audit_log, row 5: column at: 'yesterday' is not a date and time (ISO 8601"),
    "text too long": (("ics", 0, "code", "QZZZ"), "table ics, row 1: column code: 4 characters, more than the 3"),
    "missing value": (("rating", 0, "updated_by", None), "table rating, row 1: column updated_by: a value is required"),
    "true or false": (("pcn", 1, "rural", "yes"), "table pcn, row 2: column rural: 'yes' is not true or false"),
    "a list of text": (("pcn", 1, "practices", [["nested"]]), "table pcn, row 2: column practices: a list is not a list of text"),
    "reference outside the backup": (("rating", 0, "assessment_id", 999),
                                     "table rating, row 1: column assessment_id: 999 is not in table assessment of "
                                     "the backup"),
}


@pytest.mark.parametrize("case", BAD_CONTENT)
def test_bad_content_is_named_and_nothing_is_written(store, good, case):
    change, message = BAD_CONTENT[case]
    text = refused(store, changed(good, *change), message)
    assert text.startswith("the backup has 1 problem:\n")
    # The database is still usable: the good backup goes in afterwards.
    exchange.restore(store, good)
    assert exchange.backup(store) == good


def test_bad_shapes(store, good):
    def with_tables(**tables):
        return {**good, "tables": {**good["tables"], **tables}}

    ics = good["tables"]["ics"]
    refused(store, with_tables(rating=[]), 'table rating: expected an object with "columns" and "rows", found a list')
    refused(store, with_tables(rating=7), 'table rating: expected an object with "columns" and "rows", found 7')
    refused(store, with_tables(ics={**ics, "rows": "QZZ"}), 'table ics: "rows" is not a list of rows (found text)')
    refused(store, with_tables(ics={**ics, "rows": [{"code": "QZZ"}, 5]}),
            f"table ics, row 1: expected a list of {len(ics['columns'])} values, found an object",
            f"table ics, row 2: expected a list of {len(ics['columns'])} values, found 5")
    refused(store, with_tables(ics={**ics, "rows": [ics["rows"][0][:2]]}), "table ics, row 1: 2 values where")
    refused(store, with_tables(ics={"columns": [*ics["columns"], "colour"], "rows": [[*r, "red"] for r in ics["rows"]]}),
            "table ics: column 'colour': this database has no such column")
    refused(store, with_tables(ics={"columns": ics["columns"][1:], "rows": [r[1:] for r in ics["rows"]]}),
            "table ics: column code: missing from \"columns\"")
    refused(store, with_tables(people={"columns": [], "rows": []}), "table 'people': this database has no such table")
    dup = copy.deepcopy(good)
    dup["tables"]["ics"]["rows"].append(list(dup["tables"]["ics"]["rows"][0]))
    refused(store, dup, f"table ics, row {len(dup['tables']['ics']['rows'])}: the same code as row 1")
    refused(store, {**good, "tables": [1, 2]}, "the backup has no 'tables'")
    refused(store, [good], "not a backup made by this tool")
    refused(store, {**good, "format_version": [1]}, "backup format version a list is not supported")


def test_what_only_the_database_checks_is_refused_plainly(store, good):
    data = copy.deepcopy(good)
    t = data["tables"]["assessment"]
    cols = t["columns"]
    live = [r for r in t["rows"] if r[cols.index("status")] != "superseded"]
    for c in ("pcn_code", "year"):  # two live assessments of one PCN, year and matrix
        live[1][cols.index(c)] = live[0][cols.index(c)]
    message = refused(store, data, "table assessment: rows 1 to ")
    assert "UNIQUE constraint failed" in message or "duplicate key value" in message
    assert "sqlite3" not in message and "psycopg" not in message


def test_many_problems_are_capped(store, good):
    data = copy.deepcopy(good)
    t = data["tables"]["rating"]
    at = t["columns"].index("current_stage")
    for r in t["rows"]:
        r[at] = "step-9"
    message = refused(store, data, f"the backup has {len(t['rows'])} problems",
                      f"... and {len(t['rows']) - MAX_SHOWN} more")
    assert message.count("is not a stage") == MAX_SHOWN


def test_a_refused_backup_of_an_older_schema_leaves_the_database_at_head(store, good):
    data = changed(good, "pcn", 0, "list_size", "many")
    data["schema_revision"] = "0006_access"
    for name in ("workshop", "workshop_rating", "workshop_consensus"):  # the columns 0007 added
        t = data["tables"][name]
        keep = [i for i, c in enumerate(t["columns"]) if c not in ("rate_target", "target_stage")]
        data["tables"][name] = {"columns": [t["columns"][i] for i in keep], "rows": [[r[i] for i in keep] for r in t["rows"]]}
    refused(store, data, "table pcn, row 1: column list_size: 'many' is not a whole number")
    exchange.restore(store, good)  # still at head and usable
    assert exchange.backup(store) == good


def test_every_column_is_checked_from_the_table_definitions(good, small_matrix):
    """A wrong value in any column of any table, whatever migration added it, is named."""
    engine = make_engine("sqlite://")
    migrate(engine)
    meta = MetaData()
    meta.reflect(engine)
    tables = [t for t in meta.sorted_tables if t.name != "alembic_version"]
    known = {small_matrix.key: (small_matrix.stage_ids, small_matrix.element_ids())}
    checked = []
    for t in tables:
        rows = good["tables"][t.name]["rows"]
        if not rows:
            continue
        for column in t.columns:
            wrong = _wrong_value(column)
            data = changed(good, t.name, 0, column.name, wrong)["tables"]
            problems, _ = check_backup(tables, data, known)
            assert any(p.startswith(f"table {t.name}, row 1: column {column.name}: ") for p in problems.shown), \
                (t.name, column.name, wrong, problems.shown)
            checked.append(f"{t.name}.{column.name}")
    assert {"workshop.rate_target", "workshop_rating.target_stage", "workshop_consensus.target_stage",
            "rating.confidence", "plan_action.cost_pence"} <= set(checked)
    engine.dispose()


def _wrong_value(column):
    t = column.type
    if column.name == "stage" or column.name.endswith("_stage") or column.name in ("element_id", "matrix_id"):
        return "not-in-the-matrix"
    if isinstance(t, Boolean):
        return "yes"
    if isinstance(t, Integer):
        return "12x"
    if isinstance(t, (DateTime, Date)):
        return "01/02/2024"
    if isinstance(t, JSON):
        return {"not": "a list"}
    if isinstance(t, String):
        return "x" * (t.length + 1) if t.length else ["a list"]
    raise AssertionError(f"no wrong value for {column.table.name}.{column.name} ({t!r})")


# ---------------------------------------------------------------------------------------------
# Files that are not backups at all

def test_deeply_nested_json_is_a_clear_message(store):
    for raw in (b"[" * 10_000 + b"]" * 10_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000):
        with pytest.raises(RestoreError, match="deep.json is not a backup: its JSON is nested too deeply to read"):
            exchange.parse_backup(raw, "deep.json")
    nested = json.dumps({"format": exchange.BACKUP_FORMAT, "format_version": 1, "schema_revision": head_revision(),
                         "tables": {"ics": {"columns": ["code", "name"], "rows": [["QZZ", [[[[["deep"]]]]]]]}}})
    refused(store, exchange.parse_backup(nested.encode(), "n.json"), "table ics, row 1: column name: a list is not text")


def test_a_file_that_is_not_utf8(good):
    latin = exchange.dumps_backup(good).replace("Ünïcode", "Zoë").encode("latin-1", errors="replace")
    with pytest.raises(RestoreError, match=r"old\.json is not a backup: it is not UTF-8 text \(byte [\d,]+ cannot"):
        exchange.parse_backup(latin, "old.json")
    with pytest.raises(RestoreError, match="not a JSON backup: Expecting value at line 1, column 1"):
        exchange.parse_backup(b"<html>not json</html>", "page.json")


TWENTY_MB = 20 * 1024 * 1024


@pytest.mark.parametrize("kind", ["random bytes", "tiny lists", "text", "one string"])
def test_twenty_mb_of_junk(kind):
    if kind == "random bytes":
        raw = random.Random(13).randbytes(TWENTY_MB)
        expected = "not UTF-8 text"
    elif kind == "tiny lists":  # millions of lists: refused before reading, not after taking the memory
        raw = b"[" + b"[]," * (TWENTY_MB // 3 - 1) + b"[]]"
        expected = "far more separate values than a backup of its size"
    elif kind == "text":
        raw = b"junk " * (TWENTY_MB // 5)
        expected = "not a JSON backup: Expecting value at line 1, column 1"
    else:
        raw = b'"' + b"a" * TWENTY_MB + b'"'
        expected = None
    if expected is None:
        with Store("sqlite://") as target, pytest.raises(RestoreError, match="not a backup made by this tool"):
            exchange.restore(target, exchange.parse_backup(raw, "junk.json"))
        return
    with pytest.raises(RestoreError, match=expected):
        exchange.parse_backup(raw, "junk.json")


def test_a_real_backup_is_not_taken_for_junk(good):
    raw = exchange.dumps_backup(good).encode()
    assert exchange.parse_backup(raw, "b.json") == good
    compact = json.dumps(good, separators=(",", ":")).encode()
    assert exchange.parse_backup(compact, "b.json") == good


# ---------------------------------------------------------------------------------------------
# The Data page and the command line

def _page_with(raw: bytes, tmp_path, monkeypatch):
    monkeypatch.setenv("PCN_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    at = open_page("views/data.py")
    at.file_uploader(key="restore_upload").set_value(("bad.json", raw, "application/json")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_data_page_names_the_problem_and_restores_nothing(good, tmp_path, monkeypatch):
    at = _page_with(b"[" * 10_000, tmp_path, monkeypatch)
    assert any("nested too deeply" in e.value for e in at.error)
    data = changed(good, "rating", 0, "current_stage", "step-9")
    data["tables"]["plan"] = [1, 2]
    at = _page_with(json.dumps(data).encode(), tmp_path, monkeypatch)
    [button] = [b for b in at.button if b.label == "Restore this backup"]
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    [error] = [e.value for e in at.error]
    assert "Nothing was restored" in error and "table plan" in error and "found a list" in error
    with Store(f"sqlite:///{tmp_path / 'empty.db'}") as target:
        assert target.is_empty()

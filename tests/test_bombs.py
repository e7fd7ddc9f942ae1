"""Hostile uploads (issue 13): YAML billion laughs inside validated fields, deep nesting, .xlsx zip
bombs and CSV floods are each refused with a message naming the limit, change nothing, and stay
small in memory. The files are made here, by tests/bomb_files.py; their times are in
benchmarks/bench_bombs.py (timing asserts would fail on a busy machine)."""
from __future__ import annotations

import os
import threading
import time

import pytest
from app_fixtures import open_page, shown_tables
from bomb_files import csv_flood, xlsx_bomb, xlsx_with_dimension, yaml_alias_chain, yaml_deep, yaml_laughs

from assessments import exchange, matrix_files
from assessments import organisations as orgs
from assessments.sheets import ImportProblems, read_rows
from assessments.store import Store
from assessments.values import InputError
from matrix import MatrixFileError, load_text

PEAK_MB = 300  # the target for any input up to the upload limit


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def traced(fn):
    """Run `fn`, which should raise; return what it raised and the peak MB the process grew by
    meanwhile (resident memory sampled every 5 ms: tracemalloc would make the floods 30 times slower)."""
    base, peak, done = _rss(), [0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss() - base)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        fn()
    except Exception as exc:  # the caller checks which
        raised = exc
    else:
        raised = None
    finally:
        done.set()
        sampler.join()
        peak[0] = max(peak[0], _rss() - base)
    return raised, peak[0] / 1e6


@pytest.fixture(scope="module")
def xlsx_bombs():
    return {"1 MB": xlsx_bomb(1_000_000), "4 MB": xlsx_bomb(4_000_000)}


@pytest.fixture
def sqlite_store(tmp_path, small_matrix):
    store = Store(f"sqlite:///{tmp_path / 'pcn.db'}", matrices=[small_matrix])
    orgs.add_ics(store, "QZZ", "Test ICS")
    orgs.add_pcn(store, "U90001", "Test PCN", ics_code="QZZ", list_size=30_000)
    yield store
    store.close()


# --- matrix YAML -------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [6600, 9300])
def test_billion_laughs_in_validated_fields_is_refused_naming_the_limit_and_line(size):
    bomb = yaml_laughs(size)
    assert size * 0.95 < len(bomb) < size * 1.05
    raised, peak = traced(lambda: load_text(bomb, "laughs.yaml"))
    assert isinstance(raised, MatrixFileError)
    [problem] = raised.problems
    assert problem.line == 9  # the domains line, where the aliases are
    assert "more than 50,000 values" in problem.message and "alias" in problem.message
    assert peak < PEAK_MB


def test_deep_nesting_is_refused_before_it_is_built():
    raised, peak = traced(lambda: load_text(yaml_deep(190_000), "deep.yaml"))
    assert isinstance(raised, MatrixFileError)
    assert str(raised) == "deep.yaml:2: (file): the YAML nests more than 40 levels deep; a matrix needs fewer than ten"
    assert peak < PEAK_MB


def test_nesting_made_of_aliases_counts_too():
    # No line is indented more than once, but *a59 holds 60 lists inside each other.
    with pytest.raises(MatrixFileError, match="nests more than 40 levels"):
        load_text(yaml_alias_chain(60), "chain.yaml")
    load_text_problems = _problems(yaml_alias_chain(30))
    assert not any("levels" in p for p in load_text_problems)  # 30 is allowed (and wrong for other reasons)


def test_an_alias_inside_itself_is_refused():
    with pytest.raises(MatrixFileError) as info:
        load_text("kind: maturity-matrix\ndomains: &a\n  - *a\n", "loop.yaml")
    assert [(p.line, p.message) for p in info.value.problems] == [
        (2, "an alias (*name) refers to the list or mapping it is inside, so it never ends")]  # its anchor's line


def test_a_matrix_file_larger_than_the_limit_is_refused_unread():
    raised, peak = traced(lambda: load_text(b"kind: maturity-matrix\n" + b"#" * 250_000, "big.yaml"))
    assert isinstance(raised, MatrixFileError)
    assert "the limit is 200,000" in str(raised)
    assert peak < 20  # nothing beyond the bytes already in hand


def _problems(text: bytes) -> list[str]:
    try:
        load_text(text, "x.yaml")
    except MatrixFileError as exc:
        return [p.message for p in exc.problems]
    return []


def test_adding_a_bomb_to_the_matrix_folder_refuses_and_writes_nothing(sqlite_store, tmp_path, monkeypatch):
    folder = tmp_path / "matrices"
    folder.mkdir()
    monkeypatch.setenv("PCN_MATRIX_DIR", str(folder))
    before = sqlite_store.counts()
    raised, peak = traced(lambda: matrix_files.add_matrix_file(sqlite_store, "laughs.yaml", yaml_laughs(6600), by="x"))
    assert isinstance(raised, InputError) and "more than 50,000 values" in str(raised)
    assert list(folder.iterdir()) == []
    assert sqlite_store.counts() == before
    assert peak < PEAK_MB


def test_matrices_page_upload_with_no_name_given_shows_the_problem(app_db):
    at = open_page("views/matrices.py", actor=None)
    raised, peak = traced(lambda: at.file_uploader[0].set_value(
        ("laughs.yaml", yaml_laughs(6600), "application/x-yaml")).run())
    assert raised is None and not at.exception
    assert any("laughs.yaml is not valid: 1 problem" in e.value.replace("\\", "") for e in at.error)
    assert "more than 50,000 values" in shown_tables(at)[-1]["Problem"][0]
    assert peak < PEAK_MB


# --- spreadsheets ------------------------------------------------------------------------------

@pytest.mark.parametrize("size,words", [("1 MB", "times larger than it is packed, more than the limit of 50 times"),
                                        ("4 MB", "more than the limit of 300 MB")])
def test_xlsx_zip_bomb_is_refused_from_its_directory(xlsx_bombs, sqlite_store, size, words):
    before = sqlite_store.counts()
    raised, peak = traced(lambda: exchange.import_ratings(sqlite_store, "bomb.xlsx", data=xlsx_bombs[size], by="x"))
    assert isinstance(raised, ImportProblems)
    [problem] = raised.problems
    assert problem.line == 1 and words in problem.message
    assert sqlite_store.counts() == before
    assert peak < PEAK_MB


def test_data_page_refuses_a_zip_bomb_as_it_arrives(demo_db, xlsx_bombs):
    before = demo_db.data_version()
    at = open_page("views/data.py")
    raised, peak = traced(lambda: at.file_uploader(key="ratings_upload").set_value(
        ("bomb.xlsx", xlsx_bombs["4 MB"], "application/octet-stream")).run())
    assert raised is None and not at.exception
    assert any("bomb.xlsx: 1 problem(s). Nothing has been imported." in e.value.replace("\\", "") for e in at.error)
    assert "300 MB" in at.dataframe[-1].value["Problem"][0]
    assert demo_db.data_version() == before
    assert peak < PEAK_MB


def test_data_page_lists_the_first_thousand_problems_of_a_file_of_bad_rows(app_db):
    flood = ("pcn_code,year,element_id,current_stage\n" + "U00000,2024/25,none,none\n" * 3000).encode()
    at = open_page("views/data.py")
    at.file_uploader(key="ratings_upload").set_value(("bad.csv", flood, "text/csv")).run()
    assert not at.exception
    assert len(at.dataframe[-1].value) == 1000
    assert any("Checking stopped after the first 1,000 problems" in c.value for c in at.caption)


@pytest.mark.parametrize("ref,words", [("A1:L1048576", "1,048,575 rows below the header, more than the limit of 250,000"),
                                       ("A1:XFD2", "16,384 columns, more than the limit of 50")])
def test_a_sheet_stating_a_huge_size_is_refused_before_its_rows_are_read(ref, words):
    raised, peak = traced(lambda: read_rows("big.xlsx", xlsx_with_dimension(ref)))
    assert isinstance(raised, ImportProblems) and words in raised.problems[0].message
    assert peak < 50


@pytest.mark.parametrize("distinct", [False, True], ids=["same cells", "distinct cells"])
def test_csv_flood_stops_at_the_row_limit(sqlite_store, distinct):
    flood = csv_flood(25_000_000 if distinct else 20_000_000, distinct=distinct)  # 20 MB distinct is 217,708 rows
    before = sqlite_store.counts()
    raised, peak = traced(lambda: exchange.import_ratings(sqlite_store, "flood.csv", data=flood, by="x"))
    assert isinstance(raised, ImportProblems)
    [problem] = raised.problems
    assert problem.line == 250_002 and "more than 250,000 rows" in problem.message
    assert sqlite_store.counts() == before
    assert peak < PEAK_MB


def test_organisations_import_refuses_a_flood_too(sqlite_store):
    before = sqlite_store.counts()
    flood = ("ics_code,ics_name,pcn_code,pcn_name,list_size\n" + "QZZ,A,U90001,B,1\n" * 300_000).encode()
    with pytest.raises(ImportProblems, match="more than 250,000 rows"):
        orgs.import_organisations(sqlite_store, "orgs.csv", data=flood, by="x")
    assert sqlite_store.counts() == before


def test_too_many_filled_cells_are_refused():
    row = ",".join(["ab"] * 20) + "\n"  # 20 cells a row: 150,001 rows below the header pass 3,000,000 cells
    raised, peak = traced(lambda: read_rows("wide.csv", (row * 150_002).encode()))
    assert isinstance(raised, ImportProblems)
    assert "more than 3,000,000 filled cells" in raised.problems[0].message
    assert peak < PEAK_MB


def test_csv_oddities_get_a_message_not_a_traceback():
    with pytest.raises(ImportProblems, match=r"line 2: cannot read this line as CSV \(field larger than field limit"):
        read_rows("long.csv", b"a,b\n\"" + b"x" * 200_000 + b"\",y\n")
    with pytest.raises(ImportProblems, match="line 2: the row has more than 50 columns"):
        read_rows("wide.csv", b"a,b\n" + b",".join([b"v"] * 60) + b"\n")
    with pytest.raises(ImportProblems, match="line 2: byte 0x81 cannot be read as text"):
        read_rows("bytes.csv", b"a,b\n\x81,\x8d\n")  # neither UTF-8 nor Windows-1252
    with pytest.raises(ImportProblems, match="more than the limit of 100 MB"):
        read_rows("huge.csv", b"a\n" * 50_000_001)

"""The matrix is a choice: a PCN rated against two matrices in one year keeps both (progress, the
plan's report, the portfolio), each ICS has a default matrix only an administrator sets, and a
matrix named on a command line or in a setting is checked with a clear message."""
from __future__ import annotations

from pathlib import Path

import pytest

from assessments import matrix_choice as choice
from assessments import organisations as orgs
from assessments import progress
from assessments import ratings as assessing
from assessments.access import ADMINISTRATOR, FACILITATOR, LEAD, AccessDenied, Grant, Principal
from assessments.demo import DEMO_ICS, YEARS, load_demo
from assessments.model import NATIONAL_MATRIX_ID
from assessments.store import Store
from assessments.values import NotFoundError
from matrix import load_text
from reports.data import gather

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SMALL = (FIXTURES / "small_matrix.yaml").read_text()
SMALL_V2 = (FIXTURES / "small_matrix_v2.yaml").read_text()
LOCAL = "example-matrix"  # the ICS's own matrix in these tests (3 stages; the national one has 4)
PCN, YEAR = "U99001", YEARS[-1]


def local_v1():
    return load_text(SMALL, "small_matrix.yaml")


@pytest.fixture
def two_matrices(tmp_path, monkeypatch):
    """The demo ICS; U99001 is rated against the national matrix every year and, in the last
    year, against the ICS's own matrix too."""
    folder = tmp_path / "matrices"
    folder.mkdir()
    (folder / "small_matrix.yaml").write_text(SMALL)
    monkeypatch.setenv("PCN_MATRIX_DIR", str(folder))
    store = Store(f"sqlite:///{tmp_path / 'choice.db'}")
    load_demo(store)
    a = assessing.create_assessment(store, PCN, YEAR, choice.find_matrix(store, LOCAL), by="test")
    assessing.save_rating(store, a.id, "governance", by="test", expected_version=0, current_stage="embedded")
    yield store
    store.close()


def set_default(store, matrix_id, ics_code=DEMO_ICS[0]):
    return orgs.set_default_matrix(store, ics_code, matrix_id, by="test",
                                   expected_version=orgs.ics(store, ics_code).version)


def test_families_join_matrices_through_supersedes_in_either_direction():
    renamed = load_text(SMALL_V2.replace("id: example-matrix\nversion", "id: renamed-matrix\nversion"), "r.yaml")
    family = choice.families([renamed, local_v1()])
    assert family("example-matrix") == family("renamed-matrix") == {"example-matrix", "renamed-matrix"}
    assert family(NATIONAL_MATRIX_ID) == {NATIONAL_MATRIX_ID}


def test_the_first_option_is_the_ics_defaults_family_else_the_latest_used():
    family = choice.families([local_v1()])

    class A:
        def __init__(self, id, year, matrix_id):
            self.id, self.year, self.matrix_id = id, year, matrix_id

    used = [A(1, "2023/24", NATIONAL_MATRIX_ID), A(2, "2024/25", NATIONAL_MATRIX_ID), A(3, "2024/25", LOCAL)]
    options = choice.in_use(used, family)
    assert options == [LOCAL, NATIONAL_MATRIX_ID]  # the same year: the one started last first
    assert choice.preferred(options, None, family) == LOCAL
    assert choice.preferred(options, NATIONAL_MATRIX_ID, family) == NATIONAL_MATRIX_ID
    assert choice.preferred([], LOCAL, family) is None


def test_an_unknown_matrix_or_version_is_refused_naming_what_is_loaded(two_matrices):
    with pytest.raises(NotFoundError, match=r"no matrix 'nope' \(matrices loaded: example-matrix, nhse-pcn-maturity\)"):
        choice.find_matrix(two_matrices, "nope")
    with pytest.raises(NotFoundError, match=r"has no version 9.0 \(versions loaded: 1.0\)"):
        choice.find_matrix(two_matrices, LOCAL, "9.0")
    assert choice.parse_spec("example-matrix@1.0") == ("example-matrix", "1.0")
    assert choice.parse_spec("example-matrix") == ("example-matrix", None)


def test_progress_follows_one_matrix_and_names_the_other(two_matrices):
    national = progress.pcn_progress(two_matrices, PCN)
    assert national.matrix_ids == (LOCAL, NATIONAL_MATRIX_ID)
    assert national.matrix_id == NATIONAL_MATRIX_ID  # the ICS's default: national, none chosen
    assert national.years == YEARS
    assert national.elsewhere == {YEAR: (LOCAL,)}  # not dropped: named
    local = progress.pcn_progress(two_matrices, PCN, LOCAL)
    assert local.years == (YEAR,) and local.matrix_key == (LOCAL, "1.0")
    assert set(local.elsewhere) == set(YEARS)
    governance = local.series[local.series["domain_id"] == "leadership"]
    assert governance["score"].notna().all()


def test_the_ics_default_decides_what_is_shown_first(two_matrices):
    set_default(two_matrices, LOCAL)
    assert orgs.default_matrix_id(two_matrices, DEMO_ICS[0]) == LOCAL
    assert orgs.default_matrix(two_matrices, DEMO_ICS[0]).key == (LOCAL, "1.0")
    assert progress.pcn_progress(two_matrices, PCN).matrix_id == LOCAL
    assert progress.matrix_options(two_matrices, PCN, YEAR) == ([LOCAL, NATIONAL_MATRIX_ID], LOCAL)
    # A PCN never rated against the ICS's matrix still shows what it has.
    assert progress.pcn_progress(two_matrices, "U99002").matrix_id == NATIONAL_MATRIX_ID


def test_the_portfolio_picks_a_matrix_and_counts_the_others(two_matrices):
    n = len(orgs.pcns(two_matrices, DEMO_ICS[0]))
    pf = progress.ics_portfolio(two_matrices, DEMO_ICS[0], YEAR)
    assert pf.matrix_id == NATIONAL_MATRIX_ID and pf.matrix_ids == (NATIONAL_MATRIX_ID, LOCAL)
    assert pf.others == {LOCAL: 1} and pf.n_elsewhere == 0
    assert pf.n_agreed + pf.n_draft == n
    local = progress.ics_portfolio(two_matrices, DEMO_ICS[0], YEAR, LOCAL)
    assert local.matrix_key == (LOCAL, "1.0")
    assert set(local.frame["code"]) == {p.code for p in orgs.pcns(two_matrices, DEMO_ICS[0])}  # every PCN listed
    assert (local.n_draft, local.n_agreed, local.n_elsewhere, local.n_not_started) == (1, 0, n - 1, 0)
    assert local.others == {NATIONAL_MATRIX_ID: n}
    set_default(two_matrices, LOCAL)
    assert progress.ics_portfolio(two_matrices, DEMO_ICS[0], YEAR).matrix_id == LOCAL


def test_the_plans_report_reads_the_chosen_matrix(two_matrices):
    assert gather(two_matrices, PCN, YEAR).matrix.id == NATIONAL_MATRIX_ID
    report = gather(two_matrices, PCN, YEAR, matrix_id=LOCAL)
    assert report.matrix.id == LOCAL and report.assessment.matrix_id == LOCAL
    assert [d.title for d in report.domains] == [d.title for d in local_v1().domains]
    assert report.previous is None  # earlier years were rated against the national matrix only
    with pytest.raises(NotFoundError, match="no matrix 'nope'"):
        gather(two_matrices, PCN, YEAR, matrix_id="nope")
    set_default(two_matrices, LOCAL)
    assert gather(two_matrices, PCN, YEAR).matrix.id == LOCAL


def test_only_an_administrator_sets_the_default_and_it_is_audited(two_matrices):
    ics = orgs.ics(two_matrices, DEMO_ICS[0])
    for grant in (Grant(FACILITATOR, ics_code=DEMO_ICS[0]), Grant(LEAD, pcn_code=PCN)):
        someone = two_matrices.acting(Principal("x", "Someone", "x@nhs.net", (grant,)))
        with pytest.raises(AccessDenied):
            orgs.set_default_matrix(someone, ics.code, LOCAL, expected_version=ics.version)
        assert orgs.default_matrix_id(someone, ics.code) is None  # they may see it
    admin = two_matrices.acting(Principal("a", "Ann Admin", "ann@nhs.net", (Grant(ADMINISTRATOR),)))
    orgs.set_default_matrix(admin, ics.code, LOCAL, expected_version=ics.version)
    orgs.add_ics(two_matrices, "QZY", "Other ICS", by="test")
    assert orgs.default_matrix_ids(two_matrices) == {ics.code: LOCAL, "QZY": None}
    lead = two_matrices.acting(Principal("l", "Lee", "lee@nhs.net", (Grant(LEAD, pcn_code=PCN),)))
    assert orgs.default_matrix_ids(lead) == {ics.code: LOCAL}  # only the ICSs they see
    [entry] = two_matrices.audit(entity="ics", entity_key=ics.code, limit=1)
    assert (entry.field, entry.before, entry.after, entry.who) == ("default_matrix_id", None, LOCAL,
                                                                    "Ann Admin <ann@nhs.net>")
    with pytest.raises(NotFoundError, match="no matrix 'nope'"):
        set_default(two_matrices, "nope")
    set_default(two_matrices, None)  # back to the national matrix
    assert orgs.default_matrix(two_matrices, ics.code).id == NATIONAL_MATRIX_ID


def test_a_default_whose_file_has_gone_falls_back_to_the_national_matrix(two_matrices, monkeypatch, tmp_path):
    set_default(two_matrices, LOCAL)
    monkeypatch.setenv("PCN_MATRIX_DIR", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    two_matrices.refresh_catalog()
    assert orgs.default_matrix_id(two_matrices, DEMO_ICS[0]) == LOCAL
    assert orgs.default_matrix(two_matrices, DEMO_ICS[0]).id == NATIONAL_MATRIX_ID


def test_the_core_starts_new_years_and_workshops_on_the_ics_default(two_matrices):
    """Not only the pages: a service called without a matrix (the command line, an import, the
    demo) uses the ICS's default too."""
    from assessments import workshop as ws

    set_default(two_matrices, LOCAL)
    other = "U99002"  # same demo ICS, no assessment against the local matrix yet
    year = "2026/27"
    assert assessing.create_assessment(two_matrices, other, year, by="test").matrix_id == LOCAL
    assert ws.open_workshop(two_matrices, other, year, by="test").matrix_id == LOCAL
    set_default(two_matrices, None)
    assert ws.open_workshop(two_matrices, "U99003", year, by="test").matrix_id == NATIONAL_MATRIX_ID

"""Scoring rules, with the arithmetic written out by hand."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments import scoring as sc
from assessments.scoring import Snapshot
from matrix import Matrix, load_file

FIX = Path(__file__).parent / "fixtures"
V1 = load_file(FIX / "small_matrix.yaml")  # governance, vision | data-sharing; 3 stages
V2 = load_file(FIX / "small_matrix_v2.yaml")
V3 = load_file(FIX / "small_matrix_v3.yaml")
FOUR = load_file(FIX / "small_matrix_four_stages.yaml")
ALL = {m.key: m for m in (V1, V2, V3, FOUR)}


@dataclass(frozen=True)
class R:
    element_id: str
    current_stage: str | None
    target_stage: str | None = None


def snap(year, matrix, status="draft", **stages):
    """snap("2024/25", V1, governance=("developing", "embedded"), vision="embedded")."""
    ratings = []
    for eid, v in stages.items():
        cur, tgt = v if isinstance(v, tuple) else (v, None)
        ratings.append(R(eid.replace("_", "-"), cur, tgt))
    return Snapshot(year, matrix, ratings, status=status)


def make_matrix(n_stages: int, sizes: list[int], version: str = "1.0") -> Matrix:
    stages = [dict(id=f"s{i}", label=f"Stage {i}", meaning="m") for i in range(n_stages)]
    domains = [
        dict(id=f"d{d}", title=f"Domain {d}", summary="s",
             elements=[dict(id=f"d{d}-e{e}", title=f"Element {d}.{e}", evidence_prompts=["p"],
                            descriptors={s["id"]: "x" for s in stages}) for e in range(n)])
        for d, n in enumerate(sizes)
    ]
    return Matrix.model_validate(dict(kind="maturity-matrix", id="gen", version=version, title="Generated",
                                      source="tests", stages=stages, domains=domains))


# --- stage, domain and overall scores ------------------------------------------------------------

def test_stage_score_is_position_from_zero():
    assert [sc.stage_score(V1, s) for s in ("starting", "developing", "embedded")] == [0, 1, 2]
    assert sc.stage_score(V1, None) is None
    with pytest.raises(ValueError, match="not a stage"):
        sc.stage_score(V1, "step-3")


def test_domain_mean_over_rated_elements_only():
    m = make_matrix(4, [4])
    s = Snapshot("2024/25", m, [R("d0-e0", "s0"), R("d0-e1", "s1"), R("d0-e2", "s3"), R("d0-e3", None)])
    d = sc.domain_score(s, "d0")
    # (0 + 1 + 3) / 3 = 1.333...; the unrated fourth element counts in n_elements only
    assert d.score == pytest.approx(4 / 3) and round(d.score, 3) == 1.333
    assert (d.n_rated, d.n_elements) == (3, 4)


def test_profile_current_target_and_overall():
    s = snap("2024/25", V1, governance=("developing", "embedded"), vision=("embedded", "embedded"),
             data_sharing=(None, "developing"))
    p = sc.profile(s)
    lead, data = p.current
    assert (lead.domain_id, lead.score, lead.n_rated, lead.n_elements) == ("leadership", 1.5, 2, 2)  # (1 + 2) / 2
    assert (data.score, data.n_rated, data.n_elements) == (None, 0, 1)
    assert p.overall == 1.5  # only leadership is rated
    assert [t.score for t in p.target] == [2.0, 1.0]
    assert p.overall_target == 1.5  # (2 + 1) / 2
    assert (p.n_rated, p.n_elements) == (2, 3)


def test_gaps_only_where_both_set():
    s = snap("2024/25", V1, governance=("starting", "embedded"), vision=("developing", "developing"),
             data_sharing=(None, "embedded"))
    assert sc.element_gaps(s) == {"governance": 2, "vision": 0}
    lead, data = sc.domain_gaps(s)
    assert (lead.gap, lead.n_both, lead.n_elements) == (1.0, 2, 2)  # (2 + 0) / 2
    assert (data.gap, data.n_both) == (None, 0)


def test_unknown_stage_or_element_is_an_error_not_a_gap():
    with pytest.raises(ValueError, match="step-1"):
        sc.element_scores(snap("2024/25", V1, governance="step-1"))
    with pytest.raises(ValueError, match="population-health"):
        sc.element_scores(snap("2024/25", V1, population_health="starting"))


def test_empty_string_stage_is_unrated():
    assert sc.element_scores(snap("2024/25", V1, governance=""))["governance"] is None


# --- year on year, across matrix versions -----------------------------------------------------------

def test_same_matrix_change():
    a = snap("2023/24", V1, governance="starting", vision="developing", data_sharing="developing")
    b = snap("2024/25", V1, governance="developing", vision="embedded")
    c = sc.compare(a, b)
    assert c.comparable and c.reason is None
    by = {e.element_id: e for e in c.elements}
    assert by["governance"].change == 1 and by["vision"].change == 1
    assert by["data-sharing"].change is None and by["data-sharing"].comparable  # unrated in 2024/25
    lead, data = c.domains
    assert (lead.before, lead.after, lead.change, lead.n_compared) == (0.5, 1.5, 1.0, 2)
    assert (data.before, data.after, data.change, data.n_compared) == (1.0, None, None, 0)


def test_change_across_versions_renamed_merged_new():
    a = snap("2023/24", V1, governance="starting", vision="embedded", data_sharing="developing")
    b = snap("2024/25", V2, leadership_and_vision="developing", information_sharing="embedded",
             population_health="developing")
    c = sc.compare(a, b)
    assert c.comparable
    by = {e.element_id: e for e in c.elements}
    merged = by["leadership-and-vision"]
    assert merged.from_ids == ("governance", "vision")
    assert (merged.before, merged.after, merged.change) == (1.0, 1, 0.0)  # before = (0 + 2) / 2
    renamed = by["information-sharing"]
    assert (renamed.from_ids, renamed.before, renamed.change) == (("data-sharing",), 1.0, 1.0)
    new = by["population-health"]
    assert not new.comparable and new.change is None and "no counterpart in 2023/24" in new.reason
    assert not by["community-partners"].comparable
    assert set(by) == set(V2.element_ids())  # nothing retired from 1.0
    lead, data, partners = c.domains
    assert (lead.before, lead.after, lead.change, lead.comparable, lead.reason) == (1.0, 1.0, 0.0, True, None)
    # data: after = (2 + 1) / 2 = 1.5, but the change is like for like: information-sharing only
    assert (data.before, data.after, data.change, data.n_compared) == (1.0, 1.5, 1.0, 1)
    assert data.comparable and data.reason == "1 of 2 elements have a counterpart in 2023/24"
    assert not partners.comparable and "every element is new" in partners.reason and partners.change is None


def test_merge_uses_mean_of_rated_old_elements():
    a = snap("2023/24", V1, vision="embedded")  # governance unrated
    b = snap("2024/25", V2, leadership_and_vision="embedded")
    merged = sc.compare(a, b).elements[0]
    assert (merged.before, merged.change) == (2.0, 0.0)


def test_chain_of_supersedes():
    a = snap("2022/23", V1, governance="starting", vision="starting", data_sharing="starting")
    b = snap("2024/25", V3, leadership_and_vision="embedded", information_sharing="developing",
             population_health_management="developing")
    c = sc.compare(a, b, matrices=ALL)
    assert c.comparable
    assert [(e.element_id, e.change, e.comparable) for e in c.elements] == [
        ("leadership-and-vision", 2.0, True), ("information-sharing", 1.0, True),
        ("population-health-management", None, False)]
    # Without 2.0 in the lookup there is no way from 1.0 to 3.0: say so.
    broken = sc.compare(a, b, matrices={})
    assert not broken.comparable and "2.0, which is not loaded" in broken.reason
    assert all(d.change is None and not d.comparable for d in broken.domains)


def test_retired_element_is_reported_not_dropped():
    a = snap("2023/24", V2, community_partners="developing", population_health="starting")
    b = snap("2024/25", V3, population_health_management="developing")
    c = sc.compare(a, b)
    retired = [e for e in c.elements if e.element_id == "community-partners"]
    assert len(retired) == 1
    r = retired[0]
    assert (r.comparable, r.before, r.after, r.domain_id) == (False, 1, None, "partnerships")
    assert "no counterpart in Example matrix (3.0)" in r.reason
    phm = next(e for e in c.elements if e.element_id == "population-health-management")
    assert (phm.from_ids, phm.change) == (("population-health",), 1.0)


def test_different_scale_is_not_comparable():
    a = snap("2023/24", V1, governance="embedded")
    b = snap("2024/25", FOUR, governance="step-3")
    c = sc.compare(a, b)
    assert not c.comparable
    assert "3 stages" in c.reason and "has 4" in c.reason
    assert all(e.change is None and e.before is None and not e.comparable for e in c.elements)
    assert all(d.change is None and d.before is None and not d.comparable for d in c.domains)
    assert c.domains[0].after == 3.0  # the newer year's own score is still shown


def test_unrelated_matrices_are_not_comparable():
    other = make_matrix(3, [1])
    c = sc.compare(Snapshot("2023/24", other, []), snap("2024/25", V1))
    assert not c.comparable and "no supersedes path" in c.reason


# --- progress series ------------------------------------------------------------------------------

def test_progress_series_in_newest_terms():
    years = [
        snap("2022/23", V1, governance="starting", vision="developing", data_sharing=("starting", "embedded")),
        snap("2023/24", V2, leadership_and_vision="developing", information_sharing="developing"),
        snap("2024/25", V3, status="agreed", leadership_and_vision=("embedded", "embedded"),
             information_sharing="developing", population_health_management="starting"),
    ]
    df = sc.progress_series(reversed(years), matrices=ALL)
    assert list(df.columns[:9]) == sc.SERIES_COLUMNS
    assert list(df["year"]) == ["2022/23"] * 2 + ["2023/24"] * 2 + ["2024/25"] * 2
    assert list(df["domain_id"]) == ["leadership", "data"] * 3
    rows = {(r.year, r.domain_id): r for r in df.itertuples()}
    first = rows[("2022/23", "leadership")]
    assert (first.score, first.n_rated, first.n_elements, first.comparable) == (0.5, 1, 1, True)  # mean(0, 1)
    data_first = rows[("2022/23", "data")]
    assert (data_first.score, data_first.target, data_first.n_rated) == (0.0, 2.0, 1)
    assert data_first.reason == "1 of 2 elements have a counterpart in 2022/23"
    last = rows[("2024/25", "data")]
    assert (last.score, last.n_rated, last.n_elements, last.reason, last.status) == (0.5, 2, 2, "", "agreed")
    assert rows[("2024/25", "leadership")].target == 2.0


def test_progress_series_marks_other_scale_years():
    df = sc.progress_series([snap("2023/24", V1, governance="embedded"), snap("2024/25", FOUR, governance="step-1")])
    old = df[df["year"] == "2023/24"]
    assert not old["comparable"].any() and old["score"].isna().all() and (old["n_rated"] == 0).all()
    assert old["reason"].str.contains("different scales").all()
    assert df[df["year"] == "2024/25"]["comparable"].all()


def test_progress_series_rejects_two_snapshots_for_one_year():
    with pytest.raises(ValueError, match="2024/25"):
        sc.progress_series([snap("2024/25", V1), snap("2024/25", V1)])


def test_profile_frame_has_series_shape():
    df = sc.profile_frame(sc.profile(snap("2024/25", V1, governance="embedded")))
    assert list(df.columns) == sc.SERIES_COLUMNS and list(df["score"].fillna(-1)) == [2.0, -1]


# --- portfolio ------------------------------------------------------------------------------------

PCNS = [
    dict(code="U1", name="North PCN", ics="Test ICS", list_size=41000, rural=False, status="active"),
    dict(code="U2", name="South PCN", ics="Test ICS", list_size=33000, rural=True, status="active"),
    dict(code="U3", name="East PCN", ics="Test ICS", list_size=52000, rural=False, status="active"),
]


def _portfolio_snaps():
    return {
        "U1": snap("2024/25", V2, status="agreed", leadership_and_vision="embedded", information_sharing="developing",
                   population_health="starting"),
        "U2": snap("2024/25", V2, leadership_and_vision="starting"),
        "U4": snap("2024/25", V1, governance="starting", vision="embedded", data_sharing="embedded"),
    }


def test_portfolio_table():
    df = sc.portfolio(_portfolio_snaps(), PCNS, matrices=ALL)
    assert list(df.columns[:14]) == sc.PORTFOLIO_COLUMNS and "pcn_status" in df.columns
    assert len(df) == 4 * 3  # U1, U2, U3 (no snapshot), U4 (no metadata) x 3 domains of 2.0
    assert list(df["code"].drop_duplicates()) == ["U1", "U2", "U3", "U4"]
    cell = df.set_index(["code", "domain_id"])
    assert cell.loc[("U1", "data"), ["score", "n_rated", "n_elements"]].tolist() == [0.5, 2, 2]  # (1 + 0) / 2
    assert cell.loc[("U1", "leadership"), "status"] == "agreed"
    assert cell.loc[("U2", "data"), "n_rated"] == 0 and pd.isna(cell.loc[("U2", "data"), "score"])
    assert cell.loc[("U3", "leadership"), "status"] == "not started"
    assert cell.loc[("U3", "leadership"), "reason"] == "no assessment for this year"
    # U4 assessed on 1.0: translated (governance and vision merged: (0 + 2) / 2 = 1)
    assert cell.loc[("U4", "leadership"), "score"] == 1.0
    assert "translated from Example matrix (1.0)" in cell.loc[("U4", "leadership"), "reason"]
    assert pd.isna(cell.loc[("U4", "leadership"), "name"])  # snapshot without metadata is still listed
    assert cell.loc[("U1", "leadership"), "pcn_status"] == "active"


def test_portfolio_with_other_scale_pcn_marks_it():
    snaps = {"U1": snap("2024/25", V1, governance="embedded"), "U2": snap("2024/25", FOUR, governance="step-3"),
             "U3": snap("2024/25", V1, vision="starting")}
    df = sc.portfolio(snaps, PCNS)
    u2 = df[df["code"] == "U2"]
    assert not u2["comparable"].any() and u2["score"].isna().all() and (u2["n_rated"] == 0).all()
    assert df[df["code"] == "U1"]["comparable"].all()


def test_stage_distribution_counts():
    dist = sc.stage_distribution(_portfolio_snaps(), matrices=ALL)
    assert list(dist.columns) == sc.DISTRIBUTION_COLUMNS
    lead = dist[dist["domain_id"] == "leadership"]
    # leadership-and-vision: U1 embedded, U2 starting, U4 merged mean 1.0 -> developing
    assert list(lead["stage_label"]) == ["Starting", "Developing", "Embedded", "Not rated"]
    assert list(lead["count"]) == [1, 1, 1, 0]
    data = dist[dist["domain_id"] == "data"]
    # 3 PCNs x 2 elements = 6: U1 developing + starting; U2 none; U4 information-sharing embedded
    assert list(data["count"]) == [1, 1, 1, 3]
    assert data["share"].sum() == pytest.approx(1.0)
    assert dist.attrs["excluded"] == []


def test_stage_distribution_floors_merged_means_and_excludes_other_scales():
    snaps = {"A": snap("2024/25", V1, governance="starting", vision="developing"),  # mean 0.5 -> Starting
             "B": snap("2024/25", FOUR, governance="step-1")}
    dist = sc.stage_distribution(snaps, matrix=V2, matrices=ALL)
    assert dist.attrs["excluded"] == ["B"]
    lead = dist[dist["domain_id"] == "leadership"]
    assert list(lead["count"]) == [1, 0, 0, 0]


# --- workshop consensus ----------------------------------------------------------------------------

# Tastle and Wierman's Cns = 1 + sum p_i log2(1 - |X_i - mu| / d), d = stages - 1, worked by hand.
@pytest.mark.parametrize("ratings, n_stages, expected", [
    # The issue's cases. [1,2,3] on 4 stages: mu 2, d 3; two of three are 1 away -> 1 + 2/3 log2(2/3)
    ([1, 2, 3], 4, 1 + 2 / 3 * math.log2(2 / 3)),  # 0.610
    ([1, 2, 3], 6, 1 + 2 / 3 * math.log2(4 / 5)),  # 0.785: a longer scale, the same steps count for less
    # [2,2,2,3]: mu 2.25; three are 0.25 away, one 0.75
    ([2, 2, 2, 3], 4, 1 + 3 / 4 * math.log2(1 - 0.25 / 3) + 1 / 4 * math.log2(1 - 0.75 / 3)),  # 0.802
    ([2, 2, 2, 3], 6, 1 + 3 / 4 * math.log2(1 - 0.25 / 5) + 1 / 4 * math.log2(1 - 0.75 / 5)),  # 0.886
    ([3, 3, 3], 4, 1.0),
    ([0, 0, 0, 0, 0], 6, 1.0),
    ([0, 3], 4, 0.0),  # an even split across the two ends: mu 1.5, each half the width away, log2(1/2) = -1
    ([0, 0, 5, 5], 6, 0.0),
    ([0, 2], 3, 0.0),
    ([1, 2], 4, 1 + math.log2(1 - 0.5 / 3)),  # 0.737: two people a stage apart on 4 stages differ
    ([1, 2], 5, 1 + math.log2(1 - 0.5 / 4)),  # 0.807: on 5 stages they do not
    ([0, 0, 0, 3], 4, 1 + 3 / 4 * math.log2(1 - 0.75 / 3) + 1 / 4 * math.log2(1 - 2.25 / 3)),  # 0.189
])
def test_agreement_hand_cases(ratings, n_stages, expected):
    assert sc.agreement(ratings, n_stages) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("n_stages", [4, 6])
def test_the_threshold_sorts_the_issues_cases_on_4_and_6_stages(n_stages):
    assert sc.consensus([1, 2, 3], n_stages).split  # three neighbouring stages: views differ
    assert not sc.consensus([2, 2, 2, 3], n_stages).split  # one person a stage off: they do not
    assert sc.agreement([2, 2, 2], n_stages) == 1.0
    assert sc.agreement([0, n_stages - 1], n_stages) == 0.0


def test_agreement_needs_two_ratings_and_a_scale():
    assert sc.agreement([], 4) is None and sc.agreement([2, None], 4) is None
    assert sc.agreement([None, 2, 2, None], 4) == 1.0
    with pytest.raises(ValueError, match="at least 2 stages"):
        sc.agreement([0, 0], 1)
    with pytest.raises(ValueError, match="0..3"):
        sc.agreement([0, 4], 4)


@pytest.mark.parametrize("a, words", [
    (None, "too few ratings to say"),
    (1.0, "1.00: full agreement"),
    (0.995, "0.99: strong agreement"),  # cut, not rounded: only unanimity shows 1.00
    (0.9, "0.90: strong agreement"),
    (0.8021, "0.80: broad agreement"),
    (0.7999, "0.79: views differ"),  # never '0.80: views differ'
    (0.61, "0.61: views differ"),
    (0.5, "0.50: views differ"),
    (0.19, "0.19: views far apart"),
    (0.0, "0.00: views far apart"),
])
def test_agreement_words(a, words):
    assert sc.agreement_words(a) == words


@pytest.mark.parametrize("ratings, median, low, high, iqr, split", [
    ([1], 1, 1, 1, 0.0, False),  # one rating: no measure, nothing differs
    ([2, 2], 2, 2, 2, 0.0, False),
    ([0, 2], 0, 0, 2, 1.0, True),  # 0.415
    ([1, 1, 1, 3], 1, 1, 3, 0.5, True),  # 0.553
    ([0, 1, 2, 3], 1, 0, 3, 1.5, True),  # quartiles 0.75 and 2.25; 0.368
    ([0, 1, 1, 2], 1, 0, 2, 0.5, True),  # 0.708: one stage either side of the middle, on 4 stages
    ([2, 2, 2, 3], 2, 2, 3, 0.25, False),  # 0.802
    ([0, 0, 1, 2, 2, 3], 1, 0, 3, 1.75, True),  # quartiles 0.25, 2
])
def test_consensus_hand_cases_on_4_stages(ratings, median, low, high, iqr, split):
    c = sc.consensus(ratings, 4)
    assert (c.n, c.median, c.low, c.high, c.iqr, c.split) == (len(ratings), median, low, high, iqr, split)
    assert c.agreement == sc.agreement(ratings, 4)


def test_consensus_ignores_unrated_and_handles_nobody():
    c = sc.consensus([None, 2], 4)
    assert (c.n, c.agreement, c.split) == (1, None, False)
    c = sc.consensus([], 4)
    assert (c.n, c.median, c.agreement, c.split) == (0, None, None, False)


WORKSHOP = [
    dict(participant="Dr A", element_id="governance", stage="starting"),
    dict(participant="Dr A", element_id="vision", stage="developing"),
    dict(participant="Nurse B", element_id="governance", stage="embedded"),
    dict(participant="Nurse B", element_id="vision", stage="developing"),
    dict(participant="Manager C", element_id="governance", stage="starting"),
    dict(participant="Manager C", element_id="vision", stage=None),
]


def test_workshop_summary_and_profiles():
    s = sc.workshop_summary(V1, WORKSHOP)
    assert list(s["element_id"]) == ["governance", "vision", "data-sharing"]
    gov = s.iloc[0]
    # governance on 3 stages: 0, 2, 0 -> median 0; mu 2/3, d 2: 1 + 2/3 log2(2/3) + 1/3 log2(1/3) = 0.082
    assert (gov["n"], gov["median"], gov["median_stage"], gov["high"], gov["split"]) == (3, 0, "Starting", 2, True)
    assert gov["agreement"] == pytest.approx(1 + 2 / 3 * math.log2(2 / 3) + 1 / 3 * math.log2(1 / 3))
    assert (s.iloc[1]["n"], s.iloc[1]["median"], s.iloc[1]["agreement"], s.iloc[1]["split"]) == (2, 1, 1.0, False)
    assert s.iloc[2]["n"] == 0 and pd.isna(s.iloc[2]["median"]) and pd.isna(s.iloc[2]["agreement"])
    prof = sc.participant_profiles(V1, WORKSHOP)
    assert list(prof["participant"].drop_duplicates()) == ["Dr A", "Nurse B", "Manager C"]
    lead = prof[prof["domain_id"] == "leadership"].set_index("participant")
    assert lead["score"].to_dict() == {"Dr A": 0.5, "Nurse B": 1.5, "Manager C": 0.0}
    cons = sc.consensus_profile(V1, WORKSHOP)
    assert (cons[0].score, cons[0].n_rated, cons[1].score) == (0.5, 2, None)  # medians 0 and 1


def test_workshop_rejects_unknown_element():
    with pytest.raises(ValueError, match="nope"):
        sc.workshop_frame(V1, [dict(participant="x", element_id="nope", stage="starting")])


# --- properties ------------------------------------------------------------------------------------

@st.composite
def matrix_and_snapshot(draw):
    n_stages = draw(st.integers(2, 6))
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))
    m = make_matrix(n_stages, sizes)
    stage = st.one_of(st.none(), st.sampled_from(m.stage_ids))
    ratings = [R(e, draw(stage), draw(stage)) for e in m.element_ids()]
    return m, Snapshot("2024/25", m, ratings)


@settings(max_examples=60, deadline=None)
@given(matrix_and_snapshot())
def test_domain_scores_stay_on_the_scale(ms):
    m, s = ms
    p = sc.profile(s)
    for d in p.current + p.target:
        assert 0 <= d.n_rated <= d.n_elements
        assert d.score is None or 0 <= d.score <= len(m.stages) - 1
        assert (d.score is None) == (d.n_rated == 0)
    assert p.overall is None or 0 <= p.overall <= len(m.stages) - 1


@settings(max_examples=40, deadline=None)
@given(matrix_and_snapshot())
def test_comparing_a_snapshot_with_itself_changes_nothing(ms):
    _, s = ms
    c = sc.compare(s, s)
    assert c.comparable
    assert all(e.change in (None, 0) for e in c.elements)
    assert all(d.change in (None, 0) for d in c.domains)


@given(st.lists(st.one_of(st.none(), st.integers(0, 5)), max_size=12))
def test_consensus_median_is_a_rating(xs):
    c = sc.consensus(xs, 6)
    rated = [x for x in xs if x is not None]
    if rated:
        assert c.median in rated and c.low <= c.median <= c.high
        assert 0 <= c.iqr <= c.high - c.low
    assert not c.split or c.n >= 2


@st.composite
def scale_and_ratings(draw, min_size=2):
    n_stages = draw(st.integers(2, 9))
    return n_stages, draw(st.lists(st.integers(0, n_stages - 1), min_size=min_size, max_size=25))


@given(scale_and_ratings(), st.randoms(use_true_random=False))
def test_agreement_does_not_depend_on_the_order_of_ratings(case, rnd):
    n_stages, xs = case
    shuffled = list(xs)
    rnd.shuffle(shuffled)
    assert sc.agreement(shuffled, n_stages) == sc.agreement(xs, n_stages)


@given(st.integers(2, 12), st.data())
def test_unanimity_is_full_agreement_on_any_scale(n_stages, data):
    stage = data.draw(st.integers(0, n_stages - 1))
    k = data.draw(st.integers(2, 30))
    assert sc.agreement([stage] * k, n_stages) == 1.0


@given(scale_and_ratings())
def test_agreement_lies_in_0_to_1_and_is_1_only_when_unanimous(case):
    n_stages, xs = case
    a = sc.agreement(xs, n_stages)
    assert 0.0 <= a <= 1.0
    assert (a == 1.0) == (len(set(xs)) == 1)
    assert sc.consensus(xs, n_stages).split == (a < sc.AGREEMENT_THRESHOLD)


@given(st.integers(2, 12), st.integers(1, 15))
def test_an_even_split_across_the_two_ends_is_no_agreement(n_stages, k):
    assert sc.agreement([0] * k + [n_stages - 1] * k, n_stages) == pytest.approx(0.0, abs=1e-12)


@given(scale_and_ratings())
def test_a_rating_at_the_mean_does_not_lower_agreement(case):
    # Only where the mean is a stage: a rating there leaves mu as it was and adds a zero term.
    n_stages, xs = case
    for _ in range(sum(xs) % len(xs)):  # lower the highest rating a stage at a time until the mean is a stage
        xs[xs.index(max(xs))] -= 1
    mean = sum(xs) // len(xs)
    assert sc.agreement(xs + [mean], n_stages) >= sc.agreement(xs, n_stages)


@given(scale_and_ratings())
def test_agreement_is_the_same_read_from_either_end_of_the_scale(case):
    n_stages, xs = case
    mirrored = [n_stages - 1 - x for x in xs]
    assert sc.agreement(mirrored, n_stages) == pytest.approx(sc.agreement(xs, n_stages), abs=1e-12)


@given(scale_and_ratings(), st.integers(1, 5))
def test_the_same_ratings_on_a_longer_scale_agree_at_least_as_much(case, more):
    # d grows, so each |X - mu| / d shrinks: this is how the measure knows the scale's length.
    n_stages, xs = case
    assert sc.agreement(xs, n_stages + more) >= sc.agreement(xs, n_stages) - 1e-12


# --- stage scores and "not applicable" ----------------------------------------------------------

@dataclass(frozen=True)
class NA:
    element_id: str
    current_stage: str | None = None
    target_stage: str | None = None
    not_applicable: bool = True


def scored_matrix(scores: list[float] | None, n_elements: int = 3, version: str = "1.0") -> Matrix:
    m = make_matrix(len(scores) if scores else 4, [n_elements], version)
    data = m.model_dump()
    if scores is not None:
        for s, score in zip(data["stages"], scores):
            s["score"] = score
    data["allow_not_applicable"] = True
    return Matrix.model_validate(data)


def test_a_stage_scores_its_score_when_the_matrix_gives_one():
    pct = scored_matrix([0, 20, 50, 100])
    assert [sc.stage_score(pct, f"s{i}") for i in range(4)] == [0, 20, 50, 100]
    assert [sc.stage_position(pct, f"s{i}") for i in range(4)] == [0, 1, 2, 3]
    s = Snapshot("2024/25", pct, [R("d0-e0", "s1", "s3"), R("d0-e1", "s2", "s2"), R("d0-e2", None)])
    d = sc.domain_score(s, "d0")
    # (20 + 50) / 2 = 35 over 2 of 3 rated; the gap is the mean of (100 - 20) and (50 - 50) = 40
    assert (d.score, d.n_rated, d.n_elements) == (35, 2, 3)
    assert sc.element_gaps(s) == {"d0-e0": 80, "d0-e1": 0}
    assert sc.domain_gaps(s)[0].gap == 40
    # Ordinal uses still count stages: positions 1 and 2.
    assert sc.element_positions(s) == {"d0-e0": 1, "d0-e1": 2, "d0-e2": None}


def test_a_three_level_model_starting_at_level_one_reports_on_its_own_scale():
    levels = scored_matrix([1, 2, 3])
    scale = sc.stage_scale(levels)
    assert (scale.low, scale.high, scale.words(), list(scale)) == (1, 3, "on a scale of 1 to 3",
                                                                     ["Stage 0", "Stage 1", "Stage 2"])
    s = Snapshot("2024/25", levels, [R("d0-e0", "s0"), R("d0-e1", "s1"), R("d0-e2", "s1")])
    assert sc.domain_score(s, "d0").score == pytest.approx(5 / 3)  # (1 + 2 + 2) / 3, not 0.67 on 0 to 2
    assert scale.locate(5 / 3) == (0, 1) and scale.locate(2.0) == (1, 1) and scale.locate(0.2) == (0, 0)
    assert sc.stage_scale(scored_matrix([0, 20, 50, 100])).words() == "on a scale of 0 to 100"
    assert sc.stage_scale(V1).words() == "on a scale of 0 to 2" and sc.stage_scale(V1).positional


def test_not_applicable_is_left_out_of_means_counts_and_gaps():
    m = scored_matrix(None, n_elements=4)
    s = Snapshot("2024/25", m, [R("d0-e0", "s1", "s3"), NA("d0-e1"), R("d0-e2", "s3", "s3"), R("d0-e3", None)])
    d = sc.domain_score(s, "d0")
    # (1 + 3) / 2 over 2 rated of the 3 elements that apply
    assert (d.score, d.n_rated, d.n_elements, d.n_not_applicable) == (2, 2, 3, 1)
    assert s.not_applicable == {"d0-e1"} and sc.element_scores(s)["d0-e1"] is None
    assert sc.domain_gaps(s)[0].n_elements == 3
    frame = sc.profile_frame(sc.profile(s))
    assert list(frame["n_elements"]) == [3]
    # A stage left on a rating marked not applicable is not counted either.
    odd = Snapshot("2024/25", m, [NA("d0-e0", "s3", "s3"), R("d0-e1", "s1")])
    assert sc.domain_score(odd, "d0").score == 1


def test_not_applicable_in_the_portfolio_and_the_distribution():
    m = scored_matrix(None, n_elements=2)
    snaps = {"U1": Snapshot("2024/25", m, [R("d0-e0", "s2"), NA("d0-e1")]),
             "U2": Snapshot("2024/25", m, [R("d0-e0", "s0"), R("d0-e1", "s2")])}
    p = sc.portfolio(snaps, [{"code": "U1"}, {"code": "U2"}])
    assert list(zip(p["code"], p["score"], p["n_rated"], p["n_elements"])) == [("U1", 2.0, 1, 1), ("U2", 1.0, 2, 2)]
    dist = sc.stage_distribution(snaps, m)
    # 4 element ratings: s0 once, s2 twice, one not applicable (left out: shares are of the 3 that apply)
    assert dict(zip(dist["stage_id"], dist["count"])) == {"s0": 1, "s1": 0, "s2": 2, "s3": 0, "not-rated": 0}
    assert dist["share"].sum() == pytest.approx(1.0) and dist.attrs["not_applicable"] == {"d0": 1}


def test_the_distribution_places_scored_stages_by_their_scores():
    pct = scored_matrix([0, 20, 50, 100], n_elements=1)
    snaps = {"U1": Snapshot("2024/25", pct, [R("d0-e0", "s2")]), "U2": Snapshot("2024/25", pct, [R("d0-e0", "s3")])}
    dist = sc.stage_distribution(snaps, pct).set_index("stage_id")
    assert [dist.at[s, "count"] for s in ("s0", "s1", "s2", "s3")] == [0, 0, 1, 1]


def test_matrices_scoring_their_stages_differently_are_not_compared():
    a, b = scored_matrix([0, 20, 50, 100]), scored_matrix(None, version="2.0")
    data = b.model_dump()
    data["supersedes"] = {"matrix": "gen", "version": "1.0", "elements": {}}
    b = Matrix.model_validate(data)
    t = sc.translation(a, b)
    assert not t.comparable and "scores its stages 0/20/50/100" in t.reason and "0/1/2/3" in t.reason


def test_a_split_gives_each_new_element_the_old_score_and_a_merge_the_mean():
    old = scored_matrix(None, n_elements=3)
    data = make_matrix(4, [3], "2.0").model_dump()
    data["domains"][0]["elements"] = [dict(e, id=i) for e, i in zip(data["domains"][0]["elements"],
                                                                     ("a", "b", "merged"))]
    data["supersedes"] = {"matrix": "gen", "version": "1.0",
                          "elements": {"d0-e0": ["a", "b"], "d0-e1": "merged", "d0-e2": "merged"}}
    new = Matrix.model_validate(data)
    t = sc.translation(old, new)
    assert t.sources == {"a": ("d0-e0",), "b": ("d0-e0",), "merged": ("d0-e1", "d0-e2")} and t.retired == ()
    before = Snapshot("2024/25", old, [R("d0-e0", "s1"), R("d0-e1", "s0"), R("d0-e2", "s3")])
    assert t.apply(sc.element_scores(before)) == {"a": 1, "b": 1, "merged": 1.5}

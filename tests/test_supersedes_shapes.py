"""Copying a year forward into a newer matrix version, and reading progress across it, through
every shape `supersedes` can take: a rename, a merge (two old elements -> one new), a split
(one old -> two new), a retired old element and a new one. On SQLite and PostgreSQL.

The expected values are worked by hand in the comments. Stages are positions 0..3.
"""
from __future__ import annotations

import math

import pytest
import yaml

from assessments import organisations as orgs
from assessments import progress
from assessments import ratings as assessing
from assessments.model import DRAFT
from assessments.records.tables import AssessmentRow, RatingRow
from assessments.store import Store
from assessments.values import DuplicateError, InputError
from matrix import load_text

STAGES = [("s0", "Not started"), ("s1", "Starting"), ("s2", "Developing"), ("s3", "Embedded")]


def _matrix(version: str, domains: dict, supersedes: dict | None = None, previous: str = "1") -> object:
    data = {
        "kind": "maturity-matrix", "id": "shapes", "version": version, "title": "Shapes matrix",
        "source": "Written for the test suite.",
        "stages": [{"id": i, "label": label, "meaning": f"{label}."} for i, label in STAGES],
        "domains": [{"id": did, "title": title, "summary": f"{title}.",
                     "elements": [{"id": eid, "title": etitle, "descriptors": {i: f"{etitle} {i}." for i, _ in STAGES},
                                   "evidence_prompts": ["What shows it?"]} for eid, etitle in elements]}
                    for did, (title, elements) in domains.items()],
    }
    if supersedes is not None:
        data["supersedes"] = {"matrix": "shapes", "version": previous, "elements": supersedes}
    return load_text(yaml.safe_dump(data, sort_keys=False), f"shapes-{version}.yaml")


V1 = _matrix("1", {
    "leadership": ("Leadership", [("gov", "Governance"), ("vis", "Shared vision")]),
    "data": ("Data", [("data-share", "Data sharing"), ("analytics", "Analytics")]),
    "records": ("Records", [("paper-records", "Paper records")]),
})
# gov + vis merge into gov-vision; data-share is renamed; analytics splits in two; paper-records
# (and its domain) is retired; population-health is new.
V2 = _matrix("2", {
    "leadership": ("Leadership", [("gov-vision", "Governance and vision"), ("population-health", "Population health")]),
    "data": ("Data", [("info-share", "Information sharing"), ("risk-strat", "Risk stratification"),
                      ("dashboards", "Dashboards")]),
}, {"gov": "gov-vision", "vis": "gov-vision", "data-share": "info-share", "analytics": ["risk-strat", "dashboards"]})
# One more step: gov-vision is renamed again, so a copy from V1 to V3 follows two mappings.
V3 = _matrix("3", {
    "leadership": ("Leadership", [("leading", "Leading together"), ("population-health", "Population health")]),
    "data": ("Data", [("info-share", "Information sharing"), ("risk-strat", "Risk stratification"),
                      ("dashboards", "Dashboards")]),
}, {"gov-vision": "leading"}, previous="2")

FIRST = {  # element: (current, target, confidence)
    "gov": ("s1", "s3", "high"),
    "vis": ("s2", "s2", "medium"),
    "data-share": ("s2", "s3", "low"),
    "analytics": ("s1", "s2", "medium"),
    "paper-records": ("s3", "s3", "high"),
}


@pytest.fixture
def store(db_url):
    s = Store(db_url, matrices=[V1, V2, V3])
    orgs.add_ics(s, "QZZ", "Test ICS", by="setup")
    orgs.add_pcn(s, "U90001", "Shapes PCN", ics_code="QZZ", list_size=20_000, practices=["Elm"], by="setup")
    yield s
    s.close()


def _first_year(store):
    a = assessing.create_assessment(store, "U90001", "2024/25", V1, by="Ann")
    for element, (current, target, confidence) in FIRST.items():
        assessing.save_rating(store, a.id, element, by="Ann", expected_version=0, current_stage=current,
                              target_stage=target, confidence=confidence, evidence="Board minutes")
    return assessing.agree_assessment(store, a.id, by="Ann", expected_version=a.version)


def _counts(store) -> tuple[int, int]:
    with store.read() as r:
        return len(r.rows(AssessmentRow)), len(r.rows(RatingRow))


def test_a_year_copied_across_a_merge_a_split_and_a_rename(store):
    first = _first_year(store)
    new = assessing.start_year(store, "U90001", "2025/26", V2, by="Ann")
    assert (new.matrix_id, new.matrix_version, new.status) == ("shapes", "2", DRAFT)
    got = assessing.ratings(store, new.id)
    # The new element starts unrated; the retired one is not carried.
    assert sorted(got) == ["dashboards", "gov-vision", "info-share", "risk-strat"]
    stages = {e: (r.current_stage, r.target_stage, r.confidence, r.evidence, r.not_applicable) for e, r in got.items()}
    assert stages == {
        # merge: the lower of s1 and s2, the lower target of s3 and s2, the lower confidence of high and medium
        "gov-vision": ("s1", "s2", "medium", None, False),
        "info-share": ("s2", "s3", "low", None, False),  # rename: as it was
        "risk-strat": ("s1", "s2", "medium", None, False),  # split: each part gets the old rating
        "dashboards": ("s1", "s2", "medium", None, False),
    }
    merged = got["gov-vision"].note
    assert "merged from 2 elements of 2024/25 (agreed)" in merged
    assert "'Governance' (Starting)" in merged and "'Shared vision' (Developing)" in merged
    assert "The lower of their stages is kept" in merged
    assert "'Data sharing'" in got["info-share"].note
    assert "'Analytics', now split into 2 elements" in got["risk-strat"].note
    assert all("review the stage and add this year's evidence" in r.note for r in got.values())
    # Last year's assessment is untouched.
    assert {e: (r.current_stage, r.target_stage) for e, r in assessing.ratings(store, first.id).items()} == {
        e: v[:2] for e, v in FIRST.items()}


def test_progress_reads_right_across_the_versions(store):
    _first_year(store)
    new = assessing.start_year(store, "U90001", "2025/26", V2, by="Ann")
    got = assessing.ratings(store, new.id)
    for element, stage in (("gov-vision", "s2"), ("info-share", "s3"), ("risk-strat", "s2")):
        assessing.save_rating(store, new.id, element, by="Ann", expected_version=got[element].version,
                              current_stage=stage)
    assessing.save_rating(store, new.id, "population-health", by="Ann", expected_version=0, current_stage="s1")

    p = progress.pcn_progress(store, "U90001")
    assert p.years == ("2024/25", "2025/26") and p.matrix_key == ("shapes", "2")
    s = p.series.set_index(["year", "domain_id"])
    # 2024/25 in the new matrix's terms: gov-vision is the mean of gov (1) and vis (2) = 1.5;
    # population-health has no counterpart. Leadership = 1.5 over 1 of 2 elements.
    # Data: info-share 2 (from data-share), risk-strat 1 and dashboards 1 (both from analytics) = 4/3.
    # Targets: gov-vision mean(3, 2) = 2.5; data: (3 + 2 + 2) / 3 = 7/3.
    # 2025/26: leadership (2 + 1) / 2 = 1.5; data (3 + 2 + 1) / 3 = 2. Targets as carried: 2; 7/3.
    expected = {
        ("2024/25", "leadership"): (1.5, 2.5, 1, 2, "1 of 2 elements have a counterpart in 2024/25"),
        ("2024/25", "data"): (4 / 3, 7 / 3, 3, 3, ""),
        ("2025/26", "leadership"): (1.5, 2.0, 2, 2, ""),
        ("2025/26", "data"): (2.0, 7 / 3, 3, 3, ""),
    }
    for key, (score, target, n_rated, n_elements, reason) in expected.items():
        row = s.loc[key]
        assert math.isclose(row["score"], score) and math.isclose(row["target"], target), key
        assert (row["n_rated"], row["n_elements"], bool(row["comparable"]), row["reason"]) == (
            n_rated, n_elements, True, reason), key
    assert set(p.series["domain_id"]) == {"leadership", "data"}  # the retired domain is not a series

    c = p.comparison("2025/26")
    assert c.comparable
    changes = {e.element_id: (e.before, e.after, e.change, e.from_ids, e.comparable) for e in c.elements}
    assert changes == {
        "gov-vision": (1.5, 2.0, 0.5, ("gov", "vis"), True),
        "population-health": (None, 1.0, None, (), False),
        "info-share": (2.0, 3.0, 1.0, ("data-share",), True),
        "risk-strat": (1.0, 2.0, 1.0, ("analytics",), True),
        "dashboards": (1.0, 1.0, 0.0, ("analytics",), True),
        "paper-records": (3.0, None, None, ("paper-records",), False),  # retired, shown with its old stage
    }
    domains = {d.domain_id: (d.before, d.after, d.change, d.n_compared, d.n_elements) for d in c.domains}
    # Like for like: leadership moved +0.5 (gov-vision only), though its mean stayed at 1.5;
    # data moved (1 + 1 + 0) / 3.
    assert domains["leadership"] == (1.5, 1.5, 0.5, 1, 2)
    before, after, change, n, m = domains["data"]
    assert (math.isclose(before, 4 / 3), after, math.isclose(change, 2 / 3), n, m) == (True, 2.0, True, 3, 3)


def test_a_copy_follows_every_step_of_a_chain(store):
    first = _first_year(store)
    new = assessing.start_year(store, "U90001", "2026/27", V3, by="Ann", copy_from=first.id)
    got = assessing.ratings(store, new.id)
    # gov + vis -> gov-vision (V2) -> leading (V3): still the lower stage.
    assert (got["leading"].current_stage, got["leading"].target_stage) == ("s1", "s2")
    assert sorted(got) == ["dashboards", "info-share", "leading", "risk-strat"]
    # Without copy_from the latest earlier year of the same matrix (any version) is found.
    other = assessing.start_year(store, "U90001", "2027/28", V3, by="Ann")
    assert sorted(assessing.ratings(store, other.id)) == ["dashboards", "info-share", "leading", "risk-strat"]


def test_a_failed_copy_writes_nothing_and_says_why(store, monkeypatch):
    first = _first_year(store)
    before = _counts(store)
    calls = []
    real = assessing._insert_rating

    def fail_on_third(uow, assessment_id, element_id, values):
        calls.append(element_id)
        if len(calls) == 3:
            raise InputError(f"the rating of {element_id} could not be stored")
        return real(uow, assessment_id, element_id, values)

    monkeypatch.setattr(assessing, "_insert_rating", fail_on_third)
    with pytest.raises(InputError, match="could not be stored"):
        assessing.start_year(store, "U90001", "2025/26", V2, by="Ann", copy_from=first.id)
    assert _counts(store) == before  # neither the assessment nor the first two ratings
    monkeypatch.undo()
    assessing.start_year(store, "U90001", "2025/26", V2, by="Ann", copy_from=first.id)
    with pytest.raises(DuplicateError, match="already has a draft 2025/26 assessment against shapes"):
        assessing.start_year(store, "U90001", "2025/26", V2, by="Ann", copy_from=first.id)


def test_a_split_is_written_as_a_list_and_checked():
    from matrix import MatrixFileError

    assert V2.supersedes.elements["analytics"] == ("risk-strat", "dashboards")
    assert V2.supersedes.elements["gov"] == ("gov-vision",)
    text = yaml.safe_dump({**yaml.safe_load(yaml.safe_dump(V2.model_dump(exclude_defaults=True))),
                           "supersedes": {"matrix": "shapes", "version": "1",
                                          "elements": {"analytics": ["risk-strat", "nowhere", "risk-strat"]}}})
    with pytest.raises(MatrixFileError) as caught:
        load_text(text, "bad.yaml")
    messages = [p.message for p in caught.value.problems]
    assert "maps 'analytics' to 'nowhere', which is not an element of this matrix" in messages
    assert "names 'risk-strat' twice for 'analytics'" in messages

"""The loader: shipped files load, and broken files give the right message on the right line."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matrix import Matrix, MatrixFileError, Pathway, discover, load_file, load_text
from matrix.loader import PACKAGE_DIR

ROOT = Path(__file__).resolve().parents[1]
GOOD = (ROOT / "tests" / "fixtures" / "small_matrix.yaml").read_text()

PATHWAY = """\
kind: development-pathway
id: test-pathway
version: "1"
title: Test pathway
source: Tests.
steps:
  - number: 1
    id: start
    title: Start
    purpose: Begin.
    checklist:
      - id: agreed
        text: Membership agreed.
  - number: 2
    id: next
    title: Next
    purpose: Carry on.
    checklist:
      - id: planned
        text: Plan written.
"""


def shipped_files() -> list[Path]:
    return sorted(PACKAGE_DIR.glob("*.yaml"))


def test_project_ships_the_four_reference_files():
    names = {p.name for p in shipped_files()}
    assert {"pcn_maturity_matrix.yaml", "development_pathway.yaml", "service_specifications.yaml",
            "development_funding.yaml"} <= names


@pytest.mark.parametrize("path", shipped_files(), ids=lambda p: p.name)
def test_every_shipped_yaml_file_loads(path):
    load_file(path)


def test_shipped_nhs_matrix_has_the_expected_shape():
    m = load_file(PACKAGE_DIR / "pcn_maturity_matrix.yaml")
    assert isinstance(m, Matrix)
    assert [s.label for s in m.stages] == ["Foundation", "Step 1", "Step 2", "Step 3"]
    assert [d.title for d in m.domains] == [
        "Leadership, planning and partnerships",
        "Use of data and population health management",
        "Integrating care",
        "Managing resources",
        "Working with people and communities",
    ]
    for d in m.domains:
        assert 3 <= len(d.elements) <= 6, d.id
        for e in d.elements:
            assert set(e.descriptors) == set(m.stage_ids)
            assert 2 <= len(e.evidence_prompts) <= 3, e.id
    assert "interpretation" in m.source.lower()


def test_shipped_pathway_has_six_steps():
    p = load_file(PACKAGE_DIR / "development_pathway.yaml")
    assert isinstance(p, Pathway)
    assert [s.number for s in p.steps] == [1, 2, 3, 4, 5, 6]
    assert all(s.checklist and s.outputs for s in p.steps)


def test_shipped_specifications_and_funding():
    specs = load_file(PACKAGE_DIR / "service_specifications.yaml")
    assert len(specs.specifications) == 7
    assert any(r.from_year == "2019/20" for r in specs.additional_roles)
    funding = load_file(PACKAGE_DIR / "development_funding.yaml")
    assert any(c.eligible for c in funding.categories)
    assert any(not c.eligible for c in funding.categories)


OLD_NHS = re.compile(r"\b(CCGs?|STPs?|clinical commissioning groups?)\b|2019/20|2020/21", re.IGNORECASE)


def _matrix_texts(m: Matrix) -> list[str]:
    return [m.description or "", *(s.meaning for s in m.stages),
            *(t for d in m.domains for t in (d.title, d.summary)),
            *(t for _, e in m.elements() for t in (e.title, *e.descriptors.values(), *e.evidence_prompts))]


def test_the_newest_national_matrix_speaks_of_todays_nhs_and_supersedes_2019_20():
    catalog = discover([PACKAGE_DIR])
    new, old = catalog.latest_matrix("nhse-pcn-maturity"), catalog.matrix("nhse-pcn-maturity", "2019/20")
    assert new.version == "2026/27" and (new.supersedes.matrix, new.supersedes.version) == old.key
    assert new.element_ids() == old.element_ids() and new.stage_ids == old.stage_ids
    assert [t for t in _matrix_texts(old) if OLD_NHS.search(t)]  # the old wording does speak of CCGs
    assert [t for t in _matrix_texts(new) if OLD_NHS.search(t)] == []
    assert "known to the ICB" in new.element("lead-clinical-director").descriptors["foundation"]
    # Years on either version compare element by element, through `supersedes`.
    from assessments.scoring import Snapshot, compare

    def snap(year, m, stage):
        return Snapshot(year, m, [type("R", (), dict(element_id=e, current_stage=stage, target_stage=None,
                                                       not_applicable=False))() for e in m.element_ids()], "agreed")

    c = compare(snap("2025/26", old, "step-1"), snap("2026/27", new, "step-2"), catalog.matrices)
    assert c.comparable


def test_the_newest_pathway_and_the_funding_rules_speak_of_icbs():
    catalog = discover([PACKAGE_DIR])
    new, old = catalog.default_pathway(), catalog.pathways[("pcn-development-support", "2019/20")]
    assert new.version == "2026/27" and new.id == old.id
    assert [(s.number, s.id, [i.id for i in s.checklist]) for s in new.steps] == [
        (s.number, s.id, [i.id for i in s.checklist]) for s in old.steps]
    texts = [t for s in new.steps for t in (s.title, s.purpose, *(i.text for i in s.checklist), *s.outputs)]
    assert [t for t in texts if OLD_NHS.search(t)] == []
    assert any("ICB" in t for t in texts)
    funding = catalog.default_funding()
    [duplicate] = [c for c in funding.categories if c.id == "duplicate-funding"]
    assert duplicate.title == "Already funded by the ICB or another partner" and "ICB" in funding.summary


def test_the_pages_and_the_pdf_speak_of_icbs_not_ccgs_or_stps():
    root = PACKAGE_DIR.parent
    files = [root / "README.md", *sorted((root / "views").glob("*.py")), *sorted((root / "components").glob("*.py")),
             *sorted((root / "reports").glob("*.py"))]
    found = [(f.name, m.group(0)) for f in files for m in re.finditer(r"\b(CCGs?|STPs?)\b", f.read_text())]
    assert found == []


def test_good_fixture_loads_with_lines_irrelevant():
    m = load_text(GOOD, "small.yaml")
    assert m.element_ids() == ["governance", "vision", "data-sharing"]
    assert m.stage_index("embedded") == 2


def _replace(old: str, new: str, text: str = GOOD) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# (case id, broken text, expected line, expected field path, words the message must contain)
BROKEN = [
    ("yaml-syntax-unclosed-bracket", _replace('version: "1.0"', 'version: ["1.0"'), 4, None, ["YAML syntax error"]),
    ("yaml-syntax-bad-indent", _replace("    label: Developing", "   label: Developing"), 11, None, ["YAML syntax error"]),
    ("tab-indentation", _replace("    label: Starting", "\tlabel: Starting"), 8, None, ["YAML syntax error"]),
    ("empty-file", "", 1, "(top level)", ["empty"]),
    ("only-comments", "# nothing here\n", 1, "(top level)", ["empty"]),
    ("list-at-top-level", "- kind: maturity-matrix\n- id: x\n", 1, "(top level)", ["mapping", "list"]),
    ("scalar-at-top-level", "just some words\n", 1, "(top level)", ["mapping"]),
    ("missing-kind", _replace("kind: maturity-matrix\n", ""), 1, "kind", ["missing", "kind"]),
    ("unknown-kind", _replace("kind: maturity-matrix", "kind: maturity-matrx"), 1, "kind", ["unknown kind"]),
    ("missing-descriptor", _replace("          developing: All practices share data.\n", ""), 43,
     "domains[1].elements[0].descriptors", ["data-sharing", "no descriptor", "developing"]),
    ("unknown-stage-in-descriptors", _replace("          embedded: Partners share in decisions.",
                                              "          embedded: Partners share in decisions.\n          mature: Extra."),
     27, "domains[0].elements[0].descriptors.mature", ["unknown stage", "mature"]),
    ("duplicate-element-id", _replace("      - id: vision", "      - id: governance"), 29,
     "domains[0].elements[1].id", ["duplicate element id", "governance"]),
    ("duplicate-stage-id", _replace("  - id: embedded", "  - id: developing"), 13, "stages[2].id", ["duplicate stage id"]),
    ("duplicate-domain-id", _replace("  - id: data\n", "  - id: leadership\n"), 37, "domains[1].id", ["duplicate domain id"]),
    ("duplicate-yaml-key", _replace("    title: Leadership\n", "    title: Leadership\n    title: Leading\n"), 19,
     "domains[0].title", ["duplicate key", "line 18"]),
    ("wrong-type-list-for-mapping", _replace(
        "        descriptors:\n          starting: A network agreement is signed.\n          developing: Decisions are made together and recorded.\n          embedded: Partners share in decisions.\n",
        "        descriptors:\n          - A network agreement is signed.\n"), 23, "domains[0].elements[0].descriptors",
     ["mapping", "list"]),
    ("wrong-type-mapping-for-list", _replace("        evidence_prompts:\n          - Is the network agreement signed?",
                                             "        evidence_prompts:\n          first: Is it signed?"), 27,
     "domains[0].elements[0].evidence_prompts", ["list", "mapping"]),
    ("number-where-text-belongs", _replace("    label: Embedded", "    label: 3"), 14, "stages[2].label", ["number", "quotes"]),
    ("missing-title", _replace("        title: Governance\n", ""), 21, "domains[0].elements[0]", ["missing required field 'title'"]),
    ("unknown-field-typo", _replace("        evidence_prompts:", "        evidence_prompt:"), 27,
     "domains[0].elements[0].evidence_prompt", ["unknown field", "evidence_prompts"]),
    ("bad-id-format", _replace("      - id: governance", "      - id: Governance Board"), 21,
     "domains[0].elements[0].id", ["not a valid id"]),
    ("empty-elements", _replace(
        "    elements:\n      - id: data-sharing", "    elements: []\n    unused:\n      - id: data-sharing"), 40,
     "domains[1].elements", ["at least 1"]),
    ("one-stage-only", GOOD.split("  - id: developing")[0] + "domains: []\n", 6, "stages", ["at least 2"]),
    ("supersedes-unknown-target", GOOD + "supersedes:\n  matrix: example-matrix\n  version: \"0.9\"\n  elements:\n    old-gov: governence\n",
     53, "supersedes.elements.old-gov", ["governence", "not an element"]),
    ("supersedes-itself", GOOD + "supersedes:\n  matrix: example-matrix\n  version: \"1.0\"\n", 51, "supersedes.version",
     ["own version"]),
    ("supersedes-not-a-mapping", GOOD + "supersedes: example-matrix 0.9\n", 49, "supersedes", ["mapping", "text"]),
    ("pathway-step-gap", _replace("  - number: 2", "  - number: 3", PATHWAY), 14, "steps[1].number", ["expected 2, found 3"]),
    ("pathway-duplicate-checklist-id", _replace("      - id: planned", "      - id: agreed", PATHWAY), 19,
     "steps[1].checklist[0].id", ["duplicate checklist id"]),
    ("not-utf8", b"kind: maturity-matrix\ntitle: \xff\xfe\n", 2, "(file)", ["UTF-8", "0xFF", "save the file as UTF-8"]),
    ("latin-1", GOOD.replace("title: Example matrix", "title: Caf\u00e9 matrix").encode("latin-1"), 4, "(file)",
     ["not UTF-8", "'\u00e9'", "Latin-1"]),
    ("utf-16", GOOD.encode("utf-16"), 1, "(file)", ["UTF-16", "save it as UTF-8"]),
    ("nested-45-deep", "kind: maturity-matrix\nx:\n" + "".join("  " * i + "- \n" for i in range(1, 46)), 42, "(file)",
     ["more than 40 levels"]),
    ("nested-500-deep", "kind: maturity-matrix\nx: " + "[" * 500 + "]" * 500 + "\n", 2, "(file)",
     ["more than 40 levels"]),
    # Ids: 200 characters at most, said in words with the length found.
    ("id-too-long", _replace("      - id: vision", "      - id: " + "Activity_" * 23), 29, "domains[0].elements[1].id",
     ["is 207 characters long; an id may have at most 200"]),
    ("id-starting-with-a-dot", _replace("      - id: vision", "      - id: .vision"), 29, "domains[0].elements[1].id",
     ["not a valid id", "letters, digits, '-', '_' and '.'"]),
    # YAML 1.2 booleans: true is a boolean (not text); quoted "yes" is not a boolean.
    ("true-where-text-belongs", _replace("    label: Embedded", "    label: true"), 14, "stages[2].label",
     ["expected text, found true", "quotes"]),
    ("yes-where-a-boolean-belongs", _replace("        title: Governance", "        title: Governance\n"
                                             "        allow_not_applicable: yes"), 23,
     "domains[0].elements[0].allow_not_applicable", ["expected true or false, found the text 'yes'"]),
    ("duplicate-anchor", _replace("    label: Developing", "    label: &l Developing").replace(
        "    label: Embedded", "    label: &l Embedded"), 14, "(file)",
     ["the anchor &l is defined twice (first on line 11)"]),
    # Stage scores: numbers, all or none, rising.
    ("score-in-quotes", _replace("    meaning: First steps taken.", '    meaning: First steps taken.\n    score: "20"'), 10,
     "stages[0].score", ["expected a number (without quotes), found the text '20'"]),
    ("score-for-some-stages-only", _replace("    meaning: First steps taken.", "    meaning: First steps taken.\n"
                                            "    score: 1"), 11, "stages[1].score",
     ["stage 'developing' has no score", "give every stage a score, or none"]),
    ("scores-not-rising", _replace("    meaning: First steps taken.", "    meaning: First steps taken.\n    score: 0")
     .replace("    meaning: Working in most places.", "    meaning: Working in most places.\n    score: 50")
     .replace("    meaning: How things are done everywhere.", "    meaning: How things are done everywhere.\n"
              "    score: 20"), 18, "stages[2].score", ["scores 20, not more than 'developing' before it (50)"]),
    ("supersedes-split-unknown-part", GOOD + "supersedes:\n  matrix: example-matrix\n  version: \"0.9\"\n  elements:\n"
     "    old-gov: [governance, nowhere]\n", 53, "supersedes.elements.old-gov[1]", ["'nowhere'", "not an element"]),
    ("supersedes-mapping-as-target", GOOD + "supersedes:\n  matrix: example-matrix\n  version: \"0.9\"\n  elements:\n"
     "    old-gov: {a: b}\n", 53, "supersedes.elements.old-gov", ["an element id or a list of them", "mapping"]),
]


@pytest.mark.parametrize("case,text,line,path,words", BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_file_gives_expected_message(case, text, line, path, words):
    with pytest.raises(MatrixFileError) as info:
        load_text(text, "broken.yaml")
    problems = info.value.problems
    if path is not None:
        matching = [p for p in problems if p.path == path]
        assert matching, f"no problem at {path}: {[str(p) for p in problems]}"
    else:
        matching = problems
    problem = matching[0]
    assert problem.file == "broken.yaml"
    assert problem.line == line, str(problem)
    for word in words:
        assert word.lower() in problem.message.lower(), str(problem)
    text_form = str(problem)
    assert text_form.startswith(f"broken.yaml:{line}:" if line else "broken.yaml:")


def test_there_are_at_least_fifteen_broken_cases():
    assert len({c[0] for c in BROKEN}) >= 15


def test_all_problems_are_reported_together():
    text = _replace("      - id: vision", "      - id: governance")
    text = _replace("          developing: All practices share data.\n", "", text)
    with pytest.raises(MatrixFileError) as info:
        load_text(text, "two.yaml")
    assert len(info.value.problems) == 2


def test_alias_bomb_is_cheap_and_reported(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
    )
    with pytest.raises(MatrixFileError) as info:
        load_text(bomb, "bomb.yaml")
    assert "more than 50,000 values" in str(info.value)


def test_discover_keeps_valid_files_and_lists_invalid_ones(tmp_path):
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text(_replace("          developing: All practices share data.\n", ""))
    (tmp_path / "z-copy.yml").write_text(GOOD)  # same id and version as good.yaml
    catalog = discover([tmp_path])
    assert list(catalog.matrices) == [("example-matrix", "1.0")]
    assert set(Path(f).name for f in catalog.invalid) == {"bad.yaml", "z-copy.yml"}
    assert "already defined" in catalog.invalid[str(tmp_path / "z-copy.yml")][0].message


def test_discover_checks_supersedes_against_older_matrix_when_present(tmp_path):
    (tmp_path / "old.yaml").write_text(GOOD)
    newer = _replace('version: "1.0"', 'version: "2.0"') + (
        "supersedes:\n  matrix: example-matrix\n  version: \"1.0\"\n  elements:\n    governance: governance\n    nonsense: vision\n"
    )
    (tmp_path / "new.yaml").write_text(newer)
    catalog = discover([tmp_path])
    assert ("example-matrix", "2.0") not in catalog.matrices
    [problem] = catalog.invalid[str(tmp_path / "new.yaml")]
    assert problem.path == "supersedes.elements.nonsense" and problem.line == 54


def test_user_folder_from_environment(tmp_path, monkeypatch):
    (tmp_path / "local.yaml").write_text(_replace("id: example-matrix", "id: local-matrix"))
    monkeypatch.setenv("PCN_MATRIX_DIR", str(tmp_path))
    catalog = discover()
    assert ("local-matrix", "1.0") in catalog.matrices
    assert ("nhse-pcn-maturity", "2019/20") in catalog.matrices


# The loader must turn anything at all into a document or its own error: never another exception.
yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)
near_valid = st.sampled_from(["kind", "id", "version", "title", "source", "stages", "domains", "steps", "supersedes",
                              "descriptors", "elements", "label", "meaning"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(near_valid, yaml_values, max_size=8), st.sampled_from(list(("maturity-matrix", "development-pathway", None))))
def test_loader_never_crashes_on_arbitrary_documents(doc, kind):
    if kind:
        doc = {**doc, "kind": kind}
    _load_or_own_error(yaml.safe_dump(doc, allow_unicode=True))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.binary(max_size=200))
def test_loader_never_crashes_on_arbitrary_text(text):
    _load_or_own_error(text)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=len(GOOD) - 1), st.integers(min_value=1, max_value=40), st.text(max_size=8))
def test_loader_never_crashes_on_mutated_matrix(start, length, insert):
    _load_or_own_error(GOOD[:start] + insert + GOOD[start + length:])


PYDANTIC_WORDS = ("Input should", "String should", "List should", "should be a valid", "should have at")


def _load_or_own_error(text):
    try:
        doc = load_text(text, "fuzz.yaml")
    except MatrixFileError as exc:
        assert exc.problems and all(p.file == "fuzz.yaml" and p.message for p in exc.problems)
        # Every message in plain words: none of pydantic's own phrasing gets through.
        assert not [p.message for p in exc.problems if any(w in p.message for w in PYDANTIC_WORDS)]
    else:
        assert doc.kind in ("maturity-matrix", "development-pathway", "service-specifications", "development-funding")


def test_cli_validate_exit_codes(tmp_path):
    ok = subprocess.run([sys.executable, "cli.py", "validate", *map(str, shipped_files())], cwd=ROOT,
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = tmp_path / "pcn_maturity_matrix.yaml"
    source = (PACKAGE_DIR / "pcn_maturity_matrix.yaml").read_text().splitlines(keepends=True)
    # Delete the first step-2 descriptor line (a one-line descriptor) and expect its element named.
    index = next(i for i, line in enumerate(source) if line.strip().startswith("step-2:") and len(line.strip()) > 10)
    del source[index]
    broken.write_text("".join(source))
    bad = subprocess.run([sys.executable, "cli.py", "validate", str(broken)], cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 1
    first_element = load_file(PACKAGE_DIR / "pcn_maturity_matrix.yaml").elements()
    lines = bad.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{broken}:")
    assert "no descriptor for stage 'step-2'" in lines[0]
    assert any(f"'{e.id}'" in lines[0] for _, e in first_element)


def test_versions_compare_by_their_numeric_parts():
    from matrix import version_key

    given = ["10.0.0", "4.3.1", "2.1.1", "2.1", "2024/25", "2019/20", "v10", "V2", "1.0"]
    assert sorted(given, key=version_key) == ["1.0", "2.1", "2.1.1", "4.3.1", "10.0.0", "2019/20", "2024/25",
                                              "V2", "v10"]
    assert version_key("1.0") < version_key("1.a")  # a number comes before letters at the same place


def test_the_latest_matrix_is_the_highest_version_by_number_not_by_text(tmp_path):
    for version in ("4.3.1", "10.0.0", "9.9"):
        (tmp_path / f"m-{version}.yaml").write_text(_replace('version: "1.0"', f'version: "{version}"'))
    catalog = discover([tmp_path])
    assert len(catalog.matrices) == 3 and catalog.latest_matrix("example-matrix").version == "10.0.0"


def test_no_yes_on_and_off_are_text_as_yaml_1_2_says():
    text = _replace("    label: Embedded", "    label: No").replace("    label: Starting", "    label: On")
    text = text.replace("        title: Governance", "        title: Yes")
    m = load_text(text, "words.yaml")
    assert [s.label for s in m.stages] == ["On", "Developing", "No"] and m.element("governance").title == "Yes"
    flagged = _replace("        title: Governance", "        title: Governance\n        allow_not_applicable: TRUE")
    assert load_text(flagged, "flag.yaml").allows_not_applicable("governance") is True


def test_ids_keep_their_case_and_may_hold_capitals_dots_and_underscores():
    guid = "3F2504E0-4F89-11D3-9A0C-0305E82C3301"
    long = "Activity_" + "x" * 191  # 200 characters
    text = _replace("      - id: vision", f"      - id: {guid}").replace("      - id: data-sharing", f"      - id: {long}")
    text = text.replace("  - id: leadership", "  - id: G-SM").replace("  - id: data\n", "  - id: g-sm.v2_0\n")
    m = load_text(text, "ids.yaml")
    assert m.element_ids() == ["governance", guid, long] and [d.id for d in m.domains] == ["G-SM", "g-sm.v2_0"]
    # Case is kept: ids differing only in case are different ids.
    two = _replace("      - id: vision", "      - id: GOVERNANCE")
    assert load_text(two, "case.yaml").element_ids() == ["governance", "GOVERNANCE", "data-sharing"]


def test_stage_scores_and_not_applicable_are_read():
    text = GOOD
    for stage, score in (("First steps taken.", 0), ("Working in most places.", 20), ("How things are done everywhere.", 100)):
        text = _replace(f"    meaning: {stage}", f"    meaning: {stage}\n    score: {score}", text)
    text = _replace("title: Example matrix", "title: Example matrix\nallow_not_applicable: true", text)
    text = _replace("        title: Shared vision", "        title: Shared vision\n        allow_not_applicable: false", text)
    m = load_text(text, "scored.yaml")
    assert m.stage_scores == [0, 20, 100]
    assert [m.allows_not_applicable(e) for e in m.element_ids()] == [True, False, True]
    plain = load_text(GOOD, "plain.yaml")
    assert plain.stage_scores == [0, 1, 2] and not any(plain.allows_not_applicable(e) for e in plain.element_ids())

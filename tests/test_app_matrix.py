"""AppTest: the app and its matrix pages run, and show what the YAML files say."""
from __future__ import annotations

from pathlib import Path

from app_fixtures import shown_tables
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
GOOD = (ROOT / "tests" / "fixtures" / "small_matrix.yaml").read_text()


def run_page(page: str | None = None) -> AppTest:
    # The matrix pages need no data, but the app opens the store on every page.
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_home_shows_every_domain_and_six_steps():
    at = run_page()
    [domains] = [w for w in at.get("button_group") if w.label == "Domain"]
    tab_labels = list(domains.options)
    for title in ("Leadership, planning and partnerships", "Use of data and population health management",
                  "Integrating care", "Managing resources", "Working with people and communities"):
        assert title in tab_labels
    steps = [e.label for e in at.expander if e.label.startswith("Step ")]
    assert len(steps) == 6 and steps[0].startswith("Step 1")


def test_matrices_page_lists_invalid_user_file_and_keeps_working(tmp_path, monkeypatch):
    (tmp_path / "broken.yaml").write_text(GOOD.replace("          developing: All practices share data.\n", ""))
    (tmp_path / "local.yaml").write_text(GOOD)
    monkeypatch.setenv("PCN_MATRIX_DIR", str(tmp_path))
    at = run_page("views/matrices.py")
    errors = " ".join(e.value for e in at.error).replace("\\", "")  # shown escaped (plain())
    assert "broken.yaml" in errors
    tables = shown_tables(at)
    listing = tables[0]
    assert set(listing["Id"]) >= {"nhse-pcn-maturity", "example-matrix"}
    problems = tables[1]
    assert list(problems["Line"]) == ["43"]
    assert "no descriptor for stage 'developing'" in problems["Problem"][0]
    # The home page still works with the valid matrices and offers both.
    home = run_page()
    assert {o for o in home.selectbox[0].options} >= {"Example matrix (1.0)"}


def test_text_from_files_is_shown_literally(tmp_path, monkeypatch):
    tricky = GOOD.replace("title: Example matrix", "title: Example <b>matrix</b>").replace(
        "summary: How the network is led.", 'summary: "**not bold** [link](http://example.com) $x$"')
    (tmp_path / "tricky.yaml").write_text(tricky.replace("id: example-matrix", "id: tricky-matrix"))
    monkeypatch.setenv("PCN_MATRIX_DIR", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.run()
    at.selectbox[0].select_index(at.selectbox[0].options.index("Example <b>matrix</b> (1.0)")).run()
    assert not at.exception
    summary = [m.value for m in at.markdown if "not bold" in m.value]
    # Not even the bare address becomes a link: an invisible word joiner follows its "http:".
    assert summary == ["\\*\\*not bold\\*\\* \\[link\\](http:\u2060//example.com) \\$x\\$"]

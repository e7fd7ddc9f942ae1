"""The workshop figures: a spider per participant beside the group median (initials until names
are revealed), a participant's own profile against the group's for a phone, and large text."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import plotly.graph_objects as go

from assessments import organisations as orgs
from assessments import workshop as ws
from assessments.store import Store
from figures import charts
from figures import workshop as fw
from matrix import load_matrix

SHIPPED = load_matrix(Path(__file__).resolve().parent.parent / "matrix" / "pcn_maturity_matrix.yaml")
PEOPLE = ["Asha Patel", "Ben Okafor", "Anil Prasad", "<b>Eve</b>"]


@pytest.fixture
def room(tmp_path):
    """A workshop on the shipped matrix: four people rated, a fifth joined and rated nothing."""
    store = Store(f"sqlite:///{tmp_path / 'w.db'}", matrices=[SHIPPED])
    orgs.add_ics(store, "QZZ", "Test ICS", by="setup")
    orgs.add_pcn(store, "U90001", "PCN U90001", ics_code="QZZ", list_size=10_000, by="setup")
    w = ws.open_workshop(store, "U90001", "2024/25", SHIPPED, by="Fran")
    tokens = {}
    for i, name in enumerate(PEOPLE + ["Quiet Person"]):
        tokens[name] = ws.join(store, w.code, name, "GP")[1].token
        if name == "Quiet Person":
            continue
        for j, e in enumerate(SHIPPED.element_ids()):
            if name == "Ben Okafor" and e in {x.id for x in SHIPPED.domains[-1].elements}:
                continue  # Ben leaves the last domain unrated
            ws.rate(store, tokens[name], e, SHIPPED.stage_ids[(i + j) % len(SHIPPED.stage_ids)])
    yield store, ws.summary(store, w.id), tokens
    store.close()


def _titles(fig) -> list[str]:
    return [a.text for a in fig.layout.annotations if a.text]


def _font_sizes(node) -> list[float]:
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("font") and isinstance(value, dict) and "size" in value:
                out.append(value["size"])
            out += _font_sizes(value)
    elif isinstance(node, list):
        for item in node:
            out += _font_sizes(item)
    return out


def test_initials_and_numbering_of_shared_initials(room):
    _store, s, _tokens = room
    assert fw.initials("Asha Patel") == "AP"
    assert fw.initials("Dr Sam O'Neil-Jones") == "DSO"
    assert fw.initials("  ") == "?"
    labels = fw.participant_labels(s, reveal_names=False)
    assert [labels[n] for n in PEOPLE] == ["AP 1", "BO", "AP 2", "BEB"]
    assert fw.participant_labels(s, reveal_names=True)["Ben Okafor"] == "Ben Okafor"


def test_a_spider_per_participant_who_rated_and_the_median_strong(room):
    _store, s, _tokens = room
    fig = fw.participant_spiders(s, reveal_names=False)
    polars = [k for k in fig.layout.to_plotly_json() if k.startswith("polar")]
    assert len(polars) == 1 + len(PEOPLE)  # the quiet person has no spider
    assert _titles(fig) == ["AP 1", "BO", "AP 2", "BEB"]
    median = next(t for t in fig.data if t.name == "Group median")
    assert median.subplot == "polar"
    assert list(median.r[:-1]) == [d.score for d in s.median_profile]
    people = [t for t in fig.data if t.name == "Each participant"]
    assert len(people) == len(PEOPLE)
    assert median.line.width > max(t.line.width for t in people)
    # Ben's spider has a gap where he rated nothing, not a zero.
    ben = people[1]
    assert ben.r[len(s.median_profile) - 1] is None
    # Names appear nowhere in the figure before results are revealed, hover text included.
    text = json.dumps(fig.to_plotly_json(), default=str)
    for name in PEOPLE:
        assert name not in text and "Patel" not in text


def test_the_spiders_pass_plotlys_validation_and_lie_on_one_grid(room):
    # participant_spiders skips plotly's validation for speed: the same figure, validated, must be
    # accepted and unchanged, and each spider must sit in its own cell below the median's.
    _store, s, _tokens = room
    for reveal, large in ((False, False), (True, True)):
        fig = fw.participant_spiders(s, reveal_names=reveal, large=large)
        checked = go.Figure(fig.to_dict())
        assert json.dumps(checked.to_plotly_json(), sort_keys=True, default=str) == \
            json.dumps(fig.to_plotly_json(), sort_keys=True, default=str)
        layout = fig.layout.to_plotly_json()
        top = layout["polar"]["domain"]
        cells = [layout[k]["domain"] for k in layout if k.startswith("polar") and k != "polar"]
        assert len(cells) == len(PEOPLE)
        boxes = {(tuple(c["x"]), tuple(c["y"])) for c in cells}
        assert len(boxes) == len(cells)  # no two spiders in one place
        for c in cells:
            assert 0 <= c["x"][0] < c["x"][1] <= 1 and 0 <= c["y"][0] < c["y"][1] < top["y"][0]
        # Each name sits just above its own spider, centred on it.
        for a, c in zip([a for a in layout["annotations"] if a.get("text")], cells):
            assert a["x"] == pytest.approx(sum(c["x"]) / 2) and a["y"] == pytest.approx(c["y"][1])


def test_names_when_revealed_escaped_for_plotly(room):
    _store, s, _tokens = room
    fig = fw.participant_spiders(s, reveal_names=True)
    assert _titles(fig) == ["Asha Patel", "Ben Okafor", "Anil Prasad", "&lt;b&gt;Eve&lt;/b&gt;"]
    table = fw.participant_spiders_table(s, reveal_names=True)
    assert list(table.columns) == ["Domain", *PEOPLE, "Group median"]
    assert table["Ben Okafor"].iloc[-1] == "not rated"
    assert list(fw.participant_spiders_table(s, reveal_names=False).columns)[1:3] == ["AP 1", "BO"]


def test_large_text_scales_every_font_and_the_height(room):
    _store, s, _tokens = room
    normal = fw.participant_spiders(s, reveal_names=False).to_plotly_json()
    large = fw.participant_spiders(s, reveal_names=False, large=True).to_plotly_json()
    for fig in (normal, large):  # the template's defaults are overridden wherever it matters
        fig["layout"].pop("template")
    assert min(_font_sizes(large)) >= 1.5 * min(_font_sizes(normal))
    assert large["layout"]["height"] > 1.4 * normal["layout"]["height"]
    assert large["layout"]["polar"]["radialaxis"]["tickfont"]["size"] >= 19


def test_enlarge_scales_a_chart_built_elsewhere(room):
    _store, s, _tokens = room
    fig = charts.workshop_spread(s.frame, s.matrix, summary=s.table)
    big = fw.enlarge(fig, 1.6)
    assert big.layout.template.layout.xaxis.tickfont.size == pytest.approx(13 * 1.6, abs=0.1)
    assert big.layout.template.layout.legend.font.size == pytest.approx(13 * 1.6, abs=0.1)
    assert big.layout.template.layout.font.size == pytest.approx(14 * 1.6, abs=0.1)
    # Streamlit's theme replaces the template, so the layout carries the sizes itself.
    assert big.layout.xaxis.tickfont.size == pytest.approx(13 * 1.6, abs=0.1)
    assert big.layout.font.size == pytest.approx(14 * 1.6, abs=0.1)
    assert big.layout.legend.font.size == pytest.approx(13 * 1.6, abs=0.1)
    assert big.layout.height > fig.layout.height
    assert fw.enlarge(fig, 1.0) is fig


def test_own_against_group_one_row_per_domain(room):
    store, s, tokens = room
    own = {e: r.stage for e, r in ws.my_ratings(store, tokens["Ben Okafor"]).items()}
    fig = fw.own_vs_group(SHIPPED, own, s)
    you = next(t for t in fig.data if t.name == "You")
    group = next(t for t in fig.data if t.name == "Group median")
    assert list(you.x) == [d.score for d in fw.own_profile(SHIPPED, own)]
    assert you.x[-1] is None  # Ben did not rate the last domain
    assert list(group.x) == [d.score for d in s.median_profile]
    titles = _titles(fig)
    assert len(titles) == len(SHIPPED.domains)
    assert "(you have not rated it)" in titles[-1] and "(you have not rated it)" not in titles[0]
    # A phone scrolls the page, not the chart: no zoom or drag.
    assert fig.layout.xaxis.fixedrange and fig.layout.yaxis.fixedrange and fig.layout.dragmode is False
    assert fig.layout.height < 844
    table = fw.own_vs_group_table(SHIPPED, own, s)
    assert list(table.columns) == ["Domain", "You", "Group median"]
    assert table["You"].iloc[-1] == "not rated"
    big = fw.own_vs_group(SHIPPED, own, s, large=True)
    assert big.layout.font.size > fig.layout.font.size and big.layout.height > fig.layout.height
    for f in (fig, big):  # built without plotly's validation: validated, it is accepted unchanged
        assert json.dumps(go.Figure(f.to_dict()).to_plotly_json(), sort_keys=True, default=str) == \
            json.dumps(f.to_plotly_json(), sort_keys=True, default=str)


def test_own_profile_ignores_what_is_not_in_the_matrix():
    profile = fw.own_profile(SHIPPED, {"no-such-element": "step-1", SHIPPED.element_ids()[0]: "no-such-stage"})
    assert all(d.score is None for d in profile)


def test_nobody_rated_yet_says_so(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'w.db'}", matrices=[SHIPPED])
    orgs.add_ics(store, "QZZ", "Test ICS", by="setup")
    orgs.add_pcn(store, "U90001", "PCN U90001", ics_code="QZZ", list_size=10_000, by="setup")
    w = ws.open_workshop(store, "U90001", "2024/25", SHIPPED, by="Fran")
    fig = fw.participant_spiders(ws.summary(store, w.id), reveal_names=False)
    assert "Nobody has rated yet." in _titles(fig)
    store.close()

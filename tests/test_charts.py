"""Figure builders (figures/): the right traces and values from small hand-made inputs, and their tables."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assessments import scoring as sc
from figures import charts, tables
from figures.theme import chart_text, fit, relative_luminance, stage_colours, stage_ticks, text_colour_on, wrap
from tests.test_scoring import FOUR, PCNS, V1, V3, WORKSHOP, make_matrix, snap

LABELS = ["Starting", "Developing", "Embedded"]


def _series():
    return sc.progress_series([
        snap("2022/23", V3, leadership_and_vision="starting", information_sharing="starting"),
        snap("2023/24", V3, leadership_and_vision="developing", information_sharing="starting",
             population_health_management="developing"),
        snap("2024/25", V3, leadership_and_vision=("embedded", "embedded"), information_sharing=("developing", "embedded"),
             population_health_management=(None, "developing")),
    ])


# --- theme ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", range(2, 8))
def test_stage_colours_step_down_in_lightness(n):
    colours = stage_colours(n)
    assert len(colours) == n and len(set(colours)) == n
    lum = [relative_luminance(c) for c in colours]
    assert all(a > b for a, b in zip(lum, lum[1:]))  # lightest first, so greyscale keeps the order
    for c in colours:  # cell text stays readable on every stage colour (WCAG AA, 4.5:1)
        l_text = relative_luminance(text_colour_on(c))
        hi, lo = max(lum_c := relative_luminance(c), l_text), min(lum_c, l_text)
        assert (hi + 0.05) / (lo + 0.05) >= 4.5


def test_chart_text_is_literal():
    assert chart_text("<b>A & B</b>") == "&lt;b&gt;A &amp; B&lt;/b&gt;"
    assert chart_text(None) == ""
    assert wrap("Use of data and population health management", 18) == "Use of data and<br>population health<br>management"
    assert wrap("<script>", 40) == "&lt;script&gt;"


def test_figure_modules_do_not_import_streamlit_or_the_app():
    code = ("import sys, figures.charts, figures.theme, figures.tables\n"
            "app = ('streamlit', 'components', 'views', 'reports')\n"
            "sys.exit(sorted(n for n in sys.modules if n.split('.')[0] in app) or 0)")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr or done.stdout


# --- radar ---------------------------------------------------------------------------------------

def test_radar_one_trace_per_year_plus_dashed_target():
    m = make_matrix(3, [1, 1, 2])
    series = sc.progress_series([snap("2023/24", m, d0_e0="s0", d1_e0="s1"),
                                 snap("2024/25", m, d0_e0=("s1", "s2"), d1_e0=("s1", "s2"), d2_e0=("s2", "s2"),
                                      d2_e1=("s0", "s1"))])
    fig = charts.radar(series, m)
    assert [t.type for t in fig.data] == ["scatterpolar"] * 3
    assert [t.name for t in fig.data] == ["2023/24", "2024/25", "Target (2024/25)"]
    # r values are the domain scores, closed back to the first domain
    assert list(fig.data[0].r) == [0.0, 1.0, None, 0.0]
    assert list(fig.data[1].r) == [1.0, 1.0, 1.0, 1.0]
    assert list(fig.data[2].r) == [2.0, 2.0, 1.5, 2.0]
    assert fig.data[2].line.dash == "dash"
    assert fig.data[1].line.dash is None and fig.data[1].line.width > fig.data[0].line.width
    assert fig.data[0].line.dash  # older years dotted, readable in greyscale
    assert list(fig.data[0].theta) == ["Domain 0", "Domain 1", "Domain 2", "Domain 0"]
    assert list(fig.layout.polar.radialaxis.ticktext) == ["Stage 0", "Stage 1", "Stage 2"]


def test_the_profile_is_a_dot_chart_below_three_domains_and_beyond_the_radar_limit():
    # Behaviour changed with issue 12: two domains were a radar (a line), now they are dots.
    fig = charts.radar(_series(), V3)
    years = [t for t in fig.data if t.name]
    assert {t.type for t in fig.data} == {"scatter"}
    assert [t.name for t in years] == ["2022/23", "2023/24", "2024/25", "Target (2024/25)"]
    assert [list(t.x) for t in years] == [[0.0, 0.0], [1.0, 0.5], [2.0, 1.0], [2.0, 1.5]]
    assert list(years[0].y) == ["Leadership", "Use of data"]
    assert years[3].marker.symbol == "diamond-open" and years[2].marker.size > years[1].marker.size
    move = fig.data[0]  # the grey line from the year before to the latest, under the dots
    assert move.showlegend is False and list(move.x) == [1.0, 2.0, None, 0.5, 1.0, None]
    assert list(fig.layout.xaxis.ticktext) == LABELS and fig.layout.xaxis.side == "top"
    many = make_matrix(4, [1] * (charts.RADAR_MAX_SPOKES + 1))
    wide = sc.progress_series([snap("2024/25", many, **{f"d{d}_e0": "s1" for d in range(charts.RADAR_MAX_SPOKES + 1)})])
    assert charts.radar(wide, many).data[0].type == "scatter"
    assert charts.profile_dots_height(wide, many, title=None) == charts.profile_dots(wide, many, title=None).layout.height
    few = make_matrix(4, [1] * charts.RADAR_MAX_SPOKES)
    full = sc.progress_series([snap("2024/25", few, d0_e0="s1")])
    assert charts.radar(full, few).data[0].type == "scatterpolar"


def test_long_labels_are_fitted_and_the_full_text_stays_in_the_table():
    m = make_matrix(10, [1, 1, 1])
    raw = m.model_dump()
    for i, stage in enumerate(raw["stages"]):
        stage["label"] = f"Level {i}: partly in place in some practices"  # 40 characters
    raw["domains"][0]["title"] = "Population health management, data sharing and the analytics the network needs to plan " * 2
    m = type(m).model_validate(raw)
    series = sc.progress_series([snap("2024/25", m, d0_e0="s3", d1_e0="s9", d2_e0="s0")])
    radar = charts.radar(series, m)
    assert list(radar.layout.polar.radialaxis.ticktext) == [str(i) for i in range(10)]  # numbers, words in the key
    first = radar.data[0].theta[0]
    assert first.count("<br>") == 2 and first.endswith("…")
    assert tables.profile_table(series)["Domain"][0] == raw["domains"][0]["title"].strip()
    progress = charts.domain_progress(series, m)
    ticks = list(progress.layout.yaxis.ticktext)
    assert len(set(ticks)) == 10 and all(len(line) <= 22 for t in ticks for line in t.split("<br>"))
    assert progress.layout.annotations[0].text.count("<br>") <= 3


def test_fitting_text_and_stage_ticks():
    assert fit("Use of data and population health management", 18, 2) == "Use of data and<br>population health…"
    assert fit("<b>short</b>", 18, 2) == "&lt;b&gt;short&lt;/b&gt;"
    assert stage_ticks(["Foundation", "Step 1"], 12, 1) == ["Foundation", "Step 1"]
    # Cut alike, so numbered; no room for words at all, numbers alone.
    assert stage_ticks(["Partly in place in some", "Partly in place in all"], 12, 1) == ["0 Partly in…", "1 Partly in…"]
    assert stage_ticks(["Foundation", "Step 1"], 4, 3) == ["0", "1"]
    assert stage_ticks(["A", "B", "C"], 4, 3, [0, 20, 100]) == ["0", "20", "100"]


def test_radar_leaves_out_years_on_another_scale_and_says_so():
    series = sc.progress_series([snap("2023/24", V1, governance="embedded"), snap("2024/25", FOUR, governance="step-1")])
    fig = charts.radar(series, FOUR)
    assert [t.name for t in fig.data] == ["2024/25", "Target (2024/25)"]
    assert "2023/24" in fig.layout.annotations[0].text
    table = tables.profile_table(series)
    assert list(table["2023/24"]) == ["not comparable", "not comparable"]
    assert "different scales" in table["Notes"][0]


def test_radar_table():
    t = tables.profile_table(_series())
    assert list(t.columns) == ["Domain", "2022/23", "2023/24", "2024/25", "Target (2024/25)", "Notes"]
    assert list(t["Domain"]) == ["Leadership", "Use of data"]
    assert list(t["2024/25"]) == ["2.0 (1 of 1 rated)", "1.0 (1 of 2 rated)"]
    assert list(t["Target (2024/25)"]) == ["2.0", "1.5"]


# --- progress ------------------------------------------------------------------------------------

def test_domain_progress_small_multiples():
    fig = charts.domain_progress(_series(), V3)
    scores = [t for t in fig.data if t.name == "Score"]
    targets = [t for t in fig.data if t.name == "Target"]
    assert len(scores) == 2  # one panel per domain
    assert list(scores[0].y) == [0.0, 1.0, 2.0] and list(scores[1].y) == [0.0, 0.5, 1.0]
    assert list(scores[0].x) == ["2022/23", "2023/24", "2024/25"]
    assert all(t.line.dash == "dash" for t in targets)
    assert sum(bool(t.showlegend) for t in fig.data) == 2  # one legend entry each for score and target
    assert list(fig.layout.yaxis.ticktext) == LABELS
    assert [a.text for a in fig.layout.annotations] == ["Leadership", "Use of data"]
    # The first and last years sit inside their panel, and the legend above every panel title.
    assert list(fig.layout.xaxis.range) == [-0.5, 2.5]
    assert (fig.layout.legend.yref, fig.layout.legend.y, fig.layout.legend.yanchor) == ("container", 1, "top")
    assert charts.domain_progress_height(_series(), V3) == fig.layout.height
    table = tables.domain_years_table(_series())
    assert len(table) == 6 and list(table["Domain"][:3]) == ["Leadership"] * 3
    assert table.iloc[5][["Year", "Score", "Rated", "Target"]].tolist() == ["2024/25", "1.0", "1 of 2", "1.5"]


# --- portfolio -----------------------------------------------------------------------------------

def _portfolio():
    pcns = [dict(p) for p in PCNS]
    pcns[0]["name"] = "North <b>PCN</b>"
    snaps = {
        "U1": snap("2024/25", V1, status="agreed", governance="developing", vision="embedded"),  # leadership 1.5
        "U2": snap("2024/25", V1, governance="starting", data_sharing="embedded"),
    }
    return sc.portfolio(snaps, pcns)


def test_heatmap_cells_say_score_and_count():
    fig = charts.heatmap(_portfolio(), V1)
    base, scores, text = fig.data
    assert list(scores.y) == ["North &lt;b&gt;PCN&lt;/b&gt; (U1)", "South PCN (U2)", "East PCN (U3)"]  # order kept
    assert [list(r) for r in scores.z] == [[1.5, None], [0.0, 2.0], [None, None]]
    assert (scores.zmin, scores.zmax) == (0, 2)
    assert list(text.text) == ["1.5<br>2 of 2 rated", "not rated<br>0 of 1", "0.0<br>1 of 2 rated",
                               "2.0<br>1 of 1 rated", "not started", "not started"]
    assert list(scores.colorbar.ticktext) == LABELS


def test_heatmap_without_counts_draws_one_line_a_cell_and_the_table_keeps_the_counts():
    port = _portfolio()
    fig = charts.heatmap(port, V1, counts=False)
    full = charts.heatmap(port, V1)
    base, scores, text = fig.data
    assert list(text.text) == ["1.5", "not rated", "0.0", "2.0", "not started", "not started"]
    assert not any("<br>" in t for t in text.text)
    # The colours, the hover text (which says the counts) and the layout are those of the full figure.
    assert [list(r) for r in scores.z] == [list(r) for r in full.data[1].z]
    assert scores.hovertext == full.data[1].hovertext and "2 of 2 rated" in scores.hovertext[0][0]
    assert fig.layout.height == full.layout.height
    # The page's table says what the cells no longer do: how many elements each score rests on.
    labels = tables.labels_of(V1)
    counted = tables.portfolio_table(port, labels, counts=True)
    plain_table = tables.portfolio_table(port, labels)
    assert list(counted.columns) == list(plain_table.columns)
    assert list(counted["Leadership"]) == ["1.5 (Developing to Embedded), 2 of 2 rated",
                                           "0.0 (Starting), 1 of 2 rated", "not started"]
    assert list(plain_table["Leadership"]) == ["1.5 (Developing to Embedded)", "0.0 (Starting)", "not started"]
    assert list(counted["Use of data"]) == ["not rated (0 of 1)", "2.0 (Embedded), 1 of 1 rated", "not started"]


def test_heatmap_table():
    t = charts.heatmap_table(_portfolio())
    assert list(t.columns) == ["PCN", "Code", "ICS", "Status", "Leadership", "Use of data"]
    assert list(t["PCN"]) == ["North <b>PCN</b>", "South PCN", "East PCN"]  # raw: the page escapes tables
    assert list(t["Status"]) == ["agreed", "draft", "not started"]
    assert list(t["Leadership"]) == ["1.5, 2 of 2 rated", "0.0, 1 of 2 rated", "not started"]


def test_heat_table_colours_each_cell_as_the_heat_map_does():
    port = _portfolio()
    table, styles = charts.heat_table(port, V1)
    assert list(table.columns) == ["PCN", "Code", "List size", "Area", "Assessment", "Leadership", "Use of data"]
    assert list(table["Code"]) == ["U1", "U2", "U3"]  # the order given, never ranked
    assert list(table["Leadership"]) == ["1.5, 2 of 2 rated", "0.0, 1 of 2 rated", "not started"]
    assert list(styles["Code"]) == ["", "", ""]  # only the domain cells are coloured
    # Each scored cell's text colour is the one the heat map's text layer gives it; no score is pale.
    heat_text = charts.heatmap(port, V1).data[2].textfont.color
    scored = [c for c in styles[["Leadership", "Use of data"]].to_numpy().ravel()]
    assert [c.split("color: ")[-1] for c in scored] == list(heat_text)
    assert scored[1].startswith(f"background-color: {charts.NOT_RATED_COLOUR};")


def test_distribution_bars_are_the_figure_s_segments():
    dist = sc.stage_distribution({"U1": snap("2024/25", V1, governance="developing", vision="embedded"),
                                  "U2": snap("2024/25", V1, governance="starting", data_sharing="embedded")})
    bars = charts.distribution_bars(dist)
    fig = charts.stage_distribution(dist)
    assert [name for name, _ in bars] == ["Leadership", "Use of data"]
    assert [s["label"] for s in bars[0][1]] == LABELS + ["Not rated"]
    assert [[s["share"] for s in segments] for _, segments in bars] == [list(r) for r in zip(*(t.x for t in fig.data))]
    assert [s["hatched"] for s in bars[0][1]] == [False] * len(LABELS) + [True]


def test_stage_distribution_bars_in_stage_order():
    dist = sc.stage_distribution({"U1": snap("2024/25", V1, governance="developing", vision="embedded"),
                                  "U2": snap("2024/25", V1, governance="starting", data_sharing="embedded")})
    fig = charts.stage_distribution(dist)
    assert [t.name for t in fig.data] == LABELS + ["Not rated"]
    assert fig.layout.barmode == "stack"
    by = {t.name: list(t.x) for t in fig.data}
    # leadership: 4 ratings (2 PCNs x 2 elements): starting 1, developing 1, embedded 1, not rated 1
    assert [by[n][0] for n in LABELS + ["Not rated"]] == [25.0, 25.0, 25.0, 25.0]
    assert [by[n][1] for n in LABELS + ["Not rated"]] == [0.0, 0.0, 50.0, 50.0]
    assert fig.data[-1].marker.pattern.shape == "/"
    table = charts.stage_distribution_table(dist)
    assert list(table.columns) == ["Domain"] + LABELS + ["Not rated"]
    assert table.iloc[1].tolist() == ["Use of data", "0 (0%)", "0 (0%)", "1 (50%)", "1 (50%)"]


# --- workshop ------------------------------------------------------------------------------------

def test_workshop_spread_dots_median_and_split_label():
    frame = sc.workshop_frame(V1, WORKSHOP)
    summary = sc.workshop_summary(V1, frame)
    fig = charts.workshop_spread(frame, V1)
    assert charts.workshop_spread(frame, LABELS, summary=summary).to_dict() == fig.to_dict()
    rng, dots, median = fig.data
    assert len(dots.x) == 5  # five ratings given (one was left blank)
    assert sorted(round(x) for x in dots.x) == [0, 0, 1, 1, 2]
    assert list(median.x) == [0.0, 1.0] and list(median.y) == [0, 1]
    labels = list(fig.layout.yaxis.ticktext)
    assert "views differ" in labels[0] and "views differ" not in labels[1]
    assert {c[0] for c in dots.customdata} == {"Dr A", "Nurse B", "Manager C"}
    table = charts.workshop_spread_table(summary, V1)
    assert table.iloc[0].tolist() == ["Governance", 3, "Starting", "Starting", "Embedded", "1.0",
                                      sc.agreement_words(summary.iloc[0]["agreement"]), "yes"]
    assert table.iloc[0]["Agreement"].endswith("views far apart")
    assert table.iloc[2]["Ratings"] == 0 and table.iloc[2]["Median"] == ""


def test_participant_radar_faint_people_strong_median():
    profiles = sc.participant_profiles(V1, WORKSHOP)
    median = sc.consensus_profile(V1, WORKSHOP)
    fig = charts.participant_radar(profiles, median, V1)
    assert len(fig.data) == 4  # three people and the median
    people, strong = fig.data[:3], fig.data[3]
    assert sum(bool(t.showlegend) for t in people) == 1
    assert all(t.line.width < strong.line.width for t in people)
    assert list(strong.r) == [0.5, None, 0.5]
    table = charts.participant_radar_table(profiles, median)
    assert list(table.columns) == ["Domain", "Dr A", "Nurse B", "Manager C", "Group median"]
    assert table.iloc[0].tolist() == ["Leadership", "0.5 (2 of 2 rated)", "1.5 (2 of 2 rated)", "0.0 (1 of 2 rated)",
                                      "0.5 (2 of 2 rated)"]


# --- static export -------------------------------------------------------------------------------

@pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs Debian's chromium for kaleido")
def test_static_png_export_works_offline():
    from reports.images import png as to_png  # the path the PDF takes: kaleido with Debian's chromium

    png = to_png(charts.radar(_series(), V3), width=600, height=500, scale=1)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert png[16:24] == (600).to_bytes(4, "big") + (500).to_bytes(4, "big")  # IHDR width and height


def test_text_from_users_and_files_never_reaches_plotly_as_markup():
    raw = V1.model_dump()
    raw["domains"][0]["title"] = "<i>Lead</i> & co"
    raw["domains"][0]["elements"][0]["title"] = "<i>Gov</i>"
    raw["stages"][0]["label"] = "<i>Start</i>"
    evil = type(V1).model_validate(raw)
    s = snap("2024/25", evil, governance=("starting", "embedded"), vision="developing")
    series = sc.progress_series([s])
    port = sc.portfolio({"U1": s}, [dict(code="U1", name="<i>N</i>")])
    ratings = [dict(participant="<i>P</i>", element_id="governance", stage="starting"),
               dict(participant="%{x}", element_id="governance", stage="embedded")]
    frame = sc.workshop_frame(evil, ratings)
    figs = [charts.radar(series, evil, title="<i>T</i>"), charts.domain_progress(series, evil),
            charts.heatmap(port, evil), charts.stage_distribution(sc.stage_distribution({"U1": s})),
            charts.workshop_spread(frame, evil),
            charts.participant_radar(sc.participant_profiles(evil, frame), sc.consensus_profile(evil, frame), evil)]
    for fig in figs:
        text = fig.to_json()
        assert "<i>" not in text and "&lt;i&gt;" in text
    # Data text never goes into a hovertemplate itself, where "%{...}" would be substituted.
    templates = [getattr(t, "hovertemplate", None) or "" for fig in figs for t in fig.data]
    assert not any("&lt;" in t for t in templates)


def test_spread_rows_count_what_the_spread_figure_draws():
    frame = sc.workshop_frame(V1, WORKSHOP)
    summary = sc.workshop_summary(V1, frame)
    fig = charts.workshop_spread(frame, V1)
    rows = charts.spread_rows(frame, V1)
    assert rows == charts.spread_rows(frame, LABELS, summary=summary)
    assert [r["title"] for r in rows] == list(summary["element_title"])
    _, dots, median = fig.data
    for y, r in enumerate(rows):  # the figure's dots on this element's line, by the stage they sit at
        drawn = [round(x) for x, at in zip(dots.x, dots.y) if at == y]
        assert r["counts"] == [drawn.count(i) for i in range(len(LABELS))]
        assert r["n"] == sum(r["counts"])
    assert [r["median"] for r in rows if r["n"]] == list(median.x)
    assert [r["split"] for r in rows] == list(summary["split"])
    assert (rows[0]["low"], rows[0]["high"]) == (0.0, 2.0)
    with pytest.raises(ValueError):
        charts.spread_rows(frame, LABELS)  # labels alone cannot make the summary


def test_spread_rows_of_an_element_nobody_rated_have_no_positions():
    rows = charts.spread_rows(sc.workshop_frame(V1, WORKSHOP), V1)
    data_sharing = rows[2]
    assert data_sharing["n"] == 0 and data_sharing["counts"] == [0] * len(LABELS)
    assert (data_sharing["low"], data_sharing["high"], data_sharing["median"]) == (None, None, None)

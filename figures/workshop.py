"""Workshop figures: a small spider per participant beside the group median (SCIROCCO's "each
participant, then the consensus"), and a participant's own profile against the group's, laid out
for a 390 px phone. No Streamlit here.

`summary` is an `assessments.workshop.WorkshopSummary`: only its `matrix`, `participants`,
`profiles` and `median_profile` are read. `large=True` is the projector's large text: every font,
and the height that holds it, grows by LARGE so the charts read like the page around them.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from assessments.scoring import domain_means, stage_scale, stage_score
from matrix import Matrix

from .tables import format_score, is_missing, labels_of
from .theme import NHS_BLUE, NHS_DARK_BLUE, NHS_DARK_GREY, NHS_MID_GREY, NHS_PALE_GREY, chart_text, template, wrap

LARGE = 1.6  # the large-text CSS takes body text from about 16 px to 25 px
COLUMNS = 4  # small spiders per row: at 1280 px each is still about 280 px wide


def scale(large: bool) -> float:
    return LARGE if large else 1.0


def enlarge(fig: go.Figure, factor: float = LARGE, *, grow_height: bool = True) -> go.Figure:
    """The same figure with every font size (layout, axes, legend, annotations, trace text) times
    `factor`, its markers somewhat bigger, and its height grown to hold the bigger text. For charts built elsewhere that the
    projector shows in large text."""
    if factor == 1:
        return fig
    d = fig.to_dict()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.endswith("font") and isinstance(value, dict) and isinstance(value.get("size"), (int, float)):
                    value["size"] = round(value["size"] * factor, 1)
                elif key == "marker" and isinstance(value, dict) and isinstance(value.get("size"), (int, float)):
                    value["size"] = round(value["size"] * (1 + (factor - 1) / 2), 1)  # dots grow, less than text
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(d)  # the template too: its fonts are the defaults wherever the figure sets none
    layout = d.setdefault("layout", {})
    # Streamlit draws charts in its own theme, which replaces the template's fonts: give the
    # layout explicit sizes wherever it took them from the template.
    base = (layout.get("template") or {}).get("layout", {})
    if "size" in base.get("font", {}):
        layout.setdefault("font", {}).setdefault("size", base["font"]["size"])
    if "size" in base.get("legend", {}).get("font", {}):
        layout.setdefault("legend", {}).setdefault("font", {}).setdefault("size", base["legend"]["font"]["size"])
    for name in [k for k in layout if k.startswith(("xaxis", "yaxis"))]:
        tick = base.get(name[:5], {}).get("tickfont", {}).get("size")
        if tick:
            layout[name].setdefault("tickfont", {}).setdefault("size", tick)
    if grow_height and isinstance(layout.get("height"), (int, float)):
        layout["height"] = math.ceil(layout["height"] * factor)  # wrapped labels need the room as much as the text
    return go.Figure(d)


# ---------------------------------------------------------------------------------------------
# Who is who

def initials(name: str) -> str:
    """'Asha Patel' -> 'AP', 'Dr Sam O'Neil-Jones' -> 'DSO'; at most three letters."""
    words = re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)*", str(name))
    return "".join(w[0].upper() for w in words[:3]) or "?"


def participant_labels(summary, *, reveal_names: bool) -> dict[str, str]:
    """Each participant's display name -> the label their spider carries: the name once results are
    revealed, else initials (numbered where two people share them), in the order people joined."""
    names = [p.name for p in summary.participants]
    for who in summary.profiles["participant"].drop_duplicates():  # anyone rated but not listed
        if who not in names:
            names.append(who)
    if reveal_names:
        return {n: n for n in names}
    firsts = [initials(n) for n in names]
    shared = {i for i in firsts if firsts.count(i) > 1}
    seen: dict[str, int] = {}
    out = {}
    for name, ini in zip(names, firsts):
        seen[ini] = seen.get(ini, 0) + 1
        out[name] = f"{ini} {seen[ini]}" if ini in shared else ini
    return out


def _rated(summary) -> list[str]:
    """Participants with at least one rating, in join order: those a spider can be drawn for."""
    rated = set(summary.profiles.loc[summary.profiles["n_rated"] > 0, "participant"])
    return [n for n in participant_labels(summary, reveal_names=True) if n in rated]


# ---------------------------------------------------------------------------------------------
# A spider per participant, and the group median

def _polar(labels: list[str], n_domains: int, theta_size: float, *, stage_ticks: bool, radial_size: float) -> dict:
    """As charts.radar's: the stage labels run up the top, between the last domain and the first."""
    values = stage_scale(labels).scores  # each stage's score: the scale the domain means are on
    return dict(
        hole=0.05,
        radialaxis=dict(range=[values[0], values[-1]], tickvals=values, showticklabels=stage_ticks,
                        ticktext=[chart_text(s) for s in labels], tickfont=dict(size=radial_size, color=NHS_DARK_GREY),
                        gridcolor=NHS_PALE_GREY, showline=False, angle=90, tickangle=90, ticks=""),
        angularaxis=dict(type="category", rotation=90 - 180 / max(n_domains, 1), direction="clockwise",
                         tickfont=dict(size=theta_size), gridcolor=NHS_PALE_GREY, linecolor=NHS_MID_GREY))


def _grid(n_cols: int, heights: list[float], h_gap: float, v_gap: float) -> tuple[list[list[float]], list[list[float]]]:
    """The x domains of a grid's columns and the y domains of its rows (top first) in paper
    coordinates, as plotly's make_subplots lays them out."""
    width = (1 - h_gap * (n_cols - 1)) / n_cols
    xs = [[c * (width + h_gap), c * (width + h_gap) + width] for c in range(n_cols)]
    scale_ = (1 - v_gap * (len(heights) - 1)) / sum(heights)
    ys, top = [], 1.0
    for h in heights:
        ys.append([max(0.0, top - h * scale_), top])
        top -= h * scale_ + v_gap
    return xs, ys


def participant_spiders(summary, *, reveal_names: bool, large: bool = False) -> go.Figure:
    """The group median as one strong spider across the top, its domains numbered and named;
    below it a small spider per participant who has rated anything (their outline in blue, the
    median dotted grey for comparison), each titled with the person's initials, or their name
    when `reveal_names`."""
    # Built as plain data and made a figure once: plotly's make_subplots and update_layout on 60
    # polar subplots took seconds of CPU (validating the layout again at every change), holding
    # up every session of the process while a full room's spiders were drawn.
    k = scale(large)
    matrix = summary.matrix
    stages = labels_of(matrix)
    median = list(summary.median_profile)
    ids = [d.domain_id for d in median]
    numbers = [str(i + 1) for i in range(len(median))]
    # Shorter lines in large text: beside a sidebar at 1280 px a 22-character line ran off the left.
    named = [wrap(f"{i + 1}. {d.domain_title}", 16 if large else 22) for i, d in enumerate(median)]
    titles = [chart_text(d.domain_title) for d in median]
    people = _rated(summary)
    label = participant_labels(summary, reveal_names=reveal_names)
    cols = min(COLUMNS, max(len(people), 1))
    rows = math.ceil(len(people) / cols)
    big, small = round(440 * k), round(250 * k)
    gap = round(70 * k)  # room for each small spider's title
    height = big + rows * small + (rows + 1) * gap + round(80 * k)
    xs, ys = _grid(cols, [big] + [small] * rows, 0.06, gap / height)

    def r_of(values) -> list[float | None]:
        r = [None if is_missing(v) else float(v) for v in values]
        return r + r[:1]

    med_r = r_of(d.score for d in median)
    traces: list[dict] = [dict(
        type="scatterpolar", r=med_r, theta=named + named[:1], mode="lines+markers", name="Group median",
        subplot="polar", line=dict(color=NHS_DARK_BLUE, width=4.5), marker=dict(size=round(9 * k)), fill="toself",
        fillcolor="rgba(0,48,135,0.12)", connectgaps=False,
        hovertemplate="%{theta}<br>group median %{r:.1f}<extra></extra>")]
    # The median's domain names sit outside its circle: keep them clear of the figure's sides.
    polars = {"polar": {**_polar(stages, len(ids), 13 * k, stage_ticks=True, radial_size=12 * k),
                        "domain": dict(x=[0.15, 0.85], y=ys[0])}}
    annotations = []
    by_who = {who: rows_ for who, rows_ in summary.profiles.groupby("participant", sort=False)}
    for i, who in enumerate(people):
        sub = f"polar{i + 2}"
        mine = by_who[who].set_index("domain_id").reindex(ids)
        text = [f"{t}: {format_score(s, n, m)}" for t, s, n, m in
                zip(titles, mine["score"], mine["n_rated"], mine["n_elements"])]
        traces.append(dict(
            type="scatterpolar", r=med_r, theta=numbers + numbers[:1], mode="lines", subplot=sub,
            name="Group median, for comparison", legendgroup="median", showlegend=i == 0,
            line=dict(color=NHS_MID_GREY, width=1.5, dash="dot"), hoverinfo="skip", connectgaps=False))
        traces.append(dict(
            type="scatterpolar", r=r_of(mine["score"]), theta=numbers + numbers[:1], mode="lines+markers",
            subplot=sub, name="Each participant", legendgroup="people", showlegend=i == 0,
            line=dict(color=NHS_BLUE, width=2.5), marker=dict(size=round(5 * k)), fill="toself",
            fillcolor="rgba(0,94,184,0.10)", connectgaps=False, text=text + text[:1],
            hovertemplate=chart_text(label[who]) + "<br>%{text}<extra></extra>"))
        x, y = xs[i % cols], ys[1 + i // cols]
        polars[sub] = {**_polar(stages, len(ids), 12 * k, stage_ticks=False, radial_size=10 * k),
                       "domain": dict(x=x, y=y)}
        # The participant's name, lifted clear of the domain numbers.
        annotations.append(dict(text=chart_text(label[who]), x=(x[0] + x[1]) / 2, y=y[1], xref="paper", yref="paper",
                                xanchor="center", yanchor="bottom", showarrow=False, yshift=round(16 * k),
                                font=dict(size=round(15 * k), color=NHS_DARK_BLUE)))
    if not people:
        annotations.append(dict(text="Nobody has rated yet.", showarrow=False, xref="paper", yref="paper", x=0.5,
                                y=0.5, font=dict(size=round(14 * k), color=NHS_DARK_GREY)))
    layout = dict(
        template=template(), **polars, annotations=annotations, height=height,
        margin=dict(l=round(40 * k), r=round(40 * k), t=round(90 * k), b=round(30 * k)),
        font=dict(size=round(14 * k)),
        legend=dict(orientation="h", yanchor="top", y=1.0, yref="container", xanchor="left", x=0,
                    font=dict(size=round(13 * k))))
    # Not validated again here (a third of a second at 60 people): tests build it validated too.
    return go.Figure(data=traces, layout=layout, _validate=False)


def participant_spiders_table(summary, *, reveal_names: bool) -> pd.DataFrame:
    """The spiders as a table: one row per domain, a column per participant (labelled as on the
    chart), then the group median."""
    median = list(summary.median_profile)
    ids = [d.domain_id for d in median]
    label = participant_labels(summary, reveal_names=reveal_names)
    out = pd.DataFrame({"Domain": [f"{i + 1}. {d.domain_title}" for i, d in enumerate(median)]})
    for who in _rated(summary):
        mine = summary.profiles[summary.profiles["participant"] == who].set_index("domain_id").reindex(ids)
        out[label[who]] = [format_score(s, n, m) for s, n, m in zip(mine["score"], mine["n_rated"], mine["n_elements"])]
    out["Group median"] = [format_score(d.score, d.n_rated, d.n_elements) for d in median]
    return out


# ---------------------------------------------------------------------------------------------
# A participant's own profile against the group's, on a phone

def own_profile(matrix: Matrix, own: Mapping[str, str | None]) -> list:
    """A participant's domain scores from their ratings (element id -> stage id); anything not in
    the matrix is left out."""
    known = set(matrix.element_ids())
    scores = {e: stage_score(matrix, s) for e, s in own.items() if e in known and s in matrix.stage_ids}
    return domain_means(matrix, scores)


def own_vs_group(matrix: Matrix, own: Mapping[str, str | None], summary, *, large: bool = False) -> go.Figure:
    """One row per domain, in matrix order: the domain's name across the full width, then the
    participant's score (blue dot, "You") and the group median (grey diamond) on the stage scale,
    joined by a bar when they differ. A radar's labels cannot fit 390 px; rows can."""
    # Plain data made a figure once, unvalidated (tests validate it): every phone draws its own at
    # the reveal, and plotly's add/update calls cost about 60 ms each.
    k = scale(large)
    stages = labels_of(matrix)
    n = len(stages)
    mine = own_profile(matrix, own)
    group = {d.domain_id: d for d in summary.median_profile}
    ys = [-i for i in range(len(mine))]
    bx, by = [], []
    for d, y in zip(mine, ys):
        g = group.get(d.domain_id)
        if d.score is not None and g is not None and g.score is not None:
            bx += [d.score, g.score, None]
            by += [y, y, None]
    names = [chart_text(d.domain_title) for d in mine]
    traces = [
        dict(type="scatter", x=bx, y=by, mode="lines", line=dict(color=NHS_PALE_GREY, width=round(8 * k)),
             hoverinfo="skip", showlegend=False),
        dict(type="scatter", x=[g.score if (g := group.get(d.domain_id)) else None for d in mine], y=ys,
             mode="markers", name="Group median",
             marker=dict(symbol="diamond", size=round(16 * k), color=NHS_DARK_GREY, line=dict(color="white", width=1)),
             customdata=names, hovertemplate="%{customdata}<br>group median %{x:.1f}<extra></extra>"),
        dict(type="scatter", x=[d.score for d in mine], y=ys, mode="markers", name="You",
             marker=dict(symbol="circle", size=round(15 * k), color=NHS_BLUE, line=dict(color="white", width=1.5)),
             customdata=names, hovertemplate="%{customdata}<br>you %{x:.1f}<extra></extra>")]
    width = 30 if large else 40  # characters of a domain name per line at 390 px
    annotations = []
    for d, y in zip(mine, ys):
        note = "" if d.score is not None else "<br>(you have not rated it)"  # own line: 390 px has no room
        annotations.append(dict(text=f"<b>{wrap(d.domain_title, width)}</b>{note}", x=0, xref="paper",
                                xanchor="left", y=y + 0.2, yanchor="bottom", showarrow=False, align="left",
                                font=dict(size=round(14 * k), color=NHS_DARK_BLUE)))
    values = stages.scores
    pad = 0.35 * (values[-1] - values[0]) / max(n - 1, 1)
    lines = max((wrap(d.domain_title, width).count("<br>") + 1 for d in mine), default=1)
    row = round((52 + 18 * lines) * k)
    layout = dict(
        template=template(), annotations=annotations,
        xaxis=dict(range=[values[0] - pad, values[-1] + pad], tickvals=values, side="top", fixedrange=True,
                   ticktext=[wrap(s, 10) for s in stages], tickfont=dict(size=round(12 * k)), showgrid=True,
                   gridcolor=NHS_PALE_GREY, zeroline=False),
        yaxis=dict(range=[ys[-1] - 0.45 if ys else -0.5, 0.95], showticklabels=False, showgrid=False,
                   zeroline=False, fixedrange=True),
        height=round(110 * k) + row * len(mine), margin=dict(l=8, r=8, t=round(70 * k), b=round(40 * k)),
        font=dict(size=round(14 * k)), dragmode=False,
        legend=dict(orientation="h", yanchor="top", y=0, yref="paper", xanchor="left", x=0,
                    font=dict(size=round(14 * k))))
    return go.Figure(data=traces, layout=layout, _validate=False)


def own_vs_group_table(matrix: Matrix, own: Mapping[str, str | None], summary) -> pd.DataFrame:
    """Domain, You, Group median: the figures of `own_vs_group`."""
    mine = own_profile(matrix, own)
    group = {d.domain_id: d for d in summary.median_profile}
    return pd.DataFrame({
        "Domain": [d.domain_title for d in mine],
        "You": [format_score(d.score, d.n_rated, d.n_elements) for d in mine],
        "Group median": [format_score(g.score, g.n_rated, g.n_elements) if (g := group.get(d.domain_id)) else ""
                         for d in mine]})

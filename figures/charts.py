"""Plotly figure builders: data in, figure out. No Streamlit here (the PDF report uses them too).

Every builder has a table twin returning the DataFrame a page shows beside the chart: the text
alternative for screen readers and for greyscale print. The radar's and the domain progress
charts' are `tables.profile_table` and `tables.domain_years_table`; the others are the `*_table`
functions here. Tables hold raw text (the page escapes it); figures hold text escaped by
`theme.chart_text`/`theme.wrap`, because plotly renders a subset of HTML in any chart text.
Nothing here orders PCNs by score: these are self-assessments for development conversations,
not league tables.

Inputs are the DataFrames made by `assessments.scoring` (progress_series, portfolio,
stage_distribution, workshop_frame/workshop_summary, participant_profiles). `stages` is the
matrix (or its list of stage labels) whose scale the scores are on.
"""
from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from assessments.scoring import NOT_RATED_ID, NOT_STARTED, DomainScore, agreement_words, workshop_summary
from matrix import Matrix

from .tables import area_text, domains_of, format_score, is_missing, labels_of
from .theme import (NHS_BLUE, NHS_DARK_BLUE, NHS_DARK_GREY, NHS_MID_GREY, NHS_PALE_GREY, NOT_RATED_COLOUR,
                    TARGET_COLOUR, chart_text, fit, line_count, stage_colours, stage_colourscale, stage_ticks, template,
                    text_colour_on)

Stages = Matrix | Sequence[str]


def _unique(labels: list[str]) -> list[str]:
    """Plotly merges equal category labels; keep two same-titled domains apart."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def _figure(title: str | None) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(template=template())
    if title:
        fig.update_layout(title=dict(text=chart_text(title)))
    return fig


# Chart text is 12-14 px DejaVu Sans (what Frutiger and Arial fall back to here): about 7.5 px a
# character, 16 px a line. Labels are fitted to the room they have with these.
CHAR_PX = 7.5
LINE_PX = 16
# A radar reads for 3 to this many domains. With fewer it is a line or a point; with more, the
# sectors get so narrow that domain labels collide and the stage scale sits on the data lines
# (seen at 12 spokes). Beyond either, the same data is a dot chart, one row per domain.
RADAR_MAX_SPOKES = 8


def uses_radar(n_domains: int) -> bool:
    return 3 <= n_domains <= RADAR_MAX_SPOKES


def stage_values(stages: Stages) -> list[float]:
    """Where each stage sits on a score axis: the stages' own scores where the matrix (or a scale
    from `assessments.scoring.stage_scale`) has them, else the positions 0, 1, 2, ..."""
    n = len(labels_of(stages))
    scores = getattr(stages, "stage_scores", None) or getattr(stages, "scores", None)
    if scores is not None and len(scores) == n:
        return [float(x) for x in scores]
    return [float(i) for i in range(n)]


def _polar(labels: list[str], values: list[float], n_domains: int) -> dict:
    """The stage scale runs up a vertical line at the top, read horizontally; the domains are
    turned half a sector so that line falls between the first and the last domain, where no data
    is drawn. The first domain is just right of the top and the rest follow clockwise. Stage
    labels longer than the gap between two spokes are numbers (0 = the first stage), which the
    caption or text beside the chart explains."""
    short = all(len(s) <= 12 for s in labels) and n_domains <= 6
    return dict(
        hole=0.06,
        radialaxis=dict(range=[values[0], values[-1]], tickvals=values,
                        ticktext=[chart_text(s) for s in labels] if short else [f"{v:g}" for v in values],
                        tickfont=dict(size=12, color=NHS_DARK_GREY), gridcolor=NHS_PALE_GREY, showline=False,
                        angle=90, tickangle=90, ticks=""),
        angularaxis=dict(rotation=90 - 180 / max(n_domains, 1), direction="clockwise", tickfont=dict(size=13),
                         gridcolor=NHS_PALE_GREY, linecolor=NHS_MID_GREY))


# Older years step back in colour, dash and marker so they still read apart in greyscale.
_OLDER = [("#4C6272", "dot", "square"), ("#768692", "dashdot", "diamond"), ("#97A3AE", "longdashdot", "triangle-up"),
          ("#AEB7BD", "dot", "cross")]


def _years_shown(series: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(years drawn, years left out because they are not comparable), oldest first."""
    years = sorted(series["year"].unique())
    shown = [y for y in years if series.loc[series["year"] == y, "comparable"].any()]
    return shown, [y for y in years if y not in shown]


# ---------------------------------------------------------------------------------------------
# Radar: domain profile per year with the target


def radar(series: pd.DataFrame, stages: Stages, *, title: str | None = "Maturity by domain",
          show_target: bool = True) -> go.Figure:
    """One closed trace per comparable year (latest strongest), and the latest year's target dashed.
    With fewer than 3 or more than RADAR_MAX_SPOKES domains, `profile_dots` instead: the same
    traces' data, one row per domain. Domain names longer than three short lines are cut with
    "…"; the full names are in the table beside the chart (`tables.profile_table`).

    `series` is `scoring.progress_series(...)` or `scoring.profile_frame(...)`."""
    doms = domains_of(series)
    if not uses_radar(len(doms)):
        return profile_dots(series, stages, title=title, show_target=show_target)
    labels = labels_of(stages)
    fig = _figure(title)
    theta = _unique([fit(t, 18, 3) for t in doms["domain_title"]])
    loop = theta + theta[:1]
    shown, skipped = _years_shown(series)
    # Oldest first, so the latest year (and then the target) is drawn on top.
    for year in shown:
        age = len(shown) - 1 - shown.index(year)
        rows = series[series["year"] == year].set_index("domain_id").reindex(doms["domain_id"])
        r = [None if (is_missing(v) or not c) else float(v) for v, c in zip(rows["score"], rows["comparable"])]
        text = [format_score(s, n, m) for s, n, m in zip(rows["score"], rows["n_rated"], rows["n_elements"])]
        if age == 0:
            style = dict(line=dict(color=NHS_BLUE, width=3.5), marker=dict(size=9, symbol="circle"),
                         fill="toself", fillcolor="rgba(0,94,184,0.10)")
        else:
            colour, dash, symbol = _OLDER[min(age - 1, len(_OLDER) - 1)]
            style = dict(line=dict(color=colour, width=2, dash=dash), marker=dict(size=7, symbol=symbol))
        fig.add_trace(go.Scatterpolar(
            r=r + r[:1], theta=loop, name=chart_text(year), mode="lines+markers", connectgaps=False,
            text=text + text[:1], hovertemplate="%{theta}<br>%{text}<extra>%{fullData.name}</extra>", **style))
    if show_target and shown:
        latest = shown[-1]
        rows = series[series["year"] == latest].set_index("domain_id").reindex(doms["domain_id"])
        r = [None if is_missing(v) else float(v) for v in rows["target"]]
        fig.add_trace(go.Scatterpolar(
            r=r + r[:1], theta=loop, name=f"Target ({chart_text(latest)})", mode="lines+markers",
            line=dict(color=TARGET_COLOUR, width=2.5, dash="dash"), marker=dict(size=7, symbol="circle-open"),
            hovertemplate="%{theta}<br>target %{r:.1f}<extra></extra>"))
    # Domain names run up to three lines outside the circle: the margins hold them, and the legend
    # sits below the bottom one.
    lines = max(line_count(t) for t in theta)
    fig.update_layout(
        polar=_polar(labels, stage_values(stages), len(theta)),
        legend=dict(orientation="h", yanchor="bottom", y=0, yref="container", xanchor="center", x=0.5),
        margin=dict(l=90, r=90, t=(60 if title else 20) + LINE_PX * lines, b=50 + LINE_PX * lines), height=580)
    if skipped:
        fig.add_annotation(text="Not shown (not comparable): " + chart_text(", ".join(skipped)), showarrow=False,
                           xref="paper", yref="paper", x=0, y=-0.16, xanchor="left",
                           font=dict(size=12, color=NHS_DARK_GREY))
    return fig


def _dots_layout(series: pd.DataFrame, stages: Stages, title: str | None, width: int) -> SimpleNamespace:
    """Labels and heights (px) of `profile_dots`, worked out before drawing."""
    labels = labels_of(stages)
    n = len(labels)
    doms = domains_of(series)
    y = _unique([fit(t, 34, 2) for t in doms["domain_title"]])
    shown, skipped = _years_shown(series)
    values = stage_values(stages)
    per_stage = (width - 34 * CHAR_PX - 60) / max(n - 1, 1)
    ticks = stage_ticks(labels, int(per_stage / CHAR_PX) - 1, 3, values)
    top = (50 if title else 10) + max(line_count(t) for t in ticks) * LINE_PX + 16
    bottom = 50 + (24 if skipped else 0)
    rows_h = sum(max(30, line_count(t) * LINE_PX + 14) for t in y)
    return SimpleNamespace(labels=labels, n=n, doms=doms, y=y, shown=shown, skipped=skipped, values=values,
                           ticks=ticks, top=top, bottom=bottom, height=top + rows_h + bottom)


def profile_dots_height(series: pd.DataFrame, stages: Stages, *, title: str | None = "Maturity by domain",
                        width: int = 820) -> int:
    """The height (px) `profile_dots` gives the figure of this series, without building it."""
    return _dots_layout(series, stages, title, width).height


def profile_dots(series: pd.DataFrame, stages: Stages, *, title: str | None = "Maturity by domain",
                 show_target: bool = True, width: int = 820) -> go.Figure:
    """The radar's data as a dot chart: a row per domain, the stage scale across the top, a dot
    per comparable year (the latest strongest, a grey line from the year before showing the
    move) and the latest target as an open diamond. For any number of domains; `width` (px) is
    what the labels are fitted to. Long names are cut to two lines with "…": the full names are
    in `tables.profile_table`."""
    g = _dots_layout(series, stages, title, width)
    n, doms, y, shown, skipped, values, ticks = g.n, g.doms, g.y, g.shown, g.skipped, g.values, g.ticks
    fig = _figure(title)
    frames = {}
    for year in shown:
        rows = series[series["year"] == year].set_index("domain_id").reindex(doms["domain_id"])
        frames[year] = rows
    if len(shown) >= 2:  # the move from the year before to the latest, under the dots
        before, after = frames[shown[-2]], frames[shown[-1]]
        lx, ly = [], []
        for label, b, a, cb, ca in zip(y, before["score"], after["score"], before["comparable"], after["comparable"]):
            if not (is_missing(b) or is_missing(a)) and cb and ca:
                lx += [float(b), float(a), None]
                ly += [label, label, None]
        fig.add_trace(go.Scatter(x=lx, y=ly, mode="lines", line=dict(color=NHS_PALE_GREY, width=5),
                                 hoverinfo="skip", showlegend=False))
    for year in shown:
        age = len(shown) - 1 - shown.index(year)
        rows = frames[year]
        x = [None if (is_missing(v) or not c) else float(v) for v, c in zip(rows["score"], rows["comparable"])]
        text = [format_score(s, k, m) for s, k, m in zip(rows["score"], rows["n_rated"], rows["n_elements"])]
        if age == 0:
            marker = dict(size=12, symbol="circle", color=NHS_BLUE, line=dict(color="white", width=1))
        else:
            colour, _, symbol = _OLDER[min(age - 1, len(_OLDER) - 1)]
            marker = dict(size=9, symbol=symbol, color=colour)
        fig.add_trace(go.Scatter(
            x=x, y=y, name=chart_text(year), mode="markers", marker=marker, text=text,
            hovertemplate="%{y}<br>%{text}<extra>%{fullData.name}</extra>"))
    if show_target and shown:
        rows = frames[shown[-1]]
        x = [None if is_missing(v) else float(v) for v in rows["target"]]
        fig.add_trace(go.Scatter(
            x=x, y=y, name=f"Target ({chart_text(shown[-1])})", mode="markers",
            marker=dict(size=12, symbol="diamond-open", color=TARGET_COLOUR, line=dict(width=2.5)),
            hovertemplate="%{y}<br>target %{x:.1f}<extra></extra>"))
    top, bottom = g.top, g.bottom
    pad = 0.35 * (values[-1] - values[0]) / max(n - 1, 1)
    fig.update_xaxes(range=[values[0] - pad, values[-1] + pad], tickvals=values, ticktext=ticks, side="top",
                     showgrid=True, gridcolor=NHS_PALE_GREY, zeroline=False, automargin=True)
    fig.update_yaxes(categoryorder="array", categoryarray=y, autorange="reversed", showgrid=False,
                     ticks="", automargin=True, tickfont=dict(size=13))
    fig.update_layout(
        height=g.height, margin=dict(l=20, r=30, t=top, b=bottom),
        legend=dict(orientation="h", yanchor="bottom", y=0, yref="container", xanchor="left", x=0))
    if skipped:
        fig.add_annotation(text="Not shown (not comparable): " + chart_text(", ".join(skipped)), showarrow=False,
                           xref="paper", yref="paper", x=0, y=0, yanchor="top", xanchor="left", yshift=-6,
                           font=dict(size=12, color=NHS_DARK_GREY))
    return fig


# ---------------------------------------------------------------------------------------------
# Progress per domain across years (small multiples)


def _progress_layout(series: pd.DataFrame, stages: Stages, title: str | None, columns: int,
                     width: int) -> SimpleNamespace:
    """Where everything of `domain_progress` goes, in px: worked out before drawing, so a page
    can ask how tall the figure of some domains will be without building it."""
    labels = labels_of(stages)
    n = len(labels)
    doms = domains_of(series)
    years = sorted(series["year"].unique())
    cols = max(1, min(columns, len(doms)))
    rows = max(1, math.ceil(len(doms) / cols))
    panel_h = max(190, 34 * n)  # each stage at least 34 px apart on the axis: two lines of label
    per_stage = panel_h / (n - 1 + 0.85)
    values = stage_values(stages)
    ticks = stage_ticks(labels, 22, min(3, int(per_stage // LINE_PX)), values)
    left = 20 + max(len(t) for tick in ticks for t in tick.split("<br>")) * CHAR_PX
    panel_w = (width - left - 30) / cols
    titles = [fit(t, max(12, int(panel_w / (CHAR_PX + 0.5))), 4) for t in doms["domain_title"]]
    title_h = max((line_count(t) for t in titles), default=1) * 17 + 8
    year_w = max((len(str(y)) for y in years), default=7) * CHAR_PX + 12
    xtick_h = 50 if len(years) * year_w > panel_w else 30  # room for the years, turned when they crowd
    gap = title_h + xtick_h
    top = (50 if title else 10) + 34 + title_h  # the title, the legend, the first row's panel titles
    bottom = xtick_h + 10
    height = top + rows * panel_h + (rows - 1) * gap + bottom
    return SimpleNamespace(labels=labels, n=n, doms=doms, years=years, cols=cols, rows=rows, panel_h=panel_h,
                           values=values, ticks=ticks, left=left, titles=titles, xtick_h=xtick_h, gap=gap, top=top,
                           bottom=bottom, height=height)


def domain_progress_height(series: pd.DataFrame, stages: Stages, *, title: str | None = "Progress by domain",
                           columns: int = 3, width: int = 820) -> int:
    """The height (px) `domain_progress` gives the figure of this series, without building it."""
    return _progress_layout(series, stages, title, columns, width).height


def domain_progress(series: pd.DataFrame, stages: Stages, *, title: str | None = "Progress by domain",
                    columns: int = 3, width: int = 820) -> go.Figure:
    """A small chart per domain: its score in every year (points labelled), the target dashed.
    The figure grows with the number of domains; to split it (a page at a time), give it the
    series of some domains only. Panel titles wrap to four lines and are cut with "…" beyond;
    stage labels are fitted to the room each stage has on the axis (see `theme.stage_ticks`).
    `width` (px) is what the titles are fitted to."""
    g = _progress_layout(series, stages, title, columns, width)
    n, doms, years, cols, rows = g.n, g.doms, g.years, g.cols, g.rows
    gap, top, bottom, height, values = g.gap, g.top, g.bottom, g.height, g.values
    titles, ticks, left, xtick_h = g.titles, g.ticks, g.left, g.xtick_h
    fig = make_subplots(rows=rows, cols=cols, shared_yaxes=True, horizontal_spacing=min(0.05, 0.16 / cols),
                        vertical_spacing=gap / max(height - top - bottom, 1) if rows > 1 else 0.1,
                        subplot_titles=titles)
    fig.update_layout(template=template())
    if title:
        fig.update_layout(title=dict(text=chart_text(title)))
    for i, dom in enumerate(doms.itertuples()):
        row, col = i // cols + 1, i % cols + 1
        d = series[series["domain_id"] == dom.domain_id].set_index("year").reindex(years)
        comparable = d["comparable"].fillna(False)
        score = [None if (is_missing(s) or not c) else float(s) for s, c in zip(d["score"], comparable)]
        text = [format_score(s) if s is not None else "" for s in score]
        fig.add_trace(go.Scatter(
            x=[chart_text(y) for y in years], y=score, mode="lines+markers+text", name="Score",
            legendgroup="score", showlegend=i == 0, text=text, textposition="bottom center",
            textfont=dict(size=12, color=NHS_DARK_BLUE), line=dict(color=NHS_BLUE, width=3),
            marker=dict(size=9, color=NHS_BLUE), connectgaps=False,
            customdata=[format_score(s, r, m) for s, r, m in zip(d["score"], d["n_rated"], d["n_elements"])],
            hovertemplate="%{x}: %{customdata}<extra></extra>"), row=row, col=col)
        target = [None if (is_missing(t) or not c) else float(t) for t, c in zip(d["target"], comparable)]
        if any(t is not None for t in target):
            fig.add_trace(go.Scatter(
                x=[chart_text(y) for y in years], y=target, mode="lines+markers", name="Target",
                legendgroup="target", showlegend=not any(t.name == "Target" for t in fig.data),
                line=dict(color=TARGET_COLOUR, width=2, dash="dash"),
                marker=dict(size=8, symbol="circle-open", color=TARGET_COLOUR),
                hovertemplate="%{x}: target %{y:.1f}<extra></extra>"), row=row, col=col)
    step = (values[-1] - values[0]) / max(n - 1, 1)  # the room a stage has, to pad the range by
    fig.update_yaxes(range=[values[0] - 0.55 * step, values[-1] + 0.3 * step], tickvals=values, ticktext=ticks,
                     gridcolor=NHS_PALE_GREY, zeroline=False, tickfont=dict(size=12), automargin=True)
    # Half a category of room either side keeps the first and last year's labels inside the panel.
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=[chart_text(y) for y in years],
                     range=[-0.5, len(years) - 0.5], showline=True, linecolor=NHS_MID_GREY,
                     tickangle=-40 if xtick_h > 30 else 0, tickfont=dict(size=12))
    for a in fig.layout.annotations:  # the subplot titles
        a.font = dict(size=14, color=NHS_DARK_BLUE)
    # The legend sits at the very top, above every panel title: anywhere lower it covers a panel's
    # years or a title.
    fig.update_layout(height=height, margin=dict(l=left, r=30, t=top, b=bottom),
                      legend=dict(orientation="h", yanchor="top", y=1, yref="container", xanchor="left", x=0))
    return fig


# ---------------------------------------------------------------------------------------------
# Portfolio heatmap: PCNs x domains


def _pcn_label(code, name) -> str:
    return f"{name} ({code})" if isinstance(name, str) and name else str(code)


def _cells(portfolio: pd.DataFrame) -> pd.DataFrame:
    """Per PCN x domain: the value to colour (NaN when there is nothing to show) and the cell text."""
    p = portfolio
    started = p["status"] != NOT_STARTED
    ok = started & p["comparable"].astype(bool) & p["score"].notna() & (p["n_rated"] > 0)
    counts = p["n_rated"].astype(int).astype(str) + " of " + p["n_elements"].astype(int).astype(str)
    text = pd.Series("not rated, 0 of " + p["n_elements"].astype(int).astype(str), index=p.index)
    # astype(str): with no cell to show, the mapped column stays float and cannot take text.
    text[ok] = p.loc[ok, "score"].map("{:.1f}".format).astype(str) + ", " + counts[ok] + " rated"
    text[started & ~p["comparable"].astype(bool)] = "not comparable"
    text[~started] = "not started"
    return pd.DataFrame({"code": p["code"], "domain_id": p["domain_id"], "value": p["score"].where(ok),
                         "text": text})


def _pcn_tick(code, name) -> str:
    """A PCN's row label: its name and code, the name cut to two lines (the code always shown)."""
    full = fit(_pcn_label(code, name), 44, 2)
    if not full.endswith("…") or not (isinstance(name, str) and name):
        return full
    return fit(name, 44, 2) + f" ({chart_text(code)})"


def heatmap(portfolio: pd.DataFrame, stages: Stages, *, title: str | None = "Domain scores by PCN",
            width: int = 1000, counts: bool = True) -> go.Figure:
    """PCNs (rows, in the order given: never ranked) x domains; colour = score, each cell also
    says the score and how many elements were rated, so it reads without colour (`counts=False`:
    the score alone, one line of text a cell, which a browser draws in half the elements; the
    counts stay in the hover text, and the page's table says them). Meant for an
    ICS or a filtered list: each PCN takes 40 px, so national scale belongs in the table. Names
    are fitted to the `width` (px) the chart is drawn at and cut with "…" (PCNs to two lines,
    domains to four, or when the columns are narrow to one turned line, the cells then giving
    the score alone, or nothing where even that does not fit); the table beside has them in full."""
    labels = labels_of(stages)
    n = len(labels)
    values = stage_values(stages)
    low, high = values[0], values[-1]
    fig = _figure(title)
    doms = domains_of(portfolio)
    pcns = portfolio.drop_duplicates("code")
    names = pcns["name"] if "name" in pcns else pcns["code"]
    y = _unique([_pcn_tick(c, nm) for c, nm in zip(pcns["code"], names)])
    col_px = (width - 44 * CHAR_PX - 110) / max(len(doms), 1)
    wide = col_px < 90  # too narrow for "2 of 3 rated" and a four-line name
    x = _unique([fit(t, 24, 1) if wide else fit(t, int(col_px / CHAR_PX) - 3, 4) for t in doms["domain_title"]])
    value, text = _grid(portfolio, pcns, doms)
    status = dict(zip(pcns["code"], pcns["status"]))
    z = [[None if is_missing(v) else float(v) for v in row] for row in value.to_numpy()]
    cell_text = [["" if col_px < 26 else t.split(", ")[0] if wide or not counts else t.replace(", ", "<br>", 1)
                  for t in row] for row in text.to_numpy()]
    hover = [[f"{yl}<br>{xl}<br>{t}<br>status: {chart_text(status[code])}" for xl, t in zip(x, row)]
             for code, yl, row in zip(pcns["code"], y, text.to_numpy())]
    plot_h = max(40 * len(y), 22 * n + 20)  # at least a line of the colour bar's labels per stage
    bar_len = min(1.0, 320 / (80 + plot_h))
    bar_px = bar_len * plot_h
    # A pale layer underneath, so cells without a score read as empty rather than as white gaps.
    fig.add_trace(go.Heatmap(z=[[0] * len(x) for _ in y], x=x, y=y, showscale=False, hoverinfo="skip",
                             colorscale=[[0, NOT_RATED_COLOUR], [1, NOT_RATED_COLOUR]], xgap=2, ygap=2))
    fig.add_trace(go.Heatmap(
        z=z, x=x, y=y, zmin=low, zmax=high, colorscale=stage_colourscale(n), xgap=2, ygap=2,
        hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
        colorbar=dict(title=dict(text="Score", side="top"), tickvals=values,
                      ticktext=stage_ticks(labels, 22, max(0, min(2, int(bar_px / max(n, 1) // LINE_PX))), values),
                      tickfont=dict(size=11), thickness=14, len=bar_len, lenmode="fraction", yanchor="top", y=1)))
    # Heatmap text has one colour for every cell; a text layer lets dark cells carry white text.
    scale = stage_colourscale(n)
    tx, ty, tt, tc = [], [], [], []
    for yl, zr, tr in zip(y, z, cell_text):
        for xl, v, t in zip(x, zr, tr):
            tx.append(xl)
            ty.append(yl)
            tt.append(t)
            tc.append(NHS_DARK_GREY if v is None else text_colour_on(colour_at(scale, _along(v, low, high))))
    fig.add_trace(go.Scatter(x=tx, y=ty, text=tt, mode="text", textfont=dict(size=12, color=tc),
                             hoverinfo="skip", showlegend=False))
    fig.update_yaxes(autorange="reversed", showgrid=False, ticks="", automargin=True, categoryorder="array",
                     categoryarray=y)
    # Every domain keeps its label (plotly drops some when they crowd): turned upright when narrow.
    fig.update_xaxes(side="top", showgrid=False, ticks="", automargin=True, categoryorder="array", categoryarray=x,
                     tickmode="array", tickvals=x, ticktext=x, tickangle=(-90 if col_px < 22 else -50) if wide else 0,
                     tickfont=dict(size=11 if col_px < 22 else 13))
    top = 170 if wide else 40 + LINE_PX * max(line_count(t) for t in x)
    fig.update_layout(height=top + plot_h + 30, margin=dict(l=20, r=20, t=top, b=20))
    return fig


def heat_table(portfolio: pd.DataFrame, stages: Stages) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The heat map as a coloured table, which a browser draws in a fraction of a chart's time: a row
    per PCN in the order given (never ranked) with its code, list size, area and assessment, then a
    cell per domain with its score and on how many elements it rests ('1.4, 3 of 4 rated'),
    coloured as the heat map colours it. Returns the table and, cell by cell, its CSS: the stage
    colour and black or white text, whichever contrasts more (empty for the columns not coloured)."""
    labels = labels_of(stages)
    values = stage_values(stages)
    low, high = values[0], values[-1]
    scale = stage_colourscale(len(labels))
    doms = domains_of(portfolio)
    pcns = portfolio.drop_duplicates("code").reset_index(drop=True)
    value, text = _grid(portfolio, pcns, doms)
    table = pd.DataFrame({"PCN": pcns["name"].fillna("") if "name" in pcns else pcns["code"],
                          "Code": pcns["code"], "List size": [f"{int(n):,}" if pd.notna(n) else "" for n in pcns["list_size"]],
                          "Area": [area_text(r) for r in pcns["rural"]], "Assessment": pcns["status"]})
    styles = pd.DataFrame("", index=table.index, columns=table.columns)
    for dom in doms.itertuples():
        column = dom.domain_title
        table[column] = text[dom.domain_id].fillna("").to_numpy()
        css = []
        for v in value[dom.domain_id].to_numpy():
            background = NOT_RATED_COLOUR if is_missing(v) else colour_at(scale, _along(float(v), low, high))
            css.append(f"background-color: {background}; color: {NHS_DARK_GREY if is_missing(v) else text_colour_on(background)}")
        styles[column] = css
    return table, styles


def legend_swatches(stages: Stages) -> list[tuple[str, str, str]]:
    """(stage label, background, text colour) for each stage of the scale, lowest first, for a colour key."""
    labels = labels_of(stages)
    values = stage_values(stages)
    scale = stage_colourscale(len(labels))
    out = []
    for label, v in zip(labels, values):
        background = colour_at(scale, _along(v, values[0], values[-1]))
        out.append((label, background, text_colour_on(background)))
    return out


def _grid(portfolio: pd.DataFrame, pcns: pd.DataFrame, doms: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """PCN x domain frames of the value to colour and the cell text (`_cells`), in the given orders."""
    cells = _cells(portfolio)
    return tuple(cells.pivot(index="code", columns="domain_id", values=v).reindex(
        index=pcns["code"], columns=doms["domain_id"]) for v in ("value", "text"))


def _along(v: float, low: float, high: float) -> float:
    """Where a score sits between the scale's lowest and highest stage, 0 to 1, for `colour_at`."""
    return (v - low) / max(high - low, 1e-9)


def colour_at(scale: list[list], t: float) -> str:
    """The colour a continuous scale gives at t in [0, 1] (linear in RGB, as plotly draws it)."""
    t = min(1.0, max(0.0, t))
    for (t0, c0), (t1, c1) in zip(scale, scale[1:]):
        if t0 <= t <= t1:
            f = 0 if t1 == t0 else (t - t0) / (t1 - t0)
            rgb = [round(int(c0[i:i + 2], 16) + f * (int(c1[i:i + 2], 16) - int(c0[i:i + 2], 16))) for i in (1, 3, 5)]
            return "#" + "".join(f"{v:02X}" for v in rgb)
    return scale[-1][1]


def heatmap_table(portfolio: pd.DataFrame) -> pd.DataFrame:
    """One row per PCN: PCN, Code, ICS, Status, then one column per domain ('1.5, 2 of 3 rated')."""
    doms = domains_of(portfolio)
    pcns = portfolio.drop_duplicates("code").reset_index(drop=True)
    out = pd.DataFrame({
        "PCN": pcns["name"].fillna("") if "name" in pcns else "",
        "Code": pcns["code"],
        "ICS": pcns["ics"].fillna("") if "ics" in pcns else "",
        "Status": pcns["status"],
    })
    text = _cells(portfolio).pivot(index="code", columns="domain_id", values="text").reindex(
        index=pcns["code"], columns=doms["domain_id"])
    for dom in doms.itertuples():
        out[dom.domain_title] = text[dom.domain_id].to_numpy()
    return out


# ---------------------------------------------------------------------------------------------
# Distribution of stages per domain


def stage_distribution(dist: pd.DataFrame, *, title: str | None = "Stages reached, by domain") -> go.Figure:
    """Stacked horizontal bars, one per domain: the share of elements at each stage, in scale
    order, then 'Not rated' (pale grey, hatched so it differs from the first stage in greyscale)."""
    fig = _figure(title)
    bars = distribution_bars(dist)
    y = _unique([fit(t, 34, 2) for t, _ in bars])
    for i, seg in enumerate(bars[0][1] if bars else []):
        pct = [segments[i]["share"] for _, segments in bars]
        counts = [segments[i]["count"] for _, segments in bars]
        fig.add_trace(go.Bar(
            y=y, x=pct, orientation="h", name=chart_text(seg["label"]),
            marker=dict(color=seg["background"], line=dict(color="white", width=1),
                        pattern=dict(shape="/", fgcolor=NHS_MID_GREY, size=8, solidity=0.15) if seg["hatched"] else None),
            text=[f"{p:.0f}%" if p >= 6 else "" for p in pct], textposition="inside", insidetextanchor="middle",
            textfont=dict(color=seg["text"], size=12),
            customdata=[[c, chart_text(seg["label"])] for c in counts],
            hovertemplate="%{y}<br>%{customdata[1]}: %{customdata[0]} elements (%{x:.0f}%)<extra></extra>"))
    fig.update_layout(barmode="stack", height=140 + 70 * len(y), bargap=0.3,
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0, traceorder="normal"),
                      margin=dict(l=20, r=30, t=110, b=50))
    fig.update_xaxes(range=[0, 100], ticksuffix="%", title=dict(text="Share of elements across PCNs"),
                     showgrid=True, gridcolor=NHS_PALE_GREY)
    fig.update_yaxes(autorange="reversed", automargin=True, showgrid=False)
    return fig


def distribution_bars(dist: pd.DataFrame) -> list[tuple[str, list[dict]]]:
    """The stacked bars of `stage_distribution` as data, for pages that draw them as HTML: per domain
    (title), its segments in scale order then 'Not rated', each with its label, count, share (%),
    background and text colour, and whether it is the hatched 'Not rated'."""
    doms = domains_of(dist)
    buckets = dist.drop_duplicates("stage_id")[["stage_id", "stage_label"]]
    rated = buckets[buckets["stage_id"] != NOT_RATED_ID]
    colours = dict(zip(rated["stage_id"], stage_colours(len(rated))))
    by_bucket = {b.stage_id: dist[dist["stage_id"] == b.stage_id].set_index("domain_id").reindex(doms["domain_id"])
                 for b in buckets.itertuples()}
    out = []
    for dom in doms.itertuples():
        segments = []
        for b in buckets.itertuples():
            row = by_bucket[b.stage_id].loc[dom.domain_id]
            not_rated = b.stage_id == NOT_RATED_ID
            colour = NOT_RATED_COLOUR if not_rated else colours[b.stage_id]
            segments.append({"label": b.stage_label, "count": 0 if is_missing(row["count"]) else int(row["count"]),
                             "share": 0.0 if is_missing(row["share"]) else float(row["share"]) * 100,
                             "background": colour, "text": NHS_DARK_GREY if not_rated else text_colour_on(colour),
                             "hatched": not_rated})
        out.append((dom.domain_title, segments))
    return out


def stage_distribution_table(dist: pd.DataFrame) -> pd.DataFrame:
    """One row per domain; one column per stage (and Not rated): 'count (share%)'."""
    doms = domains_of(dist)
    out = pd.DataFrame({"Domain": doms["domain_title"]})
    for b in dist.drop_duplicates("stage_id").itertuples():
        rows = dist[dist["stage_id"] == b.stage_id].set_index("domain_id").reindex(doms["domain_id"])
        out[b.stage_label] = [f"{int(c)} ({s * 100:.0f}%)" for c, s in zip(rows["count"], rows["share"])]
    return out


# ---------------------------------------------------------------------------------------------
# Workshop: spread of ratings per element, and each participant's profile


def _element_label(title: str, split: bool) -> str:
    return fit(title, 40, 2) + ("<br><b>views differ</b>" if split else "")


def workshop_spread(frame: pd.DataFrame, stages: Stages, *, summary: pd.DataFrame | None = None,
                    title: str | None = "How the group rated each element", width: int = 1000) -> go.Figure:
    """Per element: each rating as a dot (side by side where several chose the same stage), the
    range as a grey bar, and the median as a dark tick. Split elements say so in their label.

    `frame` is `scoring.workshop_frame(...)`; `summary` (`scoring.workshop_summary(...)`) is
    computed when `stages` is the matrix. Elements appear in the summary's (matrix) order.
    Element titles are cut to two lines and stage labels fitted to the `width` (px) the chart is
    drawn at; the table beside has both in full."""
    if summary is None:
        if not isinstance(stages, Matrix):
            raise ValueError("workshop_spread needs the matrix, or a summary from scoring.workshop_summary")
        summary = workshop_summary(stages, frame)
    labels = labels_of(stages)
    n = len(labels)
    fig = _figure(title)
    ys = list(range(len(summary)))
    ticktext = [_element_label(t, bool(s)) for t, s in zip(summary["element_title"], summary["split"])]
    pos = dict(zip(summary["element_id"], ys))
    # Range bars first, underneath the dots.
    rx, ry = [], []
    for s, y in zip(summary.itertuples(), ys):
        if s.n > 0:
            rx += [s.low, s.high, None]
            ry += [y, y, None]
    fig.add_trace(go.Scatter(x=rx, y=ry, mode="lines", name="Range", line=dict(color=NHS_PALE_GREY, width=12),
                             hoverinfo="skip"))
    dx, dy, who, stage_text = [], [], [], []
    for eid, group in frame.groupby("element_id", sort=False):
        for score, same in group.groupby("score", sort=True):
            k = len(same)
            step = min(0.09, 0.6 / max(k, 1))
            for j, person in enumerate(same["participant"]):
                dx.append(score + (j - (k - 1) / 2) * step)
                dy.append(pos[eid])
                who.append(chart_text(person))
                stage_text.append(chart_text(labels[int(score)]))
    fig.add_trace(go.Scatter(
        x=dx, y=dy, mode="markers", name="One person's rating",
        marker=dict(size=11, color=NHS_BLUE, opacity=0.8, line=dict(color="white", width=1)),
        customdata=list(zip(who, stage_text)), hovertemplate="%{customdata[0]}: %{customdata[1]}<extra></extra>"))
    med = summary[summary["n"] > 0]
    fig.add_trace(go.Scatter(
        x=[float(m) for m in med["median"]], y=[pos[e] for e in med["element_id"]], mode="markers", name="Median",
        marker=dict(symbol="line-ns", size=30, line=dict(color=NHS_DARK_BLUE, width=4)),
        customdata=[chart_text(s) for s in med["median_stage"]],
        hovertemplate="median: %{customdata}<extra></extra>"))
    per_stage = (width - 40 * CHAR_PX - 60) / max(n, 1)
    fig.update_xaxes(range=[-0.5, n - 0.5], tickvals=list(range(n)),
                     ticktext=stage_ticks(labels, int(per_stage / CHAR_PX) - 1, 3), automargin=True,
                     side="top", showgrid=True, gridcolor=NHS_PALE_GREY, zeroline=False)
    fig.update_yaxes(tickvals=ys, ticktext=ticktext, range=[len(ys) - 0.5, -0.5], showgrid=False,
                     zeroline=False, automargin=True)
    fig.update_layout(height=150 + 56 * len(ys), margin=dict(l=20, r=30, t=120, b=40),
                      legend=dict(orientation="h", yanchor="top", y=-0.01, xanchor="left", x=0))
    return fig


def spread_rows(frame: pd.DataFrame, stages: Stages, *, summary: pd.DataFrame | None = None) -> list[dict]:
    """`workshop_spread` as data, for pages that draw it as HTML: per element in the summary's
    order, its title, whether views differ, its number of ratings, how many chose each stage (in
    scale order), and the lowest, highest and median stage as positions on the scale (0 is the
    first stage; a median may fall half way between two). Positions are None with no ratings."""
    if summary is None:
        if not isinstance(stages, Matrix):
            raise ValueError("spread_rows needs the matrix, or a summary from scoring.workshop_summary")
        summary = workshop_summary(stages, frame)
    n = len(labels_of(stages))
    counts = frame.groupby(["element_id", "score"]).size() if len(frame) else pd.Series(dtype=int)
    rows = []
    for s in summary.itertuples():
        rated = int(s.n) > 0
        rows.append({
            "title": s.element_title, "split": bool(s.split), "n": int(s.n),
            "counts": [int(counts.get((s.element_id, i), 0)) for i in range(n)],
            "low": float(s.low) if rated else None, "high": float(s.high) if rated else None,
            "median": float(s.median) if rated else None})
    return rows


def workshop_spread_table(summary: pd.DataFrame, stages: Stages) -> pd.DataFrame:
    """Element, Ratings, Median, Lowest, Highest, Spread (IQR, stages), Agreement, Views differ."""
    labels = labels_of(stages)

    def stage(x) -> str:
        return "" if is_missing(x) else labels[int(x)]

    return pd.DataFrame({
        "Element": summary["element_title"],
        "Ratings": summary["n"].astype(int),
        "Median": [stage(m) for m in summary["median"]],
        "Lowest": [stage(m) for m in summary["low"]],
        "Highest": [stage(m) for m in summary["high"]],
        "Spread (IQR, stages)": ["" if is_missing(i) else f"{i:.1f}" for i in summary["iqr"]],
        "Agreement": [agreement_words(None if is_missing(a) else float(a)) for a in summary["agreement"]],
        "Views differ": ["yes" if s else "no" for s in summary["split"]],
    })


def participant_radar(profiles: pd.DataFrame, median: Sequence[DomainScore], stages: Stages, *,
                      title: str | None = "Each participant's view and the group median") -> go.Figure:
    """Each participant faint and thin; the group median (domain means of element medians) strong."""
    labels = labels_of(stages)
    fig = _figure(title)
    titles = [d.domain_title for d in median]
    ids = [d.domain_id for d in median]
    theta = _unique([fit(t, 18, 3) for t in titles])
    loop = theta + theta[:1]
    for i, (who, rows) in enumerate(profiles.groupby("participant", sort=False)):
        rows = rows.set_index("domain_id").reindex(ids)
        r = [None if is_missing(v) else float(v) for v in rows["score"]]
        fig.add_trace(go.Scatterpolar(
            r=r + r[:1], theta=loop, mode="lines", name="Each participant", legendgroup="participants",
            showlegend=i == 0, line=dict(color=NHS_MID_GREY, width=1.5), opacity=0.55,
            text=[chart_text(who)] * len(loop), hovertemplate="%{text}<br>%{theta}: %{r:.1f}<extra></extra>"))
    r = [d.score for d in median]
    fig.add_trace(go.Scatterpolar(
        r=r + r[:1], theta=loop, mode="lines+markers", name="Group median",
        line=dict(color=NHS_BLUE, width=4), marker=dict(size=9),
        hovertemplate="%{theta}<br>median %{r:.1f}<extra></extra>"))
    fig.update_layout(
        polar=_polar(labels, stage_values(stages), len(theta)),
        legend=dict(orientation="h", yanchor="top", y=-0.08, xanchor="center", x=0.5),
        margin=dict(l=90, r=90, t=110, b=70), height=560)
    return fig


def participant_radar_table(profiles: pd.DataFrame, median: Sequence[DomainScore]) -> pd.DataFrame:
    """One row per domain: each participant's score, then the group median."""
    out = pd.DataFrame({"Domain": [d.domain_title for d in median]})
    ids = [d.domain_id for d in median]
    for who, rows in profiles.groupby("participant", sort=False):
        rows = rows.set_index("domain_id").reindex(ids)
        out[str(who)] = [format_score(s, n, m) for s, n, m in zip(rows["score"], rows["n_rated"], rows["n_elements"])]
    out["Group median"] = [format_score(d.score, d.n_rated, d.n_elements) for d in median]
    return out

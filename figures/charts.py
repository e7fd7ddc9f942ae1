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
from typing import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from assessments.scoring import NOT_RATED_ID, NOT_STARTED, DomainScore, agreement_words, workshop_summary
from matrix import Matrix

from .tables import domains_of, format_score, is_missing, labels_of
from .theme import (NHS_BLUE, NHS_DARK_BLUE, NHS_DARK_GREY, NHS_MID_GREY, NHS_PALE_GREY, NOT_RATED_COLOUR,
                    TARGET_COLOUR, chart_text, stage_colours, stage_colourscale, template, text_colour_on, wrap)

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


def _polar(labels: list[str], n_domains: int) -> dict:
    """The stage labels run up a vertical line at the top, read horizontally; the domains are
    turned half a sector so that line falls between the first and the last domain, where no data
    is drawn. The first domain is just right of the top and the rest follow clockwise."""
    n = len(labels)
    return dict(
        hole=0.06,
        radialaxis=dict(range=[0, n - 1], tickvals=list(range(n)), ticktext=[chart_text(s) for s in labels],
                        tickfont=dict(size=12, color=NHS_DARK_GREY), gridcolor=NHS_PALE_GREY, showline=False,
                        angle=90, tickangle=90, ticks=""),
        angularaxis=dict(rotation=90 - 180 / max(n_domains, 1), direction="clockwise", tickfont=dict(size=13),
                         gridcolor=NHS_PALE_GREY, linecolor=NHS_MID_GREY))


# Older years step back in colour, dash and marker so they still read apart in greyscale.
_OLDER = [("#4C6272", "dot", "square"), ("#768692", "dashdot", "diamond"), ("#97A3AE", "longdashdot", "triangle-up"),
          ("#AEB7BD", "dot", "cross")]


# ---------------------------------------------------------------------------------------------
# Radar: domain profile per year with the target


def radar(series: pd.DataFrame, stages: Stages, *, title: str | None = "Maturity by domain",
          show_target: bool = True) -> go.Figure:
    """One closed trace per comparable year (latest strongest), and the latest year's target dashed.

    `series` is `scoring.progress_series(...)` or `scoring.profile_frame(...)`."""
    labels = labels_of(stages)
    fig = _figure(title)
    doms = domains_of(series)
    theta = _unique([wrap(t, 16) for t in doms["domain_title"]])
    loop = theta + theta[:1]
    years = sorted(series["year"].unique())
    shown = [y for y in years if series.loc[series["year"] == y, "comparable"].any()]
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
    fig.update_layout(
        polar=_polar(labels, len(theta)),
        legend=dict(orientation="h", yanchor="top", y=-0.08, xanchor="center", x=0.5),
        margin=dict(l=90, r=90, t=110, b=80), height=580)
    skipped = [y for y in years if y not in shown]
    if skipped:
        fig.add_annotation(text="Not shown (not comparable): " + chart_text(", ".join(skipped)), showarrow=False,
                           xref="paper", yref="paper", x=0, y=-0.16, xanchor="left",
                           font=dict(size=12, color=NHS_DARK_GREY))
    return fig


# ---------------------------------------------------------------------------------------------
# Progress per domain across years (small multiples)


def domain_progress(series: pd.DataFrame, stages: Stages, *, title: str | None = "Progress by domain",
                    columns: int = 3) -> go.Figure:
    labels = labels_of(stages)
    n = len(labels)
    doms = domains_of(series)
    years = sorted(series["year"].unique())
    cols = max(1, min(columns, len(doms)))
    rows = math.ceil(len(doms) / cols)
    fig = make_subplots(rows=rows, cols=cols, shared_yaxes=True, horizontal_spacing=0.04,
                        vertical_spacing=0.22 / max(rows, 1) + 0.08,
                        subplot_titles=[wrap(t, 32) for t in doms["domain_title"]])
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
    fig.update_yaxes(range=[-0.55, n - 1 + 0.3], tickvals=list(range(n)), ticktext=[chart_text(s) for s in labels],
                     gridcolor=NHS_PALE_GREY, zeroline=False)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=[chart_text(y) for y in years],
                     showline=True, linecolor=NHS_MID_GREY)
    for a in fig.layout.annotations:  # the subplot titles
        a.font = dict(size=14, color=NHS_DARK_BLUE)
    fig.update_layout(height=160 + 300 * rows, legend=dict(orientation="h", yanchor="top", y=-0.06 / rows,
                                                           xanchor="left", x=0),
                      margin=dict(l=110, r=30, t=110, b=90))
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
    text[ok] = p.loc[ok, "score"].map("{:.1f}".format) + ", " + counts[ok] + " rated"
    text[started & ~p["comparable"].astype(bool)] = "not comparable"
    text[~started] = "not started"
    return pd.DataFrame({"code": p["code"], "domain_id": p["domain_id"], "value": p["score"].where(ok),
                         "text": text})


def heatmap(portfolio: pd.DataFrame, stages: Stages, *, title: str | None = "Domain scores by PCN") -> go.Figure:
    """PCNs (rows, in the order given: never ranked) x domains; colour = score, each cell also
    says the score and how many elements were rated, so it reads without colour. Meant for an
    ICS or a filtered list: each PCN takes 40 px, so national scale belongs in the table."""
    labels = labels_of(stages)
    n = len(labels)
    fig = _figure(title)
    doms = domains_of(portfolio)
    pcns = portfolio.drop_duplicates("code")
    names = pcns["name"] if "name" in pcns else pcns["code"]
    y = _unique([chart_text(_pcn_label(c, nm)) for c, nm in zip(pcns["code"], names)])
    x = _unique([wrap(t, 18) for t in doms["domain_title"]])
    cells = _cells(portfolio)
    value = cells.pivot(index="code", columns="domain_id", values="value").reindex(
        index=pcns["code"], columns=doms["domain_id"])
    text = cells.pivot(index="code", columns="domain_id", values="text").reindex(
        index=pcns["code"], columns=doms["domain_id"])
    status = dict(zip(pcns["code"], pcns["status"]))
    z = [[None if is_missing(v) else float(v) for v in row] for row in value.to_numpy()]
    cell_text = [[t.replace(", ", "<br>", 1) for t in row] for row in text.to_numpy()]
    hover = [[f"{yl}<br>{xl}<br>{t}<br>status: {chart_text(status[code])}" for xl, t in zip(x, row)]
             for code, yl, row in zip(pcns["code"], y, text.to_numpy())]
    # A pale layer underneath, so cells without a score read as empty rather than as white gaps.
    fig.add_trace(go.Heatmap(z=[[0] * len(x) for _ in y], x=x, y=y, showscale=False, hoverinfo="skip",
                             colorscale=[[0, NOT_RATED_COLOUR], [1, NOT_RATED_COLOUR]], xgap=2, ygap=2))
    fig.add_trace(go.Heatmap(
        z=z, x=x, y=y, zmin=0, zmax=n - 1, colorscale=stage_colourscale(n), xgap=2, ygap=2,
        hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
        colorbar=dict(title=dict(text="Score", side="top"), tickvals=list(range(n)),
                      ticktext=[chart_text(s) for s in labels], thickness=14, len=min(1.0, 320 / (80 + 40 * len(y))),
                      yanchor="top", y=1)))
    # Heatmap text has one colour for every cell; a text layer lets dark cells carry white text.
    scale = stage_colourscale(n)
    tx, ty, tt, tc = [], [], [], []
    for yl, zr, tr in zip(y, z, cell_text):
        for xl, v, t in zip(x, zr, tr):
            tx.append(xl)
            ty.append(yl)
            tt.append(t)
            tc.append(NHS_DARK_GREY if v is None else text_colour_on(_colour_at(scale, v / max(n - 1, 1))))
    fig.add_trace(go.Scatter(x=tx, y=ty, text=tt, mode="text", textfont=dict(size=12, color=tc),
                             hoverinfo="skip", showlegend=False))
    fig.update_yaxes(autorange="reversed", showgrid=False, ticks="", automargin=True, categoryorder="array",
                     categoryarray=y)
    fig.update_xaxes(side="top", showgrid=False, ticks="", automargin=True, categoryorder="array", categoryarray=x)
    fig.update_layout(height=170 + 40 * len(y), margin=dict(l=20, r=20, t=140, b=20))
    return fig


def _colour_at(scale: list[list], t: float) -> str:
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
    doms = domains_of(dist)
    y = _unique([wrap(t, 24) for t in doms["domain_title"]])
    buckets = dist.drop_duplicates("stage_id")[["stage_id", "stage_label"]]
    rated = buckets[buckets["stage_id"] != NOT_RATED_ID]
    colours = dict(zip(rated["stage_id"], stage_colours(len(rated))))
    for b in buckets.itertuples():
        rows = dist[dist["stage_id"] == b.stage_id].set_index("domain_id").reindex(doms["domain_id"])
        pct = (rows["share"].fillna(0) * 100).tolist()
        counts = rows["count"].fillna(0).astype(int).tolist()
        not_rated = b.stage_id == NOT_RATED_ID
        colour = NOT_RATED_COLOUR if not_rated else colours[b.stage_id]
        fig.add_trace(go.Bar(
            y=y, x=pct, orientation="h", name=chart_text(b.stage_label),
            marker=dict(color=colour, line=dict(color="white", width=1),
                        pattern=dict(shape="/", fgcolor=NHS_MID_GREY, size=8, solidity=0.15) if not_rated else None),
            text=[f"{p:.0f}%" if p >= 6 else "" for p in pct], textposition="inside", insidetextanchor="middle",
            textfont=dict(color=NHS_DARK_GREY if not_rated else text_colour_on(colour), size=12),
            customdata=[[c, chart_text(b.stage_label)] for c in counts],
            hovertemplate="%{y}<br>%{customdata[1]}: %{customdata[0]} elements (%{x:.0f}%)<extra></extra>"))
    fig.update_layout(barmode="stack", height=140 + 70 * len(y), bargap=0.3,
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0, traceorder="normal"),
                      margin=dict(l=20, r=30, t=110, b=50))
    fig.update_xaxes(range=[0, 100], ticksuffix="%", title=dict(text="Share of elements across PCNs"),
                     showgrid=True, gridcolor=NHS_PALE_GREY)
    fig.update_yaxes(autorange="reversed", automargin=True, showgrid=False)
    return fig


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
    return wrap(title, 34) + ("<br><b>views differ</b>" if split else "")


def workshop_spread(frame: pd.DataFrame, stages: Stages, *, summary: pd.DataFrame | None = None,
                    title: str | None = "How the group rated each element") -> go.Figure:
    """Per element: each rating as a dot (side by side where several chose the same stage), the
    range as a grey bar, and the median as a dark tick. Split elements say so in their label.

    `frame` is `scoring.workshop_frame(...)`; `summary` (`scoring.workshop_summary(...)`) is
    computed when `stages` is the matrix. Elements appear in the summary's (matrix) order."""
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
    fig.update_xaxes(range=[-0.5, n - 0.5], tickvals=list(range(n)), ticktext=[chart_text(s) for s in labels],
                     side="top", showgrid=True, gridcolor=NHS_PALE_GREY, zeroline=False)
    fig.update_yaxes(tickvals=ys, ticktext=ticktext, range=[len(ys) - 0.5, -0.5], showgrid=False,
                     zeroline=False, automargin=True)
    fig.update_layout(height=150 + 56 * len(ys), margin=dict(l=20, r=30, t=120, b=40),
                      legend=dict(orientation="h", yanchor="top", y=-0.01, xanchor="left", x=0))
    return fig


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
    theta = _unique([wrap(t, 16) for t in titles])
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
        polar=_polar(labels, len(theta)),
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

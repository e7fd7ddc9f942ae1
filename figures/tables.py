"""Text tables: the charts and the progress pages' comparisons as DataFrames, with scores said
with the stages they sit between and how many elements were rated. Pure pandas (no Streamlit,
no plotly): DataFrames in, DataFrames out, holding raw text for the page, or the PDF, to show
(st.dataframe shows cell text literally). The text helpers here (`is_missing`, `labels_of`,
`format_score`, `domains_of`) are the ones the figure builders use too.

A score is on the matrix's stage scale (`scoring.stage_scale`: each stage's `score`, by default
its position, first stage = 0), so 1.4 reads "1.4 (between Step 1 and Step 2)" and 2.0 reads
"2.0 (Step 2)". The rounding shown decides the words, so a score is never printed as 2.0 but
called "between Step 1 and Step 2". An element rated "not applicable" reads "Not applicable"
wherever a stage would.
"""
from __future__ import annotations

import math
from typing import Sequence

import pandas as pd

from assessments.model import NOT_APPLICABLE
from assessments.scoring import NOT_STARTED, Comparison, StageScale, stage_scale
from matrix import Matrix


def is_missing(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def labels_of(stages: Matrix | Sequence[str]) -> StageScale:
    """The stage labels in scale order: a list that also carries each stage's score
    (`.scores`, for chart axes) and says the scale in words (`.words()`)."""
    return stage_scale(stages)


def domains_of(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame's domains, in order: domain_id, domain_title."""
    return frame.drop_duplicates("domain_id")[["domain_id", "domain_title"]].reset_index(drop=True)


def format_score(score, n_rated: int | None = None, n_elements: int | None = None) -> str:
    """'1.5 (2 of 3 rated)'; 'not rated' when nothing is; 'Not applicable' when no element applies."""
    if n_elements == 0 and not n_rated:
        return NOT_APPLICABLE
    if is_missing(score) or n_rated == 0:
        return "not rated"
    text = f"{score:.1f}"
    if n_rated is not None and n_elements is not None:
        text += f" ({n_rated} of {n_elements} rated)"
    return text


def stage_text(score, labels: Sequence[str], n_rated: int | None = None, n_elements: int | None = None,
               compact: bool = False) -> str:
    """'1.4 (between Step 1 and Step 2), 3 of 4 rated'; 'not rated' when nothing is.
    Compact, for narrow table columns: '1.4 (Step 1 to Step 2)'. 'Not applicable' when no
    element applies (every one was rated not applicable)."""
    if n_elements == 0 and not n_rated:
        return NOT_APPLICABLE
    if is_missing(score) or n_rated == 0:
        return "not rated" if n_elements is None else f"not rated (0 of {n_elements})"
    shown = round(float(score), 1)
    low, high = stage_scale(labels).locate(shown)
    if low == high:
        where = labels[low]
    elif compact:
        where = f"{labels[low]} to {labels[low + 1]}"
    else:
        where = f"between {labels[low]} and {labels[low + 1]}"
    text = f"{shown:.1f} ({where})"
    if n_rated is not None and n_elements is not None:
        text += f", {n_rated} of {n_elements} rated"
    return text


def change_text(change) -> str:
    """'+0.8', '−0.5', 'no change' ('' when there is nothing to compare)."""
    if is_missing(change):
        return ""
    shown = round(float(change), 1)
    if shown == 0:
        return "no change"
    return f"+{shown:.1f}" if shown > 0 else f"\u2212{abs(shown):.1f}"


def moved_text(change, scale: Sequence[str] | None = None) -> str:
    """An element's move in whole words: 'up 1 stage', 'down 0.5 stage', 'same stage'; on a
    scale whose stages are not one point apart, in its points ('up 30 points')."""
    if is_missing(change):
        return ""
    c = round(float(change), 1)
    if c == 0:
        return "same stage"
    n = abs(c)
    amount = f"{n:.0f}" if n == int(n) else f"{n:.1f}"
    unit = "stage" if scale is None or stage_scale(scale).steps_of_one else "point"
    return f"{'up' if c > 0 else 'down'} {amount} {unit}{'s' if n > 1 else ''}"


# ---------------------------------------------------------------------------------------------
# One PCN across years

def _score(score, labels: Sequence[str] | None, n_rated: int | None = None, n_elements: int | None = None) -> str:
    """A score with its stage words when `labels` are given ('1.4 (between A and B), 3 of 4 rated'),
    else the number alone ('1.4 (3 of 4 rated)')."""
    if labels is None:
        return format_score(score, n_rated, n_elements)
    return stage_text(score, labels, n_rated, n_elements)


def profile_table(series: pd.DataFrame, labels: Sequence[str] | None = None) -> pd.DataFrame:
    """The radar (`charts.radar`) as text: one row per domain, one column per year, the latest
    year's target, and notes. With `labels` each score names the stages it sits between (the
    page); without, it is the number and how many elements were rated (the PDF).

    `series` is `scoring.progress_series(...)` or `scoring.profile_frame(...)`."""
    doms = domains_of(series)
    years = sorted(series["year"].unique())
    out = pd.DataFrame({"Domain": doms["domain_title"]})
    notes: list[list[str]] = [[] for _ in range(len(doms))]
    for year in years:
        rows = series[series["year"] == year].set_index("domain_id").reindex(doms["domain_id"])
        cells = []
        for i, r in enumerate(rows.itertuples()):
            cells.append(_score(r.score, labels, r.n_rated, r.n_elements) if r.comparable else "not comparable")
            if isinstance(r.reason, str) and r.reason:
                notes[i].append(f"{year}: {r.reason}")
        out[year] = cells
    if years:
        latest = series[series["year"] == years[-1]].set_index("domain_id").reindex(doms["domain_id"])
        out[f"Target ({years[-1]})"] = ["not set" if is_missing(t) else _score(t, labels) for t in latest["target"]]
    out["Notes"] = ["; ".join(n) for n in notes]
    return out


def domain_years_table(series: pd.DataFrame, labels: Sequence[str] | None = None) -> pd.DataFrame:
    """The per-domain progress charts (`charts.domain_progress`) as text, one row per domain per
    year: Domain, Year, Assessment, Score, Target, Note. With `labels` the score names its stages
    and says how many elements were rated; without, it is the number, and a Rated column
    ('2 of 3') follows it."""
    order = {d: i for i, d in enumerate(series.drop_duplicates("domain_id")["domain_id"])}
    rows = []
    for r in series.itertuples():
        row = {"Domain": r.domain_title, "Year": r.year, "Assessment": getattr(r, "status", "")}
        if labels is None:
            row["Score"] = format_score(r.score) if r.comparable else "not comparable"
            row["Rated"] = f"{r.n_rated} of {r.n_elements}" if r.comparable else ""
        else:
            row["Score"] = stage_text(r.score, labels, r.n_rated, r.n_elements) if r.comparable else "not comparable"
        row["Target"] = ("not set" if is_missing(r.target) else _score(r.target, labels)) if r.comparable else ""
        row["Note"] = r.reason if isinstance(r.reason, str) else ""
        row["_d"] = order[r.domain_id]
        rows.append(row)
    columns = ["Domain", "Year", "Assessment", "Score"] + (["Rated"] if labels is None else []) + [
        "Target", "Note", "_d"]
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values(["_d", "Year"], kind="stable").drop(columns="_d").reset_index(drop=True)


def element_changes_table(comparison: Comparison, matrix: Matrix, labels: Sequence[str],
                          old_labels: Sequence[str] | None = None, only_moved: bool = False) -> pd.DataFrame:
    """Element by element: Domain, Element, <before year>, <after year>, Moved, Note.

    Elements in the newer matrix come first, in its order; elements the newer matrix no longer
    has follow. `only_moved` keeps the elements that went up or down."""
    before, after = comparison.before_year, comparison.after_year
    titles = {d.id: d.title for d in matrix.domains}
    old_labels = old_labels or labels
    rows = []
    for c in comparison.elements:
        retired = c.after is None and not c.comparable and c.element_id not in matrix.element_ids()
        if only_moved and (is_missing(c.change) or round(float(c.change), 1) == 0):
            continue
        if c.comparable:
            missing = [y for y, na in ((before, c.before_not_applicable), (after, c.after_not_applicable)) if na]
            note = "" if c.change is not None else (
                f"not applicable in {' and '.join(missing)}" if missing else
                "not rated in either year" if c.before is None and c.after is None else
                f"not rated in {before}" if c.before is None else f"not rated in {after}")
        else:
            note = c.reason or ""
        if len(c.from_ids) > 1:
            note = (note + "; " if note else "") + f"{before} score is the mean of {len(c.from_ids)} earlier elements"
        if c.before_not_applicable:
            was = NOT_APPLICABLE
        elif not is_missing(c.before):
            was = stage_text(c.before, old_labels if retired else labels)
        else:
            was = "not rated" if c.comparable or retired else ""
        if retired:
            now = "not in this matrix"
        else:
            now = NOT_APPLICABLE if c.after_not_applicable else stage_text(c.after, labels)
        rows.append({
            "Domain": titles.get(c.domain_id, c.domain_id),
            "Element": c.element_title,
            before: was,
            after: now,
            "Moved": moved_text(c.change, labels) if c.comparable else "not comparable",
            "Note": note,
        })
    return pd.DataFrame(rows, columns=["Domain", "Element", before, after, "Moved", "Note"])


def domain_changes_table(comparison: Comparison, labels: Sequence[str]) -> pd.DataFrame:
    """Per domain: the two years' scores, the like-for-like change and how many elements it rests on."""
    before, after = comparison.before_year, comparison.after_year
    rows = []
    for d in comparison.domains:
        rows.append({
            "Domain": d.domain_title,
            before: stage_text(d.before, labels) if d.comparable else "not comparable",
            after: stage_text(d.after, labels),
            "Change": change_text(d.change) if d.comparable else "not comparable",
            "Compared": f"{d.n_compared} of {d.n_elements} elements rated in both years" if d.comparable else "",
            "Note": d.reason or "",
        })
    return pd.DataFrame(rows, columns=["Domain", before, after, "Change", "Compared", "Note"])


def change_counts(comparison: Comparison) -> dict[str, int]:
    """How many elements moved up, down, stayed, or cannot be compared."""
    out = {"up": 0, "down": 0, "same": 0, "not compared": 0}
    for c in comparison.elements:
        if not c.comparable or is_missing(c.change):
            out["not compared"] += 1
        elif round(float(c.change), 1) > 0:
            out["up"] += 1
        elif round(float(c.change), 1) < 0:
            out["down"] += 1
        else:
            out["same"] += 1
    return out


# ---------------------------------------------------------------------------------------------
# Many PCNs, one year

ORDERS = {
    "name": "Name (A to Z)",
    "code": "Code",
    "list_size_desc": "List size (largest first)",
    "list_size_asc": "List size (smallest first)",
}


def pcn_order(frame: pd.DataFrame, order: str) -> list[str]:
    """PCN codes in the chosen order. Never by score: the page is for conversations, not rankings."""
    pcns = frame.drop_duplicates("code")[["code", "name", "list_size"]]
    if order == "name":
        pcns = pcns.sort_values(["name", "code"], key=lambda s: s.str.lower() if s.name == "name" else s, kind="stable")
    elif order == "list_size_desc":
        pcns = pcns.sort_values(["list_size", "code"], ascending=[False, True], kind="stable")
    elif order == "list_size_asc":
        pcns = pcns.sort_values(["list_size", "code"], kind="stable")
    else:
        pcns = pcns.sort_values("code", kind="stable")
    return list(pcns["code"])


def reorder(frame: pd.DataFrame, codes: Sequence[str]) -> pd.DataFrame:
    """The portfolio frame with its PCNs in `codes` order (domains keep their order within a PCN)."""
    pos = {c: i for i, c in enumerate(codes)}
    return frame.assign(_p=frame["code"].map(pos)).sort_values("_p", kind="stable").drop(columns="_p").reset_index(drop=True)


def area_text(rural) -> str:
    return "rural" if bool(rural) else "urban"


def portfolio_table(frame: pd.DataFrame, labels: Sequence[str], counts: bool = False) -> pd.DataFrame:
    """One row per PCN, in the frame's order: PCN, Code, List size, Area, Assessment, Elements
    rated, then one column per domain with the score and the stages it sits between (compact, so
    the table fits a projector; each domain's rated count is in the heat map's cells, or, with
    `counts`, in the table too: '1.4 (Step 1 to Step 2), 3 of 4 rated')."""
    doms = domains_of(frame)
    pcns = frame.drop_duplicates("code").reset_index(drop=True)
    rated = frame.groupby("code", sort=False).agg(n=("n_rated", "sum"), m=("n_elements", "sum"))
    out = pd.DataFrame({
        "PCN": pcns["name"].fillna(""),
        "Code": pcns["code"],
        "List size": pcns["list_size"].astype("Int64"),
        "Area": [area_text(r) for r in pcns["rural"]],
        "Assessment": pcns["status"],
        "Elements rated": [f"{int(rated.at[c, 'n'])} of {int(rated.at[c, 'm'])}" for c in pcns["code"]],
    })
    text = {}
    for code, dom, status, ok, score, n, m in zip(frame["code"], frame["domain_id"], frame["status"],
                                                  frame["comparable"], frame["score"], frame["n_rated"],
                                                  frame["n_elements"]):
        if status == NOT_STARTED:
            text[code, dom] = "not started"
        elif not ok:
            text[code, dom] = "not comparable"
        else:
            text[code, dom] = stage_text(score, labels, int(n), int(m) if counts else None, compact=True)
    for d in doms.itertuples():
        out[d.domain_title] = [text[code, d.domain_id] for code in pcns["code"]]
    return out

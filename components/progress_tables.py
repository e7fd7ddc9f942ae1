"""Tables for the Progress pages: scores said with the stages they sit between, and how many
elements were rated. Pure (no Streamlit): DataFrames in, DataFrames out, holding raw text for
the page to show (st.dataframe shows cell text literally).

A score is a position on the stage scale (first stage = 0), so 1.4 reads "1.4 (between Step 1
and Step 2)" and 2.0 reads "2.0 (Step 2)". The rounding shown decides the words, so a score is
never printed as 2.0 but called "between Step 1 and Step 2".
"""
from __future__ import annotations

import math
from typing import Sequence

import pandas as pd

from assessments.scoring import NOT_STARTED, Comparison
from matrix import Matrix


def _missing(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def labels_of(stages: Matrix | Sequence[str]) -> list[str]:
    return [s.label for s in stages.stages] if isinstance(stages, Matrix) else [str(s) for s in stages]


def stage_text(score, labels: Sequence[str], n_rated: int | None = None, n_elements: int | None = None,
               compact: bool = False) -> str:
    """'1.4 (between Step 1 and Step 2), 3 of 4 rated'; 'not rated' when nothing is.
    Compact, for narrow table columns: '1.4 (Step 1 to Step 2)'."""
    if _missing(score) or n_rated == 0:
        return "not rated" if n_elements is None else f"not rated (0 of {n_elements})"
    shown = round(float(score), 1)
    top = len(labels) - 1
    low = max(0, min(top, math.floor(shown)))
    if shown == low or low == top:
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
    if _missing(change):
        return ""
    shown = round(float(change), 1)
    if shown == 0:
        return "no change"
    return f"+{shown:.1f}" if shown > 0 else f"\u2212{abs(shown):.1f}"


def moved_text(change) -> str:
    """An element's move in whole words: 'up 1 stage', 'down 0.5 stage', 'same stage'."""
    if _missing(change):
        return ""
    c = round(float(change), 1)
    if c == 0:
        return "same stage"
    n = abs(c)
    amount = f"{n:.0f}" if n == int(n) else f"{n:.1f}"
    return f"{'up' if c > 0 else 'down'} {amount} stage{'s' if n > 1 else ''}"


# ---------------------------------------------------------------------------------------------
# One PCN across years

def profile_table(series: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """The radar as text: one row per domain, one column per year, the latest target, notes."""
    doms = series.drop_duplicates("domain_id")[["domain_id", "domain_title"]].reset_index(drop=True)
    years = sorted(series["year"].unique())
    out = pd.DataFrame({"Domain": doms["domain_title"]})
    notes: list[list[str]] = [[] for _ in range(len(doms))]
    for year in years:
        rows = series[series["year"] == year].set_index("domain_id").reindex(doms["domain_id"])
        cells = []
        for i, r in enumerate(rows.itertuples()):
            cells.append(stage_text(r.score, labels, r.n_rated, r.n_elements) if r.comparable else "not comparable")
            if isinstance(r.reason, str) and r.reason:
                notes[i].append(f"{year}: {r.reason}")
        out[year] = cells
    if years:
        latest = series[series["year"] == years[-1]].set_index("domain_id").reindex(doms["domain_id"])
        out[f"Target ({years[-1]})"] = ["not set" if _missing(t) else stage_text(t, labels) for t in latest["target"]]
    out["Notes"] = ["; ".join(n) for n in notes]
    return out


def domain_years_table(series: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """The per-domain charts as text: Domain, Year, Assessment, Score, Target, Note."""
    order = {d: i for i, d in enumerate(series.drop_duplicates("domain_id")["domain_id"])}
    rows = []
    for r in series.itertuples():
        rows.append({
            "Domain": r.domain_title, "Year": r.year, "Assessment": getattr(r, "status", ""),
            "Score": stage_text(r.score, labels, r.n_rated, r.n_elements) if r.comparable else "not comparable",
            "Target": ("not set" if _missing(r.target) else stage_text(r.target, labels)) if r.comparable else "",
            "Note": r.reason if isinstance(r.reason, str) else "",
            "_d": order[r.domain_id],
        })
    out = pd.DataFrame(rows, columns=["Domain", "Year", "Assessment", "Score", "Target", "Note", "_d"])
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
        if only_moved and (_missing(c.change) or round(float(c.change), 1) == 0):
            continue
        if c.comparable:
            note = "" if c.change is not None else (
                "not rated in either year" if c.before is None and c.after is None else
                f"not rated in {before}" if c.before is None else f"not rated in {after}")
        else:
            note = c.reason or ""
        if len(c.from_ids) > 1:
            note = (note + "; " if note else "") + f"{before} score is the mean of {len(c.from_ids)} earlier elements"
        rows.append({
            "Domain": titles.get(c.domain_id, c.domain_id),
            "Element": c.element_title,
            before: (stage_text(c.before, old_labels if retired else labels) if not _missing(c.before) else
                     "not rated" if c.comparable or retired else ""),
            after: stage_text(c.after, labels) if not retired else "not in this matrix",
            "Moved": moved_text(c.change) if c.comparable else "not comparable",
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
        if not c.comparable or _missing(c.change):
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


def portfolio_table(frame: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """One row per PCN, in the frame's order: PCN, Code, List size, Area, Assessment, Elements
    rated, then one column per domain with the score and the stages it sits between (compact, so
    the table fits a projector; each domain's rated count is in the heat map's cells)."""
    doms = frame.drop_duplicates("domain_id")[["domain_id", "domain_title"]]
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
    for code, dom, status, ok, score, n in zip(frame["code"], frame["domain_id"], frame["status"], frame["comparable"],
                                               frame["score"], frame["n_rated"]):
        if status == NOT_STARTED:
            text[code, dom] = "not started"
        elif not ok:
            text[code, dom] = "not comparable"
        else:
            text[code, dom] = stage_text(score, labels, int(n), compact=True)
    for d in doms.itertuples():
        out[d.domain_title] = [text[code, d.domain_id] for code in pcns["code"]]
    return out

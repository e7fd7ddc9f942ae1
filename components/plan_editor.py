"""The actions table of the plan page: saved actions <-> the DataFrame st.data_editor edits.

Due dates and costs are text columns on purpose: people type "31/03/2025" or "£1,250" and
paste from spreadsheets, and a wrong entry must stay in the table with a message beside it
rather than be silently refused by the widget. The core (assessments.plan) checks every cell.
"""
from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from assessments import plan as plans
from matrix import DevelopmentFunding, Pathway

from .look import plain

# Column label -> action field. The labels are the core's FIELD_LABELS, so its messages name the
# column the user sees.
COLUMNS = {plans.FIELD_LABELS[f]: f for f in plans.ACTION_FIELDS}
CHECK = "Funding check"


def step_options(pathway: Pathway | None) -> list[str]:
    if pathway is None:
        return [str(n) for n in range(1, 7)]
    return [f"{s.number} – {s.title}" for s in pathway.steps]


def _step_label(step: int | None, pathway: Pathway | None) -> str | None:
    if step is None:
        return None
    return next((o for o in step_options(pathway) if o.split(" ", 1)[0] == str(step)), str(step))


def actions_frame(plan: plans.Plan, pathway: Pathway | None, funding: DevelopmentFunding | None) -> pd.DataFrame:
    """One row per saved action, in plan order, with the hidden id and version for saving."""
    titles = {c.id: c.title for c in funding.categories} if funding else {}
    rows = []
    for a in plan.actions:
        flags = plans.check_funding(a, funding)
        rows.append({
            "id": a.id, "version": a.version,
            "Action": a.what, "Owner": a.owner, "Due date": a.due.strftime("%d/%m/%Y") if a.due else None,
            "Status": a.status, "Pathway step": _step_label(a.step, pathway),
            "Support needed": a.support_needed, "Support from": a.support_from,
            "Cost (£)": f"{a.cost:,.2f}" if a.cost is not None else None,
            "Funding source": a.funding_source,
            "Funding category": titles.get(a.funding_category, a.funding_category),
            CHECK: "⚠ see the funding checks" if flags else "",
        })
    columns = ["id", "version", *COLUMNS, CHECK]
    frame = pd.DataFrame(rows, columns=columns)
    frame["id"] = frame["id"].astype("Int64")
    frame["version"] = frame["version"].astype("Int64")
    for c in columns[2:]:
        # Empty text rather than None: the grid would print "None" in every empty cell.
        frame[c] = frame[c].astype("object").where(frame[c].notna(), "")
    return frame


def _value(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def rows_from_frame(edited: pd.DataFrame) -> list[dict[str, Any]]:
    """The edited table as the rows `plans.save_actions` takes (id and version for saved rows)."""
    out = []
    for record in edited.to_dict("records"):
        row = {field: _value(record.get(label)) for label, field in COLUMNS.items()}
        ident = _value(record.get("id"))
        if ident is not None:
            row["id"] = int(ident)
            version = _value(record.get("version"))
            row["version"] = int(version) if version is not None else None
        out.append(row)
    return out


def deleted_rows(base: pd.DataFrame, edited: pd.DataFrame) -> dict[int, int]:
    """Saved actions the user removed from the table: id -> the version they had."""
    kept = {int(i) for i in edited["id"].dropna()}
    return {int(i): int(v) for i, v in zip(base["id"], base["version"]) if _value(i) is not None and int(i) not in kept}


def column_config(pathway: Pathway | None, funding: DevelopmentFunding | None) -> dict:
    categories = [c.title for c in funding.categories] if funding else []
    return {
        "id": None, "version": None,
        "Action": st.column_config.TextColumn("Action", help="What will be done (required)", width="large",
                                              max_chars=5000),
        "Owner": st.column_config.TextColumn("Owner", help="Who makes sure it happens", max_chars=200),
        "Due date": st.column_config.TextColumn("Due date", help="Like 31/03/2025"),
        "Status": st.column_config.SelectboxColumn("Status", options=list(plans.STATUSES), default=plans.STATUSES[0]),
        "Pathway step": st.column_config.SelectboxColumn("Pathway step", options=step_options(pathway),
                                                         help="The step of the development pathway it belongs to"),
        "Support needed": st.column_config.TextColumn("Support needed", width="medium", max_chars=5000),
        "Support from": st.column_config.TextColumn("Support from", help="Who could provide the support",
                                                    max_chars=300),
        "Cost (£)": st.column_config.TextColumn("Cost (£)", help="Estimated cost in pounds, like 1,250"),
        "Funding source": st.column_config.SelectboxColumn("Funding source", options=list(plans.FUNDING_SOURCES)),
        "Funding category": st.column_config.SelectboxColumn(
            "Funding category", options=categories,
            help="For PCN development funding: what kind of support it pays for"),
        CHECK: st.column_config.TextColumn(CHECK, disabled=True,
                                           help="From the funding rules, for the saved actions"),
    }


def problems_table(problems: list[plans.ActionProblem], rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Row number, the row's action (so it can be found), column and message; raw text (shown escaped by st.dataframe)."""
    out = []
    for p in problems:
        what = rows[p.row].get("what") if p.row < len(rows) else None
        what = str(what) if what else "(no action text)"
        out.append({"Row": p.row + 1, "Action": what if len(what) <= 60 else what[:57] + "...",
                    "Column": p.label, "Problem": p.message})
    return pd.DataFrame(out, columns=["Row", "Action", "Column", "Problem"])


def show_flags(rows: list[dict[str, Any]], funding: DevelopmentFunding | None) -> int:
    """Funding checks for the rows as they stand in the editor (saved or not). Returns how many were flagged."""
    n = 0
    for i, row in enumerate(rows, start=1):
        flags = plans.check_funding(row, funding)
        if not flags:
            continue
        n += 1
        what = str(row.get("what") or "(no action text)")
        st.warning(f"**Row {i}: {plain(what[:80])}{'…' if len(what) > 80 else ''}**  \n"
                   + "  \n".join(plain(f.message) for f in flags), icon=":material/flag:")
    return n

"""The actions editor of the plan page: a short table (what, owner, due, status, linked to) that
people type and paste into like a spreadsheet, and a form with every detail of the chosen action.

What a person types lives in a draft in session state until it is saved, so nothing is lost when
the page reruns, when the table is drawn afresh (after a paste, a detail or a new priority), or
when they visit another page and come back. The table (st.data_editor) keeps its own edits as a
state beside the rows it was drawn from; the draft keeps a copy of that state each run and folds
it into its rows whenever the table must be drawn afresh. A new row nobody typed into is dropped
then, and never saved (`assessments.plan.blank_row`).

Due dates and costs are text on purpose: people type "31/03/2025" or "£1,250" and paste from
spreadsheets, and a wrong entry must stay where it is with a message beside it rather than be
refused by the widget. The core (assessments.plan) checks every value.
"""
from __future__ import annotations

import copy
import csv
import hashlib
import io
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from assessments import plan as plans
from assessments.values import InputError
from matrix import DevelopmentFunding, Matrix, Pathway

from .look import plain

# The table's columns (label -> action field), in the core's words so its messages name them.
TABLE = {plans.FIELD_LABELS[f]: f for f in ("what", "owner", "due", "status", "links")}
DETAILS = ("step", "support_needed", "support_from", "cost", "funding_source", "funding_category")
# A pasted block without a heading row is read in this order: the table's columns, then the details.
PASTE_ORDER = (*TABLE.values(), *DETAILS)
_SYNONYMS = {"what": "what", "action": "what", "actions": "what", "owner": "owner", "who": "owner", "due": "due",
             "due date": "due", "deadline": "due", "status": "status", "linked to": "links", "links": "links",
             "priority": "links", "priorities": "links", "step": "step", "pathway step": "step",
             "support needed": "support_needed", "support from": "support_from", "cost": "cost",
             "cost (£)": "cost", "estimated cost": "cost", "funding source": "funding_source",
             "funding category": "funding_category"}
MAX_PASTE_ROWS = 200


def step_options(pathway: Pathway | None) -> list[str]:
    if pathway is None:
        return [str(n) for n in range(1, 7)]
    return [f"{s.number} – {s.title}" for s in pathway.steps]


def _step_label(step: int | None, pathway: Pathway | None) -> str | None:
    if step is None:
        return None
    return next((o for o in step_options(pathway) if o.split(" ", 1)[0] == str(step)), str(step))


def _value(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, str) and not v.strip():
        return None
    return v


@dataclass(frozen=True)
class Choices:
    """The options of one plan's editor, and the conversions between what is shown and what is stored."""
    matrix: Matrix
    priorities: tuple[str, ...]  # chosen element ids, in order
    pathway: Pathway | None
    funding: DevelopmentFunding | None
    links: tuple[tuple[str, str], ...] = field(default=())  # (link id, label) in the order offered

    @classmethod
    def of(cls, matrix: Matrix, priorities: tuple[str, ...], pathway: Pathway | None,
           funding: DevelopmentFunding | None) -> Choices:
        titles = [e.title for _, e in matrix.elements()]
        links = [(plans.SERVICE_LINK, plans.SERVICE_TITLE)]
        links += [(e, plans.link_title(e, matrix, priorities)) for e in priorities if e in matrix.element_ids()]
        for d, e in matrix.elements():
            if e.id not in priorities:
                # Two elements of one title are told apart by their domains.
                links.append((e.id, e.title if titles.count(e.title) == 1 else f"{e.title} ({d.title})"))
        return cls(matrix, tuple(priorities), pathway, funding, tuple(links))

    @property
    def signature(self) -> str:
        """Changes when the table's options do: the table is then drawn afresh."""
        text = repr((self.matrix.key, self.links, step_options(self.pathway), self.categories))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def categories(self) -> list[str]:
        return [c.title for c in self.funding.categories] if self.funding else []

    def label(self, link: str) -> str:
        return next((label for k, label in self.links if k == link), link)

    def link_ids(self, labels: Any) -> list[str]:
        if labels is None or isinstance(labels, float):
            return []
        by_label = {label: k for k, label in self.links}
        return [by_label.get(x, x) for x in labels if _value(x) is not None]


# ---------------------------------------------------------------------------------------------
# Rows: an action as the editor holds it (text as typed; links as ids)

def saved_rows(plan: plans.Plan, choices: Choices) -> list[dict[str, Any]]:
    titles = {c.id: c.title for c in choices.funding.categories} if choices.funding else {}
    return [{
        "id": a.id, "version": a.version, "what": a.what, "owner": a.owner,
        "due": a.due.strftime("%d/%m/%Y") if a.due else None, "status": a.status, "links": list(a.links),
        "step": _step_label(a.step, choices.pathway), "support_needed": a.support_needed,
        "support_from": a.support_from, "cost": f"{a.cost:,.2f}" if a.cost is not None else None,
        "funding_source": a.funding_source,
        "funding_category": titles.get(a.funding_category, a.funding_category),
    } for a in plan.actions]


def blank_new(row: dict[str, Any]) -> bool:
    """A new row nobody typed into: dropped from the draft, never saved."""
    return row.get("id") is None and plans.blank_row(row)


def clean(value: Any) -> Any:
    """What a form field gave, as the draft holds it: None for nothing."""
    value = _value(value)
    return value.strip() if isinstance(value, str) else value


def short(text: Any, n: int = 60) -> str:
    text = " ".join(str(text or "").split()) or "(no action text yet)"
    return text if len(text) <= n else text[:n - 1] + "…"


def frame(rows: list[dict[str, Any]], choices: Choices) -> pd.DataFrame:
    """The table as drawn: text columns hold "" for nothing (never "None")."""
    records = [{"Action": r.get("what") or "", "Owner": r.get("owner") or "", "Due date": r.get("due") or "",
                "Status": r.get("status") or plans.STATUSES[0],
                "Linked to": [choices.label(x) for x in r.get("links") or ()]} for r in rows]
    df = pd.DataFrame(records, columns=list(TABLE))
    for c in ("Action", "Owner", "Due date", "Status"):
        df[c] = df[c].astype("object")
    return df


def apply(rows: list[dict[str, Any]], deleted: dict[int, int], state: Any,
          choices: Choices) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """The rows and deletions after the table's own edits `state` (edited, added and deleted rows,
    by position in `rows`)."""
    out = [dict(r) for r in rows]
    gone = dict(deleted)
    if not state:
        return out, gone

    def put(row: dict[str, Any], cells: dict[str, Any]) -> None:
        for label, value in cells.items():
            name = TABLE.get(label)
            if name == "links":
                row["links"] = choices.link_ids(value)
            elif name is not None:
                row[name] = _value(value)

    for pos, cells in (state.get("edited_rows") or {}).items():
        i = int(pos)
        if 0 <= i < len(out):
            put(out[i], cells)
    for cells in state.get("added_rows") or []:
        row = {"id": None, "version": None, "status": plans.STATUSES[0], "links": []}
        put(row, cells)
        out.append(row)
    removed = {int(i) for i in state.get("deleted_rows") or [] if 0 <= int(i) < len(rows)}
    for i in removed:
        if out[i].get("id") is not None:
            gone[int(out[i]["id"])] = out[i].get("version")
    return _expand([r for i, r in enumerate(out) if i not in removed], choices), gone


def _block_in(row: dict[str, Any]) -> str | None:
    """The field of a cell holding a pasted block: rows copied from a spreadsheet and pasted into a
    cell's editing box arrive as one text with tabs between the cells (typed text has none)."""
    return next((f for f in TABLE.values() if isinstance(row.get(f), str) and "\t" in row[f]), None)


def _expand(rows: list[dict[str, Any]], choices: Choices) -> list[dict[str, Any]]:
    """Rows with each pasted block spread over rows of its own, from the cell it was pasted into on,
    as a spreadsheet would: its first line fills that row, the others become new rows below it."""
    out: list[dict[str, Any]] = []
    for row in rows:
        name = _block_in(row)
        if name is None:
            out.append(row)
            continue
        pasted = parse_paste(row[name], choices, PASTE_ORDER[PASTE_ORDER.index(name):])
        first, *rest = pasted.rows or [{}]
        filled = dict(row, **{k: v for k, v in first.items() if k not in ("id", "version")})
        filled[name] = first.get(name)  # the block itself goes, even if its first cell was empty
        out.append(filled)
        out.extend(rest)
    return out


def has_block(state: Any) -> bool:
    """Whether the table's edits hold a pasted block, which the table must be drawn afresh to show as rows."""
    cells = [*(state or {}).get("edited_rows", {}).values(), *(state or {}).get("added_rows", [])]
    return any(isinstance(v, str) and "\t" in v for c in cells for v in c.values())


def for_saving(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows as `plans.save_actions` takes them: blank new rows left out."""
    out = []
    for r in rows:
        if blank_new(r):
            continue
        row = {f: r.get(f) for f in plans.ACTION_FIELDS}
        if r.get("id") is not None:
            row["id"], row["version"] = int(r["id"]), r.get("version")
        out.append(row)
    return out


# ---------------------------------------------------------------------------------------------
# The draft in session state

def _key(pcn_code: str, year: str) -> str:
    return f"plan_draft|{pcn_code}|{year}"


def _saved_signature(plan: plans.Plan) -> tuple:
    return tuple((a.id, a.version) for a in plan.actions)


def draft(pcn_code: str, year: str, plan: plans.Plan, choices: Choices) -> dict[str, Any]:
    """The draft of this plan's actions: made from the saved plan, and made again when the saved
    plan changed while nothing was typed. With unsaved changes it stays as it is: a save then
    meets any change made meanwhile as a conflict, naming both values."""
    key = _key(pcn_code, year)
    old = st.session_state.get(key)
    if old is not None and not old.get("reset") and (
            old["saved"] == _saved_signature(plan) or dirty(old, plan, choices)):
        return old
    # A new table key each time, so the table never shows edits of another draft.
    d = {"saved": _saved_signature(plan), "rows": saved_rows(plan, choices), "deleted": {},
         "gen": old["gen"] + 1 if old else 0, "signature": choices.signature, "pending": None}
    st.session_state[key] = d
    return d


def drop(pcn_code: str, year: str) -> None:
    """Forget the draft (after a save, or to load the latest): the next run starts from the saved plan."""
    d = st.session_state.get(_key(pcn_code, year))
    if d is not None:
        d["reset"] = True


def table_key(pcn_code: str, year: str, d: dict[str, Any]) -> str:
    return f"plan_actions|{pcn_code}|{year}|{d['gen']}"


def current(pcn_code: str, year: str, d: dict[str, Any], choices: Choices) -> tuple[list[dict], dict[int, int]]:
    """The rows as they stand: the draft with the table's edits (its live state, else the copy kept)."""
    state = st.session_state.get(table_key(pcn_code, year, d), d.get("pending"))
    return apply(d["rows"], d["deleted"], state, choices)


def fold(pcn_code: str, year: str, d: dict[str, Any], rows: list[dict], deleted: dict[int, int],
         choices: Choices) -> None:
    """Make `rows` the draft's own and draw the table afresh from them (a new table key)."""
    d.update(rows=[r for r in rows if not blank_new(r)], deleted=dict(deleted), pending=None,
             signature=choices.signature)
    d["gen"] += 1


def settle(pcn_code: str, year: str, d: dict[str, Any], choices: Choices) -> None:
    """Before the table is drawn: fold in edits the table no longer holds (its state was dropped
    while the page showed something else) or that a change of its options would drop."""
    live = st.session_state.get(table_key(pcn_code, year, d))
    if (live is None and d.get("pending")) or d["signature"] != choices.signature or has_block(live):
        fold(pcn_code, year, d, *current(pcn_code, year, d, choices), choices)


def keep(pcn_code: str, year: str, d: dict[str, Any]) -> None:
    """After the table is drawn: keep a copy of its edits in the draft."""
    live = st.session_state.get(table_key(pcn_code, year, d))
    d["pending"] = copy.deepcopy(dict(live)) if live else None


def dirty(d: dict[str, Any], plan: plans.Plan, choices: Choices) -> bool:
    """Whether the draft holds anything not saved."""
    if d.get("rows") is None:
        return False
    rows, deleted = apply(d["rows"], d["deleted"], d.get("pending"), choices)
    live = [r for r in rows if not blank_new(r)]
    return bool(deleted) or _comparable(live) != _comparable(saved_rows(plan, choices))


def _comparable(rows: list[dict]) -> list[tuple]:
    return [tuple((f, tuple(r.get(f) or ()) if f == "links" else _value(r.get(f))) for f in plans.ACTION_FIELDS)
            + (r.get("id"),) for r in rows]


def column_config(choices: Choices) -> dict:
    return {
        "Action": st.column_config.TextColumn("Action", help="What will be done (required)", width="large",
                                              max_chars=5000),
        "Owner": st.column_config.TextColumn("Owner", help="Who makes sure it happens", width="medium",
                                             max_chars=200),
        "Due date": st.column_config.TextColumn("Due date", help="Like 31/03/2025"),
        "Status": st.column_config.SelectboxColumn("Status", options=list(plans.STATUSES), default=plans.STATUSES[0]),
        "Linked to": st.column_config.MultiselectColumn(
            "Linked to", options=[label for _, label in choices.links], width="medium",
            help="The priorities or elements this action serves (one or more)"),
    }


# ---------------------------------------------------------------------------------------------
# Pasting rows copied from a spreadsheet

@dataclass
class Pasted:
    rows: list[dict[str, Any]]
    notes: list[str]  # what was read differently from how it was pasted
    problems: dict[int, list[str]]  # row (0-based) -> what the save would refuse


def _cells(text: str) -> list[list[str]]:
    # Spreadsheets copy cells as tab-separated lines, quoting a cell that holds a line break or a tab.
    return [row for row in csv.reader(io.StringIO(text), delimiter="\t") if any(c.strip() for c in row)]


def _paste_links(cell: str, choices: Choices) -> tuple[list[str], list[str]]:
    """The links in a pasted cell (the table's labels, element titles or ids, 'priority 2', ...;
    separated by ';', or by ',' when a whole part is not one), and the parts that name nothing."""
    labels = {label.lower(): k for k, label in choices.links}
    ids: list[str] = []
    unknown: list[str] = []

    def one(part: str) -> bool:
        part = " ".join(part.split())
        if not part:
            return True
        if part.lower() in labels:
            ids.append(labels[part.lower()])
            return True
        try:
            ids.extend(plans.parse_links(part, choices.matrix, choices.priorities))
        except InputError:
            return False
        return True

    for part in cell.replace("\n", ";").split(";"):
        if not one(part):
            pieces = part.split(",")
            if len(pieces) == 1 or not all([one(x) for x in pieces]):
                unknown.extend(x.strip() for x in pieces if x.strip() and not _known(x, labels, choices))
    return list(dict.fromkeys(ids)), unknown


def _known(part: str, labels: dict[str, str], choices: Choices) -> bool:
    part = " ".join(part.split())
    if part.lower() in labels:
        return True
    try:
        plans.parse_links(part, choices.matrix, choices.priorities)
    except InputError:
        return False
    return True


def parse_paste(text: str, choices: Choices, order: tuple[str, ...] = PASTE_ORDER) -> Pasted:
    """Rows pasted from a spreadsheet: a heading row (Action, Owner, Due date, ...) says which column
    is which, else the columns are read in `order` (the table's, then the details: PASTE_ORDER)."""
    lines = _cells(text or "")
    notes: list[str] = []
    if len(lines) > MAX_PASTE_ROWS:
        notes.append(f"Only the first {MAX_PASTE_ROWS} of {len(lines)} rows were read: paste the rest afterwards.")
        lines = lines[:MAX_PASTE_ROWS]
    order = list(order)
    if lines and sum(c.strip().lower() in _SYNONYMS for c in lines[0]) >= max(1, len([c for c in lines[0] if c.strip()])):
        order = [_SYNONYMS.get(c.strip().lower()) for c in lines[0]]
        lines = lines[1:]
    rows, problems = [], {}
    for i, cells in enumerate(lines):
        row: dict[str, Any] = {"id": None, "version": None}  # only what was pasted, so it can fill a row
        if len(cells) > len(order):
            notes.append(f"Row {i + 1} has {len(cells)} cells and only {len(order)} columns are read: the rest "
                         "were left out.")
        for name, cell in zip(order, cells):
            if name is None or not cell.strip():
                continue
            if name == "links":
                ids, unknown = _paste_links(cell, choices)
                row["links"] = ids
                if unknown:
                    notes.append(f"Row {i + 1}: {', '.join(repr(u) for u in unknown)} is not a priority or element "
                                 "of the plan's matrix, so it was not linked.")
            else:
                row[name] = cell.strip()
        if plans.blank_row(row):
            continue
        _, found = plans.check_action({k: row.get(k) for k in plans.ACTION_FIELDS if k != "links"},
                                      pathway=choices.pathway, funding=choices.funding)
        if found:
            problems[len(rows)] = [f"{plans.FIELD_LABELS[f]}: {m}" for f, m in found]
        rows.append(row)
    return Pasted(rows, notes, problems)


def paste_preview(p: Pasted, choices: Choices) -> pd.DataFrame:
    out = []
    for i, r in enumerate(p.rows):
        out.append({"Action": r.get("what") or "", "Owner": r.get("owner") or "", "Due date": r.get("due") or "",
                    "Status": r.get("status") or plans.STATUSES[0],
                    "Linked to": "; ".join(choices.label(x) for x in r.get("links") or ()),
                    "Check": "; ".join(p.problems.get(i, [])) or "ok"})
    return pd.DataFrame(out, columns=["Action", "Owner", "Due date", "Status", "Linked to", "Check"])


# ---------------------------------------------------------------------------------------------
# Messages

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
    """Funding checks for the rows as they stand in the editor (saved or not): requests that look
    ineligible, and requests support already funded should meet first. Returns how many were flagged."""
    n = 0
    for i, row in enumerate(rows, start=1):
        flags = plans.check_funding(row, funding)
        notes = plans.existing_support_notes(row, funding)
        what = str(row.get("what") or "(no action text)")
        head = f"**Row {i}: {plain(what[:80])}{'…' if len(what) > 80 else ''}**  \n"
        if flags:
            n += 1
            st.warning(head + "  \n".join(plain(f.message) for f in flags), icon=":material/flag:")
        if notes:
            st.info(head + "  \n".join(plain(x.message) for x in notes), icon=":material/savings:")
    return n

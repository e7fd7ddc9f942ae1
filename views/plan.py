"""Development plan: priorities (suggested from the assessment, then chosen and ordered), the
service-improvement priority, the actions (linked to what they serve) with their funding checks,
the clinical director's own development, the versions shared with the ICS and commissioners, and
the plan as PDF, Excel, or a zip of every PCN's PDF for an ICS. A PCN rated against more than one
matrix this year chooses which the plan reads from (the ICS's default matrix first)."""
from __future__ import annotations

import streamlit as st

from components import messages as M
from components import plan_tabs as tabs
from assessments.matrix_choice import title_of
from assessments.progress import matrix_options
from components.cache import cached
from components.header import page_header, pick_matrix
from components.look import plain
from assessments.access import EDIT, SUBMIT
from components.state import can, data_version, get_store, require_actor

MESSAGE = "plan_message"  # shown once at the top after a change (components.messages)


@cached()
def year_matrices(pcn_code: str, year: str) -> tuple[list[str], str | None]:
    return matrix_options(get_store(), pcn_code, year)


store = get_store()
st.title("Development plan")
st.markdown("Choose the network's priorities from its self-assessment, agree the actions and the support they "
            "need, and download the plan for the joint discussion with the ICS.")

ics, pcn, year, matrix_column = page_header(year_key="plan_year", extra=True)
options, default = year_matrices(pcn.code, year)
with matrix_column:
    chosen = pick_matrix("plan_matrix", options, default,
                         help=f"{pcn.name} has more than one {year} assessment: choose the one the plan reads from.")
actor = require_actor() if can(EDIT, pcn=pcn) else None  # who may change the plan (the service checks again)


# The plan's heading lines are a fragment, and so is the Priorities tab: a priority added, moved
# or removed redraws those two alone (components/plan_tabs.py). Only the open tab is drawn; the
# chosen tab is kept in the address (?tab=Actions), so a save or a reload stays on it.
message: M.Message | None = None


@st.fragment(key=tabs.HEAD_KEY)
def head() -> None:
    global message
    report = tabs.load_report(pcn.code, year, chosen)
    plan = report.plan
    status = {"agreed": "agreed", "draft": "a draft"}.get(report.status)
    line = (f"The {year} assessment is {status}." if status else f"There is no {year} assessment yet, so there are "
            "no suggestions; priorities can still be chosen.")
    if plan.saved:
        last = max([plan.updated_at, *[a.updated_at for a in plan.actions]])
        who = plan.updated_by if last == plan.updated_at else next(a.updated_by for a in plan.actions
                                                                   if a.updated_at == last)
        line += f" Plan last changed by {who} on {last:%d %b %Y at %H:%M} UTC."
    st.caption(plain(line) + " The plan stays open for changes all year, also after the assessment is agreed.")
    others = [x for x in options if x != chosen]
    if others:
        st.caption(plain(f"{pcn.name} is also rated against {', '.join(title_of(store, x) for x in others)} in "
                         f"{year}: choose it under Matrix above to plan from those ratings. The plan itself is one "
                         "for the year."))
    message = M.take(MESSAGE)
    M.show(message, reload_key="reload_after_conflict", reload_help="Show the plan as it is saved now")
    if st.session_state.get("reload_after_conflict"):  # "Load the latest", clicked in this fragment: all of it
        st.rerun()
    if plan.shared:
        st.caption(plain(f"The ICS and commissioners see this plan: shared by {plan.shared_by} on "
                         f"{plan.shared_at:%d %b %Y}."))


head()
report = tabs.load_report(pcn.code, year, chosen)
priorities_tab, actions_tab, cd_tab, shared_tab, download_tab = st.tabs(
    ["Priorities", "Actions", "Clinical director", "Shared versions", "Download"], key="tab", bind="query-params")


@st.fragment(key=tabs.PRIORITIES_KEY)
def priorities() -> None:
    """Reads the plan afresh: rerun alone, it is not given this run's report."""
    tabs.priorities(MESSAGE, store, tabs.load_report(pcn.code, year, chosen), pcn, year, actor)


if priorities_tab.open:
    with priorities_tab:
        priorities()
if actions_tab.open:
    with actions_tab:
        tabs.actions(MESSAGE, store, report, pcn, year, actor, shown=message)
if cd_tab.open:
    with cd_tab:
        M.show(message, "cd", done="box")
        tabs.cd_development(MESSAGE, store, report, pcn, year, actor)
if shared_tab.open:
    with shared_tab:
        tabs.shared(MESSAGE, store, report, pcn, year, actor, can(SUBMIT, pcn=pcn), shown=message)
if download_tab.open:
    with download_tab:
        tabs.downloads(store, report, ics, pcn, year, data_version())

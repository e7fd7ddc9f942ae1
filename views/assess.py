"""Self-assessment: for one PCN and year, each element's current and target stage, confidence,
evidence (a summary and dated items with links or files) and note, saved as soon as they change;
start a year (from last year's ratings or blank); the PCN lead submits it, warned of what lacks
current evidence, and a facilitator of its ICS confirms it (which locks it) or returns it with a
comment; open a new draft from an agreed one, or discard a draft."""
from __future__ import annotations

from datetime import date

import streamlit as st

from assessments.model import Assessment

from assessments.values import StoreError
from components import assessment as A
from components import assessment_print as AP
from components import evidence as E
from components import messages as M
from components import rating as R
from components.cache import cached
from components.catalog import get_catalog
from components.header import page_header
from components.look import plain
from components.state import can, get_store, require_actor
from assessments import evidence
from assessments import ratings as assessing
from assessments.access import CONFIRM, EDIT, SUBMIT

MESSAGE = "assess_message"  # left by an action's callback for the next run (components.messages)


@cached()
def pcn_assessments(pcn_code: str) -> list[Assessment]:
    return assessing.assessments(get_store(), pcn_code=pcn_code)


@cached()
def submission_warnings(assessment_id: int, today: date) -> tuple[str, ...]:
    return evidence.submission_warnings(get_store(), assessment_id, today=today)


def _title(a: Assessment) -> str:
    m = catalog.matrices.get((a.matrix_id, a.matrix_version))
    return m.label if m else f"{a.matrix_id} {a.matrix_version}"


R.page_started()  # the rating editors trust widget changes only after a run that reached the end
store = get_store()
catalog = get_catalog()
st.html(R.PAGE_CSS)
st.title("Self-assessment")
st.markdown("Where is the network now, and where does it want to be in a year? Rate each element against the "
            "stage descriptions, note the evidence, then agree the ratings with your ICS.")

ics, pcn, year, matrix_column = page_header(year_key="assess_year", extra=True)
existing = pcn_assessments(pcn.code)
this_year = [a for a in existing if a.year == year]
with matrix_column:
    chosen = A.pick_matrix(store, catalog, pcn, year, this_year)

actor = require_actor()
editor = actor if can(EDIT, pcn=pcn) else None  # who may change this PCN's drafts (the services check too)
R.show_toasts()
M.show(M.take(MESSAGE), reload_key="assess_reload", reload_help="Show the assessment as it is saved now")

assessment = next((a for a in this_year if a.matrix_id == chosen[0]), None)
others = [a for a in this_year if a is not assessment]
if others:  # every assessment of the year is named, the one not shown too
    st.caption(plain(f"{pcn.name} also has a {year} assessment against "
                     + "; ".join(f"{_title(a)} ({a.status})" for a in others) + ": choose it under Matrix above."))

# ---------------------------------------------------------------------------------------------
# No assessment for this year yet: start one
if assessment is None:
    if editor:
        A.start_year(MESSAGE, store, catalog.matrices[chosen], pcn, year, existing, editor)
    else:
        st.info(plain(f"There is no {year} assessment of {pcn.name} that you can see."))
    st.stop()

# ---------------------------------------------------------------------------------------------
# The assessment
try:
    matrix = store.matrix(assessment.matrix_id, assessment.matrix_version)
except StoreError:
    st.error(plain(f"This assessment uses {assessment.matrix_id} version {assessment.matrix_version}, which is not "
                   "loaded. Add its file on the Matrices page to see it."))
    st.stop()
if matrix.key != chosen:
    st.info(plain(f"The {year} assessment was made against {matrix.label}, so it is shown against that version. "
                  "To use another version, start the next year with it."))
ratings = R.assessment_ratings(assessment.id)
elements = [e for _, e in matrix.elements()]
rated = R.rated_count(ratings, elements)
if AP.wanted():  # the print view of the whole assessment, instead of the editors
    AP.print_view(matrix, assessment, ratings, E.assessment_items(assessment.id), pcn.name, ics.name)
    R.page_finished()
    st.stop()

status = {"draft": "Draft", "agreed": "Agreed"}.get(assessment.status, assessment.status.capitalize())


@st.fragment(key=R.SUMMARY_KEY)
def summary() -> None:
    """Last saved, how many rated, evidence coverage: rerun on its own when a save changes them."""
    ratings = R.assessment_ratings(assessment.id)
    line = f"{status} {year} assessment of {pcn.name} against {matrix.label}."
    last = R.last_saved(ratings)
    R.summary_shown(assessment.id, last)
    if last:
        line += f" Last saved by {last.updated_by} on {last.updated_at:%d %b %Y at %H:%M} UTC."
    st.markdown(f"**{plain(line)}**")
    rated = R.rated_count(ratings, elements)
    st.progress(rated / len(elements), text=f"{rated} of {len(elements)} elements rated")
    st.caption(plain(E.coverage_line(E.assessment_coverage(assessment.id, date.today()))))


summary()
AP.open_button()
warnings = submission_warnings(assessment.id, date.today()) if assessment.status == "draft" else ()

if assessment.submitted:
    A.submitted_notice(MESSAGE, store, assessment, actor, may_withdraw=can(SUBMIT, pcn=pcn),
                       may_confirm=can(CONFIRM, pcn=pcn), warnings=warnings)
elif assessment.locked:
    A.agreed_notice(MESSAGE, store, assessment, actor if can(CONFIRM, pcn=pcn) else None)
else:
    A.returned_notice(assessment)
    if editor:
        st.caption(R.SAVE_CAPTION)

# Only the open tab is drawn, and choosing another reruns only the domains' fragment; a click on a
# card reruns only that card and what the change reaches (components/rating.py).
@st.fragment(key=R.DOMAINS_KEY)
def domains() -> None:
    with R.drawing():
        tabs = st.tabs([plain(d.title) for d in matrix.domains], key=R.domain_tabs_key(matrix), on_change="rerun")
        for tab, domain in zip(tabs, matrix.domains):
            if tab.open:
                with tab:
                    R.domain_tab(store, matrix, assessment, domain, by=editor)


domains()

# ---------------------------------------------------------------------------------------------
# Agree or discard the draft
if not assessment.locked and editor:
    A.agree_or_discard(MESSAGE, store, assessment, rated, len(elements), bool(R.open_conflicts(assessment.id)), editor,
                       may_submit=can(SUBMIT, pcn=pcn), warnings=warnings)

R.page_finished()

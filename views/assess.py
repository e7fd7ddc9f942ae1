"""Self-assessment: for one PCN and year, each element's current and target stage, confidence,
evidence and note, saved as soon as they change; start a year (from last year's ratings or
blank), agree it with the ICS (which locks it), open a new draft from an agreed one, or discard a draft."""
from __future__ import annotations

import streamlit as st

from assessments.store import Assessment, Rating, StoreError, database_url, financial_year, next_year
from components import messages as M
from components import rating as R
from components.catalog import get_catalog
from components.look import plain
from components.state import data_version, get_store, keep, pick_ics, pick_pcn, require_actor

MESSAGE = "assess_message"  # left by an action's callback for the next run (components.messages)


@st.cache_data(show_spinner=False, max_entries=64)
def pcn_assessments(url: str, version: int, pcn_code: str) -> list[Assessment]:
    return get_store().assessments(pcn_code=pcn_code)


@st.cache_data(show_spinner=False, max_entries=64)
def assessment_ratings(url: str, version: int, assessment_id: int) -> dict[str, Rating]:
    return get_store().ratings(assessment_id)


def act(done: str, fn, *args, **kwargs) -> None:
    """Run an assessment-level write from a button callback and say how it went on the next run."""
    M.act(MESSAGE, done, fn, *args, **kwargs)


R.page_started()  # the rating editors trust widget changes only after a run that reached the end
store = get_store()
catalog = get_catalog()
st.html(R.PAGE_CSS)
st.title("Self-assessment")
st.markdown("Where is the network now, and where does it want to be in a year? Rate each element against the "
            "stage descriptions, note the evidence, then agree the ratings with your ICS.")

if st.session_state.get("large_text"):  # on a projector the four pickers need two rows to stay readable
    (c1, c2), (c3, c4) = st.columns(2), st.columns(2)
else:
    c1, c2, c3, c4 = st.columns([3, 3, 1.8, 2.5])
with c1:
    ics = pick_ics()
with c2:
    pcn = pick_pcn(ics.code)
url, version = database_url(), data_version()
existing = pcn_assessments(url, version, pcn.code)
with c3:
    done_years = sorted({a.year for a in existing})
    years = [*done_years, next_year(done_years[-1]) if done_years else financial_year()]
    wanted = st.query_params.get("year")
    if wanted in years and st.session_state.get("assess_year") not in years:
        st.session_state["assess_year"] = wanted
    elif st.session_state.get("assess_year") not in years:
        st.session_state["assess_year"] = done_years[-1] if done_years else years[-1]
    else:
        keep("assess_year")  # the two layouts (large text or not) draw different boxes
    year = st.selectbox("Year", years, key="assess_year",
                        help="NHS financial years. The last one listed starts a new year.")
with c4:
    matrices = sorted(catalog.matrices, key=lambda k: (k[0] != "nhse-pcn-maturity", k[0], k[1]))
    if not matrices:
        st.error("No maturity matrix is loaded: check the Matrices page.")
        st.stop()
    this_year = [a for a in existing if a.year == year]
    # Default to the assessment's own matrix, or the latest one for a year not started yet;
    # again whenever the PCN or year changes.
    if st.session_state.get("assess_matrix_for") != (pcn.code, year) or st.session_state.get("assess_matrix") not in matrices:
        own = (this_year[0].matrix_id, this_year[0].matrix_version) if this_year else catalog.latest_matrix().key
        st.session_state["assess_matrix"] = own if own in matrices else matrices[0]
        st.session_state["assess_matrix_for"] = (pcn.code, year)
    else:
        keep("assess_matrix")
    chosen = st.selectbox("Matrix", matrices, key="assess_matrix", format_func=lambda k: catalog.matrices[k].label)
st.query_params.update(ics=ics.code, pcn=pcn.code, year=year)  # the URL names the assessment, so it can be shared

actor = require_actor()
R.show_toasts()
message = M.take(MESSAGE)
if message:
    kind, text, _ = message
    if kind == "done":
        st.toast(text, icon=":material/check_circle:")
    else:
        st.error(plain(text))
        if kind == "conflict":
            st.button("Load the latest", key="assess_reload", help="Show the assessment as it is saved now")

assessment = next((a for a in this_year if a.matrix_id == chosen[0]), None)

# ---------------------------------------------------------------------------------------------
# No assessment for this year yet: start one
if assessment is None:
    matrix = catalog.matrices[chosen]
    st.subheader(f"No {year} assessment yet", anchor=False)
    earlier = [a for a in existing if a.matrix_id == matrix.id and a.year < year]
    source = max(earlier, key=lambda a: a.year) if earlier else None
    how = "blank"
    if source:
        how = st.radio(
            "How would you like to start?", ["copy", "blank"], key="assess_start_how",
            format_func={"copy": "Copy last year's ratings as a draft", "blank": "Start blank"}.get,
            captions=[f"Current and target stages and confidence from {source.year} ({source.status}). Evidence is "
                      "not copied: each rating notes where it came from, ready for this year's evidence.",
                      "Every element starts unrated."],
            disabled=not actor)
    st.caption(plain(f"Against {matrix.label}."))
    if how == "copy":
        st.button(f"Start the {year} assessment", type="primary", disabled=not actor, key="assess_start",
                  on_click=act, args=(f"Started the {year} assessment from the {source.year} ratings.",
                                      store.start_year, pcn.code, year, matrix),
                  kwargs=dict(by=actor, copy_from=source.id))
    else:
        st.button(f"Start the {year} assessment", type="primary", disabled=not actor, key="assess_start",
                  on_click=act, args=(f"Started a blank {year} assessment.", store.create_assessment, pcn.code, year,
                                      matrix), kwargs=dict(by=actor))
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
ratings = assessment_ratings(url, version, assessment.id)
elements = [e for _, e in matrix.elements()]
rated = R.rated_count(ratings, elements)

status = {"draft": "Draft", "agreed": "Agreed"}.get(assessment.status, assessment.status.capitalize())
line = f"{status} {year} assessment of {pcn.name} against {matrix.label}."
last = R.last_saved(ratings)
if last:
    line += f" Last saved by {last.updated_by} on {last.updated_at:%d %b %Y at %H:%M} UTC."
st.markdown(f"**{plain(line)}**")
st.progress(rated / len(elements), text=f"{rated} of {len(elements)} elements rated")

if assessment.locked:
    with st.container(border=True):
        st.markdown(plain(f"Agreed by {assessment.updated_by} on {assessment.updated_at:%d %b %Y}. An agreed "
                          "assessment is read-only, so the record of what was agreed stays as it was. To change "
                          "it, open a new draft from it: the agreed version is kept in the history, and comes back "
                          "if the new draft is discarded."))
        st.button("Open a new draft from it", icon=":material/edit_note:", disabled=not actor, key="assess_revise",
                  on_click=act, args=(f"Opened a new draft of the {year} assessment.", store.open_revision,
                                      assessment.id), kwargs=dict(by=actor))
elif actor:
    st.caption(R.SAVE_CAPTION)

# Only the open tab is drawn: every click reruns the page, and one domain's editors are a fifth of
# what all five would send (tabs that track state rerun when another is chosen).
tabs = st.tabs([plain(d.title) for d in matrix.domains], key=R.domain_tabs_key(matrix), on_change="rerun")
for tab, domain in zip(tabs, matrix.domains):
    if tab.open:
        with tab:
            R.domain_tab(store, matrix, assessment, domain, ratings, by=actor)

# ---------------------------------------------------------------------------------------------
# Agree or discard the draft
if not assessment.locked:
    st.divider()
    st.subheader("Agree the assessment", anchor=False)
    st.markdown("When the network has talked the ratings through with its ICS, mark them agreed. The assessment "
                "is then locked; a new draft can be opened from it later.")
    if rated < len(elements):
        st.warning(f"{len(elements) - rated} of {len(elements)} elements are not rated yet.")
    if R.open_conflicts(assessment.id):
        st.warning("Some changes were not saved because someone else changed the same elements: resolve them "
                   "above before agreeing.")
    agreed = st.checkbox("We have agreed these ratings with our ICS", key=f"assess_agree_ok|{assessment.id}",
                         disabled=not actor)
    st.button("Mark as agreed", type="primary", icon=":material/verified:", key="assess_agree",
              disabled=not (actor and agreed), on_click=act,
              args=(f"The {year} assessment is agreed and locked.", store.agree_assessment, assessment.id),
              kwargs=dict(by=actor, expected_version=assessment.version))
    with st.expander("Discard this draft"):
        what = ("This deletes the draft and all its ratings. The agreed version it was opened from comes back."
                if assessment.revision_of else "This deletes the draft and all its ratings. It cannot be undone.")
        st.markdown(what)
        sure = st.checkbox("Yes, discard this draft", key=f"assess_discard_ok|{assessment.id}", disabled=not actor)
        st.button("Discard the draft", icon=":material/delete:", key="assess_discard", disabled=not (actor and sure),
                  on_click=act, args=(f"Discarded the {year} draft.", store.discard_draft, assessment.id),
                  kwargs=dict(by=actor, expected_version=assessment.version))

R.page_finished()

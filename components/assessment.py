"""Pieces of the self-assessment page around the rating editors (components/rating.py): the matrix
picker, starting a year, the agreed notice, and agreeing or discarding a draft. Every write runs
from a button callback through components.messages, under the page's message key."""
from __future__ import annotations

import streamlit as st

from assessments import matrix_choice as choice
from assessments import organisations as orgs
from assessments import ratings as assessing
from assessments.model import NATIONAL_MATRIX_ID, PCN, Assessment
from assessments.store import Store
from matrix import Catalog, Matrix, version_key

from . import messages as M
from .look import plain
from .state import keep


def first_matrix(store: Store, catalog: Catalog, pcn: PCN, this_year: list[Assessment]) -> tuple[str, str]:
    """The matrix a page about one PCN and year starts on: the year's assessment's own (with several,
    the one in the ICS default's family, else the one started last); for a year not started yet, the
    ICS's default matrix (the national one unless the ICS chose another)."""
    default = orgs.default_matrix(store, pcn.ics_code)
    family = choice.families(catalog.matrices.values())
    mine = choice.preferred(choice.in_use(this_year, family), default.id, family)
    own = max((a for a in this_year if a.matrix_id == mine), key=lambda a: a.id, default=None)
    return (own.matrix_id, own.matrix_version) if own else default.key


def pick_matrix(store: Store, catalog: Catalog, pcn: PCN, year: str, this_year: list[Assessment]) -> tuple[str, str]:
    """The matrix to show or start the year on (`first_matrix` when the PCN or year changes); a
    picker only when more than one matrix is loaded. Options with an assessment this year say so."""
    matrices = sorted(catalog.matrices, key=lambda k: (k[0] != NATIONAL_MATRIX_ID, k[0], version_key(k[1])))
    if not matrices:
        st.error("No maturity matrix is loaded: check the Matrices page.")
        st.stop()
    if st.session_state.get("assess_matrix_for") != (pcn.code, year) or st.session_state.get("assess_matrix") not in matrices:
        own = first_matrix(store, catalog, pcn, this_year)
        st.session_state["assess_matrix"] = own if own in matrices else matrices[0]
        st.session_state["assess_matrix_for"] = (pcn.code, year)
    else:
        keep("assess_matrix")
    if len(matrices) == 1:
        return matrices[0]
    rated = {a.matrix_id: a.status for a in this_year}
    return st.selectbox("Matrix", matrices, key="assess_matrix",
                        format_func=lambda k: catalog.matrices[k].label + (
                            f" · {rated[k[0]]} {year} assessment" if k[0] in rated else ""),
                        help="New years start on your ICS's default matrix; choose another to rate against it.")


def start_year(message: str, store: Store, matrix: Matrix, pcn: PCN, year: str, existing: list[Assessment],
               actor: str | None) -> None:
    """No assessment for this year yet: start one, from the latest earlier year's ratings or blank."""
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
                  on_click=M.act, args=(message, f"Started the {year} assessment from the {source.year} ratings.",
                                        assessing.start_year, store, pcn.code, year, matrix),
                  kwargs=dict(by=actor, copy_from=source.id))
    else:
        st.button(f"Start the {year} assessment", type="primary", disabled=not actor, key="assess_start",
                  on_click=M.act, args=(message, f"Started a blank {year} assessment.",
                                        assessing.create_assessment, store, pcn.code, year, matrix), kwargs=dict(by=actor))


def agreed_notice(message: str, store: Store, assessment: Assessment, actor: str | None) -> None:
    """An agreed assessment is read-only; a new draft can be opened from it."""
    with st.container(border=True):
        st.markdown(plain(f"Agreed by {assessment.updated_by} on {assessment.updated_at:%d %b %Y}. An agreed "
                          "assessment is read-only, so the record of what was agreed stays as it was. To change "
                          "it, open a new draft from it: the agreed version is kept in the history, and comes back "
                          "if the new draft is discarded."))
        st.button("Open a new draft from it", icon=":material/edit_note:", disabled=not actor, key="assess_revise",
                  on_click=M.act, args=(message, f"Opened a new draft of the {assessment.year} assessment.",
                                        assessing.open_revision, store, assessment.id), kwargs=dict(by=actor))


def submitted_notice(message: str, store: Store, assessment: Assessment, actor: str | None, *,
                     may_withdraw: bool, may_confirm: bool) -> None:
    """A draft waiting for the ICS: the ICS facilitator confirms it; the PCN may take it back."""
    with st.container(border=True):
        st.markdown(plain(f"Submitted for agreement by {assessment.submitted_by} on "
                          f"{assessment.submitted_at:%d %b %Y}. It is read-only until the ICS confirms it or the PCN "
                          "withdraws it."))
        if may_confirm:
            st.button("Confirm the agreement", type="primary", icon=":material/verified:", key="assess_confirm",
                      disabled=not actor, on_click=M.act,
                      args=(message, f"The {assessment.year} assessment is agreed and locked.",
                            assessing.agree_assessment, store, assessment.id),
                      kwargs=dict(by=actor, expected_version=assessment.version))
        if may_withdraw:
            st.button("Withdraw the submission", icon=":material/undo:", key="assess_withdraw", disabled=not actor,
                      on_click=M.act, args=(message, "Withdrawn: the draft can be changed again.",
                                            assessing.withdraw_submission, store, assessment.id),
                      kwargs=dict(by=actor, expected_version=assessment.version))


def agree_or_discard(message: str, store: Store, assessment: Assessment, rated: int, n_elements: int,
                     conflicts: bool, actor: str | None, *, may_agree: bool = True, may_submit: bool = True) -> None:
    """Submit the draft for agreement with the ICS, or (for whoever may confirm it too, such as the
    laptop's administrator) mark it agreed at once; or discard it."""
    year = assessment.year
    st.divider()
    st.subheader("Agree the assessment", anchor=False)
    if rated < n_elements:
        st.warning(f"{n_elements - rated} of {n_elements} elements are not rated yet.")
    if conflicts:
        st.warning("Some changes were not saved because someone else changed the same elements: resolve them "
                   "above before agreeing.")
    if may_agree:
        st.markdown("When the network has talked the ratings through with its ICS, mark them agreed. The "
                    "assessment is then locked; a new draft can be opened from it later.")
        agreed = st.checkbox("We have agreed these ratings with our ICS", key=f"assess_agree_ok|{assessment.id}",
                             disabled=not actor)
        st.button("Mark as agreed", type="primary", icon=":material/verified:", key="assess_agree",
                  disabled=not (actor and agreed), on_click=M.act,
                  args=(message, f"The {year} assessment is agreed and locked.", assessing.agree_assessment, store,
                        assessment.id),
                  kwargs=dict(by=actor, expected_version=assessment.version))
    elif may_submit:
        st.markdown("When the ratings are ready, submit them: your ICS facilitator then sees them and confirms the "
                    "agreement, which locks them. Until then only your PCN sees this draft.")
        st.button("Submit for agreement", type="primary", icon=":material/send:", key="assess_submit",
                  disabled=not actor, on_click=M.act,
                  args=(message, f"The {year} assessment is submitted to the ICS for agreement.",
                        assessing.submit_assessment, store, assessment.id),
                  kwargs=dict(by=actor, expected_version=assessment.version))
    with st.expander("Discard this draft"):
        what = ("This deletes the draft and all its ratings. The agreed version it was opened from comes back."
                if assessment.revision_of else "This deletes the draft and all its ratings. It cannot be undone.")
        st.markdown(what)
        sure = st.checkbox("Yes, discard this draft", key=f"assess_discard_ok|{assessment.id}", disabled=not actor)
        st.button("Discard the draft", icon=":material/delete:", key="assess_discard", disabled=not (actor and sure),
                  on_click=M.act, args=(message, f"Discarded the {year} draft.", assessing.discard_draft, store, assessment.id),
                  kwargs=dict(by=actor, expected_version=assessment.version))

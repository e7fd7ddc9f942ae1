"""Pieces of the self-assessment page around the rating editors (components/rating.py): the matrix
picker, starting a year, the agreement (the PCN lead submits; a facilitator of its ICS confirms
or returns it with a comment), the agreed notice, and discarding a draft. Every write runs
from a button callback through components.messages, under the page's message key."""
from __future__ import annotations

import streamlit as st

from assessments import matrix_choice as choice
from assessments import organisations as orgs
from assessments import ratings as assessing
from assessments.model import NATIONAL_MATRIX_ID, PCN, Assessment
from assessments.store import Store
from assessments.values import ConflictError, StoreError
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
            captions=[f"Current and target stages, confidence and evidence items from {source.year} "
                      f"({source.status}), each marked carried over until someone confirms it still holds. The "
                      "evidence summaries are not copied: each rating notes where it came from.",
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


def _day(d) -> str:
    return f"{d.day} {d:%b %Y}"


def agreement_text(a: Assessment) -> str:
    """Who submitted and who confirmed an agreed assessment, and when."""
    parts = []
    if a.submitted_at is not None:
        parts.append(f"submitted by {a.submitted_by} on {_day(a.submitted_at)}")
    if a.confirmed_at is not None:
        parts.append(f"confirmed for the ICS by {a.confirmed_by} on {_day(a.confirmed_at)}")
    else:
        parts.append(f"agreed by {a.updated_by} on {_day(a.updated_at)}")
    text = " and ".join(parts)
    return text[:1].upper() + text[1:] + "."


def agreed_notice(message: str, store: Store, assessment: Assessment, actor: str | None) -> None:
    """An agreed assessment is read-only; a new draft can be opened from it."""
    with st.container(border=True, key="assess-agreed"):
        st.markdown(plain(f"{agreement_text(assessment)} An agreed assessment is read-only, so the record of what "
                          "was agreed stays as it was. To change it, open a new draft from it: the agreed version "
                          "is kept in the history, and comes back if the new draft is discarded."))
        st.button("Open a new draft from it", icon=":material/edit_note:", disabled=not actor, key="assess_revise",
                  on_click=M.act, args=(message, f"Opened a new draft of the {assessment.year} assessment.",
                                        assessing.open_revision, store, assessment.id), kwargs=dict(by=actor))


def _return(message: str, store: Store, assessment: Assessment, actor: str) -> None:
    comment = st.session_state.get(f"assess_return_comment|{assessment.id}")
    M.act(message, f"Returned the {assessment.year} assessment to the PCN with your comment.",
          assessing.return_assessment, store, assessment.id, by=actor, expected_version=assessment.version,
          comment=comment)


def _warnings(warnings: tuple[str, ...] | list[str]) -> None:
    for w in warnings:
        st.warning(plain(w), icon=":material/warning:")


def submitted_notice(message: str, store: Store, assessment: Assessment, actor: str | None, *,
                     may_withdraw: bool, may_confirm: bool, warnings: tuple[str, ...] = ()) -> None:
    """A draft waiting for the ICS: a facilitator of its ICS confirms it (it becomes agreed) or
    returns it with a comment; the PCN may take it back."""
    with st.container(border=True, key="assess-submitted"):
        st.markdown(plain(f"Submitted for agreement by {assessment.submitted_by} on {_day(assessment.submitted_at)}. "
                          "It is read-only until the ICS confirms it or returns it, or the PCN withdraws it."))
        if may_confirm:
            if warnings:
                st.markdown("The PCN lead was told of these before submitting:")
                _warnings(warnings)
            st.button("Confirm the agreement", type="primary", icon=":material/verified:", key="assess_confirm",
                      disabled=not actor, on_click=M.act,
                      args=(message, f"The {assessment.year} assessment is agreed and locked.",
                            assessing.confirm_assessment, store, assessment.id),
                      kwargs=dict(by=actor, expected_version=assessment.version),
                      help="The ratings become the agreed record: locked, and printed with both names in the plan.")
            with st.expander("Return it to the PCN with a comment", icon=":material/reply:"):
                st.text_area("What should change before it is agreed?", key=f"assess_return_comment|{assessment.id}",
                             max_chars=2_000, height=90, disabled=not actor)
                st.button("Return to the PCN", icon=":material/reply:", key="assess_return", disabled=not actor,
                          on_click=_return, args=(message, store, assessment, actor),
                          help="It becomes a draft again; the PCN sees your comment.")
        if may_withdraw:
            st.button("Withdraw the submission", icon=":material/undo:", key="assess_withdraw", disabled=not actor,
                      on_click=M.act, args=(message, "Withdrawn: the draft can be changed again.",
                                            assessing.withdraw_submission, store, assessment.id),
                      kwargs=dict(by=actor, expected_version=assessment.version))


def returned_notice(assessment: Assessment) -> None:
    """The ICS's comment on a draft it returned, until the PCN submits it again."""
    if assessment.returned_at is None or assessment.submitted:
        return
    st.warning(plain(f"Returned by {assessment.returned_by} on {_day(assessment.returned_at)}: "
                     f"{assessment.return_comment}"), icon=":material/reply:")


def _submit(message: str, store: Store, assessment: Assessment, actor: str) -> None:
    try:
        done = assessing.submit_assessment(store, assessment.id, by=actor, expected_version=assessment.version)
    except ConflictError as exc:
        M.say(message, "conflict", str(exc))
        return
    except StoreError as exc:
        M.say(message, "error", str(exc))
        return
    text = f"The {assessment.year} assessment is submitted to the ICS for agreement."
    if done.warnings:
        text += " The ICS will see it with these open points: " + " ".join(done.warnings)
    M.say(message, "info" if done.warnings else "done", text)


def agree_or_discard(message: str, store: Store, assessment: Assessment, rated: int, n_elements: int,
                     conflicts: bool, actor: str | None, *, may_submit: bool = True,
                     warnings: tuple[str, ...] = ()) -> None:
    """Submit the draft for agreement with the ICS, warned of what is missing; or discard it. The
    ICS confirms or returns what was submitted (submitted_notice)."""
    year = assessment.year
    st.divider()
    st.subheader("Agree the assessment", anchor=False)
    if conflicts:
        st.warning("Some changes were not saved because someone else changed the same elements: resolve them "
                   "above before agreeing.")
    _warnings(warnings)
    if may_submit:
        st.markdown("When the ratings are ready, submit them: your ICS facilitator then sees them and confirms the "
                    "agreement, which locks them, or returns them with a comment. Until then only your PCN sees "
                    "this draft." + (" You can submit with the points above open; the ICS will see them too."
                                     if warnings else ""))
        st.button("Submit for agreement", type="primary", icon=":material/send:", key="assess_submit",
                  disabled=not actor, on_click=_submit, args=(message, store, assessment, actor))
    else:
        st.caption("Your PCN lead submits the assessment for agreement with the ICS.")
    with st.expander("Discard this draft"):
        what = ("This deletes the draft and all its ratings. The agreed version it was opened from comes back."
                if assessment.revision_of else "This deletes the draft and all its ratings. It cannot be undone.")
        st.markdown(what)
        sure = st.checkbox("Yes, discard this draft", key=f"assess_discard_ok|{assessment.id}", disabled=not actor)
        st.button("Discard the draft", icon=":material/delete:", key="assess_discard", disabled=not (actor and sure),
                  on_click=M.act, args=(message, f"Discarded the {year} draft.", assessing.discard_draft, store, assessment.id),
                  kwargs=dict(by=actor, expected_version=assessment.version))

"""The evidence items under an element's rating card: each with its link or file, who added it,
when, its review-by date and whether it is current; adding one (description, link, file,
review-by date), confirming what was carried over from last year, removing one. Writes run from
callbacks through assessments.evidence, which checks who may do them."""
from __future__ import annotations

from datetime import date

import streamlit as st

from assessments import evidence as ev
from assessments.model import CARRIED, CURRENT, REVIEW_DUE, Assessment, EvidenceCoverage, EvidenceItem, Rating
from assessments.store import Store
from assessments.values import StoreError
from matrix import Element, Matrix

from . import messages as M
from .cache import cached
from .look import plain
from .state import get_store

BADGES = {CURRENT: ":green-badge[:material/check_circle: Current]",
          CARRIED: ":orange-badge[:material/history: Carried over: confirm it still holds]",
          REVIEW_DUE: ":red-badge[:material/event_busy: Review due]"}


@cached()
def assessment_items(assessment_id: int) -> dict[str, list[EvidenceItem]]:
    return ev.items(get_store(), assessment_id)


@cached()
def assessment_coverage(assessment_id: int, today: date) -> EvidenceCoverage:
    return ev.coverage(get_store(), assessment_id, today=today)


def day(d) -> str:
    return f"{d.day} {d:%b %Y}"


def size_text(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def element_badge(found: list[EvidenceItem], rating: Rating | None, today: date) -> str:
    """One badge for the element: current evidence, something carried over to review, only
    items due for review, or none."""
    states = {x.freshness(today) for x in found}
    if (rating is not None and rating.carried_over) or CARRIED in states:
        return BADGES[CARRIED]
    if CURRENT in states:
        n = sum(1 for x in found if x.freshness(today) == CURRENT)
        return f":green-badge[:material/check_circle: Current evidence: {n} item{'s' if n != 1 else ''}]"
    if REVIEW_DUE in states:
        return BADGES[REVIEW_DUE]
    return ":gray-badge[:material/help: No dated evidence yet]"


def coverage_line(c: EvidenceCoverage) -> str:
    """'18 of 22 elements have current evidence; 3 carried over from last year not yet reviewed.'"""
    text = c.text
    if c.carried:
        text += f"; {c.carried} carried over from last year not yet reviewed"
    if c.review_due:
        text += f"; {c.review_due} with evidence due for review"
    return text + "."


def _key(aid: int, eid: str, what: str) -> str:
    return f"ev|{aid}|{eid}|{what}"


def _message_key(aid: int, eid: str) -> str:
    return _key(aid, eid, "message")


def _add(store: Store, aid: int, eid: str, by: str) -> None:
    gen = st.session_state.get(_key(aid, eid, "gen"), 0)
    k = lambda what: _key(aid, eid, f"{what}{gen}")  # noqa: E731
    uploaded = st.session_state.get(k("file"))
    try:
        upload = ev.Upload(uploaded.name, uploaded.getvalue()) if uploaded is not None else None
        ev.add_evidence(store, aid, eid, by=by, description=st.session_state.get(k("desc")),
                        link=st.session_state.get(k("link")), file=upload, review_by=st.session_state.get(k("review")))
    except StoreError as exc:
        M.say(_message_key(aid, eid), "error", f"Not added: {exc}.")
        return
    st.session_state[_key(aid, eid, "gen")] = gen + 1  # fresh, empty boxes for the next one
    M.say(_message_key(aid, eid), "done", "Evidence added.")
    st.rerun()  # the whole page: the coverage line and the submission warnings count evidence


def _act(aid: int, eid: str, done: str, fn, *args, **kwargs) -> None:
    M.act(_message_key(aid, eid), done, fn, *args, **kwargs)
    st.rerun()  # the whole page, not only the element's card (see _add)


def _download(store: Store, evidence_id: int):
    def data() -> bytes:
        try:
            return ev.file_content(store, evidence_id)[1]
        except StoreError as exc:  # removed meanwhile, or no longer to be seen: say so in the file
            return f"This file could not be read: {exc}".encode()
    return data


def _item(store: Store, a: Assessment, x: EvidenceItem, today: date, by: str | None, editable: bool) -> None:
    aid, eid = a.id, x.element_id
    with st.container(border=True, key=f"evidence-item-{x.id}"):
        st.markdown(f"{BADGES[x.freshness(today)]} {plain(x.description)}")
        when = f"Added by {x.created_by} on {day(x.created_at)} · review by {day(x.review_by)}"
        if x.carried_over:
            when += f" · carried over from {x.carried_from_year}"
        elif x.confirmed_at is not None:
            when += f" · confirmed by {x.confirmed_by} on {day(x.confirmed_at)}"
        st.caption(plain(when))
        buttons = st.columns([3, 3, 2, 2], gap="small", vertical_alignment="center")
        if x.link:
            buttons[0].link_button("Open the link", x.link, icon=":material/open_in_new:", help=plain(x.link))
        if x.file is not None:
            buttons[1].download_button(plain(f"{x.file.name} ({size_text(x.file.size)})"), _download(store, x.id),
                                       file_name=x.file.name, mime=x.file.media_type, on_click="ignore",
                                       icon=":material/download:", key=f"evidence-file-{x.id}")
        if editable and x.freshness(today) != CURRENT:
            buttons[2].button("Still holds", key=f"evidence-confirm-{x.id}", icon=":material/verified:",
                              help="Confirm this evidence still holds this year (it is then due for review in a year)",
                              on_click=_act, args=(aid, eid, "Confirmed: the evidence still holds.",
                                                   ev.confirm_evidence, store, x.id),
                              kwargs=dict(by=by, expected_version=x.version))
        if editable:
            with buttons[3].popover("Remove", icon=":material/delete:"):
                st.markdown("Remove this evidence item" + (" and its file?" if x.file else "?"))
                st.button("Yes, remove it", key=f"evidence-remove-{x.id}", type="primary",
                          on_click=_act, args=(aid, eid, "Evidence removed.", ev.remove_evidence, store, x.id),
                          kwargs=dict(by=by, expected_version=x.version))


def _add_form(store: Store, a: Assessment, element: Element, by: str, today: date) -> None:
    aid, eid = a.id, element.id
    gen = st.session_state.get(_key(aid, eid, "gen"), 0)
    with st.expander("Add evidence", icon=":material/add:"):
        with st.form(key=_key(aid, eid, f"form{gen}"), border=False, enter_to_submit=False):
            st.text_area("What is the evidence?", key=_key(aid, eid, f"desc{gen}"), height=68,
                         max_chars=ev.MAX_DESCRIPTION, placeholder=element.evidence_prompts[0],
                         help="For example: 'Network board minutes, 3 March 2026, item 4'.")
            left, right = st.columns([3, 2], gap="medium")
            left.text_input("Link (optional)", key=_key(aid, eid, f"link{gen}"), max_chars=ev.MAX_LINK,
                            placeholder="https://", help="An https:// or http:// address, such as a shared drive page")
            right.date_input("Review by", value=ev.default_review_by(today), min_value=today,
                             max_value=today.replace(year=today.year + 5), format="DD/MM/YYYY",
                             key=_key(aid, eid, f"review{gen}"),
                             help="When someone should check it still holds. A year from today unless you choose.")
            st.file_uploader(f"Attach a file (optional, up to {ev.MAX_FILE_BYTES // 1024 // 1024} MB)",
                             type=list(ev.ALLOWED_ENDINGS), key=_key(aid, eid, f"file{gen}"),
                             max_upload_size=ev.MAX_FILE_BYTES // 1024 // 1024,
                             help=f"{ev.allowed_types_text()}. The file is checked by its content, not only its name.")
            st.form_submit_button("Add evidence", type="primary", icon=":material/add:", on_click=_add,
                                  args=(store, aid, eid, by))


def evidence_block(store: Store, matrix: Matrix, assessment: Assessment, element: Element, rating: Rating | None, *,
                   by: str | None) -> None:
    """The element's evidence items, freshness and controls, under its rating card."""
    aid, eid = assessment.id, element.id
    today = ev.as_of(assessment.year)  # a past year's record shows what was current then
    found = assessment_items(aid).get(eid, [])
    editable = bool(by) and not assessment.locked
    with st.container(key=f"evidence-{eid}"):
        st.markdown(f"**Evidence items** {element_badge(found, rating, today)}")
        M.show(M.take(_message_key(aid, eid)), done="toast")
        carried = [x for x in found if x.carried_over]
        if editable and ((rating is not None and rating.carried_over) or carried):
            parts = ["the rating"] if rating is not None and rating.carried_over else []
            if carried:
                parts.append(f"{len(carried)} evidence item{'s' if len(carried) != 1 else ''}")
            what = " and ".join(parts)
            st.info(plain(f"Carried over from last year: {what}. Check the stage above; if it and the evidence still "
                          "hold, confirm them, or add this year's evidence."), icon=":material/history:")
            st.button("Reviewed: it all still holds", key=f"evidence-confirm-element-{aid}-{eid}",
                      icon=":material/verified:",
                      on_click=_act, args=(aid, eid, f"Confirmed '{element.title}' as it stands.", ev.confirm_element,
                                           store, aid, eid), kwargs=dict(by=by))
        for x in found:
            _item(store, assessment, x, today, by, editable)
        if not found and not editable:
            st.caption("No evidence items.")
        if editable:
            _add_form(store, assessment, element, by, date.today())  # review-by dates are from today


# ---------------------------------------------------------------------------------------------
# Freshness on the progress and portfolio pages

@cached()
def pcn_evidence(pcn_code: str):
    return ev.pcn_coverage(get_store(), pcn_code)


@cached()
def ics_evidence(ics_code: str, year: str, matrix_id: str | None):
    from assessments import matrix_choice as choice

    store = get_store()
    rows = ev.portfolio_evidence(store, year, ics_code=ics_code)
    if matrix_id is not None:
        family = choice.store_families(store)
        rows = [x for x in rows if choice.same_family(x[0].assessment.matrix_id, matrix_id, family)]
    return rows


def _counts(c: EvidenceCoverage) -> dict:
    return {"Elements with current evidence": f"{c.current} of {c.elements}",
            "Carried over, not reviewed": c.carried, "Evidence due for review": c.review_due}


def pcn_evidence_table(pcn_code: str):
    """Year by year: how many elements had current evidence (as of the year's end, or today)."""
    import pandas as pd

    rows = [{"Year": rec.assessment.year, "Status": rec.assessment.status, **_counts(c)}
            for rec, c in pcn_evidence(pcn_code)]
    return pd.DataFrame(rows, columns=["Year", "Status", "Elements with current evidence",
                                       "Carried over, not reviewed", "Evidence due for review"])


def ics_evidence_summary(ics_code: str, year: str, matrix_id: str | None) -> tuple[str | None, object]:
    """'412 of 528 elements across 8 PCNs have current evidence', and a table by PCN."""
    import pandas as pd

    rows = ics_evidence(ics_code, year, matrix_id)
    table = pd.DataFrame([{"PCN": rec.pcn.name, "Code": rec.pcn.code, "Status": rec.assessment.status, **_counts(c)}
                          for rec, c in rows],
                         columns=["PCN", "Code", "Status", "Elements with current evidence",
                                  "Carried over, not reviewed", "Evidence due for review"])
    if not rows:
        return None, table
    current, total = sum(c.current for _, c in rows), sum(c.elements for _, c in rows)
    return (f"{current:,} of {total:,} elements across {len(rows)} PCN{'s' if len(rows) != 1 else ''} have current "
            f"evidence"), table

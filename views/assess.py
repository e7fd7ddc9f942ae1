"""Self-assessment: rate each element's current and target stage, with evidence; every change saved at once."""
from __future__ import annotations

import streamlit as st

from assessments.store import ConflictError, InputError, LockedError, StoreError, next_year
from components.catalog import get_catalog
from components.look import plain
from components.matrix_view import stage_cards
from components.state import actor, get_store, pick_ics, pick_pcn, require_actor

store = get_store()
catalog = get_catalog()
st.title("Self-assessment")

c1, c2, c3 = st.columns(3)
with c1:
    ics = pick_ics()
with c2:
    pcn = pick_pcn(ics.code)
years = sorted({a.year for a in store.assessments(pcn_code=pcn.code)})
choices = years + [next_year(years[-1]) if years else "2025/26"]
year = c3.selectbox("Year", choices, index=len(choices) - 2 if len(choices) > 1 else 0, key="assess_year")
who = require_actor()

assessment = store.find_assessment(pcn.code, year)
if assessment is None:
    matrices = sorted(catalog.matrices.values(), key=lambda m: (m.id != "nhse-pcn-maturity", m.version), reverse=False)
    latest = catalog.latest_matrix()
    matrix = st.selectbox("Matrix", matrices, index=matrices.index(latest) if latest in matrices else 0,
                          format_func=lambda m: m.label, key="assess_matrix")
    st.info(f"{plain(pcn.name)} has no {year} assessment yet.")
    earlier = [y for y in years if y < year]
    b1, b2 = st.columns(2)
    if earlier and b1.button(f"Copy {earlier[-1]} ratings as a draft", type="primary", disabled=not who):
        store.start_year(pcn.code, year, matrix, by=who)
        st.rerun()
    if b2.button(f"Start the {year} assessment blank", disabled=not who):
        store.create_assessment(pcn.code, year, matrix, by=who)
        st.rerun()
    st.stop()

matrix = catalog.matrices.get((assessment.matrix_id, assessment.matrix_version))
if matrix is None:
    st.error(f"This assessment uses matrix {plain(assessment.matrix_id)} {plain(assessment.matrix_version)}, "
             "which is not loaded. Check the Matrices page.")
    st.stop()
ratings = store.ratings(assessment.id)
editable = bool(who) and not assessment.locked

# Messages left by the save callbacks of the previous run.
for message in st.session_state.pop("assess_messages", []):
    st.error(plain(message))

rated = sum(1 for r in ratings.values() if r.current_stage)
total = len(matrix.element_ids())
st.progress(rated / total if total else 0.0, text=f"{rated} of {total} elements rated")
if ratings:
    last = max(ratings.values(), key=lambda r: r.updated_at)
    st.caption(f"Last saved {last.updated_at:%d %b %Y at %H:%M} UTC by {plain(last.updated_by)}. "
               "Every change is saved as soon as you make it; text boxes save when you click outside them.")

if assessment.status == "agreed":
    st.success(f"The {year} assessment is agreed, so it is locked. Open a new draft to change it.")
    if st.button("Open a new draft from it", disabled=not who):
        store.open_revision(assessment.id, by=who)
        st.rerun()

STAGE_LABELS = {s.id: s.label for s in matrix.stages}
CONFIDENCE = [None, "low", "medium", "high"]


def _save(element_id: str, field: str, key: str, version: int) -> None:
    """on_change: write the one field that changed, refusing if someone else saved first."""
    name = actor()
    value = st.session_state[key]
    if isinstance(value, str):
        value = value.strip() or None
    try:
        store.save_rating(assessment.id, element_id, by=name, expected_version=version, **{field: value})
    except ConflictError as exc:
        # Keep what the user typed in the widget so nothing is lost; they can copy it before reloading.
        st.session_state.setdefault("assess_messages", []).append(str(exc))
        st.session_state.setdefault("assess_conflicts", set()).add(element_id)
    except (LockedError, InputError, StoreError) as exc:
        st.session_state.setdefault("assess_messages", []).append(str(exc))
    else:
        st.toast(f"Saved: {matrix.element(element_id).title}")


def _sync(prefix: str, rating) -> None:
    """Put stored values into the widgets when the stored version moved on (our save or someone else's)."""
    version = rating.version if rating else 0
    conflicts = st.session_state.get("assess_conflicts", set())
    eid = prefix.split("|")[-1]
    if st.session_state.get(f"{prefix}|seen") == version or eid in conflicts:
        return
    st.session_state[f"{prefix}|seen"] = version
    st.session_state[f"{prefix}|current_stage"] = rating.current_stage if rating else None
    st.session_state[f"{prefix}|target_stage"] = rating.target_stage if rating else None
    st.session_state[f"{prefix}|confidence"] = rating.confidence if rating else None
    st.session_state[f"{prefix}|evidence"] = (rating.evidence or "") if rating else ""
    st.session_state[f"{prefix}|note"] = (rating.note or "") if rating else ""


titles = {d.id: f"{d.title} ({sum(1 for e in d.elements if ratings.get(e.id) and ratings[e.id].current_stage)}/{len(d.elements)})"
          for d in matrix.domains}
domain_id = st.segmented_control("Domain", list(titles), format_func=lambda d: plain(titles[d]),
                                 default=matrix.domains[0].id, key=f"assess_domain_{assessment.id}") or matrix.domains[0].id
domain = next(d for d in matrix.domains if d.id == domain_id)

for element in domain.elements:
    rating = ratings.get(element.id)
    prefix = f"a{assessment.id}|{element.id}"
    _sync(prefix, rating)
    version = rating.version if rating else 0
    with st.container(border=True):
        st.subheader(plain(element.title), anchor=False)
        stage_cards(matrix, element)
        if element.id in st.session_state.get("assess_conflicts", set()):
            st.warning("Someone else changed this element while you were editing. Your entries are still shown "
                       "below: copy anything you need, then load the latest.")
            if st.button("Load the latest", key=f"{prefix}|reload"):
                st.session_state["assess_conflicts"].discard(element.id)
                st.session_state.pop(f"{prefix}|seen", None)
                st.rerun()
        options = [None, *matrix.stage_ids]
        fmt = lambda s: "Not rated" if s is None else STAGE_LABELS[s]  # noqa: E731
        r1, r2, r3 = st.columns([3, 3, 2])
        for col, field, label in ((r1, "current_stage", "Where are we now?"),
                                  (r2, "target_stage", "Where do we want to be in a year?")):
            key = f"{prefix}|{field}"
            col.radio(label, options, format_func=fmt, key=key, horizontal=True, disabled=not editable,
                      on_change=_save, args=(element.id, field, key, version))
        key = f"{prefix}|confidence"
        r3.selectbox("How confident are we?", CONFIDENCE, key=key, disabled=not editable,
                     format_func=lambda c: "Not said" if c is None else c.capitalize(),
                     on_change=_save, args=(element.id, "confidence", key, version))
        e1, e2 = st.columns(2)
        key = f"{prefix}|evidence"
        e1.text_area("Evidence", key=key, disabled=not editable, height=100,
                     help="What would show this? " + " ".join(element.evidence_prompts),
                     on_change=_save, args=(element.id, "evidence", key, version))
        key = f"{prefix}|note"
        e2.text_area("Note", key=key, disabled=not editable, height=100,
                     on_change=_save, args=(element.id, "note", key, version))

if assessment.status == "draft" and who:
    st.divider()
    with st.container(border=True):
        st.markdown("**Agree the assessment**: once agreed with your ICS it is locked; a new draft can be opened from it.")
        sure = st.checkbox("We have agreed these ratings with our ICS", key=f"agree_{assessment.id}")
        if st.button("Mark as agreed", type="primary", disabled=not sure):
            try:
                store.agree_assessment(assessment.id, by=who, expected_version=assessment.version)
            except StoreError as exc:
                st.error(plain(exc))
            else:
                st.rerun()
        discard = st.checkbox("Discard this draft and all its ratings", key=f"discard_{assessment.id}")
        if discard and st.button("Discard the draft"):
            try:
                store.discard_draft(assessment.id, by=who, expected_version=assessment.version)
            except StoreError as exc:
                st.error(plain(exc))
            else:
                st.rerun()

"""Read-only views of a matrix and of the development pathway, sized for a projector."""
from __future__ import annotations

import streamlit as st

from matrix import Matrix, Pathway

from .look import plain


def stage_cards(matrix: Matrix, element) -> None:
    """The element's descriptor for every stage, side by side in matrix order."""
    cols = st.columns(len(matrix.stages), gap="small")
    for col, stage in zip(cols, matrix.stages):
        with col.container(border=True):
            st.markdown(f"**{plain(stage.label)}**")
            st.markdown(plain(element.descriptors[stage.id]))


def show_matrix(matrix: Matrix) -> None:
    st.caption(plain(matrix.source))
    with st.expander("The stages", expanded=False):
        for stage in matrix.stages:
            st.markdown(f"**{plain(stage.label)}**: {plain(stage.meaning)}")
    # One domain at a time: on a projector the room looks at one domain together, and the page
    # stays light enough to redraw at once.
    titles = {d.id: d.title for d in matrix.domains}
    # Option labels are rendered as markdown, so titles from the file are escaped.
    chosen = st.segmented_control("Domain", list(titles), format_func=lambda d: plain(titles[d]), default=matrix.domains[0].id,
                                  key=f"domain_{matrix.id}_{matrix.version}") or matrix.domains[0].id
    domain = next(d for d in matrix.domains if d.id == chosen)
    st.subheader(plain(domain.title), anchor=False)
    st.markdown(plain(domain.summary))
    for element in domain.elements:
        st.markdown(f"#### {plain(element.title)}")
        stage_cards(matrix, element)
        prompts = "\n".join(f"- {plain(p)}" for p in element.evidence_prompts)
        st.markdown(f"*What would show this?*\n\n{prompts}")


def show_pathway(pathway: Pathway) -> None:
    st.caption(plain(pathway.source))
    for step in pathway.steps:
        with st.expander(f"Step {step.number}: {plain(step.title)}", expanded=False):
            st.markdown(plain(step.purpose))
            st.markdown("**Checklist**\n\n" + "\n".join(f"- {plain(c.text)}" for c in step.checklist))
            if step.outputs:
                st.markdown("**Typical outputs**\n\n" + "\n".join(f"- {plain(o)}" for o in step.outputs))

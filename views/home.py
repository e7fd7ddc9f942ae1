"""Home: the maturity matrix and the six-step development pathway, as loaded from YAML."""
import streamlit as st

from components.catalog import get_catalog
from components.look import plain
from components.matrix_view import show_matrix, show_pathway
from matrix import version_key

catalog = get_catalog()
st.title("PCN maturity matrix")
st.markdown(
    "A self-assessment tool for Primary Care Networks: rate where your network is on each element "
    "of the matrix, agree it with your ICS, and plan the support you need next."
)
if catalog.invalid:
    st.warning(f"{len(catalog.invalid)} matrix file(s) could not be loaded. See the Matrices page for details.")

matrices = sorted(catalog.matrices.values(), key=lambda m: (m.title, version_key(m.version)))
if not matrices:
    st.error("No valid maturity matrix was found. Check the Matrices page for the problems in each file.")
else:
    default = catalog.latest_matrix()
    if len(matrices) == 1:
        chosen = matrices[0]
    else:
        chosen = st.selectbox("Matrix", matrices, index=matrices.index(default) if default in matrices else 0,
                              format_func=lambda m: m.label)
    st.header(f"{plain(chosen.title)}, version {plain(chosen.version)}", anchor=False)
    show_matrix(chosen)

pathway = catalog.default_pathway()
st.header("The six-step development pathway", anchor=False)
if pathway is None:
    st.error("No valid development pathway was found. Check the Matrices page.")
else:
    show_pathway(pathway)

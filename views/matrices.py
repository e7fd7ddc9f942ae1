"""Matrices: every YAML file found, whether it is valid, its problems, and a validator for uploads."""
from pathlib import Path

import pandas as pd
import streamlit as st

from components.catalog import display_name, get_catalog
from assessments.access import ADMINISTER
from assessments.matrix_files import add_matrix_file, user_folder
from assessments.values import StoreError
from components.state import can, get_store
from components.look import plain
from matrix import MatrixFileError, load_text
from matrix.loader import ENV_DIR, matrix_dirs

st.title("Matrices and reference files")
catalog = get_catalog()

folders = [str(d) for d in matrix_dirs()]
st.markdown(
    "Files are read from the shipped `matrix` folder"
    + (f" and from `{ENV_DIR}` ({', '.join(folders[1:])})." if len(folders) > 1 else
       f". Set `{ENV_DIR}` to a folder of your own to add local matrices.")
)

rows = []
for kind, docs in (("maturity-matrix", catalog.matrices), ("development-pathway", catalog.pathways),
                   ("service-specifications", catalog.specifications), ("development-funding", catalog.funding)):
    for doc in docs.values():
        rows.append({"File": display_name(catalog.files[(kind, doc.id, doc.version)]), "Kind": kind,
                     "Id": doc.id, "Version": doc.version, "Title": doc.title, "Valid": "Yes"})
for file in catalog.invalid:
    rows.append({"File": display_name(file), "Kind": "", "Id": "", "Version": "", "Title": "",
                 "Valid": "No"})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

def show_problems(problems) -> None:
    st.dataframe(
        pd.DataFrame([{"Line": p.line, "Field": p.path, "Problem": p.message} for p in problems]),
        hide_index=True, width="stretch",
    )

for file, problems in catalog.invalid.items():
    st.error(plain(f"{display_name(file)}: {len(problems)} problem(s). The app keeps working with the valid files."))
    show_problems(problems)

st.header("Check a YAML file", anchor=False)
upload = st.file_uploader("YAML file to validate", type=["yaml", "yml"])
if upload is not None:
    try:
        doc = load_text(upload.getvalue(), upload.name)
    except MatrixFileError as exc:
        st.error(plain(f"{upload.name} is not valid: {len(exc.problems)} problem(s)."))
        show_problems(exc.problems)
    else:
        size = f", {len(doc.element_ids())} elements" if hasattr(doc, "element_ids") else ""
        st.success(plain(f"{upload.name} is valid: {doc.kind} '{doc.id}' version {doc.version}{size}."))
        folder = user_folder()
        if folder is not None and can(ADMINISTER):  # a file there can replace the matrix PCNs are rated against
            target = folder / Path(upload.name).name
            if st.button(plain(f"Add it to {target.parent}"), disabled=target.exists(),
                         help="A file of that name already exists there." if target.exists() else None):
                try:
                    saved = add_matrix_file(get_store(), upload.name, upload.getvalue())
                except StoreError as exc:
                    st.error(plain(str(exc)))
                else:
                    st.toast(plain(f"Saved as {saved}."))
                    st.rerun()

"""Matrices: every YAML file found, whether it is valid, its problems, and a validator for uploads."""
import os
from pathlib import Path

import pandas as pd
import streamlit as st

from components.catalog import display_name, get_catalog
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
        user_dir = os.environ.get(ENV_DIR, "").split(os.pathsep)[0].strip()
        if user_dir:
            target = Path(user_dir).expanduser() / Path(upload.name).name
            if st.button(plain(f"Add it to {target.parent}"), disabled=target.exists(),
                         help="A file of that name already exists there." if target.exists() else None):
                target.write_bytes(upload.getvalue())
                st.toast(plain(f"Saved as {target}."))
                st.rerun()

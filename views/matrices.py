"""Matrices: every YAML file found, whether it is valid, its problems, each ICS's default matrix
(which an administrator sets), and a validator for uploads."""
from pathlib import Path

import pandas as pd
import streamlit as st

from components import messages as M
from components.catalog import display_name, get_catalog
from assessments import organisations as orgs
from assessments.access import ADMINISTER
from assessments.matrix_choice import newest, title_of
from assessments.matrix_files import add_matrix_file, user_folder
from assessments.model import NATIONAL_MATRIX_ID
from assessments.values import StoreError
from components.state import can, get_store, require_actor
from components.look import plain, static_table
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
static_table(pd.DataFrame(rows), alt="The matrix and pathway files loaded, and whether each is valid")

def show_problems(problems) -> None:
    static_table(pd.DataFrame([{"Line": p.line, "Field": p.path, "Problem": p.message} for p in problems]),
                 alt="The problems found in the file")

for file, problems in catalog.invalid.items():
    st.error(plain(f"{display_name(file)}: {len(problems)} problem(s). The app keeps working with the valid files."))
    show_problems(problems)


MESSAGE = "matrices_message"
st.header("Default matrix of each ICS", anchor=False)
st.markdown("New years and workshops of an ICS's PCNs start on its default matrix (its newest loaded version); "
            "anyone rating can still choose another. Progress, plans and the portfolio show it first.")
store = get_store()
ics_list = orgs.list_ics(store)
chosen_of = orgs.default_matrix_ids(store)
if ics_list and catalog.matrices:
    national = store.default_matrix()
    static_table(pd.DataFrame([{"ICS": f"{i.name} ({i.code})", "Chosen": chosen_of.get(i.code) or "none (national)",
                                "New years start on": (newest(store, chosen_of.get(i.code)) or national).label}
                               for i in ics_list]), alt="The default matrix of each ICS")
M.show(M.take(MESSAGE), reload_key="matrices_reload", reload_help="Show the defaults as saved now")
if ics_list and can(ADMINISTER) and catalog.matrices:
    names = {i.code: f"{i.name} ({i.code})" for i in ics_list}
    ids = sorted({m.id for m in catalog.matrices.values()}, key=lambda x: (x != NATIONAL_MATRIX_ID, x))
    c1, c2 = st.columns(2)
    code = c1.selectbox("ICS", list(names), format_func=names.get, key="default_matrix_ics")
    ics = next(i for i in ics_list if i.code == code)
    current = chosen_of.get(code)
    options = [None, *ids] if current in (None, *ids) else [None, *ids, current]
    value = c2.selectbox("Default matrix", options, index=options.index(current), key=f"default_matrix|{code}|{ics.version}",
                         format_func=lambda x: "None chosen: the national matrix" if x is None else
                         f"{title_of(store, x)} ({x})")
    who = require_actor()
    st.button("Save the default", type="primary", disabled=value == current or not who,
              key="default_matrix_save", on_click=M.act,
              args=(MESSAGE, f"{ics.name}: new years and workshops now start on "
                             f"{title_of(store, value) if value else 'the national matrix'}.",
                    orgs.set_default_matrix, store, code, value),
              kwargs=dict(by=who, expected_version=ics.version, source="matrices page"))
    st.caption("Command line: `python cli.py default-matrix --ics CODE MATRIX_ID` (or `--national`).")

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

"""The sections of the Data page: backup, the ICS and PCN list, ratings import (checked first:
a file with any bad row imports nothing) and export, and restoring a backup into an empty
database. Writes run inline after their button and say how they went just below it."""
from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from assessments import exchange, organisations
from assessments import organisations as orgs
from assessments import ratings as assessing
from assessments.model import NATIONAL_MATRIX_ID
from assessments.store import Store
from assessments.values import InputError, StoreError, check_year
from matrix import Matrix, version_key

from .catalog import get_catalog
from .look import plain
from .state import require_actor

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _file_bytes(write, suffix: str) -> bytes:
    """Run an exchange writer into a temporary file and hand back its bytes for a download."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"out{suffix}"
        write(path)
        return path.read_bytes()


def _problems_table(exc) -> None:
    """An import's problems; the core stops checking a file after its first thousand."""
    st.dataframe(pd.DataFrame([{"Line": p.line, "Problem": p.message} for p in exc.problems]),
                 hide_index=True, width="stretch")
    if exc.stopped:
        st.caption(f"Checking stopped after the first {len(exc.problems):,} problems; fix these and check the "
                   "file again.")


def backup(store: Store) -> None:
    """A backup of everything, as one JSON file."""
    st.markdown("A backup holds everything: organisations, assessments, ratings, plans and the full change log.")
    st.download_button(
        "Download a backup (JSON)",
        data=lambda: exchange.dumps_backup(exchange.backup(store)).encode("utf-8"),
        file_name=f"pcn-maturity-backup-{date.today().isoformat()}.json",
        mime="application/json", on_click="ignore", type="primary",
    )
    st.caption("Command line: `python cli.py backup -o FILE.json`.")


def organisations_section(store: Store) -> None:
    """Load ICSs and PCNs from a spreadsheet, and download the current ones."""
    st.markdown(
        "Load your own ICS and PCNs from a spreadsheet with one row per PCN and the columns "
        "`ics_code`, `ics_name`, `pcn_code`, `pcn_name`, `list_size`, `rural` (yes/no), `practices` "
        "(member practices separated by `;`) and optionally `ics_region`. New ones are added, existing ones "
        "updated; a file with any bad row changes nothing."
    )
    st.download_button(
        "Download current ICSs and PCNs (Excel)", on_click="ignore", file_name="organisations.xlsx", mime=XLSX,
        data=lambda: _file_bytes(lambda p: organisations.export_organisations(store, p), ".xlsx"),
    )
    org_upload = st.file_uploader("ICS and PCN file (.csv or .xlsx)", type=["csv", "xlsx"], key="orgs_upload")
    if org_upload is not None:
        actor = require_actor()
        if st.button("Import ICSs and PCNs", type="primary", disabled=not actor):
            _run_import(lambda: organisations.import_organisations(
                store, org_upload.name, by=actor, data=org_upload.getvalue(), name=org_upload.name),
                lambda exc: f"{plain(org_upload.name)}: {len(exc.problems)} problem(s). Nothing has been imported.")


def _run_import(run, refused) -> None:
    """Run an all-or-nothing import and say how it went: the summary, or every bad row by line."""
    try:
        result = run()
    except exchange.ImportProblems as exc:
        st.error(refused(exc))
        _problems_table(exc)
    except StoreError as exc:
        st.error(plain(exc))
    else:
        st.cache_data.clear()
        st.success(plain(result.summary()))


def template_matrix(store: Store, ics_code: str | None) -> Matrix:
    """Which matrix the template is for: any loaded one (every version), starting on the chosen ICS's
    default matrix, else the national one. The file then lists that matrix's elements and stages."""
    catalog = get_catalog()
    keys = sorted(catalog.matrices, key=lambda k: (k[0] != NATIONAL_MATRIX_ID, k[0], version_key(k[1])))
    if not keys:
        st.error("No maturity matrix is loaded: check the Matrices page.")
        st.stop()
    default = orgs.default_matrix(store, ics_code).key
    if st.session_state.get("tpl_matrix_for") != ics_code or st.session_state.get("tpl_matrix") not in keys:
        st.session_state["tpl_matrix"] = default if default in keys else keys[0]
        st.session_state["tpl_matrix_for"] = ics_code
    key = st.selectbox("Matrix", keys, key="tpl_matrix", format_func=lambda k: catalog.matrices[k].label,
                       help="The template lists this matrix's elements, and its stages in the guide.")
    matrix = catalog.matrices[key]
    st.caption(plain(f"{len(matrix.element_ids())} elements in {len(matrix.domains)} domain(s); stages: "
                     + ", ".join(s.label for s in matrix.stages) + "."))
    return matrix


def import_ratings(store: Store) -> None:
    """Check a ratings file, then import it only when every row is good; and the Excel template."""
    st.markdown(
        "One row per PCN, year and element. Every row is checked first: a file with any bad row imports "
        "nothing and lists each problem with its line number, so you can fix the file and try again."
    )
    with st.expander("Download a template"):
        tpl_ics = {i.code: f"{i.name} ({i.code})" for i in orgs.list_ics(store)}
        t_ics = st.selectbox("ICS (optional)", [None, *tpl_ics], key="tpl_ics",
                             format_func=lambda c: "Any ICS" if c is None else tpl_ics[c])
        pcn_names = {p.code: f"{p.name} ({p.code})" for p in orgs.pcns(store, t_ics)} if t_ics else {}
        t_pcn = st.selectbox("PCN (optional)", [None, *pcn_names], key="tpl_pcn", disabled=not t_ics,
                             format_func=lambda c: "Any PCN (fill in the code)" if c is None else pcn_names[c])
        matrix = template_matrix(store, t_ics)
        t_year = st.text_input("Year (optional, like 2025/26)", key="tpl_year")
        try:
            t_year = check_year(t_year) if t_year.strip() else None
        except InputError as exc:
            st.error(plain(exc))
        else:
            st.download_button(
                "Download the Excel template", mime=XLSX, on_click="ignore",
                file_name=f"ratings-template-{matrix.id}-{matrix.version}.xlsx".replace("/", "-"),
                data=lambda: _file_bytes(lambda p: exchange.write_template(
                    store, p, matrix=matrix, pcn_code=t_pcn, year=t_year), ".xlsx"))
    upload = st.file_uploader("Ratings file (.csv or .xlsx)", type=["csv", "xlsx"], key="ratings_upload")
    if upload is not None:
        data = upload.getvalue()
        try:
            header, body = exchange.read_rows(upload.name, data)
            plan = exchange.check_rows(store, header, body, upload.name)
        except exchange.ImportProblems as exc:
            st.error(f"{plain(upload.name)}: {len(exc.problems)} problem(s). Nothing has been imported.")
            _problems_table(exc)
        except InputError as exc:
            st.error(f"{plain(upload.name)} cannot be read: {plain(exc)}")
        else:
            assessments = sorted({(r.pcn_code, r.year) for r in plan.rows})
            st.success(f"{plain(upload.name)} is valid: {len(plan.rows)} row(s) to import for {len(assessments)} "
                       f"assessment(s); {plan.unchanged} already as stored; {plan.skipped} empty row(s) skipped.")
            actor = require_actor()
            if st.button(f"Import {len(plan.rows)} row(s)", type="primary", disabled=not actor or not plan.rows):
                _run_import(lambda: exchange.import_ratings(store, upload.name, by=actor, data=data, name=upload.name),
                            lambda exc: f"{plain(upload.name)}: nothing was imported.")


def export_ratings(store: Store) -> None:
    """Ratings out, in the import format, for an ICS and year or all."""
    ics_list = orgs.list_ics(store)
    years = assessing.years(store)
    c1, c2, c3 = st.columns(3)
    ics_names = {i.code: f"{i.name} ({i.code})" for i in ics_list}
    e_ics = c1.selectbox("ICS", [None, *ics_names], key="exp_ics",
                         format_func=lambda c: "All" if c is None else ics_names[c])
    e_year = c2.selectbox("Year", [None, *years], key="exp_year", format_func=lambda y: "All years" if y is None else y)
    e_fmt = c3.radio("Format", ["Excel (.xlsx)", "CSV"], key="exp_fmt", horizontal=True)
    suffix = ".xlsx" if e_fmt.startswith("Excel") else ".csv"
    name = "ratings" + (f"-{e_ics}" if e_ics else "") + (f"-{e_year.replace('/', '-')}" if e_year else "") + suffix
    st.download_button(
        "Download ratings", on_click="ignore", file_name=name, mime=XLSX if suffix == ".xlsx" else "text/csv",
        data=lambda: _file_bytes(lambda p: exchange.export_ratings(store, p, ics_code=e_ics, year=e_year), suffix),
    )
    st.caption("The export uses the import format, so it can be edited and imported again.")


def restore(store: Store) -> None:
    """Restore a backup, only into an empty database."""
    st.markdown(
        "Restoring loads a backup into an **empty** database only, so nothing already saved can be overwritten. "
        "To restore, point the app at a new database (for example `PCN_DATABASE_URL=sqlite:///data/restored.db`) "
        "and open this page again."
    )
    empty = store.is_empty()
    backup_file = st.file_uploader("Backup file (.json)", type=["json"], key="restore_upload")
    if backup_file is not None:
        try:
            payload = exchange.parse_backup(backup_file.getvalue(), backup_file.name)
        except StoreError as exc:
            st.error(plain(exc))
        else:
            sizes = exchange.table_sizes(payload)
            if sizes:
                st.dataframe(pd.DataFrame([{"Table": t, "Rows": "?" if n is None else f"{n:,}"} for t, n in sizes]),
                             hide_index=True)
            if not empty:
                st.warning("This database already holds data, so the backup cannot be restored into it.")
            actor = require_actor()
            if st.button("Restore this backup", type="primary", disabled=not (empty and actor)):
                try:
                    counts = exchange.restore(store, payload)
                except StoreError as exc:
                    st.error(f"Nothing was restored: {plain(exc)}")
                else:
                    st.cache_data.clear()
                    st.success(f"Restored {sum(counts.values()):,} rows from {plain(backup_file.name)}.")

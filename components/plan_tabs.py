"""The three tabs of the development plan page: the priorities (suggested from the assessment,
chosen and ordered) with the service-improvement priority; the actions table with its funding
checks; and the downloads (PDF, Excel, a zip of every PCN's PDF for the ICS). Every save goes
through components.messages under the page's message key, so conflicts are told apart."""
from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from assessments import organisations as orgs
from assessments import plan as plans
from assessments.model import ICS, PCN
from assessments.store import Store
from assessments.values import ConflictError, StoreError
from reports.data import PlanReport, gather, summary_paragraphs

from . import messages as M
from . import plan_editor
from .cache import cached
from .catalog import get_catalog
from .look import plain
from .state import get_store

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@cached(max_entries=32)
def load_report(pcn_code: str, year: str, matrix_id: str | None = None) -> PlanReport:
    """Everything the plan page and its downloads show for one PCN and year (against one matrix)."""
    return gather(get_store(), pcn_code, year, matrix_id=matrix_id)


@cached(max_entries=8)
def plan_workbook(pcn_code: str, year: str, matrix_id: str | None = None) -> bytes:
    from reports.excel import workbook
    return workbook(load_report(pcn_code, year, matrix_id))


def priorities(message: str, store: Store, report: PlanReport, pcn: PCN, year: str, actor: str | None) -> None:
    """Suggested priorities beside the chosen ones (add, reorder, remove), then the service-improvement
    priority and the plan's notes."""
    plan = report.plan
    saved_or_conflict = partial(M.act, message, "Saved.")
    chosen_ids = [p.element_id for p in plan.priorities]
    reasons = {p.element_id: p.reason for p in plan.priorities}
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Suggested from the assessment", anchor=False)
        if not report.suggestions:
            st.info("Rate at least part of this year's assessment to get suggestions.")
        else:
            st.caption("The largest gaps between where the network is and where it wants to be come first; the "
                       "domain with the lowest score always has a place.")
        for s in report.suggestions:
            with st.container(border=True):
                st.markdown(f"**{plain(s.element_title)}** ({plain(s.domain_title)})")
                st.caption(plain(s.reason))
                taken = s.element_id in chosen_ids
                st.button("Added" if taken else "Add to priorities", key=f"suggest_{s.element_id}",
                          disabled=taken or not actor or len(chosen_ids) >= plans.MAX_PRIORITIES,
                          on_click=saved_or_conflict,
                          args=(plans.save_plan, store, pcn.code, year),
                          kwargs=dict(by=actor, expected_version=plan.version,
                                      priorities=[(e, reasons.get(e)) for e in chosen_ids] + [(s.element_id, s.reason)]))
    with right:
        st.subheader("Chosen priorities", anchor=False)
        if not plan.priorities:
            st.info("None chosen yet. Add suggestions, or any element below.")
        pairs = [(e, reasons.get(e)) for e in chosen_ids]

        def moved(i: int, step: int) -> list:
            out = list(pairs)
            out[i], out[i + step] = out[i + step], out[i]
            return out

        for i, p in enumerate(report.priorities if not report.priorities_are_suggestions else []):
            with st.container(border=True):
                st.markdown(f"**{i + 1}. {plain(p.title)}** ({plain(p.domain)}): {plain(p.current)} now, "
                            f"target {plain(p.target)}")
                if p.reason:
                    st.caption(plain(p.reason))
                row = st.container(horizontal=True)
                b1 = b2 = b3 = row
                common = dict(on_click=saved_or_conflict, args=(plans.save_plan, store, pcn.code, year))
                b1.button("Move up", key=f"up_{p.element_id}", disabled=not actor or i == 0,
                          kwargs=dict(by=actor, expected_version=plan.version, priorities=moved(i, -1) if i else pairs),
                          **common)
                b2.button("Move down", key=f"down_{p.element_id}", disabled=not actor or i == len(pairs) - 1,
                          kwargs=dict(by=actor, expected_version=plan.version,
                                      priorities=moved(i, 1) if i < len(pairs) - 1 else pairs), **common)
                b3.button("Remove", key=f"remove_{p.element_id}", disabled=not actor,
                          kwargs=dict(by=actor, expected_version=plan.version,
                                      priorities=[q for q in pairs if q[0] != p.element_id]), **common)
        titles = {e.id: f"{e.title} ({d.title})" for d, e in report.matrix.elements()}
        others = [e for e in titles if e not in chosen_ids]
        extra = st.selectbox("Add another element", [None, *others], key="plan_add_element",
                             format_func=lambda e: "Choose an element" if e is None else titles[e])
        st.button("Add element", key="plan_add_element_button", disabled=not actor or extra is None,
                  on_click=saved_or_conflict, args=(plans.save_plan, store, pcn.code, year),
                  kwargs=dict(by=actor, expected_version=plan.version,
                              priorities=pairs + [(extra, "Chosen by the network")]))

    st.subheader("Service-improvement priority", anchor=False)
    specs = get_catalog().default_specifications()
    spec_titles = {s.id: s.title for s in specs.specifications} if specs else {}
    # Keyed by version, and saved from a callback with the version shown: if someone else saves in
    # between, the save is a conflict (showing both texts) rather than a silent overwrite.
    keys = [f"plan_{name}_{pcn.code}_{year}_{plan.version}" for name in ("service", "spec", "notes")]

    def save_service(expected: int) -> None:
        saved_or_conflict(plans.save_plan, store, pcn.code, year, by=actor, expected_version=expected,
                          service_priority=st.session_state[keys[0]], service_spec=st.session_state[keys[1]],
                          notes=st.session_state[keys[2]], specifications=specs)

    with st.form("plan_service_form", border=True):
        st.text_area("The one service-improvement priority for this year", value=plan.service_priority or "",
                     max_chars=5000, key=keys[0], help="The service the network will improve together with its partners")
        spec_ids = [None, *spec_titles]
        st.selectbox("Linked to a DES service specification (optional)", spec_ids, key=keys[1],
                     index=spec_ids.index(plan.service_spec) if plan.service_spec in spec_ids else 0,
                     format_func=lambda s: "None" if s is None else spec_titles[s])
        st.text_area("Notes for the plan (optional)", value=plan.notes or "", max_chars=20_000, key=keys[2])
        st.form_submit_button("Save priority and notes", type="primary", disabled=not actor,
                              on_click=save_service, args=(plan.version,))


def actions(message: str, store: Store, report: PlanReport, pcn: PCN, year: str, actor: str | None) -> None:
    """The actions as an editable table, saved together, and the funding checks as the table stands."""
    plan = report.plan
    st.subheader("Actions", anchor=False)
    st.caption("Edit the table like a spreadsheet: add rows at the bottom, delete rows by ticking them. Nothing is "
               "saved until you press Save; a row with a problem keeps what you typed and says what to fix.")
    # The table the editor started from stays fixed while the user edits, so someone else's save
    # cannot wipe their unsaved changes; it is refreshed after a save, on reload, or when untouched.
    gen_key, base_key = f"plan_gen_{pcn.code}_{year}", f"plan_base_{pcn.code}_{year}"
    gen = st.session_state.setdefault(gen_key, 0)
    editor_key = f"plan_actions_{pcn.code}_{year}_{gen}"
    latest = plan_editor.actions_frame(plan, report.pathway, report.funding)
    pending = st.session_state.get(editor_key) or {}
    touched = any(pending.get(k) for k in ("edited_rows", "added_rows", "deleted_rows"))
    base = st.session_state.get(base_key)
    if base is None or (not touched and not base.equals(latest)):
        if base is not None:
            gen += 1
            st.session_state[gen_key] = gen
            editor_key = f"plan_actions_{pcn.code}_{year}_{gen}"
        base = st.session_state[base_key] = latest
    if base.empty:
        st.info("No actions yet. Click the empty row of the table (or + above it) to add the first one.")
    edited = st.data_editor(base, key=editor_key, num_rows="dynamic", hide_index=True, width="stretch",
                            column_config=plan_editor.column_config(report.pathway, report.funding),
                            disabled=not actor)
    rows = plan_editor.rows_from_frame(edited)
    removed = plan_editor.deleted_rows(base, edited)
    buttons = st.container(horizontal=True)
    save = buttons.button("Save actions", type="primary", disabled=not actor, key="plan_save_actions")
    if buttons.button("Discard changes and load the latest", key="plan_reload_actions", disabled=not touched):
        st.session_state.pop(base_key, None)
        st.session_state[gen_key] = gen + 1
        st.rerun()
    if save:
        try:
            plans.save_actions(store, pcn.code, year, rows, by=actor, deleted=removed, pathway=report.pathway,
                               funding=report.funding)
        except plans.ActionProblems as exc:
            st.error(f"Nothing was saved: {len(exc.problems)} problem(s) to fix in the table. Your changes are "
                     "still in the table.")
            st.dataframe(plan_editor.problems_table(exc.problems, rows), hide_index=True, width="stretch")
        except ConflictError as exc:
            st.error(plain(exc))
            st.caption("Your changes are still in the table. Copy what you need, then load the latest version.")
        except StoreError as exc:
            st.error(plain(exc))
        else:
            st.session_state.pop(base_key, None)
            st.session_state[gen_key] = gen + 1
            M.say(message, "done", f"Saved {sum(1 for r in rows if r.get('what'))} action(s).")
            st.rerun()

    st.subheader("Funding checks", anchor=False)
    rules = report.funding.title if report.funding else "the development-funding rules"
    st.caption(f"Actions asking for PCN development funding are checked against {plain(rules)}: a flag is a prompt "
               "for discussion, not a funding decision. The checks follow the table as you edit it.")
    if not plan_editor.show_flags(rows, report.funding):
        if any(r.get("what") for r in rows):
            st.success("No action asking for development funding looks ineligible.")
        else:
            st.caption("No actions to check yet.")
    costs = report.cost_by_source()
    if costs:
        st.dataframe(pd.DataFrame({"Funding source": list(costs), "Estimated cost (saved actions, not dropped)":
                                   [f"£{v:,.2f}" for v in costs.values()]}), hide_index=True)


def downloads(store: Store, report: PlanReport, ics: ICS, pcn: PCN, year: str, version: int) -> None:
    """The plan as PDF (made on request) and Excel, and every PCN's PDF of the ICS in one zip."""
    st.subheader("The plan for the joint discussion", anchor=False)
    with st.expander("What the summary page will say", expanded=False):
        for heading, text in summary_paragraphs(report):
            st.markdown(f"**{plain(heading)}**  \n{plain(text)}")
    pdf_key = (pcn.code, year, report.matrix.id, version)
    prepared = st.session_state.get("plan_pdf")
    downloads = st.container(horizontal=True)
    if prepared is None or prepared[0] != pdf_key:
        slot = downloads.empty()
        # The PDF takes a second or two (charts are drawn in a browser), so it is made on request.
        if slot.button("Prepare the plan PDF", type="primary", key="plan_prepare_pdf",
                       help="Draws the charts and lays out the document; takes a few seconds"):
            from reports.pdf import render

            with st.spinner("Preparing the PDF..."):
                try:
                    st.session_state["plan_pdf"] = (pdf_key, render(report), report.file_stem + ".pdf")
                except Exception as exc:  # a missing font or browser: say what to install
                    st.error(plain(exc))
            prepared = st.session_state.get("plan_pdf")
            if prepared is not None and prepared[0] == pdf_key:
                slot.empty()
    if prepared is not None and prepared[0] == pdf_key:
        downloads.download_button("Download the plan PDF", data=prepared[1], file_name=prepared[2],
                                  mime="application/pdf", on_click="ignore", type="primary", key="plan_pdf_download",
                                  icon=":material/picture_as_pdf:")
    downloads.download_button("Download the plan in Excel",
                              data=plan_workbook(pcn.code, year, report.matrix.id),
                              file_name=report.file_stem + ".xlsx", mime=XLSX, on_click="ignore",
                              key="plan_xlsx_download", icon=":material/table:")
    st.caption("Command line: `python cli.py export-plan --pcn CODE --year 2024/25 -o plan.pdf`.")

    st.subheader(f"Every PCN of {plain(ics.name)}", anchor=False)
    zip_key = (ics.code, year, version)
    bundle = st.session_state.get("plan_zip")
    n_pcns = len(orgs.pcns(store, ics.code))
    if bundle is None or bundle[0] != zip_key:
        slot = st.empty()
        if slot.button(f"Prepare the PDFs of all {n_pcns} PCNs", key="plan_prepare_zip"):
            slot.empty()
            from reports.pdf import ics_plans_zip

            bar = st.progress(0.0, text="Starting...")

            def progress(done: int, total: int, name: str) -> None:
                bar.progress(done / total if total else 1.0,
                             text=f"{done} of {total} done" + (f": now {plain(name)}" if name else ""))

            try:
                data = ics_plans_zip(store, ics.code, year, progress=progress)
            except Exception as exc:
                st.error(plain(exc))
            else:
                st.session_state["plan_zip"] = (zip_key, data, f"development-plans-{ics.code}-{year.replace('/', '-')}.zip")
            bundle = st.session_state.get("plan_zip")
    if bundle is not None and bundle[0] == zip_key:
        st.download_button(f"Download the {n_pcns} plan PDFs (zip)", data=bundle[1], file_name=bundle[2],
                           mime="application/zip", on_click="ignore", key="plan_zip_download", icon=":material/folder_zip:")
    st.caption("Command line: `python cli.py export-plans --ics CODE --year 2024/25 -o FOLDER`.")

"""The tabs of the development plan page: the priorities (suggested from the assessment, chosen
and ordered) with the service-improvement priority; the actions (components.plan_editor) with
their funding checks and the actions under what they serve; the clinical director's development;
the versions shared with the ICS and commissioners; and the downloads (PDF, Excel, a zip of every
PCN's PDF for the ICS). Every save goes through components.messages under the page's message key,
so conflicts are told apart."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import partial
from typing import Any

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
HEAD_KEY = "plan-head"  # the fragment with the plan's last-changed line and the message of a save
PRIORITIES_KEY = "plan-priorities"  # the fragment of the Priorities tab


@cached(max_entries=32)
def load_report(pcn_code: str, year: str, matrix_id: str | None = None) -> PlanReport:
    """Everything the plan page and its downloads show for one PCN and year (against one matrix)."""
    return gather(get_store(), pcn_code, year, matrix_id=matrix_id)


@cached(max_entries=8)
def plan_workbook(pcn_code: str, year: str, matrix_id: str | None = None) -> bytes:
    from reports.excel import workbook
    return workbook(load_report(pcn_code, year, matrix_id))


def _act_here(message: str, done: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """A save from the Priorities tab (a fragment): then only it and the plan's heading lines are drawn
    again, which are all that show the priorities while that tab is open."""
    M.act(message, done, fn, *args, **kwargs)
    from streamlit.errors import StreamlitAPIException

    try:
        st.rerun([HEAD_KEY, PRIORITIES_KEY])
    except StreamlitAPIException:  # drawn without those fragments: the whole page
        st.rerun()


def priorities(message: str, store: Store, report: PlanReport, pcn: PCN, year: str, actor: str | None) -> None:
    """Suggested priorities beside the chosen ones (add, reorder, remove), then the service-improvement
    priority and the plan's notes."""
    plan = report.plan
    saved_or_conflict = partial(_act_here, message, "Saved.")
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


def choices_of(report: PlanReport) -> plan_editor.Choices:
    return plan_editor.Choices.of(report.matrix, tuple(p.element_id for p in report.plan.priorities), report.pathway,
                                  report.funding)


def _save(message: str, store: Store, report: PlanReport, pcn: PCN, year: str, actor: str | None,
          change: Callable[[list[dict], dict[int, int]], tuple[list[dict], dict[int, int]]] | None = None) -> None:
    """Save the draft as it stands (after `change`, a detail or a removal): everything in the editor
    is saved together or, with a problem anywhere, nothing is and the draft keeps what was typed."""
    choices = choices_of(report)
    d = plan_editor.draft(pcn.code, year, report.plan, choices)
    rows, deleted = plan_editor.current(pcn.code, year, d, choices)
    if change is not None:
        rows, deleted = change(rows, deleted)
    rows = [r for r in rows if not plan_editor.blank_new(r)]
    problems_key = f"plan_problems|{pcn.code}|{year}"
    st.session_state.pop(problems_key, None)
    try:
        plans.save_actions(store, pcn.code, year, plan_editor.for_saving(rows), by=actor, deleted=deleted,
                           pathway=report.pathway, funding=report.funding, matrix=report.matrix)
    except plans.ActionProblems as exc:
        # The table is drawn from these rows, so the row numbers of the problems are the ones shown.
        plan_editor.fold(pcn.code, year, d, rows, deleted, choices)
        st.session_state[problems_key] = (exc.problems, rows)
    except StoreError as exc:
        plan_editor.fold(pcn.code, year, d, rows, deleted, choices)
        M.say(message, "conflict" if isinstance(exc, ConflictError) else "error",
              f"{exc} Your changes are still in the table: copy what you need, then load the latest.", "actions")
    else:
        plan_editor.drop(pcn.code, year)
        n = len(rows)
        M.say(message, "done", f"Saved {n} action{'s' if n != 1 else ''}.", "actions")


def actions(message: str, store: Store, report: PlanReport, pcn: PCN, year: str, actor: str | None,
            shown: M.Message | None = None) -> None:
    """The actions: a short table to type and paste into, a form with every detail of the chosen
    action, a box for pasting many rows, the funding checks as the table stands, and the actions
    under the priorities and elements they serve."""
    plan = report.plan
    choices = choices_of(report)
    st.subheader("Actions", anchor=False)
    st.caption("Type in the table as in a spreadsheet. To paste rows copied from one, click the empty row at the "
               "bottom, press Ctrl+V, then Enter: each row becomes an action. Select rows at the "
               "left to delete them. "
               "Everything else about an action (pathway step, support, cost and funding) is in the form below the "
               "table. Nothing is saved until you press Save; what you type is kept until then.")
    d = plan_editor.draft(pcn.code, year, plan, choices)
    plan_editor.settle(pcn.code, year, d, choices)
    key = plan_editor.table_key(pcn.code, year, d)
    base = plan_editor.frame(d["rows"], choices)
    if base.empty and not any((st.session_state.get(key) or {}).get(k) for k in ("edited_rows", "added_rows")):
        st.info("No actions yet. Click the empty row of the table to add the first one, or paste several.")
    st.data_editor(base, key=key, num_rows="dynamic", hide_index=True, width="stretch", placeholder="",
                   column_config=plan_editor.column_config(choices), disabled=not actor,
                   alt="The plan's actions: what, owner, due date, status and what each is linked to")
    plan_editor.keep(pcn.code, year, d)
    rows, deleted = plan_editor.current(pcn.code, year, d, choices)
    changed = plan_editor.dirty(d, plan, choices)
    buttons = st.container(horizontal=True)
    buttons.button("Save actions", type="primary", disabled=not actor, key="plan_save_actions",
                   on_click=_save, args=(message, store, report, pcn, year, actor))
    buttons.button("Discard changes and load the latest", key="plan_reload_actions", disabled=not changed,
                   on_click=plan_editor.drop, args=(pcn.code, year))
    if changed:
        buttons.caption("Unsaved changes")
    M.show(shown, "actions", done="box")
    problems = st.session_state.get(f"plan_problems|{pcn.code}|{year}")
    if problems is not None:
        found, as_saved = problems
        st.error(f"Nothing was saved: {len(found)} problem{'s' if len(found) != 1 else ''} to fix (row numbers as in "
                 "the table). Your changes are still in the table.")
        st.dataframe(plan_editor.problems_table(found, as_saved), hide_index=True, width="stretch")

    _details(message, store, report, pcn, year, actor, rows, choices, d)
    _paste_box(pcn, year, actor, choices, d)

    st.subheader("Funding checks", anchor=False)
    rules = report.funding.title if report.funding else "the development-funding rules"
    st.caption(f"Actions asking for PCN development funding are checked against {plain(rules)}: a flag is a prompt "
               "for discussion, not a funding decision. The checks follow the table as you edit it.")
    live = [r for r in rows if not plan_editor.blank_new(r)]
    flagged = plan_editor.show_flags(live, report.funding)
    if not flagged and not any(plans.existing_support_notes(r, report.funding) for r in live):
        if live:
            st.success("No action asking for development funding looks ineligible.")
        else:
            st.caption("No actions to check yet.")
    costs = report.cost_by_source()
    if costs:
        st.dataframe(pd.DataFrame({"Funding source": list(costs), "Estimated cost (saved actions, not dropped)":
                                   [f"£{v:,.2f}" for v in costs.values()]}), hide_index=True)
    _by_priority(report)


def _details(message: str, store: Store, report: PlanReport, pcn: PCN, year: str, actor: str | None,
             rows: list[dict], choices: plan_editor.Choices, d: dict) -> None:
    """Every field of one action, chosen from the table; saving it saves the table too."""
    st.subheader("Details of an action", anchor=False)
    if not rows:
        st.caption("Add an action to the table to fill in its details here.")
        return
    labels = [f"Row {i + 1}: {plan_editor.short(r.get('what'))}" for i, r in enumerate(rows)]
    # The choice is kept by row number; the list is a new widget whenever its labels change, so
    # it never shows a row's old text.
    chosen_key = f"plan_detail_chosen|{pcn.code}|{year}"
    names = hashlib.sha256("\n".join(labels).encode()).hexdigest()[:12]
    i = st.selectbox("Action", range(len(rows)), format_func=lambda n: labels[n],
                     index=min(st.session_state.get(chosen_key, 0), len(rows) - 1),
                     key=f"plan_detail_row|{pcn.code}|{year}|{names}",
                     help="The pathway step, support, cost and funding of the action chosen here")
    st.session_state[chosen_key] = i
    row = rows[i]
    form_key = f"plan_detail|{pcn.code}|{year}|{d['gen']}|{i}|{row.get('id')}"
    steps = [None, *plan_editor.step_options(report.pathway)]
    sources = [None, *plans.FUNDING_SOURCES]
    categories = [None, *choices.categories]
    link_labels = [label for _, label in choices.links]

    def pick(options: list, value: Any) -> int:
        return options.index(value) if value in options else 0

    fields = {f: f"{form_key}|{f}" for f in plans.ACTION_FIELDS}
    with st.form(form_key, border=True):
        st.text_area("Action", value=row.get("what") or "", max_chars=5000, key=fields["what"])
        left, right = st.columns(2)
        left.text_input("Owner", value=row.get("owner") or "", max_chars=200, key=fields["owner"])
        right.text_input("Due date", value=row.get("due") or "", key=fields["due"], help="Like 31/03/2025")
        left.selectbox("Status", list(plans.STATUSES), index=pick(list(plans.STATUSES), row.get("status")),
                       key=fields["status"])
        right.selectbox("Pathway step", steps, index=pick(steps, row.get("step")), key=fields["step"],
                        format_func=lambda s: "Not set" if s is None else s)
        st.multiselect("Linked to", link_labels, default=[choices.label(x) for x in row.get("links") or ()
                                                          if choices.label(x) in link_labels], key=fields["links"],
                       help="The priorities or elements this action serves")
        st.text_area("Support needed", value=row.get("support_needed") or "", max_chars=5000,
                     key=fields["support_needed"])
        left, right = st.columns(2)
        left.text_input("Support from", value=row.get("support_from") or "", max_chars=300,
                        key=fields["support_from"], help="Who could provide the support")
        right.text_input("Cost (£)", value=row.get("cost") or "", key=fields["cost"], help="Like 1,250")
        left.selectbox("Funding source", sources, index=pick(sources, row.get("funding_source")),
                       key=fields["funding_source"], format_func=lambda s: "Not set" if s is None else s)
        right.selectbox("Funding category", categories, index=pick(categories, row.get("funding_category")),
                        key=fields["funding_category"], format_func=lambda s: "Not set" if s is None else s,
                        help="For PCN development funding: what kind of support it pays for")

        def with_details(rows_now: list[dict], deleted: dict[int, int]) -> tuple[list[dict], dict[int, int]]:
            typed = {f: st.session_state.get(k) for f, k in fields.items()}
            typed["links"] = choices.link_ids(typed.get("links") or [])
            out = [dict(r) for r in rows_now]
            if i < len(out):
                out[i].update({f: plan_editor.clean(v) if f != "links" else v for f, v in typed.items()})
            return out, deleted

        def without(rows_now: list[dict], deleted: dict[int, int]) -> tuple[list[dict], dict[int, int]]:
            out = [dict(r) for r in rows_now]
            gone = dict(deleted)
            if i < len(out):
                removed = out.pop(i)
                if removed.get("id") is not None:
                    gone[int(removed["id"])] = removed.get("version")
            return out, gone

        buttons = st.container(horizontal=True)
        with buttons:
            st.form_submit_button("Save this action", type="primary", disabled=not actor, on_click=_save,
                                  args=(message, store, report, pcn, year, actor, with_details))
            st.form_submit_button("Remove this action", disabled=not actor, on_click=_save,
                                  args=(message, store, report, pcn, year, actor, without))
    st.caption("Saving here saves the whole table with it.")


def _paste_box(pcn: PCN, year: str, actor: str | None, choices: plan_editor.Choices, d: dict) -> None:
    """Many rows at once from a spreadsheet, with a preview, added to the table (then saved with it)."""
    text_key = f"plan_paste|{pcn.code}|{year}"
    with st.expander("Paste several actions from a spreadsheet", expanded=bool(st.session_state.get(text_key))):
        st.caption("Copy the rows in Excel (one action a row) and paste them here. A first row of headings (Action, "
                   "Owner, Due date, Status, Linked to, Pathway step, Support needed, Support from, Cost, Funding "
                   "source, Funding category) says which column is which; without one, the columns are read in that "
                   "order. Links: element titles or 'priority 2', separated by ';'.")
        text = st.text_area("Rows copied from a spreadsheet", key=text_key, height=140,
                            placeholder="Away day with a facilitator\tDr Okafor\t31/03/2025")
        if not (text or "").strip():
            return
        pasted = plan_editor.parse_paste(text, choices)
        for note in pasted.notes:
            st.warning(plain(note))
        if not pasted.rows:
            st.info("No action found in what was pasted.")
            return
        st.dataframe(plan_editor.paste_preview(pasted, choices), hide_index=True, width="stretch")
        if pasted.problems:
            st.caption("Rows marked in Check can still be added: fix them in the table before saving.")

        def add() -> None:
            rows, deleted = plan_editor.current(pcn.code, year, d, choices)
            plan_editor.fold(pcn.code, year, d, rows + pasted.rows, deleted, choices)
            st.session_state[text_key] = ""

        n = len(pasted.rows)
        st.button(f"Add {'these' if n > 1 else 'this'} {n} action{'s' if n != 1 else ''} to the table",
                  key="plan_paste_add", disabled=not actor, on_click=add)


def _by_priority(report: PlanReport) -> None:
    """The saved actions under what they serve, as the PDF and the workbook list them."""
    st.subheader("Actions by priority", anchor=False)
    if not report.groups:
        st.caption("Saved actions are listed here under the priorities and elements they are linked to.")
        return
    if not any(line.action.links for line in report.actions):
        st.caption("No saved action is linked to a priority or element yet: choose what each serves under Linked to.")
        return
    st.caption("The saved actions under the priorities and elements they serve; an action serving two is under both, "
               "with its row number.")
    for g in report.groups:
        with st.container(border=True):
            head = f"**{plain(g.title)}**"
            if g.detail and g.kind != "service":
                head += f" ({plain(g.detail)})"
            st.markdown(head)
            if not g.actions:
                st.caption("No action is linked to this priority yet.")
                continue
            st.markdown("\n".join(
                f"{line.number}. {plain(line.action.what)} · {plain(line.action.status)}"
                + (f" · {plain(line.action.owner)}" if line.action.owner else "")
                + (f" · due {line.action.due:%d %b %Y}" if line.action.due else "") for line in g.actions))


def cd_development(message: str, store: Store, report: PlanReport, pcn: PCN, year: str, actor: str | None) -> None:
    """The clinical director's own development: per leadership area of the ICS's programme, what the
    CD wants from it and who provides it."""
    plan = report.plan
    st.subheader("The clinical director's development", anchor=False)
    st.caption("Support is for the network and for its clinical director. The ICS's leadership programme for "
               "clinical directors covers these areas: say what you want from each and who provides it. Leave an "
               "area empty if you want nothing from it this year. It is printed in the plan's PDF.")
    if not report.cd_part:
        st.info("The development-funding rules name no leadership areas, so there is nothing to fill in.")
        return
    keys = {c.area_id: (f"plan_cd_wants|{pcn.code}|{year}|{plan.version}|{c.area_id}",
                        f"plan_cd_from|{pcn.code}|{year}|{plan.version}|{c.area_id}") for c in report.cd_part}

    def save(expected: int) -> None:
        wanted = {a: {"wants": st.session_state.get(w), "provider": st.session_state.get(f)}
                  for a, (w, f) in keys.items()}
        M.act(message, "Saved the clinical director's development.", plans.save_cd_development, store, pcn.code, year,
              wanted, by=actor, expected_version=expected, funding=report.funding, where="cd")

    with st.form("plan_cd_form", border=False):
        for c in report.cd_part:
            with st.container(border=True):
                st.markdown(f"**{plain(c.title)}**")
                if c.description:
                    st.caption(plain(c.description))
                wants, provider = keys[c.area_id]
                left, right = st.columns([3, 2])
                left.text_area(plain(f"What you want from {c.title.lower()}"), value=c.wants or "", key=wants,
                               max_chars=5000, height=80)
                right.text_input("Who provides it", value=c.provider or "", key=provider, max_chars=300,
                                 help="For example the ICB's programme, a coach, a partner organisation")
        st.form_submit_button("Save the clinical director's development", type="primary", disabled=not actor,
                              on_click=save, args=(plan.version,))


@cached(max_entries=32)
def shared_list(pcn_code: str, year: str) -> list[plans.SharedVersion]:
    return plans.shared_versions(get_store(), pcn_code, year)


def shared(message: str, store: Store, report: PlanReport, pcn: PCN, year: str, actor: str | None,
           may_share: bool, shown: M.Message | None = None) -> None:
    """Versions of the plan shared with the ICS and commissioners: share the plan as it stands now
    (its PDF is kept exactly as shared), and download any version shared before."""
    plan = report.plan
    st.subheader("Shared with the ICS and commissioners", anchor=False)
    st.caption("Sharing a version keeps its PDF exactly as it is now: the plan can change afterwards, and the "
               "version shared still reads as it did when it was shared. The ICS and commissioners see every "
               "version shared, and the live plan while it is shared.")
    M.show(shown, "shared", done="box")
    versions = shared_list(pcn.code, year)
    if may_share:
        if not plan.saved:
            st.info("Save the plan first (a priority, the service-improvement priority or an action).")
        else:
            note_key = f"plan_share_note|{pcn.code}|{year}|{plan.version}"
            st.text_input("A note for the ICS and commissioners (optional)", key=note_key, max_chars=1000,
                          placeholder="For example: agreed at the network board on 12 March")
            if st.button(f"Share this version (version {len(versions) + 1}) with the ICS and commissioners",
                         type="primary", key="plan_share_version", disabled=not actor,
                         help="Makes the plan's PDF as it stands and keeps it; takes a few seconds"):
                from reports.sharing import share_plan_version

                with st.spinner("Making the PDF of this version..."):
                    try:
                        v = share_plan_version(store, pcn.code, year, expected_version=plan.version, by=actor,
                                               note=st.session_state.get(note_key), matrix_id=report.matrix.id)
                    except StoreError as exc:
                        M.say(message, "conflict" if isinstance(exc, ConflictError) else "error", str(exc), "shared")
                    except Exception as exc:  # a missing font or browser: say what to install
                        M.say(message, "error", str(exc), "shared")
                    else:
                        M.say(message, "done", f"Shared version {v.number} with the ICS and commissioners.",
                              "shared")
                st.rerun()
            live = st.toggle("The ICS and commissioners also see the live plan", value=plan.shared,
                             key=f"plan_shared|{plan.version}", disabled=not actor,
                             help="Off, they see only the versions shared; the versions stay shared either way.")
            if live != plan.shared:
                M.act(message, "The ICS and commissioners see the live plan." if live else
                      "The live plan is your PCN's own again; the versions shared stay shared.",
                      plans.share_plan, store, pcn.code, year, shared=live, expected_version=plan.version,
                      where="shared")
                st.rerun()
    if not versions:
        st.caption("No version shared yet.")
        return
    st.markdown(f"**{len(versions)} version{'s' if len(versions) != 1 else ''} shared**")
    for v in reversed(versions):
        with st.container(border=True, horizontal=True, vertical_alignment="center"):
            text = f"**Version {v.number}**, shared by {plain(v.shared_by)} on {v.shared_at:%d %b %Y at %H:%M} UTC"
            if v.note:
                text += f"  \n{plain(v.note)}"
            st.markdown(text)
            st.download_button(f"Download version {v.number}", key=f"plan_shared_pdf_{v.number}",
                               data=partial(plans.shared_pdf, store, pcn.code, year, v.number),
                               file_name=v.file_name, mime="application/pdf", on_click="ignore",
                               icon=":material/picture_as_pdf:")
    st.caption(f"Command line: `python cli.py export-plan --pcn {pcn.code} --year {year} --shared N -o plan.pdf` "
               "writes version N exactly as it was shared.")


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
        from reports.images import warm

        warm()  # the browser that draws the PDF's charts opens in the background while the page is read
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

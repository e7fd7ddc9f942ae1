"""Everything one PCN's development-plan report shows, gathered from the store as plain data.

The PDF, the Excel workbook and the app's plan page all read a `PlanReport`, so they say the
same things. `summary_paragraphs` writes the one-page summary in plain words from the data.
No Streamlit, no drawing here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from assessments import plan as plans
from assessments.scoring import (Comparison, DomainGap, DomainScore, Snapshot, compare, domain_gaps, profile,
                                 progress_series, stage_scale)
from assessments.access import AccessDenied
from assessments.model import (ICS, NOT_APPLICABLE, PCN, Assessment, AssessmentRecord, EvidenceCoverage,
                               EvidenceItem)
from assessments.pathway import pathway_status
from assessments.store import Store
from assessments.values import check_year
from matrix import DevelopmentFunding, Matrix, Pathway, ServiceSpecifications
from assessments import evidence
from assessments import matrix_choice as choice
from assessments import ratings as assessing
from assessments import organisations as orgs


@dataclass(frozen=True)
class ElementLine:
    element_id: str
    title: str
    current: str  # stage label, or "not rated"
    target: str
    change: str  # since last year, in words


@dataclass(frozen=True)
class DomainSection:
    domain_id: str
    title: str
    score: DomainScore
    elements: tuple[ElementLine, ...]


@dataclass(frozen=True)
class PriorityLine:
    position: int
    element_id: str
    title: str
    domain: str
    current: str
    target: str
    reason: str
    suggested: bool  # True when nobody has chosen priorities yet and this is only a suggestion


@dataclass(frozen=True)
class ActionLine:
    action: plans.Action
    flags: tuple[plans.Flag, ...]
    step_title: str | None
    category_title: str | None
    number: int = 0  # its place in the plan, from 1: how the PDF and workbook refer to it
    links: tuple[str, ...] = ()  # what it serves, as titles ('Priority 2: Data sharing', ...)
    notes: tuple[plans.SupportNote, ...] = ()  # support already funded should meet the request first


@dataclass(frozen=True)
class ActionGroupLine:
    """The actions under one priority, the service-improvement priority, another element, or none."""
    kind: str
    title: str
    detail: str | None
    actions: tuple[ActionLine, ...]


@dataclass(frozen=True)
class CdLine:
    """One leadership area of the clinical directors' programme in the plan: what the CD wants from it."""
    area_id: str
    title: str
    description: str | None
    wants: str | None
    provider: str | None


@dataclass(frozen=True)
class StepLine:
    number: int
    title: str
    status: str
    date: Any
    note: str | None
    ticked: int
    items: int
    carried_from: str | None = None  # the earlier year the step was last recorded in (assessments.pathway)


@dataclass(frozen=True)
class ElementEvidence:
    """One element as the plan's evidence section prints it: stages, confidence, the summary
    text, the dated items (with their freshness on `PlanReport.evidence_as_of`) and the note."""
    element_id: str
    title: str
    domain: str
    current: str
    target: str
    confidence: str | None
    summary: str | None  # the rating's own evidence text
    note: str | None
    items: tuple[EvidenceItem, ...]
    states: tuple[str, ...]  # each item's freshness, in the same order
    not_applicable: bool = False
    carried_over: bool = False  # the rating was copied from last year and not reviewed


@dataclass(frozen=True)
class SignOff:
    """Who submitted the assessment for the PCN and who confirmed it for the ICS, and when."""
    submitted_by: str | None
    submitted_at: datetime | None
    confirmed_by: str | None
    confirmed_at: datetime | None


@dataclass(frozen=True)
class PlanReport:
    pcn: PCN
    ics: ICS
    year: str
    matrix: Matrix
    assessment: Assessment | None
    snapshot: Snapshot | None
    previous: Snapshot | None
    series: pd.DataFrame  # progress_series of every year up to `year`, in this year's matrix terms
    radar_series: pd.DataFrame  # last year and this year only
    comparison: Comparison | None
    domains: tuple[DomainSection, ...]
    plan: plans.Plan
    suggestions: tuple[plans.Suggestion, ...]
    priorities: tuple[PriorityLine, ...]
    actions: tuple[ActionLine, ...]
    steps: tuple[StepLine, ...] | None  # None when pathway tracking is not available
    pathway: Pathway | None
    service_spec_title: str | None
    funding: DevelopmentFunding | None
    produced: datetime
    gaps: tuple[DomainGap, ...] = field(default=())
    groups: tuple[ActionGroupLine, ...] = ()  # the actions under what they serve (plans.group_actions)
    cd_part: tuple[CdLine, ...] = ()  # the clinical director's development, every area of the programme
    shared_as: str | None = None  # set on a version being shared: what the PDF then says it is
    evidence: tuple[ElementEvidence, ...] = ()  # every element of the year's assessment, in matrix order
    coverage: EvidenceCoverage | None = None  # None without an assessment this year
    evidence_as_of: date | None = None  # the day freshness is judged on (evidence.as_of)

    @property
    def sign_off(self) -> SignOff:
        a = self.assessment
        if a is None:
            return SignOff(None, None, None, None)
        return SignOff(person(a.submitted_by), a.submitted_at, person(a.confirmed_by), a.confirmed_at)

    @property
    def status(self) -> str:
        return self.assessment.status if self.assessment else "not started"

    @property
    def priorities_are_suggestions(self) -> bool:
        return bool(self.priorities) and self.priorities[0].suggested

    @property
    def flagged(self) -> tuple[ActionLine, ...]:
        return tuple(a for a in self.actions if a.flags)

    @property
    def noted(self) -> tuple[ActionLine, ...]:
        """Actions whose request support already funded should meet first."""
        return tuple(a for a in self.actions if a.notes)

    def cost_by_source(self) -> dict[str, Decimal]:
        """Estimated cost of the actions not dropped, per funding source ('Not given' when blank)."""
        out: dict[str, Decimal] = {}
        for line in self.actions:
            a = line.action
            if a.cost is None or a.status == "dropped":
                continue
            key = a.funding_source or "Not given"
            out[key] = out.get(key, Decimal("0")) + a.cost
        return out

    @property
    def file_stem(self) -> str:
        return f"development-plan-{self.pcn.code}-{self.year.replace('/', '-')}"


# ---------------------------------------------------------------------------------------------
# Words for numbers

def money(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    return f"£{amount:,.2f}" if amount != amount.to_integral_value() else f"£{amount:,.0f}"


def score_words(score: float | None, matrix: Matrix) -> str:
    """'Step 1' for a whole stage, 'between Step 1 and Step 2' otherwise, 'not rated' for None
    (on the matrix's scale: `scoring.stage_scale`)."""
    if score is None:
        return "not rated"
    scale = stage_scale(matrix)
    low, high = scale.locate(round(score, 1))
    return scale[low] if low == high else f"between {scale[low]} and {scale[high]}"


def _change_words(change: float | None, comparable: bool, before: float | None, after: float | None,
                  matrix: Matrix | None = None) -> str:
    if not comparable:
        return "new element"
    if after is None:
        return "not rated"
    if before is None:
        return "not rated last year"
    if change is None or abs(change) < 0.05:
        return "no change"
    n = f"{abs(change):g}" if abs(change) != int(abs(change)) else str(int(abs(change)))
    unit = "stage" if matrix is None or stage_scale(matrix).steps_of_one else "point"
    unit += "" if abs(change) == 1 else "s"
    return f"up {n} {unit}" if change > 0 else f"down {n} {unit}"


def _label(matrix: Matrix, stage: str | None) -> str:
    if not stage:
        return "not rated"
    try:
        return matrix.stage(stage).label
    except ValueError:
        return stage


# ---------------------------------------------------------------------------------------------
# Gathering

def _snapshots(store: Store, pcn: PCN, year: str, matrix_id: str | None
               ) -> tuple[list[Snapshot], Assessment | None, str]:
    """The years up to `year` against one matrix (family), the year's own assessment, and the matrix
    id chosen: `matrix_id`, else (assessments.matrix_choice) the ICS default's family if the PCN used
    it this year (or, with nothing this year, before), else the latest used."""
    matrices = store.matrices()
    family = choice.store_families(store)
    records = [r for r in assessing.history(store, pcn.code) if r.assessment.year <= year]
    ics_default = orgs.default_matrix(store, pcn.ics_code).id
    if matrix_id is None:
        this_year = [r.assessment for r in records if r.assessment.year == year]
        options = choice.in_use(this_year or [r.assessment for r in records], family)
        matrix_id = choice.preferred(options, ics_default, family) or ics_default
    order = [matrix_id, ics_default]

    def rank(a: Assessment) -> int:
        return order.index(a.matrix_id) if a.matrix_id in order else len(order)

    # One per year; several in a year are ids of one family (a renamed matrix): the chosen id first.
    by_year: dict[str, AssessmentRecord] = {}
    for r in records:
        if choice.same_family(r.assessment.matrix_id, matrix_id, family):
            known = by_year.get(r.assessment.year)
            if known is None or rank(r.assessment) < rank(known.assessment):
                by_year[r.assessment.year] = r
    out = []
    for y in sorted(by_year):
        a = by_year[y].assessment
        m = matrices.get((a.matrix_id, a.matrix_version))
        if m is not None:
            out.append(Snapshot(a.year, m, by_year[y].ratings, a.status))
    return out, by_year[year].assessment if year in by_year else None, matrix_id


def _pathway_steps(store: Store, pcn_code: str, year: str, pathway: Pathway | None) -> tuple[StepLine, ...] | None:
    if pathway is None:
        return None
    try:
        steps = pathway_status(store, pcn_code, year, pathway)
    except AccessDenied:
        return None  # a reader who may not see the pathway (a commissioner) gets the plan without it
    lines = []
    for s in steps:
        step = next((p for p in pathway.steps if p.number == s.number), None)
        ticks = getattr(s, "ticks", None) or ()
        ticked = sum(1 for v in (ticks.values() if isinstance(ticks, dict) else ticks) if v)
        lines.append(StepLine(s.number, getattr(s, "title", None) or (step.title if step else f"Step {s.number}"),
                              str(getattr(s, "status", "") or "not recorded"), getattr(s, "date", None),
                              getattr(s, "note", None), ticked, len(step.checklist) if step else 0,
                              getattr(s, "carried_from", None)))
    return tuple(lines)


def gather(store: Store, pcn_code: str, year: str, *, suggestions: int = 5,
           produced: datetime | None = None, matrix_id: str | None = None) -> PlanReport:
    """The report for one PCN and year: works with no assessment and no plan (it says so).

    `matrix_id` names the matrix when the PCN is rated against more than one (NotFoundError when no
    such matrix is loaded); without it, the choice of `_snapshots`."""
    year = check_year(year)
    if matrix_id is not None:
        matrix_id = choice.find_matrix(store, matrix_id).id
    pcn = orgs.pcn(store, pcn_code)
    ics = orgs.ics(store, pcn.ics_code)
    catalog = store.catalog()
    pathway = catalog.default_pathway()
    specs: ServiceSpecifications | None = catalog.default_specifications()
    funding: DevelopmentFunding | None = catalog.default_funding()

    snaps, assessment, matrix_id = _snapshots(store, pcn, year, matrix_id)
    current = next((s for s in snaps if s.year == year), None)
    earlier = [s for s in snaps if s.year < year]
    previous = earlier[-1] if earlier else None
    matrix = current.matrix if current else (previous.matrix if previous else
                                             choice.newest(store, matrix_id) or store.default_matrix())
    matrices = store.matrices()
    series = progress_series(snaps, matrices) if snaps else progress_series([])
    radar_years = [s for s in (previous, current) if s is not None]
    radar_series = progress_series(radar_years, matrices) if radar_years else series
    comparison = compare(previous, current, matrices) if current and previous else None

    # Per-domain element tables.
    changes = {c.element_id: c for c in comparison.elements} if comparison else {}
    domains = []
    prof = profile(current) if current else None
    for i, d in enumerate(matrix.domains):
        lines = []
        for e in d.elements:
            r = current.ratings.get(e.id) if current else None
            cur = _label(matrix, getattr(r, "current_stage", None))
            tgt = _label(matrix, getattr(r, "target_stage", None)) if r is not None and r.target_stage else "not set"
            if getattr(r, "not_applicable", False):
                cur = tgt = NOT_APPLICABLE
            if comparison is None:
                change = "first year" if current and not previous else "not rated"
                if current and getattr(r, "current_stage", None) is None:
                    change = "not rated"
            else:
                c = changes.get(e.id)
                change = _change_words(c.change, c.comparable, c.before, c.after, matrix) if c else "not rated"
            lines.append(ElementLine(e.id, e.title, cur, tgt, change))
        score = prof.current[i] if prof else DomainScore(d.id, d.title, None, 0, len(d.elements))
        domains.append(DomainSection(d.id, d.title, score, tuple(lines)))

    plan = plans.plan_or_empty(store, pcn.code, year)
    suggested = tuple(plans.suggest_priorities(current, suggestions)) if current else ()
    titles = {e.id: (e.title, d.title) for d, e in matrix.elements()}
    ratings = current.ratings if current else {}

    def stage_pair(eid: str) -> tuple[str, str]:
        r = ratings.get(eid)
        if getattr(r, "not_applicable", False):
            return NOT_APPLICABLE, NOT_APPLICABLE
        return (_label(matrix, getattr(r, "current_stage", None)),
                _label(matrix, getattr(r, "target_stage", None)) if r is not None and r.target_stage else "not set")

    if plan.priorities:
        priorities = tuple(PriorityLine(p.position, p.element_id, *titles.get(p.element_id, (p.element_id, "")),
                                        *stage_pair(p.element_id), p.reason or "", False) for p in plan.priorities)
    else:
        priorities = tuple(PriorityLine(i, s.element_id, s.element_title, s.domain_title, *stage_pair(s.element_id),
                                        s.reason, True) for i, s in enumerate(suggested, start=1))
    steps_by_number = {s.number: s.title for s in pathway.steps} if pathway else {}
    categories = {c.id: c.title for c in funding.categories} if funding else {}
    chosen = [p.element_id for p in plan.priorities]
    actions = tuple(ActionLine(a, tuple(plans.check_funding(a, funding)), steps_by_number.get(a.step),
                               categories.get(a.funding_category, a.funding_category), n,
                               tuple(plans.link_title(x, matrix, chosen) for x in _link_order(a.links, matrix, chosen)),
                               tuple(plans.existing_support_notes(a, funding)))
                    for n, a in enumerate(plan.actions, start=1))
    groups = tuple(ActionGroupLine(g.kind, g.title, g.detail, tuple(actions[n - 1] for n, _ in g.actions))
                   for g in plans.group_actions(plan, matrix))
    wanted = {c.area_id: c for c in plan.cd_development}
    areas = plans.leadership_areas(funding)
    cd_part = tuple(CdLine(a.id, a.title, a.description, getattr(wanted.get(a.id), "wants", None),
                           getattr(wanted.get(a.id), "provider", None)) for a in areas)
    # An area the rules no longer name keeps what was written for it.
    cd_part += tuple(CdLine(c.area_id, c.title, None, c.wants, c.provider) for c in plan.cd_development
                     if c.area_id not in {a.id for a in areas})
    spec_title = None
    if plan.service_spec and specs:
        spec_title = next((s.title for s in specs.specifications if s.id == plan.service_spec), plan.service_spec)
    return PlanReport(
        pcn=pcn, ics=ics, year=year, matrix=matrix, assessment=assessment, snapshot=current, previous=previous,
        series=series, radar_series=radar_series, comparison=comparison, domains=tuple(domains), plan=plan,
        suggestions=suggested, priorities=priorities, actions=actions,
        steps=_pathway_steps(store, pcn.code, year, pathway), pathway=pathway, service_spec_title=spec_title,
        funding=funding, produced=produced or datetime.now(UTC),
        gaps=tuple(domain_gaps(current)) if current else (), groups=groups, cd_part=cd_part,
        **_evidence(store, assessment, matrix, current, produced or datetime.now(UTC)))


def _evidence(store: Store, assessment: Assessment | None, matrix: Matrix, current: Snapshot | None,
              produced: datetime) -> dict[str, Any]:
    """PlanReport's evidence fields: each element's stages, confidence, items and note, and the
    coverage, judged on the day the plan is produced (or the year's last day, once it has ended)."""
    if assessment is None or current is None or current.matrix.key != matrix.key:
        return {}
    found = evidence.items(store, assessment.id)
    as_of = evidence.as_of(assessment.year, produced.date())
    lines = []
    for d, e in matrix.elements():
        r = current.ratings.get(e.id)
        na = bool(getattr(r, "not_applicable", False))
        items = tuple(found.get(e.id, ()))
        lines.append(ElementEvidence(
            e.id, e.title, d.title, NOT_APPLICABLE if na else _label(matrix, getattr(r, "current_stage", None)),
            NOT_APPLICABLE if na else (_label(matrix, r.target_stage) if r is not None and r.target_stage else "not set"),
            getattr(r, "confidence", None), getattr(r, "evidence", None), getattr(r, "note", None), items,
            tuple(x.freshness(as_of) for x in items), na, bool(getattr(r, "carried_over", False))))
    return {"evidence": tuple(lines), "coverage": evidence.coverage_of(matrix, current.ratings, found, as_of),
            "evidence_as_of": as_of}


def person(audit_name: str | None) -> str | None:
    """The name alone from the change log's "Name <e-mail>": a plan travels further than the app."""
    if audit_name is None:
        return None
    name, sep, rest = audit_name.rpartition(" <")
    return name if sep and rest.endswith(">") and name.strip() else audit_name


def coverage_sentence(c: EvidenceCoverage) -> str:
    """'18 of 22 elements have evidence reviewed this year', with what is still open."""
    text = f"{c.current} of {c.elements} elements have evidence reviewed this year"
    more = []
    if c.carried:
        more.append(f"{c.carried} carried over from last year {'is' if c.carried == 1 else 'are'} not yet reviewed")
    if c.review_due:
        more.append(f"{c.review_due} {'has' if c.review_due == 1 else 'have'} evidence due for review")
    return text + ("; " + "; ".join(more) if more else "") + "."


def _link_order(links: tuple[str, ...], matrix: Matrix, chosen: list[str]) -> list[str]:
    """Links as a reader expects them: the service-improvement priority, the priorities in order,
    then other elements in matrix order."""
    order = {e: i for i, e in enumerate(matrix.element_ids())}
    return sorted(links, key=lambda x: (x != plans.SERVICE_LINK, x not in chosen,
                                        chosen.index(x) if x in chosen else order.get(x, len(order)), x))


# ---------------------------------------------------------------------------------------------
# The summary in plain words

def _names(titles: list[str]) -> str:
    """'A, B and C'; with semicolons when a name has a comma of its own ('Leadership, planning ...')."""
    if len(titles) <= 1:
        return "".join(titles)
    if any("," in t for t in titles):
        return "; ".join(titles[:-1]) + "; and " + titles[-1]
    return ", ".join(titles[:-1]) + " and " + titles[-1]


def summary_paragraphs(r: PlanReport) -> list[tuple[str, str]]:
    """(heading, paragraph) pairs: where the PCN is strongest, where it most wants to move, the
    service-improvement priority, the actions and money, and the pathway. Generated, never typed."""
    out: list[tuple[str, str]] = []
    m = r.matrix
    name = r.pcn.name
    if r.snapshot is None:
        out.append(("The assessment", f"{name} has not started its {r.year} self-assessment yet"
                    + (f"; the latest one is from {r.previous.year}." if r.previous else ".")))
    else:
        n_rated = sum(d.score.n_rated for d in r.domains)
        n_all = sum(d.score.n_elements for d in r.domains)
        state = "agreed" if r.status == "agreed" else "a draft, not yet agreed"
        out.append(("The assessment", f"{name} rated {n_rated} of the {n_all} elements of the {m.title} ({m.version}) "
                    f"for {r.year}. The assessment is {state}."))
        if r.coverage is not None:
            out.append(("Evidence", coverage_sentence(r.coverage)))
        scored = [d for d in r.domains if d.score.score is not None]
        if scored:
            best = max(d.score.score for d in scored)
            strongest = [d for d in scored if abs(d.score.score - best) < 1e-9]
            out.append(("Where the network is strongest",
                        f"{_names([d.title for d in strongest])}: on average {score_words(best, m)} "
                        f"({best:.1f} {stage_scale(m).words()})."))
        gaps = [g for g in r.gaps if g.gap is not None and g.gap > 0]
        if gaps:
            top = max(g.gap for g in gaps)
            wanted = [g for g in gaps if abs(g.gap - top) < 1e-9]
            now = {d.domain_id: d.score.score for d in r.domains}
            parts = []
            for g in wanted:
                parts.append(f"{g.domain_title} (now {score_words(now.get(g.domain_id), m)}; the targets are on "
                             f"average {top:.1f} {'stage' if stage_scale(m).steps_of_one else 'point'}"
                             f"{'s' if round(top, 1) != 1 else ''} higher)")
            out.append(("Where it most wants to move", _names(parts) + "."))
        else:
            out.append(("Where it most wants to move", "No targets above the current stages have been set yet."))
        if r.comparison is not None and r.comparison.comparable:
            ups = [d.domain_title for d in r.comparison.domains if d.change is not None and d.change >= 0.05]
            downs = [d.domain_title for d in r.comparison.domains if d.change is not None and d.change <= -0.05]
            text = f"Since {r.previous.year}: "
            text += (f"moved up in {_names(ups)}" if ups else "no domain moved up")
            text += (f"; moved down in {_names(downs)}." if downs else "; no domain moved down.")
            out.append(("Since last year", text))
    if r.plan.service_priority or r.service_spec_title:
        text = r.plan.service_priority or ""
        if r.service_spec_title:
            text = (text + " " if text else "") + f"(Linked to the DES service specification: {r.service_spec_title}.)"
        out.append(("Service-improvement priority", text))
    else:
        out.append(("Service-improvement priority", "Not chosen yet."))
    if r.priorities:
        first = r.priorities[0]
        if r.priorities_are_suggestions:
            out.append(("Priorities", f"None chosen yet. {len(r.priorities)} are suggested from the assessment, "
                        f"starting with {first.title} ({first.domain})."))
        else:
            out.append(("Priorities", f"{len(r.priorities)} chosen, starting with {first.title} ({first.domain})."))
    if r.actions:
        counts = {s: sum(1 for a in r.actions if a.action.status == s) for s in plans.STATUSES}
        done = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        costs = r.cost_by_source()
        total = sum(costs.values(), Decimal("0"))
        text = f"{len(r.actions)} action{'s' if len(r.actions) != 1 else ''} ({done})."
        if total:
            dev = costs.get(plans.DEVELOPMENT_FUNDING)
            text += f" Estimated cost {money(total)}"
            text += f", of which {money(dev)} is asked of PCN development funding." if dev else "."
        if r.flagged:
            n = len(r.flagged)
            text += (f" {n} action{'s' if n != 1 else ''} may not meet the development-funding rules "
                     f"and should be checked (see 'Support requested and funding checks').")
        out.append(("Actions", text))
    else:
        out.append(("Actions", "No actions recorded yet."))
    asked = [c for c in r.cd_part if c.wants or c.provider]
    if r.cd_part:
        out.append(("The clinical director's development",
                    f"Asks for support in {len(asked)} of the {len(r.cd_part)} areas of the ICS's leadership programme "
                    f"for clinical directors: {_names([c.title for c in asked])}." if asked else
                    "Not filled in yet."))
    if r.steps:
        done = [s.number for s in r.steps if s.status == "done"]
        nxt = next((s for s in r.steps if s.status != "done"), None)
        if all(s.status == "not recorded" for s in r.steps):
            text = f"Nothing is recorded on the development pathway for {r.year} or any year before."
        elif nxt is None:
            text = "All steps of the development pathway are done."
        else:
            text = f"Step {nxt.number}, {nxt.title}, is {nxt.status}"
            text += f"; step{'s' if len(done) != 1 else ''} {_names([str(n) for n in done])} done." if done else "."
        carried = sorted({s.carried_from for s in r.steps if s.carried_from})
        if carried:
            text += f" Steps with nothing recorded in {r.year} are as last recorded ({', '.join(carried)})."
        out.append(("Development pathway", text))
    return out

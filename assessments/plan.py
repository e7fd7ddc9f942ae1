"""The development plan: per PCN and year, the priorities (elements of the matrix, in order), the one
service-improvement priority, and the actions that carry the plan out.

Pure parts (no database): `suggest_priorities` proposes elements from a snapshot, with reasons;
`check_action` / `validate_actions` turn what a user typed into clean values or plain messages
per row and field; `check_funding` flags actions whose request for development funding looks
ineligible under matrix/development_funding.yaml, and `existing_support_notes` says when a request
should first be met from support that is already funded; `group_actions` puts the actions under
the priorities and elements they are linked to.

A plan version the PCN shares with its ICS and commissioners keeps the PDF as it was shared
(`share_version`, `shared_pdf`): the live plan moves on, the shared version never changes. The
plan also holds the clinical director's own development (`save_cd_development`), per leadership
area of the ICS's programme (the `leadership_areas` of the funding rules).

Stored parts follow the records' rules: every write is one transaction (a unit of work) with an
audit row per changed field, the plan and each action carry a `version`, and a stale
write raises `ConflictError` without writing anything. Plans are not locked when the year's
assessment is agreed: actions move on all year.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from matrix import DevelopmentFunding, Matrix, ServiceSpecifications

from .scoring import Snapshot, domain_scores, element_positions
from . import guard
from .access import EDIT, SUBMIT
from .model import KEEP
from .records import UnitOfWork
from .records.tables import (PcnRow, PlanActionLinkRow, PlanActionRow, PlanCdRow, PlanPriorityRow, PlanRow,
                             PlanShareRow)
from .values import (ConflictError, InputError, NotFoundError, check_ics_code, check_name, check_pcn_code, check_text,
                     check_year)
from . import ratings as assessing

STATUSES = ("not started", "in progress", "done", "dropped")
DEVELOPMENT_FUNDING = "PCN development funding"
FUNDING_SOURCES = (DEVELOPMENT_FUNDING, "ICB transformation", "Practice", "Other")
ACTION_FIELDS = ("what", "owner", "due", "status", "step", "support_needed", "support_from", "cost",
                 "funding_source", "funding_category", "links")
# The names users see (the editor's column headers), so a message points at the right cell.
FIELD_LABELS = {"what": "Action", "owner": "Owner", "due": "Due date", "status": "Status", "step": "Pathway step",
                "support_needed": "Support needed", "support_from": "Support from", "cost": "Cost (£)",
                "funding_source": "Funding source", "funding_category": "Funding category", "links": "Linked to"}
# An action's link to the plan's service-improvement priority, beside element ids in `Action.links`
# (no id of a matrix can start with '*').
SERVICE_LINK = "*service"
SERVICE_TITLE = "Service-improvement priority"
MAX_LINKS = 20
MAX_SHARED_PDF = 20 * 1024 * 1024  # bytes: a plan's PDF is well under 1 MB
PLAN_FIELDS = ("service_priority", "service_spec", "notes", "priorities")
MAX_PRIORITIES = 12
MAX_COST = Decimal("10000000")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%d %b %Y", "%d %B %Y")


def _step_count(pathway: Any) -> int:
    return len(pathway.steps) if pathway is not None else 6


# ---------------------------------------------------------------------------------------------
# What callers get back

@dataclass(frozen=True, slots=True)
class Priority:
    element_id: str
    position: int  # 1 = first
    reason: str | None


@dataclass(frozen=True, slots=True)
class Action:
    id: int
    plan_id: int
    position: int
    what: str
    owner: str | None
    due: date | None
    status: str
    step: int | None
    support_needed: str | None
    support_from: str | None
    cost: Decimal | None  # GBP
    funding_source: str | None
    funding_category: str | None
    updated_by: str
    updated_at: datetime
    version: int
    # What it serves: element ids (a chosen priority or any other element) and SERVICE_LINK,
    # the service-improvement priority first, then the ids in order.
    links: tuple[str, ...] = ()

    @property
    def asks_development_funding(self) -> bool:
        return asks_development_funding(self)

    def values(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in ACTION_FIELDS}


@dataclass(frozen=True, slots=True)
class Plan:
    """A PCN's plan for a year. An unsaved plan has id None and version 0 (save with expected_version=0)."""
    id: int | None
    pcn_code: str
    year: str
    service_priority: str | None = None
    service_spec: str | None = None
    notes: str | None = None
    priorities: tuple[Priority, ...] = ()
    actions: tuple[Action, ...] = ()
    created_by: str | None = None
    created_at: datetime | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None
    version: int = 0
    shared: bool = False  # shared by the PCN with its ICS and commissioners
    shared_by: str | None = None
    shared_at: datetime | None = None
    cd_development: tuple[CdWant, ...] = ()  # the clinical director's own development, per leadership area

    @property
    def saved(self) -> bool:
        return self.id is not None

    @property
    def is_empty(self) -> bool:
        return not (self.service_priority or self.service_spec or self.notes or self.priorities or self.actions
                    or self.cd_development)

    @property
    def total_cost(self) -> Decimal:
        return sum((a.cost for a in self.actions if a.cost is not None and a.status != "dropped"), Decimal("0"))


@dataclass(frozen=True, slots=True)
class CdWant:
    """What the clinical director wants from one leadership area of the ICS's programme, and who provides it."""
    area_id: str
    title: str
    wants: str | None
    provider: str | None


@dataclass(frozen=True, slots=True)
class SharedVersion:
    """A version of the plan shared with the ICS and commissioners (its PDF is read with `shared_pdf`)."""
    pcn_code: str
    year: str
    number: int
    plan_version: int
    shared_by: str
    shared_at: datetime
    note: str | None
    sha256: str

    @property
    def file_name(self) -> str:
        return f"development-plan-{self.pcn_code}-{self.year.replace('/', '-')}-shared-{self.number}.pdf"


def _links(for_service: bool, element_ids: Iterable[str]) -> tuple[str, ...]:
    return ((SERVICE_LINK,) if for_service else ()) + tuple(sorted(set(element_ids)))


def _action(r: PlanActionRow, element_ids: Iterable[str] = ()) -> Action:
    cost = None if r.cost_pence is None else (Decimal(r.cost_pence) / 100).quantize(Decimal("0.01"))
    return Action(r.id, r.plan_id, r.position, r.what, r.owner, r.due, r.status, r.step, r.support_needed,
                  r.support_from, cost, r.funding_source, r.funding_category, r.updated_by, r.updated_at, r.version,
                  _links(bool(r.for_service_priority), element_ids))


def _plan(row: PlanRow, priorities: Iterable[PlanPriorityRow], actions: Iterable[PlanActionRow],
          links: Iterable[PlanActionLinkRow] = (), cd: Iterable[PlanCdRow] = ()) -> Plan:
    by_action: dict[int, list[str]] = {}
    for link in links:
        by_action.setdefault(link.action_id, []).append(link.element_id)
    return Plan(row.id, row.pcn_code, row.year, row.service_priority, row.service_spec, row.notes,
                tuple(Priority(p.element_id, p.position, p.reason) for p in sorted(priorities, key=lambda p: p.position)),
                tuple(_action(a, by_action.get(a.id, ())) for a in sorted(actions, key=lambda a: (a.position, a.id))),
                row.created_by, row.created_at, row.updated_by, row.updated_at, row.version, bool(row.shared),
                row.shared_by, row.shared_at,
                tuple(CdWant(c.area_id, c.title, c.wants, c.provider) for c in sorted(cd, key=lambda c: c.position)))


# ---------------------------------------------------------------------------------------------
# Suggested priorities (pure)

@dataclass(frozen=True)
class Suggestion:
    element_id: str
    element_title: str
    domain_id: str
    domain_title: str
    current_stage: str | None
    target_stage: str | None
    current_label: str | None
    target_label: str | None
    gap: int  # target - current in stages; 0 when no target is set above the current stage
    domain_score: float | None
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        text = "; ".join(self.reasons)
        return text[:1].upper() + text[1:]


def suggest_priorities(snapshot: Snapshot, n: int = 5) -> list[Suggestion]:
    """Up to `n` elements worth making priorities, most pressing first, each with its reasons.

    Candidates are rated elements below the top stage that either have a target above their
    current stage (a gap) or sit in the lowest-scoring domain. Order: largest gap first; then
    elements of the lowest domain; then lower domain score, lower current stage, matrix order.
    If none of the first `n` comes from the lowest domain, the best candidate from it takes the
    last place, so the weakest area is always represented.
    """
    m = snapshot.matrix
    if n <= 0:
        return []
    # Positions, not scores: gaps are counted in stages and index the stage labels.
    current, target = element_positions(snapshot, "current"), element_positions(snapshot, "target")
    domains = {d.domain_id: d for d in domain_scores(snapshot, "current")}
    scored = [d.score for d in domains.values() if d.score is not None]
    lowest = min(scored) if scored else None
    top = len(m.stages) - 1
    order = {eid: i for i, eid in enumerate(m.element_ids())}
    candidates = []
    for d, e in m.elements():
        cur, tgt = current[e.id], target[e.id]
        if cur is None or cur >= top:
            continue
        gap = tgt - cur if tgt is not None and tgt > cur else 0
        dscore = domains[d.id].score
        in_lowest = lowest is not None and dscore == lowest and len(set(scored)) > 1
        if gap <= 0 and not in_lowest:
            continue
        reasons = []
        cur_label = m.stages[cur].label
        if gap:
            reasons.append(f"{gap} stage{'s' if gap != 1 else ''} from its target ({cur_label} now, "
                           f"{m.stages[tgt].label} wanted)")
        if in_lowest:
            reasons.append(f"in {d.title}, the domain with the lowest score ({dscore:.1f})")
        if not gap:
            reasons.append(f"at {cur_label} now")
        tgt_label = m.stages[tgt].label if tgt is not None else None
        candidates.append((
            (-gap, not in_lowest, dscore if dscore is not None else 0.0, cur, order[e.id]),
            in_lowest,
            Suggestion(e.id, e.title, d.id, d.title, m.stages[cur].id, m.stages[tgt].id if tgt is not None else None,
                       cur_label, tgt_label, gap, dscore, tuple(reasons))))
    candidates.sort(key=lambda c: c[0])
    chosen = candidates[:n]
    if chosen and not any(c[1] for c in chosen):
        weakest = next((c for c in candidates[n:] if c[1]), None)
        if weakest is not None:
            chosen[-1] = weakest
    return [c[2] for c in chosen]


# ---------------------------------------------------------------------------------------------
# Checking what users type (pure)

@dataclass(frozen=True)
class ActionProblem:
    row: int  # 0-based position in the rows given
    field: str  # an ACTION_FIELDS name
    message: str

    @property
    def label(self) -> str:
        return FIELD_LABELS.get(self.field, self.field)

    def __str__(self) -> str:
        return f"row {self.row + 1}, {self.label}: {self.message}"


class ActionProblems(InputError):
    """Action rows that cannot be saved. Nothing was written."""

    def __init__(self, problems: list[ActionProblem]):
        self.problems = problems
        rows = sorted({p.row for p in problems})
        super().__init__(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in "
                         f"row{'s' if len(rows) != 1 else ''} {', '.join(str(r + 1) for r in rows)}; nothing was saved: "
                         + "; ".join(str(p) for p in problems))


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN from pandas
        return True
    if isinstance(value, str) and not value.strip():
        return True
    try:
        import pandas as pd

        return value is pd.NaT or value is pd.NA
    except ImportError:  # pragma: no cover
        return False


def parse_due(value: Any) -> date | None:
    if _missing(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise InputError(f"'{text}' is not a date: write it like 31/03/2025")


def parse_cost(value: Any) -> Decimal | None:
    """GBP with at most 2 decimal places; '£1,250.50' and 1250.5 both work."""
    if _missing(value):
        return None
    if isinstance(value, bool):
        raise InputError(f"'{value}' is not an amount of money")
    text = str(value).strip().replace("£", "").replace(",", "").replace(" ", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InputError(f"'{value}' is not an amount of money: write it like 1250 or 1,250.50") from None
    if not amount.is_finite():
        raise InputError(f"'{value}' is not an amount of money")
    if amount < 0:
        raise InputError(f"a cost cannot be negative (you wrote {value})")
    if amount > MAX_COST:
        raise InputError(f"£{amount:,.2f} is more than this tool accepts for one action (£{MAX_COST:,.0f})")
    if amount != amount.quantize(Decimal("0.01")):
        if isinstance(value, float):  # binary floats from spreadsheets: round to the penny
            amount = amount.quantize(Decimal("0.01"))
        else:
            raise InputError(f"'{value}' has fractions of a penny: use at most two decimal places")
    return amount.quantize(Decimal("0.01"))


def parse_step(value: Any, steps: int = 6) -> int | None:
    if _missing(value):
        return None
    if isinstance(value, bool):
        raise InputError(f"'{value}' is not a pathway step")
    text = str(value).strip()
    m = re.fullmatch(r"(?:step\s*)?(\d+)(?:\.0+)?(?:\s*[:\-–].*)?", text, re.IGNORECASE | re.DOTALL)
    if not m:
        raise InputError(f"'{text}' is not a pathway step: use a number from 1 to {steps}")
    n = int(m.group(1))
    if not 1 <= n <= steps:
        raise InputError(f"step {n} is not on the pathway: use a number from 1 to {steps}")
    return n


def _choice(value: Any, options: Sequence[str], what: str, default: str | None = None) -> str | None:
    if _missing(value):
        return default
    text = str(value).strip()
    for o in options:
        if text.lower() == o.lower():
            return o
    raise InputError(f"'{text}' is not a {what}: use one of {', '.join(options)}")


def _category(value: Any, funding: DevelopmentFunding | None) -> str | None:
    if _missing(value):
        return None
    text = str(value).strip()
    if funding is None:
        return check_text(text, "funding category", 80)
    for c in funding.categories:
        if text.lower() in (c.id, c.title.lower()):
            return c.id
    raise InputError(f"'{text}' is not a funding category of {funding.title}")


def _read(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


_SERVICE_WORDS = {"service-improvement priority", "service improvement priority", "service priority", "service",
                  SERVICE_LINK}
_PRIORITY_REF = re.compile(r"(?:priority\s*|p)(\d+)", re.IGNORECASE)


def parse_links(value: Any, matrix: Matrix | None = None, priorities: Sequence[str] = ()) -> tuple[str, ...]:
    """What an action is linked to, as `Action.links` holds it. `value` is a list, or text with one
    link per line or separated by ';' (element titles may hold commas). A link is an element's id
    or title, 'priority 2' (or 'P2': the second chosen priority, `priorities` in order), or
    'service-improvement priority'. Without a matrix, element ids are kept as given."""
    if _missing(value):
        return ()
    if isinstance(value, str):
        parts = re.split(r"[;\n|]", value)
    elif isinstance(value, Iterable):
        parts = [str(v) for v in value if not _missing(v)]
    else:
        raise InputError(f"'{value}' is not a list of priorities or elements")
    titles = {e.title.strip().lower(): e.id for _, e in matrix.elements()} if matrix is not None else {}
    ids = set(matrix.element_ids()) if matrix is not None else None
    service, found = False, []
    for part in parts:
        text = " ".join(part.split())
        if not text:
            continue
        key = text.lower()
        ref = _PRIORITY_REF.fullmatch(key)
        if key in _SERVICE_WORDS:
            service = True
        elif ids is None or text in ids:
            found.append(text)
        elif key in titles:
            found.append(titles[key])
        elif ref is not None:
            n = int(ref.group(1))
            if not 1 <= n <= len(priorities):
                chosen = f"the plan has {len(priorities)} chosen" if priorities else "no priorities are chosen yet"
                raise InputError(f"there is no priority {n}: {chosen}")
            found.append(priorities[n - 1])
        else:
            where = f"{matrix.title} {matrix.version}" if matrix is not None else "the matrix"
            raise InputError(f"'{text}' is not a priority or an element of {where}: write an element's title, "
                             "'priority 2' or 'service-improvement priority'")
    links = _links(service, found)
    if len(links) > MAX_LINKS:
        raise InputError(f"{len(links)} links are too many for one action: link at most {MAX_LINKS}")
    return links


def check_action(values: Mapping[str, Any], *, pathway: Any = None, funding: DevelopmentFunding | None = None,
                 matrix: Matrix | None = None,
                 priorities: Sequence[str] = ()) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """(clean values, [(field, message), ...]) for one action as typed. Fields missing from
    `values` are left out of the clean values, so a partial update keeps the rest. Links are
    checked against `matrix` and the plan's chosen `priorities` (element ids, in order)."""
    steps = _step_count(pathway)
    checks = {
        "what": lambda v: check_name(v, "what will be done", 5_000),
        "owner": lambda v: check_text(v, "owner", 200),
        "due": parse_due,
        "status": lambda v: _choice(v, STATUSES, "status", STATUSES[0]),
        "step": lambda v: parse_step(v, steps),
        "support_needed": lambda v: check_text(v, "support needed", 5_000),
        "support_from": lambda v: check_text(v, "who could provide the support", 300),
        "cost": parse_cost,
        "funding_source": lambda v: _choice(v, FUNDING_SOURCES, "funding source"),
        "funding_category": lambda v: _category(v, funding),
        "links": lambda v: parse_links(v, matrix, priorities),
    }
    unknown = set(values) - set(checks) - {"id", "version"}
    if unknown:
        raise TypeError(f"unknown action field(s): {', '.join(sorted(unknown))}")
    clean: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for name, check in checks.items():
        if name not in values:
            continue
        try:
            clean[name] = check(values[name])
        except InputError as exc:
            problems.append((name, str(exc)))
    return clean, problems


def _blank(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_missing(v) for v in value)
    return _missing(value)


def blank_row(row: Mapping[str, Any]) -> bool:
    """A new row with nothing typed in it (the status alone has a default): ignored, never saved."""
    return _missing(row.get("id")) and all(_blank(row.get(f)) for f in ACTION_FIELDS if f != "status")


def validate_actions(rows: Sequence[Mapping[str, Any]], *, pathway: Any = None,
                     funding: DevelopmentFunding | None = None, matrix: Matrix | None = None,
                     priorities: Sequence[str] = ()) -> tuple[list[dict[str, Any]], list[ActionProblem]]:
    """Check every row; returns the clean rows and every problem (row, field, message).

    A row whose every field is empty is skipped (an editor's blank new row), not reported."""
    cleaned: list[dict[str, Any]] = []
    problems: list[ActionProblem] = []
    for i, row in enumerate(rows):
        if blank_row(row):
            continue
        clean, found = check_action({k: v for k, v in row.items() if k in ACTION_FIELDS}, pathway=pathway,
                                    funding=funding, matrix=matrix, priorities=priorities)
        problems += [ActionProblem(i, f, msg) for f, msg in found]
        ident = row.get("id")
        if not _missing(ident):
            clean["id"] = int(ident)
            clean["version"] = None if _missing(row.get("version")) else int(row["version"])
        cleaned.append(clean)
    return cleaned, problems


# ---------------------------------------------------------------------------------------------
# Development-funding eligibility (pure)

@dataclass(frozen=True)
class Flag:
    """Why an action's request for development funding looks ineligible: a prompt for discussion."""
    category_id: str
    category_title: str
    reason: str
    keyword: str | None = None  # the words found in the action; None when flagged by its chosen category

    @property
    def message(self) -> str:
        if self.keyword is None:
            return f"Its funding category is '{self.category_title}', which development funding does not cover. {self.reason}"
        return (f"It mentions '{self.keyword}', which sounds like '{self.category_title}'. {self.reason}")


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-z0-9£]+", text.lower())) + " "


def asks_development_funding(action: Any) -> bool:
    source = _read(action, "funding_source")
    return (isinstance(source, str) and source.strip().lower() == DEVELOPMENT_FUNDING.lower()) or \
        not _missing(_read(action, "funding_category"))


def check_funding(action: Any, funding_rules: DevelopmentFunding | None) -> list[Flag]:
    """Flags for an action (an `Action`, or a mapping with the same names) that asks for
    development funding: its chosen category is an ineligible one, or its text (what, support
    needed, support from) contains a keyword of an ineligible category. An action that does not
    ask for development funding, or asks under an eligible category with no ineligible keyword,
    gets no flag. Keywords match whole words, ignoring case and punctuation."""
    if funding_rules is None or not asks_development_funding(action):
        return []
    flags: list[Flag] = []
    chosen = _read(action, "funding_category")
    chosen = None if _missing(chosen) else str(chosen).strip()
    if chosen is not None:
        category = next((c for c in funding_rules.categories if chosen in (c.id, c.title)), None)
        if category is None:
            flags.append(Flag(chosen, chosen, f"'{chosen}' is not a category of {funding_rules.title}, so it cannot be checked."))
        elif not category.eligible:
            flags.append(Flag(category.id, category.title, category.reason or "It is not eligible."))
            chosen = category.id
        else:
            chosen = category.id
    text = _words(" ".join(str(_read(action, f) or "") for f in ("what", "support_needed", "support_from")))
    for c in funding_rules.categories:
        if c.eligible or c.id == chosen:
            continue
        hit = next((k for k in c.keywords if _words(k) != "  " and _words(k) in text), None)
        if hit is not None:
            flags.append(Flag(c.id, c.title, c.reason or "It is not eligible.", hit))
    return flags


@dataclass(frozen=True)
class SupportNote:
    """A request for development funding that support already funded should meet first."""
    category_id: str
    category_title: str
    existing: str  # the support that already exists, from the rules
    keyword: str | None = None  # the words found in the action; None when noted by its chosen category

    @property
    def message(self) -> str:
        why = (f"It asks for '{self.category_title}'" if self.keyword is None else
               f"It mentions '{self.keyword}', which sounds like '{self.category_title}'")
        return (f"{why}: first see whether support that is already funded covers it ({self.existing}). "
                "Development funding comes after support that already exists.")


def existing_support_notes(action: Any, funding_rules: DevelopmentFunding | None) -> list[SupportNote]:
    """Notes for an action asking for development funding under a category (chosen, or found by
    its keywords in what, support needed and support from) whose request should first be met from
    support funds that already exist (the category's `existing_support` in the rules)."""
    if funding_rules is None or not asks_development_funding(action):
        return []
    chosen = _read(action, "funding_category")
    chosen = None if _missing(chosen) else str(chosen).strip()
    text = _words(" ".join(str(_read(action, f) or "") for f in ("what", "support_needed", "support_from")))
    notes: list[SupportNote] = []
    for c in funding_rules.categories:
        existing = getattr(c, "existing_support", None)
        if not existing:
            continue
        if chosen is not None and chosen in (c.id, c.title):
            notes.append(SupportNote(c.id, c.title, existing))
            continue
        hit = next((k for k in c.keywords if _words(k) != "  " and _words(k) in text), None)
        if hit is not None:
            notes.append(SupportNote(c.id, c.title, existing, hit))
    return notes


def leadership_areas(funding_rules: DevelopmentFunding | None) -> list[Any]:
    """The leadership areas of the ICS's development programme for clinical directors (from the rules)."""
    return list(getattr(funding_rules, "leadership_areas", None) or ())


# ---------------------------------------------------------------------------------------------
# Actions under what they serve (pure)

@dataclass(frozen=True)
class ActionGroup:
    """The actions serving one priority, the service-improvement priority, one other element, or
    nothing yet. `actions` are (number in the plan, from 1, action); an action linked to several
    things is in each of their groups."""
    kind: str  # "service", "priority", "element" or "unlinked"
    key: str | None  # SERVICE_LINK, an element id, or None
    title: str
    detail: str | None  # the domain, or the service priority's text
    actions: tuple[tuple[int, Action], ...]


def link_title(link: str, matrix: Matrix | None, priorities: Sequence[str] = ()) -> str:
    """How a link reads: 'Service-improvement priority', 'Priority 2: Data sharing', or an element's title."""
    if link == SERVICE_LINK:
        return SERVICE_TITLE
    title = link
    if matrix is not None and link in matrix.element_ids():
        title = matrix.element(link).title
    if link in priorities:
        return f"Priority {list(priorities).index(link) + 1}: {title}"
    return title


def group_actions(plan: Plan, matrix: Matrix | None) -> list[ActionGroup]:
    """The plan's actions under what they serve: the service-improvement priority, then each chosen
    priority in order (with or without actions, so a priority nobody acts on shows), then other
    linked elements in matrix order, then the actions linked to nothing."""
    numbered = list(enumerate(plan.actions, start=1))
    chosen = [p.element_id for p in plan.priorities]
    domain_of = {e.id: d.title for d, e in matrix.elements()} if matrix is not None else {}
    order = {eid: i for i, eid in enumerate(matrix.element_ids())} if matrix is not None else {}

    def under(key: str) -> tuple[tuple[int, Action], ...]:
        return tuple((n, a) for n, a in numbered if key in a.links)

    groups: list[ActionGroup] = []
    service = under(SERVICE_LINK)
    if plan.service_priority or service:
        groups.append(ActionGroup("service", SERVICE_LINK, SERVICE_TITLE, plan.service_priority, service))
    for eid in chosen:
        groups.append(ActionGroup("priority", eid, link_title(eid, matrix, chosen), domain_of.get(eid), under(eid)))
    others = {link for _, a in numbered for link in a.links if link != SERVICE_LINK and link not in chosen}
    for eid in sorted(others, key=lambda e: (order.get(e, len(order)), e)):
        groups.append(ActionGroup("element", eid, link_title(eid, matrix), domain_of.get(eid), under(eid)))
    loose = tuple((n, a) for n, a in numbered if not a.links)
    if loose:
        groups.append(ActionGroup("unlinked", None, "Not linked to a priority or element", None, loose))
    return groups


# ---------------------------------------------------------------------------------------------
# Reads

def _sees(depth: str | None, shared: bool) -> bool:
    """A PCN's own people see its plan; the ICS and commissioners once the PCN has shared it."""
    return depth == "drafts" or (depth is not None and shared)


def get_plan(store, pcn_code: str, year: str) -> Plan | None:
    """The saved plan of a PCN for a year, or None (also when it is not shared with this reader)."""
    code, year = check_pcn_code(pcn_code), check_year(year)
    depth = guard.require_depth(store, code)
    with store.read() as r:
        row = r.first(PlanRow, pcn_code=code, year=year)
        if row is None or not _sees(depth, bool(row.shared)):
            return None
        actions = r.rows(PlanActionRow, plan_id=row.id)
        return _plan(row, r.rows(PlanPriorityRow, plan_id=row.id), actions,
                     r.rows(PlanActionLinkRow, action_id__in=[a.id for a in actions]) if actions else (),
                     r.rows(PlanCdRow, plan_id=row.id))


def plan_or_empty(store, pcn_code: str, year: str) -> Plan:
    """The saved plan, or an empty unsaved one (version 0) to start from."""
    return get_plan(store, pcn_code, year) or Plan(None, check_pcn_code(pcn_code), check_year(year))


def plans(store, *, ics_code: str | None = None, year: str | None = None,
          pcn_code: str | None = None) -> list[Plan]:
    """Every saved plan (of an ICS, a PCN, a year), by PCN code then year; five queries in all."""
    where: dict[str, Any] = {}
    if pcn_code is not None:
        where["pcn_code"] = check_pcn_code(pcn_code)
    if year is not None:
        where["year"] = check_year(year)
    if ics_code is not None:
        where["in_ics"] = check_ics_code(ics_code)
    with store.read() as r:
        heads = r.rows(PlanRow, order_by=["pcn_code", "year"], **where)
        ids = [h.id for h in heads]
        pri: dict[int, list] = {}
        act: dict[int, list] = {}
        cds: dict[int, list] = {}
        links: dict[int, list] = {}
        for p in r.rows(PlanPriorityRow, plan_id__in=ids):
            pri.setdefault(p.plan_id, []).append(p)
        plan_of: dict[int, int] = {}
        for a in r.rows(PlanActionRow, plan_id__in=ids):
            act.setdefault(a.plan_id, []).append(a)
            plan_of[a.id] = a.plan_id
        if plan_of:
            for link in r.rows(PlanActionLinkRow, action_id__in=list(plan_of)):
                links.setdefault(plan_of[link.action_id], []).append(link)
        for c in r.rows(PlanCdRow, plan_id__in=ids):
            cds.setdefault(c.plan_id, []).append(c)
        found = [_plan(h, pri.get(h.id, ()), act.get(h.id, ()), links.get(h.id, ()), cds.get(h.id, ())) for h in heads]
    return guard.Visibility(store).keep(found, lambda depth, p: _sees(depth, p.shared))


def snapshot(store, pcn_code: str, year: str) -> Snapshot | None:
    """The live assessment of the PCN for the year as a scoring Snapshot, or None."""
    a = assessing.find_assessment(store, pcn_code, year)
    if a is None:
        return None
    return Snapshot(a.year, store.store.matrix(a.matrix_id, a.matrix_version), assessing.ratings(store, a.id),
                    a.status)


# ---------------------------------------------------------------------------------------------
# Writes

def _plan_key(row: PlanRow) -> str:
    return f"{row.pcn_code}/{row.year}"


def _plan_values(row: PlanRow | None, priorities: list[str] | None = None) -> dict[str, Any] | None:
    if row is None:
        return None
    out = {f: getattr(row, f) for f in ("service_priority", "service_spec", "notes")}
    if priorities is not None:
        out["priorities"] = priorities
    return out


def _priority_ids(b: UnitOfWork, plan_id: int) -> list[str]:
    return b.column(PlanPriorityRow, "element_id", order_by=["position"], plan_id=plan_id)


def _plan_row(b: UnitOfWork, code: str, year: str) -> PlanRow | None:
    return b.first(PlanRow, pcn_code=code, year=year)


def _create_plan(b: UnitOfWork, code: str, year: str, values: Mapping[str, Any] | None = None) -> PlanRow:
    """A new plan row with `values` (audited). Raises ConflictError if another writer created it first."""
    values = dict(values or {})
    row = PlanRow(pcn_code=code, year=year, created_by=b.by, created_at=b.at, updated_by=b.by, updated_at=b.at,
                  **values)
    b.add(row, duplicate=lambda: _plan_conflict(b, code, year, values, 0))
    b.audit("plan", _plan_key(row), {"pcn_code": (None, code), "year": (None, year),
                                      **{k: (None, v) for k, v in values.items()}})
    return row


def _plan_to_share(b, code: str, year: str, expected_version: int, change: dict):
    """The plan a sharing change applies to, at the version on the sharer's screen."""
    _pcn_exists(b, code, SUBMIT)
    row = _plan_row(b, code, year)
    if row is None:
        raise NotFoundError(f"{code} has no {year} plan to share yet: save it first")
    if row.version != expected_version:
        raise _plan_conflict(b, code, year, change, expected_version)
    return row


def _plan_conflict(b: UnitOfWork, code: str, year: str, attempted: Mapping[str, Any], expected: int) -> ConflictError:
    row = _plan_row(b, code, year)
    what = f"The {year} development plan of {code}"
    stored = _plan_values(row, _priority_ids(b, row.id) if row is not None else None)
    if stored is not None:
        stored = {k: stored.get(k) for k in attempted} if attempted else stored
    return ConflictError(what, attempted, stored, row.updated_by if row else None, row.updated_at if row else None,
                         expected, row.version if row else 0)


def _pcn_exists(b: UnitOfWork, code: str, action: str = EDIT) -> str:
    """The PCN's code, once it is known to exist and the principal may change its plan."""
    row = b.get(PcnRow, check_pcn_code(code))
    if row is None:
        raise NotFoundError(f"there is no PCN with code {code}")
    guard.check(b, action, pcn_code=row.code, ics_code=row.ics_code)
    return row.code


def _plan_matrix(store, code: str, year: str, matrix: Matrix | None) -> Matrix:
    if matrix is not None:
        return matrix
    a = assessing.find_assessment(store, code, year)
    return store.matrix(a.matrix_id, a.matrix_version) if a is not None else store.default_matrix()


def _check_priorities(priorities: Iterable[Any], matrix: Matrix) -> list[tuple[str, str | None]]:
    if isinstance(priorities, str):
        raise InputError("priorities must be a list of elements, not one piece of text")
    out: list[tuple[str, str | None]] = []
    for p in priorities:
        if isinstance(p, (tuple, list)):
            eid, reason = p[0], p[1] if len(p) > 1 else None
        elif isinstance(p, (Priority, Suggestion)):
            eid, reason = p.element_id, getattr(p, "reason", None)
        else:
            eid, reason = p, None
        eid = str(eid or "").strip()
        if eid not in matrix.element_ids():
            raise InputError(f"'{eid}' is not an element of {matrix.title} {matrix.version}")
        if eid in (o[0] for o in out):
            raise InputError(f"'{matrix.element(eid).title}' is listed twice in the priorities")
        out.append((eid, check_text(reason, "reason for a priority", 1_000)))
    if len(out) > MAX_PRIORITIES:
        raise InputError(f"{len(out)} priorities are too many to act on: choose at most {MAX_PRIORITIES}")
    return out


def _check_spec(value: Any, specifications: ServiceSpecifications | None) -> str | None:
    if _missing(value):
        return None
    text = str(value).strip()
    specs = specifications
    if specs is None:
        return check_text(text, "service specification", 80)
    for s in specs.specifications:
        if text.lower() in (s.id, s.title.lower()):
            return s.id
    raise InputError(f"'{text}' is not one of the {specs.title}")


def save_plan(store, pcn_code: str, year: str, *, by: str | None = None, expected_version: int,
              service_priority: Any = KEEP, service_spec: Any = KEEP, notes: Any = KEEP, priorities: Any = KEEP,
              matrix: Matrix | None = None, specifications: ServiceSpecifications | None = None,
              source: str | None = None) -> Plan:
    """Create (expected_version=0) or change a plan. Fields left as KEEP stay as they are.

    `priorities`: the whole ordered list, as element ids, (element id, reason) pairs, or
    Priority / Suggestion objects; it replaces the stored list. Elements are checked against
    the matrix of the PCN's assessment for the year (or the default matrix)."""
    code, year = check_pcn_code(pcn_code), check_year(year)
    if expected_version is None:
        raise TypeError("expected_version is required (0 for a plan not saved before)")
    new: dict[str, Any] = {}
    if service_priority is not KEEP:
        new["service_priority"] = check_text(service_priority, "service-improvement priority", 5_000)
    if service_spec is not KEEP:
        new["service_spec"] = _check_spec(service_spec, specifications or store.store.specifications())
    if notes is not KEEP:
        new["notes"] = check_text(notes, "notes")
    wanted: list[tuple[str, str | None]] | None = None
    if priorities is not KEEP:
        wanted = _check_priorities(priorities or (), _plan_matrix(store, code, year, matrix))
    attempted = dict(new)
    if wanted is not None:
        attempted["priorities"] = [e for e, _ in wanted]
    with store.batch(by=by, source=source) as b:
        _pcn_exists(b, code)
        row = _plan_row(b, code, year)
        stored_version = row.version if row is not None else 0
        if expected_version != stored_version:
            raise _plan_conflict(b, code, year, attempted, expected_version)
        if row is None:
            row = _create_plan(b, code, year, new)
            old_priorities, stored_reasons, changes = [], {}, {}
        else:
            changes = {k: (getattr(row, k), v) for k, v in new.items() if getattr(row, k) != v}
            old_priorities = _priority_ids(b, row.id)
            stored_reasons = {p.element_id: p.reason for p in b.rows(PlanPriorityRow, plan_id=row.id)}
        priorities_changed = wanted is not None and (
            [e for e, _ in wanted] != old_priorities or any(stored_reasons.get(e) != r for e, r in wanted))
        if changes or (priorities_changed and expected_version):
            # The priorities live in another table: touch the plan so its version moves with them.
            b.update(row, {k: v for k, (_, v) in changes.items()}, touch=True,
                     conflict=lambda: _plan_conflict(b, code, year, attempted, expected_version))
        if priorities_changed:
            b.delete_where(PlanPriorityRow, plan_id=row.id)
            b.add_all(PlanPriorityRow(plan_id=row.id, element_id=e, position=i, reason=r)
                      for i, (e, r) in enumerate(wanted, start=1))
            changes["priorities"] = (old_priorities, [e for e, _ in wanted])
        b.audit("plan", _plan_key(row), changes)
    return get_plan(store, code, year)


def _action_what(row: PlanActionRow | None, code: str, year: str, values: Mapping[str, Any]) -> str:
    text = (row.what if row is not None else values.get("what")) or ""
    short = text if len(text) <= 50 else text[:47] + "..."
    return f"The action '{short}' in the {year} plan of {code}"


def _link_ids(b: UnitOfWork, action_id: int) -> list[str]:
    return b.column(PlanActionLinkRow, "element_id", action_id=action_id)


def _action_values(row: PlanActionRow, b: UnitOfWork | None = None) -> dict[str, Any]:
    a = _action(row, _link_ids(b, row.id) if b is not None else ())
    return {f: getattr(a, f) for f in ACTION_FIELDS}


def _audit_value(name: str, value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return "; ".join(value) if value else None
    return value


def _columns(values: Mapping[str, Any]) -> dict[str, Any]:
    """Action values as the table's columns: the cost is kept in pence, the service-improvement
    priority's link as a flag (element links are rows of their own, `_set_links`)."""
    out = dict(values)
    if "cost" in out:
        cost = out.pop("cost")
        out["cost_pence"] = None if cost is None else int(cost * 100)
    if "links" in out:
        out["for_service_priority"] = SERVICE_LINK in out.pop("links")
    return out


def _set_links(b: UnitOfWork, action_id: int, links: Sequence[str], replace: bool) -> None:
    if replace:
        b.delete_where(PlanActionLinkRow, action_id=action_id)
    b.add_all(PlanActionLinkRow(action_id=action_id, element_id=e) for e in links if e != SERVICE_LINK)


def _write_actions(b: UnitOfWork, row: PlanRow, rows: Sequence[Mapping[str, Any]], deleted: Mapping[int, int],
                   positions: bool) -> None:
    code, year = row.pcn_code, row.year

    def stale(action_id: int, attempted: Mapping[str, Any], expected: int | None) -> ConflictError:
        fresh = b.get(PlanActionRow, action_id)
        if fresh is not None and fresh.plan_id != row.id:
            fresh = None
        stored = _action_values(fresh, b) if fresh is not None else None
        shown = {k: _audit_value(k, v) for k, v in attempted.items()}
        return ConflictError(_action_what(fresh, code, year, attempted), shown,
                             {k: _audit_value(k, v) for k, v in stored.items() if k in shown} if stored else None,
                             fresh.updated_by if fresh else None, fresh.updated_at if fresh else None,
                             expected, fresh.version if fresh else 0)

    for action_id, version in deleted.items():
        r = b.get(PlanActionRow, int(action_id))
        if r is None or r.plan_id != row.id:
            continue  # already gone: what the user wanted
        if version is not None and r.version != version:
            raise stale(r.id, {"status": "deleted"}, version)
        before = _action_values(r, b)
        b.delete_where(PlanActionLinkRow, action_id=r.id)
        b.delete(r)
        b.audit("plan_action", f"{code}/{year}/{r.id}", {k: (_audit_value(k, v), None) for k, v in before.items()})

    for position, values in enumerate(rows, start=1):
        values = dict(values)
        action_id, version = values.pop("id", None), values.pop("version", None)
        if action_id is None:
            values.setdefault("status", STATUSES[0])
            new = PlanActionRow(plan_id=row.id, position=position, updated_by=b.by, updated_at=b.at,
                                **_columns(values))
            b.add(new, duplicate="that action already exists")
            _set_links(b, new.id, values.get("links", ()), replace=False)
            b.audit("plan_action", f"{code}/{year}/{new.id}",
                    {"position": (None, position), **{k: (None, _audit_value(k, v)) for k, v in values.items()}})
            continue
        r = b.get(PlanActionRow, int(action_id))
        if r is None or r.plan_id != row.id:
            raise stale(int(action_id), values, version)
        if version is not None and r.version != version:
            raise stale(r.id, values, version)
        before = _action_values(r, b)
        changes = {k: (before[k], v) for k, v in values.items() if before[k] != v}
        if positions and r.position != position:
            changes["position"] = (r.position, position)
        if not changes:
            continue

        # A change of links alone touches the action, so its version moves with them.
        b.update(r, _columns({k: v for k, (_, v) in changes.items()}), touch="links" in changes,
                 conflict=lambda r=r, values=values, version=version: stale(r.id, values, version))
        if "links" in changes:
            _set_links(b, r.id, changes["links"][1], replace=True)
        b.audit("plan_action", f"{code}/{year}/{r.id}",
                 {k: (_audit_value(k, old), _audit_value(k, new)) for k, (old, new) in changes.items()})


def _links_matrix(b: UnitOfWork, code: str, year: str, matrix: Matrix | None) -> Matrix:
    """The matrix links are checked against: the one given (the plan page's), else the year's assessment's."""
    if matrix is not None:
        return matrix
    a = assessing.find_assessment(b, code, year)
    return b.store.matrix(a.matrix_id, a.matrix_version) if a is not None else b.store.default_matrix()


def _checked(b: UnitOfWork, row: PlanRow | None, code: str, year: str, rows: Sequence[Mapping[str, Any]],
             pathway: Any, funding: DevelopmentFunding | None, matrix: Matrix | None) -> list[dict[str, Any]]:
    """The rows checked (links against the plan's matrix and chosen priorities), or ActionProblems."""
    links = any(not _blank(r.get("links")) for r in rows)
    cleaned, problems = validate_actions(
        rows, pathway=pathway or b.store.pathway(), funding=funding or b.store.funding(),
        matrix=_links_matrix(b, code, year, matrix) if links else matrix,
        priorities=_priority_ids(b, row.id) if links and row is not None else ())
    if problems:
        raise ActionProblems(problems)
    return cleaned


def save_actions(store, pcn_code: str, year: str, rows: Sequence[Mapping[str, Any]], *, by: str | None = None,
                 deleted: Mapping[int, int] | None = None, pathway: Any = None,
                 funding: DevelopmentFunding | None = None, matrix: Matrix | None = None,
                 source: str | None = None) -> Plan:
    """Save the action list as edited, all or nothing.

    `rows` in display order: a row with an `id` (and the `version` you read) updates that
    action, a row without one adds an action; blank rows are ignored. Each row's position is
    its place in `rows`. `deleted` maps the ids of actions to remove to the versions you read.
    Every row is checked first: any bad cell raises ActionProblems (row, field, message) and
    nothing is written. A stale version raises ConflictError, also writing nothing. The plan
    is created if the PCN has none for the year yet. Links name elements of `matrix` (default:
    the matrix of the year's assessment) or the plan's chosen priorities (see `parse_links`)."""
    code, year = check_pcn_code(pcn_code), check_year(year)
    missing_what = [ActionProblem(i, "what", "say what will be done") for i, r in enumerate(rows)
                    if r.get("id") is not None and "what" not in r]
    if missing_what:
        raise ActionProblems(missing_what)
    with store.batch(by=by, source=source) as b:
        _pcn_exists(b, code)
        row = _plan_row(b, code, year)
        cleaned = _checked(b, row, code, year, rows, pathway, funding, matrix)
        row = row or _create_plan(b, code, year)
        _write_actions(b, row, cleaned, dict(deleted or {}), positions=True)
    return get_plan(store, code, year)


def add_action(store, pcn_code: str, year: str, *, by: str | None = None, source: str | None = None,
               pathway: Any = None, funding: DevelopmentFunding | None = None, matrix: Matrix | None = None,
               **values: Any) -> Action:
    """Add one action at the end of the plan (created if needed)."""
    code, year = check_pcn_code(pcn_code), check_year(year)
    if "what" not in values:
        raise ActionProblems([ActionProblem(0, "what", "say what will be done")])
    with store.batch(by=by, source=source) as b:
        _pcn_exists(b, code)
        row = _plan_row(b, code, year)
        cleaned = _checked(b, row, code, year, [values], pathway, funding, matrix)
        if not cleaned:  # nothing typed at all
            raise ActionProblems([ActionProblem(0, "what", "say what will be done")])
        [clean] = cleaned
        row = row or _create_plan(b, code, year)
        last = max(b.column(PlanActionRow, "position", plan_id=row.id), default=0)
        clean.setdefault("status", STATUSES[0])
        new = PlanActionRow(plan_id=row.id, position=last + 1, updated_by=b.by, updated_at=b.at, **_columns(clean))
        b.add(new, duplicate="that action already exists")
        _set_links(b, new.id, clean.get("links", ()), replace=False)
        b.audit("plan_action", f"{code}/{year}/{new.id}",
                 {"position": (None, new.position), **{k: (None, _audit_value(k, v)) for k, v in clean.items()}})
        return _action(new, _link_ids(b, new.id))


def update_action(store, action_id: int, *, by: str | None = None, expected_version: int,
                  source: str | None = None, pathway: Any = None, funding: DevelopmentFunding | None = None,
                  matrix: Matrix | None = None, **values: Any) -> Action:
    """Change some fields of one action (the others stay as they are)."""
    unknown = set(values) - set(ACTION_FIELDS)
    if unknown:
        raise TypeError(f"unknown action field(s): {', '.join(sorted(unknown))}")
    with store.batch(by=by, source=source) as b:
        r = b.get(PlanActionRow, int(action_id))
        if r is None:
            raise NotFoundError(f"there is no action with id {action_id}")
        plan = b.get(PlanRow, r.plan_id)
        _pcn_exists(b, plan.pcn_code)
        # Checked as a row of its own, so an update of some fields is not a "blank row".
        clean, problems = check_action(
            values, pathway=pathway or b.store.pathway(), funding=funding or b.store.funding(),
            matrix=_links_matrix(b, plan.pcn_code, plan.year, matrix) if "links" in values else matrix,
            priorities=_priority_ids(b, plan.id) if "links" in values else ())
        if problems:
            raise ActionProblems([ActionProblem(0, f, m) for f, m in problems])
        _write_actions(b, plan, [{"id": r.id, "version": expected_version, **clean}], {}, positions=False)
        return _action(b.get(PlanActionRow, r.id), _link_ids(b, r.id))


def delete_action(store, action_id: int, *, by: str | None = None, expected_version: int,
                  source: str | None = None) -> None:
    with store.batch(by=by, source=source) as b:
        r = b.get(PlanActionRow, int(action_id))
        if r is None:
            raise NotFoundError(f"there is no action with id {action_id}")
        plan = b.get(PlanRow, r.plan_id)
        _pcn_exists(b, plan.pcn_code)
        _write_actions(b, plan, [], {r.id: expected_version}, positions=False)


def share_plan(store, pcn_code: str, year: str, *, shared: bool = True, by: str | None = None,
               expected_version: int, source: str | None = None) -> Plan:
    """The PCN shares its plan with its ICS and commissioners (or takes it back with shared=False)."""
    code, year = check_pcn_code(pcn_code), check_year(year)
    with store.batch(by=by, source=source) as b:
        row = _plan_to_share(b, code, year, expected_version, {"shared": shared})
        if bool(row.shared) != bool(shared):
            before = bool(row.shared)
            b.update(row, {"shared": bool(shared), "shared_by": b.by if shared else None,
                           "shared_at": b.at if shared else None},
                     conflict=lambda: _plan_conflict(b, code, year, {"shared": shared}, expected_version))
            b.audit("plan", _plan_key(row), {"shared": (before, bool(shared))})
    return get_plan(store, code, year)


# ---------------------------------------------------------------------------------------------
# Versions shared with the ICS and commissioners

_SHARE_FIELDS = ("number", "plan_version", "shared_by", "shared_at", "note", "pdf_sha256")


def _shared(code: str, year: str, values: Sequence[Any]) -> SharedVersion:
    number, plan_version, by, at, note, sha = values
    return SharedVersion(code, year, number, plan_version, by, at, note, sha)


def shared_versions(store, pcn_code: str, year: str) -> list[SharedVersion]:
    """The versions of the plan the PCN shared, oldest first (without their PDFs). Anyone who may
    see any of the PCN's records sees what it shared."""
    code, year = check_pcn_code(pcn_code), check_year(year)
    guard.require_depth(store, code)
    with store.read() as r:
        row = r.first(PlanRow, pcn_code=code, year=year)
        if row is None:
            return []
        found = r.values(PlanShareRow, list(_SHARE_FIELDS), plan_id=row.id)
    return sorted((_shared(code, year, v) for v in found), key=lambda v: v.number)


def next_share_number(store, pcn_code: str, year: str) -> int:
    """The number the next shared version will get (the PDF names it before it is stored)."""
    return max((v.number for v in shared_versions(store, pcn_code, year)), default=0) + 1


def shared_pdf(store, pcn_code: str, year: str, number: int) -> bytes:
    """The PDF of shared version `number`, byte for byte as it was shared."""
    code, year = check_pcn_code(pcn_code), check_year(year)
    guard.require_depth(store, code)
    with store.read() as r:
        row = r.first(PlanRow, pcn_code=code, year=year)
        found = r.values(PlanShareRow, ["pdf"], plan_id=row.id, number=int(number)) if row is not None else []
    if not found:
        have = shared_versions(store, code, year)
        listed = (f"its shared versions are {', '.join(str(v.number) for v in have)}" if have
                  else "it has shared none yet")
        raise NotFoundError(f"{code} has no shared version {number} of its {year} plan: {listed}")
    return bytes(found[0][0])


def share_version(store, pcn_code: str, year: str, pdf: bytes, *, by: str | None = None, expected_version: int,
                  number: int | None = None, note: Any = None, source: str | None = None) -> SharedVersion:
    """Record `pdf` (made from the plan at `expected_version`) as the next version shared with the
    ICS and commissioners, and share the live plan with them too. The stored PDF never changes.

    `number`, when given, is the number the PDF was made to carry (`next_share_number`): if
    someone shared a version in between, nothing is written and ConflictError says so."""
    code, year = check_pcn_code(pcn_code), check_year(year)
    if not isinstance(pdf, (bytes, bytearray)) or not bytes(pdf[:5]) == b"%PDF-":
        raise InputError("a shared version must be the plan's PDF")
    if len(pdf) > MAX_SHARED_PDF:
        raise InputError(f"the PDF is {len(pdf) / 1024 / 1024:.1f} MB; a shared version may be at most "
                         f"{MAX_SHARED_PDF // 1024 // 1024} MB")
    note = check_text(note, "note on the shared version", 1_000)
    digest = hashlib.sha256(bytes(pdf)).hexdigest()
    with store.batch(by=by, source=source) as b:
        row = _plan_to_share(b, code, year, expected_version, {"shared version": "new"})
        taken = max(b.column(PlanShareRow, "number", plan_id=row.id), default=0)
        if number is not None and int(number) != taken + 1:
            raise ConflictError(f"The shared versions of the {year} plan of {code}",
                                {"newest shared version": number}, {"newest shared version": taken},
                                *b.last_change("plan_share", f"{code}/{year}/{taken}"), number - 1, taken)
        share = PlanShareRow(plan_id=row.id, number=taken + 1, plan_version=row.version, note=note, pdf=bytes(pdf),
                             pdf_sha256=digest, shared_by=b.by, shared_at=b.at)
        b.add(share, duplicate=lambda: ConflictError(
            f"The shared versions of the {year} plan of {code}", {"newest shared version": taken + 1},
            {"newest shared version": taken + 1}, None, None, taken, taken + 1))
        b.audit("plan_share", f"{code}/{year}/{share.number}",
                {"number": (None, share.number), "plan_version": (None, row.version), "pdf_sha256": (None, digest),
                 "note": (None, note)})
        if not row.shared:
            b.update(row, {"shared": True, "shared_by": b.by, "shared_at": b.at}, stamp=False,
                     conflict=lambda: _plan_conflict(b, code, year, {"shared": True}, expected_version))
            b.audit("plan", _plan_key(row), {"shared": (False, True)})
        return SharedVersion(code, year, share.number, share.plan_version, share.shared_by, share.shared_at, note,
                             digest)


# ---------------------------------------------------------------------------------------------
# The clinical director's development

def _cd_value(value: Any, name: str, limit: int) -> str | None:
    return check_text(value, name, limit)


def save_cd_development(store, pcn_code: str, year: str, wants: Mapping[str, Any], *, by: str | None = None,
                        expected_version: int, funding: DevelopmentFunding | None = None,
                        source: str | None = None) -> Plan:
    """Set the clinical director's development part of the plan: `wants` maps each leadership
    area's id (of the rules' `leadership_areas`) to {"wants": what the CD wants from it,
    "provider": who provides it} (or a (wants, provider) pair). The mapping replaces the stored
    part; an area with neither is left out. The plan is created if needed (expected_version=0)."""
    code, year = check_pcn_code(pcn_code), check_year(year)
    if expected_version is None:
        raise TypeError("expected_version is required (0 for a plan not saved before)")
    areas = {a.id: a for a in leadership_areas(funding or store.store.funding())}
    order = {aid: i for i, aid in enumerate(areas)}
    clean: dict[str, tuple[str | None, str | None]] = {}
    for area_id, value in dict(wants or {}).items():
        if isinstance(value, Mapping):
            unknown = set(value) - {"wants", "provider"}
            if unknown:
                raise TypeError(f"unknown field(s) for a leadership area: {', '.join(sorted(unknown))}")
            w, p = value.get("wants"), value.get("provider")
        else:
            w, p = value
        w = _cd_value(w, "what the clinical director wants", 5_000)
        p = _cd_value(p, "who provides it", 300)
        if w or p:
            clean[str(area_id)] = (w, p)
    with store.batch(by=by, source=source) as b:
        _pcn_exists(b, code)
        row = _plan_row(b, code, year)
        stored_version = row.version if row is not None else 0
        if expected_version != stored_version:
            raise _plan_conflict(b, code, year, {"clinical director's development": "changed"}, expected_version)
        before = {c.area_id: c for c in b.rows(PlanCdRow, plan_id=row.id)} if row is not None else {}
        unknown = [a for a in clean if a not in areas and a not in before]
        if unknown:
            known = ", ".join(areas) or "none"
            raise InputError(f"'{unknown[0]}' is not a leadership area of the clinical directors' programme "
                             f"(the areas are: {known})")
        old = {a: (c.wants, c.provider) for a, c in before.items()}
        if old == clean:
            return get_plan(store, code, year) if row is not None else plan_or_empty(store, code, year)
        row = row or _create_plan(b, code, year)
        if expected_version:
            b.update(row, {}, touch=True, conflict=lambda: _plan_conflict(
                b, code, year, {"clinical director's development": "changed"}, expected_version))
        for a, kept in before.items():
            if a not in clean:
                b.delete(kept)
            elif old[a] != clean[a]:
                b.set(kept, {"wants": clean[a][0], "provider": clean[a][1]})
        b.add_all(PlanCdRow(plan_id=row.id, area_id=a, position=order.get(a, len(order)), title=areas[a].title,
                            wants=w, provider=p) for a, (w, p) in clean.items() if a not in before)
        for a in sorted(set(old) | set(clean)):
            was, now = old.get(a, (None, None)), clean.get(a, (None, None))
            b.audit("plan_cd_development", f"{code}/{year}/{a}",
                    {"wants": (was[0], now[0]), "provider": (was[1], now[1])})
    return get_plan(store, code, year)

"""Typed models of the YAML files in matrix/, with the cross-checks a matrix must pass.

Structure and types are checked by pydantic; relations between fields (every element has a
descriptor for every stage, ids unique, steps numbered 1..n) by `cross_check`, which returns
problems with the field path so the loader can name the line.
"""
from __future__ import annotations

from functools import cached_property
from typing import Annotated, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

# Letters, digits, '-', '_' and '.', starting with a letter or digit; case is kept ('G-SM' and
# 'g-sm' are different ids). 200 characters: real models name activities in ids of 87.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
ID_MAX = 200
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=ID_MAX)]
# A stage's score: a plain number (true/false or quoted text are refused, not read as 1 or 0).
Score = Annotated[float, Field(strict=True, allow_inf_nan=False)]
# true or false only: quoted "yes" or "no" is refused, not read as a boolean.
Flag = Annotated[bool, Field(strict=True)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Year = Annotated[str, StringConstraints(pattern=r"^\d{4}/\d{2}$")]
Path = tuple[Union[str, int], ...]


class _Model(BaseModel):
    # Unknown keys are almost always typos ("descriptor:" for "descriptors:"): refuse them.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stage(_Model):
    id: Id
    label: Text
    meaning: Text
    # What the stage counts as in means, gaps and progress; default its position (first = 0).
    # Every stage has one or none does, rising from each stage to the next (cross_check).
    score: Score | None = None


class Element(_Model):
    id: Id
    title: Text
    descriptors: dict[str, Text]
    evidence_prompts: list[Text] = Field(min_length=1)
    # Whether this element may be rated "not applicable"; unset, the matrix's setting holds.
    allow_not_applicable: Flag | None = None


class Domain(_Model):
    id: Id
    title: Text
    summary: Text
    elements: list[Element] = Field(min_length=1)


def _one_or_more(value):
    # `old: new` names one new element, `old: [new-a, new-b]` a split; stored as a tuple either way.
    return [value] if isinstance(value, str) else value


class Supersedes(_Model):
    matrix: Id
    version: Text
    # Old element id -> the new element(s) that continue it. Several old ids naming one new id is
    # a merge; a list is a split. Old ids neither named here nor kept in the new matrix are retired.
    elements: dict[str, Annotated[tuple[Id, ...], BeforeValidator(_one_or_more), Field(min_length=1)]] = Field(
        default_factory=dict)

    def targets(self, old_id: str) -> tuple[str, ...]:
        return self.elements.get(old_id, ())


class Matrix(_Model):
    kind: Literal["maturity-matrix"]
    id: Id
    version: Text
    title: Text
    source: Text
    publisher: Text | None = None
    description: Text | None = None
    stages: list[Stage] = Field(min_length=2)
    domains: list[Domain] = Field(min_length=1)
    supersedes: Supersedes | None = None
    # The default for every element's allow_not_applicable.
    allow_not_applicable: Flag = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.version)

    @property
    def label(self) -> str:
        return f"{self.title} ({self.version})"

    # Cached: a matrix is frozen once loaded, and a workshop's summary asks for these thousands of
    # times (a stage list rebuilt on every call was a third of the summary's CPU).
    @cached_property
    def stage_ids(self) -> list[str]:
        return [s.id for s in self.stages]

    @cached_property
    def _stage_positions(self) -> dict[str, int]:
        return {sid: i for i, sid in enumerate(self.stage_ids)}

    def stage_index(self, stage_id: str) -> int:
        try:
            return self._stage_positions[stage_id]
        except KeyError:
            raise ValueError(f"{stage_id!r} is not in list") from None

    def stage(self, stage_id: str) -> Stage:
        return self.stages[self.stage_index(stage_id)]

    @property
    def stage_scores(self) -> list[float]:
        """Each stage's score in scale order: its `score`, else its position (first = 0)."""
        return [float(i) if s.score is None else s.score for i, s in enumerate(self.stages)]

    def allows_not_applicable(self, element_id: str) -> bool:
        own = self.element(element_id).allow_not_applicable
        return self.allow_not_applicable if own is None else own

    def elements(self) -> list[tuple[Domain, Element]]:
        return [(d, e) for d in self.domains for e in d.elements]

    def element(self, element_id: str) -> Element:
        for _, e in self.elements():
            if e.id == element_id:
                return e
        raise KeyError(element_id)

    def domain_of(self, element_id: str) -> Domain:
        for d, e in self.elements():
            if e.id == element_id:
                return d
        raise KeyError(element_id)

    def element_ids(self) -> list[str]:
        return [e.id for _, e in self.elements()]


class ChecklistItem(_Model):
    id: Id
    text: Text


class Step(_Model):
    number: int
    id: Id
    title: Text
    purpose: Text
    checklist: list[ChecklistItem] = Field(min_length=1)
    outputs: list[Text] = Field(default_factory=list)


class Pathway(_Model):
    kind: Literal["development-pathway"]
    id: Id
    version: Text
    title: Text
    source: Text
    steps: list[Step] = Field(min_length=1)

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.version)

    def step(self, number: int) -> Step:
        for s in self.steps:
            if s.number == number:
                return s
        raise KeyError(number)


class ServiceSpecification(_Model):
    id: Id
    title: Text
    planned_start: Year
    started: Year | None = None
    summary: Text


class AdditionalRole(_Model):
    id: Id
    title: Text
    from_year: Year
    summary: Text


class ServiceSpecifications(_Model):
    kind: Literal["service-specifications"]
    id: Id
    version: Text
    title: Text
    source: Text
    specifications: list[ServiceSpecification] = Field(min_length=1)
    additional_roles: list[AdditionalRole] = Field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.version)


class FundingCategory(_Model):
    id: Id
    title: Text
    eligible: Flag
    description: Text | None = None
    reason: Text | None = None
    keywords: list[Text] = Field(default_factory=list)
    # Support already funded that should meet such a request before development funding does.
    existing_support: Text | None = None


class LeadershipArea(_Model):
    """An area of the ICS's development programme for clinical directors."""
    id: Id
    title: Text
    description: Text | None = None


class DevelopmentFunding(_Model):
    kind: Literal["development-funding"]
    id: Id
    version: Text
    title: Text
    source: Text
    summary: Text | None = None
    categories: list[FundingCategory] = Field(min_length=1)
    # The clinical directors' own development programme: its leadership areas, in order.
    leadership_areas: list[LeadershipArea] = Field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.version)

    def category(self, category_id: str) -> FundingCategory:
        for c in self.categories:
            if c.id == category_id:
                return c
        raise KeyError(category_id)


Document = Union[Matrix, Pathway, ServiceSpecifications, DevelopmentFunding]
MODELS: dict[str, type[_Model]] = {
    "maturity-matrix": Matrix,
    "development-pathway": Pathway,
    "service-specifications": ServiceSpecifications,
    "development-funding": DevelopmentFunding,
}


def _duplicates(items: list, path: Path, what: str) -> list[tuple[Path, str]]:
    seen: dict[str, int] = {}
    problems = []
    for i, item in enumerate(items):
        if item.id in seen:
            problems.append(
                (path + (i, "id"), f"duplicate {what} id '{item.id}' (first used at {path_str(path + (seen[item.id],))})")
            )
        else:
            seen[item.id] = i
    return problems


def cross_check(doc: Document) -> list[tuple[Path, str]]:
    """Problems pydantic cannot see: relations between fields. Empty list means valid."""
    if isinstance(doc, Matrix):
        return _check_matrix(doc)
    if isinstance(doc, Pathway):
        return _check_pathway(doc)
    if isinstance(doc, ServiceSpecifications):
        return _duplicates(doc.specifications, ("specifications",), "specification") + _duplicates(
            doc.additional_roles, ("additional_roles",), "role"
        )
    if isinstance(doc, DevelopmentFunding):
        problems = _duplicates(doc.categories, ("categories",), "category")
        problems += _duplicates(doc.leadership_areas, ("leadership_areas",), "leadership area")
        for i, c in enumerate(doc.categories):
            if not c.eligible and not c.reason:
                problems.append((("categories", i, "reason"), f"ineligible category '{c.id}' needs a reason"))
        return problems
    return []


def _check_matrix(m: Matrix) -> list[tuple[Path, str]]:
    problems = _duplicates(m.stages, ("stages",), "stage")
    problems += _duplicates(m.domains, ("domains",), "domain")
    stage_ids = m.stage_ids
    first_use: dict[str, Path] = {}
    for di, d in enumerate(m.domains):
        for ei, e in enumerate(d.elements):
            here: Path = ("domains", di, "elements", ei)
            if e.id in first_use:
                problems.append((here + ("id",), f"duplicate element id '{e.id}' (first used at {path_str(first_use[e.id])})"))
            else:
                first_use[e.id] = here
            for sid in stage_ids:
                if sid not in e.descriptors:
                    problems.append((here + ("descriptors",), f"element '{e.id}' has no descriptor for stage '{sid}'"))
            for sid in e.descriptors:
                if sid not in stage_ids:
                    problems.append(
                        (here + ("descriptors", sid), f"element '{e.id}' names unknown stage '{sid}' (stages are: {', '.join(stage_ids)})")
                    )
    problems += _check_scores(m)
    if m.supersedes is not None:
        if m.supersedes.matrix == m.id and m.supersedes.version == m.version:
            problems.append((("supersedes", "version"), "a matrix cannot supersede its own version"))
        for old, news in m.supersedes.elements.items():
            split = len(news) > 1
            for i, new in enumerate(news):
                where = ("supersedes", "elements", old) + ((i,) if split else ())
                if new not in first_use:
                    problems.append((where, f"maps '{old}' to '{new}', which is not an element of this matrix"))
                elif new in news[:i]:
                    problems.append((where, f"names '{new}' twice for '{old}'"))
    return problems


def _check_scores(m: Matrix) -> list[tuple[Path, str]]:
    given = [i for i, s in enumerate(m.stages) if s.score is not None]
    if not given:
        return []
    if len(given) < len(m.stages):
        return [(("stages", i, "score"), f"stage '{s.id}' has no score: give every stage a score, or none "
                 f"(then each counts as its position, 0 to {len(m.stages) - 1})")
                for i, s in enumerate(m.stages) if s.score is None]
    problems = []
    for i in range(1, len(m.stages)):
        before, here = m.stages[i - 1], m.stages[i]
        if here.score <= before.score:
            problems.append((("stages", i, "score"), f"stage '{here.id}' scores {here.score:g}, not more than "
                             f"'{before.id}' before it ({before.score:g}): scores must rise from each stage to the next"))
    return problems


def _check_pathway(p: Pathway) -> list[tuple[Path, str]]:
    problems = _duplicates(p.steps, ("steps",), "step")
    for i, s in enumerate(p.steps):
        if s.number != i + 1:
            problems.append((("steps", i, "number"), f"steps must be numbered 1..{len(p.steps)} in order without gaps: expected {i + 1}, found {s.number}"))
    seen: dict[str, Path] = {}
    for si, s in enumerate(p.steps):
        for ci, c in enumerate(s.checklist):
            here: Path = ("steps", si, "checklist", ci)
            if c.id in seen:
                problems.append((here + ("id",), f"duplicate checklist id '{c.id}' (first used at {path_str(seen[c.id])})"))
            else:
                seen[c.id] = here
    return problems


def path_str(path: Path) -> str:
    """('domains', 1, 'elements', 3) -> 'domains[1].elements[3]'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"

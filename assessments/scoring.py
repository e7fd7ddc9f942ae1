"""Scores computed from ratings: pure functions over plain data (no database, no Streamlit).

Rules, in one place:
- A stage's score is its `score` in the matrix file, else its position in the scale (first
  stage = 0). Every number made from a stage goes through `stage_score` / `Matrix.stage_scores`,
  and `stage_scale` gives the scale (labels, scores, "on a scale of X to Y") to the tables, the
  charts and the reports. Ordinal uses (workshop medians, "n stages from the target") use the
  position, `stage_position`.
- An element rated "not applicable" has no score and is left out of every mean and count: its
  domain's n_elements counts only the elements that apply.
- A domain's score is the mean over its RATED elements, always given with how many were rated.
- The overall score is the mean of the domain scores, so each domain weighs the same however
  many elements it has (it is the mean of what the radar shows).
- A gap is target - current, only where both are set; a domain's gap is the mean of its
  elements' gaps.
- Across matrix versions the older assessment is translated into the newer matrix's element ids
  through `supersedes` (following chains 2018 -> 2019 -> 2023). Ids that did not change map to
  themselves. When several old elements map to one new element (a merge), the new element's
  score is the mean of the old elements that were rated; when one old element maps to several
  (a split), each new element continues it with its score. Elements with no counterpart on the
  other side (retired old ones, new ones) are reported as not comparable, never dropped.
  Matrices on different scales (another number of stages, or other stage scores) cannot be
  compared at all: the result says so and carries no numbers.
- A domain's year-on-year change is like-for-like: the mean of (after - before) over the elements
  rated in both years, so an element rated only once never moves the change.
- Workshop consensus uses the LOWER median, so the median is always a real stage that someone
  chose. The interquartile range uses linear interpolation (numpy's default). Agreement is Tastle
  and Wierman's consensus measure (see `agreement`), which knows the scale's length; an element's
  views "differ" (`split`) when its agreement is below AGREEMENT_THRESHOLD.

A rating is any object with `element_id`, `current_stage` and `target_stage` (stage ids or None),
and optionally `not_applicable`.
A rating that names an element or a stage the matrix does not have is an error (ValueError), not
a silent gap: the records layer is expected to store only valid ratings.
"""
from __future__ import annotations

import dataclasses
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from statistics import mean
from typing import Any, Iterable, Literal, Mapping, Protocol, Sequence

import numpy as np
import pandas as pd

from matrix import Matrix

Which = Literal["current", "target"]
Matrices = Mapping[tuple[str, str], Matrix]


class Rating(Protocol):
    element_id: str
    current_stage: str | None
    target_stage: str | None
    # not_applicable: bool, optional (read with getattr, False when absent)


@dataclass(frozen=True)
class Snapshot:
    """One PCN's assessment for one year, against one matrix version.

    `ratings` maps element id -> rating; a plain list of ratings is accepted and keyed by
    element id."""

    year: str
    matrix: Matrix
    ratings: Mapping[str, Any]
    status: str = "draft"
    label: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.ratings, Mapping):
            object.__setattr__(self, "ratings", {r.element_id: r for r in self.ratings})

    def scores(self, which: Which = "current") -> dict[str, float | None]:
        return element_scores(self, which)

    @property
    def not_applicable(self) -> frozenset[str]:
        """Elements rated "not applicable"."""
        return not_applicable_ids(self.ratings)


# ---------------------------------------------------------------------------------------------
# Stages as numbers: the one place a stage becomes a number


def stage_position(matrix: Matrix, stage_id: str | None) -> int | None:
    """Position of the stage in the scale (first stage = 0); None for unrated."""
    if stage_id is None or stage_id == "":
        return None
    try:
        return matrix.stage_index(stage_id)
    except ValueError:
        raise ValueError(
            f"'{stage_id}' is not a stage of {matrix.label} (stages are: {', '.join(matrix.stage_ids)})"
        ) from None


def stage_score(matrix: Matrix, stage_id: str | None) -> float | None:
    """The stage's score (its `score`, else its position); None for unrated."""
    i = stage_position(matrix, stage_id)
    return None if i is None else matrix.stage_scores[i]


def _number(x: float) -> str:
    return f"{x:g}" if abs(x) < 1e6 else f"{x:,.0f}"


class StageScale(list):
    """A matrix's stage labels in scale order (a list, so it can stand where labels do), with
    each stage's score: what the charts put on their axes and the tables name a score by."""

    def __init__(self, labels: Sequence[str], scores: Sequence[float] | None = None):
        super().__init__(str(x) for x in labels)
        self.scores = [float(x) for x in scores] if scores is not None else [float(i) for i in range(len(labels))]
        if len(self.scores) != len(self):
            raise ValueError(f"{len(self)} stage labels but {len(self.scores)} scores")

    @property
    def low(self) -> float:
        return self.scores[0] if self.scores else 0.0

    @property
    def high(self) -> float:
        return self.scores[-1] if self.scores else 0.0

    @property
    def positional(self) -> bool:
        """Scores are the positions 0, 1, 2, ...: one point is one stage."""
        return self.scores == [float(i) for i in range(len(self))]

    @property
    def steps_of_one(self) -> bool:
        """Each stage scores one more than the one before (0, 1, 2 or 1, 2, 3): a point is a stage."""
        return all(abs(b - a - 1) < 1e-9 for a, b in zip(self.scores, self.scores[1:]))

    def words(self) -> str:
        """'on a scale of 0 to 3'."""
        return f"on a scale of {_number(self.low)} to {_number(self.high)}"

    def locate(self, score: float) -> tuple[int, int]:
        """The stages a score sits between, as positions (low, high); the same one twice when it
        is (within rounding) a stage's own score. Scores outside the scale go to its ends."""
        eps = 1e-9 + 1e-9 * max(1.0, abs(self.high - self.low))
        if score <= self.low + eps:
            return 0, 0
        for i, s in enumerate(self.scores):
            if abs(score - s) <= eps:
                return i, i
            if s > score:
                return i - 1, i
        top = len(self.scores) - 1
        return top, top


def stage_scale(stages: Matrix | Sequence[str]) -> StageScale:
    """The scale of a matrix (labels and scores), or of plain labels (scores 0, 1, 2, ...).
    Chart axes: tickvals=scale.scores, ticktext=the labels, range from scale.low to scale.high."""
    if isinstance(stages, StageScale):
        return stages
    if isinstance(stages, Matrix):
        return StageScale([s.label for s in stages.stages], stages.stage_scores)
    return StageScale(list(stages))


def not_applicable_ids(ratings: Mapping[str, Any] | Iterable[Any]) -> frozenset[str]:
    rows = ratings.values() if isinstance(ratings, Mapping) else ratings
    return frozenset(r.element_id for r in rows if getattr(r, "not_applicable", False))


def _element_values(snapshot: Snapshot, which: Which, values: Sequence[float]) -> dict[str, Any]:
    m = snapshot.matrix
    ids = m.element_ids()
    unknown = set(snapshot.ratings) - set(ids)
    if unknown:
        raise ValueError(f"{snapshot.year}: ratings for elements not in {m.label}: {', '.join(sorted(unknown))}")
    index = {s: v for s, v in zip(m.stage_ids, values)}
    attr = "current_stage" if which == "current" else "target_stage"
    out: dict[str, Any] = {}
    for eid in ids:
        r = snapshot.ratings.get(eid)
        stage = getattr(r, attr) if r is not None and not getattr(r, "not_applicable", False) else None
        if stage is None or stage == "":
            out[eid] = None
        elif stage in index:
            out[eid] = index[stage]
        else:
            raise ValueError(f"{snapshot.year}: element '{eid}' is rated '{stage}', which is not a stage of {m.label}")
    return out


def element_scores(snapshot: Snapshot, which: Which = "current") -> dict[str, float | None]:
    """Every element of the snapshot's matrix, in matrix order, with its stage's score or None
    (unrated, or rated "not applicable")."""
    return _element_values(snapshot, which, snapshot.matrix.stage_scores)


def element_positions(snapshot: Snapshot, which: Which = "current") -> dict[str, int | None]:
    """Like element_scores, with each stage's position (0, 1, 2, ...): for counting stages."""
    return _element_values(snapshot, which, range(len(snapshot.matrix.stages)))


# ---------------------------------------------------------------------------------------------
# Domain scores, profile, gaps


@dataclass(frozen=True)
class DomainScore:
    domain_id: str
    domain_title: str
    score: float | None  # mean over rated elements; None when none is rated
    n_rated: int
    n_elements: int  # elements that apply (rated "not applicable" ones are not counted)
    n_not_applicable: int = 0


@dataclass(frozen=True)
class Profile:
    """All domains in matrix order, for the current stage and for the target."""

    year: str
    matrix: Matrix
    current: tuple[DomainScore, ...]
    target: tuple[DomainScore, ...]
    overall: float | None  # mean of the domain scores
    overall_target: float | None

    @property
    def n_rated(self) -> int:
        return sum(d.n_rated for d in self.current)

    @property
    def n_elements(self) -> int:
        return sum(d.n_elements for d in self.current)


def _mean(values: Iterable[float | None]) -> tuple[float | None, int]:
    rated = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return (mean(rated) if rated else None), len(rated)


def domain_means(matrix: Matrix, scores: Mapping[str, float | None],
                 not_applicable: Iterable[str] = ()) -> list[DomainScore]:
    """Domain means of any per-element values (scores, targets, translated scores); elements in
    `not_applicable` are left out of the mean and of n_elements."""
    skip = set(not_applicable)
    out = []
    for d in matrix.domains:
        applies = [e for e in d.elements if e.id not in skip]
        value, n = _mean(scores.get(e.id) for e in applies)
        out.append(DomainScore(d.id, d.title, value, n, len(applies), len(d.elements) - len(applies)))
    return out


def domain_scores(snapshot: Snapshot, which: Which = "current") -> list[DomainScore]:
    return domain_means(snapshot.matrix, element_scores(snapshot, which), snapshot.not_applicable)


def domain_score(snapshot: Snapshot, domain_id: str, which: Which = "current") -> DomainScore:
    for d in domain_scores(snapshot, which):
        if d.domain_id == domain_id:
            return d
    raise KeyError(domain_id)


def overall_score(domains: Sequence[DomainScore]) -> float | None:
    return _mean(d.score for d in domains)[0]


def profile(snapshot: Snapshot) -> Profile:
    current = tuple(domain_scores(snapshot, "current"))
    target = tuple(domain_scores(snapshot, "target"))
    return Profile(snapshot.year, snapshot.matrix, current, target, overall_score(current), overall_score(target))


def profile_frame(p: Profile) -> pd.DataFrame:
    """A profile in the same shape as `progress_series` (one year), for the charts."""
    rows = [
        dict(year=p.year, domain_id=c.domain_id, domain_title=c.domain_title, score=c.score, target=t.score,
             n_rated=c.n_rated, n_elements=c.n_elements, comparable=True, reason="")
        for c, t in zip(p.current, p.target)
    ]
    return _typed_series(pd.DataFrame(rows, columns=SERIES_COLUMNS))


def element_gaps(snapshot: Snapshot) -> dict[str, float]:
    """target - current (in stage scores) for every element where both are set, in matrix order."""
    cur, tgt = element_scores(snapshot, "current"), element_scores(snapshot, "target")
    return {e: tgt[e] - cur[e] for e in cur if cur[e] is not None and tgt[e] is not None}


@dataclass(frozen=True)
class DomainGap:
    domain_id: str
    domain_title: str
    gap: float | None  # mean of target - current over elements where both are set
    n_both: int
    n_elements: int


def domain_gaps(snapshot: Snapshot) -> list[DomainGap]:
    gaps = element_gaps(snapshot)
    return [DomainGap(d.domain_id, d.domain_title, d.score, d.n_rated, d.n_elements)
            for d in domain_means(snapshot.matrix, gaps, snapshot.not_applicable)]


# ---------------------------------------------------------------------------------------------
# Translating an older matrix's element ids into a newer matrix's


@dataclass(frozen=True)
class Translation:
    """How the elements of `source` (older) correspond to those of `target` (newer)."""

    source: Matrix
    target: Matrix
    comparable: bool
    reason: str | None
    sources: Mapping[str, tuple[str, ...]]  # new element id -> the old element ids it continues (may be empty)
    retired: tuple[str, ...]  # old element ids with no counterpart in the newer matrix

    def apply(self, scores: Mapping[str, float | None]) -> dict[str, float | None]:
        """Old per-element scores -> new element ids: the mean of the rated old elements when
        merged, the old element's score for each part of a split."""
        if not self.comparable:
            return {e: None for e in self.target.element_ids()}
        return {new: _mean(scores.get(o) for o in olds)[0] for new, olds in self.sources.items()}

    def not_applicable(self, old: Iterable[str]) -> frozenset[str]:
        """The new elements not applicable in the older year: every old element they continue was."""
        na = set(old)
        return frozenset(new for new, olds in self.sources.items() if olds and all(o in na for o in olds))


def _lookup(matrices: Matrices | None, *known: Matrix) -> dict[tuple[str, str], Matrix]:
    found = {m.key: m for m in known}
    found.update(matrices or {})
    return found


def supersedes_path(old_key: tuple[str, str], new: Matrix, matrices: Matrices | None = None
                    ) -> tuple[list[Matrix] | None, str | None]:
    """The matrices from the one after `old_key` up to `new`, each superseding the one before,
    following `supersedes` back from `new`; (None, reason) when there is no such path."""
    lookup = _lookup(matrices, new)
    steps: list[Matrix] = []
    m, seen = new, {new.key}
    while m.key != old_key:
        sup = m.supersedes
        if sup is None:
            return None, "no supersedes path between them"
        steps.append(m)
        prev_key = (sup.matrix, sup.version)
        if prev_key == old_key:
            break
        prev = lookup.get(prev_key)
        if prev is None or prev.key in seen:
            missing = "is not loaded" if prev is None else "forms a loop"
            return None, f"{m.label} supersedes {sup.matrix} {sup.version}, which {missing}"
        seen.add(prev.key)
        m = prev
    steps.reverse()
    return steps, None


def carry_over(old_ids: Iterable[str], steps: Sequence[Matrix]) -> dict[str, tuple[str, ...]]:
    """Old element id -> the element ids of the last matrix in `steps` that continue it, through
    each step's `supersedes` (a mapped id follows its mapping, a list is a split; an id the step
    keeps carries on as itself; anything else is retired: an empty tuple)."""
    out = {}
    for eid in old_ids:
        current = (eid,)
        for newer in steps:
            ids = set(newer.element_ids())
            nxt: list[str] = []
            for c in current:
                targets = newer.supersedes.targets(c) if newer.supersedes else ()
                for t in targets or ((c,) if c in ids else ()):
                    if t not in nxt:
                        nxt.append(t)
            current = tuple(nxt)
        out[eid] = current
    return out


def _scale_note(old: Matrix, new: Matrix) -> str | None:
    if len(old.stages) != len(new.stages):
        return (f"{old.label} has {len(old.stages)} stages and {new.label} has {len(new.stages)}: "
                "scores on different scales cannot be compared")
    if old.stage_scores != new.stage_scores:
        shown = lambda m: "/".join(_number(x) for x in m.stage_scores)  # noqa: E731
        return (f"{old.label} scores its stages {shown(old)} and {new.label} {shown(new)}: "
                "scores on different scales cannot be compared")
    return None


def translation(old: Matrix, new: Matrix, matrices: Matrices | None = None) -> Translation:
    """The element correspondence from `old` to `new`, following `supersedes` back from `new`."""
    ids_new = new.element_ids()
    nothing = {e: () for e in ids_new}
    reason = _scale_note(old, new)
    if reason:
        return Translation(old, new, False, reason, nothing, tuple(old.element_ids()))
    steps, why = supersedes_path(old.key, new, _lookup(matrices, old))
    if steps is None:
        if why == "no supersedes path between them":
            why = f"{new.label} does not continue {old.label} (no supersedes path between them)"
        return Translation(old, new, False, why, nothing, tuple(old.element_ids()))
    sources: dict[str, list[str]] = {e: [] for e in ids_new}
    retired = []
    for eid, news in carry_over(old.element_ids(), steps).items():
        if not news:
            retired.append(eid)
        for n in news:
            sources[n].append(eid)
    return Translation(old, new, True, None, {k: tuple(v) for k, v in sources.items()}, tuple(retired))


# ---------------------------------------------------------------------------------------------
# Year-on-year change


@dataclass(frozen=True)
class ElementChange:
    element_id: str  # id in the newer matrix; the older id for an element that was retired
    element_title: str
    domain_id: str  # newer matrix's domain; the older matrix's for a retired element
    before: float | None  # translated into the newer matrix (a mean when merged); as rated for a retired one
    after: float | None
    change: float | None  # after - before, only where both are set and comparable
    from_ids: tuple[str, ...]  # the older element ids this one continues
    comparable: bool
    reason: str | None
    before_not_applicable: bool = False  # every element it continues was rated "not applicable"
    after_not_applicable: bool = False


@dataclass(frozen=True)
class DomainChange:
    domain_id: str
    domain_title: str
    before: float | None  # domain score of the translated older snapshot
    after: float | None
    change: float | None  # mean of element changes (like for like)
    n_compared: int  # elements rated in both years
    n_elements: int  # elements that apply in the newer year
    comparable: bool
    reason: str | None


@dataclass(frozen=True)
class Comparison:
    before_year: str
    after_year: str
    comparable: bool
    reason: str | None
    elements: tuple[ElementChange, ...]
    domains: tuple[DomainChange, ...]


def compare(before: Snapshot, after: Snapshot, matrices: Matrices | None = None, which: Which = "current") -> Comparison:
    """Change from `before` to `after`, in `after`'s matrix terms."""
    t = translation(before.matrix, after.matrix, matrices)
    new = after.matrix
    prior = t.apply(element_scores(before, which))
    now = element_scores(after, which)
    na_before, na_after = t.not_applicable(before.not_applicable), after.not_applicable
    elements: list[ElementChange] = []
    for d, e in new.elements():
        olds = t.sources.get(e.id, ())
        if not t.comparable:
            ok, why = False, t.reason
        elif not olds:
            ok, why = False, f"new in {new.label}: no counterpart in {before.year}"
        else:
            ok, why = True, None
        b = prior.get(e.id) if ok else None
        a = now[e.id]
        change = a - b if ok and a is not None and b is not None else None
        elements.append(ElementChange(e.id, e.title, d.id, b, a, change, olds, ok, why,
                                      ok and e.id in na_before, e.id in na_after))
    old_m, old_scores = before.matrix, element_scores(before, which)
    # When nothing is comparable the new elements already carry the reason; listing every old
    # element as retired as well would only repeat it.
    for eid in t.retired if t.comparable else ():
        why = f"no counterpart in {new.label} ({after.year})"
        elements.append(ElementChange(eid, old_m.element(eid).title, old_m.domain_of(eid).id,
                                      old_scores[eid], None, None, (eid,), False, why,
                                      eid in before.not_applicable))
    before_domains = domain_means(new, prior, na_before)
    after_domains = domain_means(new, now, na_after)
    changes = {c.element_id: c.change for c in elements if c.comparable}
    domains = []
    for d, b, a in zip(new.domains, before_domains, after_domains):
        change, n = _mean(changes.get(e.id) for e in d.elements)
        n_new = sum(1 for e in d.elements if not t.sources.get(e.id))
        if not t.comparable:
            ok, why = False, t.reason
        elif n_new == len(d.elements):
            ok, why = False, f"every element is new in {new.label}"
        else:
            ok, why = True, _partial_note(n_new, len(d.elements), before.year)
        domains.append(DomainChange(d.id, d.title, b.score if ok else None, a.score, change if ok else None,
                                    n if ok else 0, a.n_elements, ok, why))
    return Comparison(before.year, after.year, t.comparable, t.reason, tuple(elements), tuple(domains))


def _partial_note(n_new: int, n: int, year: str) -> str | None:
    if n_new == 0:
        return None
    return f"{n - n_new} of {n} elements have a counterpart in {year}"


# ---------------------------------------------------------------------------------------------
# Progress across years (one PCN)

SERIES_COLUMNS = ["year", "domain_id", "domain_title", "score", "target", "n_rated", "n_elements",
                  "comparable", "reason"]


def _typed_series(df: pd.DataFrame) -> pd.DataFrame:
    return df.astype({"score": "float64", "target": "float64", "n_rated": "int64", "n_elements": "int64",
                      "comparable": "bool"})


def progress_series(snapshots: Iterable[Snapshot], matrices: Matrices | None = None) -> pd.DataFrame:
    """One row per year per domain, in the NEWEST snapshot's matrix terms.

    Columns: year, domain_id, domain_title, score, target, n_rated, n_elements, comparable,
    reason, status, matrix_version. Years that cannot be compared (different scale, no
    supersedes path) keep their rows with comparable=False, NaN scores and the reason; a year
    translated with some elements missing gets a note in `reason` while staying comparable."""
    snaps = sorted(snapshots, key=lambda s: s.year)
    years = [s.year for s in snaps]
    if len(set(years)) != len(years):
        raise ValueError(f"more than one snapshot for a year: {', '.join(y for y, c in Counter(years).items() if c > 1)}")
    cols = SERIES_COLUMNS + ["status", "matrix_version"]
    if not snaps:
        return _typed_series(pd.DataFrame(columns=cols))
    newest = snaps[-1].matrix
    lookup = _lookup(matrices, *(s.matrix for s in snaps))
    rows = []
    for s in snaps:
        t = translation(s.matrix, newest, lookup)
        cur = t.apply(element_scores(s, "current"))
        tgt = t.apply(element_scores(s, "target"))
        na = t.not_applicable(s.not_applicable)
        for d, c, g in zip(newest.domains, domain_means(newest, cur, na), domain_means(newest, tgt, na)):
            n_new = sum(1 for e in d.elements if not t.sources.get(e.id))
            if not t.comparable:
                ok, why = False, t.reason
            elif n_new == len(d.elements):
                ok, why = False, f"every element is new in {newest.label}"
            else:
                ok, why = True, _partial_note(n_new, len(d.elements), s.year) or ""
            rows.append(dict(year=s.year, domain_id=d.id, domain_title=d.title,
                             score=c.score if ok else None, target=g.score if ok else None,
                             n_rated=c.n_rated if ok else 0, n_elements=c.n_elements if ok else len(d.elements),
                             comparable=ok, reason=why, status=s.status, matrix_version=s.matrix.version))
    return _typed_series(pd.DataFrame(rows, columns=cols))


# ---------------------------------------------------------------------------------------------
# Portfolio: many PCNs, one year

META_COLUMNS = ["code", "name", "ics", "list_size", "rural"]
PORTFOLIO_COLUMNS = META_COLUMNS + ["status", "domain_id", "domain_title", "score", "target", "n_rated",
                                    "n_elements", "comparable", "reason"]
NOT_STARTED = "not started"


def _records(items: Any) -> pd.DataFrame:
    """PCN metadata as a DataFrame, from a DataFrame, mappings, dataclasses or plain objects."""
    if items is None:
        return pd.DataFrame(columns=META_COLUMNS)
    if isinstance(items, pd.DataFrame):
        return items.copy()
    rows = []
    for it in items:
        if isinstance(it, Mapping):
            rows.append(dict(it))
        elif dataclasses.is_dataclass(it):
            rows.append(dataclasses.asdict(it))
        else:
            rows.append(dict(vars(it)))
    return pd.DataFrame(rows)


def _reference_matrix(snapshots: Mapping[str, Snapshot]) -> Matrix | None:
    """The matrix most snapshots use; ties go to the later version."""
    counts: Counter = Counter(s.matrix.key for s in snapshots.values())
    if not counts:
        return None
    key = max(counts, key=lambda k: (counts[k], k[1]))
    return next(s.matrix for s in snapshots.values() if s.matrix.key == key)


def _element_frame(snapshots: Mapping[str, Snapshot], matrix: Matrix, matrices: Matrices | None
                   ) -> tuple[pd.DataFrame, dict[str, tuple[bool, str]]]:
    """Long frame code, element_id, current, target (scores), na (rated "not applicable") in
    `matrix` terms, plus per-PCN comparability."""
    lookup = _lookup(matrices, matrix, *(s.matrix for s in snapshots.values()))
    eids = matrix.element_ids()
    translations: dict[tuple[str, str], Translation] = {}
    codes: list[str] = []
    cur: list[float] = []
    tgt: list[float] = []
    nas: list[bool] = []
    notes: dict[str, tuple[bool, str]] = {}
    nan = float("nan")
    for code, s in snapshots.items():
        if s.matrix.key == matrix.key:
            c, g = element_scores(s, "current"), element_scores(s, "target")
            na = s.not_applicable
            notes[code] = (True, "")
        else:
            t = translations.get(s.matrix.key)
            if t is None:
                t = translations[s.matrix.key] = translation(s.matrix, matrix, lookup)
            c, g = t.apply(element_scores(s, "current")), t.apply(element_scores(s, "target"))
            na = t.not_applicable(s.not_applicable)
            notes[code] = (t.comparable, t.reason or f"translated from {s.matrix.label}")
        codes.extend([code] * len(eids))
        cur.extend(nan if c[e] is None else c[e] for e in eids)
        tgt.extend(nan if g[e] is None else g[e] for e in eids)
        nas.extend(e in na for e in eids)
    frame = pd.DataFrame({"code": codes, "element_id": eids * len(snapshots), "current": cur, "target": tgt,
                          "na": nas})
    return frame, notes


def portfolio(snapshots: Mapping[str, Snapshot], pcns: Any = None, matrix: Matrix | None = None,
              matrices: Matrices | None = None) -> pd.DataFrame:
    """Many PCNs' assessments for one year: one row per PCN per domain (tidy).

    `snapshots` maps PCN code -> Snapshot. `pcns` is PCN metadata (DataFrame, mappings or
    objects) with at least `code`; name, ics, list_size and rural are carried through when
    present. PCNs in the metadata without a snapshot appear with status "not started" and no
    scores. A metadata column called `status` (the PCN's own status) is kept as `pcn_status`,
    because `status` here is the assessment's status.

    Columns: code, name, ics, list_size, rural, status, domain_id, domain_title, score,
    target, n_rated, n_elements, comparable, reason (+ any other metadata columns). Domains are
    in `matrix`'s terms (default: the matrix most snapshots use); snapshots on other versions
    are translated, or marked not comparable with the reason."""
    meta = _records(pcns)
    if "status" in meta.columns:
        meta = meta.rename(columns={"status": "pcn_status"})
    if "ics" not in meta.columns and "ics_code" in meta.columns:  # the records layer's PCN has ics_code
        meta["ics"] = meta["ics_code"]
    for col in META_COLUMNS:
        if col not in meta.columns:
            meta[col] = pd.Series(dtype="object")
    known = set(meta["code"])
    extra_codes = [c for c in snapshots if c not in known]
    if extra_codes:
        meta = pd.concat([meta, pd.DataFrame({"code": extra_codes})], ignore_index=True)
    matrix = matrix or _reference_matrix(snapshots)
    if matrix is None:
        return pd.DataFrame(columns=PORTFOLIO_COLUMNS)

    elements, notes = _element_frame(snapshots, matrix, matrices)
    dom_of = {e.id: d.id for d, e in matrix.elements()}
    elements["domain_id"] = elements["element_id"].map(dom_of)
    agg = elements.groupby(["code", "domain_id"], sort=False).agg(
        score=("current", "mean"), target=("target", "mean"), n_rated=("current", "count"),
        n_na=("na", "sum")).reset_index()

    domains = pd.DataFrame({
        "domain_id": [d.id for d in matrix.domains],
        "domain_title": [d.title for d in matrix.domains],
        "n_elements": [len(d.elements) for d in matrix.domains],
        "_order": range(len(matrix.domains)),
    })
    grid = meta[["code"]].assign(_pcn=range(len(meta))).merge(domains, how="cross")
    out = grid.merge(agg, on=["code", "domain_id"], how="left")
    out["n_rated"] = out["n_rated"].fillna(0).astype("int64")
    # Elements rated "not applicable" do not count among the domain's elements.
    out["n_elements"] = (out["n_elements"] - out.pop("n_na").fillna(0)).astype("int64")
    status = {c: s.status for c, s in snapshots.items()}
    out["status"] = out["code"].map(status).fillna(NOT_STARTED)
    out["comparable"] = out["code"].map({c: n[0] for c, n in notes.items()}).fillna(True).astype(bool)
    out["reason"] = out["code"].map({c: n[1] for c, n in notes.items()}).fillna("")
    out.loc[out["status"] == NOT_STARTED, "reason"] = "no assessment for this year"
    out.loc[~out["comparable"], ["score", "target"]] = np.nan
    out.loc[~out["comparable"], "n_rated"] = 0
    out = out.merge(meta, on="code", how="left").sort_values(["_pcn", "_order"], kind="stable")
    rest = [c for c in meta.columns if c not in PORTFOLIO_COLUMNS]
    return out[PORTFOLIO_COLUMNS + rest].reset_index(drop=True)


DISTRIBUTION_COLUMNS = ["domain_id", "domain_title", "stage_index", "stage_id", "stage_label", "count", "share"]
NOT_RATED_ID = "not-rated"
NOT_RATED_LABEL = "Not rated"


def stage_distribution(snapshots: Mapping[str, Snapshot], matrix: Matrix | None = None,
                       matrices: Matrices | None = None) -> pd.DataFrame:
    """How many elements sit at each stage, per domain, across PCNs.

    One row per domain per stage in scale order, then a "Not rated" row (stage_id "not-rated",
    stage_index <NA>). `share` is count / (PCNs x elements in the domain that apply), so a
    domain's rows sum to 1: elements rated "not applicable" are left out, as from the means, and
    counted per domain in `.attrs["not_applicable"]`. A merged element translated from an older version counts at the
    highest stage whose score its sources' mean reaches, so it always lands on a real stage. PCNs
    whose matrix cannot be compared are left out and listed in `.attrs["excluded"]`."""
    matrix = matrix or _reference_matrix(snapshots)
    if matrix is None:
        return pd.DataFrame(columns=DISTRIBUTION_COLUMNS)
    elements, notes = _element_frame(snapshots, matrix, matrices)
    excluded = sorted(c for c, (ok, _) in notes.items() if not ok)
    elements = elements[~elements["code"].isin(excluded)]
    dom_of = {e.id: d.id for d, e in matrix.elements()}
    n_stages = len(matrix.stages)
    current = elements["current"].to_numpy(dtype=float)
    scores = np.asarray(matrix.stage_scores, dtype=float)
    stage = np.clip(np.searchsorted(scores, current + 1e-9, side="right") - 1, 0, n_stages - 1)
    stage = np.where(np.isnan(current), n_stages, stage).astype(int)  # n_stages = the "not rated" bucket
    stage = np.where(elements["na"].to_numpy(dtype=bool), n_stages + 1, stage)  # "not applicable": left out
    counts = (pd.DataFrame({"domain_id": elements["element_id"].map(dom_of).to_numpy(), "bucket": stage})
              .value_counts().to_dict())
    rows = []
    n_pcns = len(snapshots) - len(excluded)
    not_applicable = {}
    for d in matrix.domains:
        not_applicable[d.id] = int(counts.get((d.id, n_stages + 1), 0))
        total = n_pcns * len(d.elements) - not_applicable[d.id]
        buckets = [(i, s.id, s.label) for i, s in enumerate(matrix.stages)] + [(pd.NA, NOT_RATED_ID, NOT_RATED_LABEL)]
        for b, (i, sid, label) in enumerate(buckets):
            n = int(counts.get((d.id, b), 0))
            rows.append(dict(domain_id=d.id, domain_title=d.title, stage_index=i, stage_id=sid, stage_label=label,
                             count=n, share=n / total if total else 0.0))
    df = pd.DataFrame(rows, columns=DISTRIBUTION_COLUMNS).astype({"stage_index": "Int64", "count": "int64",
                                                                  "share": "float64"})
    df.attrs["excluded"] = excluded
    df.attrs["not_applicable"] = not_applicable
    return df


# ---------------------------------------------------------------------------------------------
# Workshop consensus (several people rating the same elements)


# Tastle & Wierman's Cns on a 4-stage and a 6-stage scale, for the hand-worked cases:
#   [1,2,3] (three people on three neighbouring stages): 0.610 and 0.785 -> must differ
#   [2,2,2,3] (one person a stage off):                   0.802 and 0.886 -> must not
# so the threshold lies in (0.785, 0.802], and 0.8 is the round number there. It also means two
# people one stage apart differ on 4 stages (0.74) but not on 5 or more (0.81), and three with one
# a stage off differ on 4 (0.77) but not on 5 (0.83): on a short scale one stage is a big step.
AGREEMENT_THRESHOLD = 0.8


def agreement(scores: Iterable[int | None], n_stages: int) -> float | None:
    """Tastle and Wierman's consensus measure of ordinal ratings, 0 (an even split between the two
    ends of the scale) to 1 (everyone on one stage); None with fewer than 2 ratings.

    Cns = 1 + sum_i p_i log2(1 - |X_i - mu| / d), over the distinct stages X_i chosen, p_i the
    share choosing each, mu the mean and d the scale's width (n_stages - 1). Tastle, W. J. and
    Wierman, M. J. (2007) "Consensus and dissention: A measure of ordinal dispersion",
    International Journal of Approximate Reasoning 45(3): 531-545.

    `scores` are stage positions 0..n_stages-1 (None = not rated, ignored)."""
    if n_stages < 2:
        raise ValueError(f"agreement needs a scale of at least 2 stages, not {n_stages}")
    xs = [int(x) for x in scores if x is not None]
    if any(not 0 <= x < n_stages for x in xs):
        raise ValueError(f"stage positions must lie in 0..{n_stages - 1}: {xs}")
    n = len(xs)
    if n < 2:
        return None
    mu = sum(xs) / n
    d = n_stages - 1
    # |X - mu| < d always (mu = an end only when every rating is there), so the log is finite.
    # Summed in stage order, so the same ratings in any order give the very same float.
    cns = 1 + sum(k / n * math.log2(1 - abs(x - mu) / d) for x, k in sorted(Counter(xs).items()))
    return min(1.0, max(0.0, cns))  # clamp rounding noise only: the measure lies in [0, 1]


def agreement_words(a: float | None) -> str:
    """The measure in plain words with its number, e.g. '0.61: views differ'. The number is cut
    (not rounded) to two places, so 0.799 never shows as '0.80: views differ'."""
    if a is None:
        return "too few ratings to say"
    if a >= 1:
        return "1.00: full agreement"
    shown = math.floor(round(a, 9) * 100) / 100
    if a >= 0.9:
        words = "strong agreement"
    elif a >= AGREEMENT_THRESHOLD:
        words = "broad agreement"
    elif a >= 0.5:
        words = "views differ"
    else:
        words = "views far apart"
    return f"{shown:.2f}: {words}"


@dataclass(frozen=True)
class Consensus:
    n: int
    median: int | None  # lower median: always a stage someone chose
    low: int | None
    high: int | None
    iqr: float | None  # in stages, linear interpolation
    agreement: float | None  # Tastle and Wierman's measure; None with fewer than 2 ratings
    split: bool  # views differ: agreement below AGREEMENT_THRESHOLD


def consensus(scores: Iterable[int | None], n_stages: int) -> Consensus:
    """Agreement among several ratings of one element (stage positions on a scale of `n_stages`;
    None = not rated, ignored)."""
    xs = sorted(int(x) for x in scores if x is not None)
    n = len(xs)
    a = agreement(xs, n_stages)
    if n == 0:
        return Consensus(0, None, None, None, None, None, False)
    q1, q3 = np.percentile(xs, [25, 75])
    return Consensus(n, xs[(n - 1) // 2], xs[0], xs[-1], float(q3 - q1), a, a is not None and a < AGREEMENT_THRESHOLD)


WORKSHOP_COLUMNS = ["participant", "domain_id", "element_id", "element_title", "stage_id", "score"]


def _field(item: Any, *names: str) -> Any:
    for name in names:
        if isinstance(item, Mapping):
            if name in item:
                return item[name]
        elif hasattr(item, name):
            return getattr(item, name)
    return None


def workshop_frame(matrix: Matrix, ratings: Any) -> pd.DataFrame:
    """Workshop ratings as a tidy frame: participant, domain_id, element_id, element_title,
    stage_id, score (the stage's position: consensus is about stages, not their scores). Accepts a DataFrame or records (mappings/objects) with `participant`,
    `element_id` and `stage` (or `current_stage`). Unrated rows are dropped; rows are in
    matrix order, then participant order of first appearance."""
    if isinstance(ratings, pd.DataFrame):
        ratings = ratings.to_dict("records")
    titles = {e.id: (d.id, e.title) for d, e in matrix.elements()}
    order = {e: i for i, e in enumerate(matrix.element_ids())}
    rows = []
    for r in ratings:
        eid = _field(r, "element_id")
        if eid not in titles:
            raise ValueError(f"workshop rating for '{eid}', which is not an element of {matrix.label}")
        sid = _field(r, "stage", "stage_id", "current_stage")
        score = stage_position(matrix, sid if isinstance(sid, str) else None)
        if score is None:
            continue
        rows.append(dict(participant=str(_field(r, "participant")), domain_id=titles[eid][0], element_id=eid,
                         element_title=titles[eid][1], stage_id=sid, score=score, _o=order[eid]))
    df = pd.DataFrame(rows, columns=WORKSHOP_COLUMNS + ["_o"])
    df = df.sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)
    return df.astype({"score": "int64"})


SUMMARY_COLUMNS = ["domain_id", "element_id", "element_title", "n", "median", "median_stage", "low", "high",
                   "iqr", "agreement", "split"]


def workshop_summary(matrix: Matrix, ratings: Any) -> pd.DataFrame:
    """Consensus per element, every element in matrix order (n = 0 where nobody rated it).

    Columns: domain_id, element_id, element_title, n, median, median_stage (label), low, high,
    iqr, agreement, split. median/low/high are stage positions (nullable); agreement is NaN with
    fewer than 2 ratings."""
    frame = ratings if _is_workshop_frame(ratings) else workshop_frame(matrix, ratings)
    by = defaultdict(list)
    for eid, score in zip(frame["element_id"], frame["score"]):
        by[eid].append(int(score))
    labels = [s.label for s in matrix.stages]
    rows = []
    for d, e in matrix.elements():
        c = consensus(by.get(e.id, []), len(matrix.stages))
        rows.append(dict(domain_id=d.id, element_id=e.id, element_title=e.title, n=c.n, median=c.median,
                         median_stage=labels[c.median] if c.median is not None else None,
                         low=c.low, high=c.high, iqr=c.iqr, agreement=c.agreement, split=c.split))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS).astype(
        {"median": "Int64", "low": "Int64", "high": "Int64", "iqr": "float64", "agreement": "float64"})


def _is_workshop_frame(x: Any) -> bool:
    return isinstance(x, pd.DataFrame) and set(WORKSHOP_COLUMNS) <= set(x.columns)


def participant_profiles(matrix: Matrix, ratings: Any) -> pd.DataFrame:
    """Each participant's domain scores (means of stage scores): participant, domain_id,
    domain_title, score, n_rated, n_elements."""
    frame = ratings if _is_workshop_frame(ratings) else workshop_frame(matrix, ratings)
    values = matrix.stage_scores
    by_who: dict[str, dict[str, float]] = {}  # grouped in one pass: a mask per participant cost 60 scans
    for who, e, p in zip(frame["participant"], frame["element_id"], frame["score"]):
        by_who.setdefault(who, {})[e] = values[int(p)]
    rows = []
    for who, scores in by_who.items():
        for d in domain_means(matrix, scores):
            rows.append(dict(participant=who, domain_id=d.domain_id, domain_title=d.domain_title,
                             score=d.score, n_rated=d.n_rated, n_elements=d.n_elements))
    return pd.DataFrame(rows, columns=["participant", "domain_id", "domain_title", "score", "n_rated", "n_elements"]
                        ).astype({"score": "float64"})


def consensus_profile(matrix: Matrix, ratings: Any) -> list[DomainScore]:
    """Domain scores (stage scores) of the per-element medians: the group's central view."""
    summary = workshop_summary(matrix, ratings)
    values = matrix.stage_scores
    medians = {e: (None if pd.isna(m) else values[int(m)]) for e, m in zip(summary["element_id"], summary["median"])}
    return domain_means(matrix, medians)

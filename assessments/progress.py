"""What the Progress pages read: one PCN's assessments across years, and one ICS's PCNs in a year.

Both gather records from the store and hand them to `scoring`, which does the arithmetic
(including translation across matrix versions through `supersedes`). Results are plain
dataclasses and DataFrames, so pages can cache them.

One matrix at a time (assessments.matrix_choice): the caller names the matrix, or gets the ICS's
default when the PCN (or the ICS's PCNs) use it, else the latest used. Assessments against the
chosen matrix's family are shown; those against other matrices are listed (`elsewhere`, `others`),
never dropped without a word. Assessments against a matrix that is no longer loaded are left out
and listed in `left_out`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import pandas as pd

from matrix import Matrix, version_key

from .scoring import Comparison, Snapshot, compare, portfolio, progress_series, stage_distribution
from .model import AGREED, NATIONAL_MATRIX_ID, AssessmentRecord, DRAFT, PCN
from .store import Store
from .values import check_year
from . import matrix_choice as choice
from . import ratings as assessing
from . import organisations as orgs


def _ics_default(store: Store, ics_code: str) -> str | None:
    """The ICS's default matrix id (the national one unless it chose another); None with no matrix loaded."""
    return orgs.default_matrix(store, ics_code).id if store.matrices() else None


def _one_per_pcn_and_year(store: Store, records: Iterable[AssessmentRecord], prefer: Sequence[str | None] = ()
                          ) -> tuple[dict[tuple[str, str], Snapshot], list[str]]:
    """One snapshot per PCN and year. The records are of one matrix family, so several in a year are
    ids of one family: the first of `prefer` wins, then the national matrix, then the first by id."""
    matrices = store.matrices()
    order = [x for x in (*prefer, NATIONAL_MATRIX_ID) if x]

    def rank(matrix_id: str) -> int:
        return order.index(matrix_id) if matrix_id in order else len(order)

    chosen: dict[tuple[str, str], tuple[AssessmentRecord, Matrix]] = {}
    left_out = []
    for r in records:
        a = r.assessment
        m = matrices.get((a.matrix_id, a.matrix_version))
        if m is None:
            left_out.append(f"{r.pcn.code} {a.year}: the assessment uses matrix {a.matrix_id} {a.matrix_version}, "
                            "which is not loaded")
            continue
        key = (r.pcn.code, a.year)
        if key not in chosen or rank(m.id) < rank(chosen[key][1].id):
            chosen[key] = (r, m)
    snaps = {k: Snapshot(r.assessment.year, m, r.ratings, r.assessment.status) for k, (r, m) in chosen.items()}
    return snaps, left_out


def matrix_options(store: Store, pcn_code: str, year: str | None = None) -> tuple[list[str], str | None]:
    """The matrices (one id per family) a PCN's assessments use, in one year or in any, the latest
    first, and the one to show first: the ICS default's family if among them, else the latest."""
    pcn = orgs.pcn(store, pcn_code)
    found = assessing.assessments(store, pcn_code=pcn.code, year=check_year(year) if year else None)
    family = choice.store_families(store)
    options = choice.in_use(found, family)
    return options, choice.preferred(options, _ics_default(store, pcn.ics_code), family)


@dataclass(frozen=True)
class PcnProgress:
    pcn: PCN
    years: tuple[str, ...]  # years with an assessment, oldest first
    statuses: dict[str, str]  # year -> draft / agreed
    matrix_key: tuple[str, str] | None  # the newest year's matrix: the series is in its terms
    series: pd.DataFrame  # scoring.progress_series
    comparisons: dict[str, Comparison] = field(default_factory=dict)  # year -> change since the year before
    left_out: tuple[str, ...] = ()
    matrix_id: str | None = None  # the matrix (family) shown
    matrix_ids: tuple[str, ...] = ()  # every matrix family the PCN has assessments on, the latest first
    elsewhere: dict[str, tuple[str, ...]] = field(default_factory=dict)  # year -> other matrices rated that year

    def comparison(self, year: str) -> Comparison | None:
        """The change from the year before `year` (the previous year with an assessment) to `year`."""
        return self.comparisons.get(year)

    def previous(self, year: str) -> str | None:
        i = self.years.index(year) if year in self.years else -1
        return self.years[i - 1] if i > 0 else None


def pcn_progress(store: Store, pcn_code: str, matrix_id: str | None = None) -> PcnProgress:
    """A PCN's assessments across years against one matrix (family): domain scores per year and each
    year's change on the last. Without `matrix_id`: the ICS's default if the PCN used it, else the latest."""
    everything = assessing.history(store, pcn_code)
    pcn = everything[0].pcn if everything else orgs.pcn(store, pcn_code)
    family = choice.store_families(store)
    options = choice.in_use([r.assessment for r in everything], family)
    ics_default = _ics_default(store, pcn.ics_code)
    chosen = matrix_id or choice.preferred(options, ics_default, family)
    records = [r for r in everything if choice.same_family(r.assessment.matrix_id, chosen, family)]
    elsewhere: dict[str, list[str]] = {}
    for x in options:
        if not choice.same_family(x, chosen, family):
            for r in everything:
                if r.assessment.matrix_id in family(x) and x not in elsewhere.setdefault(r.assessment.year, []):
                    elsewhere[r.assessment.year].append(x)
    found, left_out = _one_per_pcn_and_year(store, records, (chosen, ics_default))
    snaps = [found[k] for k in sorted(found, key=lambda k: k[1])]
    matrices = store.matrices()
    series = progress_series(snaps, matrices)
    comparisons = {after.year: compare(before, after, matrices) for before, after in zip(snaps, snaps[1:])}
    return PcnProgress(pcn, tuple(s.year for s in snaps), {s.year: s.status for s in snaps},
                       snaps[-1].matrix.key if snaps else None, series, comparisons, tuple(left_out), chosen,
                       tuple(options), {y: tuple(v) for y, v in sorted(elsewhere.items())})


@dataclass(frozen=True)
class Portfolio:
    ics_code: str
    year: str
    matrix_key: tuple[str, str] | None  # the matrix the domains are in (the one most PCNs used)
    frame: pd.DataFrame  # scoring.portfolio: one row per PCN per domain, PCNs by code
    distribution: pd.DataFrame  # scoring.stage_distribution over the PCNs with an assessment
    n_pcns: int
    n_agreed: int
    n_draft: int
    left_out: tuple[str, ...] = ()
    matrix_id: str | None = None  # the matrix (family) shown
    matrix_ids: tuple[str, ...] = ()  # the matrix families the ICS's PCNs use this year, most PCNs first
    others: dict[str, int] = field(default_factory=dict)  # another matrix -> PCNs with an assessment against it
    n_elsewhere: int = 0  # PCNs assessed this year against other matrices only

    @property
    def n_not_started(self) -> int:
        return self.n_pcns - self.n_agreed - self.n_draft - self.n_elsewhere


def ics_portfolio(store: Store, ics_code: str, year: str, matrix_id: str | None = None) -> Portfolio:
    """Every PCN of the ICS for the year against one matrix (family), with or without an assessment
    (those without any are "not started"; those against other matrices only are counted in `others`).
    Without `matrix_id`: the ICS's default if some PCN used it this year, else the one most PCNs used."""
    year = check_year(year)
    pcns = orgs.pcns(store, ics_code=ics_code)
    everything = assessing.portfolio(store, year, ics_code=ics_code)
    family = choice.store_families(store)
    pcns_on = Counter()
    for x in choice.in_use([r.assessment for r in everything], family):
        pcns_on[x] = len({r.pcn.code for r in everything if r.assessment.matrix_id in family(x)})
    options = sorted(pcns_on, key=lambda x: -pcns_on[x])  # stable: ties stay latest first
    ics_default = _ics_default(store, ics_code)
    chosen = matrix_id or choice.preferred(options, ics_default, family) or ics_default
    records = [r for r in everything if choice.same_family(r.assessment.matrix_id, chosen, family)]
    found, left_out = _one_per_pcn_and_year(store, records, (chosen, ics_default))
    snaps = {code: s for (code, _), s in found.items()}
    others = {x: n for x, n in pcns_on.items() if not choice.same_family(x, chosen, family)}
    n_elsewhere = len({r.pcn.code for r in everything} - {r.pcn.code for r in records})
    matrices = store.matrices()
    meta = pd.DataFrame([dict(code=p.code, name=p.name, ics=p.ics_code, list_size=p.list_size, rural=p.rural)
                         for p in pcns], columns=["code", "name", "ics", "list_size", "rural"])
    # The domains are those of the version most PCNs used (ties: the later version); others are
    # translated by scoring, or shown as not comparable with the reason.
    counts = Counter(s.matrix.key for s in snaps.values())
    if counts:
        key = max(counts, key=lambda k: (counts[k], version_key(k[1])))
        matrix = next(s.matrix for s in snaps.values() if s.matrix.key == key)
    else:
        matrix = choice.newest(store, chosen) if chosen else None
    frame = portfolio(snaps, meta, matrix=matrix, matrices=matrices)
    dist = stage_distribution(snaps, matrix, matrices)
    statuses = [s.status for s in snaps.values()]
    return Portfolio(ics_code, year, matrix.key if matrix else None, frame, dist, len(pcns), statuses.count(AGREED),
                     statuses.count(DRAFT), tuple(left_out), chosen, tuple(options), others, n_elsewhere)

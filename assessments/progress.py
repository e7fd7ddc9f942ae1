"""What the Progress pages read: one PCN's assessments across years, and one ICS's PCNs in a year.

Both gather records from the store and hand them to `scoring`, which does the arithmetic
(including translation across matrix versions through `supersedes`). Results are plain
dataclasses and DataFrames, so pages can cache them.

One assessment per PCN and year: when a PCN has live assessments against more than one matrix
in a year, the one against the default (national) matrix is used, else the first by matrix id.
Assessments against a matrix that is no longer loaded are left out and listed in `left_out`.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

import pandas as pd

from matrix import Matrix

from .scoring import Comparison, Snapshot, compare, portfolio, progress_series, stage_distribution
from .model import AGREED, AssessmentRecord, DRAFT, PCN
from .store import Store
from .values import check_year
from . import ratings as assessing
from . import organisations as orgs


def _one_per_pcn_and_year(store: Store, records: Iterable[AssessmentRecord]) -> tuple[dict[tuple[str, str], Snapshot], list[str]]:
    matrices = store.matrices()
    default_id = store.default_matrix().id if matrices else None
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
        if key not in chosen or (m.id == default_id and chosen[key][1].id != default_id):
            chosen[key] = (r, m)
    snaps = {k: Snapshot(r.assessment.year, m, r.ratings, r.assessment.status) for k, (r, m) in chosen.items()}
    return snaps, left_out


@dataclass(frozen=True)
class PcnProgress:
    pcn: PCN
    years: tuple[str, ...]  # years with an assessment, oldest first
    statuses: dict[str, str]  # year -> draft / agreed
    matrix_key: tuple[str, str] | None  # the newest year's matrix: the series is in its terms
    series: pd.DataFrame  # scoring.progress_series
    comparisons: dict[str, Comparison] = field(default_factory=dict)  # year -> change since the year before
    left_out: tuple[str, ...] = ()

    def comparison(self, year: str) -> Comparison | None:
        """The change from the year before `year` (the previous year with an assessment) to `year`."""
        return self.comparisons.get(year)

    def previous(self, year: str) -> str | None:
        i = self.years.index(year) if year in self.years else -1
        return self.years[i - 1] if i > 0 else None


def pcn_progress(store: Store, pcn_code: str) -> PcnProgress:
    """A PCN's assessments across years: domain scores per year and each year's change on the last."""
    records = assessing.history(store, pcn_code)
    pcn = records[0].pcn if records else orgs.pcn(store, pcn_code)
    found, left_out = _one_per_pcn_and_year(store, records)
    snaps = [found[k] for k in sorted(found, key=lambda k: k[1])]
    matrices = store.matrices()
    series = progress_series(snaps, matrices)
    comparisons = {after.year: compare(before, after, matrices) for before, after in zip(snaps, snaps[1:])}
    return PcnProgress(pcn, tuple(s.year for s in snaps), {s.year: s.status for s in snaps},
                       snaps[-1].matrix.key if snaps else None, series, comparisons, tuple(left_out))


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

    @property
    def n_not_started(self) -> int:
        return self.n_pcns - self.n_agreed - self.n_draft


def ics_portfolio(store: Store, ics_code: str, year: str) -> Portfolio:
    """Every PCN of the ICS for the year, with or without an assessment (those without are "not started")."""
    year = check_year(year)
    pcns = orgs.pcns(store, ics_code=ics_code)
    found, left_out = _one_per_pcn_and_year(store, assessing.portfolio(store, year, ics_code=ics_code))
    snaps = {code: s for (code, _), s in found.items()}
    matrices = store.matrices()
    meta = pd.DataFrame([dict(code=p.code, name=p.name, ics=p.ics_code, list_size=p.list_size, rural=p.rural)
                         for p in pcns], columns=["code", "name", "ics", "list_size", "rural"])
    # The domains are those of the matrix most PCNs used (ties: the later version); others are
    # translated by scoring, or shown as not comparable with the reason.
    counts = Counter(s.matrix.key for s in snaps.values())
    if counts:
        key = max(counts, key=lambda k: (counts[k], k[1]))
        matrix = next(s.matrix for s in snaps.values() if s.matrix.key == key)
    else:
        matrix = store.default_matrix() if matrices else None
    frame = portfolio(snaps, meta, matrix=matrix, matrices=matrices)
    dist = stage_distribution(snaps, matrix, matrices)
    statuses = [s.status for s in snaps.values()]
    return Portfolio(ics_code, year, matrix.key if matrix else None, frame, dist, len(pcns), statuses.count(AGREED),
                     statuses.count(DRAFT), tuple(left_out))

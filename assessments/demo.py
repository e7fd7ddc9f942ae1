"""Demonstration data: one fictional ICS with eight fictional PCNs, four years of assessments and
the pathway history of five of them (assessments/demo_pathway.py).

Every name is invented. The stories are the ones people ask about when they first see the
tool: steady progress, a stall, a dip after a merger, a fast improver, a network that was
already mature, a late starter, and one strong on leadership but weak on data. Years before the
latest are agreed; the latest year is a mix of agreed and draft. The same seed gives the same
data every time (timestamps included), and the data goes in through the store's own write
calls, so it carries the same checks and audit rows as anything typed in the app. Each year is
rated against the national matrix version of its time (the newest not later than the year, so
2019/20 for every demo year, not the 2026/27 wording), unless a matrix is given.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from matrix import Matrix, version_key

from .model import DRAFT, NATIONAL_MATRIX_ID

from .store import Store

from .values import InputError
from . import demo_evidence
from . import ratings as assessing
from . import organisations as orgs

DEMO_ICS = ("QZZ", "Wendmoor and Ashby Integrated Care System", "Fictional region (demonstration data)")
YEARS = ("2021/22", "2022/23", "2023/24", "2024/25")
SEED = 20240401


@dataclass(frozen=True)
class Story:
    code: str
    name: str
    list_size: int
    rural: bool
    practices: tuple[str, ...]
    manager: str
    levels: tuple[float, ...]  # network-wide level per year on a 0-3 scale (0 = first stage)
    latest_status: str  # status of the latest year's assessment
    domain_offsets: tuple[float, ...] = ()  # added to the level per domain, in matrix order
    notes: tuple[str | None, ...] = (None, None, None, None)  # one per year, on the first element
    rated_share: float = 1.0  # share of elements rated in the latest year (a draft in progress)


def _practices(seed: int, n: int, town: str) -> tuple[str, ...]:
    streets = ["Church Lane", "Station Road", "Mill Street", "High Street", "Orchard Way", "Riverside", "The Green",
               "Market Square", "Beacon Hill", "Victoria Road", "Elm Grove", "Castle View", "Park Road", "Bridge End",
               "Northgate", "Kingsway"]
    kinds = ["Surgery", "Medical Centre", "Health Centre", "Medical Practice", "Family Practice"]
    rng = random.Random(seed)
    picked = rng.sample(streets, n)
    return tuple(f"{town} {s} {rng.choice(kinds)}" if i % 3 == 0 else f"{s} {rng.choice(kinds)}"
                 for i, s in enumerate(picked))


STORIES = (
    Story("U99001", "Millbrook Valley PCN", 34_600, False, _practices(1, 5, "Millbrook"), "Priya Shah",
          (0.5, 1.1, 1.6, 2.1), "agreed",
          notes=(None, None, None, "Steady progress each year; the board now reviews the plan every quarter.")),
    Story("U99002", "Ashby Town PCN", 69_800, False, _practices(2, 11, "Ashby"), "Tom Whitlock",
          (0.6, 0.9, 1.2, 1.4), "draft",
          notes=(None, "Eleven practices: agreeing anything takes two board cycles.", None, None)),
    Story("U99003", "Wendmoor Moors PCN", 18_300, True, ("Wendmoor Moors Medical Practice",), "Alison Reeve",
          (0.8, 1.3, 1.3, 1.35), "agreed",
          notes=(None, None, "Clinical director post vacant for most of the year; little time for development work.",
                 "Still one practice on its own; partners are talking to neighbouring PCNs about working together.")),
    Story("U99004", "Kestrel Bridge PCN", 47_200, False, _practices(4, 8, "Kestrel Bridge"), "Daniel Osei",
          (1.2, 1.8, 1.0, 1.5), "draft",
          notes=(None, None, "Merged with Lowfield PCN in October 2023: governance, data sharing and rotas are "
                             "being rebuilt across the enlarged network.", "Recovering after the merger.")),
    Story("U99005", "Saltmarsh Coast PCN", 29_900, True, _practices(5, 4, "Saltmarsh"), "Megan Hughes",
          (0.2, 0.9, 1.9, 2.6), "agreed",
          notes=(None, "New clinical director and a full-time PCN manager from April 2022.", None, None)),
    Story("U99006", "Oakhurst and Linden PCN", 52_400, False, _practices(6, 7, "Oakhurst"), "Rachel Amos",
          (2.0, 2.4, 2.6, 2.7), "agreed"),
    Story("U99007", "Fennick Cross PCN", 23_700, True, _practices(7, 3, "Fennick"), "Gareth Lloyd",
          (0.0, 0.2, 0.8, 1.5), "draft", rated_share=0.6,
          notes=("First assessment: the network was formed on paper only.", None, None,
                 "Part-way through this year's self-assessment.")),
    Story("U99008", "Greyfield Riverside PCN", 38_400, False, _practices(8, 6, "Greyfield"), "Hannah Brook",
          (1.0, 1.3, 1.5, 1.8), "draft", domain_offsets=(0.9, -0.9, 0.2, 0.0, -0.3),
          notes=(None, None, None, "Strong leadership; the data and population health work has hardly started.")),
)

EVIDENCE = (
    "Early discussions only; nothing written down yet.",
    "Agreed in principle at the network board; first steps taken in some practices.",
    "Working in most practices; the PCN manager keeps minutes and a progress log.",
    "Routine across the network and reviewed with partners each quarter.",
)


@dataclass(frozen=True)
class DemoSummary:
    ics_code: str
    ics_name: str
    pcn_codes: tuple[str, ...]
    years: tuple[str, ...]
    assessments: int
    ratings: int
    pathway_records: int = 0

    def lines(self) -> list[str]:
        return [f"ICS {self.ics_code}: {self.ics_name}", f"PCNs: {', '.join(self.pcn_codes)}",
                f"Years: {', '.join(self.years)}", f"{self.assessments} assessments, {self.ratings} ratings",
                f"{self.pathway_records} pathway step records"]


class DemoExistsError(InputError):
    """The demonstration data (or something using its codes) is already in the database."""


def _stage_for(level: float, n_stages: int) -> int:
    scaled = level * (n_stages - 1) / 3
    return max(0, min(n_stages - 1, round(scaled)))


def plan_ratings(story: Story, matrix: Matrix, year_index: int) -> dict[str, dict]:
    """The ratings one PCN gives itself in one year (deterministic)."""
    n = len(matrix.stages)
    out: dict[str, dict] = {}
    for di, domain in enumerate(matrix.domains):
        offset = story.domain_offsets[di] if di < len(story.domain_offsets) else 0.0
        for element in domain.elements:
            # A lasting per-element lean plus a small wobble per year, so elements do not jump about.
            lean = random.Random(f"{SEED}/{story.code}/{element.id}").gauss(0, 0.45)
            wobble = random.Random(f"{SEED}/{story.code}/{element.id}/{year_index}").gauss(0, 0.2)
            level = story.levels[year_index] + offset + lean + wobble
            current = _stage_for(level, n)
            ahead = 2 if (story.levels[-1] - story.levels[0] > 1.5 and level < 1.5) else 1
            target = min(n - 1, current + ahead)
            rng = random.Random(f"{SEED}/{story.code}/{element.id}/{year_index}/extra")
            confidence = rng.choices(("low", "medium", "high"), weights=(1, 3, 3 + year_index))[0]
            evidence = EVIDENCE[min(3, round(level * 3 / 3))] if rng.random() < 0.35 + 0.1 * year_index else None
            out[element.id] = {"current_stage": matrix.stages[current].id, "target_stage": matrix.stages[target].id,
                               "confidence": confidence, "evidence": evidence, "note": None}
    first = matrix.element_ids()[0]
    if story.notes[year_index]:
        out[first]["note"] = story.notes[year_index]
    return out


def matrix_of_year(store: Store, year: str) -> Matrix:
    """The national matrix version in use in a year: the newest loaded one not later than the year
    (versions and years compare by their numbers, matrix.version_key), else the oldest loaded."""
    national = sorted((m for m in store.matrices().values() if m.id == NATIONAL_MATRIX_ID),
                      key=lambda m: version_key(m.version))
    if not national:
        return store.default_matrix()
    then = [m for m in national if version_key(m.version) <= version_key(year)]
    return then[-1] if then else national[0]


def load_demo(store: Store, matrix: Matrix | None = None) -> DemoSummary:
    """Add the demonstration ICS, PCNs, assessments and pathway history. Refuses if they are there
    already. With `matrix`, every year is rated against it; else each against `matrix_of_year`."""
    given = store.use_matrix(matrix) if matrix is not None else None
    code, name, region = DEMO_ICS
    if any(i.code == code for i in orgs.list_ics(store)):
        raise DemoExistsError(f"the demonstration data is already loaded (ICS {code}, {name}); nothing was added")
    taken = {p.code for p in orgs.pcns(store)} & {s.code for s in STORIES}
    if taken:
        raise DemoExistsError(f"PCN code(s) {', '.join(sorted(taken))} are already in use; nothing was added")
    setup_at = datetime(2021, 6, 1, 9, 0, tzinfo=UTC)
    with store.batch(by="Demonstration data", source="demo", at=setup_at) as b:
        orgs.add_ics(b, code, name, region=region)
        for s in STORIES:
            orgs.add_pcn(b, s.code, s.name, ics_code=code, list_size=s.list_size, rural=s.rural, practices=s.practices)
    n_assessments = n_ratings = 0
    last = len(YEARS) - 1
    for pi, s in enumerate(STORIES):
        for yi, year in enumerate(YEARS):
            matrix = given or matrix_of_year(store, year)
            start = int(year[:4])
            opened = datetime(start, 9, 10 + pi, 10, 30, tzinfo=UTC)
            rated = datetime(start, 11, 3 + pi, 14, 0, tzinfo=UTC)
            agreed = datetime(start + 1, 1, 12 + pi, 16, 0, tzinfo=UTC)
            planned = plan_ratings(s, matrix, yi)
            in_progress = yi == last and s.rated_share < 1
            if in_progress:  # a fresh draft, part-way through: some elements not rated yet
                planned = dict(list(planned.items())[:round(len(planned) * s.rated_share)])
            with store.batch(by=s.manager, source="demo", at=opened) as b:
                if yi and not in_progress:
                    a = assessing.start_year(b, s.code, year, matrix)
                else:
                    a = assessing.create_assessment(b, s.code, year, matrix)
            existing = assessing.ratings(store, a.id)
            with store.batch(by=s.manager, source="demo workshop", at=rated) as b:
                for element_id, values in planned.items():
                    r = existing.get(element_id)
                    assessing.save_rating(b, a.id, element_id, expected_version=r.version if r else 0, **values)
                    n_ratings += 1
            n_assessments += 1
            # Dated evidence items, and the agreement in two steps (assessments/demo_evidence.py).
            status = s.latest_status if yi == last else "agreed"
            demo_evidence.year_evidence(store, s.manager, s.code, s.name, a.id, matrix, year, planned, rated,
                                        final=status == DRAFT)
            if status != DRAFT:
                demo_evidence.agree(store, s.manager, a.id, rated + timedelta(days=21), agreed)
            elif s.code == demo_evidence.RETURNED[0]:
                demo_evidence.returned(store, s.manager, a.id, rated + timedelta(days=21))
    from .demo_pathway import load_pathway_history

    n_steps = load_pathway_history(store) if store.pathway() is not None else 0
    return DemoSummary(code, name, tuple(s.code for s in STORIES), YEARS, n_assessments, n_ratings, n_steps)

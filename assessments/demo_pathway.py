"""The demonstration data's pathway history: where five of the demo PCNs recorded themselves on
the development pathway, year by year, with the day each step was done.

The stories follow the PCNs' assessment stories (assessments/demo.py): a mature network with
every step done by 2023/24, a fast improver, a slow one, a late starter, and one that reopens a
step it had marked done. Years with nothing recorded carry the steps forward, so the 2024/25
pathway of the fast improver shows steps 1 to 4 done in earlier years. Millbrook Valley, Wendmoor
Moors and Kestrel Bridge record nothing: a pathway that reads "not recorded" is part of the
story too (and the tests that record their first steps there expect a clean start).

Each record goes in through `pathway.save_step`, in a unit of work dated the day it was made.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from matrix import Pathway

from . import pathway as P
from .store import Store


@dataclass(frozen=True)
class Record:
    pcn: str
    year: str
    step: int
    status: str
    on: date  # the day it was recorded; for a done step, the day it was done
    ticked: int | None = None  # how many checklist items, in order (None: all for done, none otherwise)
    target: date | None = None  # a target date for a step not done
    note: str | None = None


D, IP = P.DONE, P.IN_PROGRESS

HISTORY = (
    # Oakhurst and Linden: mature from the start, every step done by March 2024.
    Record("U99006", "2021/22", 1, D, date(2021, 7, 6)),
    Record("U99006", "2021/22", 2, D, date(2021, 9, 21)),
    Record("U99006", "2021/22", 3, D, date(2021, 11, 30)),
    Record("U99006", "2021/22", 4, D, date(2022, 2, 15), note="Support plan agreed with the ICB's primary care team."),
    Record("U99006", "2021/22", 5, IP, date(2022, 3, 10), ticked=2, target=date(2022, 10, 31)),
    Record("U99006", "2022/23", 5, D, date(2022, 10, 18)),
    Record("U99006", "2022/23", 6, IP, date(2023, 2, 7), ticked=3, target=date(2024, 3, 31)),
    Record("U99006", "2023/24", 6, D, date(2024, 3, 12), note="Lessons shared at the ICB's clinical directors' forum."),
    # Saltmarsh Coast: slow to form, then quick once the new clinical director started in April 2022.
    Record("U99005", "2021/22", 1, IP, date(2021, 11, 9), ticked=3, target=date(2022, 6, 30),
           note="The nominated payee is still one practice; the bank account follows."),
    Record("U99005", "2022/23", 1, D, date(2022, 5, 24), note="The network's own bank account opened in May 2022."),
    Record("U99005", "2022/23", 2, D, date(2022, 9, 13)),
    Record("U99005", "2022/23", 3, IP, date(2023, 1, 17), ticked=2, target=date(2023, 9, 30)),
    Record("U99005", "2023/24", 3, D, date(2023, 10, 3)),
    Record("U99005", "2023/24", 4, D, date(2024, 1, 23)),
    Record("U99005", "2024/25", 5, IP, date(2024, 9, 10), ticked=2, target=date(2025, 3, 31)),
    # Ashby Town: eleven practices, so every step takes two board cycles; nothing recorded in 2023/24.
    Record("U99002", "2022/23", 1, D, date(2022, 6, 14)),
    Record("U99002", "2022/23", 2, IP, date(2022, 12, 6), ticked=1, target=date(2023, 6, 30)),
    Record("U99002", "2024/25", 2, D, date(2025, 1, 21)),
    Record("U99002", "2024/25", 3, IP, date(2025, 2, 11), ticked=1, target=date(2025, 9, 30)),
    # Fennick Cross: formed on paper only, its first record in 2023/24.
    Record("U99007", "2023/24", 1, IP, date(2023, 10, 24), ticked=2, target=date(2024, 6, 30)),
    Record("U99007", "2024/25", 1, D, date(2024, 7, 2)),
    Record("U99007", "2024/25", 2, IP, date(2024, 11, 19), ticked=1, target=date(2025, 5, 31)),
    # Greyfield Riverside: strong leadership; the self-assessment step is reopened when the data work lags.
    Record("U99008", "2021/22", 1, D, date(2021, 8, 3)),
    Record("U99008", "2021/22", 2, D, date(2021, 12, 14)),
    Record("U99008", "2022/23", 3, D, date(2022, 10, 11)),
    Record("U99008", "2022/23", 4, IP, date(2023, 2, 28), ticked=2, target=date(2023, 9, 30)),
    Record("U99008", "2023/24", 4, D, date(2023, 9, 26)),
    Record("U99008", "2024/25", 3, IP, date(2024, 10, 8), ticked=3, target=date(2025, 3, 31),
           note="Reopened: the data and population health needs were missed; the self-assessment is being "
                "redone with the ICB's analysts."),
)

MANAGERS = {"U99002": "Tom Whitlock", "U99005": "Megan Hughes", "U99006": "Rachel Amos", "U99007": "Gareth Lloyd",
            "U99008": "Hannah Brook"}


def load_pathway_history(store: Store, pathway: Pathway | None = None) -> int:
    """Record the demo's pathway history; returns how many step records were written."""
    pathway = pathway or P.default_pathway(store)
    done: dict[tuple[str, str, int], int] = {}
    for r in sorted(HISTORY, key=lambda r: r.on):
        items = [i.id for i in pathway.step(r.step).checklist]
        n = r.ticked if r.ticked is not None else (len(items) if r.status == D else 0)
        fields = dict(status=r.status, ticks=items[:n], date=r.on if r.status == D else r.target)
        if r.note:
            fields["note"] = r.note
        key = (r.pcn, r.year, r.step)
        with store.batch(by=MANAGERS[r.pcn], source="demo", at=datetime(r.on.year, r.on.month, r.on.day, 15, 0,
                                                                       tzinfo=UTC)) as b:
            saved = P.save_step(b, r.pcn, r.year, r.step, expected_version=done.get(key, 0), pathway=pathway,
                                **fields)
        done[key] = saved.version
    return len(HISTORY)

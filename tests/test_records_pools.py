"""The connection pools (assessments/records/engine.py) on SQLite and PostgreSQL: participants'
burst writes have a small pool of their own, so with every one of its connections taken the
facilitator's controls and the pages' reads still go through at once, and a burst write that finds
no connection in time gets the core's BusyError (a plain message, nothing written), never
SQLAlchemy's pool TimeoutError."""
from __future__ import annotations

import threading
import time

import pytest

from assessments import organisations as orgs
from assessments import workshop as ws
from assessments.records import engine
from assessments.values import BusyError

YEAR = "2024/25"


@pytest.fixture
def quick_timeout(monkeypatch):
    # The pools read the timeout when they are made; the store fixture makes them after this.
    monkeypatch.setattr(engine, "POOL_TIMEOUT", 1)


@pytest.fixture
def room(store, small_matrix):
    orgs.add_ics(store, "QZZ", "Test ICS", by="setup")
    orgs.add_pcn(store, "U90001", "PCN U90001", ics_code="QZZ", list_size=10_000, by="setup")
    w = ws.open_workshop(store, "U90001", YEAR, small_matrix, by="Fran Facilitator")
    _, p = ws.join(store, w.code, "Asha Patel", "GP")
    return w, p, small_matrix.element_ids()[0]


def test_the_pools_are_sized_for_a_room_and_separate(store):
    pages, burst = store.db.engine.pool, store.db.burst_engine.pool
    assert pages is not burst
    assert burst.size() == engine.BURST_POOL[store.dialect] and burst._max_overflow == 0
    size, overflow = engine.PAGE_POOL[store.dialect]
    assert pages.size() == size and pages._max_overflow == overflow


def test_with_the_burst_pool_taken_the_facilitator_still_acts_and_a_rating_is_told_busy(quick_timeout, store, room):
    w, p, eid = room
    held = [store.db.burst_engine.connect() for _ in range(engine.BURST_POOL[store.dialect])]
    try:
        t = time.monotonic()
        paused = ws.pause(store, w.id, by="Fran Facilitator")
        assert paused.status == ws.PAUSED and time.monotonic() - t < 1
        ws.resume(store, w.id, by="Fran Facilitator")
        assert ws.summary(store, w.id).n_ratings == 0  # the pages' reads too

        t = time.monotonic()
        with pytest.raises(BusyError, match="busy with many saves at once. Nothing was lost"):
            ws.rate(store, p.token, eid, "developing")
        assert 0.9 < time.monotonic() - t < 10
    finally:
        for c in held:
            c.close()
    assert ws.my_ratings(store, p.token) == {}  # nothing was written by the refused save
    ws.rate(store, p.token, eid, "developing")
    assert ws.my_ratings(store, p.token)[eid].stage == "developing"


def test_many_raters_at_once_queue_for_the_burst_pool_and_all_save(store, room, small_matrix):
    """Far more writers than burst connections: each waits its turn, none fails, and the
    facilitator's pause in the middle of it does not queue behind them."""
    w, _p, _eid = room
    people = [ws.join(store, w.code, f"Person {i}", "GP")[1] for i in range(12)]
    errors: list[BaseException] = []

    def rate_all(p):
        try:
            for eid in small_matrix.element_ids():
                ws.rate(store, p.token, eid, "starting")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=rate_all, args=(p,)) for p in people]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    ws.reveal(store, w.id, by="Fran Facilitator")
    facilitator_took = time.monotonic() - t0
    for t in threads:
        t.join(120)
    assert errors == []
    assert ws.summary(store, w.id).n_ratings == 12 * len(small_matrix.element_ids())
    assert facilitator_took < 5

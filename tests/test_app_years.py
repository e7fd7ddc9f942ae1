"""AppTest: every page and the command line agree on the years (assessments/years.py), on two
hand-worked days: 1 December 2026 (in 2026/27) and 1 April 2027 (the first day of 2027/28).

The issue this answers: in December 2026 the self-assessment offered only 2025/26 while the
workshop page opened on 2026/27; after a workshop wrote 2026/27, 2025/26 vanished from the
self-assessment's list; progress compared 2026/27 with 2024/25 without saying 2025/26 was missing.
"""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from app_fixtures import open_page

from assessments import organisations as orgs
from assessments import ratings as assessing
from assessments import workshop as ws
from assessments import years as Y
from assessments.store import Store

ROOT = Path(__file__).resolve().parents[1]
DEC_2026, APR_2027 = date(2026, 12, 1), date(2027, 4, 1)
ICS, PCN, OTHER = "QYY", "U91001", "U91002"
# The year box of each page: (page, its session key, whether it picks a PCN)
PAGES = [("views/assess.py", "assess_year", True), ("views/workshop.py", "workshop_year", True),
         ("views/plan.py", "plan_year", True), ("views/pathway.py", "pathway_year", True),
         ("views/portfolio.py", "portfolio_year", False)]


@pytest.fixture
def network(app_db, monkeypatch):
    """An ICS of two PCNs; the first has a 2025/26 assessment and nothing else."""
    store = Store(app_db)
    orgs.add_ics(store, ICS, "Years Test ICS", by="setup")
    orgs.add_pcn(store, PCN, "Calendar PCN", ics_code=ICS, list_size=40_000, by="setup")
    orgs.add_pcn(store, OTHER, "Other PCN", ics_code=ICS, list_size=30_000, by="setup")
    assessing.create_assessment(store, PCN, "2025/26", by="setup")
    yield store
    store.close()


def on(monkeypatch, day: date) -> None:
    monkeypatch.setattr(Y, "today", lambda: day)


def year_boxes(**extra) -> dict[str, tuple[list[str], str]]:
    """Each page's year box: (the years offered, the year it opened on)."""
    out = {}
    for page, key, picks_pcn in PAGES:
        at = open_page(page, query={"ics": ICS, **({"pcn": PCN} if picks_pcn else {}), **extra})
        assert not at.exception, (page, [e.value for e in at.exception])
        box = at.selectbox(key=key)
        out[page] = (list(box.options), box.value)
    return out


def test_in_december_2026_every_page_offers_and_opens_on_the_same_years(network, monkeypatch):
    on(monkeypatch, DEC_2026)
    boxes = year_boxes()
    assert all(v == (["2025/26", "2026/27", "2027/28"], "2025/26") for v in boxes.values()), boxes
    # The page says which year this is when it shows another.
    at = open_page("views/assess.py", query={"ics": ICS, "pcn": PCN})
    assert any("This financial year is 2026/27" in c.value for c in at.caption)


def test_after_a_workshop_writes_2026_27_last_year_stays_and_pages_open_on_this_year(network, monkeypatch):
    on(monkeypatch, DEC_2026)
    w = ws.open_workshop(network, PCN, "2026/27", by="Fran")
    ws.record_consensus(network, w.id, network.default_matrix().element_ids()[0], "step-1", by="Fran")
    ws.apply_consensus(network, w.id, by="Fran")
    assert {a.year for a in assessing.assessments(network, pcn_code=PCN)} == {"2025/26", "2026/27"}
    boxes = year_boxes()
    assert all(v == (["2025/26", "2026/27", "2027/28"], "2026/27") for v in boxes.values()), boxes
    at = open_page("views/assess.py", query={"ics": ICS, "pcn": PCN})
    assert not any("This financial year is" in c.value for c in at.caption)


def test_on_the_first_of_april_2027_every_page_agrees_again(network, monkeypatch):
    on(monkeypatch, APR_2027)
    assessing.create_assessment(network, PCN, "2026/27", by="setup")
    boxes = year_boxes()
    assert all(v == (["2025/26", "2026/27", "2027/28", "2028/29"], "2026/27") for v in boxes.values()), boxes


def test_a_year_named_in_the_address_opens_on_every_page(network, monkeypatch):
    on(monkeypatch, DEC_2026)
    boxes = year_boxes(year="2027/28")
    assert all(v[1] == "2027/28" for v in boxes.values()), boxes
    boxes = year_boxes(year="2031/32")  # cannot be started, so not offered: the page opens as usual
    assert all(v[1] == "2025/26" for v in boxes.values()), boxes


def test_progress_says_which_year_is_missing(network, monkeypatch):
    on(monkeypatch, DEC_2026)
    assessing.create_assessment(network, OTHER, "2024/25", by="setup")
    assessing.create_assessment(network, OTHER, "2026/27", by="setup")
    at = open_page("views/progress.py", query={"ics": ICS, "pcn": OTHER})
    assert not at.exception, [e.value for e in at.exception]
    box = at.selectbox(key="progress_compare")
    assert box.value == "2026/27"
    assert box.format_func(box.value) == "2026/27 with 2024/25 (no 2025/26 assessment)"
    assert any(i.value == "There is no 2025/26 assessment, so 2026/27 is compared with 2024/25, 2 years earlier."
               for i in at.info)
    # On 1 April 2027 the latest assessment is a year behind, and the page says so.
    on(monkeypatch, APR_2027)
    at = open_page("views/progress.py", query={"ics": ICS, "pcn": OTHER})
    assert any(i.value == "No assessment yet for 2027/28 (2027/28 is this financial year): the latest is 2026/27."
               for i in at.info)


def test_a_year_that_cannot_be_started_is_refused_by_the_services(network, monkeypatch):
    on(monkeypatch, DEC_2026)
    from assessments.values import InputError

    for start in (lambda: assessing.create_assessment(network, OTHER, "2028/29", by="x"),
                  lambda: ws.open_workshop(network, OTHER, "2028/29", by="x")):
        with pytest.raises(InputError, match="2028/29 cannot be started yet: this financial year is 2026/27"):
            start()
    on(monkeypatch, APR_2027)
    assert assessing.create_assessment(network, OTHER, "2028/29", by="x").year == "2028/29"


@pytest.mark.parametrize("day, lines", [
    ("2026-12-01", ["This financial year: 2026/27", "Years with records: 2025/26",
                    "Years that can be started: 2026/27, 2027/28", "Pages open on: 2025/26"]),
    ("2027-04-01", ["This financial year: 2027/28", "Years with records: 2025/26",
                    "Years that can be started: 2026/27, 2027/28, 2028/29", "Pages open on: 2025/26"]),
])
def test_the_command_line_gives_the_same_answer(network, app_db, day, lines):
    run = subprocess.run([sys.executable, "cli.py", "years", "--pcn", PCN, "--on", day], cwd=ROOT, text=True,
                         capture_output=True, env={**os.environ, "PCN_DATABASE_URL": app_db}, timeout=120)
    assert run.returncode == 0, run.stderr
    out = [x.strip() for x in run.stdout.splitlines()]
    assert out[0] == "Calendar PCN (U91001)"
    assert out[1:5] == lines
    assert out[5] == "Progress compares: nothing yet (one year or none assessed)"
    bad = subprocess.run([sys.executable, "cli.py", "years", "--pcn", PCN, "--on", "1/12/2026"], cwd=ROOT, text=True,
                         capture_output=True, env={**os.environ, "PCN_DATABASE_URL": app_db}, timeout=120)
    assert bad.returncode == 2 and "'1/12/2026' is not a date: write it like 2026-12-01" in bad.stderr


def test_the_year_chosen_on_a_page_is_still_chosen_after_a_visit_to_another_page(network, monkeypatch):
    # Streamlit forgets a widget's value once a page without it has run, and the sidebar's links
    # carry no ?year=: the year must come back from what this session chose.
    on(monkeypatch, DEC_2026)
    at = open_page("views/plan.py", query={"ics": ICS, "pcn": PCN})
    assert at.selectbox(key="plan_year").value == "2025/26"
    at.selectbox(key="plan_year").set_value("2027/28").run()
    at.switch_page("views/progress.py")
    at.run()
    at.query_params.pop("year", None)  # as the sidebar link drops it
    at.switch_page("views/plan.py")
    at.run()
    assert not at.exception
    assert at.selectbox(key="plan_year").value == "2027/28"
    # A link that names a year still wins.
    at.switch_page("views/progress.py")
    at.run()
    at.query_params["year"] = "2026/27"
    at.switch_page("views/plan.py")
    at.run()
    assert at.selectbox(key="plan_year").value == "2026/27"

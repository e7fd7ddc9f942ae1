"""AppTest: the progress, portfolio and pathway pages against the demo ICS, and every page runs."""
from __future__ import annotations

from datetime import date

from pathlib import Path

import pytest
from app_fixtures import open_page, shown_tables

from assessments import pathway as P
from assessments.demo import DEMO_ICS
from components.look import plain
from assessments import ratings as assessing
from assessments import organisations as orgs

ROOT = Path(__file__).resolve().parents[1]


# Every page the laptop's administrator has (sign_in.py and no_role.py are drawn only for someone
# not signed in or without a role: tests/test_app_access.py).
@pytest.mark.parametrize("page", sorted(p.name for p in (ROOT / "views").glob("*.py")
                                        if p.name not in ("sign_in.py", "no_role.py")))
def test_every_page_runs_with_the_demo_data(demo_db, page):
    at = open_page(f"views/{page}", query={"ics": DEMO_ICS[0], "pcn": "U99001"})
    assert not at.exception


def test_progress_draws_the_radar_and_what_moved(demo_db):
    at = open_page("views/progress.py", query={"ics": DEMO_ICS[0], "pcn": "U99004"})
    charts = at.get("plotly_chart")
    assert len(charts) == 2
    years = sorted({a.year for a in assessing.assessments(demo_db, pcn_code="U99004")})
    markdown = " ".join(m.value for m in at.markdown).replace("\\", "")  # plain() escapes markdown
    assert f"Since {years[-2]}:" in markdown
    # The table under the radar has a row per domain with a column per year.
    [profile, *_] = shown_tables(at)
    assert set(years) <= set(profile.columns)
    assert len(profile) == len(demo_db.default_matrix().domains)


def test_progress_builds_the_charts_table_only_when_asked_and_lists_every_element(demo_db):
    at = open_page("views/progress.py", query={"ics": DEMO_ICS[0], "pcn": "U99004"})
    def domain_years():
        return [t for t in shown_tables(at) if {"Year", "Assessment", "Score"} <= set(t.columns)]
    assert domain_years() == []  # not built, so nothing for the browser to draw
    [elements] = [t for t in shown_tables(at) if "Element" in t.columns]
    matrix = demo_db.default_matrix()
    assert len(elements) == len(matrix.element_ids())
    at.toggle(key="progress_domain_table").set_value(True).run()
    assert not at.exception
    years = {a.year for a in assessing.assessments(demo_db, pcn_code="U99004")}
    [table] = domain_years()
    assert len(table) == len(matrix.domains) * len(years)
    assert len(at.get("plotly_chart")) == 2


def test_portfolio_builds_the_distribution_table_only_when_asked(demo_db):
    at = open_page("views/portfolio.py", query={"ics": DEMO_ICS[0]})
    def distribution():
        return [d.value for d in at.dataframe if list(d.value.columns[:1]) == ["Domain"]]
    assert distribution() == [] and not at.get("plotly_chart")  # the heat map and the bars are HTML
    bars = [h.value for h in at.html if 'class="pcn-bars"' in h.value]
    assert len(bars) == 1 and bars[0].count('class="pcn-bar-row"') == len(demo_db.default_matrix().domains)
    at.toggle(key="portfolio_distribution_table").set_value(True).run()
    assert not at.exception
    [table] = distribution()
    assert len(table) == len(demo_db.default_matrix().domains)


def test_progress_of_a_pcn_without_assessments_says_so(demo_db):
    orgs.add_pcn(demo_db, "U99901", "Newly Formed PCN", ics_code=DEMO_ICS[0], list_size=31_000, by="test")
    at = open_page("views/progress.py", query={"ics": DEMO_ICS[0], "pcn": "U99901"})
    assert any("has no assessments yet" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_portfolio_lists_every_demo_pcn_without_ranking(demo_db):
    at = open_page("views/portfolio.py", query={"ics": DEMO_ICS[0]})
    [heat, *_] = shown_tables(at)
    codes = set(heat["Code"])
    assert codes == {p.code for p in orgs.pcns(demo_db, ics_code=DEMO_ICS[0])}
    assert not at.dataframe  # the sortable grid is built when its switch is turned on
    at.toggle(key="portfolio_grid").set_value(True).run()
    [grid] = at.dataframe
    assert list(grid.value["Code"]) == list(heat["Code"])  # the same PCNs in the same order
    agreed = [m for m in at.metric if m.label == "Agreed assessments"][0]
    assert agreed.value.endswith(f"of {len(codes)}")
    text = " ".join(m.value for m in [*at.markdown, *at.caption]).lower()
    assert "rank" not in text.replace("not ranked", "") and "league" not in text


def test_pathway_tick_and_status_are_saved(demo_db):
    at = open_page("views/pathway.py", actor="Fran Facilitator",
                   query={"ics": DEMO_ICS[0], "pcn": "U99003", "year": "2024/25"})
    before = P.step_status(demo_db, "U99003", "2024/25", 1)
    item = next(i for i in P.default_pathway(demo_db).steps[0].checklist if not before.ticks[i.id])
    [box] = [c for c in at.checkbox if c.label == plain(item.text)]
    box.check().run()
    assert not at.exception
    after = P.step_status(demo_db, "U99003", "2024/25", 1)
    assert after.ticks[item.id] and after.updated_by == "Fran Facilitator"
    # Step 1 is where the PCN is, so it is open; step 2 opens with its switch, after a line on where it stands.
    assert not [r for r in at.radio if r.label == "Status of step 2"]
    assert any("Not recorded in 2024/25 or any year before; checklist 0 of" in m.value for m in at.markdown)
    at.toggle(key="pathway_open_U99003_2").set_value(True).run()
    # "Done" asks for the day it was done before anything is saved.
    [status] = [r for r in at.radio if r.label == "Status of step 2"]
    assert status.value is None  # nothing recorded: no status chosen, and the card says so
    assert any("Not recorded: nothing is recorded for this step in 2024/25" in c.value for c in at.caption)
    status.set_value(P.DONE).run()
    assert P.step_status(demo_db, "U99003", "2024/25", 2).status == "not recorded"
    [mark] = [b for b in at.button if b.label == "Mark step 2 done"]
    assert mark.disabled
    [when] = [d for d in at.date_input if d.label == "Step 2 done on"]
    when.set_value(date(2025, 2, 14)).run()
    [mark] = [b for b in at.button if b.label == "Mark step 2 done"]
    mark.click().run()
    assert not at.exception
    saved = P.step_status(demo_db, "U99003", "2024/25", 2)
    assert (saved.status, saved.date) == (P.DONE, date(2025, 2, 14))
    # Done stays done the year after, shown as carried from 2024/25.
    at.selectbox(key="pathway_year").set_value("2025/26").run()
    [status] = [r for r in at.radio if r.label == "Status of step 2"]
    assert status.value == P.DONE
    assert any("As recorded in 2024/25" in c.value for c in at.caption)


def test_pathway_without_a_name_is_read_only(demo_db):
    at = open_page("views/pathway.py", actor=None, query={"ics": DEMO_ICS[0], "pcn": "U99003"})
    assert at.checkbox and all(c.disabled for c in at.checkbox if c.label.startswith(("A ", "The ")))
    assert all(r.disabled for r in at.radio if r.label.startswith("Status of step"))

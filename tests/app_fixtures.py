"""Fixtures for AppTest page tests: a fresh database per test, with or without the demo data."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """An empty SQLite database the app will open (each test its own, so cached stores never mix)."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("PCN_DATABASE_URL", url)
    return url


@pytest.fixture
def demo_db(app_db):
    """The app's database filled with the demo ICS; returns an open Store on it."""
    from assessments.demo import load_demo
    from assessments.store import Store

    store = Store(app_db)
    load_demo(store)
    return store


def open_page(page: str | None = None, *, actor: str | None = "Test User", query: dict | None = None,
              state: dict | None = None) -> AppTest:
    """Run app.py (then switch to `page`, e.g. "views/assess.py") as a user who has given their name."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if actor:
        at.session_state["actor_name"] = actor
    for k, v in (state or {}).items():
        at.session_state[k] = v
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_tables(at) -> list:
    """The page's read-only tables (components.look.static_table, one st.html each) as DataFrames of
    the text a reader sees: every cell a string, empty cells ""."""
    return [t for h in at.html if (t := read_table(h.value)) is not None]


def read_table(body: str):
    """The first <table> of an HTML body as a DataFrame of its cells' text, or None."""
    from html.parser import HTMLParser

    import pandas as pd

    class Cells(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.rows, self.cell, self.seen = [], None, False

        def handle_starttag(self, tag, attrs):
            if tag == "table":
                self.seen = True
            elif tag == "tr":
                self.rows.append([])
            elif tag in ("td", "th"):
                self.cell = []
            elif tag == "br" and self.cell is not None:
                self.cell.append("\n")

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None:
                self.rows[-1].append("".join(self.cell))
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell.append(data)

    parser = Cells()
    parser.feed(body)
    if not parser.seen:
        return None
    head, *rows = parser.rows
    return pd.DataFrame(rows, columns=head)

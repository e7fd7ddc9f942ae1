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
    """The page's read-only tables (components.look.static_table) as DataFrames of the text shown:
    the markdown escapes (backslashes) taken out of cells and headers."""
    def unescape(v):
        return v.replace("\\", "") if isinstance(v, str) else v

    return [t.value.rename(columns=unescape).map(unescape) for t in at.table]

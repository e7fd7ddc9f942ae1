"""Every page, with the ICS, PCNs and matrix named by the hostile catalogue (tests/fixtures/hostile.py):
no catalogue string reaches anything Streamlit renders as markdown (labels, options of radios and
segmented controls, tabs, captions, messages, metrics, page links, help) without plain() first.
Selectbox options, table data, chart specs and alt texts are shown as plain text, so they stay raw.
Read-only tables are HTML (st.html): there every catalogue string must be HTML-escaped instead.
tests/browser/test_hostile.py checks what the browser then shows."""
from __future__ import annotations

import html
import shutil

import pytest

from components.look import plain
from tests.app_fixtures import open_page
from tests.fixtures.hostile import EXTRA_CODES, NAMES, seed

# Names plain() changes; the others (right-to-left, zero-width) are the same escaped or not.
RAW = [t for t in NAMES if plain(t) != t]
NOT_MARKDOWN = {"alt", "raw_value", "default", "value", "placeholder", "spec", "columns", "data"}
PLAIN_TEXT_TYPES = {"dataframe", "arrow_data_frame", "plotly_chart"}
PLAIN_TEXT_OPTIONS = {"selectbox", "multiselect"}

PAGES = [  # page, address, whether it shows catalogue text
    ("views/home.py", {}, False),
    ("views/portfolio.py", {"ics": "QZZ", "year": "2024/25"}, True),
    ("views/progress.py", {"ics": "QZZ", "pcn": "U99004"}, True),
    ("views/assess.py", {"ics": "QZZ", "pcn": "U99004", "year": "2024/25"}, True),
    ("views/assess.py", {"ics": "QZZ", "pcn": EXTRA_CODES[0], "year": "2024/25"}, True),
    ("views/plan.py", {"ics": "QZZ", "pcn": "U99004", "year": "2024/25"}, True),
    *[("views/plan.py", {"ics": "QZZ", "pcn": "U99004", "year": "2024/25", "tab": tab}, False)  # only the open tab is drawn
      for tab in ("Actions", "Clinical director", "Shared versions", "Download")],
    ("views/pathway.py", {"ics": "QZZ", "pcn": "U99004"}, True),
    ("views/workshop.py", {"ics": "QZZ", "pcn": "U99004"}, False),
    ("views/matrices.py", {}, False),
    ("views/data.py", {}, False),
    ("views/people.py", {}, False),
    ("views/join.py", {}, False),
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One seeded database and matrix folder, copied for each test (seeding takes seconds)."""
    tmp = tmp_path_factory.mktemp("hostile")
    seed(f"sqlite:///{tmp / 'seeded.db'}", tmp / "matrices")
    return tmp


@pytest.fixture
def hostile_db(app_db, seeded, monkeypatch):
    monkeypatch.setenv("PCN_MATRIX_DIR", str(seeded / "matrices"))
    shutil.copy(seeded / "seeded.db", app_db.removeprefix("sqlite:///"))
    return app_db


def strings(msg, path: str = ""):
    """(field path, text) for every string in a protobuf message, nested ones included."""
    for field, value in msg.ListFields():
        items = value if field.is_repeated else [value]
        for item in items:
            if field.type == field.TYPE_MESSAGE:
                yield from strings(item, f"{path}.{field.name}")
            elif field.type == field.TYPE_STRING:
                yield f"{path}.{field.name}", item


def nodes(node):
    """Every element and block of the page, with its type and protobuf message."""
    for child in (getattr(node, "children", None) or {}).values():
        yield from nodes(child)
    if getattr(node, "proto", None) is not None:
        yield node.type, node.proto


def markdown_texts(at):
    for kind, proto in nodes(at._tree):
        if kind in PLAIN_TEXT_TYPES or kind == "html":
            continue
        for path, text in strings(proto):
            name = path.rsplit(".", 1)[-1]
            if name in NOT_MARKDOWN or (name == "options" and kind in PLAIN_TEXT_OPTIONS):
                continue
            yield kind, path, text


@pytest.mark.parametrize("page, query, shows", PAGES, ids=[f"{p[6:-3]}-{q.get('pcn', '')}{'-' + q['tab'] if 'tab' in q else ''}" for p, q, _ in PAGES])
def test_no_page_renders_a_hostile_name_raw(hostile_db, page, query, shows):
    at = open_page(page, query=query)
    texts = list(markdown_texts(at))
    raw = [(kind, path, text[:80]) for kind, path, text in texts
           for t in RAW if t in text and plain(t) not in text]
    assert raw == []
    bodies = [proto.body for kind, proto in nodes(at._tree) if kind == "html"]
    unescaped = [(t, b[:80]) for b in bodies for t in NAMES if html.escape(t) != t and t in b]
    assert unescaped == []
    if shows:  # the page did show the catalogue, escaped, so the checks above had something to check
        assert any(plain(t) in text for _, _, text in texts for t in RAW) or \
            any(html.escape(t) in b for b in bodies for t in RAW)

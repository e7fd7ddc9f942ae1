"""plain(): text from users and files is shown as typed, and control names stay readable."""
import re

import pytest

from components.look import JOINER, plain
from tests.fixtures.hostile import HOSTILE


@pytest.mark.parametrize("text", [
    "A clinical director has been appointed or elected by the member practices.",
    "Outputs: signed agreement; named director (by 1 April).",
    "12:30 meeting, costs £1,000 – Zoë's list",
])
def test_ordinary_sentences_are_left_alone(text):
    # Widget labels become accessible names: a stray backslash would be read out by a screen reader.
    assert plain(text) == text


@pytest.mark.parametrize("text, expected", [
    ("**bold** and _it_", r"\*\*bold\*\* and \_it\_"),
    ("<b>hi</b>", r"\<b\>hi\</b\>"),
    ("[link](http://x)", "\\[link\\](http:\u2060//x)"),
    ("a | b", r"a \| b"),
    ("costs $5 and $6", r"costs \$5 and \$6"),
    ("&amp; &#169;", r"\&amp; \&#169;"),
    ("`code` ~~gone~~", r"\`code\` \~\~gone\~\~"),
    ("back\\slash", r"back\\slash"),
])
def test_markup_is_escaped(text, expected):
    assert plain(text) == expected


def test_line_starts_that_would_make_headings_or_lists_are_escaped():
    assert plain("# Heading\n- item\n+ item\n1. first\n2) second\n===") == (
        "\\# Heading  \n\\- item  \n\\+ item  \n1\\. first  \n2\\) second  \n\\===")


def test_none_is_empty():
    assert plain(None) == ""


J = JOINER


@pytest.mark.parametrize("text, expected", [
    # Streamlit replaces emoji and icon codes after backslash escapes are gone: a joiner breaks them.
    (":smile: :material/flag: :+1:", f":{J}smile: :{J}material/flag: :{J}+1:"),
    # Any ":word" starts a colour or badge directive, with or without the [...] after it.
    (":red[Red] :blue-background[x] :small", f":{J}red\\[Red\\] :{J}blue-background\\[x\\] :{J}small"),
    # Bare addresses would become links (with any escape backslash inside their address).
    ("www.site.example and https://web.example/a_b", f"www{J}.site.example and https:{J}//web.example/a\\_b"),
    ("me@mail.example", f"me@{J}mail.example"),
])
def test_shortcodes_directives_and_addresses_are_broken_invisibly(text, expected):
    assert plain(text) == expected


@pytest.mark.parametrize("text", ["12:30 meeting", "Outputs: signed agreement", "ratio 3:2", "a @ b", "awww.x"])
def test_colons_and_at_signs_that_start_nothing_get_no_joiner(text):
    assert plain(text) == text


def test_a_direction_override_left_open_is_closed_at_the_end():
    assert plain("\u202eUnclosed") == "\u202eUnclosed\u202c"
    assert plain("\u2067a\u202eb\u2069 c") == "\u2067a\u202eb\u2069 c"  # the isolate's close ends both
    assert plain("\u202ebalanced\u202c") == "\u202ebalanced\u202c"


def shown(markdown: str) -> str:
    """What CommonMark makes of an escaped text: escapes of punctuation removed, hard breaks as line breaks."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("  \n", "\n").replace(J, "")


@pytest.mark.parametrize("what, text", HOSTILE, ids=[w for w, _ in HOSTILE])
def test_hostile_text_reads_back_as_typed_with_no_pattern_left(what, text):
    out = plain(text)
    assert shown(out).rstrip("\u202c\u2069") == text.replace(J, "").rstrip("\u202c\u2069")
    unescaped = re.sub(r"\\.", "", out)  # what is left once the escaped marks are set aside
    assert not re.search(r"[*_`\[\]<>~$|]", unescaped)
    # Backslashes do not stop emoji codes or links (Streamlit finds them in the unescaped text).
    bare = out.replace("\\", "")
    assert not re.search(r":[\w+-]", bare), "an emoji, icon or directive code"
    assert not re.search(r"www\.|://|@\w", bare), "a bare address"


def _spread_rows():
    return [{"title": "Governance <b>", "split": True, "n": 3, "counts": [2, 0, 1], "low": 0.0, "high": 2.0,
             "median": 0.0},
            {"title": "Vision", "split": False, "n": 2, "counts": [0, 1, 1], "low": 1.0, "high": 2.0, "median": 1.5},
            {"title": "Data", "split": False, "n": 0, "counts": [0, 0, 0], "low": None, "high": None, "median": None}]


def test_the_spread_reads_as_one_sentence_per_element():
    from html.parser import HTMLParser

    from components.look import spread_html

    labels = []

    class Labels(HTMLParser):
        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if a.get("role") == "img":
                labels.append(a["aria-label"])

    Labels().feed(spread_html(_spread_rows(), ["Starting", "Developing", "Embedded"], alt="The spread"))
    assert labels == ["Governance <b>: 3 ratings (2 at Starting; 1 at Embedded); from Starting to Embedded, median "
                      "Starting; views differ",
                      "Vision: 2 ratings (1 at Developing; 1 at Embedded); from Developing to Embedded, median between "
                      "Developing and Embedded",
                      "Data: no ratings yet"]


def test_the_spread_escapes_its_text_and_places_each_disc_at_its_stage():
    from components.look import spread_html

    out = spread_html(_spread_rows(), ["Starting", "<i>Developing</i>", "Embedded"], alt="The spread")
    assert "<b>" not in out.replace("<b>views differ</b>", "") and "<i>Developing" not in out
    assert "Governance &lt;b&gt;" in out and "&lt;i&gt;Developing&lt;/i&gt;" in out
    # Three stages: their centres at a sixth, a half and five sixths of the track.
    discs = re.findall(r'class="pcn-spread-count" style="left: ([\d.]+)%">(\d+)<', out)
    assert discs == [("16.667", "2"), ("83.333", "1"), ("50.000", "1"), ("83.333", "1")]
    assert re.findall(r'class="pcn-spread-median" style="left: ([\d.]+)%"', out) == ["16.667", "66.667"]


@pytest.mark.parametrize("what, text", HOSTILE, ids=[w for w, _ in HOSTILE])
def test_hostile_element_titles_stay_text_in_the_spread(what, text):
    from html.parser import HTMLParser

    from components.look import spread_html

    rows = [dict(_spread_rows()[0], title=text)]
    seen = []

    class Text(HTMLParser):
        def handle_starttag(self, tag, attrs):
            seen.append(tag)

    Text().feed(spread_html(rows, ["A", "B", "C"], alt="x"))
    # Only the spread's own tags: one "views differ" in bold, the key's three marks.
    assert set(seen) <= {"div", "span", "br", "b", "i"} and seen.count("b") == 1 and seen.count("i") == 3, what

"""plain(): text from users and files is shown as typed, and control names stay readable."""
import pytest

from components.look import plain


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
    ("[link](http://x)", r"\[link\](http://x)"),
    (":smile: and :material/flag:", r"\:smile: and \:material/flag:"),
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

"""The NHS look for the Streamlit pages, and safe display of text that came from users or files."""
from __future__ import annotations

import re

import streamlit as st

# Only the marks that can start markup in Streamlit's markdown are escaped: widget labels also
# become the control's accessible name, so a backslash before every full stop would be read out.
_ALWAYS = re.compile(r"([\\`*_\[\]<>~$|])")
_SHORTCODE = re.compile(r":(?=[\w+/-]+:)")  # :emoji: and :material/icon: codes
_ENTITY = re.compile(r"&(?=#?\w+;)")
_LINE_START = re.compile(r"^( {0,3})([#=+-]|\d+[.)])", re.MULTILINE)

_BASE_CSS = """
<style>
  h1, h2, h3 { color: #003087; }
  /* Streamlit fades captions to 60% opacity (under 4.5:1 on white); NHS secondary text colour passes AA. */
  [data-testid="stCaptionContainer"] { opacity: 1 !important; color: #4C6272 !important; }
  [data-testid="stCaptionContainer"] p { color: #4C6272 !important; }
  .block-container { padding-top: 2rem; }
  /* Focus must stay visible for keyboard users (WCAG 2.4.7). */
  a:focus-visible, button:focus-visible, [role="tab"]:focus-visible { outline: 3px solid #FFB81C !important; outline-offset: 2px; }
</style>
"""

_LARGE_CSS = """
<style>
  html, body, [data-testid="stAppViewContainer"] { font-size: 21px; }
  [data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li { font-size: 1.2rem; line-height: 1.5; }
  h1 { font-size: 2.6rem !important; } h2 { font-size: 2.1rem !important; } h3 { font-size: 1.7rem !important; }
</style>
"""


def _escape_line_start(m: re.Match) -> str:
    indent, mark = m.group(1), m.group(2)
    if mark[0].isdigit():  # "1." or "1)" would start a numbered list: escape the mark after the number
        return indent + mark[:-1] + "\\" + mark[-1]
    return indent + "\\" + mark


def plain(text: object) -> str:
    """Escape text for st.markdown/st.write so it shows literally (no markdown, HTML, LaTeX or emoji codes)."""
    if text is None:
        return ""
    escaped = _ALWAYS.sub(r"\\\1", str(text))
    escaped = _SHORTCODE.sub(r"\\:", escaped)
    escaped = _ENTITY.sub(r"\\&", escaped)
    escaped = _LINE_START.sub(_escape_line_start, escaped)
    # Line breaks should stay line breaks in the rendered paragraph.
    return escaped.replace("\n", "  \n")


def apply_look() -> None:
    """Shared styling plus the projector (large text) toggle in the sidebar."""
    st.html(_BASE_CSS)
    # Kept in the URL (?large_text=true), so a reload or a shared link keeps the projector setting.
    large = st.sidebar.toggle(
        "Large text (projector)",
        key="large_text",
        help="Bigger text for workshops on a projector.",
        bind="query-params",
    )
    if large:
        st.html(_LARGE_CSS)

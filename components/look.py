"""The NHS look for the Streamlit pages, and safe display of text that came from users or files."""
from __future__ import annotations

import html
import re

import streamlit as st

# Only the marks that can start markup in Streamlit's markdown are escaped: widget labels also
# become the control's accessible name, so a backslash before every full stop would be read out.
_ALWAYS = re.compile(r"([\\`*_\[\]<>~$|])")
# Streamlit finds emoji and icon codes (:smile:, :material/flag:) in the text after backslash
# escapes are gone, reads any ":word" as a colour directive (:red[...], :small), and links bare
# addresses; a backslash cannot stop the first and leaves a visible one inside the links. An
# invisible word joiner after the ":", "@" or "www" breaks each pattern and shows nothing.
JOINER = "\u2060"
_BREAK = re.compile(r"(:(?=[\w+-]+:|[^\W\d_])|@(?=\w)|(?<![\w.-])www(?=\.)|:(?=//))", re.IGNORECASE)
_ENTITY = re.compile(r"&(?=#?\w+;)")
# Right-to-left and left-to-right embeddings, overrides and isolates, with what closes each: one left
# open would turn the app's own text after the name around too.
_PDF, _PDI = "\u202c", "\u2069"
_OPENS = {"\u202a": _PDF, "\u202b": _PDF, "\u202d": _PDF, "\u202e": _PDF, "\u2066": _PDI, "\u2067": _PDI,
          "\u2068": _PDI}
_LINE_START = re.compile(r"^( {0,3})([#=+-]|\d+[.)])", re.MULTILINE)

_BASE_CSS = """
<style>
  h1, h2, h3 { color: #003087; }
  /* Streamlit fades captions to 60% opacity (under 4.5:1 on white); NHS secondary text colour passes AA. */
  [data-testid="stCaptionContainer"] { opacity: 1 !important; color: #4C6272 !important; }
  [data-testid="stCaptionContainer"] p { color: #4C6272 !important; }
  .block-container { padding-top: 2rem; }
  /* Read-only tables (static_table) wrap between words; cells with a long word (class brk) may
     break it. A table still wider than the page (on a phone) scrolls inside its wrapper, which the
     keyboard can focus: a scrolling region it cannot reach fails WCAG. */
  table.pcn-table { border-collapse: collapse; width: 100%; font-size: 0.9rem; line-height: 1.4; }
  table.pcn-table th, table.pcn-table td { border-bottom: 1px solid #D8DDE0; padding: 0.35rem 0.6rem;
    text-align: left; vertical-align: top; overflow-wrap: break-word; }
  table.pcn-table .brk { overflow-wrap: anywhere; }
  table.pcn-table .num { text-align: right; font-variant-numeric: tabular-nums; }
  table.pcn-table th { color: #212B32; font-weight: 600; border-bottom: 2px solid #AEB7BD; }
  table.pcn-table tbody tr:nth-child(even) { background: #F7F9FA; }
  .pcn-key { display: flex; flex-wrap: wrap; gap: 0.25rem; margin: 0 0 0.5rem; font-size: 0.85rem; }
  .pcn-chip { padding: 0.15rem 0.6rem; border-radius: 0.2rem; }
  .pcn-bar-row { display: grid; grid-template-columns: minmax(8rem, 16rem) 1fr; gap: 0.75rem; align-items: center;
    margin: 0 0 0.5rem; font-size: 0.9rem; }
  .pcn-bar { display: flex; height: 2rem; border-radius: 0.2rem; overflow: hidden; background: #F0F4F5; }
  .pcn-seg { display: flex; align-items: center; justify-content: center; min-width: 0; overflow: hidden;
    white-space: nowrap; font-size: 0.8rem; font-variant-numeric: tabular-nums; box-shadow: inset -1px 0 #FFFFFF; }
  @media (max-width: 640px) { .pcn-bar-row { grid-template-columns: 1fr; gap: 0.2rem; } }
  .pcn-table-wrap { overflow-x: auto; margin-bottom: 1rem; }
  .pcn-table-wrap:focus-visible { outline: 3px solid #FFB81C; outline-offset: 2px; }
  @media (max-width: 640px) {
    table.pcn-table th, table.pcn-table td { padding: 0.3rem 0.35rem; }
  }
  /* A disabled control's label is still read (a page opened before a name is given): Streamlit
     fades it below AA contrast, so it keeps the text colour. */
  [data-testid="stWidgetLabel"] p { color: #212B32 !important; }
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


def _close_directions(text: str) -> str:
    """The text with every direction embedding it opens closed at its end (invisible)."""
    open_: list[str] = []
    for ch in text:
        if ch in _OPENS:
            open_.append(_OPENS[ch])
        elif ch == _PDF and open_ and open_[-1] == _PDF:
            open_.pop()
        elif ch == _PDI and _PDI in open_:  # closes its isolate and whatever was opened inside it
            del open_[len(open_) - 1 - open_[::-1].index(_PDI):]
    return text + "".join(reversed(open_))


def plain(text: object) -> str:
    """Escape text for anything Streamlit renders as markdown (see ARCHITECTURE.md, Escaping) so it shows
    as typed: no markdown, HTML, LaTeX, emoji or icon codes, colour directives or links."""
    if text is None:
        return ""
    escaped = _ALWAYS.sub(r"\\\1", _BREAK.sub(r"\1" + JOINER, _close_directions(str(text))))
    escaped = _ENTITY.sub(r"\\&", escaped)
    escaped = _LINE_START.sub(_escape_line_start, escaped)
    # Line breaks should stay line breaks in the rendered paragraph.
    return escaped.replace("\n", "  \n")


def table_html(df, *, alt: str | None = None, styles=None) -> str:
    """`df` as an HTML table: every header and cell escaped as text (no markdown, no HTML), line
    breaks kept, empty cells blank, number columns aligned right; `alt` names the table for a
    screen reader; `styles`, a frame of df's shape, gives each cell's CSS ("" for none). Text wraps
    between words; a cell with a word too long for a column (an address, say) may also break
    inside it, so the table never runs off the page (marking only those cells keeps the browser
    from squeezing short columns such as a code into broken words)."""
    import pandas as pd

    def cell(v) -> tuple[str, bool]:
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return "", False
        text = str(v)
        return (html.escape(_close_directions(text)).replace("\n", "<br>"),
                max((len(w) for w in text.split()), default=0) > LONG_WORD)

    def attrs(number: bool, long: bool, css: str = "") -> str:
        classes = " ".join(c for c, on in (("num", number), ("brk", long)) if on)
        return (f' class="{classes}"' if classes else "") + _style(css)

    numeric = [pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in df.dtypes]
    label = f' aria-label="{html.escape(alt)}"' if alt else ""
    head = "".join(f'<th scope="col"{attrs(n, long)}>{text}</th>'
                   for (text, long), n in ((cell(c), n) for c, n in zip(df.columns, numeric)))
    css = styles.to_numpy().tolist() if styles is not None else [[""] * len(df.columns)] * len(df)
    rows = "".join("<tr>" + "".join(f"<td{attrs(n, long, c)}>{text}</td>"
                                    for (text, long), n, c in ((cell(v), n, c) for v, n, c in zip(r, numeric, cs)))
                   + "</tr>" for r, cs in zip(df.itertuples(index=False), css))
    # A region the keyboard can focus and scroll: on a phone a wide table scrolls sideways inside
    # it rather than squeeze every column into broken words (the pattern WCAG reviewers expect).
    region = f' role="region" tabindex="0"{label}' if alt else ' tabindex="0"'
    return (f'<div class="pcn-table-wrap"{region}><table class="pcn-table"{label}><thead><tr>{head}</tr></thead>'
            f'<tbody>{rows}</tbody></table></div>')


LONG_WORD = 16  # characters: a word longer than this may break inside itself (table_html)


def _style(css: str) -> str:
    return f' style="{html.escape(css)}"' if css else ""


def colour_key(swatches, *, title: str = "Key") -> None:
    """A row of coloured chips, one per (label, background, text colour), as the key to a coloured table."""
    chips = "".join(f'<span class="pcn-chip"{_style(f"background-color: {bg}; color: {fg}")}>{html.escape(label)}</span>'
                    for label, bg, fg in swatches)
    st.html(f'<div class="pcn-key"><span>{html.escape(title)}:</span>{chips}</div>')


def static_table(df, *, alt: str | None = None, styles=None) -> None:
    """A read-only table as one piece of HTML (table_html). Where nobody needs to sort or search, this
    is the table to use: st.dataframe's grid costs about 350 ms of the browser's time on any page
    that has one, and st.table draws every cell as markdown, which cost a page of 150 cells about
    100 ms (benchmarks/bench_browser.py); a screen reader reads an HTML table as a table. It wraps
    within the page's width, and where it cannot (a wide table on a phone) scrolls inside a region
    the keyboard can focus."""
    st.html(table_html(df, alt=alt, styles=styles))


def stacked_bars(bars, *, alt: str) -> None:
    """Horizontal stacked bars as HTML (figures.charts.distribution_bars): a row per bar with its
    name, each segment as wide as its share, its share written in it when there is room, and
    its label, count and share as the segment's name for a screen reader and its tooltip. A
    browser draws this in a few milliseconds; a plotly chart costs a page about 250 ms."""
    rows = []
    for name, segments in bars:
        parts = []
        for seg in segments:
            if seg["share"] <= 0:
                continue
            words = f'{seg["label"]}: {seg["count"]:,} elements ({seg["share"]:.0f}%)'
            background = (f"repeating-linear-gradient(45deg, {seg['background']} 0 6px, #C8CED2 6px 8px)"
                          if seg["hatched"] else seg["background"])
            shown = f"{seg['share']:.0f}%" if seg["share"] >= 6 else ""
            css = f"width: {seg['share']:.3f}%; background: {background}; color: {seg['text']}"
            parts.append(f'<span class="pcn-seg" role="img" aria-label="{html.escape(words)}" '
                         f'title="{html.escape(words)}"{_style(css)}>{shown}</span>')
        rows.append(f'<div class="pcn-bar-row"><div class="pcn-bar-name">{html.escape(_close_directions(str(name)))}</div>'
                    f'<div class="pcn-bar">{"".join(parts)}</div></div>')
    st.html(f'<div class="pcn-bars" role="group" aria-label="{html.escape(alt)}">{"".join(rows)}</div>')


LARGE_KEY = "large_text"
PRESENT_KEY = "present"  # the workshop page's projector layout (?present=true), which implies large text


def is_large() -> bool:
    """Whether this run shows large text, so charts can be built to match it in the same run."""
    # The switch's state arrives before the address catches up with it: either says so.
    return bool(st.session_state.get(LARGE_KEY) or st.session_state.get(PRESENT_KEY)) \
        or st.query_params.get(PRESENT_KEY) == "true"


def apply_look() -> None:
    """Shared styling plus the projector (large text) toggle in the sidebar."""
    st.html(_BASE_CSS)
    # Kept in the URL (?large_text=true), so a reload or a shared link keeps the projector setting.
    st.sidebar.toggle(
        "Large text (projector)",
        key=LARGE_KEY,
        help="Bigger text for workshops on a projector.",
        bind="query-params",
    )
    if is_large():
        st.html(_LARGE_CSS)

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
  /* The workshop's spread (spread_strip): per element a track across the stages, the range a grey
     bar, the median a dark tick, and a blue disc at each stage chosen with how many chose it. In em,
     so it grows with the projector's large text at once. */
  .pcn-spread { margin: 0 0 0.75rem; }
  .pcn-spread-row { display: grid; grid-template-columns: minmax(7em, 32%) 1fr; gap: 0.75em; align-items: center;
    padding: 0.3em 0; border-bottom: 1px solid #E8EDEE; }
  .pcn-spread-name { text-align: right; color: #425563; line-height: 1.25; overflow-wrap: break-word; }
  .pcn-spread-name b { color: #212B32; }
  .pcn-spread-track { position: relative; height: 2.6em; }
  .pcn-spread-scale { height: auto; display: grid; align-items: end; }
  .pcn-spread-stage { padding: 0 0.2em; text-align: center; color: #425563; font-size: 0.9em; line-height: 1.2;
    overflow-wrap: break-word; min-width: 0; }
  .pcn-spread-grid { position: absolute; top: 0; bottom: 0; border-left: 1px solid #E8EDEE; }
  .pcn-spread-range { position: absolute; top: 50%; height: 0.7em; transform: translateY(-50%); background: #D8DDE0;
    border-radius: 0.35em; }
  .pcn-spread-median { position: absolute; top: 0; bottom: 0; width: 0.25em; transform: translateX(-50%);
    background: #003087; border-radius: 0.1em; }
  .pcn-spread-count { position: absolute; top: 50%; transform: translate(-50%, -50%); min-width: 1.6em; height: 1.6em;
    padding: 0 0.3em; box-sizing: border-box; border-radius: 0.8em; background: #005EB8; color: #FFFFFF;
    border: 2px solid #FFFFFF; font-weight: 700; font-size: 0.9em; line-height: 1.6em; text-align: center;
    font-variant-numeric: tabular-nums; }
  .pcn-spread-none { color: #4C6272; font-size: 0.9em; }
  .pcn-spread-key { display: flex; flex-wrap: wrap; gap: 0.4em 1.2em; align-items: center; margin-top: 0.4em;
    font-size: 0.9em; color: #212B32; }
  .pcn-spread-key span { display: inline-flex; align-items: center; gap: 0.35em; }
  .pcn-spread-key i { display: inline-block; position: static; transform: none; font-size: 1em; font-style: normal; }
  @media (max-width: 640px) { .pcn-spread-row { grid-template-columns: 1fr; gap: 0.1em; }
    .pcn-spread-name { text-align: left; } }
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


def _at(position: float, n: int) -> str:
    """A stage position (0 the first stage, .5 between two) as a share of the track's width."""
    return f"{(position + 0.5) / n * 100:.3f}%"


def spread_html(rows, stage_labels, *, alt: str) -> str:
    """The workshop's spread (figures.charts.spread_rows) as HTML: the stage labels over the tracks,
    then per element its name (and "views differ") and its track, each read by a screen reader as
    one sentence; a key below. Text is escaped with html.escape."""
    n = max(len(stage_labels), 1)
    grid = "".join(f'<span class="pcn-spread-grid"{_style(f"left: {_at(i, n)}")}></span>' for i in range(n))
    # The stage labels in a grid of as many columns: each centred where its stage's discs sit.
    scale = "".join(f'<span class="pcn-spread-stage">{html.escape(_close_directions(str(label)))}</span>'
                    for label in stage_labels)
    columns = _style(f"grid-template-columns: repeat({n}, minmax(0, 1fr))")
    out = [f'<div class="pcn-spread-row" aria-hidden="true"><div></div>'
           f'<div class="pcn-spread-track pcn-spread-scale"{columns}>{scale}</div></div>']
    for r in rows:
        title = html.escape(_close_directions(str(r["title"])))
        name = title + ("<br><b>views differ</b>" if r["split"] else "")
        if not r["n"]:
            words = f'{r["title"]}: no ratings yet'
            track = '<span class="pcn-spread-none">No ratings yet</span>'
        else:
            chose = "; ".join(f"{c} at {stage_labels[i]}" for i, c in enumerate(r["counts"]) if c)
            low, high, median = (stage_labels[int(r["low"])], stage_labels[int(r["high"])],
                                 _median_words(r["median"], stage_labels))
            words = (f'{r["title"]}: {r["n"]} rating{"s" if r["n"] != 1 else ""} ({chose}); '
                     + (f"all at {low}" if low == high else f"from {low} to {high}, median {median}")
                     + ("; views differ" if r["split"] else ""))
            left, right, mid = _at(r["low"], n), _at(r["high"], n), _at(r["median"], n)
            band = f"left: calc({left} - 0.35em); width: calc({right} - {left} + 0.7em)"
            track = grid + (f'<span class="pcn-spread-range"{_style(band)}></span>'
                            f'<span class="pcn-spread-median"{_style(f"left: {mid}")}></span>')
            track += "".join(f'<span class="pcn-spread-count"{_style(f"left: {_at(i, n)}")}>{c}</span>'
                             for i, c in enumerate(r["counts"]) if c)
        out.append(f'<div class="pcn-spread-row" role="img" aria-label="{html.escape(_close_directions(words))}">'
                   f'<div class="pcn-spread-name">{name}</div><div class="pcn-spread-track">{track}</div></div>')
    key = ('<div class="pcn-spread-key" aria-hidden="true">'
           '<span><i class="pcn-spread-count">2</i>how many chose the stage</span>'
           '<span><i class="pcn-spread-range" style="width: 2em"></i>range</span>'
           '<span><i class="pcn-spread-median" style="height: 1.4em"></i>median</span></div>')
    return f'<div class="pcn-spread" role="group" aria-label="{html.escape(alt)}">{"".join(out)}{key}</div>'


def _median_words(median: float, stage_labels) -> str:
    if median == int(median):
        return str(stage_labels[int(median)])
    return f"between {stage_labels[int(median)]} and {stage_labels[int(median) + 1]}"


def spread_strip(rows, stage_labels, *, alt: str) -> None:
    """The workshop's spread, drawn by the browser in a few milliseconds (spread_html)."""
    st.html(spread_html(rows, stage_labels, alt=alt))


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

"""The NHS look for charts: colours, font, a plotly template, and safe chart text.

No Streamlit here: the same look is used by the app's pages and by the PDF report.
"""
from __future__ import annotations

import math
import textwrap

import plotly.graph_objects as go

NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_TEXT = "#212B32"
NHS_DARK_GREY = "#425563"
NHS_MID_GREY = "#768692"
NHS_PALE_GREY = "#E8EDEE"
NHS_WHITE = "#FFFFFF"
FONT_FAMILY = "Frutiger, Arial, Helvetica, sans-serif"

NOT_RATED_COLOUR = NHS_PALE_GREY
# Target lines are dashed and dark grey so they differ from any year in both colour and dash.
TARGET_COLOUR = NHS_DARK_GREY

# The stage scale runs through these CIELAB points: pale blue -> NHS light blue (#41B6E6) ->
# NHS blue (#005EB8) -> deep navy. Stages are
# spaced evenly in lightness (L*), so neighbouring stages differ by the same amount in greyscale
# print, and a blue-only ramp stays readable for every common colour-vision deficiency.
_LIGHTEST_L, _DARKEST_L = 90.0, 20.0
_RAMP = [(90.0, -4.0, -10.0), (69.7, -17.2, -33.4), (40.4, 12.4, -53.9), (20.0, 6.0, -33.0)]


def _lab_to_hex(L: float, a: float, b: float) -> str:
    fy = (L + 16) / 116
    fx, fz = fy + a / 500, fy - b / 200

    def finv(t: float) -> float:
        return t ** 3 if t ** 3 > 216 / 24389 else (116 * t - 16) / (24389 / 27)

    x, y, z = 0.95047 * finv(fx), finv(fy), 1.08883 * finv(fz)
    lin = (3.2406 * x - 1.5372 * y - 0.4986 * z,
           -0.9689 * x + 1.8758 * y + 0.0415 * z,
           0.0557 * x - 0.2040 * y + 1.0570 * z)

    def gamma(c: float) -> int:
        c = min(1.0, max(0.0, c))
        c = 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055
        return round(c * 255)

    return "#" + "".join(f"{gamma(c):02X}" for c in lin)


def _ramp_at(L: float) -> str:
    for (l0, a0, b0), (l1, a1, b1) in zip(_RAMP, _RAMP[1:]):
        if l1 <= L <= l0:
            t = (l0 - L) / (l0 - l1)
            return _lab_to_hex(L, a0 + t * (a1 - a0), b0 + t * (b1 - b0))
    raise ValueError(L)


def stage_colours(n: int) -> list[str]:
    """n colours for n ordered stages, lightest (first stage) to darkest (last stage)."""
    if n < 1:
        return []
    if n == 1:
        return [NHS_BLUE]
    step = (_LIGHTEST_L - _DARKEST_L) / (n - 1)
    return [_ramp_at(_LIGHTEST_L - i * step) for i in range(n)]


def stage_colourscale(n: int) -> list[list]:
    """A continuous plotly colourscale over scores 0..n-1 passing through `stage_colours(n)`."""
    colours = stage_colours(max(n, 2))
    return [[i / (len(colours) - 1), c] for i, c in enumerate(colours)]


def relative_luminance(hex_colour: str) -> float:
    def lin(c: int) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(int(hex_colour[i:i + 2], 16)) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_colour_on(background: str) -> str:
    """Black or white text, whichever contrasts more: at worst about 4.6:1 (WCAG AA for small
    text), which NHS dark grey text could not promise on mid-blue cells."""
    lum = relative_luminance(background)
    return NHS_WHITE if 1.05 / (lum + 0.05) > (lum + 0.05) / 0.05 else "#000000"


def chart_text(text: object) -> str:
    """Text from users or files, made literal for plotly.

    Plotly renders a subset of HTML tags in every piece of chart text (titles, tick labels,
    hover labels, legend names), and it decodes entities; escaping &, < and > keeps what was
    typed exactly as typed."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def wrap(text: object, width: int = 18) -> str:
    """Escaped text broken into lines of about `width` characters, for long domain titles."""
    lines = textwrap.wrap(str(text if text is not None else ""), width=width, break_long_words=True) or [""]
    return "<br>".join(chart_text(line) for line in lines)


def fit(text: object, width: int = 18, lines: int = 3) -> str:
    """Escaped text wrapped into at most `lines` lines of about `width` characters, the last cut
    with "…" when there is more: for chart labels whose full text is in the table beside the chart."""
    parts = textwrap.wrap(str(text if text is not None else ""), width=width, break_long_words=True) or [""]
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = parts[-1][:max(1, width - 1)].rstrip() + "…"
    return "<br>".join(chart_text(line) for line in parts)


def line_count(label: str) -> int:
    """How many lines a label made by `wrap` or `fit` takes."""
    return label.count("<br>") + 1


def stage_ticks(labels: list[str], width: int, lines: int, numbers: list[float] | None = None) -> list[str]:
    """Stage labels for an axis with room for `lines` lines of `width` characters per stage.
    Where shortening makes two stages read alike, each is prefixed with its number on the axis
    (`numbers`, by default the positions 0, 1, 2, ...), so the axis stays unambiguous; with no
    room for words at all, the numbers alone."""
    numbers = [f"{x:g}" for x in numbers] if numbers is not None else [str(i) for i in range(len(labels))]
    if lines < 1 or width < 8:  # too little room for a word: "Lev…" would tell nothing
        return numbers
    ticks = [fit(s, width, lines) for s in labels]
    if len(set(ticks)) < len(ticks):
        ticks = [fit(f"{k} {s}", width, lines) for k, s in zip(numbers, labels)]
    return ticks


def template() -> go.layout.Template:
    """White background, NHS font and colours; figures start from this."""
    t = go.layout.Template()
    t.layout = go.Layout(
        font=dict(family=FONT_FAMILY, size=14, color=NHS_TEXT),
        title=dict(font=dict(size=18, color=NHS_DARK_BLUE), x=0.015, xanchor="left"),
        paper_bgcolor=NHS_WHITE,
        plot_bgcolor=NHS_WHITE,
        colorway=[NHS_BLUE, NHS_DARK_GREY, NHS_MID_GREY, NHS_DARK_BLUE],
        hoverlabel=dict(font=dict(family=FONT_FAMILY)),
        legend=dict(font=dict(size=13)),
        margin=dict(l=60, r=30, t=70, b=60),
    )
    axis = dict(gridcolor=NHS_PALE_GREY, linecolor=NHS_MID_GREY, zerolinecolor=NHS_PALE_GREY,
                tickfont=dict(size=13), title=dict(font=dict(size=14)))
    t.layout.xaxis = axis
    t.layout.yaxis = axis
    return t

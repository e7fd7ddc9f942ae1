"""Rating one element: its stage descriptors side by side with the chosen ones marked, and the
controls that save every change at once.

Each change is written by the widget's on_change callback with the rating version the widgets
were filled from, so a save made meanwhile by someone else raises ConflictError instead of
being overwritten. The widgets are refilled from the database whenever the stored version moves
on, except while a conflict is open: then they keep what this user chose or typed, so nothing
is lost before they decide to load the latest.

Streamlit decides a widget "changed" by comparing with the last run that finished. When runs
are cut short one after another (a click while the page is still drawing), it can report
every widget as changed, some with empty values. So a save is made only when the value differs
from what the page showed, and only when the previous run finished drawing the page (pages
call `page_started()` first and `page_finished()` last); otherwise the widgets are refilled
from the database and the user is told to make the change again.

The controls forgive: clicking the chosen stage (or confidence) again keeps it, since one tap on a
touch screen must not unrate an element; clearing is its own button; and the last changes this
session made can be undone, one at a time, from the element each concerns.

Clicks redraw only what changed. Each element's card has three parts, each a fragment
(`st.fragment`, keyed `part_key(element id, part)`): the stages (descriptors, the two stage
controls, undo and clear, "not applicable" and any message about a save), the confidence, and the
two text boxes. They sit inside the fragment of the open domain, and the page's summary (last
saved, how many rated, evidence coverage) and the domain's count line are keyed fragments too. A
save's callback names what else it reaches (`st.rerun(keys)`; when nothing else, Streamlit reruns
only the part clicked): the parts of its fields; the stages of the card that showed "Undo" before
and of the one that shows it now (undo and clear are a small part of their own, inside the stages); the summary and count line when the element became rated or
unrated or the last-saved line moves on. A change that reaches the parts of the page that are no
fragments (a conflict, a lock, "not applicable" or a carried-over mark, which the coverage line
and the submission warnings count, evidence added or confirmed) reruns the whole page, and so does
one whose callback changed what a control shows beyond the part clicked (undo, clear, trimmed
text): Streamlit 1.67 sends such values on a rerun of the part clicked or of the page, not on a
rerun of named fragments. A part
rerun alone reads the rating afresh (its arguments are those of the last full run), and while it
draws, the widgets' changes are not trusted, as during a page run.
"""
from __future__ import annotations

import html

import contextlib

from collections.abc import Mapping
from typing import Any, NamedTuple

import streamlit as st

from assessments.model import NOT_APPLICABLE, Assessment, Rating

from assessments.store import Store

from assessments.values import BusyError, ConflictError, LockedError, StoreError
from matrix import Domain, Element, Matrix

from .cache import cached
from .evidence import evidence_block
from .look import plain
from .state import get_store
from assessments import ratings as assessing

FIELDS = ("current_stage", "target_stage", "confidence", "evidence", "note", "not_applicable")
LABELS = {
    "current_stage": "Where are we now?",
    "target_stage": "Where do we want to be in a year?",
    "confidence": "Confidence",
    "evidence": "Evidence",
    "note": "Note",
    "not_applicable": "Not applicable to this network",
}
_SHORT = {"current_stage": "now", "target_stage": "target", "confidence": "confidence", "evidence": "evidence",
          "note": "note", "not_applicable": "not applicable"}
CONFIDENCES = ("low", "medium", "high")
TEXT_LIMIT = 20_000  # the store's limit, enforced in the box so nothing typed is refused later
SAVE_CAPTION = ("Every change is saved as soon as you make it: a stage or confidence when you click it, a text box "
                "when you click or tab out of it (or press Ctrl+Enter).")

_SHOWN = "rating_shown"  # {(assessment id, element id): rating version the widgets show}
_CONFLICTS = "rating_conflicts"  # {(assessment id, element id): message}
_PROBLEMS = "rating_problems"  # {(assessment id, element id): message} for refused saves other than conflicts
_TOASTS = "rating_toasts"  # what to announce on the next run
_RETRY = "rating_retry"  # {(assessment id, element id): fields whose save met a busy database}
_VALUES = "rating_values"  # {(assessment id, element id): {field: value the widgets were filled with}}
_DRAWN = "rating_page_drawn"  # True once a run of the page has drawn every widget
_UNDO = "rating_undo"  # {assessment id: [Change, ...]}, the latest last
_CARDS = "rating_cards"  # {assessment id: {element id: (rated, not applicable, carried over)}} of the cards drawn
_SUMMARY_SHOWN = "rating_summary_shown"  # {assessment id: the last-saved line's (who, minute) the summary shows}
_FRAGMENT = "rating_fragment_drawing"  # True while a fragment rerun draws editors
_WHOLE = "rating_redraw_page"  # set by a refusal whose message reaches beyond the card (a lock, a page still loading)
SUMMARY_KEY = "assess-summary"  # the fragment with the page's last-saved line, rated count and coverage
HEAD_KEY = "assess-domain-head"  # the fragment with the open domain's count line
DOMAINS_KEY = "assess-domains"  # the fragment with the domain tabs and the open domain's cards
UNDO_DEPTH = 20
CHOSEN_FIELDS = ("current_stage", "target_stage", "confidence")  # chosen by a click; a second click keeps them

# Chosen stages get a thick border and a tint; "now" solid NHS blue, the target dashed dark grey
# (as the dashed target line in the charts), so the two differ without relying on colour.
PAGE_CSS = """
<style>
  .pcn-stages { display: grid; grid-template-columns: repeat(var(--stages), minmax(0, 1fr)); gap: 0.5rem; }
  @media (max-width: 640px) { .pcn-stages { grid-template-columns: minmax(0, 1fr); } }
  .pcn-stage { border: 1px solid #D8DDE0; border-radius: 0.5rem; padding: 0.75rem; }
  .pcn-stage-now, .pcn-stage-both { border: 3px solid #005EB8; background: #EEF5FB; }
  .pcn-stage-target { border: 3px dashed #425563; background: #F6F7F8; }
  /* Four descriptors side by side are narrow columns: no words broken mid-way, and in large text
     mode a size that still fits a few words a line. */
  .pcn-stage p { font-size: 1rem !important; overflow-wrap: normal; word-break: normal; hyphens: auto; margin: 0 0 0.4rem; }
  .pcn-stage-label { display: flex; flex-wrap: wrap; gap: 0.3rem; align-items: center; }
  .pcn-badge { font-size: 0.85rem; padding: 0 0.45rem; border-radius: 0.3rem; font-weight: 600; }
  .pcn-badge-now { background: #005EB8; color: #FFFFFF; }
  .pcn-badge-target { background: #FFFFFF; color: #212B32; border: 1px dashed #425563; }
  /* Read-only ratings (agreed, or no name given) are still read, often on a projector: Streamlit
     fades disabled widgets to 40%, below AA contrast, so keep their text dark. */
  [class*="st-key-element-"] [data-testid="stWidgetLabel"] p { color: #212B32 !important; }
  [class*="st-key-element-"] textarea:disabled { color: #4C6272 !important; -webkit-text-fill-color: #4C6272 !important; }
  [class*="st-key-element-"] button:disabled p { color: #4C6272 !important; }
  [class*="st-key-element-"] button[aria-checked="true"]:disabled { background: #E8EDEE !important; border-color: #425563 !important; }
  [class*="st-key-element-"] button[aria-checked="true"]:disabled p { color: #212B32 !important; font-weight: 600; }
  /* All the domains in view at once, on a laptop or a projector: the tab strip wraps instead of scrolling. */
  [data-testid="stTabs"] [role="tablist"] { flex-wrap: wrap; row-gap: 0.25rem; }
</style>
"""


def widget_key(assessment_id: int, element_id: str, field: str) -> str:
    return f"a{assessment_id}|{element_id}|{field}"


PART_OF = {"current_stage": "stages", "target_stage": "stages", "not_applicable": "stages", "confidence": "confidence",
           "evidence": "texts", "note": "texts"}  # the part of a card (a fragment) each field's control is in


def part_key(element_id: str, part: str = "stages") -> str:
    """The key of a part of the element's card, a fragment: "stages" (with "tools", undo and clear,
    inside it), "confidence" or "texts"."""
    return f"assess-{part}-{element_id}"


@cached()
def assessment_ratings(assessment_id: int) -> dict[str, Rating]:
    return assessing.ratings(get_store(), assessment_id)


def is_rated(rating: Rating | None) -> bool:
    """Answered: a current stage chosen, or rated not applicable."""
    return rating is not None and (rating.current_stage is not None or rating.not_applicable)


def rated_count(ratings: Mapping[str, Rating], elements: list[Element]) -> int:
    return sum(is_rated(ratings.get(e.id)) for e in elements)


def last_saved(ratings: Mapping[str, Rating]) -> Rating | None:
    return max(ratings.values(), key=lambda r: r.updated_at, default=None)


def _widget_value(field: str, rating: Rating | None) -> Any:
    value = getattr(rating, field) if rating is not None else None
    if field == "not_applicable":
        return bool(value)
    return (value or "") if field in ("evidence", "note") else value


def show_stored(assessment_id: int, element_id: str, rating: Rating | None) -> None:
    """Fill the element's widgets from the database when its stored version has moved on.

    Call before the widgets are drawn. While a conflict is open the widgets keep the user's own
    values; widgets Streamlit dropped meanwhile are refilled from the database.
    """
    shown = st.session_state.setdefault(_SHOWN, {})
    keys = {f: widget_key(assessment_id, element_id, f) for f in FIELDS}
    version = rating.version if rating is not None else 0
    in_conflict = (assessment_id, element_id) in st.session_state.get(_CONFLICTS, {})
    values = st.session_state.setdefault(_VALUES, {}).setdefault((assessment_id, element_id), {})
    if in_conflict or shown.get((assessment_id, element_id)) == version:
        for f, k in keys.items():
            if k not in st.session_state:
                st.session_state[k] = values[f] = _widget_value(f, rating)
        return
    _fill(assessment_id, element_id, rating)
    shown[(assessment_id, element_id)] = version


def _fill(assessment_id: int, element_id: str, rating: Rating | None) -> None:
    values = st.session_state.setdefault(_VALUES, {}).setdefault((assessment_id, element_id), {})
    for f in FIELDS:
        st.session_state[widget_key(assessment_id, element_id, f)] = values[f] = _widget_value(f, rating)


def page_started() -> None:
    """Call at the top of a page that draws rating editors (before any of them)."""
    st.session_state[_DRAWN] = False


def page_finished() -> None:
    """Call at the very end of the page: from now on the widgets' changes can be trusted."""
    st.session_state[_DRAWN] = True


def fragment_rerun() -> bool:
    """True while Streamlit reruns fragments only (not the whole page)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return bool(ctx and ctx.fragment_ids_this_run)


@contextlib.contextmanager
def drawing():
    """Around a fragment that draws rating editors: while a fragment rerun draws it, changes are not
    trusted (as between page_started and page_finished); toasts of this run's saves are shown."""
    if not fragment_rerun() or st.session_state.get(_FRAGMENT):
        yield  # part of a page run, or of the fragment around it
        return
    st.session_state[_FRAGMENT] = True
    st.session_state[_DRAWN] = False
    try:
        show_toasts()
        yield
        st.session_state[_DRAWN] = True
    finally:
        st.session_state[_FRAGMENT] = False


def summary_shown(assessment_id: int, last: Rating | None) -> None:
    """The page's summary records the last-saved line it shows, so a save knows when it moves on."""
    st.session_state.setdefault(_SUMMARY_SHOWN, {})[assessment_id] = _line_of(last)


def _line_of(r: Rating | None) -> tuple | None:
    return (r.updated_by, f"{r.updated_at:%Y-%m-%d %H:%M}") if r is not None else None


def _facts(r: Rating | None) -> tuple[bool, bool, bool, bool]:
    """What of a rating parts other than its control show: rated, not applicable, carried over (the
    page around the card), and whether anything is chosen (the clear button beside the stages)."""
    chosen = r is not None and any(getattr(r, f) is not None for f in CHOSEN_FIELDS)
    return is_rated(r), bool(r and r.not_applicable), bool(r and r.carried_over), chosen


def _sent(assessment_id: int, element_id: str) -> dict[str, Any]:
    """The element's widget values as the browser sent them (read before a callback changes any)."""
    return {f: st.session_state.get(widget_key(assessment_id, element_id, f)) for f in FIELDS}


def _owner(assessment_id: int) -> str | None:
    last = last_change(assessment_id)
    return last.element_id if last else None


def _redraw(assessment_id: int, element_id: str, owner_before: str | None, saved: Rating | None = None, *,
            own: str = "stages", fields: tuple[str, ...] = (), whole: bool = False,
            sent: Mapping[str, Any] | None = None) -> None:
    """End of a callback from a card's part `own`: rerun what the change of `fields` reaches (see the
    module notes). When that is only the part clicked, Streamlit's own rerun of it follows; so it
    does on a page whose cards are no fragments, or for a card not drawn."""
    cards = st.session_state.get(_CARDS, {}).get(assessment_id)
    if not cards or element_id not in cards:
        return
    if whole or (assessment_id, element_id) in st.session_state.get(_CONFLICTS, {}):
        st.rerun()
    keys = [part_key(element_id, own)]

    def add(key: str) -> None:
        if key not in keys:
            keys.append(key)

    for f in fields:
        add(part_key(element_id, PART_OF[f]))
    owner_after = _owner(assessment_id)
    if owner_before != owner_after:  # "Undo" moves from one card to another
        for other in (owner_before, owner_after):
            if other is not None and other in cards:
                add(part_key(other, "tools"))
    if saved is not None:
        before, after = cards[element_id], _facts(saved)
        if before[1:3] != after[1:3]:
            st.rerun()  # not applicable or carried over: the coverage line and the submission warnings
        cards[element_id] = after
        if before[3] != after[3]:
            add(part_key(element_id, "tools"))
        if before[0] != after[0] or _line_of(saved) != st.session_state.get(_SUMMARY_SHOWN, {}).get(assessment_id):
            add(SUMMARY_KEY)
            add(HEAD_KEY)
    if part_key(element_id) in keys and part_key(element_id, "tools") in keys:
        keys.remove(part_key(element_id, "tools"))  # drawn with the stages anyway
    if keys == [part_key(element_id, own)]:
        return
    if sent is not None and sent != _sent(assessment_id, element_id):
        # The callback changed what a control shows (undo, clear, trimmed text): Streamlit 1.67 sends
        # such values to the browser on its own rerun of the part clicked, or the whole page's,
        # but not on a rerun of named fragments.
        st.rerun()
    from streamlit.errors import StreamlitAPIException

    try:
        st.rerun(keys)
    except StreamlitAPIException:  # a fragment no longer known to Streamlit: draw it all
        st.rerun()


def _announce(text: str, icon: str) -> None:
    st.session_state.setdefault(_TOASTS, []).append((text, icon))


def show_toasts() -> None:
    """Toasts for the saves made by this run's callbacks."""
    for text, icon in st.session_state.pop(_TOASTS, []):
        st.toast(plain(text), icon=icon)


def _describe(matrix: Matrix, field: str, value: Any) -> str:
    if field in ("current_stage", "target_stage"):
        return matrix.stage(value).label if value else "not set"
    if field == "confidence":
        return value or "not said"
    if field == "not_applicable":
        return "set" if value else "taken off: it applies"
    return "saved" if value else "cleared"


class Change(NamedTuple):
    """One saved change this session can undo: the values before it, and the version it made."""
    element_id: str
    before: dict[str, Any]
    version: int
    what: str  # what undoing it does, e.g. "now back to Step 1"


def _stored(field: str, value: Any) -> Any:
    """A widget's value as the store takes it (an empty box is no text)."""
    return (value or None) if field in ("evidence", "note") else value


def _remember(matrix: Matrix, assessment_id: int, element_id: str, shown: Mapping[str, Any], saved: Rating) -> None:
    """Keep what a save changed, so it can be undone."""
    before = {f: _stored(f, v) for f, v in shown.items() if f in FIELDS and v != _widget_value(f, saved)}
    if not before:
        return
    what = ", ".join(f"{_SHORT[f]} back to {_describe(matrix, f, v)}" if f in CHOSEN_FIELDS
                     else f"{_SHORT[f]} as it was" for f, v in before.items())
    changes = st.session_state.setdefault(_UNDO, {}).setdefault(assessment_id, [])
    changes.append(Change(element_id, before, saved.version, what))
    del changes[:-UNDO_DEPTH]


def last_change(assessment_id: int) -> Change | None:
    changes = st.session_state.get(_UNDO, {}).get(assessment_id)
    return changes[-1] if changes else None


def _write(store: Store, matrix: Matrix, assessment_id: int, element_id: str, values: Mapping[str, Any], by: str,
           *, retry_fields: bool = False) -> Rating | None:
    """Save `values` against the version on screen and show what was stored; a refusal is left
    under the element (None returned). With `retry_fields`, a busy database leaves the fields for
    "Save again", which sends what the widgets still hold."""
    key = (assessment_id, element_id)
    title = matrix.element(element_id).title
    problems = st.session_state.setdefault(_PROBLEMS, {})
    expected = st.session_state.setdefault(_SHOWN, {}).get(key, 0)
    problems.pop(key, None)
    retry = st.session_state.setdefault(_RETRY, {})
    try:
        saved = assessing.save_rating(store, assessment_id, element_id, by=by, expected_version=expected, **values)
    except ConflictError as exc:
        st.session_state.setdefault(_CONFLICTS, {})[key] = str(exc)
        _announce(f"Not saved: someone else changed '{title}'. See the message under it.", ":material/warning:")
        return None
    except LockedError as exc:
        st.session_state[_WHOLE] = True  # the page shows the assessment as it now stands
        problems[key] = f"Not saved: {exc}."
        _announce(f"Not saved: '{title}'. See the message under it.", ":material/lock:")
        return None
    except BusyError as exc:
        if retry_fields:  # the widget keeps what was typed; "Save again" sends it once the database is free
            pending = retry.setdefault(key, [])
            pending.extend(f for f in values if f not in pending)
        problems[key] = f"Not saved: {exc}"
        _announce(f"Not saved: '{title}'. The database is busy; see the message under it.", ":material/error:")
        return None
    except StoreError as exc:
        problems[key] = f"Not saved: {exc}."
        _announce(f"Not saved: '{title}'. See the message under it.", ":material/error:")
        return None
    for f in values:
        if f in retry.get(key, []):
            retry[key].remove(f)
    st.session_state[_SHOWN][key] = saved.version
    _fill(assessment_id, element_id, saved)  # show what was stored (trimmed text, etc.)
    return saved


def _save(store: Store, matrix: Matrix, assessment_id: int, element_id: str, field: str, by: str) -> None:
    """on_change of one widget: write that one field, checked against the version on screen."""
    owner, sent = _owner(assessment_id), _sent(assessment_id, element_id)
    saved = _save_field(store, matrix, assessment_id, element_id, field, by)
    _after(assessment_id, element_id, owner, saved, own=PART_OF[field], fields=(field,), sent=sent)


def _after(assessment_id: int, element_id: str, owner: str | None, saved: Rating | None | bool, *, own: str,
           fields: tuple[str, ...], sent: Mapping[str, Any]) -> None:
    """Redraw after a write: `saved` is the stored rating, None when refused, False for no write;
    `sent` the element's widget values before the callback."""
    whole = st.session_state.pop(_WHOLE, False)
    _redraw(assessment_id, element_id, owner, saved if saved is not False else None, own=own,
            fields=fields if saved is not False else (), whole=whole, sent=sent)


def _save_field(store: Store, matrix: Matrix, assessment_id: int, element_id: str, field: str,
                by: str) -> Rating | None | bool:
    key = (assessment_id, element_id)
    value = st.session_state.get(widget_key(assessment_id, element_id, field))
    shown = dict(st.session_state.get(_VALUES, {}).get(key, {}))
    shown_value = shown.get(field)
    if value == shown_value or (field in ("evidence", "note") and (value or "").strip() == (shown_value or "").strip()):
        return False  # not a change: nothing to save
    title = matrix.element(element_id).title
    problems = st.session_state.setdefault(_PROBLEMS, {})
    if not st.session_state.get(_DRAWN):
        # The page had not finished drawing, so this may not be the user's doing (see the module
        # notes): show the saved values again and ask for the change once more.
        st.session_state.get(_SHOWN, {}).pop(key, None)
        typed = f" What you typed: {value}" if field in ("evidence", "note") and value else ""
        problems[key] = f"Not saved: the page was still loading when this changed. Please make the change again.{typed}"
        st.session_state[_WHOLE] = True  # changes are trusted again once a page run has finished
        _announce(f"Not saved: '{title}'. The page was still loading; please make the change again.",
                  ":material/error:")
        return None
    if field in CHOSEN_FIELDS and value is None:
        # The chosen option clicked again (the controls are `required`, so only an old client sends
        # this): keep it. Clearing is its own button.
        st.session_state[widget_key(assessment_id, element_id, field)] = shown_value
        return False
    saved = _write(store, matrix, assessment_id, element_id, {field: value}, by, retry_fields=True)
    if saved is None:
        return None
    _remember(matrix, assessment_id, element_id, shown, saved)
    _announce(f"Saved '{title}': {_SHORT[field]} {_describe(matrix, field, getattr(saved, field))}.",
              ":material/check_circle:")
    return saved


def _clear(store: Store, matrix: Matrix, assessment_id: int, element_id: str, by: str) -> None:
    """The clear button: no current or target stage and no confidence (undoable)."""
    owner, sent = _owner(assessment_id), _sent(assessment_id, element_id)
    shown = dict(st.session_state.get(_VALUES, {}).get((assessment_id, element_id), {}))
    saved = _write(store, matrix, assessment_id, element_id, {f: None for f in CHOSEN_FIELDS}, by)
    if saved is not None:
        _remember(matrix, assessment_id, element_id, shown, saved)
        _announce(f"Cleared '{matrix.element(element_id).title}': no stages or confidence. Undo puts them back.",
                  ":material/check_circle:")
    _after(assessment_id, element_id, owner, saved, own="tools", fields=CHOSEN_FIELDS, sent=sent)


def _undo(store: Store, matrix: Matrix, assessment_id: int, by: str) -> None:
    """Put back what the latest change of this session replaced."""
    changes = st.session_state.get(_UNDO, {}).get(assessment_id)
    if not changes:
        return
    change = changes.pop()
    sent = _sent(assessment_id, change.element_id)
    saved = _write(store, matrix, assessment_id, change.element_id, change.before, by)
    if saved is not None:
        _announce(f"Undone: '{matrix.element(change.element_id).title}', {change.what}.", ":material/undo:")
    _after(assessment_id, change.element_id, change.element_id, saved, own="tools",
           fields=tuple(change.before), sent=sent)


def _save_again(store: Store, matrix: Matrix, assessment_id: int, element_id: str, by: str) -> None:
    """Save what is still in the widgets after the database was busy."""
    owner, results, sent = _owner(assessment_id), [], _sent(assessment_id, element_id)
    fields = tuple(st.session_state.get(_RETRY, {}).pop((assessment_id, element_id), []))
    for field in fields:
        results.append(_save_field(store, matrix, assessment_id, element_id, field, by))
    written = [r for r in results if r is not False]
    _after(assessment_id, element_id, owner, None if None in written else written[-1] if written else False,
           own="stages", fields=fields, sent=sent)


def _load_latest(assessment_id: int, element_id: str) -> None:
    st.session_state.get(_CONFLICTS, {}).pop((assessment_id, element_id), None)
    st.session_state.get(_PROBLEMS, {}).pop((assessment_id, element_id), None)
    st.session_state.get(_SHOWN, {}).pop((assessment_id, element_id), None)
    _redraw(assessment_id, element_id, None, whole=True)  # the agreement's conflict warning may go


def open_conflicts(assessment_id: int) -> list[str]:
    """Element ids of this assessment with a conflict not yet resolved."""
    return [e for (a, e) in st.session_state.get(_CONFLICTS, {}) if a == assessment_id]


def descriptor_cards(matrix: Matrix, element: Element, current: str | None, target: str | None) -> None:
    """The element's descriptor for each stage, side by side, with the current and target stages
    marked: one piece of HTML, not a bordered container of markdown per stage, because a domain's
    cards were most of the elements the browser drew on this page."""
    cards = []
    for stage in matrix.stages:
        now, aim = stage.id == current, stage.id == target
        mark = "both" if now and aim else "now" if now else "target" if aim else "plain"
        badges = (['<span class="pcn-badge pcn-badge-now">Now</span>'] if now else []) + \
                 (['<span class="pcn-badge pcn-badge-target">Target</span>'] if aim else [])
        text = html.escape(element.descriptors[stage.id]).replace("\n", "<br>")
        cards.append(f'<div class="pcn-stage pcn-stage-{mark}"><p class="pcn-stage-label"><strong>'
                     f'{html.escape(stage.label)}</strong>{" ".join(badges)}</p><p>{text}</p></div>')
    st.html(f'<div class="pcn-stages" style="--stages: {len(matrix.stages)}">{"".join(cards)}</div>')


def rating_editor(store: Store, matrix: Matrix, assessment: Assessment, element: Element, rating: Rating | None, *,
                  by: str | None) -> None:
    """One element: title, descriptors, and its controls (disabled without a name or once agreed).
    The stages, the confidence and the two text boxes are fragments of their own (`part_key`), so
    a click redraws only the part it changed (see the module notes)."""
    show_stored(assessment.id, element.id, rating)
    with st.container(key=f"element-{element.id}"):
        st.subheader(plain(element.title), anchor=False)
        _part("stages", store, matrix, assessment, element, by)
        conf, texts = st.columns([1.7, 4], gap="medium")
        with conf:
            _part("confidence", store, matrix, assessment, element, by)
        with texts:
            _part("texts", store, matrix, assessment, element, by)
        evidence_block(store, matrix, assessment, element, rating, by=by)  # dated items, files, freshness


def _part(part: str, store: Store, matrix: Matrix, assessment: Assessment, element: Element, by: str | None) -> None:
    st.fragment(key=part_key(element.id, part))(_draw_part)(part, store, matrix, assessment, element, by)


def _draw_part(part: str, store: Store, matrix: Matrix, assessment: Assessment, element: Element,
               by: str | None) -> None:
    with drawing():
        aid, eid = assessment.id, element.id
        if fragment_rerun():  # the arguments are those of the last full run: read the rating afresh
            rating = assessment_ratings(aid).get(eid)
            show_stored(aid, eid, rating)
            st.session_state.setdefault(_CARDS, {}).setdefault(aid, {})[eid] = _facts(rating)
        keys = {f: widget_key(aid, eid, f) for f in FIELDS}
        editable = bool(by) and not assessment.locked
        common = dict(disabled=not editable, on_change=_save)

        def args(field: str) -> tuple:
            return (store, matrix, aid, eid, field, by)

        if part == "stages":
            _stages(store, matrix, assessment, element, by, keys, editable, args, common)
        elif part == "tools":
            undo_or_clear(store, matrix, aid, eid, by, keys)
        elif part == "confidence":
            st.segmented_control(LABELS["confidence"], CONFIDENCES, key=keys["confidence"], required=True,
                                 format_func=str.capitalize, wrap=True, args=args("confidence"),
                                 help="How sure are you of where the network is now, given the evidence?", **common)
        else:
            evidence, note = st.columns(2, gap="medium")
            prompts = "What would show this?\n\n" + "\n".join(f"- {plain(p)}" for p in element.evidence_prompts)
            evidence.text_area(LABELS["evidence"], key=keys["evidence"], height=110, max_chars=TEXT_LIMIT,
                               help=prompts, placeholder=element.evidence_prompts[0], args=args("evidence"), **common)
            note.text_area(LABELS["note"], key=keys["note"], height=110, max_chars=TEXT_LIMIT,
                           help="Anything the network wants to remember about this rating.", args=args("note"),
                           **common)


def _stages(store: Store, matrix: Matrix, assessment: Assessment, element: Element, by: str | None,
            keys: Mapping[str, str], editable: bool, args, common: dict) -> None:
    """The descriptors with the chosen stages marked, any message about the last save, the two
    stage controls, undo and clear, and "not applicable"."""
    aid, eid = assessment.id, element.id
    stage_name = {s.id: plain(s.label) for s in matrix.stages}
    current, target = st.session_state[keys["current_stage"]], st.session_state[keys["target_stage"]]
    descriptor_cards(matrix, element, current, target)

    conflict = st.session_state.get(_CONFLICTS, {}).get((aid, eid))
    if conflict:
        st.error(plain(conflict))
        st.markdown("What you chose or typed is still shown below, so you can copy it. "
                    "**Load the latest** to see the saved version and carry on from there.")
        st.button("Load the latest", key=f"reload|{aid}|{eid}", on_click=_load_latest, args=(aid, eid))
    problem = st.session_state.get(_PROBLEMS, {}).get((aid, eid))
    if problem:
        st.error(plain(problem))
    if st.session_state.get(_RETRY, {}).get((aid, eid)) and editable:
        st.button("Save again", key=f"retry|{aid}|{eid}", on_click=_save_again, args=(store, matrix, aid, eid, by),
                  help="Save what is in the boxes below now")

    left, right = st.columns(2, gap="medium")
    # Segmented controls: the chosen stage is filled in, visible from the back of a room. They are
    # `required`: clicking the chosen stage again keeps it; clearing is the button below.
    left.segmented_control(LABELS["current_stage"], matrix.stage_ids, key=keys["current_stage"], required=True,
                           format_func=stage_name.get, wrap=True, args=args("current_stage"), **common)
    right.segmented_control(LABELS["target_stage"], matrix.stage_ids, key=keys["target_stage"], required=True,
                            format_func=stage_name.get, wrap=True, args=args("target_stage"), **common)
    if editable:
        _part("tools", store, matrix, assessment, element, by)
    if current and target and matrix.stage_index(target) < matrix.stage_index(current):
        st.caption("The target is below where the network is now: is that intended?")
    if matrix.allows_not_applicable(eid):
        st.toggle(LABELS["not_applicable"], key=keys["not_applicable"], args=args("not_applicable"),
                  help=f"{matrix.title} lets this element be rated not applicable: it then has no stage and "
                       "is left out of the domain's score. Choosing a stage makes it apply again.", **common)
        if st.session_state[keys["not_applicable"]]:
            st.markdown(f":gray-badge[:material/block: {NOT_APPLICABLE}] No stage: left out of the domain's score.")


def undo_or_clear(store: Store, matrix: Matrix, aid: int, eid: str, by: str, keys: Mapping[str, str]) -> None:
    """Beside the stages: undo, when this element has the session's latest change, and clear."""
    last = last_change(aid)
    chosen = any(st.session_state.get(keys[f]) is not None for f in CHOSEN_FIELDS)
    if not (chosen or (last and last.element_id == eid)):
        return
    with st.container(horizontal=True, key=f"rating-tools-{eid}"):
        if last and last.element_id == eid:
            st.button("Undo the last change", icon=":material/undo:", key=f"undo|{aid}|{eid}", type="secondary",
                      on_click=_undo, args=(store, matrix, aid, by), help=plain(f"Puts {last.what}."))
        if chosen:
            st.button("Clear the stages", icon=":material/backspace:", key=f"clear|{aid}|{eid}", type="tertiary",
                      on_click=_clear, args=(store, matrix, aid, eid, by),
                      help="No current or target stage and no confidence for this element (undo puts them back)")


def domain_tabs_key(matrix: Matrix) -> str:
    """Session key holding the open domain tab's label (one per matrix, whose domains differ)."""
    return f"assess_domain|{matrix.id}|{matrix.version}"


def domain_tab(store: Store, matrix: Matrix, assessment: Assessment, domain: Domain, *, by: str | None) -> None:
    """The open domain: its count line and one card per element, each a fragment of its own."""
    ratings = assessment_ratings(assessment.id)
    st.fragment(key=HEAD_KEY)(domain_head)(assessment.id, domain)
    st.session_state.setdefault(_CARDS, {})[assessment.id] = {e.id: _facts(ratings.get(e.id)) for e in domain.elements}
    for i, element in enumerate(domain.elements):
        if i:
            st.divider()
        card(store, matrix, assessment, element, by=by)


def domain_head(assessment_id: int, domain: Domain) -> None:
    ratings = assessment_ratings(assessment_id)
    rated = rated_count(ratings, domain.elements)
    na = sum(1 for e in domain.elements if (r := ratings.get(e.id)) is not None and r.not_applicable)
    also = f" ({na} of them not applicable)" if na else ""
    st.caption(plain(f"{domain.summary} {rated} of {len(domain.elements)} elements rated in this domain{also}."))


def card(store: Store, matrix: Matrix, assessment: Assessment, element: Element, *, by: str | None) -> None:
    """One element's card (its parts are fragments, which read the rating afresh when rerun alone)."""
    rating = assessment_ratings(assessment.id).get(element.id)
    st.session_state.setdefault(_CARDS, {}).setdefault(assessment.id, {})[element.id] = _facts(rating)
    rating_editor(store, matrix, assessment, element, rating, by=by)

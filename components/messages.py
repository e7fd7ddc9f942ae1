"""Messages left by a button's callback for the run that follows it.

Callbacks run before the page is drawn, so what they have to say is kept in session state under
the page's own key and shown once, near the control that caused it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import streamlit as st

from assessments.store import ConflictError, StoreError


class Message(NamedTuple):
    kind: str  # "done", "conflict", "error" or "locked"
    text: str
    where: str = "top"


def say(key: str, kind: str, text: str, where: str = "top") -> None:
    st.session_state[key] = Message(kind, text, where)


def act(key: str, done: str, fn: Callable[..., Any], *args: Any, where: str = "top", **kwargs: Any) -> None:
    """Run a write from a button callback and leave the outcome for the next run: a conflict (someone
    else saved first) and any other refusal from the store are told apart, never swallowed."""
    try:
        fn(*args, **kwargs)
    except ConflictError as exc:
        say(key, "conflict", str(exc), where)
    except StoreError as exc:
        say(key, "error", str(exc), where)
    else:
        say(key, "done", done, where)


def take(key: str) -> Message | None:
    """The message waiting for this run, removed so it is shown only once."""
    return st.session_state.pop(key, None)

"""Messages left by a button's callback for the run that follows it.

Callbacks run before the page is drawn, so what they have to say is kept in session state under
the page's own key and shown once, near the control that caused it: every page takes the
message once per run (`take`) and shows it with `show` at each place a message may belong.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import streamlit as st

from assessments.values import ConflictError, StoreError

from .look import plain


class Message(NamedTuple):
    kind: str  # "done", "info", "conflict", "error" or "locked"
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


def show(message: Message | None, where: Any = "top", *, done: str | None = "toast", reload_key: str | None = None,
         reload_help: str = "Show it as it is saved now") -> None:
    """Show a message that belongs at `where` (and nothing otherwise).

    A success is a toast (`done="toast"`), a green box (`done="box"`) or nothing (`done=None`,
    where the page shows what was saved anyway); "info" is an information box; a refusal is an
    error, followed after a conflict by a "Load the latest" button when `reload_key` names one."""
    if message is None or message.where != where:
        return
    text = plain(message.text)
    if message.kind == "done":
        if done == "toast":
            st.toast(text, icon=":material/check_circle:")
        elif done == "box":
            st.success(text)
    elif message.kind == "info":
        st.info(text)
    else:
        st.error(text)
        if message.kind == "conflict" and reload_key:
            st.button("Load the latest", key=reload_key, help=reload_help)

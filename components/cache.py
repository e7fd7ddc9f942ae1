"""Reads cached until the data changes: one way for every page.

    @cached()
    def pcn_assessments(pcn_code: str) -> list[Assessment]:
        return ...read from get_store()...

    pcn_assessments("U99001")  # read once per database URL and data version

The result is kept per database URL, `data_version()` (which moves on every write, in any
browser tab and any app process), the catalog's generation (which moves when the matrix files
change: a file added through another process, or dropped into the folder, writes nothing to
the database), the reader (their subject and roles: the services show each reader only their
scope) and the arguments, so a page never needs to pass the URL or the versions itself.
Arguments must be hashable by Streamlit (codes, years, tuples). With `version=` another cheap
number keys the cache instead (a workshop's own version, which moves on every rating), and
`shared=True` keeps the result in st.cache_resource: one object for every session, for things
nothing changes afterwards (plotly figures: st.plotly_chart sends a copy).
"""
from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from . import state

F = TypeVar("F", bound=Callable[..., Any])


def _source_key(fn: Callable) -> str:
    """Changes when the function's code changes, so an edited read is not answered from the old cache."""
    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError):
        text = repr(fn.__code__.co_code)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def cached(*, max_entries: int = 64, version: Callable[..., int] | None = None, shared: bool = False) -> Callable[[F], F]:
    """Decorate a read so it runs once per database URL, data version, catalog and arguments.

    `version`, if given, is called with the read's own arguments and keys the cache in place of
    `data_version()`."""
    def wrap(fn: F) -> F:
        source = _source_key(fn)

        def read(url: str, version_now: int, catalog_now: str, who: tuple, args: tuple, kwargs: tuple) -> Any:
            return fn(*args, **dict(kwargs))

        # Streamlit keeps one cache per function module, name and source. Every page runs as
        # "__main__", and `read` has the same source for every read, so name it after the read it
        # wraps, its file and its code: each read has its own cache (and max_entries), started
        # afresh when its code changes.
        read.__module__ = fn.__module__
        read.__qualname__ = f"{fn.__qualname__}[{fn.__code__.co_filename}:{source}]"
        if shared:
            store_read = st.cache_resource(show_spinner=False, max_entries=max_entries)(read)
        else:
            store_read = st.cache_data(show_spinner=False, max_entries=max_entries)(read)

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            now = version(*args, **kwargs) if version is not None else state.data_version()
            # Both versions are taken before the read runs, so what is kept is never older than its key.
            catalog_now = state.base_store().catalog_generation()
            # Keyed on who asks too: what a read returns depends on the reader's roles.
            return store_read(state.database_url(), now, catalog_now, state.principal_key(), args,
                              tuple(sorted(kwargs.items())))

        call.clear = store_read.clear  # type: ignore[attr-defined]
        return call  # type: ignore[return-value]

    return wrap

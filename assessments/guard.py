"""The access checks the services make, with the look-ups they need (which ICS a PCN is in).

Every service function calls one of these with the store (or unit of work) it was given, whose
`principal` is the person acting; the policy itself is the table in assessments.access.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .access import (READ_AGREED, READ_DRAFTS, READ_ORGANISATION, READ_SUBMITTED, Grant, Principal, denied,
                     grant_for, read_depth, require)
from .model import AGREED, SUPERSEDED
from .records.tables import PcnRow
from .values import NotFoundError


def principal_of(store) -> Principal:
    return store.principal


def ics_of(store, pcn_code: str) -> str:
    """The ICS a PCN belongs to; NotFoundError for an unknown PCN."""
    with store.read() as r:
        row = r.get(PcnRow, pcn_code)
    if row is None:
        raise NotFoundError(f"there is no PCN with code {pcn_code}")
    return row.ics_code


def check(store, action: str, *, pcn_code: str | None = None, ics_code: str | None = None) -> Grant:
    """The grant that allows `action` here, or AccessDenied. Inside a unit of work, the role used
    is what its audit rows record."""
    p = principal_of(store)
    if pcn_code is not None and ics_code is None and not p.is_admin:
        ics_code = ics_of(store, pcn_code)
    g = require(p, action, ics_code=ics_code, pcn_code=pcn_code)
    if hasattr(store, "role"):
        store.role = g.role
    return g


def depth(store, pcn_code: str, ics_code: str | None = None) -> str | None:
    """How much of a PCN's assessments the principal sees (see access.read_depth)."""
    p = principal_of(store)
    if p.is_admin:
        return "drafts"
    return read_depth(p, ics_code=ics_code or ics_of(store, pcn_code), pcn_code=pcn_code)


def shows(depth_: str | None, status: str, submitted: bool) -> bool:
    """Whether an assessment in that status is visible at that depth."""
    if depth_ == "drafts":
        return True
    if depth_ == "submitted":
        return status in (AGREED, SUPERSEDED) or submitted
    if depth_ == "agreed":
        return status in (AGREED, SUPERSEDED)
    return False


def require_depth(store, pcn_code: str, ics_code: str | None = None) -> str:
    d = depth(store, pcn_code, ics_code)
    if d is None:
        raise denied(principal_of(store), f"see the records of {pcn_code}")
    return d


class Visibility:
    """Per-PCN read depths for one principal, worked out once for a list of PCNs (ICS-wide and
    national reads show a PCN's figures only to those who may see them)."""

    def __init__(self, store):
        self.store = store
        self.p = principal_of(store)
        self.admin = self.p.is_admin
        self._ics: dict[str, str] | None = None

    def ics_of(self, pcn_code: str) -> str:
        """The PCN's ICS, from one read of every PCN (a national list asks about many)."""
        if self._ics is None:
            with self.store.read() as r:
                self._ics = {row.code: row.ics_code for row in r.rows(PcnRow)}
        return self._ics.get(pcn_code) or ics_of(self.store, pcn_code)

    def depth(self, pcn_code: str, ics_code: str | None = None) -> str | None:
        if self.admin:
            return "drafts"
        return read_depth(self.p, ics_code=ics_code or self.ics_of(pcn_code), pcn_code=pcn_code)

    def keep(self, items: Iterable[Any], sees: Callable[[str | None, Any], bool],
             pcn_of: Callable[[Any], str] = lambda x: x.pcn_code) -> list:
        """The items whose PCN the principal may see that much of (sees(depth, item))."""
        items = list(items)
        if self.admin:
            return items
        return [x for x in items if sees(self.depth(pcn_of(x)), x)]

    def sees_pcn(self, pcn_code: str, ics_code: str) -> bool:
        return self.admin or grant_for(self.p, READ_ORGANISATION, ics_code=ics_code, pcn_code=pcn_code) is not None

    def sees_ics(self, ics_code: str, pcns_of_ics: list[str]) -> bool:
        if self.admin:
            return True
        return any(self.sees_pcn(code, ics_code) for code in pcns_of_ics) or \
            grant_for(self.p, READ_ORGANISATION, ics_code=ics_code) is not None


__all__ = ["READ_AGREED", "READ_DRAFTS", "READ_SUBMITTED", "Visibility", "check", "depth", "ics_of", "principal_of",
           "require_depth", "shows"]

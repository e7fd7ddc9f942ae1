"""The access checks the services make, with the look-ups they need (which ICS a PCN is in).

Every service function calls one of these with the store (or unit of work) it was given, whose
`principal` is the person acting; the policy itself is the table in assessments.access.
"""
from __future__ import annotations

from .access import (READ_AGREED, READ_DRAFTS, READ_ORGANISATION, READ_SUBMITTED, AccessDenied, Grant, Principal,
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
        p = principal_of(store)
        raise AccessDenied(f"{p.name} may not see the records of {pcn_code}: "
                           f"{'your roles are ' + p.roles_text() if p.grants else 'you have no role yet'}. "
                           "Ask your ICS administrator if you need this.")
    return d


class Visibility:
    """Per-PCN read depths for one principal, worked out once for a list of PCNs (ICS-wide and
    national reads show a PCN's figures only to those who may see them)."""

    def __init__(self, store):
        self.p = principal_of(store)
        self.admin = self.p.is_admin

    def depth(self, pcn_code: str, ics_code: str) -> str | None:
        if self.admin:
            return "drafts"
        return read_depth(self.p, ics_code=ics_code, pcn_code=pcn_code)

    def sees_pcn(self, pcn_code: str, ics_code: str) -> bool:
        return self.admin or grant_for(self.p, READ_ORGANISATION, ics_code=ics_code, pcn_code=pcn_code) is not None

    def sees_ics(self, ics_code: str, pcns_of_ics: list[str]) -> bool:
        if self.admin:
            return True
        return any(self.sees_pcn(code, ics_code) for code in pcns_of_ics) or \
            grant_for(self.p, READ_ORGANISATION, ics_code=ics_code) is not None


__all__ = ["READ_AGREED", "READ_DRAFTS", "READ_SUBMITTED", "Visibility", "check", "depth", "ics_of", "principal_of",
           "require_depth", "shows"]

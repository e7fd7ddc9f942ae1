"""People and their roles: grants held in the database, the principal a sign-in becomes, and the
sign-ins themselves, every change audited.

Grants name people by e-mail (lower case), so an administrator can give a role before the
person first signs in. The first administrators come from configuration (PCN_ADMINS, a comma-
separated list of e-mails); everyone else is granted in the app ("People and access") or with
`python cli.py grant`.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime

from . import guard
from .access import (ADMINISTRATOR, COMMISSIONER, FACILITATOR, GRANTABLE, LEAD, MANAGE_PEOPLE, MEMBER, ROLE_LABELS,
                     ROLES, SCOPE_OF, AccessDenied, Grant, Principal, grant_for)
from .records.tables import IcsRow, PcnRow, PersonRow, RoleGrantRow
from .values import InputError, NotFoundError, check_ics_code, check_pcn_code

ENV_ADMINS = "PCN_ADMINS"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class RoleGrant:
    email: str
    role: str
    ics_code: str | None
    pcn_code: str | None
    may_edit: bool
    granted_by: str
    granted_at: datetime

    @property
    def grant(self) -> Grant:
        return Grant(self.role, self.ics_code, self.pcn_code, self.may_edit)

    @property
    def label(self) -> str:
        return self.grant.label + (" (may edit drafts)" if self.role == MEMBER and self.may_edit else "")


def check_email(value) -> str:
    email = str(value or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 200:
        raise InputError(f"'{value}' is not an e-mail address")
    return email


def check_role(value) -> str:
    role = str(value or "").strip().lower().replace(" ", "-").replace("_", "-")
    aliases = {"admin": ADMINISTRATOR, "facilitator": FACILITATOR, "lead": LEAD, "member": MEMBER,
               "ics-facilitator": FACILITATOR, "pcn-lead": LEAD, "pcn-member": MEMBER}
    role = aliases.get(role, role)
    if role not in ROLES:
        raise InputError(f"'{value}' is not a role: use one of {', '.join(ROLES)}")
    return role


def configured_admins() -> set[str]:
    """The e-mails PCN_ADMINS names: administrators whatever the database says."""
    return {e.strip().lower() for e in os.environ.get(ENV_ADMINS, "").split(",") if e.strip()}


def _as_grant(r) -> RoleGrant:
    return RoleGrant(r.email, r.role, r.ics_code, r.pcn_code, bool(r.may_edit), r.granted_by, r.granted_at)


# ---------------------------------------------------------------------------------------------
# Reads

def grants_of(store, email: str) -> list[RoleGrant]:
    """One person's grants (no access check: this is how a sign-in finds its roles)."""
    with store.read() as r:
        return [_as_grant(x) for x in r.rows(RoleGrantRow, email=check_email(email), order_by=["id"])]


def who(store, *, email: str | None = None, ics_code: str | None = None) -> list[RoleGrant]:
    """Grants the principal may manage: all for an administrator; those of their ICS (and its PCNs)
    for a facilitator; their PCN's for a lead. Optionally of one person or one ICS."""
    p = guard.principal_of(store)
    with store.read() as r:
        where = {"email": check_email(email)} if email else {}
        found = r.rows(RoleGrantRow, order_by=["email", "id"], **where)
        ics_of_pcn = {x.code: x.ics_code for x in r.rows(PcnRow)}
    out = []
    for x in found:
        g_ics = x.ics_code or ics_of_pcn.get(x.pcn_code)
        if ics_code is not None and g_ics != ics_code:
            continue
        if p.is_admin or grant_for(p, MANAGE_PEOPLE, ics_code=g_ics, pcn_code=x.pcn_code):
            out.append(_as_grant(x))
    return out


def people(store) -> list[dict]:
    """Everyone who has signed in, newest first (administrators only see everyone)."""
    guard.check(store, "administer")
    with store.read() as r:
        return [{"subject": x.subject, "email": x.email, "name": x.name, "first_seen": x.first_seen,
                 "last_seen": x.last_seen} for x in r.rows(PersonRow, order_by=["-last_seen"])]


# ---------------------------------------------------------------------------------------------
# Writes

def _scope(uow, role: str, ics_code, pcn_code) -> tuple[str | None, str | None, str]:
    kind = SCOPE_OF[role]
    if kind is None:
        if ics_code or pcn_code:
            raise InputError(f"{ROLE_LABELS[role]} is for everything: give no ICS or PCN")
        return None, None, ""
    if kind == "ics":
        if not ics_code or pcn_code:
            raise InputError(f"{ROLE_LABELS[role]} is a role in one ICS: give --ics CODE")
        code = check_ics_code(ics_code)
        if uow.get(IcsRow, code) is None:
            raise NotFoundError(f"there is no ICS with code {ics_code}")
        return code, None, code
    if not pcn_code or ics_code:
        raise InputError(f"{ROLE_LABELS[role]} is a role in one PCN: give --pcn CODE")
    code = check_pcn_code(pcn_code)
    if uow.get(PcnRow, code) is None:
        raise NotFoundError(f"there is no PCN with code {pcn_code}")
    return None, code, code


def _may_hand_out(uow, role: str, ics_code: str | None, pcn_code: str | None) -> None:
    """A principal hands out only the roles it may, and only within its own scope."""
    p = uow.principal
    scope_ics = ics_code or (uow.get(PcnRow, pcn_code).ics_code if pcn_code else None)
    g = grant_for(p, MANAGE_PEOPLE, ics_code=scope_ics, pcn_code=pcn_code)
    if g is None or role not in GRANTABLE.get(g.role, set()):
        raise AccessDenied(f"{p.name} may not give or take the role {ROLE_LABELS[role]}"
                           f"{' in ' + (pcn_code or ics_code) if (pcn_code or ics_code) else ''}: "
                           f"your roles are {p.roles_text()}.")
    uow.role = g.role


def grant(store, email: str, role: str, *, ics_code: str | None = None, pcn_code: str | None = None,
          may_edit: bool = False, by: str | None = None) -> RoleGrant:
    """Give a person a role with its scope (an ICS or a PCN). Giving it again changes only may_edit."""
    email, role = check_email(email), check_role(role)
    if may_edit and role != MEMBER:
        raise InputError("only PCN members are allowed or not allowed to edit drafts; leads always may")
    with store.batch(by=by, source="people and access") as uow:
        ics, pcn, scope = _scope(uow, role, ics_code, pcn_code)
        _may_hand_out(uow, role, ics, pcn)
        key = f"{email}/{role}/{scope}"
        row = uow.first(RoleGrantRow, email=email, role=role, scope=scope)
        if row is None:
            row = uow.add(RoleGrantRow(email=email, role=role, scope=scope, ics_code=ics, pcn_code=pcn,
                                       may_edit=bool(may_edit), granted_by=uow.by, granted_at=uow.at),
                          duplicate=f"{email} was given that role a moment ago")
            uow.audit("role_grant", key, {"email": (None, email), "role": (None, role), "scope": (None, scope),
                                          "may_edit": (None, bool(may_edit))})
        elif bool(row.may_edit) != bool(may_edit):
            uow.audit("role_grant", key, {"may_edit": (bool(row.may_edit), bool(may_edit))})
            uow.set(row, {"may_edit": bool(may_edit)})
        return _as_grant(row)


def revoke(store, email: str, role: str, *, ics_code: str | None = None, pcn_code: str | None = None,
           by: str | None = None) -> bool:
    """Take a role away; False if the person did not hold it."""
    email, role = check_email(email), check_role(role)
    with store.batch(by=by, source="people and access") as uow:
        ics, pcn, scope = _scope(uow, role, ics_code, pcn_code)
        _may_hand_out(uow, role, ics, pcn)
        row = uow.first(RoleGrantRow, email=email, role=role, scope=scope)
        if row is None:
            return False
        uow.audit("role_grant", f"{email}/{role}/{scope}", {"email": (email, None), "role": (role, None),
                                                             "scope": (scope, None), "may_edit": (row.may_edit, None)})
        uow.delete(row)
        return True


# ---------------------------------------------------------------------------------------------
# Signing in

def principal_for(store, *, subject: str, name: str | None, email: str | None, via: str) -> Principal:
    """The principal a signed-in identity acts as: its grants from the database, administrator if
    PCN_ADMINS names its e-mail. No grants: a principal with no role (the no-role page)."""
    email_l = email.strip().lower() if email else None
    grants: list[Grant] = []
    if email_l and email_l in configured_admins():
        grants.append(Grant(ADMINISTRATOR))
    if email_l:
        try:
            grants += [g.grant for g in grants_of(store, email_l)]
        except InputError:
            pass  # a provider e-mail this tool cannot read gives no roles, not an error page
    shown = (name or email or subject or "Unknown").strip()[:100]
    return Principal(str(subject)[:200], shown, email_l, tuple(dict.fromkeys(grants)), via)


def record_sign_in(store, principal: Principal) -> None:
    """Note a sign-in (once per session): the person row, and an audit row naming the roles held."""
    with store.batch(source=f"sign-in ({principal.via})") as uow:
        row = uow.get(PersonRow, principal.subject)
        if row is None:
            uow.add(PersonRow(subject=principal.subject, email=principal.email, name=principal.name,
                              first_seen=uow.at, last_seen=uow.at), duplicate=lambda: InputError("signed in twice"))
            before = None
        else:
            before = row.last_seen
            uow.set(row, {"last_seen": uow.at, "name": principal.name, "email": principal.email})
        uow.role = principal.grants[0].role if principal.grants else None
        uow.audit("sign_in", principal.subject, {"signed_in": (before, uow.at), "roles": (None, principal.roles_text())})


__all__ = ["COMMISSIONER", "ENV_ADMINS", "FACILITATOR", "LEAD", "MEMBER", "RoleGrant", "check_email", "check_role",
           "configured_admins", "grant", "grants_of", "people", "principal_for", "record_sign_in", "revoke", "who"]

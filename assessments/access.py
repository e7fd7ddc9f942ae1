"""Who may do what: roles held in the database, each with a scope, and one policy table that every
service function checks.

A `Principal` is the person acting (or the command line). It travels with the store: a page only
ever holds `store.acting(principal)`, so a service called with another PCN's code is refused
whatever the page shows. The raw Store (command line, demo loader, tests of the records) acts
as the system administrator.

Roles and their scope:
- administrator (everything, including backup, restore, import and role management);
- ICS facilitator (one ICS: read what its PCNs submit or agree, run its workshops, confirm
  agreements, support the pathway, manage its people);
- PCN lead (one PCN: edit its assessments, plan and pathway, submit for agreement, share the
  plan, manage its members);
- PCN member (one PCN: read; edit drafts when the lead allows it);
- commissioner (one ICS: read agreed assessments and the plans a PCN has shared).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from .values import StoreError

ADMINISTRATOR = "administrator"
FACILITATOR = "ics-facilitator"
LEAD = "pcn-lead"
MEMBER = "pcn-member"
COMMISSIONER = "commissioner"
ROLES = (ADMINISTRATOR, FACILITATOR, LEAD, MEMBER, COMMISSIONER)
ROLE_LABELS = {ADMINISTRATOR: "Administrator", FACILITATOR: "ICS facilitator", LEAD: "PCN lead",
               MEMBER: "PCN member", COMMISSIONER: "Commissioner"}
# What each role's scope names: nothing (everything), an ICS or a PCN.
SCOPE_OF = {ADMINISTRATOR: None, FACILITATOR: "ics", COMMISSIONER: "ics", LEAD: "pcn", MEMBER: "pcn"}

# Actions. Reads come in three depths, because sharing stays with the PCN.
READ_DRAFTS = "read drafts"          # a PCN's own drafts, unshared plan, pathway
READ_SUBMITTED = "read submitted"    # what a PCN submitted for agreement, or agreed
READ_AGREED = "read agreed"          # agreed assessments and shared plans
READ_PATHWAY = "read pathway"
EDIT = "edit"                        # assessments (drafts), plan
EDIT_PATHWAY = "edit pathway"
SUBMIT = "submit"                    # submit for agreement, withdraw, share the plan
CONFIRM = "confirm"                  # agree a submitted assessment, reopen an agreed one
RUN_WORKSHOP = "run workshop"
MANAGE_PEOPLE = "manage people"
ADMINISTER = "administer"            # backup, restore, imports, organisations, matrix files
READ_ORGANISATION = "read organisation"

# The policy: action -> {role: where the role's scope must match}. "all" needs no scope; "ics"
# matches a grant for the PCN's (or the named) ICS; "pcn" a grant for that PCN.
POLICY: dict[str, dict[str, str]] = {
    READ_DRAFTS: {ADMINISTRATOR: "all", LEAD: "pcn", MEMBER: "pcn"},
    READ_SUBMITTED: {ADMINISTRATOR: "all", LEAD: "pcn", MEMBER: "pcn", FACILITATOR: "ics"},
    READ_AGREED: {ADMINISTRATOR: "all", LEAD: "pcn", MEMBER: "pcn", FACILITATOR: "ics", COMMISSIONER: "ics"},
    READ_PATHWAY: {ADMINISTRATOR: "all", LEAD: "pcn", MEMBER: "pcn", FACILITATOR: "ics"},
    EDIT: {ADMINISTRATOR: "all", LEAD: "pcn", MEMBER: "pcn-if-allowed"},
    EDIT_PATHWAY: {ADMINISTRATOR: "all", LEAD: "pcn", MEMBER: "pcn-if-allowed", FACILITATOR: "ics"},
    SUBMIT: {ADMINISTRATOR: "all", LEAD: "pcn"},
    CONFIRM: {ADMINISTRATOR: "all", FACILITATOR: "ics"},
    RUN_WORKSHOP: {ADMINISTRATOR: "all", FACILITATOR: "ics"},
    MANAGE_PEOPLE: {ADMINISTRATOR: "all", FACILITATOR: "ics", LEAD: "pcn"},
    ADMINISTER: {ADMINISTRATOR: "all"},
    READ_ORGANISATION: {ADMINISTRATOR: "all", FACILITATOR: "ics", COMMISSIONER: "ics", LEAD: "pcn", MEMBER: "pcn"},
}
# Which roles a role may hand out (within its own scope).
GRANTABLE = {ADMINISTRATOR: set(ROLES), FACILITATOR: {FACILITATOR, COMMISSIONER, LEAD, MEMBER},
             LEAD: {MEMBER}}


class AccessDenied(StoreError):
    """The acting person may not do this here. Nothing was read or written."""


@dataclass(frozen=True, slots=True)
class Grant:
    role: str
    ics_code: str | None = None
    pcn_code: str | None = None
    may_edit: bool = False  # PCN members: the lead lets them edit drafts

    @property
    def label(self) -> str:
        where = self.pcn_code or self.ics_code
        return f"{ROLE_LABELS.get(self.role, self.role)}{f' of {where}' if where else ''}"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting: the identity from sign-in (or the laptop, or the command line) and their grants."""
    subject: str
    name: str
    email: str | None = None
    grants: tuple[Grant, ...] = ()
    via: str = "sign-in"  # sign-in, proxy, laptop, command line
    extra: tuple[Grant, ...] = field(default=(), compare=False)  # granted for one transaction by a service

    @property
    def audit_name(self) -> str:
        """What the change log's `who` says: the name, and the e-mail when there is one."""
        text = f"{self.name} <{self.email}>" if self.email and self.email != self.name else self.name
        return text[:100]

    @property
    def is_admin(self) -> bool:
        return any(g.role == ADMINISTRATOR for g in self.grants)

    @property
    def has_role(self) -> bool:
        return bool(self.grants)

    def roles_text(self) -> str:
        return ", ".join(g.label for g in self.grants) or "no role"

    def with_grant(self, grant: Grant) -> Principal:
        return replace(self, extra=(*self.extra, grant))


SYSTEM = Principal("system", "Command line", None, (Grant(ADMINISTRATOR),), "command line")


def system(name: str) -> Principal:
    """The command line or a tool acting as administrator under a name for the change log."""
    return Principal(f"local:{name}", name, None, (Grant(ADMINISTRATOR),), "command line")


def grant_for(principal: Principal, action: str, *, ics_code: str | None = None,
              pcn_code: str | None = None) -> Grant | None:
    """The grant that allows `action` on that PCN (of that ICS) or ICS, or None."""
    rules = POLICY[action]
    for g in (*principal.grants, *principal.extra):
        where = rules.get(g.role)
        if where is None:
            continue
        if where == "all":
            return g
        if where == "ics" and g.ics_code is not None and g.ics_code == ics_code:
            return g
        if where == "pcn" and g.pcn_code is not None and g.pcn_code == pcn_code:
            return g
        if where == "pcn-if-allowed" and g.may_edit and g.pcn_code is not None and g.pcn_code == pcn_code:
            return g
    return None


def allowed(principal: Principal, action: str, *, ics_code: str | None = None, pcn_code: str | None = None) -> bool:
    return grant_for(principal, action, ics_code=ics_code, pcn_code=pcn_code) is not None


WHAT = {READ_DRAFTS: "see this PCN's drafts", READ_SUBMITTED: "see this PCN's assessments",
        READ_AGREED: "see this PCN's agreed records", READ_PATHWAY: "see this PCN's pathway",
        EDIT: "change this PCN's assessment or plan", EDIT_PATHWAY: "change this PCN's pathway",
        SUBMIT: "submit or share for this PCN", CONFIRM: "confirm agreements for this PCN",
        RUN_WORKSHOP: "run workshops for this PCN", MANAGE_PEOPLE: "manage people here",
        ADMINISTER: "do this (administrators only)", READ_ORGANISATION: "see this organisation"}


def denied(principal: Principal, what: str) -> AccessDenied:
    """The one way a refusal reads: who, what, which roles they hold, and whom to ask."""
    roles = f"your roles are {principal.roles_text()}" if principal.grants else "you have no role yet"
    return AccessDenied(f"{principal.name} may not {what}: {roles}. Ask your ICS administrator if you need this.")


def require(principal: Principal, action: str, *, ics_code: str | None = None,
            pcn_code: str | None = None) -> Grant:
    """The grant that allows it, or AccessDenied with a plain message."""
    g = grant_for(principal, action, ics_code=ics_code, pcn_code=pcn_code)
    if g is None:
        where = f" ({pcn_code or ics_code})" if (pcn_code or ics_code) else ""
        raise denied(principal, f"{WHAT.get(action, action)}{where}")
    return g


def read_depth(principal: Principal, *, ics_code: str, pcn_code: str) -> str | None:
    """How much of a PCN's assessments the principal sees: 'drafts' (everything), 'submitted'
    (submitted drafts and agreed), 'agreed', or None (nothing)."""
    for action, depth in ((READ_DRAFTS, "drafts"), (READ_SUBMITTED, "submitted"), (READ_AGREED, "agreed")):
        if allowed(principal, action, ics_code=ics_code, pcn_code=pcn_code):
            return depth
    return None

"""People and access: who holds which role where, and giving or taking roles (administrators
everywhere, ICS facilitators in their ICS, PCN leads for their PCN's members)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from assessments import organisations as orgs
from assessments import people
from assessments.access import GRANTABLE, MANAGE_PEOPLE, MEMBER, ROLE_LABELS, SCOPE_OF, grant_for
from components import messages as M
from components.look import plain
from components.state import get_store, principal

MESSAGE = "people_message"
store, who = get_store(), principal()

st.title("People and access")
st.markdown("Each person sees and changes only what their roles allow. Roles are given by e-mail address, so "
            "you can give one before the person first signs in.")
M.show(M.take(MESSAGE))

managed = people.who(store)
if managed:
    st.dataframe(pd.DataFrame([{"E-mail": g.email, "Role": g.label, "Given by": g.granted_by,
                                "Given on": f"{g.granted_at:%d %b %Y}"} for g in managed]),
                 hide_index=True, width="stretch")
else:
    st.caption("No roles that you manage are held yet.")
admins = sorted(people.configured_admins())
if admins and who.is_admin:
    st.caption(plain("Administrators from the PCN_ADMINS setting: " + ", ".join(admins)))

# What this person may hand out, and where.
grantable = sorted({r for g in who.grants if grant_for(who, MANAGE_PEOPLE, ics_code=g.ics_code, pcn_code=g.pcn_code)
                    for r in GRANTABLE.get(g.role, set())}, key=list(ROLE_LABELS).index)
places_ics = [i for i in orgs.list_ics(store)
              if who.is_admin or grant_for(who, MANAGE_PEOPLE, ics_code=i.code)]
places_pcn = [p for p in orgs.pcns(store)
              if grant_for(who, MANAGE_PEOPLE, ics_code=p.ics_code, pcn_code=p.code)]

st.header("Give or take a role", anchor=False)
with st.form("grant"):
    email = st.text_input("E-mail address", max_chars=200, placeholder="name@nhs.net")
    role = st.selectbox("Role", grantable, format_func=ROLE_LABELS.get)
    c1, c2 = st.columns(2)
    ics = c1.selectbox("ICS (for ICS facilitators and commissioners)", [None, *[i.code for i in places_ics]],
                       format_func=lambda c: "—" if c is None else c)
    pcn = c2.selectbox("PCN (for PCN leads and members)", [None, *[p.code for p in places_pcn]],
                       format_func=lambda c: "—" if c is None else c)
    may_edit = st.checkbox("A PCN member may edit drafts")
    give, take = st.columns(2)
    given = give.form_submit_button("Give the role", type="primary")
    taken = take.form_submit_button("Take the role away")
if given or taken:
    scope = SCOPE_OF.get(role)
    kwargs = dict(ics_code=ics if scope == "ics" else None, pcn_code=pcn if scope == "pcn" else None)
    if given:
        M.act(MESSAGE, f"{email}: {ROLE_LABELS.get(role)} given.", people.grant, store, email, role,
              may_edit=may_edit and role == MEMBER, **kwargs)
    else:
        M.act(MESSAGE, f"{email}: {ROLE_LABELS.get(role)} taken away (if it was held).", people.revoke, store,
              email, role, **kwargs)
    st.rerun()

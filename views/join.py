"""Join a workshop: no account, just the code, a name the group will see and a role. Then rate
each element on one screen (phone-sized), with the stage descriptors to hand. Ratings save as
they are chosen; the group's results appear once the facilitator reveals them."""
from __future__ import annotations

import streamlit as st

from assessments import workshop as ws
from components import participant as J
from components.look import plain
from components.state import get_store

store = get_store()
st.title("Join a workshop")

workshop, me, token = J.who_is_here(store)
if me is None:
    J.join_form(store)
    st.stop()

J.remember(token, workshop.code)
matrix = store.matrix(workshop.matrix_id, workshop.matrix_version)
st.subheader(f"{plain(ws.pcn_name(store, token))}, {workshop.year}", anchor=False)
st.caption(f"You joined workshop {workshop.code} as {plain(me.name)} ({plain(me.role)}).")
with st.expander("Carry on later or on another device"):
    st.markdown("If this page is closed or reloaded, open this link to come back to your ratings. It is yours "
                "alone: keep it to yourself.")
    st.code(J.rejoin_link(J.own_address(), workshop.code, token), language=None)

J.news_and_results(workshop, token)
J.my_ratings(store, token, workshop, matrix)
st.caption("That is every element. You can change any rating until the facilitator pauses or closes the workshop.")

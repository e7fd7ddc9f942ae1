"""Join a workshop: no account, just the code, a name the group will see and a role. Then rate
the elements one domain at a time on a phone, with the stage descriptors to hand. Ratings save as
they are chosen; once the facilitator reveals the group's results they sit in a tab beside the
participant's own ratings."""
from __future__ import annotations

import streamlit as st

from assessments import workshop as ws
from components import participant as J
from components.look import plain
from components.state import get_store

store = get_store()
J.phone_look()
st.title("Join a workshop")

workshop, me, token = J.who_is_here(store)
if me is None:
    J.join_form(store)
    st.stop()

J.remember(token, workshop.code)
J.keep_on_device(token)
matrix = store.matrix(workshop.matrix_id, workshop.matrix_version)
st.markdown(f"**{plain(ws.pcn_name(store, token))}, {workshop.year}**")
st.caption(f"You joined workshop {workshop.code} as {plain(me.name)} ({plain(me.role)}).")

revealed = J.news(workshop, token)
if revealed is None:
    J.my_ratings(store, token, workshop, matrix)
    st.caption("You see only your own ratings until the facilitator shows the group's results.")
else:
    mine, group = st.tabs(["Your ratings", "The group's results"], key="join_tab", on_change="rerun")
    if mine.open:
        with mine:
            J.my_ratings(store, token, workshop, matrix)
    if group.open:
        with group:
            J.group_results(revealed, store, token, matrix)

with st.expander("Carry on later or on another device"):
    st.markdown("This phone or computer comes back to your ratings by itself for a day. On another device, "
                "open this link. It is yours alone: keep it to yourself.")
    # Inline code, not st.code: its syntax highlighter is a 0.5 MB download on workshop Wi-Fi.
    st.markdown(f"`{J.rejoin_link(J.own_address(), workshop.code, token)}`")

"""Run a workshop: open one for a PCN and year, put the join code and QR code on the projector,
watch the ratings arrive (live), pause or reveal, record the agreed stage per element and write
the agreed ratings to the year's assessment."""
from __future__ import annotations

import streamlit as st

from components import facilitator as F
from components import messages as M
from components.state import get_store, require_actor

MESSAGE = "workshop_message"  # shown once after a change, next to what caused it (components.messages)

store = get_store()
actor = require_actor()
w = F.chosen_workshop(store)
message = M.take(MESSAGE)

# ---------------------------------------------------------------------------------------------
# No workshop chosen: continue one or open a new one
if w is None:
    st.title("Run a workshop")
    st.markdown("Everyone in the room rates the network on their own phone or laptop; the projector shows how far "
                "apart the views are, so the discussion goes where it is needed. The stages the group agrees become "
                "the network's assessment for the year.")
    M.show(message, "top", done="box")
    F.continue_one(store)
    F.open_new(MESSAGE, store, actor)
    st.stop()

# ---------------------------------------------------------------------------------------------
# The workshop: what the projector shows, then agreeing the stages and writing them (both live)
F.heading(store, w)
M.show(message, "top", done="box")
F.join_and_controls(MESSAGE, store, w, actor)
F.live_results(w.id)
F.agree_and_record(store, w.id, actor)
F.write_to_assessment(MESSAGE, message, store, w, F.summary(w.id), actor)

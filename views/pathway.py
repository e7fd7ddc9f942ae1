"""Development pathway: the six steps for one PCN and year (status, date, checklist, note, each
saved as soon as it changes), and which step each PCN of the ICS is at."""
from __future__ import annotations

import streamlit as st

from assessments import pathway as P
from components import messages as M
from components import pathway_steps as S
from components.catalog import get_catalog
from components.header import page_header
from components.look import plain
from assessments.access import EDIT_PATHWAY
from components.state import can, require_actor

MESSAGE = "pathway_message"  # shown once beside the step it concerns (components.messages)

st.title("Development pathway")
st.markdown("The six steps of development support, from establishing the network to checking the goals are being "
            "met. Record where the network is on each step; every change is saved as you make it, in the year "
            "chosen above, and carries forward to later years.")

ics, pcn, year, _ = page_header(year_key="pathway_year")

pathway = get_catalog().default_pathway()
if pathway is None:
    st.error("No development pathway is available: the matrix folders hold no development-pathway file.")
    st.stop()
actor = require_actor() if can(EDIT_PATHWAY, pcn=pcn) else None  # the service checks again
steps = S.load_steps(pcn.code, year, pathway.key)
at = P.current_step(steps)
done = sum(s.status == P.DONE for s in steps)
where = (f"Now at step {at.number}, {at.title} ({at.status})." if at else "Every step is done.")
st.progress(done / len(steps), text=plain(f"{done} of {len(steps)} steps done. {where}"))
carried = sorted({s.carried_from for s in steps if s.carried_from})
if carried:
    st.caption(plain(f"Steps with nothing recorded in {year} show how they were last recorded ("
                     f"{', '.join(carried)}): a step done stays done until someone reopens it."))

message = M.take(MESSAGE)
for step, s in zip(pathway.steps, steps):
    S.step_card(MESSAGE, message, step, s, pcn.code, year, actor, pathway, is_current=s is at)

# ---------------------------------------------------------------------------------------------
st.subheader(f"Where each PCN of {plain(ics.name)} is", anchor=False)
st.caption(plain(f"{year}: the step each network is at is its first step not yet done."))
S.ics_overview(S.load_overview(ics.code, year, pathway.key), pathway, ics, year)

"""Signed in, but no role yet: say so plainly and show nothing else."""
import streamlit as st

from components.look import plain
from components.state import principal

who = principal()
st.title("You have no access yet")
st.markdown(plain(f"You are signed in as {who.name}{f' ({who.email})' if who.email else ''}, but you have no role "
                  "in this tool yet, so there is nothing to show."))
st.info("Ask your ICS administrator to give you a role: for example PCN lead or PCN member for your PCN, ICS "
        "facilitator or commissioner for your ICS. They need the e-mail address above.")

"""Sign in: the only page before someone is signed in (signed-in and proxy modes)."""
import streamlit as st

from components.state import PROXY, mode

st.title("PCN maturity matrix")
if mode() == PROXY:
    st.error("The sign-in service in front of this app did not say who you are, so nothing can be shown. "
             "Open the app through your organisation's sign-in link, or ask your ICS administrator.")
else:
    st.markdown("Sign in with your organisation's account (for example NHSmail or your NHS Care Identity "
                "Service account) to see and change the records of your PCN or ICS.")
    st.button("Sign in", type="primary", on_click=st.login, key="sign_in")

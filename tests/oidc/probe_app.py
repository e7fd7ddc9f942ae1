"""The smallest app that signs in through Streamlit's own st.login / st.user / st.logout.

Run by tests/browser/test_oidc_harness.py against the test OIDC provider (tests/oidc/provider.js).
"""
import streamlit as st

st.title("OIDC probe")

if not st.user.is_logged_in:
    st.write("Not signed in.")
    if st.button("Sign in"):
        st.login()
else:
    st.write(f"Signed in as {st.user.email}")
    st.write(f"Subject: {st.user.sub}")
    st.write(f"Name: {st.user.name}")
    if st.button("Sign out"):
        st.logout()

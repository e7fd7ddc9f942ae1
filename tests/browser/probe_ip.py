"""A tiny Streamlit page for tests/browser/test_loopback_proxy.py: who does the app think is asking?

`st.context.ip_address` normalises 127.0.0.1 and ::1 to None, so the raw TCP peer that Streamlit
recorded for the session is shown as well (read through the runtime, not a public API).
"""
import streamlit as st
from streamlit.runtime import get_instance
from streamlit.runtime.scriptrunner import get_script_run_ctx


def _raw_peer() -> str | None:
    ctx = get_script_run_ctx()
    client = get_instance().get_client(ctx.session_id) if ctx else None
    cc = getattr(client, "client_context", None)
    return getattr(cc, "remote_ip", None)


st.session_state.setdefault("clicks", 0)
if st.button("Count", key="count"):
    st.session_state.clicks += 1

with st.container(key="ip"):
    st.markdown(f"ip_address={st.context.ip_address!r}")
with st.container(key="peer"):
    st.markdown(f"peer={_raw_peer()!r}")
with st.container(key="clicks"):
    st.markdown(f"clicks={st.session_state.clicks}")

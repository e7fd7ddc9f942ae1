"""Assessment records and everything computed from them. No Streamlit here."""

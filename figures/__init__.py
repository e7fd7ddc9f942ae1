"""Plotly figures, the NHS chart theme and the charts as text tables: no Streamlit, for the app and the reports."""

"""Data: backup and restore of the whole database, ratings import (CSV/Excel) and export."""
from __future__ import annotations

import streamlit as st

from components import data_sections as D
from components.state import get_store

store = get_store()
st.title("Data")
st.markdown("Keep a backup, move ratings in and out as spreadsheets, and restore a backup into a new database.")

backup_tab, orgs_tab, import_tab, export_tab, restore_tab = st.tabs(
    ["Backup", "ICSs and PCNs", "Import ratings", "Export ratings", "Restore a backup"])
with backup_tab:
    D.backup(store)
with orgs_tab:
    D.organisations_section(store)
with import_tab:
    D.import_ratings(store)
with export_tab:
    D.export_ratings(store)
with restore_tab:
    D.restore(store)

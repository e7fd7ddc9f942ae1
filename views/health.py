"""System health (administrators): the checks of `python cli.py check`, as this app process sees
them: database reachable, migrations current, matrix files valid, the last backup's age."""
import streamlit as st

from assessments.backup_files import ENV_BACKUP_DIR
from assessments.health import NOT_CONFIGURED, OK, health
from assessments.values import StoreError
from components.look import plain
from components.state import get_store

st.title("System health")
st.markdown("What an operator checks: whether the database answers, its schema is current, every matrix file "
            f"is valid, and how old the last backup in `{ENV_BACKUP_DIR}` is. `python cli.py check` makes the same "
            "checks from the server's command line (exit code 1 when one finds a problem).")

try:
    checks = health(get_store())
except StoreError as exc:  # not an administrator: the core refuses, the page says why
    st.error(plain(str(exc)))
    st.stop()

problems = [c for c in checks if not c.ok]
if problems:
    st.error(f"{len(problems)} of {len(checks)} checks found a problem.")
else:
    st.success(f"All {len(checks)} checks passed.")
for c in checks:
    title = {"database": "Database", "migrations": "Migrations", "matrices": "Matrix files",
             "backups": "Backups"}.get(c.name, c.name)
    text = f"**{plain(title)}: {plain(c.status)}.** {plain(c.detail)}"
    if c.fix:
        text += f"  \n**What to do:** {plain(c.fix)}"
    if c.status == OK:
        st.success(text)
    elif c.status == NOT_CONFIGURED:
        st.info(text)
    else:
        st.error(text)
st.button("Check again", key="health_again")

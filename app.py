"""Entry point: `streamlit run app.py`. Page config, the NHS look, who the user is, and navigation
over views/ showing each person only the pages their roles use (the services refuse the rest)."""
from pathlib import Path

import streamlit as st

from assessments.access import ADMINISTRATOR, COMMISSIONER, FACILITATOR, LEAD, MEMBER
from assessments.values import UnreachableError
from components.compression import precompressed_static_files
from components.look import apply_look, plain
from components.runtime import freeze_startup_objects, lock_free_config_reads
from components.state import actor_input, offer_demo, principal

lock_free_config_reads()  # before anything draws: see components/runtime.py
freeze_startup_objects()  # the garbage collector leaves the loaded modules alone: see components/runtime.py

# The icon is the app's own file: a Material icon name makes the browser fetch it from Google's font
# server, which an offline laptop cannot reach.
st.set_page_config(page_title="PCN maturity matrix", page_icon=Path(__file__).parent / "assets" / "icon.svg",
                   layout="wide")

HOME = st.Page("views/home.py", title="Matrix and pathway", icon=":material/grid_view:", default=True)
ASSESS = st.Page("views/assess.py", title="Self-assessment", icon=":material/edit_note:")
WORKSHOP = st.Page("views/workshop.py", title="Run a workshop", icon=":material/groups:")
JOIN = st.Page("views/join.py", title="Join a workshop", icon=":material/login:")
PROGRESS = st.Page("views/progress.py", title="PCN progress", icon=":material/trending_up:")
PORTFOLIO = st.Page("views/portfolio.py", title="ICS portfolio", icon=":material/view_module:")
PLAN = st.Page("views/plan.py", title="Development plan", icon=":material/checklist:")
PATHWAY = st.Page("views/pathway.py", title="Pathway", icon=":material/route:")
PEOPLE = st.Page("views/people.py", title="People and access", icon=":material/manage_accounts:")
DATA = st.Page("views/data.py", title="Data", icon=":material/database:")
MATRICES = st.Page("views/matrices.py", title="Matrices", icon=":material/description:")
HEALTH = st.Page("views/health.py", title="System health", icon=":material/monitor_heart:")

# Which pages each role uses; a person with several roles gets every page of each.
ROLE_PAGES = {
    ADMINISTRATOR: [HOME, ASSESS, WORKSHOP, JOIN, PROGRESS, PORTFOLIO, PLAN, PATHWAY, PEOPLE, DATA, MATRICES, HEALTH],
    FACILITATOR: [HOME, ASSESS, WORKSHOP, JOIN, PROGRESS, PORTFOLIO, PLAN, PATHWAY, PEOPLE, MATRICES],
    LEAD: [HOME, ASSESS, JOIN, PROGRESS, PORTFOLIO, PLAN, PATHWAY, PEOPLE, MATRICES],
    MEMBER: [HOME, ASSESS, JOIN, PROGRESS, PORTFOLIO, PLAN, PATHWAY, MATRICES],
    COMMISSIONER: [HOME, PROGRESS, PORTFOLIO, PLAN, MATRICES],
}
# Streamlit's bundles gzipped once, for phones on poor Wi-Fi, and the page sent for a page's own
# address told where the server is (components/compression.py).
precompressed_static_files([p.url_path for p in ROLE_PAGES[ADMINISTRATOR]] + ["start"])
SECTIONS = {"Matrix": [HOME], "Assess": [ASSESS, WORKSHOP, JOIN], "Progress": [PROGRESS, PORTFOLIO],
            "Plan": [PLAN, PATHWAY], "Settings": [PEOPLE, DATA, MATRICES, HEALTH]}


def only(script: str, title: str, icon: str, keep: tuple = ()) -> list:
    """One page, shown whatever address is opened (no "page not found" in front of it), except the
    pages in `keep`, which stay at their own address."""
    return [st.Page(script, title=title, icon=icon, url_path="start", default=True), *keep,
            *[st.Page(script, title=title, url_path=p.url_path) for p in ROLE_PAGES[ADMINISTRATOR]
              if p.url_path != "" and p.url_path not in {k.url_path for k in keep}]]


def pages_for(who) -> list | dict:
    """What this person may open: the pages of their roles, or the one page that is theirs."""
    if who is None:
        # A workshop participant needs no account: the join code is their capability for that
        # workshop alone, so the join page stays open to people who are not signed in.
        return only("views/sign_in.py", "Sign in", ":material/login:", keep=(JOIN,))
    if who.via == "phone":
        # Laptop mode: another device on the network is a workshop participant, whatever it opens.
        return only("views/join.py", "Join a workshop", ":material/login:")
    if not who.grants:
        return only("views/no_role.py", "No access yet", ":material/lock:", keep=(JOIN,))
    allowed = {p.url_path for g in who.grants for p in ROLE_PAGES[g.role]}
    pages = {section: [p for p in items if p.url_path in allowed] for section, items in SECTIONS.items()}
    return {section: items for section, items in pages.items() if items}


try:
    pages = pages_for(principal())
    page = st.navigation(pages, position="sidebar" if isinstance(pages, dict) else "hidden")
    apply_look()
    actor_input()
    offer_demo()
    page.run()
except UnreachableError as exc:  # the database is down: say so plainly, never a traceback
    st.error(plain(str(exc)))

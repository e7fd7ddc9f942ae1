"""Entry point: `streamlit run app.py`. Page config, the NHS look and navigation over views/."""
import streamlit as st

from components.look import apply_look
from components.state import actor_input, offer_demo

st.set_page_config(page_title="PCN maturity matrix", page_icon=":material/hub:", layout="wide")

# Each page is one module in views/; add a page by adding one line here.
pages = {
    "Matrix": [
        st.Page("views/home.py", title="Matrix and pathway", icon=":material/grid_view:", default=True),
    ],
    "Assess": [
        st.Page("views/assess.py", title="Self-assessment", icon=":material/edit_note:"),
        st.Page("views/workshop.py", title="Run a workshop", icon=":material/groups:"),
        st.Page("views/join.py", title="Join a workshop", icon=":material/login:"),
    ],
    "Progress": [
        st.Page("views/progress.py", title="PCN progress", icon=":material/trending_up:"),
        st.Page("views/portfolio.py", title="ICS portfolio", icon=":material/view_module:"),
    ],
    "Plan": [
        st.Page("views/plan.py", title="Development plan", icon=":material/checklist:"),
        st.Page("views/pathway.py", title="Pathway", icon=":material/route:"),
    ],
    "Settings": [
        st.Page("views/data.py", title="Data", icon=":material/database:"),
        st.Page("views/matrices.py", title="Matrices", icon=":material/description:"),
    ],
}
page = st.navigation({section: items for section, items in pages.items() if items})
apply_look()
actor_input()
offer_demo()
page.run()

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
    ],
    "Progress": [
    ],
    "Plan": [
        st.Page("views/plan.py", title="Development plan", icon=":material/checklist:"),
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

"""Entry point: `streamlit run app.py`. Page config, the NHS look and navigation over views/."""
import streamlit as st

from components.look import apply_look

st.set_page_config(page_title="PCN maturity matrix", page_icon=":material/hub:", layout="wide")

pages = {
    "Matrix": [
        st.Page("views/home.py", title="Matrix and pathway", icon=":material/grid_view:", default=True),
        st.Page("views/matrices.py", title="Matrices", icon=":material/description:"),
    ],
}
page = st.navigation(pages)
apply_look()
page.run()

"""ICS portfolio: where each PCN of one ICS says it is in a year, for planning development
conversations with the networks. One ICS at a time, so the page stays quick at national scale.
PCNs are listed by name, code or list size, never ranked by score. One matrix at a time: the
ICS's default matrix first; PCNs rated against another are counted and shown by choosing it.
Drawn for the browser's sake: the part below the title is a fragment, so a change of year, order
or matrix redraws it alone; the heat map is a coloured HTML table (its cells say the score and on
how many elements it rests) and the distribution HTML bars, and the sortable grid and the
distribution's table are built when their switches are turned on: a data grid costs the browser
about 350 ms on any page that has one, and plotly about 250 ms."""
from __future__ import annotations

import streamlit as st

from assessments.progress import Portfolio, ics_portfolio
from components import evidence as E
from components.cache import cached
from assessments.matrix_choice import title_of
from components.header import page_header, pick_matrix
from components.look import colour_key, plain, stacked_bars, static_table
from components.state import get_store
from figures import charts
from figures import tables as T

PROGRESS_PAGE = "views/progress.py"


@cached()
def load_portfolio(ics_code: str, year: str, matrix_id: str | None = None) -> Portfolio:
    return ics_portfolio(get_store(), ics_code, year, matrix_id)


@cached(shared=True)
def figures(ics_code: str, year: str, order: str, matrix_id: str | None) -> dict:
    """The charts and tables of one ICS, year and order, built once per data version and shared by every
    session: building plotly figures was most of this page's run. Nothing changes them afterwards
    (st.plotly_chart sends a copy), so sharing them is safe."""
    data = load_portfolio(ics_code, year, matrix_id)
    stage_labels = T.labels_of(get_store().matrix(*data.matrix_key))
    frame = T.reorder(data.frame, T.pcn_order(data.frame, order))
    heat, colours = charts.heat_table(frame, stage_labels)
    out = {"heat": heat, "colours": colours, "key": charts.legend_swatches(stage_labels),
           "table": T.portfolio_table(frame, stage_labels, counts=True)}
    if len(data.distribution):
        out["bars"] = charts.distribution_bars(data.distribution)
        out["bars_table"] = charts.stage_distribution_table(data.distribution)
    return out


st.title("ICS portfolio")
st.markdown("Where each network of the ICS says it is this year, to plan development conversations and support. "
            "These are self-assessments: networks are listed, not ranked.")


@st.fragment
def portfolio() -> None:
    """Everything below the title, pickers included: choosing another year, order or matrix redraws
    this part only, not the page around it."""
    ics, _, year, order_column = page_header(pcn=False, year_key="portfolio_year", extra=True)
    with order_column:
        order = st.selectbox("List PCNs by", list(T.ORDERS), format_func=T.ORDERS.get, key="portfolio_order")

    first = load_portfolio(ics.code, year)  # the ICS's default matrix (or the one most PCNs used), and the options
    with st.columns([1, 2])[0] if len(first.matrix_ids) > 1 else st.container():
        chosen = pick_matrix("portfolio_matrix", first.matrix_ids, first.matrix_id,
                             help="The PCNs of this ICS are rated against more than one matrix this year: the portfolio "
                                  "shows one at a time.")
    asked = None if chosen == first.matrix_id else chosen  # the same cached read as `first` when not another
    pf = load_portfolio(ics.code, year, asked)
    for note in pf.left_out:
        st.warning(plain(f"Left out: {note}."))
    store = get_store()
    for other, n in pf.others.items():
        st.info(plain(f"{n} PCN(s) of {ics.name} have a {year} assessment against {title_of(store, other)}: choose it "
                      "under Matrix above to see them."))

    m1, m2, m3 = st.columns(3)
    m1.metric("Agreed assessments", f"{pf.n_agreed} of {pf.n_pcns}", border=True,
              help="Assessments the network has agreed for this year (locked)")
    m2.metric("Drafts", pf.n_draft, border=True, help="Assessments started but not agreed yet")
    m3.metric("Not started", pf.n_not_started, border=True, help="PCNs with no assessment for this year against any matrix")
    evidence_line, evidence_table = E.ics_evidence_summary(ics.code, year, pf.matrix_id)
    if evidence_line:
        st.markdown(f"**Evidence:** {plain(evidence_line)}.")
    if not pf.n_agreed + pf.n_draft:
        st.info(plain(f"No PCN of {ics.name} has a {year} assessment yet." if not pf.n_elsewhere else
                      f"No PCN of {ics.name} has a {year} assessment against {title_of(store, pf.matrix_id)}."))
        return
    matrix = get_store().matrix(*pf.matrix_key)

    # ---------------------------------------------------------------------------------------------
    st.subheader("Domain scores by PCN", anchor=False)
    st.caption(plain("Each cell is the mean stage of the domain's rated elements and how many elements it rests on; "
                     "darker is further along. Scores are what each network said about itself, to start a conversation, "
                     "not to compare networks."))
    built = figures(ics.code, year, order, asked)
    colour_key([(f"{i} = {label}", bg, fg) for i, (label, bg, fg) in enumerate(built["key"])], title="Score")
    with st.container(key="portfolio_heatmap"):
        static_table(built["heat"], styles=built["colours"],
                     alt=f"Domain scores for the {pf.n_pcns} PCNs of {ics.name} in {year}, coloured by score")

    table = built["table"]
    on_matrix = {"matrix": pf.matrix_id} if pf.matrix_id else {}  # the PCN's progress opens on the same matrix
    # The grid is built only when asked for: sorting by a column, or opening a PCN by selecting its row.
    if st.toggle("Sort and select in a grid", key="portfolio_grid",
                 help="The same scores with the stages they sit between, in a grid you can sort by any column; "
                      "select a row to open that PCN's progress"):
        event = st.dataframe(
            table, key=f"portfolio_table_{ics.code}_{year}_{order}", on_select="rerun", selection_mode="single-row",
            hide_index=True, width="stretch", alt=f"Domain scores for the PCNs of {ics.name} in {year}",
            column_config={"List size": st.column_config.NumberColumn("List size", format="localized"),
                           "PCN": st.column_config.TextColumn("PCN", pinned=True),
                           **{d: st.column_config.TextColumn(d, help=plain(f"{d}: mean stage of the rated elements"))
                              for d in table.columns[6:]}})
        picked = event.selection.rows if event else []
        if picked:
            code = str(table["Code"].iloc[picked[0]])
            # Both: the progress page's picker reads its session value first, and the URL makes the view shareable.
            st.session_state["ics"], st.session_state["pcn"] = ics.code, code
            st.switch_page(PROGRESS_PAGE, query_params={"ics": ics.code, "pcn": code, **on_matrix})

    # One picker and one link, not a link per PCN: an ICS has 30 to 60 networks, and a picker is
    # searched by typing (the keyboard's way to a PCN).
    names = dict(zip(table["Code"], table["PCN"]))
    pick, link = st.columns([2, 1], vertical_alignment="bottom")
    code = pick.selectbox("Open a PCN's progress", list(names), index=None, placeholder="Choose or type a PCN",
                          format_func=lambda c: f"{names[c]} ({c})", key=f"portfolio_open_{ics.code}")
    if code is not None:
        link.page_link(PROGRESS_PAGE, label=plain(f"Open the progress of {names[code]}"), icon=":material/trending_up:",
                       query_params={"ics": ics.code, "pcn": code, **on_matrix})

    with st.expander("Evidence behind the ratings, PCN by PCN"):
        st.caption("Elements with at least one dated evidence item that is current: added this year or confirmed to "
                   "still hold, and not past its review-by date. Elements rated not applicable are left out.")
        static_table(evidence_table, alt=f"Evidence coverage of each PCN of {ics.name} in {year}")

    # ---------------------------------------------------------------------------------------------
    st.subheader("Stages reached across the ICS", anchor=False)
    excluded = pf.distribution.attrs.get("excluded", [])
    with_assessment = pf.n_agreed + pf.n_draft - len(excluded)
    st.caption(plain(f"Share of all elements at each stage, over the {with_assessment} PCN(s) with a {year} assessment "
                     f"(drafts included)." + (f" Not comparable with {matrix.title} {matrix.version}, so left out: "
                                              f"{', '.join(excluded)}." if excluded else "")))
    if with_assessment and "bars" in built:
        bars = built["bars"]
        colour_key([(seg["label"], seg["background"], seg["text"]) for seg in bars[0][1]], title="Stage")
        with st.container(key="portfolio_distribution"):
            stacked_bars(bars, alt=f"Stacked bars per domain: the share of elements at each stage across {ics.name} in "
                                   f"{year}. The same figures are in the table that the switch below the chart shows.")
        # The chart's table is built only when asked for (an expander's content is sent and drawn closed).
        if st.toggle("Show the chart as a table", key="portfolio_distribution_table",
                     help="The count and share of elements at each stage, domain by domain, as text"):
            st.dataframe(built["bars_table"], hide_index=True, width="stretch",
                         alt=f"Elements at each stage per domain across {ics.name} in {year}: count (share)")


portfolio()

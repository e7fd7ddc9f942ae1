"""PCN progress: one network's domain scores across years, what moved since the year before,
and each domain's path, every chart with its table. Links such as ?ics=QZZ&pcn=U99001 open a PCN.
A PCN rated against more than one matrix gets a matrix picker (?matrix= in links); the other
matrices' years are named, never dropped. The comparison of two years is a fragment (its pickers
redraw it alone) with its element-by-element table in a data grid, and the per-domain charts' table
is built when its switch is turned on: long static tables were half the elements the browser drew."""
from __future__ import annotations

import streamlit as st

from assessments import years as Y
from assessments.progress import PcnProgress, pcn_progress
from components import evidence as E
from components.cache import cached
from assessments.matrix_choice import title_of
from components.header import page_header, pick_matrix
from components.look import plain, static_table
from components.state import get_store
from figures import charts
from figures import tables as T

PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def trimmed(df):
    """`df` without its note columns when every note is empty."""
    empty = [c for c in ("Note", "Notes") if c in df.columns and not df[c].astype(bool).any()]
    return df.drop(columns=empty)


@cached()
def load_progress(pcn_code: str, matrix_id: str | None = None) -> PcnProgress:
    return pcn_progress(get_store(), pcn_code, matrix_id)


@cached(shared=True)
def figures(pcn_code: str, matrix_id: str | None) -> dict:
    """The charts and their tables, built once per PCN and data version and shared by every session:
    building plotly figures was most of this page's run. Nothing changes them afterwards
    (st.plotly_chart sends a copy), so sharing them is safe."""
    data = load_progress(pcn_code, matrix_id)
    labels = T.labels_of(get_store().matrix(*data.matrix_key))
    # The builders size themselves from the matrix's shape (a dot chart beyond 8 domains, the legend
    # above the small multiples), so the page keeps their sizes.
    radar = charts.radar(data.series, labels, title=None)
    domains = charts.domain_progress(data.series, labels, title=None)
    return {"radar": radar, "profile": trimmed(T.profile_table(data.series, labels)),
            "domains": domains, "domain_years": trimmed(T.domain_years_table(data.series, labels))}


st.title("PCN progress")
st.markdown("How the network's self-assessment has moved from year to year, domain by domain: a starting point "
            "for the conversation about what helped and what to work on next.")

ics, pcn, _, matrix_column = page_header(extra=True)
first = load_progress(pcn.code)  # the default matrix, and the options
with matrix_column:
    chosen = pick_matrix("progress_matrix", first.matrix_ids, first.matrix_id,
                         help="This PCN is rated against more than one matrix: choose which to follow.")
asked = None if chosen == first.matrix_id else chosen  # the same cached read as `first` when not another
data = load_progress(pcn.code, asked)
for note in data.left_out:
    st.warning(plain(f"Left out: {note}."))
store = get_store()
years_on: dict[str, list[str]] = {}
for year, others in data.elsewhere.items():
    for x in others:
        years_on.setdefault(x, []).append(year)
for x, years in years_on.items():
    st.info(plain(f"{pcn.name} is also rated against {title_of(store, x)} in {', '.join(years)}: choose it under "
                  "Matrix above to see those years."))
if not data.years:
    st.info(plain(f"{pcn.name} has no assessments yet. Once a year has been rated it shows here, and from the "
                  "second year on, what moved."))
    st.stop()

matrix = get_store().matrix(*data.matrix_key)
labels = T.labels_of(matrix)
years = ", ".join(f"{y} ({data.statuses[y]})" for y in data.years)
assessed = {*data.years, *data.elsewhere}  # on any matrix
since = Y.not_assessed_since(assessed)
if since:
    this = Y.current_year()
    st.info(plain(f"No assessment yet for {' or '.join(since)}"
                  + (f" ({this} is this financial year)" if this in since else "")
                  + f": the latest is {max(assessed)}."))
st.caption(plain(f"Assessments: {years}. A domain's score is the mean stage of its rated elements on "
                 f"{matrix.title} {matrix.version}: "
                 + ", ".join(f"{i} = {s}" for i, s in enumerate(labels)) + "."))

# ---------------------------------------------------------------------------------------------
st.subheader("Maturity by domain", anchor=False)
not_comparable = data.series[~data.series["comparable"]].drop_duplicates("year")
for r in not_comparable.itertuples():
    st.warning(plain(f"{r.year} cannot be shown with the later years: {r.reason}."))
built = figures(pcn.code, asked)
st.plotly_chart(built["radar"], config=PLOTLY_CONFIG, key="progress_radar",
                alt=f"Radar chart of {pcn.name}'s domain scores, one line per year, with the latest target dashed. "
                    "The same figures are in the table below.")
static_table(built["profile"], alt=f"Domain scores of {pcn.name} by year")

# ---------------------------------------------------------------------------------------------
st.subheader("What moved since the year before", anchor=False)


@st.fragment
def what_moved(data: PcnProgress, pcn_name: str, matrix, labels) -> None:
    """The comparison of two years: its pickers redraw this section only, not the charts around it."""
    pairs = [y for y in data.years if data.previous(y)]
    if not pairs:
        st.info(plain(f"Only {data.years[0]} has been assessed, so there is nothing to compare yet."))
        return
    steps = {c.after: c for c in Y.comparisons(data.years)}  # what each year is compared with (assessments.years)
    after = st.selectbox("Compare", pairs[::-1], key="progress_compare", format_func=lambda y: steps[y].label)
    comparison = data.comparison(after)
    before = comparison.before_year
    if steps[after].note:
        st.info(plain(steps[after].note))
    if not comparison.comparable:
        st.warning(plain(f"{after} cannot be compared with {before}: {comparison.reason}."))
    else:
        n = T.change_counts(comparison)
        st.markdown(plain(f"Since {before}: {n['up']} element(s) moved up, {n['down']} moved down and "
                          f"{n['same']} stayed at the same stage"
                          + (f"; {n['not compared']} could not be compared (see the notes)." if n["not compared"] else ".")))
        static_table(trimmed(T.domain_changes_table(comparison, labels)), alt=f"Domain scores of {pcn_name}, {before} and {after}")
    only_moved = st.toggle("Show only elements that moved up or down", key="progress_only_moved",
                           disabled=not comparison.comparable)
    # A static table, not a data grid: its names wrap, and its text is in the page for a screen
    # reader and for the check that hostile names show as typed (a grid draws on a canvas).
    static_table(trimmed(T.element_changes_table(comparison, matrix, labels,
                                               only_moved=only_moved and comparison.comparable)),
               alt=f"Element by element, {before} and {after}")


what_moved(data, pcn.name, matrix, labels)

# ---------------------------------------------------------------------------------------------
st.subheader("Evidence behind the ratings", anchor=False)
st.caption("Elements with at least one dated evidence item that is current: added this year or confirmed to still "
           "hold, and not past its review-by date (judged at the year's end for years that have ended). Elements "
           "rated not applicable are left out.")
static_table(trimmed(E.pcn_evidence_table(pcn.code)), alt=f"Evidence coverage of {pcn.name} by year")

# ---------------------------------------------------------------------------------------------
st.subheader("Each domain across the years", anchor=False)
st.plotly_chart(built["domains"], config=PLOTLY_CONFIG,
                key="progress_domains",
                alt=f"One small chart per domain of {pcn.name}'s score by year, with the target dashed. "
                    "The same figures are in the table below the charts.")


@st.fragment
def charts_as_table(table, pcn_name: str) -> None:
    """Built only when asked for: a row per domain and year is the longest table of the page (the
    same scores are in the table under the radar), and the switch redraws this part only."""
    if st.toggle("Show the charts as a table", key="progress_domain_table",
                 help="Each domain's score, assessment and target in every year, as text"):
        static_table(table, alt=f"Domain scores of {pcn_name} by domain and year")


charts_as_table(built["domain_years"], pcn.name)

"""The facilitator's projector view at 1280x720 and 1920x1080 in projector mode (the "Present on a
projector" switch, large text, no sidebar): the join code, the QR image, each control and the
headline numbers lie wholly inside the first screen, the live spread starts there too, nothing
overflows sideways and the charts' text is as large as the page's. And the facilitator's view stays
live: ratings made meanwhile reach the counts, the element picker and the suggested stage without
a reload, while the note being typed and a stage already chosen are kept."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from assessments import workshop as ws
from assessments.store import Store

from .conftest import APP_DATABASES, SHOTS, wait_for_app
from .layout import OVERFLOW

pytestmark = pytest.mark.browser
expect.set_options(timeout=30_000)  # the machine may be busy: wait on the page's state, generously

METRIC_VALUE = '[data-testid="stMetric"]:has-text("{}") [data-testid="stMetricValue"]'

# An element's box, and anything inside it whose text is cut off: by its own size, or by a
# descendant that hides its overflow or ends it with an ellipsis.
BOX = """(e) => { const r = e.getBoundingClientRect();
  const clips = x => { const c = getComputedStyle(x); return c.overflowX !== 'visible' || c.textOverflow === 'ellipsis'; };
  const cut = [e, ...e.querySelectorAll('*')].filter(x => (x === e || clips(x)) && x.clientWidth > 2
    && (x.scrollWidth > x.clientWidth + 1 || x.scrollHeight > x.clientHeight + 1))
    .map(x => `${x.tagName} ${x.scrollWidth}x${x.scrollHeight} in ${x.clientWidth}x${x.clientHeight}`);
  return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, cut}; }"""
CHART_TEXT_PX = """() => [...document.querySelectorAll(
  '.pcn-spread-stage, .pcn-spread-name, .pcn-spread-count, .js-plotly-plot .angularaxistick text')]
  .map(t => parseFloat(getComputedStyle(t).fontSize))"""
# The chart's text boxes: any outside the chart's own box, and any pair of tick labels that overlap.
CHART_TEXTS = """(chart) => { const box = chart.querySelector('.main-svg').getBoundingClientRect();
  const texts = [...chart.querySelectorAll('.main-svg text')].filter(t => t.textContent.trim())
    .map(t => ({text: t.textContent.trim(), r: t.getBoundingClientRect(), tick: !!t.closest('.angularaxistick')}));
  const cut = texts.filter(({r}) => r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
    || r.bottom > box.bottom + 1).map(t => t.text);
  const ticks = texts.filter(t => t.tick), touching = [];
  ticks.forEach((a, i) => ticks.slice(i + 1).forEach(b => {
    if (a.r.left < b.r.right && b.r.left < a.r.right && a.r.top < b.r.bottom && b.r.top < a.r.bottom)
      touching.push(`${a.text} / ${b.text}`); }));
  return {cut, touching}; }"""
BODY_TEXT_PX = """() => parseFloat(getComputedStyle(
  document.querySelector('[data-testid="stMain"] [data-testid="stMarkdownContainer"] p')).fontSize)"""


def _store(app_url: str) -> Store:
    return Store(APP_DATABASES[app_url])


def _demo_loaded(browser, app_url: str) -> None:
    context = browser.new_context()
    try:  # the app loads the demo data on its first visit
        page = context.new_page()
        page.goto(app_url)
        wait_for_app(page)
        expect(page.get_by_role("heading", name="PCN maturity matrix", exact=True)).to_be_visible()
    finally:
        context.close()


def _sign_the_log(page, name: str = "Fran Facilitator") -> None:
    page.get_by_label("Your name (for the change log)").fill(name)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Pause rating")).to_be_enabled()
    wait_for_app(page)


@pytest.mark.parametrize("width,height,present", [(1280, 720, True), (1920, 1080, True), (1280, 720, False)],
                         ids=["1280x720", "1920x1080", "1280x720-large-text-with-sidebar"])
def test_projector_mode_fits_the_first_screen(browser, app_url, width, height, present):
    _demo_loaded(browser, app_url)
    store = _store(app_url)
    try:
        w = ws.open_workshop(store, "U99002", "2026/27", by="Fran Facilitator")
        matrix = store.matrix(w.matrix_id, w.matrix_version)
        for i, name in enumerate(("Asha Patel", "Ben Okoro", "Cara Dunn")):
            token = ws.join(store, w.code, name, "GP")[1].token
            for j, element in enumerate(matrix.element_ids()[:8]):
                ws.rate(store, token, element, matrix.stage_ids[(i + j) % len(matrix.stage_ids)])
    finally:
        store.close()

    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{app_url}/workshop?w={w.id}&large_text=true")
        wait_for_app(page)
        _sign_the_log(page)
        page.evaluate("() => { window.__sameDocument = true; }")
        if present:
            page.get_by_text("Present on a projector").click()
            expect(page.locator('[data-testid="stSidebar"]')).to_be_hidden()
        page.locator(".pcn-spread").first.wait_for()
        page.locator(".js-plotly-plot").first.wait_for()  # the spiders
        wait_for_app(page)
        assert ("present=true" in page.url) == present and "large_text=true" in page.url
        assert page.evaluate("() => window.__sameDocument") is True  # no reload was needed

        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = f"projector-{width}x{height}" + ("" if present else "-sidebar")
        page.screenshot(path=str(SHOTS / f"{shot}.png"))  # the first screen, as the room sees it
        code = page.locator('p[aria-label^="Join code"]')
        assert code.inner_text().strip() == w.code
        main = page.locator('[data-testid="stMain"]')
        checks = [("join code", code), ("QR image", page.get_by_role("img", name="QR code that opens"))]
        for label in ("Pause rating", "Reveal results to participants", "Close the workshop"):
            checks.append((label, main.get_by_role("button", name=label, exact=True)))
        for label in ("Yes, close the workshop", "Present on a projector"):
            checks.append((label, main.locator('[data-testid="stCheckbox"]').filter(has_text=label)))
        for metric in ("Joined", "Ratings", "Views differ", "Agreed"):
            box = main.locator('[data-testid="stMetric"]').filter(has_text=metric)
            checks.append((f"{metric} label", box.locator('[data-testid="stMetricLabel"]')))
            checks.append((f"{metric} number", box.locator('[data-testid="stMetricValue"]')))
        boxes = []
        for name, locator in checks:
            expect(locator).to_have_count(1)
            b = locator.evaluate(BOX) | {"name": name}
            assert b["left"] >= 0 and b["right"] <= width, b
            # With the sidebar the page scrolls to them; the projector layout shows them all at once.
            assert not present or (b["top"] >= 0 and b["bottom"] <= height), b
            assert b["cut"] == [], (name, b["cut"])
            boxes.append(b)
        code_box, qr_box = boxes[0], boxes[1]
        assert code_box["right"] <= qr_box["left"], (code_box, qr_box)  # no letter under the QR image
        qr_px, code_px = (240, 60) if present else (180, 45)  # the sidebar takes a quarter of the width
        assert qr_box["right"] - qr_box["left"] >= qr_px and code_box["bottom"] - code_box["top"] >= code_px
        assert page.locator(METRIC_VALUE.format("Ratings")).inner_text() == "24"


        # The live spread starts in the first screen (in the projector layout), its text as large as
        # the page's.
        spread_top = page.locator(".pcn-spread").first.bounding_box()["y"]
        assert spread_top < height - 120 or not present, spread_top
        chart_px, body_px = page.evaluate(CHART_TEXT_PX), page.evaluate(BODY_TEXT_PX)
        assert body_px >= 24 and min(chart_px) >= 18, (body_px, sorted(set(chart_px)))

        layout = page.evaluate(OVERFLOW)
        assert layout["scrollWidth"] <= layout["width"] and layout["out"] == [], layout

        # Each participant's spider, labelled with initials while the results are hidden. The page
        # scrolls inside Streamlit's own container, so a window as tall as the chart shows it whole.
        spiders = page.locator('[data-testid="stPlotlyChart"]').filter(has=page.locator(".polar")).first
        page.set_viewport_size({"width": width, "height": 1800})
        spiders.scroll_into_view_if_needed()
        wait_for_app(page)
        for initials in ("AP", "BO", "CD"):
            expect(spiders.get_by_text(initials, exact=True)).to_be_visible()
        # Every label lies inside the chart, and no two of the small spiders' labels touch.
        texts = spiders.evaluate(CHART_TEXTS)
        assert texts["cut"] == [], texts
        assert texts["touching"] == [], texts
        expect(spiders.get_by_text("Asha Patel")).to_have_count(0)
        spiders.screenshot(path=str(SHOTS / f"{shot}-spiders.png"))
        if not present:
            return
        # Leaving the projector layout brings the sidebar back, with the name still in it.
        page.get_by_text("Present on a projector").click()
        expect(page.locator('[data-testid="stSidebar"]')).to_be_visible()
        expect(page.get_by_label("Your name (for the change log)")).to_have_value("Fran Facilitator")
    finally:
        context.close()


def test_the_facilitator_view_follows_new_ratings_and_keeps_what_was_typed(browser, app_url):
    _demo_loaded(browser, app_url)
    store = _store(app_url)
    try:
        w = ws.open_workshop(store, "U99003", "2026/27", by="Fran Facilitator")
        matrix = store.matrix(w.matrix_id, w.matrix_version)
        first = ws.summary(store, w.id).elements[0]  # what the picker starts on while nothing is rated
        tokens = [ws.join(store, w.code, name, "GP")[1].token for name in ("Asha Patel", "Ben Okoro", "Cara Dunn",
                                                                            "Dev Rana")]
    finally:
        store.close()
    label = {s.id: s.label for s in matrix.stages}

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{app_url}/workshop?w={w.id}")
        wait_for_app(page)
        _sign_the_log(page)
        picker = page.get_by_role("combobox", name="Element")
        expect(picker).to_have_value(f"{first.element_title} (not rated)")
        note = page.get_by_label("Discussion note (optional)")
        note.click()
        note.press_sequentially("Partners not yet involved", delay=20)  # typed, not yet committed
        page.evaluate("() => { window.__sameDocument = true; }")

        store = _store(app_url)
        try:
            for token, stage in zip(tokens[:3], ("step-1", "step-2", "step-2")):
                ws.rate(store, token, first.element_id, stage)
        finally:
            store.close()
        # The counts, the picker's label and the suggestion follow, with no reload.
        expect(page.locator(METRIC_VALUE.format("Ratings"))).to_have_text("3", timeout=30_000)
        expect(picker).to_have_value(f"{first.element_title} (3 ratings, views differ)", timeout=30_000)
        suggested = page.get_by_role("radio", name=f"{label['step-2']} (suggested: the group's median)")
        expect(suggested).to_be_checked(timeout=30_000)
        expect(note).to_have_value("Partners not yet involved")
        assert page.evaluate("() => window.__sameDocument") is True

        # A stage the facilitator chose stays chosen when the median moves.
        page.get_by_role("radiogroup", name="Agreed stage").get_by_text(label["step-3"], exact=True).click()
        wait_for_app(page)
        store = _store(app_url)
        try:
            ws.rate(store, tokens[3], first.element_id, "step-1")  # median now step-1
        finally:
            store.close()
        expect(page.locator(METRIC_VALUE.format("Ratings"))).to_have_text("4", timeout=30_000)
        expect(page.get_by_role("radio", name=f"{label['step-1']} (suggested: the group's median)")
               ).not_to_be_checked()
        expect(page.get_by_role("radio", name=label["step-3"], exact=True)).to_be_checked()
        expect(note).to_have_value("Partners not yet involved")
        assert page.evaluate("() => window.__sameDocument") is True

        page.get_by_role("button", name="Record the agreed stage").click()
        expect(page.get_by_text(f"Recorded: {first.element_title} at {label['step-3']}.")).to_be_visible()
        store = _store(app_url)
        try:
            agreed = ws.summary(store, w.id).element(first.element_id).agreed
        finally:
            store.close()
        assert (agreed.stage, agreed.note, agreed.updated_by) == ("step-3", "Partners not yet involved",
                                                                  "Fran Facilitator")
    finally:
        context.close()

"""Names and titles that would be markup if shown raw (tests/fixtures/hostile.py) on the portfolio,
progress and assessment pages in a real browser: each shows as typed, nothing of it is rendered
(no image, outside link, formula, colour, bold, emoji or icon), a rating's toast shows its element's
title as typed, and no page asks any host but 127.0.0.1 for anything, its icon included."""
from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from components.look import JOINER
from tests.fixtures.hostile import (DOMAIN_TITLES, ELEMENT_TITLES, EXTRA_CODES, HOSTILE, ICS_NAME, MATRIX_TITLE, NAMES,
                                    PCN_NAME, YEAR, seed)

from .conftest import screenshot, start_app, wait_for_app
from tests.oidc.harness import stop

pytestmark = pytest.mark.browser

DRAFT = EXTRA_CODES[0]  # a blank draft, rated in the test


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    db = f"sqlite:///{tmp / 'hostile.db'}"
    seed(db, tmp / "matrices")
    proc, url = start_app({"PCN_DATABASE_URL": db, "PCN_MATRIX_DIR": str(tmp / "matrices")}, tmp / "streamlit.log")
    yield url
    stop(proc)


@pytest.fixture
def requests(page):
    """Every address the page asks for, from the first request on."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    return seen


def open_page(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)
    # Streamlit draws some elements after their code has loaded: until then they are placeholders.
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=60_000)
    wait_for_app(page)


def shown_text(page) -> str:
    """What the page shows: its text and the values in its boxes, with runs of white space as one
    space (see normal())."""
    text = page.evaluate("""() => document.body.innerText + ' ' + Array.from(document.querySelectorAll('input, textarea'))
                              .map(e => e.value).join(' ')""")
    return normal(text)


def normal(text: str) -> str:
    """Without runs of white space, the joiner, or the direction closers plain() adds after a name."""
    return " ".join(text.replace(JOINER, "").replace("\u202c", "").replace("\u2069", "").split())


# Markup a hostile string could produce that none of these pages draws on its own.
MARKUP = """() => {
  const found = [];
  // The page's own block and the toasts, which sit outside it.
  const all = (sel) => Array.from(document.querySelectorAll(
    sel.split(',').flatMap(s => ['[data-testid="stMain"] ' + s, '[data-testid="stToastContainer"] ' + s]).join(',')));
  const add = (what, n) => found.push(what + ': ' + (n.textContent || '').trim().slice(0, 60));
  all('img, .katex, del, sup, blockquote, script, [class*="stMarkdownColored"], [data-testid="stMarkdownContainer"] li')
    .forEach(n => add(n.tagName.toLowerCase() + '.' + String(n.className.baseVal ?? n.className).split(' ')[0], n));
  // The app's own badges mark the chosen stages ("Now", "Target"); anything else came from text.
  // So do the evidence badges (components/evidence.py), with their fixed wording.
  all('.stMarkdownBadge').forEach(n => { if (!/^(my_location|flag|check_circle|history|event_busy|help)? ?(Now|Target|Current|Current evidence: [0-9]+ items?|Carried over: confirm it still holds|Review due|No dated evidence yet)$/.test(n.textContent.trim())) add('badge', n); });
  all('[data-testid="stIconMaterial"]').forEach(n => { if (n.textContent.trim() === 'flag' && !n.closest('.stMarkdownBadge')) add('icon', n); });
  // Text the catalogue would turn into a heading, bold, italic or code, if it were rendered.
  all('h1, h2, h3, h4, h5, h6, strong, em, code, b, i').forEach(n => {
    if (/^(Heading.*|Bold|it|Strong|em|code|escaped)$/.test(n.textContent.trim())) add(n.tagName.toLowerCase(), n); });
  document.querySelectorAll('a').forEach(n => {
    const href = n.getAttribute('href') || n.getAttribute('xlink:href') || '';
    if (href && !href.startsWith('#') && new URL(href, location.href).host !== location.host) add('link ' + href, n); });
  return found;
}"""

EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")


def whole_page(page, name: str) -> None:
    """Streamlit scrolls inside its own container: grow the window to the page for the screenshot."""
    height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": min(height + 40, 8000)})
    wait_for_app(page)
    screenshot(page, f"hostile_{name}")
    page.set_viewport_size({"width": 1400, "height": 1000})
    wait_for_app(page)


def check(page, requests: list[str], expected: list[str], name: str) -> None:
    whole_page(page, name)
    assert page.evaluate(MARKUP) == []
    text = shown_text(page)
    missing = [t for t in expected if normal(t) not in text]
    assert not missing, f"not shown as typed: {missing}"
    assert not EMOJI.search(text), f"an emoji code was replaced: {EMOJI.findall(text)}"
    outside = sorted({u for u in requests if urlparse(u).scheme not in ("data", "blob")
                      and urlparse(u).hostname not in ("127.0.0.1", "localhost")})
    assert outside == []
    icon = page.evaluate("() => Array.from(document.querySelectorAll('link[rel~=\"icon\"]')).map(l => l.href)")
    assert icon and all(h.startswith("data:image/svg+xml") or urlparse(h).hostname == "127.0.0.1" for h in icon)


def test_portfolio_links_and_headings(page, requests, hostile_url):
    open_page(page, hostile_url + f"/portfolio?ics=QZZ&year={YEAR}")
    page.get_by_role("heading", name="Domain scores by PCN").wait_for()
    wait_for_app(page)
    check(page, requests, [ICS_NAME, *PCN_NAME.values()], "portfolio")
    # Nothing runs off the side of the page: the coloured table wraps long names within its width.
    assert page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollWidth <= "
                         "document.querySelector('[data-testid=\"stMain\"]').clientWidth")
    page.get_by_role("combobox", name="Open a PCN's progress").focus()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("option")).to_have_count(len(NAMES))  # every PCN of the ICS can be opened
    page.keyboard.press("Escape")

    def choose(code: str):
        """The PCN chosen in the picker; the link to its progress that then shows."""
        page.get_by_role("combobox", name="Open a PCN's progress").focus()
        page.keyboard.type(code)
        page.get_by_role("option").filter(has_text=f"({code})").click()
        link = page.get_by_test_id("stPageLink-NavLink")
        expect(link).to_have_count(1)
        wait_for_app(page)
        return link

    # A name that leaves a right-to-left override open is closed before the app's own text.
    unclosed = next(c for c, n in PCN_NAME.items() if n == dict(HOSTILE)["rtl-unclosed"])
    expect(choose(unclosed)).to_contain_text(dict(HOSTILE)["rtl-unclosed"] + "\u202c")

    # A link still opens its PCN's progress.
    choose("U99005").click()
    page.get_by_role("heading", name="PCN progress").wait_for()
    wait_for_app(page)
    assert "pcn=U99005" in page.url


def test_progress_tables_and_captions(page, requests, hostile_url):
    open_page(page, hostile_url + "/progress?ics=QZZ&pcn=U99004")
    page.get_by_role("heading", name="Maturity by domain").wait_for()
    page.get_by_text("Charts as a table").click()
    wait_for_app(page)
    check(page, requests, [ICS_NAME, PCN_NAME["U99004"], MATRIX_TITLE, *DOMAIN_TITLES, *ELEMENT_TITLES], "progress")


def test_assessment_tabs_cards_and_toast(page, requests, hostile_url):
    open_page(page, hostile_url + f"/assess?ics=QZZ&pcn={DRAFT}&year={YEAR}")
    page.get_by_text("0 of 22 elements rated").wait_for()
    check(page, requests, [PCN_NAME[DRAFT], MATRIX_TITLE, *DOMAIN_TITLES, ELEMENT_TITLES[0]], "assess")

    page.get_by_label("Your name (for the change log)").fill("Hostile Tester")
    page.keyboard.press("Enter")
    wait_for_app(page)
    page.get_by_role("radiogroup", name="Where are we now?").first.get_by_role("radio", name="Step 1").click()
    toast = page.get_by_test_id("stToast").filter(has_text="Saved")
    toast.wait_for()
    assert normal(f"Saved '{ELEMENT_TITLES[0]}': now Step 1.") in normal(toast.inner_text())
    page.get_by_text("1 of 22 elements rated").wait_for()
    wait_for_app(page)
    check(page, requests, [PCN_NAME[DRAFT], ELEMENT_TITLES[0]], "assess_rated")

"""Layout checks run in the page by the phone and projector tests."""

# Every control a thumb has to hit, measured as the browser lays it out: buttons, tabs, each
# stage choice (its whole label), text boxes and select boxes, expander headers.
SMALL_TARGETS = """(min) => {
  const sel = ['[data-testid="stMain"] button', '[data-testid="stMain"] [role="tab"]',
               '[data-testid="stMain"] [role="radiogroup"] label', '[data-testid="stMain"] [data-baseweb="input"]',
               '[data-testid="stMain"] [data-baseweb="select"] > div', '[data-testid="stMain"] summary'].join(',');
  return [...document.querySelectorAll(sel)].filter(e => e.offsetParent !== null).map(e => {
    const r = e.getBoundingClientRect();
    return {what: (e.innerText || e.getAttribute('aria-label') || e.tagName).trim().slice(0, 50),
            height: Math.round(r.height * 10) / 10};
  }).filter(t => t.height < min);
}"""
COUNT_TARGETS = """() => document.querySelectorAll('[data-testid="stMain"] [role="radiogroup"] label').length"""
# Anything laid out beyond the screen's edges, or a document wider than the screen. Content that
# a box clips or scrolls itself (a progress bar's fill, a table) is that box's business: the box
# is checked in its own right.
OVERFLOW = """() => {
  const w = document.documentElement.clientWidth;
  const clipped = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== 'visible') return true; } return false; };
  const out = [...document.querySelectorAll('[data-testid="stMain"] *')].filter(e => {
    if (e.offsetParent === null && e.tagName !== 'svg') return false;
    const r = e.getBoundingClientRect();
    return r.width > 0 && (r.right > w + 0.5 || r.left < -0.5) && !clipped(e);
  }).map(e => {
    const r = e.getBoundingClientRect(), owner = e.closest('[data-testid]');
    return `${e.tagName}.${e.className} in ${owner && owner.dataset.testid} at ${Math.round(r.left)}..${Math.round(r.right)}: `
      + (e.innerText || '').trim().slice(0, 40);
  });
  return {scrollWidth: document.documentElement.scrollWidth, width: w, out: out.slice(0, 10)};
}"""

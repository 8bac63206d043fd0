"""Every page of the book in Chromium: no sideways scrolling at a projector's and a phone's size, no
serious accessibility violation (axe-core: every page at the projector's size, one of each kind at
the phone's), search that finds a lesson. Screenshots go to build/book-screenshots/."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from book_site import PROJECT_ROOT, Build, serve
from lab_session import WALKTHROUGH, launch_chromium
from playwright.sync_api import Browser, sync_playwright

pytestmark = pytest.mark.slow  # builds the book and drives a browser

VIEWPORTS = {"projector": {"width": 1024, "height": 768}, "phone": {"width": 390, "height": 844}}
SCREENSHOTS = PROJECT_ROOT / "build" / "book-screenshots"
SHOWN = {"index.html": "landing", "notebooks/05_training_curves.html": "lesson-05",
         "notebooks/07_your_own_digits.html": "pad-07"}  # fmt: skip
SERIOUS = {"serious", "critical"}
# axe-core reads the page, which is the same at every size but for the theme's responsive layout:
# every page at the projector's size, and one page of each kind at the phone's.
PHONE_AXE = {"index.html", "search.html", "genindex.html", "notebooks/07_your_own_digits.html",
             "benchmarks/README.html"}  # fmt: skip
# How far the page scrolls sideways, and what sticks out of the window when it does.
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 1 && e.getClientRects().length)
    .slice(0, 5).map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`);
  return {scroll: document.documentElement.scrollWidth - width, wide};
}"""


@pytest.fixture(scope="module")
def browser(request: pytest.FixtureRequest) -> Browser:
    """A Chromium of its own, from the walkthrough's Playwright when it runs in this session.

    Playwright's sync API allows one instance per thread: when the whole suite
    runs, the walkthrough (tests/conftest.py) has started it already.
    """
    walkthrough = request.config.stash.get(WALKTHROUGH, None)
    if walkthrough is not None and walkthrough.playwright is not None:
        browser = launch_chromium(walkthrough.playwright)
        yield browser
        browser.close()
        return
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def site(book: Build):
    assert (book.html / "index.html").is_file(), "the book did not build:\n" + book.log[-2000:]
    with serve(book.html) as url:
        yield url


def _pages(book: Build) -> list[str]:
    """Every page a reader can reach (the theme's template files under _static/ are not pages)."""
    pages = [path.relative_to(book.html) for path in book.pages()]
    return [str(page) for page in pages if not page.parts[0].startswith("_")]


@pytest.mark.parametrize("size", VIEWPORTS)
def test_no_page_scrolls_sideways_and_axe_finds_nothing_serious(
    book: Build, site: str, browser: Browser, size: str
) -> None:
    context = browser.new_context(viewport=VIEWPORTS[size])
    page = context.new_page()
    sideways, violations = [], []
    try:
        pages = _pages(book)
        assert PHONE_AXE <= set(pages), f"no page {sorted(PHONE_AXE - set(pages))} for the phone's axe"
        for name in pages:
            page.goto(f"{site}/{name}", wait_until="load")
            overflow = page.evaluate(OVERFLOW_JS)
            if overflow["scroll"] > 0:
                sideways.append(f"{name}: {overflow['scroll']} px, past the edge: {overflow['wide']}")
            if name in SHOWN:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / f"{SHOWN[name]}-{size}.png"))
                for part, locator in (
                    ("run-box", page.locator(".run-this-notebook")),
                    ("pad-note", page.locator(".admonition", has_text="The drawing pad needs")),
                ):
                    if locator.count():
                        locator.first.screenshot(path=str(SCREENSHOTS / f"{SHOWN[name]}-{part}-{size}.png"))
            if size == "phone" and name not in PHONE_AXE:
                continue
            for violation in Axe().run(page).response["violations"]:
                if violation["impact"] in SERIOUS:
                    targets = [" ".join(node["target"]) for node in violation["nodes"][:3]]
                    violations.append(f"{name}: {violation['id']} ({violation['impact']}): {targets}")
    finally:
        context.close()
    assert not sideways, f"pages that scroll sideways at {VIEWPORTS[size]}:\n" + "\n".join(sideways)
    assert not violations, "axe-core, serious or critical:\n" + "\n".join(violations)


def test_search_finds_a_lesson(site: str, browser: Browser) -> None:
    page = browser.new_page(viewport=VIEWPORTS["projector"])
    try:
        page.goto(f"{site}/search.html?q=adadelta")
        results = page.locator("#search-results li a")
        results.first.wait_for(timeout=15_000)
        assert any("03" in text or "Sequential" in text for text in results.all_text_contents())
    finally:
        page.close()

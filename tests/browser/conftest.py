"""Real-browser fixtures: the app on a loopback port (waitress), chromium from /usr/bin.

Every page a test opens records console errors, page errors and any request that leaves the
test server; the test fails if there are any.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import waitress

from kb import KnowledgeBase
from webui import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@contextlib.contextmanager
def serving(kb: KnowledgeBase, **config: object) -> Iterator[str]:
    """Serve ``kb`` (with app ``config`` such as UPDATE_TOKEN) on 127.0.0.1:<free port> for the
    block; yield the base URL."""
    srv = waitress.create_server(create_app({"KB": kb, **config}), host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=srv.run, name="ckb-test-server", daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.effective_port}"
    finally:
        srv.close()


@pytest.fixture(scope="session")
def server(kb: KnowledgeBase) -> Iterator[str]:
    """Serve the bundled KB on 127.0.0.1:<free port>; yield the base URL (modules with their own
    data override this with ``serving`` over their KB)."""
    with serving(kb) as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One chromium for the session (never downloaded: the system's own)."""
    if not CHROMIUM.exists():
        if os.environ.get("CKB_REQUIRE_BROWSER"):
            pytest.fail("CKB_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


class Watch:
    """What went wrong on a page: console errors, uncaught errors, requests to other hosts."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.foreign: list[str] = []


def _message(response) -> str:
    """The one-line message of an error answer (the error page's), for the test's failure."""
    try:
        text = response.text()
    except Exception:  # the body may be gone by the time it is read
        return "(no body)"
    start = text.find('class="error-message">')
    return text[start + 22:text.find("<", start + 22)].strip() if start >= 0 else text[:200]


def _open(browser, server: str, viewport: dict[str, int]) -> Iterator[object]:
    """A fresh page whose network is confined to the test server; checked at teardown."""
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    pg = context.new_page()
    watch = Watch()
    origin = urlsplit(server).netloc

    def route(r) -> None:
        url = r.request.url
        if url.startswith("data:") or urlsplit(url).netloc == origin:
            r.continue_()
        else:
            watch.foreign.append(url)
            r.abort()

    pg.route("**/*", route)
    pg.on("console", lambda m: watch.errors.append(f"console: {m.text}") if m.type == "error"
          else None)
    pg.on("pageerror", lambda e: watch.errors.append(f"pageerror: {e}"))
    # the console names no URL for a failed load: say which one, and what the server answered
    pg.on("response", lambda r: watch.errors.append(f"{r.status} {r.request.method} {r.url}: "
                                                    f"{_message(r)}") if r.status >= 400 else None)
    pg.set_default_timeout(15_000)
    pg.base = server
    yield pg
    context.close()
    assert not watch.errors, watch.errors
    assert not watch.foreign, watch.foreign


@pytest.fixture
def page(browser, server: str) -> Iterator[object]:
    """A desktop-sized page (1366x900)."""
    yield from _open(browser, server, {"width": 1366, "height": 900})


SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(SIZES))
def sized_page(request, browser, server: str) -> Iterator[object]:
    """The same test at 1366x900 and at 390x844 (a phone); ``.size`` names which."""
    for pg in _open(browser, server, SIZES[request.param]):
        pg.size = request.param
        yield pg


AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_violations() -> object:
    """Run the vendored axe-core on a page; return its serious and critical violations."""
    source = AXE.read_text(encoding="utf-8")

    def run(pg) -> list[str]:
        # evaluate() goes through the DevTools protocol, so the page's CSP does not block it.
        pg.evaluate(source + "\n;void 0")
        found = pg.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.id + ' (' + v.impact + '): ' +
                     v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
        }""")
        return list(found)

    return run


def _overflow(pg) -> str:
    """How far the page reaches past the viewport's right edge, and the outermost elements that
    do ("" when it fits)."""
    extra = int(pg.evaluate("document.documentElement.scrollWidth - window.innerWidth"))
    if extra <= 0:
        return ""
    past = pg.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
        .filter(e => e.parentElement.getBoundingClientRect().right <= window.innerWidth + 0.5)
        .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
            (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') +
            ' right=' + Math.round(e.getBoundingClientRect().right))""")
    return f"{pg.url} is {extra} px wider than the viewport: {past}"


@pytest.fixture(scope="session")
def overflow() -> object:
    """A function: why a page is wider than its viewport, or "" when it fits."""
    return _overflow


@pytest.fixture(scope="session")
def page_check(axe_violations) -> object:
    """Fail when a page is wider than its viewport or axe finds serious/critical violations."""

    def check(pg) -> None:
        # The page as its reader sees it: laid out with its stylesheets, which a loaded machine
        # may still be fetching when the element a test waited for is already parsed (an
        # unstyled table is wider than a phone).
        pg.wait_for_load_state("load")
        wider = _overflow(pg)
        assert not wider, wider
        found = axe_violations(pg)
        assert not found, (pg.url, found)

    return check


@pytest.fixture(scope="session")
def shot() -> object:
    """Save a screenshot of a page to docs/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(target, name: str) -> None:  # a page or a locator
        target.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

    return take

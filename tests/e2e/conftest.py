"""Browser journeys: the app served from a thread, driven in Debian's headless Chromium.

Set LMS_REQUIRE_BROWSER=1 (CI does) to fail instead of skip when Chromium is missing.
"""
import os
import shutil
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from lms.demo import seed_demo
from lms.extensions import db
from lms.transaction import unit

from ..conftest import _TMP, make_app

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def live_app():
    """The app behind the live server (tests read what the browser cannot see, e.g. a paper's key)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return make_app(f"sqlite:///{_TMP / f'e2e-{worker}.sqlite3'}")


@pytest.fixture(scope="session")
def live_server(live_app):
    """The demo city on a file SQLite database, served on a free port."""
    app = live_app
    with app.app_context(), unit():
        seed_demo()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        if os.environ.get("LMS_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium not found and LMS_REQUIRE_BROWSER=1")
        pytest.skip("no Chromium on this machine")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")  # a phone
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def live_clock(live_app):
    """The live server's clock, held still for one test (see study())."""
    from ..conftest import FrozenClock

    frozen = FrozenClock()
    live_app.config["CLOCK"] = frozen
    yield frozen
    live_app.config.pop("CLOCK", None)


def study(page, clock, seconds: int) -> None:
    """Study the open lesson page for `seconds`, without waiting: every 30 s the learner moves the
    pointer, the server's clock (live_clock) and the page's timers (page.clock.install() before the
    page was opened) move on together, and the page's heartbeat is awaited, and then what the page
    shows of it: the response event comes before the page's script has read the body and updated the
    counter, so reading the counter right after the response could show the beat before (a lag once
    taken for a lost beat)."""
    page.wait_for_load_state("networkidle")  # the page's opening beat reached the server before time moves
    for i in range(0, seconds, 30):
        page.mouse.move(100 + i % 60, 200)
        clock.advance(seconds=30)
        with page.expect_response(lambda r: r.url.endswith("/beat")) as beat:
            page.clock.run_for(30_000)
        shown(page, beat.value)


def shown(page, response) -> dict:
    """Wait until the lesson page shows what the beat `response` said; returns that state."""
    state = response.json()
    expect(page.locator("#study-seconds")).to_have_text(state["seconds_text"])
    return state


@pytest.fixture(autouse=True)
def _close_pages_after_each_journey(request):
    """A journey's pages are closed when it ends: a page left open keeps its timers (heartbeats,
    countdowns) calling the live server while later tests of this worker run."""
    yield
    if "browser" in request.fixturenames:
        for context in list(request.getfixturevalue("browser").contexts):
            context.close()

"""Browser fixtures: the app served on a loopback port, and Debian's headless Chromium via Playwright.

Without /usr/bin/chromium the browser tests skip, unless DIALOGKARTA_REQUIRE_BROWSER=1 (CI),
which turns a missing browser into a failure. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from dialogkarta.webmap.app import create_app

from dialogkarta.testing import CHROMIUM, CHROMIUM_ARGS

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Tile requests never leave the machine in tests: this address answers nothing.
OFFLINE_TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        if os.environ.get("DIALOGKARTA_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM} (DIALOGKARTA_REQUIRE_BROWSER=1)")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    home = tmp_path_factory.mktemp("chromium-home")
    old_home = os.environ.get("HOME")
    os.environ["HOME"] = str(home)  # Chromium writes caches and crash reports under $HOME
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
    if old_home is not None:
        os.environ["HOME"] = old_home


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_app(tmp_path):
    return create_app(
        {
            "TESTING": False,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'browser.sqlite'}",
            "SECRET_KEY": "browser-test-secret",
            "RATELIMIT_ENABLED": False,
            "TILE_URL": OFFLINE_TILES,
        }
    )


@pytest.fixture
def live_server(live_app):
    with LiveServer(live_app) as server:
        yield server


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="sv-SE")
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs  # tests assert that no script-injected dialog fired
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a screenshot as a test artefact and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


@pytest.fixture
def external_requests(page):
    """Collect every request the page makes to a host other than 127.0.0.1."""
    seen = []
    page.on(
        "request",
        lambda request: (
            seen.append(request.url) if not request.url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")) else None
        ),
    )
    return seen

"""The app opens in a real browser."""

from tests.browser.conftest import screenshot


def test_home_page_opens_in_chromium(live_server, page):
    page.goto(live_server.url + "/")
    assert "Dalby" in page.title()
    screenshot(page, "smoke-home")

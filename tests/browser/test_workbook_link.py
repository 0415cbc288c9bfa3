"""A workbook's QR code in Chromium: the form opens with the pin in the page's area and sends the workbook channel and round."""

from __future__ import annotations

from sqlalchemy import select

from dialogkarta.layers import schema
from dialogkarta.webmap import db

from tests.browser.test_resident_map import open_map


def test_the_qr_link_places_the_pin_in_the_area_and_the_sent_proposal_keeps_channel_and_round(
    live_server, page, external_requests
):
    open_map(page, live_server, "/?area=hagalund&channel=workbook&round=var-2027")
    assert page.locator(".dk-pin").is_visible()
    assert page.locator("#pin-status").inner_text().startswith("Nålen är placerad vid Hagalund.")
    assert page.locator("#workbook-note").inner_text() == "Du svarar på Arbetsboken, våren 2027."
    page.select_option("#category", "housing")
    page.fill("#title", "Fler träd")
    page.fill("#description", "Skrivet efter arbetsboken.")
    page.click("#submit")
    page.locator("#confirmation").wait_for(state="visible")
    assert "Hagalund" in page.locator("#confirmation-summary").inner_text()
    with live_server.app.app_context(), db.reading() as conn:
        channel = conn.execute(select(schema.proposals.c.channel)).scalar_one()
        round_name = conn.execute(select(schema.proposal_rounds.c.round_name)).scalar_one()
    assert (channel, round_name) == ("workbook", "var-2027")
    assert external_requests == []

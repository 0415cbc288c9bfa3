"""The resident form's optional photo in Chromium: chosen, sent as multipart, kept pending; a wrong file named in the form."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from dialogkarta.layers.schema import proposal_photos
from dialogkarta.webmap import db
from tests.browser.test_resident_map import KVARNSKON, click_map_at, open_map


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def _fill(page, live_server, title: str):
    open_map(page, live_server)
    click_map_at(page, *KVARNSKON)
    page.select_option("#category", "traffic")
    page.fill("#title", title)
    page.fill("#description", "Se bilden.")


def test_a_chosen_photo_is_sent_with_the_proposal_and_awaits_a_moderator(live_server, live_app, page, external_requests):
    _fill(page, live_server, "Trasig skylt med foto")
    assert page.get_by_label("Foto (frivilligt)").count() == 1
    page.set_input_files("#photo", files=[{"name": "skylt.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}])
    page.click("#submit")
    page.locator("#confirmation").wait_for(state="visible")
    assert page.locator("#confirmation-photo").inner_text() == "Ditt foto visas när en moderator har granskat det."
    with live_app.app_context(), db.reading() as conn:
        rows = conn.execute(select(proposal_photos.c.status, proposal_photos.c.width)).all()
    assert [tuple(row) for row in rows] == [("pending", 320)]
    assert external_requests == []


def test_a_file_that_is_no_picture_is_named_at_the_photo_field(live_server, page):
    _fill(page, live_server, "Inget riktigt foto")
    page.set_input_files("#photo", files=[{"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"just text\n" * 50}])
    page.click("#submit")
    error = page.locator("#form-error")
    error.wait_for(state="visible")
    assert error.inner_text().startswith("Filen kunde inte läsas som en bild.")
    assert page.locator("#photo").get_attribute("aria-invalid") == "true"
    assert page.locator("#confirmation").is_hidden()

"""A photo with a proposal: read by content, bounded, stripped of metadata, upright, held until a moderator publishes it."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import struct
import zlib
from pathlib import Path

import orjson
import pytest
from PIL import Image
from sqlalchemy import func, select

from dialogkarta.layers import photo_image, photos
from dialogkarta.layers.schema import proposal_photos, proposals
from dialogkarta.webmap import db
from tests import contracts
from tests.contracts import assert_exact
from tests.planner_helpers import csrf_token, login, make_user

PROPOSAL = {
    "lon": "13.3514",
    "lat": "55.6652",
    "category": "traffic",
    "title": "Trasig skylt",
    "description": "Skylten är trasig.",
}
GPS_IFD, ORIENTATION = 0x8825, 0x0112


def jpeg_with_gps(size=(200, 100), orientation: int = 1) -> bytes:
    """A JPEG whose left half is red and right half blue, with a planted GPS position and an orientation tag."""
    image = Image.new("RGB", size, (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # camera make: metadata that must go too
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (55.0, 39.0, 54.7), 3: "E", 4: (13.0, 21.0, 5.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def png_bomb(side: int = 40_000) -> bytes:
    """A valid 1-bit PNG of side x side pixels (1.6 gigapixels) that is only about 200 KB: all zeros, deflated."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + side // 8)
    deflate = zlib.compressobj(9)
    body = b"".join(deflate.compress(row * 1000) for _ in range(side // 1000)) + deflate.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def send(client, photo: bytes | None, filename: str = "bild.jpg", headers=None, **fields):
    data = {**PROPOSAL, **fields}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), filename, "image/jpeg")
    return client.post("/api/proposals", data=data, content_type="multipart/form-data", headers=headers or {})


def stored(app) -> dict:
    """What the store and the photo folder hold: proposals, photo rows, files."""
    folder = Path(app.config["PHOTO_DIR"])
    with app.app_context(), db.reading() as conn:
        return {
            "proposals": conn.execute(select(func.count()).select_from(proposals)).scalar_one(),
            "photos": conn.execute(select(func.count()).select_from(proposal_photos)).scalar_one(),
            "files": sorted(p.name for p in folder.iterdir()) if folder.exists() else [],
        }


def the_photo(app) -> photos.Photo:
    with app.app_context(), db.reading() as conn:
        row = conn.execute(select(proposal_photos)).one()
        found = photos.of_proposal(conn, row.proposal_id)
    assert found is not None
    return found


def moderate(client, photo_id: int, decision: str):
    token = csrf_token(client, "/planner/moderation")
    return client.post(f"/planner/photos/{photo_id}/{decision}", data={"csrf_token": token})


@pytest.fixture
def moderator(app):
    make_user(app, "mona", role="moderator")
    staff = app.test_client()
    assert login(staff, "mona").status_code in (302, 303)
    return staff


@pytest.fixture
def sent(app, client):
    """A proposal sent with a JPEG carrying GPS, camera make and orientation 6 (to be turned 90° clockwise)."""
    response = send(client, jpeg_with_gps(orientation=6))
    assert response.status_code == 201, response.data
    return orjson.loads(response.data)


# ------------------------------------------------------------------ stripped, upright, re-encoded
def test_the_planted_gps_position_is_in_the_original():
    assert Image.open(io.BytesIO(jpeg_with_gps())).getexif().get_ifd(GPS_IFD)  # the test's input really carries it


def test_no_exif_is_left_in_the_stored_file(app, sent):
    photo = the_photo(app)
    data = photos.file_path(app.config["PHOTO_DIR"], photo.sha256).read_bytes()
    assert b"Exif" not in data and b"PhoneMaker" not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        assert not image.getexif().get_ifd(GPS_IFD)
        assert "icc_profile" not in image.info and "exif" not in image.info


def test_the_stored_file_is_named_by_the_hash_of_its_bytes(app, sent):
    photo = the_photo(app)
    path = photos.file_path(app.config["PHOTO_DIR"], photo.sha256)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == photo.sha256 == path.stem
    assert photo.bytes == path.stat().st_size and photo.status == "pending"


def test_the_orientation_is_applied_before_the_tag_is_dropped(app, sent):
    photo = the_photo(app)
    with Image.open(photos.file_path(app.config["PHOTO_DIR"], photo.sha256)) as image:
        assert image.size == (100, 200) == (photo.width, photo.height)  # 200 x 100 turned upright
        red, green, blue = image.getpixel((50, 30))  # the red left half is now the top
        assert red > 200 and blue < 60
        red, green, blue = image.getpixel((50, 170))
        assert blue > 200 and red < 60


def test_a_large_photo_is_resized_to_1600_pixels_on_its_longest_side(app, client):
    response = send(client, jpeg_with_gps(size=(4000, 3000)))
    assert response.status_code == 201
    assert orjson.loads(response.data)["properties"]["photo"] == {"status": "pending", "width": 1600, "height": 1200}


def test_a_png_with_transparency_is_kept_as_a_jpeg_on_white(app, client):
    image = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    assert send(client, out.getvalue(), filename="skiss.png").status_code == 201
    with Image.open(photos.file_path(app.config["PHOTO_DIR"], the_photo(app).sha256)) as stored_image:
        assert stored_image.format == "JPEG" and stored_image.getpixel((5, 5)) == (255, 255, 255)


def test_a_heic_photo_is_read_and_stored_as_jpeg(app, client):
    pillow_heif = pytest.importorskip("pillow_heif")
    heif = pillow_heif.from_pillow(Image.new("RGB", (64, 48), (10, 200, 10)))
    out = io.BytesIO()
    heif.save(out, quality=90)
    response = send(client, out.getvalue(), filename="IMG_0001.HEIC")
    assert response.status_code == 201, response.data
    with Image.open(photos.file_path(app.config["PHOTO_DIR"], the_photo(app).sha256)) as image:
        assert image.format == "JPEG" and image.size == (64, 48)


def test_the_answer_to_the_resident_says_the_photo_awaits_a_moderator(sent):
    assert sent["properties"]["photo"] == {"status": "pending", "width": 100, "height": 200}


def test_a_proposal_sent_as_json_still_works_and_has_no_photo(client):
    response = client.post("/api/proposals", json={**PROPOSAL, "lon": 13.3514, "lat": 55.6652})
    assert response.status_code == 201 and orjson.loads(response.data)["properties"]["photo"] is None


def test_a_multipart_proposal_without_a_photo_is_stored(app, client):
    assert send(client, None, consent="false").status_code == 201
    assert stored(app)["proposals"] == 1 and stored(app)["photos"] == 0


# ------------------------------------------------------------------ refused, and nothing stored
def test_a_text_file_named_jpg_is_refused_with_a_clear_message_and_nothing_stored(app, client):
    response = send(
        client, b"This is not a picture, only text.\n" * 20, filename="semester.jpg", headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    error = orjson.loads(response.data)["error"]
    assert error["code"] == "invalid_photo" and error["field"] == "photo"
    assert "could not be read as an image" in error["message"] and "JPEG" in error["message"]
    assert stored(app) == {"proposals": 0, "photos": 0, "files": []}


def test_the_refusal_is_in_swedish_by_default(client):
    error = orjson.loads(send(client, b"GIF89a not really").data)["error"]
    assert error["message"].startswith("Filen kunde inte läsas som en bild")


def test_a_decompression_bomb_is_refused_before_it_is_decoded(app, client):
    bomb = png_bomb()
    assert len(bomb) < app.config["PHOTO_MAX_BYTES"]  # small on the wire, 1.6 gigapixels unpacked
    response = send(client, bomb, filename="bomb.png")
    assert response.status_code == 422
    assert orjson.loads(response.data)["error"]["code"] == "photo_too_many_pixels"  # a decoded bomb would be another code
    assert stored(app) == {"proposals": 0, "photos": 0, "files": []}


def test_a_photo_over_the_pixel_setting_is_refused(tmp_path, app, client):
    app.config["PHOTO_MAX_PIXELS"] = 10_000
    response = send(client, jpeg_with_gps(size=(200, 100)), headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert orjson.loads(response.data)["error"]["message"] == "The image has too many pixels: at most 0.01 megapixels."


@pytest.mark.parametrize("extra", [0, 40_000], ids=["photo just over the limit", "body over the limit"])
def test_an_oversized_upload_is_refused_413_with_the_limit_in_words(app, client, extra):
    app.config["PHOTO_MAX_BYTES"] = 100_000
    big = os.urandom(100_001 + extra)  # a photo's size, whatever its content
    for lang, words in (("sv", "Bilden är för stor: högst 0.0954 MB"), ("en", "The photo is too large: at most 0.0954 MB")):
        response = send(client, big, headers={"Accept-Language": lang})
        assert response.status_code == 413
        error = orjson.loads(response.data)["error"]
        assert error["code"] == "photo_too_large" and error["message"].startswith(words)
    assert stored(app) == {"proposals": 0, "photos": 0, "files": []}


def test_an_upload_far_over_the_limit_is_refused_before_it_is_read(app, client):
    app.config["PHOTO_MAX_BYTES"] = 100_000
    response = send(client, b"\xff" * 3_000_000)
    assert response.status_code == 413 and orjson.loads(response.data)["error"]["code"] == "photo_too_large"


def test_a_multipart_form_from_another_site_is_refused(app, client):
    forged = send(client, jpeg_with_gps(), headers={"Origin": "https://elsewhere.example", "Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 403 and orjson.loads(forged.data)["error"]["code"] == "cross_site"
    assert send(client, jpeg_with_gps(), headers={"Origin": "null"}).status_code == 403
    assert stored(app) == {"proposals": 0, "photos": 0, "files": []}
    assert (
        send(client, jpeg_with_gps(), headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}).status_code == 201
    )


def test_a_bad_field_leaves_no_photo_behind(app, client):
    response = send(client, jpeg_with_gps(), title="")
    assert response.status_code == 422 and orjson.loads(response.data)["error"]["field"] == "title"
    assert stored(app) == {"proposals": 0, "photos": 0, "files": []}


def test_a_second_file_or_a_photo_as_text_is_a_bad_request(client):
    data = {**PROPOSAL, "photo": "not a file"}
    assert client.post("/api/proposals", data=data, content_type="multipart/form-data").status_code == 400
    data = {**PROPOSAL, "picture": (io.BytesIO(jpeg_with_gps()), "a.jpg")}
    assert client.post("/api/proposals", data=data, content_type="multipart/form-data").status_code == 400


def test_a_crash_while_writing_leaves_neither_a_half_file_nor_a_row(app, client, monkeypatch):
    def crash(source, target):
        raise OSError("disk pulled out")

    monkeypatch.setattr(photos.os, "replace", crash)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert send(client, jpeg_with_gps()).status_code == 500  # the crash, answered as the app answers any
    assert stored(app) == {"proposals": 0, "photos": 0, "files": []}  # no temporary file left, nothing committed


# ------------------------------------------------------------------ held until published
def test_a_pending_photo_is_not_public(app, client, sent):
    photo = the_photo(app)
    assert client.get(f"/photos/{photo.sha256}.jpg").status_code == 404
    public_id = sent["id"]
    assert orjson.loads(client.get(f"/api/proposals/{public_id}").data)["properties"]["photo"] is None
    assert photo.sha256 not in client.get(f"/p/{public_id}").get_data(as_text=True)


def test_staff_see_a_pending_photo_uncached(app, sent, moderator):
    response = moderator.get(f"/photos/{the_photo(app).sha256}.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_planner_below_moderator_cannot_publish(app, sent):
    make_user(app, "petra", role="planner")
    planner = app.test_client()
    login(planner, "petra")
    token = csrf_token(planner, "/planner/")
    assert planner.post(f"/planner/photos/{the_photo(app).id}/publish", data={"csrf_token": token}).status_code == 403
    assert the_photo(app).status == "pending"


def test_the_moderation_page_offers_the_pending_photo(app, sent, moderator):
    page = moderator.get("/planner/moderation").get_data(as_text=True)
    photo = the_photo(app)
    assert f"/planner/photos/{photo.id}/publish" in page and f"/planner/photos/{photo.id}/reject" in page
    assert f"/photos/{photo.sha256}.jpg" in page


def test_a_published_photo_is_public_with_its_size_and_alt_text(app, client, sent, moderator):
    photo = the_photo(app)
    assert moderate(moderator, photo.id, "publish").status_code in (302, 303)
    response = client.get(f"/photos/{photo.sha256}.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b"Exif" not in response.data and dict(Image.open(io.BytesIO(response.data)).getexif()) == {}
    item = orjson.loads(client.get(f"/api/proposals/{sent['id']}", headers={"Accept-Language": "en"}).data)["properties"]
    assert item["photo"] == {
        "url": f"http://localhost/photos/{photo.sha256}.jpg",
        "width": 100,
        "height": 200,
        "alt": "Photo the resident sent with the proposal “Trasig skylt”",
    }
    page = client.get(f"/p/{sent['id']}").get_data(as_text=True)
    assert f'src="/photos/{photo.sha256}.jpg" width="100" height="200" alt="Foto som invånaren skickade med förslaget' in page


def test_a_rejected_photo_is_deleted_and_never_served(app, client, sent, moderator):
    photo = the_photo(app)
    assert moderate(moderator, photo.id, "reject").status_code in (302, 303)
    assert not photos.file_path(app.config["PHOTO_DIR"], photo.sha256).exists()
    assert client.get(f"/photos/{photo.sha256}.jpg").status_code == 404
    assert moderator.get(f"/photos/{photo.sha256}.jpg").status_code == 404
    assert the_photo(app).status == "rejected"


def test_a_decision_needs_the_csrf_token(app, sent, moderator):
    assert moderator.post(f"/planner/photos/{the_photo(app).id}/publish").status_code == 400
    assert the_photo(app).status == "pending"


def test_the_planner_page_shows_the_photo_in_every_state(app, sent, moderator):
    page = moderator.get(f"/planner/p/{sent['id']}").get_data(as_text=True)
    assert 'data-photo-status="pending"' in page and f"/photos/{the_photo(app).sha256}.jpg" in page


# ------------------------------------------------------------------ exports and housekeeping
def test_the_planner_export_names_the_photo_and_its_state(app, sent, moderator):
    rows = list(csv.DictReader(io.StringIO(moderator.get("/planner/export/proposals.csv").get_data(as_text=True))))
    assert rows[0]["photo"] == f"/photos/{the_photo(app).sha256}.jpg" and rows[0]["photo_status"] == "pending"


def test_public_exports_carry_no_photo_column(client, sent):
    header = next(csv.reader(io.StringIO(client.get("/api/export/proposals.csv").get_data(as_text=True))))
    assert not {"photo", "photo_status"} & set(header)


def test_the_sweep_deletes_only_orphan_files(app, sent, runner):
    folder = Path(app.config["PHOTO_DIR"])
    orphan = folder / ("0" * 64 + ".jpg")
    orphan.write_bytes(b"left by a crash")
    half = folder / ".incoming-abc"
    half.write_bytes(b"half")
    for path in folder.iterdir():
        os.utime(path, (1_000_000_000, 1_000_000_000))  # older than the grace period
    result = runner.invoke(args=["sweep-photos"])
    assert result.exit_code == 0 and "Deleted 2 orphan photo file(s)" in result.output
    assert sorted(p.name for p in folder.iterdir()) == [the_photo(app).file_name]


def test_the_form_offers_an_optional_photo_with_a_label(client):
    page = client.get("/").get_data(as_text=True)
    assert '<label for="photo">Foto (frivilligt)</label>' in page
    assert 'id="photo" name="photo" type="file"' in page and 'data-max-bytes="10485760"' in page


def test_the_photo_fields_are_exactly_the_pinned_ones(app, client, sent, moderator):
    assert_exact(sent["properties"]["photo"], contracts.API_PHOTO_RECEIVED, "POST /api/proposals photo")
    moderate(moderator, the_photo(app).id, "publish")
    item = orjson.loads(client.get(f"/api/proposals/{sent['id']}").data)["properties"]
    assert_exact(item["photo"], contracts.API_PHOTO, "GET /api/proposals/<id> photo")
    schemas = orjson.loads(client.get("/api/openapi.json").data)["components"]["schemas"]
    described = schemas["ProposalFeature"]["properties"]["properties"]["allOf"][1]["properties"]["photo"]["properties"]
    assert_exact(described, contracts.API_PHOTO | contracts.API_PHOTO_RECEIVED, "OpenAPI photo")
    form = schemas["NewProposalForm"]["properties"]
    assert_exact(form, set(schemas["NewProposal"]["properties"]) | {"photo"}, "OpenAPI multipart form")


def test_the_photo_of_a_hidden_proposal_is_not_public(app, client, sent, moderator):
    photo = the_photo(app)
    moderate(moderator, photo.id, "publish")
    token = csrf_token(moderator, f"/planner/p/{sent['id']}")
    moderator.post(f"/planner/p/{sent['id']}/hide", data={"csrf_token": token, "reason": "Visar ett registreringsnummer"})
    assert client.get(f"/photos/{photo.sha256}.jpg").status_code == 404
    assert moderator.get(f"/photos/{photo.sha256}.jpg").status_code == 200


def test_a_rejected_photo_cannot_be_published_again(app, sent, moderator):
    photo = the_photo(app)
    moderate(moderator, photo.id, "reject")
    assert moderate(moderator, photo.id, "publish").status_code in (302, 303)
    assert the_photo(app).status == "rejected"
    assert "redan avvisad" in moderator.get("/planner/moderation").get_data(as_text=True)


def test_without_pillow_heif_a_heic_photo_is_refused_with_a_clear_message(client, monkeypatch):
    pillow_heif = pytest.importorskip("pillow_heif")
    out = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (32, 32))).save(out)
    monkeypatch.setattr(photo_image, "_heif_registered", [False])  # as on a machine where pillow-heif did not install
    response = send(client, out.getvalue(), filename="IMG_0002.HEIC", headers={"Accept-Language": "en"})
    assert response.status_code == 422
    error = orjson.loads(response.data)["error"]
    assert error["code"] == "unsupported_photo"
    assert error["message"] == "HEIC images cannot be received here. Save the picture as JPEG and try again."

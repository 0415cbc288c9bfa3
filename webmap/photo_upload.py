"""A proposal sent as multipart/form-data with an optional ``photo``: read, checked, and the photo kept.

``read_submission()`` turns the form into the same fields the JSON body has (numbers for
``lon``/``lat``, a boolean for ``consent``) plus the photo's bytes, under a body limit of
``PHOTO_MAX_BYTES`` and a little for the fields (413 with a sentence naming the limit beyond it).
``prepare_photo`` re-encodes the photo (``layers/photo_image.py``) before anything is stored, and
``keep_photo`` writes its file and then its row, inside the proposal's transaction, so the row is
never committed without its file.

The JSON API is exempt from CSRF tokens because a cross-site page cannot send JSON without a
CORS preflight; it can send a multipart form, though. So a multipart request a browser marks as
cross-site (``Sec-Fetch-Site``, or an ``Origin`` other than ours) is refused (403); clients that
are not browsers send neither header and are not CSRF's victims.
"""

from __future__ import annotations

from flask import current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from ..geo.errors import UserError
from ..layers import photos
from ..layers.photo_image import PreparedPhoto, prepare
from .base_url import parse_base_url
from .errors import BadRequest

MULTIPART = "multipart/form-data"
PHOTO_FIELD = "photo"
FIELDS_ALLOWANCE = 64 * 1024  # the text fields besides the photo, as in a JSON body
TRUE_WORDS, FALSE_WORDS = {"true", "on", "1", "yes"}, {"false", "off", "0", "no", ""}


class PhotoTooLarge(UserError):
    code = "photo_too_large"
    status = 413


class CrossSiteForm(UserError):
    code = "cross_site"
    status = 403


def is_multipart() -> bool:
    return request.mimetype == MULTIPART


def _too_large(limit: int) -> PhotoTooLarge:
    megabytes = f"{limit / (1024 * 1024):.3g}"
    return PhotoTooLarge(
        f"Bilden är för stor: högst {megabytes} MB. Välj en mindre bild eller ta fotot med lägre upplösning.",
        f"The photo is too large: at most {megabytes} MB. Choose a smaller picture or take it at a lower resolution.",
        field=PHOTO_FIELD,
    )


def _own_origin() -> str:
    base = current_app.config.get("BASE_URL")
    if base:
        scheme, host, _prefix = parse_base_url(base)
        return f"{scheme}://{host}"
    return request.host_url.rstrip("/")


def _cross_site() -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    return origin is not None and origin.rstrip("/").lower() != _own_origin().lower()


def read_submission() -> tuple[dict, bytes | None]:
    """Return the form's fields as the JSON body's types and the photo's bytes (None without one)."""
    if _cross_site():
        raise CrossSiteForm(
            "Förslaget skickades från en annan webbplats och togs inte emot.",
            "The proposal was sent from another website and was not accepted.",
        )
    limit = current_app.config["PHOTO_MAX_BYTES"]
    request.max_content_length = limit + FIELDS_ALLOWANCE
    try:
        form, files = request.form, request.files
    except RequestEntityTooLarge:
        raise _too_large(limit) from None
    data: dict = {}
    for name in form:
        values = form.getlist(name)
        if len(values) > 1:
            raise BadRequest(_("Fältet %(field)s får bara skickas en gång.", field=name), name)
        data[name] = values[0]
    unknown_files = sorted(set(files) - {PHOTO_FIELD})
    if unknown_files or len(files.getlist(PHOTO_FIELD)) > 1 or PHOTO_FIELD in data:
        field = unknown_files[0] if unknown_files else PHOTO_FIELD
        raise BadRequest(_("Skicka högst en bild, som filfältet photo."), field)
    for axis in ("lon", "lat"):
        if axis in data:
            try:
                data[axis] = float(data[axis])
            except ValueError:
                raise BadRequest(_("%(field)s ska vara ett tal.", field=axis), axis) from None
    if "consent" in data:
        word = data["consent"].strip().lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise BadRequest(_("consent ska vara true eller false."), "consent")
        data["consent"] = word in TRUE_WORDS
    upload = files.get(PHOTO_FIELD)
    if upload is None:
        return data, None
    content = upload.stream.read(limit + 1)
    if len(content) > limit:
        raise _too_large(limit)
    return data, content or None  # an empty file input (nothing chosen) is no photo


def prepare_photo(content: bytes) -> PreparedPhoto:
    """Re-encode the sent photo (422 ``PhotoRefused`` if it is not one we read, or too large in pixels)."""
    return prepare(content, max_pixels=current_app.config["PHOTO_MAX_PIXELS"])


def keep_photo(conn, proposal_id: int, photo: PreparedPhoto) -> None:
    """Write the photo's file, then its pending row, in the proposal's transaction (the file first)."""
    photos.write_file(current_app.config["PHOTO_DIR"], photo)
    photos.add(conn, proposal_id, photo)

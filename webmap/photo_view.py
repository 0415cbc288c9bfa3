"""How a proposal's photo appears in the API and on pages: its URL, size and alt text, only when it may be shown."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from ..layers.photo_image import PreparedPhoto
from ..layers.photos import Photo


def alt_text(title: str) -> str:
    """The photo's text alternative: residents send no description of the picture, so it names the proposal."""
    return _("Foto som invånaren skickade med förslaget ”%(title)s”", title=title)


def url(photo: Photo, external: bool = False) -> str:
    return url_for("photos.photo", sha256=photo.sha256, _external=external)


def public(photo: Photo | None, record: dict) -> dict | None:
    """The API's ``photo`` of a proposal: URL, size and alt text once published, otherwise null."""
    if photo is None or photo.status != "published":
        return None
    return {"url": url(photo, external=True), "width": photo.width, "height": photo.height, "alt": alt_text(record["title"])}


def received(photo: PreparedPhoto | None) -> dict | None:
    """The 201 answer's ``photo``: what was kept, waiting for a moderator (no URL yet)."""
    if photo is None:
        return None
    return {"status": "pending", "width": photo.width, "height": photo.height}

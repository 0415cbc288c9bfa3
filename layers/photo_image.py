"""A resident's photo made safe to keep and show: read by content, bounded, upright, stripped, re-encoded.

``prepare(data, max_pixels)`` takes the uploaded bytes and returns a new JPEG: only JPEG, PNG
and (when pillow-heif is installed) HEIC/HEIF are opened, whatever the file's name or
Content-Type said; the pixel count is checked from the header before any pixel is decoded (a
decompression bomb is refused without being unpacked); the EXIF orientation is applied first, so
the picture stays upright; colours are converted to sRGB; the longest side is bounded; and the
picture is written anew without EXIF, GPS, XMP, ICC or comments. Every refusal is a
``PhotoRefused`` with a sentence in Swedish and English. Nothing here knows Flask or SQL.
"""

from __future__ import annotations

import hashlib
import io
import threading
import warnings
from dataclasses import dataclass

from ..geo.errors import UserError

FORMATS = ("JPEG", "PNG", "HEIF")
MAX_SIDE = 1600  # pixels, the longest side of a stored photo: sharp on a phone and a laptop, about 200-400 KB
JPEG_QUALITY = 82
_heif_lock = threading.Lock()
_heif_registered: list[bool] = []


class PhotoRefused(UserError):
    code = "invalid_photo"

    def __init__(self, sv: str, en: str, code: str | None = None):
        super().__init__(sv, en, field="photo")
        if code:
            self.code = code


@dataclass(frozen=True)
class PreparedPhoto:
    """A re-encoded photo: its JPEG bytes, their SHA-256 (the stored file's name) and its size in pixels."""

    jpeg: bytes
    sha256: str
    width: int
    height: int


def heif_available() -> bool:
    """Register pillow-heif's HEIC/HEIF opener once; return whether HEIC can be read here."""
    with _heif_lock:
        if not _heif_registered:
            try:
                import pillow_heif

                pillow_heif.register_heif_opener(thumbnails=False)
                _heif_registered.append(True)
            except ImportError:
                _heif_registered.append(False)
        return _heif_registered[0]


def prepare(data: bytes, max_pixels: int, max_side: int = MAX_SIDE, quality: int = JPEG_QUALITY) -> PreparedPhoto:
    """Return ``data`` as a new, metadata-free JPEG of at most ``max_side`` pixels a side, or raise ``PhotoRefused``."""
    from PIL import Image

    if not data:
        raise PhotoRefused("Bildfilen är tom.", "The image file is empty.", "empty_photo")
    formats = FORMATS if heif_available() else tuple(f for f in FORMATS if f != "HEIF")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=formats)  # reads the header only
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(max_pixels) from None
        except Exception:  # any decoder's complaint about a hostile file is the same answer
            if not heif_available() and _looks_like_heif(data):
                raise PhotoRefused(
                    "HEIC-bilder kan inte tas emot här. Spara bilden som JPEG och försök igen.",
                    "HEIC images cannot be received here. Save the picture as JPEG and try again.",
                    "unsupported_photo",
                ) from None
            raise _unreadable() from None
        with image:
            width, height = image.size
            if width < 1 or height < 1 or width * height > max_pixels:
                raise _too_many_pixels(max_pixels)
            try:
                return _reencode(image, max_side, quality)
            except PhotoRefused:
                raise
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise _too_many_pixels(max_pixels) from None
            except Exception:  # truncated or corrupt pixel data
                raise _unreadable() from None


def _reencode(image, max_side: int, quality: int) -> PreparedPhoto:
    from PIL import Image, ImageOps

    if image.format == "JPEG":  # decode a large JPEG at 1/2, 1/4 or 1/8 scale, never below the size it is shrunk to
        scale = max_side / max(image.size)
        if scale < 1:
            image.draft("RGB", (max(1, int(image.width * scale)), max(1, int(image.height * scale))))
    image.seek(0)  # an animated PNG or a HEIC sequence: its first picture
    upright = ImageOps.exif_transpose(image)  # loads the pixels; orientation applied before EXIF is dropped
    icc = image.info.get("icc_profile")
    rgb = _to_srgb(_flatten(upright), icc)
    rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=quality, optimize=True, progressive=True)  # no exif=, icc_profile=: nothing carried over
    jpeg = out.getvalue()
    return PreparedPhoto(jpeg=jpeg, sha256=hashlib.sha256(jpeg).hexdigest(), width=rgb.width, height=rgb.height)


def _flatten(image):
    """Return an RGB image; transparency is laid on white (a PNG screenshot or drawing)."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode.startswith("I"):  # 16- or 32-bit greyscale PNG: scaled down to 8 bits
        return image.point(lambda value: value / 256).convert("L").convert("RGB")
    return image.convert("RGB")


def _to_srgb(image, icc: bytes | None):
    """Convert from an embedded colour profile (a phone's Display P3) to sRGB, so colours survive dropping the profile."""
    if not icc:
        return image
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # a broken profile: keep the pixels as they are
    return converted or image


def _looks_like_heif(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"hevc", b"hevx")


def _too_many_pixels(max_pixels: int) -> PhotoRefused:
    megapixels = max_pixels / 1_000_000
    return PhotoRefused(
        f"Bilden har för många bildpunkter: högst {megapixels:g} megapixlar.",
        f"The image has too many pixels: at most {megapixels:g} megapixels.",
        "photo_too_many_pixels",
    )


def _unreadable() -> PhotoRefused:
    accepted = "JPEG, PNG" + (" eller HEIC" if heif_available() else "")
    accepted_en = "JPEG, PNG" + (" or HEIC" if heif_available() else "")
    return PhotoRefused(
        f"Filen kunde inte läsas som en bild. Skicka ett foto i formatet {accepted}.",
        f"The file could not be read as an image. Send a photo as {accepted_en}.",
        "invalid_photo",
    )

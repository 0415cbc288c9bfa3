"""Brotli and gzip for text responses (HTML, JS, CSS, JSON, GeoJSON, CSV), through Flask-Compress.

Flask-Compress (a maintained extension) negotiates ``Accept-Encoding``, adds ``Vary:
Accept-Encoding``, compresses streamed responses chunk by chunk (downloads keep streaming) and gives
a compressed response with a strong ETag its own (``"tag:br"``); weak ETags, which we use for
data, compare equal across encodings. What it leaves alone: bodies under ``COMPRESS_MIN_SIZE``,
media types not listed here (GeoPackage, FlatGeobuf and other binary or already compressed
files), responses that already carry ``Content-Encoding`` (the proposal list keeps its own gzip
copy), and, added here, partial content: a ``206`` answering a ``Range`` request is sent as it is,
since compressing a byte range of the file would give bytes of no representation.
"""

from __future__ import annotations

from flask import Flask, Response
from flask_compress import Compress

COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "text/plain",
    "text/csv",
    "application/json",
    "application/geo+json",
    "application/vnd.oai.openapi+json",
    "application/manifest+json",
    "image/svg+xml",
]
SETTINGS = {
    "COMPRESS_MIMETYPES": COMPRESSED_TYPES,
    "COMPRESS_ALGORITHM": ["br", "gzip"],  # Brotli first when a client takes both; zstd and deflate not offered
    "COMPRESS_ALGORITHM_STREAMING": ["br", "gzip"],
    "COMPRESS_BR_LEVEL": 5,
    "COMPRESS_LEVEL": 6,
    "COMPRESS_MIN_SIZE": 500,
    "COMPRESS_STREAMING_ENDPOINT_CONDITIONAL": ["static", "downloads.public_export"],
}


class TextCompress(Compress):
    """Flask-Compress that leaves partial content (206) uncompressed and closes the body it wraps."""

    def after_request(self, response: Response | None) -> Response:
        if response is not None and response.status_code == 206:
            return response
        body = response.response if response is not None else None
        response = super().after_request(response)
        if response.response is not body and hasattr(body, "close"):
            response.call_on_close(body.close)  # a sent file, now read through the compressor: close it when done
        return response


def init_app(app: Flask) -> None:
    for key, value in SETTINGS.items():
        app.config.setdefault(key, value)
    TextCompress(app)

"""ETags from cheap fingerprints of the data, and 304 Not Modified before any body is built.

A response's ETag is a digest of what the response is built from: ``data_version()`` (what the
store says changed: proposals, supports, answers, imported layer versions), the locality's files
and the request's own variables (path and query, origin, language), never a digest of the body.
A client that holds the current version gets its 304 without the server rendering anything.

Data responses carry weak ETags: the Brotli, gzip and plain bodies of one representation share
one (Flask-Compress leaves weak ETags alone) and ``If-None-Match`` compares weakly. A file sent
with a strong ETag gets ``"tag:br"`` when compressed; ``not_modified`` accepts those too.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path

from flask import Response, current_app, make_response, request

from ..layers import layer_store, store
from . import db

ENCODING_SUFFIXES = (":br", ":gzip", ":deflate", ":zstd")  # what Flask-Compress appends to a strong ETag


def data_version(proposals: bool = True) -> tuple:
    """Return what the store says about the version of its data: the one lookup every ETag and cache key uses.

    ``proposals=False`` leaves out the proposals and what hangs on them (for layer responses).
    """
    with db.reading() as conn:
        layers = tuple(sorted(layer_store.current_versions(conn).items()))  # imported layers; the rest are bundled
        fingerprint = store.data_fingerprint(conn) if proposals else None
    return fingerprint, layers, _locality_files(current_app.config["LOCALITY_DIR"])


@functools.cache
def _locality_files(folder: str) -> tuple:
    # The bundled layers are read from these files once per process; a changed file means a new release.
    return tuple(sorted((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in Path(folder).rglob("*") if p.is_file()))


def digest(*parts) -> str:
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:32]


def request_etag(version: tuple, *extra) -> str:
    """Return the ETag of this request's response over data of ``version``."""
    from .i18n import current_language

    return digest(version, request.full_path, request.host_url, current_language(), *extra)


def not_modified(etag: str, weak: bool = True) -> Response | None:
    """Return a 304 when the request's ``If-None-Match`` names ``etag`` (in any encoding), else None."""
    if request.method not in ("GET", "HEAD"):
        return None
    held = request.if_none_match
    matches = [tag for tag in held.as_set(include_weak=True) if _without_encoding(tag) == etag]
    if not (held.star_tag or matches):
        return None
    response = Response(status=304)
    if matches:  # the tag a 200 in the client's encoding would have carried: the one it holds
        response.set_etag(matches[0], weak=held.is_weak(matches[0]))
    else:
        response.set_etag(etag, weak=weak)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _without_encoding(tag: str) -> str:
    for suffix in ENCODING_SUFFIXES:
        if tag.endswith(suffix):
            return tag.removesuffix(suffix)
    return tag


def tagged(response: Response, etag: str) -> Response:
    """Give ``response`` its weak ETag and have clients revalidate it before each use."""
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = "no-cache"
    return response


def etagged(version: Callable[[], tuple]):
    """Decorate a GET view: its 200 gets an ETag from ``version()`` and the request; a match answers 304 first."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            etag = request_etag(version())
            unchanged = not_modified(etag)
            if unchanged is not None:
                return unchanged
            response = make_response(view(*args, **kwargs))
            return tagged(response, etag) if response.status_code == 200 else response

        return wrapper

    return decorator

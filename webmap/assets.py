"""Fingerprinted URLs for our static files and the vendored front-end packages, cached for a year.

Each folder of assets (``webmap/static``, each XStatic package, folium's bundled Leaflet.heat) is
named in its URLs by a hash of the folder's content: ``/static/<hash>/map.js``,
``/vendor/leaflet/<hash>/leaflet.js``. Relative references inside a file (ES module imports, a
stylesheet's images) stay inside the same hashed folder, so they are fingerprinted too, without a
build step or an import map. Changing any file changes its folder's hash and so every URL in it;
those URLs are served with ``Cache-Control: public, max-age=31536000, immutable``. A hash is
computed once per process, on first use (the static folder at ``create_app``; a vendor folder when
the first map is built): reading the files costs milliseconds. ``/static/<file>`` without a hash
(and a hash from an older release) still answers, with ``no-cache``, and so does
``/vendor/<name>/<version>/<file>``, which our stylesheet uses for Leaflet's marker image.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from pathlib import Path

import xstatic.pkg.leaflet as xs_leaflet
from flask import Flask, Response, send_from_directory
import xstatic.pkg.leaflet_markercluster as xs_markercluster

STATIC_DIR = Path(__file__).resolve().parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
FINGERPRINT_LENGTH = 16


def _folium_templates() -> Path:
    spec = importlib.util.find_spec("folium")  # its folder, without importing folium (slow: it compiles templates)
    assert spec is not None and spec.origin is not None, "folium is a dependency"
    return Path(spec.origin).resolve().parent / "templates"


# Vendored front-end packages, served by ``resident.vendor`` at /vendor/<name>/<fingerprint>/<file>.
VENDOR_DIRS = {
    "leaflet": lambda: Path(xs_leaflet.BASE_DIR),
    "markercluster": lambda: Path(xs_markercluster.BASE_DIR),
    # folium bundles Leaflet.heat 0.2.0 (BSD-2-Clause) as templates/leaflet_heat.min.js.
    "folium": _folium_templates,
    # Leaflet-Geoman Free (MIT), from the npm registry: no PyPI package carries it (see its README.md).
    "geoman": lambda: Path(__file__).resolve().parent / "vendor" / "leaflet-geoman",
}
# Their versions, which a stylesheet can name where it cannot know a fingerprint (served with no-cache).
VENDOR_VERSIONS = {"leaflet": xs_leaflet.VERSION, "markercluster": xs_markercluster.VERSION}


@functools.cache
def folder_fingerprint(folder: Path) -> str:
    """Return a hash of every file's relative path and content under ``folder``."""
    digest = hashlib.blake2b(digest_size=FINGERPRINT_LENGTH // 2)
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def static_fingerprint() -> str:
    return folder_fingerprint(STATIC_DIR)


def vendor_dir(name: str) -> Path | None:
    """Return the folder of vendored package ``name``, or None for a name we do not vendor."""
    folder = VENDOR_DIRS.get(name)
    return folder() if folder else None


def vendor_fingerprint(name: str) -> str:
    folder = vendor_dir(name)
    if folder is None:
        raise KeyError(name)
    return folder_fingerprint(folder)


def vendor_path(name: str, filename: str) -> str:
    """Return the URL path of a vendored file, fingerprinted by its package's content."""
    return f"/vendor/{name}/{vendor_fingerprint(name)}/{filename}"


def looks_like_fingerprint(segment: str) -> bool:
    return len(segment) == FINGERPRINT_LENGTH and all(c in "0123456789abcdef" for c in segment)


def static_url_path() -> str:
    """The URL prefix Flask serves ``webmap/static`` under (``url_for("static", ...)`` builds on it)."""
    return f"/static/{static_fingerprint()}"


def init_app(app: Flask) -> None:
    """Serve fingerprinted static files for a year and unfingerprinted ones with ``no-cache``."""

    def fingerprinted_static(filename: str) -> Response:
        response = send_from_directory(STATIC_DIR, filename)
        response.headers["Cache-Control"] = IMMUTABLE
        return response

    def unfingerprinted_static(filename: str) -> Response:
        first, _, rest = filename.partition("/")
        if rest and looks_like_fingerprint(first):  # a page from before a change: today's file, revalidated
            filename = rest
        response = send_from_directory(STATIC_DIR, filename)
        response.headers["Cache-Control"] = "no-cache"
        return response

    app.view_functions["static"] = fingerprinted_static
    app.add_url_rule("/static/<path:filename>", endpoint="unfingerprinted_static", view_func=unfingerprinted_static)

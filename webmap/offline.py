"""The map offline and installable: the service worker, the web app manifest, and what this browser supported.

``GET /sw.js`` is ``static/sw.js`` with its first line filled in: this release's cache version (a
hash of the URLs it keeps, which carry the assets' fingerprints) and those URLs: the map page,
the manifest, our resident static files and the vendored Leaflet files. A new deployment changes
the script's bytes, so browsers install the new worker, which deletes the old caches. Served at
the root so its scope is the whole site (``Service-Worker-Allowed: /`` says so explicitly); what
it keeps and never keeps is described in ``static/sw.js``.

``GET /api/proposals/supported`` tells a browser which proposals its own token cookie supported
(nothing new is stored; ``layers/supported.py``), so the support buttons remember after a reload.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, current_app, jsonify, url_for
from flask_babel import gettext as _

from ..layers.supported import supported_by
from . import assets, db
from .app_icons import SIZES, icon_name
from .client import browser_token
from .i18n import current_language

bp = Blueprint("offline", __name__)

SW_FILE = "sw.js"
# sw.js starts with this line; the served copy carries the real version and URLs instead.
SW_PLACEHOLDER = 'const OFFLINE = {"version": "dev", "precache": []};'
THEME_COLOR = "#003d5c"  # the header's --accent-dark
# Vendored files the resident map loads (leaflet-src, ESM builds and source maps are left out).
VENDOR_FILES = {
    "leaflet": ("leaflet.js", "leaflet.css"),
    "markercluster": ("leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css"),
}
STAFF_STATIC = ("planner",)
PROPOSALS_ZOOM = 13  # staff pages' scripts: never kept on a resident's device


def precache_urls() -> list[str]:
    """Return what the service worker keeps on install: the map page, the manifest and its assets."""
    static = sorted(
        path.relative_to(assets.STATIC_DIR).as_posix()
        for path in assets.STATIC_DIR.rglob("*")
        if path.is_file() and path.name != SW_FILE and path.relative_to(assets.STATIC_DIR).parts[0] not in STAFF_STATIC
    )
    vendor = []
    for name, files in VENDOR_FILES.items():
        folder = assets.vendor_dir(name)
        assert folder is not None, name
        images = sorted(p.relative_to(folder).as_posix() for p in (folder / "images").glob("*.png")) if name == "leaflet" else []
        vendor += [assets.vendor_path(name, filename) for filename in (*files, *images)]
    minlon, minlat, maxlon, maxlat = db.registry().boundary().bounds
    bbox = ",".join(f"{value:.6f}" for value in (minlon, minlat, maxlon, maxlat))
    proposals = url_for("api.proposal_map", bbox=bbox, zoom=PROPOSALS_ZOOM)  # the whole locality's, for a first offline visit
    pages = [url_for("resident.index"), url_for("offline.manifest"), proposals]
    return [*pages, *(url_for("static", filename=f) for f in static), *vendor]


def service_worker_source() -> str:
    """Return sw.js with this release's version and URLs in its first line."""
    urls = precache_urls()
    version = hashlib.blake2b("\n".join(urls).encode(), digest_size=8).hexdigest()
    source = (assets.STATIC_DIR / SW_FILE).read_text(encoding="utf-8")
    if not source.startswith(SW_PLACEHOLDER):
        raise RuntimeError(f"{SW_FILE} must start with {SW_PLACEHOLDER!r}")
    filled = f"const OFFLINE = {json.dumps({'version': version, 'precache': urls})};"
    return filled + source[len(SW_PLACEHOLDER) :]


@bp.get("/sw.js")
def service_worker():
    response = Response(service_worker_source(), mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"  # browsers check for a new worker at every visit
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    locality = db.registry().locality.name
    icons = [
        {
            "src": url_for("static", filename=f"icons/{icon_name(size)}"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": purpose,
        }
        for size in SIZES
        for purpose in ("any", "maskable")
    ]
    document = {
        "name": _("Dialogkarta – %(locality)s", locality=locality),
        "short_name": "Dialogkarta",
        "description": _("Lämna förslag på kartan över %(locality)s och se vad som händer med dem.", locality=locality),
        "lang": current_language(),
        "id": "/",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOR,
        "icons": icons,
    }
    response = current_app.response_class(json.dumps(document, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/api/proposals/supported")
def supported():
    """The public ids of the proposals this browser supported (its own token cookie; none without one)."""
    token, new = browser_token()
    ids: list[str] = []
    if not new:  # a browser without a token has supported nothing
        with db.reading() as conn:
            ids = supported_by(conn, token)
    response = jsonify({"supported": ids})
    response.headers["Cache-Control"] = "private, no-store"  # one browser's own answer: never cached on the way
    response.headers["Vary"] = "Cookie"
    return response


@bp.app_context_processor
def offline_context():
    def offline_texts() -> dict:
        """The texts js/offline.js shows, in the page's language."""
        return {
            "kept": _("Sparat på telefonen – skickas när du är uppkopplad"),
            "keptMany": _("%(count)s förslag sparade på telefonen – skickas när du är uppkopplad"),
            "sent": _("Ditt sparade förslag är nu skickat och mottaget."),
            "refused": _("Ditt sparade förslag ”%(title)s” kunde inte tas emot: %(reason)s"),
            "open": _("Öppna förslaget"),
        }

    return {"offline_texts": offline_texts, "offline_theme_color": THEME_COLOR}

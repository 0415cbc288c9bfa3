"""Resident pages: the map of the locality, proposal permalinks and the privacy notice.

The map page embeds folium's components (``webmap/map.py``), rendered once per language and
layer version and cached; proposals are not in the page, ``static/map.js`` loads them from
``/api/proposals``. Leaflet and Leaflet.markercluster are served from the installed XStatic
packages under ``/vendor/<name>/<fingerprint>/`` (``webmap/assets.py``).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, current_app, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _

from ..layers import photos, store, workflow
from . import assets, db, photo_view
from ..layers.vocabulary import PROPOSAL_STATUSES, labels, translate
from .wording import category_label, join_sentence, joins_detail, kind_label, status_label
from .i18n import current_language
from .places import place_list
from .shape_choice import with_shape_choice
from ..lazy import lazy_module

if TYPE_CHECKING:
    import shapely
else:
    shapely = lazy_module("shapely")

if TYPE_CHECKING:
    from . import map as webmap_map

bp = Blueprint("resident", __name__)
LANGUAGE_NAMES = {"sv": "Svenska", "en": "English"}
_parts_lock = threading.Lock()


def language_name(code: str) -> str:
    """A language's name in itself: ours for sv/en, Babel's for any other a locality adds ("العربية")."""
    from babel import Locale, UnknownLocaleError

    if code in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[code]
    try:
        return Locale.parse(code).get_display_name(code) or code
    except (ValueError, UnknownLocaleError):
        return code


@bp.app_context_processor
def language_links():
    def lang_url(code: str) -> str:
        args = request.args.to_dict()
        args["lang"] = code
        return f"{request.path}?{urlencode(args)}"

    return {"lang_url": lang_url, "language_name": language_name}


def map_parts(lang: str) -> webmap_map.MapParts:
    """Return the rendered map components for ``lang``, rendered once per layer version."""
    from . import map as webmap_map  # folium and geopandas, imported when the map is first drawn

    registry = db.registry()
    config = current_app.config
    key = (lang, registry.version, config["TILE_URL"], config["TILE_ATTRIBUTION"])
    cache = current_app.extensions.setdefault("dialogkarta.map_parts", {})
    with _parts_lock:
        if key not in cache:
            fmap = webmap_map.build_map(registry, lang, config["TILE_URL"], config["TILE_ATTRIBUTION"])
            cache.clear()  # older layer versions are of no use
            cache[key] = webmap_map.render_parts(fmap)
        return cache[key]


def client_config(registry, lang: str) -> dict:
    """What map.js needs: API URLs, labels in ``lang``, the boundary and the texts it shows."""
    locality = registry.locality
    boundary = shapely.geometry.mapping(registry.boundary())
    return {
        "lang": lang,
        "locality": locality.name,
        "urls": {
            "proposals": url_for("api.list_proposals"),
            "map": url_for("api.proposal_map"),
            "item": url_for("api.get_proposal", public_id="__id__"),
            "nearby": url_for("api.nearby"),
            "proposal": url_for("resident.proposal", public_id="__id__"),
            "support": url_for("api.support", public_id="__id__"),
            "summary": url_for("view_summary.summary"),
        },
        "categories": {c.id: c.label(lang) for c in locality.categories},
        "statuses": labels(PROPOSAL_STATUSES, lang),
        "serviceKinds": {
            kind: {"label": kind_label(locality, kind, lang), "symbol": value.get("symbol", "•")}
            for kind, value in locality.service_kinds.items()
        },
        "areaStatus": {
            key: {"label": translate(value, lang), "color": value.get("color")} for key, value in locality.area_status.items()
        },
        "boundary": boundary,
        "focus": request.args.get("p"),
        "text": {
            "placed": _("Nålen är placerad. Dra den eller tryck på en annan plats för att flytta den."),
            "placedAt": _("Nålen är placerad vid %(place)s."),
            "moveHint": _("Dra den eller tryck på en annan plats för att flytta den."),
            "outside": _("Platsen ligger utanför %(locality)s. Välj en plats innanför den streckade gränsen."),
            "locating": _("Hämtar din position …"),
            "locationOutside": _(
                "Din position ligger utanför %(locality)s. Tryck på kartan eller välj en plats i listan i stället."
            ),
            "locationFailed": _("Din position kunde inte hämtas. Tryck på kartan eller välj en plats i listan i stället."),
            "locationUnsupported": _("Din webbläsare kan inte dela din position. Tryck på kartan eller välj en plats i listan."),
            "myPosition": _("din position"),
            "noPin": _("Välj först en plats: tryck på kartan, använd din position eller välj i listan."),
            "sending": _("Skickar …"),
            "sendFailed": _("Förslaget kunde inte skickas. Kontrollera din anslutning och försök igen."),
            "thanks": _("Tack! Ditt förslag är mottaget."),
            "held": _("Tack! Ditt förslag innehåller en länk och visas på kartan när en moderator har granskat det."),
            "nearbyNone": _("Inga andra förslag inom 150 m. Ditt blir det första här."),
            "nearbyIntro": _("Finns ditt förslag redan? Stöd det i stället för att skicka ett nytt."),
            "supportInstead": _("Stöd detta i stället"),
            "support": _("Stöd förslaget"),
            "supported": _("Du stöder detta"),
            "supportCount": _("Stöd: %(count)s"),
            "distance": _("%(distance)s m bort"),
            "open": _("Öppna förslaget"),
            "proposalsFailed": _("Förslagen kunde inte laddas. Kartan fungerar ändå för att lämna förslag."),
            "tilesFailed": _("Bakgrundskartan kunde inte laddas. Gränsen, områdena och förslagen visas ändå."),
            "placesCount": _("%(count)s platser"),
            "placesCountOne": _("1 plats"),
            "illustrative": _("Illustrativ skiss – ej kommunens plangräns"),
            "areaLabel": _("%(name)s, utvecklingsområde: %(status)s"),
            "yourPin": _("Ditt förslags plats"),
            "cluster": _("%(count)s förslag"),
            "clusterOne": _("1 förslag"),
            "summaryAll": _("%(count)s förslag på kartan."),
            "summaryView": _("%(count)s förslag i kartvyn."),
            "summaryClusters": _(
                "%(count)s förslag i kartvyn, i %(groups)s grupper. Välj en grupp eller zooma in för att se dem ett och ett."
            ),
        },
    }


def tile_origin(tile_url: str) -> str | None:
    """The tile server's origin, for the page to connect to it early; None when same-origin or spread over subdomains."""
    parts = urlsplit(tile_url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc and "{" not in parts.netloc else None


@bp.get("/")
def index():
    registry = db.registry()
    lang = current_language()
    locality = registry.locality
    areas = registry.areas()
    legend_areas = [
        {"name": row["name"], "status": row.get("status"), "illustrative": row.get("data_status") != "verified"}
        for _index, row in areas.iterrows()
    ]
    from .workbook_link import preset

    workbook = preset(registry, request.args, lang)  # a workbook's QR code: area, channel and round
    return render_template(
        "resident/index.html",
        locality=locality,
        map=map_parts(lang),
        config=with_shape_choice(client_config(registry, lang)) | {"workbook": workbook},
        workbook=workbook,
        places=place_list(registry, lang),
        categories=[(c.id, c.label(lang)) for c in locality.categories],
        legend_areas=legend_areas,
        area_status={k: {"label": translate(v, lang), "color": v.get("color")} for k, v in locality.area_status.items()},
        service_kinds={
            k: {"label": kind_label(locality, k, lang), "symbol": v.get("symbol", "•")} for k, v in locality.service_kinds.items()
        },
        attribution=locality.attribution_lines(lang),
        tile_attribution=current_app.config["TILE_ATTRIBUTION"],
        tile_origin=tile_origin(current_app.config["TILE_URL"]),
    )


def public_answers(conn, record: dict) -> list[dict]:
    """Hook for the planner's public answers (issue 4): ``layers.workflow.public_answers`` when present."""
    try:
        from ..layers import workflow
    except ImportError:
        return []
    fetch = getattr(workflow, "public_answers", None)
    return fetch(conn, record["id"]) if fetch else []


@bp.get("/p/<public_id>")
def proposal(public_id: str):
    registry = db.registry()
    lang = current_language()
    with db.reading() as conn:
        record = store.get_proposal(conn, public_id)
        if record is None:
            abort(404)
        answers = public_answers(conn, record)
        forwardings = workflow.public_forwardings(conn, record["id"])
        photo = photos.published_of(conn, record["id"])  # pending and rejected photos are never on the public page
    view = store.public_view(record, grid_m=current_app.config["PUBLIC_GRID_M"])
    detail = joins_detail(view, registry, lang)
    named = [a.get("department") for a in answers] + [step["department"] for step in forwardings]
    departments = {d: registry.locality.department_label(d, lang) for d in named if d}
    return render_template(
        "resident/proposal.html",
        proposal=view,
        summary=join_sentence(detail, own=False),
        detail=detail,
        category=category_label(registry.locality, view["category"], lang),
        status=status_label(view["status"]),
        history=[{**h, "label": status_label(h["status"])} for h in view.get("history", [])],
        answers=answers,
        forwardings=forwardings,
        departments=departments,
        locality=registry.locality,
        photo=photo,
        photo_alt=photo_view.alt_text(view["title"]) if photo else "",
    )


@bp.get("/privacy")
def privacy():
    config = current_app.config
    return render_template(
        "resident/privacy.html",
        locality=db.registry().locality,
        retention_days=config["CONTACT_RETENTION_DAYS"],
        max_retention_years=round(config["CONTACT_MAX_RETENTION_DAYS"] / 365),
        controller=config.get("PRIVACY_CONTROLLER")
        or _("%(municipality)s (kommunstyrelsen)", municipality=db.registry().locality.municipality),
        contact_email=config.get("PRIVACY_CONTACT_EMAIL"),
    )


@bp.get("/healthz")
def healthz():
    """Answer 200 as soon as the app can serve (load balancers and ``bench/startup.py`` ask)."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.get("/vendor/<name>/<fingerprint>/<path:filename>")
def vendor(name: str, fingerprint: str, filename: str):
    """Serve Leaflet and its plugins from the installed XStatic packages (fingerprinted URL, cached a year)."""
    folder = assets.vendor_dir(name)
    if folder is None:
        abort(404)
    if assets.folder_fingerprint(folder) == fingerprint:
        cache = assets.IMMUTABLE
    elif assets.VENDOR_VERSIONS.get(name) == fingerprint:  # named by version (from a stylesheet): revalidated
        cache = "no-cache"
    else:
        abort(404)
    response = send_from_directory(folder, filename)
    response.headers["Cache-Control"] = cache
    return response

"""The page residents answer a survey on, /s/<slug>: one question per screen on a phone, all on one page on a desktop.

The questions are rendered here (plain HTML form controls work without the map); ``static/survey.js``
adds the maps, drawn with Leaflet-Geoman (vendored under ``webmap/vendor/leaflet-geoman``, MIT, served at ``/vendor/geoman/``), the
keyboard path for map questions (places chosen from a list, in order, for lines and areas), the
paging on a phone, the earlier answers of this browser, and sending to ``/api/surveys``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, abort, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _

from ..layers import surveys
from ..layers.surveys import in_language
from ..layers.store import utcnow
from . import assets, db
from .i18n import current_language
from .places import place_list
from ..lazy import lazy_module

if TYPE_CHECKING:
    import shapely
else:
    shapely = lazy_module("shapely")

bp = Blueprint("survey_page", __name__)


def question_view(question: surveys.Question, lang: str) -> dict:
    return {
        "id": question.id,
        "type": question.type,
        "text": in_language(question.text, lang),
        "required": question.required,
        "multiple": question.multiple,
        "options": [{"id": option["id"], "label": in_language(option, lang)} for option in question.options],
        "geometry": question.geometry,
        "max_count": question.max_count,
        "comment": question.comment,
        "low": in_language(question.low, lang) if question.low else "",
        "high": in_language(question.high, lang) if question.high else "",
        "background": question.background,
    }


def client_config(survey: surveys.Survey, registry, lang: str) -> dict:
    """What survey.js needs: the API URLs, the map questions, the locality's outline and areas, and its texts."""
    locality = registry.locality
    areas = registry.areas()
    return {
        "lang": lang,
        "urls": {
            "responses": url_for("surveys.respond", slug=survey.slug),
            "mine": url_for("surveys.my_response", slug=survey.slug),
        },
        "questions": [
            {
                "id": q.id,
                "type": q.type,
                "geometry": q.geometry,
                "max": q.max_count,
                "comment": q.comment,
                "multiple": q.multiple,
                "background": q.background,
            }
            for q in survey.questions
        ],
        "map": {"center": [locality.center[1], locality.center[0]], "zoom": locality.zoom, "minZoom": locality.min_zoom},
        "boundary": shapely.geometry.mapping(registry.boundary()),
        "areas": [
            {"name": name, "geometry": shapely.geometry.mapping(shape)} for name, shape in zip(areas["name"], areas.geometry)
        ],
        "text": {
            "questionOf": _("Fråga %(n)s av %(count)s"),
            "point": _("Punkt %(n)s"),
            "line": _("Linje %(n)s: %(points)s punkter, %(length)s m"),
            "polygon": _("Område %(n)s: %(points)s hörn, %(area)s m²"),
            "remove": _("Ta bort"),
            "comment": _("Kommentar (valfri)"),
            "maxReached": _("Du har ritat så många svar som frågan tar (%(max)s)."),
            "pending": _("%(count)s platser valda. Välj fler, eller avsluta."),
            "tooFewLine": _("En linje behöver minst två platser."),
            "tooFewPolygon": _("Ett område behöver minst tre platser."),
            "sending": _("Skickar …"),
            "saved": _("Tack! Dina svar är sparade. Du kan ändra dem tills enkäten stänger."),
            "updated": _("Dina ändrade svar är sparade."),
            "repaired": _("Ett område korsade sig självt och har rättats: %(reason)s"),
            "failed": _("Svaren kunde inte skickas. Kontrollera din anslutning och försök igen."),
            "mapLabel": _("Karta för frågan. Du kan också välja platser i listan under kartan."),
        },
    }


@bp.get("/s/<slug>")
def answer(slug: str):
    """The survey's questions as a form; a closed or not yet open survey says so instead."""
    registry = db.registry()
    lang = current_language()
    with db.reading() as conn:
        found = surveys.get_survey(conn, slug)
    if found is None:
        abort(404)
    today = registry.locality.today(utcnow())
    return render_template(
        "resident/survey.html",
        survey=found,
        title=in_language(found.title, lang),
        intro=in_language(found.intro, lang),
        questions=[question_view(q, lang) for q in found.questions if not q.background],
        background=[question_view(q, lang) for q in found.questions if q.background],
        consent=in_language(found.consent, lang) if found.consent else "",
        is_open=found.is_open(today),
        not_yet=today < found.opens,
        opens=format_date(found.opens, "long"),
        closes=format_date(found.closes, "long"),
        config=client_config(found, registry, lang),
        places=place_list(registry, lang),
        leaflet_css=assets.vendor_path("leaflet", "leaflet.css"),
        leaflet_js=assets.vendor_path("leaflet", "leaflet.js"),
        geoman_css=assets.vendor_path("geoman", "leaflet-geoman.css"),
        geoman_js=assets.vendor_path("geoman", "leaflet-geoman.min.js"),
    )

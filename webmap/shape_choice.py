"""What the resident map needs to draw a proposal as a line or an area: URLs, the drawing tool's files, the texts.

The drawing tool (Leaflet-Geoman, vendored, the survey pages' tool) is loaded by ``static/js/shapes.js``
only when a resident chooses "Linje" or "Område", so the map page stays as light as before for points.
"""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from .assets import vendor_path


def with_shape_choice(config: dict) -> dict:
    """Return the map page's ``config`` with the URLs and texts of line and area proposals added."""
    urls = config["urls"] | {"shapes": url_for("proposal_shapes_api.shapes")}
    geoman = {"css": vendor_path("geoman", "leaflet-geoman.css"), "js": vendor_path("geoman", "leaflet-geoman.min.js")}
    text = config["text"] | {
        "drawLine": _("Tryck på kartan för varje punkt på linjen. Tryck på den sista punkten igen för att avsluta."),
        "drawArea": _("Tryck på kartan för varje hörn av området. Tryck på det första hörnet för att stänga det."),
        "lineDrawn": _("Linjen är ritad (%(count)s punkter). Beskriv ditt förslag nedan."),
        "areaDrawn": _("Området är ritat (%(count)s hörn). Beskriv ditt förslag nedan."),
        "noShape": _("Rita först linjen eller området på kartan."),
        "drawingFailed": _("Ritverktyget kunde inte laddas. Välj Punkt och sätt ut en nål i stället."),
    }
    return config | {"urls": urls, "geoman": geoman, "text": text}

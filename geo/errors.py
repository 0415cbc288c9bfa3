"""Errors a resident or planner can act on, worded in Swedish and English.

Each error carries a machine-readable ``code`` and a message per language. ``str(error)``
gives the Swedish text followed by the English, so a log line or a CLI message is readable
to both audiences. Programming mistakes stay ``ValueError``/``TypeError``.
"""

from __future__ import annotations

from ..errors import UserError


class GeoError(UserError):
    """A problem with spatial input: coordinates, geometry, CRS or a layer file."""

    code = "invalid_geometry"


class InvalidCoordinates(GeoError):
    code = "invalid_coordinates"


class ProbablySwapped(InvalidCoordinates):
    code = "coordinates_swapped"


class OutsideLocality(GeoError):
    code = "outside_locality"


class InvalidGeometry(GeoError):
    code = "invalid_geometry"


class MissingCRS(GeoError):
    code = "missing_crs"


class UnreadableLayer(GeoError):
    code = "unreadable_layer"


class WrongFormat(UnreadableLayer):
    """The file's content is not the format its name claims."""

    code = "wrong_format"


class UnsafeFile(UnreadableLayer):
    """The file would make GDAL follow something else: another file, a URL, SQL, a path outside its folder."""

    code = "unsafe_file"


class LayerTooComplex(GeoError):
    """More features, vertices or zip entries than an import accepts."""

    code = "layer_too_complex"

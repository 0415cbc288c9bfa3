"""Generalising public coordinates: snap points to a square grid in SWEREF 99 TM.

A resident's pin can point at their own house. When a municipality wants the public map to
show only roughly where a proposal is, every public output passes the point through
``snap_to_grid``; planners keep the exact position. Points go in and come out in WGS84 lon/lat;
the grid is laid in SWEREF 99 TM metres, cells anchored at easting/northing 0, and a point moves
to the centre of the cell it lies in (at most ``metres / sqrt(2)`` away). Nothing here knows
where the setting comes from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING


from .crs import SWEREF99TM, WGS84, transform_xy
from ..lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")


def snap_to_grid(lon, lat, metres: float):
    """Return ``(lon, lat)`` moved to the centre of its ``metres`` x ``metres`` SWEREF 99 TM cell.

    Parameters
    ----------
    lon, lat : float or array-like
        WGS84 coordinates, longitude first.
    metres : float
        Cell size in metres; ``0`` or ``None`` returns the input unchanged.

    Returns
    -------
    tuple
        ``(lon, lat)`` as floats for scalar input, as arrays for array input, rounded to
        7 decimals (about 1 cm) so the output is stable.
    """
    if not metres:
        return lon, lat
    if metres < 0:
        raise ValueError(f"grid size must be positive metres, got {metres!r}")
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    easting, northing = transform_xy(lon, lat, WGS84, SWEREF99TM)
    easting = (np.floor(easting / metres) + 0.5) * metres
    northing = (np.floor(northing / metres) + 0.5) * metres
    out_lon, out_lat = transform_xy(easting, northing, SWEREF99TM, WGS84)
    out_lon, out_lat = np.round(out_lon, 7), np.round(out_lat, 7)
    if scalar:
        return float(out_lon), float(out_lat)
    return out_lon, out_lat

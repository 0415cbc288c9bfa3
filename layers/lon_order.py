"""A longitude-sorted order over the public list's positions, so a small box costs two binary searches, not a scan.

The order covers the first ``covered`` positions of the list; proposals appended since (the
common write) form a tail that is scanned. A list whose positions or longitudes changed in any
other way gets a new order (``LonOrder.build``). ``band`` answers exactly what
``(lon >= min_lon) & (lon <= max_lon)`` over the whole array answers, as positions in no
particular order (the caller filters them further, then sorts the few left).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass

from ..lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

TAIL_REBUILT = 4_096  # appended proposals scanned before the order is built again (an argsort, ~10 ms at 100 000)


@dataclass(frozen=True)
class LonOrder:
    """The positions ``0 .. covered - 1`` sorted by longitude, beside their longitudes."""

    positions: np.ndarray  # int64 positions into the list's arrays, by ascending longitude
    lon: np.ndarray  # the longitudes at ``positions``, ascending
    covered: int

    @classmethod
    def build(cls, lon: np.ndarray) -> LonOrder:
        positions = np.argsort(lon, kind="stable")
        return cls(positions, lon[positions], len(lon))

    def appended(self, lon: np.ndarray) -> LonOrder:
        """Return the order for ``lon``, the covered longitudes unchanged with more appended after them."""
        return self if len(lon) - self.covered <= max(TAIL_REBUILT, self.covered // 8) else LonOrder.build(lon)

    def band(self, lon: np.ndarray, min_lon: float, max_lon: float) -> np.ndarray | None:
        """Return the positions, in no particular order, whose ``lon`` lies in ``[min_lon, max_lon]``; None when a scan is cheaper."""
        start = int(np.searchsorted(self.lon, min_lon, side="left"))
        stop = int(np.searchsorted(self.lon, max_lon, side="right"))
        if stop - start > len(lon) // 8:
            return None  # a wide box: picking its many positions costs more than the scan
        tail = lon[self.covered :]
        return np.concatenate([self.positions[start:stop], self.covered + np.flatnonzero((tail >= min_lon) & (tail <= max_lon))])

"""What a map shows of the proposals in its viewport: grid clusters at the map's zoom, or the points.

One ``MapView`` per audience (the public map: hidden proposals never read, positions generalised
by ``grid_m``; the planner's: every proposal, exact positions, the overlay's filters). It keeps
the proposals' light columns as arrays, and for each (filter, zoom) the SWEREF 99 TM cell grid of
``geo.clusters``, until the store's version moves: panning only picks cells out of the cached
grid. The answer is plain GeoJSON-shaped data; no Flask here.

- ``points`` with ``complete``: the whole (filtered) set holds at most ``points_max``
  proposals, so every one of them is sent, whatever the viewport (a small locality's map loads
  once and clusters on the client, as before);
- ``points``: the viewport holds at most ``points_max`` of them (at zoom ``POINTS_ZOOM`` and
  closer, at most ``POINTS_ZOOM_FACTOR`` times that): those;
- ``clusters``: every non-empty cell overlapping the viewport, whole (a cell's count does not
  change while panning), with its count, the mean position of its members and a count per status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

from sqlalchemy import Connection, case, select, true

from ..geo.clusters import GridCells, box_to_metric, cell_size_m, cells_to_wgs84, grid_cells
from ..geo.crs import to_sweref
from ..geo.generalise import snap_to_grid
from . import report, store
from .schema import proposals
from .vocabulary import PROPOSAL_STATUSES
from ..lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")

MAX_ZOOM = 22
POINTS_ZOOM = 17  # streets and houses: single points even past points_max ...
POINTS_ZOOM_FACTOR = 4  # ... up to this many times it, which still bounds the answer
MAX_VIEW_CELLS = 64 * 64  # a viewport spanning more cells at the asked zoom is answered at a coarser one
STATUS_ORDER = tuple(PROPOSAL_STATUSES)
_CACHED_FILTERS = 32  # filter combinations kept per store version
_CACHED_GRIDS = 24  # grids kept in all (the least recently used goes): a fine zoom's grid has a cell per proposal


def store_version(conn: Connection) -> tuple:
    """Return the value the map caches are keyed on: it moves whenever a proposal could have changed.

    The store's list version (one primary-key read): every write to the proposals, their supports
    or their joins calls ``store.note_changes`` in its transaction, which the whole test suite
    checks (``dialogkarta.testing.UnversionedWrites``).
    """
    return store.list_version(conn)


@dataclass(frozen=True)
class MapTable:
    """One audience's proposals as numeric columns: id, status code and display position (WGS84 and SWEREF 99 TM).

    Text (public id, title, category) is read only for the points an answer sends: at 100 000
    proposals, strings were two thirds of the time it took to read the table.
    """

    id: np.ndarray
    status_code: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    x: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return len(self.id)


def load_table(conn: Connection, include_hidden: bool, grid_m: float = 0) -> MapTable:
    """Read the proposals' numeric columns in one query; positions snapped to ``grid_m`` when > 0."""
    p = proposals.c
    status_code = case({status: i for i, status in enumerate(STATUS_ORDER)}, value=p.status, else_=0)
    query = select(p.id, status_code, p.lon, p.lat).order_by(p.id)
    if not include_hidden:
        query = query.where(p.hidden.is_(False))
    result = conn.execute(query)
    rows = result.cursor.fetchall()  # plain DB-API tuples of numbers, straight into one array
    result.close()
    table = np.array(rows, dtype="float64").reshape(-1, 4)
    lon, lat = table[:, 2], table[:, 3]
    if grid_m and len(table):
        lon, lat = snap_to_grid(lon, lat, grid_m)
    x, y = to_sweref(lon, lat)
    return MapTable(
        id=table[:, 0].astype("int64"),
        status_code=table[:, 1].astype("int64"),
        lon=np.asarray(lon, dtype="float64"),
        lat=np.asarray(lat, dtype="float64"),
        x=np.asarray(x, dtype="float64"),
        y=np.asarray(y, dtype="float64"),
    )


def point_fields(conn: Connection, ids: np.ndarray, planner: bool) -> dict[int, tuple]:
    """Return ``{id: (public_id, title, category, status[, hidden])}`` for the proposals with these ids."""
    p = proposals.c
    columns = [p.id, p.public_id, p.title, p.category, p.status] + ([p.hidden] if planner else [])
    visible = true() if planner else p.hidden.is_(False)  # hidden since the table was read: never its title in public
    fields: dict[int, tuple] = {}
    id_list = ids.tolist()
    for start in range(0, len(id_list), 5000):  # well under every database's limit of bound parameters
        for row in conn.execute(select(*columns).where(p.id.in_(id_list[start : start + 5000]), visible)):
            fields[row[0]] = tuple(row[1:])
    return fields


@dataclass
class _Selection:
    """The rows of one filter combination."""

    key: tuple
    rows: np.ndarray


class MapView:
    """The cached map data of one audience; ``answer`` is safe to call from several threads."""

    def __init__(self, planner: bool, grid_m: float = 0, points_max: int = 2000, timezone: str = "UTC"):
        self.planner = planner
        self.timezone = timezone  # the locality's: the planner's date filters count its calendar days
        self.grid_m = grid_m
        self.points_max = points_max
        self._lock = threading.Lock()
        self._version: tuple | None = None
        self._table: MapTable | None = None
        self._records: list[dict] | None = None
        self._selections: dict[tuple, _Selection] = {}
        self._grids: OrderedDict[tuple, GridCells] = OrderedDict()

    def answer(self, conn: Connection, bbox, zoom: int, filters: dict | None = None) -> dict:
        """Return the FeatureCollection the map draws for ``bbox`` (WGS84) at ``zoom``.

        ``filters`` are the planner overlay's (``layers.report.FILTERS``); a bad date raises
        ``ValueError``. The public view takes none.
        """
        filters = {k: v for k, v in (filters or {}).items() if v}
        with self._lock:
            table, selection = self._select(conn, filters)
            answer, point_rows = self._answer(table, selection, bbox, zoom)
        if point_rows is not None:
            answer["features"] = self._points(conn, table, point_rows)
        return answer

    def records(self, conn: Connection) -> list[dict]:
        """Return the planner's proposal records (``report.load_records``), read once per store version (do not mutate)."""
        assert self.planner, "only the planner's view keeps records"
        with self._lock:
            self._select(conn, {})  # reads them again when the store's version moved
            assert self._records is not None
            return self._records

    # ------------------------------------------------------------------ cache
    def _select(self, conn: Connection, filters: dict) -> tuple[MapTable, _Selection]:
        version = store_version(conn)
        if version != self._version or self._table is None:
            self._table = load_table(conn, include_hidden=self.planner, grid_m=self.grid_m)
            self._records = report.load_records(conn, self.timezone) if self.planner else None
            self._selections = {}
            self._grids.clear()
            self._version = version
        key = tuple(sorted(filters.items()))
        selection = self._selections.get(key)
        if selection is None:
            rows = np.arange(len(self._table))
            if filters:
                assert self._records is not None, "only the planner's view takes filters"
                matching = [r["id"] for r in report.filter_records(self._records, **filters)]
                rows = np.flatnonzero(np.isin(self._table.id, np.array(matching, dtype="int64")))
            if len(self._selections) >= _CACHED_FILTERS:
                self._selections.clear()
            selection = self._selections[key] = _Selection(key=key, rows=rows)
        return self._table, selection

    def _grid(self, table: MapTable, selection: _Selection, zoom: int) -> GridCells:
        key = (selection.key, zoom)
        cells = self._grids.get(key)
        if cells is None:
            rows = selection.rows
            cells = grid_cells(table.x[rows], table.y[rows], cell_size_m(zoom), table.status_code[rows], len(STATUS_ORDER))
            cells = replace(cells, cell_of=cells.cell_of[:0])  # which cell each point is in: not needed again
            self._grids[key] = cells
            while len(self._grids) > _CACHED_GRIDS:
                self._grids.popitem(last=False)
        self._grids.move_to_end(key)
        return cells

    # ------------------------------------------------------------------ answer
    def _answer(self, table: MapTable, selection: _Selection, bbox, zoom: int) -> tuple[dict, np.ndarray | None]:
        """Return the answer and, for points, the table rows whose fields it still needs."""
        rows = selection.rows
        min_lon, min_lat, max_lon, max_lat = bbox
        lon, lat = table.lon[rows], table.lat[rows]
        in_view = rows[(lon >= min_lon) & (lon <= max_lon) & (lat >= min_lat) & (lat <= max_lat)]
        base = {"type": "FeatureCollection", "numberMatched": int(len(in_view)), "total": int(len(rows)), "zoom": zoom}
        if len(rows) <= self.points_max:
            return {**base, "mode": "points", "complete": True}, rows
        if len(in_view) <= self.points_max or (zoom >= POINTS_ZOOM and len(in_view) <= POINTS_ZOOM_FACTOR * self.points_max):
            return {**base, "mode": "points", "complete": False}, in_view
        extent = box_to_metric(min_lon, min_lat, max_lon, max_lat)
        zoom = _bounded_zoom(extent, zoom)
        cells = self._grid(table, selection, zoom)
        chosen = cells.within(*extent)
        answer = {**base, "mode": "clusters", "complete": False, "zoom": zoom, "cell_m": cells.cell_m}
        answer["features"] = _cluster_features(cells, chosen)
        return answer, None

    def _points(self, conn: Connection, table: MapTable, rows: np.ndarray) -> list[dict]:
        fields = point_fields(conn, table.id[rows], self.planner)
        lons, lats = np.round(table.lon[rows], 7).tolist(), np.round(table.lat[rows], 7).tolist()
        features = []
        for pid, lon, lat in zip(table.id[rows].tolist(), lons, lats):
            values = fields.get(pid)
            if values is None:  # erased or hidden since the table was read: the next version drops it
                continue
            properties = {"public_id": values[0], "title": values[1], "category": values[2], "status": values[3]}
            if self.planner:
                properties["hidden"] = bool(values[4])
            features.append(
                {
                    "type": "Feature",
                    "id": values[0],
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": properties,
                }
            )
        return features


def _bounded_zoom(extent: tuple, zoom: int) -> int:
    """Return ``zoom``, or the finest coarser zoom at which ``extent`` spans at most ``MAX_VIEW_CELLS`` cells."""
    min_x, min_y, max_x, max_y = extent
    while zoom > 0:
        cell = cell_size_m(zoom)
        across = (np.floor(max_x / cell) - np.floor(min_x / cell) + 1) * (np.floor(max_y / cell) - np.floor(min_y / cell) + 1)
        if across <= MAX_VIEW_CELLS:
            break
        zoom -= 1
    return zoom


def _cluster_features(cells: GridCells, chosen: np.ndarray) -> list[dict]:
    lons, lats = cells_to_wgs84(cells, chosen)
    assert cells.by_group is not None
    features = []
    for position, lon, lat in zip(chosen.tolist(), np.round(lons, 6).tolist(), np.round(lats, 6).tolist()):
        by_status = cells.by_group[position]
        statuses = {STATUS_ORDER[i]: int(n) for i, n in enumerate(by_status.tolist()) if n}
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "cell": f"{int(cells.column[position])}:{int(cells.row[position])}",
                    "count": int(cells.count[position]),
                    "statuses": statuses,
                },
            }
        )
    return features

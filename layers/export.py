"""Exports of the locality's layers and of the proposals: GeoJSON, CSV, GeoPackage and FlatGeobuf.

Proposals are read from the store one keyset page at a time (``id > last``, by the primary
key index), so an export of 100 000 proposals never holds them all: GeoJSON and CSV are
generators of byte chunks a web response can stream; GeoPackage and FlatGeobuf are written
page by page (GDAL append) into a temporary file that is renamed into place when complete.

Who sees what is decided here and nowhere else. The public view has public fields, status,
public answers and the join results, never a name, an e-mail, support tokens or a hidden
proposal (``channel``, how a proposal reached us, is public). The planner view adds department,
forwarding, the meeting a proposal came from, history, the moderation state (hidden, its
reason, flag count), the photo's address and moderation state (``photo``, ``photo_status``) and the count of services of each kind within the kind's radius; contact details only with ``Audience(contacts=True)`` (admins) and only
for residents who consented. Tables other issues add (answers, forwardings, flags) are used
when ``layers.schema`` declares them and skipped otherwise.

GeoJSON follows RFC 7946 (WGS84 lon/lat, no ``crs`` member, counter-clockwise exterior rings,
at most 7 decimals). CSV is safe to open in a spreadsheet: every text cell that would start a
formula gets a leading ``'`` (``spreadsheet_text``); numbers are written as numbers. Nothing here
knows Flask.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import csv
import io
import os
import sqlite3
import uuid
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, UTC
from pathlib import Path
from collections.abc import Iterable, Iterator

import orjson
from sqlalchemy import Connection, select

from ..geo.crs import SWEREF99TM, WGS84, parse_crs, to_sweref
from ..geo.errors import UserError
from ..geo.generalise import snap_to_grid
from ..geo.io import GEOJSON_DECIMALS, frame_to_features, write_gpkg
from . import photos, proposal_shapes, schema, store, workbook
from .records import ProposalRecord
from .registry import LayerRegistry, UnknownLayer
from .styles import LayerText, Style, layer_style, layer_text, proposal_shapes_style, proposal_shapes_text, proposals_style
from .styles import proposals_text
from ..lazy import lazy_module

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import pyogrio
else:
    gpd = lazy_module("geopandas")
    np = lazy_module("numpy")
    pd = lazy_module("pandas")
    pyogrio = lazy_module("pyogrio")

PROPOSALS = "proposals"
# Line and area proposals, each its own layer for single-type formats (GeoPackage, FlatGeobuf): name -> shape kind.
SHAPE_LAYERS = {"proposals-lines": "line", "proposals-areas": "area"}
SHAPE_GEOMETRY_TYPES = {"line": "LineString", "area": "Polygon"}
SHAPE_LAYER_TITLES = {
    "proposals-lines": {"sv": "Förslag som linjer", "en": "Proposals as lines"},
    "proposals-areas": {"sv": "Förslag som ytor", "en": "Proposals as areas"},
}
PAGE_SIZE = 2000  # proposals per store query for the text formats
FILE_PAGE_SIZE = 5000  # proposals per GDAL append for GeoPackage
FGB_PAGE_SIZE = 10000  # FlatGeobuf rewrites itself on every append: fewer, larger pages
FORMATS = ("geojson", "csv", "gpkg", "fgb")
MEDIA_TYPES = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "gpkg": "application/geopackage+sqlite3",
    "fgb": "application/flatgeobuf",
}
BOM = "\ufeff".encode("utf-8")
METRIC_CRS = (SWEREF99TM, "EPSG:3008")


class ExportError(UserError):
    code = "export_error"


@dataclass(frozen=True)
class Audience:
    """Who an export is for: the public, a planner, or an admin allowed to see contacts."""

    planner: bool = False
    contacts: bool = False  # admins only; rows of residents who did not consent stay empty
    grid_m: float = 0  # public positions snapped to this SWEREF 99 TM grid (config PUBLIC_GRID_M)

    def __post_init__(self):
        if self.contacts and not self.planner:
            raise ValueError("contacts=True needs planner=True")


PUBLIC = Audience()
PLANNER = Audience(planner=True)
ADMIN = Audience(planner=True, contacts=True)


# ----------------------------------------------------------------------- columns
def service_kinds(registry: LayerRegistry) -> list[str]:
    """Return the service kinds that get nearest-service columns: declared first, then any others."""
    declared = list(registry.locality.service_kinds)
    try:
        present = registry.service_index().kinds
    except Exception:  # a broken service layer must not break exports of everything else
        present = []
    return declared + [k for k in present if k not in declared]


def proposal_columns(registry: LayerRegistry, audience: Audience = PUBLIC) -> list[tuple[str, str]]:
    """Return the (name, type) columns of a proposal export; types are str, float, int, bool, datetime."""
    columns = [
        ("id", "str"),
        ("category", "str"),
        ("category_label", "str"),
        ("title", "str"),
        ("description", "str"),
        ("channel", "str"),
        ("status", "str"),
        ("status_note", "str"),
        ("created_at", "datetime"),
        ("updated_at", "datetime"),
        ("support_count", "int"),
        ("area_ids", "str"),
        ("area_names", "str"),
    ]
    for kind in service_kinds(registry):
        columns += [(f"nearest_{kind}", "str"), (f"nearest_{kind}_m", "float")]
    columns += [("answer", "str"), ("answered_at", "datetime"), ("answer_count", "int"), ("answer_department", "str")]
    columns += proposal_shapes.EXPORT_COLUMNS
    if audience.planner:
        columns += [
            ("department", "str"),
            ("also_departments", "str"),
            ("meeting", "str"),
            ("round", "str"),
            ("hidden", "bool"),
            ("hidden_reason", "str"),
            ("status_history", "str"),
            ("forwarding", "str"),
            ("flag_count", "int"),
            ("photo", "str"),
            ("photo_status", "str"),
        ]
        for kind in service_kinds(registry):
            columns += [(f"within_{kind}", "int"), (f"within_{kind}_radius_m", "float")]
    if audience.contacts:
        columns += [("contact_name", "str"), ("contact_email", "str")]
    return columns


# ------------------------------------------------------------------ reading pages
def _extra_for(conn: Connection, ids: list[int], audience: Audience) -> dict:
    """Return per-proposal values from the answer and planner-only tables, keyed by name then id."""
    extra: dict[str, dict] = {}
    if not ids:
        return extra
    notes = {}
    for row in conn.execute(
        select(schema.status_history)
        .where(schema.status_history.c.proposal_id.in_(ids))
        .order_by(schema.status_history.c.changed_at, schema.status_history.c.id)
    ):
        if row.note:
            notes[row.proposal_id] = row.note  # the latest public reason wins
        if audience.planner:
            line = f"{_iso(row.changed_at)} {row.status} ({row.role})" + (f": {row.note}" if row.note else "")
            extra.setdefault("status_history", {}).setdefault(row.proposal_id, []).append(line)
    extra["status_note"] = notes
    answers = schema.answers.c  # every answer is public: the latest one, its time and department, and a count
    latest: dict[int, str] = {}
    at: dict[int, datetime | None] = {}
    count: dict[int, int] = {}
    department: dict[int, str | None] = {}
    for row in conn.execute(select(schema.answers).where(answers.proposal_id.in_(ids)).order_by(answers.answered_at, answers.id)):
        latest[row.proposal_id], at[row.proposal_id] = row.body, store.aware(row.answered_at)
        count[row.proposal_id] = count.get(row.proposal_id, 0) + 1
        department[row.proposal_id] = row.department
    extra.update(answer=latest, answered_at=at, answer_count=count, answer_department=department)
    extra.update(proposal_shapes.export_values(conn, ids))
    if audience.planner:
        forwardings = schema.forwardings.c
        lines: dict[int, list[str]] = {}
        for row in conn.execute(
            select(schema.forwardings).where(forwardings.proposal_id.in_(ids)).order_by(forwardings.forwarded_at, forwardings.id)
        ):
            lines.setdefault(row.proposal_id, []).append(_forwarding_line(row))
        extra["forwarding"] = lines
        flags: dict[int, int] = {}
        for proposal_id in conn.execute(select(schema.flags.c.proposal_id).where(schema.flags.c.proposal_id.in_(ids))).scalars():
            flags[proposal_id] = flags.get(proposal_id, 0) + 1
        extra["flag_count"] = flags
        stored = photos.by_ids(conn, ids)  # the URL path of a photo's file, any state but rejected (its file is gone)
        extra["photo"] = {pid: photos.url_path(p) for pid, p in stored.items() if p.status != "rejected"}
        extra["photo_status"] = {pid: p.status for pid, p in stored.items()}
        extra["round"] = workbook.rounds_of(conn, ids)
    if audience.contacts:
        names, emails = {}, {}
        for row in conn.execute(select(schema.contacts).where(schema.contacts.c.proposal_id.in_(ids))):
            if row.consent_at is not None:  # contact details only with consent
                names[row.proposal_id], emails[row.proposal_id] = row.name, row.email
        extra.update(contact_name=names, contact_email=emails)
    return extra


def _forwarding_line(row) -> str:
    """One forwarding as planners read it: time, from -> to (or "confirmed" and the department), the role, the note (no user)."""
    if row.action == "confirm" or row.from_department == row.to_department:
        line = f"{_iso(row.forwarded_at)} confirmed {row.to_department} role={row.role}"
    else:
        line = f"{_iso(row.forwarded_at)} {row.from_department or '?'} -> {row.to_department} role={row.role}"
    return line + (f": {row.note}" if row.note else "")


def _iso(value) -> str:
    value = store.aware(value)
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else ("" if value is None else str(value))


def iter_proposal_rows(
    engine, registry: LayerRegistry, audience: Audience = PUBLIC, page_size: int = PAGE_SIZE
) -> Iterator[list[dict]]:
    """Yield pages of flat proposal rows (the export columns plus ``lon``/``lat``), id order.

    Each page is one keyset query; hidden proposals are left out unless ``audience.planner``.
    """
    for rows, _shapes in iter_proposal_pages(engine, registry, audience, page_size):
        yield rows


def iter_proposal_pages(
    engine, registry: LayerRegistry, audience: Audience = PUBLIC, page_size: int = PAGE_SIZE, kind: str | None = None
) -> Iterator[tuple[list[dict], dict]]:
    """Yield ``(rows, shapes)`` pages: the rows of ``iter_proposal_rows`` and the lines and areas among them by
    public id (``kind``: only the rows of that shape kind, ``line`` or ``area``)."""
    after = 0
    context = RowContext.of(registry, audience)
    with engine.connect() as conn:
        while True:
            records = store.page_proposals(conn, after_id=after, limit=page_size, include_hidden=audience.planner)
            if not records:
                return
            after = records[-1]["id"]
            shapes = proposal_shapes.shapes_of(conn, [r["id"] for r in records])
            by_public_id = {r["public_id"]: shapes[r["id"]] for r in records if r["id"] in shapes}
            rows = rows_for_records(conn, context, records)
            yield ([row for row in rows if row["geometry_kind"] == kind] if kind else rows), by_public_id
            if len(records) < page_size:
                return


@dataclass(frozen=True)
class RowContext:
    """What turning store records into export rows needs, computed once per export."""

    registry: LayerRegistry
    audience: Audience
    columns: tuple
    kinds: tuple
    area_names: dict

    @classmethod
    def of(cls, registry: LayerRegistry, audience: Audience = PUBLIC) -> "RowContext":
        areas = registry.areas()
        names = dict(zip(areas["id"], areas["name"])) if "name" in areas else {}
        columns = tuple(name for name, _type in proposal_columns(registry, audience))
        return cls(registry, audience, columns, tuple(service_kinds(registry)), names)


def rows_for_records(conn: Connection, context: RowContext, records: list[ProposalRecord]) -> list[dict]:
    """Return flat export rows (``lon``, ``lat`` and the audience's columns) for store records."""
    audience, locality = context.audience, context.registry.locality
    extra = _extra_for(conn, [r["id"] for r in records], audience)
    if audience.grid_m and not audience.planner:
        records = [record.copy() for record in records]
        _generalise(records, audience.grid_m)
    page = []
    for r in records:
        pid = r["id"]
        category = locality.category(r["category"])
        row = {
            "id": r["public_id"],
            "lon": r["lon"],
            "lat": r["lat"],
            "category": r["category"],
            "category_label": category.label("sv") if category else r["category"],
            "title": r["title"],
            "description": r["description"],
            "channel": r["channel"],
            "status": r["status"],
            "created_at": r["created_at"],
            "updated_at": r["updated_at"],
            "support_count": r["support_count"],
            "area_ids": ";".join(r["area_ids"]),
            "area_names": ";".join(str(context.area_names.get(a, a)) for a in r["area_ids"]),
        }
        for kind in context.kinds:
            near = r["nearest"].get(kind)
            row[f"nearest_{kind}"] = near["name"] if near else None
            row[f"nearest_{kind}_m"] = near["distance_m"] if near else None
        if audience.planner:
            row.update(
                department=r["department"],
                also_departments=r["also_departments"],
                meeting=r["meeting"],
                hidden=bool(r["hidden"]),
                hidden_reason=r["hidden_reason"],
            )
            for kind in context.kinds:
                within = r["within"].get(kind)
                row[f"within_{kind}"] = within["count"] if within else None
                row[f"within_{kind}_radius_m"] = within["radius_m"] if within else None
        for name, values in extra.items():  # status_note, answers, shapes; for planners history, forwardings, flags, ...
            value = values.get(pid)
            if isinstance(value, list):
                value = "; ".join(value)
            if name in ("answer_count", "flag_count"):
                value = value or 0
            row[name] = value
        page.append({"lon": row["lon"], "lat": row["lat"], **{c: row.get(c) for c in context.columns}})
    return page


def _generalise(records: list[ProposalRecord], grid_m: float) -> None:
    """Snap public positions to the grid and round distances to it, so neither gives a house away."""
    lon, lat = snap_to_grid(np.array([r["lon"] for r in records]), np.array([r["lat"] for r in records]), grid_m)
    for record, x, y in zip(records, lon, lat):
        record["lon"], record["lat"] = float(x), float(y)
        record["nearest"] = {
            kind: {**near, "distance_m": float(round(near["distance_m"] / grid_m) * grid_m)}
            for kind, near in record["nearest"].items()
        }


def _layer(registry: LayerRegistry, name: str, audience: Audience):
    layer = registry.get(name)
    if not layer.public and not audience.planner:
        raise UnknownLayer(name)  # non-public layers do not exist for the public
    return layer


def exportable_layers(registry: LayerRegistry, audience: Audience = PUBLIC) -> list[str]:
    """Return the names that can be exported: the public (or all) declared layers, ``proposals`` and its lines and areas."""
    return [layer.name for layer in registry if layer.public or audience.planner] + [PROPOSALS, *SHAPE_LAYERS]


def check_layer(registry: LayerRegistry, name: str, audience: Audience = PUBLIC) -> None:
    """Raise ``UnknownLayer`` unless ``name`` can be exported for ``audience``."""
    if name != PROPOSALS and name not in SHAPE_LAYERS:
        _layer(registry, name, audience)


# ------------------------------------------------------------------------ GeoJSON
def iter_geojson(
    engine, registry: LayerRegistry, name: str, audience: Audience = PUBLIC, page_size: int = PAGE_SIZE
) -> Iterator[bytes]:
    """Yield an RFC 7946 FeatureCollection of a layer or of the proposals as byte chunks.

    The proposals carry mixed geometries: a point, or the line or area that was drawn.
    """
    if name != PROPOSALS and name not in SHAPE_LAYERS:
        frame = registry.frame(_layer(registry, name, audience).name)
        features = frame_to_features(frame)  # ids from an "id" column, where the layer has one
        yield b'{"type":"FeatureCollection","features":['
        for start in range(0, len(features), page_size):
            chunk = b",".join(orjson.dumps(f) for f in features[start : start + page_size])
            yield (b"," if start else b"") + chunk
        yield b"]}"
        return
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for page, shapes in iter_proposal_pages(engine, registry, audience, page_size, SHAPE_LAYERS.get(name)):
        if not page:
            continue
        chunk = b",".join(orjson.dumps(_proposal_feature(row, shapes.get(row["id"]))) for row in page)
        yield chunk if first else b"," + chunk
        first = False
    yield b"]}"


def _proposal_feature(row: dict, shape: proposal_shapes.ProposalShape | None = None) -> dict:
    properties = {k: v for k, v in row.items() if k not in ("lon", "lat")}
    point = {"type": "Point", "coordinates": [round(row["lon"], GEOJSON_DECIMALS), round(row["lat"], GEOJSON_DECIMALS)]}
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": proposal_shapes.geojson(shape.geometry) if shape else point,
        "properties": properties,
    }


# ---------------------------------------------------------------------------- CSV
# OWASP's CSV injection rule: a cell starting with one of these is read as a formula (or, for tab
# and carriage return, can hide one) by Excel, LibreOffice and Google Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """Return ``text`` as a spreadsheet shows it literally: prefixed with ``'`` if it could start a formula."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _csv_value(value, decimals: int | None = None) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and decimals is not None:
        return f"{value:.{decimals}f}"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return str(value)  # a number, negative ones included, stays a number
    return spreadsheet_text(str(value))


def _csv_chunk(rows: Iterable[list]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def iter_csv(
    engine, registry: LayerRegistry, name: str, audience: Audience = PUBLIC, bom: bool = False, page_size: int = PAGE_SIZE
) -> Iterator[bytes]:
    """Yield CSV (UTF-8, optional BOM for Excel) with lon, lat, SWEREF 99 TM easting/northing first.

    Proposals add development area names, nearest-service columns and every public field;
    other layers add their fields, and polygons a WKT column (WGS84) besides a point on the surface.
    """
    if bom:
        yield BOM
    if name != PROPOSALS and name not in SHAPE_LAYERS:
        yield from _layer_csv(registry, _layer(registry, name, audience).name, page_size)
        return
    typed = proposal_columns(registry, audience)
    columns = [c for c, _t in typed]
    formats = [_CSV_FORMATS.get(kind, _csv_value) for _c, kind in typed]
    yield _csv_chunk([["lon", "lat", "easting", "northing", *columns]])
    for page, _shapes in iter_proposal_pages(engine, registry, audience, page_size, SHAPE_LAYERS.get(name)):
        lon = np.fromiter((r["lon"] for r in page), float, len(page))
        lat = np.fromiter((r["lat"] for r in page), float, len(page))
        easting, northing = to_sweref(lon, lat)
        yield _csv_chunk(
            [f"{r['lon']:.7f}", f"{r['lat']:.7f}", f"{e:.2f}", f"{n:.2f}", *(fmt(r[c]) for c, fmt in zip(columns, formats))]
            for r, e, n in zip(page, easting, northing)
        )


def _csv_text(value) -> str:
    return "" if value is None else spreadsheet_text(value) if isinstance(value, str) else _csv_value(value)


def _csv_metres(value) -> str:
    return "" if value is None or value != value else f"{value:.1f}"


_CSV_FORMATS = {"str": _csv_text, "float": _csv_metres, "int": _csv_value, "bool": _csv_value, "datetime": _csv_value}


def _layer_csv(registry: LayerRegistry, name: str, page_size: int) -> Iterator[bytes]:
    frame = registry.frame(name)
    points = frame.geometry.representative_point() if (frame.geom_type != "Point").any() else frame.geometry
    fields = [c for c in frame.columns if c != frame.geometry.name]
    with_wkt = (frame.geom_type != "Point").any()
    header = ["lon", "lat", "easting", "northing", *map(spreadsheet_text, map(str, fields))] + (["wkt"] if with_wkt else [])
    yield _csv_chunk([header])
    if not len(frame):
        return
    lon, lat = points.x.to_numpy(), points.y.to_numpy()
    easting, northing = to_sweref(lon, lat)
    wkt = frame.geometry.to_wkt(rounding_precision=GEOJSON_DECIMALS) if with_wkt else None
    for start in range(0, len(frame), page_size):
        stop = min(start + page_size, len(frame))
        rows = []
        for i in range(start, stop):
            row = [
                f"{lon[i]:.7f}",
                f"{lat[i]:.7f}",
                f"{easting[i]:.2f}",
                f"{northing[i]:.2f}",
                *(_csv_value(_plain(frame[f].iat[i])) for f in fields),
            ]
            if wkt is not None:
                row.append(wkt.iat[i])
            rows.append(row)
        yield _csv_chunk(rows)


def _plain(value):
    return None if value is pd.NaT or (not isinstance(value, (list, dict, str)) and pd.isna(value)) else value


# ------------------------------------------------------- GeoPackage and FlatGeobuf
def _page_frame(page: list[dict], columns: list[tuple[str, str]], crs: str, shapes: dict | None = None) -> gpd.GeoDataFrame:
    data = {}
    for name, kind in columns:
        values = [row[name] for row in page]
        if kind == "float":
            data[name] = pd.Series(values, dtype="float64")
        elif kind == "int":
            data[name] = pd.Series(values, dtype="int64")
        elif kind == "bool":
            data[name] = pd.Series(values, dtype="bool")
        elif kind == "datetime":
            data[name] = pd.to_datetime(pd.Series(values, dtype="object"), utc=True).astype("datetime64[ms, UTC]")
        else:
            data[name] = pd.Series(values, dtype="object")
    lon = np.fromiter((r["lon"] for r in page), float, len(page))
    lat = np.fromiter((r["lat"] for r in page), float, len(page))
    if shapes is None:
        geometry = gpd.points_from_xy(lon, lat)
    else:  # a line or area layer: each row's drawn shape
        geometry = gpd.GeoSeries([shapes[row["id"]].geometry for row in page])
    return gpd.GeoDataFrame(data, geometry=geometry, crs=WGS84).to_crs(parse_crs(crs))  # a no-op for WGS84


def _write_proposals(
    engine,
    registry,
    path: Path,
    driver: str,
    layer: str,
    crs: str,
    audience: Audience,
    page_size: int,
    kind: str | None = None,
) -> int:
    """Write the proposals as points (``kind`` None: every proposal at its point) or the lines or areas drawn.

    A GeoPackage table's title and abstract are written after it, with the other layers' (``_write_texts``).
    """
    columns = proposal_columns(registry, audience)
    geometry_type = SHAPE_GEOMETRY_TYPES[kind] if kind else "Point"
    count, append = 0, False
    for page, shapes in iter_proposal_pages(engine, registry, audience, page_size, kind):
        if not page:
            continue
        pyogrio.write_dataframe(
            _page_frame(page, columns, crs, shapes if kind else None),
            path,
            layer=layer,
            driver=driver,
            append=append,
            geometry_type=geometry_type,
        )
        append, count = True, count + len(page)
    if not append:  # no proposals yet: still write the layer with its columns
        pyogrio.write_dataframe(_page_frame([], columns, crs), path, layer=layer, driver=driver, geometry_type=geometry_type)
    return count


def table_name(name: str) -> str:
    """Return the GeoPackage table name of a layer (SQL-friendly: underscores, not hyphens)."""
    return name.replace("-", "_")


def write_gpkg_export(
    engine,
    registry: LayerRegistry,
    path,
    crs: str = SWEREF99TM,
    audience: Audience = PUBLIC,
    names: Iterable[str] | None = None,
    page_size: int = FILE_PAGE_SIZE,
    now=None,
) -> dict:
    """Write one GeoPackage with the layers and the proposals (joins included) and their QGIS styles.

    Every layer is in ``crs`` (EPSG:3006 by default; EPSG:3008 is the other choice), has a title
    and an abstract in ``gpkg_contents`` and a default style in ``layer_styles``, each style row
    with the time it was written. The file is a GeoPackage 1.2 (``GPKG_VERSION``), which GDAL 3.6 and
    QGIS 3.22 open without a warning. The file appears at ``path`` only when complete.
    Returns ``{table name: feature count}``.
    """
    if not any(parse_crs(crs) == parse_crs(c) for c in METRIC_CRS):
        raise ExportError(
            f"GeoPackage-exporten skrivs i EPSG:3006 eller EPSG:3008, inte {crs}.",
            f"The GeoPackage export is written in EPSG:3006 or EPSG:3008, not {crs}.",
        )
    path = Path(path)
    names = list(names) if names is not None else exportable_layers(registry, audience)
    if PROPOSALS in names:  # the proposals are three layers: points (every proposal), lines and areas
        names = list(dict.fromkeys(n for name in names for n in ([name, *SHAPE_LAYERS] if name == PROPOSALS else [name])))
    for name in names:
        check_layer(registry, name, audience)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp.gpkg")
    counts, styles, texts = {}, [], {}
    locality = registry.locality
    clock = _StyleClock(now)
    crs_name = f"EPSG:{parse_crs(crs).to_epsg()}"
    try:
        _create_gpkg(temp)
        for name in names:
            table = table_name(name)
            if name == PROPOSALS:
                counts[table] = _write_proposals(engine, registry, temp, "GPKG", table, crs, audience, page_size)
                texts[table] = proposals_text(locality, counts[table], audience.planner, crs_name, clock.started)
                styles.append((table, proposals_style(locality), clock.tick()))
                continue
            if name in SHAPE_LAYERS:
                kind = SHAPE_LAYERS[name]
                text = proposal_shapes_text(locality, kind, audience.planner)
                counts[table] = _write_proposals(engine, registry, temp, "GPKG", table, crs, audience, page_size, kind)
                texts[table] = text
                styles.append((table, proposal_shapes_style(name, kind, locality), clock.tick()))
                continue
            layer = registry.get(name)
            frame = registry.frame(name)
            write_gpkg(frame, temp, layer=table, crs=crs)  # its title and abstract: _write_texts
            counts[table] = len(frame)
            texts[table] = layer_text(layer, locality, len(frame))
            styles.append((table, layer_style(layer, locality), clock.tick()))
        _write_styles(temp, styles)
        _write_texts(temp, texts)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return counts


# --------------------------------------------------- GeoPackage: styles and texts
GPKG_VERSION = "1.2"  # GDAL >= 3.7 writes 1.4 by default, which GDAL 3.6 (QGIS 3.22 on Debian 12) warns about


class _StyleClock:
    """UTC times for the ``layer_styles`` rows: when each style was written, strictly increasing (by 1 ms at least).

    ``now`` fixes the first time (tests); the rest follow it a millisecond apart.
    """

    def __init__(self, now=None):
        self.fixed = now is not None
        start = pd.Timestamp(now or datetime.now(UTC)).tz_convert("UTC").floor("ms")
        self.last = start - pd.Timedelta(1, "ms")
        self.started = start.strftime("%Y-%m-%d %H:%M UTC")

    def tick(self) -> pd.Timestamp:
        wall = self.last if self.fixed else pd.Timestamp(datetime.now(UTC)).floor("ms")
        self.last = max(wall, self.last + pd.Timedelta(1, "ms"))
        if self.last.microsecond == 0:
            # GDAL writes a whole second without its ".000", which GeoPackage's DATETIME format
            # requires and GDAL 3.6 (QGIS 3.22) warns about when it reads the file: skip that instant.
            self.last += pd.Timedelta(1, "ms")
        return self.last


def _style_rows(styles: list) -> pd.DataFrame:
    """QGIS's ``layer_styles`` columns, with one default style per layer."""
    return pd.DataFrame(
        {
            "f_table_catalog": pd.Series([""] * len(styles), dtype="object"),
            "f_table_schema": pd.Series([""] * len(styles), dtype="object"),
            "f_table_name": pd.Series([table for table, _s, _t in styles], dtype="object"),
            "f_geometry_column": pd.Series(["geom"] * len(styles), dtype="object"),
            "styleName": pd.Series([s.name for _t, s, _u in styles], dtype="object"),
            "styleQML": pd.Series([s.qml for _t, s, _u in styles], dtype="object"),
            "styleSLD": pd.Series([s.sld for _t, s, _u in styles], dtype="object"),
            "useAsDefault": pd.Series([True] * len(styles), dtype="bool"),
            "description": pd.Series([s.description for _t, s, _u in styles], dtype="object"),
            "owner": pd.Series(["dialogkarta"] * len(styles), dtype="object"),
            "ui": pd.Series([None] * len(styles), dtype="object"),
            "update_time": pd.Series([t for _t, _s, t in styles], dtype="datetime64[ms, UTC]"),
        }
    )


def _create_gpkg(path: Path) -> None:
    """Create the GeoPackage in ``GPKG_VERSION`` with an empty ``layer_styles`` table; layers are added after."""
    pyogrio.write_dataframe(_style_rows([]), path, layer="layer_styles", driver="GPKG", dataset_options={"VERSION": GPKG_VERSION})


def _write_styles(path: Path, styles: list) -> None:
    """Fill ``layer_styles``: ``styles`` is (table, ``Style``, update time) triples."""
    pyogrio.write_dataframe(_style_rows(styles), path, layer="layer_styles", driver="GPKG", append=True)


def _write_texts(path: Path, texts: dict) -> None:
    """Put each table's title and abstract in ``gpkg_contents`` (``identifier``, ``description``), where QGIS reads them.

    ``identifier`` is unique in a GeoPackage: a title two layers share gets the table name added.
    """
    rows, used = [], set()
    for table, text in texts.items():
        title = text.title if text.title not in used else f"{text.title} ({table})"
        used.add(title)
        rows.append((title, text.abstract, table))
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.executemany("UPDATE gpkg_contents SET identifier = ?, description = ? WHERE table_name = ?", rows)


def write_fgb_export(
    engine,
    registry: LayerRegistry,
    name: str,
    path,
    crs: str = WGS84,
    audience: Audience = PUBLIC,
    page_size: int = FGB_PAGE_SIZE,
) -> int:
    """Write one layer (or the proposals) as FlatGeobuf in ``crs``; return the feature count."""
    check_layer(registry, name, audience)
    path = Path(path)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp.fgb")
    try:
        if name == PROPOSALS or name in SHAPE_LAYERS:
            kind = SHAPE_LAYERS.get(name)
            count = _write_proposals(engine, registry, temp, "FlatGeobuf", table_name(name), crs, audience, page_size, kind)
        else:
            frame = registry.frame(name)
            pyogrio.write_dataframe(frame.to_crs(parse_crs(crs)), temp, layer=table_name(name), driver="FlatGeobuf")
            count = len(frame)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return count


# ------------------------------------------------------------------- to a file
def export_to_file(
    engine,
    registry: LayerRegistry,
    name: str,
    fmt: str,
    path,
    crs: str | None = None,
    bom: bool = False,
    audience: Audience = PUBLIC,
) -> int:
    """Export ``name`` (a layer, ``proposals``, or ``all`` for GeoPackage) to ``path``; return the count.

    GeoJSON and CSV are streamed to the file; the file appears only when complete.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    path = Path(path)
    if fmt == "gpkg":
        names = None if name == "all" else [name]
        return sum(write_gpkg_export(engine, registry, path, crs or SWEREF99TM, audience, names).values())
    if name == "all":
        raise ExportError(
            "Alla lager i en fil finns bara som GeoPackage (--format gpkg).",
            "All layers in one file is only available as GeoPackage (--format gpkg).",
        )
    if fmt == "fgb":
        return write_fgb_export(engine, registry, name, path, crs or WGS84, audience)
    if crs is not None and parse_crs(crs) != parse_crs(WGS84):
        raise ExportError(
            f"{fmt.upper()} skrivs alltid i WGS84 (CSV har även SWEREF 99 TM-kolumner).",
            f"{fmt.upper()} is always written in WGS84 (CSV also has SWEREF 99 TM columns).",
        )
    check_layer(registry, name, audience)
    chunks = (
        iter_geojson(engine, registry, name, audience) if fmt == "geojson" else iter_csv(engine, registry, name, audience, bom)
    )
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temp, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return count_features(engine, registry, name, audience)


def count_features(engine, registry: LayerRegistry, name: str, audience: Audience = PUBLIC) -> int:
    """Return how many features an export of ``name`` holds."""
    if name in SHAPE_LAYERS:
        return sum(len(page) for page, _shapes in iter_proposal_pages(engine, registry, audience, kind=SHAPE_LAYERS[name]))
    if name != PROPOSALS:
        return len(registry.frame(name))
    with engine.connect() as conn:
        return store.count_page_proposals(conn, include_hidden=audience.planner)


def csv_table(header: list[str], rows: Iterable[list], bom: bool = False) -> bytes:
    """A small table (the planner's filtered table) as CSV, every text cell guarded against formulas like the exports."""
    return (BOM if bom else b"") + _csv_chunk([[_csv_value(cell) for cell in row] for row in [header, *rows]])


def new_gpkg(path: Path) -> None:
    """Start a GeoPackage as the exports do (version 1.2, which QGIS 3.22 reads without a warning); add layers after."""
    _create_gpkg(Path(path))


def describe_gpkg(path: Path, styles: dict[str, Style], texts: dict[str, LayerText], now=None) -> None:
    """Give the tables of a GeoPackage written elsewhere their default QGIS styles and their titles and abstracts."""
    clock = _StyleClock(now)
    _write_styles(Path(path), [(table, style, clock.tick()) for table, style in styles.items()])
    _write_texts(Path(path), texts)

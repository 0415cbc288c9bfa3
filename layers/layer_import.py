"""Importing a planner's plan layer (GeoPackage, Shapefile, GeoJSON, FlatGeobuf) in place of a bundled one.

The file may be in any CRS it declares (typically SWEREF 99 TM or the local EPSG:3008); a
file that declares none is refused unless the caller states one. Every check runs before
anything is written: size, readability, feature count, geometry type, position (near the
locality, which catches a wrong CRS), required properties and unique ids. Polygons are
repaired with ``geo.validate.repair_polygons`` and every repair is reported.

Only then is the layer written, in WGS84, to a temporary file in the override folder and
renamed to ``<override_dir>/<name>.gpkg`` (the registry prefers that file); the version it
replaces is kept as ``<override_dir>/history/<name>-<UTC timestamp>.gpkg``. The registry is
invalidated and every proposal's joins recomputed in one transaction; if that fails, the
previous file is put back. A bad file therefore changes nothing. No Flask here.
"""
from __future__ import annotations

import os
import shutil
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from sqlalchemy import delete, insert

from ..geo.crs import SWEREF99TM, WGS84, parse_crs, to_metric, to_wgs84
from ..geo.errors import GeoError, InvalidGeometry, MissingCRS, OutsideLocality
from ..geo.io import read_layer, read_layer_native
from ..geo.joins import AreaIndex, ServiceIndex
from ..geo.validate import Repair, repair_polygons
from . import proposals, store
from .registry import LayerRegistry, UnknownLayer
from .schema import proposal_areas, proposal_services

MAX_BYTES = 500 * 1024 * 1024
MAX_DISTANCE_M = 20_000   # a layer lying wholly farther than this from the locality is refused
SUFFIXES = (".gpkg", ".shp", ".zip", ".geojson", ".json", ".fgb")
REQUIRED = {"areas": ("id", "name"), "services": ("id", "name", "kind")}
JOIN_CHUNK = 1000


class LayerImportError(GeoError):
    code = "layer_import"


class LayerTooLarge(LayerImportError):
    code = "layer_too_large"


class EmptyLayer(LayerImportError):
    code = "empty_layer"


class WrongGeometryType(InvalidGeometry):
    code = "wrong_geometry_type"


class LayerOutsideLocality(OutsideLocality):
    code = "layer_outside_locality"


class MissingProperty(LayerImportError):
    code = "missing_property"


class UnsupportedFile(LayerImportError):
    code = "unsupported_file"


class UnknownTarget(LayerImportError):
    code = "unknown_target_layer"


@dataclass
class ImportReport:
    """What an import did: counts, the source CRS, repairs, notes, and where the old version went."""

    layer: str
    features: int
    source_crs: str
    repairs: list[Repair] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    path: Path | None = None
    previous: Path | None = None
    proposals_rejoined: int = 0

    def lines(self) -> list[str]:
        out = [f"{self.layer}: {self.features} objekt/features from {self.source_crs} -> {self.path}"]
        out += [f"  lagad/repaired: feature {r.index}: {r.reason} ({r.before_type} -> {r.after_type})" for r in self.repairs]
        out += [f"  {note}" for note in self.notes]
        if self.previous:
            out.append(f"  föregående version sparad / previous version kept: {self.previous}")
        out.append(f"  anslutningar omräknade / joins recomputed: {self.proposals_rejoined} proposals")
        return out


def parse_mapping(pairs) -> dict[str, str]:
    """Return ``{target: source}`` from ``["name=PLANNAMN", ...]``."""
    mapping = {}
    for pair in pairs or ():
        target, sep, source = str(pair).partition("=")
        if not sep or not target.strip() or not source.strip():
            raise LayerImportError(
                f"Ogiltig mappning {pair!r}: skriv fält=KÄLLKOLUMN, t.ex. name=PLANNAMN.",
                f"Invalid mapping {pair!r}: write field=SOURCECOLUMN, e.g. name=PLANNAMN.",
            )
        mapping[target.strip()] = source.strip()
    return mapping


def _check_size(path: Path, max_bytes: int) -> None:
    if not path.exists():
        raise UnsupportedFile(f"Filen {path.name} finns inte.", f"The file {path.name} does not exist.")
    if path.suffix.lower() not in SUFFIXES:
        raise UnsupportedFile(
            f"Filtypen {path.suffix or '(ingen)'} stöds inte. Använd GeoPackage, Shapefile (.shp eller .zip), GeoJSON eller FlatGeobuf.",
            f"The file type {path.suffix or '(none)'} is not supported. Use GeoPackage, Shapefile (.shp or .zip), GeoJSON or FlatGeobuf.",
        )
    size = path.stat().st_size
    if path.suffix.lower() == ".shp":  # the attributes and index travel beside it
        size += sum(p.stat().st_size for p in path.parent.glob(path.stem + ".*") if p != path)
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                size = max(size, sum(info.file_size for info in archive.infolist()))  # unpacked, not packed
        except zipfile.BadZipFile:
            raise UnsupportedFile(f"{path.name} är ingen giltig zip-fil.", f"{path.name} is not a valid zip file.") from None
    if size > max_bytes:
        raise LayerTooLarge(
            f"Filen är för stor: {size / 1e6:.0f} MB, högst {max_bytes / 1e6:.0f} MB.",
            f"The file is too large: {size / 1e6:.0f} MB, at most {max_bytes / 1e6:.0f} MB.",
        )


def _crs_name(crs) -> str:
    epsg = crs.to_epsg(min_confidence=70)
    return f"EPSG:{epsg}" if epsg else crs.name


def _map_properties(frame: gpd.GeoDataFrame, mapping: dict, required: tuple, notes: list) -> gpd.GeoDataFrame:
    columns = {c for c in frame.columns if c != frame.geometry.name}
    missing_sources = [s for s in mapping.values() if s not in columns]
    if missing_sources:
        raise MissingProperty(
            f"Kolumnen {', '.join(missing_sources)} finns inte i filen. Kolumner: {', '.join(sorted(columns))}.",
            f"The column {', '.join(missing_sources)} is not in the file. Columns: {', '.join(sorted(columns))}.",
        )
    renames = {source: target for target, source in mapping.items()}
    lower = {c.lower(): c for c in columns}
    for target in required:  # PLANNAMN-style upper-case shapefile columns match without a mapping
        if target not in mapping and target not in columns and target.lower() in lower:
            renames[lower[target.lower()]] = target
    frame = frame.rename(columns=renames)
    if "id" in required and "id" not in frame:
        frame = frame.copy()
        frame["id"] = [f"imported-{i + 1}" for i in range(len(frame))]
        notes.append("ingen id-kolumn: id skapade som imported-1, imported-2, ... / no id column: ids generated")
    missing = [name for name in required if name not in frame]
    if missing:
        available = ", ".join(sorted(c for c in frame.columns if c != frame.geometry.name)) or "(inga/none)"
        raise MissingProperty(
            f"Egenskapen {', '.join(missing)} saknas. Ange vilken kolumn den finns i, t.ex. --map {missing[0]}=KOLUMN. "
            f"Kolumner i filen: {available}.",
            f"The property {', '.join(missing)} is missing. Say which column holds it, e.g. --map {missing[0]}=COLUMN. "
            f"Columns in the file: {available}.",
        )
    for name in required:
        empty = frame[name].isna() | (frame[name].astype(str).str.strip() == "")
        if empty.any():
            raise MissingProperty(
                f"Egenskapen {name} är tom för {int(empty.sum())} objekt.",
                f"The property {name} is empty for {int(empty.sum())} features.",
            )
    if "id" in frame:
        frame = frame.copy()
        frame["id"] = frame["id"].map(_id_text)
        duplicates = sorted(set(frame["id"][frame["id"].duplicated()]))
        if duplicates:
            raise MissingProperty(
                f"Id måste vara unika; dubbletter: {', '.join(duplicates[:5])}.",
                f"Ids must be unique; duplicates: {', '.join(duplicates[:5])}.",
            )
    return frame


def _id_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _check_geometry(frame: gpd.GeoDataFrame, geometry_type: str, report: ImportReport) -> gpd.GeoDataFrame:
    polygonal = "polygon" in geometry_type.lower()
    kinds = set(frame.geom_type.dropna())
    if polygonal:
        try:
            frame, repairs = repair_polygons(frame)
        except InvalidGeometry as exc:
            if kinds and not kinds <= {"Polygon", "MultiPolygon"}:
                raise WrongGeometryType(
                    f"Lagret ska innehålla ytor, men filen innehåller {', '.join(sorted(kinds))}.",
                    f"The layer must contain polygons, but the file contains {', '.join(sorted(kinds))}.",
                ) from None
            raise exc
        report.repairs = repairs
        return frame
    missing = frame.geometry.isna() | frame.geometry.is_empty
    if missing.any():
        raise InvalidGeometry(f"{int(missing.sum())} objekt saknar geometri.", f"{int(missing.sum())} features have no geometry.")
    if kinds == {"MultiPoint"} or kinds == {"Point", "MultiPoint"}:
        parts = shapely.get_num_geometries(frame.geometry.to_numpy())
        if (parts == 1).all():
            frame = frame.set_geometry(gpd.GeoSeries(shapely.get_geometry(frame.geometry.to_numpy(), 0), index=frame.index, crs=frame.crs))
            report.notes.append("MultiPoint med en punkt gjorda till Point / single-part MultiPoints made Points")
            kinds = {"Point"}
    if kinds != {"Point"}:
        raise WrongGeometryType(
            f"Lagret ska innehålla punkter, men filen innehåller {', '.join(sorted(kinds))}.",
            f"The layer must contain points, but the file contains {', '.join(sorted(kinds))}.",
        )
    return frame


def _check_position(frame: gpd.GeoDataFrame, registry: LayerRegistry, source_crs: str) -> None:
    bounds = frame.total_bounds
    if not np.all(np.isfinite(bounds)) or bounds[0] < -180 or bounds[2] > 180 or bounds[1] < -90 or bounds[3] > 90:
        raise LayerOutsideLocality(
            f"Koordinaterna går inte att tolka i {source_crs}. Stämmer koordinatsystemet?",
            f"The coordinates make no sense in {source_crs}. Is the coordinate reference system right?",
        )
    boundary = gpd.GeoSeries([registry.boundary()], crs=WGS84).to_crs(SWEREF99TM).iloc[0]
    extent = gpd.GeoSeries([shapely.box(*bounds)], crs=WGS84).to_crs(SWEREF99TM).iloc[0]
    distance = extent.distance(boundary)
    if distance > MAX_DISTANCE_M:
        name = registry.locality.name
        raise LayerOutsideLocality(
            f"Lagret ligger {distance / 1000:.0f} km från {name}. Fel koordinatsystem? Filen anger {source_crs}; "
            f"ange rätt med --crs om filen saknar eller har fel uppgift.",
            f"The layer lies {distance / 1000:.0f} km from {name}. Wrong coordinate reference system? The file "
            f"declares {source_crs}; state the right one with --crs if it is missing or wrong.",
        )


def prepare_layer(path, registry: LayerRegistry, name: str, crs: str | None = None, mapping: dict | None = None,
                  max_bytes: int = MAX_BYTES) -> tuple[gpd.GeoDataFrame, ImportReport]:
    """Read and check a file for layer ``name``; return the WGS84 frame to store and the report.

    Raises a ``GeoError`` subclass (message in Swedish and English) on any problem; writes nothing.
    """
    path = Path(path)
    try:
        layer = registry.get(name)
    except UnknownLayer:
        known = ", ".join(registry.names())
        raise UnknownTarget(
            f"Lagret {name!r} finns inte i orten {registry.locality.name}. Välj ett av: {known} "
            "(ett nytt lager deklareras först i locality.toml).",
            f"There is no layer {name!r} in {registry.locality.name}. Choose one of: {known} "
            "(a new layer is declared in locality.toml first).",
        ) from None
    if crs is not None:
        parse_crs(crs)  # a misspelt --crs is reported before the file is read
    _check_size(path, max_bytes)
    frame = read_layer_native(path)
    notes = []
    if frame.crs is None and crs is None:
        raise MissingCRS(
            f"Filen {path.name} anger inget koordinatsystem. Ange det med --crs (t.ex. EPSG:3008).",
            f"The file {path.name} declares no coordinate reference system. State it with --crs (e.g. EPSG:3008).",
        )
    if crs is not None and frame.crs is not None and frame.crs != parse_crs(crs):
        notes.append(f"filen anger {frame.crs.to_string()}, ersatt med / the file declares it, replaced by {crs}")
    if crs is not None:
        frame = frame.set_crs(parse_crs(crs), allow_override=True)
    report = ImportReport(layer=name, features=len(frame), source_crs=_crs_name(frame.crs), notes=notes)
    frame = to_wgs84(frame)
    if len(frame) == 0:
        raise EmptyLayer(f"Filen {path.name} innehåller inga objekt.", f"The file {path.name} contains no features.")
    frame = _check_geometry(frame, layer.geometry_type, report)
    _check_position(frame, registry, report.source_crs)
    frame = _map_properties(frame, mapping or {}, REQUIRED.get(layer.role, ()), report.notes)
    if layer.role == "areas":
        AreaIndex(frame)
        if "status" in frame and registry.locality.area_status:
            unknown = sorted(set(frame["status"].dropna().astype(str)) - set(registry.locality.area_status))
            if unknown:
                report.notes.append(f"okänd status (grå på kartan) / unknown status (grey on the map): {', '.join(unknown)}")
    elif layer.role == "services":
        ServiceIndex(frame)
        unknown = sorted(set(frame["kind"].astype(str)) - set(registry.locality.service_kinds))
        if unknown:
            report.notes.append(f"okända servicetyper / unknown service kinds: {', '.join(unknown)}")
    elif layer.role == "boundary":
        area = to_metric(frame).area.sum()
        report.notes.append(f"ny dialoggräns / new participation boundary: {area / 1e4:.0f} ha")
    report.features = len(frame)
    return frame.to_crs(WGS84), report


def import_layer(path, registry: LayerRegistry, name: str, engine, crs: str | None = None, mapping: dict | None = None,
                 max_bytes: int = MAX_BYTES, now: datetime | None = None,
                 progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Check ``path`` and make it layer ``name``; recompute every proposal's joins; return the report.

    ``progress(done, total)`` is called as proposals are rejoined (for a CLI progress bar).
    """
    if registry.override_dir is None:
        raise ValueError("the registry has no override_dir to import layers into")
    frame, report = prepare_layer(path, registry, name, crs, mapping, max_bytes)
    folder = registry.override_dir
    history = folder / "history"
    history.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.gpkg"
    temp = folder / f".{name}.{uuid.uuid4().hex}.tmp.gpkg"
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S%fZ")
    try:
        pyogrio.write_dataframe(frame, temp, layer=name.replace("-", "_"), driver="GPKG",
                                layer_options={"DESCRIPTION": f"Imported {stamp} from {Path(path).name}"})
        read_layer(temp)  # what we wrote reads back
        previous = history / f"{name}-{stamp}.gpkg"
        had_override = target.exists()
        if had_override:
            shutil.copy2(target, previous)
        else:  # keep the bundled version too, in the same form, so every version is one file
            pyogrio.write_dataframe(registry.frame(name), previous, layer=name.replace("-", "_"), driver="GPKG")
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    report.path, report.previous = target, previous
    registry.invalidate(name)
    try:
        report.proposals_rejoined = rejoin_all(engine, registry, progress)
    except BaseException:
        # Put the previous layer back so the layer and the stored joins stay consistent.
        if had_override:
            shutil.copy2(previous, target)
        else:
            target.unlink(missing_ok=True)
        registry.invalidate(name)
        raise
    return report


def rejoin_all(engine, registry: LayerRegistry, progress: Callable[[int, int], None] | None = None,
               chunk: int = JOIN_CHUNK) -> int:
    """Recompute and store every proposal's joins in one transaction, ``chunk`` proposals at a time."""
    with engine.begin() as conn:
        rows = store.all_points(conn)
        total = len(rows)
        if progress:
            progress(0, total)
        for start in range(0, total, chunk):
            part = rows[start:start + chunk]
            results = proposals.compute_joins(registry, [(r.lon, r.lat) for r in part])
            _save_joins_bulk(conn, [r.id for r in part], results)
            if progress:
                progress(start + len(part), total)
    return total


def _save_joins_bulk(conn, ids: list[int], results: list[dict]) -> None:
    # store.save_joins for a chunk at once: two deletes and two multi-row inserts, not 4 per proposal.
    low, high = min(ids), max(ids)
    conn.execute(delete(proposal_areas).where(proposal_areas.c.proposal_id.between(low, high),
                                              proposal_areas.c.proposal_id.in_(ids)))
    conn.execute(delete(proposal_services).where(proposal_services.c.proposal_id.between(low, high),
                                                 proposal_services.c.proposal_id.in_(ids)))
    areas = [{"proposal_id": pid, "area_id": a} for pid, joins in zip(ids, results) for a in joins["area_ids"]]
    nearest = [{"proposal_id": pid, **n} for pid, joins in zip(ids, results) for n in joins["nearest"]]
    if areas:
        conn.execute(insert(proposal_areas), areas)
    if nearest:
        conn.execute(insert(proposal_services), nearest)


def upload(stream, filename: str, registry: LayerRegistry, name: str, engine, crs: str | None = None,
           mapping: dict | None = None, max_bytes: int = MAX_BYTES, workdir=None) -> ImportReport:
    """Import an uploaded file (a readable binary ``stream`` named ``filename``) as layer ``name``.

    For the admin upload page: the stream is copied to a private temporary folder (refused as soon
    as it passes ``max_bytes``), imported with ``import_layer``, and the copy removed.
    """
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUFFIXES or suffix == ".shp":
        raise UnsupportedFile(
            "Ladda upp en GeoPackage (.gpkg), en zippad Shapefile (.zip), GeoJSON eller FlatGeobuf (.fgb).",
            "Upload a GeoPackage (.gpkg), a zipped Shapefile (.zip), GeoJSON or FlatGeobuf (.fgb).",
        )
    base = Path(workdir or registry.override_dir or ".")
    base.mkdir(parents=True, exist_ok=True)
    folder = base / f".upload-{uuid.uuid4().hex}"
    folder.mkdir()
    try:
        local = folder / f"upload{suffix}"
        written = 0
        with open(local, "wb") as out:
            while block := stream.read(1 << 20):
                written += len(block)
                if written > max_bytes:
                    raise LayerTooLarge(
                        f"Filen är för stor: mer än {max_bytes / 1e6:.0f} MB.",
                        f"The file is too large: more than {max_bytes / 1e6:.0f} MB.",
                    )
                out.write(block)
        return import_layer(local, registry, name, engine, crs=crs, mapping=mapping, max_bytes=max_bytes)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

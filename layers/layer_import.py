"""Importing a planner's plan layer (GeoPackage, Shapefile, GeoJSON, FlatGeobuf) in place of a bundled one.

The file is read only as the format its name claims (``geo.formats`` checks the content, then
``geo.io.read_source`` opens it with that one driver and GDAL's network access off). A file with
several layers is never guessed: the caller names one (``source_layer``), or the layer named like
the target is taken, or the import is refused with the list. The file may be in any CRS it
declares (typically SWEREF 99 TM or the local EPSG:3008); one that declares none is refused unless
the caller states one. Every check runs before anything is written: size, format, features and
vertices, geometry type, position (near the locality, which catches a wrong CRS), required
properties and unique ids. Polygons are repaired with ``geo.validate.repair_polygons`` and every
repair is reported.

Only then is the layer stored, as a new version in ``layer_versions``, in the same transaction
that recomputes every proposal's joins against it (``layers.layer_store``): a crash at any moment
leaves the old layer with the old joins or the new with the new, and nothing needs finishing at
the next start. A bad file therefore changes nothing. No Flask here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import glob
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from collections.abc import Callable

from sqlalchemy import Connection, delete, insert
from sqlalchemy.exc import IntegrityError

from ..geo import formats
from ..geo.crs import SWEREF99TM, WGS84, parse_crs, to_metric, to_wgs84
from ..geo.errors import GeoError, InvalidGeometry, MissingCRS, OutsideLocality
from ..geo.formats import shown
from ..geo.io import read_source
from ..geo.joins import AreaIndex, ServiceIndex
from ..geo.validate import Repair, repair_polygons
from . import layer_store, proposal_shapes, proposals, store
from .records import JoinResult
from .registry import LayerRegistry, UnknownLayer
from .schema import proposal_areas, proposal_services
from ..lazy import lazy_module

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import shapely
else:
    gpd = lazy_module("geopandas")
    np = lazy_module("numpy")
    shapely = lazy_module("shapely")

MAX_BYTES = 500 * 1024 * 1024
MAX_FEATURES = 50_000
MAX_VERTICES = 1_000_000
MAX_DISTANCE_M = 20_000  # a layer lying wholly farther than this from the locality is refused
SUFFIXES = tuple(formats.DRIVERS)
REQUIRED = {"areas": ("id", "name"), "services": ("id", "name", "kind")}
JOIN_CHUNK = 1000
STAGES = ("validated", "layer-written", "joins", "before-commit", "committed")
WORK_PREFIXES = (".upload-", ".import-")


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


class AmbiguousLayer(LayerImportError):
    """The file holds several layers and none was chosen; ``details["layers"]`` lists them."""

    code = "ambiguous_layer"


class ConcurrentImport(LayerImportError):
    code = "concurrent_import"


@dataclass(frozen=True)
class Limits:
    """How large an imported file and its layer may be."""

    max_bytes: int = MAX_BYTES
    max_features: int = MAX_FEATURES
    max_vertices: int = MAX_VERTICES


@dataclass
class ImportReport:
    """What an import did: counts, the source CRS and layer, repairs, notes, and the version stored."""

    layer: str
    features: int
    source_crs: str
    source_layer: str | None = None
    repairs: list[Repair] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    version: int | None = None
    proposals_rejoined: int = 0

    def lines(self) -> list[str]:
        stored = f" -> version {self.version}" if self.version is not None else ""
        out = [f"{self.layer}: {self.features} objekt/features from {self.source_crs}{stored}"]
        if self.source_layer is not None:
            out.append(f"  lager i filen / layer in the file: {shown(self.source_layer)}")
        out += [f"  lagad/repaired: feature {r.index}: {r.reason} ({r.before_type} -> {r.after_type})" for r in self.repairs]
        out += [f"  {note}" for note in self.notes]
        if self.version is not None:
            previous = "medföljande / bundled" if self.version == 1 else f"version {self.version - 1}"
            out.append(f"  föregående version sparad / previous version kept: {previous}")
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
    if path.suffix.lower() not in SUFFIXES:
        suffix = shown(path.suffix, 12) or "(ingen/none)"
        raise UnsupportedFile(
            f"Filtypen {suffix} stöds inte. Använd GeoPackage, Shapefile (.shp eller .zip), GeoJSON eller FlatGeobuf.",
            f"The file type {suffix} is not supported. Use GeoPackage, Shapefile (.shp or .zip), GeoJSON or FlatGeobuf.",
        )
    if not path.is_file():
        raise UnsupportedFile("Filen finns inte.", "The file does not exist.")
    size = path.stat().st_size
    if path.suffix.lower() == ".shp":  # the attributes and index travel beside it
        size += sum(p.stat().st_size for p in path.parent.glob(f"{glob.escape(path.stem)}.*") if p != path)
    if size > max_bytes:
        raise LayerTooLarge(
            f"Filen är för stor: {size / 1e6:.0f} MB, högst {max_bytes / 1e6:.0f} MB.",
            f"The file is too large: {size / 1e6:.0f} MB, at most {max_bytes / 1e6:.0f} MB.",
        )


def _crs_name(crs) -> str:
    epsg = crs.to_epsg(min_confidence=70)
    return f"EPSG:{epsg}" if epsg else shown(crs.name)


def _map_properties(frame: gpd.GeoDataFrame, mapping: dict, required: tuple, notes: list) -> gpd.GeoDataFrame:
    columns = {c for c in frame.columns if c != frame.geometry.name}
    missing_sources = [s for s in mapping.values() if s not in columns]
    if missing_sources:
        raise MissingProperty(
            f"Kolumnen {_names(missing_sources)} finns inte i filen. Kolumner: {_names(sorted(columns))}.",
            f"The column {_names(missing_sources)} is not in the file. Columns: {_names(sorted(columns))}.",
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
        available = _names(sorted(c for c in frame.columns if c != frame.geometry.name)) or "(inga/none)"
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
        repeated = np.flatnonzero(frame["id"].duplicated(keep=False).to_numpy())
        if len(repeated):
            rows = ", ".join(str(i + 1) for i in repeated[:10])
            raise MissingProperty(
                f"Id måste vara unika; {len(repeated)} objekt delar id med ett annat (objekt nr {rows}).",
                f"Ids must be unique; {len(repeated)} features share an id with another (feature no. {rows}).",
            )
    return frame


def _names(names, limit: int = 30) -> str:
    """Names from a file (columns, layers) listed for a person to choose from, made safe to show."""
    names = [shown(n) for n in names]
    return ", ".join(names[:limit]) + (f", … (+{len(names) - limit})" if len(names) > limit else "")


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
            frame = frame.set_geometry(
                gpd.GeoSeries(shapely.get_geometry(frame.geometry.to_numpy(), 0), index=frame.index, crs=frame.crs)
            )
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


def choose_layer(layers, requested: str | None, target: str) -> str:
    """Return the layer of a file to import as ``target``: the one requested, the only one, or the one named like the target.

    Anything else is refused with the list of layers, never guessed.
    """
    layers = list(layers)
    if not layers:
        raise EmptyLayer("Filen innehåller inga lager med geometrier.", "The file holds no layers with geometries.")
    listing = _names(layers)
    if requested:
        if requested in layers:
            return requested
        raise AmbiguousLayer(
            f"Lagret {shown(requested)} finns inte i filen. Lager i filen: {listing}.",
            f"The layer {shown(requested)} is not in the file. Layers in the file: {listing}.",
            layers=layers,
        )
    if len(layers) == 1:
        return layers[0]
    named_like_target = {target.lower(), layer_store.table_name(target).lower()}
    matches = [layer for layer in layers if layer.lower() in named_like_target]
    if len(matches) == 1:
        return matches[0]
    raise AmbiguousLayer(
        f"Filen har {len(layers)} lager och inget heter {target}: {listing}. Välj vilket som ska importeras "
        "(--layer NAMN, eller Lager i filen på sidan).",
        f"The file holds {len(layers)} layers and none is named {target}: {listing}. Choose the one to import "
        "(--layer NAME, or Layer in the file on the page).",
        layers=layers,
    )


def prepare_layer(
    path,
    registry: LayerRegistry,
    name: str,
    crs: str | None = None,
    mapping: dict | None = None,
    source_layer: str | None = None,
    limits: Limits = Limits(),
    workdir=None,
) -> tuple[gpd.GeoDataFrame, ImportReport]:
    """Read and check a file for layer ``name``; return the WGS84 frame to store and the report.

    ``source_layer`` names the layer to take from a file that holds several; ``workdir`` is where
    a zipped shapefile is unpacked (a private folder inside it; the system's temporary folder when
    None). Raises a ``GeoError`` subclass (message in Swedish and English) on any problem; changes
    nothing.
    """
    path = Path(path)
    try:
        layer = registry.get(name)
    except UnknownLayer:
        known = ", ".join(registry.names())
        raise UnknownTarget(
            f"Lagret {shown(name)!r} finns inte i orten {registry.locality.name}. Välj ett av: {known} "
            "(ett nytt lager deklareras först i locality.toml).",
            f"There is no layer {shown(name)!r} in {registry.locality.name}. Choose one of: {known} "
            "(a new layer is declared in locality.toml first).",
        ) from None
    if crs is not None:
        parse_crs(crs)  # a misspelt --crs is reported before the file is read
    _check_size(path, limits.max_bytes)
    source = formats.inspect(path, limits.max_bytes)
    chosen = choose_layer(source.layers, source_layer, name)
    with tempfile.TemporaryDirectory(prefix=".import-", dir=workdir) as folder:
        location, gdal_layer = formats.open_layer(source, chosen, Path(folder), limits.max_bytes)
        frame = read_source(location, source.driver, gdal_layer, limits.max_features, limits.max_vertices)
    notes = []
    if frame.crs is None and crs is None:
        raise MissingCRS(
            "Filen anger inget koordinatsystem. Ange det med --crs (t.ex. EPSG:3008).",
            "The file declares no coordinate reference system. State it with --crs (e.g. EPSG:3008).",
        )
    if crs is not None and frame.crs is not None and frame.crs != parse_crs(crs):
        notes.append(f"filen anger {_crs_name(frame.crs)}, ersatt med / the file declares it, replaced by {crs}")
    if crs is not None:
        frame = frame.set_crs(parse_crs(crs), allow_override=True)
    report = ImportReport(
        layer=name,
        features=len(frame),
        source_crs=_crs_name(frame.crs),
        notes=notes,
        source_layer=chosen if len(source.layers) > 1 else None,
    )
    frame = to_wgs84(frame)
    if len(frame) == 0:
        raise EmptyLayer("Filen innehåller inga objekt.", "The file contains no features.")
    frame = _check_geometry(frame, layer.geometry_type, report)
    _check_position(frame, registry, report.source_crs)
    frame = _map_properties(frame, mapping or {}, REQUIRED.get(layer.role, ()), report.notes)
    if layer.role == "areas":
        AreaIndex(frame)
        if "status" in frame and registry.locality.area_status:
            unknown = sorted(set(frame["status"].dropna().astype(str)) - set(registry.locality.area_status))
            if unknown:
                report.notes.append(f"okänd status (grå på kartan) / unknown status (grey on the map): {_names(unknown)}")
    elif layer.role == "services":
        ServiceIndex(frame)
        unknown = sorted(set(frame["kind"].astype(str)) - set(registry.locality.service_kinds))
        if unknown:
            report.notes.append(f"okända servicetyper / unknown service kinds: {_names(unknown)}")
    elif layer.role == "boundary":
        area = to_metric(frame).area.sum()
        report.notes.append(f"ny dialoggräns / new participation boundary: {area / 1e4:.0f} ha")
    report.features = len(frame)
    return frame.to_crs(WGS84), report


def import_layer(
    path,
    registry: LayerRegistry,
    name: str,
    engine,
    crs: str | None = None,
    mapping: dict | None = None,
    source_layer: str | None = None,
    limits: Limits = Limits(),
    workdir=None,
    source_name: str | None = None,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
    chunk: int = JOIN_CHUNK,
) -> ImportReport:
    """Check ``path`` and make it layer ``name``, stored with every proposal's recomputed joins in one transaction.

    ``progress(done, total)`` is called as proposals are rejoined (a CLI progress bar);
    ``on_stage(stage)`` at each of ``STAGES`` (``joins`` after every ``chunk`` proposals), which
    the crash tests use to stop the process there. Returns the report.
    """
    reached = on_stage or (lambda _stage: None)
    frame, report = prepare_layer(path, registry, name, crs, mapping, source_layer, limits, workdir)
    reached("validated")
    data = layer_store.encode(frame, name)
    stored = layer_store.decode(data)  # joins are computed from exactly what the registry will read back
    try:
        with engine.begin() as conn:
            # Exclusive: proposals being joined finish first, and new ones wait for this commit, so
            # every proposal is joined against the layer it is stored with.
            layer_store.hold_layers(conn, exclusive=True)
            report.version = layer_store.add_version(
                conn,
                name,
                data,
                features=len(stored),
                source_name=shown(source_name or Path(path).name, 200),
                source_crs=report.source_crs,
                now=now,
                frame=stored,
            )
            reached("layer-written")
            report.proposals_rejoined = rejoin_all(conn, registry.with_frame(name, stored), progress, chunk, reached)
            reached("before-commit")
    except IntegrityError:
        raise ConcurrentImport(
            "En annan import av samma lager blev klar under tiden. Importera igen.",
            "Another import of the same layer finished meanwhile. Import again.",
        ) from None
    registry.invalidate(name)
    reached("committed")
    return report


def rejoin_all(
    conn: Connection,
    registry: LayerRegistry,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = JOIN_CHUNK,
    on_chunk: Callable[[str], None] | None = None,
) -> int:
    """Recompute and store every proposal's joins within the caller's transaction, ``chunk`` proposals at a time."""
    rows = store.all_points(conn)
    total = len(rows)
    store.note_everything_changed(conn)
    if progress:
        progress(0, total)
    crossed = proposal_shapes.refresh(conn, registry)  # lines and areas: the areas they cross or overlap
    for start in range(0, total, chunk):
        part = rows[start : start + chunk]
        results = proposals.compute_joins(registry, [(r.lon, r.lat) for r in part])
        for row, joins in zip(part, results):
            joins["area_ids"] = crossed.get(row.id, joins["area_ids"])
        _save_joins_bulk(conn, [r.id for r in part], results)
        if progress:
            progress(start + len(part), total)
        if on_chunk:
            on_chunk("joins")
    return total


def _save_joins_bulk(conn: Connection, ids: list[int], results: list[JoinResult]) -> None:
    # store.save_joins for a chunk at once: two deletes and two multi-row inserts, not 4 per proposal.
    low, high = min(ids), max(ids)
    conn.execute(
        delete(proposal_areas).where(proposal_areas.c.proposal_id.between(low, high), proposal_areas.c.proposal_id.in_(ids))
    )
    conn.execute(
        delete(proposal_services).where(
            proposal_services.c.proposal_id.between(low, high), proposal_services.c.proposal_id.in_(ids)
        )
    )
    areas = [{"proposal_id": pid, "area_id": a} for pid, joins in zip(ids, results) for a in joins["area_ids"]]
    nearest = [{"proposal_id": pid, **n} for pid, joins in zip(ids, results) for n in joins["nearest"]]
    if areas:
        conn.execute(insert(proposal_areas), areas)
    if nearest:
        conn.execute(insert(proposal_services), nearest)


def upload(
    stream,
    filename: str,
    registry: LayerRegistry,
    name: str,
    engine,
    crs: str | None = None,
    mapping: dict | None = None,
    source_layer: str | None = None,
    limits: Limits = Limits(),
    workdir=None,
) -> ImportReport:
    """Import an uploaded file (a readable binary ``stream`` named ``filename``) as layer ``name``.

    For the admin upload page: the stream is copied to a private folder in ``workdir`` (refused as
    soon as it passes ``limits.max_bytes``), imported with ``import_layer``, and the copy removed.
    """
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUFFIXES or suffix == ".shp":
        raise UnsupportedFile(
            "Ladda upp en GeoPackage (.gpkg), en zippad Shapefile (.zip), GeoJSON eller FlatGeobuf (.fgb).",
            "Upload a GeoPackage (.gpkg), a zipped Shapefile (.zip), GeoJSON or FlatGeobuf (.fgb).",
        )
    base = Path(workdir) if workdir else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    folder = base / f"{WORK_PREFIXES[0]}{uuid.uuid4().hex}"
    folder.mkdir(mode=0o700)
    try:
        local = folder / f"upload{suffix}"
        written = 0
        with open(local, "wb") as out:
            while block := stream.read(1 << 20):
                written += len(block)
                if written > limits.max_bytes:
                    raise LayerTooLarge(
                        f"Filen är för stor: mer än {limits.max_bytes / 1e6:.0f} MB.",
                        f"The file is too large: more than {limits.max_bytes / 1e6:.0f} MB.",
                    )
                out.write(block)
        return import_layer(
            local,
            registry,
            name,
            engine,
            crs=crs,
            mapping=mapping,
            source_layer=source_layer,
            limits=limits,
            workdir=folder,
            source_name=Path(filename).name,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remove_stale_work(workdir, older_than_s: float = 6 * 3600) -> int:
    """Remove upload and unpacking folders a killed process left in ``workdir``; return how many.

    Only folders untouched for ``older_than_s`` go, so an upload running in another worker stays.
    """
    folder = Path(workdir) if workdir else None
    if folder is None or not folder.is_dir():
        return 0
    removed = 0
    for path in folder.iterdir():
        if path.is_dir() and path.name.startswith(WORK_PREFIXES) and time.time() - path.stat().st_mtime > older_than_s:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed

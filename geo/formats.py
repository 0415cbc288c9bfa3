"""Checking that a layer file is the format its name says, before GDAL opens it.

Each accepted suffix maps to exactly one GDAL driver (``DRIVERS``), because GDAL on its own picks
a driver by content: a VRT named ``plan.geojson`` would be opened as a VRT and follow whatever
file, database or URL it names. ``inspect`` looks at the file with the standard library only:

- GeoPackage: the SQLite header and ``application_id``, then its schema (read-only): no views,
  no virtual tables other than R*Tree indexes, no triggers other than those GDAL writes itself;
- FlatGeobuf: the magic bytes;
- GeoJSON: UTF-8 JSON whose top level is a Feature or FeatureCollection, and a ``crs`` member,
  if any, that names a system rather than linking to one;
- Shapefile (a zip, or a ``.shp`` beside its ``.shx`` and ``.dbf``): no zip entry outside its
  folder, no links, at most ``MAX_ZIP_ENTRIES`` entries and ``max_unpacked`` bytes unpacked, and
  the shapefile magic in ``.shp``, ``.shx`` and ``.dbf``.

It returns a ``Source`` listing the feature layers found. ``open_layer`` gives what to hand
pyogrio for one of them: the driver-prefixed path (``GPKG:``, ``GeoJSON:``) where GDAL has such a
prefix, else the plain path whose content was checked; a zipped shapefile is unpacked into the
caller's private folder first, so no ``/vsi*`` path is ever built. Reading features is
``geo.io.read_source``. Messages name the format and the problem, never the file's name, path or
content (layer names aside, shown through ``shown`` because the person importing must choose one).
"""

from __future__ import annotations

import glob
import re
import sqlite3
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import orjson

from .errors import LayerTooComplex, UnsafeFile, WrongFormat

DRIVERS = {
    ".gpkg": "GPKG",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".fgb": "FlatGeobuf",
    ".shp": "ESRI Shapefile",
    ".zip": "ESRI Shapefile",
}
PREFIXED = ("GPKG", "GeoJSON")  # drivers that GDAL lets a path name explicitly ("GPKG:/path")
MAX_ZIP_ENTRIES = 100

SQLITE_MAGIC = b"SQLite format 3\x00"
GPKG_APPLICATION_IDS = (b"GPKG", b"GP10", b"GP11")  # GeoPackage 1.2 and later; 1.0; 1.1
FGB_MAGIC = b"fgb\x03fgb"  # the eighth byte is the patch version
SHAPE_FILE_CODE = b"\x00\x00\x27\x0a"  # 9994, big-endian, opens .shp and .shx
DBF_VERSIONS = frozenset({0x02, 0x03, 0x04, 0x05, 0x30, 0x31, 0x32, 0x43, 0x63, 0x83, 0x8B, 0x8E, 0xCB, 0xE5, 0xF5, 0xFB})
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")  # what is unpacked from a zip; the rest is ignored
REQUIRED_PARTS = (".shp", ".shx", ".dbf")

_VIRTUAL_TABLE = re.compile(r"\s*CREATE\s+VIRTUAL\s+TABLE\s", re.IGNORECASE)
_RTREE = re.compile(r"\s*CREATE\s+VIRTUAL\s+TABLE\s+.+?\s+USING\s+rtree\s*\(", re.IGNORECASE | re.DOTALL)
_RTREE_TRIGGER_SUFFIX = re.compile(r".+_(insert|update\d*|delete)")
_CRS_NAME = re.compile(r"urn:ogc:def:crs:[A-Za-z0-9.:_-]{1,80}|EPSG:\d{1,6}|(OGC:)?CRS84", re.IGNORECASE)
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Source:
    """A checked layer file: the one driver that reads it and the feature layers it holds."""

    path: Path
    driver: str
    layers: tuple[str, ...]
    members: dict = field(default_factory=dict, compare=False)  # zip: layer -> {suffix: ZipInfo}


def shown(name, limit: int = 60) -> str:
    """Return a name from a file made safe to show: no control or direction characters, at most ``limit`` long."""
    text = _UNPRINTABLE.sub("?", str(name))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def inspect(path, max_unpacked: int) -> Source:
    """Check that ``path`` holds what its suffix claims; return the ``Source``, or raise a ``GeoError``."""
    path = Path(path)
    driver = DRIVERS.get(path.suffix.lower())
    if driver is None:
        raise ValueError(f"no driver for the suffix {path.suffix!r}; expected one of {sorted(DRIVERS)}")
    if path.suffix.lower() == ".zip":
        return _zipped_shapefile(path, max_unpacked)
    check = {"GPKG": _geopackage, "GeoJSON": _geojson, "FlatGeobuf": _flatgeobuf, "ESRI Shapefile": _shapefile}[driver]
    return check(path)


def open_layer(source: Source, layer: str, folder: Path, max_unpacked: int) -> tuple[str, str | None]:
    """Return ``(location, layer)`` to hand pyogrio for one layer of a checked source.

    A zipped shapefile is unpacked into ``folder`` (private to this import) and checked again there.
    """
    if layer not in source.layers:
        raise ValueError(f"{layer!r} is not a layer of this source")
    if source.driver in PREFIXED:
        return f"{source.driver}:{source.path.resolve()}", layer if source.driver == "GPKG" else None
    if source.members:
        return str(_unpack(source, layer, folder, max_unpacked)), None
    return str(source.path.resolve()), None


# ---------------------------------------------------------------------------- the formats
def _wrong(fmt: str, sv: str, en: str) -> WrongFormat:
    return WrongFormat(f"Filen kunde inte läsas som {fmt}: {sv}.", f"The file could not be read as {fmt}: {en}.")


def _unsafe(fmt: str, sv: str, en: str) -> UnsafeFile:
    return UnsafeFile(f"Filen tas inte emot som {fmt}: {sv}.", f"The file is not accepted as {fmt}: {en}.")


def _head(path: Path, size: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


def _geopackage(path: Path) -> Source:
    head = _head(path, 100)
    if not head.startswith(SQLITE_MAGIC) or len(head) < 100:
        raise _wrong("GeoPackage", "innehållet är ingen GeoPackage", "its content is not a GeoPackage")
    if head[68:72] not in GPKG_APPLICATION_IDS:
        raise _wrong(
            "GeoPackage", "det är en SQLite-databas men ingen GeoPackage", "it is an SQLite database but not a GeoPackage"
        )
    # Read-only and immutable: looking never writes, and SQLite parses a schema without running it.
    uri = path.resolve().as_uri() + "?mode=ro&immutable=1"
    try:
        connection = sqlite3.connect(uri, uri=True)
        try:
            connection.execute("PRAGMA trusted_schema = OFF")
            rows = connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
            _check_schema(rows)
            tables = {name for kind, name, _table, _sql in rows if kind == "table"}
            layers = [row[0] for row in connection.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'features'")]
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        raise _wrong(
            "GeoPackage",
            "filen är skadad eller saknar GeoPackage-tabellerna",
            "the file is damaged or lacks the GeoPackage tables",
        ) from None
    if any(not isinstance(name, str) or name not in tables for name in layers):
        raise _wrong(
            "GeoPackage",
            "innehållsförteckningen pekar på tabeller som inte finns",
            "its table of contents names tables that do not exist",
        )
    return Source(path, "GPKG", tuple(layers))


def _check_schema(rows) -> None:
    for kind, name, table, sql in rows:
        if kind == "view":
            raise _unsafe(
                "GeoPackage",
                "den innehåller vyer (SQL som körs när lagret läses)",
                "it contains views (SQL that runs when the layer is read)",
            )
        if kind == "table" and sql and _VIRTUAL_TABLE.match(sql) and not _RTREE.match(sql):
            raise _unsafe(
                "GeoPackage",
                "den innehåller virtuella tabeller som kan läsa andra källor",
                "it contains virtual tables that can read other sources",
            )
        if kind == "trigger" and not _gdal_trigger(str(name), str(table)):
            raise _unsafe(
                "GeoPackage",
                "den innehåller triggers som inte hör till formatet",
                "it contains triggers that are not part of the format",
            )


def _gdal_trigger(name: str, table: str) -> bool:
    """Whether a trigger is one GDAL (or the GeoPackage standard) creates: spatial index, feature count, tiles, metadata."""
    if name.startswith(f"rtree_{table}_") and _RTREE_TRIGGER_SUFFIX.fullmatch(name[len(f"rtree_{table}_") :]):
        return True
    if name in (f"trigger_insert_feature_count_{table}", f"trigger_delete_feature_count_{table}"):
        return True
    if table == "gpkg_tile_matrix" and name.startswith("gpkg_tile_matrix_"):
        return True
    return table in ("gpkg_metadata", "gpkg_metadata_reference") and name.startswith("gpkg_metadata")


def _flatgeobuf(path: Path) -> Source:
    if not _head(path, 8).startswith(FGB_MAGIC):
        raise _wrong("FlatGeobuf", "innehållet är ingen FlatGeobuf", "its content is not FlatGeobuf")
    return Source(path, "FlatGeobuf", (path.stem,))


def _geojson(path: Path) -> Source:
    text = path.read_bytes()
    if text.startswith(b"\xef\xbb\xbf"):  # a byte order mark, as some Windows tools write
        text = text[3:]
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise _wrong("GeoJSON", "innehållet är inte JSON i UTF-8", "its content is not JSON in UTF-8") from None
    del text
    if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature"):
        raise _wrong(
            "GeoJSON",
            "överst ska en FeatureCollection eller Feature stå",
            "its top level must be a FeatureCollection or a Feature",
        )
    if data.get("type") == "FeatureCollection" and not isinstance(data.get("features"), list):
        raise _wrong("GeoJSON", "FeatureCollection saknar en lista features", "the FeatureCollection has no features list")
    crs = data.get("crs")
    if crs is not None and not _named_crs(crs):
        raise _unsafe(
            "GeoJSON",
            "medlemmen crs ska namnge ett koordinatsystem, inte länka till ett",
            "its crs member must name a coordinate reference system, not link to one",
        )
    return Source(path, "GeoJSON", (path.stem,))


def _named_crs(crs) -> bool:
    # The 2008 GeoJSON form {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3008"}}. A
    # "link" type, or a name GDAL would take for a file or a URL, would have it open something else.
    properties = crs.get("properties") if isinstance(crs, dict) else None
    name = properties.get("name") if isinstance(properties, dict) else None
    return isinstance(crs, dict) and crs.get("type") == "name" and isinstance(name, str) and bool(_CRS_NAME.fullmatch(name))


def _shapefile(path: Path) -> Source:
    siblings = {p.suffix.lower(): p for p in path.parent.glob(f"{glob.escape(path.stem)}.*") if p.stem == path.stem}
    siblings[".shp"] = path
    missing = [suffix for suffix in REQUIRED_PARTS if suffix not in siblings]
    if missing:
        raise _wrong("Shapefile", f"{', '.join(missing)} saknas bredvid .shp", f"{', '.join(missing)} is missing beside the .shp")
    _check_shapefile_magic({suffix: _head(p, 4) for suffix, p in siblings.items() if suffix in REQUIRED_PARTS})
    return Source(path, "ESRI Shapefile", (path.stem,))


def _check_shapefile_magic(heads: dict[str, bytes]) -> None:
    if not heads[".shp"].startswith(SHAPE_FILE_CODE) or not heads[".shx"].startswith(SHAPE_FILE_CODE):
        raise _wrong("Shapefile", ".shp eller .shx är ingen shapefil", "the .shp or .shx is not a shapefile")
    if not heads[".dbf"] or heads[".dbf"][0] not in DBF_VERSIONS:
        raise _wrong("Shapefile", ".dbf är ingen dBASE-tabell", "the .dbf is not a dBASE table")


def _zipped_shapefile(path: Path, max_unpacked: int) -> Source:
    if _head(path, 4) not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise _wrong("Shapefile (zip)", "innehållet är ingen zip-fil", "its content is not a zip file")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _wrong("Shapefile (zip)", "zip-filen är skadad", "the zip file is damaged") from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise LayerTooComplex(
            f"Zip-filen har {len(entries)} filer; högst {MAX_ZIP_ENTRIES} tas emot. Zippa bara shapefilens delar.",
            f"The zip file has {len(entries)} entries; at most {MAX_ZIP_ENTRIES} are accepted. Zip only the shapefile's parts.",
        )
    groups: dict[str, dict[str, zipfile.ZipInfo]] = {}
    for entry in entries:
        _check_entry(entry)
        name = PurePosixPath(entry.filename.replace("\\", "/"))
        if entry.is_dir() or "__MACOSX" in name.parts or name.suffix.lower() not in SHAPEFILE_PARTS:
            continue
        parts = groups.setdefault(name.stem, {})
        if name.suffix.lower() in parts:
            raise _unsafe(
                "Shapefile (zip)", "två filer i zip-filen har samma namn", "two entries in the zip file have the same name"
            )
        parts[name.suffix.lower()] = entry
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > max_unpacked:
        raise _too_much_unpacked(max_unpacked)
    layers = {stem: parts for stem, parts in groups.items() if ".shp" in parts}
    if not layers:
        raise _wrong("Shapefile (zip)", "zip-filen innehåller ingen .shp", "the zip file holds no .shp")
    for parts in layers.values():
        missing = [suffix for suffix in REQUIRED_PARTS if suffix not in parts]
        if missing:
            raise _wrong(
                "Shapefile (zip)",
                f"{', '.join(missing)} saknas bredvid .shp i zip-filen",
                f"{', '.join(missing)} is missing beside the .shp in the zip file",
            )
    return Source(path, "ESRI Shapefile", tuple(layers), members=layers)


def _check_entry(entry: zipfile.ZipInfo) -> None:
    name = entry.filename
    parts = re.split(r"[\\/]", name)
    if "\x00" in name or name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or ".." in parts:
        raise _unsafe(
            "Shapefile (zip)",
            "zip-filen har filer som pekar utanför sin mapp",
            "the zip file has entries that point outside its folder",
        )
    if stat.S_ISLNK(entry.external_attr >> 16):
        raise _unsafe("Shapefile (zip)", "zip-filen innehåller länkar", "the zip file contains links")
    if entry.flag_bits & 0x1:
        raise _wrong("Shapefile (zip)", "zip-filen är krypterad", "the zip file is encrypted")


def _too_much_unpacked(limit: int) -> LayerTooComplex:
    return LayerTooComplex(
        f"Zip-filen packas upp till mer än {limit / 1e6:.0f} MB, som är gränsen.",
        f"The zip file unpacks to more than {limit / 1e6:.0f} MB, which is the limit.",
    )


def _unpack(source: Source, layer: str, folder: Path, max_unpacked: int) -> Path:
    # Fixed names in a private folder: nothing in the archive decides where a byte is written.
    written = 0
    try:
        with zipfile.ZipFile(source.path) as archive:
            for suffix, entry in source.members[layer].items():
                with archive.open(entry) as packed, open(folder / f"layer{suffix}", "wb") as out:
                    while block := packed.read(1 << 20):
                        written += len(block)  # counted as unpacked: the sizes the zip declares may lie
                        if written > max_unpacked:
                            raise _too_much_unpacked(max_unpacked)
                        out.write(block)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError, OSError):
        raise _wrong("Shapefile (zip)", "zip-filen är skadad", "the zip file is damaged") from None
    _check_shapefile_magic({suffix: _head(folder / f"layer{suffix}", 4) for suffix in REQUIRED_PARTS})
    return folder / "layer.shp"

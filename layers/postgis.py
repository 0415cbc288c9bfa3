"""PostGIS objects of the store on PostgreSQL: the proposals' geometry column and its GiST index.

On PostgreSQL with the PostGIS extension (created once per database by a superuser: ``CREATE
EXTENSION postgis``), ``proposals.geom`` is a ``geometry(Point, 4326)`` that the database generates
from lon/lat (a STORED generated column), so every insert, move and edit keeps it in step with no
code of ours, and ``ix_proposals_geom`` indexes it (GiST) for the store's boxes, QGIS and spatial
SQL. SQLite, and PostgreSQL without PostGIS, have neither; ``layers.schema`` does not declare them,
so the schema checks (``layers.maintenance``, the migrations' comparison) know them from here.
(``survey_shapes`` keeps its GeoJSON text only: a column generated from it would make one
unparsable row stop the upgrade, and every start with it.)
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType, UserDefinedType

GEOMETRY_COLUMN = "geom"
# table -> (the column's type, the expression it is generated from)
GEOMETRIES = {
    "proposals": ("geometry(Point, 4326)", "ST_SetSRID(ST_MakePoint(lon, lat), 4326)"),
}
COLUMNS = {(table, GEOMETRY_COLUMN) for table in GEOMETRIES}
INDEXES = {f"ix_{table}_geom" for table in GEOMETRIES}
EXTENSION_TABLES = {"spatial_ref_sys"}  # PostGIS's own table, in the schema it was created in


class Geometry(UserDefinedType):
    """PostGIS's ``geometry`` type as reflection sees it (schema checks name it; nothing reads it)."""

    cache_ok = True

    def __init__(self, *_modifiers):
        pass

    def get_col_spec(self, **_kw) -> str:
        return "geometry"


ischema_names.setdefault("geometry", Geometry)  # SQLAlchemy warns on every reflected column of a type it does not know

_ADD = [
    statement
    for table, (kind, expression) in GEOMETRIES.items()
    for statement in (
        f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {GEOMETRY_COLUMN} {kind} GENERATED ALWAYS AS ({expression}) STORED",
        f"CREATE INDEX IF NOT EXISTS ix_{table}_geom ON {table} USING gist ({GEOMETRY_COLUMN})",
    )
]


def installed(conn: Connection) -> bool:
    """Return whether the store is on PostgreSQL with the PostGIS extension created in its database."""
    if conn.dialect.name != "postgresql":
        return False
    return conn.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").first() is not None


def has_geometry(conn: Connection) -> bool:
    """Return whether every geometry column and its GiST index are there."""
    if conn.dialect.name != "postgresql":
        return False
    tables = ", ".join(f"'{table}'" for table in GEOMETRIES)
    indexes = ", ".join(f"'{index}'" for index in sorted(INDEXES))
    found = conn.exec_driver_sql(
        "SELECT (SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() "
        f"AND table_name IN ({tables}) AND column_name = '{GEOMETRY_COLUMN}') + "
        "(SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() "
        f"AND indexname IN ({indexes}))"
    ).scalar_one()
    return found == len(COLUMNS) + len(INDEXES)


def add_geometry(conn: Connection) -> bool:
    """Add the geometry columns and indexes where PostGIS is installed and they are missing; return whether they are there."""
    if not installed(conn):
        return False
    if not has_geometry(conn):  # checked first: ALTER TABLE locks the table even when it changes nothing
        for statement in _ADD:
            conn.exec_driver_sql(statement)
    return True


def drop_geometry(conn: Connection) -> None:
    """Remove the geometry columns and their indexes (the revision's downgrade)."""
    if conn.dialect.name == "postgresql":
        for table in GEOMETRIES:
            conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {GEOMETRY_COLUMN}")


# ------------------------------------------------------------------ the bounding-box condition
class InBox(FunctionElement):
    """``lon``/``lat`` within a box, written for each engine when the statement is compiled (and cached)."""

    type = NullType()  # a condition written whole: typed Boolean, SQLite would get "= 1" appended
    inherit_cache = True
    name = "in_box"


def in_box(lon, lat, bbox) -> InBox:
    """Return the condition "the point (``lon``, ``lat``) lies in ``bbox`` = (min lon, min lat, max lon, max lat)"."""
    min_lon, min_lat, max_lon, max_lat = bbox
    return InBox(lon, lat, min_lon, min_lat, max_lon, max_lat)


def note_geometry(engine: Engine, present: bool) -> None:
    """Tell the engine's statements whether ``proposals.geom`` is there to answer boxes (``migrations.upgrade`` does)."""
    engine.dialect.dialogkarta_geometry = present  # type: ignore[attr-defined]


@compiles(InBox)
def _in_box_scanned(element, compiler, **kw) -> str:
    # "+ 0" keeps SQLite off the (lon, lat) index: a locality's proposals are so close together
    # that most boxes hold most of them, and reading them by that index and sorting them again
    # took 3-5 s at 200 000 proposals; a scan in id or created_at order is bounded (0.1 s).
    lon, lat, min_lon, min_lat, max_lon, max_lat = (compiler.process(c, **kw) for c in element.clauses)
    return f"(({lon} + 0) BETWEEN {min_lon} AND {max_lon} AND ({lat} + 0) BETWEEN {min_lat} AND {max_lat})"


@compiles(InBox, "postgresql")
def _in_box_indexed(element, compiler, **kw) -> str:
    # PostgreSQL plans by its statistics: at 100 000 proposals a 500 m box took 56 ms as a scan,
    # 3.1 ms on the (lon, lat) btree and 2.7 ms on the GiST index (bench/postgis_bbox.py).
    lon, lat, min_lon, min_lat, max_lon, max_lat = (compiler.process(c, **kw) for c in element.clauses)
    if getattr(compiler.dialect, "dialogkarta_geometry", False):
        geom = lon.removesuffix("lon") + GEOMETRY_COLUMN  # "proposals.lon" -> "proposals.geom"
        return f"({geom} && ST_MakeEnvelope({min_lon}, {min_lat}, {max_lon}, {max_lat}, 4326))"
    return f"({lon} BETWEEN {min_lon} AND {max_lon} AND {lat} BETWEEN {min_lat} AND {max_lat})"

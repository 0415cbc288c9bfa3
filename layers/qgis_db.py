"""What QGIS reads straight from a PostGIS store: geometry, views, default styles and a read-only role.

``install`` (called by ``store.init_db`` with the locality) keeps, in one transaction and only on
PostgreSQL with the ``postgis`` extension (elsewhere it does nothing):

- ``layer_features.geom``: ``geometry(Geometry, 4326)`` computed by the database from the ``wkb``
  column (a stored generated column, so no code path writes it), with a GiST index;
- a view per declared layer, ``layer_<name>`` (its current version; declared fields as text, a
  typed geometry ``geom``), and ``public_proposals`` (exactly the public export's fields, no hidden
  proposal, positions snapped to ``PUBLIC_GRID_M``) and ``planner_proposals`` (every proposal at its
  exact position, with the joins and the planner's fields; never a name or an e-mail address);
- QGIS's own ``layer_styles`` table (the schema QGIS 3.22 creates) with each view's default style,
  the QML the GeoPackage export writes (``layers.styles``).

It is idempotent and cheap when nothing changed (a digest of the definitions is kept as the
comment of ``public_proposals``), and keeps the SELECT grants of views it re-creates. All of it is
PostgreSQL-only DDL, kept here so that it can move into a migration. ``create_reader`` makes the
login role QGIS connects as. No Flask here.
"""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import Connection, Engine, String, event, func, select, text
from sqlalchemy.exc import DBAPIError

from .locality import Layer, Locality
from .schema import metadata
from .styles import Style, layer_style, proposals_style

READER_ROLE = "dialogkarta_qgis"
STYLE_OWNER = "dialogkarta"
PUBLIC_VIEW, PLANNER_VIEW = "public_proposals", "planner_proposals"
_LOCK_KEY = 5_810_241_809  # serialises installs from servers starting at once
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

_LAYER_STYLES = (
    "CREATE TABLE IF NOT EXISTS layer_styles(id SERIAL PRIMARY KEY,f_table_catalog varchar,f_table_schema varchar,"
    "f_table_name varchar,f_geometry_column varchar,styleName text,styleQML xml,styleSLD xml,useAsDefault boolean,"
    "description text,owner varchar(63) DEFAULT CURRENT_USER,ui xml,update_time timestamp DEFAULT CURRENT_TIMESTAMP,"
    "type varchar)"
)  # exactly QGIS 3.22's own statement, so QGIS finds what it expects
_GEOMETRY = (
    "ALTER TABLE layer_features ADD COLUMN IF NOT EXISTS geom geometry(Geometry, 4326) "
    "GENERATED ALWAYS AS (ST_GeomFromWKB(wkb, 4326)) STORED",
    "CREATE INDEX IF NOT EXISTS ix_layer_features_geom ON layer_features USING gist (geom)",
)


class QgisSetupError(ValueError):
    """The store cannot be set up for QGIS as asked (not PostGIS, a bad role name, no right to create roles)."""


def has_postgis(conn: Connection) -> bool:
    """Return whether the store is PostgreSQL with the ``postgis`` extension created."""
    if conn.dialect.name != "postgresql":
        return False
    return conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")).first() is not None


def _ready(conn: Connection) -> bool:
    """Whether ``layer_styles``, ``layer_features.geom`` and its index exist already."""
    found = conn.execute(
        text(
            "SELECT to_regclass('layer_styles') IS NOT NULL AND to_regclass('ix_layer_features_geom') IS NOT NULL "
            "AND EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = 'layer_features' AND column_name = 'geom')"
        )
    ).scalar()
    return bool(found)


def layer_view(name: str) -> str:
    """Return the name of a layer's view (``development-areas`` -> ``layer_development_areas``)."""
    return "layer_" + name.replace("-", "_")


def install(engine: Engine, locality: Locality, public_grid_m: float = 0) -> bool:
    """Bring geometry, views, styles and grants up to date; return False (and do nothing) without PostGIS."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.begin() as conn:
        if not has_postgis(conn):
            return False
        conn.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))
        if not _ready(conn):  # checked first: ALTER TABLE would lock the layers' rows even when nothing is missing
            for statement in (_LAYER_STYLES, *_GEOMETRY):
                conn.exec_driver_sql(statement)
        kinds = _service_kinds(conn, locality)
        views = _views(conn, locality, kinds, public_grid_m)
        styles = _styles(locality)
        digest = hashlib.sha256(repr((views, sorted((k, s.qml, s.sld) for k, s in styles.items()))).encode()).hexdigest()
        comment = conn.execute(text(f"SELECT obj_description(to_regclass('{PUBLIC_VIEW}'), 'pg_class')")).scalar()
        if comment == f"dialogkarta {digest}":
            return True
        for name, body in views.items():
            _replace_view(conn, name, body)
        _write_styles(conn, styles)
        conn.exec_driver_sql(f"COMMENT ON VIEW {PUBLIC_VIEW} IS 'dialogkarta {digest}'")
    return True


def view_names(locality: Locality) -> list[str]:
    """Return every view ``install`` makes, the proposals' first."""
    return [PUBLIC_VIEW, PLANNER_VIEW, *(layer_view(layer.name) for layer in locality.layers)]


def create_reader(
    engine: Engine, locality: Locality, role: str = READER_ROLE, password: str | None = None, public_grid_m: float = 0
) -> None:
    """Create (or update) a login role that may read the views and styles and nothing else.

    The views are brought up to date first (``install``, with the app's ``PUBLIC_GRID_M``). Needs a
    database user allowed to create roles (``CREATEROLE``) that owns the views. PostGIS lets every
    role read ``spatial_ref_sys`` already.
    """
    if not _ROLE_NAME.match(role):
        raise QgisSetupError(f"a role name is lower-case letters, digits and _, got {role!r}")
    if not install(engine, locality, public_grid_m):
        raise QgisSetupError("the QGIS views need PostgreSQL with the postgis extension (CREATE EXTENSION postgis)")
    try:
        _create_reader(engine, locality, role, password)
    except DBAPIError as exc:
        raise QgisSetupError(f"PostgreSQL refused: {str(exc.orig).strip().splitlines()[0]}") from None


def _create_reader(engine: Engine, locality: Locality, role: str, password: str | None) -> None:
    with engine.begin() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}).first() is not None
        secret = f" PASSWORD {_literal(conn, password)}" if password is not None else ""
        verb = "ALTER" if exists else "CREATE"
        conn.exec_driver_sql(f"{verb} ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT{secret}")
        conn.exec_driver_sql(f"ALTER ROLE {role} SET default_transaction_read_only = on")
        database = conn.exec_driver_sql("SELECT current_database()").scalar()
        conn.exec_driver_sql(f'GRANT CONNECT ON DATABASE "{database}" TO {role}')
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {_schema(conn)} TO {role}")
        for name in (*view_names(locality), "layer_styles"):
            if conn.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar() is not None:
                conn.exec_driver_sql(f"GRANT SELECT ON {name} TO {role}")


# --------------------------------------------------------------------------- views
def _literal(conn: Connection, value: str) -> str:
    return String().literal_processor(dialect=conn.dialect)(value)


def _ident(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _schema(conn: Connection) -> str:
    return str(conn.exec_driver_sql("SELECT current_schema()").scalar())


def _current(conn: Connection, layer: str) -> str:
    """SQL naming the current version's rows of a layer (alias ``f``)."""
    name = _literal(conn, layer)
    return (
        f"layer_features f WHERE f.layer = {name} "
        f"AND f.version = (SELECT max(v.version) FROM layer_features v WHERE v.layer = {name})"
    )


def _geometry(layer: Layer) -> str:
    """The typed geometry a layer's view shows (one type per view, as QGIS prefers)."""
    kind = layer.geometry_type.lower()
    if "point" in kind:
        return "f.geom::geometry(Point, 4326)"
    if "line" in kind:
        return "ST_Multi(f.geom)::geometry(MultiLineString, 4326)"
    return "ST_Multi(f.geom)::geometry(MultiPolygon, 4326)"


def _layer_view(conn: Connection, layer: Layer) -> str:
    fields = [field for field in layer.fields if field not in ("fid", "geom", "version")]
    columns = "".join(f", f.properties::jsonb ->> {_literal(conn, field)} AS {_ident(conn, field)}" for field in fields)
    return f"SELECT f.fid, f.version{columns}, {_geometry(layer)} AS geom FROM {_current(conn, layer.name)}"


def _service_kinds(conn: Connection, locality: Locality) -> list[str]:
    """The kinds that get nearest-service columns: declared first, then any the current services hold (as exports do)."""
    declared = list(locality.service_kinds)
    services = next((layer for layer in locality.layers if layer.role == "services"), None)
    if services is None:
        return declared
    present = conn.execute(
        text(f"SELECT DISTINCT f.properties::jsonb ->> 'kind' AS kind FROM {_current(conn, services.name)} ORDER BY 1")
    ).scalars()
    return declared + [kind for kind in present if kind and kind not in declared]


def _proposals_view(conn: Connection, locality: Locality, kinds: list[str], grid_m: float, planner: bool) -> str:
    """One SELECT per audience, column for column what ``layers.export`` writes for it (besides the geometry)."""
    q = lambda value: _literal(conn, value)  # noqa: E731
    labels = " ".join(f"WHEN {q(c.id)} THEN {q(c.label('sv'))}" for c in locality.categories)
    category_label = f"CASE p.category {labels} ELSE p.category END" if labels else "p.category"
    areas = next((layer.name for layer in locality.layers if layer.role == "areas"), "")
    generalise = grid_m > 0 and not planner

    def metres(column: str) -> str:
        tenths = f"round(({column})::numeric, 1)::double precision"  # as the store reads distances: 0.1 m
        return f"round({tenths} / {grid_m!r}) * {grid_m!r}" if generalise else tenths

    nearest = "".join(
        f", max(s.service_name) FILTER (WHERE s.kind = {q(kind)}) AS {_ident(conn, f'nearest_{kind}')}"
        f", {metres(f'max(s.distance_m) FILTER (WHERE s.kind = {q(kind)})')} AS {_ident(conn, f'nearest_{kind}_m')}"
        for kind in kinds
    )
    nearest_columns = "".join(f", n.{_ident(conn, f'nearest_{kind}')}, n.{_ident(conn, f'nearest_{kind}_m')}" for kind in kinds)
    planner_columns = ""
    if planner:
        nearest += "".join(
            f", max(s.within_count) FILTER (WHERE s.kind = {q(kind)}) AS {_ident(conn, f'within_{kind}')}"
            f", max(s.radius_m) FILTER (WHERE s.kind = {q(kind)}) AS {_ident(conn, f'within_{kind}_radius_m')}"
            for kind in kinds
        )
        nearest_columns += "".join(
            f", n.{_ident(conn, f'within_{kind}')}, n.{_ident(conn, f'within_{kind}_radius_m')}" for kind in kinds
        )
        planner_columns = (
            ", p.department, p.also_departments, p.meeting, p.hidden, p.hidden_reason"
            ", (SELECT count(*) FROM flags g WHERE g.proposal_id = p.id)::integer AS flag_count"
        )
    point = "ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)"
    if generalise:
        metric = f"ST_Transform({point}, 3006)"
        cell = f"(floor(ST_X({metric}) / {grid_m!r}) + 0.5) * {grid_m!r}, (floor(ST_Y({metric}) / {grid_m!r}) + 0.5) * {grid_m!r}"
        point = f"ST_SnapToGrid(ST_Transform(ST_SetSRID(ST_MakePoint({cell}), 3006), 4326), 0.0000001)"
    return f"""SELECT p.public_id AS id, p.category, {category_label} AS category_label, p.title, p.description,
  p.channel, p.status,
  (SELECT h.note FROM status_history h WHERE h.proposal_id = p.id AND h.note IS NOT NULL AND h.note <> ''
    ORDER BY h.changed_at DESC, h.id DESC LIMIT 1) AS status_note,
  p.created_at, p.updated_at,
  (SELECT count(*) FROM supports u WHERE u.proposal_id = p.id)::integer AS support_count,
  coalesce(a.area_ids, '') AS area_ids, coalesce(a.area_names, '') AS area_names{nearest_columns},
  r.answer, r.answered_at, r.answer_count, r.answer_department,
  coalesce(ps.kind, 'point') AS geometry_kind, ps.length_m, ps.area_m2, sa.shape_areas{planner_columns},
  {point}::geometry(Point, 4326) AS geom
FROM proposals p
LEFT JOIN LATERAL (
  SELECT string_agg(pa.area_id, ';' ORDER BY pa.area_id) AS area_ids,
    string_agg(coalesce(n.name, pa.area_id), ';' ORDER BY pa.area_id) AS area_names
  FROM proposal_areas pa
  LEFT JOIN (SELECT f.feature_id, f.properties::jsonb ->> 'name' AS name FROM {_current(conn, areas)}) n
    ON n.feature_id = pa.area_id
  WHERE pa.proposal_id = p.id) a ON true
LEFT JOIN LATERAL (SELECT 1 AS one{nearest} FROM proposal_services s WHERE s.proposal_id = p.id) n ON true
LEFT JOIN LATERAL (
  SELECT (array_agg(w.body ORDER BY w.answered_at DESC, w.id DESC))[1] AS answer,
    max(w.answered_at) AS answered_at, count(*)::integer AS answer_count,
    (array_agg(w.department ORDER BY w.answered_at DESC, w.id DESC))[1] AS answer_department
  FROM answers w WHERE w.proposal_id = p.id) r ON true
LEFT JOIN proposal_shapes ps ON ps.proposal_id = p.id
LEFT JOIN LATERAL (  -- as layers.proposal_shapes.export_values writes shape_areas
  SELECT string_agg(CASE WHEN ps.kind = 'line'
      THEN (e.area ->> 'id') || ': ' || round((e.area ->> 'length_m')::numeric, 1)::text || ' m'
      ELSE (e.area ->> 'id') || ': ' || round((e.area ->> 'overlap_m2')::numeric, 0)::text || ' m² ('
        || round((e.area ->> 'share_of_shape_pct')::numeric, 1)::text || ' ' || chr(37) || ')' END, '; ' ORDER BY e.place) AS shape_areas
  FROM jsonb_array_elements(ps.joins::jsonb -> 'areas') WITH ORDINALITY AS e(area, place)) sa ON ps.proposal_id IS NOT NULL
{"" if planner else "WHERE NOT p.hidden"}"""


def _views(conn: Connection, locality: Locality, kinds: list[str], grid_m: float) -> dict[str, str]:
    views = {
        PUBLIC_VIEW: _proposals_view(conn, locality, kinds, grid_m, planner=False),
        PLANNER_VIEW: _proposals_view(conn, locality, kinds, grid_m, planner=True),
    }
    views.update({layer_view(layer.name): _layer_view(conn, layer) for layer in locality.layers})
    return views


def _replace_view(conn: Connection, name: str, body: str) -> None:
    # Dropped and made again (a changed column list cannot be replaced in place); its readers keep their grant.
    readers = (
        conn.execute(
            text(
                "SELECT DISTINCT grantee FROM information_schema.role_table_grants "
                "WHERE table_name = :name AND privilege_type = 'SELECT' AND grantee <> current_user"
            ),
            {"name": name},
        )
        .scalars()
        .all()
    )
    conn.exec_driver_sql(f"DROP VIEW IF EXISTS {name}")
    conn.exec_driver_sql(f"CREATE VIEW {name} AS {body}")
    for reader in readers:
        conn.exec_driver_sql(f"GRANT SELECT ON {name} TO {_ident(conn, reader)}")


# -------------------------------------------------------------------------- styles
def _styles(locality: Locality) -> dict[str, Style]:
    """``{view: its default style}``: the QML and SLD the GeoPackage export writes."""
    out = {PUBLIC_VIEW: proposals_style(locality), PLANNER_VIEW: proposals_style(locality)}
    out.update({layer_view(layer.name): layer_style(layer, locality) for layer in locality.layers})
    return out


def _write_styles(conn: Connection, styles: dict[str, Style]) -> None:
    """Replace our rows of ``layer_styles`` (a style a planner saved there under another owner stays).

    ``type`` stays NULL: QGIS matches a style on ``type = <the layer's geometry kind> OR type IS NULL``,
    and a layer opened from a URI without ``type=`` has no kind to match, so NULL suits every way in.
    """
    database, schema = conn.exec_driver_sql("SELECT current_database(), current_schema()").one()
    conn.execute(
        text("DELETE FROM layer_styles WHERE owner = :owner AND f_table_schema = :schema AND f_table_name = ANY(:names)"),
        {"owner": STYLE_OWNER, "schema": schema, "names": list(styles)},
    )
    conn.execute(
        text(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, "
            "styleQML, styleSLD, useAsDefault, description, owner, ui, update_time, type) VALUES (:catalog, :schema, "
            ":table, 'geom', :name, XMLPARSE(DOCUMENT :qml), XMLPARSE(DOCUMENT :sld), true, :description, :owner, NULL, "
            "now() AT TIME ZONE 'UTC', NULL)"
        ),
        [
            {
                "catalog": database,
                "schema": schema,
                "table": view,
                "name": style.name,
                "qml": style.qml,
                "sld": style.sld,
                "description": style.description,
                "owner": STYLE_OWNER,
            }
            for view, style in styles.items()
        ],
    )


# ----------------------------------------------- beside layers.schema, for maintenance
# What ``install`` adds to a PostGIS store beside ``layers.schema`` (``layers.maintenance`` checks a
# store against both). Backups leave the views and ``layer_styles`` out, and a restore refuses any
# view: ``install`` makes them again from this code, so a restored file can never define them.
EXTRA_TABLES = {
    "layer_styles": frozenset(
        {
            "id",
            "f_table_catalog",
            "f_table_schema",
            "f_table_name",
            "f_geometry_column",
            "stylename",
            "styleqml",
            "stylesld",
            "useasdefault",
            "description",
            "owner",
            "ui",
            "update_time",
            "type",
        }
    )
}
EXTRA_SEQUENCES = ("layer_styles_id_seq",)  # pg_dump keeps a SERIAL's sequence when its table is left out
EXTRA_COLUMNS = {"layer_features": frozenset({"geom"})}
EXTRA_INDEXES = frozenset({"ix_layer_features_geom", "layer_styles_pkey"})
_LAYER_VIEW = re.compile(r"^layer_[a-z0-9_]+$")


def is_view(name: str) -> bool:
    """Whether a view of that name is one ``install`` makes."""
    return name in (PUBLIC_VIEW, PLANNER_VIEW) or bool(_LAYER_VIEW.match(name))


def views_present(conn: Connection) -> list[str]:
    """Return the views ``install`` made that the store holds now."""
    if conn.dialect.name != "postgresql":
        return []
    names = conn.execute(text("SELECT table_name FROM information_schema.views WHERE table_schema = current_schema()"))
    return [name for name in names.scalars() if is_view(name)]


def drop_views(conn: Connection) -> None:
    """Drop the views ``install`` made (before their tables are dropped or replaced); the next start makes them again."""
    for name in views_present(conn):
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {_ident(conn, name)}")


@event.listens_for(metadata, "before_drop")
def _drop_views(_metadata, connection: Connection, **_kw) -> None:
    drop_views(connection)  # metadata.drop_all (tests empty a store so) would stop at the tables they read

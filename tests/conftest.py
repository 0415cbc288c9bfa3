"""Shared fixtures: an app on a temporary database, its client and CLI runner, and napkin-sized frames."""

from __future__ import annotations

import os

import geopandas as gpd
import pytest
import shapely

from dialogkarta.geo.crs import SWEREF99TM, WGS84
from dialogkarta.layers.locality import load_locality
from dialogkarta.layers.registry import LayerRegistry
from dialogkarta.layers.schema import metadata
from dialogkarta.layers.store import init_db, make_engine
from flask.testing import FlaskCliRunner

from dialogkarta.testing import UnversionedWrites
from dialogkarta.webmap.app import create_app
from dialogkarta.cli import cli as dialogkarta_cli

# An origin in Dalby, in SWEREF 99 TM metres; the small frames below are drawn around it.
ORIGIN_E, ORIGIN_N = 396300.0, 6170000.0


# The suite runs on SQLite; set DIALOGKARTA_TEST_DATABASE_URL (e.g. a PostgreSQL URL) to run the
# store-backed tests against that database instead, emptied before each test.
TEST_DATABASE_URL = os.environ.get("DIALOGKARTA_TEST_DATABASE_URL")
on_sqlite_only = pytest.mark.skipif(
    bool(TEST_DATABASE_URL) and not TEST_DATABASE_URL.startswith("sqlite"), reason="checks something only SQLite has"
)


def fresh_database_url(tmp_path, filename: str) -> str:
    """Return the URL of an empty store: a new SQLite file, or the emptied test database."""
    if not TEST_DATABASE_URL:
        return f"sqlite:///{tmp_path / filename}"
    engine = make_engine(TEST_DATABASE_URL)
    metadata.drop_all(engine)
    with engine.begin() as conn:  # the store starts over at no revision, so init_db creates it at the head
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        conn.exec_driver_sql("DROP TABLE IF EXISTS layer_styles")  # layers.qgis_db's, made again at the next start
    engine.dispose()
    return TEST_DATABASE_URL


@pytest.fixture(autouse=True)
def every_list_write_is_versioned():
    """Across the whole suite: the application never changes a listed table without ``store.note_changes``.

    The lists and map caches each process keeps follow ``store.list_version`` alone; a write that
    forgot to bump it would leave them stale in every other process (see ``UnversionedWrites``).
    """
    with UnversionedWrites() as watch:
        yield watch
    assert not watch.violations, f"written without store.note_changes in the transaction: {watch.violations}"


@pytest.fixture
def app(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": fresh_database_url(tmp_path, "test.sqlite"),
            "SECRET_KEY": "test-secret",
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": True,
        }
    )
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


class DialogkartaRunner(FlaskCliRunner):
    """flaskr's CLI runner, invoking the ``dialogkarta`` group rather than ``flask``."""

    def invoke(self, cli=None, args=None, **kwargs):
        return super().invoke(cli or dialogkarta_cli, args, **kwargs)


@pytest.fixture
def runner(app):
    return DialogkartaRunner(app)


@pytest.fixture(scope="session")
def locality():
    return load_locality()


@pytest.fixture
def registry(locality):
    return LayerRegistry(locality)


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(fresh_database_url(tmp_path, "store.sqlite"))
    init_db(engine)
    yield engine
    engine.dispose()


def metric_frame(geometries, crs=SWEREF99TM, **columns) -> gpd.GeoDataFrame:
    """Return a frame of geometries given in SWEREF 99 TM offsets from the origin, in ``crs``."""
    shifted = [shapely.affinity.translate(g, ORIGIN_E, ORIGIN_N) for g in geometries]
    frame = gpd.GeoDataFrame(columns, geometry=shifted, crs=SWEREF99TM)
    return frame if crs == SWEREF99TM else frame.to_crs(crs)


@pytest.fixture
def two_squares():
    """Two overlapping 100 m squares: A at (0..100, 0..100), B at (50..150, 0..100)."""
    return metric_frame([shapely.box(0, 0, 100, 100), shapely.box(50, 0, 150, 100)], id=["A", "B"], name=["Area A", "Area B"])


@pytest.fixture
def three_points():
    """Points in A only, in both A and B, and in neither."""
    return metric_frame(
        [shapely.Point(25, 50), shapely.Point(75, 50), shapely.Point(300, 50)], crs=WGS84, label=["in A", "in A and B", "outside"]
    )


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A redis-server of this test session's own; its tests skip without one, or fail with DIALOGKARTA_REQUIRE_REDIS=1."""
    import shutil

    from dialogkarta.testing import RedisServer

    try:
        import redis  # noqa: F401
    except ImportError:
        redis = None
    if redis is None or shutil.which("redis-server") is None:
        reason = "needs redis-server (apt-get install redis-server) and the redis package (the [redis] extra)"
        if os.environ.get("DIALOGKARTA_REQUIRE_REDIS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    with RedisServer(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def redis_url(redis_server):
    """The session's Redis, emptied for this test."""
    import redis

    redis.Redis.from_url(redis_server).flushdb()
    return redis_server

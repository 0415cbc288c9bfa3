"""Every bundled layer loads through the registry, valid and complete; localities are data; imported layers come from the store."""

import shutil

import pytest
import shapely

from dialogkarta.geo.crs import to_sweref
from dialogkarta.layers import layer_store
from dialogkarta.layers.locality import LocalityConfigError, load_locality
from dialogkarta.layers.registry import LayerRegistry, UnknownLayer
from dialogkarta.layers.store import make_engine


def test_every_bundled_layer_loads_valid_in_wgs84_with_unique_ids_and_its_fields(registry):
    for layer in registry:
        frame = registry.frame(layer.name)
        assert len(frame) > 0, layer.name
        assert frame.crs.to_epsg() == 4326, layer.name
        assert frame.is_valid.all(), layer.name
        assert frame["id"].is_unique, layer.name
        missing = set(layer.fields) - set(frame.columns)
        assert not missing, f"{layer.name} lacks {missing}"
        assert set(frame.geom_type) <= {layer.geometry_type, "Multi" + layer.geometry_type}, layer.name


def test_dalby_has_the_required_development_areas_and_at_least_20_services(registry):
    areas = registry.areas()
    names = " ".join(areas["name"])
    for required in ("Påskagänget södra", "Kvarnskon–Vattenrännan", "Stationsområdet", "Hagalund"):
        assert required in names
    assert (areas["plan_ref"] == "Dalby 63:105 (PÄ 04/2024)").any()
    services = registry.services()
    assert len(services) >= 20
    assert {"school", "preschool", "library", "bus_stop", "park", "sports", "nature", "church", "youth_centre"} <= set(
        services["kind"]
    )


def test_sketched_features_say_so_and_quote_their_basis(registry):
    for name in ("locality", "development-areas", "service-locations"):
        frame = registry.frame(name)
        assert set(frame["data_status"]) <= {"verified", "illustrative"}
        assert frame["basis"].str.len().min() > 20


def test_dalby_kyrka_is_at_its_verified_position(registry):
    services = registry.services().set_index("id")
    church = services.loc["kyrka"]
    assert church["data_status"] == "verified"
    easting, northing = to_sweref(church.geometry.x, church.geometry.y)
    assert float(easting) == pytest.approx(395841.8, abs=0.5)
    assert float(northing) == pytest.approx(6169976.6, abs=0.5)


def test_the_boundary_holds_the_verified_points_and_the_planned_areas(registry):
    boundary = registry.boundary()
    for name in ("reference-points", "scb-tatort-point"):
        for point in registry.frame(name).geometry:
            if point.x > 13.3:  # Lund C is also a reference point, 11 km away
                assert boundary.covers(point)
    assert boundary.covers(shapely.union_all(registry.areas().geometry.to_numpy()))


def test_an_unknown_layer_is_a_clear_error(registry):
    with pytest.raises(UnknownLayer, match="nowhere"):
        registry.get("nowhere")


def test_another_locality_is_just_another_folder(tmp_path, locality):
    folder = tmp_path / "elsewhere"
    shutil.copytree(locality.directory, folder)
    text = (folder / "locality.toml").read_text(encoding="utf-8").replace('name = "Dalby"', 'name = "Elsewhere"')
    (folder / "locality.toml").write_text(text, encoding="utf-8")
    other = LayerRegistry(load_locality(folder))
    assert other.locality.name == "Elsewhere"
    assert len(other.services()) == len(LayerRegistry(locality).services())


def test_a_routing_rule_naming_an_unknown_department_is_refused(tmp_path, locality):
    folder = tmp_path / "broken"
    shutil.copytree(locality.directory, folder)
    config = folder / "locality.toml"
    config.write_text(config.read_text(encoding="utf-8") + '\n[[routing]]\ndepartment = "nobody"\n', encoding="utf-8")
    with pytest.raises(LocalityConfigError, match="nobody"):
        load_locality(folder)


def test_a_missing_locality_folder_is_a_clear_error(tmp_path):
    with pytest.raises(LocalityConfigError, match="locality.toml"):
        load_locality(tmp_path)


def _import(engine, name, frame):
    """Store ``frame`` as the next version of layer ``name``, as an import does."""
    with engine.begin() as conn:
        return layer_store.add_version(conn, name, layer_store.encode(frame, name), features=len(frame))


def test_a_layer_imported_into_the_store_replaces_the_bundled_layer(engine, locality):
    registry = LayerRegistry(locality, engine)
    areas = registry.areas()
    assert registry.current_version("development-areas") == layer_store.BUNDLED
    assert _import(engine, "development-areas", areas.iloc[:1]) == 1
    assert registry.current_version("development-areas") == 1
    assert list(registry.areas()["id"]) == list(areas["id"].iloc[:1])
    assert len(registry.services()) == len(LayerRegistry(locality).services())  # the others stay bundled


def test_a_layer_imported_by_another_process_is_picked_up_without_a_restart(engine, locality):
    registry = LayerRegistry(locality, engine)
    assert len(registry.area_index().ids) == 4
    generation = registry.version
    other = LayerRegistry(locality, make_engine(engine.url.render_as_string(hide_password=False)))  # another worker
    _import(other.engine, "development-areas", other.areas().iloc[:2])
    assert registry.version != generation  # the map's cache key moves before any layer is read
    assert len(registry.areas()) == 2
    assert len(registry.area_index().ids) == 2
    other.engine.dispose()


def test_files_an_earlier_release_imported_are_adopted_once(engine, locality, tmp_path):
    registry = LayerRegistry(locality, engine)
    registry.areas().iloc[:3].to_file(tmp_path / "development-areas.gpkg", driver="GPKG")
    assert layer_store.adopt_files(engine, tmp_path, registry.names()) == ["development-areas"]
    assert layer_store.adopt_files(engine, tmp_path, registry.names()) == []
    assert registry.current_version("development-areas") == 1 and len(registry.areas()) == 3

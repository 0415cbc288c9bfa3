"""Every bundled layer loads through the registry, valid and complete; localities are data."""
import shutil

import pytest
import shapely

from dialogkarta.geo.crs import to_sweref
from dialogkarta.layers.locality import LocalityConfigError, load_locality
from dialogkarta.layers.registry import LayerRegistry, UnknownLayer


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
    assert {"school", "preschool", "library", "bus_stop", "park", "sports", "nature", "church", "youth_centre"} <= set(services["kind"])


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


def test_an_imported_override_replaces_the_bundled_layer(tmp_path, locality):
    registry = LayerRegistry(locality, override_dir=tmp_path)
    areas = registry.areas()
    smaller = areas.iloc[:1]
    smaller.to_file(tmp_path / "development-areas.gpkg", driver="GPKG")
    assert registry.source_path("development-areas") == tmp_path / "development-areas.gpkg"
    assert len(registry.areas()) == 1


def test_a_layer_replaced_by_another_process_is_picked_up_without_a_restart(tmp_path, locality):
    registry = LayerRegistry(locality, override_dir=tmp_path)
    assert len(registry.area_index().ids) == 4
    registry.areas().iloc[:2].to_file(tmp_path / "development-areas.gpkg", driver="GPKG")  # as an import would
    assert len(registry.areas()) == 2
    assert len(registry.area_index().ids) == 2

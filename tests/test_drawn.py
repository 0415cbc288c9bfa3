"""Shapes residents draw: the asked kind, finite positions, a vertex limit, inside the locality, repaired when crossing."""

import pytest
import shapely

from dialogkarta.geo.drawn import check_drawn
from dialogkarta.geo.errors import InvalidGeometry, OutsideLocality

BOUNDARY = shapely.box(13.30, 55.64, 13.40, 55.69)


def ring(x0, y0, x1, y1):
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def test_an_area_with_a_hole_keeps_its_hole():
    drawn = check_drawn({"type": "Polygon", "coordinates": [ring(13.34, 55.66, 13.36, 55.67), ring(13.345, 55.662, 13.35, 55.665)]},
                        "polygon", BOUNDARY)  # fmt: skip
    assert len(drawn.geometry.interiors) == 1 and drawn.repair is None


def test_an_area_on_the_boundary_edge_is_inside():
    assert (
        check_drawn({"type": "Polygon", "coordinates": [ring(13.30, 55.64, 13.31, 55.65)]}, "polygon", BOUNDARY).geometry.area > 0
    )


def test_a_line_crossing_the_boundary_is_outside():
    with pytest.raises(OutsideLocality, match="A line lies wholly or partly outside"):
        check_drawn({"type": "LineString", "coordinates": [[13.35, 55.66], [13.45, 55.66]]}, "line", BOUNDARY)


def test_an_area_of_points_in_a_row_has_nothing_left_to_repair():
    flat = [[13.35, 55.66], [13.36, 55.66], [13.37, 55.66], [13.35, 55.66]]
    with pytest.raises(InvalidGeometry, match="no area is left"):
        check_drawn({"type": "Polygon", "coordinates": [flat]}, "polygon", BOUNDARY)


def test_vertex_and_hole_limits_count_every_ring():
    many = [[13.35 + i * 1e-5, 55.66 + (i % 2) * 1e-5] for i in range(600)]
    with pytest.raises(InvalidGeometry, match="At most 1000 points"):
        check_drawn({"type": "Polygon", "coordinates": [many + many[:1], many + many[:1]]}, "polygon", BOUNDARY)
    holes = [ring(13.341 + i * 1e-4, 55.661, 13.34105 + i * 1e-4, 55.66105) for i in range(21)]
    with pytest.raises(InvalidGeometry, match="At most 20 holes"):
        check_drawn({"type": "Polygon", "coordinates": [ring(13.34, 55.66, 13.36, 55.67), *holes]}, "polygon", BOUNDARY)


@pytest.mark.parametrize("value", [None, [], {"type": "Point"}, {"type": "Point", "coordinates": [float("nan"), 55.66]},
                                   {"type": "Point", "coordinates": [True, 55.66]}, {"type": "Point", "coordinates": [200, 55.66]}])  # fmt: skip
def test_malformed_points_are_refused(value):
    with pytest.raises(InvalidGeometry):
        check_drawn(value, "point", BOUNDARY)

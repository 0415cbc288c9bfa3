"""Shapes residents draw: the asked kind, finite positions, a vertex limit, inside the locality, repaired when crossing."""

import pytest
import shapely

from dialogkarta.geo.drawn import DrawnShape, check_drawn
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


WORLD = shapely.box(-180, -90, 180, 90)


def refusal(value, kind, boundary=BOUNDARY):
    with pytest.raises((InvalidGeometry, OutsideLocality)) as refused:
        check_drawn(value, kind, boundary, "Dalby")
    return refused.value.code, refused.value.messages["sv"], refused.value.messages["en"]


@pytest.mark.parametrize(
    "value, kind, sv, en",
    [
        (
            {"type": "Point", "coordinates": [13.35, 55.66]},
            "line",
            "Svaret ska vara en linje (GeoJSON LineString).",
            "The answer must be a line (GeoJSON LineString).",
        ),
        (
            {"type": "Polygon"},
            "polygon",
            "Svaret ska vara en yta (GeoJSON Polygon).",
            "The answer must be an area (GeoJSON Polygon).",
        ),
        (
            {"type": "Point", "coordinates": [13.35, 55.66, 0, 1]},
            "point",
            "En position ska vara [lon, lat] med tal.",
            "A position must be [lon, lat] in numbers.",
        ),
        (
            {"type": "Point", "coordinates": [13.35, 91]},
            "point",
            "lon ska vara -180..180 och lat -90..90.",
            "lon must be -180..180 and lat -90..90.",
        ),
        (
            {"type": "LineString", "coordinates": "13.35,55.66"},
            "line",
            "Koordinaterna ska vara en lista.",
            "The coordinates must be a list.",
        ),
        (
            {"type": "LineString", "coordinates": [[13.35, 55.66], [13.35, 55.66]]},
            "line",
            "En linje behöver minst två olika punkter.",
            "A line needs at least two different points.",
        ),
        (
            {"type": "Polygon", "coordinates": []},
            "polygon",
            "En yta behöver minst en ring av punkter.",
            "An area needs at least one ring of points.",
        ),
        (
            {"type": "Polygon", "coordinates": [[[13.35, 55.66], [13.36, 55.66], [13.36, 55.67], [13.35, 55.67]]]},
            "polygon",
            "Varje ring i en yta ska ha minst fyra punkter och sluta där den börjar.",
            "Each ring of an area needs at least four points and must end where it starts.",
        ),
        (
            {"type": "Polygon", "coordinates": [[[13.35, 55.66], [13.36, 55.66], [13.35, 55.66]]]},
            "polygon",
            "Varje ring i en yta ska ha minst fyra punkter och sluta där den börjar.",
            "Each ring of an area needs at least four points and must end where it starts.",
        ),
    ],
)
def test_each_refusal_says_why_in_swedish_and_english(value, kind, sv, en):
    assert refusal(value, kind) == ("invalid_geometry", sv, en)


def test_a_shape_outside_is_named_by_its_kind_and_the_locality():
    assert refusal({"type": "Polygon", "coordinates": [ring(13.45, 55.66, 13.46, 55.67)]}, "polygon") == (
        "outside_locality",
        "En yta ligger helt eller delvis utanför Dalby. Rita innanför den markerade gränsen.",
        "An area lies wholly or partly outside Dalby. Draw inside the marked boundary.",
    )


def test_positions_may_carry_a_height_and_reach_the_edges_of_the_globe():
    for position in ([13.35, 55.66, 12.5], [-180, -90], [180, 90]):
        assert check_drawn({"type": "Point", "coordinates": position}, "point", WORLD) == DrawnShape(shapely.Point(position[:2]))


@pytest.mark.parametrize(
    "kind, count, refused", [("line", 500, False), ("line", 501, True), ("polygon", 1000, False), ("polygon", 1001, True)]
)
def test_a_drawn_shape_may_have_up_to_its_vertex_limit_counting_every_ring(kind, count, refused):
    if kind == "line":
        value = {"type": "LineString", "coordinates": [[13.35 + i * 1e-5, 55.66 + (i % 2) * 1e-5] for i in range(count)]}
    else:  # an outer ring of 5 positions and a hole of the rest
        value = {"type": "Polygon", "coordinates": [ring(13.34, 55.66, 13.36, 55.67), _closed_ring(count - 5)]}
    if refused:
        limit = 500 if kind == "line" else 1000
        assert refusal(value, kind) == (
            "invalid_geometry",
            f"Högst {limit} punkter i en ritad form.",
            f"At most {limit} points in a drawn shape.",
        )
    else:
        assert check_drawn(value, kind, BOUNDARY).geometry.is_valid


def _closed_ring(points):
    """A thin closed ring of ``points`` positions inside ``ring(13.34, 55.66, 13.36, 55.67)``."""
    inner = [[13.345 + i * 1e-6, 55.665 + (i % 2) * 1e-7] for i in range(points - 2)]
    return [[13.345, 55.6651], *inner, [13.345, 55.6651]]


def test_an_area_may_have_twenty_holes_and_no_more():
    holes = [ring(13.341 + i * 1e-4, 55.661, 13.34105 + i * 1e-4, 55.66105) for i in range(21)]
    outer = ring(13.34, 55.66, 13.36, 55.67)
    assert (
        len(check_drawn({"type": "Polygon", "coordinates": [outer, *holes[:20]]}, "polygon", BOUNDARY).geometry.interiors) == 20
    )
    assert refusal({"type": "Polygon", "coordinates": [outer, *holes]}, "polygon")[1:] == (
        "Högst 20 hål i en yta.",
        "At most 20 holes in an area.",
    )


def test_a_self_crossing_area_is_repaired_and_the_reason_kept():
    bowtie = [[13.34, 55.66], [13.36, 55.67], [13.36, 55.66], [13.34, 55.67], [13.34, 55.66]]
    drawn = check_drawn({"type": "Polygon", "coordinates": [bowtie]}, "polygon", BOUNDARY)
    assert drawn.repair.startswith("Self-intersection") and drawn.geometry.is_valid and drawn.geometry.geom_type == "MultiPolygon"


def test_without_a_name_the_locality_is_called_orten():
    with pytest.raises(OutsideLocality) as refused:
        check_drawn({"type": "Point", "coordinates": [13.45, 55.66]}, "point", BOUNDARY)
    assert refused.value.messages["sv"] == "En punkt ligger helt eller delvis utanför orten. Rita innanför den markerade gränsen."


@pytest.mark.parametrize("position", [[180.5, 55.66], [-180.5, 55.66], [13.35, -90.5]])
def test_positions_just_off_the_globe_are_refused(position):
    assert refusal({"type": "Point", "coordinates": position}, "point", WORLD)[2] == "lon must be -180..180 and lat -90..90."


@pytest.mark.parametrize("stray", ["x", 42])
def test_a_ring_that_is_not_a_list_is_refused_as_such_even_at_the_vertex_limit(stray):
    rings = [ring(13.34, 55.66, 13.36, 55.67), _closed_ring(995), stray]  # 1 000 positions, then not a ring at all
    assert refusal({"type": "Polygon", "coordinates": rings}, "polygon")[2] == "The coordinates must be a list."

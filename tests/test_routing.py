"""The routing table: category, position and areas decide the department."""

import pytest

from dialogkarta.layers.locality import RoutingRule
from dialogkarta.layers.routing import route

RULES = (
    RoutingRule(category="traffic", near_kind="bus_stop", within_m=150, department="skanetrafiken"),
    RoutingRule(category="traffic", department="tekniska"),
    RoutingRule(category="school", department="utbildning"),
    RoutingRule(in_area="station", department="region", also=True),
    RoutingRule(in_area=True, also=True, department="stadsbyggnad"),
)


@pytest.mark.parametrize(
    "category, areas, distances, department, also",
    [
        ("traffic", (), {"bus_stop": 100.0}, "skanetrafiken", ()),
        ("traffic", (), {"bus_stop": 150.0}, "skanetrafiken", ()),  # the radius includes its edge
        ("traffic", (), {"bus_stop": 151.0}, "tekniska", ()),
        ("traffic", (), {}, "tekniska", ()),
        ("school", ("north",), {}, "utbildning", ("stadsbyggnad",)),
        ("school", ("station",), {}, "utbildning", ("region", "stadsbyggnad")),
        ("other", (), {}, "kommunkontoret", ()),
    ],
)
def test_the_first_matching_rule_decides_and_also_rules_add(category, areas, distances, department, also):
    result = route(RULES, "kommunkontoret", category, areas, distances)
    assert (result.department, result.also) == (department, also)


def test_an_also_rule_never_repeats_the_responsible_department():
    rules = (
        RoutingRule(department="stadsbyggnad", category="housing"),
        RoutingRule(in_area=True, also=True, department="stadsbyggnad"),
    )
    assert route(rules, "x", "housing", ("a",)).also == ()

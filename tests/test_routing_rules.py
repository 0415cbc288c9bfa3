"""Dalby's routing table, applied on arrival to real positions from data/dalby, and the planner's confirmation."""

from __future__ import annotations

import pytest

from dialogkarta.layers import accounts, proposals, workflow
from dialogkarta.layers.schema import forwardings
from dialogkarta.layers.schema import proposals as proposals_table
from tests.planner_helpers import feature_point

CASES = [
    # category, (layer role, feature id), responsible department, informed too
    ("traffic", ("services", "busstation"), "tekniska", ()),
    ("public_transport", ("services", "busstation"), "skanetrafiken", ("tekniska",)),
    ("public_transport", ("areas", "stationsomradet"), "skanetrafiken", ("tekniska", "stadsbyggnadskontoret")),
    ("school", ("services", "nyvangskolan"), "utbildning", ()),
    ("school", ("areas", "kvarnskon-vattenrannan"), "utbildning", ("stadsbyggnadskontoret",)),
    ("housing", ("areas", "kvarnskon-vattenrannan"), "stadsbyggnadskontoret", ()),
    ("culture_leisure", ("services", "bibliotek"), "kultur_fritid", ()),
    ("parks_nature", ("services", "tegelbruksparken"), "tekniska", ()),
    ("safety", ("areas", "paskaganget-sodra"), "tekniska", ("stadsbyggnadskontoret",)),
    ("other", ("services", "bibliotek"), "kommunkontoret", ()),
    ("other", ("areas", "hagalund"), "kommunkontoret", ("stadsbyggnadskontoret",)),
]


@pytest.mark.parametrize("category, where, department, also", CASES, ids=[f"{c}@{w[1]}" for c, w, *_ in CASES])
def test_routing_proposes_the_department_on_arrival(engine, registry, category, where, department, also):
    lon, lat = feature_point(registry, *where)
    with engine.begin() as conn:
        record = proposals.submit(
            conn, registry, {"lon": lon, "lat": lat, "category": category, "title": "Test", "description": "Test."}
        )
    assert record["department"] == department
    assert tuple(d for d in record["also_departments"].split(",") if d) == also


def test_traffic_near_the_bus_station_is_within_the_rule_distance(engine, registry):
    lon, lat = feature_point(registry, "services", "busstation")
    with engine.begin() as conn:
        record = proposals.submit(
            conn,
            registry,
            {"lon": lon, "lat": lat, "category": "traffic", "title": "Övergångsställe", "description": "Vid stationen."},
        )
    assert record["nearest"]["bus_stop"]["id"] == "busstation"
    assert record["nearest"]["bus_stop"]["distance_m"] < 150


def test_planner_confirms_or_changes_the_department_and_each_forwarding_is_recorded(engine, registry):
    lon, lat = feature_point(registry, "areas", "kvarnskon-vattenrannan")
    departments = registry.locality.departments
    with engine.begin() as conn:
        planner = accounts.create_user(conn, "anna", "correct horse battery")
        record = proposals.submit(
            conn, registry, {"lon": lon, "lat": lat, "category": "school", "title": "Ny förskola", "description": "Behövs."}
        )
        workflow.forward(
            conn, record["id"], "utbildning", departments=departments, role="planner", user_id=planner.id, note="Bekräftad"
        )
        workflow.forward(
            conn,
            record["id"],
            "stadsbyggnadskontoret",
            departments=departments,
            role="planner",
            user_id=planner.id,
            note="Gäller detaljplanen",
        )
        with pytest.raises(workflow.WorkflowError, match="unknown department"):
            workflow.forward(conn, record["id"], "nasa", departments=departments, role="planner")
        rows = conn.execute(forwardings.select().order_by(forwardings.c.id)).all()
        history = workflow.forwardings_of(conn, record["id"])
        status = conn.execute(proposals_table.select()).first().status
    assert [(r.action, r.from_department, r.to_department, r.note, r.user_id) for r in rows] == [
        ("confirm", None, "utbildning", "Bekräftad", planner.id),  # the routing table's suggestion, confirmed: not moved
        ("forward", "utbildning", "stadsbyggnadskontoret", "Gäller detaljplanen", planner.id),
    ]
    assert [(h["confirmed"], h["from"], h["to"]) for h in history] == [
        (True, None, "utbildning"),
        (False, "utbildning", "stadsbyggnadskontoret"),
    ]
    assert all("user_id" not in h for h in history)
    assert status == "forwarded"

"""Submitting a proposal: validated, joined, routed and stored; refused input stores nothing."""

import math

import pytest
from sqlalchemy import func, select

from dialogkarta.geo.errors import InvalidCoordinates, OutsideLocality, ProbablySwapped
from dialogkarta.layers.proposals import InvalidProposal, refresh_joins, submit
from dialogkarta.layers.schema import contacts, proposal_areas, proposals
from dialogkarta.layers.store import get_proposal

# Inside Kvarnskon–Vattenrännan (sketch), south-east Dalby.
IN_KVARNSKON = {"lon": 13.3635, "lat": 55.6605}
BY_THE_BUS_STATION = {"lon": 13.3454, "lat": 55.6640}


def valid(**overrides):
    data = {**BY_THE_BUS_STATION, "category": "traffic", "title": "Övergångsställe", "description": "Farligt att korsa."}
    data.update(overrides)
    return data


def count(engine, table=proposals):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_valid_proposal_is_stored_with_joins_and_department(engine, registry):
    with engine.begin() as conn:
        record = submit(conn, registry, valid(**IN_KVARNSKON, category="housing"))
    assert record["area_ids"] == ["kvarnskon-vattenrannan"]
    assert record["department"] == "stadsbyggnadskontoret"
    assert set(record["nearest"]) >= {"bus_stop", "school", "library", "park"}
    assert record["nearest"]["bus_stop"]["name"] == "Veberödsvägen (ny hållplats)"


def test_traffic_near_the_bus_station_goes_to_technical_services(engine, registry):
    with engine.begin() as conn:
        record = submit(conn, registry, valid())
    assert record["nearest"]["bus_stop"]["distance_m"] < 150
    assert record["department"] == "tekniska"


@pytest.mark.parametrize(
    "coordinates, error, words",
    [
        ({"lon": math.nan, "lat": 55.66}, InvalidProposal, "ändligt"),
        ({"lon": 13.35, "lat": math.inf}, InvalidProposal, "ändligt"),
        ({"lon": 13.35, "lat": 95.0}, InvalidCoordinates, "-90..90"),
        ({"lon": 55.6646, "lat": 13.3445}, ProbablySwapped, "bytt plats"),
        ({"lon": 13.1872, "lat": 55.7053}, OutsideLocality, "utanför Dalby"),
        ({"lon": "13.35", "lat": 55.66}, InvalidProposal, "tal"),
    ],
)
def test_invalid_coordinates_are_refused_and_nothing_is_stored(engine, registry, coordinates, error, words):
    with pytest.raises(error, match=words):
        with engine.begin() as conn:
            submit(conn, registry, valid(**coordinates))
    assert count(engine) == 0


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"category": "weather"}, "unknown_category"),
        ({"category": ""}, "missing_category"),
        ({"title": "   "}, "empty"),
        ({"title": "x" * 121}, "too_long"),
        ({"description": "x" * 2001}, "too_long"),
        ({"title": 42}, "wrong_type"),
        ({"title": "a\x00b"}, "invalid_text"),
        ({"email": "anna@example.se"}, "consent_required"),
        ({"name": "Anna"}, "consent_required"),
        ({"email": "not-an-address", "consent": True}, "invalid_email"),
        ({"consent": "yes"}, "wrong_type"),
        ({"channel": "carrier pigeon"}, "unknown_channel"),
    ],
)
def test_invalid_fields_are_refused_with_a_code_and_nothing_is_stored(engine, registry, overrides, code):
    with pytest.raises(InvalidProposal) as raised:
        with engine.begin() as conn:
            submit(conn, registry, valid(**overrides))
    assert raised.value.code == code
    assert raised.value.message("sv") != raised.value.message("en")
    assert count(engine) == 0 and count(engine, contacts) == 0


def test_contact_details_are_stored_apart_only_with_consent(engine, registry):
    with engine.begin() as conn:
        submit(conn, registry, valid(name="Anna", email="anna@example.se", consent=True))
        submit(conn, registry, valid())
    assert count(engine) == 2 and count(engine, contacts) == 1


def test_text_is_trimmed_and_normalised(engine, registry):
    with engine.begin() as conn:
        record = submit(conn, registry, valid(title="  Cafe\u0301  ", description="rad 1\r\nrad 2"))
    assert record["title"] == "Café" and record["description"] == "rad 1\nrad 2"


def test_refreshing_joins_recomputes_every_proposal(engine, registry):
    with engine.begin() as conn:
        submit(conn, registry, valid(**IN_KVARNSKON))
        public_id = conn.execute(select(proposals.c.public_id)).scalar_one()
        conn.execute(proposal_areas.delete())
        assert get_proposal(conn, public_id)["area_ids"] == []
        assert refresh_joins(conn, registry) == 1
        assert get_proposal(conn, public_id)["area_ids"] == ["kvarnskon-vattenrannan"]


def test_nearby_lists_proposals_within_the_radius_same_category_first(engine, registry):
    from dialogkarta.layers.proposals import nearby

    with engine.begin() as conn:
        submit(conn, registry, valid(lon=13.3454, lat=55.6641, category="traffic", title="trafik nära"))
        submit(conn, registry, valid(lon=13.3455, lat=55.6640, category="school", title="skola närmast"))
        submit(conn, registry, valid(lon=13.3600, lat=55.6600, category="traffic", title="långt bort"))
    with engine.connect() as conn:
        found = nearby(conn, 13.3455, 55.6640, radius_m=150, category="traffic")
    assert [view["title"] for _, view in found] == ["trafik nära", "skola närmast"]
    assert found[1][0] == pytest.approx(0.0, abs=0.01) and 0 < found[0][0] < 150
    assert "name" not in found[0][1] and "email" not in found[0][1]


def test_a_filled_honeypot_gets_a_record_like_a_real_one_and_nothing_is_stored(engine, registry):
    with engine.begin() as conn:
        trapped = submit(conn, registry, valid(**IN_KVARNSKON, website="http://bot.example"))
    assert trapped["area_ids"] == ["kvarnskon-vattenrannan"] and trapped["status"] == "received" and trapped["public_id"]
    assert count(engine) == 0


def test_a_filled_honeypot_with_invalid_input_is_refused_like_a_person(engine, registry):
    with engine.begin() as conn, pytest.raises(OutsideLocality):
        submit(conn, registry, valid(lon=13.0, lat=55.6, website="x"))


def test_a_few_points_are_joined_exactly_as_a_batch_is(registry, monkeypatch):
    """The frame-free path for a new proposal gives the same areas, services and metres as the batch path."""
    import numpy as np

    from dialogkarta.layers import proposals as module

    rng = np.random.default_rng(7)
    points = [(13.33 + rng.random() * 0.05, 55.65 + rng.random() * 0.03) for _ in range(120)]
    points += [IN_KVARNSKON["lon"], IN_KVARNSKON["lat"]], [BY_THE_BUS_STATION["lon"], BY_THE_BUS_STATION["lat"]]
    one_by_one = [module.compute_joins(registry, [point])[0] for point in points]
    monkeypatch.setattr(module, "FEW_POINTS", 0)
    batch = module.compute_joins(registry, points)

    def comparable(joins):
        return sorted(joins["area_ids"]), sorted(
            (n["kind"], n["service_id"], n["service_name"], round(n["distance_m"], 6)) for n in joins["nearest"]
        )

    assert [comparable(j) for j in one_by_one] == [comparable(j) for j in batch]
    assert sum(bool(j["area_ids"]) for j in one_by_one) >= 2  # some points do lie in areas

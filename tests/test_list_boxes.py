"""A box on the public list finds exactly the proposals a scan of every position finds, after any kind of write."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import update

from dialogkarta.layers import lon_order, proposals, store, workflow
from dialogkarta.layers.lon_order import LonOrder
from dialogkarta.layers.public_list import PublicList
from dialogkarta.layers.schema import proposals as proposals_table

WEST, SOUTH, EAST, NORTH = 13.342, 55.662, 13.362, 55.670  # inside Dalby


def _scanned(snapshot, box, category=None, status=None) -> list[int]:
    min_lon, min_lat, max_lon, max_lat = box
    mask = (snapshot.lon >= min_lon) & (snapshot.lon <= max_lon) & (snapshot.lat >= min_lat) & (snapshot.lat <= max_lat)
    if category is not None:
        mask &= snapshot.category == category
    if status is not None:
        mask &= snapshot.status == status
    return np.flatnonzero(mask).tolist()


def _boxes(rng, count: int):
    for _ in range(count):
        lon, lat = rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)
        half = rng.choice([0.0005, 0.002, 0.01, 1.0])  # from a street corner to the whole locality
        yield (lon - half, lat - half / 2, lon + half, lat + half / 2)


def _submit(conn, registry, rng, count: int) -> None:
    for i in range(count):
        data = {
            "lon": round(rng.uniform(WEST, EAST), 6),
            "lat": round(rng.uniform(SOUTH, NORTH), 6),
            "category": "traffic" if i % 2 else "parks_nature",
            "title": f"Förslag {i}",
            "description": "Beskrivning",
        }
        proposals.submit(conn, registry, data)


def _assert_boxes_match_a_scan(snapshot, rng) -> None:
    for box in _boxes(rng, 60):
        assert snapshot.matching(box).tolist() == _scanned(snapshot, box)
        assert snapshot.matching(box, "traffic").tolist() == _scanned(snapshot, box, "traffic")
        assert snapshot.matching(box, None, "received").tolist() == _scanned(snapshot, box, None, "received")


def test_the_order_finds_what_a_scan_finds_with_an_appended_tail():
    rng = np.random.default_rng(1)
    lon = rng.uniform(13.3, 13.4, 2_000)
    lon[::50] = lon[3]  # equal longitudes, one of them on a box's edge below
    order = LonOrder.build(lon[:1_500]).appended(lon)  # 500 appended since the order was built
    assert order.covered == 1_500
    for min_lon in [lon[3], *rng.uniform(13.3, 13.4, 200)]:
        max_lon = min_lon + rng.choice([0.0, 0.001, 0.005])
        found = order.band(lon, min_lon, max_lon)
        assert found is not None
        assert sorted(found.tolist()) == np.flatnonzero((lon >= min_lon) & (lon <= max_lon)).tolist()
    assert order.band(lon, 13.3, 13.4) is None  # every proposal: the scan is the cheaper way


def test_a_long_tail_gets_a_new_order():
    lon = np.linspace(13.3, 13.4, lon_order.TAIL_REBUILT * 3)
    assert LonOrder.build(lon[:10]).appended(lon).covered == len(lon)


@pytest.mark.parametrize("tail", [lon_order.TAIL_REBUILT, 3])
def test_boxes_on_the_list_match_a_scan_after_every_kind_of_write(engine, registry, monkeypatch, tail):
    monkeypatch.setattr(lon_order, "TAIL_REBUILT", tail)  # 3: appends soon rebuild the order
    rng = np.random.default_rng(2)
    kept = PublicList(lambda record: {"title": record["title"]})
    with engine.begin() as conn:
        _submit(conn, registry, rng, 120)
    with engine.connect() as conn:
        _assert_boxes_match_a_scan(kept.current(conn), rng)
    with engine.begin() as conn:
        _submit(conn, registry, rng, 40)  # appended
    with engine.connect() as conn:
        _assert_boxes_match_a_scan(kept.current(conn), rng)
    with engine.begin() as conn:
        workflow.change_status(conn, 5, "forwarded", role="planner")  # replaced in place
        workflow.hide(conn, 7, "Personuppgifter", role="moderator")  # dropped
    with engine.connect() as conn:
        _assert_boxes_match_a_scan(kept.current(conn), rng)
    with engine.begin() as conn:
        conn.execute(update(proposals_table).where(proposals_table.c.id == 9).values(lon=WEST + 0.0001))  # moved
        store.note_changes(conn, [9])
    with engine.connect() as conn:
        snapshot = kept.current(conn)
        _assert_boxes_match_a_scan(snapshot, rng)
        assert snapshot.matching((WEST, SOUTH, WEST + 0.0002, NORTH)).tolist() == _scanned(
            snapshot, (WEST, SOUTH, WEST + 0.0002, NORTH)
        )
        assert 9 in snapshot.ids[snapshot.matching((WEST, SOUTH, WEST + 0.0002, NORTH))]

"""The activity plan's map in Chromium: around a lone meeting the whole locality is in view, not one street."""

from __future__ import annotations

import pytest

from dialogkarta.layers import activities
from dialogkarta.webmap import db
from tests.routes import MEETING

# The map's view as [south, west, north, east], read from folium's map object (named by its element id).
VIEW = """(name) => { const b = window[name].getBounds(); return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; }"""


def _meetings(app, places) -> tuple[int, tuple]:
    with app.app_context(), db.transaction() as conn:
        ids = [activities.create(conn, {**MEETING, "lon": lon, "lat": lat}, role="planner") for lon, lat in places]
        west, south, east, north = db.registry().frame(db.registry().locality.boundary_layer).total_bounds
    return ids[0], (south, west, north, east)


@pytest.mark.parametrize("count", [1, 2])  # two at one spot: bounds of zero size
@pytest.mark.parametrize("where", ["list", "meeting"])
def test_the_map_around_a_lone_meeting_shows_the_whole_locality(live_server, live_app, page, count, where):
    activity_id, (south, west, north, east) = _meetings(live_app, [(13.3514, 55.6652)] * count)
    page.goto(live_server.url + ("/activity-plan" if where == "list" else f"/activity-plan/{activity_id}"))
    holder = page.locator(".folium-map").first
    holder.wait_for()
    page.wait_for_selector(".leaflet-interactive")  # the meeting's marker is drawn
    view = page.evaluate(VIEW, holder.get_attribute("id"))
    assert view[0] <= south and view[1] <= west and view[2] >= north and view[3] >= east

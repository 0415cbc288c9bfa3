"""On a phone (touch, 360x640, the page's default zoom) a tap on the map places the pin where the finger was,
next to a service symbol or on it, and never opens anything instead: the symbols are pictures, not controls."""

from __future__ import annotations

import pytest

from tests.browser.test_resident_map import MAP, open_map

PIXEL_TOLERANCE = 2


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, locale="sv-SE", has_touch=True, is_mobile=True, device_scale_factor=3
    )
    yield context.new_page()
    context.close()


def symbols_in_view(phone) -> list[dict]:
    """The service symbols' boxes relative to the map, those whose right-hand neighbourhood lies inside the map."""
    pane = phone.locator(".dk-map").bounding_box()
    boxes = []
    for symbol in phone.locator(".dk-service").all():
        box = symbol.bounding_box()
        if box and pane["x"] + 50 < box["x"] and box["x"] + box["width"] + 60 < pane["x"] + pane["width"]:
            top = box["y"] - pane["y"]
            if 60 < top < pane["height"] - 60:  # clear of the zoom buttons and the scale bar
                boxes.append({"x": box["x"] - pane["x"], "y": top, "width": box["width"], "height": box["height"]})
    return boxes


def tapped_and_stored(phone, x: float, y: float) -> float:
    """Tap the map at (x, y); return how many of the map's pixels (at the tap's view) the stored pin lies from there."""
    where = phone.evaluate(f"([x, y]) => {{ const p = {MAP}.containerPointToLatLng([x, y]); return [p.lat, p.lng]; }}", [x, y])
    tap(phone, x, y)
    lat, lon = float(phone.input_value("#lat")), float(phone.input_value("#lon"))
    # Measured at the view of the tap: the map may pan afterwards to keep a pin near its edge in sight.
    return phone.evaluate(
        f"""([a, b]) => {{ const m = {MAP}, z = m.getZoom();
            return m.project(a, z).distanceTo(m.project(b, z)); }}""",
        [where, [lat, lon]],
    )


def tap(phone, x: float, y: float) -> None:
    phone.locator(".dk-map").tap(position={"x": x, "y": y})
    phone.locator(".dk-pin").wait_for(state="visible", timeout=5000)


def test_a_tap_a_few_pixels_beside_a_service_symbol_places_the_pin_there(live_server, phone):
    open_map(phone, live_server)
    assert len(symbols_in_view(phone)) >= 5  # at the default zoom the symbols crowd the village centre
    for i in range(3):
        symbol = symbols_in_view(phone)[i]  # measured again: the map may have moved to keep the last pin in sight
        x, y = symbol["x"] + symbol["width"] + 4, symbol["y"] + symbol["height"] / 2
        assert tapped_and_stored(phone, x, y) <= PIXEL_TOLERANCE
        assert phone.locator(".leaflet-popup").count() == 0
        assert phone.locator("#pin-status").inner_text().startswith("Nålen är placerad")


def test_a_tap_on_a_service_symbol_places_the_pin_and_names_the_service(live_server, phone):
    open_map(phone, live_server)
    symbol = symbols_in_view(phone)[0]
    x, y = symbol["x"] + symbol["width"] / 2, symbol["y"] + symbol["height"] / 2
    assert tapped_and_stored(phone, x, y) <= PIXEL_TOLERANCE
    assert phone.locator(".leaflet-popup").count() == 0
    assert phone.locator("#pin-status").inner_text().startswith("Nålen är placerad vid ")


def test_service_symbols_are_no_tab_stops_and_no_touch_targets(live_server, phone):
    open_map(phone, live_server)
    symbols = phone.locator(".dk-service")
    assert symbols.count() >= 20
    for symbol in symbols.all():
        assert symbol.get_attribute("tabindex") is None and symbol.get_attribute("role") is None
        assert symbol.evaluate("node => getComputedStyle(node).pointerEvents") == "none"

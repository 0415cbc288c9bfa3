"""The planner's overlay map (folium) and the Leaflet files it needs, served from installed packages.

folium builds the base map: tiles, the locality boundary and the service locations. The
proposals, the choropleth of the development areas and the heat map are drawn by
``static/planner/overlay.js`` from ``/planner/api/proposals``, so that filters redraw map and
table together without reloading. Pages embed the map's html and script components in our own
templates (the script gets the CSP nonce); folium's own header is not used, because it loads
from CDNs and disables zooming. folium's script names no code of ours: the page's ES module runs
after it and finds the map by its element's id, which is folium's variable name for it
(``static/js/leaflet.js``).

Local assets, no CDN, served by ``resident.vendor`` (see ``webmap.assets``):
  Leaflet 1.9.3        XStatic-Leaflet (BSD-2-Clause)
  Leaflet.heat 0.2.0   bundled with folium as templates/leaflet_heat.min.js (BSD-2-Clause,
                       Vladimir Agafonkin; includes simpleheat, BSD-2-Clause); overlay.js calls
                       L.heatLayer (folium's HeatMap plugin, whose default_js is a CDN URL, is not used).
"""

from __future__ import annotations

import html
import json

import folium
from ..geo.io import frame_to_features
from ..layers.vocabulary import translate
from . import folium_render
from .assets import vendor_path
from .map import Attribution


def tooltip_text(text: str) -> str:
    """Escape text for a folium tooltip: Leaflet reads it as HTML, and folium puts it, unescaped,
    inside a JavaScript template literal, where a backtick or ``${`` would run as code and a
    backslash-u escape of "<" would turn back into markup."""
    return html.escape(str(text)).replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")


class LinkPopup(folium.MacroElement):
    """A popup with one link and a note, built as DOM nodes in the page.

    folium's ``Popup`` builds its content with jQuery (not loaded here, so the map script stopped
    at the first popup) and pastes the HTML into a template literal; this one passes the values as
    JSON and sets them with ``textContent``.
    """

    _template = folium.template.Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindPopup(function () {
            var p = document.createElement("p"), a = document.createElement("a");
            a.href = {{ this.href|tojson }}; a.textContent = {{ this.text|tojson }};
            p.appendChild(a); p.appendChild(document.createTextNode({{ this.note|tojson }}));
            return p;
        });
        {% endmacro %}
    """)

    def __init__(self, href: str, text: str, note: str = ""):
        super().__init__()
        self._name = "LinkPopup"
        self.href, self.text, self.note = href, text, note


def _boundary_geojson(frame) -> dict:
    """Return the boundary's outline as RFC 7946 GeoJSON (oriented rings, 7 decimals), as the resident map has it."""
    return {"type": "FeatureCollection", "features": frame_to_features(frame[[frame.geometry.name]], id_column=None)}


def asset_urls() -> dict:
    """Return the local URLs of Leaflet's script and stylesheet and of Leaflet.heat."""
    return {
        "leaflet_js": vendor_path("leaflet", "leaflet.js"),
        "leaflet_css": vendor_path("leaflet", "leaflet.css"),
        "heat_js": vendor_path("folium", "leaflet_heat.min.js"),
    }


def _localise(element, urls: dict) -> None:
    element.default_js = [("leaflet", urls["leaflet_js"])]
    element.default_css = [("leaflet_css", urls["leaflet_css"])]


def overlay_map(registry, tile_url: str, tile_attribution: str, lang: str = "sv") -> dict:
    """Return the components of the planner's base map: ``html`` and ``script``.

    The map shows the tiles, the locality boundary and the service locations (one circle per
    service, a tooltip with name and kind); overlay.js adds areas, proposals and the heat map.
    """
    folium_render.install()
    urls = asset_urls()
    locality = registry.locality
    lon, lat = locality.center
    fmap = folium.Map(
        location=[lat, lon],
        zoom_start=locality.zoom,
        min_zoom=locality.min_zoom,
        max_zoom=locality.max_zoom,
        tiles=None,
        control_scale=True,
    )
    _localise(fmap, urls)
    folium.TileLayer(
        tile_url, attr=tile_attribution, name="Bakgrundskarta" if lang == "sv" else "Base map", max_zoom=locality.max_zoom
    ).add_to(fmap)
    Attribution(locality.attribution_lines(lang)).add_to(fmap)
    boundary = registry.frame(locality.boundary_layer)
    folium.GeoJson(
        _boundary_geojson(boundary),
        name=registry.get(locality.boundary_layer).label(lang),
        style_function=lambda _f: {"color": "#333333", "weight": 2, "fill": False, "dashArray": "6 4"},
        interactive=False,
    ).add_to(fmap)
    services = registry.services()
    group = folium.FeatureGroup(name=registry.by_role("services").label(lang), show=True)
    kinds = locality.service_kinds
    for row in services.itertuples():
        label = translate(kinds.get(row.kind), lang, default=row.kind)
        folium.CircleMarker(
            [row.geometry.y, row.geometry.x],
            radius=5,
            color="#1f4e79",
            weight=1,
            fill=True,
            fill_color="#ffffff",
            fill_opacity=0.9,
            tooltip=tooltip_text(f"{row.name} ({label})"),
        ).add_to(group)
    group.add_to(fmap)
    root = fmap.get_root()
    root.render()
    return {"html": root.html.render(), "script": root.script.render()}


def activity_map(registry, items, tile_url: str, tile_attribution: str, lang: str, link) -> dict:
    """Return the components of a map of activities that have a place (``link(item)`` gives each URL)."""
    folium_render.install()
    urls = asset_urls()
    locality = registry.locality
    lon, lat = locality.center
    zoom = locality.zoom - 1
    placed = [item for item in items if item.get("lon") is not None and item.get("lat") is not None]
    fmap = folium.Map(
        location=[lat, lon],
        zoom_start=zoom,
        min_zoom=locality.min_zoom,
        max_zoom=locality.max_zoom,
        tiles=None,
        control_scale=True,
    )
    _localise(fmap, urls)
    folium.TileLayer(tile_url, attr=tile_attribution, max_zoom=locality.max_zoom).add_to(fmap)
    Attribution(locality.attribution_lines(lang)).add_to(fmap)
    folium.GeoJson(
        _boundary_geojson(registry.frame(locality.boundary_layer)),
        interactive=False,
        style_function=lambda _f: {"color": "#333333", "weight": 2, "fill": False, "dashArray": "6 4"},
    ).add_to(fmap)
    for item in items:
        if item.get("lon") is None or item.get("lat") is None:
            continue
        marker = folium.CircleMarker(
            [item["lat"], item["lon"]],
            radius=8,
            color="#54278f",
            weight=2,
            fill=True,
            fill_color="#9e9ac8",
            fill_opacity=0.9,
            tooltip=tooltip_text(item["title"]),
        )
        marker.add_child(LinkPopup(link(item), item["title"], f" ({item['date']})"))
        marker.add_to(fmap)
    if placed:
        # The whole locality and every meeting: a lone meeting (or several at one spot) is seen in its place,
        # never as a dot on an unnamed street.
        west, south, east, north = registry.frame(locality.boundary_layer).total_bounds
        lons, lats = [item["lon"] for item in placed], [item["lat"] for item in placed]
        fmap.fit_bounds([[min(south, *lats), min(west, *lons)], [max(north, *lats), max(east, *lons)]], padding=(10, 10))
    root = fmap.get_root()
    root.render()
    return {"html": root.html.render(), "script": root.script.render()}


def base_map(registry, tile_url: str, tile_attribution: str, lang: str = "sv") -> dict:
    """Return the components of a map with tiles and the locality boundary only.

    Pages add to it with their own script: ``pick.js`` (choose a position, fills #lat/#lon) or
    ``proposal.js`` (one proposal's areas and nearest services).
    """
    return activity_map(registry, [], tile_url, tile_attribution, lang, lambda _item: "")


def proposal_map_data(registry, record: dict, lang: str = "sv") -> dict:
    """Return what ``static/planner/proposal.js`` draws for one proposal: the point, the development
    areas it lies in (GeoJSON) and a line to the nearest service of each kind, with metres."""
    areas = registry.areas()
    inside = areas[areas["id"].isin(record["area_ids"])]
    services = registry.services().set_index("id")
    kinds = registry.locality.service_kinds
    nearest = []
    for kind, near in sorted(record["nearest"].items(), key=lambda item: item[1]["distance_m"]):
        if near["id"] not in services.index:
            continue
        point = services.geometry[near["id"]]
        label = translate(kinds.get(kind), lang, default=kind)
        nearest.append({"lat": point.y, "lon": point.x, "text": f"{label}: {near['name']}, {near['distance_m']:.0f} m"})
    return {
        "point": [record["lat"], record["lon"]],
        "title": record["title"],
        "areas": json.loads(inside[["id", "name", "geometry"]].to_json(drop_id=True)),
        "nearest": nearest,
    }

"""The resident map, built with folium and embedded as components in our own templates.

``build_map`` assembles the locality boundary, the development areas styled by status, the
service locations and an empty, clustered proposal layer (filled by ``static/map.js`` from the
API, never embedded in the page), with a layer control, a scale bar and the locality's
attribution lines. ``render_parts`` returns folium's three components (header links, the map
``<div>``, the script) for ``base.html`` to place; the script is wrapped in a nonce-carrying
``<script>`` by the template, so the CSP stays strict. That script only builds the map: it names
no code of ours. ``static/map.js``, an ES module that runs after it, finds the map by the map
element's id (folium's variable name) and the layers by the element's ``data-layers`` (role ->
variable name), then binds tooltips, popups and service symbols.

No CDN: folium's default JS/CSS lists are replaced on subclasses (never on folium's own
classes, which other pages may use) by fingerprinted URLs this app serves from the installed
XStatic packages (``webmap/assets.py``). jQuery, Bootstrap and Font Awesome are not needed and not loaded. Popups and
tooltips are bound in ``map.js`` with ``textContent``; nothing here builds HTML from data.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

import folium
import geopandas as gpd
from branca.element import JavascriptLink, MacroElement
from folium.plugins import MarkerCluster
from folium.template import Template

from ..geo.crs import WGS84, to_metric, to_wgs84
from ..geo.io import frame_to_features
from ..layers.registry import LayerRegistry
from . import folium_render
from .assets import vendor_path

PROPOSALS_LAYER = "proposals"


class DialogMap(folium.Map):
    """folium's Map without CDN links, without the zoom-disabling viewport tag and inline header script.

    ``roles`` ({"areas": layer, ...}) is written on the map element as ``data-layers`` (role -> the
    layer's variable name in folium's script): how ``static/map.js`` finds the layers it works on.
    """

    default_js = [("leaflet", vendor_path("leaflet", "leaflet.js"))]
    default_css = [("leaflet_css", vendor_path("leaflet", "leaflet.css"))]

    _template = Template(
        """
        {% macro header(this, kwargs) %}{% endmacro %}

        {% macro html(this, kwargs) %}
            <div class="folium-map dk-map" id={{ this.get_name()|tojson }} data-layers="{{ this.layers_attribute() }}"></div>
        {% endmacro %}

        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.map(
                {{ this.get_name()|tojson }},
                {
                    center: {{ this.location|tojson }},
                    crs: L.CRS.{{ this.crs }},
                    ...{{ this.options|tojavascript }}
                }
            );
            {%- if this.fit_to %}
            {{ this.get_name() }}.fitBounds({{ this.fit_to|tojson }}, {padding: [8, 8], animate: false});
            {%- endif %}
            {%- if this.control_scale %}
            L.control.scale({imperial: false}).addTo({{ this.get_name() }});
            {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.roles: dict = {}
        # [[south, west], [north, east]] the map is fitted to before any tile layer is added, so the first
        # tiles requested are those of the view shown (not of ``zoom_start`` first, then the fitted ones).
        self.fit_to: list | None = None

    def layers_attribute(self) -> str:
        return html.escape(json.dumps({role: layer.get_name() for role, layer in self.roles.items()}))


class ProposalCluster(MarkerCluster):
    """An empty Leaflet.markercluster group that ``map.js`` fills from ``GET /api/proposals``."""

    default_js = [("markerclusterjs", vendor_path("markercluster", "leaflet.markercluster.js"))]
    default_css = [
        ("markerclustercss", vendor_path("markercluster", "MarkerCluster.css")),
        ("markerclusterdefaultcss", vendor_path("markercluster", "MarkerCluster.Default.css")),
    ]


class Attribution(MacroElement):
    """Adds text lines (escaped here: Leaflet treats attributions as HTML) to the map's attribution."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {%- for line in this.lines %}
            {{ this._parent.get_name() }}.attributionControl.addAttribution({{ line|tojson }});
        {%- endfor %}
        {% endmacro %}
        """
    )

    def __init__(self, lines):
        super().__init__()
        self._name = "Attribution"
        self.lines = [html.escape(line) for line in lines]


@dataclass(frozen=True)
class MapParts:
    """folium's components, ready for ``base.html``: header links, the map element, the script.

    Nothing here holds back the first paint of the page's text (issue #14): the header's scripts (Leaflet
    and its plugins) are deferred, so the page places ``script`` in a module script (deferred too, run
    after them in document order). A module's variables are its own, so the script ends by putting the
    map and its role layers on ``window`` under folium's names, where ``static/map.js`` looks for them.
    """

    header: str
    html: str
    script: str


def max_bounds(registry: LayerRegistry) -> tuple[float, float, float, float]:
    """Return (min_lon, min_lat, max_lon, max_lat) of the boundary widened by the locality's margin."""
    boundary = gpd.GeoSeries([registry.boundary()], crs=WGS84)
    widened = to_metric(boundary).buffer(registry.locality.margin_m)
    return tuple(float(v) for v in to_wgs84(widened).total_bounds)


def _area_style(status_colors: dict):
    def style(feature):
        props = feature["properties"]
        color = status_colors.get(props.get("status"), "#555555")
        illustrative = props.get("data_status") != "verified"
        return {
            "color": color,
            "fillColor": color,
            "weight": 2,
            "fillOpacity": 0.22,
            "dashArray": "6 5" if illustrative else None,
        }

    return style


def _collection(frame, fields) -> dict:
    columns = [c for c in fields if c in frame.columns]
    features = frame_to_features(frame[columns + [frame.geometry.name]], id_column="id" if "id" in columns else None)
    return {"type": "FeatureCollection", "features": features}


def build_map(registry: LayerRegistry, lang: str, tile_url: str, tile_attribution: str) -> folium.Map:
    """Return the resident map of the registry's locality, with titles in ``lang``.

    Layer names are escaped here because Leaflet's layer control inserts them as HTML.
    """
    folium_render.install()  # no second Jinja pass over rendered output (server-side template injection)
    locality = registry.locality
    boundary_layer = registry.get(locality.boundary_layer)
    areas_layer, services_layer = registry.by_role("areas"), registry.by_role("services")
    min_lon, min_lat, max_lon, max_lat = max_bounds(registry)
    lon, lat = locality.center
    fmap = DialogMap(
        location=[lat, lon],
        zoom_start=locality.zoom,
        min_zoom=locality.min_zoom,
        max_zoom=locality.max_zoom,
        tiles=None,
        control_scale=True,
        max_bounds=True,
        min_lat=min_lat,
        max_lat=max_lat,
        min_lon=min_lon,
        max_lon=max_lon,
        max_bounds_viscosity=1.0,
        fade_animation=False,  # a tile shows once it has loaded, not a fifth of a second later (issue #14)
    )
    folium.TileLayer(
        tiles=tile_url,
        attr=html.escape(tile_attribution),
        name=html.escape(_("Bakgrundskarta")),
        min_zoom=locality.min_zoom,
        max_zoom=locality.max_zoom,
        max_native_zoom=min(locality.max_zoom, 19),
    ).add_to(fmap)
    boundary = folium.GeoJson(
        _collection(registry.frame(boundary_layer.name), ["id", "name", "data_status"]),
        name=html.escape(boundary_layer.label(lang)),
        style_function=lambda _: {"color": "#222222", "weight": 3, "fill": False, "dashArray": "10 6"},
        interactive=False,
    ).add_to(fmap)
    status_colors = {key: value.get("color", "#555555") for key, value in locality.area_status.items()}
    areas = folium.GeoJson(
        _collection(registry.frame(areas_layer.name), ["id", "name", "status", "plan_ref", "period", "data_status"]),
        name=html.escape(areas_layer.label(lang)),
        style_function=_area_style(status_colors),
    ).add_to(fmap)
    services = folium.GeoJson(
        _collection(registry.frame(services_layer.name), ["id", "name", "kind", "data_status"]),
        name=html.escape(services_layer.label(lang)),
        # An empty symbol until map.js puts in the kind's (never Leaflet's default pin images). A picture, not a
        # control: a tap on or beside it places the resident's pin (issue #14), and the place list names each service.
        marker=folium.Marker(
            icon=folium.DivIcon(html="", class_name="dk-service", icon_size=(30, 30), icon_anchor=(15, 15)),
            interactive=False,
            keyboard=False,
        ),
    ).add_to(fmap)
    proposals = ProposalCluster(
        name=html.escape(_("Invånarnas förslag")),
        options={"chunkedLoading": True, "showCoverageOnHover": False},
    ).add_to(fmap)
    Attribution(locality.attribution_lines(lang)).add_to(fmap)
    folium.LayerControl(collapsed=True, position="topright").add_to(fmap)
    fmap.roles = {"boundary": boundary, "areas": areas, "services": services, PROPOSALS_LAYER: proposals}
    west, south, east, north = registry.boundary().bounds
    fmap.fit_to = [[south, west], [north, east]]
    return fmap


def render_parts(fmap: folium.Map) -> MapParts:
    """Render the map once and return its header, html and script components."""
    root = fmap.get_root()
    root.header._children.pop("meta_http", None)  # our template declares the charset
    root.render()
    header = root.header._children
    for name, link in list(header.items()):
        if isinstance(link, JavascriptLink):
            header[name] = folium_render.RenderedElement(f'<script defer src="{html.escape(link.url)}"></script>')
    names = [fmap.get_name()] + [layer.get_name() for layer in getattr(fmap, "roles", {}).values()]
    shared = "Object.assign(window, {" + ", ".join(names) + "});"
    return MapParts(header=root.header.render(), html=root.html.render(), script=root.script.render() + "\n" + shared)


def _(text: str) -> str:
    # Marked for extraction; translated in the request's language when Flask-Babel is active.
    from flask_babel import gettext

    return gettext(text)

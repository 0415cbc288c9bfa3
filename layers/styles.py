"""QGIS styles (QML, with an SLD twin) and layer texts for the layers we export, for planners in QGIS.

A GeoPackage export stores one style per layer in the ``layer_styles`` table that QGIS reads
when it opens a layer (the table QGIS itself creates with "Save style > In database"), and a
title and an abstract per layer in ``gpkg_contents`` (QGIS shows them under Layer Properties >
Metadata). What a planner sees:

- proposals: a large diamond coloured by workflow status, the legend naming each status in
  Swedish (``layers.vocabulary``); no other layer uses a diamond or that size;
- services: a white round badge with an icon per kind from QGIS's own SVG library (present in
  every QGIS 3 install, so nothing depends on an emoji font), legend in Swedish;
- development areas: filled by status with the locality's ``[area_status]`` colours;
- the boundary: a dashed outline, as on the web map; reference polygons a thin grey outline;
- other points (places, reference points): small grey circles.

Only symbology is written (``styleCategories="Symbology"``): labels, forms and scale ranges are
left to QGIS's defaults. The QML is written as QGIS 3.22 writes it (``<Option>`` maps and the
older ``<prop>`` pairs side by side), the oldest QGIS the tests open it with.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from .locality import Layer, Locality
from .vocabulary import PROPOSAL_STATUSES, translate

QGIS_VERSION = "3.22.16-Białowieża"
BOUNDARY_COLOR = "#222222"
REFERENCE_COLOR = "#6b6b6b"
POLYGON_COLOR = "#a6cee3"
OTHER_COLOR = "#999999"
# The marker colour the web map uses for each proposal status (labels: layers.vocabulary).
PROPOSAL_STATUS_COLORS = {
    "received": "#1f78b4",
    "forwarded": "#6a3d9a",
    "under_consideration": "#ff7f00",
    "planned": "#33a02c",
    "done": "#1b7837",
    "declined": "#7f7f7f",
}
# Marker shapes and sizes (mm): proposals must never be mistaken for a reference layer.
PROPOSAL_MARKER = ("diamond", 6.0)
SERVICE_BADGE = ("circle", 4.8)
SERVICE_ICON_SIZE = 3.6
POINT_MARKER = ("circle", 2.2)
SERVICE_ICON_COLOR = "#1a3d4c"
# Icons from QGIS's own SVG library (``QgsApplication.svgPaths()``; these files ship with every
# QGIS 3 and take the ``param(fill)`` colour). The web map's emoji stay on the web map.
SERVICE_SVG = {
    "school": "symbol/education_school.svg",
    "preschool": "symbol/education_nursery.svg",
    "library": "amenity/amenity_library.svg",
    "bus_stop": "transport/transport_bus_stop.svg",
    "park": "symbol/landuse_deciduous.svg",
    "sports": "sport/sport_soccer.svg",
    "nature": "symbol/landuse_coniferous.svg",
    "church": "religion/place_of_worship_christian.svg",
    "youth_centre": "sport/sport_leisure_centre.svg",
    "meeting_place": "food/food_cafe.svg",
    "allotment": "shopping/shopping_garden_centre.svg",
}
OTHER_SVG = "symbol/poi_point_of_interest.svg"
OTHER_LABEL = {"sv": "Övrigt", "en": "Other"}


@dataclass(frozen=True)
class Style:
    """One row of QGIS's ``layer_styles`` table for a layer."""

    name: str
    qml: str
    sld: str
    description: str


@dataclass(frozen=True)
class LayerText:
    """A layer's title and abstract, as ``gpkg_contents`` holds them (``identifier``, ``description``)."""

    title: str
    abstract: str


# ---------------------------------------------------------------------------- QML
def _rgba(hex_color: str, alpha: int = 255) -> str:
    value = hex_color.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{alpha}"


def _props(options: dict) -> str:
    # QGIS >= 3.26 reads <Option type="Map">; older 3.x read <prop k v>. Both, as QGIS 3.2x wrote them.
    new = "".join(f'<Option type="QString" name={quoteattr(k)} value={quoteattr(v)}/>' for k, v in options.items())
    old = "".join(f"<prop k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in options.items())
    return f'<Option type="Map">{new}</Option>{old}'


def _simple_marker(shape: str, size: float, fill: str, outline: str, outline_width: float = 0.4) -> tuple[str, dict]:
    return "SimpleMarker", {
        "name": shape,
        "color": _rgba(fill),
        "outline_color": _rgba(outline),
        "outline_style": "solid",
        "outline_width": f"{outline_width:g}",
        "outline_width_unit": "MM",
        "size": f"{size:g}",
        "size_unit": "MM",
        "scale_method": "diameter",
        "joinstyle": "miter",
    }


def _svg_marker(path: str, size: float, color: str) -> tuple[str, dict]:
    return "SvgMarker", {
        "name": path,
        "size": f"{size:g}",
        "size_unit": "MM",
        "color": _rgba(color),
        "outline_color": _rgba(color),
        "outline_width": "0",
        "outline_width_unit": "MM",
        "fixedAspectRatio": "0",
        "scale_method": "diameter",
    }


def _line(color: str, width: float, style: str = "solid", dash: str | None = None) -> tuple[str, dict]:
    options = {
        "line_color": _rgba(color),
        "line_width": f"{width:g}",
        "line_width_unit": "MM",
        "line_style": style,
        "joinstyle": "round",
        "capstyle": "round",
    }
    if dash:
        options.update(use_custom_dash="1", customdash=dash, customdash_unit="MM")
    return "SimpleLine", options


def _fill(color: str, alpha: int, outline: str, outline_width: float = 0.6) -> tuple[str, dict]:
    return "SimpleFill", {
        "color": _rgba(color, alpha),
        "style": "solid" if alpha else "no",
        "outline_color": _rgba(outline),
        "outline_width": f"{outline_width:g}",
        "outline_width_unit": "MM",
        "outline_style": "solid",
        "joinstyle": "miter",
    }


def _symbol(index: int, kind: str, layers: list[tuple[str, dict]]) -> str:
    body = "".join(f'<layer class="{cls}" pass="0" locked="0" enabled="1">{_props(options)}</layer>' for cls, options in layers)
    return f'<symbol type="{kind}" name="{index}" alpha="1" clip_to_extent="1" force_rhr="0">{body}</symbol>'


def _qml(renderer: str) -> str:
    return (
        f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology">{renderer}</qgis>\n'
    )


def _categorized(attribute: str, kind: str, categories: list[tuple[str, str, list]]) -> str:
    """``categories`` is (value, legend label, symbol layers); the last one should be the catch-all (value "")."""
    rows = "".join(
        f'<category value={quoteattr(value)} label={quoteattr(label)} symbol="{i}" render="true"/>'
        for i, (value, label, _layers) in enumerate(categories)
    )
    symbols = "".join(_symbol(i, kind, layers) for i, (_v, _l, layers) in enumerate(categories))
    return (
        f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attribute)} symbollevels="0" '
        f'enableorderby="0" forceraster="0"><categories>{rows}</categories>'
        f"<symbols>{symbols}</symbols></renderer-v2>"
    )


def _single(kind: str, layers: list[tuple[str, dict]]) -> str:
    return (
        f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
        f"<symbols>{_symbol(0, kind, layers)}</symbols></renderer-v2>"
    )


# ---------------------------------------------------------------------------- SLD
def _sld_mark(shape: str, size_mm: float, fill: str, stroke: str) -> str:
    pixels = round(size_mm * 96 / 25.4)  # SLD sizes are pixels
    rotation = "<se:Rotation>45</se:Rotation>" if shape == "diamond" else ""  # SLD has no diamond: a square on its corner
    name = "square" if shape == "diamond" else shape
    return (
        f"<se:PointSymbolizer><se:Graphic><se:Mark><se:WellKnownName>{name}</se:WellKnownName>"
        f'<se:Fill><se:SvgParameter name="fill">{fill}</se:SvgParameter></se:Fill>'
        f'<se:Stroke><se:SvgParameter name="stroke">{stroke}</se:SvgParameter></se:Stroke>'
        f"</se:Mark><se:Size>{pixels}</se:Size>{rotation}</se:Graphic></se:PointSymbolizer>"
    )


def _sld_line(color: str, width_px: float = 2, dash: str | None = None) -> str:
    dash_param = f'<se:SvgParameter name="stroke-dasharray">{dash}</se:SvgParameter>' if dash else ""
    return (
        f'<se:LineSymbolizer><se:Stroke><se:SvgParameter name="stroke">{color}</se:SvgParameter>'
        f'<se:SvgParameter name="stroke-width">{width_px:g}</se:SvgParameter>{dash_param}</se:Stroke></se:LineSymbolizer>'
    )


def _sld_polygon(color: str, fill_opacity: float, outline: str, width_px: float = 2, dash: str | None = None) -> str:
    fill = (
        (
            f'<se:Fill><se:SvgParameter name="fill">{color}</se:SvgParameter>'
            f'<se:SvgParameter name="fill-opacity">{fill_opacity:g}</se:SvgParameter></se:Fill>'
        )
        if fill_opacity
        else ""
    )
    dash_param = f'<se:SvgParameter name="stroke-dasharray">{dash}</se:SvgParameter>' if dash else ""
    return (
        f'<se:PolygonSymbolizer>{fill}<se:Stroke><se:SvgParameter name="stroke">{outline}</se:SvgParameter>'
        f'<se:SvgParameter name="stroke-width">{width_px:g}</se:SvgParameter>{dash_param}</se:Stroke></se:PolygonSymbolizer>'
    )


def _sld(layer_name: str, rules: list[tuple[str, str | None, str | None, str]]) -> str:
    """``rules`` is (title, attribute, value, symbolizer); attribute None means no filter."""
    body = ""
    for title, attribute, value, symbolizer in rules:
        condition = ""
        if attribute is not None:
            condition = (
                f"<ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>{escape(attribute)}</ogc:PropertyName>"
                f"<ogc:Literal>{escape(str(value))}</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>"
            )
        body += f"<se:Rule><se:Name>{escape(title)}</se:Name>{condition}{symbolizer}</se:Rule>"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<StyledLayerDescriptor version="1.1.0" '
        'xmlns="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc" '
        'xmlns:se="http://www.opengis.net/se" xmlns:xlink="http://www.w3.org/1999/xlink">'
        f"<NamedLayer><se:Name>{escape(layer_name)}</se:Name><UserStyle><se:Name>{escape(layer_name)}</se:Name>"
        f"<se:FeatureTypeStyle>{body}</se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n"
    )


def _geometry_kind(geometry_type: str) -> str:
    kind = geometry_type.lower()
    return "point" if "point" in kind else "line" if "line" in kind else "polygon"


# ------------------------------------------------------------------------ styles
def _service_badge(svg: str) -> list[tuple[str, dict]]:
    shape, size = SERVICE_BADGE
    return [
        _simple_marker(shape, size, "#ffffff", SERVICE_ICON_COLOR, 0.3),
        _svg_marker(svg, SERVICE_ICON_SIZE, SERVICE_ICON_COLOR),
    ]


def _services(layer: Layer, locality: Locality, lang: str) -> tuple[str, str]:
    categories = [
        (kind, translate(labels, lang, default=kind), _service_badge(SERVICE_SVG.get(kind, OTHER_SVG)))
        for kind, labels in locality.service_kinds.items()
    ]
    categories.append(("", translate(OTHER_LABEL, lang), _service_badge(OTHER_SVG)))
    shape, size = SERVICE_BADGE
    qml = _qml(_categorized("kind", "marker", categories))
    sld = _sld(
        layer.name,
        [
            (label, "kind", value, _sld_mark(shape, size, "#ffffff", SERVICE_ICON_COLOR))
            for value, label, _layers in categories[:-1]
        ],
    )
    return qml, sld


def _areas(layer: Layer, locality: Locality, lang: str) -> tuple[str, str]:
    triples = [
        (key, translate(value, lang, default=key), value.get("color", POLYGON_COLOR))
        for key, value in locality.area_status.items()
    ]
    triples.append(("", translate(OTHER_LABEL, lang), OTHER_COLOR))
    qml = _qml(_categorized("status", "fill", [(v, label, [_fill(c, 90, c)]) for v, label, c in triples]))
    sld = _sld(layer.name, [(label, "status", value, _sld_polygon(color, 0.35, color)) for value, label, color in triples[:-1]])
    return qml, sld


def layer_style(layer: Layer, locality: Locality, lang: str = "sv") -> Style:
    """Return the style of one declared layer (areas by status, services by kind, the boundary dashed)."""
    geometry = _geometry_kind(layer.geometry_type)
    if layer.role == "areas" and locality.area_status:
        qml, sld = _areas(layer, locality, lang)
    elif layer.role == "services" and locality.service_kinds:
        qml, sld = _services(layer, locality, lang)
    elif layer.role == "boundary":
        qml = _qml(_single("fill", [_line(BOUNDARY_COLOR, 0.8, dash="2.6;1.6")]))  # "Outline: simple line", dashed
        sld = _sld(layer.name, [(layer.label(lang), None, None, _sld_polygon(BOUNDARY_COLOR, 0, BOUNDARY_COLOR, 3, "10 6"))])
    elif geometry == "point":
        shape, size = POINT_MARKER
        qml = _qml(_single("marker", [_simple_marker(shape, size, "#bdbdbd", REFERENCE_COLOR, 0.3)]))
        sld = _sld(layer.name, [(layer.label(lang), None, None, _sld_mark(shape, size, "#bdbdbd", REFERENCE_COLOR))])
    elif geometry == "line":
        qml = _qml(_single("line", [_line(REFERENCE_COLOR, 0.5)]))
        sld = _sld(layer.name, [(layer.label(lang), None, None, _sld_line(REFERENCE_COLOR))])
    else:
        qml = _qml(_single("fill", [_fill(REFERENCE_COLOR, 0, REFERENCE_COLOR, 0.4)]))
        sld = _sld(layer.name, [(layer.label(lang), None, None, _sld_polygon(REFERENCE_COLOR, 0, REFERENCE_COLOR, 1.5))])
    return Style(f"{layer.name} ({locality.name})", qml, sld, _style_description(layer.role))


DRAWN_ANSWER_COLOR = "#d94801"  # orange: unlike the plan's layers and the proposals' diamonds


def drawn_answers_style(table: str, geometry: str, locality: Locality) -> Style:
    """A survey's drawn answers in orange; areas half transparent, so where many overlap reads darker."""
    if geometry == "point":
        qml = _qml(_single("marker", [_simple_marker("circle", 3, DRAWN_ANSWER_COLOR, "#1a1a1a", 0.3)]))
        sld = _sld(table, [(table, None, None, _sld_mark("circle", 3, DRAWN_ANSWER_COLOR, "#1a1a1a"))])
    elif geometry == "line":
        qml = _qml(_single("line", [_line(DRAWN_ANSWER_COLOR, 0.8)]))
        sld = _sld(table, [(table, None, None, _sld_line(DRAWN_ANSWER_COLOR))])
    else:
        qml = _qml(_single("fill", [_fill(DRAWN_ANSWER_COLOR, 60, DRAWN_ANSWER_COLOR, 0.4)]))
        sld = _sld(table, [(table, None, None, _sld_polygon(DRAWN_ANSWER_COLOR, 0.25, DRAWN_ANSWER_COLOR))])
    return Style(f"{table} ({locality.name})", qml, sld, "Ritade enkätsvar i orange / Drawn survey answers in orange")


def _style_description(role: str) -> str:
    return {
        "areas": "Färg efter planstatus, som på webbkartan / Coloured by plan status, as on the web map",
        "services": "Symbol efter typ (QGIS:s SVG-bibliotek) / Symbol by kind (QGIS's SVG library)",
        "boundary": "Streckad gräns, som på webbkartan / Dashed outline, as on the web map",
    }.get(role, "Referenslager i grått / Reference layer in grey")


def proposals_style(locality: Locality, lang: str = "sv") -> Style:
    """Return the proposals' style: a large diamond per workflow status, the legend in ``lang``."""
    shape, size = PROPOSAL_MARKER
    categories = [
        (status, translate(labels, lang), [_simple_marker(shape, size, PROPOSAL_STATUS_COLORS[status], "#1a1a1a", 0.4)])
        for status, labels in PROPOSAL_STATUSES.items()
    ]
    categories.append(
        (
            "",
            translate({"sv": "Annan status", "en": "Other status"}, lang),  # white: unlike Avslaget's grey
            [_simple_marker(shape, size, "#ffffff", "#1a1a1a", 0.4)],
        )
    )
    qml = _qml(_categorized("status", "marker", categories))
    sld = _sld(
        "proposals",
        [
            (label, "status", value, _sld_mark(shape, size, PROPOSAL_STATUS_COLORS[value], "#1a1a1a"))
            for value, label, _layers in categories[:-1]
        ],
    )
    return Style(f"proposals ({locality.name})", qml, sld, "Förslag per status (romber) / Proposals by status (diamonds)")


# ---------------------------------------------------------------- titles, abstracts
def layer_text(layer: Layer, locality: Locality, features: int) -> LayerText:
    """Return the title (Swedish) and abstract (Swedish, then English) of one declared layer."""
    place = locality.name
    sv, en = layer.label("sv"), layer.label("en")
    if layer.role == "areas":
        statuses = ", ".join(translate(v, "sv", default=k).lower() for k, v in locality.area_status.items())
        about = (
            f"Utvecklingsområden i {place}, färgade efter planstatus ({statuses}). Förslagslagrets "
            f"area_ids och area_names anger vilka områden ett förslag ligger i.",
            f"Development areas in {place}, coloured by plan status. The proposals' area_ids and area_names "
            f"name the areas each proposal lies in.",
        )
    elif layer.role == "services":
        kinds = ", ".join(translate(v, "sv", default=k).lower() for k, v in locality.service_kinds.items())
        about = (
            f"Service och målpunkter i {place} per typ ({kinds}). Förslagslagrets nearest_<typ> och "
            f"nearest_<typ>_m anger närmaste av varje typ och avståndet i meter.",
            f"Services and destinations in {place} by kind. The proposals' nearest_<kind> and nearest_<kind>_m "
            f"give the nearest of each kind and its distance in metres.",
        )
    elif layer.role == "boundary":
        about = (
            f"Gränsen för dialogområdet {place}: förslag tas emot inom den.",
            f"The boundary of the {place} participation area: proposals are accepted inside it.",
        )
    else:
        about = (f"Referenslager: {sv}.", f"Reference layer: {en}.")
    provenance = [f for f in ("data_status", "basis", "source") if f in layer.fields]
    if layer.role == "reference" and "status" in layer.fields:
        provenance.append("status")
    columns = ", ".join(provenance)
    plural = "" if features == 1 else "s"
    abstract = (
        f"{about[0]} {features} objekt."
        + (f" Källa och tillförlitlighet per objekt: {columns}." if columns else "")
        + f"\n\n{en}. {about[1]} {features} feature{plural}."
        + (f" Source and reliability per feature: {columns}." if columns else "")
    )
    return LayerText(sv, abstract)


def proposals_text(locality: Locality, features: int, planner: bool, crs: str, exported_at: str) -> LayerText:
    """Return the title and abstract of the proposal layer of an export."""
    place = locality.name
    if planner:
        who_sv = (
            "Handläggarversion: även dolda förslag, förvaltning, vidarebefordran, kanal, statushistorik och antal "
            "service av varje typ inom typens radie (within_<typ>, radien i within_<typ>_radius_m)."
        )
        who_en = (
            "Planner version: hidden proposals too, department, forwarding, channel, status history and the number "
            "of services of each kind within the kind's radius (within_<kind>, the radius in within_<kind>_radius_m)."
        )
    else:
        who_sv = "Publik version: inga namn, e-postadresser eller dolda förslag; lägen kan vara generaliserade."
        who_en = "Public version: no names, e-mail addresses or hidden proposals; positions may be generalised."
    statuses = ", ".join(translate(v, "sv").lower() for v in PROPOSAL_STATUSES.values())
    abstract = (
        f"Förslag från invånare i {place}, ritade som romber färgade efter status ({statuses}). "
        f"Med utvecklingsområden (area_ids, area_names) och närmaste service av varje typ med avstånd i meter. "
        f"{who_sv} {features} förslag, exporterade {exported_at} i {crs}.\n\n"
        f"Residents' proposals in {place}, drawn as diamonds coloured by status, with the development areas "
        f"they lie in and the nearest service of each kind in metres. {who_en} {features} proposals, "
        f"exported {exported_at} in {crs}."
    )
    return LayerText(f"Förslag från invånare i {place}" + (" (handläggare)" if planner else ""), abstract)


# ------------------------------------------------------- line and area proposals (issue 15, item 7)
def proposal_shapes_style(table: str, kind: str, locality: Locality, lang: str = "sv") -> Style:
    """The proposals drawn as lines or areas, coloured by status like the points (areas half transparent)."""

    def symbol(color: str) -> list[tuple[str, dict]]:
        return [_line(color, 1.2)] if kind == "line" else [_fill(color, 90, color, 0.6)]

    def sld_symbol(color: str) -> str:
        return _sld_line(color) if kind == "line" else _sld_polygon(color, 0.35, color)

    symbol_kind = "line" if kind == "line" else "fill"
    categories = [
        (status, translate(labels, lang), symbol(PROPOSAL_STATUS_COLORS[status])) for status, labels in PROPOSAL_STATUSES.items()
    ]
    categories.append(("", translate({"sv": "Annan status", "en": "Other status"}, lang), symbol("#1a1a1a")))
    qml = _qml(_categorized("status", symbol_kind, categories))
    sld = _sld(
        table, [(label, "status", value, sld_symbol(PROPOSAL_STATUS_COLORS[value])) for value, label, _l in categories[:-1]]
    )
    what = ("linjer", "lines") if kind == "line" else ("ytor", "areas")
    return Style(f"{table} ({locality.name})", qml, sld, f"Förslag som {what[0]} per status / Proposals as {what[1]} by status")


def proposal_shapes_text(locality: Locality, kind: str, planner: bool) -> LayerText:
    """The title and abstract of the proposals drawn as lines or as areas."""
    place = locality.name
    if kind == "line":
        sv = f"Förslag ritade som linjer i {place} (t.ex. en gångväg som saknas), med längd (length_m) och längden inom varje utvecklingsområde (shape_areas)."
        en = f"Proposals drawn as lines in {place} (a missing footpath, say), with their length (length_m) and the length inside each development area (shape_areas)."
        title = f"Förslag som linjer i {place}"
    else:
        sv = f"Förslag ritade som ytor i {place} (t.ex. en park), med storlek (area_m2) och överlapp med varje utvecklingsområde i m² och % (shape_areas)."
        en = f"Proposals drawn as areas in {place} (a park, say), with their size (area_m2) and overlap with each development area in m² and % (shape_areas)."
        title = f"Förslag som ytor i {place}"
    who = (
        " Handläggarversion. / Planner version."
        if planner
        else " Publik version: inga namn, e-post eller dolda förslag. / Public version: no names, e-mail or hidden proposals."
    )
    return LayerText(title + (" (handläggare)" if planner else ""), f"{sv}\n\n{en}{who}")

"""QGIS styles (QML, with an SLD twin) for the layers we export, so QGIS shows the web map's colours.

A GeoPackage export stores one style per layer in the ``layer_styles`` table that QGIS reads
when it opens a layer (the table QGIS itself creates with "Save style > In database").
Development areas are coloured by ``status`` from the locality's ``[area_status]`` table;
proposals by their workflow status; the boundary is an outline; other layers get one symbol.
Only symbology is written: labels, forms and scale ranges are left to QGIS's defaults.
"""
from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from .locality import Layer, Locality
from .vocabulary import PROPOSAL_STATUSES, translate

QGIS_VERSION = "3.28.0-Firenze"
BOUNDARY_COLOR = "#333333"
POINT_COLOR = "#1f78b4"
POLYGON_COLOR = "#a6cee3"
# The marker colour the web map uses for each proposal status (labels: layers.vocabulary).
PROPOSAL_STATUS_COLORS = {
    "received": "#1f78b4", "forwarded": "#6a3d9a", "under_consideration": "#ff7f00",
    "planned": "#33a02c", "done": "#1b7837", "declined": "#7f7f7f",
}


@dataclass(frozen=True)
class Style:
    """One row of QGIS's ``layer_styles`` table for a layer."""

    name: str
    qml: str
    sld: str
    description: str


def _rgba(hex_color: str, alpha: int = 255) -> str:
    value = hex_color.lstrip("#")
    r, g, b = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{alpha}"


def _props(options: dict) -> str:
    # QGIS >= 3.26 reads <Option type="Map">; older 3.x read <prop k v>. Both, as QGIS 3.2x wrote them.
    new = "".join(f'<Option type="QString" name={quoteattr(k)} value={quoteattr(v)}/>' for k, v in options.items())
    old = "".join(f"<prop k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in options.items())
    return f'<Option type="Map">{new}</Option>{old}'


def _symbol(index: int, geometry: str, color: str, fill_alpha: int = 255, outline: str | None = None) -> str:
    if geometry == "point":
        layer = "SimpleMarker"
        options = {"name": "circle", "color": _rgba(color), "outline_color": "255,255,255,255",
                   "outline_width": "0.4", "size": "3", "size_unit": "MM"}
        kind = "marker"
    elif geometry == "line":
        layer, kind = "SimpleLine", "line"
        options = {"line_color": _rgba(color), "line_width": "0.6", "line_style": "solid"}
    else:
        layer, kind = "SimpleFill", "fill"
        options = {"color": _rgba(color, fill_alpha), "style": "solid" if fill_alpha else "no",
                   "outline_color": _rgba(outline or color), "outline_width": "0.6", "outline_style": "solid"}
    return (f'<symbol type="{kind}" name="{index}" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="{layer}" pass="0" locked="0" enabled="1">{_props(options)}</layer></symbol>')


def _qml(renderer: str) -> str:
    return (f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology">{renderer}</qgis>\n')


def _categorized(attribute: str, geometry: str, categories, fill_alpha: int) -> str:
    """``categories`` is (value, label, hex colour) triples; a last catch-all symbol is added."""
    rows = "".join(
        f'<category value={quoteattr(value)} label={quoteattr(label)} symbol="{i}" render="true"/>'
        for i, (value, label, _color) in enumerate(categories)
    )
    rows += f'<category value="" label="Övrigt / Other" symbol="{len(categories)}" render="true"/>'
    symbols = "".join(_symbol(i, geometry, color, fill_alpha) for i, (_v, _l, color) in enumerate(categories))
    symbols += _symbol(len(categories), geometry, "#999999", fill_alpha)
    return (f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attribute)} symbollevels="0" '
            f'enableorderby="0" forceraster="0"><categories>{rows}</categories>'
            f"<symbols>{symbols}</symbols></renderer-v2>")


def _single(geometry: str, color: str, fill_alpha: int, outline: str | None = None) -> str:
    return (f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
            f"<symbols>{_symbol(0, geometry, color, fill_alpha, outline)}</symbols></renderer-v2>")


def _sld_symbolizer(geometry: str, color: str, fill_opacity: float, outline: str | None = None) -> str:
    if geometry == "point":
        return ("<se:PointSymbolizer><se:Graphic><se:Mark><se:WellKnownName>circle</se:WellKnownName>"
                f'<se:Fill><se:SvgParameter name="fill">{color}</se:SvgParameter></se:Fill>'
                '<se:Stroke><se:SvgParameter name="stroke">#ffffff</se:SvgParameter></se:Stroke>'
                "</se:Mark><se:Size>11</se:Size></se:Graphic></se:PointSymbolizer>")
    if geometry == "line":
        return (f'<se:LineSymbolizer><se:Stroke><se:SvgParameter name="stroke">{color}</se:SvgParameter>'
                '<se:SvgParameter name="stroke-width">2</se:SvgParameter></se:Stroke></se:LineSymbolizer>')
    fill = (f'<se:Fill><se:SvgParameter name="fill">{color}</se:SvgParameter>'
            f'<se:SvgParameter name="fill-opacity">{fill_opacity:g}</se:SvgParameter></se:Fill>') if fill_opacity else ""
    return (f"<se:PolygonSymbolizer>{fill}<se:Stroke><se:SvgParameter name=\"stroke\">{outline or color}"
            '</se:SvgParameter><se:SvgParameter name="stroke-width">2</se:SvgParameter></se:Stroke></se:PolygonSymbolizer>')


def _sld(layer_name: str, rules: list[tuple[str, str | None, str | None, str]]) -> str:
    """``rules`` is (title, attribute, value, symbolizer); attribute None means no filter."""
    body = ""
    for title, attribute, value, symbolizer in rules:
        condition = ""
        if attribute is not None:
            condition = (f"<ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>{escape(attribute)}</ogc:PropertyName>"
                         f"<ogc:Literal>{escape(value)}</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>")
        body += f"<se:Rule><se:Name>{escape(title)}</se:Name>{condition}{symbolizer}</se:Rule>"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<StyledLayerDescriptor version="1.1.0" '
            'xmlns="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc" '
            'xmlns:se="http://www.opengis.net/se" xmlns:xlink="http://www.w3.org/1999/xlink">'
            f"<NamedLayer><se:Name>{escape(layer_name)}</se:Name><UserStyle><se:Name>{escape(layer_name)}</se:Name>"
            f"<se:FeatureTypeStyle>{body}</se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n")


def _geometry_kind(geometry_type: str) -> str:
    kind = geometry_type.lower()
    return "point" if "point" in kind else "line" if "line" in kind else "polygon"


def layer_style(layer: Layer, locality: Locality, lang: str = "sv") -> Style:
    """Return the style of one declared layer: area status colours, an outline for the boundary."""
    geometry = _geometry_kind(layer.geometry_type)
    name = f"{layer.name} ({locality.name})"
    if layer.role == "areas" and locality.area_status:
        categories = [(key, translate(value, lang, default=key), value.get("color", POLYGON_COLOR))
                      for key, value in locality.area_status.items()]
        qml = _qml(_categorized("status", geometry, categories, fill_alpha=90))
        sld = _sld(layer.name, [(label, "status", value, _sld_symbolizer(geometry, color, 0.35))
                                for value, label, color in categories])
    elif layer.role == "boundary":
        qml = _qml(_single("polygon", BOUNDARY_COLOR, fill_alpha=0))
        sld = _sld(layer.name, [(layer.label(lang), None, None, _sld_symbolizer("polygon", BOUNDARY_COLOR, 0))])
    else:
        color = POINT_COLOR if geometry == "point" else POLYGON_COLOR
        qml = _qml(_single(geometry, color, fill_alpha=90, outline="#1f78b4"))
        sld = _sld(layer.name, [(layer.label(lang), None, None, _sld_symbolizer(geometry, color, 0.35, "#1f78b4"))])
    return Style(name, qml, sld, f"{layer.label('sv')} / {layer.label('en')}: färger som på webbkartan / web map colours")


def proposals_style(locality: Locality, lang: str = "sv") -> Style:
    """Return the proposals' style: one marker colour per workflow status."""
    categories = [(status, translate(labels, lang), PROPOSAL_STATUS_COLORS[status])
                  for status, labels in PROPOSAL_STATUSES.items()]
    qml = _qml(_categorized("status", "point", categories, fill_alpha=255))
    sld = _sld("proposals", [(label, "status", value, _sld_symbolizer("point", color, 1)) for value, label, color in categories])
    return Style(f"proposals ({locality.name})", qml, sld, "Förslag per status / Proposals by status")

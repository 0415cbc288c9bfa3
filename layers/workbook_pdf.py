"""The paper workbook as an A4 PDF: a cover, a page for the whole locality and one per development area.

Each map page is drawn as vector graphics from our own layers (boundary, development areas,
services) in SWEREF 99 TM, so it needs no tiles and no network; each carries the area's status and
plan reference, lines to write on and a QR code to the proposal form pre-set to that page's area,
the ``workbook`` channel and the round. fpdf2 writes the PDF, segno makes the QR codes (drawn as
vector squares), and the text is set in DejaVu Sans, which matplotlib already installs.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..geo.crs import to_metric
from ..lazy import lazy_module
from .registry import LayerRegistry
from .vocabulary import translate
from .workbook import Round, WorkbookConfig, form_url, workbook_config

if TYPE_CHECKING:
    import fpdf
    import segno
    import shapely
else:
    fpdf = lazy_module("fpdf")
    segno = lazy_module("segno")
    shapely = lazy_module("shapely")

# What the printed pages say, in both languages (the resident reads them: list new ones in CHANGES.md).
WORDS = {
    "workbook": {"sv": "Arbetsboken", "en": "The workbook"},
    "intro": {
        "sv": "Vi vill veta vad du tycker om {locality} och om områdena som ska utvecklas. Skriv eller rita på sidorna: "
        "markera platsen du menar med ett kryss på kartan. Ett förslag per sida räcker gott.",
        "en": "We want to know what you think about {locality} and the areas that are to be developed. Write or draw on "
        "the pages: mark the place you mean with a cross on the map. One proposal per page is plenty.",
    },
    "questions": {"sv": "Frågorna i den här omgången", "en": "This round's questions"},
    "return": {"sv": "Så lämnar du tillbaka arbetsboken", "en": "How to return the workbook"},
    "online": {"sv": "Hellre på webben? Skanna koden på varje sida.", "en": "Rather online? Scan the code on any page."},
    "privacy": {
        "sv": "Skriv inte ditt namn eller andras i svaren: förslagen kan visas öppet på kartan.",
        "en": "Do not write your name or anyone else's in the answers: proposals may be shown openly on the map.",
    },
    "whole": {"sv": "Hela {locality}", "en": "All of {locality}"},
    "status": {"sv": "Status", "en": "Status"},
    "plan": {"sv": "Plan", "en": "Plan"},
    "period": {"sv": "Tid", "en": "Period"},
    "no_plan": {"sv": "ingen plan ännu", "en": "no plan yet"},
    "sketch": {"sv": "Skiss, inte kommunens plangräns.", "en": "Sketch, not the municipality's plan boundary."},
    "write": {
        "sv": "Ditt förslag eller dina synpunkter (markera platsen med ett kryss på kartan):",
        "en": "Your proposal or comments (mark the place with a cross on the map):",
    },
    "scan": {"sv": "Skanna för att svara på webben", "en": "Scan to answer online"},
    "legend_boundary": {"sv": "Dialogområdets gräns", "en": "Participation area boundary"},
    "legend_service": {"sv": "Service och målpunkter", "en": "Services"},
    "page": {"sv": "Sida {page}", "en": "Page {page}"},
}

PAGE_W, PAGE_H, MARGIN = 210.0, 297.0, 15.0  # A4 portrait, millimetres
MAP_TOP, MAP_HEIGHT = 42.0, 118.0  # the map starts lower when a long name or status line needs the room
QR_SIZE = 38.0


MAX_AREA_PAGES = 200  # a print run, not the whole of a synthetic plan of thousands of areas


class UnknownArea(ValueError):
    """An area id that the development-areas layer does not hold."""


class TooManyAreas(ValueError):
    """More area pages asked for than one PDF holds (``MAX_AREA_PAGES``)."""


@dataclass(frozen=True)
class WorkbookRequest:
    """What to print: which areas (None: all), which round (None: the newest), the language and the site's address."""

    base_url: str
    areas: tuple[str, ...] | None = None
    round_name: str | None = None
    lang: str = "sv"


def _word(key: str, lang: str, **values) -> str:
    return translate(WORDS[key], lang).format(**values)


def _font_dir() -> Path:
    spec = importlib.util.find_spec("matplotlib")  # located, not imported: its DejaVu files are all we use
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib (a dependency) is not installed: its DejaVu fonts set the workbook's text")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


def build_pdf(registry: LayerRegistry, request: WorkbookRequest) -> bytes:
    """Return the workbook as PDF bytes; raise ``UnknownArea`` or ``LookupError`` (unknown round) first."""
    locality = registry.locality
    config = workbook_config(locality)
    round_ = config.round(request.round_name)
    if request.round_name and round_ is None:
        raise LookupError(request.round_name)
    areas = to_metric(registry.areas())
    ids = [str(i) for i in areas["id"]]
    wanted = list(dict.fromkeys(request.areas)) if request.areas else ids
    unknown = [a for a in wanted if a not in ids]
    if unknown:
        raise UnknownArea(", ".join(unknown[:10]))
    if len(wanted) > MAX_AREA_PAGES:
        raise TooManyAreas(f"{len(wanted)} areas, at most {MAX_AREA_PAGES} per workbook")
    boundary = to_metric(registry.frame(locality.boundary_layer)).geometry.union_all()
    services = to_metric(registry.services())
    pdf = _document(locality.name, request.lang)
    _cover(pdf, locality.name, config, round_, request)
    pages = [(None, boundary.bounds)] + [(a, areas.geometry.iloc[ids.index(a)].bounds) for a in wanted]
    for area_id, bounds in pages:
        row = areas.iloc[ids.index(area_id)] if area_id else None
        _map_page(pdf, locality, row, bounds, boundary, areas, services, config, round_, request)
    return bytes(pdf.output())


def _document(title: str, lang: str) -> fpdf.FPDF:
    pdf = fpdf.FPDF(orientation="P", unit="mm", format="A4")
    fonts = _font_dir()
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_title(f"{_word('workbook', lang)} – {title}")
    pdf.set_lang(lang)
    pdf.set_creator("Dialogkarta")
    return pdf


def _cover(pdf, locality_name: str, config: WorkbookConfig, round_: Round | None, request: WorkbookRequest) -> None:
    lang = request.lang
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 26)
    pdf.multi_cell(0, 12, f"{_word('workbook', lang)} – {locality_name}", align="L", new_x="LMARGIN", new_y="NEXT")
    if round_:
        pdf.set_font("DejaVu", "", 15)
        pdf.multi_cell(0, 9, translate(round_.title, lang), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 11)
    pdf.multi_cell(0, 6, _word("intro", lang, locality=locality_name), align="L", new_x="LMARGIN", new_y="NEXT")
    if round_ and round_.questions:
        pdf.ln(4)
        pdf.set_font("DejaVu", "B", 13)
        pdf.multi_cell(0, 8, _word("questions", lang), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 11)
        for number, question in enumerate(round_.questions, start=1):
            pdf.multi_cell(0, 6, f"{number}. {translate(question, lang)}", align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(0, 8, _word("return", lang), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    for text in (translate(config.return_address, lang), translate(config.contact, lang), _word("privacy", lang)):
        if text:
            pdf.multi_cell(0, 6, text, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
    url = form_url(request.base_url, round_.name if round_ else None, None, lang)
    _qr(pdf, url, PAGE_W - MARGIN - QR_SIZE, PAGE_H - MARGIN - QR_SIZE - 20, _word("online", lang))
    _footer(pdf, lang)


def _map_page(pdf, locality, row, bounds, boundary, areas, services, config, round_, request) -> None:
    lang = request.lang
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 17)
    # Bounded, so that an imported layer's long texts cannot push the map and the QR code off the page.
    name = str(row["name"])[:120] if row is not None else _word("whole", lang, locality=locality.name)
    pdf.multi_cell(0, 9, name, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    if row is not None:
        status = _field(row, "status")
        status_label = translate(locality.area_status.get(status, {}), lang, default=status or "")
        line = f"{_word('status', lang)}: {status_label} · {_word('plan', lang)}: {_field(row, 'plan_ref') or _word('no_plan', lang)}"
        if _field(row, "period"):
            line += f" · {_word('period', lang)}: {_field(row, 'period')}"
        pdf.multi_cell(0, 5, line[:400], align="L", new_x="LMARGIN", new_y="NEXT")
        if _field(row, "data_status") != "verified":
            pdf.multi_cell(0, 5, _word("sketch", lang), align="L", new_x="LMARGIN", new_y="NEXT")
    highlight = str(row["id"]) if row is not None else None
    box = (MARGIN, max(MAP_TOP, pdf.get_y() + 3), PAGE_W - 2 * MARGIN, MAP_HEIGHT)
    _draw_map(pdf, box, bounds, boundary, areas, services, locality.area_status, highlight)
    top = _legend(pdf, box, areas, locality.area_status, lang) + 7
    pdf.set_xy(MARGIN, top)
    pdf.set_font("DejaVu", "B", 10)
    writing_width = PAGE_W - 2 * MARGIN - QR_SIZE - 8
    pdf.multi_cell(writing_width, 5, _word("write", lang), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(150, 150, 150)
    pdf.set_line_width(0.2)
    y = top + 18
    while y < PAGE_H - MARGIN - 12:
        pdf.line(MARGIN, y, MARGIN + writing_width, y)
        y += 9
    url = form_url(request.base_url, round_.name if round_ else None, highlight, lang)
    _qr(pdf, url, PAGE_W - MARGIN - QR_SIZE, top + 4, _word("scan", lang))
    _footer(pdf, lang)


def _field(row, key: str) -> str | None:
    """A property of a layer row as text, None when missing or empty (pandas gives NaN for a missing value)."""
    value = row.get(key)
    return None if value is None or value != value or value == "" else str(value)


def _footer(pdf, lang: str) -> None:
    pdf.set_xy(MARGIN, PAGE_H - MARGIN - 4)
    pdf.set_font("DejaVu", "", 8)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(0, 4, _word("page", lang, page=pdf.page_no()), align="R")
    pdf.set_text_color(0, 0, 0)


def _qr(pdf, url: str, x: float, y: float, caption: str) -> None:
    """Draw ``url`` as a QR code of QR_SIZE mm at (x, y), one filled square per dark module, the caption below."""
    code = segno.make(url, error="m", micro=False)
    rows = list(code.matrix_iter(scale=1, border=4))
    module = QR_SIZE / len(rows)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, QR_SIZE, QR_SIZE, style="F")
    pdf.set_fill_color(0, 0, 0)
    for r, cells in enumerate(rows):
        start = None
        for c, dark in enumerate([*cells, False]):  # runs of dark modules as one rectangle each
            if dark and start is None:
                start = c
            elif not dark and start is not None:
                pdf.rect(x + start * module, y + r * module, (c - start) * module, module, style="F")
                start = None
    pdf.set_xy(x - 4, y + QR_SIZE + 1)
    pdf.set_font("DejaVu", "", 7.5)
    pdf.multi_cell(QR_SIZE + 8, 3.5, caption, align="C", new_x="LMARGIN", new_y="NEXT")


def _hex(color: str | None, default=(200, 200, 200)) -> tuple[int, int, int]:
    if not color or not color.startswith("#") or len(color) != 7:
        return default
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _view(bounds, box) -> tuple[tuple[float, float, float, float], float]:
    """The map's extent in metres around ``bounds`` (a margin, at least 500 m across) fitted to the box, and mm per metre."""
    xmin, ymin, xmax, ymax = bounds
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    span_x, span_y = max(xmax - xmin, 500.0) * 1.3, max(ymax - ymin, 500.0) * 1.3
    scale = min(box[2] / span_x, box[3] / span_y)
    half_w, half_h = box[2] / scale / 2, box[3] / scale / 2
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h), scale


def _draw_map(pdf, box, bounds, boundary, areas, services, area_status: dict, highlight: str | None) -> None:
    bx, by, bw, bh = box
    extent, scale = _view(bounds, box)

    def page_xy(coords):
        return [(bx + (x - extent[0]) * scale, by + bh - (y - extent[1]) * scale) for x, y, *_ in coords]

    def rings(geometry):
        clipped = shapely.clip_by_rect(geometry, *extent)
        for part in getattr(clipped, "geoms", [clipped]):
            if part.geom_type == "Polygon" and not part.is_empty:
                yield part.exterior.coords
                yield from (hole.coords for hole in part.interiors)

    pdf.set_fill_color(246, 245, 240)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.3)
    pdf.rect(bx, by, bw, bh, style="DF")
    for position in sorted(areas.sindex.query(shapely.box(*extent))):  # only the areas in view
        row = areas.iloc[position]
        own = highlight is not None and str(row["id"]) == highlight
        pdf.set_fill_color(*_hex((area_status.get(row.get("status")) or {}).get("color")))
        pdf.set_draw_color(40, 40, 40)
        pdf.set_line_width(0.9 if own else 0.25)
        with pdf.local_context(fill_opacity=0.55 if own or highlight is None else 0.2):
            for ring in rings(areas.geometry.iloc[position]):
                pdf.polygon(page_xy(ring), style="DF")
    pdf.set_draw_color(34, 34, 34)
    pdf.set_line_width(0.6)
    pdf.set_dash_pattern(dash=2.5, gap=1.5)
    edge = shapely.clip_by_rect(boundary.boundary, *extent)  # the line only: a clipped polygon would trace the box
    for line in getattr(edge, "geoms", [edge]):
        if line.geom_type == "LineString" and not line.is_empty:
            pdf.polyline(page_xy(line.coords), style="D")
    pdf.set_dash_pattern()
    view = shapely.box(*extent)
    pdf.set_font("DejaVu", "", 6)
    pdf.set_fill_color(30, 30, 30)
    for position in range(len(services)):
        point = services.geometry.iloc[position]
        if point is None or point.geom_type != "Point" or not view.contains(point):
            continue
        ((x, y),) = page_xy([(point.x, point.y)])
        pdf.circle(x, y, 0.9, style="F")
        if highlight is not None:  # on an area's page the few nearby services are named; the locality page would crowd
            label = str(services.iloc[position]["name"])[:40]
            width = pdf.get_string_width(label)
            pdf.text(x + 1.4 if x + 1.4 + width < bx + bw else x - 1.4 - width, y + 0.8, label)
    _scale_bar(pdf, box, scale)
    pdf.set_font("DejaVu", "B", 10)
    pdf.text(bx + bw - 7, by + 7, "N")
    pdf.polygon([(bx + bw - 5.9, by + 8.5), (bx + bw - 7.4, by + 12.5), (bx + bw - 4.4, by + 12.5)], style="F")


def _scale_bar(pdf, box, scale: float) -> None:
    bx, by, _bw, bh = box
    metres = next(m for m in (50, 100, 200, 250, 500, 1000, 2000, 5000, 10000) if m * scale >= 25 or m == 10000)
    x, y = bx + 5, by + bh - 6
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x - 2, y - 5, metres * scale + 16, 8, style="F")
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.6)
    pdf.line(x, y, x + metres * scale, y)
    pdf.set_font("DejaVu", "", 7)
    pdf.text(x, y - 1.5, f"{metres} m" if metres < 1000 else f"{metres // 1000} km")


def _legend(pdf, box, areas, area_status: dict, lang: str) -> float:
    """One line (wrapped when full) under the map naming the statuses, the boundary and the service dots; return its bottom."""
    x, y = box[0], box[1] + box[3] + 3
    pdf.set_font("DejaVu", "", 7.5)
    present = set(areas["status"]) if "status" in areas else set()
    items = [
        ("status", translate(labels, lang), labels.get("color")) for status, labels in area_status.items() if status in present
    ]
    items += [("boundary", _word("legend_boundary", lang), None), ("service", _word("legend_service", lang), None)]
    for kind, label, color in items:
        if x + 8 + pdf.get_string_width(label) > PAGE_W - MARGIN:
            x, y = box[0], y + 4.5
        if kind == "status":
            pdf.set_fill_color(*_hex(color))
            pdf.rect(x, y, 4, 3, style="F")
        elif kind == "boundary":
            pdf.set_draw_color(34, 34, 34)
            pdf.set_dash_pattern(dash=1.5, gap=1)
            pdf.line(x, y + 1.5, x + 4, y + 1.5)
            pdf.set_dash_pattern()
        else:
            pdf.set_fill_color(30, 30, 30)
            pdf.circle(x + 2, y + 1.5, 0.9, style="F")
        pdf.text(x + 5, y + 2.6, label)
        x += 8 + pdf.get_string_width(label)
    return y + 4

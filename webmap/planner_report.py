"""The summary report (/planner/report and ``dialogkarta report -o report.html``).

Figures come from ``layers.report``; this module draws them with matplotlib on the server
(bar charts, a timeline and a static map of the development areas and proposals in SWEREF 99
TM) as inline SVG with text kept as text, and renders one HTML page that prints to PDF from the
browser. The standalone version (CLI) inlines its stylesheet so the file works on its own.
"""

from __future__ import annotations

import io
import re
import textwrap
from datetime import datetime, UTC
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede any pyplot import (geopandas plots use it)
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from flask import render_template  # noqa: E402
from flask_babel import gettext as _  # noqa: E402

from ..geo.crs import to_metric  # noqa: E402
from ..layers import report as report_data  # noqa: E402
from ..layers import survey_results, surveys, workflow  # noqa: E402
from ..layers import vocabulary  # noqa: E402
from . import db  # noqa: E402
from .i18n import current_language  # noqa: E402

CSS_PATH = Path(__file__).resolve().parent / "static" / "planner" / "planner.css"
_SVG_PREAMBLE = re.compile(r"^.*?(?=<svg)", re.S)
SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": "dialogkarta", "font.size": 9}


def _svg(fig: Figure, label: str) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(SVG_RC):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = _SVG_PREAMBLE.sub("", buffer.getvalue(), count=1)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{_escape(label)}" ', 1)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def bar_chart(counts: dict, labels: dict, title: str) -> str:
    """Return a horizontal bar chart of ``counts`` as SVG."""
    with matplotlib.rc_context(SVG_RC):
        items = list(counts.items())[::-1]
        names = [textwrap.fill(labels.get(k, k) or "–", 30) for k, _v in items]  # long department names wrap
        fig = Figure(figsize=(7, 0.5 * sum(n.count("\n") + 1 for n in names) + 1.0))
        ax = fig.subplots()
        ax.barh(names, [v for _k, v in items], color="#2171b5")
        ax.set_title(title)
        ax.xaxis.get_major_locator().set_params(integer=True)
        for spine in ("top", "right"):
            ax.spines[spine].set_visible(False)
        return _svg(fig, title)


def timeline_chart(timeline: list, title: str) -> str:
    with matplotlib.rc_context(SVG_RC):
        fig = Figure(figsize=(6, 2.5))
        ax = fig.subplots()
        if timeline:
            ax.bar([d for d, _n in timeline], [n for _d, n in timeline], color="#6baed6")
            ax.tick_params(axis="x", labelrotation=45)
        ax.set_title(title)
        ax.yaxis.get_major_locator().set_params(integer=True)
        return _svg(fig, title)


def static_map(registry, records, counts: dict, title: str) -> str:
    """Return a map of the development areas (shaded by proposal count) and proposals, in SWEREF 99 TM."""
    import geopandas as gpd
    import shapely

    with matplotlib.rc_context(SVG_RC):
        fig = Figure(figsize=(7.5, 6))
        ax = fig.subplots()
        boundary = to_metric(registry.frame(registry.locality.boundary_layer))
        boundary.boundary.plot(ax=ax, color="#333333", linewidth=1, linestyle="--")
        areas = to_metric(registry.areas()).copy()
        areas["count"] = [counts.get(a, 0) for a in areas["id"]]
        shade_by_count(ax, areas, "Blues", _("antal förslag"), edgecolor="#08306b", linewidth=1)
        labels = []
        for row in areas.itertuples():
            point = row.geometry.representative_point()
            name = textwrap.shorten(row.name.split(" – ")[0], 24, placeholder="…")
            label = ax.annotate(
                f"{name} ({row.count})",
                (point.x, point.y),
                xytext=(0, 10),
                textcoords="offset points",
                ha="center",
                fontsize=9,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.8},
            )
            labels.append(label)
        if records:
            points = gpd.GeoDataFrame(geometry=shapely.points([(r["lon"], r["lat"]) for r in records]), crs="EPSG:4326")
            # Thousands of dots as vector paths make a megabyte of SVG; past 2 000 they go in as one bitmap.
            to_metric(points).plot(ax=ax, color="#b30000", markersize=8, rasterized=len(records) > 2000)
        metric_axes(ax, title)
        _spread_labels(fig, labels)
        return _svg(fig, title)


def shade_by_count(ax, frame, cmap: str, label: str, **style) -> None:
    """Draw ``frame`` shaded by its ``count`` column from 0, with a legend of whole numbers named ``label``."""
    top = max(1, int(frame["count"].max()))
    frame.plot(
        ax=ax,
        column="count",
        cmap=cmap,
        vmin=0,
        vmax=top,
        legend=True,
        legend_kwds={"label": label, "shrink": 0.6, "ticks": MaxNLocator(integer=True, nbins=min(top, 5))},
        **style,
    )


def metric_axes(ax, title: str) -> None:
    """Title a map drawn in SWEREF 99 TM and give it equal, plainly numbered metre axes."""
    ax.set_title(title)
    ax.set_xlabel("E (m), SWEREF 99 TM")
    ax.set_ylabel("N (m)")
    ax.set_aspect("equal")
    ax.ticklabel_format(style="plain", useOffset=False)
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.yaxis.set_major_locator(MaxNLocator(5))


# Offsets (points) tried in turn for an area label: above its point first, then below, then further out and aside.
LABEL_OFFSETS = [(0, 10), (0, -18)] + [
    (dx, dy)
    for step in (1, 2, 3, 4)
    for dx, dy in (
        (0, 10 + 14 * step),
        (0, -18 - 14 * step),
        (60 * step, 10),
        (-60 * step, 10),
        (60 * step, -18),
        (-60 * step, -18),
    )
]


def _spread_labels(fig: Figure, labels: list) -> None:
    """Give each label the first offset at which its box (with a margin) overlaps no label placed before it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # lays out the axes (equal aspect) so the boxes are final
    renderer = canvas.get_renderer()
    placed: list = []
    for label in labels:
        for offset in LABEL_OFFSETS:
            label.xyann = offset
            box = label.get_window_extent(renderer).expanded(1.15, 1.6)
            if not any(box.overlaps(other) for other in placed):
                break
        placed.append(box)


def survey_rounds(conn, lang: str) -> list[dict]:
    """The survey rounds with their dates and number of responses (the results are on their own pages)."""
    counts = survey_results.response_counts(conn)
    return [
        {"slug": found.slug, "title": surveys.in_language(found.title, lang), "opens": found.opens, "closes": found.closes,
         "responses": counts.get(found.slug, 0)}
        for found in surveys.list_surveys(conn)
    ]  # fmt: skip


def build(conn, registry, lang: str) -> dict:
    """Return the report's figures and charts."""
    records = report_data.load_records(conn, registry.locality.timezone)
    first_answers = workflow.first_answer_times(conn)
    areas = registry.areas()
    area_names = dict(zip(areas["id"], areas["name"]))
    figures = report_data.summary(records, list(areas["id"]), first_answers)
    locality = registry.locality
    labels = {
        "area": area_names,
        "category": {c.id: c.label(lang) for c in locality.categories},
        "channel": vocabulary.labels(vocabulary.CHANNELS, lang),
        "status": vocabulary.labels(vocabulary.PROPOSAL_STATUSES, lang),
        "department": {d: locality.department_label(d, lang) for d in locality.departments},
    }
    tables = [
        ("area", _("Per utvecklingsområde"), figures["by_area"]),
        ("category", _("Per kategori"), figures["by_category"]),
        ("channel", _("Per kanal"), figures["by_channel"]),
        ("status", _("Per status"), figures["by_status"]),
        ("department", _("Per förvaltning"), figures["by_department"]),
    ]
    charts = [(title, bar_chart(counts, labels[key], title)) for key, title, counts in tables if counts]
    charts.append((_("Inkomna förslag per vecka"), timeline_chart(figures["timeline"], _("Inkomna förslag per vecka"))))
    return {
        "figures": figures,
        "labels": labels,
        "tables": tables,
        "charts": charts,
        "map_svg": static_map(registry, records, figures["by_area"], _("Förslag och utvecklingsområden")),
        "surveys": survey_rounds(conn, lang),
        "generated_at": locality.local(datetime.now(UTC)),
    }


def render(standalone: bool = False) -> str:
    """Return the report as an HTML page; ``standalone`` inlines the stylesheet and drops navigation."""
    lang = current_language()
    with db.reading() as conn:
        data = build(conn, db.registry(), lang)
    css = CSS_PATH.read_text(encoding="utf-8") if standalone else None
    template = "planner/report_standalone.html" if standalone else "planner/report.html"
    return render_template(template, standalone=standalone, inline_css=css, locality=db.registry().locality, **data)

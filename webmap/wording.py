"""What the resident reads about a proposal: labels, distances and the sentence saying where it lies."""

from __future__ import annotations

from flask_babel import format_decimal, gettext as _

from ..layers.vocabulary import PROPOSAL_STATUSES, label, translate
from .i18n import current_language

SUMMARY_SERVICES = 4  # how many nearest services the sentence names
SUMMARY_MAX_DISTANCE_M = 2000  # services farther than this are not worth naming


def status_label(status: str, lang: str | None = None) -> str:
    return label(PROPOSAL_STATUSES, status, lang or current_language())


def category_label(locality, category_id: str, lang: str) -> str:
    category = locality.category(category_id)
    return category.label(lang) if category else category_id


def kind_label(locality, kind: str, lang: str) -> str:
    return translate(locality.service_kinds.get(kind), lang, default=kind)


def area_status_label(locality, status: str, lang: str) -> str:
    return translate(locality.area_status.get(status), lang, default=status)


def format_distance(metres: float) -> str:
    if metres < 1000:
        return f"{int(round(metres / 10.0) * 10)} m"
    return f"{format_decimal(round(metres / 1000.0, 1), format='#,##0.0')} km"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def joins_detail(record: dict, registry, lang: str) -> dict:
    """Return the join results of a (public) record with names and labels in ``lang``."""
    locality = registry.locality
    by_id = registry.area_rows()
    areas = []
    for area_id in record.get("area_ids", []):
        row = by_id.get(area_id, {})
        status = row.get("status") or ""
        areas.append(
            {
                "id": area_id,
                "name": row.get("name") or area_id,
                "status": status,
                "status_label": area_status_label(locality, status, lang),
                "illustrative": row.get("data_status") != "verified",
            }
        )
    nearest = {
        kind: {**value, "kind_label": kind_label(locality, kind, lang)} for kind, value in record.get("nearest", {}).items()
    }
    return {"areas": areas, "nearest": nearest}


def join_sentence(detail: dict, own: bool = True) -> str:
    """Say in words where a proposal lies and what is nearest (the confirmation and the permalink)."""
    areas = [f"{a['name']} ({_lower_first(a['status_label'])})" for a in detail["areas"]]
    if areas:
        joined = areas[0] if len(areas) == 1 else _("%(first)s och %(last)s", first=", ".join(areas[:-1]), last=areas[-1])
        first = _("Ditt förslag ligger i %(areas)s.", areas=joined) if own else _("Förslaget ligger i %(areas)s.", areas=joined)
    else:
        first = (
            _("Ditt förslag ligger utanför de utpekade utvecklingsområdena.")
            if own
            else _("Förslaget ligger utanför de utpekade utvecklingsområdena.")
        )
    nearest = [(kind, n) for kind, n in detail["nearest"].items() if n["distance_m"] <= SUMMARY_MAX_DISTANCE_M]
    nearest.sort(key=lambda item: (item[0] != "bus_stop", item[1]["distance_m"]))  # the bus stop first, then closest
    parts = []
    for position, (_kind, n) in enumerate(nearest[:SUMMARY_SERVICES]):
        label = n["kind_label"].lower()
        part = _(
            "närmaste %(kind)s: %(name)s, %(distance)s", kind=label, name=n["name"], distance=format_distance(n["distance_m"])
        )
        parts.append(part[:1].upper() + part[1:] if position == 0 else part)
    return f"{first} {'; '.join(parts)}." if parts else first

"""Submitting a proposal: validate what a resident sent, join it to the layers, route it, store it.

This is the one path into the store for new proposals, used by the web form, the JSON API,
staff entry and the CLI alike. Every refusal raises ``InvalidProposal`` (or a ``GeoError``)
before anything is written.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from sqlalchemy import Connection

from ..geo.crs import to_sweref
from ..geo.errors import UserError
from ..geo.joins import distances_m
from ..geo.validate import check_in_locality
from . import layer_store, proposal_shapes, spam, store, vocabulary, workbook
from .records import JoinResult, ProposalRecord
from .registry import LayerRegistry
from .routing import route
from ..lazy import lazy_module

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import shapely
else:
    gpd = lazy_module("geopandas")
    np = lazy_module("numpy")
    shapely = lazy_module("shapely")

TITLE_MAX = 120
DESCRIPTION_MAX = 2000
NAME_MAX = 200
EMAIL_MAX = 254
CHANNELS = tuple(vocabulary.CHANNELS)
EMAIL_PATTERN = re.compile(r"^[^@\s<>\"(),;:]+@[^@\s<>\"(),;:]+\.[^@\s<>\"(),;:.]{2,}$")
# C0/C1 control characters other than tab and newline; NUL is refused by PostgreSQL text columns.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class InvalidProposal(UserError):
    code = "invalid_proposal"

    def __init__(self, sv: str, en: str, field: str | None = None, code: str | None = None):
        super().__init__(sv, en, field=field)
        self.field = field
        if code:
            self.code = code


def _text(value, field: str, label_sv: str, label_en: str, max_length: int, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidProposal(f"{label_sv} måste vara text.", f"{label_en} must be text.", field, "wrong_type")
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n")).strip()
    if _CONTROL.search(value):
        raise InvalidProposal(
            f"{label_sv} innehåller otillåtna styrtecken.",
            f"{label_en} contains control characters that are not allowed.",
            field,
            "invalid_text",
        )
    if required and not value:
        raise InvalidProposal(f"{label_sv} får inte vara tom.", f"{label_en} must not be empty.", field, "empty")
    if len(value) > max_length:
        raise InvalidProposal(
            f"{label_sv} är för lång: högst {max_length} tecken, du skrev {len(value)}.",
            f"{label_en} is too long: at most {max_length} characters, you wrote {len(value)}.",
            field,
            "too_long",
        )
    return value


def clean_submission(data: dict, registry: LayerRegistry) -> dict:
    """Return the validated, normalised fields of a submission, or raise ``InvalidProposal``/``GeoError``."""
    locality = registry.locality
    lon, lat = data.get("lon"), data.get("lat")
    for axis, value in (("lon", lon), ("lat", lat)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (isinstance(value, float) and not math.isfinite(value))
        ):
            raise InvalidProposal(
                f"{axis} måste vara ett ändligt tal.",
                f"{axis} must be a finite number.",
                axis,
                "wrong_type",
            )
    lon, lat = check_in_locality(lon, lat, registry.boundary(), locality.name)
    category = data.get("category")
    if category is None or category == "":
        raise InvalidProposal(
            "Välj en kategori för ditt förslag.", "Choose a category for your proposal.", "category", "missing_category"
        )
    if not isinstance(category, str) or locality.category(category) is None:
        known = ", ".join(c.id for c in locality.categories)
        raise InvalidProposal(
            f"Okänd kategori. Välj en av: {known}.",
            f"Unknown category. Choose one of: {known}.",
            "category",
            "unknown_category",
        )
    title = _text(data.get("title"), "title", "Rubriken", "The title", TITLE_MAX, required=True)
    description = _text(
        data.get("description"), "description", "Beskrivningen", "The description", DESCRIPTION_MAX, required=True
    )
    name = _text(data.get("name"), "name", "Namnet", "The name", NAME_MAX, required=False)
    email = _text(data.get("email"), "email", "E-postadressen", "The e-mail address", EMAIL_MAX, required=False)
    consent = data.get("consent", False)
    if consent is None:
        consent = False
    if not isinstance(consent, bool):
        raise InvalidProposal("Samtycke måste vara sant eller falskt.", "Consent must be true or false.", "consent", "wrong_type")
    if email and not EMAIL_PATTERN.match(email):
        raise InvalidProposal(
            "E-postadressen ser inte giltig ut.", "The e-mail address does not look valid.", "email", "invalid_email"
        )
    if (name or email) and not consent:
        raise InvalidProposal(
            "Kryssa i samtycket om du vill lämna namn eller e-post, annars lämna fälten tomma.",
            "Tick the consent box if you want to leave a name or e-mail, otherwise leave those fields empty.",
            "consent",
            "consent_required",
        )
    channel = data.get("channel", "web") or "web"
    if channel not in CHANNELS:
        raise InvalidProposal(
            f"Okänd kanal. Välj en av: {', '.join(CHANNELS)}.",
            f"Unknown channel. Choose one of: {', '.join(CHANNELS)}.",
            "channel",
            "unknown_channel",
        )
    meeting = _text(data.get("meeting"), "meeting", "Mötet", "The meeting", 200, required=False) or None
    return {
        "lon": lon,
        "lat": lat,
        "category": category,
        "title": title,
        "description": description,
        "name": name or None,
        "email": email or None,
        "consent": consent,
        "channel": channel,
        "meeting": meeting,
    }


FEW_POINTS = 64  # up to this many points are joined without building frames (a new proposal: one)


def compute_joins(registry: LayerRegistry, lonlat: list[tuple[float, float]]) -> list[JoinResult]:
    """Return, per (lon, lat), the covering area ids and, per service kind, the nearest service and
    how many of that kind lie within the kind's radius (``[service_radius_m]`` in locality.toml)."""
    area_index, service_index = registry.area_index(), registry.service_index()
    radius_m = registry.locality.radius_m
    results: list[JoinResult] = [{"area_ids": [], "nearest": []} for _ in lonlat]
    if not lonlat:
        return results
    lon, lat = np.asarray(lonlat, dtype=float).T
    xy = np.column_stack(to_sweref(lon, lat))
    counts = {kind: values.tolist() for kind, values in service_index.count_within_radii_xy(xy, radius_m).items()}
    point_positions, area_positions = area_index.containing_xy(xy)
    for point, area_id in zip(point_positions.tolist(), area_index.ids[area_positions].tolist()):
        results[point]["area_ids"].append(area_id)
    if len(lonlat) <= FEW_POINTS:
        for point, found in enumerate(service_index.nearest_each_xy(xy)):
            results[point]["nearest"] = [
                {
                    "kind": kind,
                    "service_id": service_id,
                    "service_name": service_index.names[service_id],
                    "distance_m": metres,
                    "radius_m": radius_m(kind),
                    "within_count": counts[kind][point],
                }
                for kind, service_id, metres in found
            ]
        return results
    nearest = service_index.nearest_xy(xy)
    for kind in service_index.kinds:
        for position, (service_id, metres) in enumerate(zip(nearest[f"{kind}_id"], nearest[f"{kind}_m"])):
            if service_id is not None and not (isinstance(service_id, float) and math.isnan(service_id)):
                results[position]["nearest"].append(
                    {
                        "kind": kind,
                        "service_id": service_id,
                        "service_name": service_index.names[service_id],
                        "distance_m": float(metres),
                        "radius_m": radius_m(kind),
                        "within_count": counts[kind][position],
                    }
                )
    return results


@dataclass(frozen=True)
class Prepared:
    """A submission validated and joined, not yet stored: what ``prepare`` hands ``store_prepared``."""

    data: dict
    fields: dict
    joins: JoinResult
    held: bool
    trapped: bool
    hold_links: bool
    versions: dict[str, int] | None  # the layer versions the checks and joins used (None: not known)
    round_name: str | None = None  # the workbook round it answers (layers/workbook.py)
    role: str = "resident"
    shape: proposal_shapes.ProposalShape | None = None  # a line or an area (None: a point)


def prepare(registry: LayerRegistry, data: dict, hold_links: bool = False, role: str = "resident") -> Prepared:
    """Validate and join one submission without touching the store; raise ``InvalidProposal``/``GeoError``.

    Inside ``registry.checked()`` the layer versions used are recorded, so ``store_prepared`` can
    tell whether a layer import committed in between (the JSON API checks against the versions this
    process has cached, ``registry.cached_versions()``, which costs no query). This is the CPU-heavy
    part of a POST, kept outside the writers' queue.
    """
    trapped = spam.is_honeypot_filled(data)
    located, shape = proposal_shapes.read_geometry(data, registry)  # a line or an area: lon/lat is a point on it
    fields = clean_submission({key: value for key, value in located.items() if key != spam.HONEYPOT_FIELD}, registry)
    if role == "resident":
        workbook.check_resident_channel(data.get("channel"))
    round_name = workbook.clean_round(data.get("round"), registry.locality)
    held = hold_links and spam.contains_link(fields["title"], fields["description"], fields["meeting"])
    joins = compute_joins(registry, [(fields["lon"], fields["lat"])])[0]
    if shape is not None:
        joins["area_ids"] = proposal_shapes.area_ids(shape)
    return Prepared(data, fields, joins, held, trapped, hold_links, registry.checked_versions(), round_name, role, shape)


def store_prepared(
    conn: Connection, registry: LayerRegistry, prepared: Prepared, role: str = "resident", now=None
) -> tuple[ProposalRecord, dict[str, int] | None]:
    """Store a prepared submission in ``conn``'s transaction; return the record (see ``submit``) and
    the layer versions it was checked against (for the answer's words: ``registry.checked(versions=...)``).

    The layers are held first; if their versions are no longer the ones the submission was
    checked and joined against (an import committed since), it is prepared again under the held ones.
    """
    if prepared.trapped:
        return _unstored_record(prepared.fields, prepared.joins, now or store.utcnow(), role, prepared.shape), prepared.versions
    layer_store.hold_layers(conn)  # no layer import can commit between these joins and this proposal
    with registry.checked(conn):  # the versions held, read once
        held = registry.checked_versions()
        if held != prepared.versions:
            prepared = prepare(registry, prepared.data, prepared.hold_links, prepared.role)
        return _store(conn, registry, prepared, role, now), held


def submit(
    conn: Connection, registry: LayerRegistry, data: dict, role: str = "resident", now=None, hold_links: bool = False
) -> ProposalRecord:
    """Validate, join, route and store one proposal; return the stored record (with contact-free fields).

    With ``hold_links`` a proposal whose text contains a link is stored hidden, ``hidden_reason``
    ``pending_review``, until a moderator publishes it (the record says so: ``hidden`` is true).
    A filled honeypot field (a bot) is validated and joined like any proposal, so its answer looks
    the same, but nothing is stored. (The JSON API calls ``prepare`` before its transaction and
    ``store_prepared`` inside it, so the joins do not hold up other writers.)
    """
    if spam.is_honeypot_filled(data):
        prepared = prepare(registry, data, hold_links, role)
        return _unstored_record(prepared.fields, prepared.joins, now or store.utcnow(), role, prepared.shape)
    layer_store.hold_layers(conn)  # no layer import can commit between these joins and this proposal
    with registry.checked(conn):  # the versions held, read once for both indexes
        return _store(conn, registry, prepare(registry, data, hold_links, role), role, now)


def _store(conn: Connection, registry: LayerRegistry, prepared: Prepared, role: str, now) -> ProposalRecord:
    fields, joins, held = prepared.fields, prepared.joins, prepared.held
    locality = registry.locality
    routing = route(
        locality.routing,
        locality.default_department,
        fields["category"],
        joins["area_ids"],
        {n["kind"]: n["distance_m"] for n in joins["nearest"]},
    )
    contact = None
    if fields["name"] or fields["email"]:
        contact = {"name": fields["name"], "email": fields["email"], "consent_at": now or store.utcnow()}
    ids = store.insert_proposal(
        conn,
        lon=fields["lon"],
        lat=fields["lat"],
        category=fields["category"],
        title=fields["title"],
        description=fields["description"],
        channel=fields["channel"],
        meeting=fields["meeting"],
        department=routing.department,
        also_departments=routing.also,
        contact=contact,
        role=role,
        now=now,
        hidden_reason=spam.PENDING_REVIEW if held else None,
    )
    store.save_joins(conn, ids["id"], joins["area_ids"], joins["nearest"], new=True, note=False)  # insert_proposal noted it
    workbook.save_round(conn, ids["id"], prepared.round_name)
    if prepared.shape is not None:
        proposal_shapes.save_shape(conn, ids["id"], prepared.shape)
    # The stored record is what was just written: built here rather than read back (five queries fewer).
    record = _unstored_record(fields, joins, ids["created_at"], role, prepared.shape)
    record.update(
        {
            "id": ids["id"],
            "public_id": ids["public_id"],
            "channel": fields["channel"],
            "department": routing.department,
            "also_departments": ",".join(routing.also),
            "hidden": held,
            "hidden_reason": spam.PENDING_REVIEW if held else None,
        }
    )
    for key in ("name", "email", "consent"):  # contact details live in their own table, never in a record
        record.pop(key, None)  # type: ignore[misc]
    return record


def _unstored_record(
    fields: dict, joins: JoinResult, now, role: str = "resident", shape: proposal_shapes.ProposalShape | None = None
) -> ProposalRecord:
    """The record a stored proposal would give back, for an answer that must look like success."""
    record = {
        "shape": proposal_shapes.public_shape(shape),
        **fields,
        "public_id": store.new_public_id(),
        "status": "received",
        "channel": "web",
        "created_at": now,
        "updated_at": now,
        "area_ids": sorted(joins["area_ids"]),
        "support_count": 0,
        "nearest": {
            n["kind"]: {"id": n["service_id"], "name": n["service_name"], "distance_m": round(n["distance_m"], 1)}
            for n in sorted(joins["nearest"], key=lambda n: n["kind"])
        },
        "history": [{"status": "received", "note": None, "role": role, "changed_at": now}],
    }
    return cast(ProposalRecord, record)


def refresh_joins(conn: Connection, registry: LayerRegistry) -> int:
    """Recompute and store the joins of every proposal (after a layer changed); return the count."""
    layer_store.hold_layers(conn)
    rows = store.all_points(conn)
    if not rows:
        return 0
    results = compute_joins(registry, [(r.lon, r.lat) for r in rows])
    crossed = proposal_shapes.refresh(conn, registry)  # lines and areas: the areas they cross or overlap
    for row, joins in zip(rows, results):
        store.save_joins(conn, row.id, crossed.get(row.id, joins["area_ids"]), joins["nearest"], note=False)
    store.note_everything_changed(conn)
    return len(rows)


NEARBY_CANDIDATES = 10  # times the answer's length: how many the database's rough ranking hands on


def nearby(
    conn: Connection, lon: float, lat: float, radius_m: float, category: str | None = None, grid_m: float = 0, limit: int = 20
) -> list[tuple[float, dict]]:
    """Return ``(metres, public view)`` of public proposals within ``radius_m`` of lon/lat.

    Same category first, then nearest. Distances are measured from the public (possibly
    grid-snapped) positions, so they reveal nothing the map does not.
    """
    # The database ranks by a flat-earth distance in degrees (fast, in C) and returns a short list;
    # only that list is read in full and measured exactly in SWEREF 99 TM. The margin covers the
    # approximation and a grid cell's shift, so however many proposals lie around, the work is bounded.
    reach = (radius_m + grid_m) / 111_000 * 1.05
    ids = store.nearest_ids(conn, lon, lat, reach, category, limit=limit * NEARBY_CANDIDATES)
    views = [store.public_view(r, grid_m=grid_m) for r in store.proposals_by_ids(conn, ids)]
    if not views:
        return []
    metres = distances_m(lon, lat, [v["lon"] for v in views], [v["lat"] for v in views])
    close = [(float(d), v) for d, v in zip(metres, views) if d <= radius_m]
    close.sort(key=lambda item: (bool(category) and item[1]["category"] != category, item[0]))
    return close[:limit]

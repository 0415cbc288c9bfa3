"""The field contracts of every output that shows proposals, pinned as exact sets in one place.

A field added to an output fails ``tests/test_contracts.py`` until it is placed here on purpose,
in the public, planner or contacts set. Decisions (the README says the same, under "Exports"):

- ``channel`` is public: how a proposal reached us (web, open meeting, workbook, ...), not who
  sent it.
- ``meeting`` is planner-only: it may name a small focus group, and so a handful of people.
- ``round`` (the paper workbook's round a proposal answered) is planner-only like ``meeting``: the
  public ``channel`` already says "workbook", and the round with a position and a date would narrow
  down who handed in a paper in a small round.
- ``hidden``, ``hidden_reason`` and ``flag_count`` are moderation state: planner-only. The
  public API's ``public`` is not that state: every proposal the public can read is public, and
  only the resident's own 201 answer says ``false`` when the proposal is held for review.

- The counts of services of each kind within the kind's radius (``within_<kind>`` and the radius
  they were counted in, ``within_<kind>_radius_m``) are planner-only: public positions are snapped
  to ``PUBLIC_GRID_M``, and exact counts at a fixed radius would place a proposal more finely
  than the public point does. They hold no personal data; the choice is about position.

- A resident's photo is planner-only in every export (``photo``: its address ``/photos/<sha256>.jpg``
  on the app, ``photo_status``: pending, published or rejected): public downloads carry no photo
  column at all, so a download built before a moderator's decision never names a photo. The public
  sees a photo only once published: on the permalink and as the API item's ``photo`` (URL, size
  and alt text; null otherwise). The resident's own 201 answer says what was kept (``status``
  pending, size), without a URL.

- A line or area proposal's shape is public (issue 15, item 7): the line or area the resident drew
  *is* the proposal (a missing footpath, a park), not where someone lives, and it is shown exactly
  as drawn (``PUBLIC_GRID_M`` snaps only the proposal's point). Its joins are public like the point's:
  ``geometry_kind`` (point, line or area), ``length_m``, ``area_m2`` and ``shape_areas`` (the
  development areas crossed, with the length inside, or overlapped, with m² and share) in every
  export row; the API item's ``shape`` adds the services near a line or inside an area.

Nearest-service columns follow the locality's declared service kinds, so they are a pattern
(``nearest_<kind>``, ``nearest_<kind>_m``) derived from the kinds, not a copied list; so are the
planner's ``within_<kind>`` columns.
"""

from __future__ import annotations

# ------------------------------------------------------- proposal rows (exports and OGC items)
# One row of the public proposal layer: GeoJSON properties, OGC item properties, GeoPackage and
# FlatGeobuf columns (besides the geometry), CSV columns (besides the position columns).
PUBLIC_PROPOSAL = frozenset(
    {
        "id",
        "category",
        "category_label",
        "title",
        "description",
        "channel",
        "status",
        "status_note",
        "created_at",
        "updated_at",
        "support_count",
        "area_ids",
        "area_names",
        "answer",
        "answered_at",
        "answer_count",
        "answer_department",
        "geometry_kind",
        "length_m",
        "area_m2",
        "shape_areas",
    }
)

# Added for logged-in planners (/planner/export, the OGC collection proposals-planner, --planner).
PLANNER_ONLY = frozenset(
    {
        "department",
        "also_departments",
        "meeting",
        "round",
        "hidden",
        "hidden_reason",
        "status_history",
        "forwarding",
        "flag_count",
        "photo",
        "photo_status",
    }
)

# Added for admins only (?contacts=1, --contacts): consented contact details.
CONTACTS = frozenset({"contact_name", "contact_email"})

# The CSV's position columns, first in every row: WGS84 and SWEREF 99 TM.
CSV_POSITION = frozenset({"lon", "lat", "easting", "northing"})


def nearest_columns(kinds) -> frozenset:
    """Return the two nearest-service columns of each service kind."""
    return frozenset(name for kind in kinds for name in (f"nearest_{kind}", f"nearest_{kind}_m"))


def within_columns(kinds) -> frozenset:
    """Return the planner's two count-within-radius columns of each service kind."""
    return frozenset(name for kind in kinds for name in (f"within_{kind}", f"within_{kind}_radius_m"))


def proposal_row(kinds, planner: bool = False, contacts: bool = False) -> frozenset:
    """Return the exact field set of one proposal row for an audience."""
    fields = PUBLIC_PROPOSAL | nearest_columns(kinds)
    if planner:
        fields |= PLANNER_ONLY | within_columns(kinds)
    if contacts:
        fields |= CONTACTS
    return fields


# ------------------------------------------------------------------------ the JSON API
# GET /api/proposals (the map's list, with or without filters): the light list. Public fields, the
# development areas a proposal lies in (ids: the map and clients name them from /api/layers), no
# joins in words and no nearest services (those are on GET /api/proposals/<id>).
API_LIST = frozenset(
    {
        "public_id",
        "title",
        "description",
        "category",
        "status",
        "channel",
        "support_count",
        "created_at",
        "updated_at",
        "area_ids",
    }
)
# GET /api/proposals/nearby: the list's fields and the distance to the asked point.
API_NEARBY = API_LIST | {"distance_m"}
# GET /api/proposals/similar: the same, and how alike the texts are (0-1).
API_SIMILAR = API_NEARBY | {"similarity"}
# POST /api/proposals (201) and GET /api/proposals/<id>: labels, joins in words and history.
API_SUBMITTED = API_LIST | {
    "category_label",
    "status_label",
    "url",
    "area_ids",
    "areas",
    "nearest",
    "summary",
    "public",
    "history",
    "photo",
    "shape",
}
API_ITEM = API_SUBMITTED | {"answers", "forwardings"}
# ``shape`` in POST /api/proposals (201) and GET /api/proposals/<id>: what was drawn and its joins.
API_SHAPE_POINT = frozenset({"kind"})
API_SHAPE_LINE = frozenset({"kind", "length_m", "areas", "services_within_m", "services", "repair"})  # geometry: the Feature's
API_SHAPE_AREA = frozenset({"kind", "area_m2", "areas", "services", "repair"})
API_SHAPE_LINE_AREA = frozenset({"id", "name", "length_m"})
API_SHAPE_OVERLAP = frozenset({"id", "name", "overlap_m2", "share_of_shape_pct", "share_of_area_pct"})
API_SHAPE_SERVICE_NEAR = frozenset({"id", "name", "kind", "distance_m"})
API_SHAPE_SERVICE_INSIDE = frozenset({"id", "name", "kind"})
# GET /api/proposals/map: a point carries what its marker needs (the popup fetches the rest); a grid
# cluster its cell, count and count per status. The planner's points also say whether one is hidden.
API_MAP_POINT = frozenset({"public_id", "title", "category", "status"})
API_MAP_CLUSTER = frozenset({"cell", "count", "statuses"})
# GET /api/proposals/shapes: a line or area proposal as the map draws it (the popup fetches the rest).
API_MAP_SHAPE = API_MAP_POINT | {"kind"}
PLANNER_MAP_POINT = API_MAP_POINT | {"hidden"}
API_HISTORY_ENTRY = frozenset({"status", "status_label", "note", "role", "changed_at"})
API_ANSWER = frozenset({"body", "department", "role", "answered_at"})  # never who wrote it
API_FORWARDING = frozenset({"department", "department_label", "action", "at"})  # never the note or who sent it
API_PHOTO = frozenset({"url", "width", "height", "alt"})  # GET /api/proposals/<id>, once a moderator published it
API_PHOTO_RECEIVED = frozenset({"status", "width", "height"})  # POST /api/proposals (201) with a photo: no URL yet
API_AREA = frozenset({"id", "name", "status", "status_label", "illustrative"})
API_NEAREST = frozenset({"id", "name", "distance_m", "kind_label"})

# ------------------------------------------------------------------------- the report
# /planner/report and `dialogkarta report`: counts only, one table per key, and the key figures.
REPORT_TABLES = frozenset({"area", "category", "channel", "status", "department"})
REPORT_FACTS = frozenset(
    {
        "Förslag totalt",
        "Besvarade",
        "Dolda",
        "Utanför utvecklingsområden",
        "Mediantid till första svar",
    }
)


def assert_exact(actual, expected, output: str) -> None:
    """Fail, naming the output and every unplaced or missing field, unless the sets are equal."""
    actual, expected = set(actual), set(expected)
    extra, missing = sorted(actual - expected), sorted(expected - actual)
    assert not extra and not missing, (
        f"{output}: fields not in its contract {extra} (place them in tests/contracts.py on purpose); missing {missing}"
    )


# ------------------------------------------------------- the planner's filtered table as CSV (issue 13)
# Exactly the overlay table's columns, headed in the page's language (Swedish here): no position, no contact
# details, nothing the planner table does not already show.
PLANNER_TABLE_CSV = ("Rubrik", "Kategori", "Status", "Kanal", "Förvaltning", "Områden", "Inkom")

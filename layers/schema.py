"""Tables of the proposal store, in portable SQLAlchemy Core (SQLite by default, PostgreSQL too).

Public fields and personal data live in separate tables: ``contacts`` is the only table that
holds a name or an e-mail address, and no public query joins it.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

# ------------------------------------------------------------------ proposals (foundation)
proposals = Table(
    "proposals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("public_id", String(32), nullable=False, unique=True),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("category", String(64), nullable=False),
    Column("title", String(120), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("channel", String(32), nullable=False, default="web"),
    Column("meeting", String(200)),  # the meeting/activity a staff-entered proposal came from
    Column("status", String(32), nullable=False, default="received"),
    Column("department", String(64)),  # responsible department (proposed by routing, confirmed by a planner)
    Column("also_departments", String(400), nullable=False, default=""),  # comma-separated, informed too
    Column("hidden", Boolean, nullable=False, default=False),
    Column("hidden_reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_proposals_lonlat", "lon", "lat"),
    Index("ix_proposals_created", "created_at", "id"),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("name", String(200)),
    Column("email", String(254)),
    Column("consent_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

status_history = Table(
    "status_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("status", String(32), nullable=False),
    Column("note", Text),  # public reason (e.g. why declined)
    Column("role", String(32), nullable=False),  # who changed it, as a role: resident, planner, system
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

supports = Table(
    "supports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False),  # sha256 of the browser's random token, never the token
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("client_hash", String(64)),  # keyed hash of the sender's network: a daily cap per network (#9)
    UniqueConstraint("proposal_id", "token_hash", name="uq_support_once"),
    Index("ix_supports_token", "token_hash"),  # what one browser supported (layers/supported.py), erasure by token
)

# Join results persisted at insert, recomputed when layers change.
proposal_areas = Table(
    "proposal_areas",
    metadata,
    Column("proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", String(100), primary_key=True),
    Index("ix_proposal_areas_area", "area_id"),
)

proposal_services = Table(
    "proposal_services",
    metadata,
    Column("proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(64), primary_key=True),
    Column("service_id", String(100), nullable=False),
    Column("service_name", String(200), nullable=False),
    Column("distance_m", Float, nullable=False),
    # Services of this kind within the locality's radius for the kind (NULL until rejoined, in a
    # store made before #13): planner-only, see tests/contracts.py.
    Column("radius_m", Float),
    Column("within_count", Integer),
)

# The list's version (issue 11): every write that changes what the public proposal list shows bumps
# ``version`` in its own transaction and records which proposals it changed, so each app process
# brings its in-memory list up to date by reading only those. Writers queue on this one row, so
# versions commit in order. A new ``epoch`` (a restore, a layer import) means: rebuild everything.
store_version = Table(
    "store_version",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("epoch", String(32), nullable=False),
    Column("version", Integer, nullable=False),
)

proposal_changes = Table(
    "proposal_changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False, index=True),
    Column("proposal_id", Integer, nullable=False),  # no foreign key: a deleted proposal's change is kept
)

# -------------------------------------------------------------- planner workspace (issue 4)
# Staff accounts. A user id is stored beside every staff action for the internal audit trail,
# but public views show only the role (planner, moderator, admin), never a name or an id.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False),  # planner < moderator < admin
    Column("active", Boolean, nullable=False, default=True),
    Column("failed_logins", Integer, nullable=False, default=0),  # unused since #9: see login_failures
    Column("locked_until", DateTime(timezone=True)),  # unused since #9
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_login_at", DateTime(timezone=True)),
    # Stored in each session cookie; bumping it (logout, password, role, deactivation) ends them all.
    Column("session_version", Integer, nullable=False, server_default=text("1")),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the bearer token, never the token
    Column("label", String(100), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("name", String(64)),  # unique; the HTTP Basic username (NULL before #9)
    Column("scope", String(16), nullable=False, server_default=text("'full'")),  # full | read
    Column("expires_at", DateTime(timezone=True)),  # NULL before #9: created_at + 90 days applies
    Column("revoked_at", DateTime(timezone=True)),
    Index("uq_api_tokens_name", "name", unique=True),
)

# Failed logins per (username, client), whether the username exists or not: a client that fails
# too often is refused for a while for that name only, so nobody can lock out someone else.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False),  # sha256 of the name as typed, lower-cased
    Column("client", String(64), nullable=False),  # keyed hash of the client address
    Column("failures", Integer, nullable=False),
    Column("last_failed_at", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True)),
    UniqueConstraint("username", "client", name="uq_login_failures_username_client"),
    Index("ix_login_failures_last", "last_failed_at"),
)

# The per-client rate limits every app server shares (``layers.rate_limits``): one row per client and limit.
rate_hits = Table(
    "rate_hits",
    metadata,
    Column("client", String(64), primary_key=True),  # keyed hash of the bucket and the client address
    Column("period_ms", Integer, primary_key=True),  # the limit's period in milliseconds
    Column("allowance_until", Float, nullable=False),  # Unix time the client's allowance is used up to (GCRA's TAT)
    Index("ix_rate_hits_allowance_until", "allowance_until"),
)

forwardings = Table(
    "forwardings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("from_department", String(64)),  # NULL for a confirmation: nothing moved
    Column("to_department", String(64), nullable=False),
    # confirm: a planner confirmed the department the routing table (or an earlier forwarding) gave;
    # forward: the proposal moved from one department to another.
    Column("action", String(16), nullable=False, server_default=text("'forward'")),
    Column("note", Text, nullable=False, default=""),
    Column("role", String(32), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),  # internal only
    Column("forwarded_at", DateTime(timezone=True), nullable=False),
)

answers = Table(
    "answers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("body", Text, nullable=False),  # public text
    Column("department", String(64)),  # answering department (public)
    Column("role", String(32), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),  # internal only
    Column("answered_at", DateTime(timezone=True), nullable=False),
)

flags = Table(
    "flags",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False),  # sha256 of the browser's random token
    Column("client_hash", String(64)),  # keyed hash of the client address: distinct flaggers
    Column("reason", String(500), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("reviewed_at", DateTime(timezone=True)),  # set when a moderator restores the proposal
    UniqueConstraint("proposal_id", "token_hash", name="uq_flag_once"),
)

# Internal audit trail of staff actions (moderation, status, forwarding, answers); never public.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("action", String(32), nullable=False),  # hide, restore, auto_hide, status, forward, answer, ...
    Column("proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), index=True),
    Column("detail", Text, nullable=False, default=""),
    Column("role", String(32), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
)

activities = Table(
    "activities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),  # open_meeting, focus_group, walk, survey, workbook_round, initiative
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("date", String(10), nullable=False),  # ISO date YYYY-MM-DD
    Column("place", String(200), nullable=False, default=""),
    Column("lon", Float),
    Column("lat", Float),
    Column("status", String(32), nullable=False),  # planned, ongoing, done, cancelled
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

activity_proposals = Table(
    "activity_proposals",
    metadata,
    Column("activity_id", Integer, ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True),
    Column("proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True),
    Column("relation", String(16), nullable=False, default="produced"),  # produced | answers
)

activity_revisions = Table(
    "activity_revisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("activity_id", Integer, ForeignKey("activities.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("revision", Integer, nullable=False),
    Column("changes", Text, nullable=False),  # JSON: {field: [old, new]}
    Column("role", String(32), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),  # internal only
    Column("changed_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("activity_id", "revision", name="uq_activity_revision"),
)

# ------------------------------------------------------------------ layers in/out (issue 5)
# Imported layers (issue 9): the validated layer as GeoPackage bytes in WGS84, written in the same
# transaction as the joins computed from it. A layer's highest version is current; none: bundled.
layer_versions = Table(
    "layer_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("layer", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("gpkg", LargeBinary, nullable=False),
    Column("features", Integer, nullable=False),
    Column("source_name", String(200), nullable=False, default=""),  # the imported file's name, for the history
    Column("source_crs", String(64), nullable=False, default=""),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("layer", "version", name="uq_layer_version"),  # two imports at once: one fails, clearly
)

# Every stored layer version as rows (issue 12): one feature per row, its properties as JSON text and
# its geometry as WKB in WGS84, written in the transaction that writes ``layer_versions`` (version 0:
# the bundled file, seeded at start). SQL and QGIS read layers here; on PostGIS ``layers.qgis_db``
# adds a ``geom`` column computed from ``wkb`` and a view per layer.
layer_features = Table(
    "layer_features",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("layer", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("fid", Integer, nullable=False),  # the feature's place in the layer, from 1 (ties go to the lower)
    Column("feature_id", String(100)),  # the ``id`` property, as text
    Column("properties", Text, nullable=False),
    Column("wkb", LargeBinary, nullable=False),
    UniqueConstraint("layer", "version", "fid", name="uq_layer_feature"),
)

# ------------------------------------------------------------------------- surveys (issue 15)
# A survey round: its definition (questions and texts) as JSON, with the dates and slug beside it
# so the open ones are found without reading every definition.
surveys = Table(
    "surveys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(63), nullable=False, unique=True),
    Column("definition", Text, nullable=False),
    Column("opens_on", Date, nullable=False),
    Column("closes_on", Date, nullable=False),
    Column("activity_id", Integer, ForeignKey("activities.id", ondelete="SET NULL")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# One response per survey and browser (the browser token's hash), editable until the survey closes.
# Choice, scale and text answers as JSON; each drawn shape is its own row (GeoJSON in WGS84), so
# staff exports and the aggregated grids read shapes without parsing every response.
survey_responses = Table(
    "survey_responses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("survey_id", Integer, ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False),
    Column("respondent", String(64), nullable=False),
    Column("answers", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("survey_id", "respondent", name="uq_survey_respondent"),
)

survey_shapes = Table(
    "survey_shapes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("response_id", Integer, ForeignKey("survey_responses.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("question_id", String(40), nullable=False),
    Column("kind", String(8), nullable=False),  # point, line or polygon
    Column("geometry", Text, nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("repair", String(200)),  # why a self-crossing area was repaired
)

# ------------------------------------------------------------- planner conveniences (issue 13)
# A planner's named filters of the overlay and table: the filter as a query string (only the filter
# parameters, re-encoded on saving), one name per user.
saved_filters = Table(
    "saved_filters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(80), nullable=False),
    Column("query", String(1000), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("user_id", "name", name="uq_saved_filter_name"),
)

# ------------------------------------------------------------- offline sending (issue 14)
# A submission's Idempotency-Key, stored only as its SHA-256 with a hash of the body it came with:
# the same key sent again (a resident's phone retrying) answers with this proposal, never a second one.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# ------------------------------------------------------------------------ photos (issue 14)
# A resident's optional photo: the file lives outside the database, named by the SHA-256 of its
# bytes (``layers/photos.py``); a row is written only after its file. Held until a moderator
# publishes it: photos may show people or number plates. ``decided_by`` is internal only.
proposal_photos = Table(
    "proposal_photos",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("bytes", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # pending | published | rejected
    Column("decided_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("decided_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# ------------------------------------------------------------------ the paper workbook (issue 14)
# The workbook round a proposal answered (declared under [workbook] in locality.toml): a table of its
# own rather than a column, so older stores gain it through create_all. Planner-only (tests/contracts.py).
proposal_rounds = Table(
    "proposal_rounds",
    metadata,
    Column("proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True),
    Column("round_name", String(64), nullable=False, index=True),
)

# ------------------------------------------------------------- line and area proposals (issue 15, item 7)
# A proposal drawn as a line (a missing footpath) or an area (a park): its shape as GeoJSON in WGS84
# and the shape's joins, measured in SWEREF 99 TM when it was submitted (``layers/proposal_shapes.py``).
# The proposal's own lon/lat is a point on the shape, so everything point-based keeps working.
proposal_shapes = Table(
    "proposal_shapes",
    metadata,
    Column("proposal_id", Integer, ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(8), nullable=False),  # line or area
    Column("geometry", Text, nullable=False),  # GeoJSON LineString or Polygon, WGS84
    Column("length_m", Float),  # a line's length
    Column("area_m2", Float),  # an area's size
    Column("joins", Text, nullable=False, default="{}"),  # JSON: development areas crossed/overlapped, services near/inside
    Column("repair", String(200)),  # why a self-crossing area was repaired (GEOS's reason)
)

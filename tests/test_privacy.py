"""Personal data: erase on request, retention after closing, generalised public coordinates."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, update

from dialogkarta.geo.crs import to_sweref
from dialogkarta.geo.generalise import snap_to_grid
from dialogkarta.layers import privacy, proposals, store
from dialogkarta.layers.schema import contacts, status_history, supports
from dialogkarta.layers.schema import proposals as proposals_table
from dialogkarta.cli import cli

DALBY = (13.3514, 55.6652)


def _submit(conn, registry, **extra):
    data = {
        "lon": DALBY[0],
        "lat": DALBY[1],
        "category": "traffic",
        "title": "Cykelbana",
        "description": "En cykelbana längs Lundavägen.",
        **extra,
    }
    return proposals.submit(conn, registry, data)


def _close(conn, public_id, status="done", when=None):
    """Close a proposal the way the workflow does: new status plus a history row."""
    when = when or store.utcnow()
    pid = conn.execute(select(proposals_table.c.id).where(proposals_table.c.public_id == public_id)).scalar_one()
    conn.execute(update(proposals_table).where(proposals_table.c.id == pid).values(status=status, updated_at=when))
    conn.execute(insert(status_history).values(proposal_id=pid, status=status, role="planner", changed_at=when))
    return pid


def _contact_count(conn) -> int:
    return conn.execute(select(func.count()).select_from(contacts)).scalar_one()


# ------------------------------------------------------------------------------- erase


def test_erase_removes_contacts_and_keeps_proposals(engine, registry):
    with engine.begin() as conn:
        for _ in range(2):
            _submit(conn, registry, name="Anna Andersson", email="Anna@Example.se", consent=True)
        _submit(conn, registry, name="Bo Berg", email="bo@example.se", consent=True)
        deleted = privacy.erase(conn, email=" anna@example.SE ")
        assert deleted == {"contacts": 2, "supports": 0, "flags": 0}
        assert conn.execute(select(contacts.c.email)).scalars().all() == ["bo@example.se"]
        assert conn.execute(select(func.count()).select_from(proposals_table)).scalar_one() == 3


def test_erase_by_support_token_removes_only_that_browsers_supports(engine, registry):
    with engine.begin() as conn:
        a = _submit(conn, registry)["public_id"]
        b = _submit(conn, registry)["public_id"]
        for public_id in (a, b):
            store.add_support(conn, public_id, "token-of-anna")
            store.add_support(conn, public_id, "token-of-bo")
        assert privacy.erase(conn, support_token="token-of-anna") == {"contacts": 0, "supports": 2, "flags": 0}
        assert conn.execute(select(func.count()).select_from(supports)).scalar_one() == 2


def test_erase_by_support_token_removes_that_browsers_flags_and_keeps_everyone_elses(engine, registry):
    from dialogkarta.layers import workflow
    from dialogkarta.layers.schema import flags

    with engine.begin() as conn:
        a = _submit(conn, registry)["public_id"]
        b = _submit(conn, registry)["public_id"]
        for public_id in (a, b):
            store.add_support(conn, public_id, "token-of-bo")
            workflow.flag(conn, public_id, "token-of-bo", "spam", threshold=0)
        store.add_support(conn, a, "token-of-anna")
        workflow.flag(conn, a, "token-of-anna", "skriver om mig", threshold=0)
        assert privacy.erase(conn, support_token="token-of-anna") == {"contacts": 0, "supports": 1, "flags": 1}
        kept = {store.hash_token("token-of-bo")}
        assert set(conn.execute(select(supports.c.token_hash)).scalars()) == kept
        assert set(conn.execute(select(flags.c.token_hash)).scalars()) == kept
        assert conn.execute(select(func.count()).select_from(flags)).scalar_one() == 2


def test_each_proposals_retention_counts_from_its_own_closing(engine, registry):
    now = store.utcnow()
    with engine.begin() as conn:
        old = _submit(conn, registry, name="Anna", email="anna@example.se", consent=True)
        recent = _submit(conn, registry, name="Bo", email="bo@example.se", consent=True)
        _close(conn, old["public_id"], "declined", when=now - timedelta(days=200))
        _close(conn, recent["public_id"], "done", when=now - timedelta(days=10))
        assert privacy.purge_contacts(conn, 90, now=now) == 1
        assert conn.execute(select(contacts.c.email)).scalars().all() == ["bo@example.se"]


def test_retention_counts_from_the_closing_not_from_a_later_edit(engine, registry):
    now = store.utcnow()
    with engine.begin() as conn:
        record = _submit(conn, registry, name="Anna", email="anna@example.se", consent=True)
        pid = _close(conn, record["public_id"], "done", when=now - timedelta(days=200))
        conn.execute(update(proposals_table).where(proposals_table.c.id == pid).values(updated_at=now - timedelta(days=1)))
        other = _submit(conn, registry, name="Bo", email="bo@example.se", consent=True)
        _close(conn, other["public_id"], "done", when=now - timedelta(days=10))
        assert privacy.purge_contacts(conn, 90, now=now) == 1
        assert conn.execute(select(contacts.c.email)).scalars().all() == ["bo@example.se"]


@pytest.mark.parametrize("closed_days_ago, kept", [(100, False), (10, True)])
def test_a_proposal_closed_without_a_history_row_counts_from_its_last_change(engine, registry, closed_days_ago, kept):
    now = store.utcnow()
    with engine.begin() as conn:
        record = _submit(conn, registry, name="Anna", email="anna@example.se", consent=True)
        when = now - timedelta(days=closed_days_ago)
        conn.execute(update(proposals_table).where(proposals_table.c.id == record["id"]).values(status="done", updated_at=when))
        assert privacy.purge_contacts(conn, 90, now=now) == (0 if kept else 1)
        assert _contact_count(conn) == (1 if kept else 0)


@pytest.mark.parametrize("with_history", [True, False])
def test_contacts_are_kept_through_the_last_instant_of_the_retention_period(engine, registry, with_history):
    now = store.utcnow()
    with engine.begin() as conn:
        record = _submit(conn, registry, name="Anna", email="anna@example.se", consent=True)
        closed = now - timedelta(days=90)
        if with_history:
            _close(conn, record["public_id"], "done", when=closed)
        else:
            conn.execute(
                update(proposals_table).where(proposals_table.c.id == record["id"]).values(status="done", updated_at=closed)
            )
        assert privacy.purge_contacts(conn, 90, now=now) == 0
        assert privacy.purge_contacts(conn, 90, now=now + timedelta(microseconds=1)) == 1


def test_open_proposals_keep_contacts_through_the_last_instant_of_the_maximum(engine, registry):
    now = store.utcnow()
    with engine.begin() as conn:
        contact = {"lon": DALBY[0], "lat": DALBY[1], "category": "traffic", "title": "Bänk", "description": "Vid dammen."}
        proposals.submit(conn, registry, contact | {"name": "Anna", "email": "a@example.se", "consent": True}, now=now)
        assert privacy.purge_contacts(conn, 90, now=now + timedelta(days=1095), max_days=1095) == 0
        assert privacy.purge_contacts(conn, 90, now=now + timedelta(days=1095, microseconds=1), max_days=1095) == 1


def test_erase_needs_something_to_erase(engine):
    with engine.begin() as conn, pytest.raises(ValueError, match="^give an e-mail address, a support token or both$"):
        privacy.erase(conn)


@pytest.mark.parametrize(
    "days, max_days, message",
    [
        (-1, None, "^retention must be zero or more days, got -1$"),
        (None, None, "^retention must be zero or more days, got None$"),
        (90, -0.5, "^maximum retention must be zero or more days, got -0.5$"),
    ],
)
def test_purge_refuses_a_negative_retention_and_says_which(engine, days, max_days, message):
    with engine.begin() as conn, pytest.raises(ValueError, match=message):
        privacy.purge_contacts(conn, days, max_days=max_days)


def test_purge_with_zero_days_deletes_what_closed_or_was_submitted_before_now(engine, registry):
    now = store.utcnow()
    with engine.begin() as conn:
        contact = {"lon": DALBY[0], "lat": DALBY[1], "category": "traffic", "title": "Bänk", "description": "Vid dammen."}
        contact |= {"name": "Anna", "email": "anna@example.se", "consent": True}
        closed = proposals.submit(conn, registry, contact, now=now - timedelta(minutes=5))
        _close(conn, closed["public_id"], "done", when=now - timedelta(minutes=1))
        assert privacy.purge_contacts(conn, 0, now=now) == 1
        proposals.submit(conn, registry, contact, now=now - timedelta(minutes=1))
        assert privacy.purge_contacts(conn, 0, now=now) == 0  # open, and no maximum given
        assert privacy.purge_contacts(conn, 0, now=now, max_days=0) == 1


def test_cli_erase(app, runner):
    from dialogkarta.webmap import db

    with app.app_context(), db.transaction() as conn:
        _submit(conn, db.registry(), name="Anna", email="anna@example.se", consent=True)
    result = runner.invoke(cli, ["erase", "--email", "anna@example.se"])
    assert result.exit_code == 0, result.output
    assert "Erased 1 contact record(s)" in result.output
    with app.app_context(), db.reading() as conn:
        assert _contact_count(conn) == 0
    assert runner.invoke(cli, ["erase"]).exit_code != 0


# ---------------------------------------------------------------------------- retention


@pytest.mark.parametrize(
    "status, closed_days_ago, kept",
    [
        ("done", 91, False),
        ("declined", 91, False),
        ("done", 89, True),  # still within the retention period
        ("planned", 400, True),  # not closed: kept however old
    ],
)
def test_purge_deletes_contacts_of_proposals_closed_past_retention(engine, registry, status, closed_days_ago, kept):
    now = store.utcnow()
    with engine.begin() as conn:
        record = _submit(conn, registry, name="Anna", email="anna@example.se", consent=True)
        _close(conn, record["public_id"], status, when=now - timedelta(days=closed_days_ago))
        assert privacy.purge_contacts(conn, 90, now=now) == (0 if kept else 1)
        assert _contact_count(conn) == (1 if kept else 0)
        assert store.get_proposal(conn, record["public_id"]) is not None  # the proposal stays


def test_purge_counts_from_the_latest_closing(engine, registry):
    now = store.utcnow()
    with engine.begin() as conn:
        record = _submit(conn, registry, name="Anna", email="anna@example.se", consent=True)
        _close(conn, record["public_id"], "declined", when=now - timedelta(days=200))
        _close(conn, record["public_id"], "under_consideration", when=now - timedelta(days=150))
        _close(conn, record["public_id"], "done", when=now - timedelta(days=10))
        assert privacy.purge_contacts(conn, 90, now=now) == 0
        assert privacy.purge_contacts(conn, 5, now=now) == 1


def test_purge_command_uses_the_configured_retention(tmp_path, runner, app):
    from dialogkarta.webmap import db

    app.config["CONTACT_RETENTION_DAYS"] = 30
    with app.app_context(), db.transaction() as conn:
        record = _submit(conn, db.registry(), name="Anna", email="anna@example.se", consent=True)
        _close(conn, record["public_id"], "done", when=store.utcnow() - timedelta(days=31))
    result = runner.invoke(cli, ["purge-contacts"])
    assert result.exit_code == 0, result.output
    assert "1 closed proposal" in result.output and "retention 30 days" in result.output
    with app.app_context(), db.reading() as conn:
        assert _contact_count(conn) == 0


# ---------------------------------------------------------------- generalised coordinates


def test_snap_to_grid_is_off_for_zero():
    assert snap_to_grid(*DALBY, 0) == DALBY


def test_snap_to_grid_moves_to_a_cell_centre_within_half_a_diagonal():
    lon, lat = snap_to_grid(*DALBY, 50)
    e0, n0 = to_sweref(*DALBY)
    e1, n1 = to_sweref(lon, lat)
    assert math.hypot(e1 - e0, n1 - n0) <= 50 / math.sqrt(2) + 0.01
    assert abs((e1 % 50) - 25) < 0.01 and abs((n1 % 50) - 25) < 0.01


def test_snap_to_grid_puts_neighbours_in_one_cell_together():
    e, n = to_sweref(*DALBY)
    base_e, base_n = (e // 50) * 50, (n // 50) * 50
    from dialogkarta.geo.crs import to_wgs84_xy

    corners = [to_wgs84_xy(base_e + de, base_n + dn) for de, dn in ((1, 1), (49, 1), (1, 49), (49, 49))]
    snapped = {snap_to_grid(float(lon), float(lat), 50) for lon, lat in corners}
    assert len(snapped) == 1


def test_snap_to_grid_takes_arrays():
    lons, lats = snap_to_grid([13.35, 13.36], [55.66, 55.67], 50)
    assert lons.shape == (2,) and lats.shape == (2,)


def test_snap_to_grid_gives_the_cell_centre_rounded_to_seven_decimals_as_plain_floats():
    from dialogkarta.geo.crs import to_wgs84_xy

    lon, lat = to_wgs84_xy(395841.8, 6169976.6)  # Dalby kyrka: in the 50 m cell from (395800, 6169950)
    centre = to_wgs84_xy(395825.0, 6169975.0)
    snapped = snap_to_grid(float(lon), float(lat), 50)
    assert snapped == (round(float(centre[0]), 7), round(float(centre[1]), 7))
    assert type(snapped[0]) is float and type(snapped[1]) is float
    assert snap_to_grid(*DALBY, None) == DALBY


def test_a_coordinate_given_as_an_array_comes_back_as_an_array():
    assert snap_to_grid(13.35, [55.66], 50)[1].shape == (1,)
    assert snap_to_grid([13.35], 55.66, 50)[0].shape == (1,)


def test_a_grid_finer_than_a_metre_still_snaps():
    lon, lat = snap_to_grid(*DALBY, 0.5)
    e0, n0 = to_sweref(*DALBY)
    e1, n1 = to_sweref(lon, lat)
    assert (lon, lat) != DALBY and math.hypot(e1 - e0, n1 - n0) <= 0.5 / math.sqrt(2) + 0.01


def test_a_negative_grid_size_is_a_programming_error():
    with pytest.raises(ValueError) as wrong:
        snap_to_grid(*DALBY, -50)
    assert str(wrong.value) == "grid size must be positive metres, got -50"


def test_public_view_generalises_only_when_asked(engine, registry):
    with engine.begin() as conn:
        record = _submit(conn, registry)
        exact = store.public_view(record)
        coarse = store.public_view(record, grid_m=50)
    assert (exact["lon"], exact["lat"]) == (record["lon"], record["lat"])
    assert (coarse["lon"], coarse["lat"]) == snap_to_grid(record["lon"], record["lat"], 50)
    for near in coarse["nearest"].values():
        assert near["distance_m"] % 50 == 0


# ------------------------------------------------------------- GDPR: a planted address leaks nowhere

PLANTED_NAME = "Greta Plantedottir"
PLANTED_EMAIL = "greta.plantedottir@example-dalby.se"


def _needles() -> list[bytes]:
    from urllib.parse import quote

    texts = {PLANTED_NAME, PLANTED_EMAIL, PLANTED_EMAIL.upper(), quote(PLANTED_EMAIL), "Plantedottir", "plantedottir"}
    needles = set()
    for text in texts:
        needles.add(text.encode("utf-8"))
        needles.add(text.encode("utf-16-le"))  # in case a binary format stores UTF-16
    return sorted(needles)


def _links_in(value) -> set[str]:
    """Every same-site path found in a JSON document (export indexes, OGC links)."""
    found = set()
    if isinstance(value, dict):
        for item in value.values():
            found |= _links_in(item)
    elif isinstance(value, list):
        for item in value:
            found |= _links_in(item)
    elif isinstance(value, str):
        if value.startswith("/") and not value.startswith("//"):
            found.add(value)
        elif value.startswith("http://localhost/"):
            found.add(value[len("http://localhost") :])
    return found


def _crawl_public(app, client, public_id, keep) -> set[str]:
    """GET every public route in the URL map (real values for its arguments), following the links
    of the export index and the OGC API (every layer, format and collection); return the paths."""
    values = {
        "public_id": public_id,
        "feature_id": public_id,
        "name": "proposals",
        "fmt": "geojson",
        "activity_id": 1,
        "filename": "x",
        "fingerprint": "0",
        "path": "x",
        "slug": "trygghet-och-vagar",
        "question_id": "way_to_school",
        "sha256": "0" * 64,
    }
    paths = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or getattr(app.view_functions[rule.endpoint], "required_role", None):
            continue
        with app.test_request_context():
            from flask import url_for

            paths.add(url_for(rule.endpoint, **{a: values[a] for a in rule.arguments}))
    paths |= {
        "/api/proposals?limit=10",
        "/api/proposals?bbox=13.3,55.6,13.4,55.7",
        f"/api/proposals/nearby?lon={DALBY[0]}&lat={DALBY[1]}",
        "/?lang=en",
        f"/p/{public_id}?lang=en",
        "/privacy?lang=en",
        f"/?p={public_id}",
    }
    queue, seen = sorted(paths), set()
    while queue:
        path = queue.pop()
        if path in seen or len(seen) > 400:
            continue
        seen.add(path)
        for accept in ("application/json", "text/html"):
            response = keep(f"GET {path} [{accept}]", client.get(path, headers={"Accept": accept}))
            assert response.status_code < 500, path
            if response.is_json and path.startswith(("/api/export", "/ogc")):
                queue += [
                    p
                    for p in _links_in(response.get_json())
                    if p.startswith(("/api/export", "/ogc")) and p not in seen and "planner" not in p
                ]
    return seen


def test_generalised_coordinates_hide_the_exact_position_in_every_public_output(app, client):
    """With PUBLIC_GRID_M=50 no public output holds the exact position; the planner's does."""
    import re
    import struct

    app.config["PUBLIC_GRID_M"] = 50
    exact = (13.3523417, 55.6647853)
    created = client.post(
        "/api/proposals",
        json={"lon": exact[0], "lat": exact[1], "category": "traffic", "title": "Gupp", "description": "Ett farthinder."},
    )
    assert created.status_code == 201
    public_id = created.get_json()["id"]
    assert created.get_json()["geometry"]["coordinates"] == list(snap_to_grid(*exact, 50))
    outputs = {}

    def keep(label, response):
        outputs[label] = response.get_data()
        return response

    _crawl_public(app, client, public_id, keep)
    # The exact coordinates as text (5+ decimals) or as a float64/float32 in a binary export.
    texts = [f"{exact[0]:.5f}".encode(), f"{exact[1]:.5f}".encode()]
    binaries = [struct.pack("<d", exact[0]), struct.pack("<d", exact[1]), struct.pack("<f", exact[0])]
    leaks = [label for label, body in outputs.items() if any(t in body for t in texts + binaries)]
    assert not leaks, leaks[:10]
    # Exact metres to services would give the point away too.
    nearest = created.get_json()["properties"]["nearest"]
    assert nearest and all(n["distance_m"] % 50 == 0 for n in nearest.values())
    assert len(outputs) > 40 and not re.search(rb"13\.35234", b"".join(outputs.values()))


def test_planted_contact_details_appear_in_no_public_output_or_log(app, client, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    app.config["HOLD_LINKS"] = True
    base = {
        "lon": DALBY[0],
        "lat": DALBY[1],
        "category": "traffic",
        "title": "Farthinder",
        "description": "Bilar kör för fort på Bygatan.",
        "name": PLANTED_NAME,
        "email": PLANTED_EMAIL,
        "consent": True,
    }
    outputs: dict[str, bytes] = {}

    def keep(label, response):
        outputs[label] = response.get_data() + str(response.headers).encode()
        return response

    # Plant: an ordinary proposal, a held one, a honeypot one, and refused ones that echo nothing.
    created = keep("POST proposal", client.post("/api/proposals", json=base))
    assert created.status_code == 201
    public_id = created.get_json()["id"]
    keep("POST held", client.post("/api/proposals", json={**base, "description": "Se www.example.se"}))
    keep("POST honeypot", client.post("/api/proposals", json={**base, "website": "x"}))
    keep("POST bad email", client.post("/api/proposals", json={**base, "email": PLANTED_EMAIL + "@@"}))
    keep("POST no consent", client.post("/api/proposals", json={**base, "consent": False}))
    keep("POST too long name", client.post("/api/proposals", json={**base, "name": PLANTED_NAME * 20}))
    keep("POST wrong type", client.post("/api/proposals", json={**base, "lon": PLANTED_EMAIL}))
    keep("POST support", client.post(f"/api/proposals/{public_id}/support", json={}))
    with app.app_context():
        from dialogkarta.webmap import db

        with db.reading() as conn:
            assert conn.execute(select(contacts.c.email)).scalars().all() == [PLANTED_EMAIL] * 2  # stored, apart

    seen = _crawl_public(app, client, public_id, keep)
    exported = [p for p in seen if p.startswith("/api/export/")]
    assert any(p.endswith(".gpkg") for p in exported) and any(p.endswith(".csv") for p in exported)
    assert any("/ogc/collections/proposals/items" in p for p in seen)

    # Unexpected failure while a body with contact data is being handled: logged, not leaked.
    import dialogkarta.layers.proposals as proposals_module

    def explode(*args, **kwargs):
        raise RuntimeError("join service unavailable")

    original = proposals_module.compute_joins
    proposals_module.compute_joins = explode
    try:
        app.config["PROPAGATE_EXCEPTIONS"] = False
        app.testing = False
        failed = keep("POST failing", client.post("/api/proposals", json=base))
    finally:
        proposals_module.compute_joins = original
        app.testing = True
    assert failed.status_code == 500

    logs = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records).encode()
    assert b"join service unavailable" in logs  # the log did capture the failure
    leaks = [(label, needle) for label, body in {**outputs, "logs": logs}.items() for needle in _needles() if needle in body]
    from pathlib import Path

    artifact = Path(__file__).resolve().parents[1] / "test-artifacts" / "privacy.txt"
    artifact.parent.mkdir(exist_ok=True)
    with artifact.open("a") as out:
        out.write(
            f"{store.utcnow():%Y-%m-%dT%H:%M:%S} GDPR scan: {len(outputs)} responses over {len(seen)} public paths "
            f"+ {len(caplog.records)} log records, needles={len(_needles())}, leaks={len(leaks)}\n"
        )
    assert not leaks, leaks[:10]
    assert len(outputs) > 60

    # The scan can see the address where it belongs: on the planner's page for the proposal.
    from dialogkarta.layers import accounts

    with app.app_context(), db.transaction() as conn:
        planner_id = accounts.create_user(conn, "gdpr-planner", "ett-långt-lösenord", "planner").id
    with client.session_transaction() as session:
        session["staff_user_id"] = planner_id
        session["staff_session_version"] = 1  # a new account's first session version
    staff_page = client.get(f"/planner/p/{public_id}").get_data()
    assert any(needle in staff_page for needle in _needles())


def test_privacy_notice_says_what_why_how_long_and_whom_to_contact(app, client):
    app.config["CONTACT_RETENTION_DAYS"] = 45
    app.config["PRIVACY_CONTACT_EMAIL"] = "dataskydd@lund.se"
    for lang, words in {
        "sv": {
            "what": ("namn", "e-post", "plats"),
            "why": ("samtycke", "planer"),
            "how long": ("45 dagar",),
            "contact": ("dataskydd@lund.se", "personuppgiftsansvarig", "imy"),
        },
        "en": {
            "what": ("name", "e-mail", "place"),
            "why": ("consent", "plan"),
            "how long": ("45 days",),
            "contact": ("dataskydd@lund.se", "controller", "imy"),
        },
    }.items():
        response = client.get(f"/privacy?lang={lang}")
        assert response.status_code == 200
        text = response.get_data(as_text=True).lower()
        for topic, needles in words.items():
            missing = [n for n in needles if n.lower() not in text]
            assert not missing, f"/privacy ({lang}) does not say {topic}: {missing}"


def test_serve_applies_the_retention_at_start(app, runner, monkeypatch):
    import waitress
    from dialogkarta.webmap import db

    served = []
    monkeypatch.setattr(waitress, "serve", lambda *args, **kwargs: served.append(kwargs))
    with app.app_context(), db.transaction() as conn:
        record = _submit(conn, db.registry(), name="Anna", email="anna@example.se", consent=True)
        _close(conn, record["public_id"], "done", when=store.utcnow() - timedelta(days=365))
    result = runner.invoke(cli, ["serve", "--port", "0"])
    assert result.exit_code == 0, result.output
    assert served and "Deleted contact details of 1 proposal(s)" in result.output
    with app.app_context(), db.reading() as conn:
        assert _contact_count(conn) == 0


@pytest.mark.parametrize("consent, status, stored", [(False, 422, 0), (None, 422, 0), (True, 201, 1)])
def test_contact_details_only_with_explicit_consent(app, client, consent, status, stored):
    body = {
        "lon": DALBY[0],
        "lat": DALBY[1],
        "category": "traffic",
        "title": "Gupp",
        "description": "Farthinder",
        "name": "Anna",
        "email": "anna@example.se",
    }
    if consent is not None:
        body["consent"] = consent
    response = client.post("/api/proposals", json=body)
    assert response.status_code == status
    from dialogkarta.webmap import db

    with app.app_context(), db.reading() as conn:
        rows = conn.execute(select(contacts.c.email, contacts.c.consent_at)).all()
    assert len(rows) == stored
    assert all(row.consent_at is not None for row in rows)
    if status == 422:
        assert response.get_json()["error"]["code"] == "consent_required"


def test_contacts_of_proposals_never_closed_go_after_the_maximum_retention(engine, registry):
    from datetime import timedelta

    from sqlalchemy import func, select

    from dialogkarta.layers import privacy
    from dialogkarta.layers.proposals import submit
    from dialogkarta.layers.schema import contacts
    from dialogkarta.layers.store import utcnow

    data = {
        "lon": 13.3514,
        "lat": 55.6652,
        "category": "traffic",
        "title": "Gammalt",
        "description": "Öppet länge.",
        "name": "Anna",
        "email": "anna@example.se",
        "consent": True,
    }
    with engine.begin() as conn:
        submit(conn, registry, data, now=utcnow() - timedelta(days=1200))
        submit(conn, registry, {**data, "title": "Nytt"}, now=utcnow() - timedelta(days=10))
        assert privacy.purge_contacts(conn, 90) == 0  # neither is closed
        assert privacy.purge_contacts(conn, 90, max_days=1095) == 1  # the three-year-old one goes
        assert conn.execute(select(func.count()).select_from(contacts)).scalar_one() == 1

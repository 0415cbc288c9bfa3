"""Personal data: erase on request, retention after closing, generalised public coordinates."""
from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, update

from geo.crs import to_sweref
from geo.generalise import snap_to_grid
from layers import privacy, proposals, store
from layers.schema import contacts, status_history, supports
from layers.schema import proposals as proposals_table
from webmap.cli import cli

DALBY = (13.3514, 55.6652)


def _submit(conn, registry, **extra):
    data = {"lon": DALBY[0], "lat": DALBY[1], "category": "traffic", "title": "Cykelbana",
            "description": "En cykelbana längs Lundavägen.", **extra}
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


def test_erase_needs_something_to_erase(engine):
    with engine.begin() as conn, pytest.raises(ValueError, match="e-mail"):
        privacy.erase(conn)


def test_cli_erase(app, runner):
    from webmap import db
    with app.app_context(), db.transaction() as conn:
        _submit(conn, db.registry(), name="Anna", email="anna@example.se", consent=True)
    result = runner.invoke(cli, ["erase", "--email", "anna@example.se"])
    assert result.exit_code == 0, result.output
    assert "Erased 1 contact record(s)" in result.output
    with app.app_context(), db.reading() as conn:
        assert _contact_count(conn) == 0
    assert runner.invoke(cli, ["erase"]).exit_code != 0


# ---------------------------------------------------------------------------- retention


@pytest.mark.parametrize("status, closed_days_ago, kept", [
    ("done", 91, False),
    ("declined", 91, False),
    ("done", 89, True),          # still within the retention period
    ("planned", 400, True),      # not closed: kept however old
])
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
    from webmap import db
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
    from geo.crs import to_wgs84_xy
    corners = [to_wgs84_xy(base_e + de, base_n + dn) for de, dn in ((1, 1), (49, 1), (1, 49), (49, 49))]
    snapped = {snap_to_grid(float(lon), float(lat), 50) for lon, lat in corners}
    assert len(snapped) == 1


def test_snap_to_grid_takes_arrays():
    lons, lats = snap_to_grid([13.35, 13.36], [55.66, 55.67], 50)
    assert lons.shape == (2,) and lats.shape == (2,)


def test_public_view_generalises_only_when_asked(engine, registry):
    with engine.begin() as conn:
        record = _submit(conn, registry)
        exact = store.public_view(record)
        coarse = store.public_view(record, grid_m=50)
    assert (exact["lon"], exact["lat"]) == (record["lon"], record["lat"])
    assert (coarse["lon"], coarse["lat"]) == snap_to_grid(record["lon"], record["lat"], 50)
    for near in coarse["nearest"].values():
        assert near["distance_m"] % 50 == 0

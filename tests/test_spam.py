"""Spam: link detection and the moderation hold, the honeypot, and per-client rate limits."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from layers import proposals, spam, store
from layers.schema import proposals as proposals_table

DALBY = {"lon": 13.3514, "lat": 55.6652, "category": "traffic"}


@pytest.mark.parametrize("text, is_link", [
    ("Köp billigt på http://spam.example/x", True),
    ("HTTPS://EXAMPLE.ORG", True),
    ("besök www.example.se idag", True),
    ("mer info på dalbyforum.se", True),
    ("casino-bonus.xyz!", True),
    ('<a href="x">klicka</a>', True),
    ("[url=http://x]x[/url]", True),
    ("[se här](javascript:alert(1))", True),
    ("ftp://files.example/", True),
    ("Bygg en cykelbana längs Lundavägen, t.ex. med belysning.", False),
    ("Hastigheten är 3.5 km/h för hög, bl.a. vid skolan kl. 8.00.", False),
    ("Trafiken på Bygatan 12 i Dalby är farlig.", False),
    ("Ställ en bänk vid dammen", False),
    ("", False),
])
def test_contains_link(text, is_link):
    assert spam.contains_link(text) is is_link


@pytest.mark.parametrize("data, filled", [
    ({}, False), ({"website": ""}, False), ({"website": "   "}, False), ({"website": None}, False),
    ({"website": "http://bot.example"}, True), ({"website": "x"}, True), ({"website": 0}, True),
])
def test_honeypot_filled(data, filled):
    assert spam.is_honeypot_filled(data) is filled


def _submit(engine, registry, hold_links, **text):
    data = {**DALBY, "title": "Cykelbana", "description": "Längs Lundavägen", **text}
    with engine.begin() as conn:
        return proposals.submit(conn, registry, data, hold_links=hold_links)


def test_hold_stores_a_proposal_with_a_link_hidden_pending_review(engine, registry):
    record = _submit(engine, registry, True, description="Se https://example.org/plan")
    assert record["hidden"] is True and record["hidden_reason"] == spam.PENDING_REVIEW
    with engine.connect() as conn:
        assert store.get_proposal(conn, record["public_id"]) is None          # not public
        assert store.list_proposals(conn) == []
        assert store.get_proposal(conn, record["public_id"], include_hidden=True) is not None  # kept


def test_hold_leaves_proposals_without_links_public(engine, registry):
    record = _submit(engine, registry, True)
    assert record["hidden"] is False
    with engine.connect() as conn:
        assert store.get_proposal(conn, record["public_id"]) is not None


def test_hold_off_publishes_links(engine, registry):
    record = _submit(engine, registry, False, title="www.example.se")
    assert record["hidden"] is False


def test_held_proposal_is_in_the_moderation_queue_and_can_be_published(engine, registry):
    from layers import workflow
    record = _submit(engine, registry, True, title="Läs www.example.se")
    with engine.begin() as conn:
        queue = workflow.moderation_queue(conn)
        assert [(q["public_id"], q["hidden_reason"]) for q in queue] == [(record["public_id"], spam.PENDING_REVIEW)]
        workflow.restore(conn, record["id"], role="moderator")
        assert store.get_proposal(conn, record["public_id"]) is not None


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(proposals_table)).scalar_one()

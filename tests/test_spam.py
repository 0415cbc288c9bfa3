"""Spam: link detection and the moderation hold, the honeypot, and per-client rate limits."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dialogkarta.layers import proposals, spam, store
from dialogkarta.layers.schema import proposals as proposals_table

DALBY = {"lon": 13.3514, "lat": 55.6652, "category": "traffic"}


@pytest.mark.parametrize(
    "text, is_link",
    [
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
        # normalised first, bare domains and shorteners from the public-suffix list (#9)
        ("Läs mer på dalby.example.se", True),
        ("kort länk: bit.ly/x", True),
        ("Bit.ly/3xYz", True),
        ("ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ", True),
        ("exa\u200bmple.com", True),
        ("besök example.c\u200bom", True),
        ("kolla bit.ly", True),
        ("billigt på casino.win", True),
        ("example\u3002com/x", True),
        ("se exam\u00adple.org", True),
        ("Example.Com", True),
        ("EXAMPLE.SE", True),
        ("planen finns på lund.se", True),
        ("köp på kommun.co.uk", True),
        ("tinyurl.com", True),
        ("min-sida.nu:8080", True),
        ("kartan finns på karta.lund.Se", True),  # a subdomain is a link whatever the ending's case
        ("köp på Kommun.Co.uk", True),  # so is a multi-part ending
        ("rea på Billigt.Se/klockor", True),  # and a name with a path
        ("Vi behöver fler bänkar.Tack", False),
        ("Mötet börjar kl.15 vid parken.Vi ses där", False),
        ("Gör något vid skolan.Se till att det blir tryggt.", False),
        ("Org.nr 212000-1124, tel.nr 046-35 50 00", False),
        ("Kyrkan byggdes ca 1100 e.Kr. och renoverades 3.5 gånger, bl.a. 1870.", False),
        ("Det kostar 25 kr. Tack!", False),
        # Swedish text around markup and schemes in capitals (the searches a text is spared need these)
        ("BÄNKAR, BESÖK WWW.EXAMPLE.SE", True),
        ("Bänk vid dammen <A HREF='x'>här</A>", True),
        ("Läs på HTTPS://lund.se/dalby, tack", True),
        ("Förslag om träd längs åkanten [URL=x]", True),
    ],
)
def test_contains_link(text, is_link):
    assert spam.contains_link(text) is is_link


def test_below_u0600_the_soft_hyphen_is_the_only_invisible_character_normalise_removes():
    """``normalise`` skips its character-by-character pass for such text; this Python's Unicode must agree."""
    import unicodedata

    assert [c for c in map(chr, range(0x600)) if unicodedata.category(c) == "Cf"] == ["\u00ad"]
    assert spam.normalise("Bänk\u00advid åkanten") == "Bänkvid åkanten"
    assert spam.normalise("Träd längs åkanten") == "Träd längs åkanten"


def test_a_link_in_any_of_the_texts_counts_even_after_an_empty_one():
    assert spam.contains_link(None, "", "besök www.example.se") and not spam.contains_link("", None, "Ställ en bänk")


@pytest.mark.parametrize(
    "data, filled",
    [
        ({}, False),
        ({"website": ""}, False),
        ({"website": "   "}, False),
        ({"website": None}, False),
        ({"website": "http://bot.example"}, True),
        ({"website": "x"}, True),
        ({"website": 0}, True),
        ({"website": False}, False),  # JSON false: nothing filled in
        ([], False),  # a JSON body that is no object
        (None, False),
    ],
)
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
        assert store.get_proposal(conn, record["public_id"]) is None  # not public
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
    from dialogkarta.layers import workflow

    record = _submit(engine, registry, True, title="Läs www.example.se")
    with engine.begin() as conn:
        queue = workflow.moderation_queue(conn)
        assert [(q["public_id"], q["hidden_reason"]) for q in queue] == [(record["public_id"], spam.PENDING_REVIEW)]
        workflow.restore(conn, record["id"], role="moderator")
        assert store.get_proposal(conn, record["public_id"]) is not None


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(proposals_table)).scalar_one()


# ----------------------------------------------------------------------------- over HTTP

JSON = {"Accept": "application/json"}


def _post(client, **fields):
    body = {**DALBY, "title": "Bänk vid dammen", "description": "En bänk att vila på.", **fields}
    return client.post("/api/proposals", json=body, headers=JSON)


def _public_count(client) -> int:
    return len(client.get("/api/proposals", headers=JSON).get_json()["features"])


def _stored(app) -> int:
    from dialogkarta.webmap import db

    with app.app_context():
        return _count(db.engine())


def test_filled_honeypot_looks_like_success_and_stores_nothing(app, client, caplog):
    response = _post(client, website="http://bot.example", name="Bot", email="bot@example.com", consent=True)
    honest = _post(client)
    assert response.status_code == honest.status_code == 201
    assert set(response.get_json()) == set(honest.get_json())  # same shape
    assert set(response.get_json()["properties"]) == set(honest.get_json()["properties"])
    assert _stored(app) == 1
    assert client.get(response.headers["Location"]).status_code == 404


def test_filled_honeypot_still_gets_the_same_validation_errors(app, client):
    bot = _post(client, website="x", title="")
    person = _post(client, title="")
    assert bot.status_code == person.status_code == 422
    assert bot.get_json() == person.get_json()
    assert _stored(app) == 0


def test_empty_honeypot_is_an_ordinary_submission(app, client):
    assert _post(client, website="").status_code == 201
    assert _stored(app) == 1


def test_link_is_held_for_review_and_the_resident_is_told(app, client):
    app.config["HOLD_LINKS"] = True
    response = _post(client, description="Läs mer på https://example.org/bank")
    assert response.status_code == 201
    properties = response.get_json()["properties"]
    assert properties["public"] is False
    assert _stored(app) == 1 and _public_count(client) == 0
    assert client.get(f"/api/proposals/{response.get_json()['id']}", headers=JSON).status_code == 404


@pytest.mark.parametrize(
    "text, held",
    [
        ("Läs på ｗｗｗ．ｅｘａｍｐｌｅ．ｃｏｍ", True),
        ("Se dalby.exa\u200bmple.c\u200bom", True),
        ("Vi behöver fler bänkar.Tack", False),
    ],
)
def test_disguised_links_are_held_and_ordinary_text_is_published(app, client, text, held):
    app.config["HOLD_LINKS"] = True
    response = _post(client, description=text)
    assert response.status_code == 201
    assert response.get_json()["properties"]["public"] is not held
    assert _public_count(client) == (0 if held else 1)


def test_link_hold_can_be_turned_off(app, client):
    app.config["HOLD_LINKS"] = False
    response = _post(client, description="Läs mer på https://example.org/bank")
    assert response.status_code == 201 and response.get_json()["properties"]["public"] is True
    assert _public_count(client) == 1


def test_proposals_are_rate_limited_per_client(app, client):
    app.config.update(RATELIMIT_ENABLED=True, RATELIMIT_PROPOSALS="3/minute")
    statuses = [_post(client).status_code for _ in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    refused = _post(client)
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    assert _stored(app) == 3
    other = app.test_client()
    assert (
        other.post(
            "/api/proposals", json={**DALBY, "title": "t", "description": "d"}, environ_base={"REMOTE_ADDR": "192.0.2.7"}
        ).status_code
        == 201
    )  # another client is not limited


def test_supports_are_rate_limited_per_client(app, client):
    app.config.update(RATELIMIT_ENABLED=True, RATELIMIT_SUPPORTS="2/minute", RATELIMIT_PROPOSALS="100/minute")
    ids = [_post(client).get_json()["id"] for _ in range(4)]
    statuses = [client.post(f"/api/proposals/{i}/support", json={}).status_code for i in ids]
    assert statuses == [200, 200, 429, 429]
    from dialogkarta.webmap import db
    from dialogkarta.layers.schema import supports

    with app.app_context(), db.reading() as conn:
        assert conn.execute(select(func.count()).select_from(supports)).scalar_one() == 2


def test_rate_limits_can_be_turned_off(app, client):
    app.config.update(RATELIMIT_ENABLED=False, RATELIMIT_PROPOSALS="1/minute")
    assert [_post(client).status_code for _ in range(3)] == [201, 201, 201]


def test_resident_form_carries_a_hidden_honeypot(client):
    import re

    page = client.get("/").get_data(as_text=True)
    field = re.search(r'<input[^>]*name="website"[^>]*>', page)
    assert field, "the resident form has no honeypot field"
    assert 'tabindex="-1"' in field.group(0) and 'autocomplete="off"' in field.group(0)
    start = page.rfind("<div", 0, field.start())
    assert 'class="honeypot"' in page[start : field.start()] and 'aria-hidden="true"' in page[start : field.start()]


def test_flags_are_rate_limited_per_client(app, client):
    app.config.update(
        RATELIMIT_ENABLED=True,
        RATELIMIT_FLAGS="2/minute",
        RATELIMIT_PROPOSALS="100/minute",
        FLAG_HIDE_THRESHOLD=1000,
        WTF_CSRF_ENABLED=False,
    )
    public_id = _post(client).get_json()["id"]
    statuses = []
    for _ in range(4):
        fresh = app.test_client()  # a bot that drops the flag cookie gets a new token every time
        statuses.append(fresh.post(f"/p/{public_id}/flag", json={"reason": "spam"}).status_code)
    assert statuses == [200, 200, 429, 429]


# ------------------------------------------------------------------- anonymous abuse (#9)
@pytest.mark.parametrize(
    "a, b, same",
    [
        ("192.0.2.1", "192.0.2.254", True),  # one IPv4 /24
        ("192.0.2.1", "192.0.3.1", False),
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe", True),  # one IPv6 /64
        ("2001:db8:1:2::1", "2001:db8:1:3::1", False),
        ("::ffff:192.0.2.7", "192.0.2.9", True),  # IPv4-mapped IPv6 is its IPv4 address
        ("fe80::1%eth0", "fe80::2", True),
    ],
)
def test_network_of_groups_addresses_by_ipv4_24_and_ipv6_64(a, b, same):
    assert (spam.network_of(a) == spam.network_of(b)) is same


def test_network_of_keeps_what_is_not_an_address():
    assert spam.network_of(None) == "-" and spam.network_of("unix-socket") == "unix-socket"


def _flag(app, public_id, address):
    browser = app.test_client()  # a fresh browser: no cookie
    return browser.post(f"/p/{public_id}/flag", json={"reason": "spam"}, environ_base={"REMOTE_ADDR": address})


def _queue(app):
    from dialogkarta.layers import workflow
    from dialogkarta.webmap import db

    with app.app_context(), db.reading() as conn:
        return {q["public_id"]: (q["hidden"], q["open_flags"]) for q in workflow.moderation_queue(conn)}


def test_flags_from_three_addresses_in_one_ipv4_24_count_as_one_network(app, client):
    app.config.update(FLAG_HIDE_THRESHOLD=2, WTF_CSRF_ENABLED=False)
    public_id = _post(client).get_json()["id"]
    for address in ("192.0.2.10", "192.0.2.11", "192.0.2.12"):
        assert _flag(app, public_id, address).status_code == 200
    assert client.get(f"/api/proposals/{public_id}", headers=JSON).status_code == 200  # still public
    assert _queue(app)[public_id] == (False, 3)  # moderators see it
    assert _flag(app, public_id, "198.51.100.10").status_code == 200  # a second network
    assert client.get(f"/api/proposals/{public_id}", headers=JSON).status_code == 404  # now hidden


def test_flags_after_a_moderator_restored_a_proposal_queue_it_but_do_not_hide_it(app, client):
    from dialogkarta.layers import workflow
    from dialogkarta.webmap import db

    app.config.update(FLAG_HIDE_THRESHOLD=2, WTF_CSRF_ENABLED=False)
    public_id = _post(client).get_json()["id"]
    _flag(app, public_id, "192.0.2.1")
    _flag(app, public_id, "198.51.100.1")
    assert _queue(app)[public_id] == (True, 2)  # hidden by residents' flags
    with app.app_context(), db.transaction() as conn:
        workflow.restore(conn, store.get_proposal(conn, public_id, include_hidden=True)["id"], role="moderator")
    for address in ("203.0.113.1", "203.0.114.1", "203.0.115.1"):  # three new networks flag again
        assert _flag(app, public_id, address).status_code == 200
    assert client.get(f"/api/proposals/{public_id}", headers=JSON).status_code == 200  # stays public
    assert _queue(app)[public_id] == (False, 3)  # back in the queue


def test_supports_are_capped_per_network_and_proposal_per_day_even_with_fresh_cookies(app, client):
    app.config.update(
        RATELIMIT_ENABLED=True,
        RATELIMIT_SUPPORTS="1000/minute",
        RATELIMIT_PROPOSALS="100/minute",
        RATELIMIT_SUPPORTS_PER_NETWORK=3,
    )
    public_id, other_id = _post(client).get_json()["id"], _post(client).get_json()["id"]

    def support(target, address, lang="sv"):
        browser = app.test_client()  # cookie cleared every time: a new browser token
        return browser.post(
            f"/api/proposals/{target}/support", json={}, environ_base={"REMOTE_ADDR": address}, headers={"Accept-Language": lang}
        )

    statuses = [support(public_id, f"192.0.2.{n}").status_code for n in range(1, 6)]
    assert statuses == [200, 200, 200, 429, 429]
    refused = support(public_id, "192.0.2.99")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 23 * 3600
    assert refused.get_json()["error"]["code"] == "support_limit"
    assert "nätverk" in refused.get_json()["error"]["message"]
    assert "network" in support(public_id, "192.0.2.98", lang="en").get_json()["error"]["message"]
    assert support(public_id, "198.51.100.1").status_code == 200  # another network
    assert support(other_id, "192.0.2.1").status_code == 200  # another proposal
    assert client.get(f"/api/proposals/{public_id}", headers=JSON).get_json()["properties"]["support_count"] == 4


def test_support_cap_counts_only_the_last_24_hours(engine, registry):
    from datetime import timedelta

    record = _submit(engine, registry, False)
    start = store.utcnow()
    with engine.begin() as conn:
        for n in range(2):
            store.add_support(conn, record["public_id"], f"token-{n}", now=start, client="net", per_client_daily=2)
        with pytest.raises(store.SupportLimitReached):
            store.add_support(
                conn, record["public_id"], "token-x", now=start + timedelta(hours=23), client="net", per_client_daily=2
            )
        # the same browser again is not a new support and never refused
        assert store.add_support(
            conn, record["public_id"], "token-0", now=start + timedelta(hours=23), client="net", per_client_daily=2
        ) == (False, 2)
        assert store.add_support(
            conn, record["public_id"], "token-y", now=start + timedelta(hours=25), client="net", per_client_daily=2
        ) == (True, 3)


def test_link_hold_uses_the_bundled_public_suffix_list_without_network(monkeypatch):
    import socket
    import urllib.request

    def no_network(*args, **kwargs):
        raise AssertionError("the link hold tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    spam._suffixes.cache_clear()
    assert spam.contains_link("mer på dalbyforum.se") and not spam.contains_link("fler bänkar.Tack")


# Spam writes its generic endings in any case, glued to a word; a Title-case ending that is not one of them is a new sentence.
@pytest.mark.parametrize(
    "ending",
    [
        "Com",
        "Net",
        "Org",
        "Info",
        "Biz",
        "Xyz",
        "Top",
        "Site",
        "Online",
        "Shop",
        "Club",
        "Link",
        "Click",
        "Io",
        "App",
        "Dev",
        "Ru",
        "Cn",
    ],
)
def test_generic_spam_endings_count_as_links_even_in_title_case(ending):
    assert spam.contains_link(f"Billiga klockor på rea.{ending}")


@pytest.mark.parametrize(
    "shortener",
    [
        "Bit.Ly",
        "T.Co",
        "Goo.Gl",
        "Ow.Ly",
        "Is.Gd",
        "Buff.Ly",
        "Rb.Gy",
        "Cutt.Ly",
        "Shorturl.At",
        "Tiny.Cc",
        "T.Ly",
        "S.Id",
        "Rebrand.Ly",
        "V.Gd",
        "Lnkd.In",
    ],
)
def test_link_shorteners_count_as_links_however_they_are_capitalised(shortener):
    assert spam.contains_link(f"Klicka här {shortener}")
    assert not spam.contains_link(f"Vi ses vid parken.{shortener.split('.')[1]} till dess")

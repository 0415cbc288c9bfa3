"""Resident pages besides the map: the permalink, the privacy notice and error pages."""

from __future__ import annotations

from sqlalchemy import insert, select

from dialogkarta.layers import store
from dialogkarta.layers.schema import answers, proposals
from dialogkarta.webmap import db

XSS_TITLE = "<img src=x onerror=alert(1)>"
XSS_TEXT = "Se här: <script>alert('x')</script> & mer"
VALID = {"lon": 13.3600, "lat": 55.6600, "category": "traffic", "title": "Övergångsställe", "description": "Säkrare väg."}


def create(client, **fields) -> str:
    response = client.post("/api/proposals", json={**VALID, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_permalink_shows_proposal_joins_in_words_and_history(client):
    public_id = create(client)
    response = client.get(f"/p/{public_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<h1 id="proposal-title">Övergångsställe</h1>' in html
    assert "Förslaget ligger i Kvarnskon–Vattenrännan (under byggnation)." in html
    assert "Mottaget" in html and "Vad har hänt?" in html
    assert "Inget svar ännu" in html
    assert f'href="/?p={public_id}"' in html


def test_permalink_escapes_what_residents_wrote(client):
    public_id = create(client, title=XSS_TITLE, description=XSS_TEXT)
    html = client.get(f"/p/{public_id}").get_data(as_text=True)
    assert XSS_TITLE not in html and "<script>alert" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; mer" in html


def test_permalink_shows_public_answers_without_names(app, client):
    public_id = create(client)
    with app.app_context(), db.transaction() as conn:
        proposal_id = conn.execute(select(proposals.c.id).where(proposals.c.public_id == public_id)).scalar_one()
        conn.execute(
            insert(answers).values(
                proposal_id=proposal_id,
                body="Vi bygger det <b>2027</b>.",
                department="tekniska",
                role="planner",
                answered_at=store.utcnow(),
            )
        )
    html = client.get(f"/p/{public_id}").get_data(as_text=True)
    assert "Vi bygger det &lt;b&gt;2027&lt;/b&gt;." in html
    assert "Tekniska förvaltningen (tekniska nämnden)" in html
    assert "Inget svar ännu" not in html


def test_permalink_in_english(client):
    public_id = create(client)
    html = client.get(f"/p/{public_id}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "The proposal lies in Kvarnskon–Vattenrännan (under construction)." in html
    assert "What has happened?" in html and "Traffic and streets" in html


def test_unknown_permalink_is_a_friendly_404_page(client):
    response = client.get("/p/does-not-exist", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "<html" in response.get_data(as_text=True) and "Till kartan" in response.get_data(as_text=True)


def test_privacy_notice_says_what_why_how_long_and_whom(app, client):
    html = client.get("/privacy").get_data(as_text=True)
    for words in (
        "Det här visas publikt",
        "Namn och e-post",
        "raderas 90 dagar",
        "Kakor",
        "Varför",
        "Personuppgiftsansvarig",
        "Integritetsskyddsmyndigheten",
    ):
        assert words in html, words
    app.config.update(CONTACT_RETENTION_DAYS=30, PRIVACY_CONTACT_EMAIL="dataskydd@example.se")
    html = client.get("/privacy?lang=en").get_data(as_text=True)
    assert "deleted 30 days after" in html and "mailto:dataskydd@example.se" in html


def test_form_asks_for_consent_and_links_the_privacy_notice(client):
    html = client.get("/").get_data(as_text=True)
    assert 'id="consent" name="consent" type="checkbox"' in html
    assert 'href="/privacy"' in html
    assert 'maxlength="120"' in html and 'maxlength="2000"' in html
    assert 'name="website"' in html and 'tabindex="-1"' in html  # the honeypot stays out of the tab order


def test_nav_block_and_skip_link_in_base(client):
    html = client.get("/privacy").get_data(as_text=True)
    assert 'class="skip-link" href="#main"' in html
    assert '<nav class="site-nav"' in html and 'href="/privacy"' in html


def test_english_catalogue_is_complete_and_the_mo_is_compiled_from_it():
    from io import BytesIO
    from pathlib import Path

    from babel.messages.mofile import read_mo, write_mo
    from babel.messages.pofile import read_po

    folder = Path(__file__).resolve().parents[1] / "webmap" / "translations" / "en" / "LC_MESSAGES"
    catalog = read_po((folder / "messages.po").open("rb"))
    assert [m.id for m in catalog if m.id and not m.string] == []
    assert [m.id for m in catalog if m.id and m.fuzzy] == []
    compiled = read_mo((folder / "messages.mo").open("rb"))

    def text(value):  # a plural entry's forms come as a tuple from the .po and as a list from the .mo
        return tuple(value) if isinstance(value, (list, tuple)) else value

    assert {text(m.id): text(m.string) for m in compiled if m.id} == {text(m.id): text(m.string) for m in catalog if m.id}
    BytesIO().write(b"")  # write_mo imported to document how the .mo is made: pybabel compile
    assert write_mo


def test_babel_domains_leave_room_for_the_planner_catalogue(app):
    assert app.config["BABEL_DOMAIN"].split(";")[0] == "messages"
    assert len(app.config["BABEL_DOMAIN"].split(";")) == len(app.config["BABEL_TRANSLATION_DIRECTORIES"].split(";"))

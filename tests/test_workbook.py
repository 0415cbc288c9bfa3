"""The paper workbook: an A4 PDF whose QR codes open the proposal form pre-set to an area, the workbook channel and the round."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import pypdfium2
import pytest
import zxingcpp
from sqlalchemy import select

from dialogkarta.layers import schema, workbook_pdf
from dialogkarta.webmap import db

from .planner_helpers import login, make_user

BASE = "http://dialog.example.se"
A4_POINTS = (595.28, 841.89)
CONFIG = re.compile(r'<script type="application/json" id="dk-config">(.*?)</script>', re.S)


@dataclass(frozen=True)
class Page:
    size: tuple[float, float]
    text: str
    qr: str


def read_pdf(data: bytes) -> list[Page]:
    """Each page's size in points, its text and the URL of its one QR code (rendered at 150 dpi and decoded)."""
    document = pypdfium2.PdfDocument(data)
    try:
        pages = []
        for page in document:
            found = zxingcpp.read_barcodes(page.render(scale=150 / 72).to_pil())
            assert len(found) == 1, "one QR code per page"
            text = page.get_textpage()
            pages.append(Page(page.get_size(), text.get_text_range(), found[0].text))
            text.close()
            page.close()
        return pages
    finally:
        document.close()


def page_config(client, url: str) -> dict:
    parts = urlsplit(url)
    answer = client.get(f"{parts.path}?{parts.query}")
    assert answer.status_code == 200
    return json.loads(CONFIG.search(answer.get_data(as_text=True)).group(1))


def stored(app) -> list[tuple]:
    with app.app_context(), db.reading() as conn:
        rounds = dict(conn.execute(select(schema.proposal_rounds.c.proposal_id, schema.proposal_rounds.c.round_name)).all())
        areas = {}
        for proposal_id, area_id in conn.execute(select(schema.proposal_areas.c.proposal_id, schema.proposal_areas.c.area_id)):
            areas.setdefault(proposal_id, set()).add(area_id)
        rows = conn.execute(select(schema.proposals.c.id, schema.proposals.c.channel)).all()
    return [(channel, rounds.get(pid), areas.get(pid, set())) for pid, channel in rows]


def test_the_workbook_is_a4_with_a_cover_a_locality_page_and_one_page_per_requested_area(runner, tmp_path):
    out = tmp_path / "workbook.pdf"
    result = runner.invoke(
        args=["workbook", "-o", str(out), "--area", "hagalund", "--area", "stationsomradet", "--base-url", BASE]
    )
    assert result.exit_code == 0, result.output
    pages = read_pdf(out.read_bytes())
    assert len(pages) == 1 + 1 + 2
    for page in pages:
        assert page.size == pytest.approx(A4_POINTS, abs=0.5)
    texts = [page.text for page in pages]
    assert "Frågorna i den här omgången" in texts[0] and "Box 41" in texts[0]
    assert "Hela Dalby" in texts[1]
    assert "Hagalund" in texts[2] and "Förslag i samrådet om översiktsplan 2025" in texts[2]  # its plan reference
    assert "Stationsområdet i Dalby" in texts[3] and "I översiktsplanen" in texts[3]  # its status


def test_every_qr_code_opens_the_preset_form_and_sending_it_stores_the_workbook_channel_and_round(app, client, runner, tmp_path):
    out = tmp_path / "workbook.pdf"
    assert runner.invoke(args=["workbook", "-o", str(out), "--round", "var-2027", "--base-url", BASE]).exit_code == 0
    pages = read_pdf(out.read_bytes())
    with app.app_context():
        area_ids = [str(a) for a in db.registry().areas()["id"]]
    assert len(pages) == 2 + len(area_ids)
    urls = [page.qr for page in pages]
    assert all(url.startswith(BASE + "/?") for url in urls)
    for url, area_id in zip(urls[2:], area_ids):
        config = page_config(client, url)["workbook"]
        assert config["area"]["id"] == area_id and config["channel"] == "workbook" and config["round"] == "var-2027"
        # What static/js/workbook.js adds to the form's payload, the pin where it placed it.
        body = {"lon": config["area"]["lon"], "lat": config["area"]["lat"], "category": "other", "title": f"Från {area_id}"}
        body |= {"description": "Skrivet i arbetsboken.", "channel": config["channel"], "round": config["round"]}
        assert client.post("/api/proposals", json=body).status_code == 201
    assert stored(app) == [("workbook", "var-2027", {area_id}) for area_id in area_ids]
    for url in urls[:2]:  # the cover and the locality page: the form for anywhere, same channel and round
        assert page_config(client, url)["workbook"] == {
            "channel": "workbook",
            "round": "var-2027",
            "roundTitle": "Arbetsboken, våren 2027",
        }


def test_the_english_workbook_links_to_the_english_form(runner, client, tmp_path):
    out = tmp_path / "workbook.pdf"
    assert (
        runner.invoke(args=["workbook", "-o", str(out), "--area", "hagalund", "--lang", "en", "--base-url", BASE]).exit_code == 0
    )
    pages = read_pdf(out.read_bytes())
    assert "How to return the workbook" in pages[0].text
    assert page_config(client, pages[2].qr)["lang"] == "en"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--area", "no-such-area"], "Unknown area: no-such-area"),
        (["--round", "no-such-round"], "Unknown round"),
        ([], "Give --base-url or DIALOGKARTA_BASE_URL"),
    ],
)
def test_the_command_refuses_an_unknown_area_or_round_and_a_missing_address(runner, tmp_path, args, message):
    base = [] if not args else ["--base-url", BASE]
    result = runner.invoke(args=["workbook", "-o", str(tmp_path / "w.pdf"), *args, *base])
    assert result.exit_code != 0 and message in result.output
    assert not (tmp_path / "w.pdf").exists()


def test_a_link_with_an_unknown_area_channel_or_round_opens_the_plain_form_and_says_so(client):
    answer = client.get("/?area=%3Cscript%3E&channel=open_meeting&round=nope")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Området i länken finns inte på kartan" in page and "<script>" not in page.split('id="dk-config"')[0]
    assert json.loads(CONFIG.search(page).group(1))["workbook"] == {
        "notice": "Området i länken finns inte på kartan. Välj platsen själv."
    }
    assert json.loads(CONFIG.search(client.get("/?channel=workbook&round=nope").get_data(as_text=True)).group(1))["workbook"] == {
        "channel": "workbook"
    }
    assert json.loads(CONFIG.search(client.get("/").get_data(as_text=True)).group(1))["workbook"] is None


@pytest.mark.parametrize(
    "extra, status, field",
    [
        ({"channel": "open_meeting"}, 422, "channel"),
        ({"channel": "workbook", "round": "no-such-round"}, 422, "round"),
        ({"round": 7}, 400, "round"),
    ],
)
def test_residents_may_say_workbook_but_not_a_staff_channel_or_an_unknown_round(app, client, extra, status, field):
    body = {"lon": 13.3514, "lat": 55.6652, "category": "other", "title": "T", "description": "D", **extra}
    answer = client.post("/api/proposals", json=body)
    assert answer.status_code == status and answer.get_json()["error"]["field"] == field
    assert stored(app) == []


def test_the_round_is_in_the_planner_export_only(app, client):
    body = {"lon": 13.3514, "lat": 55.6652, "category": "other", "title": "T", "description": "D"}
    assert client.post("/api/proposals", json=body | {"channel": "workbook", "round": "var-2027"}).status_code == 201
    make_user(app, "anna")
    public = client.get("/api/export/proposals.csv").get_data(as_text=True)
    assert "var-2027" not in public and "round" not in public.splitlines()[0].split(",")
    login(client, "anna")
    planner = client.get("/planner/export/proposals.csv").get_data(as_text=True).splitlines()
    header = planner[0].split(",")
    assert planner[1].split(",")[header.index("round")] == "var-2027"


def test_the_planner_page_downloads_the_same_workbook_and_only_for_staff(app, client):
    assert client.get("/planner/workbook.pdf").status_code in (302, 401)
    make_user(app, "anna")
    login(client, "anna")
    answer = client.get("/planner/workbook.pdf?area=hagalund&round=var-2027&language=sv")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    pages = read_pdf(answer.data)
    assert len(pages) == 3
    assert pages[2].qr == "http://localhost/?area=hagalund&channel=workbook&round=var-2027"
    assert client.get("/planner/workbook.pdf?area=nowhere").status_code == 400


def test_a_print_run_has_a_bound_on_its_area_pages(runner, tmp_path, monkeypatch):
    monkeypatch.setattr(workbook_pdf, "MAX_AREA_PAGES", 1)
    args = ["workbook", "-o", str(tmp_path / "w.pdf"), "--base-url", BASE, "--area", "hagalund"]
    assert runner.invoke(args=[*args, "--area", "hagalund"]).exit_code == 0  # the same area twice is one page
    result = runner.invoke(args=[*args, "--area", "stationsomradet"])
    assert result.exit_code != 0 and "Too many areas: 2 areas, at most 1 per workbook" in result.output


def test_the_pages_qr_codes_use_the_configured_address_never_the_requests_host(tmp_path):
    from dialogkarta.webmap.app import create_app

    from .conftest import fresh_database_url
    from .live import bearer, seed

    config = {"TESTING": True, "SECRET_KEY": "s", "INSTANCE_PATH": str(tmp_path), "BASE_URL": "https://dialog.example.se/dalby"}
    app = create_app(config | {"DATABASE_URL": fresh_database_url(tmp_path, "t.sqlite"), "RATELIMIT_ENABLED": False})
    token = seed(app, count=1)["tokens"]["planner"]
    forged = {"X-Forwarded-Host": "evil.example"} | bearer(token)
    answer = app.test_client().get("/planner/workbook.pdf?area=hagalund", base_url="http://evil.example/", headers=forged)
    assert answer.status_code == 200
    assert read_pdf(answer.data)[2].qr == "https://dialog.example.se/dalby/?area=hagalund&channel=workbook&round=var-2027"


def test_an_imported_layers_long_texts_keep_the_map_and_the_qr_code_on_their_page(app):
    with app.app_context():
        registry = db.registry()
        areas = registry.areas().copy()
        areas.loc[0, "name"], areas.loc[0, "plan_ref"] = "Ett mycket långt namn " * 40, "Plan " * 500
        request = workbook_pdf.WorkbookRequest(base_url=BASE, areas=(str(areas.loc[0, "id"]),))
        pages = read_pdf(workbook_pdf.build_pdf(registry.with_frame("development-areas", areas), request))
    assert len(pages) == 3 and pages[2].qr == f"{BASE}/?area={areas.loc[0, 'id']}&channel=workbook&round=var-2027"

"""Returned workbooks typed in: a CSV file or the bulk entry form stores every row with its joins, or nothing, naming each bad row."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from dialogkarta.layers import proposal_import, schema
from dialogkarta.webmap import db

from .planner_helpers import csrf_token, login, make_user

HEADER = "category,title,description,channel,meeting,round,lon,lat,area\n"
GOOD = [
    "traffic,Övergångsställe,Vid skolan,workbook,Biblioteket 12 mars,var-2027,13.3514,55.6652,\n",
    "housing,Fler radhus,I det nya området,,,var-2027,,,hagalund\n",
]


def proposal_rows(app) -> list:
    with app.app_context(), db.reading() as conn:
        rows = conn.execute(
            select(schema.proposals.c.id, schema.proposals.c.title, schema.proposals.c.channel, schema.proposals.c.meeting)
        ).all()
        rounds = dict(conn.execute(select(schema.proposal_rounds.c.proposal_id, schema.proposal_rounds.c.round_name)).all())
        areas = dict(conn.execute(select(schema.proposal_areas.c.proposal_id, schema.proposal_areas.c.area_id)).all())
        services = conn.execute(select(func.count()).select_from(schema.proposal_services)).scalar_one()
    return [(r.title, r.channel, r.meeting, rounds.get(r.id), areas.get(r.id)) for r in rows], services


def write(tmp_path, text: str, encoding: str = "utf-8"):
    path = tmp_path / "returned.csv"
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_a_good_file_stores_every_row_with_its_channel_meeting_round_and_joins(app, client, runner, tmp_path):
    result = runner.invoke(args=["import-proposals", write(tmp_path, HEADER + "".join(GOOD))])
    assert result.exit_code == 0, result.output
    rows, services = proposal_rows(app)
    assert rows == [
        ("Övergångsställe", "workbook", "Biblioteket 12 mars", "var-2027", None),
        ("Fler radhus", "workbook", None, "var-2027", "hagalund"),  # an empty channel is the workbook; the pin inside the area
    ]
    assert services > 0  # nearest services joined as on submission
    assert client.get("/api/proposals").get_json()["numberMatched"] == 2  # the public list saw the change


def test_a_file_mixing_good_and_bad_rows_stores_nothing_and_names_each_bad_row(app, runner, tmp_path):
    text = (
        HEADER
        + GOOD[0]
        + (
            "nonsense,Okänd kategori,Text,workbook,,,13.3514,55.6652,\n"  # line 3
            + GOOD[1]  # line 4
            + "other,Långt bort,Text,workbook,,,18.06,59.33,\n"  # line 5: Stockholm
            + "other,Inget område,Text,workbook,,,,,no-such-area\n"  # line 6
            + "other,Fel omgång,Text,workbook,,host-1999,13.3514,55.6652,\n"  # line 7
            + "other,Ingen plats,Text,workbook,,,,,\n"  # line 8
            + '"other","Flera\nrader","Text",workbook,,,abc,55.6652,\n'  # lines 9-10: a bad number in a two-line cell
            + "other,Fel kanal,Text,brevduva,,,13.3514,55.6652,\n"  # line 11
        )
    )
    result = runner.invoke(args=["import-proposals", write(tmp_path, text)])
    assert result.exit_code != 0
    named = [line.split(":")[0].strip() for line in result.output.splitlines() if line.strip().startswith("Rad ")]
    assert named == ["Rad 3", "Rad 5", "Rad 6", "Rad 7", "Rad 8", "Rad 9", "Rad 11"]
    for reason in (
        "Okänd kategori",
        "utanför",
        "okänt område",
        "Okänd arbetsboksomgång",
        "ange platsen",
        "lon ska vara ett tal",
        "Okänd kanal",
    ):
        assert reason in result.output
    assert proposal_rows(app) == ([], 0)


def test_semicolons_a_byte_order_mark_and_decimal_commas_from_a_swedish_spreadsheet(app, runner, tmp_path):
    text = "\ufeffcategory;title;description;lon;lat\nother;Bänk;Vid dammen;13,3514;55,6652\n"
    assert runner.invoke(args=["import-proposals", write(tmp_path, text)]).exit_code == 0
    assert proposal_rows(app)[0] == [("Bänk", "workbook", None, None, None)]


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"x" * (proposal_import.MAX_BYTES + 1), "The file is larger than"),
        (
            (HEADER + GOOD[0]).encode("utf-8") + "other,Ärende,Text,,,,13.35,55.66,\n".encode("latin-1"),
            "Line 3: the file is not UTF-8",
        ),
        ((HEADER + "other,T\x00,D,,,,13.35,55.66,\n").encode(), "Line 2: a NUL character"),
        (b"category,title,description,=cmd|' /C calc'!A0\n", "unknown: =cmd"),
        (b"title,description\n", "missing: category"),
        ((HEADER + "other,T," + "x" * 5000 + ",,,,13.35,55.66,\n").encode(), "Line 2: cell too long in description"),
        ((HEADER + "other,T,D\n").encode(), "Line 2: 3 fields, the header has 9"),
        ((HEADER + GOOD[0] * (proposal_import.MAX_ROWS + 1)).encode(), "at most 2000 rows"),
        (HEADER.encode(), "Nothing was stored. No proposals to store."),
    ],
)
def test_hostile_or_broken_files_are_refused_whole(app, data, reason):
    with app.app_context(), pytest.raises(proposal_import.ImportRefused) as refused:
        proposal_import.check_rows(db.registry(), proposal_import.read_csv(data))
    assert reason in refused.value.message("en")


def entry_form(client, rows: dict) -> dict:
    return {
        "csrf_token": csrf_token(client, "/planner/workbook"),
        "rows": "10",
        "channel": "workbook",
        "round": "var-2027",
    } | rows


def test_the_bulk_entry_page_is_for_staff_only(app, client):
    assert client.get("/planner/workbook").status_code in (302, 401)
    assert client.post("/planner/workbook/entries", data={"title-1": "x"}).status_code in (302, 400, 401)
    assert proposal_rows(app) == ([], 0)


def test_the_bulk_entry_page_stores_typed_rows_all_or_nothing(app, client):
    make_user(app, "anna")
    login(client, "anna")
    assert client.post("/planner/workbook/entries", data={"rows": "10", "title-1": "Utan token"}).status_code == 400  # CSRF
    good = {"area-1": "hagalund", "category-1": "parks_nature", "title-1": "Lekplats", "description-1": "För de minsta."}
    bad = {"lon-3": "13.3514", "lat-3": "55.6652", "category-3": "other", "title-3": "", "description-3": "Utan rubrik."}
    refused = client.post("/planner/workbook/entries", data=entry_form(client, good | bad))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Rad 3: Rubriken får inte vara tom." in page
    assert 'value="Lekplats"' in page  # what was typed is kept
    assert proposal_rows(app) == ([], 0)
    stored = client.post("/planner/workbook/entries", data=entry_form(client, good))
    assert stored.status_code == 302
    assert proposal_rows(app)[0] == [("Lekplats", "workbook", None, "var-2027", "hagalund")]


def test_the_page_takes_a_csv_upload_too(app, client):
    make_user(app, "anna")
    login(client, "anna")
    data = {"csrf_token": csrf_token(client, "/planner/workbook"), "file": (io.BytesIO((HEADER + GOOD[1]).encode()), "r.csv")}
    assert client.post("/planner/workbook/import", data=data, content_type="multipart/form-data").status_code == 302
    assert [row[0] for row in proposal_rows(app)[0]] == ["Fler radhus"]

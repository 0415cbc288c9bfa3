"""A third language, right to left: Arabic on residents' pages, from a catalogue and one line in locality.toml."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import update

from dialogkarta import settings
from dialogkarta.layers import vocabulary
from dialogkarta.layers.locality import DEFAULT_LOCALITY_DIR, load_locality
from dialogkarta.layers.schema import proposals
from dialogkarta.webmap import db
from dialogkarta.webmap.app import create_app

TRANSLATIONS = Path(__file__).resolve().parents[1] / "webmap" / "translations"
VALID = {"lon": 13.3600, "lat": 55.6600, "category": "traffic", "title": "Övergångsställe", "description": "Säkrare väg."}


def create(client) -> str:
    response = client.post("/api/proposals", json=VALID)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def html_tag(html: str) -> str:
    return re.search(r"<html[^>]*>", html).group(0)


@pytest.mark.parametrize("path", ["/", "/p/{id}", "/privacy", "/no-such-page"])
def test_an_arabic_resident_page_is_right_to_left(client, path):
    html = client.get(path.format(id=create(client)) + "?lang=ar").get_data(as_text=True)
    assert html_tag(html) == '<html lang="ar" dir="rtl">'


def test_swedish_and_english_pages_stay_left_to_right(client):
    assert html_tag(client.get("/").get_data(as_text=True)) == '<html lang="sv">'
    assert html_tag(client.get("/?lang=en").get_data(as_text=True)) == '<html lang="en">'


def test_the_language_switcher_offers_the_other_two_languages_by_their_own_names(client):
    def switcher(html):
        return re.findall(r'hreflang="(\w+)">([^<]+)</a>', re.search(r'<ul class="lang-switch".*?</ul>', html, re.S).group(0))

    assert switcher(client.get("/").get_data(as_text=True)) == [("en", "English"), ("ar", "العربية")]
    assert switcher(client.get("/?lang=ar").get_data(as_text=True)) == [("sv", "Svenska"), ("en", "English")]


def test_the_browser_asking_for_arabic_gets_arabic_and_the_choice_is_remembered(client):
    assert 'lang="ar"' in html_tag(client.get("/", headers={"Accept-Language": "ar-SE, en;q=0.5"}).get_data(as_text=True))
    client.get("/privacy?lang=ar")
    assert "كيف نتعامل مع بياناتك" in client.get("/privacy").get_data(as_text=True)


def test_the_map_page_is_worded_in_arabic_with_the_localitys_arabic_labels(client):
    html = client.get("/?lang=ar").get_data(as_text=True)
    assert "ما الذي تودّ تغييره في Dalby؟" in html
    assert "المرور والشوارع" in html  # a category
    assert "قيد البناء" in html  # a development area's status in the legend
    assert "موقف حافلات" in html  # a service kind
    assert "مناطق التطوير" in html  # a layer's title in the layer control


def test_the_permalink_in_arabic_names_status_place_and_date_the_arabic_way(app, client):
    public_id = create(client)
    with app.app_context(), db.engine().begin() as conn:
        conn.execute(update(proposals).values(created_at=datetime(2026, 11, 27, 10, 0, tzinfo=UTC)))
    html = client.get(f"/p/{public_id}?lang=ar").get_data(as_text=True)
    assert "تم الاستلام" in html  # the status
    assert "يقع الاقتراح في Kvarnskon–Vattenrännan (قيد البناء)." in html
    assert ">27 نوفمبر 2026</time>" in html  # the month by name, Western digits like the rest of the page


def test_resident_api_messages_follow_the_request_to_arabic(client):
    public_id = create(client)
    headers = {"Accept-Language": "ar"}
    assert client.post(f"/api/proposals/{public_id}/support", json={}, headers=headers).get_json()["message"] == "شكرًا لدعمك!"
    missing = client.get("/api/proposals/nothing-here", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["error"]["message"] == "الصفحة أو العنصر غير موجود."


@pytest.mark.parametrize(
    "change, message",
    [
        ({"category": ""}, "اختر فئة لاقتراحك."),
        ({"title": "  "}, "لا يجوز أن يكون العنوان فارغًا."),
        ({"email": "anna@example.se"}, "ضع علامة على الموافقة إذا أردت ترك اسمك أو بريدك الإلكتروني، وإلا فاترك الحقلين فارغين."),
        ({"lon": 13.0, "lat": 55.0}, "يقع المكان خارج منطقة الحوار. اختر مكانًا داخل الحدود المحددة."),
    ],
)
def test_the_forms_refusals_are_worded_in_arabic(client, change, message):
    response = client.post("/api/proposals", json={**VALID, **change}, headers={"Accept-Language": "ar"})
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == message


def test_a_refusal_not_worded_in_arabic_falls_back_to_english_not_swedish():
    from dialogkarta.errors import UserError
    from dialogkarta.webmap.user_messages import user_message

    error = UserError("Kanalen är okänd.", "The channel is unknown.", field="channel")
    assert (user_message(error, "ar"), user_message(error, "sv")) == ("The channel is unknown.", "Kanalen är okänd.")


def test_the_planner_workspace_stays_in_swedish_and_english(client):
    client.get("/?lang=ar")  # the cookie now says Arabic
    assert html_tag(client.get("/planner/login").get_data(as_text=True)) == '<html lang="sv">'
    english = client.get("/planner/login", headers={"Accept-Language": "ar, en;q=0.8"}).get_data(as_text=True)
    assert html_tag(english) == '<html lang="en">'
    assert 'hreflang="ar"' not in english


def test_every_msgid_of_the_resident_catalogue_has_an_arabic_translation():
    template = read_po((TRANSLATIONS / "messages.pot").open("rb"))
    arabic = read_po((TRANSLATIONS / "ar" / "LC_MESSAGES" / "messages.po").open("rb"))
    missing = [m.id for m in template if m.id and not (arabic.get(m.id) and arabic.get(m.id).string)]
    assert missing == [], "msgids without an Arabic translation in ar/LC_MESSAGES/messages.po:\n" + "\n".join(map(str, missing))
    assert [m.id for m in arabic if m.id and m.fuzzy] == []


def test_the_arabic_catalogue_is_compiled_and_marked_for_review_by_a_native_speaker():
    folder = TRANSLATIONS / "ar" / "LC_MESSAGES"
    catalog = read_po((folder / "messages.po").open("rb"))
    compiled = read_mo((folder / "messages.mo").open("rb"))

    def text(value):  # a plural entry's forms come as a tuple from the .po and as a list from the .mo
        return tuple(value) if isinstance(value, (list, tuple)) else value

    assert {text(m.id): text(m.string) for m in compiled if m.id} == {text(m.id): text(m.string) for m in catalog if m.id}
    header = (folder / "messages.po").read_text(encoding="utf-8")
    assert '"X-Review-Status: needs-review by a native speaker\\n"' in header
    assert "must be reviewed by a native Arabic speaker" in header.replace("\n# ", " ")


@pytest.mark.parametrize("name", sorted(vocabulary.RESIDENT_VOCABULARIES))
def test_every_resident_visible_vocabulary_entry_has_arabic(name):
    entries = vocabulary.RESIDENT_VOCABULARIES[name]
    assert [key for key, labels in entries.items() if not labels.get("ar")] == []


@pytest.mark.parametrize(
    "value, lang, expected",
    [
        ({"sv": "Mottaget", "en": "Received"}, "ar", "Received"),  # a language the labels lack: English
        ({"sv": "Mottaget", "en": "Received", "ar": "تم الاستلام"}, "ar", "تم الاستلام"),
        ({"sv": "Mottaget"}, "ar", "Mottaget"),  # then Swedish
    ],
)
def test_a_missing_language_falls_back_to_english_then_swedish(value, lang, expected):
    assert vocabulary.translate(value, lang) == expected


def test_every_label_residents_read_in_the_bundled_locality_has_arabic():
    locality = load_locality()
    assert locality.languages == ("sv", "en", "ar")
    labelled = {
        **{f"layer {layer.name}": layer.title for layer in locality.layers},
        **{f"category {c.id}": c.labels for c in locality.categories},
        **{f"area status {key}": value for key, value in locality.area_status.items()},
        **{f"service kind {key}": value for key, value in locality.service_kinds.items()},
        **{f"service kinds {key}": value["plural"] for key, value in locality.service_kinds.items()},
        **{f"department {key}": value for key, value in locality.departments.items()},
        **{f"attribution {n}": line for n, line in enumerate(locality.attribution)},
    }
    assert [name for name, labels in labelled.items() if not labels.get("ar")] == []


def copy_locality(tmp_path, languages_line: str | None) -> Path:
    folder = tmp_path / "locality"
    shutil.copytree(DEFAULT_LOCALITY_DIR, folder)
    toml = folder / "locality.toml"
    text = re.sub(r"^languages = .*$", languages_line or "", toml.read_text(encoding="utf-8"), flags=re.M)
    toml.write_text(text, encoding="utf-8")
    return folder


def make_app(tmp_path, **config):
    return create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), **config})


def test_a_locality_without_a_languages_line_offers_swedish_and_english(tmp_path):
    app = make_app(tmp_path, LOCALITY_DIR=str(copy_locality(tmp_path, None)))
    assert app.config["LANGUAGES"] == ["sv", "en"]
    assert html_tag(app.test_client().get("/?lang=ar").get_data(as_text=True)) == '<html lang="sv">'


def test_the_languages_setting_when_set_wins_over_the_locality(tmp_path):
    assert make_app(tmp_path).config["LANGUAGES"] == ["sv", "en", "ar"]  # unset: the locality's line
    assert make_app(tmp_path, LANGUAGES="en,sv").config["LANGUAGES"] == ["en", "sv"]


def test_a_language_without_a_catalogue_stops_the_app_at_start(tmp_path):
    with pytest.raises(settings.SettingsError, match="de have no catalogue"):
        make_app(tmp_path, LOCALITY_DIR=str(copy_locality(tmp_path, 'languages = ["sv", "de"]')))


def test_a_label_a_locality_gives_no_arabic_for_falls_back_to_english(tmp_path):
    folder = copy_locality(tmp_path, 'languages = ["sv", "en", "ar"]')
    toml = folder / "locality.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('ar = "المرور والشوارع"\n', ""), encoding="utf-8")
    html = make_app(tmp_path, LOCALITY_DIR=str(folder)).test_client().get("/?lang=ar").get_data(as_text=True)
    assert "Traffic and streets" in html and "Trafik och gator" not in html

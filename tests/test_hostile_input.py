"""Hostile input against the JSON API: never a 5xx, a clear JSON message, the store unchanged.

Two batteries. Property tests (hypothesis) drive the Flask test client with malformed JSON,
wrong types, huge numbers, NaN/Infinity literals, unicode edge cases (RTL overrides, zero-width,
NUL, emoji, 4-byte characters, lone surrogates), over-long fields, nested junk, duplicate keys,
wrong content types, oversized bodies and query parameters out of range. Then schemathesis
generates requests from ``/api/openapi.json`` against the app served on a loopback port.

After every refusal (4xx) the store is exactly as before; a 2xx is the documented success.
How many cases ran goes to test-artifacts/hostile-input.txt.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from dialogkarta.layers.schema import contacts, flags, proposals, status_history, supports
from dialogkarta.webmap.app import create_app

ROOT = Path(__file__).resolve().parents[1]
ARTIFACT = ROOT / "test-artifacts" / "hostile-input.txt"
CASES: Counter = Counter()  # battery -> requests sent
SERVER_ERRORS: Counter = Counter()
STATUSES: dict[str, Counter] = {}  # battery -> status code -> count
SEEDED: list[str] = []  # public ids of the proposals the module's store starts with
LAYERS = ("development-areas", "service-locations", "locality", "reference-points")

DALBY = {"lon": 13.3514, "lat": 55.6652}
VALID = {**DALBY, "category": "traffic", "title": "Cykelbana", "description": "Längs Lundavägen."}
FIELDS = ("lon", "lat", "category", "title", "description", "name", "email", "consent", "website")
HYPOTHESIS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

# Characters that break naive code: bidi overrides, zero-width, NUL and other controls, a BOM,
# emoji and other 4-byte characters, combining marks, a lone surrogate, line/paragraph separators.
NASTY = [
    "\u202e",
    "\u202d",
    "\u2066",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\x00",
    "\x07",
    "\x1b",
    "\x7f",
    "\x85",
    "\U0001f600",
    "\U0001f469\u200d\U0001f4bb",
    "\U00010348",
    "\U0001d11e",
    "e\u0301",
    "\u2028",
    "\u2029",
    "\ud800",
    "\udfff",
    "﷽",
    "ǅ",
    "İ",
    "ß",
    "<",
    "'",
    '"',
    "\\",
    "%00",
    "${x}",
    "{{7*7}}",
]


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(folder / "instance"),
            "DATABASE_URL": f"sqlite:///{folder / 'hostile.sqlite'}",
            "SECRET_KEY": "hostile",
            "RATELIMIT_ENABLED": False,
            "HOLD_LINKS": True,
            "WTF_CSRF_ENABLED": False,
        }
    )
    client = app.test_client()
    # Something to find, support and page through.
    for i in range(3):
        response = client.post("/api/proposals", json={**VALID, "title": f"Förslag {i}"})
        assert response.status_code == 201
        SEEDED.append(response.get_json()["id"])
    yield app
    ARTIFACT.parent.mkdir(exist_ok=True)
    lines = [
        f"{time.strftime('%Y-%m-%dT%H:%M:%S')} hostile input: {sum(CASES.values())} requests, 5xx={sum(SERVER_ERRORS.values())}"
    ]
    lines += [
        f"  {battery}: {count} requests, 5xx={SERVER_ERRORS[battery]}, statuses "
        f"{dict(sorted(STATUSES.get(battery, Counter()).items()))}"
        for battery, count in sorted(CASES.items())
    ]
    with ARTIFACT.open("a") as out:
        out.write("\n".join(lines) + "\n")


def fingerprint(app) -> tuple:
    """Counts and id sums of every table a request could write to."""
    from dialogkarta.webmap import db

    with app.app_context(), db.reading() as conn:
        return tuple(
            conn.execute(select(func.count(), func.coalesce(func.sum(table.c.id), 0))).one()
            for table in (proposals, contacts, supports, status_history, flags)
        )


def check(app, battery: str, send, *, write: bool, json_errors: bool = True):
    """Send one request; assert no 5xx, a JSON error for 4xx, and the store unchanged unless a write succeeded."""
    before = fingerprint(app)
    response = send(app.test_client())
    CASES[battery] += 1
    STATUSES.setdefault(battery, Counter())[response.status_code] += 1
    if response.status_code >= 500:
        SERVER_ERRORS[battery] += 1
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    after = fingerprint(app)
    if response.status_code >= 400 and not json_errors:
        assert after == before, f"refused with {response.status_code} but the store changed"
    elif response.status_code >= 400:
        body = response.get_json(silent=True)
        assert body and isinstance(body.get("error"), dict), response.get_data(as_text=True)[:300]
        assert body["error"]["code"] and body["error"]["message"].strip()
        assert after == before, f"refused with {response.status_code} but the store changed"
    elif not write or response.status_code == 304:
        assert after == before
    return response


# ------------------------------------------------------------------------------ strategies

nasty_text = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=5)), max_size=12).map("".join)
huge_numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.just(10**400),
    st.just(-(10**400)),
    st.floats(allow_nan=False, allow_infinity=False),
    st.just(1e308),
    st.just(5e-324),
)
scalars = st.one_of(st.none(), st.booleans(), huge_numbers, nasty_text, st.text(max_size=50))
junk = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=12,
)


def field_value(name: str):
    valid = VALID.get(name)
    options = [junk, nasty_text, st.text(min_size=1000, max_size=3000)]
    if valid is not None:
        options.append(st.just(valid))
    return st.one_of(*options)


submissions = st.fixed_dictionaries(
    {},
    optional={name: field_value(name) for name in FIELDS} | {"extra": junk},
).map(lambda d: {**{k: v for k, v in VALID.items() if k not in d and k in ("lon", "lat")}, **d})


def qs(query: dict) -> str:
    """A query string; lone surrogates become the invalid UTF-8 a hostile client would send."""
    from urllib.parse import quote_from_bytes

    return "&".join(f"{k}={quote_from_bytes(str(v).encode('utf-8', 'surrogatepass'), safe='')}" for k, v in query.items())


def quote_path(text: str) -> str:
    from urllib.parse import quote_from_bytes

    return quote_from_bytes(text.encode("utf-8", "surrogatepass"), safe="")


def encode(obj) -> bytes:
    # allow_nan writes NaN/Infinity literals, which are not JSON; ensure_ascii=False lets lone surrogates through
    return json.dumps(obj, allow_nan=True, ensure_ascii=False).encode("utf-8", "surrogatepass")


# -------------------------------------------------------------------------- the batteries


@HYPOTHESIS
@given(data=submissions)
def test_submissions_with_junk_fields(hostile_app, data):
    response = check(
        hostile_app,
        "POST /api/proposals typed junk",
        lambda c: c.post("/api/proposals", data=encode(data), content_type="application/json"),
        write=True,
    )
    assert response.status_code in (201, 400, 413, 422)


@HYPOTHESIS
@given(names=st.lists(st.sampled_from(FIELDS), min_size=1, max_size=2, unique=True), data=st.data())
def test_valid_submissions_with_one_field_mutated(hostile_app, names, data):
    body = dict(VALID)
    for name in names:
        body[name] = data.draw(st.one_of(field_value(name), huge_numbers, st.sampled_from(NASTY)), label=name)
    response = check(
        hostile_app,
        "POST /api/proposals one field mutated",
        lambda c: c.post("/api/proposals", data=encode(body), content_type="application/json"),
        write=True,
    )
    assert response.status_code in (201, 400, 413, 422)


@HYPOTHESIS
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.sampled_from(
            [
                b"",
                b"{",
                b"}",
                b"[]",
                b"null",
                b"1",
                b'"x"',
                b"NaN",
                b"Infinity",
                b"-Infinity",
                b'{"lon": NaN, "lat": 55.66}',
                b'{"lon": Infinity, "lat": -Infinity}',
                b'{"lon": 1e999, "lat": 55.66}',
                b'{"lon": 13.35, "lon": "x", "lat": 55.66}',
                b'{"title": "a", "title": {"b": 1}}',
                b"\xef\xbb\xbf{}",
                b'{"lon": 13.35,}',
                b"{'lon': 13.35}",
                b'{"lon": 0x10}',
                b'{"a":' * 5000 + b"1" + b"}" * 5000,
                b"[" * 100_000,
                b'{"title": "\\ud800"}',
                b'{"title": "\\u0000"}',
                b"\x00" * 64,
                b'{"lon": 13.3514, "lat": 55.6652, "category": "traffic", "title": "\\ud83d", "description": "x"}',
            ]
        ),
        st.lists(
            st.sampled_from(
                [
                    '"lon": 13.3514',
                    '"lat": 55.6652',
                    '"lon": "13.35"',
                    '"category": "traffic"',
                    '"title": "t"',
                    '"title": null',
                    '"description": "d"',
                    '"consent": "yes"',
                    '"email": "a@b.se"',
                    '"name": 1',
                    '"lon": 1e400',
                    '"lat": NaN',
                    '"x": [1,{}]',
                ]
            ),
            max_size=9,
        ).map(lambda parts: ("{" + ", ".join(parts) + "}").encode()),
    )
)
def test_malformed_bodies(hostile_app, body):
    response = check(
        hostile_app,
        "POST /api/proposals raw bodies",
        lambda c: c.post("/api/proposals", data=body, content_type="application/json"),
        write=True,
    )
    assert response.status_code in (201, 400, 413, 422)


@HYPOTHESIS
@given(
    content_type=st.one_of(
        st.sampled_from(
            [
                "text/plain",
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
                "application/xml",
                "application/jsonp",
                "",
                "application/json; charset=latin-1",
                "application/json; charset=utf-16",
                "text/json",
                "application/geo+json",
                "application/vnd.api+json",
                "*/*",
                "application/json\x00",
            ]
        ),
        st.text(max_size=40).filter(lambda t: "\r" not in t and "\n" not in t),
    ),
    body=st.sampled_from([encode(VALID), b"lon=13.35&lat=55.66", b"<x/>", b""]),
)
def test_wrong_content_types(hostile_app, content_type, body):
    def send(c):
        return c.post("/api/proposals", data=body, headers={"Content-Type": content_type})

    response = check(hostile_app, "POST /api/proposals content types", send, write=True)
    assert response.status_code in (201, 400, 413, 415, 422)


@pytest.mark.parametrize("size", [64 * 1024 + 1, 1024 * 1024, 8 * 1024 * 1024])
def test_oversized_bodies(hostile_app, size):
    body = encode({**VALID, "description": "x" * size})
    response = check(
        hostile_app,
        "POST /api/proposals oversized",
        lambda c: c.post("/api/proposals", data=body, content_type="application/json"),
        write=True,
    )
    assert response.status_code == 413


@pytest.mark.parametrize("field, length", [("title", 121), ("description", 2001), ("name", 201), ("email", 255)])
def test_over_long_fields_are_refused_with_the_limit(hostile_app, field, length):
    value = "a" * (length - 8) + "@test.se" if field == "email" else "å" * length
    extra = {"consent": True} if field in ("name", "email") else {}
    response = check(
        hostile_app,
        "POST /api/proposals over-long",
        lambda c: c.post("/api/proposals", json={**VALID, **extra, field: value}),
        write=True,
    )
    assert response.status_code == 422
    assert str(length - 1) in response.get_json()["error"]["message"]


def _numbers():
    return st.one_of(
        huge_numbers.map(str),
        st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "", " ", "1e999", "0x10", "١٢", "13,3", "--1", "1_000"]),
    )


@HYPOTHESIS
@given(
    parts=st.lists(_numbers(), min_size=0, max_size=6),
    limit=st.one_of(st.none(), _numbers()),
    offset=st.one_of(st.none(), _numbers()),
    category=st.one_of(st.none(), nasty_text, st.just("traffic")),
    status=st.one_of(st.none(), nasty_text, st.just("received")),
)
def test_list_query_parameters(hostile_app, parts, limit, offset, category, status):
    query = {"bbox": ",".join(parts)} if parts else {}
    for name, value in (("limit", limit), ("offset", offset), ("category", category), ("status", status)):
        if value is not None:
            query[name] = value
    response = check(
        hostile_app, "GET /api/proposals query", lambda c: c.get("/api/proposals", query_string=qs(query)), write=False
    )
    assert response.status_code in (200, 400)


@pytest.mark.parametrize(
    "query",
    [
        {"bbox": "13.4,55.6,13.3,55.7"},
        {"bbox": "13.3,55.7,13.4,55.6"},
        {"bbox": "13.3,55.6,13.4,55.7,1"},
        {"bbox": "13.3,55.6,13.4"},
        {"bbox": ""},
        {"bbox": "a,b,c,d"},
        {"bbox": "-181,-91,181,91"},
        {"bbox": "nan,55.6,13.4,55.7"},
        {"limit": "-1"},
        {"limit": "0"},
        {"limit": "10001"},
        {"offset": "-5"},
        {"limit": "1e3"},
        {"limit": str(10**100)},
        {"category": "nope"},
        {"status": "deleted"},
    ],
)
def test_out_of_range_query_parameters_are_400(hostile_app, query):
    response = check(
        hostile_app, "GET /api/proposals out of range", lambda c: c.get("/api/proposals", query_string=query), write=False
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]


@HYPOTHESIS
@given(
    lon=st.one_of(st.none(), _numbers()),
    lat=st.one_of(st.none(), _numbers()),
    radius=st.one_of(st.none(), _numbers()),
    category=st.one_of(st.none(), nasty_text),
)
def test_nearby_query_parameters(hostile_app, lon, lat, radius, category):
    query = {k: v for k, v in (("lon", lon), ("lat", lat), ("radius", radius), ("category", category)) if v is not None}
    response = check(
        hostile_app, "GET /api/proposals/nearby", lambda c: c.get("/api/proposals/nearby", query_string=qs(query)), write=False
    )
    assert response.status_code in (200, 400)


@HYPOTHESIS
@given(
    public_id=st.one_of(nasty_text, st.text(max_size=200), st.integers(0, 2).map(lambda i: SEEDED[i])).filter(
        lambda s: "/" not in s and s not in ("", ".", "..")
    ),
    body=st.one_of(st.just(b"{}"), st.just(b""), st.binary(max_size=50)),
    token=st.one_of(st.none(), nasty_text, st.text(min_size=20, max_size=200)),
)
def test_unknown_proposal_ids_and_support_bodies(hostile_app, public_id, body, token):
    path = f"/api/proposals/{quote_path(public_id)}"

    def support(c):
        if token is not None:
            c.set_cookie("dialogkarta_token", token.encode("utf-8", "surrogatepass").decode("latin-1"))
        return c.post(path + "/support", data=body, content_type="application/json")

    assert check(hostile_app, "GET /api/proposals/<id>", lambda c: c.get(path), write=False).status_code in (200, 400, 404)
    assert check(hostile_app, "POST /api/proposals/<id>/support", support, write=True).status_code in (200, 400, 404)


@HYPOTHESIS
@given(
    name=st.one_of(nasty_text, st.text(max_size=100), st.sampled_from(LAYERS)).filter(
        lambda s: "/" not in s and s not in ("", ".", "..")
    ),
    lang=st.one_of(st.none(), nasty_text, st.sampled_from(["en", "sv", "xx", "*", "en;q=nan"])),
)
def test_layer_names_and_languages(hostile_app, name, lang):
    # A header cannot carry a line break (the server would see two headers); anything else goes.
    lang = lang.replace("\r", "").replace("\n", "") if lang else lang
    headers = {"Accept-Language": lang.encode("utf-8", "surrogatepass").decode("latin-1")} if lang else {}
    response = check(
        hostile_app, "GET /api/layers/<name>", lambda c: c.get(f"/api/layers/{quote_path(name)}", headers=headers), write=False
    )
    assert response.status_code in (200, 400, 404)


def test_valid_submission_with_unicode_edge_cases_is_stored_as_sent(hostile_app):
    text = "Cykel\u200bbana \U0001f6b2 vid \u05e9\u05dc\u05d5\u05dd \u202eRTL\u202c ok"
    response = check(
        hostile_app, "POST /api/proposals unicode", lambda c: c.post("/api/proposals", json={**VALID, "title": text}), write=True
    )
    assert response.status_code == 201
    assert response.get_json()["properties"]["title"] == text


@HYPOTHESIS
@given(
    collection=st.one_of(
        *[st.sampled_from(["proposals", "development-areas", "service-locations", "locality"])] * 4,
        nasty_text.filter(lambda t: t and "/" not in t and t not in (".", "..")),
    ),
    params=st.dictionaries(
        st.sampled_from(
            ["bbox", "bbox-crs", "crs", "limit", "offset", "after", "datetime", "f", "properties", "sortby", "filter", "lang"]
        ),
        st.one_of(
            _numbers(),
            nasty_text,
            st.sampled_from(
                [
                    "13.3,55.6,13.4,55.7",
                    "13.4,55.7,13.3,55.6",
                    "1,2,3,4,5",
                    "1,2,3,4,5,6",
                    "1,2,3",
                    "",
                    "http://www.opengis.net/def/crs/EPSG/0/3006",
                    "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                    "EPSG:4326",
                    "http://www.opengis.net/def/crs/EPSG/0/999999",
                    "2026-01-01T00:00:00Z/..",
                    "../..",
                    "2026-13-45",
                    "2026-01-01/2025-01-01",
                    "json",
                    "html",
                    "geojson",
                    "xml",
                    "-1",
                    "0",
                    "10001",
                    str(10**30),
                ]
            ),
        ),
        max_size=4,
    ),
)
def test_ogc_items_query_parameters(hostile_app, collection, params):
    path = f"/ogc/collections/{quote_path(collection)}/items"
    response = check(
        hostile_app,
        "GET /ogc/collections/<name>/items",
        lambda c: c.get(path, query_string=qs(params), headers={"Accept": "application/geo+json"}),
        write=False,
    )
    assert response.status_code == 200 or 400 <= response.status_code < 500


@HYPOTHESIS
@given(
    name=st.one_of(*[st.sampled_from(["proposals", "development-areas", "all"])] * 4, nasty_text).filter(
        lambda t: t and "/" not in t and t not in (".", "..")
    ),
    fmt=st.sampled_from(["geojson", "csv", "gpkg", "fgb"]),
    params=st.dictionaries(
        st.sampled_from(["crs", "bbox", "since", "until", "lang"]),
        st.one_of(_numbers(), nasty_text, st.sampled_from(["3006", "3008", "4326", "EPSG:3008", "13.3,55.6,13.4,55.7", "9999"])),
        max_size=3,
    ),
)
def test_public_export_parameters(hostile_app, name, fmt, params):
    path = f"/api/export/{quote_path(name)}.{fmt}"
    response = check(hostile_app, "GET /api/export/<name>.<fmt>", lambda c: c.get(path, query_string=qs(params)), write=False)
    assert response.status_code == 200 or 400 <= response.status_code < 500


def _admin_client(app):
    from dialogkarta.layers import accounts
    from dialogkarta.webmap import db

    with app.app_context(), db.transaction() as conn:
        user = accounts.get_user(conn, 1) or accounts.create_user(conn, "hostile-admin", "ett-långt-lösenord", "admin")
    client = app.test_client()
    with client.session_transaction() as session:
        session["staff_user_id"] = user.id
        session["staff_session_version"] = 1  # a new account's first session version
    return client


@HYPOTHESIS
@given(
    params=st.dictionaries(
        st.sampled_from(["category", "status", "channel", "department", "area", "date_from", "date_to", "lang"]),
        st.one_of(_numbers(), nasty_text, st.sampled_from(["2026-01-01", "2026-02-30", "traffic", "received", "9999-99-99"])),
        max_size=4,
    )
)
def test_planner_filters(hostile_app, params):
    client = _admin_client(hostile_app)
    response = check(
        hostile_app,
        "GET /planner/api/proposals (admin)",
        lambda c: client.get("/planner/api/proposals", query_string=qs(params), headers={"Accept": "application/json"}),
        write=False,
    )
    assert response.status_code < 500


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "2026-02-30"},
        {"date_to": "9999-99-99"},
        {"date_from": "2027-01-01", "date_to": "2026-01-01"},
        {"category": "\u202e\x00"},
        {"area": "x" * 5000},
        {"status": "nope", "channel": "<script>"},
    ],
)
def test_planner_report_filters(hostile_app, query):
    client = _admin_client(hostile_app)
    response = check(
        hostile_app,
        "GET /planner/report (admin)",
        lambda c: client.get("/planner/report", query_string=qs(query)),
        write=False,
        json_errors=False,
    )
    assert response.status_code < 500


@settings(HYPOTHESIS, max_examples=60)
@given(
    action=st.sampled_from(["answer", "forward", "status", "hide", "restore", "recompute"]),
    form=st.dictionaries(
        st.sampled_from(["body", "note", "department", "status", "reason"]),
        st.one_of(
            nasty_text, st.text(max_size=5000), st.sampled_from(["declined", "planned", "done", "received", "kommunkontoret", ""])
        ),
        max_size=3,
    ),
)
def test_planner_actions_with_junk_forms(hostile_app, action, form):
    """Staff forms (CSRF off in this app) with junk never 5xx; refusals leave the store as it was."""
    client = _admin_client(hostile_app)
    public_id = SEEDED[0]
    form = {k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for k, v in form.items()}
    response = check(
        hostile_app,
        "POST /planner/p/<id>/<action> (admin)",
        lambda c: client.post(f"/planner/p/{public_id}/{action}", data=form),
        write=True,
        json_errors=False,
    )
    assert response.status_code < 500


# ------------------------------------------------------------------------------ schemathesis


class _Served:
    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.mark.parametrize(
    "document, base, examples",
    [
        ("/api/openapi.json", "/api", 25),
        ("/ogc/api", "/ogc", 8),
    ],
    ids=["json-api", "ogc-api"],
)
def test_schemathesis_finds_no_server_error(hostile_app, document, base, examples):
    """Generate requests from an OpenAPI document for every operation; no 5xx, store unchanged on refusal."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck as HC, Phase, given as hgiven, settings as hsettings
    from schemathesis.checks import not_a_server_error

    served = _Served(hostile_app)
    failures, ran = [], Counter()
    try:
        schema = schemathesis.openapi.from_url(f"{served.url}{document}")
        started = time.monotonic()
        for result in schema.get_all_operations():
            operation = result.ok()

            @hsettings(
                max_examples=examples,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HC),
            )
            @hgiven(case=operation.as_strategy())
            def run(case):  # called at once, inside this iteration (so B023 is waived for this file)
                before = fingerprint(hostile_app)
                response = case.call(base_url=f"{served.url}{base}", timeout=30)
                ran[operation.label] += 1
                label = f"schemathesis {base} {operation.label}"
                CASES[label] += 1
                STATUSES.setdefault(label, Counter())[response.status_code] += 1
                if response.status_code >= 500:
                    SERVER_ERRORS[label] += 1
                    failures.append((operation.label, response.status_code, response.text[:300]))
                if response.status_code >= 400:
                    assert fingerprint(hostile_app) == before, f"{operation.label}: refused but store changed"
                case.validate_response(response, checks=(not_a_server_error,))

            run()
    finally:
        served.close()
    assert not failures, failures
    assert sum(ran.values()) >= 50, ran
    assert time.monotonic() - started < 60


# ----------------------------------------------------------- template injection (folium/branca)

SSTI = [
    "{{ lipsum.__name__ }}",  # evaluated, it prints generate_lorem_ipsum
    "{{ cycler.__init__.__globals__.os.popen(dict(id=1)|first).read() }}",  # evaluated, it runs `id`
    "{{ x(",  # a template syntax error: must not become a 500
    "{# comment",
]


@pytest.mark.parametrize("text", SSTI)
def test_map_pages_do_not_evaluate_text_as_templates(tmp_path, text):
    """Text that reaches a folium map (activity titles, imported layer names) is never run as Jinja."""
    import geopandas as gpd
    from dialogkarta.layers import accounts, activities, layer_store
    from dialogkarta.layers.locality import load_locality
    from dialogkarta.webmap import db

    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "i"),
            "SECRET_KEY": "ssti",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'ssti.sqlite'}",
            "RATELIMIT_ENABLED": False,
        }
    )
    locality = load_locality()
    for name in ("development-areas", "service-locations"):  # an imported layer with hostile names
        layer = next(candidate for candidate in locality.layers if candidate.name == name)
        frame = gpd.read_file(locality.directory / layer.path)
        frame["name"] = text
        with app.app_context(), db.transaction() as conn:
            layer_store.add_version(conn, name, layer_store.encode(frame, name), features=len(frame))
    with app.app_context():
        assert (db.registry().areas()["name"] == text).all()
    with app.app_context(), db.transaction() as conn:
        activities.create(
            conn,
            {"kind": "open_meeting", "title": text, "date": "2026-12-01", "status": "planned", "lon": 13.3514, "lat": 55.6652},
            role="planner",
        )
        planner = accounts.create_user(conn, "ssti-planner", "ett-långt-lösenord", "planner").id
    client = app.test_client()
    pages = ["/", "/activity-plan", "/activity-plan/1"]
    bodies = [client.get(path) for path in pages]
    with client.session_transaction() as session:
        session["staff_user_id"] = planner
        session["staff_session_version"] = 1  # a new account's first session version
    bodies += [client.get("/planner/"), client.get("/planner/new"), client.get("/activity-plan/1/edit")]
    for response in bodies:
        CASES["map pages template injection"] += 1
        assert response.status_code == 200, response.request.path
        body = response.get_data(as_text=True)
        assert "uid=" not in body and "generate_lorem_ipsum" not in body


@pytest.mark.parametrize("path", ["/", "/activity-plan"])
def test_drawing_a_map_installs_the_template_injection_guard(tmp_path, monkeypatch, path):
    """The guard is put in force by the code that builds maps, not by whichever module happens to import folium."""
    import branca.element
    import folium.features
    import folium.map

    from dialogkarta.webmap import folium_render

    for module in (branca.element, folium.map, folium.features):
        monkeypatch.setattr(module, "Element", folium_render.Element)  # the original, unguarded class
    assert not folium_render.installed()
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "i"),
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'guard.sqlite'}",
        }
    )
    assert app.test_client().get(path).status_code == 200
    assert folium_render.installed()

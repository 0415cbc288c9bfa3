"""Regenerate Dalby's illustrative sketch layers from the metre offsets written below.

No official geometry for Dalby's participation boundary, development areas or most service
locations is reachable, so these layers are sketches placed by their *described* relative
positions (see ../README.md and the facts each feature's ``basis`` quotes). Coordinates are
written here in SWEREF 99 TM (EPSG:3006) and converted to WGS84 with pyproj. Verified points
(Dalby kyrka, Dalby Söderskog) are copied from dalby/verified/, not sketched.

Run: python data/tools/sketch_dalby.py   (rewrites data/dalby/*.geojson sketch files)
"""

from pathlib import Path

import orjson
import shapely
from pyproj import Transformer

OUT = Path(__file__).resolve().parents[1] / "dalby"
TO_WGS84 = Transformer.from_crs("EPSG:3006", "EPSG:4326", always_xy=True)
FACTS = "Lund kommun via shared/data/dalby-facts.md"

# Verified WGS84 points (dalby/verified/dalby_reference_points.geojson).
KYRKA = (13.344167, 55.664444)
SODERSKOG = (13.329722, 55.675556)


def wgs(x, y):
    lon, lat = TO_WGS84.transform(x, y)
    return round(lon, 6), round(lat, 6)


def polygon(ring_3006):
    ring = [wgs(x, y) for x, y in ring_3006]
    poly = shapely.orient_polygons(shapely.Polygon(ring), exterior_cw=False)
    return shapely.geometry.mapping(poly)


def point(lonlat):
    return {"type": "Point", "coordinates": list(lonlat)}


def collection(name, note, features):
    return {"type": "FeatureCollection", "name": name, "_note": note, "features": features}


LOCALITY_RING = [
    (394450, 6170650),
    (394450, 6171800),
    (395550, 6171800),
    (396300, 6171250),
    (397400, 6171100),
    (398350, 6170650),
    (398450, 6169700),
    (397950, 6168950),
    (396800, 6168700),
    (395600, 6168900),
    (395000, 6169400),
    (394700, 6170000),
]

AREAS = [
    (
        "paskaganget-sodra",
        "Påskagänget södra – Dalby trädgårdsstad",
        "housing",
        "detailed_plan",
        "Dalby 63:105 (PÄ 04/2024)",
        "samråd avslutat 2025-10-02",
        [(397450, 6169250), (398100, 6169300), (398150, 6169800), (397600, 6169850), (397400, 6169600)],
        "Detaljplan Dalby 63:105: ny trädgårdsstad i södra delen av Påskagänget; samråd avslutat 2025-10-02 (Lund kommun). Läge: söder om Påskagänget, öster om Tegelbruksparken.",
    ),
    (
        "kvarnskon-vattenrannan",
        "Kvarnskon–Vattenrännan",
        "housing",
        "under_construction",
        None,
        "byggs i etapper, klart 2026",
        [(396550, 6169250), (397250, 6169250), (397300, 6169700), (396650, 6169750), (396500, 6169500)],
        "Nya bostäder mellan Veberödsvägen, Pinnmöllevägen och Östra Möllavägen, med ny busshållplats och torg vid Veberödsvägen; byggs i etapper, klart 2026 (Lund kommun).",
    ),
    (
        "stationsomradet",
        "Stationsområdet i Dalby",
        "mixed_use",
        "comprehensive_plan",
        "Översiktsplan för Lunds kommun 2018",
        "långsiktigt, kopplat till en möjlig station",
        [(396150, 6170380), (396950, 6170420), (396950, 6170720), (396200, 6170700)],
        "Utpekat i översiktsplanen 2018 bland de större områdena för hållbar stadsutveckling; kopplat till en möjlig framtida station på Simrishamnsbanan (ingen stationsplats publicerad).",
    ),
    (
        "hagalund",
        "Hagalund",
        "housing",
        "proposal",
        "Förslag i samrådet om översiktsplan 2025",
        "osäker; områdets antagandestatus obekräftad",
        [(395050, 6170450), (395750, 6170450), (395800, 6170950), (395150, 6171000)],
        "Utvecklingsförslag som fick många synpunkter i samrådet om översiktsplanen 2025; nordvästra Dalby nära Dalby Söderskog. Antagandestatus obekräftad.",
    ),
]

# (id, name, kind, department, SWEREF 99 TM x, y, basis)
SERVICES = [
    (
        "bibliotek",
        "Dalby bibliotek och medborgarcenter",
        "library",
        "kultur_fritid",
        395960,
        6170060,
        "Allégatan 1 A, i Skjutsstallarna (1907), centrala Dalby.",
    ),
    (
        "allaktivitetshuset",
        "Allaktivitetshuset",
        "youth_centre",
        "kultur_fritid",
        395610,
        6170150,
        "I gamla Dalby skola, tvärs över gatan från parken Trekanten.",
    ),
    ("trekanten", "Trekanten", "park", "tekniska", 395630, 6170060, "Central park, ombyggd 2020–21."),
    (
        "tegelbruksparken",
        "Tegelbruksparken",
        "park",
        "tekniska",
        397200,
        6170000,
        "Mellan gamla östra Dalby och Påskagänget; tidigare deponi under sanering.",
    ),
    ("norrevangsparken", "Norrevångsparken", "park", "tekniska", 396450, 6170850, "Park i norra Dalby."),
    (
        "busstation",
        "Dalby busstation",
        "bus_stop",
        "skanetrafiken",
        395900,
        6169920,
        '"Dalby busstation (Lund kn)", intill Dalby Gästis och Dalby kyrka; linjer till Lund C.',
    ),
    (
        "hpl-soderskog",
        "Dalby Söderskog (hållplats)",
        "bus_stop",
        "skanetrafiken",
        395350,
        6170700,
        "Närmaste hållplats för nationalparken Dalby Söderskog.",
    ),
    (
        "hpl-veberodsvagen",
        "Veberödsvägen (ny hållplats)",
        "bus_stop",
        "skanetrafiken",
        396750,
        6169480,
        "Ny hållplats med torg på Veberödsvägen, del av Kvarnskon–Vattenrännan.",
    ),
    ("nyvangskolan", "Nyvångskolan", "school", "utbildning", 396500, 6170280, "Grundskola F–9."),
    (
        "hagalundskolan",
        "Hagalundskolan",
        "school",
        "utbildning",
        395450,
        6170560,
        "Grundskola F–6 nära Dalby Söderskog, nordvästra Dalby.",
    ),
    (
        "paskagangets-skola",
        "Påskagängets skola",
        "school",
        "utbildning",
        397300,
        6169720,
        "F–6, startade 2018 i f.d. Kattfotens förskola; permanent plats väster om Påskagänget, infart via Pinnmöllevägen.",
    ),
    ("mandelblommans-forskola", "Mandelblommans förskola", "preschool", "utbildning", 396250, 6169420, "Förskola i södra Dalby."),
    ("idrottsplats", "Dalby idrottsplats", "sports", "kultur_fritid", 396900, 6170480, "Idrottsplats."),
    ("dalbybadet", "Dalbybadet", "sports", "kultur_fritid", 396780, 6170330, "Simhall."),
    ("pinnmollan", "Pinnmöllan", "allotment", "tekniska", 397050, 6169150, "Koloniområde vid Pinnmöllevägen."),
    ("traffpunkt", "Träffpunkt Dalby", "meeting_place", "kultur_fritid", 396050, 6170120, "Mötesplats i centrala Dalby."),
    (
        "norreskog",
        "Dalby Norreskog naturreservat",
        "nature",
        "tekniska",
        395900,
        6171450,
        "Naturreservat (74 ha) nordost om Söderskog; med betesmarken Hästhagen kallas helheten Dalby Hage.",
    ),
    ("hasthagen", "Hästhagen", "nature", "tekniska", 395500, 6171150, "Betesmark mellan Söderskog och Norreskog (Dalby Hage)."),
    (
        "knivsasen",
        "Knivsåsens naturreservat",
        "nature",
        "tekniska",
        398900,
        6170150,
        "Naturreservat med det gamla vattenfyllda stenbrottet, cirka 2 km öster om Dalby.",
    ),
]


def main():
    locality = collection(
        "locality",
        "Illustrative sketch of Dalby's participation boundary; not an official boundary.",
        [
            {
                "type": "Feature",
                "id": "dalby",
                "geometry": polygon(LOCALITY_RING),
                "properties": {
                    "id": "dalby",
                    "name": "Dalby",
                    "kind": "participation_boundary",
                    "data_status": "illustrative",
                    "basis": "Skiss runt de verifierade punkterna (Dalby kyrka, SCB:s tätortspunkt 1281TB101, 379 ha bebyggd mark 2020) "
                    "med marginal som når de planerade områdena och Dalby Söderskog.",
                },
            }
        ],
    )
    areas = collection(
        "development_areas",
        "Illustrative sketches; not the municipality's plan boundaries.",
        [
            {
                "type": "Feature",
                "id": ident,
                "geometry": polygon(ring),
                "properties": {
                    "id": ident,
                    "name": name,
                    "kind": kind,
                    "status": status,
                    "plan_ref": plan_ref,
                    "period": period,
                    "data_status": "illustrative",
                    "basis": f"{basis} Källa: {FACTS}.",
                },
            }
            for ident, name, kind, status, plan_ref, period, ring, basis in AREAS
        ],
    )
    services = [
        {
            "type": "Feature",
            "id": "kyrka",
            "geometry": point(KYRKA),
            "properties": {
                "id": "kyrka",
                "name": "Dalby kyrka (Heligkorskyrkan)",
                "kind": "church",
                "department": "kommunkontoret",
                "data_status": "verified",
                "basis": "Wikipedia/Wikidata Q4992495, 55°39′52″N 13°20′39″E; se verified/PROVENANCE.md.",
            },
        },
        {
            "type": "Feature",
            "id": "soderskog",
            "geometry": point(SODERSKOG),
            "properties": {
                "id": "soderskog",
                "name": "Dalby Söderskog nationalpark",
                "kind": "nature",
                "department": "tekniska",
                "data_status": "verified",
                "basis": "Referenspunkt för nationalparken (36 ha, 1918), Wikipedia; se verified/PROVENANCE.md.",
            },
        },
    ]
    services += [
        {
            "type": "Feature",
            "id": ident,
            "geometry": point(wgs(x, y)),
            "properties": {
                "id": ident,
                "name": name,
                "kind": kind,
                "department": dept,
                "data_status": "illustrative",
                "basis": f"{basis} Namn och relativt läge: {FACTS}; koordinaten är en skiss.",
            },
        }
        for ident, name, kind, dept, x, y, basis in SERVICES
    ]
    for filename, data in (
        ("locality.geojson", locality),
        ("development_areas.geojson", areas),
        (
            "service_locations.geojson",
            collection("service_locations", "Names verified; coordinates sketched unless data_status is verified.", services),
        ),
    ):
        (OUT / filename).write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
        print(f"wrote {filename}: {len(data['features'])} features")


if __name__ == "__main__":
    main()

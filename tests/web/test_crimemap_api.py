"""The crime map through the JSON API (vigie.web.routes_crimemap), on a small synthetic set of incidents
around Nîmes: only analysts may read it or import into it, every call is audited, the GeoJSON layers
download as files, the report is HTML or PDF, and a hostile import is refused whole (bad rows, too
large, not UTF-8, twice) with nothing stored."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest
from builders import logged_in
from fastapi.testclient import TestClient
from test_web_api import PW, cheap_hashing  # noqa: F401  (fixture: fast password hashing)

from vigie.accounts import users
from vigie.alerts import store as alerts
from vigie.audit.log import query as audit_query
from vigie.audit.log import verify
from vigie.config import CameraConfig, CrimeMapConfig, Open311Config, Open311Service, SiteConfig
from vigie.crimemap import importer
from vigie.rules.base import Event
from vigie.services import Services
from vigie.store.sqlite import SQLiteStore
from vigie.times import iso
from vigie.web import routes_crimemap
from vigie.web.app import COOKIE, create_app

ROLES = ("operator", "investigator", "auditor", "admin", "analyst", "moderator")
NOW = datetime.now(timezone.utc).replace(microsecond=0)
ARENES = (43.8349, 4.3596)

# Two communes as squares: Nîmes around the centre, Caissargues to the south.
COMMUNES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"nom": "Nîmes"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[4.30, 43.80], [4.42, 43.80], [4.42, 43.88], [4.30, 43.88], [4.30, 43.80]]],
            },
        },
        {
            "type": "Feature",
            "properties": {"nom": "Caissargues"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[4.30, 43.74], [4.42, 43.74], [4.42, 43.80], [4.30, 43.80], [4.30, 43.74]]],
            },
        },
    ],
}

# (method, path) of every crime map route, with the permission each needs.
MAP_ROUTES = [
    ("get", "/api/crimemap/summary"),
    ("get", "/api/crimemap/incidents"),
    ("get", "/api/crimemap/density"),
    ("get", "/api/crimemap/hotspots"),
    ("get", "/api/crimemap/near-repeat"),
    ("get", "/api/crimemap/time-pattern"),
    ("get", "/api/crimemap/communes"),
    ("get", "/api/crimemap/report"),
]
IMPORT_ROUTES = [
    ("post", "/api/crimemap/imports"),
    ("get", "/api/crimemap/imports"),
    ("post", "/api/crimemap/imports/1/remove"),
]


def incidents_csv(n: int = 60, seed: int = 1) -> bytes:
    """n incidents of the last 60 days: two thirds packed around the Arènes, the rest over the city."""
    rng = random.Random(seed)
    lines = ["occurred_at,category,lat,lon,commune,ref"]
    for k in range(n):
        packed = k % 3 != 0
        lat = ARENES[0] + rng.gauss(0, 0.0008 if packed else 0.01)
        lon = ARENES[1] + rng.gauss(0, 0.0010 if packed else 0.012)
        when = NOW - timedelta(days=rng.uniform(1, 60))
        lines.append(
            f"{iso(when)},{'vol' if k % 2 else 'dégradation'},{lat:.6f},{lon:.6f},{'Nîmes' if k % 4 else ''},PV-{k}"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.fixture
def cm(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    communes = tmp_path / "communes.geojson"
    communes.write_text(json.dumps(COMMUNES), encoding="utf-8")
    site = SiteConfig(
        language="en",  # the assertions read English messages (the French ones: tests/web/test_i18n_ui.py)
        name="Nîmes test",
        timezone="Europe/Paris",
        crime_map=CrimeMapConfig(communes=str(communes), commune_property="nom", cell_m=200, permutations=99),
        open311=Open311Config(
            services=[Open311Service(code="graffiti", name="Graffiti", incident_category="dégradation")]
        ),
        cameras=[CameraConfig(id="cam-arenes", name="Arènes", lat=ARENES[0], lon=ARENES[1], commune="Nîmes")],
    )
    store = SQLiteStore(tmp_path)
    store.upsert_cameras(site.cameras)
    for role in ROLES:
        users.create_user(store, role, role, PW)
    app = create_app(Services(store=store, site=site))
    yield {"store": store, "app": app, "site": site}
    store.close()


def client(cm, role: str | None = None) -> TestClient:
    return logged_in(cm["app"], role, PW)


def upload(c: TestClient, data: bytes, name: str = "vols.csv", **form):
    return c.post(
        "/api/crimemap/imports", files={"file": (name, data, "text/csv")}, data={"source": "Police municipale", **form}
    )


def stored(store) -> tuple[int, int]:
    with store.read() as conn:
        return (
            conn.execute("SELECT count(*) FROM incident_imports").fetchone()[0],
            conn.execute("SELECT count(*) FROM incidents").fetchone()[0],
        )


@pytest.fixture
def seeded(cm):
    """60 imported incidents, one validated and one dismissed alert, one accepted citizen report."""
    c = client(cm, "analyst")
    r = upload(c, incidents_csv())
    assert r.status_code == 201, r.text
    store = cm["store"]
    events = [
        Event(
            f"r{k}",
            "gathering",
            "cam-arenes",
            NOW - timedelta(hours=k + 1),
            NOW - timedelta(hours=k),
            (k,),
            (1.0, 2.0),
            {},
        )
        for k in (1, 2)
    ]
    a1, a2 = alerts.record(store, events)
    alerts.decide(store, a1, "validate", "operator", "operator")
    alerts.decide(store, a2, "dismiss", "operator", "operator")
    when = iso(NOW - timedelta(days=3))
    store.write(
        lambda conn: conn.execute(
            "INSERT INTO citizen_reports (service_code, lat, lon, requested_at, updated_at, moderation, moderated_at, token_hash,"
            " client_hash) VALUES ('graffiti', 43.8352, 4.3601, ?, ?, 'accepted', ?, 't1', 'c1')",
            (when, when, when),
        )
    ).result()
    return {**cm, "client": c, "import": r.json(), "alert": a1}


# --- who may ------------------------------------------------------------------------------------------------
def test_every_crime_map_route_needs_a_session(cm):
    c = TestClient(cm["app"])
    for method, path in MAP_ROUTES + IMPORT_ROUTES:
        r = getattr(c, method)(path)
        assert r.status_code == 401 and "not logged in" in r.json()["error"], path


def test_only_analysts_may_see_the_crime_map_or_import(seeded):
    for role in (r for r in ROLES if r != "analyst"):
        c = client(seeded, role)
        for method, path in MAP_ROUTES + IMPORT_ROUTES:
            r = upload(c, b"x") if path == "/api/crimemap/imports" and method == "post" else getattr(c, method)(path)
            assert r.status_code == 403, (role, path, r.text)
            assert role in r.json()["error"] and (
                "crime_map" in r.json()["error"] or "incidents_import" in r.json()["error"]
            )
        # the role is checked before the filters: a refused role learns nothing from its parameters
        r = c.get("/api/crimemap/summary", params={"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"})
        assert r.status_code == 403
    assert stored(seeded["store"]) == (1, 60)
    assert not [
        e
        for e in audit_query(seeded["store"], limit=100_000)
        if e.role != "analyst"
        and e.action in ("view_crime_map", "crime_report", "incidents_import", "incidents_remove")
    ]


def test_the_analyst_may_use_every_route_and_each_call_is_audited(seeded):
    c, store = seeded["client"], seeded["store"]
    expected = {"/api/crimemap/report": "crime_report"}
    for method, path in MAP_ROUTES + [("get", "/api/crimemap/imports")]:
        before = len(audit_query(store, limit=100_000))
        r = getattr(c, method)(path)
        assert r.status_code == 200, (path, r.text)
        entries = audit_query(store, limit=100_000)[before:]
        assert [(e.user, e.action) for e in entries] == [("analyst", expected.get(path, "view_crime_map"))], path
    r = c.post(f"/api/crimemap/imports/{seeded['import']['id']}/remove")
    assert r.status_code == 200 and r.json()["removed_rows"] == 60
    assert audit_query(store, action="incidents_remove")[0].details_dict()["rows"] == 60
    assert verify(store).ok


# --- the map ----------------------------------------------------------------------------------------------------
def test_the_summary_counts_each_layer_and_says_what_the_map_is_not(seeded):
    s = seeded["client"].get("/api/crimemap/summary").json()
    assert s["by_layer"] == {"imported": 60, "alerts": 1, "citizen": 1} and s["total"] == 62
    assert s["by_layer_category"]["alerts"] == {"gathering": 1}
    assert s["by_layer_category"]["citizen"] == {"dégradation": 1}  # the service's incident_category
    assert s["categories"] == ["dégradation", "gathering", "vol"] and s["communes"] == ["Nîmes"]
    assert s["timezone"] == "Europe/Paris" and s["layers"] == ["imported", "alerts", "citizen"]
    assert (
        "never people" in s["statement"]
        and "art. 5(1)(d)" in s["statement"]
        and "Hot spots are areas" in s["statement"]
    )
    entry = audit_query(seeded["store"], action="view_crime_map")[-1].details_dict()
    assert (
        entry["endpoint"] == "summary"
        and entry["incidents"] == 62
        and entry["layers"] == ["imported", "alerts", "citizen"]
    )


def test_filters_choose_layers_categories_communes_and_a_period(seeded):
    c = seeded["client"]
    get = lambda **p: c.get("/api/crimemap/summary", params=p).json()  # noqa: E731
    assert get(layer="alerts")["by_layer"] == {"imported": 0, "alerts": 1, "citizen": 0}
    assert get(layer=["alerts", "citizen"])["total"] == 2
    assert get(category="gathering")["total"] == 1
    assert set(get(category=["vol", "gathering"])["categories"]) == {"vol", "gathering"}
    assert get(commune="Nîmes")["by_layer"]["citizen"] == 0  # a citizen report names no commune
    recent = get(**{"from": (NOW - timedelta(days=2)).isoformat()})
    assert recent["by_layer"]["alerts"] == 1 and recent["by_layer"]["citizen"] == 0
    old = get(**{"to": (NOW - timedelta(days=10)).isoformat()})
    assert old["by_layer"]["alerts"] == 0 and 0 < old["total"] < 60
    audit = audit_query(seeded["store"], action="view_crime_map")[-1].details_dict()
    assert audit["to"] is not None and audit["from"] is None
    everything = get(**{"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T23:59:59.999999Z"})  # the calendar's edges
    assert everything["total"] == get()["total"]


MALFORMED = [
    ({"layer": "video"}, "layer.0"),
    ({"from": "2026-01-01T00:00:00"}, "from"),
    ({"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
    ({"from": "yesterday"}, "from"),
    ({"to": "9999-12-31T23:59:59-23:00"}, "to"),
    ({"category": "x" * 300}, "category"),
]


def test_malformed_filters_are_422_naming_the_field(seeded):
    for params, field in MALFORMED:
        r = seeded["client"].get("/api/crimemap/summary", params=params)
        assert r.status_code == 422 and r.json()["field"] == field, (params, r.text)


def test_incidents_are_geojson_points_capped_and_said_so(seeded, monkeypatch):
    c = seeded["client"]
    fc = c.get("/api/crimemap/incidents").json()
    assert fc["type"] == "FeatureCollection" and fc["total"] == 62 and not fc["truncated"]
    props = {f["properties"]["layer"]: f["properties"] for f in fc["features"]}
    assert props["alerts"] == {
        "id": f"alerts:{seeded['alert']}",
        "layer": "alerts",
        "category": "gathering",
        "occurred_at": props["alerts"]["occurred_at"],
        "commune": "Nîmes",
        "source": "cam-arenes",
    }
    assert props["citizen"]["source"] == "open311"
    assert [f["geometry"]["coordinates"] for f in fc["features"] if f["properties"]["layer"] == "alerts"] == [
        [ARENES[1], ARENES[0]]
    ]
    monkeypatch.setattr(routes_crimemap, "MAX_FEATURES", 10)
    fc = c.get("/api/crimemap/incidents").json()
    assert fc["truncated"] and len(fc["features"]) == 10 and fc["total"] == 62


def test_each_geojson_layer_downloads_as_a_file(seeded):
    for layer in ("incidents", "density", "hotspots", "communes"):
        r = seeded["client"].get(f"/api/crimemap/{layer}", params={"download": "true"})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/geo+json"
        day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        assert r.headers["content-disposition"] == f'attachment; filename="vigie-{layer}-{day}.geojson"'
        data = json.loads(r.content)
        assert data["type"] == "FeatureCollection" and data["features"] and "never people" in data["statement"]
        entry = audit_query(seeded["store"], action="view_crime_map")[-1].details_dict()
        assert entry["download"] is True and entry["endpoint"] == layer


def test_the_analyses_use_the_sites_settings(seeded):
    c = seeded["client"]
    d = c.get("/api/crimemap/density", params={"bandwidth_m": 150}).json()
    assert d["bandwidth_m"] == 150 and d["bandwidth_method"] == "given" and d["n"] == 62
    h = c.get("/api/crimemap/hotspots").json()
    assert h["cell_m"] == 200 and h["permutations"] == 99  # the site's
    assert any(f["properties"]["class"].startswith("hot") for f in h["features"])
    assert c.get("/api/crimemap/hotspots", params={"cell_m": 300}).json()["cell_m"] == 300
    assert c.get("/api/crimemap/hotspots", params={"cell_m": 5}).status_code == 422
    nr = c.get("/api/crimemap/near-repeat").json()
    assert "knox" in nr and "table" in nr
    tp = c.get("/api/crimemap/time-pattern").json()
    assert tp["timezone"] == "Europe/Paris" and sum(map(sum, tp["counts"])) == 62
    com = c.get("/api/crimemap/communes").json()
    counts = {f["properties"]["nom"]: f["properties"]["count"] for f in com["features"]}
    assert counts["Nîmes"] + counts["Caissargues"] + com["unassigned"] == 62 and counts["Nîmes"] >= 40


def test_an_analysis_of_no_incidents_is_refused_by_name(seeded):
    for path in ("density", "hotspots", "near-repeat", "time-pattern", "communes", "report"):
        r = seeded["client"].get(f"/api/crimemap/{path}", params={"category": "nothing"})
        assert r.status_code == 400, path
        assert r.json()["error"].startswith("no incidents match (layers imported, alerts, citizen; categories nothing)")


def test_no_incidents_is_an_empty_summary_and_map(cm):
    c = client(cm, "analyst")
    s = c.get("/api/crimemap/summary").json()
    assert s["total"] == 0 and s["period"] is None
    fc = c.get("/api/crimemap/incidents").json()
    assert fc["features"] == [] and not fc["truncated"]


def test_the_report_is_html_or_pdf_and_audited(seeded):
    c = seeded["client"]
    r = c.get("/api/crimemap/report", params={"format": "html", "title": "Conseil de sécurité, mars"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Conseil de sécurité, mars" in r.text and "default-src 'none'" in r.headers["content-security-policy"]
    # the site's commune polygons name their communes under "nom": the report's table uses those names
    assert "<td>Nîmes</td>" in r.text and "<td>Caissargues</td>" in r.text and "<td>?</td>" not in r.text
    r = c.get("/api/crimemap/report", params={"format": "pdf", "layer": "imported"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert r.headers["content-disposition"].startswith('attachment; filename="vigie-crime-report-')
    entries = audit_query(seeded["store"], action="crime_report")
    assert [e.details_dict()["format"] for e in entries] == ["html", "pdf"]
    assert entries[1].details_dict()["incidents"] == 60 and entries[1].details_dict()["layers"] == ["imported"]


# --- imports -------------------------------------------------------------------------------------------------------
def test_an_import_answers_its_summary_and_is_listed(cm):
    c = client(cm, "analyst")
    r = upload(c, b"occurred_at,category,x,y\n2026-03-01T10:00,vol,809358.8,6304929.1\n", "l93.csv", crs="EPSG:2154")
    assert r.status_code == 201, r.text
    s = r.json()
    assert (s["rows"], s["crs"], s["timezone"], s["local_times"], s["source"]) == (
        1,
        "EPSG:2154",
        "Europe/Paris",
        1,
        "Police municipale",
    )
    assert s["period"]["from"] == "2026-03-01T09:00:00.000000Z"
    listed = c.get("/api/crimemap/imports").json()
    assert (
        listed["total"] == 1
        and listed["items"][0]["sha256"] == s["sha256"]
        and listed["items"][0]["imported_by"] == "analyst"
    )
    [entry] = audit_query(cm["store"], action="incidents_import")
    assert entry.details_dict()["rows"] == 1 and entry.details_dict()["sha256"] == s["sha256"]


def test_a_csv_with_a_bad_row_is_refused_whole_naming_row_and_field(cm):
    c = client(cm, "analyst")
    data = (
        b"occurred_at,category,lat,lon\n2026-03-01T10:00Z,vol,43.83,4.36\n2026-03-01T11:00Z,vol,43.83,east\n"
        b"2026-03-01T12:00Z,,43.83,4.36\n"
    )
    r = upload(c, data)
    assert r.status_code == 400
    body = r.json()
    assert body["problems"] == ["row 3, field lon: 'east' is not a number", "row 4, field category: empty"]
    assert body["problem_count"] == 2 and "nothing was imported" in body["error"]
    assert stored(cm["store"]) == (0, 0)
    [entry] = audit_query(cm["store"], action="incidents_import")  # the refused attempt is on record
    assert entry.details_dict()["problems"] == 2 and "refused" in entry.details_dict()


def test_an_oversize_upload_is_413_and_stores_nothing(cm, monkeypatch):
    monkeypatch.setattr(importer, "MAX_BYTES", 1000)
    r = upload(client(cm, "analyst"), incidents_csv(60))
    assert r.status_code == 413 and "above the limit of 1,000 bytes" in r.json()["error"]
    assert stored(cm["store"]) == (0, 0)


def post_scope(path: str, *headers: tuple[bytes, bytes]) -> dict:
    """An ASGI scope for a multipart POST to `path` with these headers besides host and content type."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
        "headers": [(b"host", b"testserver"), (b"content-type", b"multipart/form-data; boundary=x"), *headers],
    }


def test_a_body_declared_above_the_limit_is_413_before_a_byte_of_it_is_read(cm):
    """Straight to the ASGI app: a 30 GB upload announced in Content-Length is refused from the headers alone."""
    import asyncio

    read = []

    async def receive():  # the body: never asked for
        read.append(True)
        return {"type": "http.request", "body": b"x" * 1024, "more_body": True}

    sent = []

    async def send(message):
        sent.append(message)

    cookie = client(cm, "analyst").cookies.get(COOKIE)
    for path, declared in (("/api/crimemap/imports", 30 * 1024**3), ("/api/search", 5 * 1024 * 1024)):
        read.clear()
        sent.clear()
        scope = post_scope(
            path, (b"content-length", str(declared).encode()), (b"cookie", f"{COOKIE}={cookie}".encode())
        )
        asyncio.run(cm["app"](scope, receive, send))
        assert sent[0]["status"] == 413 and not read
        assert f"{declared:,} bytes, above the" in json.loads(sent[1]["body"])["error"]
    assert stored(cm["store"]) == (0, 0)

    # Chunked (no declared length), and no session at all: counted as it comes, refused once past the limit.
    for path, limit in (("/api/crimemap/imports", importer.MAX_BYTES + 1024 * 1024), ("/api/search", 1024 * 1024)):
        read.clear()
        sent.clear()
        scope = post_scope(path, (b"transfer-encoding", b"chunked"))

        async def endless():  # a file part that never ends, 1 MiB a message: only the limit stops it
            read.append(True)
            head = (
                (
                    b'--x\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
                    b"Content-Type: text/csv\r\n\r\n"
                )
                if len(read) == 1
                else b""
            )
            return {"type": "http.request", "body": head + b"x" * (1024 * 1024 - len(head)), "more_body": True}

        asyncio.run(cm["app"](scope, endless, send))
        assert sent[0]["status"] == 413 and "passed the" in json.loads(sent[1]["body"])["error"], (
            path,
            sent[1]["body"][:300],
        )
        assert len(read) == limit // (1024 * 1024) + 1  # read up to just past the limit, no further
    assert stored(cm["store"]) == (0, 0)


def test_a_file_not_in_utf8_is_400(cm):
    r = upload(
        client(cm, "analyst"),
        "occurred_at,category,lat,lon,commune\n2026-03-01T10:00Z,vol,43.8,4.3,Nîmes\n".encode("cp1252"),
    )
    assert r.status_code == 400 and "not UTF-8" in r.json()["error"]
    assert stored(cm["store"]) == (0, 0)


def test_the_same_file_twice_is_409_naming_the_first_import(cm):
    c = client(cm, "analyst")
    first = upload(c, incidents_csv(5)).json()
    r = upload(c, incidents_csv(5), "again.csv")
    assert (
        r.status_code == 409 and r.json()["import_id"] == first["id"] and f"import {first['id']}" in r.json()["error"]
    )
    assert stored(cm["store"]) == (1, 5)


def test_malformed_imports_and_removals(cm):
    c = client(cm, "analyst")
    assert c.post("/api/crimemap/imports", data={"source": "x"}).status_code == 422  # no file
    r = upload(c, incidents_csv(3), crs="EPSG:0")
    assert r.status_code == 400 and "EPSG:0" in r.json()["error"]
    assert c.post("/api/crimemap/imports/999/remove").status_code == 404
    assert c.post("/api/crimemap/imports/0/remove").status_code == 422
    c.cookies.set(COOKIE, "forged")
    assert upload(c, incidents_csv(3)).status_code == 401

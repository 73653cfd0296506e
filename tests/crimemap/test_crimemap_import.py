"""Incident imports for the crime map (vigie.crimemap.importer) and the three layers (vigie.crimemap.layers):
CSV and GeoJSON, WGS 84 and Lambert-93, every refusal naming its row and field, all of a file or nothing,
duplicates, removal, validated alerts at their camera, accepted citizen reports, filters; and the CLI."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from pyproj import Geod, Transformer

from vigie.alerts import store as alerts
from vigie.audit.log import query as audit_query
from vigie.audit.log import verify
from vigie.config import CameraConfig, Open311Config, Open311Service, SiteConfig
from vigie.crimemap import importer
from vigie.crimemap.importer import (
    AlreadyImported,
    FileTooLarge,
    ImportNotFound,
    ImportRefused,
    import_file,
    list_imports,
    remove_import,
)
from vigie.crimemap.incidents import LAYERS, CrimeMapError
from vigie.crimemap.layers import Filters, categories_and_counts, feature_collection, load_incidents
from vigie.rules.base import Event
from vigie.store.sqlite import SQLiteStore
from vigie.times import iso

ARENES = (43.8349, 4.3596)  # Nîmes, les Arènes (lat, lon)
L93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
GEOD = Geod(ellps="WGS84")
SITE = SiteConfig(
    name="Nîmes test",
    timezone="Europe/Paris",
    cameras=[
        CameraConfig(id="cam-arenes", name="Arènes", lat=43.8349, lon=4.3596, commune="Nîmes"),
        CameraConfig(id="cam-gare", name="Gare", lat=43.8326, lon=4.3661, commune="Nîmes"),
    ],
    open311=Open311Config(
        services=[
            Open311Service(code="graffiti", name="Graffiti", incident_category="dégradation"),
            Open311Service(code="streetlight", name="Street light out"),
        ]
    ),
)
KW = dict(source="Police municipale de Nîmes", crs=None, timezone="Europe/Paris", user="analyst", role="analyst")


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path)
    s.upsert_cameras(SITE.cameras)
    yield s
    s.close()


def counts(store) -> tuple[int, int]:
    with store.read() as conn:
        return (
            conn.execute("SELECT count(*) FROM incident_imports").fetchone()[0],
            conn.execute("SELECT count(*) FROM incidents").fetchone()[0],
        )


def rows(store) -> list[dict]:
    with store.read() as conn:
        return [dict(r) for r in conn.execute("SELECT * FROM incidents ORDER BY id")]


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


GOOD = csv_bytes(
    "occurred_at,category,lat,lon,commune,ref",
    "2026-03-01T10:00,vol,43.8349,4.3596,Nîmes,PV-1",  # local (Paris, UTC+1): 09:00Z
    "2026-07-14T23:30:00+02:00,dégradation,43.8326,4.3661,Nîmes,PV-2",
    "2026-08-01T12:00:00Z,vol,43.8400,4.3500,,",
)


# --- what goes in -----------------------------------------------------------------------------------------
def test_a_csv_in_wgs84_is_stored_whole_in_utc_and_audited(store):
    s = import_file(store, GOOD, file_name="vols-2026.csv", **KW)
    assert (s["id"], s["rows"], s["format"], s["crs"], s["local_times"]) == (1, 3, "csv", "EPSG:4326", 1)
    assert s["categories"] == {"vol": 2, "dégradation": 1}
    assert s["period"] == {"from": "2026-03-01T09:00:00.000000Z", "to": "2026-08-01T12:00:00.000000Z"}
    got = rows(store)
    assert [(r["occurred_at"], r["category"], r["commune"], r["ref"], r["source"]) for r in got] == [
        ("2026-03-01T09:00:00.000000Z", "vol", "Nîmes", "PV-1", "Police municipale de Nîmes"),
        ("2026-07-14T21:30:00.000000Z", "dégradation", "Nîmes", "PV-2", "Police municipale de Nîmes"),
        ("2026-08-01T12:00:00.000000Z", "vol", "", None, "Police municipale de Nîmes"),
    ]
    assert (got[0]["lat"], got[0]["lon"]) == ARENES
    [entry] = audit_query(store, action="incidents_import")
    assert (entry.user, entry.role) == ("analyst", "analyst")
    assert (
        entry.details_dict().items()
        >= {"file_name": "vols-2026.csv", "sha256": s["sha256"], "rows": 3, "import_id": 1}.items()
    )
    assert verify(store).ok


def test_a_french_spreadsheet_csv_semicolons_decimal_commas_bom_blank_lines_and_extra_columns(store):
    data = (
        "\ufeffOccurred_At;Category;Lat;Lon;Source;Victim name\r\n"
        "2026-03-01 10:00;vol;43,8349;4,3596;Police nationale;Jean Dupont\r\n"
        ";;;;;\r\n\r\n"
        "2026-03-02T11:00+01:00;vol;43.8326;4.3661;Police nationale;\r\n"
    ).encode("utf-8")
    s = import_file(store, data, file_name="export.csv", **{**KW, "source": None})
    assert s["rows"] == 2 and s["ignored_columns"] == ["victim name"] and s["source"] is None
    got = rows(store)
    assert [(r["lat"], r["lon"], r["source"]) for r in got] == [
        (43.8349, 4.3596, "Police nationale"),
        (43.8326, 4.3661, "Police nationale"),
    ]
    with store.read() as conn:  # the person column is nowhere in the store
        assert "Dupont" not in json.dumps([dict(r) for r in conn.execute("SELECT * FROM incidents")])


def test_lambert93_coordinates_are_converted_within_a_metre():
    x, y = L93.transform(ARENES[1], ARENES[0])
    # The Arènes in Lambert-93 (EPSG:2154), as pyproj computes them: about 809.4 km E, 6304.9 km N.
    assert abs(x - 809_358.8) < 1 and abs(y - 6_304_929.1) < 1
    assert abs(x - 810_400) < 5_000 and abs(y - 6_301_700) < 5_000


def test_a_csv_in_lambert93_round_trips_within_a_metre(store):
    points = [ARENES, (43.8326, 4.3661), (43.8447, 4.3471)]
    lines = ["occurred_at,category,x,y"]
    for k, (lat, lon) in enumerate(points):
        x, y = L93.transform(lon, lat)
        lines.append(f"2026-05-0{k + 1}T08:00:00Z,vol,{x:.3f},{y:.3f}")
    s = import_file(store, csv_bytes(*lines), file_name="l93.csv", **{**KW, "crs": "EPSG:2154"})
    assert s["crs"] == "EPSG:2154" and s["rows"] == 3
    for (lat, lon), r in zip(points, rows(store)):
        assert GEOD.inv(lon, lat, r["lon"], r["lat"])[2] < 1.0


def test_a_geojson_in_wgs84_and_one_declaring_lambert93(store):
    def feature(lon, lat, **props):
        return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}

    wgs = {
        "type": "FeatureCollection",
        "features": [
            feature(4.3596, 43.8349, occurred_at="2026-04-01T20:00:00Z", category="rixe", commune="Nîmes", ref="A1"),
            feature(4.3661, 43.8326, occurred_at="2026-04-02T21:00", category="rixe", source="Police nationale"),
        ],
    }
    s = import_file(store, json.dumps(wgs).encode(), file_name="rixes.geojson", **KW)
    assert (s["format"], s["rows"], s["local_times"]) == ("geojson", 2, 1)
    assert [(r["lat"], r["lon"], r["source"]) for r in rows(store)] == [
        (43.8349, 4.3596, "Police municipale de Nîmes"),
        (43.8326, 4.3661, "Police nationale"),
    ]
    x, y = L93.transform(4.3596, 43.8349)
    l93 = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}},
        "features": [feature(x, y, occurred_at="2026-04-03T20:00:00Z", category="rixe")],
    }
    s = import_file(store, json.dumps(l93).encode(), file_name="rixes-l93.json", **KW)
    assert s["crs"] == "urn:ogc:def:crs:EPSG::2154"
    last = rows(store)[-1]
    assert GEOD.inv(4.3596, 43.8349, last["lon"], last["lat"])[2] < 1.0


# --- what is refused, and that nothing is then stored ---------------------------------------------------------
def _future() -> str:
    return (datetime.now(timezone.utc) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


REFUSED = [  # (id, bytes, file name, extra arguments, words the message must hold)
    ("empty", b"", "a.csv", {}, ["a.csv", "empty"]),
    ("blank", b"  \n\n", "a.csv", {}, ["empty"]),
    ("header only", csv_bytes("occurred_at,category,lat,lon"), "a.csv", {}, ["a header but no rows"]),
    (
        "no category column",
        csv_bytes("occurred_at,lat,lon", "2026-01-01T00:00Z,43,4"),
        "a.csv",
        {},
        ["missing required column 'category'"],
    ),
    (
        "no lat column",
        csv_bytes("occurred_at,category,lon", "2026-01-01T00:00Z,vol,4"),
        "a.csv",
        {},
        ["missing required column 'lat'"],
    ),
    (
        "x/y without crs",
        csv_bytes("occurred_at,category,x,y", "2026-01-01T00:00Z,vol,810000,6300000"),
        "a.csv",
        {},
        ["x and y need the file's CRS", "EPSG:2154"],
    ),
    (
        "crs without x/y",
        csv_bytes("occurred_at,category,lat,lon", "2026-01-01T00:00Z,vol,43,4"),
        "a.csv",
        {"crs": "EPSG:2154"},
        ["missing required columns 'x' and 'y'"],
    ),
    ("unknown crs", GOOD, "a.csv", {"crs": "EPSG:99999"}, ["'EPSG:99999' is not a coordinate reference system"]),
    (
        "duplicate column",
        csv_bytes("occurred_at,category,lat,lat,lon", "2026-01-01T00:00Z,vol,43,43,4"),
        "a.csv",
        {},
        ["column 'lat' appears twice"],
    ),
    (
        "latin-1",
        "occurred_at,category,lat,lon\n2026-01-01T00:00Z,vol,43,4,Nîmes\n".encode("latin-1"),
        "a.csv",
        {},
        ["unknown encoding, not UTF-8", "byte 0xee", "save the file as UTF-8"],
    ),
    (
        "no source",
        csv_bytes("occurred_at,category,lat,lon", "2026-01-01T00:00Z,vol,43,4"),
        "a.csv",
        {"source": None},
        ["no source"],
    ),
    (
        "not a number",
        csv_bytes("occurred_at,category,lat,lon", "2026-01-01T00:00Z,vol,43,4", "2026-01-01T00:00Z,vol,abc,4"),
        "a.csv",
        {},
        ["row 3, field lat: 'abc' is not a number"],
    ),
    (
        "nan",
        csv_bytes("occurred_at,category,lat,lon", "2026-01-01T00:00Z,vol,43,nan"),
        "a.csv",
        {},
        ["row 2, field lon: 'nan' is not a finite number"],
    ),
    (
        "latitude out of range",
        csv_bytes("occurred_at,category,lat,lon", "2026-01-01T00:00Z,vol,91,4"),
        "a.csv",
        {},
        ["row 2, field lat: latitude 91 is outside -90..90"],
    ),
    (
        "longitude out of range",
        csv_bytes("occurred_at,category,lat,lon", "2026-01-01T00:00Z,vol,43,-181"),
        "a.csv",
        {},
        ["row 2, field lon: longitude -181 is outside -180..180"],
    ),
    (
        "no position (0, 0)",
        csv_bytes("occurred_at,category,lat,lon", "2026-01-01T00:00Z,vol,43,4", "2026-01-01T00:00Z,vol,0,0"),
        "a.csv",
        {},
        ["row 3, field lat: position 0, 0 (off the coast of Africa) is a missing position"],
    ),
    (
        "future",
        csv_bytes("occurred_at,category,lat,lon", f"{_future()},vol,43,4"),
        "a.csv",
        {},
        ["row 2, field occurred_at:", "is in the future"],
    ),
    (
        "not a time",
        csv_bytes("occurred_at,category,lat,lon", "01/03/2026 10:00,vol,43,4"),
        "a.csv",
        {},
        ["row 2, field occurred_at: '01/03/2026 10:00' is not an ISO 8601 time"],
    ),
    (
        "date only",
        csv_bytes("occurred_at,category,lat,lon", "2026-03-01,vol,43,4"),
        "a.csv",
        {},
        ["row 2, field occurred_at: '2026-03-01' is a date without a time of day"],
    ),
    (
        "skipped hour",
        csv_bytes("occurred_at,category,lat,lon", "2026-03-29T02:30,vol,43,4"),
        "a.csv",
        {},
        ["row 2, field occurred_at: '2026-03-29T02:30' does not exist in Europe/Paris"],
    ),
    (
        "empty category",
        csv_bytes("occurred_at,category,lat,lon", "2026-01-01T00:00Z,,43,4"),
        "a.csv",
        {},
        ["row 2, field category: empty"],
    ),
    (
        "long category",
        csv_bytes("occurred_at,category,lat,lon", f"2026-01-01T00:00Z,{'x' * 101},43,4"),
        "a.csv",
        {},
        ["row 2, field category: 101 characters, more than 100"],
    ),
    (
        "row without source",
        csv_bytes(
            "occurred_at,category,lat,lon,source", "2026-01-01T00:00Z,vol,43,4,PN", "2026-01-01T00:00Z,vol,43,4,"
        ),
        "a.csv",
        {"source": None},
        ["row 3, field source: empty (and no source was given for the file)"],
    ),
    (
        "too many cells",
        csv_bytes("occurred_at,category,lat,lon", "2026-01-01T00:00Z,vol,43,8,4,1"),
        "a.csv",
        {},
        ["row 2: 6 cells, but the header has 4 columns"],
    ),
    (
        "outside lambert-93",
        csv_bytes("occurred_at,category,x,y", "2026-01-01T00:00Z,vol,4.3596,43.8349"),
        "a.csv",
        {"crs": "EPSG:2154"},
        ["row 2, field x/y: (4.3596, 43.8349) is outside the area EPSG:2154 covers"],
    ),
    ("not json", b'{"type": "FeatureCollection", "features": [}', "a.geojson", {}, ["not valid JSON (line 1, column"]),
    (
        "not a collection",
        b'{"type": "Feature"}',
        "a.geojson",
        {},
        ["a GeoJSON FeatureCollection is needed, got 'Feature'"],
    ),
    (
        "polygon",
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [4.3, 43.8]},
                        "properties": {"occurred_at": "2026-01-01T00:00:00Z", "category": "vol"},
                    },
                    {
                        "type": "Feature",
                        "geometry": {"type": "Polygon", "coordinates": []},
                        "properties": {"occurred_at": "2026-01-01T00:00:00Z", "category": "vol"},
                    },
                ],
            }
        ).encode(),
        "a.geojson",
        {},
        ['feature 2, field geometry: a Point is needed, got "Polygon"'],
    ),
    (
        "geojson out of range",
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [200, 43.8]},
                        "properties": {"occurred_at": "2026-01-01T00:00:00Z", "category": "vol"},
                    }
                ],
            }
        ).encode(),
        "a.geojson",
        {},
        ["feature 1, field coordinates: longitude 200 is outside -180..180"],
    ),
    (
        "geojson bad coordinate",
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": ["a", 43.8]},
                        "properties": {"occurred_at": "2026-01-01T00:00:00Z", "category": "vol"},
                    }
                ],
            }
        ).encode(),
        "a.geojson",
        {},
        ["feature 1, field coordinates[0]: 'a' is not a number"],
    ),
    (
        "geojson crs mismatch",
        json.dumps(
            {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:2154"}}, "features": []}
        ).encode(),
        "a.geojson",
        {"crs": "EPSG:3857"},
        ["declares crs EPSG:2154 but EPSG:3857 was given"],
    ),
]


@pytest.mark.parametrize("data,name,extra,words", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_a_refused_file_names_the_problem_and_stores_nothing(store, data, name, extra, words):
    with pytest.raises(ImportRefused) as exc:
        import_file(store, data, file_name=name, **{**KW, **extra})
    text = str(exc.value) + " | " + " | ".join(exc.value.problems)
    for w in words:
        assert w in text
    assert counts(store) == (0, 0)
    assert audit_query(store, action="incidents_import") == []


def test_every_problem_is_found_before_anything_is_written(store):
    lines = ["occurred_at,category,lat,lon", "2026-01-01T00:00Z,vol,43.8,4.3"]
    lines += [f"2026-01-01T00:00Z,vol,{100 + k},4.3" for k in range(30)]  # rows 3..32, each latitude wrong
    with pytest.raises(ImportRefused) as exc:
        import_file(store, csv_bytes(*lines), file_name="many.csv", **KW)
    e = exc.value
    assert e.count == 30 and str(e).startswith("many.csv: 30 problems, nothing was imported: row 3, field lat:")
    assert len(e.problems) == importer.MAX_LISTED + 1 and e.problems[-1] == "... and 10 more problems"
    assert e.problems[0].startswith("row 3, field lat: latitude 100") and e.problems[19].startswith("row 22,")
    assert counts(store) == (0, 0)
    # the good row alone goes in
    import_file(store, csv_bytes(*lines[:2]), file_name="one.csv", **KW)
    assert counts(store) == (1, 1)


def test_limits_on_size_and_rows_are_named(store, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "MAX_BYTES", 100)
    with pytest.raises(FileTooLarge, match=r"above the limit of 100 bytes"):
        import_file(store, GOOD + b"x" * 100, file_name="big.csv", **KW)
    path = tmp_path / "big.csv"
    path.write_bytes(GOOD + b"x" * 100)
    with pytest.raises(FileTooLarge, match=r"big.csv: 2\d\d bytes, above the limit of 100 bytes"):
        import_file(store, path, file_name="big.csv", **KW)
    monkeypatch.setattr(importer, "MAX_BYTES", 10_000)
    monkeypatch.setattr(importer, "MAX_ROWS", 2)
    with pytest.raises(FileTooLarge, match=r"more than 2 rows, the limit per import"):
        import_file(store, GOOD, file_name="rows.csv", **KW)
    assert counts(store) == (0, 0)


def test_a_file_is_imported_once_until_its_import_is_removed(store, tmp_path):
    first = import_file(store, GOOD, file_name="vols.csv", **KW)
    path = tmp_path / "renamed.csv"
    path.write_bytes(GOOD)
    with pytest.raises(AlreadyImported) as exc:
        import_file(store, path, file_name=path.name, **KW)
    assert exc.value.import_id == first["id"]
    assert f"already imported as import {first['id']} on {first['imported_at'][:19]}Z (vols.csv" in str(exc.value)
    assert counts(store) == (1, 3)
    assert [i["id"] for i in list_imports(store)] == [first["id"]] and list_imports(store)[0]["stored"] == 3

    gone = remove_import(store, first["id"], "analyst", "analyst")
    assert gone["removed_rows"] == 3 and counts(store) == (0, 0)
    [entry] = audit_query(store, action="incidents_remove")
    assert entry.details_dict() == {
        "import_id": first["id"],
        "file_name": "vols.csv",
        "sha256": first["sha256"],
        "rows": 3,
    }
    with pytest.raises(ImportNotFound, match=f"no incident import has id {first['id']}"):
        remove_import(store, first["id"], "analyst", "analyst")
    again = import_file(store, path, file_name="renamed.csv", **KW)
    assert again["id"] != first["id"] and counts(store) == (1, 3)
    assert verify(store).ok


def test_an_uploaded_file_name_keeps_no_path(store):
    s = import_file(store, GOOD, file_name="..\\..\\C:\\temp/../vols.csv", **KW)
    assert s["file_name"] == "vols.csv"


# --- the layers ------------------------------------------------------------------------------------------------------
T = datetime(2026, 6, 1, 22, 0, tzinfo=timezone.utc)


def _alert(store, n: int, camera: str, kind: str, decision: str | None) -> int:
    [aid] = alerts.record(
        store,
        [
            Event(
                f"rule-{n}",
                kind,
                camera,
                T + timedelta(minutes=n),
                T + timedelta(minutes=n + 1),
                (n,),
                (10.0, 20.0),
                {},
            )
        ],
    )
    if decision:
        alerts.decide(store, aid, decision, "operator", "operator")
    return aid


def _report(store, n: int, code: str, moderation: str, lat: float | None = 43.83, lon: float | None = 4.36) -> int:
    when = iso(T + timedelta(hours=n))
    decided = None if moderation == "pending" else when

    def fn(conn):
        return conn.execute(
            "INSERT INTO citizen_reports (service_code, lat, lon, requested_at, updated_at, moderation, moderated_at, "
            "reject_reason, token_hash, client_hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                code,
                lat,
                lon,
                when,
                when,
                moderation,
                decided,
                "spam" if moderation == "rejected" else None,
                f"token-{n}",
                "client",
            ),
        ).lastrowid

    return store.write(fn).result()


@pytest.fixture
def layered(store):
    import_file(store, GOOD, file_name="vols.csv", **KW)
    ids = {
        "validated": _alert(store, 1, "cam-gare", "gathering", "validate"),
        "dismissed": _alert(store, 2, "cam-gare", "gathering", "dismiss"),
        "new": _alert(store, 3, "cam-arenes", "zone_intrusion", None),
        "validated2": _alert(store, 4, "cam-arenes", "zone_intrusion", "validate"),
    }
    reports = {
        "accepted": _report(store, 1, "graffiti", "accepted"),
        "accepted2": _report(store, 2, "streetlight", "accepted"),
        "pending": _report(store, 3, "graffiti", "pending"),
        "rejected": _report(store, 4, "graffiti", "rejected"),
        "no position": _report(store, 5, "graffiti", "accepted", None, None),
    }
    return store, ids, reports


def test_validated_alerts_are_incidents_at_their_camera_and_no_others(layered):
    store, ids, _ = layered
    got = load_incidents(store, SITE, layers=("alerts",))
    assert [i.id for i in got] == [f"alerts:{ids['validated']}", f"alerts:{ids['validated2']}"]
    gare = got[0]
    assert (gare.layer, gare.category, gare.lat, gare.lon, gare.commune, gare.source) == (
        "alerts",
        "gathering",
        43.8326,
        4.3661,
        "Nîmes",
        "cam-gare",
    )
    assert gare.occurred_at == T + timedelta(minutes=1)
    assert (got[1].lat, got[1].lon, got[1].category) == (43.8349, 4.3596, "zone_intrusion")


def test_accepted_citizen_reports_are_incidents_with_the_services_category(layered):
    store, _, reports = layered
    got = load_incidents(store, SITE, layers=("citizen",))
    assert [(i.id, i.category, i.source, i.commune) for i in got] == [
        (f"citizen:{reports['accepted']}", "dégradation", "open311", ""),  # the service's incident_category
        (f"citizen:{reports['accepted2']}", "streetlight", "open311", ""),
    ]  # no incident_category: the code
    assert got[0].occurred_at == T + timedelta(hours=1) and (got[0].lat, got[0].lon) == (43.83, 4.36)


def test_layers_are_kept_apart_and_filtered(layered):
    store, ids, reports = layered
    everything = load_incidents(store, SITE)
    assert [i.layer for i in everything].count("imported") == 3 and len(everything) == 3 + 2 + 2
    assert [i.occurred_at for i in everything] == sorted(i.occurred_at for i in everything)
    assert {i.layer for i in load_incidents(store, SITE, layers=("imported", "citizen"))} == {"imported", "citizen"}
    # [start, end): an incident exactly at the start is in, one exactly at the end is out
    start, end = T + timedelta(minutes=1), T + timedelta(hours=1)
    assert [i.id for i in load_incidents(store, SITE, start=start, end=end)] == [
        f"alerts:{ids['validated']}",
        f"alerts:{ids['validated2']}",
    ]
    assert [i.id for i in load_incidents(store, SITE, start=start, end=end + timedelta(microseconds=1))][
        -1
    ] == f"citizen:{reports['accepted']}"
    assert {i.category for i in load_incidents(store, SITE, categories=["vol", "gathering"])} == {"vol", "gathering"}
    assert {i.layer for i in load_incidents(store, SITE, communes=["Nîmes"])} == {"imported", "alerts"}
    assert load_incidents(store, SITE, categories=["nothing"]) == []


@pytest.mark.parametrize(
    "kwargs,words",
    [
        ({"layers": ("imported", "video")}, "layer 'video' is not known"),
        ({"start": datetime(2026, 1, 1)}, "from: '2026-01-01T00:00:00' needs a time zone"),
        ({"start": T, "end": T}, "must be before to"),
    ],
)
def test_bad_filters_are_refused_by_name(store, kwargs, words):
    with pytest.raises(CrimeMapError, match=words):
        load_incidents(store, SITE, **kwargs)


def test_the_summary_and_the_points(layered):
    store, _, _ = layered
    found = load_incidents(store, SITE)
    s = categories_and_counts(found)
    assert s["total"] == 7 and s["by_layer"] == {"imported": 3, "alerts": 2, "citizen": 2}
    assert s["by_category"]["vol"] == 2 and s["by_layer_category"]["citizen"] == {"dégradation": 1, "streetlight": 1}
    assert s["communes"] == ["Nîmes"] and s["period"]["from"] == "2026-03-01T09:00:00.000000Z"
    assert categories_and_counts([])["period"] is None
    fc = feature_collection(found, limit=5)
    assert fc["truncated"] and fc["total"] == 7 and len(fc["features"]) == 5
    assert fc["features"][-1]["properties"]["id"] == found[-1].id  # the most recent are kept
    assert set(fc["features"][0]["properties"]) == {"id", "layer", "category", "occurred_at", "commune", "source"}
    assert "never people" in fc["statement"]
    assert Filters().layers == LAYERS


# --- the CLI ------------------------------------------------------------------------------------------------------------
def test_the_cli_imports_lists_exports_and_removes(tmp_path, monkeypatch, capsys):
    from vigie.cli import main

    monkeypatch.setenv("VIGIE_DATA", str(tmp_path / "data"))
    f = tmp_path / "vols.csv"
    f.write_bytes(GOOD)
    assert main(["incidents", "import", str(f), "--source", "PM", "--timezone", "Europe/Paris"]) == 0
    out = capsys.readouterr().out
    assert (
        "Imported 3 incidents from vols.csv as import 1" in out
        and "1 times without an offset were read as Europe/Paris" in out
    )
    assert main(["incidents", "import", str(f), "--source", "PM"]) == 2
    assert "already imported as import 1" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes("occurred_at,category,lat,lon", "2026-01-01T00:00Z,vol,abc,4"))
    assert main(["incidents", "import", str(bad), "--source", "PM"]) == 2
    assert "row 2, field lat: 'abc' is not a number" in capsys.readouterr().err
    assert main(["incidents", "list", "--json"]) == 0
    assert [i["file_name"] for i in json.loads(capsys.readouterr().out)] == ["vols.csv"]
    out_file = tmp_path / "incidents.geojson"
    assert main(["crimemap", "export", "incidents", "--out", str(out_file), "--category", "vol"]) == 0
    capsys.readouterr()
    data = json.loads(out_file.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 2
    assert main(["crimemap", "export", "density", "--out", str(tmp_path / "d.geojson"), "--category", "none"]) == 2
    assert "no incidents match" in capsys.readouterr().err
    report, site = tmp_path / "report.html", tmp_path / "site.yaml"
    site.write_text(
        "name: Nîmes\ntimezone: Europe/Paris\ncrime_map: {permutations: 99}\n"
        "cameras: [{id: cam-a, name: A, lat: 43.83, lon: 4.36}]\n",
        encoding="utf-8",
    )
    assert (
        main(
            [
                "crimemap",
                "report",
                "--out",
                str(report),
                "--to",
                "2026-09-01T00:00:00+02:00",
                "--title",
                "Conseil",
                "--site",
                str(site),
            ]
        )
        == 0
    )
    assert "Report of 3 incidents written to" in capsys.readouterr().out and "Conseil" in report.read_text(
        encoding="utf-8"
    )
    assert "Europe/Paris" in report.read_text(encoding="utf-8")  # the site's local time for the hour chart ...
    assert main(["crimemap", "report", "--out", str(report), "--site", str(site), "--timezone", "America/Toronto"]) == 0
    assert "America/Toronto" in report.read_text(encoding="utf-8")  # ... or the one asked for
    capsys.readouterr()
    assert main(["crimemap", "report", "--out", str(tmp_path / "report.docx")]) == 2
    assert "written as .html or .pdf" in capsys.readouterr().err
    assert main(["incidents", "remove", "1"]) == 0
    assert "Removed import 1 (vols.csv) and its 3 incidents" in capsys.readouterr().out
    assert main(["incidents", "remove", "1"]) == 2
    with SQLiteStore(tmp_path / "data") as s:
        actions = [(e.action, e.role) for e in audit_query(s)]
        assert actions == [
            ("incidents_import", "system"),
            ("view_crime_map", "system"),
            ("crime_report", "system"),
            ("crime_report", "system"),
            ("incidents_remove", "system"),
        ]
        assert audit_query(s)[0].user.startswith("console:")

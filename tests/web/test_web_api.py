"""The JSON API (`vigie serve`): sessions, role checks per endpoint, justification,
the operator's 24 h window, hostile parameters, audit entries, the public register."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import numpy as np
import pytest
from argon2 import PasswordHasher
from builders import T0, english_site, jpeg_bytes, logged_in, make_summary
from fakes import FakeBlurrer
from fastapi.testclient import TestClient

from vigie.accounts import users
from vigie.audit.log import query as audit_query
from vigie.audit.log import verify
from vigie.config import AnalysisConfig, CameraConfig
from vigie.services import Services
from vigie.store.sqlite import SQLiteStore
from vigie.web.app import COOKIE, create_app

PW = "correct horse battery"
ROLES = ("operator", "investigator", "auditor", "admin", "analyst", "moderator", "supervisor")
JUST = {"case_ref": "PV-2026-0142", "purpose": "burglary rue de la Madeleine"}
SITE = english_site(
    name="Nîmes test",
    retention_days=20,
    cameras=[
        CameraConfig(
            id="cam-a",
            name="Esplanade",
            lat=43.83,
            lon=4.36,
            commune="Nîmes",
            group="centre",
            purpose="public safety",
            retention_days=10,
            privacy_masks=[[(0, 0), (10, 0), (10, 10)]],
        ),
        CameraConfig(
            id="cam-b",
            name="=Gare",
            lat=43.84,
            lon=4.37,
            commune="Nîmes",
            group="gare",
            purpose="traffic",
            analysis=AnalysisConfig(classes=["car"], search_crops=0),
        ),
    ],
)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def _add(store, camera, tracks, fp):
    aid = store.begin_analysis(camera, "/videos/x.mp4", fp.ljust(64, "0"))
    store.add_tracks(aid, tracks).result()
    store.finish_analysis(aid, "complete", 10, 10)
    with store.read() as conn:
        return [r[0] for r in conn.execute("SELECT id FROM tracks WHERE analysis_id=? ORDER BY track_no", (aid,))]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    store = SQLiteStore(tmp_path)
    store.upsert_cameras(SITE.cameras)
    recent = (datetime.now(timezone.utc) - timedelta(hours=1) - T0).total_seconds()
    jpg = jpeg_bytes()
    new_a = _add(
        store,
        "cam-a",
        [make_summary("cam-a", 1, start_s=recent, jpeg=jpg), make_summary("cam-a", 2, start_s=recent + 60, jpeg=jpg)],
        "a1",
    )
    old_b = _add(
        store,
        "cam-b",
        [
            make_summary("cam-b", 3, start_s=recent - 3 * 86400, jpeg=jpg),
            make_summary("cam-b", 4, class_name="car", start_s=recent + 120),
        ],
        "b1",
    )
    ids = new_a + old_b
    vecs = {ids[0]: [1, 0, 0], ids[1]: [1, 0.1, 0], ids[2]: [0.9, 0.2, 0], ids[3]: [0, 0, 1]}
    rows = [
        (t, "plain", (np.asarray(v, np.float32) / np.linalg.norm(v)).astype("<f4").tobytes()) for t, v in vecs.items()
    ]
    store.write(lambda conn: conn.executemany("INSERT OR REPLACE INTO track_vectors VALUES (?,?,?)", rows)).result()
    for role in ROLES:
        users.create_user(store, role, role, PW)
    blurrer = FakeBlurrer()
    app = create_app(Services(store=store, site=SITE, blurrer=blurrer))
    yield {"store": store, "app": app, "ids": ids, "recent": ids[0], "old": ids[2], "blurrer": blurrer}
    store.close()


def client(env, role=None) -> TestClient:
    return logged_in(env["app"], role, PW, role=role)


# --- sessions ------------------------------------------------------------------------------------------
def test_login_sets_a_strict_httponly_cookie_and_logout_ends_it(env):
    c = TestClient(env["app"])
    r = c.post("/api/login", json={"username": "operator", "password": PW})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"]
    assert (
        cookie.startswith(f"{COOKIE}=")
        and "HttpOnly" in cookie
        and "SameSite=strict" in cookie.replace("Strict", "strict")
    )
    token = c.cookies.get(COOKIE)
    assert c.get("/api/me").json() == {"username": "operator", "role": "operator", "must_change_password": False}
    assert c.post("/api/logout").status_code == 200
    assert users.session_user(env["store"], token) is None
    c.cookies.set(COOKIE, token)  # a replayed token is dead
    assert c.get("/api/me").status_code == 401


def test_bad_password_is_401_and_repeated_failures_are_throttled_not_locked(env):
    # Issue 19, finding 8: failures used to lock a real account (423 "locked"), which told who exists and let
    # anyone keep its owner out. Now every refusal is 401 with one message, then 429 while the throttle waits.
    c = TestClient(env["app"])
    r = c.post("/api/login", json={"username": "nobody", "password": PW})
    assert r.status_code == 401 and r.json()["error"] == users.BAD_CREDENTIALS
    for _ in range(3):
        r = c.post("/api/login", json={"username": "operator", "password": "wrong password!"})
        assert r.status_code == 401 and r.json() == {"error": users.BAD_CREDENTIALS}
    assert c.post("/api/login", json={"username": "operator", "password": PW}).status_code == 200
    assert users.get_user(env["store"], "operator").locked_until is None
    c.cookies.clear()
    for _ in range(5):
        c.post("/api/login", json={"username": "operator", "password": "wrong password!"})
    r = c.post("/api/login", json={"username": "operator", "password": PW})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert COOKIE not in c.cookies
    r = c.post("/api/login", json={"username": "operator"})
    assert r.status_code == 422 and r.json()["field"] == "password"


SYNOPSIS = "0123456789abcdef"  # a well-formed synopsis id that no synopsis has
ENDPOINTS = [
    ("get", "/api/me"),
    ("get", "/api/time"),
    ("post", "/api/time/read"),
    ("get", "/api/stats"),
    ("post", "/api/cameras/cam-a/playback"),
    ("get", "/api/cameras/cam-a/playback"),
    ("get", "/api/cameras/cam-a/timeline"),
    ("get", "/api/live/cameras"),
    ("post", "/api/live/cam-a/view"),
    ("get", "/api/live/cam-a/pictures"),
    ("post", "/api/logout"),
    ("get", "/api/cameras"),
    ("get", "/api/tracks"),
    ("get", "/api/tracks/{recent}"),
    ("get", "/api/tracks/{recent}/thumbnail"),
    ("post", "/api/search"),
    ("get", "/api/search/vocabulary"),
    ("post", "/api/search/text"),
    ("get", "/api/similar/{recent}"),
    ("post", "/api/similar/photo"),
    ("get", "/api/trail/{recent}"),
    ("get", "/api/audit"),
    ("get", "/api/audit/verify"),
    ("get", "/api/audit/export"),
    ("get", "/api/tracks/{recent}/clip"),
    ("post", "/api/tracks/{recent}/play"),
    ("get", "/api/tracks/{recent}/unblur"),
    ("post", "/api/tracks/{recent}/unblur"),
    ("post", "/api/exports"),
    ("get", "/api/exports"),
    ("post", "/api/cameras/cam-a/recordings/export"),
    ("get", "/api/holds"),
    ("post", "/api/holds"),
    ("post", "/api/holds/1/lift"),
    ("get", "/api/users"),
    ("post", "/api/users"),
    ("patch", "/api/users/operator"),
    ("post", "/api/users/operator/password"),
    ("get", "/api/settings"),
    ("put", "/api/settings"),
    ("get", "/api/map"),
    ("get", "/api/alerts"),
    ("get", "/api/alerts/stream"),
    ("get", "/api/alerts/1/snapshot"),
    ("post", "/api/alerts/1/decision"),
    ("get", "/api/gaps"),
    ("get", "/api/stats/cam-a"),
    ("get", "/api/stats/cam-a/heatmap"),
    ("post", "/api/synopses"),
    ("get", "/api/synopses"),
    ("get", f"/api/synopses/{SYNOPSIS}"),
    ("get", f"/api/synopses/{SYNOPSIS}/video"),
    ("post", f"/api/synopses/{SYNOPSIS}/play"),
    ("get", f"/api/synopses/{SYNOPSIS}/index"),
    ("get", "/api/crimemap/summary"),
    ("get", "/api/crimemap/incidents"),
    ("get", "/api/crimemap/density"),
    ("get", "/api/crimemap/hotspots"),
    ("get", "/api/crimemap/near-repeat"),
    ("get", "/api/crimemap/time-pattern"),
    ("get", "/api/crimemap/communes"),
    ("get", "/api/crimemap/report"),
    ("get", "/api/crimemap/imports"),
    ("post", "/api/crimemap/imports"),
    ("post", "/api/crimemap/imports/1/remove"),
    ("get", "/api/reports"),
    ("get", "/api/reports/1"),
    ("get", "/api/reports/1/photo"),
    ("post", "/api/reports/1/decision"),
    ("post", "/api/reports/1/redact"),
    ("post", "/api/reports/1/status"),
    ("post", "/api/password"),
    ("get", "/api/approvals"),
    ("post", "/api/approvals/1"),
    ("get", "/api/case"),
    ("put", "/api/case"),
    ("delete", "/api/case"),
    ("get", "/api/cases/PV-1"),
    ("put", "/api/cases/PV-1/marks/{recent}"),
    ("post", "/api/cases/PV-1/exports"),
    ("get", "/api/tracks/{recent}/case"),
    ("get", "/api/case-exports/0123456789abcdef"),
    ("get", "/api/case-exports/0123456789abcdef/download"),
]
# The /api routes that need no session: logging in, and a one-time enrolment link (its token is the credential).
NO_SESSION = {("post", "/api/login"), ("post", "/api/enrol/check"), ("post", "/api/enrol")}


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_every_api_endpoint_needs_a_session(env, method, path):
    c = TestClient(env["app"])
    kwargs = {"json": {}} if method in ("post", "put", "patch") else {}
    r = getattr(c, method)(path.format(recent=env["recent"]) + "?case_ref=x&purpose=y", **kwargs)
    assert r.status_code == 401 and "not logged in" in r.json()["error"]
    c.cookies.set(COOKIE, "forged-token")
    assert getattr(c, method)(path.format(recent=env["recent"]), **kwargs).status_code == 401


def test_the_no_session_list_covers_every_api_route(env):
    """A new endpoint cannot slip past the session test: every /api route but login is in ENDPOINTS."""
    # From the published schema: the app's routes are included from routers, which app.routes need not list.
    paths = env["app"].openapi()["paths"]
    routes = {(m, path) for path, operations in paths.items() if path.startswith("/api/") for m in operations}
    listed = {
        (
            m,
            p.replace("{recent}", "{track_id}")
            .replace("/1/lift", "/{hold_id}/lift")
            .replace("/users/operator", "/users/{username}")
            .replace("/alerts/1/", "/alerts/{alert_id}/")
            .replace("/stats/cam-a", "/stats/{camera_id}")
            .replace("/cameras/cam-a/", "/cameras/{camera_id}/")
            .replace("/live/cam-a/", "/live/{camera_id}/")
            .replace(f"/synopses/{SYNOPSIS}", "/synopses/{synopsis_id}")
            .replace("/imports/1/remove", "/imports/{import_id}/remove")
            .replace("/reports/1", "/reports/{report_id}")
            .replace("/approvals/1", "/approvals/{request_id}")
            .replace("/cases/PV-1", "/cases/{case_ref}")
            .replace("/case-exports/0123456789abcdef", "/case-exports/{job_id}"),
        )
        for m, p in ENDPOINTS
    }
    assert routes - NO_SESSION == listed


# --- roles per endpoint ------------------------------------------------------------------------------------
OK = (200, 201)
ALLOWED = {  # endpoint -> roles allowed (others 403)
    "cameras": set(ROLES),
    "vocabulary": set(ROLES),
    "map": set(ROLES),
    "alerts": {"operator", "investigator"},
    "gaps": {"operator", "investigator"},
    "stats": {"operator", "investigator"},
    "clip": {"operator", "investigator"},
    "play": {"operator", "investigator"},
    "audit_export": {"auditor"},
    "unblur_status": {"investigator"},
    "unblur": {"investigator"},
    "export": {"investigator"},
    "exports": {"investigator", "auditor"},
    "holds": {"investigator", "supervisor"},
    "hold": {"investigator", "supervisor"},
    "users": {"admin"},
    "user_create": {"admin"},
    "user_change": {"admin"},
    "user_password": {"admin"},
    "settings": {"admin"},
    "setting_put": {"admin"},
    "tracks": {"operator", "investigator"},
    "track": {"operator", "investigator"},
    "thumbnail": {"operator", "investigator"},
    "search": {"operator", "investigator"},
    "search_text": {"operator", "investigator"},
    "similar": {"investigator"},
    "trail": {"investigator"},
    "audit": {"auditor"},
    "verify": {"auditor", "admin"},
    "synopsis_create": {"operator", "investigator"},
    "synopses": {"operator", "investigator"},
    "synopsis": {"operator", "investigator"},
    "synopsis_video": {"operator", "investigator"},
    "synopsis_play": {"operator", "investigator"},
    "synopsis_index": {"operator", "investigator"},
    "crimemap_summary": {"analyst"},
    "crimemap_incidents": {"analyst"},
    "crimemap_density": {"analyst"},
    "crimemap_hotspots": {"analyst"},
    "crimemap_near_repeat": {"analyst"},
    "crimemap_time_pattern": {"analyst"},
    "crimemap_communes": {"analyst"},
    "crimemap_report": {"analyst"},
    "crimemap_imports": {"analyst"},
    "crimemap_import": {"analyst"},
    "crimemap_import_remove": {"analyst"},
    "reports": {"moderator"},
    "report": {"moderator"},
    "report_photo": {"moderator"},
    "report_decision": {"moderator"},
    "report_redact": {"moderator"},
    "report_status": {"moderator"},
    "approvals": {"supervisor"},
    "approval_decide": {"supervisor"},
    "password_change": set(ROLES),
}
# What an allowed role gets where the fixture cannot give 200: the clip's recording is not on disk (410); the
# fixture's tracks have no tube, so no synopsis can be made of them (400, saying so); no synopsis has that id (404).
# The fixture has no incident (an analysis of nothing is refused, 400), no import 1 and no citizen report 1 (404).
ALLOWED_BUT = {
    "clip": 410,
    "synopsis_create": 400,
    "synopsis": 404,
    "synopsis_video": 404,
    "synopsis_play": 404,
    "synopsis_index": 404,
    "crimemap_density": 400,
    "crimemap_hotspots": 400,
    "crimemap_near_repeat": 400,
    "crimemap_time_pattern": 400,
    "crimemap_communes": 400,
    "crimemap_report": 400,
    "crimemap_import_remove": 404,
    "report": 404,
    "report_photo": 404,
    "report_decision": 404,
    "report_redact": 404,
    "report_status": 404,
    "approval_decide": 404,  # no request 1
}


def call(c, endpoint, env, just=True):
    q = dict(JUST) if just else {}
    t = env["recent"]
    if endpoint == "search":
        return c.post("/api/search", json={"classes": ["person"], **q})
    if endpoint == "synopsis_create":  # the last two hours: inside the operator's window, holding cam-a's recent tracks
        now = datetime.now(timezone.utc)
        return c.post(
            "/api/synopses",
            json={"camera": "cam-a", "from": (now - timedelta(hours=2)).isoformat(), "to": now.isoformat(), **q},
        )
    if endpoint == "crimemap_import":  # multipart: a one-row CSV
        return c.post(
            "/api/crimemap/imports",
            data={"source": "Police municipale"},
            files={
                "file": (
                    "incidents.csv",
                    b"occurred_at,category,lat,lon\n2026-01-01T10:00:00Z,vol,43.8349,4.3596\n",
                    "text/csv",
                )
            },
        )
    posts = {  # endpoint -> (method, path, body)
        "search_text": ("post", "/api/search/text", {"text": "veste rouge, vers le nord"}),
        "unblur": ("post", f"/api/tracks/{t}/unblur", {**q, "reason": "identify the suspect's vehicle"}),
        "play": ("post", f"/api/tracks/{t}/play", {**q}),
        "synopsis_play": ("post", f"/api/synopses/{SYNOPSIS}/play", {**q}),
        "export": ("post", "/api/exports", {"track_ids": [t], "clips": False, **q}),
        "hold": ("post", "/api/holds", {"case_ref": "PV-1", "reason": "court order", "track_ids": [t]}),
        "user_create": ("post", "/api/users", {"username": "new.operator", "role": "operator"}),
        "user_change": ("patch", "/api/users/operator", {"role": "operator"}),
        "user_password": ("post", "/api/users/operator/password", None),
        "setting_put": ("put", "/api/settings", {"key": "controller", "value": "Ville de Nîmes, dpo@example.org"}),
        "crimemap_import_remove": ("post", "/api/crimemap/imports/1/remove", None),
        "report_decision": ("post", "/api/reports/1/decision", {"decision": "accept"}),
        "report_redact": ("post", "/api/reports/1/redact", {"description": "A bench is broken."}),
        "report_status": ("post", "/api/reports/1/status", {"status": "closed", "status_notes": "Repaired."}),
        "approval_decide": ("post", "/api/approvals/1", {"decision": "approve", "note": "checked"}),
        "password_change": (
            "post",
            "/api/password",
            {"current_password": PW, "new_password": "a brand new passphrase"},
        ),
    }
    if endpoint in posts:
        method, path, body = posts[endpoint]
        return getattr(c, method)(path, json=body) if body is not None else getattr(c, method)(path)
    path = {
        "alerts": "/api/alerts",
        "gaps": "/api/gaps",
        "stats": "/api/stats/cam-a",
        "map": "/api/map",
        "clip": f"/api/tracks/{t}/clip",
        "audit_export": "/api/audit/export",
        "unblur_status": f"/api/tracks/{t}/unblur",
        "exports": "/api/exports",
        "holds": "/api/holds",
        "users": "/api/users",
        "settings": "/api/settings",
        "cameras": "/api/cameras",
        "vocabulary": "/api/search/vocabulary",
        "tracks": "/api/tracks",
        "track": f"/api/tracks/{t}",
        "thumbnail": f"/api/tracks/{t}/thumbnail",
        "similar": f"/api/similar/{t}",
        "trail": f"/api/trail/{t}",
        "audit": "/api/audit",
        "verify": "/api/audit/verify",
        "synopses": "/api/synopses",
        "synopsis": f"/api/synopses/{SYNOPSIS}",
        "synopsis_video": f"/api/synopses/{SYNOPSIS}/video",
        "synopsis_index": f"/api/synopses/{SYNOPSIS}/index",
        "crimemap_summary": "/api/crimemap/summary",
        "crimemap_incidents": "/api/crimemap/incidents",
        "crimemap_density": "/api/crimemap/density",
        "crimemap_hotspots": "/api/crimemap/hotspots",
        "crimemap_near_repeat": "/api/crimemap/near-repeat",
        "crimemap_time_pattern": "/api/crimemap/time-pattern",
        "crimemap_communes": "/api/crimemap/communes",
        "crimemap_report": "/api/crimemap/report",
        "crimemap_imports": "/api/crimemap/imports",
        "reports": "/api/reports",
        "report": "/api/reports/1",
        "report_photo": "/api/reports/1/photo",
        "approvals": "/api/approvals",
    }[endpoint]
    return c.get(path, params=q)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(ALLOWED))
def test_role_table(env, role, endpoint):
    r = call(client(env, role), endpoint, env)
    if role in ALLOWED[endpoint]:
        assert r.status_code in ((ALLOWED_BUT[endpoint],) if endpoint in ALLOWED_BUT else OK), r.text
        if endpoint == "synopsis_create":
            assert "no tube" in r.json()["error"]
    else:
        assert r.status_code == 403, r.text
        assert role in r.json()["error"]


@pytest.mark.parametrize("endpoint", ["tracks", "search", "similar", "trail"])
def test_investigator_without_justification_is_told_what_is_missing(env, endpoint):
    c = client(env, "investigator")
    r = call(c, endpoint, env, just=False)
    assert r.status_code == 400 and "case reference" in r.json()["error"] and "case_ref" in r.json()["error"]
    assert set(r.json()["missing"]) == {"case_ref", "purpose"}
    if endpoint == "search":
        r = c.post("/api/search", json={"case_ref": "PV-1", "purpose": "  "})
    else:
        r = c.get(
            f"/api/{endpoint}" + ("" if endpoint == "tracks" else f"/{env['recent']}"), params={"case_ref": "PV-1"}
        )
    assert r.status_code == 400 and r.json()["missing"] == ["purpose"]


# --- content --------------------------------------------------------------------------------------------
def test_operator_sees_the_last_24_hours_only(env):
    c = client(env, "operator")
    long_ago = (datetime.now(timezone.utc) - timedelta(days=4)).isoformat()
    r = c.post("/api/search", json={"start": long_ago})
    assert r.status_code == 400 and r.json()["field"] == "start" and "24 hours" in r.json()["error"]
    r = c.post("/api/search", json={"end": long_ago})
    assert r.status_code == 400 and r.json()["field"] == "end"
    r = c.post("/api/search", json={})
    assert r.status_code == 200
    found = {h["track_id"] for h in r.json()["hits"]}
    assert env["old"] not in found and env["recent"] in found
    assert r.json()["query"]["start"] is not None  # the window was forced
    listed = c.get("/api/tracks").json()
    assert env["old"] not in {h["track_id"] for h in listed["items"]} and listed["total"] == 3
    assert c.get(f"/api/tracks/{env['old']}").status_code == 403
    assert c.get(f"/api/tracks/{env['old']}/thumbnail").status_code == 403
    # investigators have no window
    inv = client(env, "investigator")
    r = inv.post("/api/search", json={"start": long_ago, **JUST})
    assert r.status_code == 200 and env["old"] in {h["track_id"] for h in r.json()["hits"]}


def test_tracks_paging_filters_and_points(env):
    c = client(env, "investigator")
    r = c.get("/api/tracks", params={"limit": 2, "offset": 1, **JUST}).json()
    assert (r["limit"], r["offset"], r["total"], len(r["items"])) == (2, 1, 4, 2)
    r = c.get("/api/tracks", params={"camera": "cam-b", "class": "car", **JUST}).json()
    assert [h["track_id"] for h in r["items"]] == [env["ids"][3]]
    assert c.get("/api/tracks", params={"limit": 0, **JUST}).status_code == 422
    assert c.get("/api/tracks", params={"limit": 1001, **JUST}).json()["field"] == "limit"
    t = c.get(f"/api/tracks/{env['recent']}", params={"points": 1, **JUST}).json()
    assert t["id"] == env["recent"] and len(t["points"]) == 5 and "thumbnail_path" not in t
    assert "points" not in c.get(f"/api/tracks/{env['recent']}", params=JUST).json()
    assert c.get("/api/tracks/999999", params=JUST).status_code == 404
    cams = c.get("/api/cameras", params={"limit": 1, "offset": 1}).json()
    assert cams["total"] == 2 and [x["id"] for x in cams["items"]] == ["cam-b"]


def test_thumbnail_is_blurred_jpeg_and_refused_without_a_blurrer(env):
    c = client(env, "operator")
    r = c.get(f"/api/tracks/{env['recent']}/thumbnail")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg" and r.content[:2] == b"\xff\xd8"
    assert env["blurrer"].calls == [{"crop": (24, 16, 3), "class_name": "person"}]
    import cv2

    assert cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR).max() < 10  # the fake blurrer's black
    assert c.get(f"/api/tracks/{env['ids'][3]}/thumbnail").status_code == 404  # no thumbnail stored
    bare = TestClient(create_app(Services(store=env["store"], site=SITE)))
    bare.post("/api/login", json={"username": "operator", "password": PW})
    r = bare.get(f"/api/tracks/{env['recent']}/thumbnail")
    assert r.status_code == 503 and "blurred" in r.json()["error"]


def test_similar_and_trail(env):
    c = client(env, "investigator")
    r = c.get(f"/api/similar/{env['recent']}", params=JUST)
    assert r.status_code == 200 and r.json()["reference_track"] == env["recent"] and r.json()["hits"]
    g = c.get(f"/api/trail/{env['recent']}", params=JUST)
    assert g.status_code == 200 and g.json()["type"] == "FeatureCollection"
    assert g.json()["vigie"]["query_track_id"] == env["recent"]


def test_bad_search_fields_are_named(env):
    c = client(env, "investigator")
    r = c.post("/api/search", json={"colour": ["red"], **JUST})
    assert r.status_code == 422 and r.json()["field"] == "colour"
    r = c.post("/api/search", json={"upper": ["plaid"], **JUST})
    assert r.status_code == 422 and r.json()["field"].startswith("upper")
    r = c.post("/api/search", json={"cameras": ["nowhere"], **JUST})
    assert r.status_code == 400 and r.json()["field"] == "cameras" and "nowhere" in r.json()["error"]
    assert c.post("/api/search", content=b"not json", headers={"content-type": "application/json"}).status_code == 422


# --- hostile input --------------------------------------------------------------------------------------------
HOSTILE = [
    "x' OR 1=1 --",
    "'; DROP TABLE tracks; --",
    "../../etc/passwd",
    "%00",
    '" OR ""="',
    "cam-a\x00",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("bad", HOSTILE)
def test_hostile_strings_are_harmless(env, bad):
    store = env["store"]
    before = store.counts()
    inv, aud = client(env, "investigator"), client(env, "auditor")
    seg = quote(bad, safe="")
    responses = [
        inv.get("/api/tracks", params={"camera": bad, **JUST}),
        inv.get("/api/tracks", params={"class": bad, **JUST}),
        inv.get("/api/tracks", params={"case_ref": bad, "purpose": bad}),
        inv.post("/api/search", json={"cameras": [bad], **JUST}),
        inv.post("/api/search", json={"groups": [bad], "communes": [bad], **JUST}),
        inv.post("/api/search", json={"case_ref": bad, "purpose": bad}),
        inv.get(f"/api/tracks/{seg}"),
        inv.get(f"/api/tracks/{seg}/thumbnail"),
        inv.get(f"/api/similar/{seg}", params=JUST),
        inv.get(f"/api/trail/{seg}", params=JUST),
        inv.get("/api/tracks/" + "9" * 30),
        inv.get("/api/tracks/-1"),
        aud.get("/api/audit", params={"user": bad, "case_ref": bad}),
        aud.get("/api/audit", params={"action": bad}),
        aud.get("/api/audit", params={"start": bad}),
        TestClient(env["app"]).post("/api/login", json={"username": bad, "password": bad}),
    ]
    for r in responses:
        assert r.status_code < 500, (r.request.url, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/json")
    for r in responses[:2] + responses[3:5] + responses[6:12] + responses[13:]:
        assert 400 <= r.status_code < 500, (r.request.url, r.text)
    assert responses[2].status_code == 200 and responses[5].status_code == 200  # justification text is just text
    # the filter is a literal match: only the failed login made with that name, nothing else
    assert [(e["user"], e["action"]) for e in aud.get("/api/audit", params={"user": bad}).json()["items"]] == [
        (bad, "login_failed")
    ]
    after = store.counts()
    assert after == before and after["tracks"] == 4
    assert verify(store).ok


@pytest.mark.parametrize(
    "path",
    [
        "/api/tracks/..%2F..%2Fetc%2Fpasswd",
        "/api/../../etc/passwd",
        "/register/../../etc/passwd",
        "/api/trail/1;DROP TABLE tracks",
    ],
)
def test_path_traversal_is_harmless(env, path):
    r = client(env, "investigator").get(path, params=JUST)
    assert 400 <= r.status_code < 500 and "root:" not in r.text
    assert env["store"].counts()["tracks"] == 4


# --- audit ----------------------------------------------------------------------------------------------------
def test_every_look_is_audited_and_the_chain_stays_intact(env):
    store = env["store"]
    inv = client(env, "investigator")
    t = env["recent"]
    assert inv.post("/api/search", json={"upper": ["red"], "classes": ["person"], **JUST}).status_code == 200
    assert inv.get(f"/api/tracks/{t}", params=JUST).status_code == 200
    assert inv.get(f"/api/tracks/{t}/thumbnail", params=JUST).status_code == 200
    assert inv.get(f"/api/similar/{t}", params=JUST).status_code == 200
    assert inv.get(f"/api/trail/{t}", params=JUST).status_code == 200
    assert inv.get("/api/tracks", params=JUST).status_code == 200
    entries = [e for e in audit_query(store, user="investigator", limit=1000)]
    actions = [e.action for e in entries]
    assert actions == ["login", "search", "view_track", "view_track", "similar", "trail", "search"]
    for e in entries[1:]:
        assert (e.role, e.case_ref, e.purpose) == ("investigator", JUST["case_ref"], JUST["purpose"])
    assert entries[1].details_dict()["query"]["upper"] == ["red"]
    assert entries[3].details_dict()["thumbnail"] is True
    op = client(env, "operator")
    op.post("/api/search", json={})
    assert audit_query(store, user="operator", action="search")[0].details_dict()["query"]["start"]

    aud = client(env, "auditor")
    page = aud.get("/api/audit", params={"action": "search", "limit": 2}).json()
    assert page["limit"] == 2 and len(page["items"]) == 2 and all(e["action"] == "search" for e in page["items"])
    assert aud.get("/api/audit", params={"case_ref": JUST["case_ref"]}).json()["items"]
    r = aud.get("/api/audit", params={"action": "nonsense"})
    assert r.status_code == 400 and "nonsense" in r.json()["error"]
    v = aud.get("/api/audit/verify").json()
    assert v["ok"] is True and v["entries"] == len(audit_query(store, limit=1000))
    # refused calls are not audited as looks, and failed logins are
    client(env, "operator").get(f"/api/similar/{t}")
    TestClient(env["app"]).post("/api/login", json={"username": "auditor", "password": "nope nope nope"})
    assert not audit_query(store, user="operator", action="similar")
    assert audit_query(store, user="auditor", action="login_failed")


# --- register and openapi ----------------------------------------------------------------------------------------
def test_register_needs_no_login(env):
    c = TestClient(env["app"])
    r = c.get("/register.json")
    assert r.status_code == 200
    cams = {x["id"]: x for x in r.json()["cameras"]}
    assert set(cams) == {"cam-a", "cam-b"}
    a, b = cams["cam-a"], cams["cam-b"]
    assert (a["retention_days"], b["retention_days"]) == (10, 20)
    assert a["analytics"]["appearance_search"] is True and a["analytics"]["privacy_masks"] == 1
    assert a["analytics"]["appearance_model"] == "omz-0277+omz-0286"
    assert (
        "Apache-2.0" in a["analytics"]["appearance_licence"] and "human-rights" in a["analytics"]["appearance_licence"]
    )
    assert a["analytics"]["detector_model"] == "omz-pvb-2002"  # the default detector, and its makers' terms
    assert "Apache-2.0" in a["analytics"]["detector_licence"] and "human-rights" in a["analytics"]["detector_licence"]
    assert b["analytics"] == {
        "detection_classes": ["car"],
        "tracking": True,
        "detector_model": "omz-pvb-2002",
        "detector_licence": a["analytics"]["detector_licence"],
        "appearance_search": False,
        "appearance_model": None,
        "appearance_licence": None,
        "attributes": "vehicle type and colour",
        "attribute_licence": a["analytics"]["detector_licence"],  # Open Model Zoo's terms, as the detector's
        "privacy_masks": 0,
    }
    assert a["analytics"]["attributes"].startswith("people's clothing and carried objects")
    assert a["controller"] == "Nîmes test" and a["purpose"] == "public safety" and a["lat"] == 43.83
    csv_text = c.get("/register.csv").text
    assert csv_text.splitlines()[0].startswith("id,name,commune") and "'=Gare" in csv_text
    page = c.get("/register")
    assert page.status_code == 200 and "Esplanade" in page.text and "text/html" in page.headers["content-type"]
    assert "omz-0277+omz-0286" in page.text and "Apache-2.0" in page.text and "omz-pvb-2002" in page.text
    assert "clothing and carried objects" in page.text


def test_openapi_is_served(env):
    spec = TestClient(env["app"]).get("/openapi.json").json()
    for path in ("/api/login", "/api/search", "/api/tracks/{track_id}", "/api/audit/verify", "/register.json"):
        assert path in spec["paths"]


def test_serve_command_registers_and_bootstraps(tmp_path, monkeypatch, capsys):
    import argparse

    import uvicorn

    from vigie.cli import serve as commands

    monkeypatch.setenv("VIGIE_DATA", str(tmp_path / "fresh"))
    p = argparse.ArgumentParser()
    commands.register(p.add_subparsers(dest="cmd"))
    args = p.parse_args(["serve", "--port", "8123", "--no-blur"])
    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **kw: seen.update(app=app, host=host, port=port))
    assert args.fn(args) == 0
    assert seen["port"] == 8123 and seen["host"] == "127.0.0.1" and seen["app"].openapi()["info"]["title"] == "Vigie"
    out = capsys.readouterr().out
    # Issue 19 (finding 12): no password, nor the link, on stdout (service logs keep it): a 0600 file holds the link
    link_file = tmp_path / "fresh" / "first-admin-link.txt"
    assert "admin" in out and str(link_file) in out and "/enrol#" not in out
    assert "http://127.0.0.1:8123/enrol#" in link_file.read_text() and link_file.stat().st_mode & 0o777 == 0o600
    assert args.fn(args) == 0 and "exists already" in capsys.readouterr().out  # once


def test_the_vocabulary_lists_only_the_searchable_attributes_and_the_api_refuses_the_others(env):
    """Issue 18: attributes the network gets wrong too often on real footage are hidden from search."""
    c = client(env, "investigator")
    words = c.get("/api/search/vocabulary").json()
    assert words["attributes"] == ["long_trousers"]
    assert set(words["hidden_attributes"]) == {"bag", "backpack", "hat", "long_sleeves", "coat"}
    assert words["vehicle_types"] == ["car", "bus", "truck", "van"]
    r = c.post("/api/search", json={"with_attributes": ["bag"], **JUST})
    assert r.status_code == 400 and r.json()["field"] == "with_attributes" and "not searchable" in r.json()["error"]
    r = c.post("/api/search", json={"with_attributes": ["is_male"], **JUST})
    assert r.status_code in (400, 422)
    assert (
        c.post("/api/search", json={"with_attributes": ["long_trousers"], "vehicle_types": ["van"], **JUST}).status_code
        == 200
    )


def test_plain_words_are_read_back_with_unknown_and_refused_words(env):
    """Issue 18: the text is read into filters for the person to check; nothing is searched or audited."""
    c = client(env, "operator")
    r = c.post("/api/search/text", json={"text": "veste rouge, jean, casquette, vers le nord, xyzzy"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["language"] == "fr" and body["refused"] == [] and body["unknown"] == ["xyzzy"]
    f = body["filters"]
    assert f["upper"] == ["red"] and f["lower"] == ["blue"] and f["directions"] == ["N"]
    assert f["with_attributes"] == ["long_trousers"] and body["hidden_attributes"] == ["hat"]
    assert any("rouge" in line for line in body["readback"])
    r = c.post("/api/search/text", json={"text": "un homme avec un sac à dos"})
    body = r.json()
    assert body["refused"] == ["homme"] and "vêtements" in body["refusal"]
    assert body["hidden_attributes"] == ["backpack"] and "with_attributes" not in body["filters"]
    assert c.post("/api/search/text", json={"text": ""}).status_code in (400, 422)
    assert c.post("/api/search/text", json={"text": "x" * 501}).status_code in (400, 422)

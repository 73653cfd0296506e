"""The web API's workflows beyond looking: unblur grants, exports, legal holds,
user administration, settings, audit exports. Fixtures from test_web_api."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

import cv2
import numpy as np
from fastapi.testclient import TestClient
from test_web_api import JUST, PW, ROLES, SITE, cheap_hashing, client, env  # noqa: F401  (fixtures)

from vigie.audit.log import query as audit_query
from vigie.audit.log import verify
from vigie.retention.purge import purge
from vigie.settings import EffectiveSite


def _is_black(jpeg: bytes) -> bool:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).max() < 10


# --- unblurred views --------------------------------------------------------------------------------------------
def test_unblurred_thumbnail_needs_a_grant_of_ones_own_and_is_audited(env):
    t, store = env["recent"], env["store"]
    inv = client(env, "investigator")
    r = inv.get(f"/api/tracks/{t}/thumbnail", params={"unblurred": "true"})
    assert r.status_code == 403 and f"/api/tracks/{t}/unblur" in r.json()["error"]
    r = inv.post(f"/api/tracks/{t}/unblur", json=JUST)
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = inv.post(f"/api/tracks/{t}/unblur", json={**JUST, "reason": "identify the jacket's logo"})
    assert r.status_code == 201 and r.json()["track_id"] == t and r.json()["status"] == "pending"
    rid = r.json()["request_id"]
    status = inv.get(f"/api/tracks/{t}/unblur").json()
    assert status["open"] is False and status["pending"] is True and status["request_id"] == rid
    assert inv.get(f"/api/tracks/{t}/thumbnail", params={"unblurred": "true"}).status_code == 403  # not yet
    assert inv.post(f"/api/approvals/{rid}", json={"decision": "approve"}).status_code == 403  # not one's own
    sup = client(env, "supervisor")
    r = sup.post(f"/api/approvals/{rid}", json={"decision": "approve", "note": "case checked"})
    assert r.status_code == 200 and r.json()["status"] == "approved" and r.json()["grant_id"]
    assert sup.post(f"/api/approvals/{rid}", json={"decision": "reject"}).status_code == 409  # decided once
    status = inv.get(f"/api/tracks/{t}/unblur").json()
    assert status["open"] is True and status["approved_by"] == "supervisor"

    calls = len(env["blurrer"].calls)
    r = inv.get(f"/api/tracks/{t}/thumbnail", params={"unblurred": "true"})
    assert r.status_code == 200 and not _is_black(r.content)  # the stored crop, not the fake blurrer's black
    assert len(env["blurrer"].calls) == calls
    assert _is_black(inv.get(f"/api/tracks/{t}/thumbnail", params=JUST).content)  # blurred stays the default

    req = audit_query(store, action="unblur_request")[0]
    assert (req.user, req.case_ref, req.purpose) == ("investigator", JUST["case_ref"], JUST["purpose"])
    assert req.details_dict()["reason"] == "identify the jacket's logo"
    look = audit_query(store, action="view_unblurred")[0]
    assert look.details_dict()["track_id"] == t and look.case_ref == JUST["case_ref"]
    decision = audit_query(store, action="approval")[0]
    assert (decision.user, decision.role, decision.case_ref) == ("supervisor", "supervisor", JUST["case_ref"])
    assert (
        decision.details_dict()["decision"] == "approved" and decision.details_dict()["requested_by"] == "investigator"
    )

    # the grant is this user's, for this track, and it expires
    from vigie.accounts import users

    users.create_user(store, "investigator2", "investigator", PW)
    other = TestClient(env["app"])
    other.post("/api/login", json={"username": "investigator2", "password": PW})
    assert other.get(f"/api/tracks/{t}/thumbnail", params={"unblurred": "true"}).status_code == 403
    assert inv.get(f"/api/tracks/{env['ids'][1]}/thumbnail", params={"unblurred": "true"}).status_code == 403
    store.write(lambda conn: conn.execute("UPDATE unblur_grants SET expires_at = '2000-01-01T00:00:00Z'")).result()
    assert inv.get(f"/api/tracks/{t}/thumbnail", params={"unblurred": "true"}).status_code == 403
    # operators may not even ask
    assert client(env, "operator").post(f"/api/tracks/{t}/unblur", json={**JUST, "reason": "x"}).status_code == 403
    assert verify(store).ok


# --- exports ----------------------------------------------------------------------------------------------------
def test_export_is_a_zip_with_manifest_and_sums_and_the_server_keeps_its_hash(env):
    store, ids = env["store"], env["ids"]
    inv = client(env, "investigator")
    r = inv.post("/api/exports", json={"track_ids": [ids[0], ids[3], ids[0]], "clips": False, **JUST})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    digest = hashlib.sha256(r.content).hexdigest()
    assert r.headers["x-vigie-sha256"] == digest
    zf = zipfile.ZipFile(io.BytesIO(r.content))
    names = set(zf.namelist())
    assert {
        "manifest.json",
        "SHA256SUMS",
        f"tracks/{ids[0]}/track.json",
        f"tracks/{ids[0]}/thumbnail.jpg",
        f"tracks/{ids[3]}/track.json",
    } == names  # track 4 has no thumbnail; duplicates are exported once
    manifest = json.loads(zf.read("manifest.json"))
    assert (manifest["case_ref"], manifest["purpose"], manifest["exported_by"], manifest["blurred"]) == (
        JUST["case_ref"],
        JUST["purpose"],
        "investigator",
        True,
    )
    assert [t["track_id"] for t in manifest["tracks"]] == [ids[0], ids[3]]
    for line in zf.read("SHA256SUMS").decode().splitlines():
        h, name = line.split("  ")
        assert hashlib.sha256(zf.read(name)).hexdigest() == h
    assert _is_black(zf.read(f"tracks/{ids[0]}/thumbnail.jpg"))  # blurred
    assert len(json.loads(zf.read(f"tracks/{ids[0]}/track.json"))["points"]) == 5  # per-frame boxes

    entry = audit_query(store, action="export")[0]
    assert entry.details_dict()["sha256"] == digest and entry.case_ref == JUST["case_ref"]
    listed = inv.get("/api/exports").json()
    assert listed["total"] == 1 and listed["items"][0]["sha256"] == digest
    assert listed["items"][0]["ref"] == manifest["export_ref"] and listed["items"][0]["track_ids"] == [ids[0], ids[3]]
    assert client(env, "auditor").get("/api/exports").json()["total"] == 1
    # unblurred only with a grant per track; without justification nothing at all
    r = inv.post("/api/exports", json={"track_ids": [ids[0]], "unblurred": True, "clips": False, **JUST})
    assert r.status_code == 403 and str(ids[0]) in r.json()["error"]
    # (issue 20: no case open for the session, none given: refused naming both fields, as every justified call)
    r = inv.post("/api/exports", json={"track_ids": [ids[0]], "clips": False})
    assert r.status_code == 400 and r.json()["missing"] == ["case_ref", "purpose"]
    r = inv.post("/api/exports", json={"track_ids": [999999], "clips": False, **JUST})
    assert r.status_code == 404
    assert len(audit_query(store, action="export")) == 1


# --- legal holds -----------------------------------------------------------------------------------------------
def test_holds_through_the_api_keep_tracks_from_purge_and_are_audited(env):
    store, old = env["store"], env["old"]
    inv = client(env, "investigator")
    r = inv.post("/api/holds", json={"case_ref": "PV-2026-0142", "reason": "court order 12/2026", "track_ids": [old]})
    assert r.status_code == 201
    hold_id = r.json()["id"]
    assert [h["track_ids"] for h in inv.get("/api/holds", params=JUST).json()["items"]] == [[old]]
    report = purge(
        store,
        SITE.model_copy(
            update={"retention_days": 1, "cameras": [c.model_copy(update={"retention_days": 1}) for c in SITE.cameras]}
        ),
        dry_run=True,
    )
    assert report.tracks_held == 1
    placed = audit_query(store, action="hold_place")[0]
    assert (placed.user, placed.case_ref, placed.purpose) == ("investigator", "PV-2026-0142", "court order 12/2026")
    r = inv.post("/api/holds", json={"case_ref": "PV-1", "reason": "x", "track_ids": [999999]})
    assert r.status_code == 400 and "999999" in r.json()["error"]
    lifting = {"reason": "case closed: court ruling of 2026-12-01"}
    assert inv.post(f"/api/holds/{hold_id}/lift", json=lifting).status_code == 200
    r = inv.post(f"/api/holds/{hold_id}/lift", json=lifting)
    assert r.status_code == 400 and "already lifted" in r.json()["error"]
    lifted = audit_query(store, action="hold_lift")[0]
    assert (lifted.case_ref, lifted.purpose) == ("PV-2026-0142", lifting["reason"])
    assert inv.get("/api/holds", params=JUST).json()["total"] == 0
    assert inv.get("/api/holds", params={"all": 1, **JUST}).json()["total"] == 1


def test_a_hold_is_lifted_by_its_placer_or_a_supervisor_with_a_reason_and_its_window_is_bounded(env):
    """Issue 19, finding 4: any investigator lifted anyone's hold without a reason (the next purge then
    deleted the footage), and a hold over a whole camera for all time was accepted (retention off)."""
    from vigie.accounts import users

    store, old = env["store"], env["old"]
    users.create_user(store, "investigator2", "investigator", PW)
    inv, sup = client(env, "investigator"), client(env, "supervisor")
    other = client(env, None)
    assert other.post("/api/login", json={"username": "investigator2", "password": PW}).status_code == 200

    # a window over the whole camera for all time, or any longer than the site's bound: refused
    forever = {"case_ref": "PV-9", "reason": "keep it all", "camera_id": "cam-a"}
    r = inv.post("/api/holds", json={**forever, "start": "1970-01-01T00:00:00Z", "end": "9999-12-31T00:00:00Z"})
    assert r.status_code == 403 and "hold_max_window_days" in r.json()["error"]
    r = inv.post("/api/holds", json={**forever, "start": "2026-11-01T00:00:00Z", "end": "2026-11-08T00:00:01Z"})
    assert r.status_code == 403 and "7 days" in r.json()["error"]
    r = inv.post("/api/holds", json={**forever, "start": "2026-11-01T00:00:00Z", "open_ended": True})
    assert r.status_code == 403 and "supervisor" in r.json()["error"]
    assert not audit_query(store, action="hold_place")
    r = inv.post("/api/holds", json={**forever, "start": "2026-11-01T00:00:00Z", "end": "2026-11-03T00:00:00Z"})
    assert r.status_code == 201
    # a supervisor may place an open-ended one (kept until lifted)
    r = sup.post("/api/holds", json={**forever, "start": "2026-11-01T00:00:00Z", "open_ended": True})
    assert r.status_code == 201
    open_ended = r.json()["id"]
    held = {h["id"]: h for h in sup.get("/api/holds", params=JUST).json()["items"]}
    assert held[open_ended]["window_end"].startswith("9999-")

    r = inv.post("/api/holds", json={"case_ref": "PV-2026-0142", "reason": "court order", "track_ids": [old]})
    hold_id = r.json()["id"]
    # another investigator may not lift it, even with a reason; nobody lifts without one
    r = other.post(f"/api/holds/{hold_id}/lift", json={"reason": "not needed"})
    assert r.status_code == 403 and "placed by investigator" in r.json()["error"]
    r = inv.post(f"/api/holds/{hold_id}/lift")
    assert r.status_code == 422  # no reason given
    r = inv.post(f"/api/holds/{hold_id}/lift", json={"reason": ""})
    assert r.status_code == 422 and r.json()["field"] == "reason"
    assert not audit_query(store, action="hold_lift")
    assert inv.get("/api/holds", params=JUST).json()["total"] == 3  # nothing lifted
    # a supervisor may, with a reason, audited
    r = sup.post(f"/api/holds/{hold_id}/lift", json={"reason": "the prosecutor closed the case"})
    assert r.status_code == 200 and r.json()["lifted_by"] == "supervisor"
    lifted = audit_query(store, action="hold_lift")[0]
    assert (lifted.user, lifted.role, lifted.case_ref, lifted.purpose) == (
        "supervisor",
        "supervisor",
        "PV-2026-0142",
        "the prosecutor closed the case",
    )
    assert lifted.details_dict()["placed_by"] == "investigator"
    assert verify(store).ok


# --- users ------------------------------------------------------------------------------------------------------
def test_admin_manages_accounts_and_every_change_is_audited(env):
    """Issue 19 (finding 1): the admin gets links, never passwords; roles that see media wait for a supervisor."""
    store = env["store"]
    adm = client(env, "admin")
    sup = client(env, "supervisor")
    r = adm.post("/api/users", json={"username": "j.martin", "role": "analyst"})  # no media: applies at once
    assert r.status_code == 201 and r.json()["role"] == "analyst" and r.json()["pending_role"] is None
    assert "password" not in r.json() and "password_hash" not in r.json()
    link = r.json()["enrolment_link"]
    assert link.startswith("/enrol#")
    jm = TestClient(env["app"])
    token = link.split("#", 1)[1]
    assert jm.post("/api/enrol/check", json={"token": token}).json()["username"] == "j.martin"
    assert (
        jm.post("/api/enrol", json={"token": token, "new_password": "password1234"}).json()["field"] == "new_password"
    )
    assert jm.post("/api/enrol", json={"token": token, "new_password": "jm's own passphrase"}).status_code == 200
    assert jm.post("/api/enrol", json={"token": token, "new_password": "jm's other passphrase"}).status_code == 404
    assert jm.post("/api/login", json={"username": "j.martin", "password": "jm's own passphrase"}).status_code == 200
    assert adm.post("/api/users", json={"username": "j.martin", "role": "operator"}).status_code == 400  # exists
    assert adm.post("/api/users", json={"username": "bad name", "role": "operator"}).status_code == 422
    assert adm.post("/api/users", json={"username": "x", "role": "superuser"}).json()["field"] == "role"

    r = adm.patch("/api/users/j.martin", json={"role": "investigator"})  # sees media: a supervisor approves
    assert r.status_code == 200 and r.json()["role"] == "analyst" and r.json()["pending_role"] == "investigator"
    rid = r.json()["pending_request"]
    assert jm.get("/api/me").json()["role"] == "analyst"
    assert sup.post(f"/api/approvals/{rid}", json={"decision": "approve"}).json()["status"] == "approved"
    assert jm.get("/api/me").status_code == 401  # a role change ends the sessions
    jm.post("/api/login", json={"username": "j.martin", "password": "jm's own passphrase"})
    assert jm.get("/api/me").json()["role"] == "investigator"
    assert adm.patch("/api/users/j.martin", json={"disabled": True}).json()["disabled"] is True
    assert jm.get("/api/me").status_code == 401
    assert jm.post("/api/login", json={"username": "j.martin", "password": "jm's own passphrase"}).status_code == 401
    assert adm.patch("/api/users/j.martin", json={"disabled": False}).json()["disabled"] is False
    r = adm.post("/api/users/j.martin/password").json()  # an investigator's reset: the link goes to the supervisor
    assert r["status"] == "pending" and "reset_link" not in r
    out = sup.post(f"/api/approvals/{r['request_id']}", json={"decision": "approve"}).json()
    reset = out["reset_link"].split("#", 1)[1]
    assert jm.post("/api/enrol", json={"token": reset, "new_password": "jm's newer passphrase"}).status_code == 200
    assert jm.post("/api/login", json={"username": "j.martin", "password": "jm's newer passphrase"}).status_code == 200
    r = adm.post("/api/users/auditor/password").json()  # no media: the link is the admin's to hand over
    assert r["status"] == "issued" and r["reset_link"].startswith("/enrol#")
    assert adm.patch("/api/users/admin", json={"disabled": True}).status_code == 400  # not oneself
    assert adm.patch("/api/users/admin", json={"role": "operator"}).status_code == 400
    assert adm.patch("/api/users/nobody", json={"role": "operator"}).status_code == 404
    listed = adm.get("/api/users", params={"limit": 2}).json()
    assert listed["total"] == 8 and len(listed["items"]) == 2  # one account per role, and j.martin
    assert all("password_hash" not in u for u in listed["items"]) and "supervisor" in listed["roles"]
    ops = [e.details_dict()["op"] for e in audit_query(store, user="admin", action="user_admin", limit=100)]
    assert ops == ["create", "enrol_link", "role_request", "disable", "enable", "reset_request", "reset_link"]
    assert verify(store).ok


# --- settings ----------------------------------------------------------------------------------------------------
def test_admin_shortens_retention_within_the_legal_maximum(env):
    store = env["store"]
    adm = client(env, "admin")
    assert adm.get("/api/settings").json()["retention_days"] == {"cam-a": 10, "cam-b": 20}
    r = adm.put("/api/settings", json={"key": "retention_days:cam-b", "value": 31})
    assert r.status_code == 400 and "from 1 to 30" in r.json()["error"]
    r = adm.put("/api/settings", json={"key": "retention_days:nowhere", "value": 5})
    assert r.status_code == 400 and "nowhere" in r.json()["error"] and "cam-a" in r.json()["error"]
    assert adm.put("/api/settings", json={"key": "colour", "value": 5}).status_code == 400
    r = adm.put("/api/settings", json={"key": "retention_days:cam-b", "value": 2})
    assert r.status_code == 200 and r.json() == {"key": "retention_days:cam-b", "old": None, "new": 2}
    adm.put("/api/settings", json={"key": "controller", "value": "Ville de Nîmes, dpo@example.org"})
    public = TestClient(env["app"]).get("/register.json").json()["cameras"]
    assert {c["id"]: c["retention_days"] for c in public} == {"cam-a": 10, "cam-b": 2}
    assert public[0]["controller"] == "Ville de Nîmes, dpo@example.org"
    # purge obeys the stored setting: track 3 (3 days old, cam-b) now expires
    report = purge(store, EffectiveSite(SITE, store), dry_run=True)
    assert {c.camera_id: c.tracks_removed for c in report.cameras}["cam-b"] == 1
    entry = audit_query(store, action="settings")[0]
    assert entry.user == "admin" and entry.details_dict() == {"key": "retention_days:cam-b", "old": None, "new": 2}
    # a value above a later-lowered legal maximum is capped, never obeyed
    lowered = SITE.model_copy(
        update={
            "legal_max_retention_days": 1,
            "retention_days": 1,
            "cameras": [c.model_copy(update={"retention_days": None}) for c in SITE.cameras],
        }
    )
    assert EffectiveSite(lowered, store).retention_for("cam-b") == 1


# --- audit exports ------------------------------------------------------------------------------------------------
def test_auditor_exports_the_log_and_the_export_is_itself_audited(env):
    store = env["store"]
    TestClient(env["app"]).post("/api/login", json={"username": "=cmd|' /C calc'!A0", "password": "whatever whatever"})
    aud = client(env, "auditor")
    r = aud.get("/api/audit/export", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][:5] == ["seq", "at", "user", "role", "action"]
    assert any(row[2] == "'=cmd|' /C calc'!A0" for row in rows[1:])  # no formula for the spreadsheet
    r = aud.get("/api/audit/export", params={"format": "jsonl", "action": "login"})
    lines = [json.loads(x) for x in r.text.splitlines()]
    assert lines and all(x["action"] == "login" for x in lines)
    assert aud.get("/api/audit/export", params={"format": "xml"}).status_code == 422
    assert aud.get("/api/audit/export", params={"start": "yesterday"}).status_code == 400
    exports = audit_query(store, action="audit_export")
    assert len(exports) == 2 and exports[0].user == "auditor"
    aud.get("/api/audit")
    assert audit_query(store, action="audit_read")[0].user == "auditor"
    assert client(env, "admin").get("/api/audit/export").status_code == 403


def test_map_config_comes_from_the_site_file(env):
    assert client(env, "operator").get("/api/map").json() == {"tile_url": None, "attribution": "", "max_zoom": 19}


# --- hostile input on the workflow endpoints ------------------------------------------------------------------------
HOSTILE = [
    "x' OR 1=1 --",
    "'; DROP TABLE users; --",
    "../../etc/passwd",
    "..%2F..%2Fvigie.db",
    "<script>alert(1)</script>",
    "a\x00b",
]


def test_hostile_strings_in_workflow_parameters_are_harmless(env):
    from urllib.parse import quote

    store = env["store"]
    before = store.counts()
    inv, adm, aud = client(env, "investigator"), client(env, "admin"), client(env, "auditor")
    t = env["recent"]
    for bad in HOSTILE:
        seg = quote(bad, safe="")
        responses = [
            adm.patch(f"/api/users/{seg}", json={"disabled": True}),
            adm.post(f"/api/users/{seg}/password"),
            adm.post("/api/users", json={"username": bad, "role": "operator"}),
            adm.put("/api/settings", json={"key": bad, "value": 5}),
            adm.put("/api/settings", json={"key": f"retention_days:{bad}", "value": 5}),
            adm.put("/api/settings", json={"key": "controller", "value": bad}),  # free text: stored as text
            inv.post(
                "/api/holds",
                json={
                    "case_ref": bad,
                    "reason": bad,
                    "camera_id": bad,
                    "start": "2026-11-20T13:00:00Z",
                    "end": "2026-11-20T14:00:00Z",
                },
            ),
            inv.post(f"/api/holds/{seg}/lift"),
            inv.post(f"/api/tracks/{seg}/unblur", json={**JUST, "reason": bad}),
            inv.post(f"/api/tracks/{t}/unblur", json={"case_ref": bad, "purpose": bad, "reason": bad}),
            inv.get(f"/api/tracks/{t}/clip", params={"format": bad, **JUST}),
            inv.get(f"/api/tracks/{seg}/clip", params=JUST),
            inv.post("/api/exports", json={"track_ids": [bad], **JUST}),
            aud.get("/api/audit/export", params={"user": bad, "case_ref": bad, "action": "login"}),
            aud.get("/api/audit/export", params={"start": bad}),
        ]
        for r in responses:
            assert r.status_code < 500, (r.request.url, r.status_code, r.text)
        assert "root:" not in "".join(r.text for r in responses)
        for r in responses[:5] + responses[7:9] + responses[10:13] + responses[14:]:
            assert 400 <= r.status_code < 500, (r.request.url, r.status_code, r.text)
    after = store.counts()
    assert after["tracks"] == before["tracks"] == 4
    from vigie.accounts.users import list_users

    assert sorted(u.username for u in list_users(store)) == sorted(ROLES)  # the fixture's one account per role
    assert all(not u.disabled for u in list_users(store))
    assert verify(store).ok


# --- clips: byte ranges -------------------------------------------------------------------------------------------
def test_the_clip_answers_byte_ranges_and_every_look_is_audited_whatever_its_range(env, monkeypatch):
    """A browser seeks in a clip by asking for ranges: each answered with 206 and Content-Range. Issue 19,
    finding 2: `Range: bytes=1-` fetched the clip whole but for one byte and no view was logged. Now every
    request without a play's token is audited, whatever its range; a play (POST .../play) is audited once
    when it starts, and its token's range requests are not audited again."""
    from types import SimpleNamespace

    from vigie.media import clips

    data = bytes(range(256)) * 40  # 10,240 bytes standing in for a rendered WebM
    monkeypatch.setattr(clips, "render_clip", lambda *a, **k: SimpleNamespace(data=data))
    t, inv = env["recent"], client(env, "investigator")
    url = f"/api/tracks/{t}/clip"
    views = lambda: audit_query(env["store"], action="view_clip", limit=1000)  # noqa: E731
    before = len(views())

    # the attack: all but the first byte, asked as a range
    r = inv.get(url, params=JUST, headers={"Range": "bytes=1-"})
    assert r.status_code == 206 and r.content == data[1:]
    assert len(views()) == before + 1
    seen = views()[-1]
    assert (seen.case_ref, seen.purpose) == (JUST["case_ref"], JUST["purpose"])
    assert seen.details_dict()["range"] == "bytes=1-" and seen.details_dict()["track_id"] == t

    r = inv.get(url, params=JUST)
    assert r.status_code == 200 and r.content == data and r.headers["accept-ranges"] == "bytes"
    for asked, (start, end) in {
        "bytes=0-": (0, 10239),
        "bytes=100-199": (100, 199),
        "bytes=10000-": (10000, 10239),
        "bytes=-40": (10200, 10239),
        "bytes=10200-99999": (10200, 10239),
    }.items():
        r = inv.get(url, params=JUST, headers={"Range": asked})
        assert r.status_code == 206 and r.content == data[start : end + 1], asked
        assert r.headers["content-range"] == f"bytes {start}-{end}/{len(data)}"
    assert len(views()) == before + 7  # each request without a play's token is a look
    r = inv.get(url, params=JUST, headers={"Range": "bytes=20000-"})
    assert (
        r.status_code == 416 and r.headers["content-range"] == f"bytes */{len(data)}" and "outside" in r.json()["error"]
    )
    for unserved in ("bytes=0-1,5-9", "items=0-5", "bytes=x-y"):  # the whole clip, as RFC 9110 allows
        r = inv.get(url, params=JUST, headers={"Range": unserved})
        assert r.status_code == 200 and r.content == data, unserved
    assert len(views()) == before + 10  # 416 sent nothing: not a look

    # a play: audited once when it starts, with its justification; its ranges are part of it
    r = inv.post(f"/api/tracks/{t}/play", json={"format": "webm", **JUST})
    assert r.status_code == 201
    play = r.json()
    assert play["url"].startswith(url + "?play=") and play["expires_in_s"] > 0
    assert len(views()) == before + 11
    started = views()[-1]
    assert started.details_dict()["play"] == play["play_id"] and started.case_ref == JUST["case_ref"]
    for asked in ("bytes=0-", "bytes=1-", "bytes=5000-", "bytes=-40"):
        assert inv.get(play["url"], headers={"Range": asked}).status_code == 206
    assert inv.get(play["url"]).content == data
    assert len(views()) == before + 11
    # a token is its user's, for its track: another user, another track or a forged token is refused
    from vigie.accounts import users

    users.create_user(env["store"], "investigator2", "investigator", PW)
    other = client(env, None)
    other.post("/api/login", json={"username": "investigator2", "password": PW})
    token = play["url"].split("play=")[1]
    for c, path in (
        (other, play["url"]),
        (inv, f"/api/tracks/{env['ids'][1]}/clip?play={token}"),
        (inv, f"{url}?play=forged-token"),
    ):
        r = c.get(path, headers={"Range": "bytes=1-"})
        assert r.status_code == 403 and "start the play again" in r.json()["error"], path
    assert len(views()) == before + 11
    # an investigator gives a case reference and a purpose to start a play too
    r = inv.post(f"/api/tracks/{t}/play", json={"format": "webm"})
    assert r.status_code == 400 and set(r.json()["missing"]) == {"case_ref", "purpose"}
    assert verify(env["store"]).ok


def test_an_unblurred_play_is_audited_under_its_grant_and_ends_with_it(env, monkeypatch):
    """Issue 19, finding 2: an unblurred clip's look is logged whatever its range, under the grant's case."""
    from types import SimpleNamespace

    from vigie.media import clips

    data = bytes(range(256)) * 4
    monkeypatch.setattr(clips, "render_clip", lambda *a, **k: SimpleNamespace(data=data))
    t, store, inv = env["recent"], env["store"], client(env, "investigator")
    r = inv.post(f"/api/tracks/{t}/unblur", json={**JUST, "reason": "read the plate"})
    assert r.status_code == 201  # a request: a supervisor opens the grant (finding 1)
    approved = client(env, "supervisor").post(f"/api/approvals/{r.json()['request_id']}", json={"decision": "approve"})
    assert approved.status_code == 200
    looks = lambda: audit_query(store, action="view_unblurred", limit=1000)  # noqa: E731
    r = inv.get(f"/api/tracks/{t}/clip", params={"unblurred": "true"}, headers={"Range": "bytes=1-"})
    assert r.status_code == 206 and r.content == data[1:] and len(looks()) == 1
    assert looks()[0].case_ref == JUST["case_ref"] and looks()[0].details_dict()["range"] == "bytes=1-"
    play = inv.post(f"/api/tracks/{t}/play", json={"unblurred": True}).json()  # the grant justifies it
    assert len(looks()) == 2 and looks()[1].details_dict()["play"] == play["play_id"]
    assert inv.get(play["url"], headers={"Range": "bytes=9-"}).status_code == 206 and len(looks()) == 2
    store.write(lambda conn: conn.execute("UPDATE unblur_grants SET expires_at = '2000-01-01T00:00:00Z'")).result()
    assert inv.get(play["url"], headers={"Range": "bytes=9-"}).status_code == 403  # the grant is checked each time

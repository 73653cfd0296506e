"""The moderation API for citizen reports (/api/reports): moderators only, every read and decision audited.

Roles per endpoint, the decisions (accept, reject, merge, redact, status) and
their conflicts, the audit entries, and contact details shown to moderators
and to nobody else.
"""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest
from argon2 import PasswordHasher
from builders import english_site, logged_in
from fakes import FakeBlurrer
from fastapi.testclient import TestClient
from PIL import Image

from vigie.accounts import users
from vigie.audit.log import query as audit_query
from vigie.audit.log import verify
from vigie.citizen import reports
from vigie.config import CameraConfig, Open311Config
from vigie.services import Services
from vigie.store.sqlite import SQLiteStore
from vigie.web.app import create_app

PW = "correct horse battery"
ROLES = ("operator", "investigator", "auditor", "admin", "analyst", "moderator")
SITE = english_site(
    name="Nîmes test",
    open311=Open311Config(jurisdiction_id="nimes.fr"),
    cameras=[CameraConfig(id="cam-a", name="Esplanade", lat=43.83, lon=4.36)],
)
CONTACT = {
    "email": "paul.planted@example.org",
    "first_name": "Paulplanted",
    "last_name": "Martinplanted",
    "phone": "+33 4 66 00 00 01",
    "device_id": "dev-planted",
    "account_id": "acct-planted",
}


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (120, 130, 140)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    store = SQLiteStore(tmp_path)
    for role in ROLES:
        users.create_user(store, role, role, PW)
    app = create_app(Services(store=store, site=SITE, blurrer=FakeBlurrer(paint="none")))
    public = TestClient(app, client=("198.51.100.40", 1))
    tokens = []
    for i, (code, text) in enumerate(
        [
            ("streetlight", "Street light out at the corner of rue Bigot."),
            ("graffiti", "Tags on the school wall, rue Rouget de Lisle."),
            ("graffiti", "Same tags again on the school wall of rue Rouget de Lisle."),
        ]
    ):
        r = public.post(
            "/open311/v2/requests.json",
            data={"service_code": code, "lat": "43.84", "long": "4.35", "description": text, **CONTACT},
            files={"media": ("p.jpg", _jpeg(), "image/jpeg")} if i == 0 else None,
        )
        assert r.status_code == 200, r.text
        tokens.append(r.json()[0]["token"])
    with store.read() as conn:
        ids = [
            conn.execute("SELECT id FROM citizen_reports WHERE token_hash = ?", (reports.token_hash(t),)).fetchone()[0]
            for t in tokens
        ]
    yield {"store": store, "app": app, "ids": ids, "tokens": tokens, "public": public}
    store.close()


def client(env, role=None) -> TestClient:
    return logged_in(env["app"], role, PW)


def audit(env, action):
    return [e.details_dict() for e in audit_query(env["store"], action=action)]


# --- roles ---------------------------------------------------------------------------------------------------------
CALLS = {  # endpoint -> (method, path, body); {id} is the first report (pending, with a photo)
    "reports": ("get", "/api/reports?moderation=pending", None),
    "report": ("get", "/api/reports/{id}", None),
    "report_photo": ("get", "/api/reports/{id}/photo", None),
    "report_decision": ("post", "/api/reports/{id}/decision", {"decision": "accept"}),
    "report_redact": ("post", "/api/reports/{id}/redact", {"description": "Street light out."}),
    "report_status": ("post", "/api/reports/{id}/status", {"status": "closed", "status_notes": "Repaired."}),
}


def _call(c, env, endpoint):
    method, path, body = CALLS[endpoint]
    path = path.format(id=env["ids"][0])
    return getattr(c, method)(path, json=body) if body is not None else getattr(c, method)(path)


@pytest.mark.parametrize("endpoint", sorted(CALLS))
@pytest.mark.parametrize("role", ROLES)
def test_only_moderators_may(env, role, endpoint):
    if endpoint == "report_status":  # a status needs an accepted report
        reports.decide(env["store"], env["ids"][0], "accept", "moderator", "moderator", datetime.now(timezone.utc))
    r = _call(client(env, role), env, endpoint)
    if role == "moderator":
        assert r.status_code == 200, r.text
    else:
        assert r.status_code == 403 and role in r.json()["error"] and "reports_moderate" in r.json()["error"]


@pytest.mark.parametrize("endpoint", sorted(CALLS))
def test_no_session_is_401(env, endpoint):
    r = _call(client(env), env, endpoint)
    assert r.status_code == 401 and "not logged in" in r.json()["error"]


# --- reading the queue ------------------------------------------------------------------------------------------------
def test_the_queue_shows_contact_details_to_moderators_and_is_audited(env):
    c = client(env, "moderator")
    r = c.get("/api/reports", params={"moderation": "pending"})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 3 and [i["id"] for i in body["items"]] == env["ids"]  # oldest first: the queue's order
    first = body["items"][0]
    assert first["contact"] == CONTACT and first["moderation"] == "pending" and first["has_photo"] is True
    assert "token_hash" not in first and "client_hash" not in first and "photo" not in first
    one = c.get(f"/api/reports/{env['ids'][0]}").json()
    assert one["contact"] == CONTACT and one["photo_url"] == f"/api/reports/{env['ids'][0]}/photo"
    photo = c.get(one["photo_url"])
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(photo.content)).format == "JPEG"
    assert c.get(f"/api/reports/{env['ids'][1]}/photo").status_code == 404  # no photo
    assert c.get("/api/reports/999999").status_code == 404
    assert c.get("/api/reports", params={"moderation": "accepted"}).json()["total"] == 0
    assert c.get("/api/reports", params={"moderation": "bogus"}).status_code == 422
    seen = audit(env, "view_reports")
    assert {
        "moderation": "pending",
        "limit": 100,
        "offset": 0,
        "total": 3,
        "ids": env["ids"],
    } in seen  # whose contacts were shown
    assert {"report_id": env["ids"][0]} in seen and {"report_id": env["ids"][0], "photo": True} in seen


# --- decisions -------------------------------------------------------------------------------------------------------
def test_accept_then_a_second_decision_is_409_naming_the_first(env):
    c, rid = client(env, "moderator"), env["ids"][0]
    r = c.post(f"/api/reports/{rid}/decision", json={"decision": "accept"})
    assert r.status_code == 200 and r.json()["moderation"] == "accepted" and r.json()["service_request_id"] == rid
    for decision in ({"decision": "accept"}, {"decision": "reject", "reason": "too late"}):
        r = c.post(f"/api/reports/{rid}/decision", json=decision)
        assert r.status_code == 409
        assert f"report {rid} was already accepted by moderator" in r.json()["error"]
    assert env["public"].get(f"/open311/v2/requests/{rid}.json").status_code == 200
    [entry] = audit(env, "report_moderate")
    assert entry["report_id"] == rid and entry["decision"] == "accept" and entry["was"] == "pending"
    assert verify(env["store"]).ok


def test_reject_needs_a_reason_and_stays_private(env):
    c, rid = client(env, "moderator"), env["ids"][1]
    r = c.post(f"/api/reports/{rid}/decision", json={"decision": "reject"})
    assert r.status_code == 400 and "needs a reason" in r.json()["error"]
    r = c.post(f"/api/reports/{rid}/decision", json={"decision": "reject", "reason": "describes a person"})
    assert r.status_code == 200 and r.json()["moderation"] == "rejected"
    assert c.get(f"/api/reports/{rid}").json()["reject_reason"] == "describes a person"
    r = c.post(f"/api/reports/{rid}/decision", json={"decision": "accept"})
    assert r.status_code == 409 and "already rejected" in r.json()["error"]
    assert env["public"].get(f"/open311/v2/requests/{rid}.json").status_code == 404
    r = c.post(f"/api/reports/{rid}/status", json={"status": "closed"})
    assert r.status_code == 409 and "only accepted reports" in r.json()["error"]
    # the reason's length only: the audit log, never deleted, keeps no text that may quote personal data
    assert audit(env, "report_moderate")[-1] == {
        "report_id": rid,
        "decision": "reject",
        "reason_chars": len("describes a person"),
        "merge_into": None,
        "was": "pending",
    }


def test_merge_into_an_accepted_report_only(env):
    c = client(env, "moderator")
    target, dup = env["ids"][1], env["ids"][2]
    r = c.post(f"/api/reports/{dup}/decision", json={"decision": "merge", "merge_into": target})
    assert r.status_code == 400 and f"report {target} is pending" in r.json()["error"]
    r = c.post(f"/api/reports/{dup}/decision", json={"decision": "merge"})
    assert r.status_code == 400 and "merge_into" in r.json()["error"]
    r = c.post(f"/api/reports/{dup}/decision", json={"decision": "merge", "merge_into": 424242})
    assert r.status_code == 400 and "does not exist" in r.json()["error"]
    r = c.post(f"/api/reports/{dup}/decision", json={"decision": "accept", "merge_into": target})
    assert r.status_code == 400
    assert c.post(f"/api/reports/{target}/decision", json={"decision": "accept"}).status_code == 200
    r = c.post(f"/api/reports/{dup}/decision", json={"decision": "merge", "merge_into": target})
    assert r.status_code == 200 and r.json()["merged_into"] == target and r.json()["service_request_id"] == target
    r = c.post(f"/api/reports/{dup}/decision", json={"decision": "accept"})
    assert r.status_code == 409 and f"already merged into report {target}" in r.json()["error"]
    [state] = env["public"].get(f"/open311/v2/tokens/{env['tokens'][2]}.json").json()
    assert state["service_request_id"] == target and state["moderation"] == "merged"
    # an accepted report found to be a duplicate later: merged, its reports follow it to the new target
    first = env["ids"][0]
    assert c.post(f"/api/reports/{first}/decision", json={"decision": "accept"}).status_code == 200
    assert c.post(f"/api/reports/{target}/decision", json={"decision": "merge", "merge_into": first}).status_code == 200
    for token in env["tokens"]:
        assert env["public"].get(f"/open311/v2/tokens/{token}.json").json()[0]["service_request_id"] == first
    assert [e["decision"] for e in audit(env, "report_moderate")] == ["accept", "merge", "accept", "merge"]


def test_redaction_replaces_the_text_and_keeps_no_copy(env):
    c, rid = client(env, "moderator"), env["ids"][0]
    secret = "Street light out at the corner of rue Bigot."
    r = c.post(
        f"/api/reports/{rid}/redact", json={"description": "Street light out at a corner.", "remove_photo": True}
    )
    assert r.status_code == 200 and r.json()["redacted"] is True and r.json()["has_photo"] is False
    one = c.get(f"/api/reports/{rid}").json()
    assert (
        one["description"] == "Street light out at a corner." and one["redacted"] is True and one["has_photo"] is False
    )
    assert c.get(f"/api/reports/{rid}/photo").status_code == 404
    entry = audit(env, "report_moderate")[-1]
    assert entry == {
        "report_id": rid,
        "decision": "redact",
        "chars_before": len(secret),
        "chars_after": 29,
        "photo_removed": True,
    }
    c.post(f"/api/reports/{rid}/decision", json={"decision": "accept"})
    [req] = env["public"].get(f"/open311/v2/requests/{rid}.json").json()
    assert req["description"] == "Street light out at a corner." and req["media_url"] is None
    with env["store"].read() as conn:  # nowhere in the store any more (the audit log included)
        dump = "\n".join(conn.iterdump())
    assert "rue Bigot" not in dump


def test_status_updates_are_public_and_followed_by_token(env):
    c, rid = client(env, "moderator"), env["ids"][0]
    r = c.post(f"/api/reports/{rid}/status", json={"status": "closed", "status_notes": "x"})
    assert r.status_code == 409 and "pending" in r.json()["error"]
    c.post(f"/api/reports/{rid}/decision", json={"decision": "accept"})
    r = c.post(f"/api/reports/{rid}/status", json={"status": "closed", "status_notes": "Lamp replaced on 21 November."})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert c.post(f"/api/reports/{rid}/status", json={"status": "done"}).status_code == 422
    [req] = env["public"].get(f"/open311/v2/requests/{rid}.json").json()
    assert req["status"] == "closed" and req["status_notes"] == "Lamp replaced on 21 November."
    assert req["updated_datetime"] >= req["requested_datetime"]
    [state] = env["public"].get(f"/open311/v2/tokens/{env['tokens'][0]}.json").json()
    assert state["status"] == "closed" and state["status_notes"] == "Lamp replaced on 21 November."
    assert audit(env, "report_moderate")[-1] == {
        "report_id": rid,
        "decision": "status",
        "status": "closed",
        "status_notes": "Lamp replaced on 21 November.",
    }


def test_decisions_on_missing_reports_are_404(env):
    c = client(env, "moderator")
    for path, body in (
        ("decision", {"decision": "accept"}),
        ("redact", {"description": "x"}),
        ("status", {"status": "open"}),
    ):
        r = c.post(f"/api/reports/999999/{path}", json=body)
        assert r.status_code == 404 and "no citizen report has id 999999" in r.json()["error"]
    assert audit(env, "report_moderate") == []

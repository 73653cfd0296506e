"""Issue 19, findings 1 and 12: nobody but its owner sees a password, a supervisor approves what opens
media, passwords are not guessable, the first admin gets a link, and idle sessions end.
Fixtures from test_web_api (one account per role, password PW)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from builders import logged_in
from fastapi.testclient import TestClient
from test_web_api import JUST, PW, client, env  # noqa: F401  (fixtures)
from test_web_api import cheap_hashing as cheap_hashing  # noqa: F401

from vigie.accounts import approvals, users
from vigie.accounts.roles import Forbidden
from vigie.audit.log import query as audit_query
from vigie.audit.log import verify
from vigie.times import iso
from vigie.web.app import COOKIE


def _enrol(env, link: str, password: str) -> TestClient:
    c = TestClient(env["app"])
    assert c.post("/api/enrol", json={"token": link.split("#", 1)[1], "new_password": password}).status_code == 200
    return c


# --- finding 1: the admin who wanted to watch unblurred video ---------------------------------------------------
def test_an_admin_cannot_create_hijack_or_re_role_an_investigator_to_watch_unblurred_video(env):
    """The attack of finding 1: every way an admin had to an investigator's unblurred view now needs a second
    person (a supervisor), and no answer to the admin holds a password."""
    store, t = env["store"], env["recent"]
    adm = client(env, "admin")
    # create: the account gets no role until a supervisor approves; the admin gets a link, not a password
    r = adm.post("/api/users", json={"username": "alias", "role": "investigator"})
    assert r.status_code == 201 and "password" not in r.json()
    assert r.json()["role"] == "none" and r.json()["pending_role"] == "investigator"
    alias = _enrol(env, r.json()["enrolment_link"], "the admin's alias passphrase")  # the admin opens it himself
    alias.post("/api/login", json={"username": "alias", "password": "the admin's alias passphrase"})
    assert alias.get("/api/me").json()["role"] == "none"
    assert alias.get(f"/api/tracks/{t}/thumbnail", params=JUST).status_code == 403
    assert alias.post(f"/api/tracks/{t}/unblur", json={**JUST, "reason": "curiosity"}).status_code == 403
    # re-role: an auditor (or anyone) made investigator waits for a supervisor
    r = adm.patch("/api/users/auditor", json={"role": "investigator"})
    assert r.json()["role"] == "auditor" and r.json()["pending_role"] == "investigator"
    # hijack: a reset of the investigator's password gives the admin nothing to open
    r = adm.post("/api/users/investigator/password")
    assert r.json()["status"] == "pending" and "reset_link" not in r.json() and "password" not in r.json()
    inv = client(env, "investigator")  # and the investigator's own password still works
    # the admin may not decide any of it
    pending = approvals.listing(store)[0]
    assert {p["kind"] for p in pending} == {"role", "reset"}
    for p in pending:
        assert adm.post(f"/api/approvals/{p['id']}", json={"decision": "approve"}).status_code == 403
    assert adm.get("/api/approvals").status_code == 403
    # even the real investigator sees nothing unblurred without a supervisor's approval
    rid = inv.post(f"/api/tracks/{t}/unblur", json={**JUST, "reason": "identify the jacket"}).json()["request_id"]
    assert inv.get(f"/api/tracks/{t}/thumbnail", params={"unblurred": "true"}).status_code == 403
    sup = client(env, "supervisor")
    assert (
        sup.post(f"/api/approvals/{rid}", json={"decision": "reject", "note": "no case"}).json()["status"] == "rejected"
    )
    assert inv.get(f"/api/tracks/{t}/thumbnail", params={"unblurred": "true"}).status_code == 403
    # nothing the admin was answered holds a password; the audit log has the requests and the decision
    assert all(e.details_dict().get("op") != "passwd" for e in audit_query(store, user="admin", action="user_admin"))
    rejected = audit_query(store, action="approval")[0]
    assert rejected.user == "supervisor" and rejected.details_dict()["decision"] == "rejected"
    assert rejected.details_dict()["note"] == "no case"
    assert verify(store).ok


def test_the_approver_is_never_the_requester_nor_the_account_concerned(env):
    store = env["store"]
    users.create_user(store, "sup2", "supervisor", PW)
    adm = client(env, "admin")
    rid = adm.patch("/api/users/supervisor", json={"role": "operator"}).json()["pending_request"]
    assert client(env, "supervisor").post(f"/api/approvals/{rid}", json={"decision": "approve"}).status_code == 403
    sup2 = logged_in(env["app"], "sup2", PW, role="supervisor")
    assert sup2.get("/api/approvals").json()["total"] == 1
    assert sup2.post(f"/api/approvals/{rid}", json={"decision": "approve"}).json()["status"] == "approved"
    assert users.get_user(store, "supervisor").role == "operator"
    # the domain refuses a supervisor deciding a request under their own name, whatever its kind
    sup = users.get_user(store, "sup2")
    inv = users.get_user(store, "investigator")
    req = approvals.request_unblur(store, inv, env["recent"], "PV-1", "theft", "jacket")
    fake = users.User(sup.id, "Investigator", "supervisor", sup.created_at, False, 0, None)  # case differs
    with pytest.raises(Forbidden, match="another supervisor"):
        approvals.decide(store, fake, req["request_id"], True, None, 5)


def test_a_password_someone_else_chose_must_be_changed_before_anything_else(env):
    store = env["store"]
    users.create_user(store, "olga", "operator", PW, by="console:root", must_change=True)
    c = TestClient(env["app"])
    r = c.post("/api/login", json={"username": "olga", "password": PW})
    assert r.status_code == 200 and r.json()["must_change_password"] is True
    r = c.get("/api/tracks")
    assert r.status_code == 403 and "change your password" in r.json()["error"]
    r = c.post("/api/password", json={"current_password": "not it at all", "new_password": "olga's own passphrase"})
    assert r.status_code == 400 and r.json()["field"] == "current_password"
    r = c.post("/api/password", json={"current_password": PW, "new_password": "password1234"})
    assert r.status_code == 400 and r.json()["field"] == "new_password"
    r = c.post("/api/password", json={"current_password": PW, "new_password": "olga's own passphrase"})
    assert r.status_code == 200 and r.json()["must_change_password"] is False
    assert c.get("/api/tracks").status_code == 200  # the new session cookie works
    ops = [e.details_dict() for e in audit_query(store, user="olga", action="user_admin")]
    assert [(d["op"], d["ok"]) for d in ops] == [("password_change", False), ("password_change", True)]


def test_a_user_changes_their_own_password_and_their_other_sessions_end(env):
    first, second = client(env, "analyst"), client(env, "analyst")
    r = first.post("/api/password", json={"current_password": PW, "new_password": "the analyst's passphrase"})
    assert r.status_code == 200
    assert first.get("/api/me").status_code == 200 and second.get("/api/me").status_code == 401
    r = TestClient(env["app"]).post("/api/login", json={"username": "analyst", "password": PW})
    assert r.status_code == 401


def test_links_expire_and_are_used_once(env):
    store = env["store"]
    adm = client(env, "admin")
    link = adm.post("/api/users", json={"username": "late", "role": "auditor"}).json()["enrolment_link"]
    token = link.split("#", 1)[1]
    store.write(lambda conn: conn.execute("UPDATE enrolments SET expires_at = '2000-01-01T00:00:00Z'")).result()
    c = TestClient(env["app"])
    assert c.post("/api/enrol/check", json={"token": token}).status_code == 404
    assert c.post("/api/enrol", json={"token": token, "new_password": "a late passphrase"}).status_code == 404
    # a new link replaces the old; only the token's hash is stored
    link2 = adm.post("/api/users/late/password").json()["reset_link"]
    token2 = link2.split("#", 1)[1]
    with store.read() as conn:
        assert token2 not in str([tuple(r) for r in conn.execute("SELECT * FROM enrolments")])
    assert c.post("/api/enrol", json={"token": token2, "new_password": "a late passphrase"}).status_code == 200


# --- finding 12: guessable passwords, the first admin's password, idle sessions ----------------------------------
@pytest.mark.parametrize("weak", ["aaaaaaaaaaaa", "password1234", "azertyuiop123", "late.late.late"])
def test_common_passwords_are_refused_at_enrolment_and_change(env, weak):
    adm = client(env, "admin")
    link = adm.post("/api/users", json={"username": "late", "role": "auditor"}).json()["enrolment_link"]
    r = TestClient(env["app"]).post("/api/enrol", json={"token": link.split("#", 1)[1], "new_password": weak})
    assert r.status_code == 400 and r.json()["field"] == "new_password" and "guess" in r.json()["error"]
    r = client(env, "auditor").post("/api/password", json={"current_password": PW, "new_password": weak})
    assert r.status_code == 400 and r.json()["field"] == "new_password"
    with pytest.raises(users.PasswordPolicyError):
        users.create_user(env["store"], "other", "auditor", weak)


def test_an_idle_session_ends_before_the_8_hour_limit(env):
    store = env["store"]
    c = client(env, "operator")
    assert c.get("/api/me").status_code == 200
    idle = iso(datetime.now(timezone.utc) - users.SESSION_IDLE - timedelta(seconds=5))
    store.write(lambda conn: conn.execute("UPDATE sessions SET last_seen = ?", (idle,))).result()
    assert c.get("/api/me").status_code == 401
    token = c.cookies.get(COOKIE)
    assert users.session_user(store, token) is None

"""The shape of every JSON API error, whatever raised it (modelled on datasette's tests/test_error_shape.py).

An /api error is exactly {"error": "..."} plus only the optional keys ErrorBody documents (field, missing),
with the status the published schema declares. An /open311/ error is the specification's list
[{"code", "description"}] instead. Fixtures from test_web_api.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from test_web_api import JUST, PW, cheap_hashing, client, env  # noqa: F401  (fixtures)

from vigie.alerts import store as alerts
from vigie.rules.base import Event
from vigie.web.body_limit import JSON_BODY_LIMIT
from vigie.web.context import COOKIE, ErrorBody

OPTIONAL = {"field", "missing", "expired"}


def throttled(env):
    c = client(env)
    for _ in range(env["app"].state.login_throttle.client_free):
        c.post("/api/login", json={"username": "operator", "password": "wrong password!"})
    return c.post("/api/login", json={"username": "operator", "password": PW})


def expired_session(env):
    c = client(env, "operator")
    assert c.post("/api/logout").status_code == 200
    c.cookies.set(COOKIE, "a-session-the-server-no-longer-knows")
    return c.get("/api/me")


def decided_twice(env):
    at = datetime.now(timezone.utc) - timedelta(hours=1)  # in the operator's window (issue 19)
    event = Event("night", "zone_intrusion", "cam-a", at, at + timedelta(seconds=5), (1,), (1.0, 2.0), {})
    [alert_id] = alerts.record(env["store"], [event])
    c = client(env, "operator")
    assert c.post(f"/api/alerts/{alert_id}/decision", json={"decision": "dismiss"}).status_code == 200
    return c.post(f"/api/alerts/{alert_id}/decision", json={"decision": "validate"})


def too_large(env):
    body = b" " * (JSON_BODY_LIMIT + 1)
    return client(env, "operator").post("/api/search", content=body, headers={"content-type": "application/json"})


# (what, request, status, the optional keys the body has)
CASES = [
    (
        "a refused value",
        lambda env: client(env, "admin").patch("/api/users/operator", json={}),
        400,
        set(),
    ),
    ("no case reference", lambda env: client(env, "investigator").get("/api/tracks"), 400, {"missing"}),
    (
        "a search field",
        lambda env: client(env, "investigator").post("/api/search", json={"cameras": ["nowhere"], **JUST}),
        400,
        {"field"},
    ),
    (
        "outside the window",
        lambda env: client(env, "operator").post("/api/search", json={"start": "2000-01-01T00:00:00Z"}),
        400,
        {"field"},
    ),
    ("no session", lambda env: client(env).get("/api/me"), 401, set()),
    ("an expired session", expired_session, 401, {"expired"}),
    (
        "bad credentials",
        lambda env: client(env).post("/api/login", json={"username": "nobody", "password": PW}),
        401,
        set(),
    ),
    ("a role that may not", lambda env: client(env, "operator").get("/api/audit"), 403, set()),
    ("an old track", lambda env: client(env, "operator").get(f"/api/tracks/{env['old']}"), 403, set()),
    ("no such track", lambda env: client(env, "operator").get("/api/tracks/999999"), 404, set()),
    ("no such path", lambda env: client(env).get("/api/nowhere"), 404, set()),
    ("already decided", decided_twice, 409, set()),
    ("recording gone", lambda env: client(env, "operator").get(f"/api/tracks/{env['recent']}/clip"), 410, set()),
    ("body too large", too_large, 413, set()),
    ("malformed", lambda env: client(env, "operator").get("/api/cameras?limit=0"), 422, {"field"}),
    (
        "not json",
        lambda env: client(env).post("/api/login", content=b"{", headers={"content-type": "application/json"}),
        422,
        {"field"},
    ),
    ("throttled", throttled, 429, set()),  # issue 19: no account lock (423) any more
]


@pytest.mark.parametrize("request_, status, keys", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_api_errors_have_one_shape(env, request_, status, keys):
    assert keys <= OPTIONAL
    r = request_(env)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"error"} | keys
    assert isinstance(body["error"], str) and body["error"]
    ErrorBody.model_validate(body)  # the documented types: field a string, missing a list


def test_every_status_tested_is_declared_in_the_schema(env):
    declared = {int(code) for code in client(env).get("/openapi.json").json()["paths"]["/api/me"]["get"]["responses"]}
    assert {status for _, _, status, _ in CASES} - {413} <= declared  # 413 is declared where a body may be large


OPEN311 = [
    ("unknown token", "/open311/v2/tokens/nope.json", 404),
    ("unknown format", "/open311/v2/services.txt", 400),
    ("malformed (the specification's 400)", "/open311/v2/media/0.jpg", 400),
    ("unknown jurisdiction", "/open311/v2/services.json?jurisdiction_id=elsewhere", 404),
]


@pytest.mark.parametrize("path, status", [c[1:] for c in OPEN311], ids=[c[0] for c in OPEN311])
def test_open311_errors_keep_the_specification_list(env, path, status):
    r = client(env).get(path)
    assert r.status_code == status, r.text
    [item] = r.json()
    assert set(item) == {"code", "description"} and item["code"] == status and item["description"]

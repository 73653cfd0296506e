"""Issue 19's attacks on the web application, each reproduced and refused: login guessing and lock-out
(finding 8), same-site request forgery (10), rate limits keyed on a forged X-Forwarded-For (11), and
caching, sniffing and leaked server paths (14). Fixtures from test_web_api."""

from __future__ import annotations

import io
import json
import re
import threading
import time
import zipfile
from pathlib import Path

import pytest
from builders import REPO_ROOT
from fastapi.testclient import TestClient
from test_web_api import JUST, PW, SITE, cheap_hashing, client, env  # noqa: F401  (fixtures)

from vigie.accounts import users
from vigie.audit import log as audit
from vigie.audit.log import query as audit_query
from vigie.services import Services
from vigie.web.app import create_app
from vigie.web.context import hide_paths
from vigie.web.proxy import forwarded_client, parse_trusted
from vigie.web.throttle import DEVICE_COOKIE

WRONG = "wrong password!!"


class Clock:
    """The login throttle's clock, moved by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock(env) -> Clock:
    c = Clock()
    env["app"].state.login_throttle.clock = c
    return c


def from_(env, address: str, app=None) -> TestClient:
    return TestClient(app or env["app"], client=(address, 40000))


def login(c: TestClient, name: str, password: str = WRONG):
    return c.post("/api/login", json={"username": name, "password": password})


def shape(r) -> tuple:
    """What an attacker sees of an answer: status, body and Retry-After."""
    return r.status_code, r.json(), r.headers.get("retry-after")


# --- finding 8: login ------------------------------------------------------------------------------------------
def test_every_refusal_is_the_same_for_a_real_name_and_an_unknown_one(env, clock):
    """The attack: fail five times on a real name and an unknown one; the real one answered 423 'locked'.
    Now both get the same answers, attempt after attempt, and nothing locks."""
    seen = {}
    for name, address in (("operator", "198.51.100.1"), ("no-such-user", "198.51.100.2")):
        c, answers = from_(env, address), []
        for _ in range(12):
            answers.append(shape(login(c, name)))
            clock.t += 0.5
        seen[name] = answers
    assert seen["operator"] == seen["no-such-user"]
    assert {s for s, _, _ in seen["operator"]} == {401, 429}
    assert all(body == {"error": users.BAD_CREDENTIALS} for s, body, _ in seen["operator"] if s == 401)
    assert users.get_user(env["store"], "operator").locked_until is None
    # A disabled account with its right password answers as a wrong password does.
    users.disable_user(env["store"], "analyst")
    r = login(from_(env, "198.51.100.3"), "analyst", PW)
    assert shape(r) == (401, {"error": users.BAD_CREDENTIALS}, None)


def test_the_delay_per_client_grows_and_other_clients_are_not_slowed(env, clock):
    c = from_(env, "203.0.113.10")
    throttle = env["app"].state.login_throttle
    statuses = [login(c, f"name-{i}").status_code for i in range(throttle.client_free)]
    assert statuses == [401] * throttle.client_free  # the first attempts are free
    waits = []
    for i in range(6):
        r = login(c, f"later-{i}")
        assert r.status_code == 429 and r.json()["error"].startswith("too many login attempts")
        waits.append(int(r.headers["retry-after"]))
        clock.t += waits[-1]
        assert login(c, f"later-{i}").status_code == 401
    assert waits == [1, 2, 4, 8, 16, 32]  # progressive
    assert login(from_(env, "203.0.113.11"), "operator", PW).status_code == 200  # another client
    # An IPv6 client is one client for its whole /64.
    for i in range(throttle.client_free):
        login(from_(env, f"2001:db8:1:2::{i + 1}"), f"v6-{i}")
    assert login(from_(env, "2001:db8:1:2::ffff"), "v6-x").status_code == 429


def test_guessing_admin_from_many_addresses_never_locks_its_owner_out(env, clock):
    """The attack: anyone could lock `admin` for ever by failing five times every 15 minutes. Now the
    guesses from 40 addresses slow down the name for strangers, but the browser the admin already used
    logs in at once, with the right password, during the attack."""
    owner = from_(env, "192.0.2.1")
    assert login(owner, "admin", PW).status_code == 200 and owner.cookies.get(DEVICE_COOKIE)
    owner.post("/api/logout")
    refused = 0
    for i in range(40):
        r = login(from_(env, f"198.51.100.{100 + i}"), "admin")
        refused += r.status_code == 429
        clock.t += 0.5
    assert refused > 20  # the name is slowed for strangers...
    assert login(from_(env, "198.51.100.250"), "admin", PW).status_code == 429  # ...even with the password
    r = login(owner, "admin", PW)
    assert r.status_code == 200 and r.json()["role"] == "admin"  # ...but not for its owner's browser
    assert users.get_user(env["store"], "admin").locked_until is None
    # The admin's device token is worth nothing for another name under attack.
    for i in range(12):
        login(from_(env, f"198.51.100.{160 + i}"), "operator")
    assert login(owner, "operator", PW).status_code == 429


def test_parallel_attempts_hash_a_few_at_a_time_and_cannot_outrun_the_count(env, monkeypatch):
    """50 logins at once: at most hash_slots verifications run together (argon2 costs 64 MiB each), and a
    burst from one client passes no more attempts than its free ones."""
    throttle = env["app"].state.login_throttle
    running, peak, lock = 0, 0, threading.Lock()
    real = users.HASHER

    class Counting:
        def __getattr__(self, name):
            return getattr(real, name)

        def verify(self, stored, password):
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.05)
            with lock:
                running -= 1
            return real.verify(stored, password)

    monkeypatch.setattr(users, "HASHER", Counting())
    results: list[int] = []

    def attempt(i: int, address: str) -> None:
        results.append(login(from_(env, address), f"user-{i}").status_code)

    threads = [threading.Thread(target=attempt, args=(i, f"198.51.100.{i + 1}")) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(set(results)) == [401] and len(results) == 50
    assert 1 < peak <= throttle.hash_slots

    results.clear()
    threads = [threading.Thread(target=attempt, args=(i, "203.0.113.99")) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results.count(401) == throttle.client_free and results.count(429) == 20 - throttle.client_free


def test_each_login_attempt_is_audited_with_the_client_address(tmp_path):
    from test_web_api import SITE as site

    from vigie.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path)
    try:
        users.create_user(store, "operator", "operator", PW)
        app = create_app(Services(store=store, site=site, trusted_proxies=("10.0.0.1",)))
        proxied = TestClient(app, client=("10.0.0.1", 1), headers={"X-Forwarded-For": "203.0.113.5"})
        assert login(proxied, "operator", PW).status_code == 200
        assert login(proxied, "operator").status_code == 401
        forged = TestClient(app, client=("192.0.2.9", 1), headers={"X-Forwarded-For": "203.0.113.6"})
        assert login(forged, "nobody").status_code == 401
        entries = [e for e in audit_query(store, limit=10) if e.action in ("login", "login_failed")]
        clients = sorted(json.loads(e.details)["client"] for e in entries)
        assert clients == ["192.0.2.9", "203.0.113.5", "203.0.113.5"]  # the forged header was ignored
    finally:
        store.close()


# --- finding 10: same-site request forgery -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://testserver:8001"},  # another port of this host
        {"Origin": "http://reports.testserver"},  # a sibling subdomain
        {"Origin": "null"},  # a sandboxed frame
        {"Sec-Fetch-Site": "same-site", "Origin": "http://reports.testserver"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
    ids=["other-port", "sibling", "null", "same-site", "cross-site"],
)
def test_state_changing_requests_from_another_origin_are_refused(env, headers):
    """The attack: a page on another port or a sibling subdomain (the same site, so the SameSite=strict
    cookie goes with it) POSTs without a body (logout, a password reset) or a multipart form."""
    admin = client(env, "admin")
    r = admin.post("/api/users/operator/password", headers=headers)
    assert r.status_code == 403 and "another" in r.json()["error"], r.text
    assert login(from_(env, "192.0.2.40"), "operator", PW).status_code == 200  # the password did not change
    analyst = client(env, "analyst")
    form = {"file": ("incidents.csv", b"date,lat,lon,category\n", "text/csv")}
    r = analyst.post("/api/crimemap/imports", files=form, data={"source": "x"}, headers=headers)
    assert r.status_code == 403
    assert admin.post("/api/logout", headers=headers).status_code == 403
    assert admin.get("/api/me").status_code == 200  # still logged in


def test_same_origin_requests_and_clients_that_are_not_browsers_pass(env):
    c = client(env, "operator")
    for headers in ({"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}, {"Origin": "http://testserver"}):
        assert c.post("/api/search", json={}, headers=headers).status_code == 200
    assert c.post("/api/logout").status_code == 200  # curl, scripts: no Origin, no cookie taken by surprise
    # Open311 is a public API for any client: another site's form may post a report.
    r = from_(env, "192.0.2.77").post(
        "/open311/v2/requests.json",
        data={"service_code": "streetlight", "lat": "43.8367", "long": "4.3601", "description": "A light is out."},
        headers={"Origin": "https://another.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert r.status_code == 200, r.text


# --- finding 11: forwarded addresses ----------------------------------------------------------------------------
def report(c: TestClient, i: int, **headers):
    return c.post(
        "/open311/v2/requests.json",
        data={
            "service_code": "streetlight",
            "lat": "43.8367",
            "long": "4.3601",
            "description": f"Street light number {i} is out on boulevard Jean Jaures.",
        },
        headers=headers,
    )


def test_a_forged_forwarded_for_does_not_reset_the_report_limit(env):
    """The attack: each report with a new X-Forwarded-For was a new sender. From a peer that is not a
    trusted proxy (here loopback, which uvicorn trusted by default) the header is ignored."""
    c = from_(env, "127.0.0.1")
    answers = [report(c, i, **{"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(7)]
    assert answers == [200] * 5 + [429, 429]


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(env):
    app = create_app(Services(store=env["store"], site=SITE, trusted_proxies=("127.0.0.1",)))
    proxy = TestClient(app, client=("127.0.0.1", 1))
    for i in range(5):
        assert report(proxy, i, **{"X-Forwarded-For": "198.51.100.60"}).status_code == 200
    assert report(proxy, 9, **{"X-Forwarded-For": "198.51.100.60"}).status_code == 429
    # What the sender wrote before the proxy's own entry changes nothing: the proxy appended the real one.
    assert report(proxy, 10, **{"X-Forwarded-For": "192.0.2.1, 198.51.100.60"}).status_code == 429
    assert report(proxy, 11, **{"X-Forwarded-For": "198.51.100.61"}).status_code == 200


@pytest.mark.parametrize(
    "peer, header, trusted, client",
    [
        ("127.0.0.1", "1.2.3.4, 5.6.7.8", "127.0.0.1", "5.6.7.8"),
        ("10.0.0.2", "1.2.3.4, 10.0.0.9", "10.0.0.0/8", "1.2.3.4"),  # two proxies of ours
        ("10.0.0.2", "garbage, 10.0.0.9", "10.0.0.0/8", "10.0.0.2"),
        ("::1", "2001:db8::5", "::1", "2001:db8::5"),
    ],
)
def test_forwarded_client_is_the_rightmost_untrusted_hop(peer, header, trusted, client):
    assert forwarded_client(peer, header, parse_trusted(trusted)) == client


def test_a_wildcard_proxy_setting_is_refused():
    with pytest.raises(ValueError, match="any sender"):
        parse_trusted("*")
    with pytest.raises(ValueError, match="not an IP address"):
        parse_trusted("127.0.0.1, proxy.local")


# --- finding 14: caching, sniffing, paths, the public URL, the audit filter --------------------------------------
def test_json_replies_are_neither_cached_nor_sniffed(env):
    calls = [
        ("operator", "/api/me"),
        ("admin", "/api/users"),
        ("auditor", "/api/audit"),
        ("investigator", "/api/tracks?case_ref=PV-1&purpose=test"),
        ("moderator", "/api/reports"),
        (None, "/api/me"),  # an error too
        (None, "/open311/v2/services.json"),
    ]
    for role, path in calls:
        r = client(env, role).get(path)
        assert r.headers["cache-control"] == "no-store", path
        assert r.headers["x-content-type-options"] == "nosniff", path
    r = client(env).get("/")
    assert r.headers["x-content-type-options"] == "nosniff"


def test_errors_and_exports_name_no_server_path(env):
    """The attack: a clip whose recording is gone answered 410 with the recording's full path, and the
    export's manifest and track.json carried it too. Now only the file name is shown."""
    c = client(env, "investigator")
    r = c.get(f"/api/tracks/{env['recent']}/clip", params=JUST)
    assert r.status_code == 410 and "/videos/" not in r.text and "x.mp4" in r.json()["error"]
    r = c.post("/api/exports", json={"track_ids": [env["recent"]], **JUST})
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        for name in zf.namelist():
            assert b"/videos/" not in zf.read(name), name
        manifest = json.loads(zf.read("manifest.json"))
        track = json.loads(zf.read(f"tracks/{env['recent']}/track.json"))
    assert "x.mp4" in manifest["tracks"][0]["clip_unavailable"] and track["source_name"] == "x.mp4"


@pytest.mark.parametrize(
    "text, shown",
    [
        ("the recording /srv/vigie/cams/a.mp4 of track 3 is gone", "the recording a.mp4 of track 3 is gone"),
        ("file '/srv/my videos/b.mp4' cannot be read", "file 'b.mp4' cannot be read"),
        ("not logged in: POST /api/login first", "not logged in: POST /api/login first"),
        ("at most 5 per hour / day", "at most 5 per hour / day"),
    ],
)
def test_hide_paths(text, shown):
    assert hide_paths(text) == shown


def test_open311_discovery_names_the_public_url_whatever_the_host_header(env):
    app = create_app(Services(store=env["store"], site=SITE, public_url="https://vigie.nimes.example"))
    r = TestClient(app).get("/open311/v2/discovery.json", headers={"Host": "evil.example"})
    [endpoint] = r.json()["endpoints"]
    assert endpoint["url"] == "https://vigie.nimes.example/open311/v2" and "evil" not in r.text


def test_the_audit_filter_offers_every_action_the_code_records(env):
    r = client(env, "auditor").get("/api/audit")
    assert r.json()["actions"] == sorted(audit.ACTIONS)
    # append() refuses an action outside ACTIONS, so ACTIONS is every action recorded; the page takes it from
    # the reply rather than from a list of its own, which had missed ten of them.
    office = (REPO_ROOT / "vigie" / "web" / "static" / "office.js").read_text()
    assert "r.actions" in office and not re.search(r'\[\s*"login",\s*"login_failed"', office)
    recorded = set()
    for path in Path(REPO_ROOT / "vigie").rglob("*.py"):
        recorded |= set(re.findall(r'(?:record|append_in|append)\([^()]*?"([a-z_]+)"', path.read_text()))
    assert {a for a in recorded if a.startswith(("view_", "audit_", "hold_", "incidents_"))} <= audit.ACTIONS

"""Alerts: stored once per event, decided once with who and when (audited), listed,
fed live to the control room over server-sent events. Fixtures from test_web_api."""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from builders import T0, jpeg_bytes
from test_web_api import JUST, PW, SITE, cheap_hashing, client, env  # noqa: F401  (fixtures)

from vigie.alerts import store as alerts
from vigie.audit.log import query as audit_query
from vigie.audit.log import verify
from vigie.rules.base import Event

# An hour ago: inside the operator's window (issue 19: operators see the alerts of the last 24 hours only).
RECENT = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)


def event(
    n: int = 1, rule: str = "esplanade-night", kind: str = "zone_intrusion", camera: str = "cam-a", at=None
) -> Event:
    at = at or RECENT
    return Event(
        rule,
        kind,
        camera,
        at + timedelta(seconds=n),
        at + timedelta(seconds=n + 5),
        (n,),
        (100.0, 200.0),
        {"zone": "fountain", "seconds_inside": 5.0},
    )


def test_an_event_is_stored_once_however_often_it_is_evaluated(env):
    store = env["store"]
    e = event(1)
    first = alerts.record(store, [e, event(2)], snapshots={alerts.event_key(e): jpeg_bytes()})
    assert len(first) == 2
    assert alerts.record(store, [event(1), event(2)]) == []  # an overlapping window re-finds them
    items, total = alerts.list_alerts(store)
    assert total == 2 and [a["id"] for a in items] == sorted(first, reverse=True)  # newest first
    a = alerts.get_alert(store, first[0])
    assert (a["rule"], a["kind"], a["track_ids"], a["details"]["zone"], a["status"], a["has_snapshot"]) == (
        "esplanade-night",
        "zone_intrusion",
        [1],
        "fountain",
        "new",
        True,
    )
    assert alerts.snapshot(store, first[0])[:2] == b"\xff\xd8" and alerts.snapshot(store, first[1]) is None


def test_an_alert_is_decided_once_with_who_and_when_audited(env):
    store = env["store"]
    [aid] = alerts.record(store, [event(3)])
    op = client(env, "operator")
    r = op.post(
        f"/api/alerts/{aid}/decision", json={"decision": "validate", "note": "group confirmed on the live view"}
    )
    assert r.status_code == 200 and r.json()["status"] == "validated" and r.json()["decided_by"] == "operator"
    r = client(env, "investigator").post(f"/api/alerts/{aid}/decision", json={"decision": "dismiss", **JUST})
    assert r.status_code == 409 and "already validated by operator" in r.json()["error"]
    assert op.post(f"/api/alerts/{aid}/decision", json={"decision": "ignore"}).status_code == 422
    assert op.post("/api/alerts/999999/decision", json={"decision": "dismiss"}).status_code == 404
    entry = audit_query(store, action="alert_decision")[0]
    assert (entry.user, entry.role) == ("operator", "operator")
    assert entry.details_dict()["decision"] == "validated" and entry.details_dict()["alert_id"] == aid
    listed = op.get("/api/alerts", params={"status": "validated"}).json()
    assert [a["id"] for a in listed["items"]] == [aid] and listed["items"][0][
        "note"
    ] == "group confirmed on the live view"
    assert audit_query(store, action="view_alerts")
    assert verify(store).ok


def test_stream_gaps_are_listed_for_the_control_room(env):
    from vigie.times import now_iso

    env["store"].write(
        lambda conn: conn.execute(
            "INSERT INTO stream_gaps (camera_id, start, end, reason, recorded_at) VALUES "
            "('cam-a', '2026-11-26T10:00:00Z', '2026-11-26T10:00:04Z', 'read failed: timed out', ?)",
            (now_iso(),),
        )
    ).result()
    r = client(env, "operator").get("/api/gaps", params={"camera": "cam-a"}).json()
    assert r["total"] == 1 and r["items"][0]["reason"] == "read failed: timed out"
    assert client(env, "operator").get("/api/gaps", params={"camera": "cam-b"}).json()["total"] == 0


@pytest.mark.parametrize(
    "role,allowed", [("operator", True), ("investigator", True), ("auditor", False), ("admin", False)]
)
def test_alerts_are_for_the_control_room_roles(env, role, allowed):
    [aid] = alerts.record(env["store"], [event(4)], snapshots={alerts.event_key(event(4)): jpeg_bytes()})
    c = client(env, role)
    codes = [
        c.get("/api/alerts", params=JUST).status_code,
        c.get(f"/api/alerts/{aid}/snapshot", params=JUST).status_code,
        c.post(f"/api/alerts/{aid}/decision", json={"decision": "dismiss", **JUST}).status_code,
    ]
    assert codes == ([200, 200, 200] if allowed else [403, 403, 403])


def _serve(app):
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


def _read_events(response, n: int) -> list[tuple[str, str]]:
    """The first n (id, data) server-sent events."""
    out, ident = [], None
    for line in response.iter_lines():
        if line.startswith("id: "):
            ident = line[4:]
        elif line.startswith("data: "):
            out.append((ident, line[6:]))
            if len(out) == n:
                return out
    return out


def test_the_live_feed_sends_new_alerts_and_resumes_after_a_reconnect(env):
    import json

    store = env["store"]
    [old] = alerts.record(store, [event(10)])
    server, thread, url = _serve(env["app"])
    try:
        with httpx.Client(base_url=url, timeout=20) as c:
            assert c.post("/api/login", json={"username": "operator", "password": PW}).status_code == 200
            with c.stream("GET", "/api/alerts/stream", params={"after": old}) as r:
                assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
                threading.Timer(0.5, lambda: alerts.record(store, [event(11), event(12)])).start()
                got = _read_events(r, 2)
            assert [json.loads(d)["track_ids"] for _, d in got] == [[11], [12]]
            second = got[1][0]
            # a page that reconnects says what it saw last, and gets only what came after
            alerts.record(store, [event(13)])
            with c.stream("GET", "/api/alerts/stream", headers={"Last-Event-ID": second}) as r:
                [(ident, data)] = _read_events(r, 1)
            assert json.loads(data)["track_ids"] == [13] and int(ident) > int(second)
            assert httpx.get(url + "/api/alerts/stream", timeout=5).status_code == 401
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.mark.timeout(60)
def test_the_live_feed_ends_after_its_lifetime_and_a_reconnect_gets_exactly_what_came_between(env):
    import json

    from fastapi.testclient import TestClient

    from vigie.services import Services
    from vigie.web.app import create_app

    store = env["store"]
    lifetime = 1.5
    app = create_app(Services(store=store, site=SITE, blurrer=env["blurrer"], alert_feed_s=lifetime))
    c = TestClient(app)
    assert c.post("/api/login", json={"username": "operator", "password": PW}).status_code == 200

    def feed(**kwargs) -> tuple[list[tuple[str, dict]], float]:
        # The test client reads a response to its end: this returns only because the feed ends by itself.
        started = time.monotonic()
        r = c.get("/api/alerts/stream", **kwargs)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        assert r.text.startswith("retry: ")
        events = [
            (b.split("\n")[0][4:], json.loads(b.split("data: ", 1)[1]))
            for b in r.text.split("\n\n")
            if b.startswith("id: ")
        ]
        return events, time.monotonic() - started

    [before] = alerts.record(store, [event(20)])
    threading.Timer(0.3, lambda: alerts.record(store, [event(21)])).start()  # written while the feed is open
    seen, took = feed(params={"after": before})
    assert took >= lifetime  # it stayed open for its lifetime, then ended
    assert [a["track_ids"] for _, a in seen] == [[21]]
    # written while no feed was open: a reconnect that names the last event it saw gets exactly these
    written = alerts.record(store, [event(22), event(23)])
    again, _ = feed(headers={"Last-Event-ID": seen[-1][0]})
    assert [int(i) for i, _ in again] == sorted(written)
    assert [a["track_ids"] for _, a in again] == [[22], [23]]


def test_camera_stats_and_heat_maps(env):
    import cv2
    import numpy as np

    c = client(env, "investigator")
    s = c.get("/api/stats/cam-a", params=JUST).json()
    assert s["camera_id"] == "cam-a" and sum(r["tracks"] for r in s["hourly"]) == 2 and s["lines"] == {}
    for kind in ("walk", "stop"):
        r = c.get("/api/stats/cam-a/heatmap", params={"kind": kind, **JUST})
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR) is not None
    walk = cv2.imdecode(
        np.frombuffer(c.get("/api/stats/cam-a/heatmap", params=JUST).content, np.uint8), cv2.IMREAD_COLOR
    )
    assert walk.max() > 0  # the two tracks' feet are drawn
    assert c.get("/api/stats/nowhere", params=JUST).status_code == 404
    assert c.get("/api/stats/cam-a/heatmap", params={"kind": "face", **JUST}).status_code == 422
    # operators see the last 24 hours: cam-b's only person track is 3 days old
    op = client(env, "operator").get("/api/stats/cam-b").json()
    assert [r for r in op["hourly"] if r["class"] == "person"] == [] and op["since"]


def test_the_dashboards_period_and_which_cameras_have_tracks(env):
    """Issue 20: a period in hours narrows the counts (never past an operator's 24 hours); the overview says
    which cameras have tracks in it, so the dashboard opens on one with data."""
    c = client(env, "investigator")
    everything = c.get("/api/stats", params=JUST).json()["tracks"]
    assert everything.get("cam-a") == 2 and everything.get("cam-b", 0) >= 1
    recent = c.get("/api/stats", params={"hours": 24, **JUST}).json()["tracks"]
    assert "cam-b" not in recent or recent["cam-b"] < everything["cam-b"]  # cam-b's person track is 3 days old
    week = c.get("/api/stats/cam-b", params={"hours": 24 * 7, **JUST}).json()
    day = c.get("/api/stats/cam-b", params={"hours": 24, **JUST}).json()
    assert sum(r["tracks"] for r in day["hourly"]) < sum(r["tracks"] for r in week["hourly"])
    assert len(week["frame"]) == 2 and all(v > 0 for v in week["frame"])
    assert c.get("/api/stats/cam-a", params={"hours": 0, **JUST}).status_code == 422
    op = client(env, "operator").get("/api/stats/cam-b", params={"hours": 24 * 30}).json()
    assert [r for r in op["hourly"] if r["class"] == "person"] == []  # the operator's window still holds


# --- issue 19, finding 5: the operator's window -----------------------------------------------------------------
def test_operators_see_no_alert_older_than_their_24_hours(env):
    """Operators listed, opened, decided and received in the feed alerts of any age (and their snapshots):
    now only those of the last 24 hours, as their searches; investigators (with a case) see all."""
    from fastapi.testclient import TestClient

    from vigie.services import Services
    from vigie.web.app import create_app

    store = env["store"]
    long_ago = datetime.now(timezone.utc) - timedelta(days=3)
    snaps = {alerts.event_key(e): jpeg_bytes() for e in (event(50, at=long_ago), event(51))}
    [old] = alerts.record(store, [event(50, at=long_ago)], snapshots=snaps)
    [new] = alerts.record(store, [event(51)], snapshots=snaps)
    op = client(env, "operator")
    listed = op.get("/api/alerts").json()
    assert [a["id"] for a in listed["items"]] == [new] and listed["total"] == 1
    r = op.get(f"/api/alerts/{old}/snapshot")
    assert r.status_code == 403 and "24 hours" in r.json()["error"]
    assert op.get(f"/api/alerts/{new}/snapshot").status_code == 200
    assert op.post(f"/api/alerts/{old}/decision", json={"decision": "dismiss"}).status_code == 403
    assert alerts.get_alert(store, old)["status"] == "new"
    inv = client(env, "investigator")
    assert {a["id"] for a in inv.get("/api/alerts", params=JUST).json()["items"]} == {old, new}
    assert inv.get(f"/api/alerts/{old}/snapshot", params=JUST).status_code == 200
    # the live feed from the start: the operator receives the recent alert only
    app = create_app(Services(store=store, site=SITE, blurrer=env["blurrer"], alert_feed_s=0.5))
    c = TestClient(app)
    assert c.post("/api/login", json={"username": "operator", "password": PW}).status_code == 200
    text = c.get("/api/alerts/stream", params={"after": 0}).text
    sent = [int(b.split("\n")[0][4:]) for b in text.split("\n\n") if b.startswith("id: ")]
    assert sent == [new]


def test_an_operators_heat_map_is_drawn_over_no_frame_older_than_24_hours(env, tmp_path):
    """The heat map's background was a frame of the camera's latest recording, however old."""
    import av
    import numpy as np
    from builders import make_summary

    from vigie import stats

    video = tmp_path / "old.mp4"
    with av.open(str(video), "w") as out:
        s = out.add_stream("mpeg4", rate=5)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for _ in range(3):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 200, np.uint8), format="bgr24")
            out.mux(s.encode(frame))
        out.mux(s.encode())
    store = env["store"]
    three_days = (datetime.now(timezone.utc) - timedelta(days=3) - T0).total_seconds()
    aid = store.begin_analysis("cam-a", str(video), "old-recording".ljust(64, "0"))
    store.add_tracks(aid, [make_summary("cam-a", 9, start_s=three_days, jpeg=jpeg_bytes())]).result()
    store.finish_analysis(aid, "complete", 3, 3)
    since = datetime.now(timezone.utc) - timedelta(hours=24)
    assert stats.background_frame(store, "cam-a", SITE, env["blurrer"]) is not None  # no window: the latest
    assert stats.background_frame(store, "cam-a", SITE, env["blurrer"], since) is None  # the operator's: none

"""Synopses through the JSON API (vigie.web.routes_synopsis), on the demo's real analysed footage
(the analysed_demo fixture: PETS09-S2L1 cut in two, the esplanade and Arènes cameras, 2026-11-20):
built in the background and polled until ready, the index's objects are the camera's tracks, the
video is a WebM with the index's frames; who may ask for what, the operator's 24 hours, malformed
and impossible requests, another user's synopsis, the audit, and a restart."""

from __future__ import annotations

import io
import json
import threading
import time
from datetime import datetime, timedelta, timezone

import av
import numpy as np
import pytest
from argon2 import PasswordHasher
from builders import DEMO_CAMERA, copy_data_dir, logged_in
from fakes import FakeBlurrer
from fastapi.testclient import TestClient

from vigie.accounts import users
from vigie.audit.log import query as audit_query
from vigie.audit.log import verify
from vigie.services import Services
from vigie.store.sqlite import SQLiteStore
from vigie.web.app import create_app

pytestmark = pytest.mark.slow

PW = "correct horse battery"
ROLES = ("operator", "investigator", "auditor", "admin", "analyst", "moderator")
JUST = {"case_ref": "PV-2026-1120-041", "purpose": "witness: a man in a red top near the fountain"}
FROM, TO = "2026-11-20T13:00:00Z", "2026-11-20T13:02:00Z"  # the esplanade's minute of footage
ASK = {"camera": DEMO_CAMERA, "from": FROM, "to": TO, "filters": {"classes": ["person"]}, "length_s": 20, **JUST}


@pytest.fixture(scope="module")
def env(analysed_demo, tmp_path_factory):
    data = copy_data_dir(analysed_demo, tmp_path_factory.mktemp("synopsis-api"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VIGIE_DATA", str(data))
        mp.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        store = SQLiteStore(data)
        for role in ROLES:
            users.create_user(store, role, role, PW)
        users.create_user(store, "investigator2", "investigator", PW)
        blurrer = FakeBlurrer(paint="none")
        app = create_app(Services(store=store, blurrer=blurrer))
        yield {"store": store, "app": app, "data": data, "blurrer": blurrer}
        for jobs in _apps_jobs:
            _drain(jobs)
        store.close()


_apps_jobs: list = []  # every app's job table made here, drained before the store closes


def _drain(jobs, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while jobs._worker is not None and time.monotonic() < deadline:
        time.sleep(0.1)


def client(app, username: str | None = None) -> TestClient:
    _apps_jobs.append(app.state.synopses)
    return logged_in(app, username, PW)


def wait_ready(c: TestClient, sid: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        s = c.get(f"/api/synopses/{sid}")
        assert s.status_code == 200, s.text
        s = s.json()
        assert 0 <= s["progress"] <= 1
        if s["status"] in ("ready", "failed"):
            return s
        assert time.monotonic() < deadline, f"synopsis {sid} still {s['status']} after {timeout} s"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def built(env):
    """One synopsis of the esplanade's people, asked by the investigator and built."""
    c = client(env["app"], "investigator")
    r = c.post("/api/synopses", json=ASK)
    assert r.status_code == 202, r.text
    assert set(r.json()) == {"id", "status"} and r.json()["status"] in ("queued", "building")
    s = wait_ready(c, r.json()["id"])
    assert s["status"] == "ready", s
    return c, s


# --- a synopsis, end to end --------------------------------------------------------------------------------------
def test_a_synopsis_is_built_and_its_index_lists_the_cameras_tracks(env, built):
    c, s = built
    sid = s["id"]
    assert (s["camera"], s["filters"], s["progress"], s["case_ref"]) == (
        DEMO_CAMERA,
        {"classes": ["person"]},
        1.0,
        JUST["case_ref"],
    )
    assert s["from"].startswith("2026-11-20T13:00:00") and s["to"].startswith("2026-11-20T13:02:00")
    report = s["report"]
    assert report["video"] == f"/api/synopses/{sid}/video" and report["index"] == f"/api/synopses/{sid}/index"
    assert str(env["data"]) not in json.dumps(s)  # no server path
    assert report["objects"] >= 8 and report["fps"] == pytest.approx(7.0, abs=0.1)
    r = c.get(f"/api/synopses/{sid}/index", params=JUST)
    assert r.status_code == 200, r.text
    index = r.json()
    assert index["camera"] == DEMO_CAMERA and index["video"] == f"/api/synopses/{sid}/video"
    assert index["frames"] == len(index["frame_objects"]) == report["frames"]
    assert len(index["objects"]) == report["objects"]
    store = env["store"]
    for o in index["objects"]:
        track = store.get_track(o["track"])
        assert track is not None and track["camera_id"] == DEMO_CAMERA and track["class"] == o["class"] == "person"
        assert track["first_seen"] <= o["original_start"] <= o["original_end"] <= track["last_seen"]
    shown = {x["track"] for frame in index["frame_objects"] for x in frame}
    assert shown == {o["track"] for o in index["objects"]}
    x = next(x for frame in index["frame_objects"] for x in frame)
    assert (
        len(x["box"]) == 4
        and 0 <= x["box"][0] < x["box"][2] <= index["width"]
        and x["time"].startswith("2026-11-20T13:0")
    )


def test_the_video_is_a_webm_with_the_indexs_frames(env, built):
    c, s = built
    sid = s["id"]
    index = c.get(f"/api/synopses/{sid}/index").json()
    r = c.get(f"/api/synopses/{sid}/video")
    assert r.status_code == 200 and r.headers["content-type"] == "video/webm"
    assert r.headers["cache-control"] == "no-store" and r.content[:4] == b"\x1a\x45\xdf\xa3"  # EBML: Matroska/WebM
    with av.open(io.BytesIO(r.content)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "vp8"
        frames = [f for f in container.decode(stream)]
    assert len(frames) == index["frames"]
    assert (frames[0].width, frames[0].height) == (index["width"], index["height"])
    # the browser reads it by ranges: a range answers 206 with that part
    part = c.get(f"/api/synopses/{sid}/video", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == r.content[100:200]


def test_the_list_shows_ones_own_synopses_newest_first(env, built):
    c, s = built
    listed = c.get("/api/synopses").json()
    assert listed["total"] >= 1 and listed["items"][0]["id"] == s["id"] and listed["items"][0]["status"] == "ready"
    created = [x["created_at"] for x in listed["items"]]
    assert created == sorted(created, reverse=True)
    assert "user" not in listed["items"][0] and "purpose" not in listed["items"][0]
    paged = c.get("/api/synopses", params={"limit": 1, "offset": 0}).json()
    assert (paged["limit"], paged["offset"], len(paged["items"])) == (1, 0, 1)
    assert c.get("/api/synopses", params={"limit": 0}).json()["field"] == "limit"


def test_asking_and_watching_are_audited(env, built):
    c, s = built
    sid = s["id"]
    store = env["store"]
    [asked] = [
        e
        for e in audit_query(store, user="investigator", action="synopsis", limit=1000)
        if e.details_dict()["id"] == sid
    ]
    assert (asked.role, asked.case_ref, asked.purpose) == ("investigator", JUST["case_ref"], JUST["purpose"])
    d = asked.details_dict()
    assert (d["camera"], d["filters"], d["length_s"], d["blurred"]) == (DEMO_CAMERA, {"classes": ["person"]}, 20, True)
    assert d["from"].startswith("2026-11-20T13:00:00") and d["to"].startswith("2026-11-20T13:02:00")
    before = len(audit_query(store, action="view_synopsis", limit=1000))
    # issue 19, finding 2: a range without a play's token was not audited ("the next range of a play")
    r = c.get(f"/api/synopses/{sid}/video", headers={"Range": "bytes=1-"})
    assert r.status_code == 206
    # a play: audited when it starts; its ranges are part of it
    play = c.post(f"/api/synopses/{sid}/play", json={})
    assert play.status_code == 201 and play.json()["url"].startswith(f"/api/synopses/{sid}/video?play=")
    url = play.json()["url"]
    assert c.get(url).status_code == 200
    assert c.get(url, headers={"Range": "bytes=5000-"}).status_code == 206  # the same play
    assert c.get(f"/api/synopses/{sid}/index").status_code == 200
    seen = audit_query(store, action="view_synopsis", limit=1000)[before:]
    assert [
        ("video" in e.details_dict(), "index" in e.details_dict(), e.details_dict().get("range")) for e in seen
    ] == [(True, False, "bytes=1-"), (True, False, None), (False, True, None)]
    assert seen[1].details_dict()["play"] == play.json()["play_id"]
    assert all(e.details_dict()["id"] == sid and e.case_ref == JUST["case_ref"] for e in seen)  # the synopsis' case
    other = client(env["app"], "investigator2")
    assert other.get(url, headers={"Range": "bytes=1-"}).status_code == 403  # a play is its user's
    assert verify(store).ok


# --- not ready, queued ------------------------------------------------------------------------------------------
def test_a_synopsis_is_queued_behind_the_one_being_built_and_not_served_before_it_is_ready(env, monkeypatch):
    import vigie.synopsis.make as make

    real, release = make.make_synopsis, threading.Event()

    def held(*args, **kwargs):
        assert release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(make, "make_synopsis", held)
    c = client(env["app"], "investigator")
    short = {**ASK, "to": "2026-11-20T13:00:20Z", "length_s": None}
    first = c.post("/api/synopses", json=short).json()
    second = c.post("/api/synopses", json={**short, "filters": {}}).json()
    try:
        assert second["status"] == "queued"
        for sid in (first["id"], second["id"]):
            for what in ("video", "index"):
                r = c.get(f"/api/synopses/{sid}/{what}")
                assert r.status_code == 409 and "not ready" in r.json()["error"], r.text
        assert c.get(f"/api/synopses/{second['id']}").json()["status"] == "queued"
        assert c.get(f"/api/synopses/{first['id']}").json()["status"] == "building"
    finally:
        release.set()
    assert wait_ready(c, first["id"])["status"] == "ready"
    assert wait_ready(c, second["id"])["status"] == "ready"
    assert c.get(f"/api/synopses/{second['id']}/index").status_code == 200


def test_the_same_request_twice_joins_the_job_under_way_and_says_how_long_is_left(env, monkeypatch):
    """A double click on Build (or the same request from another tab) never starts a second build (issue 20)."""
    import vigie.synopsis.make as make

    real, release = make.make_synopsis, threading.Event()

    def held(*args, progress=None, **kwargs):
        progress(1, 4)  # a quarter done, then held: the estimate has something to go on
        assert release.wait(60)
        return real(*args, progress=progress, **kwargs)

    monkeypatch.setattr(make, "make_synopsis", held)
    c = client(env["app"], "investigator")
    ask = {**ASK, "to": "2026-11-20T13:00:30Z", "length_s": None}
    try:
        first = c.post("/api/synopses", json=ask).json()
        again = c.post("/api/synopses", json=ask).json()
        assert again == {"id": first["id"], "status": again["status"], "existing": True}
        other = c.post("/api/synopses", json={**ask, "filters": {}}).json()
        assert other["id"] != first["id"] and "existing" not in other
        deadline = time.monotonic() + 30
        while "remaining_s" not in (state := c.get(f"/api/synopses/{first['id']}").json()):
            assert time.monotonic() < deadline, state
            time.sleep(0.5)
        assert state["status"] == "building" and state["remaining_s"] >= 1
    finally:
        release.set()
    assert wait_ready(c, first["id"])["status"] == "ready"
    assert "remaining_s" not in c.get(f"/api/synopses/{first['id']}").json()
    assert wait_ready(c, other["id"])["status"] == "ready"


# --- who may ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["auditor", "admin", "analyst", "moderator"])
def test_roles_without_media_get_no_synopsis(env, built, role):
    sid = built[1]["id"]
    c = client(env["app"], role)
    responses = [
        c.post("/api/synopses", json=ASK),
        c.get("/api/synopses"),
        c.get(f"/api/synopses/{sid}"),
        c.get(f"/api/synopses/{sid}/video", params=JUST),
        c.get(f"/api/synopses/{sid}/index", params=JUST),
    ]
    for r in responses:
        assert r.status_code == 403 and role in r.json()["error"], r.text


def test_another_users_synopsis_is_not_found(env, built):
    sid = built[1]["id"]
    other = client(env["app"], "investigator2")
    for path in (f"/api/synopses/{sid}", f"/api/synopses/{sid}/video", f"/api/synopses/{sid}/index"):
        r = other.get(path, params=JUST)
        assert r.status_code == 404 and sid in r.json()["error"], r.text
    assert sid not in [x["id"] for x in other.get("/api/synopses").json()["items"]]
    op = client(env["app"], "operator")
    assert op.get(f"/api/synopses/{sid}").status_code == 404


def test_unknown_and_malformed_ids(env):
    c = client(env["app"], "investigator")
    for path in (
        "/api/synopses/0123456789abcdef",
        "/api/synopses/0123456789abcdef/video",
        "/api/synopses/0123456789abcdef/index",
    ):
        r = c.get(path, params=JUST)
        assert r.status_code == 404 and "0123456789abcdef" in r.json()["error"]
    for bad in ("../../etc", "0123456789ABCDEF", "x" * 16, "1"):
        r = c.get(f"/api/synopses/{bad}")
        assert r.status_code in (404, 422) and "root:" not in r.text


def test_an_investigator_must_give_a_case_reference_and_a_purpose(env):
    c = client(env["app"], "investigator")
    r = c.post("/api/synopses", json={k: v for k, v in ASK.items() if k not in JUST})
    assert r.status_code == 400 and set(r.json()["missing"]) == {"case_ref", "purpose"}
    r = c.post("/api/synopses", json={**ASK, "purpose": " "})
    assert r.status_code == 400 and r.json()["missing"] == ["purpose"]


def test_an_operator_asks_within_the_last_24_hours_only(env):
    c = client(env["app"], "operator")
    r = c.post("/api/synopses", json={k: v for k, v in ASK.items() if k not in JUST})  # the demo is a week old
    assert r.status_code == 400 and r.json()["field"] == "from" and "24 hours" in r.json()["error"], r.text
    now = datetime.now(timezone.utc)
    recent = {"camera": DEMO_CAMERA, "from": (now - timedelta(hours=2)).isoformat(), "to": now.isoformat()}
    r = c.post("/api/synopses", json=recent)  # inside the window, but nothing filmed then
    assert r.status_code == 400 and "nothing to show" in r.json()["error"], r.text
    assert not [e for e in audit_query(env["store"], user="operator", action="synopsis")]  # refused: not audited


# --- bad requests ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "change,field",
    [
        ({"camera": None}, "camera"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-11-20T12:00:00Z"}, "to"),  # before from
        ({"to": "2026-11-20T13:00:00Z"}, "to"),  # an empty period
        ({"length_s": 0}, "length_s"),
        ({"length_s": 86400}, "length_s"),
        ({"max_collision": 1.5}, "max_collision"),
        ({"filters": {"upper": ["plaid"]}}, "filters.upper"),
        ({"filters": {"classes": ["unicorn"]}}, "filters.classes"),
        ({"filters": {"cameras": ["nimes-arenes-01"]}}, "filters.cameras"),
        ({"filters": {"start": FROM}}, "filters.start"),
        ({"filters": {"colour": ["red"]}}, "filters.colour"),
        ({"filters": ["person"]}, "filters"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_malformed_request_is_422_naming_the_field(env, change, field):
    body = {k: v for k, v in {**ASK, **change}.items() if v is not None}
    r = client(env["app"], "investigator").post("/api/synopses", json=body)
    assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert field.split(".")[-1] in r.json()["error"]


@pytest.mark.parametrize(
    "change,words",
    [
        ({"from": "2026-11-21T13:00:00Z", "to": "2026-11-21T14:00:00Z"}, "nothing to show"),  # nothing filmed then
        ({"filters": {"upper": ["purple"], "lower": ["yellow"], "classes": ["person"]}}, "nothing to show"),
        ({"camera": "nimes-nowhere-99"}, "is not in the store"),
    ],
)
def test_a_synopsis_that_cannot_be_made_is_400_saying_why(env, change, words):
    r = client(env["app"], "investigator").post("/api/synopses", json={**ASK, **change})
    assert r.status_code == 400 and words in r.json()["error"], r.text


def test_without_a_blurrer_no_synopsis_is_made(env):
    bare = create_app(Services(store=env["store"]))
    r = client(bare, "investigator").post("/api/synopses", json=ASK)
    assert r.status_code == 503 and "blurred" in r.json()["error"]


# --- a restart ---------------------------------------------------------------------------------------------------------
def test_after_a_restart_finished_synopses_play_and_unfinished_ones_are_marked_interrupted(env, built):
    sid = built[1]["id"]
    root = env["data"] / "synopses" / "web"
    assert (root / sid / "synopsis.webm").is_file() and (root / sid / "synopsis.json").is_file()
    assert json.loads((root / sid / "job.json").read_text())["status"] == "ready"
    # a synopsis the server was building when it stopped
    cut = dict(
        json.loads((root / sid / "job.json").read_text()),
        id="00000000deadbeef",
        status="building",
        progress=0.4,
        report=None,
        created_at="2026-11-27T00:00:00.000000Z",
    )
    (root / cut["id"]).mkdir()
    (root / cut["id"] / "job.json").write_text(json.dumps(cut))
    # an operator's synopsis, whose period has since left the operator's 24 hours
    import shutil

    old = dict(
        json.loads((root / sid / "job.json").read_text()), id="0000000000000001", user="operator", role="operator"
    )
    shutil.copytree(root / sid, root / old["id"])
    (root / old["id"] / "job.json").write_text(json.dumps(old))
    again = create_app(Services(store=env["store"], blurrer=FakeBlurrer(paint="none")))
    c = client(again, "investigator")
    listed = {x["id"]: x for x in c.get("/api/synopses").json()["items"]}
    assert listed[sid]["status"] == "ready"
    assert listed[cut["id"]]["status"] == "failed" and "interrupted" in listed[cut["id"]]["error"]
    assert json.loads((root / cut["id"] / "job.json").read_text())["status"] == "failed"
    r = c.get(f"/api/synopses/{sid}/video")
    assert r.status_code == 200 and r.content[:4] == b"\x1a\x45\xdf\xa3"
    assert c.get(f"/api/synopses/{cut['id']}/video").status_code == 409
    np.testing.assert_equal(c.get(f"/api/synopses/{sid}/index").json()["frames"], built[1]["report"]["frames"])
    op = client(again, "operator")
    assert [x["id"] for x in op.get("/api/synopses").json()["items"]] == [old["id"]]
    assert op.get(f"/api/synopses/{old['id']}").json()["status"] == "ready"
    for what in ("video", "index"):
        r = op.get(f"/api/synopses/{old['id']}/{what}")
        assert r.status_code == 403 and "24 hours" in r.json()["error"], r.text

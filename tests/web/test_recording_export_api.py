"""POST /api/cameras/{camera_id}/recordings/export: a ZIP of one MP4 of a camera's recording, its manifest
and SHA-256 sums, with the access rules of clips and track exports.

The recording is real (PETS09 as H.264, recorded by SegmentWriter as `vigie run` does, an hour ago); the
blurrer is the fake one that paints pictures black, so that a blurred export can be told apart."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import datetime, timedelta, timezone

import av
import numpy as np
import pytest
from argon2 import PasswordHasher
from builders import logged_in, make_summary
from fakes import FakeBlurrer
from loopback_camera import make_h264_clip, needs_ffmpeg

from vigie.accounts import users
from vigie.audit.log import query as audit_query
from vigie.config import CameraConfig, SiteConfig
from vigie.recording.segments import SegmentWriter
from vigie.services import Services
from vigie.sources.stream import StreamSource
from vigie.store.sqlite import SQLiteStore
from vigie.times import iso
from vigie.web.app import create_app

pytestmark = [needs_ffmpeg, pytest.mark.timeout(300)]

PW = "correct horse battery"
JUST = {"case_ref": "PV-2026-0142", "purpose": "burglary rue de la Madeleine"}
SITE = SiteConfig(
    name="t",
    language="en",
    cameras=[CameraConfig(id="cam-a", name="Esplanade", lat=43.83, lon=4.36, stream="rtsp://x/", record=True)],
)
FPS = 25


@pytest.fixture(scope="module")
def clip(vtest, tmp_path_factory):
    return make_h264_clip(vtest, tmp_path_factory.mktemp("rec") / "camera.mp4", seconds=4)


@pytest.fixture
def env(clip, tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    store = SQLiteStore(tmp_path)
    store.upsert_cameras(SITE.cameras)
    t0 = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(microsecond=0)
    writer = SegmentWriter("cam-a", tmp_path, lambda seg: store.add_recording_segment(**seg.index_args()))
    source = StreamSource(str(clip), "cam-a", analysis_fps=None, pace_files=False, recorder=writer)
    source.clock = lambda: t0 + timedelta(seconds=source.frames_decoded / FPS)
    for frame in source:
        if frame.seq >= 4 * FPS - 1:
            source.stop()
    # A person in view from 1 s to 3 s (the track an unblur grant is asked on).
    aid = store.begin_analysis("cam-a", "live", "live".ljust(64, "0"))
    start_s = (t0 - datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc)).total_seconds() + 1
    store.add_tracks(aid, [make_summary("cam-a", 1, start_s=start_s, n_points=15, fps=7.0)]).result()
    store.finish_analysis(aid, "complete", 10, 10)
    track_id = store.list_tracks()[0]["id"]
    for role in ("operator", "investigator", "supervisor", "auditor"):
        users.create_user(store, role, role, PW)
    app = create_app(Services(store=store, site=SITE, blurrer=FakeBlurrer()))
    yield {"store": store, "app": app, "t0": t0, "track": track_id}
    store.close()


def period(env, a: float, b: float) -> dict:
    return {"start": iso(env["t0"] + timedelta(seconds=a)), "end": iso(env["t0"] + timedelta(seconds=b))}


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def mp4_frames(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


URL = "/api/cameras/cam-a/recordings/export"


def test_an_investigator_exports_a_blurred_period_audited_and_listed(env):
    inv = logged_in(env["app"], "investigator", PW)
    r = inv.post(URL, json={**period(env, 1, 2), **JUST})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip" and "no-store" in r.headers["cache-control"]
    assert hashlib.sha256(r.content).hexdigest() == r.headers["x-vigie-sha256"]
    files = unzip(r.content)
    [mp4] = [n for n in files if n.endswith(".mp4")]
    frames = mp4_frames(files[mp4])
    assert len(frames) == FPS and all(f[40:].max() < 30 for f in frames)  # blurred: the fake paints black
    manifest = json.loads(next(v for n, v in files.items() if n.endswith(".manifest.json")))
    assert manifest["blurred"] is True and manifest["case_ref"] == JUST["case_ref"]
    assert manifest["sha256"][mp4] == hashlib.sha256(files[mp4]).hexdigest()
    entry = audit_query(env["store"], action="recording_export")[-1]
    assert (entry.user, entry.case_ref, entry.details_dict()["blurred"]) == ("investigator", JUST["case_ref"], True)
    listed = inv.get("/api/exports").json()["items"]
    assert listed[0]["sha256"] == r.headers["x-vigie-sha256"] and listed[0]["blurred"] is True


@pytest.mark.parametrize(
    "role, body, status, words",
    [
        ("operator", JUST, 403, "export"),  # operators do not export
        ("auditor", JUST, 403, "export"),
        ("investigator", {}, 422, "case_ref"),  # no justification
        ("investigator", {**JUST, "unblurred": True}, 403, "no open unblur grant"),
    ],
)
def test_who_may_export_what(env, role, body, status, words):
    r = logged_in(env["app"], role, PW).post(URL, json={**period(env, 1, 2), **body})
    assert r.status_code == status and words in r.text
    assert audit_query(env["store"], action="recording_export") == []


def test_bad_periods_are_refused_by_name(env):
    inv = logged_in(env["app"], "investigator", PW)
    for body, status, words in [
        (period(env, 2, 1), 422, "not after the start"),
        (period(env, 0, 3600), 422, "at most 10 minutes"),
        ({"start": "yesterday", "end": "today"}, 400, "not an ISO 8601 time"),
        (period(env, -100, -50), 400, "has no recording"),
    ]:
        r = inv.post(URL, json={**body, **JUST})
        assert r.status_code == status and words in r.json()["error"], (body, r.text)
    assert inv.post("/api/cameras/cam-z/recordings/export", json={**period(env, 1, 2), **JUST}).status_code == 400


def test_an_unblurred_export_needs_an_approved_grant_covering_the_period(env):
    inv, sup = logged_in(env["app"], "investigator", PW), logged_in(env["app"], "supervisor", PW)
    t = env["track"]
    rid = inv.post(f"/api/tracks/{t}/unblur", json={**JUST, "reason": "identify the jacket"}).json()["request_id"]
    assert sup.post(f"/api/approvals/{rid}", json={"decision": "approve"}).status_code == 200
    r = inv.post(URL, json={**period(env, 1, 2), **JUST, "unblurred": True})
    assert r.status_code == 200, r.text
    files = unzip(r.content)
    frames = mp4_frames(next(v for n, v in files.items() if n.endswith(".mp4")))
    assert len(frames) == FPS and np.mean([f[40:].mean() for f in frames]) > 60  # the plaza, not black
    assert audit_query(env["store"], action="recording_export")[-1].details_dict()["blurred"] is False
    # The grant opens the footage showing its track (1 s to 3 s, give or take 10 s), not the rest of the day.
    far = inv.post(URL, json={**period(env, -300, -200), **JUST, "unblurred": True})
    assert far.status_code == 403 and "no open unblur grant" in far.json()["error"]

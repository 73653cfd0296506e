"""Playback of a camera's recording (issue 21): /api/cameras/{id}/playback and /timeline.

The recording: MPEG-TS segments of H.264 whose frames show their number (tests/media/recorded.py), two
back to back, a gap, a third, an hour ago; a live analysis's person track in view during the first two.
Checked: the stream starts at the moment asked and runs on across segments up to the gap; a play is
audited once and seeks within it are not; the access rules of clips (operator 24 h and blurred,
investigator with case and purpose, unblurred only under an approved grant and over its track's time)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import av
import pytest
from builders import T0, logged_in, make_summary
from fakes import FakeBlurrer
from media.recorded import number_of, record_segments
from media.test_clips import site as clip_site

from vigie.accounts import users
from vigie.audit.log import query as audit_query
from vigie.audit.log import verify
from vigie.services import Services
from vigie.store.sqlite import SQLiteStore
from vigie.times import iso
from vigie.web.app import create_app

PW = "correct horse battery"
JUST = {"case_ref": "PV-2026-0311", "purpose": "assault on the esplanade"}
FPS = 10


def site():
    """The clips' test site, in English: the assertions read English messages."""
    return clip_site().model_copy(update={"language": "en"})


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path / "var"))
    store = SQLiteStore(tmp_path / "var")
    store.upsert_cameras(site().cameras)
    t0 = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(microsecond=0)
    segments = record_segments(store, "cam-a", t0, FPS, [3, 3, 3], gaps_s={2: 10})
    aid = store.begin_analysis("cam-a", "rtsp://cam-a/stream", "live".ljust(64, "0"))
    start_s = (t0 - T0).total_seconds() + 1
    store.add_tracks(aid, [make_summary("cam-a", 1, n_points=30, start_s=start_s, fps=FPS)]).result()
    store.finish_analysis(aid, "complete", 0, 0, message="live")
    with store.read() as conn:
        track = conn.execute("SELECT id FROM tracks WHERE analysis_id=?", (aid,)).fetchone()[0]
    for role in ("operator", "investigator", "supervisor"):
        users.create_user(store, role, role, PW)
    blurrer = FakeBlurrer(paint="heads", style="paint")
    app = create_app(Services(store=store, site=site(), blurrer=blurrer))
    yield {"store": store, "app": app, "t0": t0, "segments": segments, "track": track, "blurrer": blurrer}
    store.close()


def numbers(data: bytes) -> list[int]:
    with av.open(io.BytesIO(data)) as c:
        return [number_of(f.to_ndarray(format="bgr24")) for f in c.decode(video=0)]


def at(env, seconds: float) -> str:
    return iso(env["t0"] + timedelta(seconds=seconds))


def looks(store, action: str):
    return audit_query(store, action=action, limit=1000)


def test_a_play_streams_from_the_moment_across_segments_to_the_gap_and_is_audited_once(env):
    store = env["store"]
    op = logged_in(env["app"], "operator", PW)
    r = op.post("/api/cameras/cam-a/playback", json={"from": at(env, 1.5)})
    assert r.status_code == 201, r.text
    play = r.json()
    assert len(looks(store, "view_playback")) == 1
    entry = looks(store, "view_playback")[0]
    assert entry.details_dict()["play"] == play["play_id"] and entry.details_dict()["camera_id"] == "cam-a"
    with op.stream("GET", play["url"]) as r:
        assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
        data = b"".join(r.iter_bytes())
    assert numbers(data) == list(range(15, 60))  # 1.5 s in, on through the second segment, up to the gap
    assert env["blurrer"].calls, "the operator's playback is blurred"
    # Seeking within the play: another moment, the same token, no new audit entry.
    url, token = "/api/cameras/cam-a/playback", play["url"].split("play=")[1].split("&")[0]
    r = op.get(url, params={"play": token, "from": at(env, 16)})
    assert r.status_code == 200 and numbers(r.content) == list(range(60, 90))  # the third segment, after the gap
    r = op.get(url, params={"play": token, "from": at(env, 6.5)})
    assert r.status_code == 404 and "the next footage starts at " + at(env, 16)[:19] in r.json()["error"]
    assert len(looks(store, "view_playback")) == 1
    # Without a token, each request is a look of its own.
    r = op.get("/api/cameras/cam-a/playback", params={"from": at(env, 2), "seconds": 1})
    assert r.status_code == 200 and numbers(r.content) == list(range(20, 30))
    assert len(looks(store, "view_playback")) == 2
    assert verify(store).ok


def test_the_timeline_shows_footage_gaps_and_tracks(env):
    inv = logged_in(env["app"], "investigator", PW)
    r = inv.get("/api/cameras/cam-a/timeline", params={"from": at(env, -5), "to": at(env, 30)})
    assert r.status_code == 400 and set(r.json()["missing"]) == {"case_ref", "purpose"}
    r = inv.get("/api/cameras/cam-a/timeline", params={"from": at(env, -5), "to": at(env, 30), **JUST})
    assert r.status_code == 200
    tl = r.json()
    assert [(f["start"][:19], f["end"][:19]) for f in tl["footage"]] == [
        (at(env, 0)[:19], at(env, 6)[:19]),
        (at(env, 16)[:19], at(env, 19)[:19]),
    ]
    assert [(g["start"][:19], g["end"][:19]) for g in tl["gaps"]] == [
        (at(env, -5)[:19], at(env, 0)[:19]),
        (at(env, 6)[:19], at(env, 16)[:19]),
        (at(env, 19)[:19], at(env, 30)[:19]),
    ]
    assert [t["id"] for t in tl["tracks"]] == [env["track"]] and tl["tracks"][0]["first_seen"][:19] == at(env, 1)[:19]
    assert audit_query(env["store"], action="search", limit=10)[-1].details_dict()["timeline"] == "cam-a"
    r = inv.get("/api/cameras/nope/timeline", params={"from": at(env, 0), "to": at(env, 30), **JUST})
    assert r.status_code == 404


def test_access_rules_are_those_of_clips(env):
    store, track = env["store"], env["track"]
    inv = logged_in(env["app"], "investigator", PW)
    op = logged_in(env["app"], "operator", PW)
    # Investigators justify a blurred play.
    r = inv.post("/api/cameras/cam-a/playback", json={"from": at(env, 1)})
    assert r.status_code == 400 and set(r.json()["missing"]) == {"case_ref", "purpose"}
    assert inv.post("/api/cameras/cam-a/playback", json={"from": at(env, 1), **JUST}).status_code == 201
    assert looks(store, "view_playback")[-1].case_ref == JUST["case_ref"]
    # Operators: the last 24 hours only, never unblurred.
    old = iso(env["t0"] - timedelta(days=2))
    r = op.post("/api/cameras/cam-a/playback", json={"from": old})
    assert r.status_code == 403 and "last 24 hours" in r.json()["error"]
    r = op.get("/api/cameras/cam-a/playback", params={"from": old})
    assert r.status_code == 403
    r = op.post("/api/cameras/cam-a/playback", json={"from": at(env, 1), "unblurred": True, "track_id": track})
    assert r.status_code == 403
    # Unblurred: only under an approved grant, over its track's time.
    body = {"from": at(env, 1.5), "unblurred": True, "track_id": track}
    r = inv.post("/api/cameras/cam-a/playback", json=body)
    assert r.status_code == 403 and "no open unblur grant" in r.json()["error"]
    req = inv.post(f"/api/tracks/{track}/unblur", json={**JUST, "reason": "the suspect's face"}).json()
    sup = logged_in(env["app"], "supervisor", PW)
    assert sup.post(f"/api/approvals/{req['request_id']}", json={"decision": "approve"}).status_code == 200
    r = inv.post("/api/cameras/cam-a/playback", json={**body, "from": iso(env["t0"] - timedelta(minutes=5))})
    assert r.status_code == 403 and "outside the window this play allows" in r.json()["error"]
    calls = len(env["blurrer"].calls)
    r = inv.post("/api/cameras/cam-a/playback", json=body)
    assert r.status_code == 201
    play = r.json()
    assert looks(store, "view_unblurred")[-1].details_dict()["camera_id"] == "cam-a"
    assert looks(store, "view_unblurred")[-1].case_ref == JUST["case_ref"]
    assert numbers(inv.get(play["url"]).content)[:3] == [15, 16, 17]
    assert len(env["blurrer"].calls) == calls  # unblurred: not through the blurrer
    # Another user's token is refused.
    r = op.get(play["url"])
    assert r.status_code == 403 and "start the play again" in r.json()["error"]
    # A bad moment names the field.
    r = inv.post("/api/cameras/cam-a/playback", json={"from": "yesterday", **JUST})
    assert r.status_code == 422


def test_a_file_analysed_with_vigie_analyze_plays_through_the_same_path(tmp_path, monkeypatch):
    """Its frames are dated from its tracks' points (frame seq at anchor_t + (seq - anchor_seq) / fps, the
    site's true 7 fps): playing from a moment gives the file's frame of that moment, on to its end."""
    from media import test_clips as C

    monkeypatch.setattr(C, "T0", datetime.now(timezone.utc) - timedelta(hours=3))
    store = SQLiteStore(tmp_path / "var")
    store.upsert_cameras(site().cameras)
    video = C.write_video(tmp_path / "recording.avi")
    C.analyse(store, video, [C.summary(1, C.SUBJECT_SEQS, C.walker(100, C.SUBJECT_SEQS))])
    for role in ("investigator",):
        users.create_user(store, role, role, PW)
    app = create_app(Services(store=store, site=site(), blurrer=FakeBlurrer(paint="none")))
    inv = logged_in(app, "investigator", PW)
    frame0 = C.T0  # the subject's first point is frame 12 at T0 + 12/7 s: frame 0 is at T0
    r = inv.get(
        "/api/cameras/cam-a/timeline",
        params={"from": iso(frame0 - timedelta(seconds=5)), "to": iso(frame0 + timedelta(seconds=30)), **JUST},
    )
    assert [(f["start"][:22], f["end"][:22]) for f in r.json()["footage"]] == [
        (iso(frame0)[:22], iso(frame0 + timedelta(seconds=C.N_FRAMES / C.TRUE_FPS))[:22])
    ]
    play = inv.post(
        "/api/cameras/cam-a/playback", json={"from": iso(frame0 + timedelta(seconds=20 / 7)), **JUST}
    ).json()
    with av.open(io.BytesIO(inv.get(play["url"]).content)) as c:
        seqs = [C.seq_of(f.to_ndarray(format="bgr24")) for f in c.decode(video=0)]
    assert seqs == list(range(20, C.N_FRAMES))
    assert looks(store, "view_playback")[-1].details_dict()["camera_id"] == "cam-a"
    store.close()


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-01-01T00:00:00"])
def test_a_moment_out_of_range_or_without_a_zone_is_refused_by_name(env, moment):
    inv = logged_in(env["app"], "investigator", PW)
    r = inv.post("/api/cameras/cam-a/playback", json={"from": moment, **JUST})
    assert r.status_code == 422 and r.json()["error"].startswith("field from: ")
    if moment.endswith("00:00:00"):
        return  # a time without a zone, in a query string, is UTC (vigie.times.from_iso)
    r = inv.get("/api/cameras/cam-a/timeline", params={"from": moment, "to": at(env, 10), **JUST})
    assert r.status_code == 422 and r.json()["error"].startswith("field from: ")
    r = inv.get("/api/cameras/cam-a/playback", params={"from": moment, **JUST})
    assert r.status_code == 422 and r.json()["error"].startswith("field from: ")

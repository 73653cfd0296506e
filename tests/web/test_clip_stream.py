"""The streamed clip (format fmp4, issue 21): fragments sent while they are rendered, with the clip routes'
access rules and audit: a play is audited once, a request without a token each time; unblurred only under
an approved grant; the operator's 24 h window."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import av
import pytest
from builders import logged_in
from fakes import FakeBlurrer
from media.test_clips import SUBJECT_SEQS, analyse, site, summary, walker, write_video

from vigie.accounts import users
from vigie.audit.log import query as audit_query
from vigie.services import Services
from vigie.store.sqlite import SQLiteStore
from vigie.web.app import create_app

PW = "correct horse battery"
JUST = {"case_ref": "PV-2026-0211", "purpose": "theft at the market"}


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def env(tmp_path, monkeypatch):
    from media import test_clips

    # Recent times, so that the operator's 24 h window holds the track.
    monkeypatch.setattr(test_clips, "T0", datetime.now(timezone.utc) - timedelta(hours=2))
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path / "var"))
    store = SQLiteStore(tmp_path / "var")
    store.upsert_cameras(site().cameras)
    video = write_video(tmp_path / "recording.avi")
    ids = analyse(store, video, [summary(1, SUBJECT_SEQS, walker(100, SUBJECT_SEQS))])
    for role in ("operator", "investigator", "supervisor"):
        users.create_user(store, role, role, PW)
    blurrer = FakeBlurrer(paint="heads", style="paint")
    app = create_app(Services(store=store, site=site(), blurrer=blurrer))
    yield {"store": store, "app": app, "track": ids[1], "blurrer": blurrer}
    store.close()


def frames_of(data: bytes) -> int:
    with av.open(io.BytesIO(data)) as c:
        return sum(1 for _ in c.decode(video=0))


def looks(store, action):
    return audit_query(store, action=action, limit=1000)


def test_a_streamed_play_is_audited_once_and_its_fragments_play(env):
    t, store = env["track"], env["store"]
    inv = logged_in(env["app"], "investigator", PW)
    r = inv.post(f"/api/tracks/{t}/play", json={"format": "fmp4"})
    assert r.status_code == 400 and set(r.json()["missing"]) == {"case_ref", "purpose"}
    play = inv.post(f"/api/tracks/{t}/play", json={"format": "fmp4", **JUST}).json()
    assert len(looks(store, "view_clip")) == 1
    entry = looks(store, "view_clip")[0]
    assert entry.details_dict()["format"] == "fmp4" and entry.details_dict()["play"] == play["play_id"]
    with inv.stream("GET", play["url"]) as r:
        assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
        assert "content-length" not in r.headers  # streamed as rendered
        data = b"".join(r.iter_bytes())
    assert data[4:8] == b"ftyp" and frames_of(data) == 27
    assert len(env["blurrer"].calls) == 27  # blurred: every frame went through the blurrer
    # Now cached: the same play answers byte ranges, still one look.
    r = inv.get(play["url"], headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and r.content == data[:100] and len(env["blurrer"].calls) == 27
    assert len(looks(store, "view_clip")) == 1
    # A request without a token is a look of its own.
    r = inv.get(f"/api/tracks/{t}/clip", params={"format": "fmp4", **JUST})
    assert r.status_code == 200 and r.content == data and len(looks(store, "view_clip")) == 2
    # A token is for its own format: a webm token does not fetch the stream's other target.
    webm = inv.post(f"/api/tracks/{t}/play", json={"format": "webm", **JUST}).json()
    assert inv.get(webm["url"]).headers["content-type"] == "video/webm"


def test_unblurred_streams_need_an_approved_grant_and_are_audited_under_it(env):
    t, store = env["track"], env["store"]
    inv = logged_in(env["app"], "investigator", PW)
    r = inv.post(f"/api/tracks/{t}/play", json={"format": "fmp4", "unblurred": True})
    assert r.status_code == 403 and "no open unblur grant" in r.json()["error"]
    req = inv.post(f"/api/tracks/{t}/unblur", json={**JUST, "reason": "see the jacket's logo"}).json()
    sup = logged_in(env["app"], "supervisor", PW)
    assert sup.post(f"/api/approvals/{req['request_id']}", json={"decision": "approve"}).status_code == 200
    play = inv.post(f"/api/tracks/{t}/play", json={"format": "fmp4", "unblurred": True}).json()
    assert len(looks(store, "view_unblurred")) == 1
    calls = len(env["blurrer"].calls)
    data = inv.get(play["url"]).content
    assert frames_of(data) == 27 and len(env["blurrer"].calls) == calls  # not blurred
    assert len(looks(store, "view_unblurred")) == 1
    assert looks(store, "view_unblurred")[0].case_ref == JUST["case_ref"]
    assert not list((store.data_dir / "clips").glob("*/*.fmp4"))  # unblurred: never on disk


def test_the_operator_streams_recent_clips_blurred_only(env):
    t = env["track"]
    op = logged_in(env["app"], "operator", PW)
    play = op.post(f"/api/tracks/{t}/play", json={"format": "fmp4"}).json()
    assert frames_of(op.get(play["url"]).content) == 27
    assert op.post(f"/api/tracks/{t}/play", json={"format": "fmp4", "unblurred": True}).status_code == 403
    r = op.get(f"/api/tracks/{t}/clip", params={"format": "avi"})
    assert r.status_code == 422

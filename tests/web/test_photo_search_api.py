"""POST /api/similar/photo (issue 18): investigators only, with a case and a purpose; the upload's
limits; the ranked tracks and what was read from the photo; the audit entry names the photo by its hash."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from argon2 import PasswordHasher
from builders import T0, english_site, logged_in, make_summary
from fakes import FakeBlurrer
from PIL import Image

from vigie.accounts import users
from vigie.audit.log import query as audit_query
from vigie.config import CameraConfig
from vigie.search import photo
from vigie.search.query_photos import stored_photo
from vigie.services import Services
from vigie.store.sqlite import SQLiteStore
from vigie.web.app import create_app

PW = "correct horse battery"
JUST = {"case_ref": "PV-2026-0142", "purpose": "vol à l'arraché rue de la Madeleine"}
SITE = english_site(name="photo api", cameras=[CameraConfig(id="cam-a", name="Esplanade", lat=43.83, lon=4.36)])
COLOURS = [(30, 30, 200), (200, 40, 40), (40, 200, 40)]  # BGR: red, blue, green


class ColourBackend:
    name = "mean-colour-test"

    def describe_crops(self, crops):
        v = np.array([c.reshape(-1, 3).mean(axis=0) + 1.0 for c in crops], np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def _jpeg(bgr, **save) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(bgr[:, :, ::-1])).save(out, "JPEG", **save)
    return out.getvalue()


def _figure(colour) -> np.ndarray:
    img = np.zeros((150, 60, 3), np.uint8)
    img[:] = colour
    return img


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    backend = ColourBackend()
    monkeypatch.setattr(photo.PhotoReader, "for_site", classmethod(lambda cls, site: photo.PhotoReader(backend)))
    store = SQLiteStore(tmp_path)
    store.upsert_cameras(SITE.cameras)
    recent = (datetime.now(timezone.utc) - timedelta(hours=1) - T0).total_seconds()
    tracks = [
        make_summary(
            "cam-a",
            k + 1,
            start_s=recent + 30 * k,
            vector=backend.describe_crops([_figure(c)])[0],
            upper_colours=[name],
            lower_colours=[name],
        )
        for k, (c, name) in enumerate(zip(COLOURS, ("red", "blue", "green")))
    ]
    for t in tracks:
        t.vector_model = backend.name
    aid = store.begin_analysis("cam-a", "/videos/x.mp4", "photo-api".ljust(64, "0"))
    store.add_tracks(aid, tracks).result()
    store.finish_analysis(aid, "complete", 10, 10)
    with store.read() as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM tracks ORDER BY track_no")]
    for role in ("operator", "investigator", "auditor"):
        users.create_user(store, role, role, PW)
    blurrer = FakeBlurrer("none")
    app = create_app(Services(store=store, site=SITE, blurrer=blurrer))
    yield {"store": store, "app": app, "ids": ids, "blurrer": blurrer}
    store.close()


def _post(c, data: bytes, **form):
    return c.post("/api/similar/photo", files={"image": ("temoin.jpg", data, "image/jpeg")}, data=form)


@pytest.mark.timeout(60)
def test_an_investigator_finds_the_track_that_looks_like_the_photo(env):
    c = logged_in(env["app"], "investigator", PW)
    r = _post(c, _jpeg(_figure(COLOURS[1])), **JUST, query=json.dumps({"limit": 2}))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "similar" and body["reference_track"] is None
    assert body["reference_photo"] == body["photo"]["sha256"] and body["model"] == ColourBackend.name
    assert [h["track_id"] for h in body["hits"]][:1] == [env["ids"][1]] and len(body["hits"]) == 2
    assert body["photo"]["upper"] == ["blue"] and body["photo"]["crop"].startswith("data:image/jpeg;base64,")
    assert env["blurrer"].calls  # faces blurred before anything was read
    entry = [e for e in audit_query(env["store"]) if e.action == "similar"][-1]
    assert entry.user == "investigator" and entry.case_ref == JUST["case_ref"] and entry.purpose == JUST["purpose"]
    details = entry.details_dict()
    assert details["photo_sha256"] == body["photo"]["sha256"] and details["query"]["limit"] == 2
    assert "base64" not in entry.details and len(entry.details) < 2000
    assert stored_photo(env["store"], details["photo_sha256"], JUST["case_ref"]) is not None


@pytest.mark.timeout(60)
def test_filters_and_match_colours_come_as_form_fields(env):
    c = logged_in(env["app"], "investigator", PW)
    r = _post(c, _jpeg(_figure(COLOURS[2])), **JUST, match_colours="true")
    assert r.status_code == 200, r.text
    assert r.json()["query"]["upper"] == ["green"] and [h["track_id"] for h in r.json()["hits"]] == [env["ids"][2]]
    r = _post(c, _jpeg(_figure(COLOURS[2])), **JUST, query=json.dumps({"cameras": ["cam-z"]}))
    assert r.status_code == 400 and "cam-z" in r.json()["error"]
    for bad in ("{not json", "[1, 2]"):
        r = _post(c, _jpeg(_figure(COLOURS[2])), **JUST, query=bad)
        assert r.status_code == 400 and r.json()["field"] == "query"
    r = _post(c, _jpeg(_figure(COLOURS[2])), **JUST, box="1,2")
    assert r.status_code == 400 and r.json()["field"] == "box"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("role, status", [("operator", 403), ("auditor", 403), (None, 401)])
def test_only_investigators_search_by_photo(env, role, status):
    c = logged_in(env["app"], role, PW)
    assert _post(c, _jpeg(_figure(COLOURS[0])), **JUST).status_code == status
    assert not env["blurrer"].calls and not [e for e in audit_query(env["store"]) if e.action == "similar"]


@pytest.mark.timeout(60)
def test_an_investigator_must_say_which_case_and_why(env):
    r = _post(logged_in(env["app"], "investigator", PW), _jpeg(_figure(COLOURS[0])))
    assert r.status_code == 400 and set(r.json()["missing"]) == {"case_ref", "purpose"}
    assert not env["blurrer"].calls


@pytest.mark.timeout(60)
def test_upload_checks(env, monkeypatch):
    c = logged_in(env["app"], "investigator", PW)
    r = _post(c, b"%PDF-1.4 a document", **JUST)
    assert r.status_code == 400 and "not a JPEG, PNG or WebP" in r.json()["error"]
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, "PNG")
    r = _post(c, bomb.getvalue(), **JUST)
    assert r.status_code == 400 and "image bomb" in r.json()["error"]
    monkeypatch.setattr(photo, "MAX_PHOTO_BYTES", 2_000)
    big = _jpeg(np.random.default_rng(1).integers(0, 255, (300, 300, 3), np.uint8))
    r = _post(c, big, **JUST)  # inside the body limit (the form's slack), above the photo's
    assert r.status_code == 413 and "larger than" in r.json()["error"]
    monkeypatch.setattr(photo, "MAX_PHOTO_BYTES", 1_000)
    r = c.post(
        "/api/similar/photo", files={"image": ("x.jpg", b"\xff" * 3_000_000, "image/jpeg")}, data=JUST
    )  # above the body limit: refused before the form is read
    assert r.status_code == 413
    assert not [e for e in audit_query(env["store"]) if e.action == "similar"]


@pytest.mark.timeout(60)
def test_without_a_blurrer_no_photo_is_accepted(env):
    services = Services(store=env["store"], site=SITE, blurrer=None)
    c = logged_in(create_app(services), "investigator", PW)
    r = _post(c, _jpeg(_figure(COLOURS[0])), **JUST)
    assert r.status_code == 503

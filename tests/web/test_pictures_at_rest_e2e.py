"""Issue 19, finding 7, end to end: after real footage is analysed, a synopsis is built and played, a
photo search is run and a citizen sends a report with a photo, no file under the data folder and no
value in its database is (or holds) a picture in the clear, and every file is 0600; the features
still work as the user sees them.

Real parts throughout: PETS 2009's first 60 frames analysed by `vigie analyze` with the demo site's
detector and appearance networks, the face and plate Blurrer, the photo search's networks.
"""

from __future__ import annotations

import io
import json
import time

import av
import cv2
import numpy as np
import pytest
from argon2 import PasswordHasher
from at_rest import open_to_others, pictures_in_database, pictures_in_files
from builders import DEMO_CAMERA, demo_raw, logged_in, write_site
from fastapi.testclient import TestClient

from vigie.accounts import users
from vigie.cli import main
from vigie.services import Services
from vigie.web.app import create_app

pytestmark = pytest.mark.slow

PW = "correct horse battery"
JUST = {"case_ref": "PV-2026-1207-019", "purpose": "issue 19: pictures at rest"}


def person_photo(clip) -> bytes:
    """A pedestrian cut from the clip's last frame and upscaled, as a witness's phone would send it."""
    with av.open(str(clip)) as container:
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    frame = frames[-1]
    crop = frame[100:420, 300:520]
    big = cv2.resize(crop, (crop.shape[1] * 2, crop.shape[0] * 2), interpolation=cv2.INTER_CUBIC)
    return cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


def decodes(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.size
    return image


@pytest.mark.timeout(1200)
def test_no_picture_lies_in_the_clear_after_a_synopsis_a_photo_search_and_a_citizen_report(clip, tmp_path, monkeypatch):
    from vigie.errors import ModelError
    from vigie.privacy.blur import Blurrer, face_model_path, plate_model_path

    try:
        face_model_path(), plate_model_path()
    except ModelError as exc:
        pytest.skip(str(exc))
    raw = demo_raw()
    raw["cameras"][0]["source"] = str(clip)
    raw["open311"] = {"jurisdiction_id": "nimes.fr"}
    site = write_site(tmp_path, raw)
    data = tmp_path / "var"
    monkeypatch.setenv("VIGIE_DATA", str(data))
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    assert main(["analyze", str(clip), "--camera", DEMO_CAMERA, "--site", str(site), "--no-progress"]) == 0

    with Services.from_env(str(site), blurrer=Blurrer()) as services:
        store = services.store
        for role in ("investigator", "moderator"):
            users.create_user(store, role, role, PW)
        app = create_app(services)
        inv = logged_in(app, "investigator", PW)
        tracks = store.list_tracks(camera_id=DEMO_CAMERA, class_name="person")
        assert len(tracks) >= 3 and all(t["thumbnail_path"] for t in tracks)
        start, end = min(t["first_seen"] for t in tracks), max(t["last_seen"] for t in tracks)

        # 1. a synopsis of the clip's people: built, its index read and its video played
        r = inv.post(
            "/api/synopses",
            json={"camera": DEMO_CAMERA, "from": start, "to": end, "filters": {"classes": ["person"]}, **JUST},
        )
        assert r.status_code == 202, r.text
        sid = r.json()["id"]
        deadline = time.monotonic() + 600
        while (s := inv.get(f"/api/synopses/{sid}").json())["status"] not in ("ready", "failed"):
            assert time.monotonic() < deadline, s
            time.sleep(0.5)
        assert s["status"] == "ready", s
        index = inv.get(f"/api/synopses/{sid}/index", params=JUST)
        assert index.status_code == 200 and len(index.json()["objects"]) >= 3
        assert {o["track"] for o in index.json()["objects"]} <= {t["id"] for t in tracks}
        play = inv.post(f"/api/synopses/{sid}/play", json=JUST)
        assert play.status_code == 201, play.text
        video = inv.get(play.json()["url"])
        assert video.status_code == 200 and video.content[:4] == b"\x1a\x45\xdf\xa3"  # a WebM
        with av.open(io.BytesIO(video.content)) as container:
            frames = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
        assert len(frames) == index.json()["frames"] and frames[0].std() > 10  # the scene, not a blank

        # 2. a photo search: the example photo is kept (sealed) for the audit, and finds the clip's people
        photo = person_photo(clip)
        r = inv.post(
            "/api/similar/photo",
            files={"image": ("temoin.jpg", photo, "image/jpeg")},
            data={**JUST, "query": json.dumps({"limit": 5})},
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["hits"] and {h["track_id"] for h in body["hits"]} <= {t["id"] for t in store.list_tracks()}
        from vigie.search.query_photos import sha256_of, stored_photo

        kept = stored_photo(store, body["photo"]["sha256"], JUST["case_ref"])
        assert kept is not None and sha256_of(kept) == body["photo"]["sha256"] and decodes(kept).shape[0] > 100

        # 3. a citizen's report with a photo, seen by a moderator, then published
        public = TestClient(app, client=("192.0.2.80", 1))
        r = public.post(
            "/open311/v2/requests.json",
            data={"service_code": "graffiti", "lat": "43.84", "long": "4.35", "description": "Tags near the fountain."},
            files={"media": ("p.jpg", photo, "image/jpeg")},
        )
        assert r.status_code == 200, r.text
        mod = logged_in(app, "moderator", PW)
        [report] = mod.get("/api/reports").json()["items"]
        seen = mod.get(f"/api/reports/{report['id']}/photo")
        assert seen.status_code == 200 and seen.headers["content-type"] == "image/jpeg"
        assert decodes(seen.content).shape[:2] == decodes(photo).shape[:2]
        assert mod.post(f"/api/reports/{report['id']}/decision", json={"decision": "accept"}).status_code == 200
        published = public.get(f"/open311/v2/media/{report['id']}.jpg")
        assert published.status_code == 200 and published.content == seen.content

        # 4. a track's thumbnail, blurred on the way out, and its clip, played twice (the second from the cache)
        thumb = inv.get(f"/api/tracks/{tracks[0]['id']}/thumbnail", params=JUST)
        assert thumb.status_code == 200 and decodes(thumb.content).size
        played = []
        for _ in range(2):
            play = inv.post(f"/api/tracks/{tracks[0]['id']}/play", json=JUST)
            assert play.status_code == 201, play.text
            clip = inv.get(play.json()["url"])
            assert clip.status_code == 200 and clip.content[:4] == b"\x1a\x45\xdf\xa3"
            played.append(clip.content)
        assert played[0] == played[1] and len(list((data / "clips").rglob("*.webm"))) == 1

        # What lies in the data folder: no picture in the clear, in any file or any stored value,
        # the database's own bytes included; every file 0600, every folder 0700.
        assert pictures_in_files(data) == []
        assert pictures_in_database(data / "vigie.db") == []
        assert open_to_others(data) == []
        with store.read() as conn:  # and each kind was kept (sealed), not dropped
            for table in ("thumbnails", "tubes", "backgrounds", "citizen_reports", "query_photos"):
                assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] >= 1, table
    assert pictures_in_files(data) == [] and open_to_others(data) == []  # after the store closed (WAL checkpointed)

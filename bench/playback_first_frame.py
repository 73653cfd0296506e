"""Time to first frame of a recorded moment (issue 21), from the click to the first picture, in the browser.

    python bench/playback_first_frame.py [--moments 3]

The recording: PETS09 upscaled to 1920x1080, H.264 at 25 fps, a keyframe every 2 s, as 3 MPEG-TS segments
of 6 s indexed in the store as the recorder indexes them; every ground-truth person is a track of a live
analysis over those 18 s (the blurrer searches their boxes). The server: `vigie serve`'s app (uvicorn in this
process) with the real Blurrer (CenterFace and PP-OCR, one thread). The browser: Debian's chromium on
/playback?camera=...&t=..., which submits itself; the page records, on its <video>, the milliseconds from the
submit to the first picture presented (requestVideoFrameCallback): the timeline's and the play's requests,
the server's decoding from the keyframe before the moment, blurring, encoding the first fragment, and the
browser's decoding. Moments are chosen between keyframes (the worst case is just before one).
  blurred:   an investigator with a case reference and a purpose;
  unblurred: the same under an approved unblur grant (?unblurred_track=ID).
Also, in process: vigie.media.playback.stream_playback until its first fragment with a frame (no browser).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "web"))

PETS = ROOT.parent / "shared" / "data" / "pets09-s2l1"
HD, FPS, SEG_S, SEGMENTS = (1920, 1080), 25, 6, 3
PW = "investigator-pass-1"
JUST = {"case_ref": "PV-BENCH-21", "purpose": "time to first frame"}


def write_segments(store, camera: str, t0: datetime) -> None:
    cap = cv2.VideoCapture(str(PETS / "vtest.avi"))
    folder = Path(store.data_dir) / "recordings" / camera
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(SEGMENTS):
        start = t0 + timedelta(seconds=k * SEG_S)
        path = folder / f"{k:03d}.ts"
        with av.open(str(path), "w", format="mpegts") as out:
            s = out.add_stream("libx264", rate=FPS, options={"preset": "veryfast", "crf": "23"})
            s.width, s.height, s.pix_fmt = *HD, "yuv420p"
            s.codec_context.gop_size = 2 * FPS
            for _ in range(SEG_S * FPS):
                ok, frame = cap.read()
                big = cv2.resize(frame, HD, interpolation=cv2.INTER_LINEAR)
                out.mux(s.encode(av.VideoFrame.from_ndarray(big, format="bgr24")))
            out.mux(s.encode(None))
        store.add_recording_segment(
            camera, start, start + timedelta(seconds=SEG_S), path, SEG_S * FPS, "h264", "mpegts", *HD
        )
    cap.release()


def store_tracks(store, camera: str, t0: datetime) -> int:
    """gt.txt's people over the recorded frames as one live analysis' tracks; returns one track's id."""
    from vigie.types import TrackPoint, TrackSummary

    gt = np.loadtxt(PETS / "gt.txt", delimiter=",")
    sx, sy = HD[0] / 768, HD[1] / 576
    frames = SEGMENTS * SEG_S * FPS
    out = []
    for pid in np.unique(gt[:, 1]).astype(int):
        rows = gt[(gt[:, 1] == pid) & (gt[:, 0] <= frames)]
        if len(rows) < 2:
            continue
        pts = [
            TrackPoint(
                seq=int(f) - 1,
                timestamp=t0 + timedelta(seconds=(f - 1) / FPS),
                xyxy=(x * sx, y * sy, (x + w) * sx, (y + h) * sy),
                confidence=1.0,
            )
            for f, _, x, y, w, h, *_ in rows[np.argsort(rows[:, 0])]
        ]
        out.append(
            TrackSummary(
                camera_id=camera,
                track_no=int(pid),
                class_name="person",
                first_seen=pts[0].timestamp,
                last_seen=pts[-1].timestamp,
                points=pts,
                median_height_px=float(np.median(rows[:, 5])) * sy,
                median_width_px=float(np.median(rows[:, 4])) * sx,
                frame_size=HD,
            )
        )
    aid = store.begin_analysis(camera, "rtsp://bench/stream", "bench".ljust(64, "0"))
    store.add_tracks(aid, out).result()
    store.finish_analysis(aid, "complete", 0, 0, message="live")
    with store.read() as conn:
        return conn.execute("SELECT id FROM tracks WHERE analysis_id=? ORDER BY id LIMIT 1", (aid,)).fetchone()[0]


def in_process(store, site, blurrer, when: datetime, blur: bool) -> float:
    from vigie.media import playback

    t = time.perf_counter()
    stream = playback.stream_playback(store, site, "cam-a", when, blurrer=blurrer, blur=blur, max_s=3)
    seen = b""
    for chunk in stream.chunks:
        seen += chunk
        if b"moof" in seen and b"mdat" in seen:
            elapsed = time.perf_counter() - t
            stream.chunks.close()
            return elapsed
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--moments", type=int, default=3)
    args = ap.parse_args()
    from argon2 import PasswordHasher
    from browser_support import served
    from playwright.sync_api import sync_playwright

    from vigie.accounts import approvals, users
    from vigie.config import CameraConfig, SiteConfig
    from vigie.privacy.blur import Blurrer
    from vigie.services import Services
    from vigie.store.sqlite import SQLiteStore
    from vigie.web.app import create_app

    users.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    site = SiteConfig(name="bench", cameras=[CameraConfig(id="cam-a", name="A", lat=0, lon=0, frame_rate=FPS)])
    t0 = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(microsecond=0)
    # Between keyframes (every 2 s): 0.5 s, 1.2 s and 1.9 s after one.
    moments = [t0 + timedelta(seconds=s) for s in (6.5, 9.2, 13.9, 3.5, 15.2)[: args.moments]]
    result: dict = {"moments_s_after_start": [round((m - t0).total_seconds(), 1) for m in moments]}
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "var")
        store.upsert_cameras(site.cameras)
        write_segments(store, "cam-a", t0)
        track = store_tracks(store, "cam-a", t0)
        inv = users.create_user(store, "inv", "investigator", PW)
        sup = users.create_user(store, "sup", "supervisor", "supervisor-pass-12")
        req = approvals.request_unblur(store, inv, track, JUST["case_ref"], JUST["purpose"], "bench")
        approvals.decide(store, sup, req["request_id"], True, None, 60)
        blurrer = Blurrer()
        blurrer.find_faces(np.zeros((64, 64, 3), np.uint8))  # models loaded before timing
        result["in_process_first_fragment_s"] = {
            "unblurred": [round(in_process(store, site, blurrer, m, False), 2) for m in moments],
            "blurred": [round(in_process(store, site, blurrer, m, True), 2) for m in moments],
        }
        app = create_app(Services(store=store, site=site, blurrer=blurrer))
        browser_ms: dict = {"unblurred": [], "blurred": []}
        with served(app) as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
            for mode in ("unblurred", "blurred"):
                for m in moments:
                    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
                    page = ctx.new_page()
                    page.goto(url + "/")
                    page.fill("#username", "inv")
                    page.fill("#password", PW)
                    page.click("#login-form button[type=submit]")
                    page.wait_for_url("**/map")
                    page.evaluate(
                        "j => { sessionStorage.setItem('vigie_case_ref', j.case_ref); sessionStorage.setItem('vigie_purpose', j.purpose); }",
                        JUST,
                    )
                    extra = f"&unblurred_track={track}" if mode == "unblurred" else ""
                    page.goto(f"{url}/playback?camera=cam-a&t={m.isoformat().replace('+00:00', 'Z')}{extra}")
                    page.wait_for_function(
                        "() => { const v = document.querySelector('video'); return v && v.dataset.firstFrameMs; }",
                        timeout=120_000,
                    )
                    browser_ms[mode].append(
                        int(page.evaluate("() => document.querySelector('video').dataset.firstFrameMs"))
                    )
                    ctx.close()
            browser.close()
        result["browser_click_to_first_frame_s"] = {
            k: {"each": [round(v / 1000, 2) for v in vals], "median": round(statistics.median(vals) / 1000, 2)}
            for k, vals in browser_ms.items()
        }
        store.close()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

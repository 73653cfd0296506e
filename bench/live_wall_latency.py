"""Live wall latency, camera to screen, on the loopback RTSP camera of the live tests (issue 21).

    python bench/live_wall_latency.py [--seconds 15] [--cameras 1]

The camera: 20 s of PETS09 as H.264 at 25 fps (a keyframe every 12 frames, as tests/loopback_camera.py makes
it), each frame's number written on it in 9 black/white blocks; Debian's ffmpeg publishes it in real time
(-re) through the test RTSP relay. Frame n leaves ffmpeg no earlier than t_start + n / 25, t_start being
when ffmpeg was started, so `shown - (t_start + n / 25)` is an upper bound of the camera-to-screen latency
(it includes ffmpeg's own start-up). The wall: `vigie serve`'s app (uvicorn, in this process) and Debian's
chromium (Playwright) on /wall; every 0.25 s the page's canvas is read back for the frame number it shows.
Also reported: the latency the page itself shows (its time minus the server's decoding time of the frame),
which leaves out the camera-to-server part. Only the clip's first pass is used (it loops after 20 s).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from loopback_camera import FFMPEG, GOP, LoopbackCamera, free_port  # noqa: E402

PETS = ROOT.parent / "shared" / "data" / "pets09-s2l1" / "vtest.avi"
FPS, CLIP_S = 25, 20
BLOCK = 40  # px, in the 768x576 picture; the wall shows it at most 960 wide (no shrink)

READ = """camera => {
  const c = document.querySelector('canvas[data-camera="' + camera + '"]');
  if (!c || !c.width) return null;
  const g = c.getContext('2d'); const s = c.width / 768; let n = 0;
  for (let i = 0; i < 9; i++) {
    const d = g.getImageData(Math.round((10 + 45 * i + 10) * s), Math.round(520 * s), Math.max(1, Math.round(20 * s)), Math.max(1, Math.round(20 * s))).data;
    let t = 0; for (let k = 0; k < d.length; k += 4) t += d[k + 1];
    if (t / (d.length / 4) > 128) n += 1 << i;
  }
  const lat = document.querySelector('.wall-tile[data-camera="' + camera + '"] .latency').dataset.latencyMs;
  return [n, Date.now(), Number(lat)];
}"""


def numbered_clip(path: Path) -> Path:
    cap = cv2.VideoCapture(str(PETS))
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=FPS, options={"preset": "veryfast", "g": str(GOP)})
        s.width, s.height, s.pix_fmt = 768, 576, "yuv420p"
        for n in range(FPS * CLIP_S):
            ok, frame = cap.read()
            if not ok:
                cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = cap.read()
            for i in range(9):
                x = 10 + 45 * i
                frame[510 : 510 + BLOCK, x : x + BLOCK] = 255 if n >> i & 1 else 0
            out.mux(s.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        out.mux(s.encode(None))
    cap.release()
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=14.0, help="sampling time (within the clip's 20 s first pass)")
    args = ap.parse_args()
    if not Path(FFMPEG).is_file() or not PETS.is_file():
        print("needs Debian's ffmpeg and PETS09")
        return 1
    from argon2 import PasswordHasher
    from playwright.sync_api import sync_playwright

    from vigie.accounts import users
    from vigie.config import CameraConfig, SiteConfig
    from vigie.services import Services
    from vigie.store.sqlite import SQLiteStore
    from vigie.web.app import create_app

    sys.path.insert(0, str(ROOT / "tests" / "web"))
    from browser_support import served

    users.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with tempfile.TemporaryDirectory() as tmp:
        clip = numbered_clip(Path(tmp) / "numbered.mp4")
        camera = LoopbackCamera(clip, free_port())
        store = SQLiteStore(Path(tmp) / "var")
        site = SiteConfig(
            name="bench", cameras=[CameraConfig(id="cam-a", name="A", lat=0, lon=0, group="g", stream=camera.url)]
        )
        store.upsert_cameras(site.cameras)
        users.create_user(store, "op", "operator", "operator-pass-123")
        app = create_app(Services(store=store, site=site, blurrer=None))
        samples = []
        with served(app) as url, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url + "/")
            page.fill("#username", "op")
            page.fill("#password", "operator-pass-123")
            page.click("#login-form button[type=submit]")
            page.wait_for_url("**/map")
            t_start = time.time()
            camera.start()
            page.goto(url + "/wall?cameras=cam-a&n=1")
            page.wait_for_function(
                "() => { const c = document.querySelector('canvas'); return c && c.width > 0; }", timeout=60_000
            )
            first_picture_s = time.time() - t_start
            end = time.time() + args.seconds
            while time.time() < end and time.time() - t_start < CLIP_S - 1:
                got = page.evaluate(READ, "cam-a")
                if got:
                    n, shown_ms, page_ms = got
                    samples.append((shown_ms / 1000 - (t_start + n / FPS), page_ms / 1000))
                time.sleep(0.25)
            browser.close()
        camera.stop()
        app.state.wall.close()
        store.close()
    lat = [s[0] for s in samples]
    shown = [s[1] for s in samples]
    print(
        json.dumps(
            {
                "samples": len(samples),
                "first_picture_after_camera_start_s": round(first_picture_s, 2),
                "camera_to_screen_s (upper bound)": {
                    "median": round(statistics.median(lat), 2),
                    "p90": round(float(np.percentile(lat, 90)), 2),
                    "max": round(max(lat), 2),
                },
                "page_shown_latency_s": {"median": round(statistics.median(shown), 2), "max": round(max(shown), 2)},
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

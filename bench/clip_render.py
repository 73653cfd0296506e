"""Track clips: the cost of a blurred clip against plain decode + encode of the same frames.

One person of PETS09 S2.L1 (768x576, 7 fps) is rendered by
vigie.media.clips.render_clip. Every person of the ground truth (gt.txt) is
stored as a track of one analysis in a temporary store, so the blurrer is
given every person box of every frame, as it would be after a good analysis.
Each format (webm = VP8, mp4 = H.264) is timed four ways, in the same run:

  decode+encode  the baseline: the same frames decoded (seeking to the
                 keyframe before them, as render_clip does) and encoded with
                 the same encoder settings; nothing drawn, nothing blurred;
  unblurred      render_clip(blur=False): + privacy mask, box, caption,
                 reading the tracks from the store;
  blurred        render_clip(blurrer=Blurrer()): + CenterFace on the whole
                 frame and in every person box upscaled to 256 px high
                 (one onnxruntime thread), then written to the clip cache;
  cached         the blurred clip asked again: read back from the cache.

CPU seconds (process time: decoding, encoding and onnxruntime threads
together) are the figure to compare; wall seconds follow the machine's load.
Each figure is the best of --repeat runs (a shared machine only ever adds
time). The models' loading is done before timing and reported apart.

Run: .venv/bin/python bench/clip_render.py [--track 10] [--max-s 12] [--repeat 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.config import load_site  # noqa: E402
from vigie.media import clips  # noqa: E402
from vigie.privacy.blur import Blurrer  # noqa: E402
from vigie.store.sqlite import SQLiteStore  # noqa: E402
from vigie.types import TrackPoint, TrackSummary  # noqa: E402

PETS = ROOT.parent / "shared" / "data" / "pets09-s2l1"
SITE = ROOT / "examples" / "nimes-demo.yaml"
CAMERA = "nimes-esplanade-01"
T0 = datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc)
FPS = 7.0
MASK = [(300, 0), (560, 0), (560, 100), (300, 100)]  # the building's windows


def gt_tracks(path: Path) -> list[TrackSummary]:
    """Every ground-truth person as a stored track (gt frames are 1-based; seq is 0-based)."""
    gt = np.loadtxt(path, delimiter=",")
    out = []
    for pid in np.unique(gt[:, 1]).astype(int):
        rows = gt[gt[:, 1] == pid]
        rows = rows[np.argsort(rows[:, 0])]
        points = [
            TrackPoint(
                seq=int(f) - 1,
                timestamp=T0 + timedelta(seconds=(f - 1) / FPS),
                xyxy=(x, y, x + w, y + h),
                confidence=1.0,
            )
            for f, _, x, y, w, h, *_ in rows
        ]
        out.append(
            TrackSummary(
                camera_id=CAMERA,
                track_no=int(pid),
                class_name="person",
                first_seen=points[0].timestamp,
                last_seen=points[-1].timestamp,
                points=points,
                median_height_px=float(np.median(rows[:, 5])),
                median_width_px=float(np.median(rows[:, 4])),
                frame_size=(768, 576),
            )
        )
    return out


def timed(fn, repeat: int = 1, before=lambda: None):
    """(last result, best wall s, best cpu s) over `repeat` runs; `before` runs untimed before each."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        before()
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        best_wall, best_cpu = min(best_wall, time.perf_counter() - wall), min(best_cpu, time.process_time() - cpu)
    return result, best_wall, best_cpu


def decode_encode(path: Path, start: int, end: int, fmt: str, fps: float) -> int:
    """The baseline: frames start..end decoded and re-encoded as render_clip's encoder does; frames written."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        encoder = None
        for _seq, frame in clips._seeked(container, stream, start, end):
            image = frame.to_ndarray(format="bgr24")
            if encoder is None:
                encoder = clips._Encoder(fmt, fps, image.shape[1] & ~1, image.shape[0] & ~1, end - start + 1, "")
            encoder.add(image)
        encoder.finish()
        return encoder.frames


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--track", type=int, default=10, help="ground-truth person id (10: frames 423-577, past keyframe 250)"
    )
    ap.add_argument("--max-s", type=float, default=12.0, help="clip length cap (render_clip's max_s)")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each step; the best is kept")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    video = PETS / "vtest.avi"
    if not video.is_file():
        print(f"PETS09 not found under {PETS}")
        return 1
    site = load_site(SITE)
    site = site.model_copy(
        update={
            "cameras": [c.model_copy(update={"privacy_masks": [MASK]}) if c.id == CAMERA else c for c in site.cameras]
        }
    )
    blurrer = Blurrer()
    _, load_wall, _ = timed(lambda: blurrer.blur(np.zeros((576, 768, 3), np.uint8), person_boxes=[(10, 10, 60, 160)]))
    rows, meta = [], {}
    with tempfile.TemporaryDirectory() as data:
        store = SQLiteStore(data)
        store.upsert_cameras(site.cameras)
        aid = store.begin_analysis(CAMERA, str(video), "bench-pets09-gt")
        store.add_tracks(aid, gt_tracks(PETS / "gt.txt")).result()
        store.finish_analysis(aid, "complete", 795, 795)
        with store.read() as conn:
            track_id = conn.execute("SELECT id FROM tracks WHERE track_no=?", (args.track,)).fetchone()[0]
        for fmt in ("webm", "mp4"):
            k = args.repeat
            plain, pw, pc = timed(
                lambda: clips.render_clip(store, track_id, site=site, blur=False, fmt=fmt, max_s=args.max_s), k
            )
            n, bw, bc = timed(lambda: decode_encode(video, plain.first_seq, plain.last_seq, fmt, plain.fps), k)
            assert n == plain.frames
            blurred, sw, sc = timed(
                lambda: clips.render_clip(store, track_id, site=site, blurrer=blurrer, fmt=fmt, max_s=args.max_s),
                k,
                before=lambda: clips.delete_clips(store, [track_id]),
            )
            assert not blurred.cached
            cached, cw, cc = timed(
                lambda: clips.render_clip(store, track_id, site=site, blurrer=blurrer, fmt=fmt, max_s=args.max_s), k
            )
            assert cached.cached and cached.frames == blurred.frames == n
            meta = {
                "first_seq": plain.first_seq,
                "last_seq": plain.last_seq,
                "frames": n,
                "fps": plain.fps,
                "seconds": n / plain.fps,
                "truncated": plain.truncated,
            }
            for step, wall, cpu, clip in (
                ("decode+encode", bw, bc, None),
                ("unblurred", pw, pc, plain),
                ("blurred", sw, sc, blurred),
                ("cached", cw, cc, cached),
            ):
                rows.append(
                    {
                        "fmt": fmt,
                        "step": step,
                        "wall_s": round(wall, 3),
                        "cpu_s": round(cpu, 3),
                        "cpu_ms_per_frame": round(1000 * cpu / n, 1),
                        "x_baseline_cpu": round(cpu / bc, 2),
                        "x_baseline_wall": round(wall / bw, 2),
                        "bytes": len(clip.data) if clip else None,
                        "regions": clip.regions if clip else None,
                    }
                )
        store.close()
    if args.json:
        print(
            json.dumps(
                {"track": args.track, **meta, "repeat": args.repeat, "model_load_s": round(load_wall, 2), "rows": rows},
                indent=2,
            )
        )
        return 0
    print(
        f"PETS09 S2.L1 person {args.track} (gt.txt): frames {meta['first_seq']}-{meta['last_seq']}, {meta['frames']} frames "
        f"= {meta['seconds']:.1f} s at {meta['fps']:g} fps{' (capped by --max-s)' if meta['truncated'] else ''}, 768x576; "
        f"blurrer models loaded in {load_wall:.1f} s (not counted); best of {args.repeat} runs"
    )
    print(
        f"{'fmt':<5} {'step':<14} {'wall s':>7} {'cpu s':>7} {'cpu ms/frame':>12} {'x base cpu':>10} {'x base wall':>11} "
        f"{'KiB':>6} {'regions':>7}"
    )
    for r in rows:
        kib = f"{r['bytes'] / 1024:.0f}" if r["bytes"] else "-"
        reg = "-" if r["regions"] is None else str(r["regions"])
        print(
            f"{r['fmt']:<5} {r['step']:<14} {r['wall_s']:>7.2f} {r['cpu_s']:>7.2f} {r['cpu_ms_per_frame']:>12.1f} "
            f"{r['x_baseline_cpu']:>10.2f} {r['x_baseline_wall']:>11.2f} {kib:>6} {reg:>7}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Video synopsis figures: condensation, object area lost to collisions, order
inversions, and build time against the source's duration.

Two recordings, each analysed by Vigie as the demo's esplanade camera
(examples/nimes-demo.yaml), then condensed from the stored tubes:

- **pets09**: PETS09-S2L1 itself (vtest.avi, 795 frames at 7 fps, 113.6 s).
- **long**: one hour assembled from the only real footage here, said plainly:
  S2L1 four times, every quarter of an hour (as filmed, played backwards,
  its second half first, and that backwards), the rest of each quarter being the plaza with
  nobody in it (the temporal median of S2L1's frames, a still picture: the
  dataset has no empty stretch). 25,200 frames at 7 fps, H.264.

The build time counts selecting the tracks and decoding their tubes, packing,
and rendering (faces blurred with the Blurrer, H.264): everything after the
analysis. Its baseline, in the same run, is the source's duration, and a
plain decode of the source video for reference.

Run: .venv/bin/python bench/synopsis.py [--recording pets09|long|both] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import av
import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.config import load_site  # noqa: E402
from vigie.pipeline import analyse_file  # noqa: E402
from vigie.privacy.blur import Blurrer  # noqa: E402
from vigie.store.sqlite import SQLiteStore  # noqa: E402
from vigie.synopsis.make import make_synopsis  # noqa: E402

VTEST = ROOT.parent / "shared" / "data" / "pets09-s2l1" / "vtest.avi"
SITE = ROOT / "examples" / "nimes-demo.yaml"
CAMERA = "nimes-esplanade-01"
START = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
FPS = 7
QUARTER = 15 * 60


def pets09_frames() -> list[np.ndarray]:
    with av.open(str(VTEST)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]


def assemble_long(path: Path, frames: list[np.ndarray]) -> float:
    """The hour described above; returns its duration in seconds."""
    empty = np.median(np.stack(frames[::8]), axis=0).astype(np.uint8)
    # Not mirrored: a mirrored plaza would not match the period's background, as no real camera's does.
    swapped = frames[len(frames) // 2 :] + frames[: len(frames) // 2]
    variants = [frames, frames[::-1], swapped, swapped[::-1]]
    total = 4 * QUARTER * FPS
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        s.options = {"preset": "veryfast", "crf": "23"}
        empty_frame = av.VideoFrame.from_ndarray(empty, format="bgr24")
        for k in range(total):
            quarter, at = divmod(k, QUARTER * FPS)
            img = variants[quarter][at] if at < len(frames) else None
            vf = (
                av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="bgr24")
                if img is not None
                else empty_frame
            )
            for p in s.encode(vf):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return total / FPS


def decode_seconds(path: Path) -> float:
    t = time.perf_counter()
    with av.open(str(path)) as c:
        for _ in c.decode(video=0):
            pass
    return time.perf_counter() - t


def run(
    name: str, video: Path, duration_s: float, work: Path, blurrer, lengths: list[float | None], reuse: bool = False
) -> list[dict]:
    raw = yaml.safe_load(SITE.read_text())
    cam = next(c for c in raw["cameras"] if c["id"] == CAMERA)
    cam.update(recording_start=START.isoformat().replace("+00:00", "Z"), frame_rate=FPS)
    cam["source"] = str(video)
    site_file = work / "site.yaml"
    site_file.write_text(yaml.safe_dump(raw))
    data = work / f"var-{name}"
    os.environ["VIGIE_DATA"] = str(data)
    rows = []
    with SQLiteStore(data) as store:
        with store.read() as conn:
            done = conn.execute("SELECT count(*) FROM analyses WHERE status = 'complete'").fetchone()[0]
        if not (reuse and done):
            t = time.perf_counter()
            report = analyse_file(video, CAMERA, load_site(site_file), store, progress=True)
            print(f"{name}: analysed in {time.perf_counter() - t:.0f} s, {report.tracks} tracks", flush=True)
        with store.read() as conn:
            n, size, frames = conn.execute("SELECT count(*), sum(length(data)), sum(frames) FROM tubes").fetchone()
        print(
            f"{name}: {n} tubes, {size / 1e6:.1f} MB for {frames} object-frames ({size / frames / 1e3:.1f} kB each)",
            flush=True,
        )
        decode_s = decode_seconds(video)
        for length in lengths:
            out = work / f"synopsis-{name}-{length or 'auto'}"
            r = make_synopsis(
                store,
                CAMERA,
                START,
                START + timedelta(seconds=duration_s + 1),
                out,
                length_s=length,
                blurrer=blurrer,
                label_timezone=load_site(site_file).timezone,
            )
            row = {
                "recording": name,
                "length asked": f"{length:.0f} s" if length else "auto (<= 5 %)",
                "objects": r.objects,
                "source s": round(r.source_s, 1),
                "synopsis s": round(r.synopsis_s, 1),
                "condensation": round(r.condensation, 1),
                "box overlap": round(r.collision_fraction, 4),
                "area lost": round(r.lost_fraction, 4),
                "inversions": r.inversions,
                "pairs": r.objects * (r.objects - 1) // 2,
                "build s": round(r.seconds, 1),
                "of which blur s": round(r.seconds_blur, 1),
                "source / build": round(duration_s / r.seconds, 1),
                "decode-only s": round(decode_s, 1),
                "tube MB": round(size / 1e6, 1),
                "video": r.video,
            }
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def picture(video: Path, out: Path) -> None:
    """S2L1's frame 300 beside the synopsis frame showing the most objects, captioned."""
    import cv2

    index = json.loads(video.with_suffix(".json").read_text())
    busiest = max(range(index["frames"]), key=lambda j: len(index["frame_objects"][j]))
    with av.open(str(video)) as c:
        synopsis = next(f for j, f in enumerate(c.decode(video=0)) if j == busiest).to_ndarray(format="bgr24")
    with av.open(str(VTEST)) as c:
        source = next(f for j, f in enumerate(c.decode(video=0)) if j == 300).to_ndarray(format="bgr24")
    source = cv2.resize(source, (synopsis.shape[1], synopsis.shape[0]))
    # heads in the source frame are blurred as the synopsis blurs them (this picture goes in the README):
    # the ground truth's boxes of that frame
    from vigie.eval.mot import read_mot
    from vigie.privacy.blur import obscure
    from vigie.synopsis.render import HEAD_SHARE

    gt = read_mot(VTEST.parent / "gt.txt")
    for _, _, x, y, w, h, *_ in gt[gt[:, 0] == 301]:
        x1, y1, x2 = max(0, int(x)), max(0, int(y)), int(x + w)
        obscure(source, (x1, y1, min(source.shape[1], x2), y1 + max(2, int(h * HEAD_SHARE))))
    times = sorted(o["time"] for o in index["frame_objects"][busiest])
    captions = [
        f"source: one frame of the recording ({len(index['objects'])} objects over "
        f"{index['figures']['source_s'] / 60:.0f} min)",
        f"synopsis frame {busiest}: {len(times)} objects seen {times[0][11:16]}-{times[-1][11:16]} UTC "
        f"(labels in {index['label_timezone']})",
    ]
    panels = []
    for img, text in zip((source, synopsis), captions):
        band = np.full((34, img.shape[1], 3), 30, np.uint8)
        cv2.putText(band, text, (8, 23), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        panels.append(np.vstack([band, img]))
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), np.hstack([panels[0], np.full((panels[0].shape[0], 8, 3), 255, np.uint8), panels[1]]))
    print(f"picture: {out}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recording", choices=("pets09", "long", "both"), default="both")
    ap.add_argument("--keep", metavar="DIR", help="keep the work folder (videos, stores, synopses) here")
    ap.add_argument("--reuse", action="store_true", help="with --keep: reuse the recordings and analyses already there")
    ap.add_argument(
        "--picture",
        metavar="FILE.png",
        help="write a source frame beside the busiest frame of the last automatic synopsis (the README's picture)",
    )
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="vigie-synopsis-"))
    work.mkdir(parents=True, exist_ok=True)
    blurrer = Blurrer(threads=1)
    rows = []
    try:
        if args.recording in ("pets09", "both"):
            rows += run("pets09", VTEST, 795 / FPS, work, blurrer, [None, 30.0], args.reuse)
        if args.recording in ("long", "both"):
            video = work / "long-hour.mp4"
            duration = 4 * QUARTER
            if not (args.reuse and video.exists()):
                t = time.perf_counter()
                duration = assemble_long(video, pets09_frames())
                print(f"assembled {duration:.0f} s in {time.perf_counter() - t:.0f} s", flush=True)
            rows += run("long", video, duration, work, blurrer, [None, 180.0], args.reuse)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.picture and rows:
        auto = [r for r in rows if r["length asked"].startswith("auto")][-1]
        picture(Path(auto["video"]), Path(args.picture))
    keys = [k for k in rows[0] if k != "video"] if rows else []
    print("\n| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(str(r[k]) for k in keys) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

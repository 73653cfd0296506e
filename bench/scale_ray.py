"""The ray executor against one local pass on long recordings, and the fault figure.

Two long recordings, both made from PETS09-S2L1 (the only real footage there is):

- **pets4**: S2L1 four times back to back (as filmed, played backwards, its second half
  first, and that backwards), 3,180 frames at 7 fps (7.6 minutes): people all the time,
  many of them staying for minutes (the worst case for chunks, which run on while their
  tracks last);
- **hour**: bench/synopsis.py's hour, S2L1 once per quarter of an hour (the same four
  variants) and the empty plaza between: 25,200 frames, people passing then gone, as a
  street camera sees them.

Each is analysed as the demo's esplanade camera at every frame:

1. Baseline: `--executor local`, one process, one thread (the detector's default), the
   whole file in one pass. Then `--executor ray` on this machine (a Ray of its own, on
   loopback; one actor per chunk, two at a time on the two cores). Wall time for each, the
   ratio (the speed-up), Ray's start-up apart, the frames each analysed (the chunks'
   warm-ups and run-ons are the overhead); and the same output: the tracks of the local
   pass matched one to one by stitched tracks over the same boxes.
2. --fault (run it alone: it needs a Ray cluster, not this process's own): a two-node
   cluster on loopback (tests/ray_local_cluster.py), an uninterrupted ray run of pets4,
   then the same run with the worker node killed (SIGKILL to its raylet and workers)
   `--kill-after` seconds in: tracks lost and duplicated against the uninterrupted run,
   attribute for attribute (the goal is 0 and 0).

Run: .venv/bin/python bench/scale_ray.py [--recordings pets4,hour] [--chunk-s 300]
     .venv/bin/python bench/scale_ray.py --fault [--chunk-s 60] [--kill-after 40]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from stored_tracks import stored_tracks, track_attributes  # noqa: E402

from vigie.config import load_site  # noqa: E402
from vigie.scale.chunks import same_object  # noqa: E402
from vigie.scale.local import LocalExecutor  # noqa: E402
from vigie.store.sqlite import SQLiteStore  # noqa: E402
from vigie.types import TrackSummary  # noqa: E402

VTEST = ROOT.parent / "shared" / "data" / "pets09-s2l1" / "vtest.avi"
SITE = ROOT / "examples" / "nimes-demo.yaml"
CAMERA = "nimes-esplanade-01"
START = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
FPS = 7
OUT = ROOT / "bench" / "out"


def pets09_frames() -> list[np.ndarray]:
    with av.open(str(VTEST)) as c:
        return [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]


def assemble_pets4(path: Path, frames: list[np.ndarray]) -> int:
    swapped = frames[len(frames) // 2 :] + frames[: len(frames) // 2]
    sequence = frames + frames[::-1] + swapped + swapped[::-1]
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        s.options = {"preset": "veryfast", "crf": "23"}
        for img in sequence:
            for p in s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="bgr24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return len(sequence)


def site_for(video: Path):
    site = load_site(SITE)
    cam = site.camera(CAMERA).model_copy(update={"source": str(video), "recording_start": START, "rules": []})
    return site.model_copy(update={"cameras": [cam if c.id == CAMERA else c for c in site.cameras]})


def stored(data_dir: Path) -> list[TrackSummary]:
    return stored_tracks(data_dir, CAMERA)


def compare_matched(reference: list[TrackSummary], other: list[TrackSummary]) -> dict:
    """Tracks of `reference` with no (or several) tracks of `other` over the same boxes, and the reverse."""

    def once(t, pool):
        return sum(same_object(t, u) and same_object(u, t) for u in pool) == 1

    return {
        "reference": len(reference),
        "other": len(other),
        "reference_unmatched": sum(not once(t, other) for t in reference),
        "other_unmatched": sum(not once(u, reference) for u in other),
    }


def analyse(executor, video: Path, site, data: Path) -> tuple[float, object]:
    with SQLiteStore(data) as store:
        t0 = time.perf_counter()
        report = executor.analyse_file(video, CAMERA, site, store, progress=True)
        return time.perf_counter() - t0, report


def speed_up(work: Path, video: Path, site, chunk_s: float) -> dict:
    from vigie.scale.ray_cluster import RayExecutor

    local_s, local_report = analyse(LocalExecutor(), video, site, work / "local")
    t0 = time.perf_counter()
    ray_executor = RayExecutor(chunk_s=chunk_s)  # a Ray of this machine's own, as many actors as cores
    startup_s = time.perf_counter() - t0
    try:
        ray_s, ray_report = analyse(ray_executor, video, site, work / "ray")
        workers = ray_executor.workers
    finally:
        ray_executor.close()
    same = compare_matched(stored(work / "local"), stored(work / "ray"))
    return {
        "frames": local_report.frames_decoded,
        "local_s": local_s,
        "ray_s": ray_s,
        "ray_startup_s": startup_s,
        "speed_up": local_s / ray_s,
        "speed_up_with_startup": local_s / (ray_s + startup_s),
        "ray_workers": workers,
        "chunk_s": chunk_s,
        "ray_frames_analysed": ray_report.frames_analysed,
        "local_frames_analysed": local_report.frames_analysed,
        "tracks": same,
    }


def fault(work: Path, video: Path, site, chunk_s: float, kill_after: float) -> dict:
    from ray_local_cluster import LocalCluster

    from vigie.scale.ray_cluster import RayExecutor

    cluster = LocalCluster(work)
    try:
        cluster.start()
        with RayExecutor(address=cluster.address, chunk_s=chunk_s) as ex:
            clean_s, _ = analyse(ex, video, site, work / "clean")
            result = {}
            runner = threading.Thread(target=lambda: result.update(run=analyse(ex, video, site, work / "killed")))
            runner.start()
            time.sleep(kill_after)
            cluster.kill_worker()
            runner.join()
        clean, killed = stored(work / "clean"), stored(work / "killed")
        a, b = set(map(track_attributes, clean)), [track_attributes(t) for t in killed]
        return {
            "uninterrupted_s": clean_s,
            "interrupted_s": result["run"][0],
            "killed_after_s": kill_after,
            "tracks_uninterrupted": len(clean),
            "tracks_interrupted": len(killed),
            "lost": len(a - set(b)),
            "duplicated": len(b) - len(set(b)) + sum(x not in a for x in b),
        }
    finally:
        cluster.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recordings", default="pets4,hour")
    ap.add_argument("--chunk-s", type=float, help="default: 300 (the executor's), 60 with --fault")
    ap.add_argument("--fault", action="store_true", help="the two-node fault run instead (run it alone)")
    ap.add_argument("--kill-after", type=float, default=40.0)
    ap.add_argument("--keep", type=Path, help="keep the recordings and stores here")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="vigie-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    out_file = OUT / ("scale_ray_fault.json" if args.fault else "scale_ray.json")
    try:
        frames = None
        videos = {}
        for name in ["pets4"] if args.fault else args.recordings.split(","):
            video = work / f"{name}.mp4"
            if not video.exists():
                frames = frames or pets09_frames()
                if name == "pets4":
                    assemble_pets4(video, frames)
                else:
                    sys.path.insert(0, str(ROOT / "bench"))
                    from synopsis import assemble_long

                    assemble_long(video, frames)
            videos[name] = video
        figures = {}
        if args.fault:
            figures["fault"] = f = fault(
                work, videos["pets4"], site_for(videos["pets4"]), args.chunk_s or 60.0, args.kill_after
            )
            print(
                f"fault: worker node killed {f['killed_after_s']:.0f} s in; tracks {f['tracks_interrupted']} vs "
                f"{f['tracks_uninterrupted']} uninterrupted; lost {f['lost']}, duplicated {f['duplicated']}; "
                f"wall {f['interrupted_s']:.1f} s vs {f['uninterrupted_s']:.1f} s"
            )
        for name, video in videos.items() if not args.fault else ():
            figures[name] = s = speed_up(work / name, video, site_for(video), args.chunk_s or 300.0)
            print(f"\n{name}: {s['frames']} frames at {FPS} fps ({s['frames'] / FPS / 60:.1f} min)")
            print("| executor | wall s | ratio to local | frames analysed |\n|---|---|---|---|")
            print(f"| local (1 process, baseline) | {s['local_s']:.1f} | 1.00 | {s['local_frames_analysed']} |")
            print(
                f"| ray ({s['ray_workers']} actors, {s['chunk_s']:.0f} s chunks) | {s['ray_s']:.1f} | "
                f"{s['speed_up']:.2f}x | {s['ray_frames_analysed']} |"
            )
            print(
                f"| ray, counting its start-up ({s['ray_startup_s']:.1f} s) | {s['ray_s'] + s['ray_startup_s']:.1f} | "
                f"{s['speed_up_with_startup']:.2f}x | |"
            )
            print(f"tracks: {s['tracks']}")
        OUT.mkdir(parents=True, exist_ok=True)
        out_file.write_text(json.dumps(figures, indent=2, default=str))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

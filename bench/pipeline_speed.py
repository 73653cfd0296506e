"""Speed of the full per-camera pipeline, as ratios against decoding alone.

1. vtest.avi (PETS09, 768x576 MPEG-4 part 2): frames/s of decoding alone and
   of the full pipeline (default site settings), one thread for each.
2. An HD version made here from it (1920x1080, H.264, 25 fps): CPU seconds
   per second of video for decoding alone, and for the pipeline analysing
   5 frames a second; hence how many such cameras one core keeps up with.

Everything runs on one thread (OpenCV, FFmpeg), so the figure is per core.
Run: .venv/bin/python bench/pipeline_speed.py   (make bench runs it)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.config import AnalysisConfig, load_site  # noqa: E402
from vigie.pipeline import CameraPipeline, run_frames  # noqa: E402
from vigie.sources.file import FileSource  # noqa: E402

PETS = ROOT.parent / "shared" / "data" / "pets09-s2l1" / "vtest.avi"
OUT = ROOT / "bench" / "out"


def make_hd(src: Path, dst: Path, seconds: float) -> Path:
    """Upscale the PETS09 frames to 1920x1080 H.264 at 25 fps (each source
    frame shown ~3.6 times, as a 25 fps camera filming the same scene would)."""
    if dst.exists():
        return dst
    dst.parent.mkdir(parents=True, exist_ok=True)
    frames = [f.image for f in FileSource(src, "hd", frame_rate=7)]
    with av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23", "g": "50"}  # a 2 s GOP, as IP cameras use
        stream.time_base = Fraction(1, 25)
        for i in range(int(seconds * 25)):
            img = frames[min(len(frames) - 1, int(i * 7 / 25))]
            hd = cv2.resize(img, (1920, 1080), interpolation=cv2.INTER_LINEAR)
            vf = av.VideoFrame.from_ndarray(hd, format="bgr24")
            vf.pts = i
            for pkt in stream.encode(vf):
                out.mux(pkt)
        for pkt in stream.encode():
            out.mux(pkt)
    return dst


def cpu_time(fn) -> tuple[float, float, object]:
    """(CPU seconds of this process, wall seconds, result) of fn()."""
    c0, w0 = time.process_time(), time.perf_counter()
    result = fn()
    return time.process_time() - c0, time.perf_counter() - w0, result


def decode_only(path: Path, frame_step: int = 1, frame_rate: float | None = None) -> int:
    n = 0
    for _ in FileSource(path, "bench", frame_rate=frame_rate, frame_step=frame_step, decode_threads=1):
        n += 1
    return n


def pipeline_run(path: Path, site, camera_id: str, frame_step: int, frame_rate: float | None = None):
    camera = site.camera(camera_id)
    source = FileSource(path, camera_id, camera.recording_start, frame_rate or camera.frame_rate, frame_step, decode_threads=1,
                        skip_loop_filter=site.analysis_for(camera_id).fast_decode)
    analysis = site.analysis_for(camera_id).model_copy(update={"frame_step": frame_step})
    site = site.model_copy(update={"analysis": analysis, "cameras": [camera.model_copy(update={"analysis": None})]})
    pipe = CameraPipeline(site.camera(camera_id), site, source.info.frame_rate)
    tracks = []
    run_frames(pipe, source, tracks.extend)
    return pipe, tracks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hd-seconds", type=float, default=30.0, help="length of the HD clip")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    site = load_site(ROOT / "examples" / "nimes-demo.yaml")
    cam = "nimes-esplanade-01"
    det = site.detector_for(cam)
    print(f"detector: {det.type} input {getattr(det, 'input_size', '?')}; OpenCV and FFmpeg on one thread", flush=True)

    # 1. PETS09 at its own resolution, every frame.
    c_dec, w_dec, n = cpu_time(lambda: decode_only(PETS, 1, 7))
    c_pipe, w_pipe, (pipe, tracks) = cpu_time(lambda: pipeline_run(PETS, site, cam, 1))
    res = {
        "pets_frames": n,
        "pets_decode_fps": n / w_dec,
        "pets_pipeline_fps": n / w_pipe,
        "pets_pipeline_over_decode": (n / w_pipe) / (n / w_dec),
        "pets_stage_seconds": {k: round(v, 2) for k, v in pipe.times.as_dict().items()},
        "pets_tracks": len(tracks),
    }
    print(f"PETS09 768x576, all {n} frames: decode {res['pets_decode_fps']:.0f} frames/s, full pipeline "
          f"{res['pets_pipeline_fps']:.1f} frames/s (ratio {res['pets_pipeline_over_decode']:.3f}); stages {res['pets_stage_seconds']}", flush=True)

    # 2. HD H.264 at 25 fps, analysing 5 frames a second.
    hd = make_hd(PETS, OUT / "pets09_hd1080_25fps.mp4", args.hd_seconds)
    duration = args.hd_seconds
    c_hdec, w_hdec, nh = cpu_time(lambda: decode_only(hd, 1))
    c_hpipe, w_hpipe, (hpipe, htracks) = cpu_time(lambda: pipeline_run(hd, site, cam, 5, 25.0))
    res.update({
        "hd_seconds_of_video": duration,
        "hd_decode_cpu_s_per_video_s": c_hdec / duration,
        "hd_decode_cameras_per_core": duration / c_hdec,
        "hd_pipeline_cpu_s_per_video_s": c_hpipe / duration,
        "hd_pipeline_cameras_per_core": duration / c_hpipe,
        "hd_pipeline_over_decode": (duration / c_hpipe) / (duration / c_hdec),
        "hd_stage_seconds": {k: round(v, 2) for k, v in hpipe.times.as_dict().items()},
        "hd_frames_analysed": hpipe.frames_analysed,
    })
    print(f"HD 1920x1080 H.264 25 fps, {duration:.0f} s: decoding alone keeps up with {res['hd_decode_cameras_per_core']:.1f} cameras per core; "
          f"the pipeline at 5 analysed frames/s with {res['hd_pipeline_cameras_per_core']:.2f} cameras per core "
          f"(ratio to decode {res['hd_pipeline_over_decode']:.3f}); stages {res['hd_stage_seconds']}", flush=True)
    if args.json:
        print(json.dumps(res))


if __name__ == "__main__":
    main()

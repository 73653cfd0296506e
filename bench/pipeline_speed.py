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
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.config import load_site  # noqa: E402
from vigie.pipeline import CameraPipeline, run_frames  # noqa: E402
from vigie.sources.file import FileSource  # noqa: E402

PETS = ROOT.parent / "shared" / "data" / "pets09-s2l1" / "vtest.avi"
OUT = ROOT / "bench" / "out"


def make_hd(src: Path, dst: Path, seconds: float, size: tuple[int, int] = (1920, 1080)) -> Path:
    """Scale the PETS09 frames to `size` (1080p by default), H.264 at 25 fps
    (each source frame shown ~3.6 times, as a 25 fps camera filming the same
    scene would)."""
    if dst.exists():
        return dst
    dst.parent.mkdir(parents=True, exist_ok=True)
    frames = [f.image for f in FileSource(src, "hd", frame_rate=7)]
    with av.open(str(dst), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23", "g": "50"}  # a 2 s GOP, as IP cameras use
        stream.time_base = Fraction(1, 25)
        for i in range(int(seconds * 25)):
            img = frames[min(len(frames) - 1, int(i * 7 / 25))]
            hd = cv2.resize(img, size, interpolation=cv2.INTER_AREA if size[0] < img.shape[1] else cv2.INTER_LINEAR)
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


def decode_only(path: Path) -> int:
    """Decoding alone, the baseline: every frame decoded by FFmpeg on one
    thread, nothing converted or analysed."""
    n = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        for _ in container.decode(stream):
            n += 1
    return n


def pipeline_run(
    path: Path,
    site,
    camera_id: str,
    frame_step: int,
    frame_rate: float | None = None,
    detector_changes=None,
    **analysis_changes,
):
    """The camera's pipeline over a file, with its detector and analysis settings changed as asked."""
    camera = site.camera(camera_id)
    if frame_rate:
        camera = camera.model_copy(update={"frame_rate": frame_rate})
    if detector_changes:
        camera = camera.model_copy(
            update={"detector": site.detector_for(camera_id).model_copy(update=detector_changes)}
        )
    analysis = site.analysis_for(camera_id).model_copy(update={"frame_step": frame_step, **analysis_changes})
    camera = camera.model_copy(update={"analysis": analysis})
    site = site.model_copy(update={"cameras": [camera]})
    source = FileSource.for_camera(path, camera, analysis, decode_threads=1)
    pipe = CameraPipeline(camera, site, source.info.frame_rate)
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
    c_dec, w_dec, n = cpu_time(lambda: decode_only(PETS))
    c_pipe, w_pipe, (pipe, tracks) = cpu_time(lambda: pipeline_run(PETS, site, cam, 1))
    res = {
        "pets_frames": n,
        "pets_decode_fps": n / w_dec,
        "pets_pipeline_fps": n / w_pipe,
        "pets_pipeline_over_decode": (n / w_pipe) / (n / w_dec),
        "pets_stage_seconds": {k: round(v, 2) for k, v in pipe.times.as_dict().items()},
        "pets_tracks": len(tracks),
    }
    print(
        f"PETS09 768x576, all {n} frames: decode {res['pets_decode_fps']:.0f} frames/s, full pipeline "
        f"{res['pets_pipeline_fps']:.1f} frames/s (ratio {res['pets_pipeline_over_decode']:.3f}); stages {res['pets_stage_seconds']}",
        flush=True,
    )

    # 2. HD H.264 at 25 fps, analysing 5 frames a second: decoding alone, then
    # the pipeline with each speed means added in turn, so each one's share shows.
    hd = make_hd(PETS, OUT / "pets09_hd1080_25fps.mp4", args.hd_seconds)
    duration = args.hd_seconds
    c_hdec, _, _ = cpu_time(lambda: decode_only(hd))
    res.update({"hd_seconds_of_video": duration, "hd_decode_cameras_per_core": duration / c_hdec, "hd_variants": {}})
    print(
        f"HD 1920x1080 H.264 25 fps, {duration:.0f} s of video: decoding alone keeps up with "
        f"{duration / c_hdec:.2f} cameras per core",
        flush=True,
    )
    square = {"input_shape": "square"} if site.detector_for(cam).type == "nanodet" else None
    variants = {
        "full-resolution frames, full decoding, square detector input": dict(
            max_width=None, fast_decode=False, detector_changes=square
        ),
        "+ no deblocking filter": dict(max_width=None, fast_decode=True, detector_changes=square),
        "+ frames shrunk to 960 px while decoding": dict(fast_decode=True, detector_changes=square),
        "+ detector input at the frame's aspect, 416x256 (default)": dict(fast_decode=True),
        "the default without search crops (search_crops: 0)": dict(fast_decode=True, search_crops=0),
    }
    for label, changes in variants.items():
        c, _, (p, _) = cpu_time(lambda: pipeline_run(hd, site, cam, 5, 25.0, **changes))
        res["hd_variants"][label] = {
            "cameras_per_core": duration / c,
            "ratio_to_decode": c_hdec / c,
            "stage_seconds": {k: round(v, 2) for k, v in p.times.as_dict().items()},
        }
        print(
            f"  pipeline at 5 frames/s, {label}: {duration / c:.2f} cameras per core "
            f"(ratio to decoding alone {c_hdec / c:.3f}); stages {res['hd_variants'][label]['stage_seconds']}",
            flush=True,
        )
    # A camera's sub-stream (IP cameras send a second, small stream for analytics).
    sub = make_hd(PETS, OUT / "pets09_sub640_25fps.mp4", args.hd_seconds, size=(640, 360))
    with_sub = site.model_copy(
        update={
            "cameras": [
                site.camera(cam).model_copy(
                    update={"source": str(hd), "substream": str(sub), "main_stream_size": (1920, 1080)}
                )
            ]
        }
    )
    c, _, (p, _) = cpu_time(lambda: pipeline_run(sub, with_sub, cam, 5, 25.0))
    res["hd_variants"]["sub-stream 640x360"] = {
        "cameras_per_core": duration / c,
        "ratio_to_decode": c_hdec / c,
        "stage_seconds": {k: round(v, 2) for k, v in p.times.as_dict().items()},
    }
    print(
        f"  pipeline at 5 frames/s on the camera's 640x360 sub-stream instead: {duration / c:.2f} cameras per core "
        f"(ratio to decoding the HD stream alone {c_hdec / c:.3f}); stages {res['hd_variants']['sub-stream 640x360']['stage_seconds']}",
        flush=True,
    )
    if args.json:
        print(json.dumps(res))


if __name__ == "__main__":
    main()

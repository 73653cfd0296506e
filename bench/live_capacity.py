"""How many live 720p 25 fps cameras this machine analyses in real time, at 5
analysed frames per second each.

For N = 1, 2, 3... it serves N copies of a 720p 25 fps H.264 clip (PETS09
upscaled to 1280x720 by ffmpeg, 20 s looped) over local RTSP: per stream, one
Debian ffmpeg publishing in real time (-re -stream_loop -1 -c copy) to a
loopback RTSP relay (tests/sources/test_stream_source.py's RtspRelay, a
thread in this process; ffmpeg 5.1 cannot serve RTSP itself). Then one worker
process per stream runs StreamSource (RTSP over TCP) and, for the analysis
runs, the real per-camera pipeline (vigie.pipeline.CameraPipeline with the
demo site's camera nimes-esplanade-01 settings: NanoDet, max_width 960,
fast_decode, 5 analysed frames per second). The decode-only baseline runs
the same workers with StreamSource alone (every frame decoded, 5 a second
converted to BGR) on the same streams, in the same run.

Per N and per mode it reports, averaged over the streams: analysed frames per
second, decoded frames per second (25 when nothing is lost), lag (how far
decoding is behind the stream's own clock at the end, and how much it grew
during the measurement), and CPU seconds per stream-second (the worker
process: decoding + analysis; the ffmpeg publishers and the relay are not
counted). The capacity is the largest N whose every stream keeps >= 5
analysed frames per second (4.9 allowing for rounding) with a lag that does
not grow (less than 1 s of growth over the measurement).

Run: .venv/bin/python bench/live_capacity.py [--max-n 4] [--seconds 30]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PETS = ROOT.parent / "shared" / "data" / "pets09-s2l1" / "vtest.avi"
SITE = ROOT / "examples" / "nimes-demo.yaml"
CAMERA = "nimes-esplanade-01"
FFMPEG = "/usr/bin/ffmpeg"
FPS = 5.0
WARMUP_S = 4.0  # connection, first keyframe, ONNX first runs: not measured


def make_clip(dst: Path, seconds: int = 20) -> Path:
    """PETS09 (filmed at 7 fps) as a 1280x720 25 fps H.264 camera would film it: each
    source frame shown ~3.6 times, a 2 s GOP as IP cameras use."""
    subprocess.run(
        [
            FFMPEG,
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(PETS),
            "-vf",
            "setpts=N/7/TB,fps=25,scale=1280:720",
            "-t",
            str(seconds),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-g",
            "50",
            "-pix_fmt",
            "yuv420p",
            "-an",
            str(dst),
        ],
        check=True,
    )
    return dst


def load_camera_helpers():
    spec = importlib.util.spec_from_file_location(
        "stream_test_helpers", ROOT / "tests" / "integration" / "test_stream_source.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- worker: one stream, in its own process --------------------------------------------------
def worker(url: str, mode: str, seconds: float) -> dict:
    import cv2

    from vigie.config import load_site
    from vigie.pipeline import CameraPipeline
    from vigie.sources.stream import StreamSource

    cv2.setNumThreads(1)
    site = load_site(SITE)
    camera = site.camera(CAMERA)
    analysis = site.analysis_for(CAMERA)
    pipeline = CameraPipeline(camera, site, FPS) if mode == "analyse" else None
    source = StreamSource(
        url,
        CAMERA,
        analysis_fps=FPS,
        max_width=analysis.max_width,
        skip_loop_filter=analysis.fast_decode,
        decode_threads=1,
        connect_timeout_s=10,
        read_timeout_s=10,
        max_attempts=5,
    )
    started = None
    analysed = decoded0 = 0
    lags = []
    cpu0 = wall0 = 0.0
    tracks = 0
    frames = iter(source)
    while True:
        t_next = time.perf_counter()
        frame = next(frames)
        now = time.perf_counter()
        if pipeline is not None:
            pipeline.times.decode += now - t_next  # waiting for the stream included
        if started is None:
            started = now
        if now - started < WARMUP_S:
            if pipeline is not None:
                pipeline.process(frame)
            continue
        if not wall0:
            t = os.times()
            cpu0, wall0, decoded0 = t.user + t.system, now, source.frames_decoded
        if now - wall0 >= seconds:
            break
        if pipeline is not None:
            _, ended = pipeline.process(frame)
            tracks += len(ended)
        analysed += 1
        lags.append((now - wall0, source.lag_s))
    t = os.times()
    wall = time.perf_counter() - wall0
    source.stop()
    third = [lag for s, lag in lags if s < seconds / 3] or [0.0]
    last = [lag for s, lag in lags if s > 2 * seconds / 3] or [0.0]
    return {
        "mode": mode,
        "wall_s": wall,
        "analysed_fps": analysed / wall,
        "decoded_fps": (source.frames_decoded - decoded0) / wall,
        "lag_end_s": lags[-1][1] if lags else 0.0,
        "lag_growth_s": sum(last) / len(last) - sum(third) / len(third),
        "cpu_per_s": (t.user + t.system - cpu0) / wall,
        "gaps": len(source.gaps),
        "stage_s": {k: round(v, 2) for k, v in pipeline.times.as_dict().items()} if pipeline else {},
    }


# --- driver ---------------------------------------------------------------------------------
def run_n(cameras, mode: str, seconds: float) -> list[dict]:
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", cam.url, "--mode", mode, "--seconds", str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for cam in cameras
    ]
    results = []
    for p in procs:
        out, _ = p.communicate(timeout=seconds + 120)
        if p.returncode:
            raise SystemExit(f"worker failed ({p.returncode}): {out}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def summary(n: int, mode: str, rs: list[dict]) -> tuple[str, bool]:
    mean = lambda key: sum(r[key] for r in rs) / len(rs)  # noqa: E731
    ok = all(r["analysed_fps"] >= FPS - 0.1 and r["lag_growth_s"] < 1.0 and not r["gaps"] for r in rs)
    line = (
        f"{n:>2} {mode:<8} {min(r['analysed_fps'] for r in rs):>8.2f} {mean('analysed_fps'):>8.2f} "
        f"{mean('decoded_fps'):>8.1f} {max(r['lag_end_s'] for r in rs):>8.2f} "
        f"{max(r['lag_growth_s'] for r in rs):>+9.2f} {mean('cpu_per_s'):>8.3f}  {'yes' if ok else 'NO'}"
    )
    return line, ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-n", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=30.0, help="measured seconds per analysis run")
    ap.add_argument("--decode-seconds", type=float, default=20.0, help="measured seconds per decode-only run")
    ap.add_argument("--worker")
    ap.add_argument("--mode", default="analyse")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.mode, args.seconds)))
        return
    if not Path(FFMPEG).is_file():
        raise SystemExit("Debian's ffmpeg is missing (/usr/bin/ffmpeg): run `make setup` as root")
    helpers = load_camera_helpers()
    from vigie.config import load_site

    det = load_site(SITE).detector_for(CAMERA)
    with tempfile.TemporaryDirectory(prefix="vigie-live-") as tmp:
        clip = make_clip(Path(tmp) / "pets09_720p25.mp4")
        load = os.getloadavg()
        print(
            f"{os.cpu_count()} CPUs, load average {load[0]:.2f} at start (other jobs included); "
            f"streams: 1280x720 H.264 25 fps over local RTSP/TCP; detector {det.type}; "
            f"{args.seconds:.0f} s measured per analysis run, {args.decode_seconds:.0f} s per decode-only run, "
            f"after {WARMUP_S:.0f} s warm-up",
            flush=True,
        )
        header = " N mode     min a.fps mean a.fps dec.fps  lag end  lag grow  cpu s/s  real time"
        print(header, flush=True)
        capacity = 0
        for n in range(1, args.max_n + 1):
            cameras = [helpers.LoopbackCamera(clip, helpers.free_port()) for _ in range(n)]
            try:
                for cam in cameras:
                    cam.start()
                dec_line, _ = summary(n, "decode", run_n(cameras, "decode", args.decode_seconds))
                print(dec_line, flush=True)
                results = run_n(cameras, "analyse", args.seconds)
                ana_line, ok = summary(n, "analyse", results)
                print(ana_line, flush=True)
                print("   stage seconds (stream 1): " + json.dumps(results[0]["stage_s"]), flush=True)
            finally:
                for cam in cameras:
                    cam.stop()
            if not ok:
                break
            capacity = n
        print(
            f"capacity: {capacity} stream(s) of 720p 25 fps analysed in real time at {FPS:.0f} frames/s each "
            f"(load average now {os.getloadavg()[0]:.2f})"
        )


if __name__ == "__main__":
    main()

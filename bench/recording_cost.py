"""Recording (issue 21): CPU cost per 1080p camera, copied and masked, against decoding the same stream.

The stream: PETS09 S2.L1 (vtest.avi, 768x576) scaled up to 1920x1080 by Debian's ffmpeg, H.264
(libx264 veryfast, 25 fps, a key frame every 2 s, no B-frames, ~4 Mbit/s: an IP camera's main stream),
`--seconds` long. Timed in the same run, on one core's worth of threads (decoder and encoder threads 1):

  decode        the baseline: demux + decode every frame, what the camera's worker already does to
                analyse it (vigie.sources.stream);
  demux         demux only: the packets read, nothing else;
  copy          demux + vigie.recording.segments.SegmentWriter: the packets copied into 6 s MPEG-TS
                segments, each sealed under the media key (vigie.store.pictures.seal_file), synced and
                renamed (what `record: true` adds to the worker, which demuxes anyway: copy - demux);
  copy clear    the same with each segment synced and renamed in the clear, as before segments were
                sealed at rest (issue 19, finding 7): the cost of sealing is copy - copy clear;
  masked 1080p  decode + privacy mask burned in + libx264 veryfast re-encode at 1080p, 6 s segments
                (vigie.recording.masked.MaskedSegmentWriter: what a masked camera costs on top of
                its decoding, which the worker does anyway: masked - decode);
  masked 960    the same, scaled to 960 px wide first (record_masked_width: 960).
  decode sub    the camera's sub-stream: the same footage at 640x360 (libx264 veryfast, 25 fps, ~1 Mbit/s,
                a key frame every 2 s), demuxed and decoded;
  masked sub    record_from: substream: the sub-stream decoded, the masks (in 1080p pixels) scaled to it and
                burned in, re-encoded at 640x360. `vigie run` reads it on a connection of its own (the
                analysis reads the main stream), so its decoding is part of its cost: the whole of `masked
                sub` is what it adds, against `masked 1080p - decode` for the main stream.

Figures: CPU seconds (process time: every thread) per second of video; as CPU-s per camera-hour and
as % of one core; and the ratio against decode. Best of --repeat runs (a shared machine only adds).

Faults (--faults): the recorder of tests/recording/test_crash.py killed (SIGKILL) mid-segment three
times, restarted each time with `recover`; then a 2 MB tmpfs filled by it (as root). Counted from the
index and the folder: segments lost, index rows whose file is missing, temp files left.

Run: .venv/bin/python bench/recording_cost.py [--seconds 60] [--repeat 2] [--faults] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.privacy.masks import PrivacyMask  # noqa: E402
from vigie.recording.masked import MaskedSegmentWriter  # noqa: E402
from vigie.recording.recorder import recover  # noqa: E402
from vigie.recording.segments import PART, SegmentWriter  # noqa: E402
from vigie.store.sqlite import SQLiteStore  # noqa: E402

VTEST = ROOT.parent / "shared" / "data" / "pets09-s2l1" / "vtest.avi"
FFMPEG = "/usr/bin/ffmpeg"
T0 = datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc)
# A mask over a quarter of the 1080p view (the building's windows), in main-stream pixels.
MASK = [[(0, 0), (960, 0), (960, 540), (0, 540)]]


def make_stream(path: Path, seconds: int, size: str = "1920:1080", rate: str = "4M") -> Path:
    subprocess.run(
        [
            FFMPEG, "-nostdin", "-loglevel", "error", "-y", "-stream_loop", "-1", "-i", str(VTEST),
            "-frames:v", str(seconds * 25), "-vf", f"setpts=N/25/TB,scale={size}", "-r", "25",
            "-c:v", "libx264", "-preset", "veryfast", "-b:v", rate, "-maxrate", rate, "-bufsize", "8M",
            "-g", "50", "-bf", "0", "-pix_fmt", "yuv420p", "-an", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def cpu(fn) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


def run_decode(path: Path) -> None:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_count = 1
        for _ in c.decode(s):
            pass


def run_demux(path: Path) -> None:
    with av.open(str(path)) as c:
        for _ in c.demux(c.streams.video[0]):
            pass


class _Clock:
    """StreamSource's connection clock for a file: pts from the first at T0."""

    def __init__(self) -> None:
        self.first = None

    def time_of(self, pts, tb):
        if pts is None:
            return None
        self.first = pts if self.first is None else self.first
        return T0 + timedelta(seconds=float((pts - self.first) * tb))


class _InTheClear:
    """The baseline of sealing: a closed segment synced and renamed as it is (the recorder before
    segments were sealed at rest)."""

    def seal_file(self, plain: Path, path: Path) -> Path:
        fd = os.open(plain, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(plain, path)
        return path


def run_copy(path: Path, out: Path, sealed: bool = True) -> int:
    segments = []
    writer = SegmentWriter("cam", out, segments.append, target_s=6.0)
    if not sealed:
        writer.pictures = _InTheClear()
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        clock = _Clock()
        writer.connect(s, clock)
        for packet in c.demux(s):
            if packet.pts is not None:
                writer.packet(packet, clock.time_of(packet.pts, packet.time_base))
        writer.disconnect()
    return len(segments)


def run_masked(path: Path, out: Path, width: int | None, main_width: int | None = None) -> int:
    segments = []
    writer = MaskedSegmentWriter(
        "cam", out, segments.append, mask=PrivacyMask(MASK), max_width=width, main_width=main_width, target_s=6.0
    )
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_count = 1
        clock = _Clock()
        writer.connect(s, clock)
        for frame in c.decode(s):
            writer.frame(frame, clock.time_of(frame.pts, frame.time_base))
        writer.disconnect()
    return len(segments)


def cost_table(stream: Path, seconds: int, repeat: int, scratch: Path, sub: Path) -> dict:
    runs = {
        "decode": lambda: run_decode(stream),
        "demux": lambda: run_demux(stream),
        "copy": lambda: run_copy(stream, Path(tempfile.mkdtemp(dir=scratch))),
        "copy clear": lambda: run_copy(stream, Path(tempfile.mkdtemp(dir=scratch)), sealed=False),
        "masked 1080p": lambda: run_masked(stream, Path(tempfile.mkdtemp(dir=scratch)), None),
        "masked 960": lambda: run_masked(stream, Path(tempfile.mkdtemp(dir=scratch)), 960),
        "decode sub": lambda: run_decode(sub),
        "masked sub": lambda: run_masked(sub, Path(tempfile.mkdtemp(dir=scratch)), None, main_width=1920),
    }
    best = {name: min(cpu(fn) for _ in range(repeat)) for name, fn in runs.items()}
    out = {}
    for name, s in best.items():
        out[name] = {
            "cpu_s": round(s, 3),
            "cpu_s_per_camera_hour": round(s / seconds * 3600, 1),
            "percent_of_a_core": round(s / seconds * 100, 2),
            "x_decode": round(s / best["decode"], 3),
        }
    added = {
        "copy - demux": best["copy"] - best["demux"],
        "sealing: copy - clear": best["copy"] - best["copy clear"],
        "masked 1080p - decode": best["masked 1080p"] - best["decode"],
        "masked 960 - decode": best["masked 960"] - best["decode"],
        "masked sub - decode sub": best["masked sub"] - best["decode sub"],
    }
    for name, s in added.items():
        out[name] = {
            "cpu_s": round(s, 3),
            "cpu_s_per_camera_hour": round(s / seconds * 3600, 1),
            "percent_of_a_core": round(s / seconds * 100, 2),
            "x_decode": round(s / best["decode"], 3),
        }
    out["sealing: copy / clear"] = {"ratio": round(best["copy"] / best["copy clear"], 2)}
    # What a masked camera adds to its worker: the sub-stream's whole recording (its own connection) against
    # the main stream's re-encoding (its decoding is the analysis's).
    out["masked sub / (masked 1080p - decode)"] = {
        "ratio": round(best["masked sub"] / (best["masked 1080p"] - best["decode"]), 3)
    }
    return out


# --- faults -------------------------------------------------------------------------------------


def faults(scratch: Path) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from loopback_camera import make_h264_clip
    from recording.test_crash import RECORDER as SCRIPT

    clip = make_h264_clip(VTEST, scratch / "camera.mp4", seconds=20)
    data = scratch / "var"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    report = {"kills": 0, "segments_salvaged": 0, "segments_lost": 0, "rows_pointing_nowhere": 0, "temp_left": 0}
    for k in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(clip), str(data)], env=env, stdout=subprocess.PIPE, text=True
        )
        closed = 0
        while closed < 2 + k:  # a different moment each time
            closed += proc.stdout.readline().startswith("indexed")
        time.sleep(0.7 + 0.4 * k)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        report["kills"] += 1
        with SQLiteStore(data) as store:
            parts = len(list(data.rglob(f"*{PART}")))
            done = recover(store, "cam-a")
            report["segments_salvaged"] += done.salvaged
            report["segments_lost"] += parts - done.salvaged
            report["rows_pointing_nowhere"] += sum(
                not s.file(data).is_file() for s in store.recording_segments("cam-a")
            )
            report["temp_left"] += len(list(data.rglob(f"*{PART}")))
    if os.geteuid() == 0:
        disk = scratch / "disk"
        disk.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], check=True)
        try:
            with SQLiteStore(disk) as store:  # the index on the full disk too
                errors, closed_full = [], []

                def indexed(seg, store=store):
                    closed_full.append(seg)
                    store.add_recording_segment(**seg.index_args())

                writer = SegmentWriter("cam-a", disk, indexed, errors.append, target_s=2.0, retry_s=1.0)
                with av.open(str(clip)) as c:
                    s = c.streams.video[0]
                    clock = _Clock()
                    writer.connect(s, clock)
                    for packet in c.demux(s):
                        if packet.pts is not None:
                            writer.packet(packet, clock.time_of(packet.pts, packet.time_base))
                    writer.disconnect()
                on_disk = {p.relative_to(disk).as_posix() for p in disk.rglob("*.ts*")}
                report["disk_full"] = {
                    "segments_written": len(closed_full),
                    "segments_lost": len(errors),
                    "rows_pointing_nowhere": sum(not s.file(disk).is_file() for s in store.recording_segments("cam-a")),
                    "temp_left": len([p for p in on_disk if p.endswith(PART)]),
                }
        finally:
            subprocess.run(["umount", "-l", str(disk)], check=False)
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--faults", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="vigie-rec-bench-") as folder:
        scratch = Path(folder)
        stream = make_stream(scratch / "camera-1080p.mp4", args.seconds)
        sub = make_stream(scratch / "camera-sub-640x360.mp4", args.seconds, "640:360", "1M")
        with av.open(str(stream)) as c:
            s = c.streams.video[0]
            info = {"size": f"{s.codec_context.width}x{s.codec_context.height}", "frames": s.frames,
                    "mbit_s": round(stream.stat().st_size * 8 / args.seconds / 1e6, 2)}  # fmt: skip
        table = cost_table(stream, args.seconds, args.repeat, scratch, sub)
        report = {"stream": info, "seconds": args.seconds, "costs": table}
        if args.faults:
            report["faults"] = faults(scratch)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"stream: {info['size']}, {args.seconds} s, {info['mbit_s']} Mbit/s")
    print(f"{'':<38} {'CPU s':>7} {'CPU-s/cam-h':>12} {'% core':>7} {'x decode':>9}")
    for name, r in table.items():
        if "ratio" in r:
            print(f"{name:<38} {r['ratio']:>7.3f} x")
            continue
        print(
            f"{name:<38} {r['cpu_s']:>7.2f} {r['cpu_s_per_camera_hour']:>12.1f} {r['percent_of_a_core']:>7.2f} "
            f"{r['x_decode']:>9.3f}"
        )
    if args.faults:
        print("faults:", json.dumps(report["faults"]))


if __name__ == "__main__":
    main()

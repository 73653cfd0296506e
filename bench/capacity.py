"""Capacity figures: CPU seconds per camera-hour per stage, and store bytes per track.

The real per-camera pipeline (vigie.pipeline.CameraPipeline and run_frames,
the demo site's camera nimes-esplanade-01: NanoDet at the frame's aspect,
ByteTrack with colour stripes, search crops, synopsis tubes) analyses real
footage at 5 frames per second of video, everything on one thread:

1. PETS09-S2L1 (768x576 MPEG-4 part 2, 795 frames filmed at 7 fps = 113.6 s;
   a crowded plaza): every frame decoded, 5 of each 7 analysed (by the
   video's own clock, as StreamSource keeps 5 a second of a live camera).
2. HD clips made from the same frames by bench/pipeline_speed.py's make_hd
   (H.264, 25 fps, 2 s GOP; cached in bench/out): 1280x720 and 1920x1080
   main streams and a 640x360 sub-stream, every 5th frame analysed.

CPU time (time.process_time) is read around each stage object's calls,
wrapped here without changing vigie/: decoding (the source's next frame),
motion (privacy masks, the motion gate, background sampling for the
synopsis), detection, tracking (with its appearance vectors) and description
(the describer and the synopsis tubes, per frame and when a track ends: its
colours, thumbnail, search crops through MobileNetV2). Then storage: the
tracks and backgrounds written into a fresh SQLite store (add_tracks,
add_backgrounds, finish_analysis with its thumbnail files), CPU seconds of
the writer thread (time.thread_time inside it) and of the whole process, and
the bytes each table takes (sqlite's dbstat, after a checkpoint).

The baseline, in the same run: decoding alone (every frame, FFmpeg on one
thread, nothing converted), as in bench/pipeline_speed.py. Each stage is
reported in CPU s per camera-hour, as a share of the total, and as a
multiple of decoding alone. Per-track costs (tracking, description, storage
divided by the tracks found) let a capacity model scale by a camera's track
rate (docs/SCALING.md).

Run: .venv/bin/python bench/capacity.py [--hd 720,1080,sub] [--json]   (~3 min on 2 shared cores)
Writes bench/out/capacity.json.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # numpy's BLAS on one thread too, before numpy loads

import argparse  # noqa: E402
import json  # noqa: E402
import sqlite3  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pipeline_speed import decode_only, make_hd  # noqa: E402

from vigie.config import load_site  # noqa: E402
from vigie.pipeline import CameraPipeline, run_frames  # noqa: E402
from vigie.sources.file import FileSource, configure_decoder  # noqa: E402
from vigie.store.sqlite import SQLiteStore  # noqa: E402
from vigie.types import Frame  # noqa: E402

PETS = ROOT.parent / "shared" / "data" / "pets09-s2l1" / "vtest.avi"
SITE = ROOT / "examples" / "nimes-demo.yaml"
CAMERA = "nimes-esplanade-01"
OUT = ROOT / "bench" / "out"
FPS = 5.0
HOUR = 3600.0
STAGES = ("decode", "motion", "detect", "track", "describe")


class RateFileSource(FileSource):
    """A FileSource keeping `fps` frames per second of video by the frames' own
    clock (the true frame rate), as StreamSource keeps analysis_fps of a live
    camera: every frame is decoded (the codec needs it), only the kept ones are
    converted. 5 of each 7 PETS09 frames; every 5th frame of a 25 fps clip."""

    fps = FPS

    def __iter__(self):
        period, due, seq = 1.0 / self.fps, 0.0, -1
        with self._open() as container:
            stream = configure_decoder(container.streams.video[0], self.skip_loop_filter, self.decode_threads)
            for frame in container.decode(stream):
                seq += 1
                self.frames_decoded = seq + 1
                t = seq / self.info.frame_rate
                if t < due - 1e-6:
                    continue
                due += period
                image, scale = self._convert(frame)
                yield Frame(self.camera_id, seq, self._timestamp(frame, seq, False), image, scale)


class Meter:
    """CPU seconds (process_time) per stage and sub-stage, read around wrapped calls."""

    def __init__(self) -> None:
        self.parts: dict[tuple[str, str], float] = defaultdict(float)
        self.calls: dict[tuple[str, str], int] = defaultdict(int)

    def wrap(self, obj, method: str, stage: str) -> None:
        if obj is None:
            return
        fn = getattr(obj, method)
        key = (stage, f"{type(obj).__name__}.{method}")

        def timed(*args, **kwargs):
            c0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.parts[key] += time.process_time() - c0
                self.calls[key] += 1

        setattr(obj, method, timed)  # an instance attribute: shadows the method for this object only

    def frames(self, source):
        it = iter(source)
        key = ("decode", "FileSource.__next__ (decode + convert the kept frames)")
        while True:
            c0 = time.process_time()
            try:
                frame = next(it)
            except StopIteration:
                self.parts[key] += time.process_time() - c0
                return
            self.parts[key] += time.process_time() - c0
            self.calls[key] += 1
            yield frame

    def stage(self, name: str) -> float:
        return sum(v for (s, _), v in self.parts.items() if s == name)

    def detail(self) -> dict:
        return {
            f"{s}: {p}": {"cpu_s": round(v, 3), "calls": self.calls[(s, p)]} for (s, p), v in sorted(self.parts.items())
        }


def instrument(pipe: CameraPipeline, meter: Meter) -> None:
    meter.wrap(pipe.privacy, "apply", "motion")
    meter.wrap(pipe.gate, "moving", "motion")
    meter.wrap(pipe.background, "offer", "motion")
    meter.wrap(pipe.background, "finish", "motion")
    meter.wrap(pipe.detector, "detect", "detect")
    meter.wrap(pipe.camera_motion, "estimate", "track")
    meter.wrap(pipe.tracker, "update", "track")  # appearance vectors are computed inside, on demand
    meter.wrap(pipe.tracker, "pop_finished", "track")
    meter.wrap(pipe.tracker, "finish", "track")
    meter.wrap(pipe.describer, "observe", "describe")
    meter.wrap(pipe.describer, "finish", "describe")  # per track: colours, thumbnail, search crops' network
    meter.wrap(pipe.tubes, "observe", "describe")
    meter.wrap(pipe.tubes, "finish", "describe")


def analyse(path: Path, frame_rate: float, substream_of: tuple[int, int] | None = None):
    """The demo camera's pipeline over `path` at 5 analysed frames/s, instrumented."""
    site = load_site(SITE)
    camera = site.camera(CAMERA).model_copy(update={"frame_rate": frame_rate})
    if substream_of:
        camera = camera.model_copy(update={"substream": str(path), "main_stream_size": substream_of})
    analysis = site.analysis_for(CAMERA)
    assert analysis.frame_step == 1, "the source picks the frames here"
    det = site.detector_for(CAMERA)
    assert det.threads == 1
    site = site.model_copy(update={"cameras": [camera]})
    source = RateFileSource.for_camera(path, camera, analysis, decode_threads=1)
    pipe = CameraPipeline(camera, site, FPS)  # the tracker and describer run at the analysed rate
    meter = Meter()
    instrument(pipe, meter)
    tracks = []
    c0 = time.process_time()
    message = run_frames(pipe, meter.frames(source), tracks.extend)
    total = time.process_time() - c0
    if message:
        raise SystemExit(f"{path}: {message}")
    return {
        "source": source,
        "pipe": pipe,
        "meter": meter,
        "tracks": tracks,
        "backgrounds": pipe.take_backgrounds(),
        "cpu_total": total,
        "video_s": source.frames_decoded / source.info.frame_rate,
        "detector": f"{det.type} {getattr(det, 'input_shape', '')} {getattr(det, 'precision', '')}".strip(),
        "bitrate_mbit_s": path.stat().st_size * 8 / 1e6 / (source.frames_decoded / source.info.frame_rate),
        "classes": list(analysis.classes),
        "period_s": analysis.background_period_s,
    }


def table_sizes(db: Path) -> dict[str, int]:
    """Bytes of pages per table, its indexes included (sqlite's dbstat)."""
    conn = sqlite3.connect(db)
    try:
        owner = {
            r[0]: r[1] for r in conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table','index')")
        }
        sizes: dict[str, int] = defaultdict(int)
        for name, size in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            sizes[owner.get(name, name)] += size
        return dict(sizes)
    finally:
        conn.close()


def store_run(run: dict, data_dir: Path) -> dict:
    """Write the run's tracks into a fresh SQLite store, as analyse_file does; CPU and bytes."""
    store = SQLiteStore(data_dir)
    site = load_site(SITE)
    store.upsert_cameras([site.camera(CAMERA)])
    aid = store.begin_analysis(CAMERA, str(run["source"].path), "capacity-bench")
    store.write(lambda conn: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")).result()
    before = table_sizes(store.path)
    writer_time = lambda: store.write(lambda conn: time.thread_time()).result()  # noqa: E731 - the writer thread's own CPU clock
    w0, c0 = writer_time(), time.process_time()
    store.add_tracks(aid, run["tracks"]).result()
    if run["backgrounds"]:
        store.add_backgrounds(aid, run["backgrounds"]).result()
    store.finish_analysis(aid, "complete", run["source"].frames_decoded, run["pipe"].frames_analysed)
    c1 = time.process_time()
    w1 = writer_time()
    store.write(lambda conn: conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")).result()
    store.close()
    after = table_sizes(store.path)
    delta = {t: after.get(t, 0) - before.get(t, 0) for t in after if after.get(t, 0) != before.get(t, 0)}
    thumb_files = sum(f.stat().st_size for f in (data_dir / "thumbnails").rglob("*.jpg"))
    blobs = {}
    conn = sqlite3.connect(store.path)
    for table, expr in (
        ("tubes", "length(data)"),
        ("thumbnails", "length(jpeg)"),
        ("backgrounds", "length(jpeg)"),
        ("track_vectors", "length(vector)"),
        ("track_crops", "length(features)"),
    ):
        try:
            blobs[table] = conn.execute(f"SELECT coalesce(sum({expr}),0), count(*) FROM {table}").fetchone()
        except sqlite3.OperationalError:
            pass
    n_points = conn.execute("SELECT count(*) FROM track_points").fetchone()[0]
    conn.close()
    return {
        "writer_cpu_s": w1 - w0,
        "process_cpu_s": c1 - c0,
        "table_bytes": delta,
        "db_bytes": sum(delta.values()),
        "thumbnail_file_bytes": thumb_files,
        "blob_bytes_rows": blobs,
        "points_rows": n_points,
    }


def stage_rows(run: dict, decode_alone_cpu: float) -> dict:
    """Per stage: CPU s measured, and per camera-hour. Everything scales with the
    video's length except the synopsis background, made once per period
    (analysis.background_period_s, 900 s): it counts once per period."""
    meter, per_h = run["meter"], HOUR / run["video_s"]
    bg_key = ("motion", "BackgroundSampler.finish")
    bg_each = meter.parts.get(bg_key, 0.0) / max(1, meter.calls.get(bg_key, 0))
    stages = {s: meter.stage(s) for s in STAGES}
    stages["other (loop, filtering)"] = run["cpu_total"] - sum(stages.values())
    hourly = {s: v * per_h for s, v in stages.items()}
    hourly["motion"] += bg_each * HOUR / run["period_s"] - meter.parts.get(bg_key, 0.0) * per_h
    total_h, dec_h = sum(hourly.values()), decode_alone_cpu * per_h
    return {
        s: {
            "cpu_s": v,
            "cpu_s_per_camera_hour": hourly[s],
            "share": hourly[s] / total_h,
            "x_decode_alone": hourly[s] / dec_h if dec_h else None,
        }
        for s, v in stages.items()
    }


def print_stages(title: str, rows: dict, total_h: float, dec_h: float) -> None:
    print(f"\n{title}")
    print(f"  {'stage':<26}{'CPU s':>9}{'CPU s/cam-h':>13}{'share':>8}{'x decode alone':>16}")
    print(f"  {'decoding alone (baseline)':<26}{'':>9}{dec_h:>13.0f}{'':>8}{1.0:>16.2f}")
    for s, r in rows.items():
        print(
            f"  {s:<26}{r['cpu_s']:>9.2f}{r['cpu_s_per_camera_hour']:>13.0f}{r['share']:>8.1%}{r['x_decode_alone']:>16.2f}"
        )
    print(
        f"  {'total':<26}{sum(r['cpu_s'] for r in rows.values()):>9.2f}{total_h:>13.0f}{1:>8.0%}{total_h / dec_h:>16.2f}"
        f"   -> {total_h / HOUR:.3f} cores per camera, {HOUR / total_h:.2f} cameras per core"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--hd",
        default="720,1080,sub",
        help="HD cases to run: 720, 1080, sub (640x360 sub-stream of 1080p); '' for none",
    )
    ap.add_argument(
        "--hd-seconds", type=float, default=30.0, help="length of the HD clips (made once, cached in bench/out)"
    )
    ap.add_argument("--keep", type=Path, help="keep the SQLite store here (default: a temporary folder)")
    ap.add_argument("--json", action="store_true", help="also print the JSON")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    res: dict = {
        "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "load_at_start": load,
        "analysed_fps": FPS,
        "threads": 1,
    }

    # --- 1. PETS09 ------------------------------------------------------------------
    c0 = time.process_time()
    n_dec = decode_only(PETS)
    dec_cpu = time.process_time() - c0
    run = analyse(PETS, 7.0)
    video_s, per_h = run["video_s"], HOUR / run["video_s"]
    dec_h = dec_cpu * per_h
    rows = stage_rows(run, dec_cpu)
    total_h = sum(r["cpu_s_per_camera_hour"] for r in rows.values())
    pipe, tracks = run["pipe"], run["tracks"]
    n_tracks = len(tracks)
    points = sum(len(t.points) for t in tracks)
    dwell = sum(t.dwell_s for t in tracks)
    by_class: dict[str, int] = defaultdict(int)
    for t in tracks:
        by_class[t.class_name] += 1
    print(
        f"{os.cpu_count()} CPUs, load {load:.2f} at start; one thread everywhere; detector {run['detector']}; "
        f"{FPS:.0f} analysed frames/s",
        flush=True,
    )
    print(
        f"PETS09-S2L1 768x576, {n_dec} frames = {video_s:.1f} s of video at 7 fps; {pipe.frames_analysed} frames analysed, "
        f"{pipe.frames_skipped_still} skipped by the motion gate; {n_tracks} tracks stored ({dict(by_class)}), "
        f"{points} track points, mean dwell {dwell / max(1, n_tracks):.1f} s -> {n_tracks * per_h:.0f} tracks per camera-hour"
    )
    print_stages("PETS09 stages, CPU seconds (this run) and per camera-hour:", rows, total_h, dec_h)

    with tempfile.TemporaryDirectory(prefix="vigie-capacity-") as tmp:
        data_dir = args.keep or Path(tmp)
        st = store_run(run, data_dir)
    st_h = st["process_cpu_s"] * per_h
    tb = st["table_bytes"]
    bg_rows = max(1, st["blob_bytes_rows"].get("backgrounds", (0, 0))[1])
    periods_h = HOUR / run["period_s"]  # backgrounds: one per period, not in proportion to the clip
    hourly_bytes = {t: (b / bg_rows * periods_h if t == "backgrounds" else b * per_h) for t, b in tb.items()}
    db_h = sum(hourly_bytes.values())
    track_bytes = sum(b for t, b in tb.items() if t not in ("backgrounds", "analyses", "cameras"))
    per_track = {
        "track_cpu_s": rows["track"]["cpu_s"] / n_tracks,
        "describe_cpu_s": rows["describe"]["cpu_s"] / n_tracks,
        "describe_finish_cpu_s": run["meter"].parts[("describe", "Describer.finish")] / n_tracks,
        "store_process_cpu_s": st["process_cpu_s"] / n_tracks,
        "store_writer_cpu_s": st["writer_cpu_s"] / n_tracks,
        "db_bytes": track_bytes / n_tracks,
        "db_bytes_without_tube": (track_bytes - tb.get("tubes", 0)) / n_tracks,
        "tube_bytes": tb.get("tubes", 0) / n_tracks,
        "thumbnail_file_bytes": st["thumbnail_file_bytes"] / n_tracks,
        "points": points / n_tracks,
        "dwell_s": dwell / n_tracks,
    }
    per_point = {"tube_bytes": tb.get("tubes", 0) / points, "track_points_bytes": tb.get("track_points", 0) / points}
    print(
        f"\nstorage of those {n_tracks} tracks (fresh SQLite store): writer thread {st['writer_cpu_s']:.3f} CPU s, "
        f"whole process {st['process_cpu_s']:.3f} CPU s (thumbnail files included) = {st_h:.1f} CPU s per camera-hour "
        f"({st['process_cpu_s'] / run['cpu_total']:.2%} of the analysis, {st['process_cpu_s'] / dec_cpu:.2f} x decoding alone)"
    )
    print(f"  {'table (with its indexes)':<26}{'bytes':>12}{'per track':>12}{'per cam-h (MB)':>16}")
    for t, b in sorted(tb.items(), key=lambda kv: -kv[1]):
        each = f"{b / n_tracks:>12,.0f}" if t not in ("backgrounds", "analyses", "cameras") else f"{'-':>12}"
        print(f"  {t:<26}{b:>12,}{each}{hourly_bytes[t] / 1e6:>16.2f}")
    print(f"  {'database, total':<26}{st['db_bytes']:>12,}{track_bytes / n_tracks:>12,.0f}{db_h / 1e6:>16.2f}")
    print(
        f"  {'thumbnail files':<26}{st['thumbnail_file_bytes']:>12,}{st['thumbnail_file_bytes'] / n_tracks:>12,.0f}"
        f"{st['thumbnail_file_bytes'] * per_h / 1e6:>16.2f}"
    )
    print(
        f"  per track point (one object in one analysed frame): tube {per_point['tube_bytes']:,.0f} B, "
        f"track_points row {per_point['track_points_bytes']:,.0f} B; backgrounds: one per {run['period_s']:.0f} s period, "
        f"{tb.get('backgrounds', 0) / bg_rows:,.0f} B each"
    )
    print(
        f"  per track: tracking {per_track['track_cpu_s']:.3f} + description {per_track['describe_cpu_s']:.3f} "
        f"(of which at the track's end {per_track['describe_finish_cpu_s']:.3f}) + storage {per_track['store_process_cpu_s']:.4f} CPU s; "
        f"{per_track['db_bytes']:,.0f} B in the database ({per_track['tube_bytes']:,.0f} of it the synopsis tube) "
        f"+ {per_track['thumbnail_file_bytes']:,.0f} B thumbnail file; {per_track['points']:.0f} points, {per_track['dwell_s']:.1f} s dwell"
    )

    # The model's coefficients (docs/SCALING.md): what scales with analysed frames, with
    # object-frames (one object in one analysed frame) and with tracks.
    part = run["meter"].parts
    model = {
        "detect_ms_per_analysed_frame": 1e3 * rows["detect"]["cpu_s"] / max(1, pipe.frames_analysed),
        "object_frame_cpu_ms": 1e3
        * (
            rows["track"]["cpu_s"]
            + part[("describe", "Describer.observe")]
            + part[("describe", "TubeRecorder.observe")]
        )
        / points,
        "track_end_cpu_s": (
            part[("describe", "Describer.finish")] + part[("describe", "TubeRecorder.finish")] + st["process_cpu_s"]
        )
        / n_tracks,
        "object_frame_bytes": (tb.get("tubes", 0) + tb.get("track_points", 0)) / points,
        "track_fixed_bytes": (track_bytes - tb.get("tubes", 0) - tb.get("track_points", 0) + st["thumbnail_file_bytes"])
        / n_tracks,
        "crops_per_track": st["blob_bytes_rows"].get("track_crops", (0, 0))[1] / n_tracks,
        "track_crops_bytes_stored_per_raw_byte": tb.get("track_crops", 0)
        / max(1, st["blob_bytes_rows"].get("track_crops", (1, 0))[0]),
    }
    print("  model coefficients: " + ", ".join(f"{k} {v:,.3f}" for k, v in model.items()))

    res["pets09"] = {
        "video_s": video_s,
        "frames_decoded": n_dec,
        "frames_analysed": pipe.frames_analysed,
        "frames_skipped_still": pipe.frames_skipped_still,
        "tracks": n_tracks,
        "by_class": dict(by_class),
        "points": points,
        "tracks_per_camera_hour": n_tracks * per_h,
        "detector": run["detector"],
        "decode_alone_cpu_s": dec_cpu,
        "decode_alone_cpu_s_per_camera_hour": dec_h,
        "pipeline_cpu_s": run["cpu_total"],
        "pipeline_cpu_s_per_camera_hour": total_h,
        "stages": rows,
        "stage_detail": run["meter"].detail(),
        "stage_times_wall_s": {k: round(v, 3) for k, v in pipe.times.as_dict().items()},
        "storage": {
            **st,
            "cpu_s_per_camera_hour": st_h,
            "db_bytes_per_camera_hour": db_h,
            "table_bytes_per_camera_hour": hourly_bytes,
            "thumbnail_file_bytes_per_camera_hour": st["thumbnail_file_bytes"] * per_h,
            "background_bytes_each": tb.get("backgrounds", 0) / bg_rows,
        },
        "per_track": per_track,
        "per_point": per_point,
        "model": model,
        "total_with_storage_cpu_s_per_camera_hour": total_h + st_h,
    }

    # --- 2. HD clips --------------------------------------------------------------------
    # The clips of bench/pipeline_speed.py (same names, same cache), and a 720p one like bench/live_capacity.py's.
    cases = {
        "720": ("1280x720 H.264 25 fps main stream", (1280, 720), None, "pets09_hd720_25fps.mp4"),
        "1080": ("1920x1080 H.264 25 fps main stream", (1920, 1080), None, "pets09_hd1080_25fps.mp4"),
        "sub": (
            "640x360 H.264 25 fps sub-stream (of a 1080p camera)",
            (640, 360),
            (1920, 1080),
            "pets09_sub640_25fps.mp4",
        ),
    }
    res["hd"] = {}
    for key in [k for k in args.hd.split(",") if k]:
        label, size, main, name = cases[key]
        clip = make_hd(PETS, OUT / name, args.hd_seconds, size=size)
        c0 = time.process_time()
        decode_only(clip)
        hdec = time.process_time() - c0
        r = analyse(clip, 25.0, substream_of=main)
        ph = HOUR / r["video_s"]
        hrows = stage_rows(r, hdec)
        htotal_h = sum(x["cpu_s_per_camera_hour"] for x in hrows.values())
        print_stages(
            f"{label}, {r['video_s']:.0f} s, {r['pipe'].frames_analysed} frames analysed "
            f"({r['pipe'].frames_skipped_still} skipped by the motion gate), {len(r['tracks'])} tracks, "
            f"{r['bitrate_mbit_s']:.2f} Mbit/s:",
            hrows,
            htotal_h,
            hdec * ph,
        )
        res["hd"][key] = {
            "label": label,
            "size": size,
            "video_s": r["video_s"],
            "frames_analysed": r["pipe"].frames_analysed,
            "frames_skipped_still": r["pipe"].frames_skipped_still,
            "bitrate_mbit_s": r["bitrate_mbit_s"],
            "tracks": len(r["tracks"]),
            "decode_alone_cpu_s_per_camera_hour": hdec * ph,
            "pipeline_cpu_s_per_camera_hour": htotal_h,
            "stages": hrows,
            "stage_detail": r["meter"].detail(),
        }

    res["load_at_end"] = os.getloadavg()[0]
    (OUT / "capacity.json").write_text(json.dumps(res, indent=1, default=str))
    print(f"\nload {res['load_at_end']:.2f} at the end; wrote {OUT / 'capacity.json'}")
    if args.json:
        print(json.dumps(res, default=str))


if __name__ == "__main__":
    main()

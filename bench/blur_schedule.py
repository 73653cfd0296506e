"""Issue 21's face-search schedule against the whole-frame search on every frame: what it keeps, loses, costs.

    python bench/blur_schedule.py [--frames 795] [--hd-frames 60] [--tud-frames 179] [--clip-s 10] [--parts quality,tud,speed,ttf]

1. PETS09 S2.L1 (768x576), every ground-truth person box given as a tracked person box (as clips do after
   a good analysis). Two methods on the same frames, in the same run:
     current   Blurrer.blur on each frame: the whole frame AND every person box searched, every frame;
     schedule  vigie.privacy.schedule.FaceSchedule: person boxes every frame, the whole frame every 5th
               (and the last), faces carried 2 frames each way in a window grown for the time apart.
   Per frame: faces found (current: its regions; schedule: its own finds, not counting carried ones) and,
   the figure that matters, each face the current method blurs: is it hidden by the schedule's windows too
   (>= 90 % of its box inside them)? Frames where the current method blurs a face the schedule does not are
   counted and listed. CPU ms per frame of each (process time, one onnxruntime thread).
1b. The same on the first --hd-frames frames upscaled to 1080p (faces 2.5x larger), the schedule's
   whole-frame search at full size, then capped at clips.WHOLE_SIDE px on its long side (what clips use).
1c. (part "tud") The same on TUD-Stadtmitte (640x480, a street, people near: larger faces), native and
   upscaled to 1080p with the whole frame capped as clips do.
2. A 1080p clip: PETS09 frames upscaled to 1920x1080 (H.264, written to a temp dir; the footage's own 7 fps),
   the gt boxes scaled, stored as one analysis. A track's clip rendered blurred by render_clip as fragmented
   MP4 (the whole frame searched at most clips.WHOLE_SIDE px wide), against plain decode + encode of the same
   frames (the baseline); the schedule before and now (section 30) each rendered twice, alternately.
   Speed against real time = seconds of video / CPU seconds, at the clip's 7 fps and as if it were 25 fps.
   Section 30 (issue 21, faster): the schedule before (CenterFace on onnxruntime, each person box searched
   whole, the full-size Gaussian of vigie.privacy.blur.obscure before section 30, kept below as
   `legacy_obscure`) against the schedule now (CenterFace on OpenVINO, obscure smoothing at a 4 px cell and
   skipping nested windows; with --head-part, an upright person box searched in its top part only), in the same run,
   with CPU ms per stage (face searches in person boxes, whole-frame searches, obscuring, the rest: decoding,
   masks, caption, encoding).
   Section 34: "now" is the product's default, CenterFace in OpenVINO's own arithmetic (bfloat16 on CPUs
   that have it, its threshold lowered by REDUCED_PRECISION_MARGIN); where that is not float32, "now_f32"
   (the same in float32, section 30's "now") is rendered too. "before" runs onnxruntime in float32, so its
   faces are float32's: "kept of schedule before" 100 % means now blurs every face float32 blurs.
3. Time to first frame of a track's clip: stream_clip until the first fragment holding a frame (moof+mdat)
   is out, uncached, blurred and unblurred, on PETS09 and on the 1080p copy (wall seconds).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from clip_render import CAMERA, FPS, PETS, SITE, gt_tracks  # noqa: E402

from vigie.config import load_site  # noqa: E402
from vigie.eval.mot import frames_with_truth  # noqa: E402
from vigie.media import clips  # noqa: E402
from vigie.privacy import blur as blur_module  # noqa: E402
from vigie.privacy import schedule as schedule_module  # noqa: E402
from vigie.privacy.blur import Blurrer  # noqa: E402
from vigie.privacy.schedule import FaceSchedule  # noqa: E402
from vigie.store.sqlite import SQLiteStore  # noqa: E402

HD = (1920, 1080)


TUD = ROOT.parent / "shared" / "data" / "tud-stadtmitte"
SETS = {  # name: (video, MOT gt.txt, frames per second)
    "PETS09": (PETS / "vtest.avi", PETS / "gt.txt", FPS),
    "TUD-Stadtmitte": (TUD / "TUD-Stadtmitte.mp4", TUD / "gt" / "gt.txt", 25.0),
}


def pets_frames(n: int, name: str = "PETS09"):
    """The first n frames of a set, each with its ground-truth person boxes (x1, y1, x2, y2)."""
    video, gt_path, _fps = SETS[name]
    for _i, frame, boxes in frames_with_truth(video, gt_path, range(n)):
        yield frame, boxes


HEAD_PART = None  # --head-part's default: every person box searched whole (0.5 lost faces, section 30)


def legacy_obscure(image: np.ndarray, window, style: str = "blur") -> None:
    """vigie.privacy.blur.obscure before section 30 (the Gaussian at full size), to measure against."""
    x1, y1, x2, y2 = window
    roi = image[y1:y2, x1:x2]
    h, w = roi.shape[:2]
    if h < 1 or w < 1:
        return
    cell = max(2.0, min(h, w) / 3.0)
    small = cv2.resize(roi, (max(1, round(w / cell)), max(1, round(h / cell))), interpolation=cv2.INTER_AREA)
    if style == "pixelate":
        roi[...] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    else:
        up = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        roi[...] = cv2.GaussianBlur(up, (0, 0), sigmaX=max(1.0, cell / 2.0))


def legacy_obscure_all(image: np.ndarray, windows, style: str = "blur") -> None:
    """Every window obscured in turn, nested ones included, as before section 30."""
    for w in windows:
        legacy_obscure(image, w, style)


class Variant:
    """One way of blurring: its blurrer and whether it obscures as before section 30. `with variant:` puts
    its obscure in place and times the stages (process CPU seconds, all threads): person-box searches,
    whole-frame searches, obscuring."""

    def __init__(self, name: str, blurrer: Blurrer, legacy: bool) -> None:
        self.name, self.blurrer, self.legacy = name, blurrer, legacy
        self.stages = {"person boxes": 0.0, "whole frame": 0.0, "obscure": 0.0}
        blurrer.find_faces(np.zeros((576, 768, 3), np.uint8))  # load the model before timing
        for stage, method in (("person boxes", "find_faces_in"), ("whole frame", "find_faces")):
            setattr(blurrer, method, self._timed(stage, getattr(blurrer, method)))

    def _timed(self, stage, fn):
        def timed(*args, **kwargs):
            cpu = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.stages[stage] += time.process_time() - cpu

        return timed

    def reset(self) -> None:
        self.stages = dict.fromkeys(self.stages, 0.0)

    def __enter__(self):
        self._saved = schedule_module.obscure_all, blur_module.obscure_all
        chosen = legacy_obscure_all if self.legacy else self._saved[0]
        schedule_module.obscure_all = blur_module.obscure_all = self._timed("obscure", chosen)
        return self

    def __exit__(self, *exc) -> None:
        schedule_module.obscure_all, blur_module.obscure_all = self._saved


PRECISION = "auto"  # --now-precision: "auto" lets OpenVINO choose (bfloat16 on CPUs that have it), or "f32"


class HeadPartBlurrer(Blurrer):
    """Section 30's rejected idea, kept here to measure it: in an upright person box (height > `upright` x
    width) only its top `head_part` is searched, at the scale the whole box would be; a lying, bending or
    sitting person's wide box is searched whole. It lost faces (CenterFace uses the body as context)."""

    def __init__(self, head_part: float, upright: float = 1.6, **kw) -> None:
        super().__init__(**kw)
        self.head_part, self.upright = head_part, upright

    def find_faces_in(self, image_bgr, person_boxes):
        faces = []
        for x1, y1, x2, y2 in blur_module._windows(image_bgr.shape, person_boxes, grow=0.1):
            upscale = max(1.0, self.min_face_side / (y2 - y1))  # the whole box's scale
            if (y2 - y1) > self.upright * (x2 - x1):
                y2 = y1 + max(8, int(np.ceil((y2 - y1) * self.head_part)))
            faces.extend(self._search_at(image_bgr, (x1, y1, x2, y2), upscale))
        return faces

    def _search_at(self, image_bgr, window, upscale):
        x1, y1, x2, y2 = window
        for fx1, fy1, fx2, fy2, score in self.faces.detect(image_bgr[y1:y2, x1:x2], upscale=upscale):
            box = (fx1 + x1, fy1 + y1, fx2 + x1, fy2 + y1)
            yield blur_module.BlurRegion(
                "face",
                float(score),
                blur_module._corners(*box),
                blur_module._window(box, self.face_enlarge, self.margin, 2, image_bgr.shape),
            )


def now_blurrer(head_part: float | None = None, precision: str | None = None) -> Blurrer:
    kw = dict(plates=False, face_precision=precision or PRECISION)
    return HeadPartBlurrer(head_part, **kw) if head_part else Blurrer(**kw)


def variants(head_part: float | None, with_f32: bool = False) -> list[Variant]:
    """The schedule before section 30 (onnxruntime: float32's faces) and now (plates off: no vehicle here);
    with_f32: also now in float32, when now's precision is another (section 34)."""
    out = [
        Variant("before", Blurrer(plates=False, face_runtime="onnxruntime"), legacy=True),
        Variant("now", now_blurrer(head_part), legacy=False),
    ]
    if with_f32 and out[1].blurrer.faces.arithmetic != "f32":
        out.insert(1, Variant("now_f32", now_blurrer(head_part, "f32"), legacy=False))
    return out


def hidden(face_xyxy, windows, shape) -> bool:
    """>= 90 % of the face's box inside the union of the windows."""
    x1, y1, x2, y2 = (int(round(v)) for v in face_xyxy)
    x1, y1, x2, y2 = max(0, x1), max(0, y1), min(shape[1], x2), min(shape[0], y2)
    if x2 <= x1 or y2 <= y1:
        return True
    covered = np.zeros((y2 - y1, x2 - x1), bool)
    for wx1, wy1, wx2, wy2 in windows:
        covered[max(0, wy1 - y1) : max(0, wy2 - y1), max(0, wx1 - x1) : max(0, wx2 - x1)] = True
    return covered.mean() >= 0.9


def quality(
    n: int,
    size: tuple[int, int] | None = None,
    whole_side: int | None = None,
    head_part: float | None = HEAD_PART,
    name: str = "PETS09",
) -> dict:
    """Part 1 on set `name`; `size`: the frames (and boxes) upscaled to it first, `whole_side`: the schedule's cap."""
    reference = Variant("current", Blurrer(plates=False, face_runtime="onnxruntime"), legacy=True)
    frames = list(pets_frames(n, name))
    if size:
        h0, w0 = frames[0][0].shape[:2]
        sx, sy = size[0] / w0, size[1] / h0
        frames = [(cv2.resize(im, size, interpolation=cv2.INTER_CUBIC), b * [sx, sy, sx, sy]) for im, b in frames]
    with reference:
        cpu = time.process_time()
        current = [reference.blurrer.blur(im, person_boxes=boxes)[1] for im, boxes in frames]
        current_cpu = time.process_time() - cpu
    shape = frames[0][0].shape
    k = len(frames)
    out: dict = {
        "set": name,
        "frames": k,
        "size": list(shape[1::-1]),
        "schedule_whole_side": whole_side,
        "head_part": head_part,
        "now_precision": PRECISION,
        "current_faces": sum(len(c) for c in current),
        "current_faces_per_frame": round(sum(len(c) for c in current) / k, 2),
        "current_cpu_ms_per_frame": round(1000 * current_cpu / k, 1),
    }
    own_before = None
    for v in variants(head_part):
        schedule = FaceSchedule(v.blurrer, fps=SETS[name][2], whole_side=whole_side)
        with v:
            cpu = time.process_time()
            scheduled = [r for _, _, r in schedule.run((im, boxes, None, i) for i, (im, boxes) in enumerate(frames))]
            schedule_cpu = time.process_time() - cpu
        own = [[r for r in new if r.blurred_xyxy == _own_window(r, v.blurrer, shape)] for new in scheduled]
        row = {
            "runtime": v.blurrer.faces.runtime,
            "arithmetic": v.blurrer.faces.arithmetic,
            "threshold": round(v.blurrer.faces.cut, 3),
            "whole_frame_searches": len(schedule.searched_whole),
            "own_faces_per_frame": round(sum(len(o) for o in own) / k, 2),
            "face_boxes_blurred_per_frame_incl_carried": round(sum(len(r) for r in scheduled) / k, 2),
            **_kept(current, scheduled, shape, "current"),
            "cpu_ms_per_frame": round(1000 * schedule_cpu / k, 1),
            "cpu_ms_per_frame_stages": {name: round(1000 * t / k, 1) for name, t in v.stages.items()},
            "x_faster_than_current_cpu": round(current_cpu / schedule_cpu, 2),
        }
        if own_before is None:
            own_before, before_cpu = own, schedule_cpu
        else:
            row.update(_kept(own_before, scheduled, shape, "schedule_before"))
            row["x_faster_than_schedule_before_cpu"] = round(before_cpu / schedule_cpu, 2)
        out[v.name] = row
    return out


def _kept(reference: list, scheduled: list, shape, name: str) -> dict:
    """How many of the reference's faces each frame the schedule's windows hide (>= 90 % of the box)."""
    faces = kept = 0
    missed_frames = []
    for i, (ref, new) in enumerate(zip(reference, scheduled)):
        windows = [r.blurred_xyxy for r in new]
        lost = [f for f in ref if not hidden(f.xyxy, windows, shape)]
        faces += len(ref)
        kept += len(ref) - len(lost)
        if lost:
            missed_frames.append(i)
    return {
        f"kept_of_{name}": f"{kept} / {faces} ({100 * kept / max(faces, 1):.1f} %)",
        f"missed_of_{name}": faces - kept,
        f"frames_missing_one_of_{name}": len(missed_frames),
        f"frames_missing_one_of_{name}_list": missed_frames[:40],
    }


def _own_window(r, blurrer, shape):
    """The window of a face found on its own frame (carried ones are grown: they differ)."""
    from vigie.privacy.blur import face_window

    return face_window(r.xyxy, shape, blurrer.face_enlarge, blurrer.margin)


def write_hd(path: Path, frames: int) -> None:
    cap = cv2.VideoCapture(str(PETS / "vtest.avi"))
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=int(FPS), options={"preset": "veryfast", "crf": "18"})
        stream.width, stream.height, stream.pix_fmt = *HD, "yuv420p"
        stream.codec_context.gop_size = int(2 * FPS)
        for _ in range(frames):
            ok, frame = cap.read()
            if not ok:
                break
            big = cv2.resize(frame, HD, interpolation=cv2.INTER_CUBIC)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(big, format="bgr24")))
        out.mux(stream.encode(None))
    cap.release()


def hd_tracks(frames: int):
    sx, sy = HD[0] / 768, HD[1] / 576
    out = []
    for t in gt_tracks(PETS / "gt.txt"):
        pts = [p for p in t.points if p.seq < frames]
        if len(pts) < 2:
            continue
        pts = [
            p.model_copy(update={"xyxy": (p.xyxy[0] * sx, p.xyxy[1] * sy, p.xyxy[2] * sx, p.xyxy[3] * sy)})
            if hasattr(p, "model_copy")
            else type(p)(
                seq=p.seq,
                timestamp=p.timestamp,
                xyxy=(p.xyxy[0] * sx, p.xyxy[1] * sy, p.xyxy[2] * sx, p.xyxy[3] * sy),
                confidence=p.confidence,
            )
            for p in pts
        ]
        out.append(
            type(t)(
                camera_id=t.camera_id,
                track_no=t.track_no,
                class_name=t.class_name,
                first_seen=pts[0].timestamp,
                last_seen=pts[-1].timestamp,
                points=pts,
                median_height_px=t.median_height_px * sy,
                median_width_px=t.median_width_px * sx,
                frame_size=HD,
            )
        )
    return out


def first_frame_s(stream_fn) -> float:
    """Wall seconds from the call to the first fragment holding a frame (a moof and its mdat) handed out."""
    t = time.perf_counter()
    stream = stream_fn()
    seen = b""
    for chunk in stream.chunks:
        seen += chunk
        if b"mdat" in seen and b"moof" in seen:
            elapsed = time.perf_counter() - t
            for _ in stream.chunks:  # let it finish (and be cached): not timed
                pass
            return elapsed
    return float("nan")


def store_of(data: str, video: Path, tracks, site):
    store = SQLiteStore(data)
    store.upsert_cameras(site.cameras)
    aid = store.begin_analysis(CAMERA, str(video), "bench-" + video.stem)
    store.add_tracks(aid, tracks).result()
    store.finish_analysis(aid, "complete", 795, 795)
    return store


def longest(store) -> int:
    rows = store.list_tracks(class_name="person", limit=1000)
    return max(rows, key=lambda t: t["n_points"])["id"]


def speed(clip_s: float, render: bool = True, head_part: float | None = HEAD_PART) -> dict:
    """Parts 2 (render=True) and 3."""
    site = load_site(SITE)
    blurrer = now_blurrer(head_part)
    blurrer.find_faces(np.zeros((576, 768, 3), np.uint8))
    frames = int(clip_s * FPS) + 20
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "pets09-1080p.mp4"
        write_hd(video, frames)
        store = store_of(str(Path(tmp) / "hd"), video, hd_tracks(frames), site)
        tid = longest(store)
        kw = dict(site=site, max_s=clip_s, pad_s=0.0)

        def timed(fn):
            wall, cpu = time.perf_counter(), time.process_time()
            result = fn()
            return result, time.perf_counter() - wall, time.process_time() - cpu

        if not render:
            return _ttf(store, tid, kw, blurrer, site, tmp, out)
        plain, pw, pc = timed(lambda: clips.render_clip(store, tid, blur=False, fmt="fmp4", **kw))
        n = plain.frames

        def baseline():
            with av.open(str(video)) as c:
                s = c.streams.video[0]
                enc = None
                for _seq, frame in clips._counted(c, s, plain.first_seq, plain.last_seq):
                    im = frame.to_ndarray(format="bgr24")
                    enc = enc or clips._Encoder("fmp4", FPS, HD[0], HD[1], n, "")
                    enc.add(im)
                enc.finish()

        _, bw, bc = timed(baseline)
        measured = [("decode+encode", bw, bc, None), ("unblurred", pw, pc, None)]
        regions = {}
        # Each blurred render twice, before and now alternating, so that a change in the machine's load
        # falls on both; the figures are the sums.
        vs = variants(head_part, with_f32=True)
        # The first render of a process also pays for each new input shape (OpenVINO prepares its kernels
        # per shape on first sight, onnxruntime less so): both renders are reported, then the mean.
        totals = {v.name: [0.0, 0.0] for v in vs}
        each: dict = {v.name: [] for v in vs}
        for _ in range(2):
            for v in vs:
                with v:
                    clip, w, c = timed(lambda: clips.render_clip(store, tid, blurrer=v.blurrer, fmt="fmp4", **kw))
                clips.delete_clips(store, [tid])
                totals[v.name][0] += w
                totals[v.name][1] += c
                each[v.name].append(round(1000 * c / clip.frames, 1))
                regions[v.name] = clip.regions
        for v in vs:
            w, c = totals[v.name]
            stages = {k: t / 2 for k, t in v.stages.items()}
            measured.append((f"blurred, schedule {v.name} ({v.blurrer.faces.runtime})", w / 2, c / 2, stages))
        out["cpu_ms_per_frame_first_and_second_render"] = each
        seconds = n / FPS
        rows = {}
        for name, wall, cpu, stages in measured:
            rows[name] = {
                "wall_s": round(wall, 2),
                "cpu_s": round(cpu, 2),
                "cpu_ms_per_frame": round(1000 * cpu / n, 1),
                "x_realtime_cpu_at_7fps": round(seconds / cpu, 2),
                "x_realtime_cpu_at_25fps": round(n / 25 / cpu, 2),
                "x_baseline_cpu": round(cpu / bc, 2),
            }
            if stages is not None:
                rest = cpu - sum(stages.values())
                rows[name]["cpu_ms_per_frame_stages"] = {
                    **{k: round(1000 * t / n, 1) for k, t in stages.items()},
                    "rest (decode, masks, caption, encode)": round(1000 * rest / n, 1),
                }
        out["hd_clip"] = {
            "frames": n,
            "seconds_at_7fps": round(seconds, 1),
            "head_part": head_part,
            "now_precision": PRECISION,
            "regions": regions,
            "rows": rows,
        }
        return _ttf(store, tid, kw, blurrer, site, tmp, out)


def _ttf(store, tid, kw, blurrer, site, tmp, out: dict) -> dict:
    """Part 3: the first fragment with a frame of a track's streamed clip, uncached (then cached: PETS09)."""
    ttf = {"1080p blurred": first_frame_s(lambda: clips.stream_clip(store, tid, blurrer=blurrer, **kw))}
    ttf["1080p unblurred"] = first_frame_s(lambda: clips.stream_clip(store, tid, blur=False, **kw))
    store.close()
    pets = store_of(str(Path(tmp) / "sd"), PETS / "vtest.avi", gt_tracks(PETS / "gt.txt"), site)
    with pets.read() as conn:
        t10 = conn.execute("SELECT id FROM tracks WHERE track_no=10").fetchone()[0]
    ttf["PETS09 768x576 blurred"] = first_frame_s(lambda: clips.stream_clip(pets, t10, site=site, blurrer=blurrer))
    ttf["PETS09 768x576 unblurred"] = first_frame_s(lambda: clips.stream_clip(pets, t10, site=site, blur=False))
    ttf["PETS09 768x576 blurred, cached"] = first_frame_s(
        lambda: clips.stream_clip(pets, t10, site=site, blurrer=blurrer)
    )
    pets.close()
    out["time_to_first_frame_s"] = {k: round(v, 2) for k, v in ttf.items()}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=795, help="PETS09 frames for part 1")
    ap.add_argument("--hd-frames", type=int, default=60, help="PETS09 frames upscaled to 1080p for part 1b")
    ap.add_argument("--clip-s", type=float, default=10.0, help="length of the 1080p clip (seconds at 7 fps)")
    ap.add_argument("--tud-frames", type=int, default=179, help="TUD-Stadtmitte frames for part 1c")
    ap.add_argument("--parts", default="quality,tud,speed,ttf", help="which parts to run (comma-separated)")
    ap.add_argument(
        "--head-part",
        type=float,
        default=0.0,
        help="the schedule now: an upright person box searched in this top fraction only (0: every box whole)",
    )
    ap.add_argument(
        "--now-precision",
        choices=("f32", "auto"),
        default="auto",
        help="OpenVINO's arithmetic for the schedule now: auto (the product's: bfloat16 where the CPU has it), or f32",
    )
    args = ap.parse_args()
    global PRECISION
    PRECISION = args.now_precision
    if not (PETS / "vtest.avi").is_file():
        print(f"PETS09 not found under {PETS}")
        return 1
    parts = set(args.parts.split(","))
    result = {}
    head = args.head_part or None
    if "quality" in parts:
        result["quality"] = quality(args.frames, head_part=head)
        result["quality_1080p"] = quality(args.hd_frames, HD, None, head_part=head)
        result["quality_1080p_capped"] = quality(args.hd_frames, HD, clips.WHOLE_SIDE, head_part=head)
    if "tud" in parts:  # TUD-Stadtmitte: a street, people near, faces larger (179 frames at 25 fps)
        result["quality_tud"] = quality(args.tud_frames, head_part=head, name="TUD-Stadtmitte")
        result["quality_tud_1080p_capped"] = quality(
            args.tud_frames, HD, clips.WHOLE_SIDE, head_part=head, name="TUD-Stadtmitte"
        )
    if "speed" in parts or "ttf" in parts:
        result.update(speed(args.clip_s, render="speed" in parts, head_part=head))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Choose the detection and tracking defaults on both dev sequences together (issue 17).

Every candidate runs the whole per-camera pipeline (motion gate, detector, tracker) over
PETS09-S2L1 (far, small people, high view, 7 fps) and TUD-Stadtmitte (near, large,
occluded people, head height, 25 fps), and is scored by MOTA and IDF1 on each. A
candidate is ranked by its worse sequence (the minimum over both of MOTA + IDF1), never
by one sequence alone: a setting that fits one camera and fails the other is what a city
of 600 different cameras must not get.

Detection is the costly part, and it does not depend on the tracker's settings: each
detector's boxes are computed once per frame (at its lowest score floor) and replayed for
every tracker setting, keyed by the frame's pixels, so the replay is exact.

Run: .venv/bin/python bench/mot_select.py [--detectors nanodet,yolox-nano,...] [--grid small|full] [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.config import SiteConfig  # noqa: E402
from vigie.detect.registry import build_detector  # noqa: E402
from vigie.eval.mot import read_mot, read_seqinfo, score  # noqa: E402
from vigie.pipeline import CameraPipeline, run_frames  # noqa: E402
from vigie.sources.file import FileSource  # noqa: E402
from vigie.types import CLASS_ID, Detections  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SEQUENCES = {
    "PETS09-S2L1": (DATA / "pets09-s2l1" / "vtest.avi", DATA / "pets09-s2l1" / "gt.txt"),
    "TUD-Stadtmitte": (DATA / "tud-stadtmitte" / "TUD-Stadtmitte.mp4", DATA / "tud-stadtmitte" / "gt" / "gt.txt"),
}
OUT = ROOT / "bench" / "out" / "mot_select"

DETECTORS = {  # name -> detector config (score floor low: the tracker's thresholds decide)
    "nanodet": {"type": "nanodet", "confidence": 0.1},
    "centernet": {"type": "centernet", "confidence": 0.1},
    "yolox-nano": {"type": "yolox-nano", "confidence": 0.1},
    "picodet-s-416": {"type": "picodet-s", "input_size": 416, "confidence": 0.1},
    "picodet-s-320": {"type": "picodet-s", "input_size": 320, "confidence": 0.1},
    "bytetrack-nano": {"type": "bytetrack-nano", "confidence": 0.1},
    "omz-person-0013": {"type": "omz-person-0013", "confidence": 0.1},
    "omz-pedestrian-adas-0002": {"type": "omz-pedestrian-adas-0002", "confidence": 0.1},
    "omz-pvb-2000": {"type": "omz-pvb-2000", "confidence": 0.1},
    "omz-pvb-2002": {"type": "omz-pvb-2002", "confidence": 0.1},
    "omz-pvb-2004": {"type": "omz-pvb-2004", "confidence": 0.1},
    "omz-pvb-2002-f32": {"type": "omz-pvb-2002", "confidence": 0.1, "precision": "f32"},
    "yolox-nano-openvino": {"type": "yolox-nano", "confidence": 0.1, "runtime": "openvino"},
}


def frame_key(image: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(image).data, digest_size=12).hexdigest()


class CachedDetector:
    """A detector's boxes per frame, computed once and then replayed (keyed by the frame's pixels)."""

    def __init__(self, name: str, seq: str) -> None:
        self.path = OUT / f"{name}__{seq}.npz"
        self.name = name
        self.boxes: dict[str, tuple] = {}
        self.real = None
        self.seconds = 0.0
        self.calls = 0
        if self.path.is_file():
            data = np.load(self.path, allow_pickle=False)
            keys = data["keys"]
            for i, k in enumerate(keys):
                sel = data["frame"] == i
                self.boxes[str(k)] = (data["xyxy"][sel], data["conf"][sel], data["cls"][sel])
            self.seconds = float(data["seconds"])
            self.calls = len(keys)

    def detect(self, image: np.ndarray) -> Detections:
        key = frame_key(image)
        if key not in self.boxes:
            if self.real is None:
                self.real = build_detector(SiteConfig.model_validate(site_dict(DETECTORS[self.name], {})).detector)
            t0 = time.perf_counter()
            d = self.real.detect(image)
            self.seconds += time.perf_counter() - t0
            self.calls += 1
            self.boxes[key] = (d.xyxy, d.confidence, d.class_id)
        xyxy, conf, cls = self.boxes[key]
        return Detections(xyxy.astype(np.float32), conf.astype(np.float32), cls.astype(np.int16))

    def save(self) -> None:
        if self.real is None:
            return
        keys = list(self.boxes)
        frame = np.concatenate([np.full(len(self.boxes[k][0]), i) for i, k in enumerate(keys)] or [np.zeros(0)])
        cat = lambda j, shape: np.concatenate([self.boxes[k][j] for k in keys]) if keys else np.zeros(shape)  # noqa: E731
        OUT.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            self.path,
            keys=np.array(keys),
            frame=frame,
            xyxy=cat(0, (0, 4)),
            conf=cat(1, 0),
            cls=cat(2, 0),
            seconds=self.seconds,
        )


def site_dict(detector: dict, analysis: dict, frame_rate: float | None = None) -> dict:
    return {
        "name": "mot-select",
        "detector": detector,
        "analysis": {"search_crops": 0, "synopsis": False, "classes": ["person"], **analysis},
        "cameras": [{"id": "camera-1", "name": "camera-1", "lat": 0, "lon": 0, "frame_rate": frame_rate}],
    }


def run(seq: str, detector_name: str, analysis: dict, cache: CachedDetector) -> dict:
    video, gt_path = SEQUENCES[seq]
    rate = read_seqinfo(gt_path)
    site = SiteConfig.model_validate(site_dict(DETECTORS[detector_name], analysis, rate))
    camera = site.cameras[0]
    source = FileSource.for_camera(video, camera, site.analysis_for(camera.id))
    pipeline = CameraPipeline(camera, site, source.info.frame_rate, detector=cache)
    rows = []
    person = CLASS_ID["person"]

    def on_frame(frame, tracked):
        for box, tid, conf, cls in zip(tracked.xyxy, tracked.track_id, tracked.confidence, tracked.class_id):
            if cls == person:
                x1, y1, x2, y2 = (float(v) * frame.scale for v in box)
                rows.append((frame.seq + 1, int(tid), x1, y1, x2 - x1, y2 - y1, float(conf)))

    run_frames(pipeline, source, lambda _: None, on_frame)
    s = score(read_mot(gt_path), np.array(rows) if rows else np.zeros((0, 7)))
    return {"mota": s.mota, "idf1": s.idf1, "idsw": s.id_switches, "recall": s.recall, "precision": s.precision}


HEIGHT_BINS = {  # person heights in pixels (true boxes): PETS09's 40-130 px, TUD-Stadtmitte's 110-240
    "PETS09-S2L1": [(0, 65), (65, 80), (80, 100), (100, 10_000)],
    "TUD-Stadtmitte": [(0, 150), (150, 175), (175, 200), (200, 10_000)],
}


def recall_by_height(seq: str, cache: CachedDetector, cut: float) -> dict:
    """Share of true boxes a detection at or above `cut` finds (IoU >= 0.5, one to one), by height,
    over the frames the detector ran on (every frame where the cache was filled with the gate off)."""
    from vigie.track.matching import assign, iou_matrix

    video, gt_path = SEQUENCES[seq]
    gt = read_mot(gt_path)
    site = SiteConfig.model_validate(site_dict(DETECTORS[cache.name], {}))
    bins = HEIGHT_BINS[seq]
    counts = {b: [0, 0] for b in bins}
    fp = tp = 0
    for frame in FileSource.for_camera(video, site.cameras[0], site.analysis):
        key = frame_key(frame.image)
        if key not in cache.boxes:
            continue
        xyxy, conf, cls = cache.boxes[key]
        det = xyxy[(conf >= cut) & (cls == CLASS_ID["person"])] * frame.scale
        rows = gt[gt[:, 0] == frame.seq + 1]
        truth = np.c_[rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]]
        matches, _, unmatched = assign(1.0 - iou_matrix(truth, det), 0.5) if len(truth) and len(det) else ([], [], [])
        hit = np.zeros(len(truth), bool)
        hit[[i for i, _ in matches]] = True
        tp += len(matches)
        fp += len(det) - len(matches)
        for lo, hi in bins:
            sel = (rows[:, 5] >= lo) & (rows[:, 5] < hi)
            counts[(lo, hi)][0] += int(sel.sum())
            counts[(lo, hi)][1] += int(hit[sel].sum())
    total = sum(c[0] for c in counts.values())
    return {
        "recall": tp / max(total, 1),
        "precision": tp / max(tp + fp, 1),
        "by_height": {
            f"{lo}-{hi if hi < 10_000 else 'inf'}": (n, found / max(n, 1)) for (lo, hi), (n, found) in counts.items()
        },
    }


def tracker_grid(kind: str) -> list[dict]:
    """Tracker settings to try, as `analysis` overrides."""
    if kind == "default":
        return [{}]
    highs = (0.3, 0.4, 0.5, 0.6)
    news = (0.5, 0.6, 0.7, 0.8)
    grid = [
        {"tracker": {"high_score": high, "new_track_score": new}}
        for high, new in itertools.product(highs, news)
        if new >= high
    ]
    if kind == "full":
        extra = []
        for g in grid:
            for gate in (True, False):
                for app in ("colour-stripes", "none"):
                    extra.append({"motion_gate": {"enabled": gate}, "tracker": {**g["tracker"], "appearance": app}})
        grid = extra
    return grid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detectors", default=",".join(DETECTORS))
    ap.add_argument("--grid", choices=("default", "small", "full"), default="small")
    ap.add_argument("--analysis", help="a JSON list of `analysis` overrides to try instead of --grid")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--recall", type=float, metavar="CUT", help="print each detector's recall by height at this score")
    args = ap.parse_args()
    if args.recall is not None:
        for name in args.detectors.split(","):
            for seq in SEQUENCES:
                r = recall_by_height(seq, CachedDetector(name, seq), args.recall)
                cells = "  ".join(f"{k} px ({n}) {v:.3f}" for k, (n, v) in r["by_height"].items())
                print(
                    f"{name:26s} {seq:15s} recall {r['recall']:.3f} precision {r['precision']:.3f}  {cells}", flush=True
                )
        return
    results = []
    for name in args.detectors.split(","):
        caches = {seq: CachedDetector(name, seq) for seq in SEQUENCES}
        for analysis in json.loads(args.analysis) if args.analysis else tracker_grid(args.grid):
            per = {seq: run(seq, name, analysis, caches[seq]) for seq in SEQUENCES}
            worst = min(r["mota"] + r["idf1"] for r in per.values())
            row = {"detector": name, "analysis": analysis, "worst": worst, **per}
            results.append(row)
            if not args.json:
                print(
                    f"{name:24s} {json.dumps(analysis):110s} "
                    + "  ".join(f"{seq[:4]} {r['mota']:.3f}/{r['idf1']:.3f}" for seq, r in per.items())
                    + f"  worst {worst:.3f}",
                    flush=True,
                )
        for seq, cache in caches.items():
            cache.save()
            if not args.json and cache.calls:
                print(f"{name} on {seq}: {1000 * cache.seconds / cache.calls:.1f} ms a frame", flush=True)
    results.sort(key=lambda r: -r["worst"])
    if args.json:
        print(json.dumps(results))
    else:
        print("\nbest by the worse sequence:")
        for r in results[:10]:
            print(f"  {r['worst']:.3f} {r['detector']} {json.dumps(r['analysis'])}")


if __name__ == "__main__":
    main()

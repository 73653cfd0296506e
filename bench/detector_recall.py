"""Person detection on PETS09-S2L1 for each detector, full frame and tiled:
AP@0.5, precision and recall at a score cut, recall per person height, ms a frame.

Run: .venv/bin/python bench/detector_recall.py [--stride 3] [--cut 0.4]
(--stride 1 for every frame; tiled runs cost about five times a full frame).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.config import CenterNetConfig, NanoDetConfig, TilingConfig, YoloV3TinyConfig  # noqa: E402
from vigie.detect.registry import build_detector  # noqa: E402
from vigie.detect.tiling import TiledDetector  # noqa: E402
from vigie.eval.mot import mot_xyxy, read_mot  # noqa: E402
from vigie.sources.file import FileSource  # noqa: E402
from vigie.track.matching import assign, iou_matrix  # noqa: E402

PETS = ROOT.parent / "shared" / "data" / "pets09-s2l1"
HEIGHTS = [(0, 65, "<65 px"), (65, 80, "65-80"), (80, 100, "80-100"), (100, 10_000, ">100 px")]
TILES = TilingConfig(enabled=True, rows=2, cols=2, overlap=0.25, full_frame=True)
DETECTORS = {
    "yolov3-tiny 416": YoloV3TinyConfig(input_size=416, confidence=0.05),
    "yolov3-tiny 608": YoloV3TinyConfig(input_size=608, confidence=0.05),
    "nanodet 416": NanoDetConfig(confidence=0.05),
    "centernet 512": CenterNetConfig(confidence=0.05),
}


def average_precision(scores: np.ndarray, hits: np.ndarray, n_true: int) -> float:
    order = np.argsort(-scores)
    tp = np.cumsum(hits[order])
    fp = np.cumsum(~hits[order])
    recall = tp / max(n_true, 1)
    precision = tp / np.maximum(tp + fp, 1)
    # VOC-style: area under the precision envelope
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * envelope))


def evaluate(detector, frames, gt: np.ndarray, cut: float) -> dict:
    all_scores, all_hits, seconds = [], [], 0.0
    per_height = {label: [0, 0] for *_, label in HEIGHTS}
    n_true = tp_cut = fp_cut = 0
    for frame in frames:
        t0 = time.perf_counter()
        dets = detector.detect(frame.image)
        seconds += time.perf_counter() - t0
        g = gt[gt[:, 0] == frame.seq + 1]
        gb = mot_xyxy(g)
        n_true += len(g)
        # AP: greedy by score, each true box matched once at IoU >= 0.5
        iou = iou_matrix(dets.xyxy, gb)
        taken = np.zeros(len(g), bool)
        hits = np.zeros(len(dets), bool)
        for i in np.argsort(-dets.confidence):
            if len(g):
                cand = np.where(~taken & (iou[i] >= 0.5), iou[i], -1)
                j = int(cand.argmax())
                if cand[j] >= 0.5:
                    taken[j] = hits[i] = True
        all_scores.append(dets.confidence)
        all_hits.append(hits)
        # operating point: boxes scoring at least `cut`, optimal matching
        keep = dets.confidence >= cut
        matches, _, unmatched = assign(1.0 - iou_matrix(gb, dets.xyxy[keep]), 0.5)
        found = np.zeros(len(g), bool)
        found[[i for i, _ in matches]] = True
        tp_cut += len(matches)
        fp_cut += len(unmatched)
        for lo, hi, label in HEIGHTS:
            sel = (g[:, 5] >= lo) & (g[:, 5] < hi)
            per_height[label][0] += int(sel.sum())
            per_height[label][1] += int(found[sel].sum())
    n_frames = max(1, len(all_scores))
    return {
        "ap50": average_precision(np.concatenate(all_scores), np.concatenate(all_hits), n_true),
        "precision": tp_cut / max(tp_cut + fp_cut, 1),
        "recall": tp_cut / max(n_true, 1),
        "recall_by_height": {k: (f / t if t else None) for k, (t, f) in per_height.items()},
        "ms_per_frame": 1000 * seconds / n_frames,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stride", type=int, default=3, help="use every n-th frame")
    ap.add_argument("--cut", type=float, default=0.4, help="score cut for precision/recall (the tracker's high_score)")
    ap.add_argument("--only", nargs="*", help="detector names to run (default: all)")
    ap.add_argument("--no-tiles", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import cv2

    cv2.setNumThreads(1)
    gt = read_mot(PETS / "gt.txt")
    frames = list(FileSource(PETS / "vtest.avi", "bench", frame_rate=7, frame_step=args.stride))
    counts = {
        label: int(((gt[:, 5] >= lo) & (gt[:, 5] < hi) & np.isin(gt[:, 0], [f.seq + 1 for f in frames])).sum())
        for lo, hi, label in HEIGHTS
    }
    print(
        f"PETS09-S2L1, {len(frames)} frames (every {args.stride}), person class, score cut {args.cut}; true boxes by height {counts}"
    )
    print(
        f"{'detector':<18} {'mode':<16} {'AP50':>5} {'P':>5} {'R':>5}  "
        + " ".join(f"{k:>7}" for *_, k in HEIGHTS)
        + "  ms/frame"
    )
    results = {}
    for name, cfg in DETECTORS.items():
        if args.only and name not in args.only:
            continue
        base = build_detector(cfg, ["person"])
        modes = {"full frame": base}
        if not args.no_tiles:
            modes["2x2 tiles + full"] = TiledDetector(base, TILES)
        for mode, det in modes.items():
            r = evaluate(det, frames, gt, args.cut)
            results[f"{name} / {mode}"] = r
            print(
                f"{name:<18} {mode:<16} {r['ap50']:5.3f} {r['precision']:5.3f} {r['recall']:5.3f}  "
                + " ".join(f"{v:7.3f}" for v in r["recall_by_height"].values())
                + f"  {r['ms_per_frame']:7.0f}",
                flush=True,
            )
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()

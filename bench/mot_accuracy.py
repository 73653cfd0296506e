"""Tracking accuracy on PETS09-S2L1 with the demo site's default settings,
and where the errors come from.

1. Checks the metric code on the TUD-Campus pair shipped in motmetrics
   (reference: MOTA 0.526, IDF1 0.558).
2. Runs the full pipeline on all 795 frames; prints MOTA, IDF1, ID switches,
   precision, recall.
3. Breaks the misses down by the person's height in pixels and by occlusion
   (another true box covering part of theirs), and the false positives into
   real people outside the annotated area, boxes misplaced on a true person
   (IoU 0.3-0.5), and the rest.

Run: .venv/bin/python bench/mot_accuracy.py [--json]   (make bench runs it)
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

from vigie.config import load_site  # noqa: E402
from vigie.eval.mot import mot_xyxy, read_mot, score, track_video  # noqa: E402
from vigie.track.matching import assign, iou_matrix  # noqa: E402

PETS = ROOT.parent / "shared" / "data" / "pets09-s2l1"
HEIGHT_BINS = [(0, 65), (65, 80), (80, 100), (100, 10_000)]


def occlusion(boxes: np.ndarray) -> np.ndarray:
    """Largest share of each box covered by another box of the same frame."""
    if len(boxes) < 2:
        return np.zeros(len(boxes))
    lt = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    rb = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    np.fill_diagonal(inter, 0)
    area = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return inter.max(axis=1) / np.maximum(area, 1e-9)


def breakdown(gt: np.ndarray, hyp: np.ndarray) -> dict:
    """Per-frame matching at IoU 0.5, as the metric does, to say what each error is."""
    top_annotated = float((gt[:, 3] + gt[:, 5]).min())  # no true box has its feet above this line
    rows = {f"{lo}-{hi if hi < 10_000 else 'inf'} px": [0, 0] for lo, hi in HEIGHT_BINS}  # [true boxes, found]
    occluded = [0, 0]
    fp_kinds = {"outside the annotated area": 0, "misplaced on a true person (IoU 0.3-0.5)": 0, "other": 0}
    for f in np.unique(gt[:, 0]).astype(int):
        g, h = gt[gt[:, 0] == f], hyp[hyp[:, 0] == f] if len(hyp) else np.zeros((0, 7))
        gb, hb = mot_xyxy(g), mot_xyxy(h) if len(h) else np.zeros((0, 4))
        iou = iou_matrix(gb, hb)
        matches, _, unmatched_h = assign(1.0 - iou, 0.5)
        found = np.zeros(len(g), bool)
        found[[i for i, _ in matches]] = True
        heights = g[:, 5]
        for (lo, hi), key in zip(HEIGHT_BINS, rows):
            sel = (heights >= lo) & (heights < hi)
            rows[key][0] += int(sel.sum())
            rows[key][1] += int(found[sel].sum())
        occ = occlusion(gb) > 0.3
        occluded[0] += int(occ.sum())
        occluded[1] += int(found[occ].sum())
        for j in unmatched_h:
            if hb[j, 3] < top_annotated:
                fp_kinds["outside the annotated area"] += 1
            elif len(gb) and iou[:, j].max() >= 0.3:
                fp_kinds["misplaced on a true person (IoU 0.3-0.5)"] += 1
            else:
                fp_kinds["other"] += 1
    return {
        "recall_by_height": {k: {"true": t, "recall": (fnd / t if t else None)} for k, (t, fnd) in rows.items()},
        "recall_occluded_over_30pct": {"true": occluded[0], "recall": occluded[1] / max(occluded[0], 1)},
        "false_positives_by_kind": fp_kinds,
        "annotated_area_starts_at_y": top_annotated,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description="PETS09-S2L1 tracking accuracy")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import motmetrics

    tud = Path(motmetrics.__file__).parent / "data" / "TUD-Campus"
    ref = score(read_mot(tud / "gt.txt"), read_mot(tud / "test.txt"))
    print(
        f"metric check, TUD-Campus reference pair: MOTA {ref.mota:.3f} (expected 0.526), IDF1 {ref.idf1:.3f} (expected 0.558)",
        flush=True,
    )

    site = load_site(ROOT / "examples" / "nimes-demo.yaml")
    det = site.detector_for("nimes-esplanade-01")
    t0 = time.perf_counter()
    rows, pipeline, _ = track_video(PETS / "vtest.avi", site, "nimes-esplanade-01", progress=False)
    seconds = time.perf_counter() - t0
    gt = read_mot(PETS / "gt.txt")
    hyp = np.array(rows) if rows else np.zeros((0, 7))
    s = score(gt, hyp)
    b = breakdown(gt, hyp)
    print(
        f"PETS09-S2L1, all {s.num_frames} frames, {det.type} {getattr(det, 'input_size', '')}: "
        f"MOTA {s.mota:.3f}  IDF1 {s.idf1:.3f}  ID switches {s.id_switches}  precision {s.precision:.3f}  recall {s.recall:.3f}  "
        f"({s.false_positives} FP, {s.misses} misses of {s.gt_boxes}; {seconds:.0f} s)"
    )
    print("recall by person height:")
    for k, v in b["recall_by_height"].items():
        print(f"  {k:>12}: {v['true']:5d} true boxes, recall {v['recall']:.3f}")
    o = b["recall_occluded_over_30pct"]
    print(f"  occluded >30%: {o['true']:5d} true boxes, recall {o['recall']:.3f}")
    print("false positives:", ", ".join(f"{k}: {v}" for k, v in b["false_positives_by_kind"].items()))
    if args.json:
        print(json.dumps({"tud_campus": {"mota": ref.mota, "idf1": ref.idf1}, **s.as_dict(), **b}))


if __name__ == "__main__":
    main()

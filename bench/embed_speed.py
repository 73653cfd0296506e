"""Appearance descriptors: cost per crop, and how well they tell people apart.

Three descriptors of a person box: the MobileNetV2 ImageNet features
(vigie.describe.embed, onnxruntime), the colour-stripe histograms
(vigie.describe.colour_descriptor), and their concatenation (both unit vectors
side by side, divided by sqrt 2: its cosine is the mean of the two cosines).

1. Speed: milliseconds per crop for a batch of 8 PETS09 people, one thread
   (onnxruntime intra-op 1 unless --threads, OpenCV 1), median of repeated runs.
2. Separation on PETS09-S2L1 ground truth: cosine similarity of pairs, and the
   ROC AUC of "same person" against "different people" (the chance that a
   random same pair scores above a random different pair). Same pairs: one
   person `gap` frames apart (5 frames = 0.7 s, a short occlusion; 50 frames
   = 7 s, after walking several metres). Different pairs: two people in one
   frame, all of them, and only those whose centres are within one body
   height ("near": the people a tracker can confuse when they cross).

Run: .venv/bin/python bench/embed_speed.py [--json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.describe.colour_descriptor import colour_stripes  # noqa: E402
from vigie.describe.embed import AppearanceEmbedder, ensure_onnx, preprocess  # noqa: E402

PETS = ROOT.parent / "shared" / "data" / "pets09-s2l1"
GAPS = (5, 50)
STEP = 10  # a pair set starts every 10th frame


def load_gt(path: Path) -> dict[int, dict[int, np.ndarray]]:
    """frame (1 = first decoded) -> {person id: xyxy}."""
    out: dict[int, dict[int, np.ndarray]] = {}
    for r in np.loadtxt(path, delimiter=",", ndmin=2):
        out.setdefault(int(r[0]), {})[int(r[1])] = np.array([r[2], r[3], r[2] + r[4], r[3] + r[5]], np.float32)
    return out


def decode(path: Path, wanted: set[int]) -> dict[int, np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    out, n = {}, 0
    while n < max(wanted):
        ok, image = cap.read()
        if not ok:
            break
        n += 1
        if n in wanted:
            out[n] = image
    cap.release()
    return out


def make_pairs(gt, last_frame: int, gap: int):
    """[((frame, id), (frame, id), kind)] with kind 'same', 'different' or 'near'."""
    pairs = []
    for f in range(1, last_frame - gap + 1, STEP):
        now, later = gt.get(f, {}), gt.get(f + gap, {})
        pairs += [((f, p), (f + gap, p), "same") for p in sorted(now) if p in later]
        for a, b in itertools.combinations(sorted(now), 2):
            ca, cb = (now[a][:2] + now[a][2:]) / 2, (now[b][:2] + now[b][2:]) / 2
            height = max(now[a][3] - now[a][1], now[b][3] - now[b][1])
            pairs.append(((f, a), (f, b), "near" if np.linalg.norm(ca - cb) < height else "different"))
    return pairs


def roc_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    # Mann-Whitney U through ranks (ties get their mean rank).
    scores = np.concatenate([pos, neg])
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for v in np.unique(scores):
        tie = scores == v
        if tie.sum() > 1:
            ranks[tie] = ranks[tie].mean()
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up: session creation, first-run allocations
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads for the speed figures")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    model = ensure_onnx()
    embedder = AppearanceEmbedder(model, threads=args.threads)
    gt = load_gt(PETS / "gt.txt")
    last = max(gt)
    pair_sets = {gap: make_pairs(gt, last, gap) for gap in GAPS}
    wanted = {k[0] for pairs in pair_sets.values() for a, b, _ in pairs for k in (a, b)}
    frames = decode(PETS / "vtest.avi", wanted | {126})
    res: dict = {"model": model.name}

    # 1. Speed: the 8 people of one frame (padded by repetition if fewer).
    ids = sorted(gt[126])
    boxes = np.stack([gt[126][i] for i in itertools.islice(itertools.cycle(ids), 8)])
    image = frames[126]
    speed = {
        "mobilenetv2": median_ms(lambda: embedder.embed(image, boxes), args.repeats) / 8,
        "  of which crop+resize+normalise": median_ms(lambda: preprocess(image, boxes), args.repeats) / 8,
        "colour-stripes": median_ms(lambda: colour_stripes(image, boxes), args.repeats) / 8,
    }
    speed["concatenation"] = speed["mobilenetv2"] + speed["colour-stripes"]
    single = median_ms(lambda: embedder.embed(image, boxes[:1]), args.repeats)
    res["threads"] = args.threads
    res["ms_per_crop_batch8"] = {k.strip(): round(v, 2) for k, v in speed.items()}
    res["ms_one_crop_alone"] = round(single, 2)
    print(f"ms per crop, batch of 8, {args.threads} onnxruntime thread(s), OpenCV on one (median of {args.repeats}):")
    for k, v in speed.items():
        print(f"  {k:34s} {v:7.2f}")
    print(f"  {'mobilenetv2, batch of 1':34s} {single:7.2f}", flush=True)

    # 2. Separation: each distinct crop described once.
    crops = sorted({k for pairs in pair_sets.values() for a, b, _ in pairs for k in (a, b)})
    by_frame: dict[int, list[int]] = {}
    for f, p in crops:
        by_frame.setdefault(f, []).append(p)
    vec: dict[str, dict] = {"mobilenetv2": {}, "colour-stripes": {}}
    for f, people in by_frame.items():
        b = np.stack([gt[f][p] for p in people])
        for name, fn in (("mobilenetv2", embedder.embed), ("colour-stripes", colour_stripes)):
            for p, v in zip(people, fn(frames[f], b)):
                vec[name][(f, p)] = v
    vec["concatenation"] = {
        k: np.concatenate([vec["mobilenetv2"][k], vec["colour-stripes"][k]]) / np.sqrt(2) for k in crops
    }

    res["separation"] = {}
    print(
        f"\nseparation on PETS09-S2L1 ground truth ({len(crops)} crops); cosine means and ROC AUC of same vs different:"
    )
    print(
        f"  {'descriptor':16s} {'gap':>4s} {'same':>6s} {'diff':>6s} {'near':>6s} {'AUC all':>8s} {'AUC near':>9s}   pairs same/diff/near"
    )
    for gap, pairs in pair_sets.items():
        kinds = np.array([k for _, _, k in pairs])
        for name, v in vec.items():
            s = np.array([v[a] @ v[b] for a, b, _ in pairs])
            same, near = s[kinds == "same"], s[kinds == "near"]
            diff = s[kinds != "same"]
            row = {
                "mean_same": float(same.mean()),
                "mean_different": float(diff.mean()),
                "mean_near": float(near.mean()),
                "auc_all": roc_auc(same, diff),
                "auc_near": roc_auc(same, near),
                "pairs": [int(len(same)), int(len(diff)), int(len(near))],
            }
            res["separation"][f"{name} gap {gap}"] = row
            print(
                f"  {name:16s} {gap:4d} {row['mean_same']:6.3f} {row['mean_different']:6.3f} {row['mean_near']:6.3f} "
                f"{row['auc_all']:8.3f} {row['auc_near']:9.3f}   {len(same)}/{len(diff)}/{len(near)}"
            )
    if args.json:
        print(json.dumps(res))


if __name__ == "__main__":
    main()

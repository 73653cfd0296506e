"""Clothing and carried objects on real people: the attribute network against hand labels (issue 18).

tests/data/pets09_s2l1_attributes.csv and tud_stadtmitte_attributes.csv hold, for every
ground-truth identity of the two dev sequences, whether they carry a bag or a backpack and
wear a hat, long sleeves, long trousers and a coat (1, 0, or ? when it cannot be seen;
tests/data/README.md says how they were made).

Vigie's own code runs unchanged, fed with the ground-truth boxes instead of tracker output
(as bench/colour_naming.py does): each frame's boxes go to one Describer whose CropSampler
keeps the clean crops of each identity (at most 16, about one a second at first) and runs
the person-attribute network on 8 of them, evenly spread, when the identity ends; pool_attributes turns the
mean scores into yes / no / unknown with the site's thresholds.

Reported per attribute, per track (one per identity), both sequences together and each:
accuracy (unknown counts as wrong), the share decided (not unknown), and precision and
recall of "yes". --sweep also prints the pooled accuracy of every (yes_at, no_at) pair
of a grid, to choose the thresholds on both sequences together.

Run: VIGIE_MODELS=../shared/models .venv/bin/python bench/attribute_accuracy.py [--sweep] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from colour_naming import _dets, load_gt  # noqa: E402

from vigie.describe.attribute_nets import PersonAttributeNet  # noqa: E402
from vigie.describe.attributes import NO, PERSON_ATTRIBUTES, UNKNOWN, YES, pool_attributes  # noqa: E402
from vigie.describe.config import AttributesConfig  # noqa: E402
from vigie.describe.crops import CropSampler  # noqa: E402
from vigie.describe.describer import Describer  # noqa: E402
from vigie.sources.file import FileSource  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SEQUENCES = {  # name: (video, ground truth, frame rate, labels)
    "PETS09-S2L1": (
        DATA / "pets09-s2l1" / "vtest.avi",
        DATA / "pets09-s2l1" / "gt.txt",
        7.0,
        ROOT / "tests" / "data" / "pets09_s2l1_attributes.csv",
    ),
    "TUD-Stadtmitte": (
        DATA / "tud-stadtmitte" / "TUD-Stadtmitte.mp4",
        DATA / "tud-stadtmitte" / "gt" / "gt.txt",
        25.0,
        ROOT / "tests" / "data" / "tud_stadtmitte_attributes.csv",
    ),
}


def load_attribute_labels(path: Path) -> dict[int, dict[str, bool | None]]:
    """id -> {attribute: True, False or None (could not be seen)}."""
    out = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            values = {"1": True, "0": False, "?": None}
            out[int(row["id"])] = {a: values[row[a].strip()] for a in PERSON_ATTRIBUTES}
    return out


def identity_scores(
    video: Path, gt_path: Path, frame_rate: float, scores_of: Callable[[list[np.ndarray]], np.ndarray]
) -> dict[int, np.ndarray]:
    """id -> (N, 6) attribute scores of the identity's kept clean crops (`scores_of`: the network's scores)."""
    gt = load_gt(gt_path)
    sampler = CropSampler(None, "", max_crops=16, first_interval=max(1, round(frame_rate)), attributes=scores_of)
    describer = Describer("eval", crops=sampler)
    scores = {}
    last_seen: dict[int, int] = {}
    for frame in FileSource(video, "eval", frame_rate=frame_rate, decode_threads=1):
        boxes = gt.get(frame.seq + 1)
        if boxes:
            describer.observe(frame, _dets(boxes))
            for pid in boxes:
                last_seen[pid] = frame.seq
    for pid in last_seen:
        taken = sampler.take_all(pid)
        if taken is not None:
            scores[pid] = taken.attribute_scores
    return scores


def measure(
    labels: dict[int, dict], scores: dict[int, np.ndarray], yes_at: float, no_at: float, min_crops: int
) -> dict[str, dict]:
    """Per attribute: n labelled, correct, decided, true/false positives and false negatives."""
    out = {a: {"n": 0, "correct": 0, "decided": 0, "tp": 0, "fp": 0, "fn": 0} for a in PERSON_ATTRIBUTES}
    for pid, truth in labels.items():
        pooled = pool_attributes(scores.get(pid, np.zeros((0, 6))), yes_at, no_at, min_crops)
        for a in PERSON_ATTRIBUTES:
            if truth[a] is None:
                continue
            state = pooled[a][0]
            c = out[a]
            c["n"] += 1
            c["decided"] += state != UNKNOWN
            c["correct"] += (state == YES and truth[a]) or (state == NO and not truth[a])
            c["tp"] += state == YES and truth[a]
            c["fp"] += state == YES and not truth[a]
            c["fn"] += state != YES and truth[a]
    return out


def summary(counts: dict) -> dict:
    n = counts["n"]
    yes = counts["tp"] + counts["fp"]
    pos = counts["tp"] + counts["fn"]
    return {
        "n": n,
        "accuracy": counts["correct"] / n if n else float("nan"),
        "decided": counts["decided"] / n if n else float("nan"),
        "precision": counts["tp"] / yes if yes else float("nan"),
        "recall": counts["tp"] / pos if pos else float("nan"),
        "positives": pos,
    }


def combined(per_seq: list[dict]) -> dict:
    return {a: {k: sum(s[a][k] for s in per_seq) for k in per_seq[0][a]} for a in PERSON_ATTRIBUTES}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep", action="store_true", help="also a grid of (yes_at, no_at)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    cfg = AttributesConfig()
    net = PersonAttributeNet()
    net.check()  # compiled before timing: a camera compiles once
    spent = {"cpu_s": 0.0, "calls": 0, "crops": 0}

    def timed(crops):  # the network's CPU per track (one call per track ending)
        c0 = time.process_time()
        out = net.scores(crops)
        spent["cpu_s"] += time.process_time() - c0
        spent["calls"] += 1
        spent["crops"] += len(crops)
        return out

    data = {}
    for name, (video, gt, fps, labels_path) in SEQUENCES.items():
        data[name] = (load_attribute_labels(labels_path), identity_scores(video, gt, fps, timed))
        print(f"{name}: {len(data[name][1])} identities described", file=sys.stderr, flush=True)
    per_track_ms = 1000 * spent["cpu_s"] / max(1, spent["calls"])
    print(
        f"cost: {per_track_ms:.1f} ms of CPU per person track ({spent['crops'] / max(1, spent['calls']):.1f} crops "
        f"a track, {1000 * spent['cpu_s'] / max(1, spent['crops']):.2f} ms a crop, one thread)"
    )
    result: dict = {
        "cost_ms_per_track": per_track_ms,
        "yes_at": cfg.yes_at,
        "no_at": cfg.no_at,
        "min_crops": cfg.min_crops,
        "sequences": {},
    }
    per_seq = {n: measure(lab, sc, cfg.yes_at, cfg.no_at, cfg.min_crops) for n, (lab, sc) in data.items()}
    for name, counts in [*per_seq.items(), ("both", combined(list(per_seq.values())))]:
        result["sequences"][name] = {a: summary(counts[a]) for a in PERSON_ATTRIBUTES}
    print(f"thresholds: yes at >= {cfg.yes_at}, no at <= {cfg.no_at}, at least {cfg.min_crops} crops")
    print(f"{'attribute':14s} " + "  ".join(f"{n:>38s}" for n in result["sequences"]))
    print(f"{'':14s} " + "  ".join(f"{'n  acc  decided  prec  recall  (pos)':>38s}" for _ in result["sequences"]))
    for a in PERSON_ATTRIBUTES:
        cells = []
        for s in result["sequences"].values():
            r = s[a]
            cells.append(
                f"{r['n']:3d} {r['accuracy']:5.2f} {r['decided']:6.2f}   {r['precision']:5.2f} {r['recall']:6.2f}  ({r['positives']:2d})"
            )
        print(f"{a:14s} " + "  ".join(f"{c:>38s}" for c in cells))
    result["mean_scores"] = {
        n: {str(pid): [round(float(v), 3) for v in sc[pid].mean(axis=0)] for pid in sorted(sc)}
        for n, (_, sc) in data.items()
    }
    if args.sweep:
        grid = []
        for yes_at in (0.5, 0.55, 0.6, 0.7, 0.8):
            for no_at in (0.2, 0.3, 0.4, 0.45, 0.5):
                if no_at >= yes_at:
                    continue
                both = combined([measure(lab, sc, yes_at, no_at, cfg.min_crops) for lab, sc in data.values()])
                accs = {a: summary(both[a])["accuracy"] for a in PERSON_ATTRIBUTES}
                grid.append({"yes_at": yes_at, "no_at": no_at, "accuracy": accs})
                print(
                    f"sweep yes_at {yes_at} no_at {no_at}: "
                    + " ".join(f"{a} {v:.2f}" for a, v in accs.items())
                    + f"; sum {sum(accs.values()):.2f}"
                )
        result["sweep"] = grid
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()

"""Colour naming of clothing on real people: Vigie's names against hand labels.

tests/data/pets09_s2l1_colours.csv holds, for every ground-truth identity of
PETS09-S2L1, the upper-body and lower-body colour names a person gave by eye
(tests/data/README.md says how); a `|` separates the acceptable names, the
first being the labeller's best one.

Vigie names a track's colours in its describe stage (vigie.describe.describer):
every 3rd observation of a box that no other box overlaps (IoU < 0.1) adds the
colour-name shares of its upper and lower stripes, restricted to the motion
gate's foreground mask when that mask covers enough of the box; at the end
the names covering at least 20 % of the summed shares are kept, at most two.
Here that same code runs unchanged, fed with the ground-truth boxes instead of
tracker output: frames come from Vigie's own FileSource (PyAV, as `vigie
analyze` decodes them), every frame goes through a MotionGate with the default
settings (as in CameraPipeline.process), and each frame's ground-truth boxes
go to one Describer.observe as tracked boxes whose track id is the identity.

Reported per body part:
- per identity (one summary per ground-truth identity): accuracy of the
  dominant (first) name, and top-2 accuracy (either of the at most two stored
  names acceptable);
- per crop (if not --no-crops): every ground-truth box nobody overlaps, named
  alone by a fresh Describer (one observation), same two accuracies;
- a confusion list: for each wrong dominant name, labelled best name -> Vigie's.
The same figures without the foreground mask are given as a second variant.

Run: .venv/bin/python bench/colour_naming.py [--json] [--no-crops]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.config import MotionGateConfig  # noqa: E402
from vigie.describe.colours import PALETTE  # noqa: E402
from vigie.describe.describer import Describer  # noqa: E402
from vigie.detect.motion import MotionGate  # noqa: E402
from vigie.sources.file import FileSource  # noqa: E402
from vigie.track.matching import iou_matrix  # noqa: E402
from vigie.types import CLASS_ID, Detections  # noqa: E402

PETS = ROOT.parent / "shared" / "data" / "pets09-s2l1"
LABELS = ROOT / "tests" / "data" / "pets09_s2l1_colours.csv"
PARTS = ("upper", "lower")
FRAME_RATE = 7.0  # PETS09 was filmed at 7 fps (seqinfo.ini); the container says 10


@dataclass(frozen=True)
class Label:
    upper: tuple[str, ...]  # acceptable names, best first
    lower: tuple[str, ...]
    notes: str = ""


def load_labels(path: Path = LABELS) -> dict[int, Label]:
    """id -> Label; raises ValueError on a name outside PALETTE or a repeated id."""
    out: dict[int, Label] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            pid = int(row["id"])
            if pid in out:
                raise ValueError(f"{path}: id {pid} appears twice")
            names = {}
            for part in PARTS:
                names[part] = tuple(n.strip() for n in row[part].split("|"))
                bad = [n for n in names[part] if n not in PALETTE]
                if not names[part] or bad:
                    raise ValueError(f"{path}: id {pid} {part}: {bad or 'empty'} not in PALETTE")
            out[pid] = Label(names["upper"], names["lower"], row.get("notes", "") or "")
    return out


def load_gt(path: Path) -> dict[int, dict[int, np.ndarray]]:
    """frame (1 = first decoded) -> {person id: xyxy}."""
    out: dict[int, dict[int, np.ndarray]] = {}
    for r in np.loadtxt(path, delimiter=",", ndmin=2):
        out.setdefault(int(r[0]), {})[int(r[1])] = np.array([r[2], r[3], r[2] + r[4], r[3] + r[5]], np.float32)
    return out


def _dets(boxes: dict[int, np.ndarray]) -> Detections:
    ids = sorted(boxes)
    return Detections(
        np.stack([boxes[i] for i in ids]), np.ones(len(ids)), np.full(len(ids), CLASS_ID["person"]), np.array(ids)
    )


def name_colours(pets: Path = PETS, crops: bool = True, use_mask: bool = True):
    """Vigie's colour names from the ground-truth boxes.

    Returns (per_identity, per_crop): per_identity {id: {"upper": [names], "lower": [names]}}
    from one Describer over the whole video; per_crop [(id, frame, upper names, lower names)]
    for every box no other box overlaps (IoU < 0.1, the describer's own rule), each
    named by a fresh Describer from that one observation (empty when crops is False).
    """
    gt = load_gt(pets / "gt.txt")
    gate = MotionGate(MotionGateConfig())
    describer = Describer("pets09")
    per_crop = []
    source = FileSource(pets / "vtest.avi", "pets09", frame_rate=FRAME_RATE, decode_threads=1)
    for frame in source:
        gate.moving(frame.image)  # the pipeline updates the background model on every frame
        mask_for = gate.mask_in if use_mask else None
        boxes = gt.get(frame.seq + 1)
        if not boxes:
            continue
        dets = _dets(boxes)
        describer.observe(frame, dets, mask_for)
        if crops:
            ious = iou_matrix(dets.xyxy, dets.xyxy)
            np.fill_diagonal(ious, 0.0)
            for k, pid in enumerate(dets.track_id):
                if len(dets) > 1 and ious[k].max() >= 0.1:
                    continue
                one = Describer("pets09-crop")
                one.observe(frame, dets[[k]], mask_for)
                s = one.finish(int(pid))
                per_crop.append((int(pid), frame.seq + 1, list(s.upper_colours), list(s.lower_colours)))
    per_identity = {}
    for pid in describer.live_ids():
        s = describer.finish(pid)
        per_identity[pid] = {"upper": list(s.upper_colours), "lower": list(s.lower_colours)}
    return per_identity, per_crop


def score(labels: dict[int, Label], named: list[tuple[int, dict[str, list[str]]]]) -> dict:
    """Accuracy of the dominant name and of the first two, per part, and the confusions."""
    res: dict = {}
    for part in PARTS:
        top1 = top2 = 0
        confusions: Counter = Counter()
        n = 0
        for pid, names in named:
            if pid not in labels:
                continue
            ok = getattr(labels[pid], part)
            got = names[part]
            n += 1
            if got and got[0] in ok:
                top1 += 1
            else:
                confusions[(ok[0], got[0] if got else "-")] += 1
            if any(g in ok for g in got[:2]):
                top2 += 1
        res[part] = {
            "n": n,
            "top1": top1 / n if n else float("nan"),
            "top2": top2 / n if n else float("nan"),
            "confusions": [{"label": a, "vigie": b, "count": c} for (a, b), c in confusions.most_common()],
        }
    return res


def evaluate(pets: Path = PETS, labels_path: Path = LABELS, crops: bool = True, use_mask: bool = True) -> dict:
    labels = load_labels(labels_path)
    per_identity, per_crop = name_colours(pets, crops, use_mask)
    out = {
        "identities": score(labels, sorted(per_identity.items())),
        "vigie_names": {str(k): v for k, v in sorted(per_identity.items())},
    }
    if crops:
        out["crops"] = score(labels, [(pid, {"upper": u, "lower": lo}) for pid, _, u, lo in per_crop])
        # Per-identity share of crops whose dominant name is acceptable: who is hard.
        by_id: dict[int, list[int]] = {}
        for pid, _, u, lo in per_crop:
            if pid in labels:
                r = by_id.setdefault(pid, [0, 0, 0])
                r[0] += 1
                r[1] += bool(u) and u[0] in labels[pid].upper
                r[2] += bool(lo) and lo[0] in labels[pid].lower
        out["crops_by_identity"] = {
            str(k): {"n": n, "upper_top1": a / n, "lower_top1": b / n} for k, (n, a, b) in sorted(by_id.items())
        }
        # Long tracks give most crops: the mean over identities weighs each person once.
        for part in PARTS:
            out["crops"][part]["top1_mean_over_identities"] = float(
                np.mean([r[f"{part}_top1"] for r in out["crops_by_identity"].values()])
            )
    return out


def _print_variant(title: str, res: dict, labels: dict[int, Label]) -> None:
    print(f"\n== {title}")
    print(f"{'id':>3s}  {'label upper':14s} {'vigie upper':16s}   {'label lower':14s} {'vigie lower':16s}")
    for k, v in res["vigie_names"].items():
        lab = labels[int(k)]
        marks = [
            "  "
            if v[p] and v[p][0] in getattr(lab, p)
            else ("~ " if any(g in getattr(lab, p) for g in v[p][:2]) else "x ")
            for p in PARTS
        ]
        print(
            f"{k:>3s}  {'|'.join(lab.upper):14s} {marks[0]}{'/'.join(v['upper']):14s}   {'|'.join(lab.lower):14s} {marks[1]}{'/'.join(v['lower']):14s}"
        )
    print("   (x: dominant and second name both wrong; ~: only the second name acceptable)")
    print(f"\n{'':22s} {'n':>5s} {'top-1':>7s} {'top-2':>7s}   confusions (label -> vigie: count)")
    for unit in ("identities", "crops"):
        if unit not in res:
            continue
        for part in PARTS:
            r = res[unit][part]
            conf = ", ".join(f"{c['label']}->{c['vigie']}: {c['count']}" for c in r["confusions"][:6])
            print(f"{unit + ' ' + part:22s} {r['n']:5d} {r['top1']:7.3f} {r['top2']:7.3f}   {conf}")
    if "crops" in res:
        print(
            "crops top-1 as the mean over identities (each person weighs the same): "
            + ", ".join(f"{p} {res['crops'][p]['top1_mean_over_identities']:.3f}" for p in PARTS)
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="also print one JSON object with every figure")
    ap.add_argument("--no-crops", action="store_true", help="skip the per-crop figures")
    ap.add_argument("--no-mask-variant", action="store_true", help="skip the variant without the foreground mask")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    labels = load_labels()
    res = {"labels": str(LABELS.relative_to(ROOT)), "with_mask": evaluate(crops=not args.no_crops)}
    _print_variant("Vigie as it runs (foreground mask from the motion gate)", res["with_mask"], labels)
    if not args.no_mask_variant:
        res["no_mask"] = evaluate(crops=not args.no_crops, use_mask=False)
        _print_variant("without the foreground mask (all pixels of the stripes)", res["no_mask"], labels)
    if args.json:
        print(json.dumps(res))


if __name__ == "__main__":
    main()

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

The same runs on TUD-Stadtmitte (tests/data/tud_stadtmitte_colours.csv, same
format), and with each per-camera white balance of
vigie.describe.white_balance (issue 18): the balance learns from the frames
with the ground-truth boxes left out, as the pipeline feeds it with the
tracked boxes, and the colours are named on the balanced pixels. The summary
table gives, per sequence, balance and body part, the accuracies before
(off) and after, and their mean over the two sequences.

Run: .venv/bin/python bench/colour_naming.py [--json] [--no-crops] [--details]
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
from vigie.describe.white_balance import METHODS, WhiteBalance  # noqa: E402
from vigie.detect.motion import MotionGate  # noqa: E402
from vigie.sources.file import FileSource  # noqa: E402
from vigie.track.matching import iou_matrix  # noqa: E402
from vigie.types import CLASS_ID, Detections  # noqa: E402

PETS = ROOT.parent / "shared" / "data" / "pets09-s2l1"
LABELS = ROOT / "tests" / "data" / "pets09_s2l1_colours.csv"
PARTS = ("upper", "lower")
FRAME_RATE = 7.0  # PETS09 was filmed at 7 fps (seqinfo.ini); the container says 10
TUD = ROOT.parent / "shared" / "data" / "tud-stadtmitte"
TUD_LABELS = ROOT / "tests" / "data" / "tud_stadtmitte_colours.csv"


@dataclass(frozen=True)
class Sequence:
    folder: Path
    labels: Path
    video: str
    gt: str  # MOT format, frame 1 = the first decoded frame
    frame_rate: float


SEQUENCES = {
    "PETS09-S2L1": Sequence(PETS, LABELS, "vtest.avi", "gt.txt", FRAME_RATE),
    "TUD-Stadtmitte": Sequence(TUD, TUD_LABELS, "TUD-Stadtmitte.mp4", "gt/gt.txt", 25.0),
}


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


def name_colours(
    pets: Path = PETS,
    crops: bool = True,
    use_mask: bool = True,
    balance: str = "off",
    video: str = "vtest.avi",
    gt_file: str = "gt.txt",
    frame_rate: float = FRAME_RATE,
):
    """Vigie's colour names from the ground-truth boxes.

    Returns (per_identity, per_crop): per_identity {id: {"upper": [names], "lower": [names]}}
    from one Describer over the whole video; per_crop [(id, frame, upper names, lower names)]
    for every box no other box overlaps (IoU < 0.1, the describer's own rule), each
    named by a fresh Describer from that one observation (empty when crops is False).
    `balance`: the white balance method (vigie.describe.white_balance.METHODS), learnt
    as the pipeline learns it, from every frame with the people's boxes left out.
    """
    gt = load_gt(pets / gt_file)
    gate = MotionGate(MotionGateConfig())
    wb = WhiteBalance(balance) if balance != "off" else None
    describer = Describer("pets09", balance=wb)
    per_crop = []
    source = FileSource(pets / video, "pets09", frame_rate=frame_rate, decode_threads=1)
    for frame in source:
        gate.moving(frame.image)  # the pipeline updates the background model on every frame
        mask_for = gate.mask_in if use_mask else None
        boxes = gt.get(frame.seq + 1)
        if wb is not None:  # every frame, as the pipeline offers it (still ones too)
            wb.offer(frame.image, frame.timestamp, np.stack(list(boxes.values())) if boxes else np.empty((0, 4)))
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
                one = Describer("pets09-crop", balance=wb)
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


def evaluate(
    pets: Path = PETS,
    labels_path: Path = LABELS,
    crops: bool = True,
    use_mask: bool = True,
    balance: str = "off",
    sequence: Sequence | None = None,
) -> dict:
    """The figures for one sequence (PETS09's files in `pets` unless `sequence` names others)."""
    labels = load_labels(labels_path)
    seq = sequence or Sequence(pets, labels_path, "vtest.avi", "gt.txt", FRAME_RATE)
    per_identity, per_crop = name_colours(seq.folder, crops, use_mask, balance, seq.video, seq.gt, seq.frame_rate)
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


def _summary(runs: dict[str, dict[str, dict]], units: tuple[str, ...]) -> None:
    """One line per sequence, balance, unit and part: top-1 / top-2, and the change from off."""
    print("\n== Before (off) and after each white balance: top-1 / top-2 per body part")
    print(f"{'sequence':16s} {'balance':15s} {'unit':11s} {'upper':>13s} {'lower':>13s}   change of top-1 from off")
    means: dict = {}
    for seq_name, by_method in runs.items():
        for method, res in by_method.items():
            for unit in units:
                cells, deltas = [], []
                for part in PARTS:
                    r, off = res[unit][part], by_method["off"][unit][part]
                    cells.append(f"{r['top1']:.3f}/{r['top2']:.3f}")
                    deltas.append(f"{part} {r['top1'] - off['top1']:+.3f}")
                    means.setdefault((method, unit, part), []).append((r["top1"], r["top2"]))
                print(f"{seq_name:16s} {method:15s} {unit:11s} {cells[0]:>13s} {cells[1]:>13s}   {', '.join(deltas)}")
    print(f"\n{'mean of the two':16s}")
    for method in next(iter(runs.values())):
        for unit in units:
            cells = []
            for part in PARTS:
                t1, t2 = np.mean(means[(method, unit, part)], axis=0)
                cells.append(f"{t1:.3f}/{t2:.3f}")
            print(f"{'':16s} {method:15s} {unit:11s} {cells[0]:>13s} {cells[1]:>13s}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="also print one JSON object with every figure")
    ap.add_argument("--no-crops", action="store_true", help="skip the per-crop figures")
    ap.add_argument("--no-mask-variant", action="store_true", help="skip the variant without the foreground mask")
    ap.add_argument("--details", action="store_true", help="print every run's names and confusions")
    ap.add_argument(
        "--balance",
        nargs="+",
        default=["off", *(m for m in METHODS if m != "off")],
        choices=METHODS,
        help="white balance methods to compare (off, the before, always runs)",
    )
    args = ap.parse_args()
    cv2.setNumThreads(1)
    methods = ["off", *(m for m in args.balance if m != "off")]
    res: dict = {"runs": {}}
    for seq_name, seq in SEQUENCES.items():
        if not (seq.folder / seq.video).is_file() or not seq.labels.is_file():
            print(f"{seq_name}: footage or labels missing, skipped")
            continue
        labels = load_labels(seq.labels)
        runs = res["runs"].setdefault(seq_name, {})
        for method in methods:
            runs[method] = evaluate(seq.folder, seq.labels, not args.no_crops, True, method, seq)
            if args.details or method == "off":
                _print_variant(
                    f"{seq_name}, balance {method}, foreground mask from the motion gate", runs[method], labels
                )
        if not args.no_mask_variant:
            res.setdefault("no_mask", {})[seq_name] = evaluate(
                seq.folder, seq.labels, not args.no_crops, False, "off", seq
            )
            _print_variant(
                f"{seq_name}, without the foreground mask (all pixels of the stripes)", res["no_mask"][seq_name], labels
            )
    _summary(res["runs"], ("identities",) if args.no_crops else ("identities", "crops"))
    if args.json:
        print(json.dumps(res))


if __name__ == "__main__":
    main()

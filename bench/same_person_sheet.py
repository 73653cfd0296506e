"""Which PETS09-S2L1 ids are one person coming back: where each id enters and leaves, and a contact sheet.

MOT15's ground truth gives a new id to a person who walks out of view and comes back.
tests/data/pets09_s2l1_same_person.csv groups those ids. This prints, for every id, its
first and last frame and where its box is then (the evidence of time and place:
the people of this sequence walk out at the right edge and come back through it),
and writes docs/pictures/pets09-same-person.jpg: 8 crops spread over each id's
frames, for the groups given, heads blurred (the judgement rests on clothing, carried
objects, and time and place, never on a body trait).

Run: .venv/bin/python bench/same_person_sheet.py [--groups 9,5 19,1 15,14 13,2] [--out PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from label_sheets import ROOT, SEQUENCES, crop

from vigie.eval.mot import frames_with_truth, read_mot

TILE = (72, 192)  # width, height of one crop on the sheet
HEAD = 0.2  # the top fifth of each crop is blurred
EDGE = 40  # px: a box this close to the frame's side "enters" or "leaves" there


def lifespans(gt: np.ndarray, width: int, height: int) -> list[dict]:
    """Each id's first and last frame, with the side of the view its first and last boxes touch."""

    def side(row) -> str:
        x, y, w, h = row[2:6]
        if x < EDGE:
            return "left"
        if x + w > width - EDGE:
            return "right"
        return "bottom" if y + h > height - EDGE else "inside"

    out = []
    for pid in np.unique(gt[:, 1]).astype(int):
        rows = gt[gt[:, 1] == pid]
        rows = rows[np.argsort(rows[:, 0])]
        first, last = rows[0], rows[-1]
        out.append(
            {"id": int(pid), "first": int(first[0]), "last": int(last[0]), "enters": side(first), "leaves": side(last)}
        )
    return out


def picks(gt: np.ndarray, pid: int, n: int = 8) -> np.ndarray:
    """`n` ground-truth rows of id `pid`, spread evenly over its frames."""
    rows = gt[gt[:, 1] == pid]
    rows = rows[np.argsort(rows[:, 0])]
    return rows[np.linspace(0, len(rows) - 1, n).astype(int)]


def sheet_row(frames: dict[int, np.ndarray], gt: np.ndarray, pid: int) -> np.ndarray:
    """One id's line of the sheet: what the enter/leave table says of it, then its crops, heads blurred."""
    tiles = []
    for row in picks(gt, pid):
        frame = int(row[0])
        tile = cv2.resize(crop(frames[frame - 1], row[2:6], TILE[1]), TILE, interpolation=cv2.INTER_AREA)
        head = int(HEAD * TILE[1])
        tile[:head] = cv2.GaussianBlur(tile[:head], (0, 0), 6)
        cv2.putText(tile, str(frame), (2, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 255, 255), 1, cv2.LINE_AA)
        tiles.append(tile)
    rows = gt[gt[:, 1] == pid]
    first, last = rows[np.argmin(rows[:, 0])], rows[np.argmax(rows[:, 0])]
    label = np.full((TILE[1], 150, 3), 255, np.uint8)
    lines = [
        f"id {pid}",
        f"frames {int(first[0])}-{int(last[0])}",
        f"in  x={int(first[2])},y={int(first[3])}",
        f"out x={int(last[2] + last[4])},y={int(last[3])}",
    ]
    for k, text in enumerate(lines):
        scale, thick = (0.7, 2) if k == 0 else (0.45, 1)
        cv2.putText(label, text, (4, 40 + 30 * k), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick, cv2.LINE_AA)
    return np.hstack([label, *tiles])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--groups", nargs="+", default=["9,5", "19,1", "15,14", "13,2"])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "pictures" / "pets09-same-person.jpg")
    args = ap.parse_args()
    video, gt_path = SEQUENCES["pets09"]
    gt = read_mot(gt_path)
    ids = [[int(i) for i in group.split(",")] for group in args.groups]
    wanted = {int(row[0]) - 1 for group in ids for pid in group for row in picks(gt, pid)}
    frames = {i: frame for i, frame, _ in frames_with_truth(video, gt_path, wanted)}  # only those: not 1 GB
    height, width = next(iter(frames.values())).shape[:2]
    print("id  first  last  enters  leaves")
    for s in sorted(lifespans(gt, width, height), key=lambda s: s["first"]):
        print(f"{s['id']:>2}  {s['first']:>5}  {s['last']:>4}  {s['enters']:<6}  {s['leaves']}")
    rows = []
    for group in ids:
        for pid in group:
            rows.append(sheet_row(frames, gt, pid))
        rows.append(np.full((8, rows[-1].shape[1], 3), 200, np.uint8))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), np.vstack(rows[:-1]), [cv2.IMWRITE_JPEG_QUALITY, 80])
    print(f"sheet: {args.out}")


if __name__ == "__main__":
    main()

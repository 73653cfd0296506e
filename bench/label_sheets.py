"""Contact sheets of ground-truth identities, to label clothing and carried objects by eye.

For one sequence (PETS09-S2L1 or TUD-Stadtmitte, read in place from
../shared/data), each ground-truth identity's life is cut into N equal spans
of frames; in each span the box kept is the largest one that no other
person's box touches (IoU 0) and that the frame edge does not cut, falling
back to the largest box of the span. Each kept box is cropped from the
decoded frame (OpenCV) with a small margin, enlarged to a fixed height, and
the N crops go side by side on one sheet, each captioned with its frame
number: bench/out/label_sheets/<sequence>_id<NN>.png (git-ignored).

These sheets are only for a person to look at; nothing reads them. The labels
made from them live in tests/data/ (see tests/data/README.md).

Run: .venv/bin/python bench/label_sheets.py pets09 [--per-id 8] [--height 240]
     .venv/bin/python bench/label_sheets.py pets09 --ids 11 --frames 149 324 --height 480 --tag _zoom
     .venv/bin/python bench/label_sheets.py tud --ids 3 7
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SEQUENCES = {
    "pets09": (DATA / "pets09-s2l1" / "vtest.avi", DATA / "pets09-s2l1" / "gt.txt"),
    "tud": (DATA / "tud-stadtmitte" / "TUD-Stadtmitte.mp4", DATA / "tud-stadtmitte" / "gt" / "gt.txt"),
}
OUT = ROOT / "bench" / "out" / "label_sheets"
MARGIN = 0.08  # of the box size, on every side
CAPTION = 22  # px of caption band under each crop


def load_gt(path: Path) -> dict[int, list[tuple[int, float, float, float, float]]]:
    """frame -> [(id, x, y, w, h)] from a MOTChallenge gt.txt (frame 1 = first decoded frame)."""
    rows = np.loadtxt(path, delimiter=",", ndmin=2)
    by_frame: dict[int, list[tuple[int, float, float, float, float]]] = defaultdict(list)
    for r in rows:
        by_frame[int(r[0])].append((int(r[1]), float(r[2]), float(r[3]), float(r[4]), float(r[5])))
    return by_frame


def _touches(a, b) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def pick_frames(by_frame, width: int, height: int, per_id: int) -> dict[int, list[int]]:
    """id -> the frames whose boxes go on its sheet (see the module docstring)."""
    cands: dict[int, list[tuple[int, bool, float]]] = defaultdict(list)  # id -> (frame, clean, area)
    for frame, boxes in by_frame.items():
        for pid, x, y, w, h in boxes:
            alone = not any(_touches((x, y, w, h), b[1:]) for b in boxes if b[0] != pid)
            inside = x >= 0 and y >= 0 and x + w <= width and y + h <= height
            cands[pid].append((frame, alone and inside, w * h))
    picks: dict[int, list[int]] = {}
    for pid, rows in cands.items():
        rows.sort()
        spans = np.array_split(np.arange(len(rows)), min(per_id, len(rows)))
        chosen = []
        for span in spans:
            sub = [rows[i] for i in span]
            clean = [r for r in sub if r[1]] or sub
            chosen.append(max(clean, key=lambda r: r[2])[0])
        picks[pid] = chosen
    return picks


def crop(frame: np.ndarray, box, out_h: int) -> np.ndarray:
    x, y, w, h = box
    H, W = frame.shape[:2]
    x0, y0 = max(0, int(x - MARGIN * w)), max(0, int(y - MARGIN * h))
    x1, y1 = min(W, int(x + w + MARGIN * w)), min(H, int(y + h + MARGIN * h))
    c = frame[y0:y1, x0:x1]
    scale = out_h / max(1, c.shape[0])
    return cv2.resize(c, (max(1, round(c.shape[1] * scale)), out_h), interpolation=cv2.INTER_CUBIC)


def sheet(crops: list[tuple[int, int, np.ndarray]], pid: int, seq: str) -> np.ndarray:
    """Crops side by side, each captioned 'f<frame> h<box height px>', with a title band."""
    gap = 6
    tiles = []
    for frame, box_h, c in crops:
        tile = np.full((c.shape[0] + CAPTION, max(c.shape[1], 90), 3), 255, np.uint8)
        tile[: c.shape[0], : c.shape[1]] = c
        cv2.putText(tile, f"f{frame} h{box_h}", (2, c.shape[0] + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
        tiles.append(tile)
    width = sum(t.shape[1] for t in tiles) + gap * (len(tiles) + 1)
    height = max(t.shape[0] for t in tiles) + 30
    out = np.full((height, width, 3), 255, np.uint8)
    cv2.putText(out, f"{seq} id {pid}", (gap, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 200), 1)
    x = gap
    for t in tiles:
        out[30 : 30 + t.shape[0], x : x + t.shape[1]] = t
        x += t.shape[1] + gap
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sequence", choices=sorted(SEQUENCES))
    ap.add_argument("--per-id", type=int, default=8, help="crops per identity (default 8)")
    ap.add_argument("--height", type=int, default=240, help="crop height on the sheet in px (default 240)")
    ap.add_argument("--ids", type=int, nargs="*", help="only these identities")
    ap.add_argument("--frames", type=int, nargs="*", help="these frames instead of the picked ones (with one --ids)")
    ap.add_argument("--tag", default="", help="appended to the sheet's file name (a closer look keeps the first sheet)")
    args = ap.parse_args(argv)

    video, gt = SEQUENCES[args.sequence]
    by_frame = load_gt(gt)
    cap = cv2.VideoCapture(str(video))
    width, height = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    picks = pick_frames(by_frame, width, height, args.per_id)
    if args.ids:
        picks = {pid: fr for pid, fr in picks.items() if pid in set(args.ids)}
    if args.frames:
        if not args.ids or len(args.ids) != 1:
            ap.error("--frames needs exactly one --ids")
        picks = {args.ids[0]: sorted(f for f in args.frames if any(b[0] == args.ids[0] for b in by_frame[f]))}
    wanted: dict[int, list[int]] = defaultdict(list)  # frame -> ids
    for pid, frames in picks.items():
        for f in frames:
            wanted[f].append(pid)
    crops: dict[int, list[tuple[int, int, np.ndarray]]] = defaultdict(list)
    frame_no = 0
    last = max(wanted)
    while frame_no < last:
        ok, img = cap.read()
        if not ok:
            break
        frame_no += 1
        for pid in wanted.get(frame_no, ()):
            box = next(b[1:] for b in by_frame[frame_no] if b[0] == pid)
            crops[pid].append((frame_no, round(box[3]), crop(img, box, args.height)))
    cap.release()
    OUT.mkdir(parents=True, exist_ok=True)
    for pid in sorted(crops):
        path = OUT / f"{args.sequence}_id{pid:02d}{args.tag}.png"
        cv2.imwrite(str(path), sheet(crops[pid], pid, args.sequence))
        print(path.relative_to(ROOT), [f for f, _, _ in crops[pid]])


if __name__ == "__main__":
    main()

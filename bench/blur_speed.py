"""Face and plate blurring: speed on one thread, and what is found on real images.

    python bench/blur_speed.py [--crops 40]

1. Debian's darknet photos (/usr/share/darknet/data): faces found, ms per image.
2. A synthetic plate ("AB-123-CD", black on white) on a grey car-like box:
   text regions found inside the vehicle box, ms.
3. PETS09 S2.L1 person crops from gt.txt (people ~75 px tall, faces ~8-10 px):
   how many crops get at least one face box, at several upscales
   (min_face_side: the crop is enlarged to at least that height), and ms per crop.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vigie.privacy.blur import Blurrer  # noqa: E402

PETS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "pets09-s2l1"
DARKNET = "/usr/share/darknet/data"


def timed(fn, *a, repeat=3):
    fn(*a)  # warm
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(*a)
        best = min(best, time.perf_counter() - t)
    return out, best * 1000


def synthetic_car() -> tuple[np.ndarray, tuple[int, int, int, int]]:
    img = np.full((480, 640, 3), (90, 110, 100), np.uint8)
    box = (180, 160, 460, 360)
    cv2.rectangle(img, box[:2], box[2:], (128, 128, 128), -1)
    cv2.rectangle(img, (260, 300), (380, 330), (255, 255, 255), -1)
    cv2.putText(img, "AB-123-CD", (264, 323), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 2)
    return img, box


def pets_crops(n: int) -> list[np.ndarray]:
    gt = np.loadtxt(PETS / "gt.txt", delimiter=",")
    frames = sorted(set(gt[:, 0].astype(int)))[:: max(1, len(set(gt[:, 0])) // 10)][:10]
    cap = cv2.VideoCapture(str(PETS / "vtest.avi"))
    crops, idx = [], 0
    want = set(frames)
    while len(crops) < n:
        ok, frame = cap.read()
        if not ok:
            break
        idx += 1  # gt frames are 1-based
        if idx not in want:
            continue
        for _f, _id, x, y, w, h, *_ in gt[gt[:, 0] == idx]:
            x1, y1 = max(0, int(x)), max(0, int(y))
            crop = frame[y1 : int(y + h), x1 : int(x + w)]
            if crop.shape[0] > 40 and crop.shape[1] > 10:
                crops.append(crop)
    cap.release()
    return crops[:n]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--crops", type=int, default=40)
    args = ap.parse_args()
    b = Blurrer()
    print("1. darknet photos (faces, whole image, one thread)")
    for p in sorted(glob.glob(f"{DARKNET}/*.jpg")):
        im = cv2.imread(p)
        faces, ms = timed(b.find_faces, im)
        print(
            f"   {os.path.basename(p):12s} {im.shape[1]}x{im.shape[0]}  {ms:6.0f} ms  faces: "
            + (", ".join(f"{r.score:.2f} @ {[int(v) for v in r.xyxy]}" for r in faces) or "none")
        )
    img, box = synthetic_car()
    plates, ms = timed(b.find_plates, img, [box])
    print(
        f"2. synthetic plate in a 280x200 vehicle box: {len(plates)} text region(s) "
        f"{[[int(v) for v in r.xyxy] for r in plates]}  {ms:.0f} ms"
    )
    if not (PETS / "vtest.avi").is_file():
        print(f"3. PETS09 not found under {PETS}")
        return 0
    crops = pets_crops(args.crops)
    hs = [c.shape[0] for c in crops]
    print(f"3. PETS09: {len(crops)} person crops, height median {np.median(hs):.0f} px")
    for side in (256, 512, 768):
        bb = Blurrer(min_face_side=side)
        found, total = 0, 0.0
        for c in crops:
            faces, ms = timed(bb.find_faces, c, repeat=1)
            found += bool(faces)
            total += ms
        print(f"   min_face_side {side}: {found}/{len(crops)} crops with a face box, {total / len(crops):.0f} ms/crop")
    return 0


if __name__ == "__main__":
    sys.exit(main())

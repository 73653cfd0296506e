"""Camera-motion compensation on a panning camera: PETS09-S2L1's first 120
frames seen through a 640 px window that slides 16 px a frame and reverses
every 8 frames. Prints MOTA, IDF1 and ID switches with and without
compensation (NanoDet detections, ByteTrack with motion only).

Run: .venv/bin/python bench/cmc_panning.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from test_cmc_pets09 import FRAMES, WIDTH, track, window_x  # noqa: E402 - the test's own scene, so both measure the same thing

from vigie.config import NanoDetConfig  # noqa: E402
from vigie.detect.registry import build_detector  # noqa: E402
from vigie.eval.mot import read_mot, score  # noqa: E402

PETS = ROOT.parent / "shared" / "data" / "pets09-s2l1"


def main() -> None:
    detector = build_detector(NanoDetConfig(), ["person"])
    gt = read_mot(PETS / "gt.txt")
    cap = cv2.VideoCapture(str(PETS / "vtest.avi"))
    frames, truth = [], []
    for f in range(FRAMES):
        ok, image = cap.read()
        x0 = window_x(f)
        view = np.ascontiguousarray(image[:, x0 : x0 + WIDTH])
        frames.append((view, detector.detect(view)))
        rows = gt[gt[:, 0] == f + 1].copy()
        rows[:, 2] -= x0
        centre = rows[:, 2] + rows[:, 4] / 2
        truth.append(rows[(centre >= 0) & (centre < WIDTH)])
    truth = np.vstack(truth)
    for compensate in (False, True):
        s = score(truth, track(frames, compensate))
        label = "with camera-motion compensation" if compensate else "without compensation           "
        print(f"panning camera, {FRAMES} frames, {label}: MOTA {s.mota:.3f}  IDF1 {s.idf1:.3f}  ID switches {s.id_switches}")


if __name__ == "__main__":
    main()

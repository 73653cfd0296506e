"""Camera-motion compensation on a panning camera: PETS09-S2L1's first 120
frames seen through a 640 px window that slides 16 px a frame and reverses
every 8 frames. Prints MOTA, IDF1 and ID switches with and without
compensation (NanoDet detections, ByteTrack with motion only).

Run: .venv/bin/python bench/cmc_panning.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from test_cmc_pets09 import FRAMES, panned_scene, track  # noqa: E402 - the test's own scene, so both measure the same thing

from vigie.config import NanoDetConfig  # noqa: E402
from vigie.detect.registry import build_detector  # noqa: E402
from vigie.eval.mot import score  # noqa: E402

PETS = ROOT.parent / "shared" / "data" / "pets09-s2l1"


def main() -> None:
    frames, truth = panned_scene(build_detector(NanoDetConfig(), ["person"]), PETS)
    for compensate in (False, True):
        s = score(truth, track(frames, compensate))
        label = "with camera-motion compensation" if compensate else "without compensation           "
        print(
            f"panning camera, {FRAMES} frames, {label}: MOTA {s.mota:.3f}  IDF1 {s.idf1:.3f}  ID switches {s.id_switches}"
        )


if __name__ == "__main__":
    main()

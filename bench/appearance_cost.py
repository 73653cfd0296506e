"""What the appearance backends cost: crops described per second, and HD cameras per core.

1. Crops described per second on one thread, for each backend, on 200 real CUHK03 crops
   (the wave-1 descriptor is the baseline: ratios against it).
2. The whole pipeline on the 640x360 sub-stream of bench/pipeline_speed.py's HD clip
   (5 analysed frames a second, everything on one thread), with the wave-1 descriptor,
   with the new default (omz-0277+omz-0286), the same mirrored, with no appearance vectors
   (`search_crops: 0`), and with a re-ID network as the tracker's appearance term too, in the
   same run: cameras per core is seconds of video per CPU second.

Run: .venv/bin/python bench/appearance_cost.py [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("VIGIE_MODELS", str((ROOT.parent / "shared" / "models").resolve()))

from pipeline_speed import OUT, PETS, cpu_time, make_hd, pipeline_run  # noqa: E402

from vigie.config import load_site  # noqa: E402
from vigie.describe.backends.registry import build_backend  # noqa: E402
from vigie.describe.config import AppearanceConfig  # noqa: E402
from vigie.describe.reid import LEGACY_BASE  # noqa: E402

CUHK03 = ROOT.parent / "shared" / "data" / "reid-cuhk03-val" / "query"
BACKENDS = [LEGACY_BASE, "omz-0286", "omz-0277+omz-0286", "osnet-x0.5", "omz-0288"]


def crops_per_second(spec: str, crops: list) -> float:
    backend = build_backend(spec, threads=1)
    backend.describe_crops(crops[:8])  # load the networks first
    c, _, _ = cpu_time(lambda: [backend.describe_crops(crops[i : i + 16]) for i in range(0, len(crops), 16)])
    return len(crops) / c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hd-seconds", type=float, default=30.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    crops = [cv2.imread(str(p)) for p in sorted(CUHK03.iterdir())[:200]]
    res: dict = {"crops_per_second": {}, "cameras_per_core": {}}
    for spec in BACKENDS:
        res["crops_per_second"][spec] = crops_per_second(spec, crops)
    base = res["crops_per_second"][LEGACY_BASE]
    for spec, v in res["crops_per_second"].items():
        print(f"{spec:<24} {v:7.1f} crops/s on one thread ({v / base:.2f} x the wave-1 descriptor)", flush=True)

    # Steady state: the networks are compiled once per process (about 1.2 s of CPU for the default's two,
    # vigie.describe.backends.openvino_ir), not once per camera-hour; compile them before timing.
    build_backend("omz-0277+omz-0286").describe_crops(crops[:2])
    site = load_site(ROOT / "examples" / "nimes-demo.yaml")
    cam = "nimes-esplanade-01"
    sub = make_hd(PETS, OUT / "pets09_sub640_25fps.mp4", args.hd_seconds, size=(640, 360))
    variants = {
        "wave-1 descriptor": dict(appearance=AppearanceConfig(backend=LEGACY_BASE)),
        "new default (omz-0277+omz-0286)": dict(appearance=AppearanceConfig()),
        "the same, each crop also mirrored": dict(appearance=AppearanceConfig(mirrored=True)),
        "no appearance vectors (search_crops: 0)": dict(search_crops=0),
        "new default + the tracker's appearance term by omz-0286 (gate 0.6)": dict(
            appearance=AppearanceConfig(),
            tracker=site.analysis.tracker.model_copy(update={"appearance": "omz-0286", "appearance_gate": 0.6}),
        ),
    }
    for label, changes in variants.items():
        c, _, (pipe, tracks) = cpu_time(lambda: pipeline_run(sub, site, cam, 5, 25.0, fast_decode=True, **changes))
        crops = sum(len(t.crops) for t in tracks if t.crops is not None)
        res["cameras_per_core"][label] = {"cameras_per_core": args.hd_seconds / c, "crops_described": crops}
        print(
            f"sub-stream 640x360, 5 frames/s, {label}: {args.hd_seconds / c:.2f} cameras per core "
            f"({crops} crops described for {len(tracks)} tracks)",
            flush=True,
        )
    if args.json:
        print(json.dumps(res))


if __name__ == "__main__":
    main()

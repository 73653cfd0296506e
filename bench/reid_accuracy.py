"""Re-identification accuracy on PETS09-S2L1 ground truth, per descriptor and protocol.

The figures of `vigie eval reid`, for four protocols at once (the analysis for
the site adaptation and the description of the 4,650 ground-truth boxes are
done once):

* sequence halves (frames 1-397 against 398-795), ground-truth ids as given
  (the issue's protocol: only 3 ids span both halves);
* sequence halves with the ids that are one person merged
  (tests/data/pets09_s2l1_same_person.csv): people who leave and come back;
* each identity's own halves, ids as given (19 queries; a person who came back
  under another id is then a wrong answer when found);
* each identity's own halves, same-person ids merged.

The adapted variant is trained on the tracks Vigie itself finds in the
video, never on ground-truth identities.

Run: .venv/bin/python bench/reid_accuracy.py [--json]   (make bench runs it)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.config import load_site  # noqa: E402
from vigie.describe.reid import LEGACY_BASE  # noqa: E402
from vigie.eval.mot import read_mot  # noqa: E402
from vigie.eval.reid import adaptation_from_video, describe_ground_truth, evaluate_variant, read_same_person  # noqa: E402

PETS = ROOT.parent / "shared" / "data" / "pets09-s2l1"
SAME = ROOT / "tests" / "data" / "pets09_s2l1_same_person.csv"
VARIANTS = ("colour", "network", "parts", "both", "fusion", "adapted")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    os.environ.setdefault("VIGIE_DATA", tempfile.mkdtemp(prefix="vigie-bench-"))  # model cache only
    site = load_site(ROOT / "examples" / "nimes-demo.yaml")
    t0 = time.perf_counter()
    projection, adapt = adaptation_from_video(PETS / "vtest.avi", site, "nimes-esplanade-01")
    t1 = time.perf_counter()
    gt = read_mot(PETS / "gt.txt")
    feats = describe_ground_truth(PETS / "vtest.avi", gt)
    # The site's descriptor (the fusion of re-ID networks by default), adapted as `vigie adapt` does.
    feats["adapted"] = projection.apply(
        feats["fusion" if projection.base != LEGACY_BASE else "both"], "nimes-esplanade-01"
    )
    t2 = time.perf_counter()
    frames = gt[:, 0].astype(int)
    merge = read_same_person(SAME)
    results = []
    for split in ("sequence", "identity"):
        for merged in (False, True):
            ids = np.array([merge.get(int(i), int(i)) if merged else int(i) for i in gt[:, 1]])
            row = {
                "split": split,
                "same_person_merged": merged,
                "variants": [{"name": v, **evaluate_variant(feats[v], frames, ids, split)} for v in VARIANTS],
            }
            results.append(row)
    out = {
        "protocols": results,
        "adaptation": adapt.as_dict(),
        "seconds": {"analysis_and_adaptation": t1 - t0, "describe_gt": t2 - t1},
    }
    if args.json:
        print(json.dumps(out))
        return 0
    print(
        f"Adaptation: {adapt.tracks} Vigie tracks, {adapt.crops} crops, {adapt.negative_pairs} negative pairs, "
        f"{adapt.seconds:.2f} s to train ({t1 - t0:.0f} s with the analysis); describing {len(gt)} GT boxes: {t2 - t1:.0f} s"
    )
    for r in results:
        n = r["variants"][0]["tracklet"]["queries"]
        print(
            f"\n{r['split']} halves, {'same-person ids merged' if r['same_person_merged'] else 'GT ids as given'} ({n} identities queried)"
        )
        print(f"  {'variant':<9} {'crop r1':>8} {'r5':>6} {'mAP':>6} | {'tracklet r1':>11} {'r5':>6} {'mAP':>6}")
        for v in r["variants"]:
            c, t = v["crop"], v["tracklet"]
            print(
                f"  {v['name']:<9} {c['rank1']:>8.3f} {c['rank5']:>6.3f} {c['map']:>6.3f} | {t['rank1']:>11.3f} {t['rank5']:>6.3f} {t['map']:>6.3f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

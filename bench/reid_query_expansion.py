"""Query expansion for `similar` (issue 16): measured on every real re-ID set together.

One-query expansions that need only the query's vector and the searched
vectors, as the search's index has them (vigie.search.expansion), against the
plain ranking, on three real sets in the same run:

* CUHK03 (`../shared/data/reid-cuhk03-val`): the default variant of `vigie eval
  reid --dataset` (the two networks fused, camera normalisation learned from
  `bounding_box_train/`'s cameras), both directions averaged;
* PETS09-S2L1: the protocol of `vigie eval reid --video` (§6/§21: sequence halves,
  same-person ids merged), its default variant (the adaptation learned from
  the tracks Vigie itself finds in the video); each identity's own halves too;
* TUD-Stadtmitte: ground-truth crops by sequence halves and by each
  identity's own halves, the fused networks normalised by the sequence's own
  mean (the camera normalisation learned from its unlabeled crops), as §21's
  table of tried changes did.

The expansion is also applied at the tracklet level (pooled vectors), which is
what the search ranks. The descriptors are cached (`--cache`, default
/tmp/vigie-qe-cache) so that re-running scores only; `--fresh` recomputes.

Run: VIGIE_MODELS=../shared/models .venv/bin/python bench/reid_query_expansion.py [--json]
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
from vigie.describe.backends.registry import block_dims, network  # noqa: E402
from vigie.describe.config import DEFAULT_BACKEND  # noqa: E402
from vigie.describe.reid import LEGACY_BASE, CameraNormalisation, pool  # noqa: E402
from vigie.eval.market import rank_scores, read_dataset  # noqa: E402
from vigie.eval.mot import read_mot  # noqa: E402
from vigie.eval.reid import (  # noqa: E402
    adaptation_from_video,
    describe_ground_truth,
    ranking_scores,
    read_same_person,
    split_halves,
)
from vigie.search.expansion import expand_all  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
PETS = DATA / "pets09-s2l1"
TUD = DATA / "tud-stadtmitte"
CUHK = DATA / "reid-cuhk03-val"
SAME = ROOT / "tests" / "data" / "pets09_s2l1_same_person.csv"
CAMERA = "nimes-esplanade-01"
ALPHA = 3.0  # alpha-QE's power (Radenović et al. 2018; fast-reid's TEST.AQE.ALPHA)


def plain(q: np.ndarray, g: np.ndarray) -> np.ndarray:
    return q @ g.T


def query_expansion(k: int, alpha: float):
    """Search once, move the query towards its k nearest, search again (one query at a time)."""
    return lambda q, g: expand_all(q, g, k, alpha) @ g.T


def database_augmentation(k: int, alpha: float, qe: int = 0):
    """Each searched vector moved towards its own k nearest searched vectors (alpha-DBA), then
    optionally query expansion over the augmented vectors."""

    def rank(q: np.ndarray, g: np.ndarray) -> np.ndarray:
        g = expand_all(g, g, k + 1, alpha)  # a row's own cosine 1 makes it its first neighbour
        return (expand_all(q, g, qe, alpha) if qe else q) @ g.T

    return rank


def local_scaling(k: int):
    """Cross-domain similarity local scaling (CSLS; Conneau et al. 2018, k=10): each searched vector's
    cosine lowered by its mean cosine to its k nearest searched vectors (hubs come down)."""

    def rank(q: np.ndarray, g: np.ndarray) -> np.ndarray:
        c = g @ g.T
        np.fill_diagonal(c, -np.inf)
        radius = np.sort(c, axis=1)[:, -min(k, len(g) - 1) :].mean(axis=1)
        return 2 * (q @ g.T) - radius[None, :]

    return rank


# name -> ranking of a gallery by a batch of queries. k of the literature: 1-3 (Chum et al. 2007's
# average QE is over the few best); 4 and 9 are fast-reid's re-ID settings (TEST.AQE.QE_K = 5 and its
# aqe() default qe_k = 10, both counting the query itself, which is always its own first neighbour there).
METHODS = {
    "none": plain,
    **{f"average QE k={k}": query_expansion(k, 0.0) for k in (1, 2, 3)},
    **{f"alpha-QE k={k}": query_expansion(k, ALPHA) for k in (1, 2, 3, 4, 9)},
    **{f"alpha-DBA k={k}": database_augmentation(k, ALPHA) for k in (1, 2, 3)},
    "alpha-DBA k=1 + alpha-QE k=1": database_augmentation(1, ALPHA, qe=1),
    "CSLS k=10": local_scaling(10),
}


def _cached(cache: Path, name: str, fresh: bool, make) -> dict[str, np.ndarray]:
    path = cache / f"{name}.npz"
    if path.exists() and not fresh:
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    t = time.perf_counter()
    out = make()
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)
    print(f"{name}: described in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return out


def cuhk03_features(threads: int) -> dict[str, np.ndarray]:
    """The default variant of `vigie eval reid --dataset` (fusion + camera normalisation)."""
    data = read_dataset(CUHK)
    members = [network(n, None, threads) for n in DEFAULT_BACKEND.split("+")]
    fused = {}
    for split, crops in data.items():
        images = crops.images()
        fused[split] = (np.hstack([m.describe_crops(images) for m in members]) / np.sqrt(len(members))).astype(
            np.float32
        )
    norm = CameraNormalisation.fit(
        "camera-normalisation",
        DEFAULT_BACKEND,
        block_dims(DEFAULT_BACKEND),
        fused["bounding_box_train"],
        [str(c) for c in data["bounding_box_train"].cameras],
    )
    out = {}
    for split in ("query", "bounding_box_test"):
        out[f"{split}_vectors"] = norm.apply_each(fused[split], data[split].cameras)
        out[f"{split}_persons"] = data[split].persons
        out[f"{split}_cameras"] = data[split].cameras
    return out


def pets09_features(threads: int) -> dict[str, np.ndarray]:
    """`vigie eval reid --video`'s default variant on PETS09-S2L1 (adaptation from Vigie's own tracks)."""
    site = load_site(ROOT / "examples" / "nimes-demo.yaml")
    projection, _ = adaptation_from_video(PETS / "vtest.avi", site, CAMERA)
    gt = read_mot(PETS / "gt.txt")
    feats = describe_ground_truth(PETS / "vtest.avi", gt, threads, global_network=False)
    if projection.base == LEGACY_BASE:
        raise SystemExit("the site's descriptor is the wave-1 one: this bench measures the re-ID networks")
    merge = read_same_person(SAME)
    return {
        "vectors": projection.apply(feats["fusion"], CAMERA),
        "fusion": feats["fusion"],
        "frames": gt[:, 0].astype(int),
        "ids": np.array([merge.get(int(i), int(i)) for i in gt[:, 1]]),
    }


def tud_features(threads: int) -> dict[str, np.ndarray]:
    """TUD-Stadtmitte's ground-truth crops, fused, normalised by the sequence's own mean (no labels)."""
    gt = read_mot(TUD / "gt" / "gt.txt")
    feats = describe_ground_truth(TUD / "TUD-Stadtmitte.mp4", gt, threads, global_network=False)
    norm = CameraNormalisation.fit(
        "camera-normalisation", DEFAULT_BACKEND, block_dims(DEFAULT_BACKEND), feats["fusion"], ["tud"] * len(gt)
    )
    return {
        "vectors": norm.apply(feats["fusion"], "tud"),
        "fusion": feats["fusion"],
        "frames": gt[:, 0].astype(int),
        "ids": gt[:, 1].astype(int),
    }


def load_all(cache: Path, fresh: bool, threads: int) -> dict[str, dict[str, np.ndarray]]:
    return {
        "cuhk03": _cached(cache, "cuhk03", fresh, lambda: cuhk03_features(threads)),
        "tud": _cached(cache, "tud", fresh, lambda: tud_features(threads)),
        "pets09": _cached(cache, "pets09", fresh, lambda: pets09_features(threads)),
    }


def score_cuhk03(s: dict[str, np.ndarray], rank) -> dict:
    """Both directions averaged, as `vigie eval reid --dataset` scores the set."""
    q, g = s["query_vectors"], s["bounding_box_test_vectors"]
    qp, qc, gp, gc = (s[f"{a}_{b}"] for a in ("query", "bounding_box_test") for b in ("persons", "cameras"))
    there = rank_scores(rank(q, g), qp, qc, gp, gc)
    back = rank_scores(rank(g, q), gp, gc, qp, qc)
    return {m: (there[m] + back[m]) / 2 for m in ("rank1", "rank5", "map")}


def score_video(s: dict[str, np.ndarray], split: str, rank) -> dict:
    """`vigie eval reid --video`'s crop and tracklet scores (vigie.eval.reid.evaluate_variant), ranked by `rank`;
    plus each crop query's first answer, right or wrong, to see who gains and who loses."""
    v, frames, ids = s["vectors"], s["frames"], s["ids"]
    first = split_halves(frames, ids, split)
    second = ~first
    both = np.intersect1d(ids[first], ids[second])
    queries = first & np.isin(ids, both)
    sims = rank(v[queries], v[second])
    crop = ranking_scores(sims, ids[queries], ids[second])
    gallery_ids = np.unique(ids[second])
    q = np.stack([pool(v[first & (ids == i)]) for i in both])
    g = np.stack([pool(v[second & (ids == i)]) for i in gallery_ids])
    tracklet = ranking_scores(rank(q, g), both, gallery_ids)
    right = ids[second][np.argmax(sims, axis=1)] == ids[queries]
    return {"crop": crop, "tracklet": tracklet, "_right": right, "_persons": ids[queries]}


def changes(base: dict, other: dict) -> dict:
    """Crop queries whose first answer became right (gained) or wrong (lost), by person."""
    gained = other["_right"] & ~base["_right"]
    lost = base["_right"] & ~other["_right"]

    def by_person(m: np.ndarray) -> dict[str, int]:
        return {str(p): int(n) for p, n in zip(*np.unique(base["_persons"][m], return_counts=True))}

    return {
        "gained": int(gained.sum()),
        "lost": int(lost.sum()),
        "gained_by_person": by_person(gained),
        "lost_by_person": by_person(lost),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", action="store_true")
    p.add_argument("--cache", default="/tmp/vigie-qe-cache")
    p.add_argument("--fresh", action="store_true", help="describe the crops again, ignoring the cache")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    os.environ.setdefault("VIGIE_DATA", tempfile.mkdtemp(prefix="vigie-bench-"))  # model cache only
    sets = load_all(Path(args.cache), args.fresh, args.threads)
    t = time.perf_counter()
    protocols = [(key, split) for key in ("pets09", "tud") for split in ("sequence", "identity")]
    base = {p: score_video(sets[p[0]], p[1], plain) for p in protocols}
    rows = []
    for name, rank in METHODS.items():
        row = {"method": name, "cuhk03": score_cuhk03(sets["cuhk03"], rank)}
        for p in protocols:
            got = score_video(sets[p[0]], p[1], rank)
            row[f"{p[0]} {p[1]}"] = {
                "crop": got["crop"],
                "tracklet": got["tracklet"],
                "crop_rank1_changes": changes(base[p], got),
            }
        rows.append(row)
    seconds = time.perf_counter() - t
    if args.json:
        print(json.dumps({"methods": rows, "seconds_scoring": seconds}))
        return 0
    print("crop level; CUHK03 both directions averaged. r1 / r5 / mAP; PETS09 sequence halves: tracklet rank-1 too")
    print(
        f"{'method':<30} {'CUHK03':>17} | {'PETS09 sequence':>23} | {'PETS09 identity':>17} | "
        f"{'TUD sequence':>17} | {'TUD identity':>17}"
    )

    def f(x: dict) -> str:
        return f"{x['rank1']:.3f} {x['rank5']:.3f} {x['map']:.3f}"

    for r in rows:
        ps = r["pets09 sequence"]
        print(
            f"{r['method']:<30} {f(r['cuhk03'])} | {f(ps['crop'])} {ps['tracklet']['rank1']:.3f} | "
            f"{f(r['pets09 identity']['crop'])} | {f(r['tud sequence']['crop'])} | {f(r['tud identity']['crop'])}"
        )
    print("\ncrop queries whose first answer changed against none (gained / lost, by person):")
    for r in rows[1:]:
        print(
            f"{r['method']:<30} "
            + "; ".join(
                f"{p} +{c['gained']} -{c['lost']} {c['gained_by_person']} {c['lost_by_person']}"
                for p in ("pets09 sequence", "tud sequence")
                for c in [r[p]["crop_rank1_changes"]]
            )
        )
    print(f"\nscoring: {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

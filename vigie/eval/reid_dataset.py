"""`vigie eval reid --dataset DIR`: every appearance backend on a Market-1501 layout set.

Each variant describes the query and gallery crops; the Market-1501 protocol
(vigie.eval.market) scores it. A set whose query and gallery come from different
cameras is scored both ways (query against gallery, and gallery against query) and
the two are averaged, as the figures of ../shared/data's README are; the JSON gives
each way too.

Variants: the wave-1 descriptor, each network alone, the default fusion (and the
fusion with each crop also mirrored), each after the site adaptation
(CameraNormalisation), learned from
`bounding_box_train/` alone: its crops' cameras, never their labels (a set without
that folder learns from the query and gallery crops' cameras, still without labels).
The `default` variant is the one `vigie analyze`, `vigie run` and the search use
once `vigie adapt` has run.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from vigie.describe.backends import unit
from vigie.describe.backends.registry import NETWORKS, backend_licence, block_dims, network
from vigie.describe.backends.stripes_parts import StripesParts
from vigie.describe.config import DEFAULT_BACKEND
from vigie.describe.reid import LEGACY_BASE, CameraNormalisation
from vigie.eval.market import CropSet, rank_scores, read_dataset

Progress = Callable[[str], None]
SPLITS = ("query", "bounding_box_test", "bounding_box_train")


def _score(q: np.ndarray, g: np.ndarray, qs: CropSet, gs: CropSet) -> dict:
    there = rank_scores(q @ g.T, qs.persons, qs.cameras, gs.persons, gs.cameras)
    both_ways = not set(qs.cameras.tolist()) & set(gs.cameras.tolist())
    if not both_ways:
        return {**there, "directions": {"query_to_gallery": there}}
    back = rank_scores(g @ q.T, gs.persons, gs.cameras, qs.persons, qs.cameras)
    mean = {k: (there[k] + back[k]) / 2 for k in ("rank1", "rank5", "map")}
    return {**mean, "directions": {"query_to_gallery": there, "gallery_to_query": back}}


def evaluate_dataset(
    root: str | Path,
    models: dict[str, str] | None = None,
    networks: list[str] | None = None,
    threads: int = 2,
    progress: Progress | None = None,
) -> dict:
    data = read_dataset(root)
    images = {k: v.images() for k, v in data.items()}
    learn = "bounding_box_train" if "bounding_box_train" in data else None
    needed = [s for s in SPLITS if s in data and (s != "bounding_box_train" or learn)]
    feats: dict[str, dict[str, np.ndarray]] = {}  # variant -> split -> vectors
    ms: dict[str, float] = {}

    def described(name: str, describe, splits) -> None:
        crops = 0
        start = time.perf_counter()
        feats[name] = {}
        for s in splits:
            feats[name][s] = describe(images[s])
            crops += len(images[s])
        ms[name] = (time.perf_counter() - start) * 1000 / max(crops, 1)
        if progress:
            progress(f"{name}: {crops} crops described, {ms[name]:.1f} ms each")

    members = DEFAULT_BACKEND.split("+")
    for name in networks or list(NETWORKS):
        net = network(name, (models or {}).get(name), threads)
        splits = needed if name in members else ["query", "bounding_box_test"]
        described(name, net.describe_crops, splits)
        if name in members:  # the default's members are also seen mirrored, for the mirrored variant
            described(f"{name} mirrored", lambda crops, n=net: n.describe_crops(crops, flip=True), splits)
    legacy = StripesParts(threads=threads)
    described(LEGACY_BASE, legacy.describe_crops, ["query", "bounding_box_test"])

    learn_splits = [learn] if learn else ["query", "bounding_box_test"]
    default = None
    for mirrored in (False, True):
        fused = f"{DEFAULT_BACKEND}{', mirrored' if mirrored else ''}"
        feats[fused] = {
            s: (
                np.hstack([unit(feats[m][s] + feats[f"{m} mirrored"][s]) if mirrored else feats[m][s] for m in members])
                / np.sqrt(len(members))
            ).astype(np.float32)
            for s in needed
        }
        ms[fused] = sum(ms[m] + (ms[f"{m} mirrored"] if mirrored else 0) for m in members)
        adaptation = CameraNormalisation.fit(
            "camera-normalisation",
            fused,
            block_dims(DEFAULT_BACKEND),
            np.vstack([feats[fused][s] for s in learn_splits]),
            [str(c) for s in learn_splits for c in data[s].cameras],
        )
        adapted = f"{fused} + camera normalisation"
        feats[adapted] = {
            s: adaptation.apply_each(feats[fused][s], data[s].cameras) for s in ("query", "bounding_box_test")
        }
        ms[adapted] = ms[fused]
        default = default or adapted  # not mirrored: the site file's default
    for m in members:
        del feats[f"{m} mirrored"]
    variants = []
    for name in feats:
        q, g = feats[name]["query"], feats[name]["bounding_box_test"]
        scored = _score(q, g, data["query"], data["bounding_box_test"])
        variants.append(
            {
                "name": name,
                "default": name == default,
                "rank1": scored["rank1"],
                "rank5": scored["rank5"],
                "map": scored["map"],
                "ms_per_crop": ms[name],
                "licence": backend_licence(name.split(" ")[0].rstrip(",")),
                "directions": scored["directions"],
            }
        )
    return {
        "dataset": str(root),
        "queries": len(data["query"]),
        "gallery": len(data["bounding_box_test"]),
        "adaptation_learned_from": f"{learn}/ (cameras only, no labels)" if learn else "query and gallery cameras",
        "variants": variants,
    }

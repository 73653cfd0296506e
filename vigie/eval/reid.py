"""Re-identification accuracy on real people: `vigie eval reid`.

Protocol (issue 4), on ground-truth boxes so that detection and tracking
errors do not blur the measure:

* split "sequence": the video's frames in two halves (1..N/2, N/2+1..N); the
  identities present in both are the queries. Each first-half crop of them is
  a query against every second-half crop (crop level); each identity's
  first-half crops pooled into one vector are a query against every
  identity's pooled second-half vector (tracklet level).
* split "identity": each identity's own frames in two halves, so every
  identity is a query.

Ground truth such as MOT15's gives a person who leaves and comes back a new
id. `same_person` (a CSV of id groups, made by eye) merges those ids into one
identity, so that finding the person again is counted as right, not wrong.

Variants: colour stripes only; the packaged MobileNetV2 as it is (1280
globally pooled channels); its part features (vigie.describe.reid); both
(colour + parts: the wave-1 descriptor); the default fusion of trained re-ID
networks (vigie.describe.backends); and the fusion after the site adaptation
(the default), learned from the tracks that Vigie itself finds in the same
video (analysed into a scratch store), never from ground-truth identities.

Metrics: rank-1 and rank-5 (a right match among the first 1 or 5), and mean
average precision over queries (each query's precision at every right match
in its ranking, averaged).
"""

from __future__ import annotations

import csv
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from vigie.describe.backends import describe_boxes
from vigie.describe.backends.registry import build_backend
from vigie.describe.colour_descriptor import colour_stripes
from vigie.describe.config import DEFAULT_BACKEND
from vigie.describe.embed import AppearanceEmbedder, l2_normalise
from vigie.describe.reid import LEGACY_BASE, PartNetwork, combine, pool
from vigie.errors import VigieError
from vigie.eval.mot import mot_xyxy, read_mot
from vigie.pipeline import analyse_file
from vigie.search.adapt import train, train_camera_normalisation
from vigie.store.sqlite import SQLiteStore

Progress = Callable[[str], None]


@dataclass
class GroundTruthCrops:
    frames: np.ndarray  # (N,) 1-based frame numbers
    ids: np.ndarray  # (N,) identity of each crop (after same-person merging)
    features: dict[str, np.ndarray]  # variant -> (N, D) unit vectors


def read_same_person(path: str | Path) -> dict[int, int]:
    """GT id -> the group's first id, from a CSV whose rows list the ids of one person ('#' comments)."""
    mapping: dict[int, int] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for n, row in enumerate(csv.reader(fh), 1):
            cells = [c.strip() for c in row if c.strip()]
            if not cells or cells[0].startswith("#"):
                continue
            try:
                ids = [int(c) for c in cells]
            except ValueError:
                raise VigieError(
                    f"{path}, line {n}: expected ground-truth ids separated by commas, got {row}"
                ) from None
            for i in ids:
                mapping[i] = min(ids)
    return mapping


def describe_ground_truth(
    video: str | Path, gt: np.ndarray, threads: int = 2, progress: Progress | None = None, global_network: bool = True
) -> dict[str, np.ndarray]:
    """Every GT box's vectors, per variant except the adapted one, in gt row order
    (without `global_network`, the costliest variant, "network", is left out)."""
    embedder, parts_net = AppearanceEmbedder(threads=threads), PartNetwork(threads=threads)
    fusion = build_backend(DEFAULT_BACKEND, threads=threads)
    frames = gt[:, 0].astype(int)
    order = np.argsort(frames, kind="stable")
    boxes = mot_xyxy(gt)
    out = {k: [None] * len(gt) for k in ("colour", "network", "parts", "fusion") if global_network or k != "network"}
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise VigieError(f"cannot open video {video}")
    n, pos = 0, 0
    last = int(frames.max())
    while n < last:
        ok, image = cap.read()
        if not ok:
            raise VigieError(f"{video} ends at frame {n}, but the ground truth has boxes up to frame {last}")
        n += 1
        rows = []
        while pos < len(order) and frames[order[pos]] == n:
            rows.append(order[pos])
            pos += 1
        if not rows:
            continue
        b = boxes[rows]
        described = {
            "colour": colour_stripes(image, b),
            "parts": l2_normalise(parts_net.features(image, b)),
            "fusion": describe_boxes(fusion, image, b),
        }
        if global_network:
            described["network"] = embedder.embed(image, b)
        for key, vecs in described.items():
            for r, v in zip(rows, vecs):
                out[key][r] = v
        if progress and n % 100 == 0:
            progress(f"described ground-truth boxes up to frame {n}/{last}")
    cap.release()
    feats = {k: np.stack(v) for k, v in out.items()}
    feats["both"] = combine(feats["colour"], feats["parts"])
    return feats


def split_halves(frames: np.ndarray, ids: np.ndarray, split: str) -> np.ndarray:
    """True for first-half crops."""
    if split == "sequence":
        return frames <= (int(frames.max()) // 2)
    if split == "identity":
        first = np.zeros(len(frames), dtype=bool)
        for i in np.unique(ids):
            mine = ids == i
            first |= mine & (frames <= np.median(frames[mine]))
        return first
    raise VigieError(f"unknown split {split!r}: use 'sequence' or 'identity'")


def ranking_scores(similarity: np.ndarray, query_ids: np.ndarray, gallery_ids: np.ndarray) -> dict[str, float]:
    """rank-1, rank-5 and mAP of each query row's ranking of the gallery columns."""
    r1, r5, aps = [], [], []
    for row, qid in zip(similarity, query_ids):
        right = gallery_ids[np.argsort(-row, kind="stable")] == qid
        if not right.any():
            continue
        hits = np.flatnonzero(right)
        r1.append(right[0])
        r5.append(right[:5].any())
        aps.append(float(np.mean(np.arange(1, len(hits) + 1) / (hits + 1))))
    if not aps:
        raise VigieError("no query has a right match in the gallery: no identity is present in both halves")
    return {"rank1": float(np.mean(r1)), "rank5": float(np.mean(r5)), "map": float(np.mean(aps)), "queries": len(aps)}


def evaluate_variant(features: np.ndarray, frames: np.ndarray, ids: np.ndarray, split: str) -> dict:
    first = split_halves(frames, ids, split)
    second = ~first
    both = np.intersect1d(ids[first], ids[second])
    queries = first & np.isin(ids, both)
    crop = ranking_scores(features[queries] @ features[second].T, ids[queries], ids[second])
    gallery_ids = np.unique(ids[second])
    q = np.stack([pool(features[first & (ids == i)]) for i in both])
    g = np.stack([pool(features[second & (ids == i)]) for i in gallery_ids])
    tracklet = ranking_scores(q @ g.T, both, gallery_ids)
    return {"crop": crop, "tracklet": tracklet}


def adaptation_from_video(video: str | Path, site, camera_id: str, progress: bool = False):
    """Analyse the video with Vigie into a scratch store and train the site adaptation on its tracks,
    as `vigie adapt` would: (adaptation, report)."""
    with tempfile.TemporaryDirectory(prefix="vigie-reid-") as scratch, SQLiteStore(scratch) as store:
        analyse_file(video, camera_id, site, store, progress=progress)
        base = store.newest_crop_base()
        if base is None:
            raise VigieError(f"Vigie found no person with described crops in {video}: nothing to adapt to")
        tracks = store.person_crops(base)
        return train(tracks, base=base) if base == LEGACY_BASE else train_camera_normalisation(tracks, base)


def evaluate_reid(
    video: str | Path,
    gt_path: str | Path,
    site,
    camera_id: str,
    split: str = "sequence",
    same_person: str | Path | None = None,
    progress: Progress | None = None,
    threads: int = 2,
) -> dict:
    start = time.perf_counter()
    gt = read_mot(gt_path)
    if not len(gt):
        raise VigieError(f"{gt_path} has no boxes")
    merge = read_same_person(same_person) if same_person else {}
    frames = gt[:, 0].astype(int)
    ids = np.array([merge.get(int(i), int(i)) for i in gt[:, 1]])
    if progress:
        progress("analysing the video with Vigie to train the site adaptation on its own tracks")
    projection, adapt_report = adaptation_from_video(video, site, camera_id, progress=progress is not None)
    feats = describe_ground_truth(video, gt, threads, progress)
    feats["adapted"] = projection.apply(feats["fusion" if projection.base != LEGACY_BASE else "both"], camera_id)
    names = [
        ("colour", "colour stripes only"),
        ("network", "packaged MobileNetV2 only (global pool)"),
        ("parts", "packaged MobileNetV2 part features only"),
        ("both", "colour + network parts (the wave-1 descriptor)"),
        ("fusion", f"re-ID networks {DEFAULT_BACKEND}"),
        ("adapted", f"the site's descriptor ({projection.base}), site-adapted: the default"),
    ]
    variants = [
        {"name": key, "description": text, **evaluate_variant(feats[key], frames, ids, split)} for key, text in names
    ]
    first = split_halves(frames, ids, split)
    return {
        "video": str(video),
        "gt": str(gt_path),
        "split": split,
        "same_person": str(same_person) if same_person else None,
        "identities_in_both_halves": int(len(np.intersect1d(ids[first], ids[~first]))),
        "crops": int(len(gt)),
        "variants": variants,
        "adaptation": adapt_report.as_dict(),
        "seconds": time.perf_counter() - start,
    }

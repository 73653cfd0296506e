"""Site adaptation: the appearance vectors fitted to the site's own cameras, without identity labels.

Two methods, by the descriptor the stored crops hold:

* trained re-ID networks (the default, vigie.describe.backends): camera normalisation
  (vigie.describe.reid.CameraNormalisation), each camera's mean crop taken away from each
  network's block. It needs only which camera saw each crop; on CUHK03's two cameras it
  lifts rank-1 from 0.859 to 0.885 (docs/BENCHMARKS.md §21).
* the wave-1 hand-made descriptor (stripes+mnv2parts-v1): the XQDA projection below, which
  learns from the tracks what the untrained descriptor cannot tell.

XQDA, for the wave-1 descriptor:

The packaged network was trained on ImageNet objects, not on people, and
colour histograms confuse people in similar clothes. What tells this site's
people apart (its light, its viewpoints, the clothes its people wear) is in
its own footage, and the tracker already says which crops belong together,
with no human labels:

* crops of one track are the same person (positives);
* two tracks seen at the same time on the same camera are certainly two
  different people (negatives). Tracks at other times or on other cameras
  may be the same person, so they are never used as negatives.

The projection is found in closed form, as in XQDA (Liao et al., CVPR 2015):
after a PCA of the crops' base descriptors, the directions that maximise the
spread of negative-pair differences relative to the spread within tracks are
the top eigenvectors of the generalised problem  S_neg w = lambda S_within w.
Projected vectors are compared by cosine. It takes seconds on a CPU for
thousands of crops, needs no GPU and no tuning run, and cannot overfit its
way to a worse metric than the PCA it starts from by more than the
regularisation allows.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

import numpy as np
import scipy.linalg

from vigie.describe.backends.registry import block_dims
from vigie.describe.reid import LEGACY_BASE, CameraNormalisation, Projection
from vigie.errors import VigieError
from vigie.i18n import gettext
from vigie.times import from_iso

PCA_DIM = 200  # at most; never more than half the crops
OUT_DIM = 32
RIDGE = 1e-3  # of the mean within-track variance, added to its diagonal
MIN_TRACKS = 4


class AdaptationError(VigieError):
    """The stored tracks cannot train an adaptation (too few, or no negatives)."""


@dataclass
class AdaptReport:
    name: str
    tracks: int
    crops: int
    negative_pairs: int
    cameras: int
    pca_dim: int
    out_dim: int
    seconds: float
    # Mean cosine of two crops of one track, and of two crops of tracks seen
    # together (certainly different people), before and after: the gap widens.
    same_before: float
    different_before: float
    same_after: float
    different_after: float

    def as_dict(self) -> dict:
        return asdict(self)


def _time(text: str) -> float:
    return from_iso(text).timestamp()


def negative_pairs(tracks: list[dict]) -> list[tuple[int, int]]:
    """Index pairs of tracks on the same camera whose time spans overlap."""
    pairs = []
    by_camera: dict[str, list[int]] = {}
    for i, t in enumerate(tracks):
        by_camera.setdefault(t["camera_id"], []).append(i)
    for members in by_camera.values():
        spans = sorted(((_time(tracks[i]["first_seen"]), _time(tracks[i]["last_seen"]), i) for i in members))
        for a in range(len(spans)):
            start_a, end_a, i = spans[a]
            for b in range(a + 1, len(spans)):
                start_b, _, j = spans[b]
                if start_b > end_a:
                    break
                pairs.append((i, j))
    return pairs


def fit_projection(
    groups: list[np.ndarray],
    negatives: list[tuple[int, int]],
    pca_dim: int = PCA_DIM,
    out_dim: int = OUT_DIM,
    ridge: float = RIDGE,
) -> tuple[np.ndarray, np.ndarray, int]:
    """(mean, matrix D x r, the PCA dimension used) from crops grouped by track and the negative track pairs."""
    X = np.concatenate(groups).astype(np.float64)
    mean = X.mean(axis=0)
    pca_dim = int(min(pca_dim, X.shape[1], max(2, len(X) // 2)))
    _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    P = vt[:pca_dim].T
    Z = [(g - mean) @ P for g in groups]

    within = np.zeros((pca_dim, pca_dim))
    for z in Z:
        d = z - z.mean(axis=0)
        within += d.T @ d
    within /= len(X)
    # Sum over every crop pair (a, b) of two negative tracks of (a-b)(a-b)^T,
    # without forming the pairs.
    between = np.zeros((pca_dim, pca_dim))
    count = 0
    for i, j in negatives:
        A, B = Z[i], Z[j]
        sa, sb = A.sum(axis=0), B.sum(axis=0)
        between += len(B) * A.T @ A + len(A) * B.T @ B - np.outer(sa, sb) - np.outer(sb, sa)
        count += len(A) * len(B)
    between /= max(count, 1)
    within += ridge * np.trace(within) / pca_dim * np.eye(pca_dim)
    _, vecs = scipy.linalg.eigh(between, within)
    W = vecs[:, ::-1][:, : min(out_dim, pca_dim)]
    return mean.astype(np.float32), (P @ W).astype(np.float32), pca_dim


def _mean_cosines(groups: list[np.ndarray], negatives: list[tuple[int, int]]) -> tuple[float, float]:
    same = [float(np.mean((g @ g.T)[np.triu_indices(len(g), 1)])) for g in groups if len(g) > 1]
    diff = [float(np.mean(groups[i] @ groups[j].T)) for i, j in negatives]
    return (float(np.mean(same)) if same else float("nan"), float(np.mean(diff)) if diff else float("nan"))


def train(
    tracks: list[dict], pca_dim: int = PCA_DIM, out_dim: int = OUT_DIM, base: str = LEGACY_BASE
) -> tuple[Projection, AdaptReport]:
    """Learn a projection from tracks ({camera_id, first_seen, last_seen, crops}); nothing is stored."""
    start = time.perf_counter()
    tracks = [t for t in tracks if len(t["crops"]) >= 2]  # a single crop says nothing of a person's variation
    if len(tracks) < MIN_TRACKS:
        raise AdaptationError(
            gettext(
                "site adaptation needs at least {min_tracks} person tracks with 2 or more crops each, the store has {n_tracks}: analyse more footage first (vigie analyze)",
                min_tracks=MIN_TRACKS,
                n_tracks=len(tracks),
            )
        )
    negatives = negative_pairs(tracks)
    if not negatives:
        raise AdaptationError(
            gettext(
                "site adaptation needs people seen at the same time on the same camera (the certain negatives), and no two stored person tracks overlap in time: analyse busier footage"
            )
        )
    groups = [np.asarray(t["crops"], dtype=np.float32) for t in tracks]
    mean, matrix, used_pca = fit_projection(groups, negatives, pca_dim, out_dim)
    digest = hashlib.sha256(mean.tobytes() + matrix.tobytes()).hexdigest()[:8]
    name = f"adapt-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}-{digest}"
    projection = Projection(name, base, mean, matrix)
    projected = [projection.apply(g) for g in groups]
    report = AdaptReport(
        name=name,
        tracks=len(tracks),
        crops=int(sum(len(g) for g in groups)),
        negative_pairs=len(negatives),
        cameras=len({t["camera_id"] for t in tracks}),
        pca_dim=used_pca,
        out_dim=projection.dim,
        seconds=0.0,
        **dict(zip(("same_before", "different_before"), _mean_cosines(groups, negatives))),
        **dict(zip(("same_after", "different_after"), _mean_cosines(projected, negatives))),
    )
    report.seconds = time.perf_counter() - start
    return projection, report


def train_camera_normalisation(tracks: list[dict], base: str) -> tuple[CameraNormalisation, AdaptReport]:
    """Learn each camera's mean crop from the tracks' crops of a trained-network descriptor `base`."""
    start = time.perf_counter()
    if len(tracks) < MIN_TRACKS:
        raise AdaptationError(
            gettext(
                "site adaptation needs at least {min_tracks} person tracks with crops of {base}, the store has {n_tracks}: analyse more footage first (vigie analyze)",
                min_tracks=MIN_TRACKS,
                base=base,
                n_tracks=len(tracks),
            )
        )
    crops = np.concatenate([t["crops"] for t in tracks])
    cameras = [t["camera_id"] for t in tracks for _ in range(len(t["crops"]))]
    digest = hashlib.sha256(crops[:: max(1, len(crops) // 64)].tobytes()).hexdigest()[:8]
    name = (
        f"camnorm-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S.%fZ')}-{digest}"  # two runs a second apart differ
    )
    adaptation = CameraNormalisation.fit(name, base, block_dims(base), crops, cameras)
    groups = [np.asarray(t["crops"], np.float32) for t in tracks]
    adapted = [adaptation.apply(g, t["camera_id"]) for g, t in zip(groups, tracks)]
    negatives = negative_pairs(tracks)
    report = AdaptReport(
        name=name,
        tracks=len(tracks),
        crops=len(crops),
        negative_pairs=len(negatives),
        cameras=len(set(cameras)),
        pca_dim=0,
        out_dim=adaptation.dim,
        seconds=0.0,
        **dict(zip(("same_before", "different_before"), _mean_cosines(groups, negatives))),
        **dict(zip(("same_after", "different_after"), _mean_cosines(adapted, negatives))),
    )
    report.seconds = time.perf_counter() - start
    return adaptation, report


def adapt_store(store, base: str | None = None) -> AdaptReport:
    """Train on every stored person track's crops of `base` (default: the newest crops' descriptor),
    store the adaptation and re-make all their vectors with it."""
    base = base or store.newest_crop_base()
    if base is None:
        raise AdaptationError(
            gettext("the store holds no described person crops yet: analyse more footage first (vigie analyze)")
        )
    tracks = store.person_crops(base)
    if base == LEGACY_BASE:
        projection, report = train(tracks, base=base)
    else:
        projection, report = train_camera_normalisation(tracks, base)
    vectors = [(t["id"], projection.track_vector(t["crops"], t["camera_id"])) for t in tracks]
    # Every track gets the adapted vector, those left out of training too.
    store.save_projection(projection, report.tracks, report.crops, report.as_dict(), vectors)
    return report

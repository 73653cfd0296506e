"""Query expansion: search once, move the query towards what it found, search again.

alpha-query expansion (Radenović, Tolias and Chum, "Fine-tuning CNN image
retrieval with no human annotation", TPAMI 2018; average query expansion when
alpha is 0, Chum et al., ICCV 2007): the query's vector is replaced by the
normalised sum of itself and its k nearest searched vectors, each weighted by
its cosine to the query raised to the power alpha. It needs only the query and
the vectors searched, as the search's index holds them; no label, nothing
learned. Settings are the literature's, not fitted to a data set.

Not used by `similar` today (docs/BENCHMARKS.md §33): on the three real re-ID
sets it lifts mAP everywhere but lowers rank-5 everywhere, and with the
literature's re-ID settings its rank-1 gain is on one set (PETS09, one
person's crops) against small losses on the others. bench/reid_query_expansion.py
measures it.
"""

from __future__ import annotations

import numpy as np

from vigie.describe.embed import l2_normalise


def expanded(query: np.ndarray, neighbours: np.ndarray, cosines: np.ndarray, alpha: float) -> np.ndarray:
    """The query (D,) moved towards its neighbours (k, D), whose cosines to it are `cosines` (k,)."""
    weights = np.clip(np.asarray(cosines, np.float32), 0.0, None) ** alpha
    moved = np.asarray(query, np.float32) + weights @ np.asarray(neighbours, np.float32).reshape(len(weights), -1)
    return l2_normalise(moved[None, :])[0]


def expand_all(queries: np.ndarray, gallery: np.ndarray, k: int, alpha: float) -> np.ndarray:
    """`expanded` for each row of `queries` (n, D), its neighbours its k nearest rows of `gallery` (m, D)."""
    queries = np.asarray(queries, np.float32)
    gallery = np.asarray(gallery, np.float32)
    if k <= 0 or not len(gallery):
        return queries
    k = min(k, len(gallery))
    cos = queries @ gallery.T
    top = np.argpartition(-cos, k - 1, axis=1)[:, :k]
    return np.stack([expanded(q, gallery[t], cos[i, t], alpha) for i, (q, t) in enumerate(zip(queries, top))])

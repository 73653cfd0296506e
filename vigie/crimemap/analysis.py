"""The crime map's area-based analyses: density, hot spots, near-repeat, time pattern, per commune.

Every result is about places and times: grid cells, communes, hours, pairs of
incidents. Nothing here scores, ranks or predicts an individual (EU AI Act,
art. 5(1)(d)). The statistics are the field's libraries': scikit-learn's
kernel density and cross-validation, PySAL (esda's Getis-Ord Gi*, libpysal's
contiguity weights), pointpats' Knox test, scipy's KD-tree and chi-square.
Distances are in metres in a local projection (vigie.crimemap.projection).

Results are JSON-ready dicts (GeoJSON FeatureCollections where they are
maps): plain ints and floats, None where a statistic is undefined.
"""

from __future__ import annotations

import functools
import math
import numbers
import threading
import warnings
from datetime import datetime
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from vigie.crimemap.incidents import CrimeMapError, Incident
from vigie.crimemap.projection import LocalProjection
from vigie.i18n import N_, _, current_language

# Density: cells below this share of the peak are left out of the map (invisible on any colour ramp).
DENSITY_MIN_SHARE = 0.01
# Bandwidth cross-validation runs on at most this many incidents: 2,000 keeps
# 20 bandwidths x 5 folds to about a second, whatever the size of the set.
CV_SAMPLE = 2_000
CV_FOLDS = 5
CV_BANDWIDTHS = 20
# The gaussian kernel sum is evaluated with this relative tolerance
# (scikit-learn's tree bound): a 0.1 % error on a map, for a sevenfold speed-up.
KDE_RTOL = 1e-3

# Hot spots: the study area is the cells within this many cells of a cell holding
# an incident, so that a lake or an empty corner of the bounding box does not
# count as a stretch of "cold" city and inflate every other cell's Gi*.
STUDY_AREA_RING = 2
MAX_GRID_CELLS = 2_000_000  # the bounding-box grid (counting array)
MAX_STUDY_CELLS = 100_000  # cells given to Gi*: about 30 s at 999 permutations on one core
MIN_STUDY_CELLS = 9
FDR_ALPHA = 0.05
GI_CLASSES = ("hot 99%", "hot 95%", "hot 90%", "cold 99%", "cold 95%", "cold 90%", "not significant")

# Near-repeat: above this many incidents, a random subsample is analysed.
# pointpats' Knox keeps every neighbour set in Python sets and permutes in a
# Python loop: 10,000 incidents take a few seconds at 99 permutations. An
# independent thinning keeps the expected observed/expected ratio of every
# band (both scale by the square of the sampling fraction); only the power of
# the p-values drops.
NEAR_REPEAT_MAX_INCIDENTS = 10_000

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
UNKNOWN_COMMUNE = N_("(unknown)")  # a key of the counts: translated where shown


# ---------------------------------------------------------------- density


def density(
    incidents: Iterable[Incident],
    *,
    bandwidth_m: float | None = None,
    cell_m: float | None = None,
    max_cells: int = 10_000,
) -> dict:
    """Gaussian kernel density of the incidents on a square grid, as GeoJSON cells.

    `density` is in expected incidents per km² over the whole period of the
    incidents given (the kernel surface, which integrates to 1, times their
    number). The bandwidth, when not given, is chosen by likelihood
    cross-validation (see _choose_bandwidth). The grid covers the incidents
    plus one bandwidth around them; without `cell_m` its cells are half a
    bandwidth, made larger where that would exceed `max_cells`.
    """
    from sklearn.neighbors import KernelDensity

    items = _incidents(incidents, "density")
    max_cells = _int_in(max_cells, "max_cells", 1, 10_000_000)
    given_cell = None if cell_m is None else _positive(cell_m, "cell_m")
    projection, xy = _project(items)
    if bandwidth_m is None:
        bandwidth, method = _choose_bandwidth(xy)
    else:
        bandwidth, method = _positive(bandwidth_m, "bandwidth_m"), "given"

    lo, hi = xy.min(axis=0) - bandwidth, xy.max(axis=0) + bandwidth
    span = hi - lo
    if given_cell is None:
        cell = math.ceil(max(bandwidth / 2, math.sqrt(span[0] * span[1] / max_cells)))
        while math.prod(_grid_shape(span, cell)) > max_cells:
            cell = math.ceil(cell * 1.05)
    else:
        cell = given_cell
    rows, cols = _grid_shape(span, cell)
    if rows * cols > max_cells:
        raise CrimeMapError(
            _(
                "cell_m={cell_m} makes a {rows} x {cols} grid ({value} cells) over the incidents, more than max_cells={max_cells}: give a larger cell_m or max_cells",
                cell_m=cell_m,
                rows=rows,
                cols=cols,
                value=rows * cols,
                max_cells=max_cells,
            )
        )

    rr, cc = np.divmod(np.arange(rows * cols), cols)
    centres = np.column_stack([lo[0] + (cc + 0.5) * cell, lo[1] + (rr + 0.5) * cell])
    kde = KernelDensity(kernel="gaussian", bandwidth=bandwidth, rtol=KDE_RTOL).fit(xy)
    per_km2 = np.exp(kde.score_samples(centres)) * len(xy) * 1e6
    peak = float(per_km2.max())
    share = per_km2 / peak if peak > 0 else np.zeros_like(per_km2)
    keep = np.flatnonzero(share >= DENSITY_MIN_SHARE)
    rings = _cell_rings(projection, lo, cell, rr[keep], cc[keep])
    features = [
        _feature(ring, {"density": _sig(per_km2[k], 4), "share": _num(share[k], 4)}) for ring, k in zip(rings, keep)
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "bandwidth_m": _num(bandwidth, 1),
        "bandwidth_method": method,
        "cell_m": _num(cell, 1),
        "rows": rows,
        "cols": cols,
        "n": len(items),
        "peak_density": _sig(peak, 4),
        # The descriptions are in the language of the moment: the API's client and the report show them as they are.
        "units": _("expected incidents per km² over the period of the incidents given"),
        "omitted": _("cells under {share} % of the peak density", share=_count(round(DENSITY_MIN_SHARE * 100))),
        "kernel": _("gaussian (scikit-learn KernelDensity, rtol={rtol})", rtol=format(KDE_RTOL, "g")),
        "projection": projection.description,
    }


def _choose_bandwidth(xy: np.ndarray) -> tuple[float, str]:
    """Likelihood cross-validation of the bandwidth, folds grouped by location.

    Grouped folds: published positions are often snapped (Toronto's to the
    nearest intersection), so most incidents share their exact position with
    others; with plain folds, a held-out incident's twin in the training fold
    makes the likelihood grow without bound as the bandwidth shrinks. Holding
    out whole locations asks instead how well the surface predicts incidents
    at places it has not seen. On a subsample of m of n incidents the chosen
    bandwidth is scaled by (m/n)^(1/6), the rate at which the optimal
    bandwidth of a 2-D kernel estimate shrinks with the sample size.
    """
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.neighbors import KernelDensity

    n = len(xy)
    spread = float(np.sqrt(xy.var(axis=0).mean()))
    locations = np.unique(np.round(xy), axis=0, return_inverse=True)[1].ravel()
    n_locations = int(locations.max()) + 1
    if spread == 0:
        return 100.0, _("nominal 100 m (all incidents at one position: nothing to choose a bandwidth from)")
    scott = spread * n ** (-1 / 6)
    if n_locations < 2 * CV_FOLDS:
        return scott, _(
            "Scott's rule, spread x n^(-1/6) ({n_locations} distinct positions are too few for {folds}-fold cross-validation)",
            n_locations=_count(n_locations),
            folds=CV_FOLDS,
        )
    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(n, CV_SAMPLE, replace=False)) if n > CV_SAMPLE else np.arange(n)
    m = len(sample)
    groups = locations[sample]
    if len(np.unique(groups)) < CV_FOLDS:
        return scott, _("Scott's rule, spread x n^(-1/6) (too few distinct positions in the subsample)")
    sample_scott = spread * m ** (-1 / 6)
    candidates = np.geomspace(max(5.0, sample_scott / 30), sample_scott * 2, CV_BANDWIDTHS)
    search = GridSearchCV(
        KernelDensity(kernel="gaussian", rtol=KDE_RTOL), {"bandwidth": candidates}, cv=GroupKFold(CV_FOLDS)
    )
    search.fit(xy[sample], groups=groups)
    best = float(search.best_params_["bandwidth"])
    fields = {
        "folds": CV_FOLDS,
        "bandwidths": CV_BANDWIDTHS,
        "low": format(candidates[0], ".0f"),
        "high": format(candidates[-1], ".0f"),
        "m": _count(m),
        "n": _count(n),
        "best": format(best, ".0f"),
    }
    at_edge = best in (candidates[0], candidates[-1])
    # Whole sentences, one per case, so that a translation may order them its own way.
    if m < n:
        method = (
            _(
                "likelihood cross-validation, {folds}-fold with folds grouped by position (scikit-learn GridSearchCV + GroupKFold, {bandwidths} bandwidths {low}-{high} m, at the edge of the range searched), on a random subsample of {m} of {n} incidents: {best} m, scaled by (m/n)^(1/6) to the whole set",
                **fields,
            )
            if at_edge
            else _(
                "likelihood cross-validation, {folds}-fold with folds grouped by position (scikit-learn GridSearchCV + GroupKFold, {bandwidths} bandwidths {low}-{high} m), on a random subsample of {m} of {n} incidents: {best} m, scaled by (m/n)^(1/6) to the whole set",
                **fields,
            )
        )
        best *= (m / n) ** (1 / 6)
    else:
        method = (
            _(
                "likelihood cross-validation, {folds}-fold with folds grouped by position (scikit-learn GridSearchCV + GroupKFold, {bandwidths} bandwidths {low}-{high} m, at the edge of the range searched)",
                **fields,
            )
            if at_edge
            else _(
                "likelihood cross-validation, {folds}-fold with folds grouped by position (scikit-learn GridSearchCV + GroupKFold, {bandwidths} bandwidths {low}-{high} m)",
                **fields,
            )
        )
    return best, method


# ---------------------------------------------------------------- hot spots


def hotspots(incidents: Iterable[Incident], *, cell_m: float = 250.0, permutations: int = 999, seed: int = 0) -> dict:
    """Getis-Ord Gi* of the incident counts on a square grid (esda.G_Local, star=True).

    The grid starts at the incidents' south-west corner and covers their
    extent. The cells analysed (the study area) are those within
    STUDY_AREA_RING cells of a cell holding an incident; empty cells farther
    away are left out (they are outside the area where incidents happen, e.g.
    a lake). Weights: queen contiguity between the study cells, binary, each
    cell its own neighbour.

    `class` bins the Gi* z-score the way ArcGIS's Hot Spot Analysis does:
    two-sided normal p-value (`p_norm`) at 0.01 / 0.05 / 0.10, hot or cold by
    the sign of z. `p_sim` (esda's conditional permutation) is given too but
    does not decide the class: conditional randomisation holds the cell's own
    count fixed and permutes only its neighbours, so for Gi* it tests the
    neighbours alone. A cluster that falls in one cell then reads "not
    significant" at its centre (its neighbours are ordinary), while empty cells
    far from it read "hot" (a random draw of neighbours seldom includes the
    cluster, so the null distribution is narrow): both seen on synthetic data.
    """
    import esda
    from scipy.ndimage import binary_dilation

    items = _incidents(incidents, "hotspots")
    cell = _positive(cell_m, "cell_m")
    permutations = _int_in(permutations, "permutations", 99, 99_999)
    seed = _int_in(seed, "seed", 0, 2**32 - 1)
    projection, xy = _project(items)
    origin = xy.min(axis=0)
    col = np.floor((xy[:, 0] - origin[0]) / cell).astype(np.int64)
    row = np.floor((xy[:, 1] - origin[1]) / cell).astype(np.int64)
    rows, cols = int(row.max()) + 1, int(col.max()) + 1
    if rows * cols > MAX_GRID_CELLS:
        raise CrimeMapError(
            _(
                "cell_m={cell_m} makes a {rows} x {cols} grid, more than {max_grid_cells:,} cells: give a larger cell_m",
                cell_m=cell_m,
                rows=rows,
                cols=cols,
                max_grid_cells=MAX_GRID_CELLS,
            )
        )
    counts = np.zeros((rows, cols), dtype=np.int64)
    np.add.at(counts, (row, col), 1)

    study = binary_dilation(counts > 0, structure=np.ones((3, 3), bool), iterations=STUDY_AREA_RING)
    cells = np.flatnonzero(study.ravel())  # row-major ids, as libpysal's lat2W numbers them
    if len(cells) < MIN_STUDY_CELLS:
        raise CrimeMapError(
            _(
                "cell_m={cell_m} leaves {n_cells} cells to compare; Gi* needs at least {min_study_cells}: give a smaller cell_m",
                cell_m=cell_m,
                n_cells=len(cells),
                min_study_cells=MIN_STUDY_CELLS,
            )
        )
    if len(cells) > MAX_STUDY_CELLS:
        raise CrimeMapError(
            _(
                "cell_m={cell_m} gives {n_cells:,} cells in the study area, more than {max_study_cells:,}: give a larger cell_m",
                cell_m=cell_m,
                n_cells=len(cells),
                max_study_cells=MAX_STUDY_CELLS,
            )
        )
    weights = _queen_weights(study)
    y = counts.ravel()[cells].astype(float)
    with warnings.catch_warnings():
        # Constant counts (no variance) give NaN statistics, reported as None below.
        warnings.simplefilter("ignore")
        gi = esda.G_Local(
            y, weights, transform="B", permutations=permutations, star=True, seed=seed, keep_simulations=False, n_jobs=1
        )
    z = np.asarray(gi.Zs, dtype=float)
    p_sim = np.asarray(gi.p_sim, dtype=float)
    p = 2 * np.asarray(gi.p_norm, dtype=float)  # esda's p_norm is one-sided
    classes = [_gi_class(zi, pi) for zi, pi in zip(z, p)]
    finite_p = p[np.isfinite(p)]
    fdr_p = float(esda.fdr(finite_p, FDR_ALPHA)) if len(finite_p) else None
    fdr_cells = int((finite_p < fdr_p).sum()) if fdr_p is not None else 0

    rr, cc = np.divmod(cells, cols)
    rings = _cell_rings(projection, origin, cell, rr, cc)
    features = [
        _feature(
            ring,
            {
                "row": int(r),
                "col": int(c),
                "count": int(y[k]),
                "z": _num(z[k], 3),
                "p_norm": _sig(p[k], 3),
                "p_sim": _num(p_sim[k], 4),
                "class": classes[k],
            },
        )
        for k, (ring, r, c) in enumerate(zip(rings, rr, cc))
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "cell_m": _num(cell, 1),
        "permutations": permutations,
        "seed": seed,
        "weights": _(
            "queen contiguity between grid cells (as libpysal lat2W, rook=False, built among the study area), binary, each cell its own neighbour (Gi*: esda.G_Local star=True)"
        ),
        "study_area": _(
            "the {cells} cells within {ring} cells ({metres} m) of a cell holding an incident, of the {grid} cells of the grid over the incidents' extent; empty cells farther away are left out",
            cells=_count(len(cells)),
            ring=STUDY_AREA_RING,
            metres=format(STUDY_AREA_RING * cell, ".0f"),
            grid=_count(rows * cols),
        ),
        "inference": _(
            "class from the Gi* z-score as ArcGIS's Hot Spot Analysis: two-sided normal p-value (p_norm) at 0.01 / 0.05 / 0.10, hot or cold by the sign of z; p_sim (esda conditional permutation, {permutations} permutations) is given for reference",
            permutations=_count(permutations),
        ),
        "classes": {name: classes.count(name) for name in GI_CLASSES},
        "fdr_p": _sig(fdr_p, 3) if fdr_p is not None else None,
        "fdr_cells": fdr_cells,
        "fdr": (
            _(
                "esda.fdr at alpha {alpha}: p_norm below {p} controls the false discovery rate over the {cells} cells; {passed} cells pass",
                alpha=_decimal(FDR_ALPHA, "g"),
                p=_decimal(fdr_p, ".3g"),
                cells=_count(len(finite_p)),
                passed=_count(fdr_cells),
            )
            if fdr_p is not None
            else _("no p-value")
        ),
        "n": len(items),
        "rows": rows,
        "cols": cols,
        "projection": projection.description,
    }


def _gi_class(z: float, p: float) -> str:
    if not (np.isfinite(z) and np.isfinite(p)) or z == 0:
        return "not significant"
    for confidence, alpha in (("99%", 0.01), ("95%", 0.05), ("90%", 0.10)):
        if p <= alpha:
            return f"{'hot' if z > 0 else 'cold'} {confidence}"
    return "not significant"


# ---------------------------------------------------------------- near-repeat


def near_repeat(
    incidents: Iterable[Incident],
    *,
    distance_bands_m: Sequence[float] = (0, 100, 200, 400, 800),
    time_bands_days: Sequence[float] = (0, 7, 14, 28),
    permutations: int = 99,
    seed: int = 0,
) -> dict:
    """Near-repeat analysis: are incidents close in space also close in time, more than by chance?

    `knox`: pointpats' Knox test for the first bands (pairs within the first
    distance edge and the first time edge, both inclusive). `table`: every
    distance band x time band (lower edge exclusive, upper inclusive, the
    first from 0), plus the pairs beyond the last edges, with the observed
    pairs, the expected (mean over permutations of the time labels among the
    incidents: the Near Repeat Calculator's method, Ratcliffe 2009), their
    ratio and a Monte-Carlo p-value (share of permutations with as many pairs
    or more). Time differences are measured from the timestamps, to the second.
    """
    items = _incidents(incidents, "near_repeat")
    d_edges = _band_edges(distance_bands_m, "distance_bands_m")
    t_edges = _band_edges(time_bands_days, "time_bands_days")
    permutations = _int_in(permutations, "permutations", 19, 9_999)
    seed = _int_in(seed, "seed", 0, 2**32 - 1)
    if len(items) < 3:
        raise CrimeMapError(_("near_repeat needs at least 3 incidents, got {n_items}", n_items=len(items)))
    n_given = len(items)
    rng = np.random.default_rng(seed)
    subsample = None
    if n_given > NEAR_REPEAT_MAX_INCIDENTS:
        keep = np.sort(rng.choice(n_given, NEAR_REPEAT_MAX_INCIDENTS, replace=False))
        items = [items[k] for k in keep]
        subsample = _(
            "{n} incidents are more than the {most} analysed at once: a random subsample of {most} (seed {seed}) was analysed; the ratios keep their expected value under such thinning, the counts are those of the subsample",
            n=_count(n_given),
            most=_count(NEAR_REPEAT_MAX_INCIDENTS),
            seed=seed,
        )
    projection, xy = _project(items)
    # Whole seconds, and edges in seconds: differences of integers are exact in
    # floating point, so a pair on an edge falls on the same side in every count.
    seconds = np.round(_utc_seconds(items))
    seconds -= seconds.min()
    t_edges_s = t_edges * 86_400.0

    knox = _knox(xy, seconds, d_edges[1], t_edges_s[1], permutations, seed)
    table = _band_table(xy, seconds, d_edges, t_edges_s, permutations, rng)
    return {
        "knox": knox,
        "table": table,
        "distance_bands_m": [float(e) for e in d_edges],
        "time_bands_days": [float(e) for e in t_edges],
        "permutations": permutations,
        "seed": seed,
        "n": n_given,
        "n_analysed": len(items),
        "subsample": subsample,
        "method": _(
            "Knox test: pointpats.spacetime.Knox. Table: pairs from scipy.spatial.cKDTree, expected = mean over {permutations} permutations of the time labels (Ratcliffe 2009, Near Repeat Calculator)",
            permutations=_count(permutations),
        ),
        "projection": projection.description,
    }


_GLOBAL_RNG = threading.Lock()  # guards NumPy's global generator, which pointpats' Knox draws from


def _knox(xy: np.ndarray, seconds: np.ndarray, delta: float, tau_s: float, permutations: int, seed: int) -> dict:
    from pointpats.spacetime import Knox

    # pointpats permutes with NumPy's global generator: seed it for a repeatable
    # p-value and give the caller's state back afterwards. The web server runs
    # analyses in threads: one at a time here, or two would draw from one seed.
    with _GLOBAL_RNG:
        state = np.random.get_state()
        try:
            np.random.seed(seed)
            test = Knox(xy, seconds[:, None], delta=delta, tau=tau_s, permutations=permutations)
        finally:
            np.random.set_state(state)
    observed, expected = float(test.observed[0, 0]), float(test.expected[0, 0])
    return {
        "delta_m": float(delta),
        "tau_days": float(tau_s / 86_400.0),
        "observed": int(observed),
        "expected": _num(expected, 3),
        "ratio": _num(observed / expected, 3) if expected > 0 else None,
        "p_value": _num(test.p_sim, 4),
        "p_poisson": _num(test.p_poisson, 6),
        "permutations": permutations,
        "pairs_close_in_space": int(test.observed[0].sum()),
        "pairs_close_in_time": int(test.observed[:, 0].sum()),
    }


def _band_table(
    xy: np.ndarray,
    seconds: np.ndarray,
    d_edges: np.ndarray,
    t_edges: np.ndarray,
    permutations: int,
    rng: np.random.Generator,
) -> list[dict]:
    from scipy.spatial import cKDTree

    n_d, n_t = len(d_edges) - 1, len(t_edges)  # time bands plus "beyond the last edge"
    pairs = cKDTree(xy).query_pairs(float(d_edges[-1]), output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    d_band = np.minimum(np.searchsorted(d_edges[1:], np.hypot(*(xy[i] - xy[j]).T), side="left"), n_d - 1)
    base = d_band * n_t

    def counts(t: np.ndarray) -> np.ndarray:
        t_band = np.searchsorted(t_edges[1:], np.abs(t[i] - t[j]), side="left")
        return np.bincount(base + t_band, minlength=n_d * n_t).reshape(n_d, n_t)

    # Every pair's time difference, whatever its distance: a permutation of the
    # time labels does not change this multiset, so the pairs beyond the last
    # distance edge are this minus those within it.
    all_by_time = _pairs_by_time_band(seconds, t_edges)
    observed = counts(seconds)
    observed = np.vstack([observed, all_by_time - observed.sum(axis=0)])
    simulated = np.empty((permutations,) + observed.shape, dtype=np.int64)
    for k in range(permutations):
        within = counts(seconds[rng.permutation(len(seconds))])
        simulated[k] = np.vstack([within, all_by_time - within.sum(axis=0)])
    expected = simulated.mean(axis=0)
    p_value = (1 + (simulated >= observed).sum(axis=0)) / (permutations + 1)

    d_labels = [_band_label(d_edges, k, days=False) for k in range(n_d + 1)]
    t_days = t_edges / 86_400.0
    t_labels = [_band_label(t_days, k, days=True) for k in range(n_t)]
    table = []
    for a in range(n_d + 1):
        for b in range(n_t):
            e = float(expected[a, b])
            table.append(
                {
                    "distance_band": d_labels[a],
                    "time_band": t_labels[b],
                    "distance_m": [float(d_edges[a]), float(d_edges[a + 1]) if a < n_d else None],
                    "time_days": [float(t_days[b]), float(t_days[b + 1]) if b < n_t - 1 else None],
                    "observed": int(observed[a, b]),
                    "expected": _num(e, 3),
                    "ratio": _num(observed[a, b] / e, 3) if e > 0 else None,
                    "p_value": _num(p_value[a, b], 4),
                }
            )
    return table


def _pairs_by_time_band(times: np.ndarray, t_edges: np.ndarray) -> np.ndarray:
    """Number of pairs of incidents in each time band (plus beyond the last edge), all distances."""
    t = np.sort(times)
    n = len(t)
    idx = np.arange(n)
    within = [int((np.searchsorted(t, t + edge, side="right") - idx - 1).sum()) for edge in t_edges[1:]]
    cumulative = np.array(within + [n * (n - 1) // 2], dtype=np.int64)
    return np.diff(cumulative, prepend=0)


def _band_label(edges: np.ndarray, k: int, *, days: bool) -> str:
    if k == len(edges) - 1:
        last = _decimal(edges[-1], "g")
        return _("more than {n} days", n=last) if days else _("more than {n} m", n=last)
    low, high = _decimal(edges[k], "g"), _decimal(edges[k + 1], "g")
    return _("{low}-{high} days", low=low, high=high) if days else _("{low}-{high} m", low=low, high=high)


def _band_edges(edges, name: str) -> np.ndarray:
    try:
        values = np.asarray([float(e) for e in edges], dtype=float)
    except (TypeError, ValueError):
        raise CrimeMapError(
            _("{name} must be a sequence of numbers, got {edges}", name=name, edges=repr(edges))
        ) from None
    if len(values) < 2 or values[0] != 0 or not np.all(np.isfinite(values)) or np.any(np.diff(values) <= 0):
        raise CrimeMapError(
            _(
                "{name} must start at 0 and increase strictly, with at least two edges; got {edges}",
                name=name,
                edges=repr(edges),
            )
        )
    return values


# ---------------------------------------------------------------- time pattern
@functools.cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CrimeMapError(
            _("timezone {timezone} is not an IANA time zone name (e.g. Europe/Paris)", timezone=repr(name))
        ) from None


def time_pattern(incidents: Iterable[Incident], timezone: str) -> dict:
    """Counts by weekday (Monday first) x hour of day, each incident on its own clock, and a uniformity test.

    An incident's own clock is its import's time zone (Toronto's open data in America/Toronto: 18:00
    there is 18:00 in the table, not midnight in Paris); `timezone` (the site's) is the clock of the
    others (alerts, citizen reports, imports from before zones were kept). "timezone" in the answer
    is the one zone of all counted, or the site's with "zones" listing each zone's count.

    The chi-square test (scipy.stats.chisquare) asks whether the 168 hour x
    weekday cells could all have the same expected count.
    """
    from scipy.stats import chisquare

    items = _incidents(incidents, "time_pattern")
    try:
        zone = ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise CrimeMapError(
            _("timezone {timezone} is not an IANA time zone name (e.g. Europe/Paris)", timezone=repr(timezone))
        ) from None
    counts = np.zeros((7, 24), dtype=np.int64)
    zones: dict[str, int] = {}
    for incident in items:
        own = incident.zone or str(timezone)
        local = _aware(incident).astimezone(zone if own == str(timezone) else _zone(own))
        counts[local.weekday(), local.hour] += 1
        zones[own] = zones.get(own, 0) + 1
    if len(zones) == 1:
        timezone = next(iter(zones))
    test = chisquare(counts.ravel())
    n = len(items)
    peak_day, peak_hour = np.unravel_index(int(counts.argmax()), counts.shape)
    return {
        "timezone": str(timezone),
        "zones": dict(sorted(zones.items())),
        "weekdays": list(WEEKDAYS),
        "counts": counts.tolist(),
        "by_hour": counts.sum(axis=0).tolist(),
        "by_weekday": counts.sum(axis=1).tolist(),
        "peak": {"weekday": WEEKDAYS[int(peak_day)], "hour": int(peak_hour), "count": int(counts.max())},
        "n": n,
        "chi_square": {
            "test": _("uniformity of the 7 x 24 weekday-hour counts (scipy.stats.chisquare)"),
            "statistic": _num(test.statistic, 3),
            "dof": 7 * 24 - 1,
            "p_value": _num(test.pvalue, 6),
            "note": (
                _("fewer than 5 incidents expected per cell: the chi-square approximation is rough")
                if n / 168 < 5
                else None
            ),
        },
    }


# ---------------------------------------------------------------- per commune


def by_commune(incidents: Iterable[Incident], communes: dict | None = None, name_property: str = "name") -> dict:
    """Incident counts per commune, as GeoJSON.

    With `communes` (a FeatureCollection of Polygons/MultiPolygons named by
    `name_property`): each commune's polygon with its `count`. An incident
    goes to the commune its `commune` field names (compared without case or
    surrounding spaces); when that is blank or names no polygon, to the
    polygon that contains its position (shapely). Without polygons: one Point
    per commune name at the mean position of its incidents. Incidents left
    without a commune are counted only in the top-level `unassigned`.
    """
    items = _incidents(incidents, "by_commune")
    if communes is None:
        return _commune_points(items)
    return _commune_polygons(items, communes, name_property)


def _commune_points(items: list[Incident]) -> dict:
    lons, lats = _lonlat(items)
    groups: dict[str, list[int]] = {}
    for k, incident in enumerate(items):
        name = incident.commune.strip()
        groups.setdefault(name or UNKNOWN_COMMUNE, []).append(k)
    unassigned = len(groups.pop(UNKNOWN_COMMUNE, []))
    features = []
    for name, group in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lon, lat = float(lons[group].mean()), float(lats[group].mean())
        point = {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}
        features.append({"type": "Feature", "geometry": point, "properties": {"name": name, "count": len(group)}})
    return {
        "type": "FeatureCollection",
        "features": features,
        "unassigned": unassigned,
        "n": len(items),
        "name_property": "name",
        "assignment": _("by the incidents' commune field; each point at the mean position of its incidents"),
    }


def _commune_polygons(items: list[Incident], communes: dict, name_property: str) -> dict:
    import shapely
    from shapely.geometry import shape

    if (
        not isinstance(communes, dict)
        or communes.get("type") != "FeatureCollection"
        or not isinstance(communes.get("features"), list)
    ):
        raise CrimeMapError(_("communes must be a GeoJSON FeatureCollection with a list of features"))
    names, geometries, by_key = [], [], {}
    for k, feature in enumerate(communes["features"]):
        geometry = (feature or {}).get("geometry") or {}
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            raise CrimeMapError(
                _(
                    "communes feature {k}: geometry must be a Polygon or MultiPolygon, got {value}",
                    k=k,
                    value=repr(geometry.get("type")),
                )
            )
        name = (feature.get("properties") or {}).get(name_property)
        if not isinstance(name, str) or not name.strip():
            raise CrimeMapError(
                _(
                    "communes feature {k} has no {name_property} property (name_property)",
                    k=k,
                    name_property=repr(name_property),
                )
            )
        key = name.strip().casefold()
        if key in by_key:
            raise CrimeMapError(
                _("communes: features {value} and {k} are both named {name}", value=by_key[key], k=k, name=repr(name))
            )
        try:
            polygon = shape(geometry)
        except Exception as exc:  # shapely raises several types for malformed coordinates
            raise CrimeMapError(
                _("communes feature {k} ({name}): unreadable geometry: {exc}", k=k, name=repr(name), exc=exc)
            ) from None
        shapely.prepare(polygon)
        by_key[key] = k
        names.append(name)
        geometries.append(polygon)

    counts = np.zeros(len(names), dtype=np.int64)
    located: list[int] = []
    unmatched_names: set[str] = set()
    for idx, incident in enumerate(items):
        key = incident.commune.strip().casefold()
        if key in by_key:
            counts[by_key[key]] += 1
        else:
            located.append(idx)
            if key:
                unmatched_names.add(incident.commune.strip())
    unassigned = 0
    if located:
        lons, lats = _lonlat(items)
        lon, lat = lons[located], lats[located]
        free = np.ones(len(located), dtype=bool)
        for c, polygon in enumerate(geometries):
            inside = free & shapely.contains_xy(polygon, lon, lat)
            counts[c] += int(inside.sum())
            free &= ~inside
        unassigned = int(free.sum())

    features = []
    for c, feature in enumerate(communes["features"]):
        properties = dict(feature.get("properties") or {})
        properties["count"] = int(counts[c])
        features.append({"type": "Feature", "geometry": feature["geometry"], "properties": properties})
    return {
        "type": "FeatureCollection",
        "features": features,
        "unassigned": unassigned,
        "n": len(items),
        "name_property": name_property,
        "unmatched_names": sorted(unmatched_names),
        "assignment": _(
            "by the incidents' commune field (matched to the polygons' {name_property} without case); when blank or unmatched, by point in polygon (shapely)",
            name_property=repr(name_property),
        ),
    }


def _queen_weights(study: np.ndarray):
    """Queen contiguity between the study cells (True in `study`), ids row-major as libpysal's lat2W numbers
    them; binary. Built among the study cells only: lat2W over the whole bounding grid is pure Python and,
    for a fine grid over a sprawling city, seconds and gigabytes before most of it is cut away."""
    import libpysal  # slow to import: only when hot spots are asked for

    rows, cols = study.shape
    ids = np.flatnonzero(study.ravel())
    r, c = np.divmod(ids, cols)
    neighbours: dict[int, list[int]] = {int(i): [] for i in ids}
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if dr == dc == 0:
                continue
            rr, cc = r + dr, c + dc
            ok = (rr >= 0) & (rr < rows) & (cc >= 0) & (cc < cols)
            ok[ok] = study[rr[ok], cc[ok]]
            for a, b in zip(ids[ok].tolist(), (rr[ok] * cols + cc[ok]).tolist()):
                neighbours[a].append(b)
    return libpysal.weights.W(neighbours, id_order=ids.tolist(), silence_warnings=True)


# ---------------------------------------------------------------- shared helpers


def _incidents(incidents, what: str) -> list[Incident]:
    items = list(incidents) if incidents is not None else []
    if not items:
        raise CrimeMapError(_("{what}: no incidents to analyse", what=what))
    for k, incident in enumerate(items):
        if not isinstance(incident, Incident):
            raise CrimeMapError(
                _("{what}: item {k} is a {name}, not an Incident", what=what, k=k, name=type(incident).__name__)
            )
    return items


def _lonlat(items: list[Incident]) -> tuple[np.ndarray, np.ndarray]:
    try:
        lats = np.array([i.lat for i in items], dtype=float)
        lons = np.array([i.lon for i in items], dtype=float)
    except (TypeError, ValueError):
        raise CrimeMapError(_("an incident's lat or lon is not a number")) from None
    bad = ~(np.isfinite(lats) & np.isfinite(lons) & (np.abs(lats) <= 90) & (np.abs(lons) <= 180))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise CrimeMapError(
            _(
                "incident {id}: lat {lat}, lon {lon} is not a position",
                id=repr(items[k].id),
                lat=repr(items[k].lat),
                lon=repr(items[k].lon),
            )
        )
    return lons, lats


def _project(items: list[Incident]) -> tuple[LocalProjection, np.ndarray]:
    lons, lats = _lonlat(items)
    projection = LocalProjection.around(lats, lons)
    x, y = projection.to_metres(lons, lats)
    return projection, np.column_stack([x, y])


def _aware(incident: Incident) -> datetime:
    at = incident.occurred_at
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise CrimeMapError(
            _(
                "incident {id}: occurred_at must be a timezone-aware datetime, got {at}",
                id=repr(incident.id),
                at=repr(at),
            )
        )
    return at


def _utc_seconds(items: list[Incident]) -> np.ndarray:
    return np.array([_aware(i).timestamp() for i in items], dtype=float)


def _grid_shape(span: np.ndarray, cell: float) -> tuple[int, int]:
    return max(1, math.ceil(span[1] / cell)), max(1, math.ceil(span[0] / cell))


def _cell_rings(
    projection: LocalProjection, origin: np.ndarray, cell: float, rows: np.ndarray, cols: np.ndarray
) -> list[list[list[float]]]:
    """Closed lon/lat rings of grid cells (counter-clockwise, as RFC 7946 asks of exterior rings)."""
    x0 = origin[0] + np.asarray(cols, dtype=float) * cell
    y0 = origin[1] + np.asarray(rows, dtype=float) * cell
    xs = np.stack([x0, x0 + cell, x0 + cell, x0, x0], axis=1)
    ys = np.stack([y0, y0, y0 + cell, y0 + cell, y0], axis=1)
    lon, lat = projection.to_lonlat(xs.ravel(), ys.ravel())
    lon = np.round(lon, 7).reshape(xs.shape)
    lat = np.round(lat, 7).reshape(xs.shape)
    return [[[float(a), float(b)] for a, b in zip(lon_row, lat_row)] for lon_row, lat_row in zip(lon, lat)]


def _feature(ring: list, properties: dict) -> dict:
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": properties}


def _num(value, digits: int) -> float | None:
    if value is None:
        return None
    value = float(value)
    return round(value, digits) if math.isfinite(value) else None


def _count(n: int) -> str:
    """A count with the language's thousands separator (1,234 or 1\u202f234)."""
    from babel.numbers import format_decimal

    return format_decimal(int(n), locale=current_language())


def _decimal(value: float, spec: str) -> str:
    """A number formatted by `spec`, with the language's decimal mark (a comma in French)."""
    text = format(value, spec)
    return text.replace(".", ",") if current_language() == "fr" else text


def _sig(value, digits: int) -> float | None:
    """Rounded to significant digits: densities range over orders of magnitude."""
    value = float(value)
    return float(f"{value:.{digits}g}") if math.isfinite(value) else None


def _positive(value, name: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
        or float(value) <= 0
    ):
        raise CrimeMapError(_("{name} must be a positive number, got {value}", name=name, value=repr(value)))
    return float(value)


def _int_in(value, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not lo <= int(value) <= hi:
        raise CrimeMapError(
            _(
                "{name} must be a whole number from {lo:,} to {hi:,}, got {value}",
                name=name,
                lo=lo,
                hi=hi,
                value=repr(value),
            )
        )
    return int(value)

"""Query expansion (vigie.search.expansion) on a tiny built set whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from vigie.search.expansion import expand_all, expanded


def _at(*degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    return np.stack([np.cos(a), np.sin(a)], axis=1).astype(np.float32)


def test_expansion_towards_the_nearest_reorders_the_rest():
    # The query at 0 degrees; its nearest at 20; B at 45 (near the nearest), C at -40.
    # Alone the query ranks C (40 degrees off) before B (45); moved halfway to its
    # nearest (average expansion, k=1) it sits at 10 degrees: B is then 35 off, C 50.
    query = _at(0.0)
    gallery = _at(20.0, 45.0, -40.0)
    assert list(np.argsort(-(query @ gallery.T)[0])) == [0, 2, 1]
    moved = expand_all(query, gallery, k=1, alpha=0.0)
    assert np.degrees(np.arctan2(moved[0, 1], moved[0, 0])) == pytest.approx(10.0, abs=1e-3)
    assert list(np.argsort(-(moved @ gallery.T)[0])) == [0, 1, 2]


def test_alpha_weights_by_the_cosine_to_the_power_alpha():
    query = _at(0.0)[0]
    neighbours = _at(30.0, 60.0)
    cosines = neighbours @ query
    got = expanded(query, neighbours, cosines, alpha=3.0)
    want = query + cosines[0] ** 3 * neighbours[0] + cosines[1] ** 3 * neighbours[1]
    assert got == pytest.approx(want / np.linalg.norm(want), abs=1e-6)
    assert np.linalg.norm(got) == pytest.approx(1.0, abs=1e-6)


def test_a_dissimilar_neighbour_adds_nothing_and_k_zero_changes_nothing():
    query = _at(0.0)
    # A neighbour pointing away (cosine below 0) gets no weight: the query stays where it was.
    assert expand_all(query, _at(150.0), k=1, alpha=3.0) == pytest.approx(query, abs=1e-6)
    assert expand_all(query, _at(20.0, 45.0), k=0, alpha=0.0) == pytest.approx(query)

import numpy as np
import pytest

from vigie.track.matching import assign, iou_matrix


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ([0, 0, 10, 10], [0, 0, 10, 10], 1.0),
        ([0, 0, 10, 10], [20, 20, 30, 30], 0.0),
        ([0, 0, 10, 10], [10, 0, 20, 10], 0.0),  # touching edges share no area
        ([0, 0, 10, 10], [5, 0, 15, 10], 1 / 3),  # half of each: 50 / (100 + 100 - 50)
        ([0, 0, 10, 10], [0, 0, 5, 10], 0.5),  # one box is half of the other
        ([0, 0, 20, 20], [5, 5, 15, 15], 0.25),  # contained
        ([0, 0, 10, 10], [5, 5, 15, 15], 25 / 175),  # quarter corner overlap
    ],
    ids=["identical", "disjoint", "touching", "half overlap", "half contained", "contained", "corner"],
)
def test_iou_of_known_pairs(a, b, expected):
    got = iou_matrix(np.array([a]), np.array([b]))
    assert got.shape == (1, 1)
    assert got[0, 0] == pytest.approx(expected)
    # symmetric
    assert iou_matrix(np.array([b]), np.array([a]))[0, 0] == pytest.approx(expected)


def test_iou_matrix_is_every_pair_n_by_m():
    a = np.array([[0, 0, 10, 10], [100, 100, 110, 110]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [100, 100, 110, 110]])
    got = iou_matrix(a, b)
    np.testing.assert_allclose(got, [[1.0, 1 / 3, 0.0], [0.0, 0.0, 1.0]])


@pytest.mark.parametrize("n, m", [(0, 3), (2, 0), (0, 0)])
def test_iou_matrix_with_no_boxes_has_the_right_empty_shape(n, m):
    assert iou_matrix(np.zeros((n, 4)), np.zeros((m, 4))).shape == (n, m)


@pytest.mark.parametrize(
    "cost, max_cost, matches, rows, cols",
    [
        ([[0.1, 0.9], [0.8, 0.2]], 0.5, [(0, 0), (1, 1)], [], []),
        ([[0.6]], 0.5, [], [0], [0]),
        ([[0.5]], 0.5, [(0, 0)], [], []),  # at the limit is allowed
        ([[0.1, np.inf], [np.inf, np.inf]], 0.5, [(0, 0)], [1], [1]),
        # row 1 can only take column 0, so row 0 must give it up for column 1
        ([[0.1, 0.2], [0.3, np.inf]], 0.5, [(0, 1), (1, 0)], [], []),
        ([[0.4], [0.1], [0.3]], 0.5, [(1, 0)], [0, 2], []),
        ([[0.9, 0.2, 0.7]], 0.5, [(0, 1)], [], [0, 2]),
        (np.zeros((0, 3)), 0.5, [], [], [0, 1, 2]),
        (np.zeros((2, 0)), 0.5, [], [0, 1], []),
    ],
    ids=[
        "diagonal",
        "above max",
        "at max",
        "inf forbidden",
        "forbidden pair avoided",
        "more rows",
        "more cols",
        "no rows",
        "no cols",
    ],
)
def test_assign_refuses_pairs_above_max_cost_and_reports_unmatched(cost, max_cost, matches, rows, cols):
    got_matches, got_rows, got_cols = assign(np.array(cost, dtype=float), max_cost)
    assert sorted((int(r), int(c)) for r, c in got_matches) == matches
    assert got_rows == rows
    assert got_cols == cols

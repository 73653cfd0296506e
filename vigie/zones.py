"""Zone geometry in image pixels: polygons, and the GRID x GRID cells that index where tracks went.

Each stored track keeps a 64-bit mask of the cells its foot points fell in
(`tracks.cells`), so that a zone query reads the cells a polygon touches before
it checks any point. The store writes the mask; search reads it.
"""

from __future__ import annotations

import numpy as np

GRID = 8  # the cells mask is GRID x GRID over the image


def polygon_area(polygon: np.ndarray) -> float:
    x, y = polygon[:, 0], polygon[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even-odd rule (ray casting to +x) for (M, 2) points against one (P, 2) polygon."""
    points = np.asarray(points, float).reshape(-1, 2)
    polygon = np.asarray(polygon, float)
    px, py = points[:, :1], points[:, 1:]
    x0, y0 = polygon[:, 0], polygon[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    straddles = (y0 > py) != (y1 > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        cross_x = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
    return ((straddles & (px < cross_x)).sum(axis=1) % 2).astype(bool)


def cell_of(points: np.ndarray, width: float, height: float) -> np.ndarray:
    """Cell index 8*row + col of each (x, y) point; points outside the frame fall in the edge cells."""
    points = np.asarray(points, float).reshape(-1, 2)
    col = np.clip(np.floor(points[:, 0] * GRID / width), 0, GRID - 1).astype(np.int64)
    row = np.clip(np.floor(points[:, 1] * GRID / height), 0, GRID - 1).astype(np.int64)
    return row * GRID + col


def cells_of_points(points: np.ndarray, width: float, height: float) -> int:
    """The `tracks.cells` value for a track's foot points: bit 8*row+col set where a point fell (as signed 64-bit)."""
    mask = 0
    for cell in np.unique(cell_of(points, width, height)):
        mask |= 1 << int(cell)
    return mask - (1 << 64) if mask >= 1 << 63 else mask


def polygon_cells(polygon: np.ndarray, width: float, height: float) -> tuple[int, int]:
    """(touched, covered): bitmasks of the cells the polygon touches at all, and of those wholly inside it.

    A track with a foot point in a covered cell is in the zone for certain; one
    that only visited touched cells needs its points checked; one that visited
    neither is out. Edge cells extend to infinity, as cell_of puts outside
    points there. A cell is touched if an edge of the polygon meets it
    (Liang-Barsky clipping) or its centre is inside; covered if its centre is
    inside and no edge meets it.
    """
    polygon = np.asarray(polygon, float)
    k = np.arange(GRID)
    xs = np.r_[-np.inf, k[1:] * width / GRID, np.inf]
    ys = np.r_[-np.inf, k[1:] * height / GRID, np.inf]
    row, col = np.divmod(np.arange(GRID * GRID), GRID)
    rx0, rx1, ry0, ry1 = xs[col][:, None], xs[col + 1][:, None], ys[row][:, None], ys[row + 1][:, None]
    ax, ay = polygon[:, 0], polygon[:, 1]
    dx, dy = np.roll(ax, -1) - ax, np.roll(ay, -1) - ay
    t0 = np.zeros((GRID * GRID, len(polygon)))
    t1 = np.ones_like(t0)
    hit = np.ones_like(t0, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for p, q in ((-dx, ax - rx0), (dx, rx1 - ax), (-dy, ay - ry0), (dy, ry1 - ay)):
            p = np.broadcast_to(p, t0.shape)
            t = q / p
            hit &= ~((p == 0) & (q < 0))
            t0 = np.where(p < 0, np.maximum(t0, t), t0)
            t1 = np.where(p > 0, np.minimum(t1, t), t1)
    edge_meets = (hit & (t0 <= t1)).any(axis=1)
    centres = np.c_[(col + 0.5) * width / GRID, (row + 0.5) * height / GRID]
    centre_in = points_in_polygon(centres, polygon)
    return _bits(edge_meets | centre_in), _bits(centre_in & ~edge_meets)


def _bits(flags: np.ndarray) -> int:
    return sum(1 << int(i) for i in np.flatnonzero(flags))

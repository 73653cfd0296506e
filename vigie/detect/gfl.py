"""Generalised Focal Loss box decoding, shared by NanoDet and PP-PicoDet.

Each side of a box (left, top, right, bottom) is predicted as a distribution over
`bins` distances: a softmax over the bins, and the expected bin times the level's
stride is that side's distance from the cell's centre.
"""

from __future__ import annotations

import numpy as np


def gfl_boxes(reg: np.ndarray, keep: np.ndarray, grid_w: int, stride: int, bins: int, centre: float) -> np.ndarray:
    """(K, 4) x1, y1, x2, y2 in network pixels for the kept cells of one level.

    reg: the level's regression, (cells, 4 * bins), cells row-major over a grid `grid_w` wide;
    keep: indices of the cells kept; centre: where a cell's centre lies from its corner, in
    pixels (NanoDet: stride / 2; PaddleDetection: (stride - 1) / 2)."""
    logits = reg[keep].reshape(-1, 4, bins)
    prob = np.exp(logits - logits.max(axis=2, keepdims=True))
    prob /= prob.sum(axis=2, keepdims=True)
    dist = (prob @ np.arange(bins, dtype=np.float32)) * stride
    cx = (keep % grid_w) * stride + centre
    cy = (keep // grid_w) * stride + centre
    return np.stack([cx - dist[:, 0], cy - dist[:, 1], cx + dist[:, 2], cy + dist[:, 3]], axis=1)

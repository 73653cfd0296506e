"""Tiled detection: overlapping tiles plus the full frame, merged without duplicates.

A detector sees its input at a fixed size (416 or 608 px), so a 30 px person
in a 1920 px frame shrinks to 7 px and vanishes. Cutting the frame into
overlapping tiles gives each tile the detector's whole input (SAHI, Akyon et
al. 2022). Two problems follow, handled in `merge`:

* the same object is found several times (in the full frame and in one or
  more tiles): boxes of a class whose intersection covers most of the smaller
  box are one object;
* a tile border cuts an object: its piece inside the tile is a truncated box.
  A whole view (from the full frame, or from a tile that holds all of it
  thanks to the overlap) is preferred to pieces; where only pieces exist
  (the object is larger than the overlap and the full frame missed it),
  their union is the object.
"""
from __future__ import annotations

import numpy as np

from vigie.config import TilingConfig
from vigie.detect.base import Detector
from vigie.track.matching import iou_matrix
from vigie.types import Detections

_EDGE_PX = 2.0  # a box within this many pixels of a tile's inner border was cut by it


def tile_grid(width: int, height: int, rows: int, cols: int, overlap: float) -> list[tuple[int, int, int, int]]:
    """Tiles (x1, y1, x2, y2) covering the frame, neighbours sharing `overlap` of a tile."""
    def spans(size: int, n: int) -> list[tuple[int, int]]:
        if n == 1:
            return [(0, size)]
        # n tiles of length L with overlap o*L cover: L * (n - (n-1) o) = size
        length = size / (n - (n - 1) * overlap)
        step = length * (1 - overlap)
        return [(int(round(i * step)), min(size, int(round(i * step + length)))) for i in range(n)]

    return [(x1, y1, x2, y2) for y1, y2 in spans(height, rows) for x1, x2 in spans(width, cols)]


def _ios(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over the smaller area, for every pair of rows of a and b."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    return inter / np.maximum(np.minimum(area_a[:, None], area_b[None, :]), 1e-9)


def _extent_iou(a: np.ndarray, b: np.ndarray, axis: int) -> np.ndarray:
    """1-D IoU of the boxes' extents along x (axis 0) or y (axis 1)."""
    lo = np.maximum(a[:, None, axis], b[None, :, axis])
    hi = np.minimum(a[:, None, axis + 2], b[None, :, axis + 2])
    inter = np.clip(hi - lo, 0, None)
    union = (a[:, None, axis + 2] - a[:, None, axis]) + (b[None, :, axis + 2] - b[None, :, axis]) - inter
    return inter / np.maximum(union, 1e-9)


def same_object(xyxy: np.ndarray, truncated: np.ndarray, merge_ios: float, nms_iou: float = 0.5) -> np.ndarray:
    """Pairs of boxes that show the same object.

    Two whole views are the same object when they overlap as NMS would say
    (IoU): in a group, one person standing half in front of another has most
    of their box inside the other's, so "inside" cannot be the test there.
    A piece cut by a border is the same object as a box it lies mostly
    inside (intersection over the smaller box); and two pieces are one
    object when they touch across the overlap strip and line up along the
    border (same extent along it).
    """
    ios = _ios(xyxy, xyxy)
    iou = iou_matrix(xyxy, xyxy)
    either_cut = truncated[:, None] | truncated[None, :]
    pieces = truncated[:, None] & truncated[None, :] & (ios > 0)
    aligned = np.maximum(_extent_iou(xyxy, xyxy, 0), _extent_iou(xyxy, xyxy, 1)) >= 0.5
    return (iou >= nms_iou) | (either_cut & (ios >= merge_ios)) | (pieces & aligned)


def merge(dets: Detections, truncated: np.ndarray, merge_ios: float) -> Detections:
    """Greedy grouping by score; each group becomes one box (see module doc)."""
    if len(dets) == 0:
        return dets
    order = np.argsort(-dets.confidence, kind="stable")
    ios = same_object(dets.xyxy, truncated, merge_ios)
    used = np.zeros(len(dets), bool)
    boxes, scores, classes = [], [], []
    for i in order:
        if used[i]:
            continue
        # The group is everything linked to the seed through same-object pairs
        # (pieces cut by two borders link through each other).
        group, frontier = [i], [i]
        used[i] = True
        while frontier:
            j = frontier.pop()
            for k in order:
                if not used[k] and dets.class_id[k] == dets.class_id[i] and ios[j, k]:
                    used[k] = True
                    group.append(k)
                    frontier.append(k)
        used[group] = True
        whole = [j for j in group if not truncated[j]]
        if whole:
            best = max(whole, key=lambda j: dets.confidence[j])
            boxes.append(dets.xyxy[best])
        else:
            g = dets.xyxy[group]
            boxes.append(np.r_[g[:, :2].min(axis=0), g[:, 2:].max(axis=0)])
        scores.append(dets.confidence[group].max())
        classes.append(dets.class_id[i])
    return Detections(np.array(boxes), np.array(scores), np.array(classes))


class TiledDetector:
    """Wraps any Detector: runs it on each tile (and the full frame), merges."""

    def __init__(self, inner: Detector, config: TilingConfig) -> None:
        self.inner = inner
        self.config = config

    def detect(self, image: np.ndarray) -> Detections:
        h, w = image.shape[:2]
        parts: list[Detections] = []
        cut: list[np.ndarray] = []
        if self.config.full_frame:
            full = self.inner.detect(image)
            parts.append(full)
            cut.append(np.zeros(len(full), bool))
        for x1, y1, x2, y2 in tile_grid(w, h, self.config.rows, self.config.cols, self.config.overlap):
            found = self.inner.detect(np.ascontiguousarray(image[y1:y2, x1:x2]))
            if not len(found):
                continue
            b = found.xyxy
            # A border cuts a box only where the tile border is inside the frame.
            touches = (
                ((b[:, 0] <= _EDGE_PX) & (x1 > 0))
                | ((b[:, 1] <= _EDGE_PX) & (y1 > 0))
                | ((b[:, 2] >= (x2 - x1) - 1 - _EDGE_PX) & (x2 < w))
                | ((b[:, 3] >= (y2 - y1) - 1 - _EDGE_PX) & (y2 < h))
            )
            parts.append(Detections(b + np.array([x1, y1, x1, y1], np.float32), found.confidence, found.class_id))
            cut.append(touches)
        if not parts:
            return Detections.empty()
        return merge(Detections.concat(parts), np.concatenate(cut), self.config.merge_ios)

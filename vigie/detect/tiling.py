"""Tiled detection: overlapping tiles plus the full frame, merged without duplicates.

A detector sees its input at a fixed size (416 or 608 px), so a 30 px person
in a 1920 px frame shrinks to 7 px and vanishes. Cutting the frame into
overlapping tiles gives each tile the detector's whole input (SAHI, Akyon et
al. 2022). Two problems follow, handled in `merge`:

* the same object is found several times (in the full frame and in one or
  more tiles): whole views of it overlap as NMS understands it (IoU; not
  "one inside the other", which two people in a group also are);
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


def _nms(xyxy: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou_threshold: float) -> list[int]:
    """Indices kept by greedy per-class NMS, best score first."""
    iou = iou_matrix(xyxy, xyxy)
    kept: list[int] = []
    for i in np.argsort(-scores, kind="stable"):
        if all(classes[k] != classes[i] or iou[i, k] < iou_threshold for k in kept):
            kept.append(int(i))
    return kept


def _join_pieces(xyxy: np.ndarray, classes: np.ndarray) -> list[list[int]]:
    """Groups of pieces that are one object: same class, touching across the
    overlap strip, lined up along the border (same extent along it). Linked
    transitively, as a person cut by both a vertical and a horizontal border
    comes in four pieces."""
    ios = _ios(xyxy, xyxy)
    aligned = np.maximum(_extent_iou(xyxy, xyxy, 0), _extent_iou(xyxy, xyxy, 1)) >= 0.5
    linked = (ios > 0) & aligned & (classes[:, None] == classes[None, :])
    groups, seen = [], np.zeros(len(xyxy), bool)
    for i in range(len(xyxy)):
        if seen[i]:
            continue
        group, frontier = [i], [i]
        seen[i] = True
        while frontier:
            j = frontier.pop()
            for k in np.flatnonzero(linked[j] & ~seen):
                seen[k] = True
                group.append(int(k))
                frontier.append(int(k))
        groups.append(group)
    return groups


def merge(dets: Detections, truncated: np.ndarray, merge_ios: float, nms_iou: float = 0.5) -> Detections:
    """One box per object (see module doc), in three steps.

    1. Whole views (not cut by a tile border) go through ordinary NMS: in a
       group of people one stands half in front of another, so only IoU, not
       "inside", can say two whole boxes are the same person.
    2. A piece that lies mostly inside a kept whole view is part of it.
    3. The other pieces are joined (pieces of one object cut by borders) into
       their union, kept unless a whole view already covers it.
    """
    if len(dets) == 0:
        return dets
    whole = np.flatnonzero(~truncated)
    pieces = np.flatnonzero(truncated)
    kept = [int(whole[k]) for k in _nms(dets.xyxy[whole], dets.confidence[whole], dets.class_id[whole], nms_iou)]
    boxes = [dets.xyxy[k] for k in kept]
    scores = [float(dets.confidence[k]) for k in kept]
    classes = [int(dets.class_id[k]) for k in kept]
    if len(pieces):
        kept_xyxy = dets.xyxy[kept].reshape(-1, 4)
        kept_cls = dets.class_id[kept]
        inside = (
            (_ios(dets.xyxy[pieces], kept_xyxy) >= merge_ios) & (dets.class_id[pieces][:, None] == kept_cls[None, :])
            if kept
            else np.zeros((len(pieces), 0), bool)
        )
        loose = pieces[~inside.any(axis=1)] if inside.size else pieces
        joined = []
        for group in _join_pieces(dets.xyxy[loose], dets.class_id[loose]):
            g = dets.xyxy[loose[group]]
            joined.append(
                (
                    np.r_[g[:, :2].min(axis=0), g[:, 2:].max(axis=0)],
                    float(dets.confidence[loose[group]].max()),
                    int(dets.class_id[loose[group[0]]]),
                )
            )
        if joined:
            jx = np.array([j[0] for j in joined])
            js = np.array([j[1] for j in joined])
            jc = np.array([j[2] for j in joined])
            for k in _nms(jx, js, jc, nms_iou):
                covered = len(kept) and (iou_matrix(jx[k : k + 1], kept_xyxy)[0][kept_cls == jc[k]] >= nms_iou).any()
                if not covered:
                    boxes.append(jx[k])
                    scores.append(js[k])
                    classes.append(jc[k])
    return Detections(np.array(boxes).reshape(-1, 4), np.array(scores), np.array(classes))


class TiledDetector:
    """Wraps any Detector: runs it on each tile (and the full frame), merges."""

    def __init__(self, inner: Detector, config: TilingConfig) -> None:
        self.inner = inner
        self.config = config
        # Merge whole views as the inner detector's own NMS would.
        self.nms_iou = float(getattr(getattr(inner, "config", None), "nms_iou", 0.5))

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
        return merge(Detections.concat(parts), np.concatenate(cut), self.config.merge_ios, self.nms_iou)

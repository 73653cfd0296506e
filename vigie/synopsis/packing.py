"""The packing step of video synopsis: where each tube goes in the synopsis's time.

Pritch, Rav-Acha and Peleg, "Nonchronological Video Synopsis and Indexing",
IEEE PAMI 30(11), 2008. Every tracked object is a space-time *tube* b: its
box in each frame it was seen, from its start t_b. Making a synopsis means
choosing a *temporal shift* for every tube (the mapping M) that minimises

    E(M) = sum_b E_a(b) + alpha * sum_{b,b'} E_t(b, b') + beta * sum_{b,b'} E_c(b, b')

- E_a, the *activity cost*, charges the activity lost by leaving a tube out
  of the synopsis. Here no tube is ever left out (a forensic synopsis must
  show every object), so E_a = 0 and the term disappears.
- E_c, the *collision cost*, is the space-time overlap of two shifted tubes:
  the paper sums the product of their activity measures over the pixels and
  frames they share; we use the box area, so E_c(b, b') is the area shared by
  the two boxes summed over the synopsis frames where both appear, in
  pixels^2 x frames. beta = 1: that is the unit the other weights are given in.
- E_t, the *temporal consistency cost*, keeps the order of events. The paper
  charges, with weight exp(-d(b, b') / sigma), a pair whose relative timing
  the synopsis changes: d is their distance in space when they share frames
  in the source (two people walking together) and their gap in time when
  they do not. Ours keeps the two halves, in a simpler form:
  * an *inversion* (b started before b' in the source, but b' starts before b
    in the synopsis) costs 1, whatever their gap in time: the count of
    inversions is what a reviewer sees as "the order is broken";
  * two tubes that shared frames in the source (co-occurrence) and whose
    relative timing the synopsis changes cost COOCCURRENCE_SHARE *
    exp(-d / SIGMA_SPACE), d being the smallest gap between their boxes over
    the source frames they share: people who walked together keep walking
    together (as in the source: no collision between them), people on
    opposite sides of the square need not.

The optimiser is the paper's fast greedy variant: tubes are placed one at a
time, in order of their start in the source, each at the shift that adds the
least energy given the tubes already placed. Its collision term is measured
on an occupancy grid of `grid`-pixel cells, with one 2-D prefix sum per
synopsis frame, so that the cost of a box is O(1) and the whole cost curve
over the shifts is a handful of vectorised numpy operations. The figures
returned (collision fraction, inversions, energy) are computed exactly on the
final placement, from the boxes themselves.

Pure numpy: no video, no I/O. Frames are counted at the synopsis frame rate.
"""

from __future__ import annotations

import bisect
import copy
import math
import numbers
import operator
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from vigie.i18n import gettext

# Weight of E_t against E_c, in pixels^2 x frames of collision per inversion:
# a 16x16-pixel overlap (one cell of the default grid) held for one frame.
# Compactness first: the point of a synopsis is to show hours in minutes, and
# Pritch et al. give up chronology for it. A flat cost per inverted pair adds
# up over a busy period's many pairs, so any weight that keeps a busy period
# in order makes its synopsis several times longer. Measured on 300 walking
# tubes (70-130 frames) from 25,000 frames at 768x576, max_collision 0.05:
#     alpha        0     256    512   1024   8192
#     frames     732     796   2023   3687   5823
#     inverted   48%     57%    39%    17%     3%  (of the 44,850 pairs)
# (Over half inverted: in a tight synopsis the greedy fills the holes the
# earlier tubes left with later ones.) With this default, order is kept where
# it costs nothing or next to nothing (slack, near-ties, the tie-break);
# raise alpha for a chronological synopsis.
ALPHA = 256.0
# A co-occurring pair whose relative timing changes costs this share of an
# inversion (at distance 0), decaying with their distance.
COOCCURRENCE_SHARE = 0.5
SIGMA_SPACE = 32.0  # pixels
_MIN_WEIGHT = 1e-3  # co-occurring pairs weighing less than this are ignored (d > ~7 sigma)
_MEETS_TOLERANCE = 1e-12  # collision fractions are ratios of float sums
_TIE = 1e-9  # energies this close are equal (float sums of the same terms in another order)


@dataclass(frozen=True, eq=False)
class Tube:
    """One object's space-time tube, as the packing sees it (no pixels).

    (eq=False: the boxes are an array, so tubes compare by identity. Not to
    be confused with vigie.synopsis.capture.StoredTube, the stored pixels.)
    """

    key: int  # the track id
    start: int  # original start frame (synopsis frame rate, counted from the period's start)
    boxes: np.ndarray  # (n, 4) float xyxy in image pixels; row k is the object at frame start + k

    def __post_init__(self) -> None:
        try:
            key = operator.index(self.key)
        except TypeError:
            raise ValueError(
                gettext("a tube's key must be an integer (the track id), got {key}", key=repr(self.key))
            ) from None
        try:
            start = operator.index(self.start)
        except TypeError:
            raise ValueError(
                gettext("tube {key}: start must be an integer frame, got {start}", key=key, start=repr(self.start))
            ) from None
        if start < 0:
            raise ValueError(
                gettext(
                    "tube {key}: negative start {start}; frames are counted from the period's start",
                    key=key,
                    start=start,
                )
            )
        try:
            boxes = np.array(self.boxes, dtype=np.float64)  # a copy: the tube is frozen
        except (TypeError, ValueError):
            raise ValueError(gettext("tube {key}: boxes must be an (n, 4) array of xyxy boxes", key=key)) from None
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(
                gettext(
                    "tube {key}: boxes must be an (n, 4) array of xyxy boxes, got shape {shape}",
                    key=key,
                    shape=boxes.shape,
                )
            )
        if len(boxes) == 0:
            raise ValueError(gettext("tube {key}: no boxes; a tube has at least one frame", key=key))
        if not np.isfinite(boxes).all():
            raise ValueError(gettext("tube {key}: boxes must be finite", key=key))
        bad = np.flatnonzero((boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1]))
        if len(bad):
            raise ValueError(
                gettext(
                    "tube {key}: box {value} is not xyxy (x2 < x1 or y2 < y1): {value2}",
                    key=key,
                    value=int(bad[0]),
                    value2=boxes[bad[0]].tolist(),
                )
            )
        boxes.setflags(write=False)
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "boxes", boxes)

    @property
    def length(self) -> int:
        return len(self.boxes)

    @property
    def end(self) -> int:
        """One past the last frame."""
        return self.start + self.length


@dataclass
class Packing:
    """Where each tube starts in the synopsis, and what the placement costs."""

    starts: dict[int, int]  # tube key -> synopsis start frame
    length: int  # synopsis length in frames (>= every tube's length)
    collision_fraction: float  # object area covered by another object / total object area
    inversions: int  # pairs (a, b) with a.start < b.start in the source but a placed after b
    energy: float  # E(M) of the chosen placement, computed exactly (E_a = 0, beta = 1)


# --- validation ----------------------------------------------------------------------------------
def _check_tubes(tubes: Sequence[Tube]) -> list[Tube]:
    tubes = list(tubes)
    seen: set[int] = set()
    for t in tubes:
        if not isinstance(t, Tube):
            raise TypeError(gettext("expected vigie.synopsis.packing.Tube, got {name}", name=type(t).__name__))
        if t.key in seen:
            raise ValueError(gettext("duplicate tube key {key}: every tube needs its own key", key=t.key))
        seen.add(t.key)
    return tubes


def _check_frame_size(frame_size: tuple[int, int]) -> tuple[int, int]:
    try:
        w, h = (operator.index(v) for v in frame_size)
    except (TypeError, ValueError):
        raise ValueError(
            gettext("frame_size must be (width, height) in pixels, got {frame_size}", frame_size=repr(frame_size))
        ) from None
    if w < 1 or h < 1:
        raise ValueError(gettext("frame_size must be positive (width, height), got {value}", value=(w, h)))
    return w, h


def _check_starts(tubes: list[Tube], starts: Mapping[int, int]) -> np.ndarray:
    out = np.empty(len(tubes), dtype=np.int64)
    for i, t in enumerate(tubes):
        if t.key not in starts:
            raise ValueError(gettext("no synopsis start for tube {key}", key=t.key))
        s = operator.index(starts[t.key])
        if s < 0:
            raise ValueError(gettext("tube {key}: negative synopsis start {s}", key=t.key, s=s))
        out[i] = s
    return out


# --- exact measures on a placement ---------------------------------------------------------------
def _clipped(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Boxes clipped to the frame: only what is on screen can collide."""
    return np.clip(boxes, 0.0, [width, height, width, height])


def _union_areas(rects: np.ndarray) -> np.ndarray:
    """The area of the union of each row's m rectangles: rects (r, m, 4) xyxy -> (r,).

    Exact: the rectangles' edges cut each row's plane into a compressed grid
    of (2m - 1)^2 cells, each wholly inside or wholly outside every rectangle
    (tested at its centre). Rows go in blocks, so memory stays bounded.
    """
    r, m, _ = rects.shape
    out = np.empty(r)
    block = max(1, (1 << 24) // (m * (2 * m) ** 2))
    for lo in range(0, r, block):
        q = rects[lo : lo + block]
        xs = np.sort(q[:, :, [0, 2]].reshape(len(q), 2 * m), axis=1)
        ys = np.sort(q[:, :, [1, 3]].reshape(len(q), 2 * m), axis=1)
        cx, cy = (xs[:, 1:] + xs[:, :-1]) / 2, (ys[:, 1:] + ys[:, :-1]) / 2
        in_x = (q[:, :, 0, None] <= cx[:, None, :]) & (cx[:, None, :] < q[:, :, 2, None])  # (rows, m, cells in x)
        in_y = (q[:, :, 1, None] <= cy[:, None, :]) & (cy[:, None, :] < q[:, :, 3, None])
        inside = (in_y[:, :, :, None] & in_x[:, :, None, :]).any(axis=1)  # (rows, cells in y, cells in x)
        out[lo : lo + block] = (inside * np.diff(ys, axis=1)[:, :, None] * np.diff(xs, axis=1)[:, None, :]).sum(
            axis=(1, 2)
        )
    return out


class _Overlaps:
    """The boxes' overlaps in a placement: E_c, and the collision fraction.

    covered: per synopsis frame and object, the area of its box under the
    union of the other boxes of that frame. E_c: the paper's collision cost
    with box activity, the area shared by each pair of boxes, summed over
    pairs and frames (an area under three boxes counts for three pairs).
    Both from the boxes (clipped to the frame), exactly.

    Computed in steps, each only when asked, since a length search mostly
    needs to know whether a placement meets a limit, not its fraction:
    1. `floor`: the parts of the boxes that no other box covers are disjoint,
       so in a frame they fit in the image: covered >= sum of the box areas
       - the image area. Settles an overcrowded synopsis for free.
    2. the pairwise intersections: E_c, and bounds on covered (an object
       overlapped by others is covered by at least the largest intersection
       and at most their sum; exactly their sum when there is only one).
    3. the exact unions, for the objects overlapped by several others: the
       union of their intersections with it (_union_areas).
    """

    def __init__(self, clipped: list[np.ndarray], starts: np.ndarray, image_area: float):
        self.total = self.floor = 0.0
        self._pairs_done = False
        self._e_c = self._low = self._high = 0.0
        self._covered: float | None = 0.0
        if not clipped:
            self._pairs_done = True
            return
        lengths = np.array([len(b) for b in clipped])
        first = np.cumsum(lengths) - lengths
        frame = np.repeat(starts, lengths) + (np.arange(lengths.sum()) - np.repeat(first, lengths))
        boxes = np.concatenate(clipped)
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        self.total = float(area.sum())
        order = np.argsort(frame, kind="stable")
        self._frame, self._boxes, self._area = frame[order], boxes[order], area[order]
        per_frame = np.bincount(self._frame - self._frame[0], weights=self._area)
        if self.total > 0:
            self.floor = float(np.clip(per_frame - image_area, 0.0, None).sum()) / self.total

    def _pairs(self) -> None:
        if self._pairs_done:
            return
        self._pairs_done = True
        frame, boxes, area = self._frame, self._boxes, self._area
        rows = len(frame)
        partners = np.zeros(rows, dtype=np.int64)
        summed, largest = np.zeros(rows), np.zeros(rows)
        hits: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        # Every pair of rows in the same frame: rows are sorted by frame, so the
        # pairs (r, r + d) for d = 1, 2, ... until no frame holds d + 1 objects.
        for d in range(1, rows):
            a = np.flatnonzero(frame[:-d] == frame[d:])
            if not len(a):
                break
            b = a + d
            ix = np.minimum(boxes[a, 2], boxes[b, 2]) - np.maximum(boxes[a, 0], boxes[b, 0])
            iy = np.minimum(boxes[a, 3], boxes[b, 3]) - np.maximum(boxes[a, 1], boxes[b, 1])
            hit = (ix > 0) & (iy > 0)
            a, b, inter = a[hit], b[hit], ix[hit] * iy[hit]
            hits.append(
                (
                    a,
                    b,
                    np.column_stack([np.maximum(boxes[a, :2], boxes[b, :2]), np.minimum(boxes[a, 2:], boxes[b, 2:])]),
                )
            )
            self._e_c += float(inter.sum())
            partners[a] += 1  # (each row is at most once in a, once in b, for one d)
            partners[b] += 1
            summed[a] += inter
            summed[b] += inter
            np.maximum.at(largest, a, inter)
            np.maximum.at(largest, b, inter)
        self._low = float(largest.sum())
        self._high = float(np.minimum(summed, area).sum())
        self._covered = self._low if self._low == self._high else None
        self._partners, self._summed, self._hits = partners, summed, hits

    @property
    def e_c(self) -> float:
        self._pairs()
        return self._e_c

    def covered(self) -> float:
        self._pairs()
        if self._covered is None:
            # Each object overlapped by m >= 2 others: the union of its m
            # intersections, all objects with the same m at once.
            a, b, rect = (np.concatenate(x) for x in zip(*self._hits))
            row, rect = np.concatenate([a, b]), np.concatenate([rect, rect])
            order = np.argsort(row, kind="stable")
            row, rect = row[order], rect[order]
            m = self._partners[row]
            covered = self._summed.copy()
            for k in np.unique(m[m >= 2]):
                mine = m == k  # the k intersections of each such object, consecutive
                covered[row[mine][::k]] = _union_areas(rect[mine].reshape(-1, k, 4))
            self._covered = float(covered.sum())
        return self._covered

    def fraction(self) -> float:
        return self.covered() / self.total if self.total > 0 else 0.0

    def meets(self, limit: float) -> bool:
        """fraction() <= limit, computing no more than it takes to tell."""
        if self.total <= 0:
            return True
        if self.floor > limit:
            return False
        self._pairs()
        if self._high / self.total <= limit or self._low / self.total > limit:
            return self._high / self.total <= limit
        return self.fraction() <= limit

    def estimate(self) -> float:
        """The fraction as far as it is known: exact, else the middle of its bounds, else the floor."""
        if self.total <= 0:
            return 0.0
        if not self._pairs_done:
            return self.floor
        if self._covered is not None:
            return self._covered / self.total
        return (self._low + self._high) / 2 / self.total


def _inversions(src: np.ndarray, syn: np.ndarray) -> int:
    """Pairs started in one order in the source (strictly) and in the other in the synopsis (strictly)."""
    count = 0
    for lo in range(0, len(src), 1024):  # blocks of rows: memory stays O(1024 n)
        a, b = src[lo : lo + 1024, None], syn[lo : lo + 1024, None]
        count += int(((a < src[None, :]) & (b > syn[None, :])).sum())
    return count


def collision_fraction(tubes: Sequence[Tube], starts: Mapping[int, int], frame_size: tuple[int, int]) -> float:
    """Share of the object area (box area x frames) that another object covers in the synopsis.

    For every synopsis frame and every object present, the area of its box
    (clipped to the frame) under the union of the other boxes of that frame;
    summed, then divided by the summed box areas. Exact, from the boxes.
    """
    tubes = _check_tubes(tubes)
    width, height = _check_frame_size(frame_size)
    syn = _check_starts(tubes, starts)
    return _Overlaps([_clipped(t.boxes, width, height) for t in tubes], syn, width * height).fraction()


def inversions(tubes: Sequence[Tube], starts: Mapping[int, int]) -> int:
    """Pairs (a, b) with a.start < b.start in the source but starts[a] > starts[b] in the synopsis."""
    tubes = _check_tubes(tubes)
    syn = _check_starts(tubes, starts)
    return _inversions(np.array([t.start for t in tubes], dtype=np.int64), syn)


# --- what the optimiser precomputes once, for every length tried ---------------------------------
class _Prepared:
    """The tubes in processing order (source start, then key) and everything that does not depend on the length."""

    def __init__(self, tubes: list[Tube], width: int, height: int, grid: int):
        self.tubes = sorted(tubes, key=lambda t: (t.start, t.key))
        self.n = np.array([t.length for t in self.tubes], dtype=np.int64)
        self.src = np.array([t.start for t in self.tubes], dtype=np.int64)
        self.clipped = [_clipped(t.boxes, width, height) for t in self.tubes]
        self.grid = grid
        self.image_area = float(width * height)
        self.gw, self.gh = -(-width // grid), -(-height // grid)
        # Per tube: the index of the first tube with the same source start.
        # Tubes before it started strictly earlier: placing this one before
        # any of them is an inversion.
        self.first_same = np.searchsorted(self.src, self.src, side="left")
        self._cells()
        self._cooccurrences()

    def _cells(self) -> None:
        """Each box as a range of grid cells, and as the data to add it to / sum it from a prefix sum.

        A box holds the cells whose centre it contains (half-open, so boxes
        that merely touch share no cell); a box too small to hold a centre
        holds the cell under its own centre; a box with no area (off screen)
        holds nothing.
        """
        g, gw, gh = self.grid, self.gw, self.gh
        self.corners: list[np.ndarray] = []  # (4n,) flat indices into a (gh+1, gw+1) prefix sum
        # Adding box k to a prefix sum adds (rows of it above y) x (columns of
        # it left of x) to entry (y, x): nothing up to the box's top row and
        # left column, so the update starts at the tube's top-most, left-most cell.
        self.update_at: list[tuple[int, int]] = []  # first prefix row, column the tube changes
        self.rows: list[np.ndarray] = []  # (gh+1 - y0, n): rows of box k above each prefix row from y0
        self.cols: list[np.ndarray] = []  # (gw+1 - x0, n): columns of box k left of each prefix column from x0
        yy, xx = np.arange(gh + 1), np.arange(gw + 1)
        for b in self.clipped:
            c0 = np.clip(np.ceil(b[:, 0] / g - 0.5), 0, gw).astype(np.int64)
            c1 = np.clip(np.ceil(b[:, 2] / g - 0.5), 0, gw).astype(np.int64)
            r0 = np.clip(np.ceil(b[:, 1] / g - 0.5), 0, gh).astype(np.int64)
            r1 = np.clip(np.ceil(b[:, 3] / g - 0.5), 0, gh).astype(np.int64)
            small = (c1 <= c0) | (r1 <= r0)
            cx = np.clip(((b[:, 0] + b[:, 2]) / 2 // g).astype(np.int64), 0, gw - 1)
            cy = np.clip(((b[:, 1] + b[:, 3]) / 2 // g).astype(np.int64), 0, gh - 1)
            c0, c1 = np.where(small, cx, c0), np.where(small, cx + 1, c1)
            r0, r1 = np.where(small, cy, r0), np.where(small, cy + 1, r1)
            empty = (b[:, 2] <= b[:, 0]) | (b[:, 3] <= b[:, 1])
            c1, r1 = np.where(empty, c0, c1), np.where(empty, r0, r1)
            w1 = gw + 1
            self.corners.append(np.concatenate([r1 * w1 + c1, r0 * w1 + c1, r1 * w1 + c0, r0 * w1 + c0]))
            y0, x0 = int(r0.min()) + 1, int(c0.min()) + 1
            self.update_at.append((y0, x0))
            self.rows.append(np.clip(yy[y0:, None] - r0[None, :], 0, (r1 - r0)[None, :]).astype(np.int32))
            self.cols.append(np.clip(xx[x0:, None] - c0[None, :], 0, (c1 - c0)[None, :]).astype(np.int32))

    def _cooccurrences(self) -> None:
        """The pairs that shared frames in the source, with their E_t weight exp(-d / SIGMA_SPACE).

        d: the smallest gap between their boxes over the frames they share
        (0 when the boxes touch or overlap). Stored with the later tube of
        the pair (in processing order), the one placed second.
        """
        n_tubes = len(self.tubes)
        self.partners: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0, np.int64), np.zeros(0))] * n_tubes
        self.cooc_pairs = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
        if n_tubes < 2:
            return
        src, end = self.src, self.src + self.n
        # i before j in processing order, so src[i] <= src[j]: they share
        # frames iff src[j] < end[i], that is j in [i + 1, stop[i]).
        idx = np.arange(n_tubes)
        count = np.clip(np.searchsorted(src, end, side="left") - (idx + 1), 0, None)
        if not count.sum():
            return
        i = np.repeat(idx, count)
        j = i + 1 + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
        common = np.minimum(end[i], end[j]) - src[j]
        pair = np.repeat(np.arange(len(i)), common)
        first = np.cumsum(common) - common
        frame = src[j][pair] + (np.arange(common.sum()) - first[pair])
        offsets = np.concatenate([[0], np.cumsum(self.n)[:-1]])
        boxes = np.concatenate([t.boxes for t in self.tubes])
        bi = boxes[offsets[i][pair] + frame - src[i][pair]]
        bj = boxes[offsets[j][pair] + frame - src[j][pair]]
        gx = np.clip(np.maximum(bi[:, 0], bj[:, 0]) - np.minimum(bi[:, 2], bj[:, 2]), 0.0, None)
        gy = np.clip(np.maximum(bi[:, 1], bj[:, 1]) - np.minimum(bi[:, 3], bj[:, 3]), 0.0, None)
        gap = np.minimum.reduceat(np.hypot(gx, gy), first)
        weight = np.exp(-gap / SIGMA_SPACE)
        keep = weight >= _MIN_WEIGHT
        i, j, weight = i[keep], j[keep], weight[keep]
        self.cooc_pairs = (i, j, weight)
        by_j = np.argsort(j, kind="stable")
        i, j, weight = i[by_j], j[by_j], weight[by_j]
        bounds = np.searchsorted(j, np.arange(n_tubes + 1))
        self.partners = [(i[bounds[k] : bounds[k + 1]], weight[bounds[k] : bounds[k + 1]]) for k in range(n_tubes)]

    # --- E_t on a placement ---
    def temporal_cost(self, syn: np.ndarray) -> tuple[int, float]:
        """(inversions, weighted count of co-occurring pairs moved apart) of a placement (processing order)."""
        i, j, w = self.cooc_pairs
        moved = (syn[j] - syn[i]) != (self.src[j] - self.src[i])
        return _inversions(self.src, syn), float(w[moved].sum())


# --- the greedy optimiser ------------------------------------------------------------------------
def _greedy(prep: _Prepared, length: int, alpha: float) -> np.ndarray:
    """Synopsis starts (processing order) for a synopsis of `length` frames (>= every tube).

    Tube after tube, the shift s in [0, length - n] minimising the energy it
    adds: beta * E_c with the tubes placed (grid estimate) + alpha * E_t
    (inversions, co-occurring pairs moved apart). Ties go to the earliest s not before
    the previous tube's synopsis start, then to the latest s before it: with no
    collision anywhere, tubes keep their order and are packed as early as
    possible (chronological order is kept wherever it costs nothing).
    """
    n_tubes = len(prep.tubes)
    g2 = float(prep.grid) ** 2
    gh1, gw1 = prep.gh + 1, prep.gw + 1
    cells = gh1 * gw1
    co_cost = alpha * COOCCURRENCE_SHARE
    # Occupancy: per synopsis frame, the 2-D prefix sum of the number of
    # placed boxes holding each cell, stored cell-major (one row per prefix
    # entry, one column per frame) so that a box corner over a run of frames
    # is a contiguous read. Frames past the last placed one are all zero:
    # the array grows as tubes are placed.
    occ = np.zeros((cells, int(min(length, max(4 * prep.n.max(), 1024)))), dtype=np.int32)
    occ_lo, occ_hi = length, 0  # placed frames lie in [occ_lo, occ_hi)
    syn = np.zeros(n_tubes, dtype=np.int64)
    earlier: list[int] = []  # sorted synopsis starts of the tubes that started strictly earlier
    n_earlier = 0
    prev = 0

    for t in range(n_tubes):
        n = int(prep.n[t])
        corners = prep.corners[t]
        while n_earlier < prep.first_same[t]:
            bisect.insort(earlier, int(syn[n_earlier]))
            n_earlier += 1

        def collision(a: int, b: int) -> np.ndarray:
            """beta * E_c with the placed tubes at each shift s in [a, b).

            The sum over the tube's frames k of the occupancy under box k at
            synopsis frame s + k, in pixels^2 (cells x cell area) x frames.
            Only the shifts reaching placed frames cost anything.
            """
            cost = np.zeros(b - a)
            c_lo, c_hi = max(a, occ_lo - n + 1), min(b, occ_hi)
            if c_hi > c_lo:
                f_hi = min(c_hi + n - 1, occ_hi)
                width = c_hi - c_lo + n - 1
                corner = occ[corners, c_lo:f_hi]  # (4n, frames): the 4 prefix corners of each box
                per_box = np.zeros((n, width), dtype=np.int32)  # [k, frame - c_lo]: occupancy under box k
                per_box[:, : f_hi - c_lo] = corner[:n] - corner[n : 2 * n] - corner[2 * n : 3 * n] + corner[3 * n :]
                # E_c(s) = sum_k per_box[k, s - c_lo + k]: diagonals, read in place.
                item = per_box.itemsize
                diagonals = np.lib.stride_tricks.as_strided(
                    per_box, shape=(n, c_hi - c_lo), strides=((width + 1) * item, item), writeable=False
                )
                cost[c_lo - a : c_hi - a] = diagonals.sum(axis=0, dtype=np.int64) * g2
            return cost

        # Past the last placed frame nothing collides and nothing placed
        # starts later, so every s >= occ_hi costs what occ_hi costs, and the
        # tie-break prefers occ_hi: the candidates stop there.
        n_cand = min(length - n, occ_hi) + 1
        s = np.arange(n_cand)
        temporal = np.zeros(n_cand)
        # alpha * E_t, inversions: each tube that started strictly earlier in
        # the source and is placed after s.
        if earlier:
            temporal += alpha * (len(earlier) - np.searchsorted(np.array(earlier), s, side="right"))
        # alpha * E_t, co-occurrence: a partner placed at q keeps its timing
        # relative to this tube at exactly one shift, q + (its source offset).
        partner, weight = prep.partners[t]
        if len(partner):
            at = syn[partner] + (prep.src[t] - prep.src[partner])
            inside = (at >= 0) & (at < n_cand)
            kept = np.bincount(at[inside], weight[inside], n_cand)
            temporal += co_cost * np.maximum(weight.sum() - kept, 0.0)

        # E_c is never below 0: a shift where E_t is at its minimum and E_c is
        # 0 is optimal. Look for one among the favourites first (from prev
        # on, then down from prev), in growing chunks: in a loose synopsis
        # most tubes find one at once, and the rest of the E_c curve is
        # never computed. Otherwise, the whole curve.
        e_c = np.full(n_cand, -1.0)  # -1: not computed

        def ensure(a: int, b: int) -> None:
            missing = np.flatnonzero(e_c[a:b] < 0)
            if len(missing):
                e_c[a + missing[0] : a + missing[-1] + 1] = collision(a + missing[0], a + missing[-1] + 1)

        t_min = temporal.min()
        at_min = temporal <= t_min + _TIE * max(1.0, abs(t_min))
        chosen, chunk = -1, 64
        ahead = prev + np.flatnonzero(at_min[prev:])
        while chosen < 0 and len(ahead):
            a = int(ahead[0])
            b = min(n_cand, a + chunk)
            ensure(a, b)
            free = np.flatnonzero(at_min[a:b] & (e_c[a:b] == 0))
            if len(free):
                chosen = a + int(free[0])
            ahead, chunk = ahead[ahead >= b], 2 * chunk
        behind = np.flatnonzero(at_min[:prev])
        while chosen < 0 and len(behind):
            b = int(behind[-1]) + 1
            a = max(0, b - chunk)
            ensure(a, b)
            free = np.flatnonzero(at_min[a:b] & (e_c[a:b] == 0))
            if len(free):
                chosen = a + int(free[-1])
            behind, chunk = behind[behind < a], 2 * chunk
        if chosen < 0:
            # The least energy: E_c >= 0, so a shift whose E_t alone is above the
            # least energy found so far cannot win; E_c is computed only where
            # E_t is below it (with inversions costing alpha each, a window
            # after the tubes placed before this one, not the whole synopsis).
            found = e_c >= 0
            bound = (e_c + temporal)[found].min()
            needed = np.flatnonzero(~found & (temporal <= bound + _TIE * max(1.0, abs(bound))))
            if len(needed):
                ensure(int(needed[0]), int(needed[-1]) + 1)
            cost = np.where(e_c >= 0, e_c + temporal, np.inf)
            best = cost.min()
            ties = np.flatnonzero(cost <= best + _TIE * max(1.0, abs(best)))
            rank = np.where(ties >= prev, ties - prev, length + prev - ties)
            chosen = int(ties[np.argmin(rank)])

        syn[t] = prev = chosen
        if chosen + n > occ.shape[1]:
            grown = np.zeros((cells, int(min(length, max(2 * occ.shape[1], chosen + n)))), dtype=np.int32)
            grown[:, : occ.shape[1]] = occ
            occ = grown
        # Add the boxes to the prefix sums of frames chosen + k.
        y0, x0 = prep.update_at[t]
        occ.reshape(gh1, gw1, -1)[y0:, x0:, chosen : chosen + n] += prep.rows[t][:, None, :] * prep.cols[t][None, :, :]
        occ_lo, occ_hi = min(occ_lo, chosen), max(occ_hi, chosen + n)
    return syn


# --- pack ----------------------------------------------------------------------------------------
class _Candidate:
    """A placement (processing order) for a synopsis length, with its exact figures (computed when asked)."""

    def __init__(self, prep: _Prepared, syn: np.ndarray, length: int, alpha: float):
        self.syn, self.length = syn, length
        self.extent = int((syn + prep.n).max())  # one past the last frame used
        self.overlaps = _Overlaps(prep.clipped, syn, prep.image_area)
        self.inversions, self._lost = prep.temporal_cost(syn)
        self._alpha = alpha

    @property
    def energy(self) -> float:
        # E(M) = sum E_a (0: no tube left out) + alpha * sum E_t + beta * sum E_c (beta = 1).
        return self.overlaps.e_c + self._alpha * (self.inversions + COOCCURRENCE_SHARE * self._lost)


def _whole(name: str, value, unit: str, alternative: str = "") -> int:
    """`value` as a whole number of `unit`s, at least 1, or a ValueError naming `name`."""
    try:
        value = operator.index(value)
    except TypeError:
        raise ValueError(
            gettext(
                "{name} must be a whole number of {unit}s{alternative}, got {value}",
                name=name,
                unit=unit,
                alternative=alternative,
                value=repr(value),
            )
        ) from None
    if value < 1:
        raise ValueError(gettext("{name} must be at least 1 {unit}, got {value}", name=name, unit=unit, value=value))
    return value


def pack(
    tubes: Sequence[Tube],
    frame_size: tuple[int, int],
    length: int | None = None,
    max_collision: float = 0.05,
    alpha: float = ALPHA,
    grid: int = 16,
) -> Packing:
    """Place every tube in a synopsis: a start frame for each, no tube cut or left out.

    length: the synopsis's length in frames; a tube longer than it is not cut,
    the synopsis grows to the longest tube. None: the shortest length whose
    packing keeps collision_fraction <= max_collision, searched between the
    longest tube and the source's chronological span (where the source's own
    timing is a candidate too). If even the span does not meet max_collision,
    the packing at the span is returned, over the limit: the caller reports it.
    alpha: weight of the temporal consistency cost, in pixels^2 x frames of
    collision per inversion (see ALPHA). grid: the occupancy grid's cell, in
    pixels, for the optimiser's collision estimate.
    """
    tubes = _check_tubes(tubes)
    width, height = _check_frame_size(frame_size)
    if length is not None:
        length = _whole("length", length, "frame", " or None")
    if isinstance(max_collision, bool) or not (isinstance(max_collision, numbers.Real) and 0.0 <= max_collision <= 1.0):
        raise ValueError(
            gettext(
                "max_collision must be a fraction in [0, 1], got {max_collision}", max_collision=repr(max_collision)
            )
        )
    if isinstance(alpha, bool) or not (isinstance(alpha, numbers.Real) and math.isfinite(alpha) and alpha >= 0):
        raise ValueError(gettext("alpha must be a finite weight >= 0, got {alpha}", alpha=repr(alpha)))
    max_collision, alpha = float(max_collision), float(alpha)
    grid = _whole("grid", grid, "pixel")
    if not tubes:
        return Packing({}, 0, 0.0, 0, 0.0)

    prep = _Prepared(tubes, width, height, grid)
    longest = int(prep.n.max())
    span = int((prep.src + prep.n).max() - prep.src.min())
    limit = max_collision + _MEETS_TOLERANCE
    tried: dict[int, _Candidate] = {}

    def solve(n_frames: int) -> _Candidate:
        if n_frames not in tried:
            best = _Candidate(prep, _greedy(prep, n_frames, alpha), n_frames, alpha)
            if n_frames >= span:
                # The source's own timing fits: it is a candidate, with no
                # inversion, every co-occurring pair as it was, and the source's own overlaps.
                source = _Candidate(prep, prep.src - prep.src.min(), n_frames, alpha)
                if (not source.overlaps.meets(limit), source.energy) < (not best.overlaps.meets(limit), best.energy):
                    best = source
            tried[n_frames] = best
        return tried[n_frames]

    def meets(n_frames: int) -> bool:
        return solve(n_frames).overlaps.meets(limit)

    def shortest(n_frames: int) -> int:
        """The shortest length with the same placement as n_frames (which meets the limit).

        Its placement may leave the last frames empty; it is then the
        greedy's placement for every length down to its extent (each tube's
        choice is still a candidate there, and the candidates dropped were
        not chosen), so the search goes on from the extent.
        """
        found = solve(n_frames)
        if found.extent < n_frames and found.extent not in tried:
            tried[found.extent] = copy.copy(found)
            tried[found.extent].length = found.extent
        return min(found.extent, n_frames)

    if length is not None:
        chosen = solve(max(length, longest))
    else:
        # The shortest length meeting max_collision, judged on the exact
        # collision fraction of the greedy placement at each length tried
        # (not on the grid estimate, so that pack(length=L) agrees with the
        # search for every L: L meets max_collision, L - 1 does not, with
        # this optimiser). The exact fraction costs little when its bounds
        # settle the question (_Overlaps), as they mostly do away from the limit.
        #
        # Up from the longest tube, in jumps, until a length meets the limit
        # (or the span is reached): the collision fraction falls roughly as
        # 1 / length, so the next length tried is the one where that would
        # meet the limit, with a 10% margin, and at least a quarter longer.
        lo, hi = 0, longest
        while hi < span and not meets(hi):
            lo, f_lo = hi, solve(hi).overlaps.estimate()
            hi = min(span, max(math.ceil(1.1 * hi * f_lo / max(max_collision, 1e-3)), math.ceil(1.25 * hi), hi + 1))
        if lo and meets(hi):
            # Invariant: lo does not meet the limit, hi does. The fraction is
            # not monotonic in the length (the greedy's choices change with
            # it), but any bracket closes on a length L that meets it with
            # L - 1 not meeting it. Interpolation in 1 / length on the
            # fractions at the ends, safeguarded: a step that does not halve
            # the bracket is followed by a bisection step.
            hi = shortest(hi)
            f_hi = solve(hi).overlaps.estimate()
            halve = False
            while hi - lo > 1:
                width_before = hi - lo
                mid = (lo + hi) // 2
                if not halve and f_lo > max_collision >= f_hi:
                    inv = 1 / lo + (max_collision - f_lo) * (1 / hi - 1 / lo) / (f_hi - f_lo)
                    margin = max(1, width_before // 16)
                    mid = min(max(round(1 / inv), lo + margin), hi - margin)
                if meets(mid):
                    hi = shortest(mid)
                    f_hi = solve(hi).overlaps.estimate()
                else:
                    lo, f_lo = mid, solve(mid).overlaps.estimate()
                halve = 2 * (hi - lo) > width_before
        chosen = solve(hi)
        # If even the span does not meet the limit (with the source's own
        # timing as a candidate), that packing is returned over the limit,
        # and the caller reports it.

    starts = {t.key: int(s) for t, s in zip(prep.tubes, chosen.syn)}
    return Packing(starts, chosen.length, chosen.overlaps.fraction(), chosen.inversions, chosen.energy)

"""Where a track went and how fast: direction, speed, ground positions.

Positions are the foot point (bottom centre of the box): it is the point on the
ground, the one a ground-plane homography maps to metres.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def foot_points(xyxy: np.ndarray) -> np.ndarray:
    xyxy = np.asarray(xyxy, dtype=float).reshape(-1, 4)
    return np.c_[(xyxy[:, 0] + xyxy[:, 2]) / 2, xyxy[:, 3]]


def compass(dx: float, dy: float) -> str:
    """8-point direction of an image-space displacement; N is up the image."""
    angle = math.degrees(math.atan2(dx, -dy)) % 360  # 0 = up, clockwise
    return COMPASS[int((angle + 22.5) // 45) % 8]


class GroundPlane:
    """Image -> ground (metres) homography from four point pairs."""

    def __init__(self, image_points, ground_points_m) -> None:
        src = np.asarray(image_points, dtype=np.float64).reshape(4, 2)
        dst = np.asarray(ground_points_m, dtype=np.float64).reshape(4, 2)
        self.matrix = cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32))

    def to_ground(self, points: np.ndarray) -> np.ndarray:
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 1, 2)
        if not len(pts):
            return np.zeros((0, 2))
        return cv2.perspectiveTransform(pts, self.matrix).reshape(-1, 2)


def smooth(points: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average (detector jitter would otherwise add to every
    step's length and inflate the speed). Near the ends the window shrinks on
    both sides alike, so the first and last points stay where they were and
    the path keeps its full length."""
    n = len(points)
    if n < 3 or window < 2:
        return points
    idx = np.arange(n)
    half = np.minimum(np.minimum(idx, n - 1 - idx), window // 2)
    csum = np.vstack([np.zeros((1, points.shape[1])), np.cumsum(points, axis=0)])
    lo, hi = idx - half, idx + half + 1
    return (csum[hi] - csum[lo]) / (hi - lo)[:, None]


def path_speed(points: np.ndarray, seconds: np.ndarray, window: int) -> float | None:
    """Mean speed along the smoothed path: length travelled over time taken."""
    if len(points) < 2 or seconds[-1] - seconds[0] <= 0:
        return None
    path = smooth(points, window)
    length = float(np.sum(np.linalg.norm(np.diff(path, axis=0), axis=1)))
    return length / float(seconds[-1] - seconds[0])


def direction_of(points: np.ndarray, min_displacement: float) -> str | None:
    """Overall heading from the first to the last fifth of the path (robust to
    jitter at either end); None when the track barely moved."""
    n = len(points)
    if n < 2:
        return None
    k = max(1, n // 5)
    delta = points[-k:].mean(axis=0) - points[:k].mean(axis=0)
    if float(np.hypot(*delta)) < min_displacement:
        return None
    return compass(float(delta[0]), float(delta[1]))

"""Constant-velocity Kalman filter on (cx, cy, aspect, height), as in SORT/DeepSORT/ByteTrack.

Noise scales with the box height, so a far (small) person and a near (large)
one are filtered alike; the weights are DeepSORT's.
"""

from __future__ import annotations

import numpy as np

_STD_POSITION = 1.0 / 20
_STD_VELOCITY = 1.0 / 160

# x' = F x with unit time step; z = H x observes the four box terms.
_F = np.eye(8)
_F[:4, 4:] = np.eye(4)
_H = np.eye(4, 8)


def xyxy_to_xyah(box: np.ndarray) -> np.ndarray:
    w, h = box[2] - box[0], box[3] - box[1]
    return np.array([box[0] + w / 2, box[1] + h / 2, w / max(h, 1e-6), h], dtype=float)


def xyah_to_xyxy(xyah: np.ndarray) -> np.ndarray:
    cx, cy, a, h = xyah[:4]
    w = a * h
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dtype=float)


class KalmanBox:
    """The state of one track's box; `predict` then `update` each analysed frame."""

    def __init__(self, box_xyxy: np.ndarray) -> None:
        z = xyxy_to_xyah(box_xyxy)
        self.mean = np.r_[z, np.zeros(4)]
        h = z[3]
        std = [
            2 * _STD_POSITION * h,
            2 * _STD_POSITION * h,
            1e-2,
            2 * _STD_POSITION * h,
            10 * _STD_VELOCITY * h,
            10 * _STD_VELOCITY * h,
            1e-5,
            10 * _STD_VELOCITY * h,
        ]
        self.cov = np.diag(np.square(std))

    def predict(self, steps: float = 1.0) -> None:
        h = self.mean[3]
        std = [
            _STD_POSITION * h,
            _STD_POSITION * h,
            1e-2,
            _STD_POSITION * h,
            _STD_VELOCITY * h,
            _STD_VELOCITY * h,
            1e-5,
            _STD_VELOCITY * h,
        ]
        f = np.eye(8)
        f[:4, 4:] = np.eye(4) * steps
        self.mean = f @ self.mean
        self.cov = f @ self.cov @ f.T + np.diag(np.square(std)) * steps

    def update(self, box_xyxy: np.ndarray) -> None:
        z = xyxy_to_xyah(box_xyxy)
        h = self.mean[3]
        r = np.diag(np.square([_STD_POSITION * h, _STD_POSITION * h, 1e-1, _STD_POSITION * h]))
        s = _H @ self.cov @ _H.T + r
        gain = np.linalg.solve(s, (self.cov @ _H.T).T).T
        self.mean = self.mean + gain @ (z - _H @ self.mean)
        self.cov = self.cov - gain @ s @ gain.T

    def warp(self, m: np.ndarray) -> None:
        """Apply the camera's motion (a 2x3 similarity) to the state, as
        BoT-SORT does: position and velocity rotate and scale with the image,
        the box height scales, and the covariance follows."""
        lin = m[:, :2]
        s = float(np.sqrt(abs(np.linalg.det(lin))))
        t = np.eye(8)
        t[0:2, 0:2] = lin
        t[4:6, 4:6] = lin
        t[3, 3] = s
        t[7, 7] = s
        self.mean = t @ self.mean
        self.mean[:2] += m[:, 2]
        self.cov = t @ self.cov @ t.T

    @property
    def box(self) -> np.ndarray:
        return xyah_to_xyxy(self.mean)

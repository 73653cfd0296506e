"""Camera-motion compensation: the global motion between two frames.

On a drone or a panning camera, everything moves in the image even when
nobody walks; a tracker that predicts from image motion alone then loses
everyone. As in BoT-SORT (Aharon et al. 2022): track corner features from the
previous frame with sparse optical flow, fit a similarity transform (rotation,
scale, translation) with RANSAC so that the people moving on their own are
outliers, and apply it to every track's prediction.
"""

from __future__ import annotations

import cv2
import numpy as np

IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


class CameraMotion:
    def __init__(self, width: int = 480, max_corners: int = 300) -> None:
        self.width = width
        self.max_corners = max_corners
        self._prev: np.ndarray | None = None
        self._scale = 1.0

    def estimate(self, image: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
        """2x3 affine taking last frame's pixel coordinates to this frame's.

        `exclude`: boxes (xyxy, full resolution) of tracked objects, whose own
        motion must not be taken for the camera's.
        """
        h, w = image.shape[:2]
        scale = min(1.0, self.width / w)
        gray = cv2.cvtColor(
            cv2.resize(image, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY
        )
        prev, self._prev, self._scale = self._prev, gray, scale
        if prev is None or prev.shape != gray.shape:
            return IDENTITY.copy()
        mask = np.full(prev.shape, 255, np.uint8)
        if exclude is not None:
            for x1, y1, x2, y2 in (np.asarray(exclude).reshape(-1, 4) * scale).astype(int):
                mask[max(0, y1) : max(0, y2), max(0, x1) : max(0, x2)] = 0
        pts = cv2.goodFeaturesToTrack(prev, self.max_corners, 0.01, 8, mask=mask)
        if pts is None or len(pts) < 8:
            return IDENTITY.copy()
        nxt, status, _ = cv2.calcOpticalFlowPyrLK(prev, gray, pts, None, winSize=(21, 21), maxLevel=3)
        ok = status.reshape(-1) == 1
        if ok.sum() < 8:
            return IDENTITY.copy()
        m, inliers = cv2.estimateAffinePartial2D(pts[ok], nxt[ok], method=cv2.RANSAC, ransacReprojThreshold=1.5)
        if m is None or inliers is None or inliers.sum() < 6:
            return IDENTITY.copy()
        # Back to full-resolution pixels: scale the translation, keep the linear part.
        m = m.astype(float)
        m[:, 2] /= scale
        return m


def warp_boxes(boxes: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Apply a 2x3 similarity to xyxy boxes (centres move, sizes scale)."""
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    centre = np.c_[(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2]
    moved = centre @ m[:, :2].T + m[:, 2]
    s = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    half = np.c_[boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]] * s / 2
    return np.c_[moved - half, moved + half]

"""Static privacy masks: parts of a camera's view that are never analysed nor stored.

A city may film a street but not the windows of the homes along it. The site
file gives each camera polygons in its main stream's pixels; every decoded
frame has them filled with black before the motion gate, the detector, the
describer or the thumbnails see it, so nothing inside them can be detected,
described, cropped or kept.

Frames may reach the pipeline smaller than the main stream (shrunk while
decoding, or a sub-stream): `Frame.scale` is source pixels per image pixel,
and the polygons are scaled by it.
"""

from __future__ import annotations

import cv2
import numpy as np

from vigie.types import Frame


def main_stream_width(camera) -> int | None:
    """The camera's main stream width as the site file gives it (`main_stream_size`), else None."""
    return int(camera.main_stream_size[0]) if camera is not None and camera.main_stream_size else None


def masks_width(store, camera_id: str, camera, at, in_view: int | None = None) -> int | None:
    """The width, in pixels, of the picture a camera's masks are drawn on (the main stream's): its configured
    size, else the frames its tracks were analysed on: `in_view`, a track on screen, else the track that began
    nearest `at` (store.analysed_frame_width). Not a recording's own width: a masked camera's recording may be
    narrower (record_masked_width, or a sub-stream). None when nothing knows it: the picture's own width then.
    Playback and exports both ask here, so the two scale masks alike."""
    return main_stream_width(camera) or in_view or store.analysed_frame_width(camera_id, at)


class PrivacyMask:
    def __init__(self, polygons: list[list[tuple[float, float]]]) -> None:
        self.polygons = [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in polygons]
        self._cache: dict[tuple[int, int, float], np.ndarray] = {}

    def __bool__(self) -> bool:
        return bool(self.polygons)

    def mask_for(self, shape: tuple[int, ...], scale: float) -> np.ndarray:
        """The (H, W) bool mask for images of this size and scale, drawn once."""
        key = (int(shape[0]), int(shape[1]), float(scale))
        if key not in self._cache:
            mask = np.zeros(key[:2], dtype=np.uint8)
            polys = [np.round(p / scale).astype(np.int32) for p in self.polygons]
            cv2.fillPoly(mask, polys, 1)
            # One pixel more all round: rounding must never leave the polygon's edge visible.
            mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
            self._cache[key] = mask.astype(bool)
        return self._cache[key]

    def apply(self, frame: Frame) -> None:
        """Black out the masked pixels of the frame's image, in place."""
        if self.polygons:
            frame.image[self.mask_for(frame.image.shape, frame.scale)] = 0

"""The Detector protocol: one frame in, Detections out."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from vigie.types import Detections


class Detector(Protocol):
    def detect(self, image: np.ndarray) -> Detections:
        """Boxes of the tracked classes in a BGR image, in its own pixel coordinates."""
        ...

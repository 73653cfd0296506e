"""Fakes shared by the tests: stand-ins for parts too slow or too real for the test at hand."""

from __future__ import annotations

import numpy as np


class FakeBlurrer:
    """Stands in for the face and plate blurrer (vigie.privacy.blur.Blurrer).

    It records every call in `calls`, and marks what it returns so that a test can tell a
    picture went through it:
    - paint "black": the whole picture black;
    - paint "none": the picture as it was given;
    - paint "invert": its top-left quarter inverted;
    - paint "heads": each person box's top quarter white, each reported as a face region.

    calls: one dict per call: {"crop": shape, "class_name"} for blur_crop, and
    {"shape", "vehicle_boxes", "person_boxes"} for blur.
    """

    def __init__(self, paint: str = "black", style: str = "blur") -> None:
        if paint not in ("black", "none", "invert", "heads"):
            raise ValueError(f"FakeBlurrer paints black, none, invert or heads, not {paint!r}")
        self.paint, self.style = paint, style
        self.calls: list[dict] = []

    def blur_crop(self, crop: np.ndarray, class_name: str):
        self.calls.append({"crop": crop.shape, "class_name": class_name})
        return self._painted(crop)

    def blur(self, image: np.ndarray, vehicle_boxes=None, person_boxes=None):
        self.calls.append({"shape": image.shape, "vehicle_boxes": vehicle_boxes, "person_boxes": person_boxes})
        return self._painted(image, person_boxes)

    def _painted(self, image: np.ndarray, person_boxes=None) -> tuple[np.ndarray, list]:
        if self.paint == "black":
            return np.zeros_like(image), []
        out = image.copy()
        if self.paint == "invert":
            h, w = out.shape[:2]
            out[: h // 2, : w // 2] = 255 - out[: h // 2, : w // 2]
            return out, []
        if self.paint == "heads":
            people = np.array(person_boxes if person_boxes is not None else []).reshape(-1, 4)
            for x1, y1, x2, y2 in people.astype(int):
                out[y1 : y1 + (y2 - y1) // 4, x1:x2] = 255
            return out, [("face", b) for b in people]
        return out, []

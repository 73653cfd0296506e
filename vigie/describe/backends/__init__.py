"""Appearance backends: trained networks (and today's hand-made descriptor) behind one protocol.

Every backend turns person crops (BGR uint8 images, each a whole crop) into unit vectors
whose dot product is their similarity. A vector is stored with its backend's `name`, so
vectors of different backends are never compared. One file per backend:

* `stripes_parts`: colour stripes + MobileNetV2 part features (the wave-1 default);
* `osnet`: OSNet (torchreid, trained on MSMT17), ONNX, run with onnxruntime;
* `openvino_ir`: Open Model Zoo person-reidentification-retail-* IR, run with openvino;
* `fusion`: several of the above side by side, weighted, each crop also seen mirrored.

`build_backend(name)` makes one from its name in the site file (`appearance.backend`);
`BACKENDS` lists the names with the model files they need and their licences.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from vigie.describe.embed import crop_windows, l2_normalise


class AppearanceBackend(Protocol):
    name: str  # stored with every vector: it names the backend, its model files and its version
    dim: int
    licence: str  # shown in the README and the public register

    def describe_crops(self, crops: list[np.ndarray]) -> np.ndarray:
        """(N, dim) float32 unit vectors for N BGR crops."""
        ...

    def check(self) -> None:
        """Find and load the model files now: ModelError naming the file when one is missing or corrupt."""
        ...


def cut(image_bgr: np.ndarray, boxes_xyxy: np.ndarray) -> list[np.ndarray]:
    """The crops of the boxes (clipped to the image, at least 1x1), in order."""
    if image_bgr.ndim != 3 or image_bgr.shape[2] != 3 or image_bgr.dtype != np.uint8 or not image_bgr.size:
        raise ValueError(f"expected an HxWx3 uint8 BGR image, got {image_bgr.shape} {image_bgr.dtype}")
    return [image_bgr[y1:y2, x1:x2] for x1, y1, x2, y2 in crop_windows(image_bgr.shape, boxes_xyxy)]


def describe_boxes(backend: AppearanceBackend, image_bgr: np.ndarray, boxes_xyxy: np.ndarray) -> np.ndarray:
    """(N, dim) unit vectors of the boxes of one frame."""
    crops = cut(image_bgr, boxes_xyxy)
    return backend.describe_crops(crops) if crops else np.zeros((0, backend.dim), np.float32)


def resized_batch(crops: list[np.ndarray], hw: tuple[int, int], flip: bool = False) -> np.ndarray:
    """(N, H, W, 3) uint8: each crop squashed to H x W (bilinear, aspect not kept, as the networks were
    trained), mirrored left-right where `flip`."""
    h, w = hw
    out = np.empty((len(crops), h, w, 3), np.uint8)
    for i, crop in enumerate(crops):
        if crop.ndim != 3 or crop.shape[2] != 3 or crop.dtype != np.uint8 or not crop.size:
            raise ValueError(f"crop {i}: expected an HxWx3 uint8 BGR image, got {crop.shape} {crop.dtype}")
        out[i] = cv2.resize(np.ascontiguousarray(crop), (w, h), interpolation=cv2.INTER_LINEAR)
    return out[:, :, ::-1] if flip else out


def unit(x: np.ndarray) -> np.ndarray:
    """A network's output (N, ...) as N L2-normalised rows."""
    return l2_normalise(np.asarray(x, np.float32).reshape(len(x), -1))

"""YOLOX-nano (Megvii, Apache-2.0): COCO's 80 classes, or ByteTrack's people-only model.

Two trained files, one decoding (YOLOX's head exported without its own decoding):

* `yolox-nano`: detect/yolox_nano_416x416.onnx, COCO. Input `images` [1, 3, 416, 416],
  BGR 0-255, no normalisation, letterboxed with grey 114 (as YOLOX was trained).
* `bytetrack-nano`: detect/bytetrack_nano.onnx, the YOLOX-nano ByteTrack's authors
  trained for people only on MOT17, CrowdHuman, CityPersons and ETHZ (non-commercial
  data: an option a site chooses knowingly, never the default). Input [1, 3, 608, 1088],
  RGB / 255 with ImageNet mean/std, letterboxed with grey 114.

Output [1, N, 5 + classes], one row per cell of the stride 8, 16 and 32 grids in that
order (row-major): x and y offsets from the cell corner and log width and height, all
in strides, then objectness and class scores already through their sigmoid. A box's
score is objectness times its class score.
"""

from __future__ import annotations

import numpy as np

from vigie.detect.network import Network
from vigie.detect.tfjs.runtime import coco_to_vigie, finish, letterbox
from vigie.errors import ModelError
from vigie.types import CLASS_ID, Detections

STRIDES = (8, 16, 32)
PAD = 114
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)

FILES = {"yolox-nano": "detect/yolox_nano_416x416.onnx", "bytetrack-nano": "detect/bytetrack_nano.onnx"}


def grid(hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(cells, 2) cell corners and (cells,) strides of the three levels, in the output's order."""
    corners, strides = [], []
    for stride in STRIDES:
        gh, gw = hw[0] // stride, hw[1] // stride
        ys, xs = np.mgrid[0:gh, 0:gw]
        corners.append(np.stack([xs.ravel(), ys.ravel()], axis=1))
        strides.append(np.full(gh * gw, stride))
    return np.concatenate(corners).astype(np.float32), np.concatenate(strides).astype(np.float32)


class YoloxDetector:
    """Finds people (and, for the COCO model, vehicles); returns only Vigie's tracked classes."""

    def __init__(self, config, classes: list[str] | None = None) -> None:
        self.config = config
        self.people_only = config.type == "bytetrack-nano"
        self.net = Network(
            config.model or FILES[config.type],
            f"detector {config.type}",
            config.threads,
            config.runtime,
            config.precision,
        )
        self.hw = self.net.input_hw
        self.corners, self.strides = grid(self.hw)
        n_classes = 1 if self.people_only else 80
        if self.net.run(self.preprocess(np.zeros((*self.hw, 3), np.uint8)))[self.net.output_names[0]].shape[1:] != (
            len(self.strides),
            5 + n_classes,
        ):
            raise ModelError(
                f"{self.net.path} is not a {config.type} graph: its output is not [1, {len(self.strides)}, {5 + n_classes}]"
            )
        if self.people_only:
            wanted = not classes or "person" in classes
            self.coco_to_vigie = np.array([CLASS_ID["person"] if wanted else -1], np.int16)  # its one class
        else:
            self.coco_to_vigie = coco_to_vigie(classes)

    def _tensor(self, canvas: np.ndarray) -> np.ndarray:
        if self.people_only:
            x = (canvas[:, :, ::-1].astype(np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
        else:
            x = canvas.astype(np.float32)
        return np.ascontiguousarray(x.transpose(2, 0, 1)[None])

    def preprocess(self, image: np.ndarray) -> np.ndarray:
        """BGR image -> the network's input tensor."""
        return self._tensor(letterbox(image, self.hw, PAD)[0])

    def detect(self, image: np.ndarray) -> Detections:
        canvas, scale = letterbox(image, self.hw, PAD)
        out = self.net.run(self._tensor(canvas))[self.net.output_names[0]][0]
        cls = out[:, 5:]
        best = cls.argmax(axis=1)
        conf = out[:, 4] * cls[np.arange(len(cls)), best]
        vig = self.coco_to_vigie[best]
        keep = np.flatnonzero((conf >= self.config.confidence) & (vig >= 0))
        if not len(keep):
            return Detections.empty()
        stride = self.strides[keep, None]
        centre = (out[keep, :2] + self.corners[keep]) * stride
        half = np.exp(np.minimum(out[keep, 2:4], 10.0)) * stride / 2  # clamp: exp of a stray logit overflows
        xyxy = np.concatenate([centre - half, centre + half], axis=1) / scale
        return finish(xyxy, conf[keep], vig[keep], image.shape, self.config.confidence, self.config.nms_iou)

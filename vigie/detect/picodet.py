"""PP-PicoDet-S (PaddleDetection, Apache-2.0), COCO's 80 classes, at 320 or 416.

Files: detect/picodet_s_320_coco.onnx and detect/picodet_s_416_coco.onnx. Input `image`
[1, 3, S, S]: BGR with NanoDet's mean/std (the reference code's normaliser), letterboxed.
Output: for strides 8, 16, 32 and 64 in turn, class scores [1, cells, 80] (already
through a sigmoid) and then, after all four, the GFL box regression [1, cells, 32] = 4
sides (left, top, right, bottom) x 8 bins, decoded as NanoDet's (vigie.detect.gfl), with
the cell's centre at (x * stride + (stride - 1) / 2) as PaddleDetection places it.
"""

from __future__ import annotations

import numpy as np

from vigie.detect.gfl import gfl_boxes
from vigie.detect.network import Network
from vigie.detect.tfjs.runtime import coco_to_vigie, finish, letterbox
from vigie.errors import ModelError
from vigie.types import Detections

MEAN = np.array([103.53, 116.28, 123.675], dtype=np.float32)  # BGR
STD = np.array([57.375, 57.12, 58.395], dtype=np.float32)
STRIDES = (8, 16, 32, 64)
REG_BINS = 8
FILE = "detect/picodet_s_{size}_coco.onnx"


class PicoDetDetector:
    """Finds COCO objects; returns only Vigie's tracked classes."""

    def __init__(self, config, classes: list[str] | None = None) -> None:
        self.config = config
        self.net = Network(
            config.model or FILE.format(size=config.input_size),
            "detector picodet-s",
            config.threads,
            config.runtime,
            config.precision,
        )
        self.hw = self.net.input_hw
        names = self.net.output_names
        if len(names) != 2 * len(STRIDES):
            raise ModelError(f"{self.net.path} is not a PP-PicoDet graph: it has {len(names)} outputs, not 8")
        self.levels = []  # (stride, grid width, cell count, class output, box output)
        for i, stride in enumerate(STRIDES):
            gh, gw = -(-self.hw[0] // stride), -(-self.hw[1] // stride)
            self.levels.append((stride, gw, gh * gw, names[i], names[i + len(STRIDES)]))
        self.coco_to_vigie = coco_to_vigie(classes)

    def preprocess(self, image: np.ndarray) -> np.ndarray:
        """BGR image -> the network's input tensor (letterboxed, normalised, NCHW)."""
        canvas, _ = letterbox(image, self.hw)
        return np.ascontiguousarray(((canvas.astype(np.float32) - MEAN) / STD).transpose(2, 0, 1)[None])

    def detect(self, image: np.ndarray) -> Detections:
        scale = min(  # letterbox's scale
            self.hw[0] / image.shape[0], self.hw[1] / image.shape[1]
        )
        outs = self.net.run(self.preprocess(image))
        boxes, scores, classes = [], [], []
        for stride, gw, cells, cls_name, reg_name in self.levels:
            cls = outs[cls_name].reshape(cells, 80)
            coco = cls.argmax(axis=1)
            conf = cls[np.arange(cells), coco]
            vig = self.coco_to_vigie[coco]
            keep = np.flatnonzero((conf >= self.config.confidence) & (vig >= 0))
            if not len(keep):
                continue
            reg = outs[reg_name].reshape(cells, 4 * REG_BINS)
            boxes.append(gfl_boxes(reg, keep, gw, stride, REG_BINS, (stride - 1) / 2))
            scores.append(conf[keep])
            classes.append(vig[keep])
        if not boxes:
            return Detections.empty()
        xyxy = np.concatenate(boxes) / scale
        return finish(
            xyxy,
            np.concatenate(scores),
            np.concatenate(classes),
            image.shape,
            self.config.confidence,
            self.config.nms_iou,
        )

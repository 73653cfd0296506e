"""Open Model Zoo person re-identification networks (OpenVINO IR), run with the `openvino` package.

person-reidentification-retail-0277, -0286, -0287 and -0288 take `data` [1, 3, 256, 128]:
a BGR crop of 0-255 values, squashed to 256 x 128, no mean or scale (the IR carries
its own normalisation), and give `reid_embedding` [1, 256]. The IR files are built for
a batch of one; the model is reshaped to a dynamic batch so a track's crops run at once.

Licence: Apache-2.0 (Open Model Zoo), with Intel's human-rights usage statement:
surveillance use must respect it. Training data not disclosed.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from vigie.describe.backends import resized_batch, unit
from vigie.models import find_model
from vigie.onnx import OMZ_LICENCE, openvino_compiled

INPUT_HW = (256, 128)
LICENCE = OMZ_LICENCE
OMZ = "reid/person-reidentification-retail-{n}/{precision}/person-reidentification-retail-{n}.xml"
MODELS = {  # the Open Model Zoo files ../shared/models holds, by short name
    "omz-0277": OMZ.format(n="0277", precision="FP16"),
    "omz-0286": OMZ.format(n="0286", precision="FP16"),
    "omz-0287": OMZ.format(n="0287", precision="FP32"),
    "omz-0288": OMZ.format(n="0288", precision="FP32"),
}


def preprocess(crops: list[np.ndarray], flip: bool = False) -> np.ndarray:
    """(N, 3, 256, 128) float32, BGR, 0-255: the network's input."""
    return np.ascontiguousarray(resized_batch(crops, INPUT_HW, flip).transpose(0, 3, 1, 2), dtype=np.float32)


def compiled_network(path: Path, threads: int):
    """The re-ID network at `path`, compiled once per process with a dynamic batch."""
    return openvino_compiled(path, "appearance network", threads, dynamic_batch_hw=INPUT_HW)


class OpenVinoReid:
    """(N, 256) unit vectors from an Open Model Zoo re-ID IR (.xml beside its .bin)."""

    licence = LICENCE

    def __init__(self, model: str | Path, name: str, threads: int = 1, max_batch: int = 32) -> None:
        self.model, self.name, self.threads, self.max_batch = model, name, threads, max_batch
        self.dim = 256
        self._request = None
        self._lock = threading.Lock()

    def check(self) -> None:
        """Find and compile the network now: a missing or corrupt file is a ModelError before any
        video is analysed, not when the first track ends."""
        compiled_network(find_model(self.model, f"appearance network {self.name}"), self.threads)

    def raw(self, batch: np.ndarray) -> np.ndarray:
        with self._lock:  # one infer request per instance: a camera's crops run one batch at a time
            if self._request is None:
                compiled = compiled_network(find_model(self.model, f"appearance network {self.name}"), self.threads)
                self._request = compiled.create_infer_request()
            out = [
                self._request.infer({0: batch[i : i + self.max_batch]})[0].copy()
                for i in range(0, len(batch), self.max_batch)
            ]
        return np.concatenate(out).reshape(len(batch), -1).astype(np.float32)

    def describe_crops(self, crops: list[np.ndarray], flip: bool = False) -> np.ndarray:
        if not crops:
            return np.zeros((0, self.dim), np.float32)
        return unit(self.raw(preprocess(crops, flip)))

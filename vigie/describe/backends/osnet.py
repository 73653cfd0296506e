"""OSNet person re-identification (Zhou et al., ICCV 2019), torchreid's MSMT17 weights as ONNX.

`input` [N, 3, 256, 128]: an RGB crop squashed to 256 x 128, / 255, then ImageNet mean
and standard deviation; `output` [N, 512]. Run with onnxruntime.

Licence: code MIT (deep-person-reid); the MSMT17 training data is for non-commercial
research.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vigie.describe.backends import resized_batch, unit
from vigie.describe.embed import MEAN_RGB, STD_RGB
from vigie.models import find_model
from vigie.onnx import LazySession, cpu_session

INPUT_HW = (256, 128)
LICENCE = "code MIT (deep-person-reid); trained on MSMT17, a data set for non-commercial research"
MODELS = {"osnet-x0.25": "reid/osnet_x0_25_msmt17.onnx", "osnet-x0.5": "reid/osnet_x0_5_msmt17.onnx"}


def preprocess(crops: list[np.ndarray], flip: bool = False) -> np.ndarray:
    """(N, 3, 256, 128) float32, RGB, ImageNet-normalised: the network's input."""
    rgb = resized_batch(crops, INPUT_HW, flip)[..., ::-1].astype(np.float32) / 255.0
    return np.ascontiguousarray(((rgb - MEAN_RGB) / STD_RGB).transpose(0, 3, 1, 2))


class OsNet:
    """(N, 512) unit vectors from an OSNet ONNX file."""

    licence = LICENCE
    dim = 512

    def __init__(self, model: str | Path, name: str, threads: int = 1, max_batch: int = 32) -> None:
        self.model, self.name, self.max_batch = model, name, max_batch
        self._session = LazySession(
            lambda: cpu_session(
                find_model(model, f"appearance network {name}"), threads, f"appearance network {name} ({model})"
            )
        )

    def check(self) -> None:
        """Find and load the network now (a ModelError before any video is analysed)."""
        self._session.get()

    def raw(self, batch: np.ndarray) -> np.ndarray:
        session = self._session.get()
        feed = session.get_inputs()[0].name
        out = [
            session.run(None, {feed: batch[i : i + self.max_batch]})[0] for i in range(0, len(batch), self.max_batch)
        ]
        return np.concatenate(out).reshape(len(batch), -1).astype(np.float32)

    def describe_crops(self, crops: list[np.ndarray], flip: bool = False) -> np.ndarray:
        if not crops:
            return np.zeros((0, self.dim), np.float32)
        return unit(self.raw(preprocess(crops, flip)))

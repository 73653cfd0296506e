"""The Open Model Zoo attribute networks (OpenVINO IR), run with the `openvino` package.

- person-attributes-recognition-crossroad-0230: `0` [N, 3, 160, 80] BGR 0-255 (the IR
  normalises) -> `453` [N, 8, 1, 1] sigmoid scores. Vigie reads six of them
  (vigie.describe.attributes.READ_OUTPUTS); the sex and long-hair scores are dropped here,
  in the one function that touches the output, so nothing downstream can reach them.
- vehicle-attributes-recognition-barrier-0039: `input` [N, 3, 72, 72] BGR 0-255 ->
  `type` [N, 4] (car, bus, truck, van) and `color` [N, 7] softmax.

Both are reshaped to a dynamic batch, so a track's crops run at once. Licence: Apache-2.0
(Open Model Zoo), with Intel's human-rights usage statement; training data not disclosed.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from vigie.describe.attributes import READ_OUTPUTS
from vigie.describe.backends import resized_batch
from vigie.errors import ModelFileMissing
from vigie.models import find_model
from vigie.onnx import OMZ_LICENCE, openvino_compiled

log = logging.getLogger(__name__)

PERSON_MODEL = (
    "attributes/person-attributes-recognition-crossroad-0230/FP32/person-attributes-recognition-crossroad-0230.xml"
)
VEHICLE_MODEL = (
    "attributes/vehicle-attributes-recognition-barrier-0039/FP32/vehicle-attributes-recognition-barrier-0039.xml"
)
LICENCE = OMZ_LICENCE  # both are Open Model Zoo networks
PERSON_HW = (160, 80)
VEHICLE_HW = (72, 72)
_READ = np.array(list(READ_OUTPUTS.values()))


class _Net:
    """One compiled IR, one infer request, batches of at most max_batch crops."""

    def __init__(self, model: str | Path, what: str, hw: tuple[int, int], threads: int = 1, max_batch: int = 32):
        self.model, self.what, self.hw, self.threads, self.max_batch = model, what, hw, threads, max_batch
        self._request = None
        self._lock = threading.Lock()

    def check(self) -> Path:
        """Find and compile now: a missing or corrupt file is a ModelError before any video is read."""
        path = find_model(self.model, self.what)
        openvino_compiled(path, self.what, self.threads, dynamic_batch_hw=self.hw)
        return path

    def run(self, crops: list[np.ndarray]) -> list[dict[str, np.ndarray]]:
        batch = np.ascontiguousarray(resized_batch(crops, self.hw).transpose(0, 3, 1, 2), dtype=np.float32)
        with self._lock:
            if self._request is None:
                compiled = openvino_compiled(
                    find_model(self.model, self.what), self.what, self.threads, dynamic_batch_hw=self.hw
                )
                self._request = compiled.create_infer_request()
            outs = []
            for i in range(0, len(batch), self.max_batch):
                res = self._request.infer({0: batch[i : i + self.max_batch]})
                outs.append({k.get_any_name(): v.copy() for k, v in res.items()})
        return outs


class PersonAttributeNet(_Net):
    def __init__(self, model: str | Path = PERSON_MODEL, threads: int = 1) -> None:
        super().__init__(model, "person attribute network", PERSON_HW, threads)

    def scores(self, crops: list[np.ndarray]) -> np.ndarray:
        """(N, 6) probabilities of bag, backpack, hat, long sleeves, long trousers, coat."""
        if not crops:
            return np.zeros((0, len(_READ)), np.float32)
        return np.concatenate([o["453"].reshape(-1, 8)[:, _READ] for o in self.run(crops)]).astype(np.float32)


class VehicleAttributeNet(_Net):
    def __init__(self, model: str | Path = VEHICLE_MODEL, threads: int = 1) -> None:
        super().__init__(model, "vehicle attribute network", VEHICLE_HW, threads)

    def scores(self, crops: list[np.ndarray]) -> np.ndarray:
        """(N, 11): the 4 type probabilities (car, bus, truck, van), then the 7 colour ones."""
        if not crops:
            return np.zeros((0, 11), np.float32)
        outs = self.run(crops)
        return np.concatenate([np.c_[o["type"].reshape(-1, 4), o["color"].reshape(-1, 7)] for o in outs]).astype(
            np.float32
        )


def available(net: _Net, what_it_gives: str) -> _Net | None:
    """The network if its file is there (compiled now), else None with a warning that names the
    file and what it would give: no registry package ships an attribute network, so without it
    those attributes stay unknown and the analysis goes on."""
    try:
        net.check()
    except ModelFileMissing as exc:
        log.warning("%s; %s stay unknown for this analysis (the file gives them).", exc, what_it_gives)
        return None
    return net


def attribute_networks(config) -> tuple[PersonAttributeNet | None, VehicleAttributeNet | None]:
    """The site's attribute networks (analysis.attributes), each None when switched off or its file is absent."""
    people = vehicles = None
    if config.people:
        people = available(
            PersonAttributeNet(config.models.get("people", PERSON_MODEL)), "people's clothing and carried objects"
        )
    if config.vehicles:
        vehicles = available(VehicleAttributeNet(config.models.get("vehicles", VEHICLE_MODEL)), "vehicle types")
    return people, vehicles

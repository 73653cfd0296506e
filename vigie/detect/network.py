"""One detection network, run by onnxruntime or by OpenVINO, behind one small interface.

The trained detector files a site supplies (../shared/models/detect, or the site's own
copies) are ONNX graphs or OpenVINO IR. OpenVINO reads both; onnxruntime reads ONNX only.
`Network.run(blob)` returns every output by name, so a backend's decoding never depends
on the runtime. Both follow Vigie's threading rule: intra-op threads as configured (one
camera per core by default), no inter-op parallelism.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from vigie.errors import ModelError
from vigie.models import find_model
from vigie.onnx import cpu_session, openvino_compiled

Runtime = Literal["onnxruntime", "openvino"]
# OpenVINO's arithmetic on the CPU. "auto" is OpenVINO's own choice: bfloat16 where the CPU
# has it (AVX-512 BF16, AMX), about twice as fast there, float32 elsewhere. "f32" gives the
# same boxes on every CPU (docs/BENCHMARKS.md measures both).
Precision = Literal["auto", "f32"]


class Network:
    """A detector graph with one image input. `shape` is the input's (N, C, H, W) as the file fixes it."""

    def __init__(
        self,
        model: str | Path,
        what: str,
        threads: int = 1,
        runtime: Runtime = "onnxruntime",
        precision: Precision = "auto",
    ) -> None:
        self.path = model if isinstance(model, Path) and model.is_absolute() else find_model(model, what)
        self.runtime = runtime
        if runtime == "openvino":
            self._compiled = openvino_compiled(self.path, what, threads, precision)
            self._request = self._compiled.create_infer_request()  # one per detector: cameras never share one
            port = self._compiled.inputs[0]
            self.input_name = port.get_any_name()
            self.shape = tuple(port.get_partial_shape().to_shape())
            self.output_names = [o.get_any_name() for o in self._compiled.outputs]
        elif self.path.suffix == ".xml":
            raise ModelError(f"{self.path} is OpenVINO IR: set the detector's runtime to openvino")
        else:
            self._session = cpu_session(self.path, threads, what, quiet=True)
            inp = self._session.get_inputs()[0]
            self.input_name = inp.name
            self.shape = tuple(inp.shape)
            self.output_names = [o.name for o in self._session.get_outputs()]

    @property
    def input_hw(self) -> tuple[int, int]:
        return int(self.shape[2]), int(self.shape[3])

    def run(self, blob: np.ndarray) -> dict[str, np.ndarray]:
        """Every output of the network for one input blob, by output name."""
        if self.runtime == "openvino":
            result = self._request.infer({0: blob})
            return {name: np.asarray(result[port]) for name, port in zip(self.output_names, self._compiled.outputs)}
        return dict(zip(self.output_names, self._session.run(self.output_names, {self.input_name: blob})))

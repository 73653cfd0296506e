"""One way to open a network on the CPU: onnxruntime for ONNX, OpenVINO for IR (and ONNX).

Every network Vigie runs (the appearance networks, the face and text detectors)
is opened here, so they share the same threading rule (one camera per core:
intra-op threads as asked, no inter-op parallelism) and the same error: a
ModelError that names the model.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Callable

import numpy as np

from vigie.errors import ModelError


def package_file(package: str, parts: tuple[str, ...], what: str, hint: str) -> Path:
    """A file inside an installed package (model weights ship in registry packages), found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"{what} not found: the `{package}` package is not installed; install it with `{hint}`")
    path = Path(list(spec.submodule_search_locations)[0]).joinpath(*parts)
    if not path.is_file():
        raise ModelError(f"{what} {path} is missing from the `{package}` package: reinstall it with `{hint}`")
    return path


class LazySession:
    """An onnxruntime session opened on first use, once, whichever thread asks first.

    open_: returns the session (it raises ModelError naming the model when it cannot)."""

    def __init__(self, open_: Callable[[], object]) -> None:
        self._open = open_
        self._session = None
        self._lock = threading.Lock()

    def get(self):
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = self._open()
        return self._session


def cpu_session(model, threads: int, what: str, quiet: bool = False):
    """An onnxruntime InferenceSession for `model` (a path or the model's bytes)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    if quiet:
        opts.log_severity_level = 3  # e.g. CenterFace carries unused batch-norm initialisers
    try:
        return ort.InferenceSession(
            str(model) if not isinstance(model, bytes) else model, opts, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:
        raise ModelError(f"onnxruntime cannot load the {what}: {exc}") from None


# Every Open Model Zoo network's terms (detectors, re-ID and attribute networks): one text.
OMZ_LICENCE = "Apache-2.0 (Open Model Zoo), with Intel's human-rights usage statement; training data not disclosed"

_OPENVINO_COMPILED: dict[tuple, object] = {}  # one compiled network per file and settings, per process
_OPENVINO_LOCK = threading.Lock()


def openvino_compiled(
    path: Path,
    what: str,
    threads: int,
    precision: str = "auto",
    dynamic_batch_hw: tuple[int, int] | None = None,
    any_shape: bool = False,
):
    """The network at `path` compiled by OpenVINO for the CPU, once per process: compiling costs
    about half a second of CPU, and every camera of a process shares the result, each through
    its own infer request. precision "f32" forbids OpenVINO's bfloat16 (its default on CPUs
    that have it); dynamic_batch_hw reshapes an NCHW input of batch 1 to any batch; any_shape makes
    the batch, height and width all free (a fully convolutional network such as CenterFace: compiled
    once, OpenVINO keeps its kernels per shape met)."""
    key = (str(Path(path).resolve()), threads, precision, dynamic_batch_hw, any_shape)
    with _OPENVINO_LOCK:
        if key not in _OPENVINO_COMPILED:
            try:
                import openvino as ov  # heavy: loaded only when an OpenVINO network runs
            except ImportError:
                raise ModelError(
                    f"{path} needs the `openvino` package, which is not installed: make setup installs it"
                ) from None
            try:
                core = ov.Core()
                net = core.read_model(str(path))
                if dynamic_batch_hw is not None:
                    net.reshape({net.inputs[0].get_any_name(): ov.PartialShape([-1, 3, *dynamic_batch_hw])})
                if any_shape:
                    net.reshape({net.inputs[0].get_any_name(): ov.PartialShape([-1, 3, -1, -1])})
                options = {"INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1}
                if precision == "f32":
                    options["INFERENCE_PRECISION_HINT"] = "f32"
                _OPENVINO_COMPILED[key] = core.compile_model(net, "CPU", options)
            except Exception as exc:  # a corrupt graph, a missing or short .bin: say which file
                raise ModelError(f"openvino cannot load the {what} {path}: {exc}") from None
        return _OPENVINO_COMPILED[key]


def openvino_available() -> bool:
    """Whether the `openvino` package is installed (found without importing it: the import is heavy)."""
    try:
        return importlib.util.find_spec("openvino") is not None
    except (ImportError, ValueError):
        return False


class OpenVinoSession:
    """A compiled OpenVINO network behind onnxruntime's `run(output_names, {input: blob})`, so that code
    written for an InferenceSession runs on either. One infer request per thread: a request holds its
    input and output buffers, so two threads must never share one."""

    def __init__(self, compiled) -> None:
        self._compiled = compiled
        self._ports = {o.get_any_name(): o for o in compiled.outputs}
        self._local = threading.local()

    def run(self, output_names, feeds: dict):
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self._compiled.create_infer_request()
        (blob,) = feeds.values()
        result = request.infer({0: blob})
        names = output_names or list(self._ports)
        return [np.array(result[self._ports[name]]) for name in names]

"""One way to open an ONNX model: onnxruntime on the CPU, a given number of threads.

Every network Vigie runs (the appearance networks, the face and text detectors)
is opened here, so they share the same threading rule (one camera per core:
intra-op threads as asked, no inter-op parallelism) and the same error: a
ModelError that names the model.
"""
from __future__ import annotations

from vigie.errors import ModelError


def cpu_session(model, threads: int, what: str, quiet: bool = False):
    """An onnxruntime InferenceSession for `model` (a path or the model's bytes)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    if quiet:
        opts.log_severity_level = 3  # e.g. CenterFace carries unused batch-norm initialisers
    try:
        return ort.InferenceSession(str(model) if not isinstance(model, bytes) else model, opts,
                                    providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ModelError(f"onnxruntime cannot load the {what}: {exc}") from None

"""Give a translated graph another input size (a 16:9 input for 16:9 cameras).

A detector graph built for 416x416 spends 44 % of its work on black padding
when a 16:9 frame is letterboxed into it. Convolutions do not care about the
size; what a TF.js export fixes are the constants that the exporter folded
from it. In NanoDet those are only the FPN's upsampling sizes (each
ResizeBilinear's `size`, e.g. [26, 26]); its reshapes use -1. So the graph
can be re-targeted by giving the placeholder the new shape and scaling each
resize size by the same factors. A graph with other folded sizes (CenterNet's
top-k over a fixed heat map) is refused by the caller's check: the ONNX model
is run once on the new shape before it is used.
"""

from __future__ import annotations

import copy

import numpy as np

from vigie.detect.tfjs.graph import TfGraph
from vigie.errors import ModelError


def spatial_axes(shape: tuple[int, ...]) -> tuple[int, int]:
    """(height axis, width axis) of a 4-D image input, NCHW or NHWC."""
    if len(shape) != 4:
        raise ModelError(f"input shape {shape} is not a 4-D image batch")
    if shape[1] == 3:
        return 2, 3  # NCHW
    if shape[3] == 3:
        return 1, 2  # NHWC
    raise ModelError(f"input shape {shape}: no 3-channel axis to tell NCHW from NHWC")


def with_input_size(graph: TfGraph, height: int, width: int) -> TfGraph:
    """A copy of `graph` whose single image input is height x width."""
    if len(graph.inputs) != 1:
        raise ModelError("only a graph with a single image input can be re-sized")
    ((name, (shape, dtype)),) = graph.inputs.items()
    h_axis, w_axis = spatial_axes(shape)
    h0, w0 = shape[h_axis], shape[w_axis]
    if height % 32 or width % 32:
        raise ModelError(f"input size {height}x{width}: both sides must be multiples of 32 (the largest stride)")
    new_shape = list(shape)
    new_shape[h_axis], new_shape[w_axis] = height, width
    consts = dict(graph.consts)
    for node in graph.nodes:
        if node.op != "ResizeBilinear":
            continue
        size_name = node.inputs[1]
        if size_name not in graph.consts:
            continue  # computed at run time: follows the input by itself
        old = graph.consts[size_name]
        new = old.astype(np.float64) * [height / h0, width / w0]
        if not np.allclose(new, np.round(new)):
            raise ModelError(f"resize {node.name!r} of size {old.tolist()} does not scale to {height}x{width}")
        consts[size_name] = np.round(new).astype(old.dtype)
    out = copy.copy(graph)
    out.consts = consts
    out.inputs = {name: (tuple(new_shape), dtype)}
    return out

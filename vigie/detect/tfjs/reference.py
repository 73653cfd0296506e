"""TensorFlow's semantics of each supported op, in numpy: the yardstick.

Written from TF's kernels, not from the ONNX translation, so that comparing
the two tests the translation: SAME padding splits its total as TF does
(the odd pixel after), ResizeBilinear maps coordinates with TF's legacy or
half-pixel scaler and clamps as TF does, TopK breaks ties towards the lower
index, FloorDiv/FloorMod round towards minus infinity.

Arithmetic runs in float64 and is cast back to the TF dtype at the end, so a
difference from onnxruntime's float32 is the translation's rounding, not ours.
`run_graph` executes a whole TfGraph node by node (for the benchmark).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from vigie.detect.tfjs.graph import TfGraph, TfNode, tf_dtype

Ref = Callable[[TfNode, list[np.ndarray]], list[np.ndarray]]


def _int(a: np.ndarray) -> int:
    return int(np.asarray(a).reshape(-1)[0])


def _spatial(values, fmt: str) -> tuple[int, int]:
    return (values[1], values[2]) if fmt == "NHWC" else (values[2], values[3])


def same_pads(size: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TF's SAME: output ceil(size / s), padding total split with the odd pixel after."""
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def _pads(node: TfNode, x_nhwc: np.ndarray, kh: int, kw: int, sh: int, sw: int, dh: int, dw: int):
    fmt = node.attrs.get("data_format", "NHWC")
    padding = node.attrs.get("padding", "VALID")
    if padding == "SAME":
        return same_pads(x_nhwc.shape[1], kh, sh, dh), same_pads(x_nhwc.shape[2], kw, sw, dw)
    if padding == "EXPLICIT":
        p = node.attrs["explicit_paddings"]
        pairs = [(p[0], p[1]), (p[2], p[3]), (p[4], p[5]), (p[6], p[7])]
        return (pairs[1], pairs[2]) if fmt == "NHWC" else (pairs[2], pairs[3])
    return (0, 0), (0, 0)


def _nhwc(node: TfNode, x: np.ndarray) -> np.ndarray:
    return x if node.attrs.get("data_format", "NHWC") == "NHWC" else x.transpose(0, 2, 3, 1)


def _from_nhwc(node: TfNode, y: np.ndarray) -> np.ndarray:
    return y if node.attrs.get("data_format", "NHWC") == "NHWC" else y.transpose(0, 3, 1, 2)


def _windows(node: TfNode, x: np.ndarray, kh: int, kw: int, fill: float):
    """Yield (i, j, strided view) of the padded input for each kernel offset."""
    fmt = node.attrs.get("data_format", "NHWC")
    sh, sw = _spatial(node.attrs.get("strides", [1, 1, 1, 1]), fmt)
    dh, dw = _spatial(node.attrs.get("dilations", [1, 1, 1, 1]), fmt)
    (pt, pb), (pl, pr) = _pads(node, x, kh, kw, sh, sw, dh, dw)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=fill)
    oh = (xp.shape[1] - (kh - 1) * dh - 1) // sh + 1
    ow = (xp.shape[2] - (kw - 1) * dw - 1) // sw + 1
    for i in range(kh):
        for j in range(kw):
            yield i, j, xp[:, i * dh : i * dh + (oh - 1) * sh + 1 : sh, j * dw : j * dw + (ow - 1) * sw + 1 : sw, :]


def _conv(node: TfNode, x: np.ndarray, w: np.ndarray, depthwise: bool) -> np.ndarray:
    x = _nhwc(node, x.astype(np.float64))
    w = w.astype(np.float64)
    kh, kw = w.shape[:2]
    out = None
    for i, j, patch in _windows(node, x, kh, kw, 0.0):
        if depthwise:  # filter [kh, kw, C, M]: output channel c * M + m
            term = (patch[..., :, None] * w[i, j]).reshape(*patch.shape[:3], -1)
        else:  # filter [kh, kw, C_in, C_out]
            term = patch @ w[i, j]
        out = term if out is None else out + term
    return out  # NHWC, float64


def _activate(name: str, y: np.ndarray, node: TfNode) -> np.ndarray:
    if name == "Relu":
        return np.maximum(y, 0)
    if name == "Relu6":
        return np.clip(y, 0, 6)
    if name == "LeakyRelu":
        return np.where(y >= 0, y, y * node.attrs.get("leakyrelu_alpha", 0.2))
    if name == "Elu":
        return np.where(y > 0, y, np.expm1(np.minimum(y, 0)))
    if name == "Sigmoid":
        return 1 / (1 + np.exp(-y))
    raise NotImplementedError(name)


def _conv_op(depthwise: bool, fused: bool) -> Ref:
    def run(node: TfNode, ins: list[np.ndarray]) -> list[np.ndarray]:
        y = _conv(node, ins[0], ins[1], depthwise)
        if fused:
            ops = list(node.attrs.get("fused_ops", []))
            args = [a.astype(np.float64) for a in ins[2:]]
            if ops and ops[0] == "BiasAdd":
                y = y + args[0]
            elif ops and ops[0] == "FusedBatchNorm":
                scale, offset, mean, var = args[:4]
                y = (y - mean) * (scale / np.sqrt(var + node.attrs.get("epsilon", 1e-3))) + offset
            for act in ops[1:]:
                y = _activate(act, y, node)
        return [_from_nhwc(node, y).astype(ins[0].dtype)]

    return run


def _max_pool(node: TfNode, ins):
    x = _nhwc(node, ins[0])
    kh, kw = _spatial(node.attrs["ksize"], node.attrs.get("data_format", "NHWC"))
    out = None
    for _, _, patch in _windows(node, x, kh, kw, -np.inf):  # padding never wins a max
        out = patch if out is None else np.maximum(out, patch)
    return [_from_nhwc(node, out).astype(ins[0].dtype)]


def _resize_bilinear(node: TfNode, ins):
    x, size = ins[0].astype(np.float64), [int(v) for v in ins[1]]
    align, half = node.attrs.get("align_corners", False), node.attrs.get("half_pixel_centers", False)

    def weights(n_in: int, n_out: int):
        # TF computes the scale in float32 (CalculateResizeScale)
        scale = np.float32((n_in - 1) / (n_out - 1)) if align and n_out > 1 else np.float32(n_in / n_out)
        o = np.arange(n_out, dtype=np.float32)
        pos = (o + np.float32(0.5)) * scale - np.float32(0.5) if half else o * scale
        low = np.floor(pos)
        lo = np.maximum(low.astype(np.int64), 0)
        hi = np.minimum(np.ceil(pos).astype(np.int64), n_in - 1)
        return lo, hi, (pos - low).astype(np.float64)

    ylo, yhi, yl = weights(x.shape[1], size[0])
    xlo, xhi, xl = weights(x.shape[2], size[1])
    top = x[:, ylo][:, :, xlo] + (x[:, ylo][:, :, xhi] - x[:, ylo][:, :, xlo]) * xl[None, None, :, None]
    bot = x[:, yhi][:, :, xlo] + (x[:, yhi][:, :, xhi] - x[:, yhi][:, :, xlo]) * xl[None, None, :, None]
    return [(top + (bot - top) * yl[None, :, None, None]).astype(np.float32)]


def _strided_slice(node: TfNode, ins):
    x, begin, end, strides = ins[0], *(list(map(int, a)) for a in ins[1:4])
    a = node.attrs
    if a.get("ellipsis_mask", 0):
        raise NotImplementedError("ellipsis_mask")
    index, shrink = [], []
    dim = 0
    for k in range(len(begin)):
        if a.get("new_axis_mask", 0) >> k & 1:
            index.append(None)
            continue
        if a.get("shrink_axis_mask", 0) >> k & 1:
            b = begin[k] + x.shape[dim] if begin[k] < 0 else begin[k]
            index.append(slice(b, b + 1))
            shrink.append(len(index) - 1)
        else:
            b = None if a.get("begin_mask", 0) >> k & 1 else begin[k]
            e = None if a.get("end_mask", 0) >> k & 1 else end[k]
            index.append(slice(b, e, strides[k]))
        dim += 1
    y = x[tuple(index)]
    return [np.squeeze(y, axis=tuple(shrink)) if shrink else y]


def _top_k(node: TfNode, ins):
    x, k = ins[0], _int(ins[1])
    order = np.argsort(-x, axis=-1, kind="stable")[..., :k]  # ties: lower index first
    return [np.take_along_axis(x, order, axis=-1), order.astype(np.int32)]


def _floor_div(node: TfNode, ins):
    a, b = ins
    if np.issubdtype(a.dtype, np.integer):
        return [np.floor_divide(a, b)]
    return [np.floor(a.astype(np.float64) / b).astype(a.dtype)]


def _floor_mod(node: TfNode, ins):
    a, b = ins
    if np.issubdtype(a.dtype, np.integer):
        return [np.mod(a, b)]  # Python's sign rule: the result takes the divisor's sign, as TF's
    return [(a - np.floor(a.astype(np.float64) / b) * b).astype(a.dtype)]


def _sparse_to_dense(node: TfNode, ins):
    idx, shape, values, default = ins
    out = np.full(tuple(int(s) for s in shape), default, dtype=values.dtype)
    idx = idx.reshape(-1, 1) if idx.ndim < 2 else idx
    if len(idx):
        out[tuple(idx.T)] = values
    return [out]


def _split_v(node: TfNode, ins):
    x, sizes, axis = ins[0], [int(s) for s in ins[1]], _int(ins[2])
    if -1 in sizes:
        sizes[sizes.index(-1)] = x.shape[axis] - (sum(sizes) + 1)
    return np.split(x, np.cumsum(sizes)[:-1], axis=axis)


def _elementwise(fn) -> Ref:
    def run(node: TfNode, ins):
        y = fn(*(i.astype(np.float64) if i.dtype.kind == "f" else i for i in ins), node=node)
        return [np.asarray(y).astype(ins[0].dtype)]

    return run


def _cast(node: TfNode, ins):
    x, dst = ins[0], tf_dtype(node.attrs["DstT"], f"Cast {node.name!r}")
    if x.dtype.kind == "f" and dst.kind in "iu":
        x = np.trunc(x)  # C++ static_cast truncates towards zero
    return [x.astype(dst)]


def _reshape(node: TfNode, ins):
    return [ins[0].reshape([int(s) for s in ins[1]])]


def _mean(node: TfNode, ins):
    axes = tuple(int(a) for a in np.atleast_1d(ins[1]))
    return [ins[0].astype(np.float64).mean(axis=axes, keepdims=node.attrs.get("keep_dims", False)).astype(ins[0].dtype)]


def _pad(node: TfNode, ins):
    value = ins[2] if len(ins) > 2 else 0
    return [np.pad(ins[0], [tuple(int(v) for v in p) for p in ins[1]], constant_values=value)]


def _gather(node: TfNode, ins):
    if node.attrs.get("batch_dims", 0):
        raise NotImplementedError("batch_dims")
    return [np.take(ins[0], ins[1], axis=_int(ins[2]))]


REFERENCE: dict[str, Ref] = {
    "Conv2D": _conv_op(depthwise=False, fused=False),
    "_FusedConv2D": _conv_op(depthwise=False, fused=True),
    "DepthwiseConv2dNative": _conv_op(depthwise=True, fused=False),
    "FusedDepthwiseConv2dNative": _conv_op(depthwise=True, fused=True),
    "MaxPool": _max_pool,
    "ResizeBilinear": _resize_bilinear,
    "Add": _elementwise(lambda a, b, node: a + b),
    "AddV2": _elementwise(lambda a, b, node: a + b),
    "Sub": _elementwise(lambda a, b, node: a - b),
    "Mul": _elementwise(lambda a, b, node: a * b),
    "Relu": _elementwise(lambda x, node: np.maximum(x, 0)),
    "Relu6": _elementwise(lambda x, node: np.clip(x, 0, 6)),
    "LeakyRelu": _elementwise(lambda x, node: np.where(x >= 0, x, x * node.attrs.get("alpha", 0.2))),
    "Sigmoid": _elementwise(lambda x, node: 1 / (1 + np.exp(-x))),
    "Identity": lambda node, ins: [ins[0]],
    "Transpose": lambda node, ins: [ins[0].transpose([int(p) for p in ins[1]])],
    "Reshape": _reshape,
    "ConcatV2": lambda node, ins: [np.concatenate(ins[:-1], axis=_int(ins[-1]))],
    "SplitV": _split_v,
    "Pad": _pad,
    "PadV2": _pad,
    "Mean": _mean,
    "Cast": _cast,
    "ExpandDims": lambda node, ins: [np.expand_dims(ins[0], _int(ins[1]))],
    "StridedSlice": _strided_slice,
    "Equal": lambda node, ins: [np.equal(ins[0], ins[1])],
    "TopKV2": _top_k,
    "GatherV2": _gather,
    "FloorDiv": _floor_div,
    "FloorMod": _floor_mod,
    "SparseToDense": _sparse_to_dense,
}


def run_node(node: TfNode, inputs: list[np.ndarray]) -> list[np.ndarray]:
    return REFERENCE[node.op](node, inputs)


def run_graph(graph: TfGraph, feeds: dict[str, np.ndarray], keep_all: bool = True) -> dict[str, np.ndarray]:
    """Every tensor's value (or only the outputs'), computed node by node in numpy."""
    values: dict[str, np.ndarray] = dict(graph.consts)
    for name, (_, dtype) in graph.inputs.items():
        values[name] = np.asarray(feeds[name], dtype=dtype)
    for node in graph.nodes:
        outs = run_node(node, [values[i] for i in node.inputs])
        for k, out in enumerate(outs):
            values[node.name if k == 0 else f"{node.name}:{k}"] = out
    return values if keep_all else {o: values[o] for o in graph.outputs}

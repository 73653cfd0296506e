"""One translator per TF op: TfNode in, ONNX nodes out (through `Ctx`).

Layout: TF convolutions and pools here are NHWC, ONNX's are NCHW. Each such
op is wrapped in a Transpose pair and the graph keeps TF's layout everywhere
else; onnxruntime's transpose optimiser cancels the back-to-back pairs (the
NanoDet graph, itself converted from ONNX, already transposes around every
convolution, so most pairs meet their inverse).

Padding: TF's SAME puts the odd pixel after (bottom/right). That is ONNX's
auto_pad=SAME_UPPER, which onnxruntime computes from the actual input size,
so asymmetric SAME needs no shape knowledge at conversion time.

Every constant a translator needs as an attribute (perm, axes, paddings,
strides of a slice) must be a Const in the graph; anything else is refused
with a ModelError naming the node, never guessed.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from vigie.detect.tfjs.graph import TfGraph, TfNode, tf_dtype
from vigie.errors import ModelError

NHWC_TO_NCHW = [0, 3, 1, 2]
NCHW_TO_NHWC = [0, 2, 3, 1]
INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min

ONNX_TYPES = {
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.float64): TensorProto.DOUBLE,
    np.dtype(np.float16): TensorProto.FLOAT16,
    np.dtype(np.int32): TensorProto.INT32,
    np.dtype(np.int64): TensorProto.INT64,
    np.dtype(np.int16): TensorProto.INT16,
    np.dtype(np.int8): TensorProto.INT8,
    np.dtype(np.uint8): TensorProto.UINT8,
    np.dtype(np.bool_): TensorProto.BOOL,
}

# Activations that _FusedConv2D / FusedDepthwiseConv2dNative may carry after the bias.
_FUSED_ACTIVATIONS = {"Relu", "Relu6", "LeakyRelu", "Elu", "Sigmoid"}


class Ctx:
    """The ONNX graph being built. ONNX tensor names are TF tensor names
    ("node" or "node:k"); helper tensors get "node/_hint" names."""

    def __init__(self, graph: TfGraph) -> None:
        self.graph = graph
        self.nodes: list = []
        self.initializers: list = []
        self.dtypes: dict[str, np.dtype] = {n: a.dtype for n, a in graph.consts.items()}
        self.dtypes.update({n: d for n, (_, d) in graph.inputs.items()})
        self._emitted: set[str] = set()
        self._taken: set[str] = set(graph.consts) | set(graph.inputs) | {n.name for n in graph.nodes}
        self.node: TfNode | None = None

    # --- errors and names -------------------------------------------------
    def fail(self, why: str) -> ModelError:
        n = self.node
        return ModelError(f"TF.js translator: node {n.name!r} (op {n.op}): {why}" if n else f"TF.js translator: {why}")

    def fresh(self, hint: str) -> str:
        base = f"{self.node.name}/_{hint}"
        name, k = base, 1
        while name in self._taken:
            name, k = f"{base}_{k}", k + 1
        self._taken.add(name)
        return name

    def out(self, k: int = 0) -> str:
        return self.node.name if k == 0 else f"{self.node.name}:{k}"

    # --- tensors ------------------------------------------------------------
    def const(self, ref: str) -> np.ndarray | None:
        return self.graph.consts.get(ref)

    def scalar(self, index: int, what: str) -> int:
        value = self.need_const(index, what)
        if value.size != 1:
            raise self.fail(f"its {what} should be a single value, has shape {value.shape}")
        return int(value.reshape(-1)[0])

    def need_const(self, index: int, what: str) -> np.ndarray:
        ref = self.node.inputs[index]
        value = self.const(ref)
        if value is None:
            raise self.fail(f"its {what} (input {index}, {ref!r}) must be a constant")
        return value

    def input(self, index: int) -> str:
        """The ONNX name of the node's input; a Const becomes an initializer on first use."""
        ref = self.node.inputs[index]
        if ref in self.graph.consts and ref not in self._emitted:
            self._emitted.add(ref)
            self.initializers.append(numpy_helper.from_array(self.graph.consts[ref], ref))
        return ref

    def dtype(self, index: int) -> np.dtype:
        return self.dtypes.get(self.node.inputs[index], np.dtype(np.float32))

    def constant(self, value, hint: str, dtype=None) -> str:
        name = self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def emit(
        self, op_type: str, inputs: list[str], out: str | list[str] | None = None, hint: str | None = None, **attrs
    ) -> str | list[str]:
        outs = [self.fresh(hint or op_type.lower())] if out is None else ([out] if isinstance(out, str) else list(out))
        name = self.fresh(f"{op_type}") if outs[0] != self.out(0) else self.node.name
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=name, **attrs))
        return outs[0] if isinstance(out, (str, type(None))) else outs

    def chain(self, x: str, steps: list[tuple], out: str) -> None:
        """Apply (op, extra inputs, attrs) steps in order; the last one writes `out`."""
        for i, (op, extra, attrs) in enumerate(steps):
            x = self.emit(op, [x, *extra], out=out if i == len(steps) - 1 else None, **attrs)


Translator = Callable[[Ctx, TfNode], None]
TRANSLATORS: dict[str, Translator] = {}


def translator(*ops: str):
    def register(fn: Translator) -> Translator:
        for op in ops:
            TRANSLATORS[op] = fn
        return fn

    return register


# --- convolution, pooling, resizing (NHWC wrapped in Transposes) --------------


def _spatial(values: list[int], fmt: str) -> list[int]:
    return [values[1], values[2]] if fmt == "NHWC" else [values[2], values[3]]


def _padding_attrs(
    ctx: Ctx, node: TfNode, fmt: str, kernel: list[int], strides: list[int], dilations: list[int]
) -> dict:
    padding = node.attrs.get("padding", "VALID")
    if padding == "SAME":
        if all(s == 1 for s in strides):
            # Stride 1: the output keeps the input's size, so TF's padding total is
            # (k - 1) * d whatever the size; write it out (the odd pixel after).
            total = [(k - 1) * d for k, d in zip(kernel, dilations)]
            return {"pads": [t // 2 for t in total] + [t - t // 2 for t in total]}
        if any(d != 1 for d in dilations):
            raise ctx.fail("SAME padding with both strides and dilations above 1 (TF refuses it too)")
        # Strided: the total depends on the input size; SAME_UPPER is TF's rule
        # (the odd pixel after) computed by onnxruntime from the actual size.
        return {"auto_pad": "SAME_UPPER"}
    if padding == "VALID":
        return {"pads": [0, 0, 0, 0]}
    if padding == "EXPLICIT":
        p = node.attrs.get("explicit_paddings", [])
        if len(p) != 8:
            raise ctx.fail(f"explicit_paddings should hold 8 values, has {len(p)}")
        (t, b), (left, r) = ((p[2], p[3]), (p[4], p[5])) if fmt == "NHWC" else ((p[4], p[5]), (p[6], p[7]))
        return {"pads": [t, left, b, r]}
    raise ctx.fail(f"padding {padding!r} is not supported")


def _layout(ctx: Ctx, node: TfNode) -> str:
    fmt = node.attrs.get("data_format", "NHWC")
    if fmt not in ("NHWC", "NCHW"):
        raise ctx.fail(f"data_format {fmt!r} is not supported")
    return fmt


def _nchw_op(ctx: Ctx, node: TfNode, fmt: str, first: tuple, after: list[tuple]) -> None:
    """x (TF layout) -> [Transpose] -> first op -> after ops -> [Transpose] -> out."""
    x = ctx.input(0)
    if fmt == "NHWC":
        x = ctx.emit("Transpose", [x], perm=NHWC_TO_NCHW, hint="nchw")
        after = after + [("Transpose", [], {"perm": NCHW_TO_NHWC})]
    ctx.chain(x, [first, *after], ctx.out())


def _activation_steps(ctx: Ctx, node: TfNode, names: list[str]) -> list[tuple]:
    steps = []
    for act in names:
        if act not in _FUSED_ACTIVATIONS:
            raise ctx.fail(
                f"fused operation {act!r} is not supported (supported: {', '.join(sorted(_FUSED_ACTIVATIONS))})"
            )
        if act == "Relu6":
            steps.append(("Clip", [ctx.constant(0.0, "zero", np.float32), ctx.constant(6.0, "six", np.float32)], {}))
        elif act == "LeakyRelu":
            steps.append(("LeakyRelu", [], {"alpha": float(node.attrs.get("leakyrelu_alpha", 0.2))}))
        else:
            steps.append((act, [], {}))
    return steps


def _conv(depthwise: bool, fused: bool) -> Translator:
    def translate(ctx: Ctx, node: TfNode) -> None:
        fmt = _layout(ctx, node)
        w = ctx.need_const(1, "filter").astype(np.float32)
        if w.ndim != 4:
            raise ctx.fail(f"filter has rank {w.ndim}, expected 4")
        kh, kw, cin, mult = w.shape
        if depthwise:  # TF [kh, kw, C, M] -> ONNX [C*M, 1, kh, kw], one group per input channel
            weight, group = w.transpose(2, 3, 0, 1).reshape(cin * mult, 1, kh, kw), cin
        else:  # TF HWIO -> ONNX OIHW
            weight, group = w.transpose(3, 2, 0, 1), 1
        weight = np.ascontiguousarray(weight)
        bias, acts = None, []
        if fused:
            ops = list(node.attrs.get("fused_ops", []))
            head, acts = (ops[0], ops[1:]) if ops else (None, [])
            if head == "BiasAdd":
                bias = ctx.need_const(2, "bias").astype(np.float32)
            elif head == "FusedBatchNorm":
                # Fold y = (conv - mean) * scale / sqrt(var + eps) + offset into the weights.
                scale, offset, mean, var = (
                    ctx.need_const(i, n).astype(np.float64)
                    for i, n in ((2, "scale"), (3, "offset"), (4, "mean"), (5, "variance"))
                )
                k = scale / np.sqrt(var + node.attrs.get("epsilon", 1e-3))
                weight = (weight * k[:, None, None, None]).astype(np.float32)
                bias = (offset - mean * k).astype(np.float32)
            elif head is not None:
                raise ctx.fail(f"fused operation {head!r} is not supported (BiasAdd or FusedBatchNorm first)")
        strides = _spatial(node.attrs.get("strides", [1, 1, 1, 1]), fmt)
        dilations = _spatial(node.attrs.get("dilations", [1, 1, 1, 1]), fmt)
        attrs = {
            "kernel_shape": [kh, kw],
            "strides": strides,
            "dilations": dilations,
            "group": group,
            **_padding_attrs(ctx, node, fmt, [kh, kw], strides, dilations),
        }
        extra = [ctx.constant(weight, "weight")] + ([ctx.constant(bias, "bias")] if bias is not None else [])
        _nchw_op(ctx, node, fmt, ("Conv", extra, attrs), _activation_steps(ctx, node, acts))

    return translate


translator("Conv2D")(_conv(depthwise=False, fused=False))
translator("_FusedConv2D")(_conv(depthwise=False, fused=True))
translator("DepthwiseConv2dNative")(_conv(depthwise=True, fused=False))
translator("FusedDepthwiseConv2dNative")(_conv(depthwise=True, fused=True))


@translator("MaxPool")
def _max_pool(ctx: Ctx, node: TfNode) -> None:
    fmt = _layout(ctx, node)
    ksize = node.attrs["ksize"]
    if (ksize[0], ksize[3] if fmt == "NHWC" else ksize[1]) != (1, 1):
        raise ctx.fail("pooling across batch or channels is not supported")
    kernel, strides = _spatial(ksize, fmt), _spatial(node.attrs.get("strides", [1, 1, 1, 1]), fmt)
    attrs = {"kernel_shape": kernel, "strides": strides, **_padding_attrs(ctx, node, fmt, kernel, strides, [1, 1])}
    _nchw_op(ctx, node, fmt, ("MaxPool", [], attrs), [])


@translator("ResizeBilinear")
def _resize_bilinear(ctx: Ctx, node: TfNode) -> None:
    align, half = node.attrs.get("align_corners", False), node.attrs.get("half_pixel_centers", False)
    if align and half:
        raise ctx.fail("align_corners and half_pixel_centers cannot both be true (TF refuses it too)")
    # TF's three coordinate mappings are ONNX's align_corners / half_pixel / asymmetric;
    # both clamp source positions to the image as TF does.
    mode = "align_corners" if align else "half_pixel" if half else "asymmetric"
    # Resize the NHWC tensor directly (onnxruntime has an NHWC bilinear kernel).
    # Full 4-D sizes [N, h, w, C] rather than the `axes` attribute: onnxruntime
    # 1.2x's transpose optimiser drops `sizes` when it rewrites a Resize with axes.
    x = ctx.input(0)
    shape = ctx.emit("Shape", [x])
    n = ctx.emit("Slice", [shape, ctx.constant([0], "s0", np.int64), ctx.constant([1], "s1", np.int64)])
    c = ctx.emit("Slice", [shape, ctx.constant([3], "s3", np.int64), ctx.constant([4], "s4", np.int64)])
    sizes = ctx.emit("Concat", [n, _int64_input(ctx, 1, "size"), c], axis=0)
    ctx.emit("Resize", [x, "", "", sizes], out=ctx.out(), mode="linear", coordinate_transformation_mode=mode)


# --- element-wise ---------------------------------------------------------------


def _simple(onnx_op: str, **attrs) -> Translator:
    def translate(ctx: Ctx, node: TfNode) -> None:
        ctx.emit(onnx_op, [ctx.input(i) for i in range(len(node.inputs))], out=ctx.out(), **attrs)

    return translate


for _tf, _onnx in {
    "Add": "Add",
    "AddV2": "Add",
    "Sub": "Sub",
    "Mul": "Mul",
    "Relu": "Relu",
    "Sigmoid": "Sigmoid",
    "Identity": "Identity",
}.items():
    translator(_tf)(_simple(_onnx))


@translator("Equal")
def _equal(ctx: Ctx, node: TfNode) -> None:
    ctx.emit("Equal", [ctx.input(0), ctx.input(1)], out=ctx.out())
    ctx.dtypes[ctx.out()] = np.dtype(np.bool_)


@translator("Relu6")
def _relu6(ctx: Ctx, node: TfNode) -> None:
    lo, hi = (ctx.constant(v, n, ctx.dtype(0)) for v, n in ((0, "zero"), (6, "six")))
    ctx.emit("Clip", [ctx.input(0), lo, hi], out=ctx.out())


@translator("LeakyRelu")
def _leaky_relu(ctx: Ctx, node: TfNode) -> None:
    ctx.emit("LeakyRelu", [ctx.input(0)], out=ctx.out(), alpha=float(node.attrs.get("alpha", 0.2)))


@translator("FloorDiv")
def _floor_div(ctx: Ctx, node: TfNode) -> None:
    a, b = ctx.input(0), ctx.input(1)
    if ctx.dtype(0).kind in "iu":
        # ONNX Div truncates; a - floormod(a, b) is an exact multiple of b, so its
        # quotient is the floored one for every sign combination.
        rem = ctx.emit("Mod", [a, b], fmod=0)
        ctx.emit("Div", [ctx.emit("Sub", [a, rem]), b], out=ctx.out())
    else:
        ctx.emit("Floor", [ctx.emit("Div", [a, b])], out=ctx.out())


@translator("FloorMod")
def _floor_mod(ctx: Ctx, node: TfNode) -> None:
    a, b = ctx.input(0), ctx.input(1)
    if ctx.dtype(0).kind in "iu":
        ctx.emit("Mod", [a, b], out=ctx.out(), fmod=0)  # integer Mod takes the divisor's sign, as TF
        return
    # TF's float FloorMod: fmod, then move a remainder whose sign differs from the divisor's.
    r = ctx.emit("Mod", [a, b], fmod=1)
    zero = ctx.constant(0, "zero", ctx.dtype(0))
    differ = ctx.emit("Xor", [ctx.emit("Less", [r, zero]), ctx.emit("Less", [b, zero])])
    fix = ctx.emit("And", [differ, ctx.emit("Not", [ctx.emit("Equal", [r, zero])])])
    ctx.emit("Where", [fix, ctx.emit("Add", [r, b]), r], out=ctx.out())


@translator("Cast")
def _cast(ctx: Ctx, node: TfNode) -> None:
    dst = tf_dtype(node.attrs["DstT"], f"Cast {node.name!r}")
    ctx.emit("Cast", [ctx.input(0)], out=ctx.out(), to=ONNX_TYPES[dst])
    ctx.dtypes[ctx.out()] = dst


# --- shapes and data movement -------------------------------------------------


def _int64_input(ctx: Ctx, index: int, hint: str) -> str:
    value = ctx.const(ctx.node.inputs[index])
    if value is not None:
        return ctx.constant(value.astype(np.int64), hint)
    x = ctx.input(index)
    return x if ctx.dtype(index) == np.int64 else ctx.emit("Cast", [x], to=TensorProto.INT64, hint=hint)


@translator("Transpose")
def _transpose(ctx: Ctx, node: TfNode) -> None:
    perm = [int(p) for p in ctx.need_const(1, "permutation")]
    ctx.emit("Transpose", [ctx.input(0)], out=ctx.out(), perm=perm)


@translator("Reshape")
def _reshape(ctx: Ctx, node: TfNode) -> None:
    shape = ctx.const(node.inputs[1])
    # TF reads a 0 in the shape as a zero-length axis; ONNX copies the input's
    # axis unless allowzero=1, so say so whenever a 0 is possible.
    allowzero = 1 if shape is None or (shape == 0).any() else 0
    ctx.emit("Reshape", [ctx.input(0), _int64_input(ctx, 1, "shape")], out=ctx.out(), allowzero=allowzero)


@translator("ExpandDims")
def _expand_dims(ctx: Ctx, node: TfNode) -> None:
    axis = ctx.need_const(1, "axis").reshape(-1).astype(np.int64)
    ctx.emit("Unsqueeze", [ctx.input(0), ctx.constant(axis, "axes")], out=ctx.out())


@translator("ConcatV2")
def _concat(ctx: Ctx, node: TfNode) -> None:
    axis = ctx.scalar(len(node.inputs) - 1, "axis")
    ctx.emit("Concat", [ctx.input(i) for i in range(len(node.inputs) - 1)], out=ctx.out(), axis=axis)


@translator("SplitV")
def _split_v(ctx: Ctx, node: TfNode) -> None:
    sizes = [int(s) for s in ctx.need_const(1, "size_splits")]
    axis = ctx.scalar(2, "split_dim")
    outs = [ctx.out(k) for k in range(len(sizes))]
    if -1 not in sizes:
        ctx.emit("Split", [ctx.input(0), ctx.constant(np.array(sizes, np.int64), "split")], out=outs, axis=axis)
        return
    # One size left to infer: pieces before it are cut from the start, pieces
    # after it from the end, so no shape is needed.
    j = sizes.index(-1)
    before, after = sizes[:j], sizes[j + 1 :]
    bounds = [(sum(before[:k]), sum(before[: k + 1])) for k in range(len(before))]
    tail = sum(after)
    bounds.append((sum(before), -tail if tail else INT64_MAX))
    for k in range(len(after)):
        start = -sum(after[k:])
        end = -sum(after[k + 1 :]) if sum(after[k + 1 :]) else INT64_MAX
        bounds.append((start, end) if after[k] else (INT64_MAX, INT64_MAX))
    for out, (start, end) in zip(outs, bounds):
        ctx.emit(
            "Slice",
            [
                ctx.input(0),
                ctx.constant([start], "starts", np.int64),
                ctx.constant([end], "ends", np.int64),
                ctx.constant([axis], "axes", np.int64),
            ],
            out=out,
        )


@translator("Pad", "PadV2")
def _pad(ctx: Ctx, node: TfNode) -> None:
    p = ctx.need_const(1, "paddings").astype(np.int64)
    pads = np.concatenate([p[:, 0], p[:, 1]])  # ONNX: all begins, then all ends
    value = ctx.input(2) if node.op == "PadV2" else ctx.constant(0, "zero", ctx.dtype(0))
    ctx.emit("Pad", [ctx.input(0), ctx.constant(pads, "pads"), value], out=ctx.out(), mode="constant")


@translator("Mean")
def _mean(ctx: Ctx, node: TfNode) -> None:
    axes = ctx.need_const(1, "reduction_indices").reshape(-1).astype(np.int64)
    ctx.emit(
        "ReduceMean",
        [ctx.input(0), ctx.constant(axes, "axes")],
        out=ctx.out(),
        keepdims=int(bool(node.attrs.get("keep_dims", False))),
    )


@translator("StridedSlice")
def _strided_slice(ctx: Ctx, node: TfNode) -> None:
    begin, end, strides = (
        ctx.need_const(i, w).astype(np.int64).tolist() for i, w in ((1, "begin"), (2, "end"), (3, "strides"))
    )
    a = node.attrs
    if a.get("ellipsis_mask", 0):
        raise ctx.fail("ellipsis_mask is not supported")
    bit = lambda mask, k: bool(a.get(mask, 0) >> k & 1)  # noqa: E731
    starts, ends, axes, steps, unsqueeze, squeeze = [], [], [], [], [], []
    dim = 0
    # Slice the input's axes, then insert new axes, then drop shrunk ones: both
    # sit at their spec position k in the intermediate tensor.
    for k in range(len(begin)):
        if bit("new_axis_mask", k):
            unsqueeze.append(k)
            continue
        if bit("shrink_axis_mask", k):
            b = begin[k]
            starts.append(b)
            ends.append(b + 1 if b != -1 else INT64_MAX)  # -1 + 1 would be 0, an empty slice
            steps.append(1)
            squeeze.append(k)
        else:
            s = strides[k]
            if s == 0:
                raise ctx.fail("a stride of 0")
            starts.append((0 if s > 0 else INT64_MAX) if bit("begin_mask", k) else begin[k])
            ends.append((INT64_MAX if s > 0 else INT64_MIN) if bit("end_mask", k) else end[k])
            steps.append(s)
        axes.append(dim)
        dim += 1
    out = ctx.out()
    steps_after = ([("Unsqueeze", [ctx.constant(unsqueeze, "unsqueeze", np.int64)], {})] if unsqueeze else []) + (
        [("Squeeze", [ctx.constant(squeeze, "squeeze", np.int64)], {})] if squeeze else []
    )
    ins = [
        ctx.constant(v, n, np.int64) for v, n in ((starts, "starts"), (ends, "ends"), (axes, "axes"), (steps, "steps"))
    ]
    ctx.chain(ctx.input(0), [("Slice", ins, {}), *steps_after], out)


@translator("GatherV2")
def _gather(ctx: Ctx, node: TfNode) -> None:
    if node.attrs.get("batch_dims", 0):
        raise ctx.fail("batch_dims other than 0 is not supported")
    axis = ctx.scalar(2, "axis")
    ctx.emit("Gather", [ctx.input(0), ctx.input(1)], out=ctx.out(), axis=axis)
    ctx.dtypes[ctx.out()] = ctx.dtype(0)


@translator("TopKV2")
def _top_k(ctx: Ctx, node: TfNode) -> None:
    k = ctx.const(node.inputs[1])
    k_in = (
        ctx.constant(np.array([ctx.scalar(1, "k")], np.int64), "k")
        if k is not None
        else ctx.emit("Reshape", [_int64_input(ctx, 1, "k"), ctx.constant([1], "one", np.int64)])
    )
    # ONNX TopK also puts the lower index first among equal values, as TF does.
    idx = ctx.emit("TopK", [ctx.input(0), k_in], out=[ctx.out(0), ctx.fresh("indices")], axis=-1, largest=1, sorted=1)[
        1
    ]
    index_type = tf_dtype(node.attrs.get("index_type", "DT_INT32"), f"TopKV2 {node.name!r}")
    ctx.emit("Cast", [idx], out=ctx.out(1), to=ONNX_TYPES[index_type])
    ctx.dtypes[ctx.out(0)], ctx.dtypes[ctx.out(1)] = ctx.dtype(0), index_type


@translator("SparseToDense")
def _sparse_to_dense(ctx: Ctx, node: TfNode) -> None:
    shape = _int64_input(ctx, 1, "shape")
    dense = ctx.emit("Expand", [ctx.input(3), shape])
    idx = ctx.const(node.inputs[0])
    if idx is not None and idx.size == 0:
        # The NanoDet graph builds Reshape shapes this way: nothing to scatter.
        ctx.emit("Identity", [dense], out=ctx.out())
    else:
        # SparseToDense takes a scalar, [N] or [N, R] indices and a scalar or [N]
        # values; ScatterND wants [N, R] indices and [N] updates.
        ind = _int64_input(ctx, 0, "indices")
        if idx is None or idx.ndim < 2:
            ind = ctx.emit("Reshape", [ind, ctx.constant([-1, 1], "col", np.int64)])
        n = ctx.emit(
            "Slice", [ctx.emit("Shape", [ind]), *(ctx.constant([v], h, np.int64) for v, h in ((0, "s"), (1, "e")))]
        )
        ctx.emit("ScatterND", [dense, ind, ctx.emit("Expand", [ctx.input(2), n])], out=ctx.out())
    ctx.dtypes[ctx.out()] = ctx.dtype(2)


def supported_ops() -> list[str]:
    return sorted(TRANSLATORS)

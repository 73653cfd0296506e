"""Read a TF.js graph model (model JSON + weight shards) into plain Python.

A TF.js graph model is a TensorFlow GraphDef written as JSON (`modelTopology`)
plus a `weightsManifest` that says how the values of every Const node are laid
out in the binary shards. This module only decodes: attribute values become
Python values, weights become numpy arrays, nodes come out in an order where
every input is produced before it is used. It knows nothing about ONNX.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vigie.errors import ModelError

# TF DataType enum names -> numpy. Only types a graph can actually carry into
# a numeric computation; strings and complex numbers are refused when met.
TF_DTYPES: dict[str, np.dtype] = {
    "DT_FLOAT": np.dtype(np.float32),
    "DT_DOUBLE": np.dtype(np.float64),
    "DT_HALF": np.dtype(np.float16),
    "DT_INT32": np.dtype(np.int32),
    "DT_INT64": np.dtype(np.int64),
    "DT_INT16": np.dtype(np.int16),
    "DT_INT8": np.dtype(np.int8),
    "DT_UINT8": np.dtype(np.uint8),
    "DT_BOOL": np.dtype(np.bool_),
}

# Manifest dtypes (what the bytes hold once dequantised).
_MANIFEST_DTYPES = {"float32": np.float32, "int32": np.int32, "bool": np.bool_}
# Quantised storage: float16 is a plain cast; uint8/uint16 are affine (q * scale + min).
_QUANT_DTYPES = {"float16": np.float16, "uint8": np.uint8, "uint16": np.uint16}


@dataclass
class TfNode:
    name: str
    op: str
    inputs: list[str]  # tensor names: "node" for output 0, "node:k" otherwise
    attrs: dict = field(default_factory=dict)


@dataclass
class TfGraph:
    """Compute nodes in dependency order, constant values, inputs and outputs."""

    nodes: list[TfNode]  # neither Const nor Placeholder
    consts: dict[str, np.ndarray]
    inputs: dict[str, tuple[tuple[int, ...], np.dtype]]  # placeholder -> (shape, -1 = unknown; dtype)
    outputs: list[str]


def tensor_name(ref: str) -> str:
    """'node:0' and 'node' name the same tensor; keep the short form for output 0."""
    return ref[:-2] if ref.endswith(":0") else ref


def split_ref(ref: str) -> tuple[str, int]:
    """'node:2' -> ('node', 2); 'node' -> ('node', 0)."""
    head, sep, tail = ref.rpartition(":")
    if sep and tail.isdigit():
        return head, int(tail)
    return ref, 0


def tf_dtype(name: str, where: str) -> np.dtype:
    try:
        return TF_DTYPES[name]
    except KeyError:
        raise ModelError(f"TF.js graph: {where} has data type {name}, which the translator does not handle") from None


def _shape(value: dict) -> tuple[int, ...]:
    # A TensorShapeProto as JSON: a missing "size" is proto3's default 0, "-1" is unknown.
    return tuple(int(d.get("size", 0)) for d in value.get("dim", []))


def decode_attr(value: dict):
    """One TF AttrValue as JSON -> a Python value (int, float, bool, str, list, shape)."""
    if "list" in value:
        items = value["list"]
        for key in ("i", "f", "b", "s", "type", "shape"):
            if key in items:
                return [decode_attr({key: v}) for v in items[key]]
        return []
    if "i" in value:
        return int(value["i"])  # int64 travels as a JSON string
    if "f" in value:
        return float(value["f"])
    if "b" in value:
        return bool(value["b"])
    if "s" in value:
        raw = base64.b64decode(value["s"])
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw
    if "type" in value:
        return value["type"]
    if "shape" in value:
        return _shape(value["shape"])
    return value  # tensor, func: kept as they are; only Const reads "tensor" and it uses the manifest


def _read_weights(manifest: list[dict], shards: list[bytes], where: str) -> dict[str, np.ndarray]:
    """Weight values by name; each group's shards form one byte stream, in order."""
    if len(shards) != len(manifest):
        raise ModelError(f"{where}: {len(manifest)} weight groups but {len(shards)} shard streams")
    out: dict[str, np.ndarray] = {}
    for group, data in zip(manifest, shards):
        offset = 0
        for w in group["weights"]:
            name, shape, dtype = w["name"], tuple(int(s) for s in w["shape"]), w["dtype"]
            count = int(np.prod(shape, dtype=np.int64))
            if dtype not in _MANIFEST_DTYPES:
                raise ModelError(
                    f"{where}: weight {name!r} has dtype {dtype!r}; only float32, int32 and bool are handled"
                )
            quant = w.get("quantization")
            if quant:
                qtype = quant.get("dtype")
                if qtype not in _QUANT_DTYPES:
                    raise ModelError(
                        f"{where}: weight {name!r} is quantised as {qtype!r}; only float16, uint8 and uint16 are handled"
                    )
                stored = np.dtype(_QUANT_DTYPES[qtype])
            else:
                stored = np.dtype(_MANIFEST_DTYPES[dtype])
            size = count * stored.itemsize
            if offset + size > len(data):
                raise ModelError(
                    f"{where}: weight shards end before weight {name!r} (need {offset + size} bytes, have {len(data)})"
                )
            arr = np.frombuffer(data, dtype=stored, count=count, offset=offset).reshape(shape)
            offset += size
            if quant and qtype != "float16":
                arr = arr.astype(np.float32) * np.float32(quant["scale"]) + np.float32(quant["min"])
                if dtype == "int32":
                    arr = np.round(arr)
            out[name] = arr.astype(_MANIFEST_DTYPES[dtype])
        if offset != len(data):
            raise ModelError(f"{where}: weight shards hold {len(data)} bytes but the manifest describes {offset}")
    return out


def parse_graph(model: dict, shards: list[bytes], where: str = "TF.js model") -> TfGraph:
    """Decode a model JSON (already loaded) and its shard bytes, one stream per weight group."""
    try:
        raw_nodes = model["modelTopology"]["node"]
        manifest = model.get("weightsManifest", [])
    except (KeyError, TypeError):
        raise ModelError(f"{where}: not a TF.js graph model (no modelTopology.node)") from None
    weights = _read_weights(manifest, shards, where)

    by_name: dict[str, TfNode] = {}
    consts: dict[str, np.ndarray] = {}
    inputs: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    order: list[str] = []
    for raw in raw_nodes:
        node = TfNode(
            name=raw["name"],
            op=raw["op"],
            # "^node" is a control dependency: it orders execution in TF, carries no data.
            inputs=[tensor_name(i) for i in raw.get("input", []) if not i.startswith("^")],
            attrs={k: decode_attr(v) for k, v in raw.get("attr", {}).items()},
        )
        if node.name in by_name:
            raise ModelError(f"{where}: two nodes are named {node.name!r}")
        by_name[node.name] = node
        order.append(node.name)
        if node.op == "Const":
            if node.name not in weights:
                raise ModelError(f"{where}: Const node {node.name!r} has no entry in the weights manifest")
            # The TF.js converter stores int64 constants as int32; the node's own
            # dtype says what the graph computes with, so cast back to it.
            consts[node.name] = weights[node.name].astype(
                tf_dtype(node.attrs.get("dtype", "DT_FLOAT"), f"Const {node.name!r}")
            )
        elif node.op == "Placeholder":
            shape = node.attrs.get("shape", ())
            inputs[node.name] = (
                tuple(shape) if isinstance(shape, (tuple, list)) else (),
                tf_dtype(node.attrs.get("dtype", "DT_FLOAT"), f"Placeholder {node.name!r}"),
            )

    outputs = _outputs(model, by_name, order)
    for ref in outputs:
        if split_ref(ref)[0] not in by_name:
            raise ModelError(f"{where}: output {ref!r} names no node in the graph")
    return TfGraph(_topological(by_name, order, outputs, where), consts, inputs, outputs)


def _outputs(model: dict, by_name: dict[str, TfNode], order: list[str]) -> list[str]:
    sig = (model.get("signature") or {}).get("outputs")
    if sig:
        return [tensor_name(v.get("name", k)) for k, v in sig.items()]
    # No signature (hand-built test graphs): every node nobody consumes is an output.
    used = {split_ref(i)[0] for n in by_name.values() for i in n.inputs}
    return [n for n in order if n not in used and by_name[n].op not in ("Const", "Placeholder")]


def _topological(by_name: dict[str, TfNode], order: list[str], outputs: list[str], where: str) -> list[TfNode]:
    """Compute nodes the outputs depend on, each after its inputs (file order breaks ties)."""
    needed: set[str] = set()
    stack = [split_ref(o)[0] for o in outputs]
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        if name not in by_name:
            raise ModelError(f"{where}: a node reads tensor {name!r}, which no node produces")
        needed.add(name)
        stack.extend(split_ref(i)[0] for i in by_name[name].inputs)
    done: set[str] = set()
    result: list[TfNode] = []
    # Depth-first emission from each needed node in file order: deterministic.
    for root in order:
        if root not in needed or root in done:
            continue
        visiting = [(root, iter(by_name[root].inputs))]
        path = {root}
        while visiting:
            name, it = visiting[-1]
            nxt = next(it, None)
            if nxt is None:
                visiting.pop()
                path.discard(name)
                if name not in done:
                    done.add(name)
                    node = by_name[name]
                    if node.op not in ("Const", "Placeholder"):
                        result.append(node)
                continue
            dep = split_ref(nxt)[0]
            if dep in done:
                continue
            if dep in path:
                raise ModelError(f"{where}: the graph has a cycle through {dep!r} (control flow is not supported)")
            path.add(dep)
            visiting.append((dep, iter(by_name[dep].inputs)))
    return result


def model_files(model_json: Path) -> tuple[dict, list[Path]]:
    """The model JSON and the shard files it names, in manifest order."""
    model_json = Path(model_json)
    try:
        model = json.loads(model_json.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"TF.js model {model_json} does not exist") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"TF.js model {model_json} cannot be read: {exc}") from None
    paths = [model_json.parent / p for group in model.get("weightsManifest", []) for p in group.get("paths", [])]
    for p in paths:
        if not p.is_file():
            raise ModelError(f"TF.js model {model_json}: weight shard {p} is missing")
    return model, paths


def load_graph(model_json: Path) -> TfGraph:
    model, _ = model_files(model_json)
    shards = [
        b"".join((Path(model_json).parent / p).read_bytes() for p in group.get("paths", []))
        for group in model.get("weightsManifest", [])
    ]
    return parse_graph(model, shards, where=f"TF.js model {model_json}")

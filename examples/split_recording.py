"""Cut one recording into two files at its middle frame (the demo's second camera).

Only one real camera view is available to the demo (PETS09-S2L1), so `make
demo` plays its first half as one camera and its second half as another
camera, at another place and a few minutes later (examples/nimes-demo.yaml).
Vigie itself knows nothing of this: it sees two ordinary files.

    python examples/split_recording.py IN FIRST_HALF SECOND_HALF [--fps 7]

Frames are re-encoded (MPEG-4 part 2, high quality) at the given true frame
rate; the files are written atomically and kept if they already exist.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import av


def write_clip(frames: list, path: Path, fps: int) -> None:
    tmp = path.with_name(f".{path.name}.part")
    with av.open(str(tmp), "w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = frames[0].width, frames[0].height
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 8_000_000
        for frame in frames:
            for packet in stream.encode(frame.reformat(format="yuv420p")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source")
    p.add_argument("first")
    p.add_argument("second")
    p.add_argument("--fps", type=int, default=7, help="true frame rate of the recording (PETS09: 7)")
    args = p.parse_args(argv)
    first, second = Path(args.first), Path(args.second)
    if first.is_file() and second.is_file():
        return 0
    with av.open(args.source) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    if len(frames) < 2:
        print(f"{args.source}: fewer than 2 frames", file=sys.stderr)
        return 2
    half = len(frames) // 2
    first.parent.mkdir(parents=True, exist_ok=True)
    second.parent.mkdir(parents=True, exist_ok=True)
    for part, path in ((frames[:half], first), (frames[half:], second)):
        write_clip([av.VideoFrame.from_ndarray(f, format="rgb24") for f in part], path, args.fps)
    print(f"{args.source}: frames 1-{half} -> {first}, {half + 1}-{len(frames)} -> {second}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

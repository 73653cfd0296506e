"""Builders for playback tests: a camera's recording as MPEG-TS segments of H.264, indexed in the store, each
frame showing its number (clips' test blocks: test_clips.write_seq / seq_of) so what plays can be read back."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import av
import numpy as np

W, H, GREY = 320, 240, 128
BITS = [(slice(10, 34), slice(20 + 30 * i, 44 + 30 * i)) for i in range(9)]  # the frame number, in binary


def write_number(image: np.ndarray, n: int) -> None:
    for i, block in enumerate(BITS):
        image[block] = 220 if n >> i & 1 else 40


def number_of(image: np.ndarray) -> int:
    return sum(1 << i for i, block in enumerate(BITS) if image[block][6:-6, 6:-6].mean() > GREY)


def record_segments(store, camera_id: str, t0: datetime, fps: int, seconds_each: list[float], gaps_s=None) -> list:
    """Write and index segments of `seconds_each` seconds from t0, frames numbered on from 0 across them;
    gaps_s[i]: seconds of silence before segment i. Returns the indexed segments."""
    folder = Path(store.data_dir) / "recordings" / camera_id
    folder.mkdir(parents=True, exist_ok=True)
    out, n, at = [], 0, t0
    for i, seconds in enumerate(seconds_each):
        at += timedelta(seconds=(gaps_s or {}).get(i, 0))
        frames = int(round(seconds * fps))
        path = folder / f"{at:%Y%m%dT%H%M%S%f}.ts"
        buf = io.BytesIO()
        with av.open(buf, "w", format="mpegts") as c:
            s = c.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "crf": "18"})
            s.width, s.height, s.pix_fmt = W, H, "yuv420p"
            s.codec_context.gop_size = fps
            for k in range(frames):
                image = np.full((H, W, 3), GREY, np.uint8)
                write_number(image, n + k)
                c.mux(s.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
            c.mux(s.encode(None))
        store.pictures.write_file(path, buf.getvalue())  # sealed at rest, as the recorder writes them
        end = at + timedelta(seconds=frames / fps)
        out.append(store.add_recording_segment(camera_id, at, end, path, frames, "h264", "mpegts", W, H))
        n += frames
        at = end
    return out

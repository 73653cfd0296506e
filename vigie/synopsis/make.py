"""One synopsis, end to end: select -> pack -> render, with the figures that say how good it is."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from vigie.synopsis.build import SynopsisError, select, to_pack_tubes
from vigie.synopsis.packing import pack
from vigie.synopsis.render import render


@dataclass
class SynopsisReport:
    camera_id: str
    video: str
    index: str
    objects: int
    frames: int
    fps: float
    source_s: float  # seconds of video of the period (covered by the camera's backgrounds)
    synopsis_s: float
    condensation: float  # source_s / synopsis_s
    collision_fraction: float  # object box area covered by other boxes (the packer's measure)
    lost_fraction: float  # object pixels (masks) covered by objects pasted over them
    inversions: int  # pairs shown in the opposite order to the source's
    without_tube: int  # matching tracks analysed before tubes were kept (not shown)
    seconds_select: float
    seconds_pack: float
    seconds_render: float
    seconds_blur: float
    blur_regions: int  # faces and plates blurred on the pasted objects
    limit_met: bool  # the overlap is within max_collision (False: even the source's own timing overlaps more)

    @property
    def seconds(self) -> float:
        return self.seconds_select + self.seconds_pack + self.seconds_render

    def as_dict(self) -> dict:
        return {**asdict(self), "seconds": round(self.seconds, 3),
                "speed_vs_source": round(self.source_s / self.seconds, 2) if self.seconds else None}


def make_synopsis(store, camera_id: str, start: datetime, end: datetime, out_dir: Path, filters: dict | None = None,
                  length_s: float | None = None, max_collision: float = 0.05, blurrer=None, video_format: str = "mp4",
                  name: str = "synopsis", progress: Callable[[int, int], None] | None = None) -> SynopsisReport:
    """Write <out_dir>/<name>.<mp4|webm> and <name>.json; `length_s` None: the shortest synopsis
    whose objects overlap by at most `max_collision` of their area."""
    if video_format not in ("mp4", "webm"):
        raise SynopsisError(f"synopsis format {video_format!r}: mp4 or webm")
    if length_s is not None and length_s <= 0:
        raise SynopsisError(f"synopsis length {length_s} s: must be more than 0")
    if not 0 <= max_collision < 1:
        raise SynopsisError(f"synopsis max collision {max_collision}: a fraction from 0 to 1")
    t0 = time.perf_counter()
    selection = select(store, camera_id, start, end, filters)
    t1 = time.perf_counter()
    length = None if length_s is None else max(1, round(length_s * selection.fps))
    packing = pack(to_pack_tubes(selection), selection.frame_size, length=length, max_collision=max_collision)
    t2 = time.perf_counter()
    out_dir = Path(out_dir)
    video, index = out_dir / f"{name}.{video_format}", out_dir / f"{name}.json"
    figures = {"source_s": round(selection.source_s, 2), "condensation": None,
               "collision_fraction": round(packing.collision_fraction, 4), "inversions": packing.inversions}
    stats = render(selection, packing.starts, packing.length, video, index, blurrer=blurrer, progress=progress,
                   extra={"figures": figures})
    t3 = time.perf_counter()
    synopsis_s = packing.length / selection.fps
    return SynopsisReport(camera_id, str(video), str(index), len(selection.objects), packing.length, selection.fps,
                          selection.source_s, synopsis_s, selection.source_s / synopsis_s if synopsis_s else 0.0,
                          packing.collision_fraction, stats.lost_fraction, packing.inversions, selection.without_tube,
                          t1 - t0, t2 - t1, t3 - t2, stats.seconds_blur, stats.blur_regions,
                          packing.collision_fraction <= max_collision + 1e-9 or length is not None)

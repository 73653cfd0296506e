"""One synopsis, end to end: select -> pack -> render, with the figures that say how good it is."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from vigie.i18n import _
from vigie.synopsis.build import SynopsisError, matching_tracks, require_material, select, to_pack_tubes
from vigie.synopsis.packing import pack
from vigie.synopsis.render import render
from vigie.times import iso


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
        return {
            **asdict(self),
            "seconds": round(self.seconds, 3),
            "speed_vs_source": round(self.source_s / self.seconds, 2) if self.seconds else None,
        }


def make_synopsis(
    store,
    camera_id: str,
    start: datetime,
    end: datetime,
    out_dir: Path,
    filters: dict | None = None,
    length_s: float | None = None,
    max_collision: float = 0.05,
    blurrer=None,
    video_format: str = "mp4",
    name: str = "synopsis",
    progress: Callable[[int, int], None] | None = None,
    label_timezone: str = "UTC",
) -> SynopsisReport:
    """Write <out_dir>/<name>.<mp4|webm> and <name>.json; `length_s` None: the shortest synopsis
    whose objects overlap by at most `max_collision` of their area. Labels are written in
    `label_timezone` (the site's); the index's times are UTC."""
    if video_format not in ("mp4", "webm"):
        raise SynopsisError(_("synopsis format {video_format}: mp4 or webm", video_format=repr(video_format)))
    _check_settings(length_s, max_collision)
    t0 = time.perf_counter()
    selection = select(store, camera_id, start, end, filters)
    t1 = time.perf_counter()
    length = None if length_s is None else max(1, round(length_s * selection.fps))
    packing = pack(to_pack_tubes(selection), selection.frame_size, length=length, max_collision=max_collision)
    t2 = time.perf_counter()
    out_dir = Path(out_dir)
    video, index = out_dir / f"{name}.{video_format}", out_dir / f"{name}.json"
    synopsis_s = packing.length / selection.fps
    condensation = selection.source_s / synopsis_s if synopsis_s else 0.0
    figures = {
        "source_s": round(selection.source_s, 2),
        "condensation": round(condensation, 2),
        "collision_fraction": round(packing.collision_fraction, 4),
        "inversions": packing.inversions,
    }

    stats = render(
        selection,
        packing.starts,
        packing.length,
        video,
        index,
        blurrer=blurrer,
        progress=progress,
        label_tz=ZoneInfo(label_timezone),
        extra={"figures": figures, "label_timezone": label_timezone},
    )
    t3 = time.perf_counter()
    return SynopsisReport(
        camera_id,
        str(video),
        str(index),
        len(selection.objects),
        packing.length,
        selection.fps,
        selection.source_s,
        synopsis_s,
        condensation,
        packing.collision_fraction,
        stats.lost_fraction,
        packing.inversions,
        selection.without_tube,
        t1 - t0,
        t2 - t1,
        t3 - t2,
        stats.seconds_blur,
        stats.blur_regions,
        packing.collision_fraction <= max_collision + 1e-9 or length is not None,
    )


def check_request(
    store,
    camera_id: str,
    start: datetime,
    end: datetime,
    filters: dict | None = None,
    length_s: float | None = None,
    max_collision: float = 0.05,
    max_tracks: int = 20000,
) -> int:
    """Refuse early, with make_synopsis' own messages, what cannot be made (a reserved filter, a
    reversed period, an unknown camera, too many or no matching tracks, no tube, no background), reading no tube
    and rendering nothing: for a caller that queues the synopsis (the web app). The number of matching
    tracks that have a tube. What only the tubes' frames tell (none inside the period) is still found
    by make_synopsis."""

    _check_settings(length_s, max_collision)
    start, end, filters, ids = matching_tracks(store, camera_id, start, end, filters, max_tracks)
    with_tube = 0
    with store.read() as conn:
        for k in range(0, len(ids), 500):
            chunk = ids[k : k + 500]
            with_tube += conn.execute(
                f"SELECT count(*) FROM tubes WHERE track_id IN ({','.join('?' * len(chunk))})", chunk
            ).fetchone()[0]
        backgrounds = conn.execute(
            "SELECT count(*) FROM backgrounds b JOIN analyses a ON a.id = b.analysis_id"
            " WHERE b.camera_id = ? AND a.status <> 'running' AND b.end > ? AND b.start < ?",
            (camera_id, iso(start), iso(end)),
        ).fetchone()[0]
    require_material(camera_id, start, end, len(ids), with_tube, backgrounds)
    return with_tube


def _check_settings(length_s: float | None, max_collision: float) -> None:
    if length_s is not None and length_s <= 0:
        raise SynopsisError(_("synopsis length {length_s} s: must be more than 0", length_s=length_s))
    if not 0 <= max_collision < 1:
        raise SynopsisError(
            _("synopsis max collision {max_collision}: a fraction from 0 to 1", max_collision=max_collision)
        )

"""A long recording cut into chunks analysed apart, and their tracks stitched back into one set.

Why ownership rather than joining halves: a track's summary (colours, appearance vector,
best crop, speed, synopsis tube) is built from all of its frames; two half-tracks cannot be
merged into what one pass would have described. So each track is described whole by the
one chunk that owns it:

1. Chunk k owns the tracks born in its core frames [first, end).
2. It starts `warmup` frames before its core, so that the motion gate's background and the
   tracker have seen what is already in view; tracks born during the warm-up belong to
   chunk k-1.
3. Past its core it runs on while a track it owns is still open (at most `run_on` frames),
   so that a person crossing the border is followed to the end by the chunk that saw them
   first, as the whole-file pass does.

Stitching (`stitch`) then keeps each chunk's own tracks, and settles the few that the two
sides of a border saw differently (a tracker that has seen a few seconds less can break or
start a track at another frame): a later chunk's track that an earlier chunk already
followed over the same boxes on (nearly) all their shared frames (a run-on may cross
several borders) is a duplicate and goes; a track that no chunk owns but nobody else
followed either (born in a warm-up, or in a run-on) is kept, once.

What a chunk cannot reproduce, and what it costs: a chunk's tracker starts without the
tracks that the whole pass opened before its warm-up. A person who stays in view through
the whole warm-up without ever scoring `new_track_score` (a standing person half hidden by
another) is then not followed by that chunk, and a passer-by's track can switch onto them.
That track is kept (dropping it would also drop the passer-by's first boxes). So, per chunk
border, a track of the whole pass may be split or shortened differently. Measured on
PETS09's first minute in four chunks (docs/BENCHMARKS.md section 19): 11 of 12 tracks the
same, 98.3 % of the whole pass's boxes in the chunked tracks, and 99.4 % of the chunked
tracks' boxes in the whole pass's. The detections themselves are the same, frame for frame.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from vigie.errors import VideoError
from vigie.pipeline import open_camera_file
from vigie.types import TrackSummary

WARMUP_S = 8.0  # seconds before a chunk's core: the motion gate's background and the tracker settle
RUN_ON_S = 120.0  # longest a chunk follows its own tracks past its core; longer tracks are cut there
SAME_TRACK_IOU = 0.5  # two tracks with boxes this close over most of their shared frames are one object
# A later chunk's own track is a duplicate of an earlier one only when it follows its boxes on this share of
# their shared frames. A restart of the same object follows them on all of them; the one identity switch
# on PETS09's first minute (a passer-by's track taking over a standing person) did on 0.755 of them.
DUPLICATE_SHARE = 0.9


@dataclass(frozen=True)
class Chunk:
    index: int
    warmup_from: int  # first frame decoded
    first: int  # first frame of the core (owned births)
    end: int  # one past the core's last frame
    last: int  # one past the last frame it may run on to (end of file for the last chunk)


@dataclass
class ChunkResult:
    chunk: Chunk
    owned: list[TrackSummary]
    others: list[TrackSummary]  # born in the warm-up or the run-on: kept only if no chunk followed them
    backgrounds: list = field(default_factory=list)
    frames_decoded: int = 0
    frames_analysed: int = 0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    message: str = ""
    cut_tracks: int = 0  # owned tracks still open when the run-on limit was reached
    node: str = ""  # where it ran (the Ray node's id on a cluster)
    restarted: bool = False  # the attempt that returned ran in an actor Ray restarted after a failure
    seconds: float = 0.0


def plan_chunks(
    total_frames: int, frame_rate: float, chunk_s: float, warmup_s: float = WARMUP_S, run_on_s: float = RUN_ON_S
) -> list[Chunk]:
    """Equal cores of about `chunk_s` seconds covering frames [0, total_frames)."""
    if total_frames <= 0:
        raise ValueError("the recording declares no frame count: it cannot be split into chunks")
    if chunk_s <= 0:
        raise ValueError("the chunk length must be more than 0 seconds")
    per = max(1, round(chunk_s * frame_rate))
    n = max(1, math.ceil(total_frames / per))
    bounds = [round(i * total_frames / n) for i in range(n + 1)]
    warmup, run_on = round(warmup_s * frame_rate), round(run_on_s * frame_rate)
    return [
        Chunk(
            i,
            max(0, bounds[i] - warmup),
            bounds[i],
            bounds[i + 1],
            total_frames if i == n - 1 else min(total_frames, bounds[i + 1] + run_on),
        )
        for i in range(n)
    ]


def analyse_chunk(path: str, camera_id: str, site, chunk: Chunk, projection=None, detector=None) -> ChunkResult:
    """Analyse one chunk with the camera's pipeline (the same stages and settings as a whole-file pass)."""

    started = time.perf_counter()
    source, pipeline = open_camera_file(path, camera_id, site, detector=detector, projection=projection)
    ended: list[TrackSummary] = []
    backgrounds: list = []
    message, cut = "", 0

    def owned(seq: int) -> bool:
        return chunk.first <= seq < chunk.end

    frames = iter(source.frames_from(chunk.warmup_from))
    while True:
        t0 = time.perf_counter()
        try:
            frame = next(frames, None)
        except VideoError as exc:
            message = str(exc)
            frame = None
        pipeline.times.decode += time.perf_counter() - t0
        if frame is None:
            break
        if frame.seq >= chunk.end:
            open_owned = [s for s in pipeline.describer.live_first_seqs().values() if owned(s)]
            if not open_owned:
                break  # every track this chunk owns has ended: the rest is the next chunk's
            if frame.seq >= chunk.last:
                cut = len(open_owned)
                break
        _, done = pipeline.process(frame)
        ended += done
        backgrounds += pipeline.take_backgrounds()
    ended += pipeline.finish()
    # Period backgrounds (synopsis): each chunk keeps those that start in its core.
    backgrounds = [b for b in backgrounds + pipeline.take_backgrounds() if _in_core(chunk, source, b.start)]
    return ChunkResult(
        chunk=chunk,
        owned=[t for t in ended if owned(t.points[0].seq)],
        others=[t for t in ended if not owned(t.points[0].seq)],
        backgrounds=backgrounds,
        frames_decoded=max(0, source.frames_decoded - chunk.warmup_from),
        frames_analysed=pipeline.frames_analysed,
        stage_seconds=pipeline.times.as_dict(),
        message=message,
        cut_tracks=cut,
        seconds=time.perf_counter() - started,
    )


def _in_core(chunk: Chunk, source, t) -> bool:
    offset = (t - source.recording_start).total_seconds() * source.info.frame_rate
    return chunk.first <= round(offset) < chunk.end or (chunk.index == 0 and offset < chunk.first)


# --- stitching ----------------------------------------------------------------------------------------
def _boxes(track: TrackSummary) -> dict[int, np.ndarray]:
    return {p.seq: np.asarray(p.xyxy, dtype=np.float64) for p in track.points}


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x1, y1 = np.maximum(a[:, 0], b[:, 0]), np.maximum(a[:, 1], b[:, 1])
    x2, y2 = np.minimum(a[:, 2], b[:, 2]), np.minimum(a[:, 3], b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda z: (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])  # noqa: E731
    return inter / np.maximum(area(a) + area(b) - inter, 1e-9)


def same_object(a: TrackSummary, b: TrackSummary, iou: float = SAME_TRACK_IOU, share: float = 0.5) -> bool:
    """True when `b` follows `a`'s boxes: over the frames both saw (at least half of b's), at least
    `share` of them (most, by default) overlap by `iou`."""
    if a.class_name != b.class_name or a.last_seen < b.first_seen or b.last_seen < a.first_seen:
        return False
    ba, bb = _boxes(a), _boxes(b)
    shared = sorted(ba.keys() & bb.keys())
    if len(shared) < max(1, len(bb) // 2):
        return False
    overlaps = _iou(np.array([ba[s] for s in shared]), np.array([bb[s] for s in shared]))
    return float(np.mean(overlaps >= iou)) >= share


def box_coverage(tracks: list[TrackSummary], others: list[TrackSummary], iou: float = SAME_TRACK_IOU) -> float:
    """The share of `tracks`' boxes that a track of `others` has too (same frame, overlapping by `iou`):
    how much two analyses of one recording (one pass and chunks) agree, box by box."""
    by_frame: dict[int, list] = {}
    for o in others:
        for p in o.points:
            by_frame.setdefault(p.seq, []).append(p.xyxy)
    found = total = 0
    for t in tracks:
        for p in t.points:
            total += 1
            there = np.asarray(by_frame.get(p.seq, []), dtype=np.float64).reshape(-1, 4)
            if len(there):
                mine = np.repeat(np.asarray([p.xyxy], dtype=np.float64), len(there), axis=0)
                found += bool(np.max(_iou(mine, there)) >= iou)
    return found / max(total, 1)


@dataclass
class Stitched:
    tracks: list[TrackSummary]
    duplicates_dropped: int
    orphans_kept: int
    cut_tracks: int


def stitch(results: list[ChunkResult]) -> Stitched:
    """One set of tracks from the chunks' (see the module's docstring), numbered in order of appearance."""
    results = sorted(results, key=lambda r: r.chunk.index)
    kept: list[TrackSummary] = []
    dropped = orphans = 0
    for result in results:
        mine = []
        for t in result.owned:
            # An earlier chunk followed this object past its border (a run-on may cross several chunks),
            # with more history: its track stands. A track that follows it on only part of their shared
            # frames switched onto it from someone else, whose boxes only it has: it stays.
            if any(same_object(e, t, share=DUPLICATE_SHARE) for e in kept):
                dropped += 1
            else:
                mine.append(t)
        kept += mine
    # Tracks no chunk owns (born in a warm-up or a run-on): kept, longest first, when nothing kept follows them.
    for t in sorted((t for r in results for t in r.others), key=lambda t: -len(t.points)):
        if not any(same_object(e, t) or same_object(t, e) for e in kept if e.class_name == t.class_name):
            kept.append(t)
            orphans += 1
    kept.sort(key=lambda t: (t.first_seen, t.points[0].xyxy))
    for no, t in enumerate(kept, start=1):
        t.track_no = no  # the camera's counter over the whole recording, as one pass numbers them
    return Stitched(kept, dropped, orphans, sum(r.cut_tracks for r in results))

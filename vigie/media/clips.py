"""The video clip of one track: for the browser, and for forensic exports.

    clip = render_clip(store, track_id, site=site, blurrer=blurrer)          # blurred WebM (VP8), cached
    clip = render_clip(store, track_id, site=site, blur=False, fmt="mp4")    # unblurred H.264, memory only
    clip.data, clip.mime, clip.frames, clip.first_seq, clip.last_seq, clip.sha256

What each frame of the clip shows, in this order:
1. the recording's own frame, from `pad_s` before the track's first frame to
   `pad_s` after its last. Longer than `max_s`, the clip keeps its START:
   max_s seconds from the lead-in on, the rest of the track is cut (that is
   where the subject enters the scene; a longer look is an export of the
   recording, not a clip). Clip.truncated says so;
2. the camera's privacy masks (site file) filled with black, blurred or not:
   the analysis never saw those pixels and nobody may see them here either;
3. if blur: faces and plates hidden by the Blurrer, given the boxes of EVERY
   track of the same analysis present in the frame (people, and the riders
   of bicycles and motorcycles, as person boxes, where it looks for small
   faces upscaled; cars, buses, trucks and motorcycles as vehicle boxes,
   where it looks for plates), besides its own whole-frame face search;
4. the subject's box (linearly interpolated between analysed frames where
   the analysis ran with frame_step > 1) and a caption: camera id, the
   frame's time on the site's clock, labelled ("06/12/2026 14:05:09.120 (Paris time)"), and the track id. Drawn after blurring, so the blurrer
   sees the recording's pixels and the caption stays legible.

Frame numbers. Stored points carry `seq`, the frame's index in decode order
counted from the start of the file (vigie.sources.file.FileSource). Rather
than decode a long recording from its start, the container is seeked to the
keyframe before the clip and each frame's seq is computed from its pts with
the container's OWN time base and frame rate: PETS09's AVI claims 10 fps for
footage filmed at 7, but its pts still count frames at "10 fps", so the
container's rate, not the site's, turns pts into frame numbers. The frames
must then fall on that regular grid, one after the other, starting at or
before the clip; when they do not (no pts, variable frame rate, a seek that
overshot, a container that cannot seek) the clip is rendered again by
decoding from the start and counting, exactly as FileSource does.

Times and rate. A frame's time is the subject's first stored point's time
plus (seq - its seq) / fps, so captions agree with the stored times whatever
the analysis anchored them on. fps is the site camera's `frame_rate` where
set (the true rate), else the container's; the clip plays at that rate.

Formats. "webm": VP8 (libvpx), for browsers. "mp4": H.264 (libx264,
yuv420p), for exports, with its index (moov) before the media data as
`-movflags +faststart` gives; it is reserved up front (the mp4 muxer's
`moov_size`) because +faststart rewrites a file on disk in a second pass,
and unblurred clips must never touch the disk. Both are encoded in memory.

Cache. Blurred clips only, as $VIGIE_DATA/clips/<camera_id>/<track_id>.<fmt>
(store.data_dir is $VIGIE_DATA), sealed under the media key like every picture
at rest (vigie.store.pictures: blurred, but still footage of people) and
written atomically (a temp file in the same folder, then os.replace). Each file's container metadata (the "comment" tag)
holds a JSON description with a key: a hash of everything its pixels depend
on (the track's row, the source's fingerprint, the masks, the rate, pad and
cap, the format, the blurrer, RENDER_VERSION). A cached file is served only
when its key matches, so a new privacy mask, a re-analysis that reuses a
track id or a changed renderer never serves a stale clip. `vigie purge`
deletes the clips of the tracks it removes and orphan clips
(vigie.retention.purge) with `clip_files` / `delete_clips` below.

A Blurrer is slow to load and not meant for concurrent calls: build one per
process and serialise calls to it (the web app holds its blur lock around
render_clip); this module never builds one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

import av
import cv2
import numpy as np

from vigie.clock import zone_label
from vigie.errors import ConfigError, VideoError, VigieError
from vigie.files import write_atomic
from vigie.i18n import _, current_language, gettext
from vigie.privacy.blur import PLATE_CLASSES, LockedBlurrer
from vigie.privacy.masks import PrivacyMask
from vigie.privacy.schedule import FaceSchedule
from vigie.times import from_iso

# Bump when what a clip looks like changes: cached clips of older versions are re-rendered.
RENDER_VERSION = 2  # 2: faces searched on a schedule and carried over frames (vigie.privacy.schedule)

# Classes whose boxes are searched for faces: people, and riders, whose faces are
# in the open (a driver's is behind glass, left to the whole-frame search).
FACE_BOX_CLASSES = frozenset({"person", "bicycle", "motorcycle"})
BOX_BGR = (0, 200, 255)  # the subject's box: orange, rare in street scenes
CAPTION_FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class _Format:
    container: str
    codec: str
    mime: str
    options: dict


FORMATS = {
    # VP8 in constrained quality: crf 10 under a bit-rate ceiling (bench: ~37.5 dB PSNR on PETS09).
    "webm": _Format("webm", "libvpx", "video/webm", {"crf": "10", "deadline": "good", "cpu-used": "5"}),
    # veryfast: 3-4x quicker than medium for ~1 dB; crf 20 keeps small faces' blur and plates' blur faithful.
    "mp4": _Format("mp4", "libx264", "video/mp4", {"preset": "veryfast", "crf": "20"}),
    # Fragmented MP4, streamed while it is rendered (stream_clip): zerolatency drops x264's look-ahead and
    # B-frames, so a frame leaves the encoder as soon as it is encoded (the first picture sooner).
    "fmp4": _Format("mp4", "libx264", "video/mp4", {"preset": "veryfast", "crf": "20", "tune": "zerolatency"}),
}
# The whole-frame face search of frames wider than this is done at this width (1080p: 1280x720), 2.3x cheaper;
# the small faces it then misses are those of people no track holds (bench/blur_schedule.py measures it).
WHOLE_SIDE = 1280
# A fragment per frame: each frame is sent as soon as it is encoded, so the player's first picture waits for
# one frame, not for a whole clip (nor for half a second of frames: 4 frames at 7 fps, 2 s of blurring at
# 1080p); about 100 bytes of fragment header per frame.
FRAGMENTED = {"movflags": "frag_every_frame+empty_moov+default_base_moof"}


class ClipError(VigieError):
    """A clip that cannot be made: unknown track, bad arguments, no blurrer for a blurred clip."""


class TrackNotFound(ClipError):
    """No visible track has this id."""

    status = 404


class SourceUnavailable(ClipError):
    """The recording a track was found in is gone or cannot be read (names the file and the track)."""

    status = 410  # the track is known, its media are gone


@dataclass(frozen=True)
class Clip:
    """A rendered (or cached) clip and what it holds.

    Frames are consecutive frames first_seq..last_seq of the recording
    (seq as stored with the track's points), played at `fps`.
    """

    data: bytes
    fmt: str  # "webm" | "mp4"
    track_id: int
    camera_id: str
    frames: int
    fps: float
    first_seq: int
    last_seq: int
    start: datetime  # UTC time of the first frame
    blurred: bool
    truncated: bool  # the track lasted longer than max_s: only its start is in the clip
    regions: int | None  # face and plate regions blurred, all frames together; None when read from the cache
    cached: bool  # served from the cache without rendering
    path: Path | None  # the cache file (blurred clips); None for clips kept in memory only

    @property
    def mime(self) -> str:
        return FORMATS[self.fmt].mime

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps

    @property
    def sha256(self) -> str:
        """For export manifests: the exported file's digest."""
        return hashlib.sha256(self.data).hexdigest()


# --- the entry point -------------------------------------------------------------------------
def render_clip(
    store,
    track_id: int,
    *,
    site=None,
    blurrer=None,
    blur: bool = True,
    fmt: str = "webm",
    pad_s: float = 1.0,
    max_s: float = 120.0,
    out: str | Path | None = None,
) -> Clip:
    """The clip of track `track_id`, rendered or, when blurred, from the cache.

    site: the SiteConfig giving the camera's privacy masks and true frame rate;
    without it (or for a camera gone from it) no mask is known and the
    container's rate is used, so callers showing footage should pass it.
    blur=True needs a blurrer (vigie.privacy.blur.Blurrer or anything with its
    `blur` method): without one this raises ClipError rather than return
    unblurred media. blur=False is for callers entitled to unblurred footage;
    such clips stay in memory (never cached). out: also write the clip to this
    file (atomically), e.g. an export the caller chose to keep.

    Raises TrackNotFound, SourceUnavailable (recording gone or unreadable),
    VideoError (recording corrupt, or shorter than the track), ClipError.
    """
    if fmt not in FORMATS:
        raise ClipError(gettext("clip format {fmt} is not one of {value}", fmt=repr(fmt), value=", ".join(FORMATS)))
    if not (pad_s >= 0 and max_s > 0):
        raise ClipError(
            gettext(
                "clip of track {track_id}: pad_s must be >= 0 and max_s > 0 (got {pad_s}, {max_s})",
                track_id=track_id,
                pad_s=pad_s,
                max_s=max_s,
            )
        )
    if blur and blurrer is None:
        raise ClipError(
            gettext(
                "clip of track {track_id}: a blurred clip was asked for but no blurrer is configured; unblurred footage is never returned in its place",
                track_id=track_id,
            )
        )
    plan = _plan(store, track_id, site, pad_s, max_s)
    key = plan.key(fmt, blurrer if blur else None)
    cache = clip_path(store, plan.camera_id, track_id, fmt) if blur else None
    clip = _from_cache(store, cache, key, plan, fmt) if cache else None
    if clip is None:
        clip = _render(plan, blurrer if blur else None, fmt, key)
        if cache:  # blurred, and sealed all the same: footage of people (vigie.store.pictures)
            store.pictures.write_file(cache, clip.data)
            clip = _replace(clip, path=cache)
    if out is not None:
        _write_atomic(Path(out), clip.data)
    return clip


@dataclass
class ClipStream:
    """A clip as a fragmented MP4 (H.264) while it is rendered: `chunks` yields its bytes in order, the
    first of them already rendered when stream_clip returns (so a bad track or a missing recording raises
    there, before anything is sent). A blurred one is cached once complete, and later streamed from the cache."""

    track_id: int
    camera_id: str
    blurred: bool
    cached: bool
    chunks: Iterator[bytes]
    mime: str = "video/mp4"


STREAM_CHUNK = 256 * 1024  # a cached clip is sent in pieces of this size


def stream_clip(
    store,
    track_id: int,
    *,
    site=None,
    blurrer=None,
    blur: bool = True,
    pad_s: float = 1.0,
    max_s: float = 120.0,
    lock=None,
) -> ClipStream:
    """The track's clip streamed as fragmented MP4 while it is rendered (arguments and errors: render_clip).

    The browser plays it as it comes, so the first picture is there after the first fragment (about half a
    second of video) rather than after the whole clip. lock: a shared blurrer's lock, taken for each of its
    calls (vigie.privacy.blur.LockedBlurrer), never across the chunks handed out."""
    if not (pad_s >= 0 and max_s > 0):
        raise ClipError(f"clip of track {track_id}: pad_s must be >= 0 and max_s > 0 (got {pad_s}, {max_s})")
    if blur and blurrer is None:
        raise ClipError(
            f"clip of track {track_id}: a blurred clip was asked for but no blurrer is configured; "
            "unblurred footage is never returned in its place"
        )
    plan = _plan(store, track_id, site, pad_s, max_s)
    key = plan.key("fmp4", blurrer if blur else None)
    cache = clip_path(store, plan.camera_id, track_id, "fmp4") if blur else None
    clip = _from_cache(store, cache, key, plan, "fmp4") if cache else None
    if clip is not None:
        pieces = (clip.data[i : i + STREAM_CHUNK] for i in range(0, len(clip.data), STREAM_CHUNK))
        return ClipStream(track_id, plan.camera_id, True, True, pieces)
    if blur and lock is not None:
        blurrer = LockedBlurrer(blurrer, lock)
    chunks = _streamed(plan, blurrer if blur else None, key, cache)
    first = next(chunks, b"")  # renders the first fragment: errors surface here
    return ClipStream(track_id, plan.camera_id, blur, False, _chain(first, chunks))


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


def _streamed(plan: _Plan, blurrer, key: str, cache: Path | None) -> Iterator[bytes]:
    """The fragments as rendered; seeking given up (see _seeked) before the first is sent renders by counting
    instead, after it the stream ends with a VideoError (nothing can be taken back)."""
    result: dict = {}
    sent = False
    try:
        for data in _render_chunks(plan, blurrer, "fmp4", key, True, result):
            sent = True
            yield data
    except _OffGrid as exc:
        if sent:
            raise VideoError(
                f"{plan.source} (track {plan.track_id}): its frames left the frame grid while streaming ({exc}); "
                "play the clip again"
            ) from None
        result.clear()
        yield from _render_chunks(plan, blurrer, "fmp4", key, False, result)
    if cache is not None and "clip" in result:
        _write_atomic(cache, result["clip"].data)


def _replace(clip: Clip, **changes) -> Clip:
    return Clip(**{**clip.__dict__, **changes})


# --- what to render: the track, its recording, the camera ----------------------------------------
@dataclass
class _Plan:
    store: object  # where the other tracks' boxes are read
    track_id: int
    track: dict
    camera_id: str
    analysis_id: int
    source: Path
    fingerprint: str
    masks: PrivacyMask
    mask_polygons: list
    site_rate: float | None  # the camera's true frame rate from the site file, if any
    pad_s: float
    max_s: float
    seqs: np.ndarray  # the subject's analysed frames
    boxes: np.ndarray  # (n, 4) its boxes there, in stored (source) pixels
    t0: datetime  # time of the subject's first point
    zone: ZoneInfo  # the site's: the caption's clock
    language: str  # the caption's label ("Paris time" / "heure de Paris")

    @property
    def first_seq(self) -> int:
        return int(self.seqs[0])

    @property
    def last_seq(self) -> int:
        return int(self.seqs[-1])

    def key(self, fmt: str, blurrer) -> str:
        """A hash of everything the clip's pixels depend on (see the module docstring)."""
        t = self.track
        parts = {
            "v": RENDER_VERSION,
            "track": self.track_id,
            "analysis": self.analysis_id,
            "track_no": t["track_no"],
            "first_seen": t["first_seen"],
            "last_seen": t["last_seen"],
            "n_points": t["n_points"],
            "source": str(self.source),
            "fingerprint": self.fingerprint,
            "masks": self.mask_polygons,
            "rate": self.site_rate,
            "pad_s": self.pad_s,
            "max_s": self.max_s,
            "fmt": fmt,
            "zone": self.zone.key,
            "language": self.language,
            "blurrer": None
            if blurrer is None
            else f"{type(blurrer).__module__}.{type(blurrer).__qualname__}/{blurrer.style}",
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _plan(store, track_id: int, site, pad_s: float, max_s: float) -> _Plan:
    track = store.get_track(track_id)
    if track is None:
        raise TrackNotFound(
            gettext(
                "no track has id {track_id} (never stored, purged, or its analysis is not finished)", track_id=track_id
            )
        )
    points = store.track_points(track_id)
    if not points:
        raise ClipError(gettext("track {track_id} has no stored points: there is nothing to show", track_id=track_id))
    camera = _camera(site, track["camera_id"])
    polygons = [[list(map(float, p)) for p in poly] for poly in camera.privacy_masks] if camera else []
    with store.read() as conn:
        fingerprint = conn.execute("SELECT fingerprint FROM analyses WHERE id=?", (track["analysis_id"],)).fetchone()[0]
    return _Plan(
        store=store,
        track_id=track_id,
        track=track,
        camera_id=track["camera_id"],
        analysis_id=track["analysis_id"],
        source=Path(track["source"]),
        fingerprint=fingerprint,
        masks=PrivacyMask(polygons),
        mask_polygons=polygons,
        site_rate=camera.frame_rate if camera else None,
        pad_s=pad_s,
        max_s=max_s,
        seqs=np.array([p["seq"] for p in points], dtype=np.int64),
        boxes=np.array([[p["x1"], p["y1"], p["x2"], p["y2"]] for p in points], dtype=np.float64),
        t0=from_iso(points[0]["t"]),
        zone=ZoneInfo(getattr(site, "timezone", None) or "UTC"),
        language=current_language(),
    )


def _camera(site, camera_id: str):
    """The camera's site entry, or None: no site file, or a camera since removed from it."""
    if site is None:
        return None
    try:
        return site.camera(camera_id)
    except ConfigError:
        return None


@dataclass
class _Window:
    """The frames to render and how to play them, once the container is known."""

    fps: float
    start: int
    end: int  # inclusive; the file may end sooner (within the trailing pad)
    truncated: bool


def _window(plan: _Plan, stream) -> _Window:
    """The track's frames with `pad_s` either side, cut to the first `max_s` seconds."""
    fps = float(plan.site_rate or stream.average_rate or stream.guessed_rate or 25.0)
    pad = int(round(plan.pad_s * fps))
    start, end = max(0, plan.first_seq - pad), plan.last_seq + pad
    longest = max(1, int(round(plan.max_s * fps)))
    truncated = end - start + 1 > longest
    return _Window(fps, start, start + longest - 1 if truncated else end, truncated)


# --- the other tracks in view: what the blurrer is told to search ----------------------------------
def _interpolated(seqs: np.ndarray, boxes: np.ndarray, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """The track's boxes at every frame of [start, end] it spans, linear between analysed frames."""
    lo, hi = max(start, int(seqs[0])), min(end, int(seqs[-1]))
    if lo > hi:
        return np.zeros(0, np.int64), np.zeros((0, 4))
    at = np.arange(lo, hi + 1)
    return at, np.stack([np.interp(at, seqs, boxes[:, k]) for k in range(4)], axis=1)


# Points inside the window plus the nearest one on each side, for interpolation at its edges.
_POINTS_NEAR = (
    "SELECT seq, x1, y1, x2, y2 FROM track_points WHERE track_id = :t"
    " AND seq >= coalesce((SELECT max(seq) FROM track_points WHERE track_id = :t AND seq <= :lo), :lo)"
    " AND seq <= coalesce((SELECT min(seq) FROM track_points WHERE track_id = :t AND seq >= :hi), :hi)"
    " ORDER BY seq"
)


def _scene_boxes(store, analysis_id: int, start: int, end: int) -> dict[int, tuple[list, list]]:
    """seq -> (face-search boxes, vehicle boxes) of every track of the analysis, in stored pixels."""
    out: dict[int, tuple[list, list]] = {}
    with store.read() as conn:
        # min/max per track come from the (track_id, seq) primary key: no scan of the points.
        spans = conn.execute(
            "SELECT t.id, t.class, (SELECT min(seq) FROM track_points p WHERE p.track_id = t.id) AS lo,"
            " (SELECT max(seq) FROM track_points p WHERE p.track_id = t.id) AS hi FROM tracks t WHERE t.analysis_id = ?",
            (analysis_id,),
        ).fetchall()
        for r in spans:
            faces, plates = r["class"] in FACE_BOX_CLASSES, r["class"] in PLATE_CLASSES
            if r["lo"] is None or r["lo"] > end or r["hi"] < start or not (faces or plates):
                continue
            rows = np.array(
                conn.execute(_POINTS_NEAR, {"t": r["id"], "lo": start, "hi": end}).fetchall(), dtype=np.float64
            )
            for seq, xyxy in zip(*_interpolated(rows[:, 0], rows[:, 1:], start, end)):
                persons, vehicles = out.setdefault(int(seq), ([], []))
                if faces:
                    persons.append(xyxy)
                if plates:
                    vehicles.append(xyxy)
    return out


# --- decoding: the window's frames with their seq ------------------------------------------------
class _OffGrid(Exception):
    """Seeking cannot be trusted to give FileSource's frame numbers for this file."""


def _open_source(plan: _Plan):
    path = plan.source
    what = f"the recording {path} of track {plan.track_id}"
    if not path.exists():
        raise SourceUnavailable(
            gettext("{what} is gone (moved, deleted or its disk unmounted): the clip cannot be made", what=what)
        )
    if not path.is_file() or not os.access(path, os.R_OK):
        raise SourceUnavailable(gettext("{what} cannot be read (not a file, or no read permission)", what=what))
    try:
        container = av.open(str(path), mode="r")
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        raise SourceUnavailable(gettext("{what} cannot be opened: {exc}", what=what, exc=exc)) from None
    except av.error.InvalidDataError as exc:
        raise VideoError(
            gettext(
                "{path} (track {track_id}) is not a video file that can be decoded ({value})",
                path=path,
                track_id=plan.track_id,
                value=exc.strerror or exc,
            )
        ) from None
    except (av.error.FFmpegError, ValueError) as exc:
        raise VideoError(
            gettext(
                "{path} (track {track_id}) cannot be opened as a video: {exc}",
                path=path,
                track_id=plan.track_id,
                exc=exc,
            )
        ) from None
    if not container.streams.video:
        container.close()
        raise VideoError(gettext("{path} (track {track_id}) has no video stream", path=path, track_id=plan.track_id))
    return container


def _seeked(container, stream, start: int, end: int) -> Iterator[tuple[int, "av.VideoFrame"]]:
    """Frames start..end, seeking to the keyframe before start; seq from pts (module docstring)."""
    tb, rate = stream.time_base, stream.average_rate
    if not tb or not rate:
        raise _OffGrid("no time base or frame rate")
    origin = stream.start_time or 0
    frame_pts = 1 / (Fraction(rate) * Fraction(tb))  # pts units per frame
    try:
        container.seek(origin + int(start * frame_pts), stream=stream, backward=True, any_frame=False)
    except (av.error.FFmpegError, OverflowError) as exc:
        raise _OffGrid(f"seek failed: {exc}") from None
    expected = None
    for frame in container.decode(stream):
        if frame.pts is None:
            raise _OffGrid("a frame without pts")
        exact = (frame.pts - origin) / frame_pts
        seq = round(exact)
        if abs(exact - seq) > 0.25 or (expected is None and seq > start) or (expected is not None and seq != expected):
            raise _OffGrid(f"pts {frame.pts} is off the frame grid")
        expected = seq + 1
        if seq > end:
            return
        if seq >= start:
            yield seq, frame


def _counted(container, stream, start: int, end: int) -> Iterator[tuple[int, "av.VideoFrame"]]:
    """Frames start..end, decoding from the file's start and counting, as FileSource does."""
    for seq, frame in enumerate(container.decode(stream)):
        if seq > end:
            return
        if seq >= start:
            yield seq, frame


def _guarded(frames: Iterator, path: Path, track_id: int) -> Iterator[tuple[int, "av.VideoFrame"]]:
    """Decoding errors as VideoError naming the file and the frame."""
    last = None
    try:
        for seq, frame in frames:
            last = seq
            yield seq, frame
    except av.error.FFmpegError as exc:
        where = f"after frame {last}" if last is not None else "before the clip's first frame"
        raise VideoError(
            gettext(
                "{path} (track {track_id}): decoding failed {where}: {exc}",
                path=path,
                track_id=track_id,
                where=where,
                exc=exc,
            )
        ) from None


# --- drawing ---------------------------------------------------------------------------------------
def _draw_box(image: np.ndarray, xyxy, thickness: int) -> None:
    x1, y1, x2, y2 = (int(round(v)) for v in xyxy)
    cv2.rectangle(image, (x1, y1), (x2, y2), BOX_BGR, thickness)


def _caption(image: np.ndarray, text: str) -> None:
    """White text on a black band in the top-left corner, sized to the frame."""
    scale = max(0.4, image.shape[0] / 1100)
    thick = 1 if scale < 0.8 else 2
    (tw, th), base = cv2.getTextSize(text, CAPTION_FONT, scale, thick)
    pad = max(3, th // 3)
    cv2.rectangle(image, (0, 0), (tw + 2 * pad, th + base + 2 * pad), (0, 0, 0), -1)
    cv2.putText(image, text, (pad, pad + th), CAPTION_FONT, scale, (255, 255, 255), thick, cv2.LINE_AA)


def _caption_text(camera_id: str, t: datetime, track_id: int, zone: ZoneInfo) -> str:
    local = t.astimezone(zone)
    when = f"{local:%d/%m/%Y %H:%M:%S}.{local.microsecond // 1000:03d}"
    text = _(
        "{camera}  {time} ({zone})  track {track}", camera=camera_id, time=when, zone=zone_label(zone), track=track_id
    )
    # OpenCV's Hershey fonts draw ASCII only: "Montréal" is written "Montreal"
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


# --- encoding ------------------------------------------------------------------------------------
class _Chunks:
    """A write-only file for the muxer: no seek, so the fragmented mp4 muxer writes straight through."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        """What was written since the last take."""
        data, self.parts = b"".join(self.parts), []
        return data


class _Encoder:
    """One clip, encoded into memory; a fragmented one can be taken out piece by piece (`take`)."""

    def __init__(
        self, fmt: str, fps: float, width: int, height: int, frames_hint: int, comment: str, time_base=None
    ) -> None:
        spec = FORMATS[fmt]
        self.buf = _Chunks() if fmt == "fmp4" else io.BytesIO()
        self.taken: list[bytes] = []
        # moov_size: the mp4 index reserved before the media (about 20 bytes a frame, doubled for safety).
        options = {"moov_size": str(16384 + 40 * frames_hint)} if fmt == "mp4" else {}
        if fmt == "fmp4":
            options = dict(FRAGMENTED)
        self.out = av.open(self.buf, "w", format=spec.container, options=options)
        self.out.metadata["comment"] = comment
        rate = Fraction(fps).limit_denominator(1001)
        self.stream = self.out.add_stream(spec.codec, rate=rate, options=dict(spec.options))
        self.stream.width, self.stream.height, self.stream.pix_fmt = width, height, "yuv420p"
        self.stream.time_base = 1 / rate
        if time_base is not None:
            # Frames timed by the caller (`add(..., pts=)`, in this time base): footage with an irregular rate
            # keeps its own times (vigie.media.playback), where a clip's frames are one 1/fps apart.
            self.stream.time_base = self.stream.codec_context.time_base = time_base
        self.stream.codec_context.gop_size = max(1, int(round(2 * fps)))  # a keyframe every 2 s: seekable in a player
        if fmt == "webm":
            self.stream.bit_rate = min(8_000_000, int(4.5 * width * height))  # the ceiling of constrained quality
            # One thread: libvpx's VP8 threads cost 2-4x the CPU for no gain in wall time at 768x576
            # on two cores (bench/clip_render.py's baseline measured both ways).
            self.stream.codec_context.thread_count = 1
        self.frames = 0

    def add(self, bgr: np.ndarray, pts: int | None = None) -> None:
        frame = av.VideoFrame.from_ndarray(bgr, format="bgr24")
        frame.pts = self.frames if pts is None else pts  # in the stream's time base (1/fps unless given)
        self.out.mux(self.stream.encode(frame))
        self.frames += 1

    def take(self) -> bytes:
        """The fragments completed since the last take (fmp4 only); kept for `finish`."""
        data = self.buf.take()
        if data:
            self.taken.append(data)
        return data

    def finish(self) -> bytes:
        self.out.mux(self.stream.encode(None))
        self.out.close()
        if isinstance(self.buf, _Chunks):
            self.take()
            return b"".join(self.taken)
        return self.buf.getvalue()

    def close(self) -> None:
        try:
            self.out.close()
        except av.error.FFmpegError:
            pass  # already failing: the original error is the one to report


# --- rendering -------------------------------------------------------------------------------------
def _render(plan: _Plan, blurrer, fmt: str, key: str) -> Clip:
    result: dict = {}
    try:
        for _ in _render_chunks(plan, blurrer, fmt, key, True, result):
            pass
    except _OffGrid:
        result.clear()
        for _ in _render_chunks(plan, blurrer, fmt, key, False, result):
            pass
    return result["clip"]


def _render_chunks(plan: _Plan, blurrer, fmt: str, key: str, seek: bool, result: dict) -> Iterator[bytes]:
    """Render the clip; yield its bytes as they are encoded (fmp4: fragment by fragment; the other formats
    have their index first and come whole in result["clip"] only). result["clip"] is the Clip at the end."""
    container = _open_source(plan)
    encoder = None
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        win = _window(plan, stream)
        frames = (
            _seeked(container, stream, win.start, win.end)
            if seek and win.start > 0
            else _counted(container, stream, win.start, win.end)
        )
        subject = dict(zip(*(a.tolist() for a in _interpolated(plan.seqs, plan.boxes, win.start, win.end))))
        scene = _scene_boxes(plan.store, plan.analysis_id, win.start, win.end) if blurrer is not None else {}
        regions, last = 0, None
        masked = _masked(plan, _guarded(frames, plan.source, plan.track_id), scene, blurrer is not None)
        for (seq, scale), image, n in _blurred(masked, blurrer, win.fps):
            regions += n
            _annotate(plan, win, image, seq, scale, subject.get(seq))
            if encoder is None:
                h, w = image.shape[0] & ~1, image.shape[1] & ~1  # yuv420p needs even sides
                comment = _comment(plan, win, key, blurrer is not None)
                encoder = _Encoder(fmt, win.fps, w, h, win.end - win.start + 1, comment)
            encoder.add(image[: encoder.stream.height, : encoder.stream.width])
            last = seq
            if fmt == "fmp4" and (data := encoder.take()):
                yield data
        if last is None or last < min(plan.last_seq, win.end):  # the trailing pad alone may be cut by the file's end
            ends = "has no frame in the clip's range" if last is None else f"ends at frame {last}"
            raise VideoError(
                gettext(
                    "{source} {ends}, before track {track_id}'s last frame {last_seq}: it is truncated, or not the recording that was analysed",
                    source=plan.source,
                    ends=ends,
                    track_id=plan.track_id,
                    last_seq=plan.last_seq,
                )
            )
        streamed = len(encoder.taken)
        data = encoder.finish()
        tail = b"".join(encoder.taken[streamed:])
        encoder = None
    finally:
        if encoder is not None:
            encoder.close()
        container.close()
    result["clip"] = Clip(
        data=data,
        fmt=fmt,
        track_id=plan.track_id,
        camera_id=plan.camera_id,
        frames=last - win.start + 1,
        fps=win.fps,
        first_seq=win.start,
        last_seq=last,
        start=_time_of(plan, win.start, win.fps),
        blurred=blurrer is not None,
        truncated=win.truncated,
        regions=regions if blurrer is not None else None,
        cached=False,
        path=None,
    )
    if fmt == "fmp4" and tail:
        yield tail


def _time_of(plan: _Plan, seq: int, fps: float) -> datetime:
    return plan.t0 + timedelta(seconds=(seq - plan.first_seq) / fps)


def _masked(plan: _Plan, frames: Iterator, scene: dict, with_boxes: bool) -> Iterator[tuple]:
    """(image with the privacy masks burned in, person boxes, vehicle boxes, (seq, scale)) per frame."""
    for seq, frame in frames:
        image = np.ascontiguousarray(frame.to_ndarray(format="bgr24"))
        # Stored pixels per image pixel: the main stream's when the analysed file was its sub-stream.
        scale = (plan.track.get("frame_width") or image.shape[1]) / image.shape[1]
        if plan.masks:
            image[plan.masks.mask_for(image.shape, scale)] = 0
        persons = vehicles = None
        if with_boxes:
            persons, vehicles = (
                np.asarray(b, dtype=np.float64).reshape(-1, 4) / scale for b in scene.get(seq, ([], []))
            )
        yield image, persons, vehicles, (seq, scale)


def _blurred(masked: Iterator[tuple], blurrer, fps: float) -> Iterator[tuple]:
    """(payload, image, regions blurred) per frame, in order.

    A Blurrer searches faces on issue 21's schedule (vigie.privacy.schedule: the person boxes every frame,
    the whole frame every 5th, faces carried over the neighbouring frames); anything else with a `blur`
    method (a stand-in) blurs each frame on its own."""
    if blurrer is None:
        for image, _, _, payload in masked:
            yield payload, image, 0
    elif hasattr(blurrer, "find_faces_in"):
        for payload, image, regions in FaceSchedule(blurrer, fps=fps, whole_side=WHOLE_SIDE).run(masked):
            yield payload, image, len(regions)
    else:
        for image, persons, vehicles, payload in masked:
            out, regions = blurrer.blur(image, vehicle_boxes=vehicles, person_boxes=persons)
            yield payload, np.ascontiguousarray(out), len(regions)


def _annotate(plan: _Plan, win: _Window, image: np.ndarray, seq: int, scale: float, box) -> None:
    """The subject's box and the caption, drawn after blurring (the blurrer sees the recording's pixels)."""
    if box is not None:
        _draw_box(image, np.asarray(box) / scale, max(2, image.shape[0] // 300))
    _caption(image, _caption_text(plan.camera_id, _time_of(plan, seq, win.fps), plan.track_id, plan.zone))


def _comment(plan: _Plan, win: _Window, key: str, blurred: bool) -> str:
    """The clip's provenance, in its container metadata; `key` makes a cached file reusable."""
    return json.dumps(
        {
            "vigie": "track clip",
            "render_version": RENDER_VERSION,
            "key": key,
            "track_id": plan.track_id,
            "camera_id": plan.camera_id,
            "source_sha256": plan.fingerprint,
            "first_seq": win.start,
            "fps": win.fps,
            "start": _time_of(plan, win.start, win.fps).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "truncated": win.truncated,
            "blurred": blurred,
        },
        sort_keys=True,
    )


# --- the cache of blurred clips --------------------------------------------------------------------
def clip_dir(store) -> Path:
    return Path(store.data_dir) / "clips"


def clip_path(store, camera_id: str, track_id: int, fmt: str) -> Path:
    """Where the blurred clip of a track is cached: clips/<camera_id>/<track_id>.<fmt>."""
    return clip_dir(store) / camera_id / f"{int(track_id)}.{fmt}"


def clip_files(store, track_ids: Iterable[int] | None = None) -> dict[int, list[Path]]:
    """Cached clip files by track id, of the given tracks (any camera, any format), or of all tracks."""
    root = clip_dir(store)
    if not root.is_dir():
        return {}
    wanted = None if track_ids is None else {int(t) for t in track_ids}
    found: dict[int, list[Path]] = {}
    for path in root.glob("*/*"):
        stem, _, ext = path.name.partition(".")
        if ext in FORMATS and stem.isdigit() and (wanted is None or int(stem) in wanted) and path.is_file():
            found.setdefault(int(stem), []).append(path)
    return found


def delete_clips(store, track_ids: Iterable[int]) -> int:
    """Delete the cached clips of these tracks; the number of files removed."""
    removed = 0
    for paths in clip_files(store, track_ids).values():
        for path in paths:
            try:
                path.unlink()
                removed += 1
            except FileNotFoundError:
                pass  # removed meanwhile by another purge
    return removed


def stale_temp_clips(store, older_than_s: float = 3600.0) -> list[Path]:
    """Temp files of renders that died before their os.replace (a render takes seconds, not an hour)."""
    root = clip_dir(store)
    if not root.is_dir():
        return []
    limit = time.time() - older_than_s
    return [p for p in root.glob("*/.*.tmp") if p.is_file() and p.stat().st_mtime < limit]


def _write_atomic(path: Path, data: bytes) -> None:
    """Readers see the old file or the whole new one; dead renders leave .<name>.XXXX.tmp (stale_temp_clips)."""
    write_atomic(path, data, suffix=".tmp")


def read_clip_info(data: bytes) -> tuple[dict | None, int]:
    """(the provenance JSON of a clip made here, or None; its number of video frames), without decoding."""
    try:
        with av.open(io.BytesIO(data)) as container:
            tags = {k.lower(): v for k, v in container.metadata.items()}
            frames = sum(1 for p in container.demux(video=0) if p.size)
    except (av.error.FFmpegError, IndexError, ValueError):
        return None, 0
    try:
        meta = json.loads(tags.get("comment", ""))
    except ValueError:
        meta = None
    return (meta if isinstance(meta, dict) else None), frames


def _from_cache(store, path: Path, key: str, plan: _Plan, fmt: str) -> Clip | None:
    data = store.pictures.read_file(path)  # None: missing, or sealed under another key (rendered again)
    if data is None:
        return None
    meta, frames = read_clip_info(data)
    if not meta or meta.get("key") != key or frames < 1:
        return None  # stale or damaged: rendered again, and replaced
    first = int(meta["first_seq"])
    return Clip(
        data=data,
        fmt=fmt,
        track_id=plan.track_id,
        camera_id=plan.camera_id,
        frames=frames,
        fps=float(meta["fps"]),
        first_seq=first,
        last_seq=first + frames - 1,
        start=from_iso(meta["start"]),
        blurred=True,
        truncated=bool(meta["truncated"]),
        regions=None,
        cached=True,
        path=path,
    )

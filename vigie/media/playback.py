"""Playback of a camera's footage from any moment, and the timeline that goes with it.

    sources = footage(store, site, "cam-a")                          # recorded segments + analysed files
    stream = stream_playback(store, site, "cam-a", t, blurrer=b)     # fragmented MP4 from t, blurred
    for chunk in stream.chunks: ...                                  # sent while it is rendered
    timeline(store, site, "cam-a", t0, t1)                           # footage spans, gaps, tracks, alerts

Footage is of two kinds, played through the same path:
- the recorder's segments (`vigie run`, cameras with `record: true`; vigie.store.recordings): a segment's
  frame is dated seg.start + (its pts - the file's first pts) x time base. Never by counting frames: a camera
  drops frames, jitters its timestamps, sends a variable rate. A pts that goes back or leaps past the
  segment's end (a camera's clock reset, a wrap) is a discontinuity: what follows goes on one frame later;
- files analysed with `vigie analyze`, dated as FileSource dated them for the analysis: by their pts from
  the analysis's anchor point (the frame `anchor_seq` was at `anchor_t`), or, where the site gives the true
  frame rate (the container's is wrong), frame `seq` (clips._seeked) at anchor_t + (seq - anchor_seq) / fps,
  as track clips date their frames.

A play starts at a moment `start`; the stream holds the frames from there on, over consecutive footage
(a gap of more than GAP_S ends it: the player then asks for the footage after the gap, which the
timeline shows), for at most `max_s` seconds and never past `until` (an unblurred play's granted window).
Its timestamps are the frames' own times from the stream's first moment (PlaybackStream.start, 0), not one
frame period apart: a recording with dropped frames or a variable rate plays at its real pace, so the player's
currentTime plus that moment is the UTC time shown, the same for every camera of a synchronised view.

What each frame shows: the camera's privacy masks filled black (the recorder burns them in already; an
analysed file, or a mask added since, gets them here), then, when blurred, faces and plates hidden as
in clips: the boxes of the camera's tracks at that moment (interpolated in time between their points)
are searched on issue 21's schedule (vigie.privacy.schedule, through clips._blurred), the whole frame
every 5th frame. Nothing
is cached: unblurred footage never touches the disk, blurred footage is rendered at the speed
bench/blur_schedule.py measures.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import av
import numpy as np

from vigie.alerts.store import list_alerts
from vigie.errors import VideoError, VigieError
from vigie.i18n import gettext
from vigie.media import clips
from vigie.privacy.blur import PLATE_CLASSES, LockedBlurrer
from vigie.privacy.masks import PrivacyMask, masks_width
from vigie.store import playback_reads
from vigie.times import from_iso, iso

GAP_S = 1.0  # footage pieces closer than this play on as one
MAX_PLAY_S = 600.0  # one request's stream: ten minutes at most (the player asks again after)
OUT_TIME_BASE = Fraction(1, 90000)  # the stream's timestamps: fine enough for any camera's own times


class PlaybackError(VigieError):
    """Playback that cannot be given: no footage at that moment, a bad moment."""

    status = 404


@dataclass(frozen=True)
class Footage:
    """One piece of footage: a recorder segment or an analysed file, over [start, end)."""

    kind: str  # "segment" | "file"
    path: Path
    start: datetime
    end: datetime
    fps: float | None  # files: the rate the frames are dated with (or their nominal one); segments: None
    anchor_seq: int = 0  # files: the frame dated `start` is frame 0
    first_pts: int | None = None  # files dated by pts: the pts dated `start` (the file's first frame)
    # segments: their video, opened through the store (sealed at rest: never read by their path)
    data: Callable[[], bytes] | None = field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "start": iso(self.start), "end": iso(self.end)}


def _camera(site, camera_id: str):
    return clips._camera(site, camera_id)


def _file_rate(path: Path, site_rate: float | None) -> float | None:
    """The rate a file's frames are dated with (the site's true one), else the one it declares (25 where it
    declares none: a variable-rate file, dated by its pts anyway); None when it cannot be opened."""
    if site_rate:
        return float(site_rate)
    try:
        with av.open(str(path)) as c:
            return _nominal_rate(c.streams.video[0])
    except (av.error.FFmpegError, IndexError, ValueError, OSError):
        return None


def _pts_span(path: Path, seq: int) -> tuple[int, float, float | None] | None:
    """For a file dated by its pts: (its first frame's pts, frame `seq`'s time from it in seconds, the file's
    duration or None), from its packets (not decoded); None where the file has no usable pts."""
    try:
        with av.open(str(path)) as c:
            stream = c.streams.video[0]
            tb = stream.time_base
            pts = []
            for packet in c.demux(stream):  # decode order: the lowest seq + 16 are enough for B-frames' reordering
                if packet.pts is not None and packet.size:
                    pts.append(packet.pts)
                if len(pts) > seq + 16:
                    break
            duration = float(stream.duration * tb) if stream.duration and tb else None
    except (av.error.FFmpegError, IndexError, ValueError, OSError):
        return None
    if not tb or len(pts) <= seq:
        return None
    pts.sort()
    return pts[0], float((pts[seq] - pts[0]) * tb), duration


def _nominal_rate(stream) -> float:
    """The frame rate a stream declares; 25 where it declares none (an irregular one: FFmpeg then guesses its
    time base's, 90 kHz for MPEG-TS, no frame rate)."""
    for rate in (stream.average_rate, stream.guessed_rate):
        if rate and 1 <= float(rate) <= 120:
            return float(rate)
    return 25.0


def _reader(store, seg) -> Callable[[], bytes]:
    return lambda: store.recording_segment_data(seg)


def footage(store, site, camera_id: str, start: datetime | None = None, end: datetime | None = None) -> list[Footage]:
    """The camera's footage overlapping [start, end) (None: unbounded), in time order."""
    out = [
        Footage("segment", seg.file(store.data_dir), seg.start, seg.end, None, data=_reader(store, seg))
        for seg in store.recording_segments(camera_id, start, end)
    ]
    camera = _camera(site, camera_id)
    for a in playback_reads.analysed_files(store, camera_id):
        path = Path(a["source"])
        if not a["frames_decoded"] or not path.is_file():
            continue  # a live analysis (its source is a stream), or a file since moved
        fps = _file_rate(path, camera.frame_rate if camera else None)
        if not fps:
            continue
        timed = None if (camera and camera.frame_rate) else _pts_span(path, a["anchor_seq"])
        if timed is not None:  # dated by pts, as FileSource dated the analysis's frames
            first_pts, anchor_s, duration_s = timed
            first = from_iso(a["anchor_t"]) - timedelta(seconds=anchor_s)
            last = first + timedelta(seconds=duration_s or a["frames_decoded"] / fps)
        else:
            first_pts = None
            first = from_iso(a["anchor_t"]) - timedelta(seconds=a["anchor_seq"] / fps)
            last = first + timedelta(seconds=a["frames_decoded"] / fps)
        if (start is None or last > start) and (end is None or first < end):
            out.append(Footage("file", path, first, last, fps, first_pts=first_pts))
    return sorted(out, key=lambda f: (f.start, f.kind))


def spans(pieces: list[Footage]) -> list[tuple[datetime, datetime]]:
    """Footage merged into continuous spans (pieces closer than GAP_S are one)."""
    out: list[list[datetime]] = []
    for f in pieces:
        if out and (f.start - out[-1][1]).total_seconds() <= GAP_S:
            out[-1][1] = max(out[-1][1], f.end)
        else:
            out.append([f.start, f.end])
    return [(a, b) for a, b in out]


def timeline(store, site, camera_id: str, start: datetime, end: datetime) -> dict:
    """What the playback page draws for one camera over [start, end): footage spans, gaps, tracks, alerts."""
    pieces = footage(store, site, camera_id, start, end)
    covered = [(max(a, start), min(b, end)) for a, b in spans(pieces)]
    gaps, at = [], start
    for a, b in covered:
        if (a - at).total_seconds() > GAP_S:
            gaps.append({"start": iso(at), "end": iso(a)})
        at = max(at, b)
    if (end - at).total_seconds() > GAP_S:
        gaps.append({"start": iso(at), "end": iso(end)})
    tracks = playback_reads.tracks_in_window(store, camera_id, iso(start), iso(end))
    alerts, _ = list_alerts(store, camera_id=camera_id, since=start, limit=500)
    return {
        "camera_id": camera_id,
        "from": iso(start),
        "to": iso(end),
        "footage": [{"start": iso(a), "end": iso(b)} for a, b in covered],
        "gaps": gaps,
        "tracks": [
            {"id": t["id"], "class": t["class"], "first_seen": t["first_seen"], "last_seen": t["last_seen"]}
            for t in tracks
        ],
        "alerts": [
            {"id": a["id"], "rule": a["rule"], "kind": a["kind"], "start": a["start"], "end": a.get("end")}
            for a in alerts
            if a["start"] < iso(end)
        ],
    }


# --- the boxes the blurrer searches, by time -------------------------------------------------------
class _SceneBoxes:
    """The camera's tracks over the play, interpolated at any time: (person boxes, vehicle boxes)."""

    def __init__(self, store, camera_id: str, start: datetime, end: datetime) -> None:
        tracks = playback_reads.tracks_in_window(store, camera_id, iso(start), iso(end))
        points = playback_reads.points_by_track(store, [t["id"] for t in tracks])
        self.tracks = []
        for t in tracks:
            pts = points.get(t["id"]) or []
            if not pts:
                continue
            times = np.array([from_iso(p[0]).timestamp() for p in pts])
            boxes = np.array([p[1:] for p in pts], dtype=np.float64)
            self.tracks.append((t["class"], times, boxes, t.get("frame_width")))

    def at(self, when: datetime, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Boxes in the image's pixels (stored pixels scaled by the track's frame width)."""
        s = when.timestamp()
        persons, vehicles = [], []
        for cls, times, boxes, frame_width in self.tracks:
            if s < times[0] or s > times[-1]:
                continue
            box = np.array([np.interp(s, times, boxes[:, k]) for k in range(4)]) * (width / (frame_width or width))
            if cls in clips.FACE_BOX_CLASSES:
                persons.append(box)
            if cls in PLATE_CLASSES:
                vehicles.append(box)
        return np.array(persons).reshape(-1, 4), np.array(vehicles).reshape(-1, 4)


# --- decoding the footage from a moment --------------------------------------------------------------------
def _open(f: Footage):
    source = str(f.path)
    if f.data is not None:
        try:
            source = io.BytesIO(f.data())
        except VigieError as exc:  # RecordingError: gone, or sealed under another key
            if not f.path.exists():
                return None  # purged between the query and the open: a gap
            raise VideoError(f"{f.path.name} cannot be read: {exc}") from None
    try:
        container = av.open(source)
    except FileNotFoundError:
        return None  # purged between the query and the open: a gap
    except (av.error.FFmpegError, ValueError) as exc:
        raise VideoError(f"{f.path.name} cannot be opened as a video: {exc}") from None
    if not container.streams.video:
        container.close()
        raise VideoError(f"{f.path.name} has no video stream")
    return container


def _segment_frames(container, f: Footage, start: datetime) -> Iterator[tuple[datetime, object]]:
    """The segment's frames from `start`, dated by their pts (module docstring): gaps and jitter kept as
    they are, a discontinuity (pts going back, or leaping past the segment's end) bridged by one frame."""
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    tb = stream.time_base
    step = 1 / _nominal_rate(stream)  # until two frames have shown the camera's own pace
    span = (f.end - f.start).total_seconds()
    origin, shift, prev = None, 0.0, None
    skip = max(0.0, (start - f.start).total_seconds())
    for frame in container.decode(stream):
        if frame.pts is None:
            continue
        origin = frame.pts if origin is None else origin
        offset = float((frame.pts - origin) * tb) + shift
        if prev is not None and (offset < prev - 1e-6 or offset > max(span, prev) + GAP_S):
            shift += prev + step - offset  # a discontinuity: this frame follows the previous one at the pace seen
            offset = prev + step
        elif prev is not None and 1e-3 < offset - prev <= 1.0:
            step = offset - prev
        prev = offset
        if offset + 1e-6 < skip:
            continue
        yield f.start + timedelta(seconds=offset), frame


def _pts_frames(container, f: Footage, start: datetime) -> Iterator[tuple[datetime, object]]:
    """A file dated by its pts: seek to the key frame before `start`, date every frame by its pts. Where the
    seek lands after `start` (MPEG-TS seeks by guesswork), decoding starts again from the file's start."""
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    tb = stream.time_base
    skip = max(0.0, (start - f.start).total_seconds())

    def timed() -> Iterator[tuple[float, object]]:
        for frame in container.decode(stream):
            if frame.pts is not None:
                yield float((frame.pts - f.first_pts) * tb), frame

    frames = timed()
    if skip > 0:
        try:
            container.seek(f.first_pts + int(skip / tb), stream=stream, backward=True, any_frame=False)
            frames = timed()
            first = next(frames, None)
            if first is None or first[0] > skip + 1e-6:
                raise OverflowError("landed after the moment")
            frames = itertools.chain([first], frames)
        except (av.error.FFmpegError, OverflowError):
            container.seek(0)
            frames = timed()
    for offset, frame in frames:
        if offset + 1e-6 < skip:
            continue
        yield f.start + timedelta(seconds=offset), frame


def _file_frames(container, f: Footage, start: datetime) -> Iterator[tuple[datetime, object]]:
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    first = max(0, int(np.ceil((start - f.start).total_seconds() * f.fps - 1e-6)))
    last = int(round((f.end - f.start).total_seconds() * f.fps))
    try:
        frames = (
            clips._seeked(container, stream, first, last) if first > 0 else clips._counted(container, stream, 0, last)
        )
        pending = next(frames, None)
    except clips._OffGrid:
        container.seek(0)
        frames, pending = clips._counted(container, stream, first, last), None
    if pending is not None:
        yield f.start + timedelta(seconds=pending[0] / f.fps), pending[1]
    for seq, frame in frames:
        yield f.start + timedelta(seconds=seq / f.fps), frame


def _frames(pieces: list[Footage], start: datetime, stop: datetime) -> Iterator[tuple[datetime, object, float]]:
    """(time, frame, the footage's frame rate) from `start`, over consecutive pieces, until `stop` or a gap."""
    at = start
    for f in pieces:
        if f.end <= at:
            continue
        if (f.start - at).total_seconds() > GAP_S:
            return  # a gap: the stream ends here
        container = _open(f)
        if container is None:
            return
        try:
            rate = f.fps or _nominal_rate(container.streams.video[0])  # the blur schedule's and the encoder's
            if f.kind == "segment":
                reader = _segment_frames
            else:
                reader = _pts_frames if f.first_pts is not None else _file_frames
            for when, frame in reader(container, f, max(at, f.start)):
                if when >= stop:
                    return
                if when < at:
                    continue  # already played (a piece overlapping the previous one), or a repeated time
                yield when, frame, rate
                at = when + timedelta(milliseconds=1)  # on from this frame, however close the next one comes
        except av.error.FFmpegError as exc:
            raise VideoError(f"{f.path.name}: decoding failed near {iso(at)}: {exc}") from None
        finally:
            container.close()


# --- the stream ----------------------------------------------------------------------------------------
@dataclass
class PlaybackStream:
    """A play's fragmented MP4, sent while it is rendered; `chunks` yields its bytes in order."""

    camera_id: str
    start: datetime  # the UTC time of its first frame (its timestamp 0 is `requested`)
    requested: datetime
    blurred: bool
    chunks: Iterator[bytes]
    mime: str = "video/mp4"


def stream_playback(
    store,
    site,
    camera_id: str,
    start: datetime,
    *,
    blurrer=None,
    blur: bool = True,
    lock=None,
    max_s: float = MAX_PLAY_S,
    until: datetime | None = None,
) -> PlaybackStream:
    """The camera's footage from `start` as fragmented MP4 (module docstring). Raises PlaybackError when
    there is no footage at `start` (the message names the next footage after it, if any)."""
    if blur and blurrer is None:
        raise clips.ClipError(gettext("a blurred playback was asked for but no blurrer is configured"))
    stop = start + timedelta(seconds=max(0.1, min(max_s, MAX_PLAY_S)))
    if until is not None:
        stop = min(stop, until)
    if stop <= start:
        raise PlaybackError(
            gettext("playback from {time}: nothing to play before the end of the allowed window", time=iso(start))
        )
    pieces = footage(store, site, camera_id, start - timedelta(seconds=GAP_S), stop)
    here = [f for f in pieces if f.start - timedelta(seconds=GAP_S) <= start < f.end]
    if not here:
        later = [f for f in pieces if f.start > start] or footage(store, site, camera_id, start, None)
        if later:
            raise PlaybackError(
                gettext(
                    "camera {camera} has no footage at {time}; the next footage starts at {next}",
                    camera=repr(camera_id),
                    time=iso(start),
                    next=iso(later[0].start),
                )
            )
        raise PlaybackError(
            gettext("camera {camera} has no footage at {time}", camera=repr(camera_id), time=iso(start))
        )
    if blur and lock is not None:
        blurrer = LockedBlurrer(blurrer, lock)
    origin: list[datetime] = []
    chunks = _render(store, site, camera_id, pieces, start, stop, blurrer if blur else None, origin)
    first = next(chunks, b"")  # rendered its first frame: `origin` holds that frame's time
    at = origin[0] if origin else max(start, here[0].start)
    return PlaybackStream(camera_id, at, start, blur, clips._chain(first, chunks))


def _render(store, site, camera_id, pieces, start, stop, blurrer, origin: list) -> Iterator[bytes]:
    """The stream's bytes. Its first frame's time is appended to `origin`: the timestamp 0, from which a frame
    filmed at `when` is at when - origin (module docstring), as the fragmented MP4 muxer starts at 0."""
    camera = _camera(site, camera_id)
    polygons = [[list(map(float, p)) for p in poly] for poly in camera.privacy_masks] if camera else []
    masks = PrivacyMask(polygons)
    scene = _SceneBoxes(store, camera_id, start, stop) if blurrer is not None else None
    main_width = None
    if masks:
        in_view = playback_reads.tracks_in_window(store, camera_id, iso(start), iso(stop), limit=1)
        main_width = masks_width(store, camera_id, camera, start, in_view[0].get("frame_width") if in_view else None)

    def masked() -> Iterator[tuple]:
        for when, frame, rate in _frames(pieces, start, stop):
            image = np.ascontiguousarray(frame.to_ndarray(format="bgr24"))
            # Masks are in the main stream's pixels: a sub-stream's recording (record_from) is narrower.
            scale = (main_width or image.shape[1]) / image.shape[1]
            if masks:
                image[masks.mask_for(image.shape, scale)] = 0
            persons, vehicles = scene.at(when, image.shape[1]) if scene else (None, None)
            yield image, persons, vehicles, (when, rate)

    source = masked()
    head = next(source, None)
    if head is None:
        return
    rate = head[3][1]

    def again() -> Iterator[tuple]:
        yield head
        yield from source

    encoder, last = None, -1
    try:
        for (when, _), image, _regions in clips._blurred(again(), blurrer, rate):
            if encoder is None:
                h, w = image.shape[0] & ~1, image.shape[1] & ~1
                encoder = clips._Encoder("fmp4", rate, w, h, int(rate * 60), "vigie playback", OUT_TIME_BASE)
            if image.shape[0] < encoder.stream.height or image.shape[1] < encoder.stream.width:
                break  # the camera's resolution changed: this stream ends, the next play starts anew
            if not origin:
                origin.append(when)
            # The frame's own time (strictly increasing, as the encoder wants): not its rank times 1/rate.
            last = max(round((when - origin[0]).total_seconds() / OUT_TIME_BASE), last + 1)
            encoder.add(image[: encoder.stream.height, : encoder.stream.width], last)
            if data := encoder.take():
                yield data
        streamed = len(encoder.taken)
        encoder.finish()
        tail = b"".join(encoder.taken[streamed:])
        encoder = None
    finally:
        if encoder is not None:
            encoder.close()
    if tail:
        yield tail

"""The built-in recorder backend: segment files under $VIGIE_DATA/recordings, indexed in the store.

`Recorder` (vigie.recording) is what the rest of Vigie reads recordings through; `FileRecorder` is the
backend that `vigie run` writes (a VMS backend would answer the same reads from the VMS's archive).

Who does what in `vigie run` (vigie.live.run):
- the camera's worker, which already reads the stream, writes the segments (`segment_writer`: packets
  copied, or frames re-encoded with the masks burned in) and reports each closed one;
- the one store writer (the parent) indexes it (`FileRecorder.index`), then applies the camera's
  disk quota (vigie.recording.quota);
- at start, `recover` settles what a crash left: a segment being written (`.NAME.part`, in the clear)
  is sealed to its final name and salvaged (indexed as incomplete, up to its last whole packet) or
  removed; a closed file the parent had not indexed yet is indexed; a sealed write cut short (the temp
  file of store.pictures.seal_file) is removed. So a crash loses at most the segment being written,
  no row points nowhere, and no file is left in the clear.

Segment files are sealed at rest under the media key (vigie.store.pictures): every reader opens one
through the store (`segment_data`: the whole segment, a few MB, in memory), never by its path.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import av

from vigie.errors import VigieError
from vigie.privacy.masks import PrivacyMask
from vigie.recording.segments import PART, SUFFIX, ClosedSegment, SegmentWriter, camera_folder
from vigie.store.recordings import RecordingGap, RecordingSegment

log = logging.getLogger(__name__)


def recorded_url(camera) -> str:
    """The stream a camera's recording is made of: its main `stream`, or its `substream` (record_from)."""
    return camera.substream if camera.record_from == "substream" else camera.stream


def segment_writer(
    camera, data_dir: str | Path, on_segment: Callable[[ClosedSegment], None], on_error: Callable[[str], None]
) -> SegmentWriter:
    """The writer for a camera with `record: true`: copy, or re-encoded with its privacy masks burned in. The
    masks are in the main stream's pixels (main_stream_size): a sub-stream's frames have them scaled by its
    width against the main one's (MaskedSegmentWriter._scale_of), and its segments are indexed at its size."""
    common = {"on_error": on_error, "target_s": camera.record_segment_s}
    if camera.privacy_masks:
        from vigie.recording.masked import MaskedSegmentWriter  # lazy: only masked cameras re-encode

        return MaskedSegmentWriter(
            camera.id,
            data_dir,
            on_segment,
            mask=PrivacyMask(camera.privacy_masks),
            max_width=camera.record_masked_width,
            main_width=camera.main_stream_size[0] if camera.main_stream_size else None,
            **common,
        )
    return SegmentWriter(camera.id, data_dir, on_segment, **common)


class FileRecorder:
    """Recordings kept as files under the store's data folder (recordings/<camera>/<day>/<start>.ts)."""

    name = "files"

    def __init__(self, store) -> None:
        self.store = store

    def segments(self, camera_id: str, start: datetime | None, end: datetime | None) -> list[RecordingSegment]:
        return self.store.recording_segments(camera_id, start, end)

    def gaps(self, camera_id: str, start: datetime | None, end: datetime | None) -> list[RecordingGap]:
        return self.store.recording_gaps(camera_id, start, end)

    def segment_data(self, segment: RecordingSegment) -> bytes:
        return self.store.recording_segment_data(segment)

    def index(self, closed: ClosedSegment) -> RecordingSegment:
        return self.store.add_recording_segment(**closed.index_args())


# --- probing a file: what recover() needs to index it ---------------------------------------------------
@dataclass(frozen=True)
class Probe:
    frames: int
    duration_s: float  # first packet to just after the last
    codec: str
    width: int | None
    height: int | None
    complete: bool  # read to its end without an error


def probe(video: Path | bytes) -> Probe | None:
    """Packets of a segment (a file in the clear, or its bytes), read without decoding; None if it holds
    none (or is not a video)."""
    frames, first, last, complete = 0, None, None, True
    try:
        container = av.open(io.BytesIO(video) if isinstance(video, bytes) else str(video))
    except (av.error.FFmpegError, OSError):
        return None
    with container:
        if not container.streams.video:
            return None
        stream = container.streams.video[0]
        rate = float(stream.average_rate or stream.guessed_rate or 25)
        try:
            for packet in container.demux(stream):
                if packet.pts is None or packet.size == 0:
                    continue
                frames += 1
                t = float(packet.pts * packet.time_base)
                first = t if first is None else min(first, t)
                last = t if last is None else max(last, t)
        except (av.error.FFmpegError, OSError):
            complete = False  # cut off mid-packet: what came before is readable
        ctx = stream.codec_context
        codec, width, height = ctx.name, ctx.width or None, ctx.height or None
    if not frames:
        return None
    return Probe(frames, last - first + 1 / rate, codec, width, height, complete)


def start_of(name: str) -> datetime | None:
    """A segment's start from its file name (segments.segment_name), or None."""
    stem = name.lstrip(".").removesuffix(PART).removesuffix(SUFFIX)
    try:
        return datetime.strptime(stem, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


@dataclass
class Recovery:
    salvaged: int = 0  # segments being written when the recorder died, indexed as incomplete
    removed: int = 0  # ... holding nothing readable, removed
    indexed: int = 0  # closed segments that had no index row yet


def recover(store, camera_id: str, masked: bool = False) -> Recovery:
    """Settle what a crash left in the camera's folder (see the module's docstring)."""
    out = Recovery()
    folder = camera_folder(store.data_dir, camera_id)
    if not folder.is_dir():
        return out
    known = store.recording_paths(camera_id)
    for path in folder.glob(f"*/.*{SUFFIX}.*.tmp"):  # a seal cut short (files.write_atomic's temp file)
        path.unlink(missing_ok=True)
    for path in sorted(folder.glob(f"*/.*{SUFFIX}{PART}")):
        final = path.with_name(path.name[1:].removesuffix(PART))
        start, found = start_of(path.name), probe(path)
        if start is None or found is None or final.exists():
            path.unlink(missing_ok=True)
            out.removed += 1
            continue
        try:
            store.pictures.seal_file(path, final)  # the clear .part becomes the sealed segment
        except (OSError, VigieError) as exc:
            log.warning("camera %s: %s could not be sealed (%s); removed", camera_id, path.name, exc)
            path.unlink(missing_ok=True)
            out.removed += 1
            continue
        known.add(final.relative_to(store.data_dir).as_posix())
        out.salvaged += _index(store, camera_id, final, start, found, masked, complete=False)
    for path in sorted(folder.glob(f"*/*{SUFFIX}")):
        rel = path.relative_to(store.data_dir).as_posix()
        if rel in known or path.name.startswith("."):
            continue
        try:
            data = store.pictures.open_file(path)
        except (OSError, VigieError):
            data = None
        start, found = start_of(path.name), (probe(data) if data is not None else None)
        if start is None or found is None:
            log.warning("camera %s: %s is not a readable segment; left alone", camera_id, rel)
            continue
        out.indexed += _index(store, camera_id, path, start, found, masked, complete=found.complete)
    return out


def _index(store, camera_id: str, path: Path, start: datetime, found: Probe, masked: bool, complete: bool) -> bool:
    try:
        store.add_recording_segment(
            camera_id, start, start + timedelta(seconds=found.duration_s), path, found.frames, found.codec,
            "mpegts", found.width, found.height, masked, complete,
        )  # fmt: skip
    except VigieError as exc:
        log.warning("camera %s: %s", camera_id, exc)
        return False
    return True

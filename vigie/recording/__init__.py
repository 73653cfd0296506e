"""Recording: what `vigie run` keeps of the live streams of cameras with `record: true`.

A recorder backend is where footage is kept and how it is read back. The built-in one
(recorder.FileRecorder) writes segment files of a few seconds under $VIGIE_DATA/recordings,
on the worker that already reads the stream (segments.py: packets copied; masked.py: a masked
camera re-encoded with its masks burned in), indexed in the store (vigie.store.recordings).
A VMS would be another backend answering the same `Recorder` reads from its own archive.

Retention and legal holds apply to segments in the same purge as tracks (vigie.retention.purge);
a per-camera disk quota deletes the oldest unheld segments first (quota.py). Exports of a period
(export.py) are MP4 plus a manifest and SHA-256 sums, blurred by default.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from vigie.store.recordings import RecordingGap, RecordingSegment


class Recorder(Protocol):
    """The reads every recorder backend answers (playback, exports, `vigie recordings`)."""

    name: str

    def segments(self, camera_id: str, start: datetime | None, end: datetime | None) -> list[RecordingSegment]:
        """The segments overlapping [start, end), in time order."""
        ...

    def gaps(self, camera_id: str, start: datetime | None, end: datetime | None) -> list[RecordingGap]:
        """The spans of [start, end) with no footage."""
        ...

    def segment_data(self, segment: RecordingSegment) -> bytes:
        """The segment's video, whole, in the clear, in memory (RecordingError if it is gone): segments
        are sealed at rest, so no reader opens one by its path."""
        ...

"""A recorder killed mid-segment (SIGKILL, no chance to clean up): it loses at most the segment being
written, and the index never points at a missing file. At the next start `recover` keeps what the
killed segment holds (indexed as incomplete) and indexes a closed segment that the writer had not."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest
from at_rest import open_to_others, segment_video, videos_in_files
from loopback_camera import make_h264_clip, needs_ffmpeg

from vigie.recording.recorder import recover
from vigie.recording.segments import PART
from vigie.store.sqlite import SQLiteStore

pytestmark = [needs_ffmpeg, pytest.mark.timeout(120)]

# The recorder as `vigie run` runs it (StreamSource -> SegmentWriter -> the store's index), in a process
# of its own, playing the clip in real time: segments of 2 s.
RECORDER = """
import sys, threading
from vigie.recording.segments import SegmentWriter
from vigie.sources.stream import StreamSource
from vigie.store.sqlite import SQLiteStore

clip, data = sys.argv[1], sys.argv[2]
store = SQLiteStore(data)
def indexed(seg):
    store.add_recording_segment(**seg.index_args())
    print("indexed", seg.path, flush=True)
writer = SegmentWriter("cam-a", data, indexed, target_s=2.0)
for frame in StreamSource(clip, "cam-a", analysis_fps=5, recorder=writer):
    pass
"""


def files_frames(data: Path, path: Path) -> int:
    """A segment's frames, opened through the store (sealed at rest)."""
    with av.open(io.BytesIO(segment_video(data, path))) as c:
        return sum(1 for _ in c.decode(video=0))


def test_a_recorder_killed_mid_segment_loses_at_most_that_segment(vtest, tmp_path):
    clip = make_h264_clip(vtest, tmp_path / "camera.mp4", seconds=20)
    data = tmp_path / "var"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [sys.executable, "-c", RECORDER, str(clip), str(data)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        indexed = 0
        started = time.monotonic()
        while indexed < 3 and time.monotonic() - started < 60:  # three segments closed: ~6 s of stream
            line = proc.stdout.readline()
            indexed += line.startswith("indexed")
        assert indexed == 3, "the recorder never closed three segments"
        time.sleep(1.0)  # mid-way through the fourth (2 s) segment
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()

    with SQLiteStore(data) as store:
        rows = store.recording_segments("cam-a")
        assert len(rows) >= 3
        # The index never points nowhere: each row's file is there, whole (it decodes to its frames).
        for seg in rows:
            assert files_frames(data, seg.file(data)) == seg.frames
        parts = list(data.rglob(f"*{PART}"))
        assert len(parts) == 1  # the segment being written: the only one not indexed
        # ... and the only one in the clear: every closed segment was sealed as it closed.
        clear = [line.split(":")[0] for line in videos_in_files(data / "recordings")]
        assert clear == [parts[0].relative_to(data / "recordings").as_posix()]

        # A closed segment whose row was never written (a crash between the rename and the index).
        unindexed = rows[1]
        store.delete_recording_segments([unindexed.id])
        done = recover(store, "cam-a")
        assert (done.salvaged, done.removed, done.indexed) == (1, 0, 1)
        after = store.recording_segments("cam-a")
        assert len(after) == len(rows) + 1 and not list(data.rglob(f"*{PART}"))
        again = next(s for s in after if s.path == unindexed.path)
        assert (again.frames, again.complete) == (unindexed.frames, True)
        assert abs((again.start - unindexed.start).total_seconds()) < 1e-3
        assert abs(again.duration_s - unindexed.duration_s) < 0.05
        salvaged = after[-1]
        assert not salvaged.complete and 0 < salvaged.frames <= 50  # part of a 2 s segment at 25 fps
        assert files_frames(data, salvaged.file(data)) >= salvaged.frames - 1
        assert salvaged.start >= rows[-1].start
        for seg in after:
            assert seg.file(data).is_file()
        assert recover(store, "cam-a").salvaged == 0  # settled once
        # Nothing is left in the clear: the salvaged .part was sealed too (issue 19, finding 7).
        assert videos_in_files(data / "recordings") == []
        assert open_to_others(data / "recordings") == []

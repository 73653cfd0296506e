"""`vigie run`'s side of recording: the segments its workers report are indexed by the one store writer,
the disk quota applied as they come (with its alert), and what a crash left settled at start."""

from __future__ import annotations

from datetime import timedelta

from builders import T0, write_site

from vigie.alerts import store as alerts
from vigie.live.run import LiveRun
from vigie.recording.segments import ClosedSegment, part_name
from vigie.store.sqlite import SQLiteStore

SITE = {
    "name": "t",
    "cameras": [
        {"id": "cam-a", "name": "A", "lat": 43.8, "lon": 4.3, "stream": "rtsp://127.0.0.1:9/a", "record": True,
         "record_quota_gb": 0.0003},  # 300 kB
    ],
}  # fmt: skip


def segment(store, k: int) -> ClosedSegment:
    start = T0 + timedelta(seconds=6 * k)
    rel = f"recordings/cam-a/2026-11-20/seg{k:03d}.ts"
    (store.data_dir / rel).parent.mkdir(parents=True, exist_ok=True)
    (store.data_dir / rel).write_bytes(b"\x47" * 100_000)
    return ClosedSegment("cam-a", start, start + timedelta(seconds=6), rel, 150, "h264", "mpegts", 768, 576, False)


def test_reported_segments_are_indexed_and_the_quota_applied_as_they_come(tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path / "var"))
    said = []
    with SQLiteStore(tmp_path / "var") as store:
        # A segment being written when the last run was killed: nothing readable in it, removed at start.
        leftover = store.data_dir / "recordings/cam-a/2026-11-19/20261119T235959.000000Z.ts"
        leftover.parent.mkdir(parents=True)
        part_name(leftover).write_bytes(b"not video")
        live = LiveRun(write_site(tmp_path, SITE), store, printer=said.append)
        live._start_recording()
        assert not part_name(leftover).exists() and any("1 unreadable one(s) removed" in s for s in said)
        made = [segment(store, k) for k in range(5)]
        for seg in made:
            live._handle("segment", "cam-a", seg)
        state = live.cameras["cam-a"]
        assert state.segments == 5 and state.segments_quota_removed == 2  # 500 kB over a 300 kB quota
        assert [s.path for s in store.recording_segments("cam-a")] == [seg.path for seg in made[2:]]
        assert [(store.data_dir / seg.path).exists() for seg in made] == [False, False, True, True, True]
        [alert] = alerts.list_alerts(store)[0]
        assert alert["rule"] == "recording-quota" and alert["camera_id"] == "cam-a"
        assert any("disk quota" in s for s in said)
        # A segment that cannot be indexed (its file gone) is reported, and the camera goes on.
        gone = segment(store, 9)
        (store.data_dir / gone.path).unlink()
        live._handle("segment", "cam-a", gone)
        assert any("not indexed" in s and "not there" in s for s in said) and state.segments == 5
        live._handle("recording_error", "cam-a", "camera cam-a: recording segment lost: the disk is full")
        assert state.segments_lost == 1

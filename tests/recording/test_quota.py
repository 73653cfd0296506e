"""A camera's disk quota, enforced in code on a small limit: the oldest unheld segments go first, their
files after their rows, and an alert says the quota (not the retention) forced it; held footage stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from builders import T0

from vigie.alerts import store as alerts
from vigie.config import CameraConfig
from vigie.recording.quota import KIND, RULE, enforce_quota
from vigie.retention.holds import place_hold
from vigie.store.sqlite import SQLiteStore

KB = 1000


@pytest.fixture
def store(tmp_path):
    with SQLiteStore(tmp_path) as s:
        s.upsert_cameras([CameraConfig(id="cam-a", name="A", lat=43.8, lon=4.3)])
        yield s


def add(store, start_s: float, size: int = 100 * KB):
    rel = f"recordings/cam-a/{start_s:06.0f}.ts"
    path = store.data_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x47" * size)
    t = T0 + timedelta(seconds=start_s)
    return store.add_recording_segment("cam-a", t, t + timedelta(seconds=6), rel, 150, "h264")


def test_the_quota_deletes_the_oldest_segments_first_and_raises_one_alert(store):
    segs = [add(store, 6 * k) for k in range(10)]  # 1 MB in all
    under = enforce_quota(store, "cam-a", quota_gb=0.0011)  # 1.1 MB: nothing to do
    assert under.segments_removed == 0 and not under.alert_ids and under.used_bytes == 1000 * KB

    result = enforce_quota(store, "cam-a", quota_gb=0.00075, now=T0)  # 750 kB
    assert (result.segments_removed, result.bytes_removed, result.used_bytes) == (3, 300 * KB, 700 * KB)
    assert (result.removed_from, result.removed_to) == (segs[0].start, segs[2].end)
    assert [s.id for s in store.recording_segments("cam-a")] == [s.id for s in segs[3:]]
    assert [p.name for p in sorted((store.data_dir / "recordings/cam-a").iterdir())] == [
        s.path.rsplit("/", 1)[1] for s in segs[3:]
    ]
    [alert] = alerts.list_alerts(store)[0]
    assert (alert["rule"], alert["kind"], alert["camera_id"], alert["status"]) == (RULE, KIND, "cam-a", "new")
    assert alert["details"]["segments_removed"] == 3 and "quota, not its retention" in alert["details"]["why"]

    # Another deletion within the hour adds no second alert; the next hour's does.
    assert enforce_quota(store, "cam-a", quota_gb=0.0006, now=T0 + timedelta(minutes=5)).alert_ids == []
    assert len(enforce_quota(store, "cam-a", quota_gb=0.0005, now=T0 + timedelta(hours=1)).alert_ids) == 1
    assert store.recording_usage("cam-a")["cam-a"]["bytes"] == 500 * KB


def test_held_footage_is_never_deleted_by_the_quota_and_the_alert_says_so(store):
    segs = [add(store, 6 * k) for k in range(5)]  # 500 kB
    place_hold(
        store, "PV-7", "theft", "insp. martin", camera_id="cam-a",
        start=T0, end=T0 + timedelta(seconds=17),
    )  # fmt: skip  # holds the first three segments
    result = enforce_quota(store, "cam-a", quota_gb=0.0001, now=T0)  # 100 kB: the held 300 kB stay over it
    assert result.segments_removed == 2 and result.held_over_quota and result.used_bytes == 300 * KB
    assert [s.id for s in store.recording_segments("cam-a")] == [s.id for s in segs[:3]]
    assert all(s.file(store.data_dir).is_file() for s in segs[:3])
    [alert] = alerts.list_alerts(store)[0]
    assert alert["details"]["held_over_quota"] is True

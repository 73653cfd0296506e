"""A camera's disk quota (record_quota_gb): its oldest segments go first, and an alert says so.

Retention deletes footage because the law says it is old enough (vigie.retention.purge); the quota
deletes footage that retention would still keep, because the disk cannot hold it. That loss must be
seen: each deletion the quota forces raises an alert on the camera (rule "recording-quota"), at most
one per `ALERT_EVERY` per camera, whose details say how much was deleted and from when to when.
Segments under an active legal hold are never deleted by the quota; when held footage alone is over
the quota, the alert says so and nothing held is touched.

As everywhere, the rows go first (one transaction) and the files after the commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from vigie.alerts import store as alerts
from vigie.rules.base import Event
from vigie.times import iso

log = logging.getLogger(__name__)

GB = 10**9
ALERT_EVERY = timedelta(hours=1)
RULE, KIND = "recording-quota", "recording_quota"


@dataclass
class QuotaResult:
    camera_id: str
    quota_bytes: int
    used_bytes: int  # after the deletion
    segments_removed: int = 0
    bytes_removed: int = 0
    removed_from: datetime | None = None
    removed_to: datetime | None = None
    held_over_quota: bool = False  # what is left over the quota is held: nothing more may go
    alert_ids: list[int] = field(default_factory=list)


def enforce_quota(store, camera_id: str, quota_gb: float, now: datetime | None = None, batch: int = 50) -> QuotaResult:
    """Delete the camera's oldest unheld segments until its recording fits `quota_gb`; alert if any went."""
    quota = int(quota_gb * GB)
    used = store.recording_usage(camera_id).get(camera_id, {}).get("bytes", 0)
    result = QuotaResult(camera_id, quota, used)
    while used > quota:
        oldest = store.oldest_unheld_segments(camera_id, limit=batch)
        if not oldest:
            result.held_over_quota = True
            break
        chosen, freed = [], 0
        for seg in oldest:
            if used - freed <= quota:
                break
            chosen.append(seg)
            freed += seg.bytes
        for rel in store.delete_recording_segments([s.id for s in chosen]):
            (store.data_dir / rel).unlink(missing_ok=True)  # after the commit: no row points at it
        used -= freed
        result.segments_removed += len(chosen)
        result.bytes_removed += freed
        result.removed_from = result.removed_from or chosen[0].start
        result.removed_to = chosen[-1].end
    result.used_bytes = used
    if result.segments_removed or result.held_over_quota:
        result.alert_ids = _alert(store, result, now or datetime.now(timezone.utc))
    return result


def _alert(store, r: QuotaResult, now: datetime) -> list[int]:
    """One alert per camera per ALERT_EVERY (its start is the hour's slot: the same slot is stored once)."""
    slot = datetime.fromtimestamp(
        now.timestamp() // ALERT_EVERY.total_seconds() * ALERT_EVERY.total_seconds(), timezone.utc
    )
    details = {
        "quota_gb": round(r.quota_bytes / GB, 3),
        "used_gb": round(r.used_bytes / GB, 3),
        "segments_removed": r.segments_removed,
        "gb_removed": round(r.bytes_removed / GB, 3),
        "removed_from": iso(r.removed_from) if r.removed_from else None,
        "removed_to": iso(r.removed_to) if r.removed_to else None,
        "held_over_quota": r.held_over_quota,
        "why": "the camera's disk quota, not its retention, forced the deletion of its oldest recorded footage"
        if r.segments_removed
        else "the camera's recording is over its disk quota, and what is over it is under a legal hold",
    }
    event = Event(RULE, KIND, r.camera_id, slot, None, (), (0.0, 0.0), details)
    ids = alerts.record(store, [event])
    if ids:
        log.warning("camera %s: recording quota: %s", r.camera_id, details["why"])
    return ids

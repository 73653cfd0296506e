"""`vigie run`: every camera of the site file that has a stream, analysed live.

One worker per camera (vigie.scale.worker: StreamSource -> CameraPipeline, in a
process of this machine or a Ray actor, as the executor decides) sends what it
finds to this process, which holds the one store writer:

- finished tracks are written every `flush_s` seconds per camera as one
  finished analysis (a "live chunk"), so they become visible and searchable
  within a minute, with the machinery recorded files use;
- after each chunk the camera's rules run over its last `rules_window` of
  tracks, and new events become alerts (blurred snapshot, webhooks, MQTT);
- stream gaps (camera, from, to, reason) are stored as they are reported;
  no track spans one (the worker ends its open tracks at each gap);
- a camera that never connects is reported and the others go on;
- a camera with `record: true` has its stream recorded by its worker (vigie.recording): each closed
  segment is indexed here, then its disk quota applied; what a crash left is settled at start.

SIGINT or SIGTERM asks the workers to stop: each finishes its tracks in
flight and sends them; they are written before `vigie run` exits, so nothing
seen is lost.
"""

from __future__ import annotations

import logging
import os
import queue
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from vigie import files
from vigie.config import load_site
from vigie.errors import ConfigError
from vigie.rules.runner import camera_events, raise_alerts
from vigie.scale.local import LocalExecutor
from vigie.sources.stream import mask_url
from vigie.times import iso, now_iso

log = logging.getLogger(__name__)
RULES_WINDOW = timedelta(minutes=5)  # tracks the rules look at after each chunk (longer than any rule's T)


# --- the parent: one writer ---------------------------------------------------------------------------------
@dataclass
class CameraState:
    url: str  # masked
    pending: list = field(default_factory=list)
    backgrounds: list = field(
        default_factory=list
    )  # period backgrounds for video synopsis, written with the next chunk
    last_flush: float = field(default_factory=time.monotonic)
    status: str = "starting"
    detail: str = ""
    tracks: int = 0
    gaps: int = 0
    alerts: int = 0
    frames: int = 0
    attempts: int = 0  # connection attempts before the first success
    connected: bool = False
    done: bool = False
    last_heard: datetime | None = None  # when the worker last reported anything
    segments: int = 0  # recorded segments indexed
    segments_lost: int = 0  # segments the worker could not write (disk full, ...)
    segments_quota_removed: int = 0  # deleted by the camera's disk quota


class LiveRun:
    def __init__(
        self,
        site_path: str | Path,
        store,
        flush_s: float = 30.0,
        analysis_fps: float = 5.0,
        blurrer=None,
        notifier=None,
        pace_files: bool = True,
        printer=print,
        executor=None,
    ) -> None:

        self.site_path = str(site_path)
        self.site = load_site(site_path)
        self.store = store
        self.flush_s, self.analysis_fps, self.pace_files = flush_s, analysis_fps, pace_files
        self.blurrer, self.notifier, self.say = blurrer, notifier, printer
        self.cameras = {c.id: CameraState(mask_url(c.stream)) for c in self.site.cameras if c.stream}
        if executor is None:
            executor = LocalExecutor()
        self.workers = executor.camera_workers(self.site_path, list(self.cameras), analysis_fps, pace_files)

    def start(self) -> None:
        if not self.cameras:
            raise ConfigError(f"site file {self.site_path}: no camera has a `stream` URL to analyse live")
        self.store.upsert_cameras(self.site.cameras)
        self._start_recording()
        self.workers.start()

    def stop(self) -> None:
        self.workers.stop()

    def _recording(self) -> list:
        return [c for c in self.site.cameras if c.record and c.id in self.cameras]

    def _start_recording(self) -> None:
        """Workers write segments under the store's data folder (the one they are indexed against); what a
        crash left there is settled first (vigie.recording.recorder.recover)."""
        recording = self._recording()
        if not recording:
            return
        from vigie.recording.recorder import recover  # lazy: sites that record only

        # The local executor's workers are spawned from this environment: they find the folder there.
        os.environ[files.DATA_ENV] = str(self.store.data_dir)
        for cam in recording:
            done = recover(self.store, cam.id, masked=bool(cam.privacy_masks))
            if done.salvaged or done.removed or done.indexed:
                self.say(
                    f"{cam.id}: recording recovered after a stop: {done.salvaged} segment(s) cut short by it kept, "
                    f"{done.removed} unreadable one(s) removed, {done.indexed} closed one(s) indexed"
                )

    def run(self, duration_s: float | None = None, drain_timeout_s: float = 60.0) -> dict[str, CameraState]:
        """Handle messages until every worker is done (after stop(), or `duration_s`); write everything."""
        self.start()
        started = time.monotonic()
        stopping_since = None
        while not all(s.done for s in self.cameras.values()):
            if duration_s is not None and time.monotonic() - started >= duration_s:
                self.stop()
            if stopping_since is None and self.workers.stopping():
                stopping_since = time.monotonic()
            if stopping_since is not None and time.monotonic() - stopping_since > drain_timeout_s:
                self.say("vigie run: some cameras did not stop in time; terminating them")
                break
            try:
                kind, cam, payload = self.workers.get(timeout=0.5)
                self._handle(kind, cam, payload)
            except queue.Empty:
                pass
            self._flush_due()
        for cam in self.cameras:
            self._flush(cam)
        self.workers.join(5)
        return self.cameras

    # --- messages ---------------------------------------------------------------------------------------------
    def _handle(self, kind: str, cam: str, payload) -> None:
        state = self.cameras[cam]
        heard, state.last_heard = state.last_heard, datetime.now(timezone.utc)
        if kind == "status" and payload[0] == "starting":
            state.last_heard = heard  # the gap of a restart runs from what was heard before it
        if kind == "tracks":
            state.pending.extend(payload)
        elif kind == "background":
            state.backgrounds.append(payload)
        elif kind == "gap":
            start, end, reason = payload
            self._store_gap(cam, start, end, reason)
            state.gaps += 1
            self.say(f"{cam}: stream gap {iso(start)} -> {iso(end)} ({(end - start).total_seconds():.1f} s): {reason}")
        elif kind == "status":
            if payload[0] == "starting" and state.connected and state.last_heard is not None:
                # A worker started again (a Ray actor restarted after its node failed): the stream was
                # not analysed meanwhile, and a live stream cannot be replayed, so the time is a gap.
                self._store_gap(cam, state.last_heard, datetime.now(timezone.utc), "camera worker restarted")
                state.gaps += 1
                state.connected = False
                self.say(f"{cam}: camera worker restarted; the time it was down is recorded as a stream gap")
            state.status, state.detail = payload
            state.connected |= state.status == "connected"
            if state.status == "connecting" and not state.connected:
                state.attempts += 1
                if state.attempts == 3:  # say it once; the worker keeps trying (the camera may come back)
                    self.say(f"{cam}: not connected after 3 attempts ({state.url}); still trying")
            if state.status in ("unavailable", "failed", "dropped"):
                self.say(f"{cam}: {state.status}: {state.detail}")
        elif kind == "segment":
            self._index_segment(cam, payload)
        elif kind == "recording_error":
            state.segments_lost += 1
            self.say(payload)
        elif kind == "done":
            state.done, state.frames = True, payload
            self._flush(cam)

    def _index_segment(self, cam: str, closed) -> None:
        """Index a segment the worker closed and renamed, then apply the camera's disk quota."""
        try:
            self.store.add_recording_segment(**closed.index_args())
        except Exception as exc:  # a segment that cannot be indexed must not stop the camera
            self.say(f"{cam}: recorded segment {closed.path} not indexed: {exc}")
            return
        state = self.cameras[cam]
        state.segments += 1
        quota = self.site.camera(cam).record_quota_gb
        if quota is not None:
            from vigie.recording.quota import enforce_quota

            result = enforce_quota(self.store, cam, quota)
            state.segments_quota_removed += result.segments_removed
            if result.alert_ids:
                self.say(f"{cam}: the recording's disk quota ({quota} GB) forced the deletion of its oldest footage")

    def _flush_due(self) -> None:
        now = time.monotonic()
        for cam, state in self.cameras.items():
            if state.pending and now - state.last_flush >= self.flush_s:
                self._flush(cam)

    def _flush(self, cam: str) -> None:
        """Write the camera's finished tracks as one live chunk, then run its rules."""
        state = self.cameras[cam]
        state.last_flush = time.monotonic()
        if not state.pending and not state.backgrounds:
            return
        tracks, state.pending = state.pending, []
        backgrounds, state.backgrounds = state.backgrounds, []
        first = min([t.first_seen for t in tracks] + [b.start for b in backgrounds])
        fingerprint = f"live:{cam}:{iso(first)}:{uuid.uuid4().hex[:8]}"  # never replaces another chunk
        aid = self.store.begin_analysis(cam, state.url, fingerprint)
        self.store.add_tracks(aid, tracks).result()
        if backgrounds:
            self.store.add_backgrounds(aid, backgrounds).result()
        self.store.finish_analysis(aid, "complete", 0, 0, message="live")
        state.tracks += len(tracks)
        self._run_rules(cam)

    def _run_rules(self, cam: str) -> None:
        if not self.site.camera(cam).rules:
            return

        since = datetime.now(timezone.utc) - RULES_WINDOW
        try:
            ids = raise_alerts(
                self.store,
                camera_events(self.store, self.site, cam, start=since),
                blurrer=self.blurrer,
                notifier=self.notifier,
            )
        except Exception as exc:  # a rule that cannot run (e.g. needs calibration) must not stop the analysis
            self.say(f"{cam}: rules failed: {exc}")
            return
        if ids:
            self.cameras[cam].alerts += len(ids)
            self.say(f"{cam}: {len(ids)} new alert(s)")

    def _store_gap(self, cam: str, start: datetime, end: datetime, reason: str) -> None:
        self.store.write(
            lambda conn: conn.execute(
                'INSERT INTO stream_gaps (camera_id, start, "end", reason, recorded_at) VALUES (?,?,?,?,?)',
                (cam, iso(start), iso(end), reason[:500], now_iso()),
            )
        ).result()


def gaps(store, camera_id: str | None = None, limit: int = 100, offset: int = 0) -> tuple[list[dict], int]:
    """Recorded stream gaps, newest first."""
    where, args = ("WHERE camera_id = ?", [camera_id]) if camera_id else ("", [])
    with store.read() as conn:
        total = conn.execute(f"SELECT count(*) FROM stream_gaps {where}", args).fetchone()[0]
        rows = [
            dict(r)
            for r in conn.execute(
                f"SELECT * FROM stream_gaps {where} ORDER BY start DESC LIMIT ? OFFSET ?", [*args, limit, offset]
            )
        ]
    return rows, total

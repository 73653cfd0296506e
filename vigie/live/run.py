"""`vigie run`: every camera of the site file that has a stream, analysed live.

One worker process per camera (StreamSource -> CameraPipeline) sends what it
finds to this process, which holds the one store writer:

- finished tracks are written every `flush_s` seconds per camera as one
  finished analysis (a "live chunk"), so they become visible and searchable
  within a minute, with the machinery recorded files use;
- after each chunk the camera's rules run over its last `rules_window` of
  tracks, and new events become alerts (blurred snapshot, webhooks, MQTT);
- stream gaps (camera, from, to, reason) are stored as they are reported;
  no track spans one (the worker ends its open tracks at each gap);
- a camera that never connects is reported and the others go on.

SIGINT or SIGTERM asks the workers to stop: each finishes its tracks in
flight and sends them; they are written before `vigie run` exits, so nothing
seen is lost.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import queue
import signal
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from vigie.store.sqlite import iso, now_iso

log = logging.getLogger(__name__)
RULES_WINDOW = timedelta(minutes=5)  # tracks the rules look at after each chunk (longer than any rule's T)


# --- the worker (one process per camera) ---------------------------------------------------------------
def camera_worker(site_path: str, camera_id: str, out, stop, analysis_fps: float, pace_files: bool = True) -> None:
    """Analyse one camera's stream until `stop` is set; everything found goes to `out` as (kind, camera, payload)."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop, through `stop`
    except ValueError:  # not the main thread (a Ray actor's): Ray's own signals are left alone
        pass
    from vigie.config import load_site
    from vigie.pipeline import CameraPipeline
    from vigie.sources.stream import StreamSource, StreamUnavailable, mask_url

    site = load_site(site_path)
    camera = site.camera(camera_id)
    analysis = site.analysis_for(camera_id)
    frames = 0
    pipeline = None

    def on_gap(cam, start, end, reason) -> None:
        # The video is not continuous across a gap (people came and went unseen): every
        # open track ends at the gap, and what follows starts new tracks, with new ids.
        out.put(("gap", cam, (start, end, reason)))
        ended = pipeline.finish()
        if ended:
            out.put(("tracks", cam, ended))

    try:
        pipeline = CameraPipeline(camera, site, analysis_fps)
        source = StreamSource(
            camera.stream,
            camera_id,
            analysis_fps=analysis_fps,
            max_width=analysis.max_width,
            skip_loop_filter=analysis.fast_decode,
            stop_event=stop,
            pace_files=pace_files,
            on_gap=on_gap,
            on_status=lambda cam, status, detail: out.put(("status", cam, (status, detail))),
        )
        out.put(("status", camera_id, ("starting", mask_url(camera.stream))))
        for frame in source:
            frames += 1
            _, ended = pipeline.process(frame)
            if ended:
                out.put(("tracks", camera_id, ended))
            for background in pipeline.take_backgrounds():
                out.put(("background", camera_id, background))
    except StreamUnavailable as exc:
        out.put(("status", camera_id, ("unavailable", str(exc))))
    except Exception as exc:  # a broken camera must not take the others down: report it
        out.put(("status", camera_id, ("failed", f"{type(exc).__name__}: {exc}")))
    finally:
        if pipeline is not None:
            rest = pipeline.finish()
            if rest:
                out.put(("tracks", camera_id, rest))
            for background in pipeline.take_backgrounds():
                out.put(("background", camera_id, background))
        out.put(("done", camera_id, frames))


class ProcessWorkers:
    """The local executor's camera workers: one process per camera, one queue to the writer."""

    def __init__(self, site_path: str, camera_ids: list[str], analysis_fps: float, pace_files: bool) -> None:
        ctx = mp.get_context("spawn")  # fresh interpreters: no inherited threads or sockets
        self.queue = ctx.Queue()
        self.stop_event = ctx.Event()
        self.processes = {
            cam: ctx.Process(
                target=camera_worker,
                name=f"vigie-{cam}",
                args=(site_path, cam, self.queue, self.stop_event, analysis_fps, pace_files),
            )
            for cam in camera_ids
        }

    def start(self) -> None:
        for p in self.processes.values():
            p.start()

    def get(self, timeout: float):
        return self.queue.get(timeout=timeout)  # queue.Empty when nothing came

    def stop(self) -> None:
        self.stop_event.set()

    def stopping(self) -> bool:
        return self.stop_event.is_set()

    def join(self, timeout: float) -> None:
        for p in self.processes.values():
            p.join(timeout)
            if p.is_alive():
                p.terminate()


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
        from vigie.config import load_site
        from vigie.sources.stream import mask_url

        self.site_path = str(site_path)
        self.site = load_site(site_path)
        self.store = store
        self.flush_s, self.analysis_fps, self.pace_files = flush_s, analysis_fps, pace_files
        self.blurrer, self.notifier, self.say = blurrer, notifier, printer
        self.cameras = {c.id: CameraState(mask_url(c.stream)) for c in self.site.cameras if c.stream}
        if executor is None:
            from vigie.scale.local import LocalExecutor

            executor = LocalExecutor()
        self.workers = executor.camera_workers(self.site_path, list(self.cameras), analysis_fps, pace_files)

    def start(self) -> None:
        if not self.cameras:
            from vigie.errors import ConfigError

            raise ConfigError(f"site file {self.site_path}: no camera has a `stream` URL to analyse live")
        self.store.upsert_cameras(self.site.cameras)
        self.workers.start()

    def stop(self) -> None:
        self.workers.stop()

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
        elif kind == "done":
            state.done, state.frames = True, payload
            self._flush(cam)

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
        from vigie.rules.runner import camera_events, raise_alerts

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
    with store._read() as conn:
        total = conn.execute(f"SELECT count(*) FROM stream_gaps {where}", args).fetchone()[0]
        rows = [
            dict(r)
            for r in conn.execute(
                f"SELECT * FROM stream_gaps {where} ORDER BY start DESC LIMIT ? OFFSET ?", [*args, limit, offset]
            )
        ]
    return rows, total

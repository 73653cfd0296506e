"""The Ray executor: recordings in chunks, one actor per chunk; live cameras, one actor per camera.

Recordings (`analyse_file`). The file is cut into chunks (vigie.scale.chunks); each chunk
is analysed by an actor of its own, placed by Ray on any node with a free CPU (the file
must be on storage every node mounts, as the archive of a city's VMS is). Backpressure:
at most one chunk per CPU of the cluster is in flight; the next starts when one returns,
so a long archive never floods the object store with results waiting to be written.

Faults. A chunk is the unit of commit: nothing of it is stored until it has returned
whole. An actor that dies with its node is restarted by Ray (max_restarts) on a live
node, and its call is run again (max_task_retries) from the chunk's first frame, which is
the last frame committed for it: nothing is lost, and nothing is stored twice, because
the dead attempt stored nothing. After `retries` failures the analysis stops with an
error naming the chunk, and nothing of it is stored.

This process stays the single writer of the store (convention 5): tracks travel back as
Ray objects and are written here, in one analysis, as the local executor writes them.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import time
from pathlib import Path

from tqdm import tqdm

from vigie.describe.reid import active_projection
from vigie.detect.registry import build_detector
from vigie.errors import VigieError
from vigie.pipeline import AnalysisReport
from vigie.scale.chunks import RUN_ON_S, WARMUP_S, ChunkResult, analyse_chunk, plan_chunks, stitch
from vigie.scale.worker import camera_worker
from vigie.sources.file import FileSource
from vigie.store.sqlite import file_fingerprint

log = logging.getLogger(__name__)
# Seconds of video per chunk. Each chunk also analyses an 8 s warm-up and runs on while its tracks last
# (a street's passers-by: seconds; PETS09's loiterers: minutes), so chunks are long next to a track:
# BENCHMARKS section 18 measures the overhead.
CHUNK_S = 300.0
ONE_MACHINE = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


class RayExecutor:
    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        chunk_s: float = CHUNK_S,
        workers: int | None = None,
        retries: int = 3,
        warmup_s: float = WARMUP_S,
        run_on_s: float = RUN_ON_S,
    ) -> None:
        if chunk_s <= 0:
            raise VigieError("--chunk-s must be more than 0")
        self.chunk_s, self.retries, self.warmup_s, self.run_on_s = chunk_s, retries, warmup_s, run_on_s
        one_machine = address is None and not os.environ.get("RAY_ADDRESS")
        if one_machine:
            # A Ray of this machine's own stays on loopback: Ray's one-machine mode (its default on macOS and
            # Windows), read when ray is first imported and by the processes ray.init starts. Otherwise Ray
            # binds its node to the machine's network address, and its unauthenticated ports face the network.
            os.environ[ONE_MACHINE] = "0"
        try:
            import ray

            self._started_here = not ray.is_initialized()
            if self._started_here:
                # Without an address: a Ray of this machine's own ("local": even where `ray start` left one
                # running, which ray.init would otherwise join), gone when this process ends.
                ray.init(
                    address=address or ("local" if one_machine else None),
                    include_dashboard=False,
                    log_to_driver=False,
                    logging_level=logging.WARNING,
                )
        except (ConnectionError, ValueError, RuntimeError, TimeoutError) as exc:
            where = f"at {address}" if address else "on this machine"
            raise VigieError(f"cannot reach a Ray cluster {where}: {exc}") from None
        finally:
            if one_machine:  # not for what this process starts later (a `ray start` would refuse to join)
                os.environ.pop(ONE_MACHINE, None)
        self.workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))

    def close(self) -> None:
        import ray

        if self._started_here and ray.is_initialized():
            ray.shutdown()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- recordings ----------------------------------------------------------------------------------------
    def analyse_chunks(self, path, camera_id: str, site, projection=None, progress: bool = True) -> list[ChunkResult]:
        """Every chunk's result, in order, analysed on the cluster (see the module's docstring)."""
        import ray

        camera = site.camera(camera_id)
        info = FileSource.for_camera(path, camera, site.analysis_for(camera_id)).info
        if not info.declared_frames:
            raise VigieError(
                f"{path} does not declare its frame count: it cannot be split into chunks "
                "(analyse it with --executor local)"
            )
        chunks = plan_chunks(info.declared_frames, info.frame_rate, self.chunk_s, self.warmup_s, self.run_on_s)
        actor_class = _chunk_actor(self.retries)
        path = str(Path(path).resolve())
        todo, running, results = list(chunks), {}, []
        bar = _bar(len(chunks), f"{camera_id} ({len(chunks)} chunks, {self.workers} at a time)", progress)
        try:
            while todo or running:
                while todo and len(running) < self.workers:  # backpressure: one chunk per CPU in flight
                    chunk = todo.pop(0)
                    actor = actor_class.options(scheduling_strategy="SPREAD").remote(path, camera_id, site, projection)
                    running[actor.run.remote(chunk)] = (actor, chunk)
                ready, _ = ray.wait(list(running), num_returns=1)
                for ref in ready:
                    actor, chunk = running.pop(ref)
                    try:
                        result = ray.get(ref)
                    except ray.exceptions.RayError as exc:
                        raise VigieError(
                            f"{path}: chunk {chunk.index + 1} of {len(chunks)} (frames {chunk.first}-"
                            f"{chunk.end - 1}) failed {self.retries + 1} times; nothing was stored: "
                            f"{_first_line(exc)}"
                        ) from None
                    finally:
                        ray.kill(actor)
                    results.append(result)
                    bar.update(1)
                    bar.set_postfix(refresh=False, node=result.node[:8], tracks=sum(len(r.owned) for r in results))
        finally:
            bar.close()
            for actor, _ in running.values():
                ray.kill(actor)
        return sorted(results, key=lambda r: r.chunk.index)

    def analyse_file(self, path, camera_id: str, site, store, progress: bool = True):

        started = time.perf_counter()
        results = self.analyse_chunks(path, camera_id, site, active_projection(store), progress)
        stitched = stitch(results)
        store.upsert_cameras(site.cameras)
        source = str(Path(path))
        analysis_id = store.begin_analysis(camera_id, source, file_fingerprint(path))
        pending = [
            store.add_tracks(analysis_id, stitched.tracks[i : i + 200]) for i in range(0, len(stitched.tracks), 200)
        ]
        backgrounds = [b for r in results for b in r.backgrounds]
        if backgrounds:
            pending.append(store.add_backgrounds(analysis_id, backgrounds))
        for fut in pending:
            fut.result()
        message = next((r.message for r in results if r.message), "")
        if stitched.cut_tracks:
            log.warning(
                "%s: %d tracks longer than the run-on limit (%.0f s) were cut at a chunk border",
                path,
                stitched.cut_tracks,
                self.run_on_s,
            )
        restarted = sum(r.restarted for r in results)
        if restarted:
            log.warning(
                "%s: %d chunk(s) ran again from their first frame after their worker failed; nothing was stored twice",
                path,
                restarted,
            )
        status = "partial" if message else "complete"
        frames_decoded = max(r.chunk.warmup_from + r.frames_decoded for r in results)
        frames_analysed = sum(r.frames_analysed for r in results)
        store.finish_analysis(analysis_id, status, frames_decoded, frames_analysed, message)
        stages: dict[str, float] = {}
        for r in results:
            for k, v in r.stage_seconds.items():
                stages[k] = stages.get(k, 0.0) + v
        by_class: dict[str, int] = {}
        for t in stitched.tracks:
            by_class[t.class_name] = by_class.get(t.class_name, 0) + 1
        return AnalysisReport(
            camera_id=camera_id,
            source=source,
            analysis_id=analysis_id,
            status=status,
            frames_decoded=frames_decoded,
            frames_analysed=frames_analysed,
            tracks=len(stitched.tracks),
            seconds=time.perf_counter() - started,
            message=message,
            stage_seconds=stages,
            by_class=by_class,
        )

    # --- live cameras ----------------------------------------------------------------------------------------
    def camera_workers(self, site_path: str, camera_ids: list[str], analysis_fps: float, pace_files: bool):
        return RayCameraWorkers(site_path, camera_ids, analysis_fps, pace_files)


@functools.cache
def _chunk_actor(retries: int):
    import ray

    @ray.remote(num_cpus=1, max_restarts=retries, max_task_retries=retries)
    class ChunkActor:
        """One chunk of one recording; its detector is loaded once, when Ray (re)starts the actor."""

        def __init__(self, path: str, camera_id: str, site, projection) -> None:

            self.path, self.camera_id, self.site, self.projection = path, camera_id, site, projection
            analysis = site.analysis_for(camera_id)
            self.detector = build_detector(site.detector_for(camera_id), list(analysis.classes))

        def run(self, chunk) -> ChunkResult:

            result = analyse_chunk(self.path, self.camera_id, self.site, chunk, self.projection, self.detector)
            context = ray.get_runtime_context()
            result.node, result.restarted = context.get_node_id(), context.was_current_actor_reconstructed
            return result

    return ChunkActor


# --- live cameras: one actor each ------------------------------------------------------------------------
class RayCameraWorkers:
    """`vigie run`'s camera workers as Ray actors: the same worker function as the local processes,
    reporting through a Ray queue (bounded: a worker waits when the writer falls behind). An actor
    that dies is restarted by Ray and reconnects to its stream; the writer records the time it was
    down as a stream gap (vigie.live.run), since a live stream cannot be replayed."""

    QUEUE_SIZE = 10_000

    def __init__(self, site_path: str, camera_ids: list[str], analysis_fps: float, pace_files: bool) -> None:
        import ray
        from ray.util.queue import Queue

        self.queue = Queue(maxsize=self.QUEUE_SIZE)
        self._stop = Queue(maxsize=1)
        actor = _camera_actor()
        self.actors = {cam: actor.options(scheduling_strategy="SPREAD").remote() for cam in camera_ids}
        self.args = (str(Path(site_path).resolve()), analysis_fps, pace_files)
        self.refs: dict = {}
        self._ray = ray

    def start(self) -> None:
        site_path, fps, pace = self.args
        self.refs = {
            cam: a.run.remote(site_path, cam, self.queue, RayStop(self._stop), fps, pace)
            for cam, a in self.actors.items()
        }

    def get(self, timeout: float):

        from ray.util.queue import Empty

        try:
            return self.queue.get(timeout=timeout)
        except Empty:
            raise queue.Empty from None

    def stop(self) -> None:
        if self._stop.empty():
            self._stop.put(True)

    def stopping(self) -> bool:
        return not self._stop.empty()

    def join(self, timeout: float) -> None:
        if self.refs:
            self._ray.wait(list(self.refs.values()), num_returns=len(self.refs), timeout=timeout)
        for a in self.actors.values():
            self._ray.kill(a)


class RayStop:
    """The stop signal as the worker reads it (`is_set()`), asked of the Ray queue at most twice a second."""

    def __init__(self, flag) -> None:
        self.flag, self._seen, self._asked = flag, False, 0.0

    def is_set(self) -> bool:
        now = time.monotonic()
        if not self._seen and now - self._asked > 0.5:
            self._asked, self._seen = now, not self.flag.empty()
        return self._seen

    def set(self) -> None:  # the stream source's own stop(): this worker only
        self._seen = True

    def wait(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end and not self.is_set():
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))
        return self.is_set()


@functools.cache
def _camera_actor():
    import ray

    # Restarted without limit: a camera is analysed for as long as `vigie run` runs.
    @ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=-1)
    class CameraActor:
        def run(self, site_path: str, camera_id: str, out, stop, analysis_fps: float, pace_files: bool) -> None:

            camera_worker(site_path, camera_id, out, stop, analysis_fps, pace_files)

    return CameraActor


def _bar(total: int, desc: str, enabled: bool):

    return tqdm(total=total, unit="chunk", desc=desc, dynamic_ncols=True, disable=not enabled)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__

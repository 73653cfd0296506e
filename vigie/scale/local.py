"""The default executor: everything on this machine, in this process (files) or one process per camera (live)."""

from __future__ import annotations

import multiprocessing as mp

from vigie import pipeline
from vigie.scale.worker import camera_worker


class LocalExecutor:
    name = "local"

    def analyse_file(self, path, camera_id: str, site, store, progress: bool = True):
        return pipeline.analyse_file(path, camera_id, site, store, progress=progress)

    def camera_workers(self, site_path: str, camera_ids: list[str], analysis_fps: float, pace_files: bool):
        return ProcessWorkers(site_path, camera_ids, analysis_fps, pace_files)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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

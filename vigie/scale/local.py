"""The default executor: everything on this machine, in this process (files) or one process per camera (live)."""

from __future__ import annotations


class LocalExecutor:
    name = "local"

    def analyse_file(self, path, camera_id: str, site, store, progress: bool = True):
        from vigie.pipeline import analyse_file

        return analyse_file(path, camera_id, site, store, progress=progress)

    def camera_workers(self, site_path: str, camera_ids: list[str], analysis_fps: float, pace_files: bool):
        from vigie.live.run import ProcessWorkers

        return ProcessWorkers(site_path, camera_ids, analysis_fps, pace_files)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

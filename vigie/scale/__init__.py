"""Where the per-camera work runs: on this machine (`local`, the default) or on a Ray cluster (`ray`).

Both executors answer the same two calls, so `vigie analyze` and `vigie run` do not care
which one they were given:

- `analyse_file(path, camera_id, site, store, progress)`: one recording, one stored
  analysis (vigie.pipeline.AnalysisReport). Locally the file is read in one pass; on Ray it
  is cut into chunks analysed in parallel and their tracks stitched (vigie.scale.chunks).
- `camera_workers(site_path, camera_ids, analysis_fps, pace_files)`: the live workers of
  `vigie run`, one per camera (processes here, actors there), reporting through one queue
  to the single store writer (vigie.live.run).

`import vigie.scale` never imports ray: the ray executor loads it when it is chosen.
"""

from __future__ import annotations

from typing import Protocol

from vigie.errors import VigieError
from vigie.scale.local import LocalExecutor

EXECUTORS = ("local", "ray")


class Executor(Protocol):
    name: str

    def analyse_file(self, path, camera_id: str, site, store, progress: bool = True): ...

    def camera_workers(self, site_path: str, camera_ids: list[str], analysis_fps: float, pace_files: bool): ...

    def close(self) -> None: ...


def get_executor(name: str = "local", address: str | None = None, **options) -> Executor:
    """The executor called `name`; `address` (ray only) is the cluster's head (host:port), none for a local Ray."""
    if name == "local":
        if address:
            raise VigieError("--address is for --executor ray (the local executor runs on this machine)")
        return LocalExecutor()
    if name == "ray":
        from vigie.scale.ray_cluster import RayExecutor  # lazy: only a city that chose Ray needs its start-up

        return RayExecutor(address=address, **options)
    raise VigieError(f"no executor named {name!r} (known: {', '.join(EXECUTORS)})")

"""One camera's live analysis, as either executor runs it: a process of this machine
(vigie.scale.local) or a Ray actor (vigie.scale.ray_cluster). What it finds goes to the
one store writer of `vigie run` (vigie.live.run) through a queue."""

from __future__ import annotations

import signal

from vigie import files
from vigie.config import load_site
from vigie.pipeline import CameraPipeline
from vigie.sources.stream import StreamSource, StreamUnavailable, mask_url


def camera_worker(site_path: str, camera_id: str, out, stop, analysis_fps: float, pace_files: bool = True) -> None:
    """Analyse one camera's stream until `stop` is set; everything found goes to `out` as (kind, camera, payload)."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop, through `stop`
    except ValueError:  # not the main thread (a Ray actor's): Ray's own signals are left alone
        pass
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

    recorder = None
    if camera.record:  # written here, where the stream is read; indexed by the parent's one store writer
        from vigie.recording.recorder import segment_writer  # lazy: cameras that record only

        recorder = segment_writer(
            camera,
            files.data_dir(),
            on_segment=lambda seg: out.put(("segment", camera_id, seg)),
            on_error=lambda text: out.put(("recording_error", camera_id, text)),
        )

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
            recorder=recorder,
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
        if recorder is not None:
            recorder.close()  # the open segment, closed and reported before "done"
        if pipeline is not None:
            rest = pipeline.finish()
            if rest:
                out.put(("tracks", camera_id, rest))
            for background in pipeline.take_backgrounds():
                out.put(("background", camera_id, background))
        out.put(("done", camera_id, frames))

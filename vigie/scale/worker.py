"""One camera's live analysis, as either executor runs it: a process of this machine
(vigie.scale.local) or a Ray actor (vigie.scale.ray_cluster). What it finds goes to the
one store writer of `vigie run` (vigie.live.run) through a queue."""

from __future__ import annotations

import logging
import signal
import threading

from vigie import files
from vigie.config import load_site
from vigie.pipeline import CameraPipeline
from vigie.sources.stream import StreamSource, StreamUnavailable, mask_url

log = logging.getLogger(__name__)

RECORDER_JOIN_S = 15.0  # a recorder connection's last read times out within its read timeout (5 s)


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

    recorder = recording = None
    if camera.record:  # written here, where the stream is read; indexed by the parent's one store writer
        from vigie.recording.recorder import recorded_url, segment_writer  # lazy: cameras that record only

        recorder = segment_writer(
            camera,
            files.data_dir(),
            on_segment=lambda seg: out.put(("segment", camera_id, seg)),
            on_error=lambda text: out.put(("recording_error", camera_id, text)),
        )
        if recorded_url(camera) != camera.stream:
            # The recording is of the sub-stream (record_from) and the analysis reads the main stream: the
            # recorder gets a connection of its own, in a thread of this worker. Not the analysis moved to the
            # sub-stream: a recording setting must not change what the analysis sees (small figures are lost
            # at 640 px). The recorder's reads never wait on the detector, nor its outages stall the analysis;
            # decoding a 640x360 sub-stream costs about a seventh of a 1080p one (docs/BENCHMARKS.md section 32).
            recording = _RecorderThread(camera, recorded_url(camera), recorder, out)
            recorder = None  # the main connection records nothing

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
        if recording is not None:
            recording.stop()  # its open segment, closed and reported before "done"
        if recorder is not None:
            recorder.close()  # the open segment, closed and reported before "done"
        if pipeline is not None:
            rest = pipeline.finish()
            if rest:
                out.put(("tracks", camera_id, rest))
            for background in pipeline.take_backgrounds():
                out.put(("background", camera_id, background))
        out.put(("done", camera_id, frames))


class _RecorderThread:
    """A recording made on a connection of its own (the sub-stream): every frame decoded for the writer, few
    converted (analysis_fps: what StreamSource yields is thrown away), reconnecting as StreamSource does."""

    def __init__(self, camera, url: str, writer, out) -> None:
        self.writer, self.done = writer, threading.Event()
        self.source = StreamSource(
            url,
            camera.id,
            analysis_fps=0.2,
            stop_event=self.done,
            recorder=writer,
            on_status=lambda cam, status, detail: log.info("camera %s recording stream: %s %s", cam, status, detail),
        )
        self.out = out
        self.thread = threading.Thread(target=self._run, name=f"recorder-{camera.id}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for _frame in self.source:
                pass
        except Exception as exc:  # noqa: BLE001 - the recording stops, the analysis goes on: say so
            self.out.put(("recording_error", self.source.camera_id, f"recording stream stopped: {exc}"))

    def stop(self) -> None:
        self.done.set()
        self.thread.join(RECORDER_JOIN_S)
        if self.thread.is_alive():  # stuck in a read: its .part is sealed and salvaged at the next start (recover)
            log.warning("camera %s: the recording connection did not stop in time", self.source.camera_id)
        else:
            self.writer.close()

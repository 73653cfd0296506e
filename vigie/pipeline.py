"""One camera's analysis: frames -> motion gate -> detector -> tracker -> describer.

`CameraPipeline` is the composition of the stages for one camera; it knows
no source and no store, so the same object serves a file, a live stream, an
evaluation or a benchmark. `analyse_file` adds the file source and the store.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from tqdm import tqdm

from vigie.config import CameraConfig, SiteConfig
from vigie.describe.appearance import resolve_appearance
from vigie.describe.attribute_nets import attribute_networks
from vigie.describe.attributes import VEHICLE_CLASSES
from vigie.describe.backends.registry import build_backend
from vigie.describe.crops import CropSampler
from vigie.describe.describer import Describer
from vigie.describe.kinematics import GroundPlane
from vigie.describe.reid import Adaptation, active_projection
from vigie.describe.white_balance import WhiteBalance
from vigie.detect.motion import MotionGate
from vigie.detect.registry import build_detector
from vigie.detect.tiling import TiledDetector
from vigie.errors import VideoError
from vigie.privacy.masks import PrivacyMask
from vigie.sources.file import FileSource
from vigie.store.sqlite import file_fingerprint
from vigie.synopsis.capture import Background, BackgroundSampler, TubeRecorder
from vigie.track.bytetrack import ByteTracker
from vigie.track.cmc import CameraMotion
from vigie.types import CLASS_ID, Detections, Frame, TrackSummary

log = logging.getLogger(__name__)

CROP_INTERVAL_S = 1.0  # first spacing of a person's described crops (vigie.describe.crops)


@dataclass
class StageTimes:
    """Seconds spent per stage, for the progress summary and the benchmarks."""

    decode: float = 0.0
    motion: float = 0.0
    detect: float = 0.0
    track: float = 0.0
    describe: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


class CameraPipeline:
    def __init__(
        self,
        camera: CameraConfig,
        site: SiteConfig,
        frame_rate: float,
        detector=None,
        projection: Adaptation | None = None,
    ) -> None:
        self.camera = camera
        self.analysis = site.analysis_for(camera.id)
        step = self.analysis.frame_step
        self.gate = MotionGate(self.analysis.motion_gate)
        self.detector = detector or build_detector(site.detector_for(camera.id), list(self.analysis.classes))
        if self.analysis.tiling.enabled:
            self.detector = TiledDetector(self.detector, self.analysis.tiling)
        self.camera_motion = CameraMotion() if self.analysis.camera_motion else None
        tracker_cfg = self.analysis.tracker
        self.appearance = None
        if tracker_cfg.appearance_weight > 0:
            self.appearance, used = resolve_appearance(tracker_cfg.appearance)
            tracker_cfg = tracker_cfg.model_copy(update={"appearance": used})  # the gate follows what is used
        self.tracker = ByteTracker(tracker_cfg, frame_rate=frame_rate / step)
        ground = (
            GroundPlane(camera.calibration.image_points, camera.calibration.ground_points_m)
            if camera.calibration
            else None
        )
        crops = None
        first_interval = max(1, round(frame_rate / step * CROP_INTERVAL_S))
        people_net, vehicle_net = attribute_networks(self.analysis.attributes)
        if "person" not in self.analysis.classes:
            people_net = None
        if (self.analysis.search_crops or people_net) and "person" in self.analysis.classes:
            backend = None
            if self.analysis.search_crops:
                appearance = self.analysis.appearance
                backend = build_backend(appearance.backend, appearance.models, mirrored=appearance.mirrored)
                # A missing or corrupt model file stops the camera here, before any frame, with the file's
                # name; found only when the first track ends, it would lose the tracks in flight.
                backend.check()
            # About one crop a second at first: neighbouring frames are near duplicates,
            # and each crop costs network runs (about 16 ms for the default fusion on one core).
            crops = CropSampler(
                backend.describe_crops if backend else None,
                backend.name if backend else "",
                max_crops=max(2, self.analysis.search_crops or 16),
                first_interval=first_interval,
                attributes=people_net.scores if people_net else None,
            )
        vehicle_crops = None
        if vehicle_net is not None and set(self.analysis.classes) & set(VEHICLE_CLASSES):
            vehicle_crops = CropSampler(
                None, "", max_crops=8, first_interval=first_interval, attributes=vehicle_net.scores
            )
        if projection is not None and (
            crops is None or crops.describe is None or projection.base != crops.describe_name
        ):
            projection = None  # made for another descriptor: plain vectors until `vigie adapt` runs again
        # Colours are named on white-balanced pixels, learnt from this camera's background period by period.
        self.balance = (
            WhiteBalance(self.analysis.colour_balance, self.analysis.background_period_s)
            if self.analysis.colour_balance != "off"
            else None
        )
        self.describer = Describer(
            camera.id,
            ground,
            frame_rate=frame_rate / step,
            crops=crops,
            projection=projection,
            vehicle_crops=vehicle_crops,
            attributes=self.analysis.attributes,
            balance=self.balance,
        )
        self.wanted = {CLASS_ID[c] for c in self.analysis.classes}
        # Video synopsis: tubes go with their tracks, backgrounds wait in self.backgrounds for the writer.
        self.tubes = TubeRecorder() if self.analysis.synopsis else None
        self.background = (
            BackgroundSampler(camera.id, self.analysis.background_period_s) if self.analysis.synopsis else None
        )
        self.backgrounds: list[Background] = []
        self.privacy = PrivacyMask(camera.privacy_masks)
        self.times = StageTimes()
        self.frames_analysed = 0
        self.frames_skipped_still = 0

    def process(self, frame: Frame) -> tuple[Detections, list[TrackSummary]]:
        """Analyse one frame: its tracked boxes, and the tracks that ended."""
        t0 = time.perf_counter()
        # Before anything looks at the frame: masked pixels are never analysed, cropped or stored.
        self.privacy.apply(frame)
        moving = self.gate.moving(frame.image)
        if self.background is not None:
            done = self.background.offer(frame, np.array([t.kf.box for t in self.tracker.tracks]).reshape(-1, 4))
            if done:
                self.backgrounds.append(done)
        if self.balance is not None:  # every frame, still ones too: a still scene is what a background is made of
            self.balance.offer(frame.image, frame.timestamp, np.array([t.kf.box for t in self.tracker.tracks]))
        t1 = time.perf_counter()
        self.times.motion += t1 - t0
        if not moving and not self.tracker.tracks:
            # Nothing moves and nobody is being followed: the detector would
            # find what it found last time, so the frame is not analysed.
            self.frames_skipped_still += 1
            return Detections.empty(), []
        dets = self.detector.detect(frame.image)
        if len(dets):
            dets = dets[[int(c) in self.wanted for c in dets.class_id]]
        t2 = time.perf_counter()
        warp = None
        if self.camera_motion is not None:
            warp = self.camera_motion.estimate(frame.image, exclude=np.array([t.kf.box for t in self.tracker.tracks]))
        looks = None
        if self.appearance is not None:
            boxes, image = dets.xyxy, frame.image
            looks = lambda idx: self.appearance(image, boxes[idx])  # noqa: E731 - computed only where the tracker asks
        tracked = self.tracker.update(dets, camera_motion=warp, appearance=looks)
        t3 = time.perf_counter()
        self.describer.observe(frame, tracked, self.gate.mask_in)
        if self.tubes is not None:
            self.tubes.observe(frame, tracked, self.gate.mask, self.gate.scale)
        ended = self._end(self.tracker.pop_finished())
        t4 = time.perf_counter()
        self.times.detect += t2 - t1
        self.times.track += t3 - t2
        self.times.describe += t4 - t3
        self.frames_analysed += 1
        return tracked, ended

    def finish(self) -> list[TrackSummary]:
        """End of the source: every track still open ends here."""
        ids = set(self.tracker.finish()) | set(self.describer.live_ids())
        if self.background is not None:
            done = self.background.finish()
            if done:
                self.backgrounds.append(done)
        return self._end(sorted(ids))

    def _end(self, track_ids) -> list[TrackSummary]:
        """Summaries of the tracks that ended (long enough to keep), with their tubes."""
        out = []
        for tid in track_ids:
            summary = self.describer.finish(tid)
            tube = self.tubes.finish(tid) if self.tubes is not None else None
            if summary and self._long_enough(summary):
                summary.tube = tube
                out.append(summary)
        return out

    def take_backgrounds(self) -> list[Background]:
        """The period backgrounds finished since the last call (for the writer)."""
        out, self.backgrounds = self.backgrounds, []
        return out

    def _long_enough(self, s: TrackSummary) -> bool:
        return s.dwell_s >= self.analysis.min_track_seconds


@dataclass
class AnalysisReport:
    camera_id: str
    source: str
    analysis_id: int | None
    status: str  # complete | partial
    frames_decoded: int
    frames_analysed: int
    tracks: int
    seconds: float
    message: str = ""
    stage_seconds: dict[str, float] = field(default_factory=dict)
    by_class: dict[str, int] = field(default_factory=dict)


def run_frames(
    pipeline: CameraPipeline,
    frames: Iterable[Frame],
    on_tracks: Callable[[list[TrackSummary]], None],
    on_frame: Callable[[Frame, Detections], None] | None = None,
) -> str:
    """Drive the pipeline over frames. Returns '' or the message of the error
    that stopped the source early; tracks seen until then are still delivered."""
    message = ""
    it = iter(frames)
    while True:
        t0 = time.perf_counter()
        try:
            frame = next(it)
        except StopIteration:
            break
        except VideoError as exc:
            message = str(exc)
            break
        finally:
            pipeline.times.decode += time.perf_counter() - t0
        tracked, ended = pipeline.process(frame)
        if ended:
            on_tracks(ended)
        if on_frame:
            on_frame(frame, tracked)
    on_tracks(pipeline.finish())
    return message


def open_camera_file(
    path: str | Path, camera_id: str, site: SiteConfig, detector=None, projection: Adaptation | None = None
) -> tuple[FileSource, CameraPipeline]:
    """A recorded file as camera `camera_id`: its source and the camera's pipeline."""
    camera = site.camera(camera_id)
    source = FileSource.for_camera(path, camera, site.analysis_for(camera_id))
    return source, CameraPipeline(camera, site, source.info.frame_rate, detector=detector, projection=projection)


@contextmanager
def frame_progress(source: FileSource, desc: str, enabled: bool = True):
    """A progress bar over the source's frames; yields `advance(frame, **postfix)`."""
    if not enabled:
        yield lambda frame, **postfix: None
        return

    bar = tqdm(total=source.info.declared_frames or None, unit="frame", desc=desc, dynamic_ncols=True)

    def advance(frame: Frame, **postfix) -> None:
        bar.update(frame.seq + 1 - bar.n)
        if postfix:
            bar.set_postfix(refresh=False, **postfix)

    try:
        yield advance
    finally:
        bar.close()


def analyse_file(
    path: str | Path, camera_id: str, site: SiteConfig, store, progress: bool = True, detector=None
) -> AnalysisReport:
    """Analyse one recorded file as camera `camera_id` and store its tracks.

    The tracks become visible only when the analysis is finished, replacing
    any earlier analysis of the same content on the same camera in the same
    transaction: a crash or a bad file never leaves half a result, nor
    removes an earlier one.
    """

    # Tracks get their search vectors from the site adaptation in force, if any.
    source, pipeline = open_camera_file(path, camera_id, site, detector, projection=active_projection(store))
    store.upsert_cameras(site.cameras)
    analysis_id = store.begin_analysis(camera_id, str(source.path), file_fingerprint(source.path))
    pending = []
    by_class: dict[str, int] = {}

    def on_tracks(summaries: list[TrackSummary]) -> None:
        for s in summaries:
            by_class[s.class_name] = by_class.get(s.class_name, 0) + 1
        pending.append(store.add_tracks(analysis_id, summaries))
        backgrounds = pipeline.take_backgrounds()
        if backgrounds:
            pending.append(store.add_backgrounds(analysis_id, backgrounds))

    start = time.perf_counter()
    with frame_progress(source, camera_id, progress) as advance:
        message = run_frames(
            pipeline,
            source,
            on_tracks,
            lambda frame, _: advance(frame, tracks=sum(by_class.values()) + len(pipeline.describer.live_ids())),
        )
    for fut in pending:
        fut.result()  # surface any write error before declaring success
    status = "partial" if message else "complete"
    store.finish_analysis(analysis_id, status, source.frames_decoded, pipeline.frames_analysed, message)
    return AnalysisReport(
        camera_id=camera_id,
        source=str(source.path),
        analysis_id=analysis_id,
        status=status,
        frames_decoded=source.frames_decoded,
        frames_analysed=pipeline.frames_analysed,
        tracks=sum(by_class.values()),
        seconds=time.perf_counter() - start,
        message=message,
        stage_seconds=pipeline.times.as_dict(),
        by_class=by_class,
    )

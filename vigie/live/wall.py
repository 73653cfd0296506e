"""The live wall's feeds: each camera's sub-stream read once, however many screens watch it, as JPEG pictures
with the privacy masks burned in (and faces blurred when the site asks for it).

    wall = Wall(site, blurrer=b, blur_faces=site.live_wall_blur)
    for picture in wall.pictures("cam-a"):     # Picture(jpeg, seq, captured): as they come, the newest only
        ...

A feed starts with its first viewer (a thread reading the camera's `substream`, else its `stream`, through
StreamSource at `fps` pictures a second, decoded at most `max_width` wide) and stops `idle_s` after its last
viewer left. A viewer always gets the newest picture: a slow screen skips pictures rather than falling
behind, which is what keeps the wall live. `captured` is the UTC time StreamSource dated the frame
(when it was decoded): the page shows its latency against it.

Blurring, when on (a site setting, off by default: an authorised operator may watch live), searches faces
on issue 21's schedule over the whole picture (no tracks are known here): FaceSchedule holds pictures
back by `carry` + 1 frames for it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

import cv2
import numpy as np

from vigie.errors import ConfigError, VigieError
from vigie.i18n import gettext
from vigie.privacy.blur import LockedBlurrer
from vigie.privacy.masks import PrivacyMask
from vigie.privacy.schedule import FaceSchedule
from vigie.sources.stream import StreamSource

log = logging.getLogger(__name__)

WALL_FPS = 5.0
WALL_MAX_WIDTH = 960
IDLE_S = 30.0
JPEG_QUALITY = 80


class WallError(VigieError):
    """A camera the wall cannot show (unknown, or without a live stream)."""

    status = 404


@dataclass(frozen=True)
class Picture:
    jpeg: bytes
    seq: int
    captured: datetime  # UTC, when the frame was decoded from the stream
    width: int
    height: int


class Feed:
    """One camera's pictures, shared by its viewers."""

    def __init__(self, camera, blurrer=None, lock=None, fps: float = WALL_FPS, max_width: int = WALL_MAX_WIDTH):
        self.camera = camera
        self.url = camera.substream or camera.stream
        self.blurrer = LockedBlurrer(blurrer, lock) if blurrer is not None and lock is not None else blurrer
        self.fps, self.max_width = fps, max_width
        self.polygons = [[tuple(map(float, p)) for p in poly] for poly in camera.privacy_masks]
        self.masks = PrivacyMask(self.polygons)
        self.latest: Picture | None = None
        self.status = "starting"
        self.viewers = 0
        self.left_at = time.monotonic()
        self.changed = threading.Condition()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"wall-{camera.id}", daemon=True)
        self.thread.start()

    def _status(self, _camera_id, status: str, _detail: str) -> None:
        self.status = status

    def _masked(self, source: StreamSource) -> Iterator[tuple]:
        for frame in source:
            image = np.ascontiguousarray(frame.image)
            if self.masks:
                # Mask polygons are in the main stream's pixels: frame.scale says how many per image pixel,
                # and a sub-stream's size is the main stream's divided further.
                main = self.camera.main_stream_size
                scale = (main[0] / image.shape[1]) if (main and self.camera.substream) else frame.scale
                image[self.masks.mask_for(image.shape, scale)] = 0
            yield image, None, None, (frame.seq, frame.timestamp)

    def _run(self) -> None:
        source = StreamSource(
            self.url,
            self.camera.id,
            analysis_fps=self.fps,
            max_width=self.max_width,
            on_status=self._status,
            stop_event=self.stop_event,
        )
        frames = self._masked(source)
        if self.blurrer is not None:
            blurred = ((p, im) for p, im, _ in FaceSchedule(self.blurrer, fps=self.fps).run(frames))
        else:
            blurred = ((p, im) for im, _, _, p in frames)
        try:
            for (seq, captured), image in blurred:
                ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
                if not ok:
                    continue
                picture = Picture(buf.tobytes(), seq, captured, image.shape[1], image.shape[0])
                with self.changed:
                    self.latest = picture
                    self.changed.notify_all()
        except Exception as exc:  # noqa: BLE001 - a feed that dies says why to its viewers, and the wall goes on
            log.warning("live wall feed of camera %s stopped: %s", self.camera.id, exc)
            self.status = f"stopped: {exc}"
        finally:
            with self.changed:
                self.changed.notify_all()

    def pictures(self, stop: threading.Event | None = None, wait_s: float = 10.0) -> Iterator[Picture | None]:
        """The newest picture each time there is a new one; None when none came within `wait_s` (the camera
        is down: the caller may say so and keep waiting)."""
        with self.changed:
            self.viewers += 1
        last = None
        try:
            while not self.stop_event.is_set() and not (stop and stop.is_set()):
                with self.changed:
                    self.changed.wait_for(
                        lambda: (self.latest is not None and self.latest.seq != last) or not self.thread.is_alive(),
                        timeout=wait_s,
                    )
                    picture = self.latest
                if not self.thread.is_alive():
                    return
                if picture is None or picture.seq == last:
                    yield None
                    continue
                last = picture.seq
                yield picture
        finally:
            with self.changed:
                self.viewers -= 1
                self.left_at = time.monotonic()

    def stop(self) -> None:
        self.stop_event.set()
        with self.changed:
            self.changed.notify_all()


class Wall:
    """The server's live feeds, by camera id; a feed is started for its first viewer, stopped when idle."""

    def __init__(self, site, blurrer=None, lock=None, blur_faces: bool = False, idle_s: float = IDLE_S) -> None:
        self.site = site
        self.blurrer = blurrer if blur_faces else None
        self.lock = lock
        self.idle_s = idle_s
        self.feeds: dict[str, Feed] = {}
        self._lock = threading.Lock()

    def camera(self, camera_id: str):
        if self.site is None:
            raise WallError(gettext("no site file is loaded: the live wall has no cameras"))
        try:
            camera = self.site.camera(camera_id)
        except ConfigError:
            raise WallError(gettext("no camera {camera} in the site file", camera=repr(camera_id))) from None
        if not (camera.substream or camera.stream):
            raise WallError(
                gettext(
                    "camera {camera} has no live stream (neither `stream` nor `substream` is set)",
                    camera=repr(camera_id),
                )
            )
        return camera

    def feed(self, camera_id: str) -> Feed:
        camera = self.camera(camera_id)
        with self._lock:
            self._sweep()
            feed = self.feeds.get(camera_id)
            if feed is None or not feed.thread.is_alive():
                feed = self.feeds[camera_id] = Feed(camera, self.blurrer, self.lock)
            return feed

    def _sweep(self) -> None:
        now = time.monotonic()
        for cid, feed in list(self.feeds.items()):
            if feed.viewers == 0 and now - feed.left_at > self.idle_s:
                feed.stop()
                del self.feeds[cid]

    def close(self) -> None:
        with self._lock:
            for feed in self.feeds.values():
                feed.stop()
            self.feeds.clear()

"""The live wall's feeds: each camera's sub-stream read once, however many screens watch it, as JPEG pictures
with the privacy masks burned in (and faces blurred when the site asks for it).

    wall = Wall(site, blurrer=b, blur_faces=site.live_wall_blur)
    for picture in wall.pictures("cam-a"):     # Picture(jpeg, seq, captured): as they come, the newest only
        ...

A feed starts with its first viewer (a thread reading the camera's `substream`, else its `stream`, through
StreamSource at `fps` pictures a second, decoded at most `max_width` wide) and stops `idle_s` after its last
viewer left (a watchdog thread: the reading thread, its connection and its retries end even if nobody asks
for the wall again). A viewer is one that keeps asking for pictures: a web stream whose client went away
is left suspended until the garbage collector finds it, so a viewer that has not asked for LEASE_S
seconds is counted out, whether or not its generator was closed. A viewer always gets the newest picture: a slow screen skips pictures rather than falling
behind, which is what keeps the wall live. `captured` is the UTC time StreamSource dated the frame
(when it was decoded): the page shows its latency against it.

A camera that dies (connection refused, end of stream, or no picture for LOST_S seconds) is told to the
viewers as a FeedState("lost") among the pictures, within LOST_S; while anyone watches, the feed reconnects
with a backoff doubling up to RETRY_MAX_S (so a camera back is shown again within that), and the first new
picture says FeedState("live") again.

Blurring, when on (a site setting, off by default: an authorised operator may watch live), searches faces
on issue 21's schedule over the whole picture (no tracks are known here): FaceSchedule holds pictures
back by `carry` + 1 frames for it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterator

import cv2
import numpy as np

from vigie.errors import ConfigError, VigieError
from vigie.i18n import gettext
from vigie.privacy.blur import LockedBlurrer
from vigie.privacy.masks import PrivacyMask
from vigie.privacy.schedule import FaceSchedule
from vigie.sources.stream import DROPPED, UNAVAILABLE, StreamSource

log = logging.getLogger(__name__)

WALL_FPS = 5.0
WALL_MAX_WIDTH = 960
IDLE_S = 30.0
JPEG_QUALITY = 80
LOST_S = 5.0  # no picture for this long: the camera is lost (its tile says so)
RETRY_MAX_S = 5.0  # reconnection attempts while watched: 0.5 s, doubling, at most this far apart
LEASE_S = 10.0  # a viewer that has not asked for a picture for this long has gone


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


@dataclass(frozen=True)
class FeedState:
    """A change of the feed's state, told to its viewers: "lost" (with why, and since when) or "live" again."""

    state: str
    since: datetime
    detail: str = ""


class Feed:
    """One camera's pictures, shared by its viewers."""

    def __init__(
        self,
        camera,
        blurrer=None,
        lock=None,
        fps: float = WALL_FPS,
        max_width: int = WALL_MAX_WIDTH,
        idle_s: float = IDLE_S,
        lost_s: float = LOST_S,
    ):
        self.camera = camera
        self.url = camera.substream or camera.stream
        self.blurrer = LockedBlurrer(blurrer, lock) if blurrer is not None and lock is not None else blurrer
        self.fps, self.max_width = fps, max_width
        self.polygons = [[tuple(map(float, p)) for p in poly] for poly in camera.privacy_masks]
        self.masks = PrivacyMask(self.polygons)
        self.latest: Picture | None = None
        self.status = "starting"
        self.state = FeedState("starting", _now())  # "starting", "live" or "lost"
        self.idle_s, self.lost_s = idle_s, lost_s
        self._leases: dict[int, float] = {}  # viewer -> when it last asked (monotonic)
        self._lease_ids = 0
        self.left_at = time.monotonic()
        self.shown_at = time.monotonic()  # the newest picture's (or the feed's start)
        self.changed = threading.Condition()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"wall-{camera.id}", daemon=True)
        self.thread.start()
        self.watchdog = threading.Thread(target=self._watch_idle, name=f"wall-idle-{camera.id}", daemon=True)
        self.watchdog.start()

    @property
    def viewers(self) -> int:
        now = time.monotonic()
        with self.changed:
            return sum(1 for at in self._leases.values() if now - at <= LEASE_S)

    def _watch_idle(self) -> None:
        """Stop the feed once nobody has watched it for idle_s."""
        idle_since = None
        while not self.stop_event.wait(min(1.0, self.idle_s / 2)):
            if self.viewers:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= self.idle_s:
                log.info("live wall: nobody watches camera %s; its feed stops", self.camera.id)
                self.stop()

    def _status(self, _camera_id, status: str, detail: str) -> None:
        self.status = status
        if status in (DROPPED, UNAVAILABLE):  # the connection died: told now, not LOST_S later
            self._lost(detail)

    def _lost(self, detail: str) -> None:
        with self.changed:
            if self.state.state != "lost":
                self.state = FeedState("lost", _now(), detail)
                log.info("live wall: camera %s lost (%s)", self.camera.id, detail)
                self.changed.notify_all()

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
            backoff_max_s=RETRY_MAX_S,
            fast_retry_s=0,  # back off from the first failure: a dead camera is not hammered twice a second
            read_timeout_s=self.lost_s,
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
                    self.shown_at = time.monotonic()
                    if self.state.state != "live":
                        self.state = FeedState("live", picture.captured)
                    self.changed.notify_all()
        except Exception as exc:  # noqa: BLE001 - a feed that dies says why to its viewers, and the wall goes on
            log.warning("live wall feed of camera %s stopped: %s", self.camera.id, exc)
            self.status = f"stopped: {exc}"
            self._lost(str(exc))
        finally:
            with self.changed:
                self.changed.notify_all()

    def pictures(self, stop: threading.Event | None = None, wait_s: float = 1.0) -> Iterator[Picture | FeedState]:
        """The newest picture each time there is a new one, and a FeedState each time the feed's state changes
        ("lost": no picture for lost_s seconds or the connection died; "live" again). Checks `stop` at least
        every `wait_s` seconds."""
        with self.changed:
            self._lease_ids += 1
            lease = self._lease_ids
            self._leases[lease] = time.monotonic()
        last, told = None, "starting"
        try:
            while not self.stop_event.is_set() and not (stop and stop.is_set()):
                with self.changed:
                    self._leases[lease] = time.monotonic()
                    self.changed.wait_for(
                        lambda: (
                            (self.latest is not None and self.latest.seq != last)
                            or self.state.state != told
                            or not self.thread.is_alive()
                        ),
                        timeout=wait_s,
                    )
                    if self.state.state != "lost" and time.monotonic() - self.shown_at > self.lost_s:
                        silent = gettext("no picture for {seconds} s", seconds=f"{self.lost_s:.0f}")
                        self.state = FeedState("lost", _now(), silent)
                    picture, state = self.latest, self.state
                if state.state != told and state.state != "starting":
                    told = state.state
                    yield state
                if not self.thread.is_alive():
                    return
                if state.state == "live" and picture is not None and picture.seq != last:
                    last = picture.seq
                    yield picture
        finally:
            with self.changed:
                self._leases.pop(lease, None)
                self.left_at = time.monotonic()

    def stop(self) -> None:
        self.stop_event.set()
        with self.changed:
            self.changed.notify_all()


def _now() -> datetime:
    return datetime.now(timezone.utc)


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
            if feed is None or not feed.thread.is_alive() or feed.stop_event.is_set():
                feed = self.feeds[camera_id] = Feed(camera, self.blurrer, self.lock, idle_s=self.idle_s)
            return feed

    def _sweep(self) -> None:
        for cid, feed in list(self.feeds.items()):
            if feed.stop_event.is_set():  # stopped by its watchdog (nobody watched it for idle_s)
                del self.feeds[cid]

    def close(self) -> None:
        with self._lock:
            for feed in self.feeds.values():
                feed.stop()
            self.feeds.clear()

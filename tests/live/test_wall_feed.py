"""A live-wall feed whose camera dies (issue 21): the loopback RTSP camera (PETS09 in real time) killed while
watched, then started again.

Checked: the feed tells its viewer the camera is lost within LOST_S (+ a margin for a loaded machine),
reconnects while watched and says live again with new pictures within RETRY_MAX_S of the camera's return
(+ the time to connect and reach a key frame), and once nobody watches, its reading thread ends and the
camera's relay has no player connection left; the web route carries the states as JSON parts."""

from __future__ import annotations

import threading
import time

import pytest
from loopback_camera import LoopbackCamera, free_port, make_h264_clip, needs_ffmpeg

from vigie.config import CameraConfig, SiteConfig
from vigie.live.wall import LOST_S, RETRY_MAX_S, FeedState, Picture, Wall

pytestmark = [needs_ffmpeg, pytest.mark.serial, pytest.mark.timeout(180)]  # serial: times a lost feed


def wait_for(events: list, kind, after: float, within: float, state: str | None = None):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for at, item in list(events):
            if at >= after and isinstance(item, kind) and (state is None or item.state == state):
                return at, item
        time.sleep(0.05)
    raise AssertionError(
        f"no {kind.__name__} {state or ''} within {within} s: {[type(e).__name__ for _, e in events[-5:]]}"
    )


def test_a_dead_camera_is_reported_lost_retried_recovered_and_its_feed_closed_when_nobody_watches(vtest, tmp_path):
    camera = LoopbackCamera(make_h264_clip(vtest, tmp_path / "camera.mp4", seconds=6), free_port())
    camera.start()
    cam = CameraConfig(id="cam-a", name="A", lat=43.8, lon=4.3, stream=camera.url)
    wall = Wall(SiteConfig(name="t", language="en", cameras=[cam]), idle_s=1.0)
    events: list[tuple[float, object]] = []
    stop = threading.Event()

    def watch(feed) -> None:
        for item in feed.pictures(stop):
            events.append((time.monotonic(), item))

    try:
        feed = wall.feed("cam-a")
        viewer = threading.Thread(target=watch, args=(feed,), daemon=True)
        viewer.start()
        wait_for(events, Picture, 0, 30)
        # Killed mid-watch: its connection dies, then connections are refused.
        killed = time.monotonic()
        camera.stop()
        at, lost = wait_for(events, FeedState, killed, LOST_S + 5, "lost")
        assert at - killed <= LOST_S + 5 and lost.detail
        # Down for a while: the feed keeps trying (backing off), and no picture is sent meanwhile.
        time.sleep(4)
        assert not [e for t, e in events if t > at and isinstance(e, Picture)]
        restarted = time.monotonic()
        camera.start()
        back, _ = wait_for(events, FeedState, restarted, RETRY_MAX_S + 20, "live")
        wait_for(events, Picture, back, 10)
        print(f"\nlost told {at - killed:.1f} s after the kill; live again {back - restarted:.1f} s after the restart")
        assert feed.thread.is_alive() and wall.feed("cam-a") is feed  # the same feed, reconnected
        # The viewer leaves: nobody watches, the reading thread ends after idle_s, its connection closed.
        stop.set()
        viewer.join(5)
        assert not viewer.is_alive()
        feed.thread.join(1.0 + LOST_S + 10)
        assert not feed.thread.is_alive()
        deadline = time.monotonic() + 10
        while camera.relay.players and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not camera.relay.players, "the feed's connection to the camera is still open"
        assert wall.feed("cam-a") is not feed  # asked again: a new feed
    finally:
        stop.set()
        wall.close()
        camera.stop()


def test_a_feed_that_cannot_connect_says_lost_and_stops_when_nobody_watches():
    port = free_port()  # nothing listens there: connections are refused
    cam = CameraConfig(id="cam-a", name="A", lat=43.8, lon=4.3, stream=f"rtsp://127.0.0.1:{port}/live")
    wall = Wall(SiteConfig(name="t", language="en", cameras=[cam]), idle_s=0.5)
    feed = wall.feed("cam-a")
    stop, got = threading.Event(), []
    started = time.monotonic()
    for item in feed.pictures(stop):
        got.append(item)
        break
    assert isinstance(got[0], FeedState) and got[0].state == "lost"
    assert time.monotonic() - started <= LOST_S + 5
    feed.thread.join(0.5 + RETRY_MAX_S + 5)  # (a retry's wait ends at once when stopped)
    assert not feed.thread.is_alive()
    wall.close()

"""The live wall in Debian's chromium (issue 21), on the loopback RTSP camera of the live tests (PETS09 in
real time): cameras chosen by group, their pictures with the privacy mask burned in, the latency shown,
an alert shown over its camera, each view audited; faces are not blurred unless the site says so."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from browser_support import Server, log_in_as, screenshot, served, vigie_app, vigie_store
from builders import english_site
from loopback_camera import LoopbackCamera, free_port, make_h264_clip, needs_ffmpeg

pytestmark = [pytest.mark.browser, needs_ffmpeg]

ACCOUNTS = {"operator": ("op", "operator-pass-123")}
MASK = [(0, 0), (300, 0), (300, 200), (0, 200)]  # the top-left corner, in the stream's 768x576 pixels

# The mean of the red, green and blue of a region of a tile's canvas.
MEAN_OF = """([camera, x, y, w, h]) => {
  const c = document.querySelector('canvas[data-camera="' + camera + '"]');
  if (!c || !c.width) return null;
  const d = c.getContext('2d').getImageData(x, y, w, h).data;
  let s = 0; for (let k = 0; k < d.length; k += 4) s += d[k] + d[k + 1] + d[k + 2];
  return s / (3 * d.length / 4);
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory, vtest):
    from fakes import FakeBlurrer

    from vigie.config import CameraConfig

    tmp = tmp_path_factory.mktemp("wall-ui")
    camera = LoopbackCamera(make_h264_clip(vtest, tmp / "camera.mp4"), free_port())
    camera.start()
    cams = [
        CameraConfig(id="cam-a", name="Esplanade", lat=43.83, lon=4.36, group="centre", stream=camera.url).model_copy(
            update={"privacy_masks": [MASK]}
        ),
        CameraConfig(id="cam-b", name="Arènes", lat=43.834, lon=4.359, group="centre", stream=camera.url),
        CameraConfig(id="cam-c", name="Gare", lat=43.83, lon=4.37, group="gare"),  # no live stream
    ]
    site = english_site(name="Nîmes wall", cameras=cams)
    try:
        with vigie_store(tmp / "var") as store:
            store.upsert_cameras(site.cameras)
            app = vigie_app(store, site, FakeBlurrer(paint="black"), ACCOUNTS)
            with served(app) as url:
                yield Server(url, store, camera=camera, app=app)
            app.state.wall.close()
    finally:
        camera.stop()


@pytest.mark.timeout(180)
def test_the_wall_shows_a_group_live_with_masks_latency_and_alerts(new_page, server):
    from playwright.sync_api import expect

    from vigie.alerts.store import record as record_alerts
    from vigie.audit.log import query as audit_query
    from vigie.rules.base import Event

    page = new_page()
    log_in_as(page, ACCOUNTS, "operator")
    page.goto("/wall?group=centre&n=4")
    expect(page.locator("#wall-blur")).to_contain_text("Faces are not blurred on the wall")
    expect(page.locator(".wall-tile")).to_have_count(2)  # cam-c has no stream: not offered
    for cam in ("cam-a", "cam-b"):
        expect(page.locator(f'.wall-tile[data-camera="{cam}"] .latency')).to_have_text(
            __import__("re").compile(r"^Latency \d+\.\d s$"), timeout=60_000
        )
    # The mask (top-left 300x200 of 768x576) is black on cam-a, the same corner shows the scene on cam-b; the
    # FakeBlurrer paints black, so a non-black cam-b also shows that faces are not blurred by default.
    w = page.evaluate("() => document.querySelector('canvas[data-camera=\"cam-a\"]').width")
    s = w / 768
    region = [int(20 * s), int(20 * s), int(200 * s), int(150 * s)]
    assert page.evaluate(MEAN_OF, ["cam-a", *region]) < 8
    assert page.evaluate(MEAN_OF, ["cam-b", *region]) > 40
    # Pictures keep coming: the latency is of recent pictures.
    lat = int(page.locator('.wall-tile[data-camera="cam-a"] .latency').get_attribute("data-latency-ms"))
    assert lat >= 0
    # An alert of cam-a appears over cam-a only.
    event = Event("esplanade-zone", "zone_intrusion", "cam-a", datetime.now(timezone.utc), None, (), (100.0, 100.0))
    (alert,) = record_alerts(server.store, [event])
    expect(page.locator('.wall-tile[data-camera="cam-a"] .wall-alert')).to_contain_text(
        f"Alert #{alert}", timeout=15_000
    )
    expect(page.locator('.wall-tile[data-camera="cam-b"] .wall-alert')).to_be_hidden()
    screenshot(page, "live-wall.png")
    views = audit_query(server.store, action="view_live", limit=100)
    assert sorted(v.details_dict()["camera_id"] for v in views) == ["cam-a", "cam-b"]


def test_a_camera_without_a_stream_is_refused_by_name(server):
    import httpx

    c = httpx.Client(base_url=server.url)
    r = c.post("/api/login", json={"username": "op", "password": ACCOUNTS["operator"][1]})
    assert r.status_code == 200
    r = c.post("/api/live/cam-c/view")
    assert r.status_code == 404 and "has no live stream" in r.json()["error"]
    r = c.get("/api/live/cameras")
    assert [x["id"] for x in r.json()["items"]] == ["cam-a", "cam-b"] and r.json()["blurred"] is False


@pytest.mark.timeout(180)
def test_a_camera_lost_mid_watch_is_shown_on_its_tile_and_comes_back(new_page, server):
    """The camera killed while watched: its tile says it is lost within the feed's LOST_S (+ margin), the server
    reconnects, and the tile is live again with new pictures once the camera is back."""
    import re

    from playwright.sync_api import expect

    from vigie.live.wall import LOST_S, RETRY_MAX_S

    page = new_page()
    log_in_as(page, ACCOUNTS, "operator")
    page.goto("/wall?cameras=cam-b&n=1")
    tile = page.locator('.wall-tile[data-camera="cam-b"]')
    expect(tile.locator(".latency")).to_have_text(re.compile(r"^Latency \d+\.\d s$"), timeout=60_000)
    server.camera.stop()
    try:
        expect(tile).to_have_attribute("data-state", "lost", timeout=(LOST_S + 8) * 1000)
        expect(tile.locator(".wall-state")).to_have_text("Camera lost: reconnecting…")
        expect(tile.locator(".wall-state")).to_be_visible()
    finally:
        server.camera.start()
    expect(tile).to_have_attribute("data-state", "live", timeout=(RETRY_MAX_S + 30) * 1000)
    expect(tile.locator(".wall-state")).to_be_hidden()
    # "live" is said with the first new picture: its latency is shown again
    expect(tile.locator(".latency")).to_have_text(re.compile(r"^Latency \d+\.\d s$"), timeout=15_000)


@pytest.mark.timeout(120)
def test_a_viewer_that_leaves_is_counted_out_and_the_feed_closes_when_idle(server):
    """Through the real server: a picture stream closed by its viewer counts it out of the feed, and with
    nobody watching the feed's thread stops after the wall's idle time."""
    import time

    import httpx

    from vigie.live.wall import LEASE_S

    wall = server.app.state.wall
    wall.idle_s = 1.0
    with httpx.Client(base_url=server.url, timeout=30) as c:
        r = c.post("/api/login", json={"username": "op", "password": ACCOUNTS["operator"][1]})
        view = c.post("/api/live/cam-b/view").json()
        with c.stream("GET", view["url"]) as r:
            got = b""
            for chunk in r.iter_bytes():
                got += chunk
                if b"Content-Type: image/jpeg" in got:
                    break
        feed = wall.feeds["cam-b"]
        feed.idle_s = 1.0  # (the feed may have been started by an earlier test, with the wall's 30 s)
        deadline = time.monotonic() + LEASE_S + 5  # (its stream left suspended: counted out when its lease ends)
        while feed.viewers and time.monotonic() < deadline:
            time.sleep(0.1)
        assert feed.viewers == 0, "the viewer that left is still counted"
        feed.thread.join(1.0 + 15)
        assert not feed.thread.is_alive(), "nobody watches, yet the feed still reads the camera"

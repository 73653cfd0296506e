"""The playback page in Debian's chromium (issue 21): two cameras' recordings played in step through Media
Source Extensions, their timelines (footage, gap, track, alert), a click on a track seeking both, and the
audit of each play.

Both cameras' segments show the same frame numbers at the same times (tests/media/recorded.py), so the
number each video shows, read from its picture in the page, tells which moment it plays."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from browser_support import Server, log_in_as, screenshot, served, vigie_app, vigie_store
from builders import T0, english_site, make_summary

pytestmark = pytest.mark.browser

FPS = 10
ACCOUNTS = {"operator": ("op", "operator-pass-123"), "investigator": ("inv", "investigator-pass-1")}
JUST = {"case_ref": "PV-2026-1207-002", "purpose": "theft near the station"}

# Reads the frame number the <video> shows: its picture drawn on a canvas, the blocks of recorded.BITS.
READ_NUMBER = """camera => {
  const v = document.querySelector('video[data-camera="' + camera + '"]');
  if (!v || v.readyState < 2 || !v.videoWidth) return null;
  const c = document.createElement('canvas'); c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext('2d'); g.drawImage(v, 0, 0);
  let n = 0;
  for (let i = 0; i < 9; i++) {
    const d = g.getImageData(20 + 30 * i + 6, 16, 12, 12).data;
    let s = 0; for (let k = 0; k < d.length; k += 4) s += d[k + 1];
    if (s / (d.length / 4) > 128) n += 1 << i;
  }
  return n;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from fakes import FakeBlurrer
    from media.recorded import record_segments

    from vigie.alerts.store import record as record_alerts
    from vigie.config import CameraConfig
    from vigie.rules.base import Event

    site = english_site(
        name="Nîmes playback",
        timezone="Europe/Paris",  # the page reads and shows times on the site's clock, labelled
        cameras=[
            CameraConfig(id="cam-a", name="Esplanade", lat=43.83, lon=4.36, purpose="public safety"),
            CameraConfig(id="cam-b", name="Arènes", lat=43.834, lon=4.359, purpose="public safety"),
        ],
    )
    with vigie_store(tmp_path_factory.mktemp("playback-ui") / "var") as store:
        store.upsert_cameras(site.cameras)
        t0 = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(microsecond=0)
        for cam in ("cam-a", "cam-b"):
            record_segments(store, cam, t0, FPS, [4, 4, 4, 4], gaps_s={3: 20})
        aid = store.begin_analysis("cam-b", "rtsp://cam-b/stream", "live".ljust(64, "0"))
        start_s = (t0 - T0).total_seconds() + 9
        store.add_tracks(aid, [make_summary("cam-b", 1, n_points=20, start_s=start_s, fps=FPS)]).result()
        store.finish_analysis(aid, "complete", 0, 0, message="live")
        with store.read() as conn:
            track = conn.execute("SELECT id FROM tracks").fetchone()[0]
        event = Event(
            "zone-night", "zone_intrusion", "cam-a", t0 + timedelta(seconds=5), None, (track,), (120.0, 200.0)
        )
        (alert,) = record_alerts(store, [event])
        with served(vigie_app(store, site, FakeBlurrer(paint="none"), ACCOUNTS)) as url:
            yield Server(url, store, t0=t0, track=track, alert=alert)


def number(page, camera: str):
    return page.evaluate(READ_NUMBER, camera)


def showing(page, camera: str, lo: int, hi: int) -> None:
    page.wait_for_function(
        "([cam, lo, hi]) => { const n = (" + READ_NUMBER + ")(cam); return n !== null && n >= lo && n <= hi; }",
        arg=[camera, lo, hi],
        timeout=30_000,
    )


@pytest.mark.timeout(240)
def test_two_cameras_play_in_step_the_timeline_seeks_and_each_play_is_audited(new_page, server):
    from playwright.sync_api import expect

    from vigie.audit.log import query as audit_query

    page = new_page()
    log_in_as(page, ACCOUNTS, "operator")
    start = (server.t0 + timedelta(seconds=2)).isoformat().replace("+00:00", "Z")
    searches = len(audit_query(server.store, action="search", limit=1000))
    page.goto(f"/playback?camera=cam-a,cam-b&t={start}")
    # Both play from the moment asked (frame 20 at 2 s), and move on in step.
    showing(page, "cam-a", 20, 60)
    showing(page, "cam-b", 20, 60)
    page.wait_for_timeout(1500)
    a, b = number(page, "cam-a"), number(page, "cam-b")
    assert a is not None and b is not None and a > 22 and abs(a - b) <= 5, (a, b)
    # Each camera's play is audited once; each timeline is a search.
    plays = audit_query(server.store, action="view_playback", limit=1000)
    assert sorted(p.details_dict()["camera_id"] for p in plays) == ["cam-a", "cam-b"]
    assert len(audit_query(server.store, action="search", limit=1000)) == searches + 2

    # The timelines: footage and the gap on both, the track on cam-b, the alert on cam-a.
    tl_a = page.locator('section[data-camera="cam-a"] .timeline')
    tl_b = page.locator('section[data-camera="cam-b"] .timeline')
    expect(tl_a.locator(".tl-footage")).to_have_count(2)
    expect(tl_a.locator(".tl-gap").first).to_be_visible()
    expect(tl_b.locator(f'.tl-track[data-track="{server.track}"]')).to_have_count(1)
    expect(tl_a.locator(f'.tl-alert[data-alert="{server.alert}"]')).to_have_count(1)
    # Times on the site's clock, labelled: the play's clock, the field it started from.
    expect(page.locator("#clock")).to_contain_text("(Paris time)")
    local_t0 = server.t0.astimezone(ZoneInfo("Europe/Paris"))
    assert page.input_value("#from") in (
        (local_t0 - timedelta(seconds=8)).strftime("%d/%m/%Y %H:%M"),
        local_t0.strftime("%d/%m/%Y %H:%M"),
    )
    screenshot(page, "playback.png", full_page=True)

    # A click on the track seeks both cameras to it (9 s: frame 90).
    tl_b.locator(f'.tl-track[data-track="{server.track}"]').click()
    showing(page, "cam-a", 88, 120)
    showing(page, "cam-b", 88, 120)
    # A click on the alert: 5 s, frame 50.
    tl_a.locator(f'.tl-alert[data-alert="{server.alert}"]').click()
    showing(page, "cam-b", 48, 75)
    # A click on the timeline in the gap: no recording there, said so.
    tl_a.locator(".tl-gap").nth(1).click()  # the gap between 12 s and 32 s (the first gap is before the footage)
    expect(page.locator('section[data-camera="cam-a"] .view-note')).to_have_text("No recording at this moment.")
    # Seeks are moments of the same plays: no new audit entry.
    assert len(audit_query(server.store, action="view_playback", limit=1000)) == 2


@pytest.mark.timeout(120)
def test_an_investigator_without_a_justification_is_refused_and_told(new_page, server):
    from playwright.sync_api import expect

    page = new_page()
    log_in_as(page, ACCOUNTS, "investigator")
    page.goto("/playback")
    page.check('#cameras input[value="cam-a"]')
    # a time on the site's clock (Paris), as a person types it; the field says back how it was read
    page.fill(
        "#from", (server.t0 + timedelta(seconds=1)).astimezone(ZoneInfo("Europe/Paris")).strftime("%Y-%m-%dT%H:%M:%S")
    )
    page.click("#load")
    expect(page.locator("#error")).to_contain_text("case_ref")
    expect(page.locator("#from-read")).to_contain_text("Paris time")
    page.fill("#case_ref", JUST["case_ref"])
    page.fill("#purpose", JUST["purpose"])
    page.click("#load")
    showing(page, "cam-a", 10, 60)


@pytest.mark.timeout(120)
def test_the_track_page_links_to_the_recording_around_the_track(new_page, server):
    from urllib.parse import parse_qs, urlsplit

    from playwright.sync_api import expect

    page = new_page()
    log_in_as(page, ACCOUNTS, "operator")
    page.goto(f"/track/{server.track}")
    link = page.locator("#playback-link")
    expect(link).to_have_attribute("href", re.compile(r"^/playback\?camera=cam-b&t="))
    first_seen = server.store.get_track(server.track)["first_seen"]
    assert parse_qs(urlsplit(link.get_attribute("href")).query)["t"] == [first_seen]
    link.click()
    page.wait_for_url("**/playback?**")
    showing(page, "cam-b", 88, 120)  # the track starts 9 s in: frame 90

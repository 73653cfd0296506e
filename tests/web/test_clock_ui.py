"""Issue 20 (one clock) in the browser: the site is in Europe/Paris, the browser in America/New_York, and
the stored times are UTC; all three differ (Paris is UTC+1 and New York UTC-5 in winter, UTC+2 and UTC-4
in summer). Every time a page shows is on Paris's clock, labelled; what a person types is read on it.
Search results, the synopsis form's default last hour, the dashboard's hours and an alert's time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from browser_support import Server, log_in, non_local, served, vigie_app, vigie_store
from builders import T0, english_site, make_summary

from vigie.times import UTC

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PARIS = ZoneInfo("Europe/Paris")
PW = "correct horse battery staple"
BROWSER_ZONE = "America/New_York"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from fakes import FakeBlurrer

    from vigie.config import CameraConfig

    site = english_site(
        name="Nîmes",
        timezone="Europe/Paris",
        cameras=[CameraConfig(id="cam-a", name="Esplanade", lat=43.83, lon=4.36, commune="Nîmes")],
    )
    with vigie_store(tmp_path_factory.mktemp("clock-ui")) as store:
        store.upsert_cameras(site.cameras)
        # a person seen 30 minutes ago, to the second (its hour is in the dashboard, its card in the search)
        seen = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
        aid = store.begin_analysis("cam-a", "/videos/x.mp4", "f" * 64)
        store.add_tracks(aid, [make_summary("cam-a", 1, start_s=(seen - T0).total_seconds())]).result()
        store.finish_analysis(aid, "complete", 10, 10)
        app = vigie_app(store, site, FakeBlurrer(), {role: (role, PW) for role in ("investigator", "operator")})
        with served(app, "vigie-clock-ui") as url:
            yield Server(url, store, first_seen=seen)


@pytest.fixture
def page_in_new_york(browser, server):  # noqa: F811
    errors = []
    ctx = browser.new_context(base_url=server.url, locale="en-US", timezone_id=BROWSER_ZONE)
    ctx.on("request", lambda req: server.requests.append(req.url))
    page = ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(30_000)
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == BROWSER_ZONE
    yield page
    ctx.close()
    assert not errors, errors
    assert not non_local(server.requests)


def paris(t: datetime, fmt: str = "%d/%m/%Y %H:%M") -> str:
    return t.astimezone(PARIS).strftime(fmt)


def test_search_results_are_on_the_sites_clock_not_the_browsers(page_in_new_york, server):
    from playwright.sync_api import expect

    page = page_in_new_york
    log_in(page, "investigator", PW, "investigator")
    page.goto("/search")
    page.fill("#case_ref", "PV-2026-1")
    page.fill("#purpose", "witness statement")
    # the witness's time, typed as said, on Paris's clock
    page.fill("#start", "il y a 2 h")
    page.fill("#end", "dernière heure")
    page.click("#search-form button[type=submit]")
    card = page.locator("#results .card").first
    expect(card).to_contain_text(f"{paris(server.first_seen)} (Paris time)")
    new_york = server.first_seen.astimezone(ZoneInfo(BROWSER_ZONE)).strftime("%H:%M")
    assert new_york not in card.inner_text()  # never the browser's clock
    expect(page.locator("#start-read")).to_contain_text("(Paris time)")


def test_the_synopsis_default_is_the_last_hour_on_the_sites_clock(page_in_new_york, server):
    from playwright.sync_api import expect

    page = page_in_new_york
    log_in(page, "investigator", PW, "investigator")
    page.goto("/synopsis")
    expect(page.locator("#to")).not_to_have_value("")
    now = datetime.now(UTC)
    shown_to = datetime.strptime(page.input_value("#to"), "%d/%m/%Y %H:%M").replace(tzinfo=PARIS)
    shown_from = datetime.strptime(page.input_value("#from"), "%d/%m/%Y %H:%M").replace(tzinfo=PARIS)
    assert abs((shown_to - now).total_seconds()) < 180 and shown_to - shown_from == timedelta(hours=1)
    expect(page.locator("[data-clock-hint]")).to_contain_text("Paris time")


def test_dashboard_hours_and_alerts_are_on_the_sites_clock(page_in_new_york, server):
    import numpy as np
    from playwright.sync_api import expect

    from vigie.alerts import store as alerts
    from vigie.rules.base import Event

    page = page_in_new_york
    log_in(page, "operator", PW, "operator")
    page.goto("/dashboard")
    hour = server.first_seen.replace(minute=0, second=0)
    expect(page.locator("#hourly")).to_contain_text(paris(hour))
    expect(page.locator("#hourly th").first).to_have_text("hour (Paris time)")

    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    e = Event("zone-1", "zone_intrusion", "cam-a", start, start + timedelta(seconds=6), (1,), (1.0, 1.0), {})
    snapshot = np.zeros((8, 8, 3), np.uint8)
    import cv2

    [aid] = alerts.record(
        server.store, [e], snapshots={alerts.event_key(e): cv2.imencode(".jpg", snapshot)[1].tobytes()}
    )
    page.goto("/alerts")
    card = page.locator(f'[data-alert="{aid}"]')
    expect(card).to_contain_text(f"{paris(start)} (Paris time)")

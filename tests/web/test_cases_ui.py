"""Issue 20 (point 3) in a real browser (Debian's chromium, Playwright): an investigator opens a case once,
in one tab; a result opened in another tab of the same browser (one context: one session cookie, but
each tab its own session storage) shows the case and finds similar people without a word typed again;
a track is marked "same person"; a hold is placed, listed on the track page and lifted with a reason;
the case page lists the marks and the hold, and exports the marked tracks as a job, once.

The app is served by uvicorn in a background thread over a FRESH store holding two recent tracks with
their thumbnails and the test blurrer (tests/fakes.py), as test_accounts_ui does.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from browser_support import PAGE_TIMEOUT_MS, VIEWPORT, Server, log_in, screenshot, served, vigie_app, vigie_store
from builders import T0, jpeg_bytes, make_summary

pytestmark = [pytest.mark.slow, pytest.mark.browser]

INVESTIGATOR = ("inv", "investigator-pass-1")
CASE = ("PV-2026-1207-015", "theft of a bicycle, place de l'Horloge")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from fakes import FakeBlurrer

    from vigie.config import CameraConfig, SiteConfig

    site = SiteConfig(
        name="Nîmes cases",
        retention_days=20,
        timezone="Europe/Paris",
        cameras=[CameraConfig(id="cam-a", name="Esplanade", lat=43.83, lon=4.36, purpose="public safety")],
    )
    with vigie_store(tmp_path_factory.mktemp("cases-ui") / "var") as store:
        store.upsert_cameras(site.cameras)
        recent = (datetime.now(timezone.utc) - timedelta(hours=1) - T0).total_seconds()
        aid = store.begin_analysis("cam-a", "/videos/x.mp4", "c1".ljust(64, "0"))
        summaries = [make_summary("cam-a", n, start_s=recent + 60 * n, jpeg=jpeg_bytes()) for n in (1, 2)]
        store.add_tracks(aid, summaries).result()
        store.finish_analysis(aid, "complete", 10, 10)
        with store.read() as conn:
            tracks = [r[0] for r in conn.execute("SELECT id FROM tracks ORDER BY id")]
        vector = (np.ones(3, np.float32) / np.sqrt(3)).astype("<f4").tobytes()  # alike: each finds the other
        rows = [(t, "plain", vector) for t in tracks]
        store.write(lambda conn: conn.executemany("INSERT OR REPLACE INTO track_vectors VALUES (?,?,?)", rows)).result()
        with served(vigie_app(store, site, FakeBlurrer(), {"investigator": INVESTIGATOR})) as url:
            yield Server(url, store, tracks=tracks)


@pytest.mark.timeout(300)
def test_a_case_opened_in_one_tab_holds_in_another_and_the_case_page_exports_its_marked_tracks(browser, server):
    from playwright.sync_api import expect

    ctx = browser.new_context(viewport=VIEWPORT, base_url=server.url, locale="en-GB", timezone_id="Europe/Paris")
    ctx.add_cookies([{"name": "vigie_lang", "value": "en", "url": server.url}])  # English, as new_page() chooses
    errors: list[str] = []
    try:
        first = ctx.new_page()
        first.on("pageerror", lambda exc: errors.append(str(exc)))
        first.set_default_timeout(PAGE_TIMEOUT_MS)
        log_in(first, *INVESTIGATOR, "investigator")
        expect(first.locator("#case-banner")).to_contain_text("No case is open")
        first.fill("#case-open-ref", CASE[0])
        first.fill("#case-open-purpose", CASE[1])
        first.click("#case-open-form button[type=submit]")
        expect(first.locator("#case-current")).to_contain_text(CASE[0])

        # a result opened in a new tab: the same session, its own (empty) session storage
        t1, t2 = server.tracks
        second = ctx.new_page()
        second.on("pageerror", lambda exc: errors.append(str(exc)))
        second.set_default_timeout(PAGE_TIMEOUT_MS)
        second.goto(f"/track/{t1}")
        expect(second.locator("#case-current")).to_contain_text(CASE[0])
        expect(second.locator("fieldset.just")).to_be_hidden()
        expect(second.locator("#attrs")).to_contain_text("cam-a")
        second.click("#similar")
        expect(second.locator("#results a.card").first).to_be_visible()
        assert second.locator("#error").inner_text().strip() == ""
        # mark this track, and the similar one from the list beside the results
        second.locator("#track-case .mark-same").click()
        expect(second.locator("#track-case")).to_contain_text("Marked: the same person.")
        second.locator("#similar-marks .mark-same").first.click()
        expect(second.locator("#similar-marks")).to_contain_text("Marked: the same person.")
        screenshot(second, "case-track.png", full_page=True)
        # a hold, placed with the page's own form, is listed here, then lifted with a reason
        second.fill("#hold-reason", "court order 2026/118")
        second.click("#hold-form button[type=submit]")
        expect(second.locator("#case-msg")).not_to_be_empty()
        second.reload()
        expect(second.locator("#track-case table.holds")).to_contain_text("court order 2026/118")
        second.locator("#track-case form.lift input").fill("the prosecutor released the footage")
        second.locator("#track-case form.lift button").click()
        expect(second.locator("#track-case")).to_contain_text("No legal hold.")

        # the case page, back in the first tab: the marks, the lifted hold, the searches; the export job
        first.goto(f"/case/{CASE[0]}")
        expect(first.locator("#case-marks")).to_contain_text(f"Track {t1}")
        expect(first.locator("#case-marks")).to_contain_text(f"Track {t2}")
        expect(first.locator("#case-holds")).to_contain_text("Lifted by inv")
        expect(first.locator("#case-searches")).to_contain_text("similar to track")
        first.uncheck("#export-clips")
        first.click("#export-same")
        expect(first.locator("#export-same")).to_be_disabled()
        expect(first.locator("#export-download")).to_be_visible(timeout=120_000)
        expect(first.locator("#export-status")).to_contain_text("SHA-256")
        with first.expect_download() as got:
            first.click("#export-download")
        assert got.value.suggested_filename.startswith("vigie-case-export-")
        screenshot(first, "case.png", full_page=True)
        first.reload()
        expect(first.locator("#case-exports")).to_contain_text(f"exported tracks {t1}, {t2}")
    finally:
        ctx.close()
    assert not errors, errors

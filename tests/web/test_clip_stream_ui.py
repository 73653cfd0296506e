"""A streamed clip (fragmented MP4 sent while it is rendered, issue 21) plays in Debian's chromium's own <video>
element, as the track page plays it: the first picture shows while the rest is still being rendered."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from browser_support import Server, log_in, served, vigie_app, vigie_store

pytestmark = pytest.mark.browser

ACCOUNT = ("op", "operator-pass-123")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from fakes import FakeBlurrer
    from media import test_clips as C

    tmp = tmp_path_factory.mktemp("clip-stream-ui")
    with pytest.MonkeyPatch.context() as mp, vigie_store(tmp / "var") as store:
        mp.setattr(C, "T0", datetime.now(timezone.utc) - timedelta(hours=2))
        store.upsert_cameras(C.site().cameras)
        ids = C.analyse(
            store, C.write_video(tmp / "recording.avi"), [C.summary(1, C.SUBJECT_SEQS, C.walker(100, C.SUBJECT_SEQS))]
        )
        app = vigie_app(store, C.site(), FakeBlurrer(paint="none"), {"operator": ACCOUNT})
        with served(app) as url:
            yield Server(url, store, track=ids[1])


@pytest.mark.timeout(120)
def test_the_browser_plays_a_streamed_clip(new_page, server):
    page = new_page()
    log_in(page, *ACCOUNT, "operator")
    play = page.evaluate(
        """t => fetch('/api/tracks/' + t + '/play', { method: 'POST', credentials: 'same-origin',
             headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ format: 'fmp4' }) }).then(r => r.json())""",
        server.track,
    )
    assert play["url"].startswith(f"/api/tracks/{server.track}/clip?play=")
    page.evaluate(
        """url => { const v = document.createElement('video'); v.id = 'streamed'; v.muted = true; v.src = url;
             document.body.append(v); v.play().catch(() => {}); }""",
        play["url"],
    )
    page.wait_for_function(
        "() => { const v = document.getElementById('streamed'); return v.readyState >= 2 && v.videoWidth === 320; }",
        timeout=60_000,
    )
    page.wait_for_function("() => document.getElementById('streamed').currentTime > 0.5", timeout=60_000)
    assert page.evaluate("() => document.getElementById('streamed').error") is None

"""A streamed clip (fragmented MP4 sent while it is rendered, issue 21) plays in Debian's chromium's own <video>
element, as the track page plays it: the first picture shows while the rest is still being rendered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
from browser_support import browser, log_in, new_page, served  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

ACCOUNT = ("op", "operator-pass-123")


@dataclass
class Server:
    url: str
    store: object
    track: int
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from argon2 import PasswordHasher
    from fakes import FakeBlurrer
    from media import test_clips as C

    from vigie.accounts import users
    from vigie.services import Services
    from vigie.store.sqlite import SQLiteStore
    from vigie.web.app import create_app

    tmp = tmp_path_factory.mktemp("clip-stream-ui")
    mp = pytest.MonkeyPatch()
    mp.setenv("VIGIE_DATA", str(tmp / "var"))
    mp.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    mp.setattr(C, "T0", datetime.now(timezone.utc) - timedelta(hours=2))
    store = SQLiteStore(tmp / "var")
    try:
        store.upsert_cameras(C.site().cameras)
        ids = C.analyse(
            store, C.write_video(tmp / "recording.avi"), [C.summary(1, C.SUBJECT_SEQS, C.walker(100, C.SUBJECT_SEQS))]
        )
        users.create_user(store, ACCOUNT[0], "operator", ACCOUNT[1])
        app = create_app(Services(store=store, site=C.site(), blurrer=FakeBlurrer(paint="none")))
        with served(app) as url:
            yield Server(url, store, ids[1])
    finally:
        store.close()
        mp.undo()


@pytest.mark.timeout(120)
def test_the_browser_plays_a_streamed_clip(new_page, server):
    page = new_page()
    log_in(page, *ACCOUNT, "operator", "/map")
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

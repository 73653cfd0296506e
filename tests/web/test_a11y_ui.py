"""WCAG 2.1 AA on every page: axe-core (npm, node_modules/axe-core) run in Debian's chromium, plus what
axe cannot judge by itself: a skip link that moves the focus to the main content, and a synopsis person
picked with the keyboard alone.

The app runs over a fresh store with the demo site's cameras, one account per role and a few tracks
(made by tests/builders.make_summary), so that the search results, the track page and the dashboard
show something to judge; every page is visited by the role that uses it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
from browser_support import assert_accessible, browser, log_in, new_page, served  # noqa: F401 (fixtures)
from builders import DEMO_CAMERA, DEMO_SITE, T0, jpeg_bytes, make_summary

pytestmark = [pytest.mark.browser]

ACCOUNTS = {
    "investigator": ("inv", "investigator-pass-1"),
    "operator": ("op", "operator-pass-123"),
    "auditor": ("aud", "auditor-pass-1234"),
    "admin": ("adm", "admin-pass-12345"),
    "supervisor": ("sup", "supervisor-pass-12"),
    "analyst": ("ana", "analyst-pass-1234"),
    "moderator": ("mod", "moderator-pass-12"),
}
HOME = {
    "operator": "/map",
    "investigator": "/map",
    "auditor": "/audit",
    "admin": "/admin",
    "supervisor": "/approvals",
    "analyst": "/crimemap",
    "moderator": "/moderation",
}


@dataclass
class Server:
    url: str
    store: object
    track: int
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from argon2 import PasswordHasher

    from vigie.accounts import users
    from vigie.config import load_site
    from vigie.privacy.blur import Blurrer
    from vigie.services import Services
    from vigie.store.sqlite import SQLiteStore
    from vigie.web.app import create_app

    data = tmp_path_factory.mktemp("a11y-ui") / "var"
    mp = pytest.MonkeyPatch()
    mp.setenv("VIGIE_DATA", str(data))
    mp.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    store = SQLiteStore(data)
    try:
        site = load_site(DEMO_SITE)
        store.upsert_cameras(site.cameras)
        for role, (name, password) in ACCOUNTS.items():
            users.create_user(store, name, role, password)
        recent = (datetime.now(timezone.utc) - timedelta(hours=1) - T0).total_seconds()
        aid = store.begin_analysis(DEMO_CAMERA, "/videos/esplanade.mp4", "a11y".ljust(64, "0"))
        store.add_tracks(
            aid, [make_summary(DEMO_CAMERA, k, start_s=recent + 30 * k, jpeg=jpeg_bytes()) for k in (1, 2, 3)]
        ).result()
        store.finish_analysis(aid, "complete", 10, 10)
        with store.read() as conn:
            track = conn.execute("SELECT MIN(id) FROM tracks WHERE analysis_id=?", (aid,)).fetchone()[0]
        app = create_app(Services(store=store, site=site, blurrer=Blurrer()))
        with served(app, "vigie-uvicorn-a11y") as url:
            yield Server(url, store, track)
    finally:
        store.close()
        mp.undo()


def login(page, role: str) -> None:
    name, password = ACCOUNTS[role]
    log_in(page, name, password, role, HOME[role])


def settle(page) -> None:
    """Let the page's own requests finish, so that axe judges what the user sees."""
    page.wait_for_load_state("networkidle")


PUBLIC = ["/", "/register", "/report", "/report/status", "/enrol"]
BY_ROLE = {
    "investigator": ["/map", "/search", "/alerts", "/dashboard", "/synopsis", "/track/{track}", "/trail/{track}"],
    "auditor": ["/audit"],
    "admin": ["/admin", "/password"],
    "supervisor": ["/approvals"],
    "analyst": ["/crimemap"],
    "moderator": ["/moderation"],
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", PUBLIC)
def test_public_pages_have_no_wcag_aa_violation(new_page, path):
    page = new_page()
    page.goto(path)
    settle(page)
    assert_accessible(page)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("role", sorted(BY_ROLE))
def test_every_page_of_a_role_has_no_wcag_aa_violation(new_page, server, role):
    page = new_page()
    login(page, role)
    for path in BY_ROLE[role]:
        page.goto(path.format(track=server.track))
        settle(page)
        assert_accessible(page)


@pytest.mark.timeout(120)
def test_search_results_have_no_wcag_aa_violation(new_page, server):
    page = new_page()
    login(page, "investigator")
    page.goto("/search")
    page.fill("#case_ref", "PV-2026-0142")
    page.fill("#purpose", "accessibility check")
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#results .card")
    settle(page)
    assert_accessible(page, "the search results")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("path", ["/", "/report", "/search"])
def test_the_skip_link_is_the_first_stop_and_moves_to_the_main_content(new_page, server, path):
    page = new_page()
    if path == "/search":
        login(page, "investigator")
    page.goto(path)
    settle(page)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main", "the first Tab stop is not the skip link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

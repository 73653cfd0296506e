"""The web UI in a real browser: Debian's chromium (/usr/bin/chromium) driven by Playwright.

The app (`create_app(Services(...))` with the real Blurrer and the demo site)
is served by uvicorn in a background thread on a free 127.0.0.1 port, over a
copy of the session's analysed demo (tests/conftest.py `analysed_demo`, the
real PETS09 footage as two cameras) on which `vigie adapt` has run: the
module's own copy of tests/web/conftest.py `adapted_demo` (browser_support's
`demo_data` and `server`). One account per role logs in through the login
form. Playwright never downloads a browser of its own: `make setup` installs
Debian's chromium (as root); the tests skip, saying so, where it is missing.

The pages are saved as the README's screenshots, docs/screenshots/*.png (1280x800).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from browser_support import DEMO_ACCOUNTS as ACCOUNTS  # one per role, as the demo server has them
from browser_support import demo_data, demo_server, log_in_as, non_local, screenshot, wait_until_ready  # noqa: F401 (fixtures)
from builders import DEMO_CAMERA

pytestmark = [pytest.mark.slow, pytest.mark.browser]

THUMBNAIL = re.compile(r"^/api/tracks/(\d+)/thumbnail$")  # the blurred-only picture endpoint


# --- helpers over the page ---------------------------------------------------------------------------
def wait_for_thumbnails(page, grid: str) -> list[dict]:
    """Scroll every card of `grid` into view (the images load lazily), wait until each picture has
    loaded or failed, and return per card: track id (from its link), image path and natural width."""
    cards = page.locator(f"{grid} a.card")
    for i in range(cards.count()):
        cards.nth(i).scroll_into_view_if_needed()
    page.wait_for_function(
        """sel => [...document.querySelectorAll(sel + ' a.card')].every(a => {
             const img = a.querySelector('img');
             return a.querySelector('.nothumb') || (img && img.complete); })""",
        arg=grid,
    )
    page.evaluate("() => window.scrollTo(0, 0)")
    return page.evaluate(
        """sel => [...document.querySelectorAll(sel + ' a.card')].map(a => {
             const img = a.querySelector('img');
             return {track: Number(a.getAttribute('href').split('/').pop()),
                     src: img ? new URL(img.currentSrc || img.src).pathname : null,
                     width: img ? img.naturalWidth : 0}; })""",
        grid,
    )


def assert_blurred_thumbnails(cards: list[dict], responses: dict[str, tuple[int, str]]) -> None:
    """Every card shows a picture, served (200, JPEG) by its track's blurred-only thumbnail endpoint."""
    assert cards
    for card in cards:
        assert card["width"] > 0, f"the thumbnail of track {card['track']} did not load: {card}"
        assert card["src"] == f"/api/tracks/{card['track']}/thumbnail", card
        status, ctype = responses[card["src"]]
        assert status == 200 and ctype.startswith("image/jpeg"), (card, status, ctype)


def record_images(page) -> dict[str, tuple[int, str]]:
    """path -> (status, content type) of every image response the page gets from now on."""
    seen: dict[str, tuple[int, str]] = {}

    def on_response(resp):
        if resp.request.resource_type == "image":
            seen[urlsplit(resp.url).path] = (resp.status, resp.headers.get("content-type", ""))

    page.on("response", on_response)
    return seen


def error_text(page) -> str:
    return page.locator("#error").inner_text().strip()


# --- investigator ----------------------------------------------------------------------------------------
def test_login_form_refuses_a_wrong_password_then_logs_in(new_page):
    from playwright.sync_api import expect

    page = new_page()
    page.goto("/")
    expect(page.locator("#login-form")).to_be_visible()
    page.fill("#username", ACCOUNTS["investigator"][0])
    screenshot(page, "login.png")
    page.fill("#password", "not-the-right-password")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#error")).to_have_text("invalid username or password")
    assert urlsplit(page.url).path == "/"
    page.fill("#password", ACCOUNTS["investigator"][1])
    page.click("#login-form button[type=submit]")
    page.wait_for_url("**/map")
    expect(page.locator("#who")).to_have_text("inv (investigator)")


def test_search_form_shows_blurred_thumbnails_of_people_in_red(new_page, server):
    from playwright.sync_api import expect

    page = new_page()
    log_in_as(page, ACCOUNTS, "investigator")
    page.goto("/search")
    images = record_images(page)
    page.select_option("#class", "person")
    page.select_option("#upper", "red")
    # Without a justification the search is refused, naming what is missing.
    page.click("#search-form button[type=submit]")
    expect(page.locator("#error")).to_contain_text("case reference")
    page.fill("#case_ref", "PV-2026-1120-041")
    page.fill("#purpose", "Witness: man in a red top near the esplanade fountain")
    page.click("#search-form button[type=submit]")
    expect(page.locator("#summary")).to_contain_text("track(s) match")
    assert error_text(page) == ""
    cards = wait_for_thumbnails(page, "#results")
    assert_blurred_thumbnails(cards, images)
    assert server.red_track in [c["track"] for c in cards]
    texts = page.locator("#results a.card").all_inner_texts()
    assert all("person" in t and "red" in t for t in texts), texts
    assert {c for t in texts for c in ("Esplanade", "Arènes") if c in t} == {"Esplanade", "Arènes"}
    screenshot(page, "search.png")


def test_search_by_clothing_offers_only_the_searchable_attributes(new_page, server):
    """Issue 18: the form lists the attributes this site lets investigators search by, and a search by one
    of them finds people of the demo (everyone in PETS09 wears long trousers)."""
    from playwright.sync_api import expect

    page = new_page()
    log_in_as(page, ACCOUNTS, "investigator")
    page.goto("/search")
    expect(page.locator("#with option")).to_have_count(2)  # any, long trousers
    assert page.locator("#with option").all_inner_texts() == ["any", "long trousers"]
    assert page.locator("#vehicle_type option").all_inner_texts() == ["any", "car", "bus", "truck", "van"]
    page.select_option("#class", "person")
    page.select_option("#with", "long_trousers")
    page.fill("#case_ref", "PV-2026-1120-041")
    page.fill("#purpose", "Witness: person in long trousers near the esplanade")
    page.click("#search-form button[type=submit]")
    expect(page.locator("#summary")).to_contain_text("track(s) match")
    assert error_text(page) == ""
    texts = page.locator("#results a.card").all_inner_texts()
    assert texts and all("person" in t for t in texts), texts


def test_plain_words_are_read_back_into_the_form_before_searching(new_page, server):
    """Issue 18: a witness's words become filters the person sees and can correct; words about the
    person are refused with the reason, and nothing of them reaches the form."""
    from playwright.sync_api import expect

    page = new_page()
    log_in_as(page, ACCOUNTS, "investigator")
    page.goto("/search")
    wait_until_ready(page)  # the search form's handlers are attached once the page knows who is logged in
    page.fill("#text", "un homme en veste rouge")
    page.click("#read-text")
    expect(page.locator("#readback .error")).to_contain_text("vêtements")
    assert page.input_value("#upper") == ""
    page.fill("#text", "veste rouge, jean, vers la droite, zorglub")
    page.click("#read-text")
    expect(page.locator("#readback li").first).to_be_visible()
    expect(page.locator("#readback")).to_contain_text("zorglub")
    assert page.input_value("#upper") == "red" and page.input_value("#lower") == "blue"
    assert page.input_value("#with") == "long_trousers"
    page.select_option("#lower", "")  # the person corrects a filter before searching
    page.fill("#case_ref", "PV-2026-1120-041")
    page.fill("#purpose", "Witness: red jacket, heading right")
    page.click("#search-form button[type=submit]")
    expect(page.locator("#summary")).to_contain_text("track(s) match")
    assert error_text(page) == ""


def investigator_on(new_page, path: str):
    """An investigator's page with the case reference and purpose given (kept for the tab), at `path`."""
    page = new_page()
    log_in_as(page, ACCOUNTS, "investigator")
    page.goto("/search")
    page.fill("#case_ref", "PV-2026-1120-041")
    page.fill("#purpose", "Witness: man in a red top near the esplanade fountain")
    page.goto(path)
    return page


def test_track_page_shows_attributes_and_finds_similar_people(new_page, server):
    from playwright.sync_api import expect

    tid = server.red_track
    page = investigator_on(new_page, f"/track/{tid}")
    images = record_images(page)
    expect(page.locator("#title")).to_have_text(f"Track #{tid}")
    expect(page.locator("#attrs tr").first).to_be_visible()
    attrs = dict(zip(page.locator("#attrs th").all_inner_texts(), page.locator("#attrs td").all_inner_texts()))
    assert attrs["Track id"] == str(tid) and attrs["Class"] == "person" and attrs["Camera"] == DEMO_CAMERA, attrs
    assert "red" in attrs["Upper body"], attrs
    # on the site's clock, labelled (the demo site is in Europe/Paris)
    assert (
        "Paris" in attrs["First seen"] and "UTC" not in attrs["First seen"] and attrs["Recording"] == "esplanade.mp4"
    ), attrs  # a file name, no server path
    page.wait_for_function(
        "() => { const i = document.getElementById('thumb'); return i.complete && i.naturalWidth > 0; }"
    )
    page.click("#similar")
    expect(page.locator("#summary")).to_contain_text("candidate(s), ranked by appearance")
    cards = wait_for_thumbnails(page, "#results")
    assert_blurred_thumbnails(cards, images)
    assert tid not in [c["track"] for c in cards]
    # The man in the red and navy jacket comes back in the recording's second half: the "Arènes" camera.
    first = page.locator("#results a.card").first.inner_text()
    assert "Arènes" in first and "red" in first, first
    screenshot(page, "track.png", full_page=True)  # the attributes and the look-alikes below them


def test_trail_page_draws_the_sightings_on_the_map(new_page, server):
    from playwright.sync_api import expect

    tid = server.red_track
    page = investigator_on(new_page, f"/trail/{tid}")
    items = page.locator("#sightings li")
    expect(items.nth(1)).to_be_visible()
    texts = items.all_inner_texts()
    assert any(f"#{tid}" in t and "(query)" in t for t in texts), texts
    assert any("nimes-esplanade-01" in t for t in texts) and any("nimes-arenes-01" in t for t in texts), texts
    # every sighting has its time, on the site's clock and labelled (issue 20: one clock)
    assert all(re.search(r"\d{2}/\d{2}/2026 \d{2}:\d{2} \(Paris time\)", t) for t in texts), texts
    # Leaflet: one numbered marker per sighting and the red line through them, on a map of real size.
    box = page.locator("#map.leaflet-container").bounding_box()
    assert box and box["width"] > 300 and box["height"] > 200, box
    expect(page.locator("#map .leaflet-marker-icon.numbered")).to_have_count(len(texts))
    assert sorted(page.locator("#map .numbered .badge").all_inner_texts(), key=int) == [
        str(i) for i in range(1, len(texts) + 1)
    ]
    expect(page.locator("#map path.leaflet-interactive")).to_have_count(1)
    assert page.locator("#map path.leaflet-interactive").get_attribute("stroke") == "#d33"
    assert error_text(page) == ""
    # Each marker's tooltip says which sighting it is and when.
    page.locator("#map .numbered").last.hover()
    expect(page.locator(".leaflet-tooltip")).to_contain_text(
        re.compile(r"^2\. #\d+ nimes-\S+ \d{2}/\d{2}/2026 \d{2}:\d{2} \(Paris time\)")
    )
    screenshot(page, "trail.png", full_page=True)  # the map and the list of sightings below it


def test_camera_map_shows_the_cameras_and_their_latest_tracks(new_page, server):
    from playwright.sync_api import expect

    page = investigator_on(new_page, "/map")
    images = record_images(page)
    expect(page.locator(".camlist li").first).to_be_visible()
    with server.store.read() as conn:
        stored = [r[0] for r in conn.execute("SELECT id FROM cameras ORDER BY id")]
    buttons = page.locator(".camlist button").all_inner_texts()
    assert len(buttons) == len(stored) >= 2 and all(any(f"({c})" in b for b in buttons) for c in stored), (
        buttons,
        stored,
    )
    expect(page.locator("#map.leaflet-container path.leaflet-interactive")).to_have_count(
        len(stored)
    )  # one circle each
    page.locator(".camlist button", has_text=DEMO_CAMERA).click()
    expect(page.locator("#camera-title")).to_contain_text(DEMO_CAMERA)
    expect(page.locator("#tracks a.card").first).to_be_visible()
    cards = wait_for_thumbnails(page, "#tracks")
    assert_blurred_thumbnails(cards, images)
    assert all("Esplanade" in t for t in page.locator("#tracks a.card").all_inner_texts())
    screenshot(page, "map.png")


# --- without login -------------------------------------------------------------------------------------------
def test_public_register_needs_no_login(new_page, server):
    from playwright.sync_api import expect

    page = new_page()
    page.goto("/register")
    expect(page.locator("h1")).to_contain_text("camera register")
    rows = page.locator("table tr")
    expect(rows).to_have_count(1 + len(server.site.cameras))
    text = page.locator("table").inner_text()
    for cam in server.site.cameras:
        assert cam.id in text and cam.purpose in text
    assert page.request.get("/register.json").json()["total"] == len(server.site.cameras)
    assert page.request.get("/api/me").status == 401  # the register is public, nothing else is
    screenshot(page, "register.png")


# --- the other roles -----------------------------------------------------------------------------------------
def test_operator_is_refused_similar_and_trail_with_a_visible_message(new_page, server):
    from playwright.sync_api import expect

    tid = server.red_track
    page = new_page()
    log_in_as(page, ACCOUNTS, "operator")
    images = record_images(page)
    # Operators search the last 24 hours only: the demo footage (20 November 2026, 13:00) is older.
    page.goto("/search")
    wait_until_ready(page)  # the search form's handlers are attached once the page knows who is logged in
    page.select_option("#class", "person")
    page.click("#search-form button[type=submit]")
    expect(page.locator("#summary")).to_have_text("0 track(s) match; showing 0.")
    page.goto(f"/track/{tid}")
    expect(page.locator("#error")).to_contain_text("last 24 hours")
    # Investigators' tools are not offered to operators, and the server refuses them anyway.
    expect(page.locator("#similar")).to_be_hidden()
    expect(page.locator("#investigate")).to_be_hidden()
    assert page.request.get(f"/api/similar/{tid}").status == 403
    page.goto(f"/trail/{tid}")
    expect(page.locator("#error")).to_contain_text("does not have permission 'trail'")
    expect(page.locator("#sightings li")).to_have_count(0)
    assert not [p for p, (status, _) in images.items() if THUMBNAIL.match(p) and status == 200], images
    page.click("#logout")
    page.wait_for_url(f"{server.url}/")
    assert page.request.get("/api/me").status == 401


def test_auditor_gets_no_media(new_page, server):
    from playwright.sync_api import expect

    tid = server.red_track
    page = new_page()
    log_in_as(page, ACCOUNTS, "auditor")
    images = record_images(page)
    # The camera list is public knowledge; what the cameras saw is not.
    page.goto("/map")
    expect(page.locator(".camlist li").first).to_be_visible()
    page.locator(".camlist button", has_text=DEMO_CAMERA).click()
    expect(page.locator("#error")).to_contain_text("does not have permission 'search'")
    expect(page.locator("#tracks a.card")).to_have_count(0)
    page.goto("/search")
    wait_until_ready(page)  # the search form's handlers are attached once the page knows who is logged in
    page.click("#search-form button[type=submit]")
    expect(page.locator("#error")).to_contain_text("does not have permission 'search'")
    page.goto(f"/track/{tid}")
    expect(page.locator("#error")).to_contain_text("does not have permission 'view_media_blurred'")
    expect(page.locator("#attrs tr")).to_have_count(0)
    assert page.evaluate("() => document.getElementById('thumb').naturalWidth") == 0
    assert page.request.get(f"/api/tracks/{tid}/thumbnail").status == 403
    assert not [p for p, (status, _) in images.items() if THUMBNAIL.match(p) and status == 200], images


# --- the case tools: clip, unblurred view, export, legal hold ---------------------------------------------------
def test_investigator_plays_the_blurred_clip_asks_to_unblur_exports_and_holds(new_page, server):
    import io
    import json
    import zipfile

    from playwright.sync_api import expect

    tid = server.red_track
    page = investigator_on(new_page, f"/track/{tid}")
    expect(page.locator("#attrs tr").first).to_be_visible()
    # The blurred clip is streamed as fragmented MP4 while it is rendered (issue 21), then cached.
    with page.expect_response(re.compile(rf"/api/tracks/{tid}/clip"), timeout=240_000) as got:
        page.click("#load-clip")
    # The video element asks for byte ranges (it can then seek): its first request is the clip from byte 0.
    assert got.value.status in (200, 206) and got.value.headers["content-type"] == "video/mp4"
    assert got.value.status == 200 or got.value.headers["content-range"].startswith("bytes 0-")
    page.wait_for_function(
        "() => { const v = document.getElementById('clip'); return v.readyState >= 2 && v.videoWidth > 0; }",
        timeout=30_000,
    )
    assert "unblurred" not in page.locator("#clip").get_attribute("src")
    screenshot(page, "track-clip.png")

    # Unblurred: asked for with a reason, approved by a supervisor (issue 19: tests/web/test_accounts_ui.py walks
    # the supervisor's page), shown with a banner, recorded.
    page.click("#unblur-form button[type=submit]")
    expect(page.locator("#error")).to_contain_text("reason")
    page.fill("#unblur-reason", "The witness describes a logo on the jacket")
    page.click("#unblur-form button[type=submit]")
    expect(page.locator("#case-msg")).to_contain_text("a supervisor must approve it")
    from vigie.accounts import approvals, users

    request = approvals.listing(server.store)[0][-1]
    approvals.decide(server.store, users.get_user(server.store, "sup"), request["id"], True, None, 30)
    page.reload()
    expect(page.locator("#unblurred-banner")).to_contain_text("UNBLURRED view for case PV-2026-1120-041")
    page.wait_for_function(
        "() => { const i = document.getElementById('thumb'); return i.src.includes('unblurred=true') && i.complete && i.naturalWidth > 0; }"
    )
    from vigie.audit.log import query as audit_query

    assert (
        audit_query(server.store, action="unblur_request", user="inv")[-1]
        .details_dict()["reason"]
        .startswith("The witness")
    )
    assert audit_query(server.store, action="view_unblurred", user="inv")

    # Export: a ZIP with a manifest naming the case, downloaded by the browser.
    with page.expect_download(timeout=300_000) as dl:
        page.click("#export-form button[type=submit]")
    data = open(dl.value.path(), "rb").read()
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))
    assert manifest["case_ref"] == "PV-2026-1120-041" and [t["track_id"] for t in manifest["tracks"]] == [tid]
    expect(page.locator("#case-msg")).to_contain_text("SHA-256")

    # Legal hold: kept past retention.
    page.fill("#hold-reason", "Complaint 2026/1120/41")
    page.click("#hold-form button[type=submit]")
    expect(page.locator("#case-msg")).to_contain_text("Legal hold #")
    assert error_text(page) == ""


# --- the auditor's and the admin's pages ------------------------------------------------------------------------
def test_auditor_filters_exports_and_verifies_the_log(new_page, server):
    from playwright.sync_api import expect

    page = new_page()
    log_in_as(page, ACCOUNTS, "auditor")
    expect(page.locator("#entries tr").nth(1)).to_be_visible()
    page.select_option("#f-action", "login")
    page.click("#audit-form button[type=submit]")
    # Wait for the filtered page to replace the unfiltered one (its rows are visible until then); a filter
    # that let anything else through times out here.
    page.wait_for_function("""() => { const cells = [...document.querySelectorAll('#entries tr td:nth-child(5)')];
                                      return cells.length > 0 && cells.every((td) => td.textContent.trim() === 'login'); }""")
    actions = page.locator("#entries tr td:nth-child(5)").all_inner_texts()
    assert actions and set(actions) == {"login"}, actions
    page.click("#verify")
    expect(page.locator("#verify-result")).to_contain_text("Chain intact")
    # Issue 19 (finding 6): the chain is checked against its anchors, kept outside the database
    from vigie.audit.anchoring import anchor

    record = anchor(server.store, "daily")  # as the server does each day
    page.click("#verify")
    expect(page.locator("#verify-result")).to_contain_text(f"the newest records entry {record['seq']})")
    expect(page.locator("#verify-result")).to_contain_text("Checked against")
    with page.expect_download() as dl:
        page.click("#export-csv")
    lines = open(dl.value.path(), encoding="utf-8").read().splitlines()
    assert lines[0].startswith("seq,at,user,role,action") and all(",login," in x for x in lines[1:]), lines[:3]
    page.select_option("#f-action", "")
    page.click("#audit-form button[type=submit]")
    expect(page.locator("#entries tr").nth(1)).to_be_visible()
    screenshot(page, "audit.png")


def test_admin_creates_an_account_and_shortens_a_retention(new_page, server):
    from playwright.sync_api import expect

    page = new_page()
    log_in_as(page, ACCOUNTS, "admin")
    expect(page.locator("#users tr").nth(1)).to_be_visible()
    page.fill("#new-username", "c.durand")
    page.select_option("#new-role", "auditor")
    page.click("#user-form button[type=submit]")
    # issue 19: a one-time link, never a password (tests/web/test_accounts_ui.py walks the enrolment)
    expect(page.locator("#secret")).to_contain_text("Created c.durand (auditor). Enrolment link")
    token = page.locator("#secret").inner_text().split("/enrol#")[1].split()[0]
    other = new_page()
    r = other.request.post("/api/enrol", data={"token": token, "new_password": "c.durand's passphrase"})
    assert r.status == 200
    assert other.request.post("/api/login", data={"username": "c.durand", "password": "c.durand's passphrase"}).ok
    row = page.locator("#retention tr", has_text="nimes-arenes-01")
    row.locator("input").fill("12")
    with page.expect_response(lambda r: r.url.endswith("/api/settings") and r.request.method == "PUT") as saved:
        row.locator("button").click()
    assert saved.value.status == 200
    expect(page.locator("#retention tr", has_text="nimes-arenes-01").locator("input")).to_have_value("12")
    cams = {c["id"]: c for c in other.request.get("/register.json").json()["cameras"]}
    assert cams["nimes-arenes-01"]["retention_days"] == 12
    assert page.request.get(f"/api/tracks/{server.red_track}/thumbnail").status == 403  # admins see no media
    screenshot(page, "admin.png")


# --- alerts -------------------------------------------------------------------------------------------------------
def test_an_alert_appears_live_and_the_operator_validates_it(new_page, server):
    from datetime import datetime, timedelta, timezone

    import cv2
    import numpy as np
    from playwright.sync_api import expect

    from vigie.alerts import store as alerts
    from vigie.audit.log import query as audit_query
    from vigie.privacy.blur import Blurrer
    from vigie.rules.base import Event

    page = new_page()
    log_in_as(page, ACCOUNTS, "operator")
    page.goto("/alerts")
    expect(page.locator("#feed-state")).to_have_text("live")
    # A rule fires while the page is open (as `vigie run` would store it): a blurred snapshot goes with it.
    track = server.store.get_track(server.red_track)
    jpeg = server.store.thumbnail(server.red_track)  # opened: sealed at rest
    blurred, _ = Blurrer().blur_crop(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR), "person")
    # now: the operator sees the alerts of the last 24 hours only (issue 19); the demo's footage is older
    assert track is not None
    start = datetime.now(timezone.utc) - timedelta(minutes=1)
    e = Event(
        "fountain-zone",
        "zone_intrusion",
        DEMO_CAMERA,
        start,
        start + timedelta(seconds=6),
        (server.red_track,),
        (380.0, 420.0),
        {"seconds_inside": 6.0},
    )
    [aid] = alerts.record(
        server.store, [e], snapshots={alerts.event_key(e): cv2.imencode(".jpg", blurred)[1].tobytes()}
    )
    card = page.locator(f'[data-alert="{aid}"]')
    expect(card).to_be_visible(timeout=10_000)
    expect(card).to_contain_text("zone intrusion · fountain-zone")
    page.wait_for_function(
        f"() => {{ const i = document.querySelector('[data-alert=\"{aid}\"] img'); return i && i.complete && i.naturalWidth > 0; }}"
    )
    screenshot(page, "alerts.png")
    card.locator("input.note").fill("seen on the live view")
    card.locator("button.validate").click()
    expect(page.locator(f'[data-alert="{aid}"]')).to_have_count(0)  # the list shows what waits for a decision
    page.select_option("#status", "validated")
    expect(page.locator(f'[data-alert="{aid}"] .state')).to_contain_text("validated by op")
    assert alerts.get_alert(server.store, aid)["status"] == "validated"
    entry = audit_query(server.store, action="alert_decision", user="op")[-1]
    assert entry.details_dict()["alert_id"] == aid and entry.details_dict()["note"] == "seen on the live view"
    assert error_text(page) == ""


def test_dashboard_shows_counts_heat_maps_and_stream_gaps(new_page, server):
    """Investigators see the demo's analysed footage (dated 2026-11-20; operators see the last 24 hours), with a
    case reference and a purpose (issue 19)."""
    from playwright.sync_api import expect

    from vigie.times import now_iso

    # a drop of the live stream, as `vigie run` records it
    server.store.write(
        lambda conn: conn.execute(
            "INSERT INTO stream_gaps (camera_id, start, end, reason, recorded_at) VALUES (?,?,?,?,?)",
            (
                DEMO_CAMERA,
                "2026-11-20T13:00:41.200000Z",
                "2026-11-20T13:00:45.350000Z",
                "read failed: Connection reset by peer",
                now_iso(),
            ),
        )
    ).result()
    page = investigator_on(new_page, "/dashboard")
    page.select_option("#camera", DEMO_CAMERA)
    expect(page.locator("#lines")).to_contain_text("walkway-count")
    lines = page.locator("#lines tr").nth(1).locator("td")
    assert int(lines.nth(1).inner_text()) + int(lines.nth(2).inner_text()) > 0  # people crossed the walkway
    expect(page.locator("#hourly")).to_contain_text("person")
    expect(page.locator("[data-gap]")).to_contain_text("Connection reset by peer")
    expect(page.locator("[data-gap] td").nth(2)).to_have_text("4.2")
    for img in ("heat-walk", "heat-stop"):
        page.wait_for_function(
            f"() => {{ const i = document.getElementById('{img}'); return i.complete && i.naturalWidth > 0; }}"
        )
    screenshot(page, "dashboard.png", full_page=True)
    assert error_text(page) == ""


# --- the synopsis ---------------------------------------------------------------------------------------------------
def test_a_click_on_a_synopsis_object_opens_its_track_at_that_moment(new_page, server):
    """An investigator (the demo is dated 2026-11-20: operators see the last 24 hours) builds a synopsis of the
    esplanade's people, pauses it on a busy frame and clicks on one of them: its track opens, its clip shown at
    the moment the synopsis showed."""
    from datetime import datetime
    from urllib.parse import parse_qs
    from zoneinfo import ZoneInfo

    from playwright.sync_api import expect

    page = investigator_on(new_page, "/synopsis")
    page.select_option("#camera", DEMO_CAMERA)
    # typed on the site's clock (Europe/Paris, UTC+1 in November): 13:00 to 13:02 UTC
    page.fill("#from", "20/11/2026 14:00")
    page.fill("#to", "20/11/2026 14:02")
    page.select_option("#class", "person")
    page.fill("#length", "20")
    page.click("#synopsis-form button[type=submit]")
    expect(page.locator("#progress-box")).to_be_visible()
    page.wait_for_function(
        "() => { const v = document.getElementById('synopsis-video'); return v.readyState >= 2 && v.videoWidth > 0; }",
        timeout=300_000,
    )
    assert error_text(page) == ""
    expect(page.locator("#status")).to_have_text("Ready.")
    sid = parse_qs(urlsplit(page.url).query)["id"][0]
    index = page.evaluate("async id => (await fetch('/api/synopses/' + id + '/index')).json()", sid)
    assert index["camera"] == DEMO_CAMERA and index["objects"]
    expect(page.locator("#objects tr[data-track]")).to_have_count(len(index["objects"]))
    expect(page.locator(f'#mine tr[data-synopsis="{sid}"]')).to_contain_text("ready")

    # The video in view (the form above it grew with issue 20's hints and case banner): the mouse reaches only
    # what is on screen. Where the picture is drawn: the element's box, the video scaled to fit, centred.
    page.locator("#synopsis-video").scroll_into_view_if_needed()
    geo = page.evaluate("""() => { const v = document.getElementById('synopsis-video'), r = v.getBoundingClientRect();
        return {x: r.left + v.clientLeft, y: r.top + v.clientTop, w: v.clientWidth, h: v.clientHeight, vw: v.videoWidth, vh: v.videoHeight}; }""")
    scale = min(geo["w"] / geo["vw"], geo["h"] / geo["vh"])
    ox, oy = (geo["w"] - geo["vw"] * scale) / 2, (geo["h"] - geo["vh"] * scale) / 2

    def on_screen(x, y):
        return geo["x"] + ox + x * geo["vw"] / index["width"] * scale, geo["y"] + oy + y * geo["vh"] / index[
            "height"
        ] * scale

    def area(b):
        return (b[2] - b[0]) * (b[3] - b[1])

    # The busiest frame's objects whose centre is theirs (the smallest box holding it) and clear of the control bar;
    # of those, the one with the shortest track (its clip is rendered below).
    lengths = {
        o["track"]: datetime.fromisoformat(o["original_end"].replace("Z", "+00:00"))
        - datetime.fromisoformat(o["original_start"].replace("Z", "+00:00"))
        for o in index["objects"]
    }
    choices = []
    for j in sorted(range(index["frames"]), key=lambda j: -len(index["frame_objects"][j]))[:20]:
        for o in index["frame_objects"][j]:
            cx, cy = (o["box"][0] + o["box"][2]) / 2, (o["box"][1] + o["box"][3]) / 2
            holding = [
                x
                for x in index["frame_objects"][j]
                if x["box"][0] <= cx <= x["box"][2] and x["box"][1] <= cy <= x["box"][3]
            ]
            if (
                min(holding, key=lambda x: area(x["box"]))["track"] == o["track"]
                and on_screen(cx, cy)[1] < geo["y"] + geo["h"] - 60
            ):
                choices.append((lengths[o["track"]], -len(index["frame_objects"][j]), j, o, (cx, cy)))
        if choices:
            break
    assert choices, "no object of the busiest frames can be clicked on"
    _, _, frame, obj, (cx, cy) = min(choices, key=lambda c: c[:3])
    assert len(index["frame_objects"][frame]) >= 3
    page.evaluate(
        """t => new Promise(done => { const v = document.getElementById('synopsis-video'); v.pause();
        v.addEventListener('seeked', done, { once: true }); v.currentTime = t; })""",
        (frame + 0.5) / index["fps"],
    )
    page.wait_for_function(
        "() => { const v = document.getElementById('synopsis-video'); return v.paused && v.readyState >= 3 && !v.seeking; }"
    )
    x, y = on_screen(cx, cy)
    page.mouse.move(x - 3, y)  # two moves: the hint follows mousemove events, and the first may come before the frame
    page.mouse.move(x, y, steps=3)
    expect(page.locator("#hint")).to_contain_text(f"#{obj['track']} person at ", timeout=15_000)
    page.wait_for_timeout(1000)  # the player's loading ring, after the seek, fades out
    screenshot(page, "synopsis.png", full_page=True)

    # the keyboard's way (issue 20): the paused frame's objects are listed as links to what a click opens
    from urllib.parse import quote

    expect(page.locator("#on-screen a")).to_have_count(len(index["frame_objects"][frame]))
    pick = page.locator(f'#on-screen a[href="/track/{obj["track"]}?t={quote(obj["time"], safe="")}"]')
    expect(pick).to_have_count(1)
    pick.focus()
    expect(pick).to_be_focused()

    # focusing the list may have scrolled the page: the object's point on screen, measured again
    page.locator("#synopsis-video").scroll_into_view_if_needed()
    box = page.locator("#synopsis-video").bounding_box()
    x, y = (
        x + box["x"] + page.evaluate("document.getElementById('synopsis-video').clientLeft") - geo["x"],
        y + box["y"] + page.evaluate("document.getElementById('synopsis-video').clientTop") - geo["y"],
    )
    page.mouse.click(x, y)
    page.wait_for_url(re.compile(rf"/track/{obj['track']}\?t="))
    assert parse_qs(urlsplit(page.url).query)["t"] == [obj["time"]]
    expect(page.locator("#attrs tr").first).to_be_visible()
    # the clip is loaded by itself and shown at that moment: (t - first point) + its lead-in, give or take a frame
    shown = datetime.fromisoformat(obj["time"].replace("Z", "+00:00")).astimezone(ZoneInfo("Europe/Paris"))
    expect(page.locator("#clip-status")).to_contain_text(f"{shown:%d/%m/%Y %H:%M:%S} (", timeout=300_000)
    assert "Paris" in page.locator("#clip-status").inner_text()
    first = server.store.track_points(obj["track"])[0]
    lead = min(first["seq"], 7) / 7  # the demo camera films at 7 fps; a track seen from the recording's start has less
    wanted = (
        datetime.fromisoformat(obj["time"].replace("Z", "+00:00"))
        - datetime.fromisoformat(first["t"].replace("Z", "+00:00"))
    ).total_seconds() + lead
    assert abs(page.evaluate("() => document.getElementById('clip').currentTime") - wanted) < 0.3
    assert error_text(page) == ""


# --- last: what left the machine ------------------------------------------------------------------------------
def test_no_page_asked_anything_of_another_host(browser, server):
    if not server.requests:
        pytest.skip("no page was opened: run it after the other tests of this module")
    assert not non_local(server.requests), non_local(server.requests)


# --- every page in French and in English -------------------------------------------------------------------
def _pages_of(server) -> dict[str, list[tuple[str, str | None]]]:
    """Per role: (page, a selector that shows its data once loaded), with this module's data behind them."""
    red = server.red_track
    media = [
        ("/map", ".camlist li"),
        ("/search", None),
        (f"/track/{red}", "#attrs tr"),
        (f"/trail/{red}", "#sightings li"),
        ("/alerts", None),
        ("/dashboard", None),  # it may open on a period without data (its empty state)
        ("/synopsis", None),
        ("/playback", None),
        ("/wall", None),
        ("/password", None),
    ]
    return {
        "investigator": media,
        "operator": [p for p in media if not p[0].startswith(("/track", "/trail"))],
        "auditor": [("/audit", "#entries tr")],
        "admin": [("/admin", "#users tr")],
        "supervisor": [("/approvals", None)],
    }


PUBLIC_PAGES = ["/", "/register", "/report", "/report/status", "/enrol"]


def _settle(page, ready: str | None) -> None:
    if ready:
        page.wait_for_selector(ready)
    if "/alerts" not in page.url:  # the alerts page keeps its live feed open: never idle
        page.wait_for_load_state("networkidle")


@pytest.mark.timeout(600)
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_page_in_each_language_shows_no_text_of_the_other(new_page, server, lang):
    """Every page, public and of each role, with this module's data (tracks, trail, audit entries, accounts):
    <html lang> is right and no visible text, placeholder, title or label is in the other language. In French,
    an English message that has a French translation (whole, or with its {fields} filled) fails the test."""
    from browser_support import wrong_language_texts

    found = {}
    page = new_page(lang)
    for path in PUBLIC_PAGES:
        page.goto(path)
        _settle(page, None)
        found[path] = wrong_language_texts(page, lang)
    for role, pages in _pages_of(server).items():
        page = new_page(lang)
        log_in_as(page, ACCOUNTS, role, lang)
        for path, ready in pages:
            page.goto(path)
            _settle(page, ready)
            if path == "/search":  # its results: the cards' words come from the data (an operator sees 24 hours)
                if role == "investigator":
                    page.fill("#case_ref", "PV 2026/1142")
                    page.fill("#purpose", "Vol à l'arraché, esplanade")
                page.click("#search-form button[type=submit]")
                page.wait_for_function("() => /\\d/.test(document.getElementById('summary').textContent)")
                if role == "investigator":
                    page.wait_for_selector("#results a.card")
            found[f"{role} {path}"] = wrong_language_texts(page, lang)
    assert {k: v for k, v in found.items() if v} == {}


@pytest.mark.timeout(300)
def test_the_switch_keeps_the_choice_and_a_french_site_starts_in_french(new_page, server):
    """No choice yet: the site file's language (the demo is French). FR / EN switches and the choice holds on the
    next pages; screenshots of the main pages in French for the README."""
    from playwright.sync_api import expect

    page = new_page(None)
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#login-form button[type=submit]")).to_have_text("Se connecter")
    page.click("a.lang-link[hreflang=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#login-form button[type=submit]")).to_have_text("Log in")
    page.goto("/register")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.click("a.lang-link[hreflang=fr]")
    expect(page.locator("h1")).to_contain_text("Registre public des caméras")

    page = new_page("fr")
    log_in_as(page, ACCOUNTS, "investigator", "fr")
    expect(page.locator("#logout")).to_have_text("Se déconnecter")
    page.goto("/search")
    page.select_option("#upper", "red")
    page.fill("#case_ref", "PV 2026/1142")
    page.fill("#purpose", "Vol à l'arraché, esplanade")
    page.click("#search-form button[type=submit]")
    expect(page.locator("#summary")).to_contain_text("piste(s) trouvée(s)")
    expect(page.locator("#results a.card").first).to_be_visible()
    screenshot(page, "fr-search.png")
    page.goto(f"/track/{server.red_track}")
    expect(page.locator("#attrs")).to_contain_text("Vu pour la première fois")
    screenshot(page, "fr-track.png")
    page.goto("/map")
    page.wait_for_selector(".camlist li")
    screenshot(page, "fr-map.png")
    page.goto("/synopsis")
    expect(page.locator("h1")).to_have_text("Synthèse vidéo")
    screenshot(page, "fr-synopsis.png")
    page.goto("/report")
    expect(page.locator("h1")).to_have_text("Signaler un problème dans l'espace public")
    screenshot(page, "fr-report.png")

"""WCAG 2.1 AA on every page: axe-core (npm, node_modules/axe-core) run in Debian's chromium, plus what
axe cannot judge by itself: a skip link that moves the focus to the main content, and a synopsis person
picked with the keyboard alone.

The app runs over a fresh store with the demo site's cameras, one account per role and a few tracks
(made by tests/builders.make_summary), so that the search results, the track page and the dashboard
show something to judge; every page is visited by the role that uses it."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from browser_support import Server, assert_accessible, log_in_as, screenshot, served, vigie_app, vigie_store
from builders import DEMO_CAMERA, DEMO_SITE, T0, jpeg_bytes, make_summary

pytestmark = [pytest.mark.browser]
expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: run `make setup`").expect

ACCOUNTS = {
    "investigator": ("inv", "investigator-pass-1"),
    "operator": ("op", "operator-pass-123"),
    "auditor": ("aud", "auditor-pass-1234"),
    "admin": ("adm", "admin-pass-12345"),
    "supervisor": ("sup", "supervisor-pass-12"),
    "analyst": ("ana", "analyst-pass-1234"),
    "moderator": ("mod", "moderator-pass-12"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from vigie.config import load_site
    from vigie.privacy.blur import Blurrer

    with vigie_store(tmp_path_factory.mktemp("a11y-ui") / "var") as store:
        site = load_site(DEMO_SITE)
        store.upsert_cameras(site.cameras)
        recent = (datetime.now(timezone.utc) - timedelta(hours=1) - T0).total_seconds()
        aid = store.begin_analysis(DEMO_CAMERA, "/videos/esplanade.mp4", "a11y".ljust(64, "0"))
        store.add_tracks(
            aid, [make_summary(DEMO_CAMERA, k, start_s=recent + 30 * k, jpeg=jpeg_bytes()) for k in (1, 2, 3)]
        ).result()
        store.finish_analysis(aid, "complete", 10, 10)
        with store.read() as conn:
            track = conn.execute("SELECT MIN(id) FROM tracks WHERE analysis_id=?", (aid,)).fetchone()[0]
        with served(vigie_app(store, site, Blurrer(), ACCOUNTS), "vigie-uvicorn-a11y") as url:
            yield Server(url, store, track=track)


def settle(page) -> None:
    """Let the page's own requests finish, so that axe judges what the user sees."""
    page.wait_for_load_state("networkidle")


PUBLIC = ["/", "/register", "/report", "/report/status", "/enrol"]
BY_ROLE = {
    "investigator": [
        "/map",
        "/search",
        "/alerts",
        "/dashboard",
        "/synopsis",
        "/playback",
        "/wall",
        "/track/{track}",
        "/trail/{track}",
    ],
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
    log_in_as(page, ACCOUNTS, role)
    for path in BY_ROLE[role]:
        page.goto(path.format(track=server.track))
        settle(page)
        assert_accessible(page)


@pytest.mark.timeout(120)
def test_search_results_have_no_wcag_aa_violation(new_page, server):
    page = new_page()
    log_in_as(page, ACCOUNTS, "investigator")
    page.goto("/search")
    settle(page)  # the page's scripts fill the case fields from the session (GET /api/case) when they load: not after
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
        log_in_as(page, ACCOUNTS, "investigator")
    page.goto(path)
    settle(page)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main", "the first Tab stop is not the skip link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


# --- errors beside their field, required fields, an expired session (issue 20, point 5) ------------------------
@pytest.mark.timeout(120)
def test_a_refusal_is_shown_in_plain_words_beside_its_field(new_page, server):
    page = new_page()
    log_in_as(page, ACCOUNTS, "investigator")
    page.goto(f"/track/{server.track}")
    settle(page)
    page.fill("#hold-reason", "court order 2026-118")
    page.click("#hold-form button[type=submit]")
    case = page.locator("#case_ref")
    expect(case).to_have_attribute("aria-invalid", "true")
    problem = case.get_attribute("aria-describedby").split()[-1]
    expect(page.locator(f"#{problem}")).to_have_text("Give the case reference.")
    expect(case).to_be_focused()
    assert_accessible(page, "the track page showing a field's problem")
    page.fill("#case_ref", "PV-2026-0142")  # typing clears the mark
    expect(case).not_to_have_attribute("aria-invalid", "true")


@pytest.mark.timeout(120)
def test_required_fields_are_marked_and_the_mark_is_explained(new_page, server):
    page = new_page()
    page.goto("/report/status")
    expect(page.locator("label:has(#token) .req")).to_have_text("*")
    expect(page.locator(".req-legend")).to_have_text("Fields marked with * are required.")
    assert page.locator("#token").get_attribute("required") is not None


@pytest.mark.timeout(120)
def test_an_expired_session_says_so_on_the_login_page(new_page, server):
    page = new_page()
    log_in_as(page, ACCOUNTS, "investigator")
    page.context.add_cookies([{"name": "vigie_session", "value": "a-session-long-gone", "url": server.url}])
    page.goto("/search")
    page.wait_for_url("**/?expired=1")
    expect(page.locator("#expired")).to_have_text("Your session has expired; log in again.")
    assert_accessible(page, "the login page after an expired session")
    fresh = new_page()  # never logged in: no word of an expiry
    fresh.goto("/search")
    fresh.wait_for_url(lambda url: url.rstrip("/") == server.url)
    expect(fresh.locator("#expired")).to_have_count(0)


# --- slow actions: the double-click guard (issue 20, point 6) --------------------------------------------------
@pytest.mark.timeout(120)
def test_a_double_click_on_export_starts_one_export(new_page, server):
    page = new_page()
    log_in_as(page, ACCOUNTS, "investigator")
    page.goto(f"/track/{server.track}")
    settle(page)
    page.fill("#case_ref", "PV-2026-0142")
    page.fill("#purpose", "double-click check")
    asked = []

    def held(route):  # the export answers late, as a real one does: both clicks land while it runs
        asked.append(route.request.url)
        time.sleep(1.0)
        route.continue_()

    page.route("**/api/exports", held)
    button = page.locator("#export-form button[type=submit]")
    button.dblclick()
    expect(button).to_be_enabled(timeout=20_000)
    settle(page)
    assert len(asked) == 1, asked
    button.click()  # once it is over, the button works again
    expect(button).to_be_enabled(timeout=20_000)
    settle(page)
    assert len(asked) == 2, asked


# --- camera pickers (issue 20, point 4) ----------------------------------------------------------------------
@pytest.mark.timeout(120)
def test_cameras_are_picked_by_name_group_or_from_the_list(new_page, server):
    page = new_page()
    log_in_as(page, ACCOUNTS, "investigator")
    page.goto("/search")
    settle(page)
    page.fill("#case_ref", "PV-2026-0142")
    page.fill("#purpose", "camera picker check")
    page.fill("#cameras", "esplanade")  # a part of the name, in lower case
    page.fill("#groups", "centre")  # the group is "Centre"
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#results .card")
    expect(page.locator("#places-read")).to_contain_text(
        '"esplanade" is read as Esplanade Charles-de-Gaulle, fountain side.'
    )
    expect(page.locator("#places-read")).to_contain_text('"centre" is read as Centre.')
    # the list: a tick puts the whole name, comma and all, in the field, and the search finds it
    page.fill("#cameras", "")
    page.click("details.picker summary")
    page.get_by_label("Esplanade Charles-de-Gaulle, fountain side (nimes-esplanade-01)").check()
    expect(page.locator("#cameras")).to_have_value("Esplanade Charles-de-Gaulle, fountain side")
    # the map: every camera labelled by name; a click on the station's marker adds it to the field
    expect(page.locator("#picker-map .leaflet-tooltip")).to_have_count(5)
    expect(page.locator("#picker-map")).to_contain_text("Gare de Nîmes, forecourt")
    page.locator('#picker-map .leaflet-marker-icon[title="Gare de Nîmes, forecourt"]').click()
    expect(page.locator("#cameras")).to_have_value(
        "Esplanade Charles-de-Gaulle, fountain side; Gare de Nîmes, forecourt"
    )
    page.locator('#picker-map .leaflet-marker-icon[title="Gare de Nîmes, forecourt"]').focus()
    page.keyboard.press("Enter")  # the keyboard unpicks it
    expect(page.locator("#cameras")).to_have_value("Esplanade Charles-de-Gaulle, fountain side")
    assert_accessible(page, "the search page with its camera list open")
    page.click("#search-form button[type=submit]")
    expect(page.locator("#places-read")).to_contain_text("is read as Esplanade Charles-de-Gaulle, fountain side.")
    page.fill("#cameras", "stade")
    page.click("#search-form button[type=submit]")
    expect(page.locator("#error")).to_contain_text("unknown camera 'stade'")
    expect(page.locator("#cameras")).to_have_attribute("aria-invalid", "true")


# --- the public form and status page on a phone (issue 20, point 9) --------------------------------------------
PHONE = {"width": 390, "height": 844}


def one_line_header(page) -> None:
    """The header's brand and its last link sit on one line, and nothing is wider than the screen."""
    brand, last = page.locator("header.nav .brand").bounding_box(), page.locator("header.nav a").last.bounding_box()
    header = page.locator("header.nav").bounding_box()
    assert abs(brand["y"] + brand["height"] / 2 - (last["y"] + last["height"] / 2)) < 4, (brand, last)
    assert header["height"] < 48, header
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.timeout(180)
def test_the_public_report_and_its_status_on_a_phone(new_page, server):
    from vigie.citizen.reports import decide, token_hash

    page = new_page()
    page.set_viewport_size(PHONE)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page.goto("/report")
    settle(page)
    one_line_header(page)
    page.select_option("#service", "graffiti")
    page.locator("#map").click(position={"x": 180, "y": 150})
    expect(page.locator("#lat")).not_to_have_value("")
    page.fill("#description", "Fresh tags on the wall of the primary school, rue Nationale, by the bus stop.")
    small = jpeg_bytes()
    page.set_input_files("#media", {"name": "tiny.jpg", "mimeType": "image/jpeg", "buffer": small})
    expect(page.locator("#media-help")).to_contain_text(f"tiny.jpg, {len(small)} bytes.")  # not "0.00 MB"
    page.set_input_files("#media", [])
    screenshot(page, "phone-report.png", full_page=True)
    assert_accessible(page, "the report form at 390x844")
    page.click("#send")
    expect(page.locator("#done")).to_be_visible()
    token = page.locator("#token").inner_text().strip()
    page.click("#copy-token")
    expect(page.locator("#copied")).to_have_text("Copied: paste it somewhere safe.")
    assert page.evaluate("navigator.clipboard.readText()") == token
    screenshot(page, "phone-report-sent.png")

    with server.store.read() as conn:
        rid = conn.execute("SELECT id FROM citizen_reports WHERE token_hash = ?", (token_hash(token),)).fetchone()[0]
    reason = "Unfortunately this concerns maintenance responsibilities belonging to the departmental authorities."
    decide(server.store, rid, "reject", "mod", "moderator", datetime.now(timezone.utc), reason=reason)
    page.goto(f"/report/status?token={token}")
    expect(page.locator("#state")).to_contain_text("responsibilities")
    one_line_header(page)
    # every word of the reason is whole on its line: no line of the cell starts inside a word
    words = page.evaluate(
        """() => {
            const cell = [...document.querySelectorAll('#state td')].find((td) => td.textContent.includes('responsibilities'));
            const text = cell.firstChild, range = document.createRange(), starts = [];
            let top = null;
            for (let i = 0; i < text.length; i++) {
                range.setStart(text, i); range.setEnd(text, i + 1);
                const y = range.getBoundingClientRect().top;
                if (top !== null && y > top + 2) starts.push(i);
                top = y;
            }
            return starts.map((i) => text.data[i - 1] + '|' + text.data[i]);
        }"""
    )
    assert words and all(pair.startswith(" |") or pair[0] == " " for pair in words), words
    screenshot(page, "phone-report-status.png", full_page=True)
    assert_accessible(page, "the status page at 390x844")


@pytest.mark.timeout(120)
def test_the_public_pages_in_french_on_a_phone(new_page, server):
    """French is the public's language on a French site: the longer French header stays on one line, with FR / EN."""
    from playwright.sync_api import expect

    page = new_page("fr")
    page.set_viewport_size(PHONE)
    for path in ("/report", "/report/status"):
        page.goto(path)
        settle(page)
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.locator("header.nav a.lang-link[hreflang=en]")).to_be_visible()
        one_line_header(page)
        assert_accessible(page, f"{path} in French at 390x844")


# --- the dashboard (issue 20, point 8) ------------------------------------------------------------------------
@pytest.mark.timeout(120)
def test_the_dashboard_opens_on_data_draws_its_lines_and_says_when_there_is_nothing(new_page, server):
    page = new_page()
    log_in_as(page, ACCOUNTS, "investigator")
    page.goto("/dashboard")
    page.fill("#case_ref", "PV-2026-0142")
    page.fill("#purpose", "dashboard check")
    page.locator("#purpose").dispatch_event("change")
    # the only camera with tracks, though it is not the first of the list
    expect(page.locator("#camera")).to_have_value(DEMO_CAMERA)
    assert page.locator("#camera option").first.get_attribute("value") != DEMO_CAMERA
    expect(page.locator("#hourly")).to_contain_text("person")
    expect(page.locator("#empty")).to_be_hidden()
    # the site file's counting line, drawn over the view where the rule puts it, labelled with its counts
    expect(page.locator("#lines-over line")).to_have_count(1)
    assert [page.locator("#lines-over line").get_attribute(a) for a in ("x1", "y1", "x2", "y2")] == [
        "340",
        "330",
        "380",
        "170",
    ]
    expect(page.locator("#lines-over text")).to_contain_text("walkway-count:")
    page.select_option("#period", "24")
    expect(page.locator("#hourly")).to_contain_text("person")  # the tracks are an hour old
    settle(page)
    assert_accessible(page, "the dashboard")
    page.select_option("#camera", "nimes-gare-01")
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#empty")).to_have_text(
        "No track on this camera in this period: choose a longer period or another camera."
    )
    expect(page.locator("#lines-none")).to_be_visible()
    screenshot(page, "dashboard-empty.png")


@pytest.mark.timeout(120)
def test_an_empty_reason_is_asked_for_beside_the_field(new_page, server):
    page = new_page()
    log_in_as(page, ACCOUNTS, "investigator")
    page.goto(f"/track/{server.track}")
    settle(page)
    expect(page.locator("label:has(#unblur-reason) .req")).to_have_text("*")
    page.fill("#case_ref", "PV-2026-0142")
    page.fill("#purpose", "reason check")
    page.click("#unblur-form button[type=submit]")
    reason = page.locator("#unblur-reason")
    expect(reason).to_have_attribute("aria-invalid", "true")
    problem = reason.get_attribute("aria-describedby").split()[-1]
    expect(page.locator(f"#{problem}")).to_contain_text("reason")
    assert "field reason" not in page.locator(f"#{problem}").inner_text()

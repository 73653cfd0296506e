"""The crime map, the public citizen report form and the moderators' queue in a real browser (Debian's chromium).

The app (`create_app(Services(...))` with the demo site and the real Blurrer) is
served by uvicorn in a background thread over a FRESH data folder: these pages
need no analysed footage. The crime map's incidents are seeded as a city would
have them: an incident file imported with the importer, two video alerts an
operator validated, accepted citizen reports. The public form is driven without
logging in; the analyst and the moderator log in through the login form.

Screenshots: docs/screenshots/report-form.png, moderation.png, crimemap.png.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from browser_support import Server, log_in_as, non_local, screenshot, served, vigie_app, vigie_store
from builders import DEMO_CAMERA, DEMO_SITE

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ACCOUNTS = {"analyst": ("ana", "analyst-pass-1234"), "moderator": ("mod", "moderator-pass-12")}
NIMES = (43.8367, 4.3601)  # the Maison Carrée: the seeded incidents are around it
REAL_PHOTO = Path("/usr/share/darknet/data/dog.jpg")  # Debian's darknet sample photo (make setup installs it)


# --- the app over a fresh store ----------------------------------------------------------------------------
def seeded_incidents(n: int = 240, seed: int = 7) -> bytes:
    """A CSV of incidents over eight weeks: a cluster by the Maison Carrée (a hot spot), a smaller one by the
    Arènes, the rest spread over the city; evenings more than mornings. Two communes, three categories."""
    rng = np.random.default_rng(seed)
    start = datetime(2026, 9, 7, tzinfo=timezone.utc)
    rows = ["occurred_at,category,lat,lon,commune,ref,victim_name"]  # a column the importer must ignore
    for k in range(n):
        u = rng.random()
        if u < 0.45:
            lat, lon = NIMES[0] + rng.normal(0, 0.0008), NIMES[1] + rng.normal(0, 0.0010)
        elif u < 0.65:
            lat, lon = 43.8349 + rng.normal(0, 0.0006), 4.3597 + rng.normal(0, 0.0008)
        else:
            lat, lon = NIMES[0] + rng.uniform(-0.02, 0.02), NIMES[1] + rng.uniform(-0.03, 0.03)
        hour = int(rng.choice([2, 9, 14, 19, 20, 21, 22, 23], p=[0.1, 0.05, 0.1, 0.15, 0.15, 0.15, 0.15, 0.15]))
        when = start + timedelta(days=int(rng.integers(0, 56)), hours=hour, minutes=int(rng.integers(0, 60)))
        category = ["burglary", "vehicle theft", "vandalism"][int(rng.integers(0, 3))]
        commune = "Nîmes" if lon < NIMES[1] + 0.02 else "Marguerittes"
        rows.append(f"{when.isoformat()},{category},{lat:.6f},{lon:.6f},{commune},PM-{k:04d},someone")
    return ("\n".join(rows) + "\n").encode("utf-8")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from vigie.config import load_site
    from vigie.crimemap.importer import import_file
    from vigie.privacy.blur import Blurrer

    with vigie_store(tmp_path_factory.mktemp("crimemap-ui") / "var") as store:
        site = load_site(DEMO_SITE)
        store.upsert_cameras(site.cameras)  # the alerts layer places a validated alert at its camera
        app = vigie_app(store, site, Blurrer(), ACCOUNTS)
        got = import_file(
            store,
            seeded_incidents(),
            file_name="pm-2026-q3.csv",
            source="Police municipale",
            crs=None,
            timezone=site.timezone,
            user="ana",
            role="analyst",
        )
        with served(app, "vigie-uvicorn-crimemap") as url:
            yield Server(url, store, site=site, imported=got["rows"])  # imported: the seeded file's incidents


def error_text(page) -> str:
    return page.locator("#error").inner_text().strip()


# --- store builders ------------------------------------------------------------------------------------------
def jpeg_photo() -> bytes:
    """A real photograph: Debian's darknet sample (a dog, a bicycle, a van), else a drawn street scene."""
    if REAL_PHOTO.is_file():
        return REAL_PHOTO.read_bytes()
    import cv2

    img = np.full((240, 320, 3), 180, np.uint8)
    cv2.rectangle(img, (40, 120), (280, 220), (60, 60, 160), -1)
    return cv2.imencode(".jpg", img)[1].tobytes()


def pending_report(
    store,
    description: str,
    *,
    address: str,
    code: str = "graffiti",
    lat: float = 43.8352,
    lon: float = 4.3605,
    contact: dict | None = None,
    photo: bytes | None = None,
) -> int:
    """A report as the Open311 route stores it (the photo sanitised and blurred), from its own client address
    (the rate limit is per address)."""
    from vigie.citizen.photos import sanitise
    from vigie.citizen.reports import NewReport, submit
    from vigie.privacy.blur import Blurrer

    if photo is not None:
        photo = sanitise(photo, max_bytes=8_000_000, max_pixels=40_000_000, blurrer=Blurrer())

    rid, _token = submit(
        store,
        NewReport(code, lat, lon, description=description, contact=contact or {}, photo=photo),
        address,
        datetime.now(timezone.utc),
        100,
        100,
    )
    return rid


def report_row(store, rid: int) -> dict:
    with store.read() as conn:
        return dict(
            conn.execute(
                "SELECT id, moderation, description, reject_reason, merged_into, status, status_notes,"
                " redacted FROM citizen_reports WHERE id = ?",
                (rid,),
            ).fetchone()
        )


# --- the public form ------------------------------------------------------------------------------------------
def test_public_report_form_sends_a_report_and_its_token_follows_it(new_page, server):
    from playwright.sync_api import expect

    from vigie.citizen.reports import decide, token_hash

    page = new_page()
    page.goto("/report")
    expect(page.locator(".instruction")).to_have_text(
        "Describe the place and what happens there. Do not name or describe people."
    )
    assert (
        page.locator("#logout").count() == 0 and page.locator("nav a[data-roles]").count() == 0
    )  # nothing that needs a session
    expect(page.locator("#service option[value=graffiti]")).to_have_count(1)
    # The honeypot is in the form, empty, out of sight and out of the tab order.
    assert page.locator("#report-form input[name=website]").input_value() == ""
    box = page.locator("#website").bounding_box()
    assert box is None or box["x"] + box["width"] <= 0, box
    assert page.locator("#website").get_attribute("tabindex") == "-1"
    expect(page.locator("#desc-count")).to_have_text("0 / 2000 characters")

    page.select_option("#service", "graffiti")
    expect(page.locator("#service-help")).to_contain_text("Graffiti, tags or posters")
    expect(page.locator("#map.leaflet-container")).to_be_visible()
    page.locator("#map").click(position={"x": 300, "y": 200})
    expect(page.locator("#lat")).not_to_have_value("")
    lat, lon = float(page.input_value("#lat")), float(page.input_value("#long"))
    assert 43.7 < lat < 43.95 and 4.2 < lon < 4.5, (lat, lon)  # the map opens on the demo city
    expect(page.locator("#map .leaflet-marker-icon")).to_have_count(1)

    # Refused by the server, in its words: a description over the limit, then a photo that is not a picture.
    page.fill("#description", "Tags on the wall of the school, rue Nationale. " * 50)  # 2,350 characters
    expect(page.locator("#desc-count")).to_contain_text("too many")
    page.click("#send")
    expect(page.locator("#error")).to_contain_text("2000")
    description = "Fresh tags on the wall of the primary school, rue Nationale, next to the bus stop."
    page.fill("#description", description)
    expect(page.locator("#desc-count")).to_have_text(f"{len(description)} / 2000 characters")
    page.set_input_files(
        "#media", {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": b"this is not a picture" * 10}
    )
    page.click("#send")
    expect(page.locator("#error")).to_contain_text("not a JPEG, PNG or WebP image")

    # A real photo, previewed, then sent: the token is shown with a link to follow the report.
    page.set_input_files("#media", {"name": "place.jpg", "mimeType": "image/jpeg", "buffer": jpeg_photo()})
    page.wait_for_function(
        "() => { const i = document.getElementById('media-preview'); return !i.hidden && i.naturalWidth > 0; }"
    )
    page.fill("#email", "resident@example.org")
    page.evaluate("() => window.scrollTo(0, 0)")
    screenshot(page, "report-form.png", full_page=True)
    with page.expect_response(
        lambda r: r.url.endswith("/open311/v2/requests.json") and r.request.method == "POST"
    ) as sent:
        page.click("#send")
    assert sent.value.status in (200, 201), sent.value.text()
    expect(page.locator("#done")).to_be_visible()
    token = page.locator("#token").inner_text().strip()
    assert len(token) >= 20
    assert error_text(page) == ""
    with server.store.read() as conn:
        row = dict(
            conn.execute(
                "SELECT id, email, photo IS NOT NULL AS has_photo, moderation, lat, lon FROM citizen_reports"
                " WHERE token_hash = ?",
                (token_hash(token),),
            ).fetchone()
        )
    assert row["email"] == "resident@example.org" and row["has_photo"] and row["moderation"] == "pending"
    assert abs(row["lat"] - lat) < 1e-6 and abs(row["lon"] - lon) < 1e-6

    # The follow-up page: pending, then accepted with its public number and status.
    page.click("#follow")
    page.wait_for_url(re.compile(r"/report/status\?token="))
    expect(page.locator("#state")).to_contain_text("Pending")
    expect(page.locator('#state tr[data-key="Public request number"] td')).to_contain_text("none yet")
    decide(server.store, row["id"], "accept", "mod", "moderator", datetime.now(timezone.utc))
    page.reload()
    expect(page.locator('#state tr[data-key="Moderation"] td')).to_contain_text("Accepted")
    expect(page.locator('#state tr[data-key="Public request number"] td')).to_have_text(f"#{row['id']}")
    expect(page.locator('#state tr[data-key="Status"] td')).to_have_text("open")

    # A token typed in by hand that matches nothing says so.
    page.fill("#token", "not-a-token-of-this-server")
    page.click("#status-form button[type=submit]")
    expect(page.locator("#error")).to_contain_text("No report has this follow-up code")
    assert page.locator("#state").is_hidden()


# --- the moderators' queue ---------------------------------------------------------------------------------------
def test_moderator_redacts_accepts_rejects_and_merges(new_page, server):
    from playwright.sync_api import expect

    store = server.store
    a = pending_report(
        store,
        "Broken bench by the fountain; Mr Dupont from no. 4 sits there every night.",
        address="198.51.100.7",
        code="damage",
        contact={"email": "a.resident@example.org", "phone": "+33 6 12 34 56 78"},
        photo=jpeg_photo(),
    )
    b = pending_report(store, "asdf asdf", address="198.51.100.8", code="nuisance", lat=43.8340, lon=4.3620)
    c = pending_report(
        store,
        "The bench by the fountain is broken, the slats are missing.",
        address="198.51.100.9",
        code="damage",
        lat=43.83305,
        lon=4.35905,
    )

    page = new_page()
    log_in_as(page, ACCOUNTS, "moderator")
    for rid in (a, b, c):
        expect(page.locator(f'[data-report="{rid}"]')).to_be_visible()
    card = page.locator(f'[data-report="{a}"]')
    expect(card).to_contain_text("Damaged street furniture (damage)")
    expect(card.locator(".private")).to_contain_text(
        "Contact (private, never published): a.resident@example.org · +33 6 12 34 56 78"
    )
    page.wait_for_function(
        f"() => {{ const i = document.querySelector('[data-report=\"{a}\"] img'); return i && i.complete && i.naturalWidth > 0; }}"
    )
    expect(page.locator(f'[data-report="{b}"] .private')).to_contain_text("none given")
    expect(page.locator("#map.leaflet-container path.leaflet-interactive")).to_have_count(3)
    screenshot(page, "moderation.png")

    # Redact: the person's name goes, the text is replaced in the store.
    card.locator("textarea.desc").fill("Broken bench by the fountain.")
    card.locator("button.redact").click()
    expect(page.locator("#done-msg")).to_contain_text(f"Report #{a} redacted")
    assert (
        report_row(store, a)["description"] == "Broken bench by the fountain." and report_row(store, a)["redacted"] == 1
    )

    page.locator(f'[data-report="{a}"] button.accept').click()
    expect(page.locator("#done-msg")).to_contain_text(f"Report #{a} accepted")
    expect(page.locator(f'[data-report="{a}"]')).to_have_count(0)  # the queue shows what waits
    assert report_row(store, a)["moderation"] == "accepted"

    # Reject: a reason is asked for before anything is sent.
    page.locator(f'[data-report="{b}"] button.reject').click()
    expect(page.locator(f'[data-report="{b}"] .card-msg')).to_contain_text("Give a reason")
    assert report_row(store, b)["moderation"] == "pending"
    page.locator(f'[data-report="{b}"] input.reason').fill("Not about a place: no problem described.")
    page.locator(f'[data-report="{b}"] button.reject').click()
    expect(page.locator("#done-msg")).to_contain_text(f"Report #{b} rejected")
    assert report_row(store, b)["reject_reason"] == "Not about a place: no problem described."

    # Merge: into a report that is not accepted, the server's refusal is shown on the card; into A, done.
    page.locator(f'[data-report="{c}"] input.into').fill(str(b))
    page.locator(f'[data-report="{c}"] button.merge').click()
    expect(page.locator(f'[data-report="{c}"] .card-msg')).to_contain_text("merged into an accepted report")
    page.locator(f'[data-report="{c}"] input.into').fill(str(a))
    page.locator(f'[data-report="{c}"] button.merge').click()
    expect(page.locator("#done-msg")).to_contain_text(f"Report #{c} merged into #{a}")
    assert report_row(store, c)["moderation"] == "merged" and report_row(store, c)["merged_into"] == a

    # The accepted report's public status: closed, with notes.
    page.select_option("#moderation", "accepted")
    card = page.locator(f'[data-report="{a}"]')
    expect(card.locator(".state")).to_contain_text("accepted by mod")
    card.locator("select.status").select_option("closed")
    card.locator("input.notes").fill("Bench replaced on 12 November.")
    card.locator("button.update").click()
    expect(page.locator("#done-msg")).to_contain_text(f"Report #{a} is now closed")
    assert (
        report_row(store, a)["status"] == "closed"
        and report_row(store, a)["status_notes"] == "Bench replaced on 12 November."
    )
    page.select_option("#moderation", "rejected")
    expect(page.locator(f'[data-report="{b}"] .state')).to_contain_text("rejected by mod")
    assert error_text(page) == ""


# --- the crime map --------------------------------------------------------------------------------------------------
def canvas_pixels(page, pane: str, until=lambda n: True, timeout: float = 10.0) -> int:
    """Pixels drawn (alpha > 0) in the canvas of a map pane (incidents and cells are drawn on canvas), once
    `until(pixels)` holds: Leaflet redraws a canvas on the next animation frame, not at once."""
    deadline = time.monotonic() + timeout
    while True:
        n = page.evaluate(
            """pane => [...document.querySelectorAll('#map .leaflet-' + pane + '-pane canvas')].reduce((n, c) => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
            return n; }, 0)""",
            pane,
        )
        if until(n) or time.monotonic() > deadline:
            return n
        page.wait_for_timeout(100)


def toggle_layer(page, label: str) -> None:
    page.locator(".leaflet-control-layers-overlays label", has_text=label).locator("input").click()


def seed_other_layers(server) -> tuple[int, int]:
    """Two validated video alerts (at their camera) and two more accepted citizen reports: the map's other layers.
    Returns (validated alerts, accepted citizen reports in all)."""
    from vigie.alerts import store as alerts
    from vigie.citizen.reports import decide
    from vigie.rules.base import Event

    t = datetime(2026, 10, 2, 21, 15, tzinfo=timezone.utc)
    events = [
        Event(
            "esplanade-gathering",
            "gathering",
            DEMO_CAMERA,
            t + timedelta(days=d),
            t + timedelta(days=d, minutes=2),
            (1, 2, 3),
            (300.0, 300.0),
            {"people": 3},
        )
        for d in (0, 9)
    ]
    for aid in alerts.record(server.store, events):
        alerts.decide(server.store, aid, "validate", "op", "operator")
    now = datetime.now(timezone.utc)
    for k, (lat, lon) in enumerate([(43.8370, 4.3596), (43.8361, 4.3612)]):
        rid = pending_report(
            server.store,
            f"Street light out at the corner, lamp post {k + 1}.",
            address=f"203.0.113.{k + 1}",
            code="streetlight",
            lat=lat,
            lon=lon,
        )
        decide(server.store, rid, "accept", "mod", "moderator", now)
    with server.store.read() as conn:  # the earlier tests of this module accepted reports too
        citizen = conn.execute(
            "SELECT count(*) FROM citizen_reports WHERE moderation = 'accepted' AND lat IS NOT NULL"
        ).fetchone()[0]
    return len(events), citizen


def test_analyst_crime_map_layers_analyses_downloads_and_import(new_page, server):
    from playwright.sync_api import expect

    n_alerts, n_citizen = seed_other_layers(server)
    page = new_page()
    log_in_as(page, ACCOUNTS, "analyst")
    page.wait_for_selector("body[data-loaded=true]", timeout=120_000)
    assert error_text(page) == ""
    expect(page.locator("#statement")).to_contain_text("This map describes places and times, never people")
    expect(page.locator("#statement")).to_contain_text("5(1)(d)")
    expect(page.locator("#counts tr", has_text="Imported incidents").locator("td").nth(1)).to_have_text(
        str(server.imported)
    )

    # The three sources, drawn apart; each toggle in the layer list changes what is drawn.
    total = server.imported + n_alerts + n_citizen
    expect(page.locator("#drawn")).to_have_attribute("data-count", str(total))
    expect(page.locator("#drawn")).to_contain_text(
        f"{server.imported} imported incidents, {n_alerts} validated video alerts, {n_citizen} accepted citizen reports"
    )
    points = canvas_pixels(page, "points", lambda n: n > 0)
    assert points > 0
    toggle_layer(page, "Imported incidents")
    expect(page.locator("#drawn")).to_have_attribute("data-count", str(n_alerts + n_citizen))
    assert 0 < canvas_pixels(page, "points", lambda n: n < points) < points
    toggle_layer(page, "Validated video alerts")
    toggle_layer(page, "Accepted citizen reports")
    expect(page.locator("#drawn")).to_have_attribute("data-count", "0")
    assert canvas_pixels(page, "points", lambda n: n == 0) == 0
    toggle_layer(page, "Imported incidents")
    expect(page.locator("#drawn")).to_have_attribute("data-count", str(server.imported))

    # Density (on at first) and hot spots draw cells; the bandwidth and how it was chosen are said.
    expect(page.locator("#bandwidth")).to_have_text(re.compile(r"^Bandwidth \d+ m$"))
    expect(page.locator("#bandwidth-method")).to_contain_text(re.compile(r"cross-validation|Scott"))
    assert canvas_pixels(page, "cells", lambda n: n > 0) > 0
    toggle_layer(page, "Density (kernel)")
    assert canvas_pixels(page, "cells", lambda n: n == 0) == 0
    toggle_layer(page, "Hot spots (Gi*)")
    assert canvas_pixels(page, "cells", lambda n: n > 0) > 0
    hot = int(page.locator('#hotspot-legend tr[data-class="hot 99%"] td').nth(1).inner_text())
    assert hot > 0  # the cluster by the Maison Carrée
    expect(page.locator("#hotspot-info")).to_contain_text("999 permutations")

    # Near repeat and the hour x weekday heat map.
    expect(page.locator("#knox-info")).to_contain_text("observed")
    assert page.locator("#near-repeat tr").count() >= 5
    expect(page.locator("#time-heat tr")).to_have_count(1 + 7 + 1)
    assert page.locator("#time-heat tr").nth(1).locator("th").first.inner_text() == "Mon"
    expect(page.locator("#time-info")).to_contain_text("Europe/Paris")

    # Downloads and the report: every link answers.
    for link in ("dl-incidents", "dl-density", "dl-hotspots", "dl-communes"):
        resp = page.request.get(page.locator(f"#{link}").get_attribute("href"))
        assert resp.status == 200, (link, resp.status, resp.text()[:300])
        assert "attachment" in resp.headers["content-disposition"] and resp.json()["type"] == "FeatureCollection"
    html = page.request.get(page.locator("#report-html").get_attribute("href"))
    assert html.status == 200 and html.headers["content-type"].startswith("text/html"), html.status
    pdf = page.request.get(page.locator("#report-pdf").get_attribute("href"), timeout=120_000)
    assert pdf.status == 200 and pdf.body()[:5] == b"%PDF-", pdf.status

    # The picture for the README: every source and the hot spots, the panels beside and below.
    toggle_layer(page, "Validated video alerts")
    toggle_layer(page, "Accepted citizen reports")
    expect(page.locator("#drawn")).to_have_attribute("data-count", str(total))
    screenshot(page, "crimemap.png", full_page=True)

    # A filter: one category only; the lists keep the other categories to choose from.
    page.select_option("#f-category", ["burglary"])
    page.click("#filters button[type=submit]")
    page.wait_for_selector("body[data-loaded=true]", timeout=120_000)
    burglaries = int(page.locator("#drawn").get_attribute("data-count"))
    assert 0 < burglaries < server.imported
    assert page.locator("#counts").get_attribute("data-total") == str(burglaries)
    assert "vandalism" in page.locator("#f-category").inner_text()
    assert "category=burglary" in page.locator("#dl-incidents").get_attribute("href")
    page.select_option("#f-category", [])

    # An import with a bad row is refused whole, naming the row and the field.
    bad = b"occurred_at,category,lat,lon\n2026-10-01T21:00:00+02:00,burglary,43.8360,4.3600\nyesterday,burglary,43.8361,4.3601\n"
    page.set_input_files("#imp-file", {"name": "bad.csv", "mimeType": "text/csv", "buffer": bad})
    page.fill("#imp-source", "Gendarmerie")
    page.click("#import-form button[type=submit]")
    expect(page.locator("#import-problems li")).to_have_count(1)
    problem = page.locator("#import-problems li").inner_text()
    assert "row 3" in problem and "occurred_at" in problem, problem
    expect(page.locator("#import-msg")).to_contain_text("refused")

    # A good file: imported, listed, and on the map.
    good = b"occurred_at,category,lat,lon\n2026-10-01T21:00:00+02:00,burglary,43.8360,4.3600\n2026-10-02T22:00:00+02:00,vandalism,43.8365,4.3605\n"
    page.set_input_files("#imp-file", {"name": "good.csv", "mimeType": "text/csv", "buffer": good})
    page.fill("#imp-source", "Gendarmerie")
    page.click("#import-form button[type=submit]")
    expect(page.locator("#import-msg")).to_contain_text("Imported 2 incident(s) from good.csv (Gendarmerie)")
    expect(page.locator("#import-problems li")).to_have_count(0)
    expect(page.locator("#imports tr", has_text="good.csv")).to_have_count(1)
    page.wait_for_selector("body[data-loaded=true]", timeout=120_000)
    expect(page.locator("#drawn")).to_have_attribute("data-count", str(total + 2))
    assert error_text(page) == ""


def test_roles_land_on_their_page_and_others_are_refused(new_page, server):
    """The analyst's and moderator's pages are theirs: another role's session gets the server's refusal, shown."""
    from playwright.sync_api import expect

    page = new_page()
    log_in_as(page, ACCOUNTS, "moderator")
    expect(page.locator('nav a[href="/moderation"]')).to_be_visible()
    expect(page.locator('nav a[href="/crimemap"]')).to_be_hidden()
    page.goto("/crimemap")
    expect(page.locator("#error")).to_contain_text("permission 'crime_map'")
    assert page.request.get("/api/crimemap/summary").status == 403
    other = new_page()
    assert other.request.get("/api/reports?moderation=pending").status == 401


def test_every_nav_carries_every_link():
    """Each page's nav names every page for every role (the script then hides what a role may not use)."""
    from vigie.web.ui import PAGES

    navs = {}
    for html in PAGES.glob("*.html"):
        m = re.search(r"<nav class=\"nav\">.*?</nav>", html.read_text(encoding="utf-8"), re.S)
        if m:
            navs[html.name] = m.group(0)
    assert len(set(navs.values())) == 1, {k: v for k, v in navs.items()}
    for href in ("/crimemap", "/moderation", "/map", "/audit", "/admin", "/register", "/approvals", "/password"):
        assert f'href="{href}"' in next(iter(navs.values()))
    assert "report.html" not in navs and "report-status.html" not in navs  # the public pages have no session nav
    assert "enrol.html" not in navs  # nor the enrolment page (no session yet)


# --- last: what left the machine ------------------------------------------------------------------------------
def test_no_page_asked_anything_of_another_host(server):
    if not server.requests:
        pytest.skip("no page was opened: run it after the other tests of this module")
    assert not non_local(server.requests), non_local(server.requests)


# --- the analyst's and moderator's pages in French and English ---------------------------------------------
@pytest.mark.timeout(300)
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_crime_map_and_moderation_show_no_text_of_the_other_language(new_page, server, lang):
    """With this module's data (imported incidents, a pending report with a photo): every panel of the crime map
    and every card of the moderation page are in the chosen language (browser_support.wrong_language_texts);
    French screenshots for the README."""
    from browser_support import wrong_language_texts

    # one report per run (a sender may not send the same description twice a day)
    said = {"fr": "Tag sur le mur de l'école, rue Nationale.", "en": "A tag on the school's wall, rue Nationale."}[lang]
    pending_report(server.store, said, address=f"192.0.2.{77 if lang == 'fr' else 78}", photo=jpeg_photo())
    found = {}
    page = new_page(lang)
    log_in_as(page, ACCOUNTS, "analyst", lang)
    page.wait_for_selector("body[data-loaded=true]")
    page.wait_for_selector("#imports tr[data-import]")
    found["/crimemap"] = wrong_language_texts(page, lang)
    if lang == "fr":
        screenshot(page, "fr-crimemap.png", full_page=True)
    page = new_page(lang)
    log_in_as(page, ACCOUNTS, "moderator", lang)
    page.wait_for_selector("#reports article")
    page.wait_for_load_state("networkidle")
    found["/moderation"] = wrong_language_texts(page, lang)
    if lang == "fr":
        screenshot(page, "fr-moderation.png")
    assert {k: v for k, v in found.items() if v} == {}

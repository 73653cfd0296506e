"""Issue 20 (one clock) through the API: the site's zone (Europe/Paris) is given to the pages, a time typed
as people say it is read on that clock and read back labelled, an unreadable one is refused naming the
words, and an export's manifest carries the site's local times beside UTC."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from builders import logged_in
from test_web_api import JUST, PW, SITE, cheap_hashing, env  # noqa: F401  (fixtures)

from vigie.services import Services
from vigie.times import UTC, from_iso
from vigie.web.app import create_app

PARIS = ZoneInfo("Europe/Paris")


def paris_client(env, role="investigator"):  # noqa: F811
    site = SITE.model_copy(update={"timezone": "Europe/Paris"})
    app = create_app(Services(store=env["store"], site=site, blurrer=env["blurrer"]))
    return logged_in(app, role, PW, role=role)


def test_the_pages_get_the_sites_zone_and_times_are_read_on_its_clock(env):  # noqa: F811
    c = paris_client(env)
    clock = c.get("/api/time?lang=en").json()
    assert (clock["timezone"], clock["city"], clock["label"]) == ("Europe/Paris", "Paris", "Paris time")
    assert clock["now_text"].endswith("(Paris time)")
    assert (
        "window.VIGIE_CLOCK" in c.get("/static/clock/site.js").text
        and "Europe/Paris" in c.get("/static/clock/site.js").text
    )

    r = c.post("/api/time/read?lang=en", json={"text": "hier 14h-15h"})
    assert r.status_code == 200, r.text
    body = r.json()
    yesterday = datetime.now(PARIS).date() - timedelta(days=1)
    start = datetime(yesterday.year, yesterday.month, yesterday.day, 14, tzinfo=PARIS)
    assert from_iso(body["start"]) == start and from_iso(body["end"]) == start + timedelta(hours=1)
    assert body["at"] is None
    assert body["readback"] == f"from {start:%d/%m/%Y} 14:00 to {start:%d/%m/%Y} 15:00 (Paris time)"

    r = c.post("/api/time/read?lang=en", json={"text": "06/12/2026 14:00"})
    assert from_iso(r.json()["at"]) == datetime(2026, 12, 6, 13, tzinfo=UTC)  # 14:00 in Paris is 13:00 UTC


def test_an_unreadable_time_is_refused_naming_the_words(env):  # noqa: F811
    r = paris_client(env).post("/api/time/read?lang=en", json={"text": "hier vers la banane"})
    assert r.status_code == 400 and "banane" in r.json()["error"], r.text


def test_the_export_manifest_gives_the_sites_local_times_beside_utc(env):  # noqa: F811
    c = paris_client(env)
    r = c.post("/api/exports?lang=en", json={"track_ids": [env["ids"][0]], "clips": False, **JUST})
    assert r.status_code == 200, r.text
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(r.content)).read("manifest.json"))
    assert manifest["timezone"] == "Europe/Paris"
    track = manifest["tracks"][0]
    local = from_iso(track["first_seen"]).astimezone(PARIS)
    assert track["first_seen_local"] == f"{local:%d/%m/%Y %H:%M:%S} (Paris time)"

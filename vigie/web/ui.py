"""The control-room web UI: plain HTML pages and a small vanilla script over the JSON API.

`mount_ui(app, services)` adds the pages (/, /map, /search, /track/{id},
/trail/{id}, /alerts, /dashboard, /synopsis, /audit, /admin, /approvals, /password, /crimemap,
/moderation; the enrolment page /enrol without a session; the public /report and /report/status with /report/map.json,
their map and limits without a session) and the static files: /static/... from vigie/web/static and
/static/leaflet/... from the repo's node_modules/leaflet/dist (found with
trail_map.find_leaflet). Every asset is local; without Leaflet the pages still
load and the maps say so. The pages hold no data: the script fetches it with
the session cookie, and inserts it with textContent only.
"""

from __future__ import annotations

import functools
import html
import json
import re
import statistics
from pathlib import Path as FsPath
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Path, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from vigie.clock import zone_city
from vigie.config import Open311Config
from vigie.errors import ConfigError
from vigie.i18n import _, current_language, known_language, use_language
from vigie.i18n.pages import translate_page
from vigie.search.trail_map import LeafletMissingError, find_leaflet
from vigie.web.language import keep_choice, scripts_catalogue

STATIC = FsPath(__file__).resolve().parent / "static"
PAGES = STATIC / "pages"
MAX_ID = 2**63 - 1
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def content_security_policy(tile_url: str | None = None) -> str:
    """Everything from this server only; the one exception is the tile server the site file names, for images."""
    img = "'self' data:"
    if tile_url and tile_url.startswith(("https://", "http://")):
        parts = urlsplit(tile_url.replace("{s}", "a"))
        host = parts.netloc.split(".", 1)[1] if "{s}" in tile_url else parts.netloc
        img += f" {parts.scheme}://{'*.' if '{s}' in tile_url else ''}{host}"
    # media-src blob: the playback page feeds its videos through Media Source Extensions (an object URL)
    return (
        f"default-src 'self'; img-src {img}; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
    )


# Every page's shared helpers, after t(): the skip link (WCAG 2.1 AA) and the slow actions' guard.
EVERY_PAGE = '<script src="/static/a11y.js" defer></script><script src="/static/forms.js" defer></script>'


def _catalogue_scripts(lang: str) -> str:
    # deferred scripts run in document order: the catalogue and t() before the page's own scripts
    # then the site's clock (its zone, and the helpers that write and read times in it: static/clock.js)
    return (
        f'<script src="/static/i18n/{lang}.js" defer></script><script src="/static/i18n.js" defer></script>'
        '<script src="/static/clock/site.js" defer></script><script src="/static/clock.js" defer></script>'
    )


# Each language is named in itself (a French speaker lost on the English page still finds "Français").
_LANGUAGE_NAMES = {"fr": ("FR", "Français"), "en": ("EN", "English")}


def language_switch(lang: str) -> str:
    """FR / EN links on every page: ?lang= sets the user's choice (a cookie, and their account once logged in).

    static/i18n.js keeps the page's other query parameters when one is followed."""
    links = []
    for code, (short, name) in _LANGUAGE_NAMES.items():
        current = ' aria-current="true"' if code == lang else ""
        links.append(
            f'<a class="lang-link" href="?lang={code}" hreflang="{code}" lang="{code}" title="{name}"'
            f"{current}>{short}</a>"
        )
    with use_language(lang):
        label = html.escape(_("Language"), quote=True)
    return f'<span class="lang-switch" role="group" aria-label="{label}">{" ".join(links)}</span>'


def _with_switch(page: str, lang: str) -> str:
    """The switch at the end of the page's top bar (nav or header), or first in the body of a page without one."""
    switch = language_switch(lang)
    for closing in ("</nav>", "</header>"):
        if closing in page:
            return page.replace(closing, switch + closing, 1)
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + f'<div class="lang-bar">{switch}</div>', page, count=1)


@functools.lru_cache(maxsize=128)
def _translated(name: str, lang: str, mtime_ns: int) -> str:
    page = translate_page((PAGES / f"{name}.html").read_text("utf-8"), lang, _catalogue_scripts(lang) + EVERY_PAGE)
    return _with_switch(page, lang)


def served_page(name: str, lang: str) -> str:
    """A page in a language (cached until the file changes)."""
    return _translated(name, lang, (PAGES / f"{name}.html").stat().st_mtime_ns)


def _leaflet_dir() -> FsPath | None:

    try:
        return find_leaflet()
    except LeafletMissingError:
        return None


def map_settings(site: Any) -> dict:
    """Background tiles for the maps, from the site file; tile_url None: a blank background."""
    m = getattr(site, "map", None)
    return {
        "tile_url": getattr(m, "tile_url", None),
        "attribution": getattr(m, "attribution", ""),
        "max_zoom": getattr(m, "max_zoom", 19),
    }


def public_report_config(site: Any) -> dict:
    """The public report form's map and limits, from the site file (defaults without one)."""

    o311 = getattr(site, "open311", None) or Open311Config()
    cams = list(getattr(site, "cameras", None) or [])
    # the median camera position: a camera in an outlying commune does not pull the map off the centre
    centre = [statistics.median(c.lat for c in cams), statistics.median(c.lon for c in cams)] if cams else None
    return {
        **map_settings(site),
        "center": centre,
        "max_description_chars": o311.max_description_chars,
        "max_photo_bytes": o311.max_photo_bytes,
    }


def mount_ui(app: FastAPI, services: Any = None) -> None:
    """Add the UI's page routes and static files to the API app."""

    tile_url = getattr(getattr(getattr(services, "site", None), "map", None), "tile_url", None)
    headers = {**HEADERS, "Content-Security-Policy": content_security_policy(tile_url)}
    site = getattr(services, "site", None)

    def page(name: str, request: Request) -> HTMLResponse:
        lang = current_language()  # the request's, set by vigie.web.language.RequestLanguage
        response = HTMLResponse(served_page(name, lang), headers=headers)
        if known_language(request.query_params.get("lang")):  # the user's choice, kept for the next pages
            keep_choice(request, response, getattr(services, "store", None), lang)
        return response

    @app.get("/static/i18n/{lang}.js", include_in_schema=False)  # before the /static mount, which it overrides here
    def scripts_messages(lang: str = Path(pattern="^(fr|en)$")) -> Response:
        """The scripts' catalogue in one language (vigie/web/static/i18n/<lang>.json), read by static/i18n.js."""
        return Response(scripts_catalogue(lang, STATIC), media_type="text/javascript; charset=utf-8", headers=headers)

    @app.get("/static/clock/site.js", include_in_schema=False)
    def site_clock() -> Response:
        """The site's time zone for static/clock.js: every page writes and reads times in it (not secret,
        and needed before login: the login page too shows times)."""
        zone = getattr(site, "timezone", None) or "UTC"
        given = {"timezone": zone, "city": zone_city(ZoneInfo(zone))}
        body = f"window.VIGIE_CLOCK = {json.dumps(given)};\n"
        return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)

    @app.get("/", include_in_schema=False)
    def login_page(request: Request) -> HTMLResponse:
        return page("login", request)

    @app.get("/map", include_in_schema=False)
    def map_page(request: Request) -> HTMLResponse:
        return page("map", request)

    @app.get("/search", include_in_schema=False)
    def search_page(request: Request) -> HTMLResponse:
        return page("search", request)

    @app.get("/track/{track_id}", include_in_schema=False)
    def track_page(request: Request, track_id: int = Path(ge=1, le=MAX_ID)) -> HTMLResponse:
        return page("track", request)

    @app.get("/trail/{track_id}", include_in_schema=False)
    def trail_page(request: Request, track_id: int = Path(ge=1, le=MAX_ID)) -> HTMLResponse:
        return page("trail", request)

    @app.get("/dashboard", include_in_schema=False)
    def dashboard_page(request: Request) -> HTMLResponse:
        return page("dashboard", request)

    @app.get("/alerts", include_in_schema=False)
    def alerts_page(request: Request) -> HTMLResponse:
        return page("alerts", request)

    @app.get("/playback", include_in_schema=False)
    def playback_page(request: Request) -> HTMLResponse:
        return page("playback", request)

    @app.get("/wall", include_in_schema=False)
    def wall_page(request: Request) -> HTMLResponse:
        return page("wall", request)

    @app.get("/synopsis", include_in_schema=False)
    def synopsis_page(request: Request) -> HTMLResponse:
        return page("synopsis", request)

    @app.get("/audit", include_in_schema=False)
    def audit_page(request: Request) -> HTMLResponse:
        return page("audit", request)

    @app.get("/admin", include_in_schema=False)
    def admin_page(request: Request) -> HTMLResponse:
        return page("admin", request)

    @app.get("/approvals", include_in_schema=False)
    def approvals_page(request: Request) -> HTMLResponse:
        return page("approvals", request)

    @app.get("/case/{case_ref}", include_in_schema=False)
    def case_page(request: Request, case_ref: str = Path(min_length=1, max_length=256)) -> HTMLResponse:
        return page("case", request)

    @app.get("/password", include_in_schema=False)
    def password_page(request: Request) -> HTMLResponse:
        return page("password", request)

    # no session: a new user (or one given a reset link) sets their own password; the token is in the fragment
    @app.get("/enrol", include_in_schema=False)
    def enrol_page(request: Request) -> HTMLResponse:
        return page("enrol", request)

    @app.get("/crimemap", include_in_schema=False)
    def crimemap_page(request: Request) -> HTMLResponse:
        return page("crimemap", request)

    @app.get("/moderation", include_in_schema=False)
    def moderation_page(request: Request) -> HTMLResponse:
        return page("moderation", request)

    # --- public: residents report a problem at a place, and follow it with their token (no login) ---
    @app.get("/report", include_in_schema=False)
    def report_page(request: Request) -> HTMLResponse:
        return page("report", request)

    @app.get("/report/status", include_in_schema=False)
    def report_status_page(request: Request) -> HTMLResponse:
        return page("report-status", request)

    @app.get("/report/map.json", tags=["open311"])
    def report_map() -> dict:
        """What the public form needs without a session: the site's map tiles (as /api/map gives them), where to
        centre the map (the cameras' median position), and the limits the server applies to a report."""
        return public_report_config(getattr(services, "site", None))

    tile_dir = getattr(getattr(getattr(services, "site", None), "map", None), "tile_dir", None)
    if tile_dir:  # the site's own map tiles, for a control room with no Internet
        if not FsPath(tile_dir).is_dir():
            raise ConfigError(_("map.tile_dir {tile_dir} is not a folder", tile_dir=tile_dir))
        app.mount("/tiles", StaticFiles(directory=tile_dir), name="tiles")
    leaflet = _leaflet_dir()
    if leaflet is not None:  # mounted before /static so it wins
        app.mount("/static/leaflet", StaticFiles(directory=leaflet), name="leaflet")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

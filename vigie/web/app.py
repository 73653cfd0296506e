"""The JSON API: one composition root (`create_app(Services(...))`), no globals.

Every /api endpoint but login reads the session cookie, checks the role on the
server with `vigie.accounts.roles.require`, and appends what was looked at to
the audit log (searches with their full query). Errors are JSON
{"error": "..."}: 401 without a session, 403 for a role that may not, 400 for
a missing case reference or purpose and for what Vigie refuses, 404 for what
is not there, 422 for a malformed request (naming the field), 429 (with
Retry-After) while the login throttle makes a client or a name wait. No error
names a server file path (context.hide_paths).

Around every route (vigie.web.proxy, vigie.web.guard): the client's address and
scheme through the trusted proxies only; state-changing requests from another
origin refused (403); nosniff on every reply, no-store on JSON and /api/, HSTS
over HTTPS.

Operators see the last 24 hours only (roles.max_search_window): their searches
are bounded to it and a track older than it is refused to them.

Each resource is a module with its APIRouter (vigie.web.routes_*); a route
finds the app's services on its request (vigie.web.deps), so two apps over two
stores never mix.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigie.citizen import open311
from vigie.errors import VigieError
from vigie.live.wall import Wall
from vigie.services import Services
from vigie.web import (
    routes_admin,
    routes_alerts,
    routes_approvals,
    routes_audit,
    routes_casefile,
    routes_crimemap,
    routes_exports,
    routes_holds,
    routes_live,
    routes_media,
    routes_open311,
    routes_playback,
    routes_recording_exports,
    routes_register,
    routes_reports,
    routes_search,
    routes_session,
    routes_synopsis,
    routes_time,
)
from vigie.web.body_limit import BodyLimit, api_body_limit
from vigie.web.case_exports import CaseExports
from vigie.web.context import COOKIE, ERROR_RESPONSES, ApiError, err, hide_paths
from vigie.web.guard import SameOrigin, SecurityHeaders
from vigie.web.language import RequestLanguage
from vigie.web.plain_errors import field_name, plain_message
from vigie.web.plays import Plays
from vigie.web.proxy import ForwardedHeaders
from vigie.web.throttle import LoginThrottle
from vigie.web.ui import mount_ui

__all__ = ["COOKIE", "ApiError", "create_app"]

# In this order: a route's place in the published schema, and which of two matching paths wins, follow it.
ROUTERS = (
    routes_session,
    routes_search,
    routes_media,
    routes_playback,
    routes_live,
    routes_exports,
    routes_recording_exports,
    routes_holds,
    routes_casefile,
    routes_audit,
    routes_admin,
    routes_approvals,
    routes_alerts,
    routes_synopsis,
    routes_crimemap,
    routes_open311,
    routes_reports,
    routes_register,
    routes_time,
)


def reply(request: Request, status: int, message: str, **extra) -> JSONResponse:
    """/api: {"error": ...}; /open311/: the GeoReport v2 error list, JSON or XML by the path's suffix."""
    if open311.is_open311(request.url.path):
        return open311.error_response(request.url.path, status, message)
    return err(status, message, **extra)


async def vigie_error(request: Request, exc: VigieError):
    """Every refusal of Vigie's: the exception says its status and its body."""
    body = exc.body()
    body["error"] = hide_paths(str(body["error"]))
    retry_after = getattr(exc, "retry_after", None)
    if open311.is_open311(request.url.path):  # the specification's error list; a rate limit says when to retry
        return open311.error_response(request.url.path, exc.status, body["error"], retry_after)
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return JSONResponse(body, status_code=exc.status, headers=headers)


async def invalid_request(request: Request, exc: RequestValidationError):
    # the first problem, in plain words; "field" lets the page put the message beside its input
    first = exc.errors()[0]
    return reply(request, 422, plain_message(first), field=field_name(first))


async def http_error(request: Request, exc: StarletteHTTPException):
    detail = exc.detail if isinstance(exc.detail, str) else "error"
    if exc.status_code == 404:
        detail = f"not found: {request.url.path}"
    return reply(request, exc.status_code, detail)


def create_app(services: Services) -> FastAPI:
    app = FastAPI(
        title="Vigie",
        description="Forensic video analytics: JSON API. Every call is role-checked and audited.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    # What the routes share, per app: never in a module, so that two apps never mix.
    app.state.services = services
    app.state.synopses = routes_synopsis.SynopsisJobs(services)  # the app's synopsis worker and job table
    app.state.communes = routes_crimemap.CommuneFiles()
    app.state.case_exports = CaseExports(services)  # the app's case-export jobs (vigie.web.case_exports)
    app.state.plays = Plays()  # the open plays of clips and synopses (vigie.web.plays)
    # the live wall's camera feeds, each read once however many screens watch it (vigie.live.wall)
    app.state.wall = Wall(
        services.site,
        services.blurrer,
        services.blur_lock,
        blur_faces=bool(getattr(services.site, "live_wall_blur", False)),
    )

    app.state.login_throttle = LoginThrottle()  # per app: delays per client and name, the hashing slots

    # Starlette wraps each new middleware around the ones before: requests meet them bottom to top.
    app.add_middleware(BodyLimit, limit_for=api_body_limit)
    app.add_middleware(SameOrigin, public_url=services.public_url)
    app.add_middleware(SecurityHeaders, hsts=services.secure_cookie)
    app.add_middleware(ForwardedHeaders, trusted=services.trusted_proxies)
    app.add_middleware(RequestLanguage, site=services.site)  # outermost: errors from any layer are in it too
    app.add_exception_handler(VigieError, vigie_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    for module in ROUTERS:
        app.include_router(module.router)

    mount_ui(app, services)  # the pages and their local assets
    return app

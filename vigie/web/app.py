"""The JSON API: one composition root (`create_app(Services(...))`), no globals.

Every /api endpoint but login reads the session cookie, checks the role on the
server with `vigie.accounts.roles.require`, and appends what was looked at to
the audit log (searches with their full query). Errors are JSON
{"error": "..."}: 401 without a session, 403 for a role that may not, 400 for
a missing case reference or purpose and for what Vigie refuses, 404 for what
is not there, 422 for a malformed request (naming the field), 423 for a
locked account.

Operators see the last 24 hours only (roles.max_search_window): their searches
are bounded to it and a track older than it is refused to them.
"""

from __future__ import annotations

import csv
import html
import io

from fastapi import Body, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigie.accounts import users
from vigie.accounts.roles import Forbidden, MissingJustification
from vigie.citizen import open311
from vigie.errors import VigieError
from vigie.search.query import SearchError, SearchQuery
from vigie.web.context import (
    COOKIE,
    ERROR_RESPONSES,
    MAX_ID,
    MAX_OFFSET,
    TEXT,
    ApiContext,
    ApiError,
    Services,
    case_ref_param,
    err,
    page,
    plain,
    purpose_param,
)

__all__ = ["COOKIE", "ApiError", "Services", "create_app"]


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=128)
    password: str = Field(max_length=users.MAX_PASSWORD_LENGTH)


class SearchRequest(SearchQuery):
    """A search query plus the justification investigators must give."""

    case_ref: str | None = Field(None, max_length=TEXT, description="Case reference (investigators: required).")
    purpose: str | None = Field(None, max_length=TEXT, description="Purpose of the search (investigators: required).")


def _analytics_text(a: dict | None) -> str:
    """The register's analysis column in words."""
    if not a:
        return "-"
    parts = ["detects " + ", ".join(a["detection_classes"])]
    if a.get("tracking"):
        parts.append("tracks movements")
    if a.get("appearance_search"):
        parts.append("clothing colour and appearance search")
    n = a.get("privacy_masks", 0)
    parts.append(f"{n} privacy mask{'s' if n != 1 else ''}" if n else "no privacy mask")
    return "; ".join(parts)


def create_app(services: Services) -> FastAPI:
    store = services.store
    app = FastAPI(
        title="Vigie",
        description="Forensic video analytics: JSON API. Every call is role-checked and audited.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )

    from vigie.web.body_limit import BodyLimit, api_body_limit

    app.add_middleware(BodyLimit, limit_for=api_body_limit)

    # --- errors --------------------------------------------------------------------------------
    def reply(request, status: int, message: str, **extra):
        """/api: {"error": ...}; /open311/: the GeoReport v2 error list, JSON or XML by the path's suffix."""
        if open311.is_open311(request.url.path):
            return open311.error_response(request.url.path, status, message)
        return err(status, message, **extra)

    @app.exception_handler(open311.Open311Error)
    async def _open311_error(request, exc: open311.Open311Error):
        return open311.error_response(request.url.path, exc.status, exc.description, exc.retry_after)

    @app.exception_handler(ApiError)
    async def _api_error(request, exc: ApiError):
        return reply(request, exc.status, exc.message, **exc.extra)

    @app.exception_handler(VigieError)
    async def _vigie_error(request, exc: VigieError):
        if isinstance(exc, users.AccountLocked):
            return reply(request, 423, str(exc), locked_until=exc.until)
        if isinstance(exc, users.AuthenticationFailed):
            return reply(request, 401, str(exc))
        if isinstance(exc, MissingJustification):
            missing = [f for f, words in (("case_ref", "case reference"), ("purpose", "purpose")) if words in str(exc)]
            return reply(request, 400, f"{exc} (give {' and '.join(missing)})", missing=missing)
        if isinstance(exc, Forbidden):
            return reply(request, 403, str(exc))
        if isinstance(exc, SearchError):
            return reply(request, 400, str(exc), field=exc.field)
        from vigie.media.clips import SourceUnavailable, TrackNotFound

        if isinstance(exc, TrackNotFound):
            return reply(request, 404, str(exc))
        if isinstance(exc, SourceUnavailable):  # the recording was moved or deleted: the track's media are gone
            return reply(request, 410, str(exc))
        return reply(request, 400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request, exc: RequestValidationError):
        first = exc.errors()[0]
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "cookie", "header")]
        name = ".".join(loc) or "request"
        msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        return reply(request, 422, f"field {name}: {msg}", field=name)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404:
            detail = f"not found: {request.url.path}"
        return reply(request, exc.status_code, detail)

    ctx = ApiContext(services)
    current_user, allow, record = ctx.current_user, ctx.allow, ctx.record
    visible_track, bounded = ctx.visible_track, ctx.bounded
    Justification = dict(case_ref=case_ref_param(), purpose=purpose_param())

    # --- session ---------------------------------------------------------------------------------------
    @app.post("/api/login", tags=["session"])
    def login(body: LoginRequest, response: Response) -> dict:
        user = users.authenticate(store, body.username, body.password)  # audits success and failure
        token = users.create_session(store, user)
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(users.SESSION_TTL.total_seconds()),
            path="/",
            httponly=True,
            samesite="strict",
            secure=services.secure_cookie,
        )
        return {"username": user.username, "role": user.role}

    @app.post("/api/logout", tags=["session"])
    def logout(request: Request, response: Response, user: users.User = Depends(current_user)) -> dict:
        users.logout(store, request.cookies.get(COOKIE, ""))
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=services.secure_cookie)
        return {"logged_out": user.username}

    @app.get("/api/me", tags=["session"])
    def me(user: users.User = Depends(current_user)) -> dict:
        return {"username": user.username, "role": user.role}

    # --- cameras and tracks ---------------------------------------------------------------------------------
    @app.get("/api/cameras", tags=["cameras"])
    def cameras(
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
        user: users.User = Depends(current_user),
    ) -> dict:
        allow(user, "register_read")
        with store._read() as conn:
            total = conn.execute("SELECT count(*) FROM cameras").fetchone()[0]
            rows = [
                dict(r)
                for r in conn.execute(
                    'SELECT id, name, lat, lon, commune, grp AS "group", purpose FROM cameras '
                    "ORDER BY id LIMIT ? OFFSET ?",
                    (limit, offset),
                )
            ]
        return page(rows, limit, offset, total)

    @app.get("/api/tracks", tags=["tracks"])
    def tracks(
        camera: str | None = Query(None, max_length=TEXT),
        class_: str | None = Query(None, alias="class", max_length=TEXT),
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
        case_ref: str | None = Justification["case_ref"],
        purpose: str | None = Justification["purpose"],
        user: users.User = Depends(current_user),
    ) -> dict:
        """Tracks in time order (newest last), through the search index: an operator sees the last 24 hours."""
        allow(user, "search", case_ref, purpose)
        data: dict = {"sort": "time", "limit": limit, "offset": offset}
        if camera:
            data["cameras"] = [camera]
        if class_:
            data["classes"] = [class_]
        query = bounded(user, data)
        from vigie.search.engine import search

        result = search(store, query)
        record(
            user,
            "search",
            case_ref,
            purpose,
            {"endpoint": "tracks", "query": query.model_dump(mode="json"), "total": result.total},
        )
        return page([h.model_dump(mode="json") for h in result.hits], limit, offset, result.total)

    @app.get("/api/tracks/{track_id}", tags=["tracks"])
    def track(
        track_id: int = Path(ge=1, le=MAX_ID),
        points: bool = False,
        case_ref: str | None = Justification["case_ref"],
        purpose: str | None = Justification["purpose"],
        user: users.User = Depends(current_user),
    ) -> dict:
        allow(user, "view_media_blurred", case_ref, purpose)
        out = plain(visible_track(user, track_id))
        out.pop("thumbnail_path", None)  # a server path; the picture is at /thumbnail
        out.pop("cells", None)  # the search index's zone bitmap
        source = out.pop("source", None)  # the server's path: only the recording's file name is shown
        out["source_name"] = source.replace("\\", "/").rsplit("/", 1)[-1] if source else None
        out["thumbnail_url"] = f"/api/tracks/{track_id}/thumbnail"
        if points:
            out["points"] = [plain(p) for p in store.track_points(track_id)]
        record(user, "view_track", case_ref, purpose, {"track_id": track_id, "points": bool(points)})
        return out

    # --- search, similar, trail ---------------------------------------------------------------------------------
    @app.post("/api/search", tags=["search"])
    def do_search(body: SearchRequest = Body(...), user: users.User = Depends(current_user)) -> dict:
        allow(user, "search", body.case_ref, body.purpose)
        data = body.model_dump(exclude={"case_ref", "purpose"}, exclude_unset=True)
        query = bounded(user, data)
        from vigie.search.engine import search

        result = search(store, query)
        record(
            user, "search", body.case_ref, body.purpose, {"query": query.model_dump(mode="json"), "total": result.total}
        )
        return result.model_dump(mode="json")

    @app.get("/api/similar/{track_id}", tags=["search"])
    def do_similar(
        track_id: int = Path(ge=1, le=MAX_ID),
        limit: int = Query(50, ge=1, le=1000),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
        case_ref: str | None = Justification["case_ref"],
        purpose: str | None = Justification["purpose"],
        user: users.User = Depends(current_user),
    ) -> dict:
        allow(user, "similar", case_ref, purpose)
        visible_track(user, track_id)
        query = bounded(user, {"limit": limit, "offset": offset})
        from vigie.search.engine import similar

        result = similar(store, track_id, query)
        record(
            user,
            "similar",
            case_ref,
            purpose,
            {"track_id": track_id, "query": query.model_dump(mode="json"), "total": result.total},
        )
        return result.model_dump(mode="json")

    @app.get("/api/trail/{track_id}", tags=["search"])
    def do_trail(
        track_id: int = Path(ge=1, le=MAX_ID),
        candidates: int = Query(200, ge=1, le=1000),
        case_ref: str | None = Justification["case_ref"],
        purpose: str | None = Justification["purpose"],
        user: users.User = Depends(current_user),
    ) -> dict:
        allow(user, "trail", case_ref, purpose)
        visible_track(user, track_id)
        from vigie.search.trail import trail_geojson
        from vigie.search.trail_cli import trail_for_track

        data = trail_geojson(trail_for_track(store, track_id, bounded(user, {}), candidates=candidates))
        record(
            user,
            "trail",
            case_ref,
            purpose,
            {
                "track_id": track_id,
                "candidates": candidates,
                "sightings": sum(f["properties"].get("kind") == "sighting" for f in data["features"]),
            },
        )
        return data

    # --- the other resources, one module each ------------------------------------------------------
    from vigie.web import (
        routes_admin,
        routes_alerts,
        routes_audit,
        routes_cases,
        routes_crimemap,
        routes_media,
        routes_open311,
        routes_reports,
        routes_synopsis,
    )

    for module in (
        routes_media,
        routes_cases,
        routes_audit,
        routes_admin,
        routes_alerts,
        routes_synopsis,
        routes_crimemap,
        routes_open311,
        routes_reports,
    ):
        module.add_routes(app, ctx)

    @app.get("/api/map", tags=["cameras"])
    def map_config(user: users.User = Depends(current_user)) -> dict:
        """Background tiles for the maps (from the site file); tile_url null: a blank background."""
        from vigie.web.ui import map_settings

        return map_settings(services.site)

    # --- the public register ----------------------------------------------------------------------------------
    def register_rows() -> list[dict]:
        if services.site is None:
            with store._read() as conn:
                cams = [
                    dict(r)
                    for r in conn.execute(
                        'SELECT id, name, lat, lon, commune, grp AS "group", purpose FROM cameras ORDER BY id'
                    )
                ]
            return [{**c, "retention_days": None, "analytics": None, "controller": None} for c in cams]
        site = ctx.effective_site()  # retention and controller as the admin last set them
        rows = []
        for cam in site.cameras:
            a = site.analysis_for(cam.id)
            rows.append(
                {
                    "id": cam.id,
                    "name": cam.name,
                    "commune": cam.commune,
                    "group": cam.group,
                    "purpose": cam.purpose,
                    "lat": cam.lat,
                    "lon": cam.lon,
                    "retention_days": site.retention_for(cam.id),
                    "analytics": {
                        "detection_classes": list(a.classes),
                        "tracking": True,
                        "appearance_search": a.search_crops > 0,
                        "privacy_masks": len(cam.privacy_masks),
                    },
                    "controller": site.controller or site.name,
                }
            )
        return rows

    @app.get("/register.json", tags=["register"])
    def register_json() -> dict:
        rows = register_rows()
        return {"site": getattr(services.site, "name", None), "cameras": rows, "total": len(rows)}

    @app.get(
        "/register.csv", tags=["register"], response_class=Response, responses={200: {"content": {"text/csv": {}}}}
    )
    def register_csv() -> Response:
        out = io.StringIO()
        columns = [
            "id",
            "name",
            "commune",
            "group",
            "purpose",
            "lat",
            "lon",
            "retention_days",
            "detection_classes",
            "tracking",
            "appearance_search",
            "privacy_masks",
            "controller",
        ]
        w = csv.writer(out)
        w.writerow(columns)
        for r in register_rows():
            a = r["analytics"] or {}
            flat = {
                **r,
                "detection_classes": " ".join(a.get("detection_classes", [])),
                "tracking": a.get("tracking"),
                "appearance_search": a.get("appearance_search"),
                "privacy_masks": a.get("privacy_masks"),
            }
            # free text a spreadsheet would run as a formula gets a leading quote
            w.writerow(
                [
                    ("'" + v) if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v
                    for v in (flat.get(c) for c in columns)
                ]
            )
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8")

    @app.get("/register", tags=["register"], response_class=HTMLResponse)
    def register_html() -> HTMLResponse:
        e = html.escape
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{e(str(v))}</td>"
                for v in (
                    r["name"],
                    r["commune"] or "-",
                    r["purpose"] or "-",
                    f"{r['lat']:.5f}, {r['lon']:.5f}",
                    f"{r['retention_days']} days" if r["retention_days"] is not None else "-",
                    _analytics_text(r["analytics"]),
                    r["controller"] or "-",
                    r["id"],
                )
            )
            + "</tr>"
            for r in register_rows()
        )
        title = e(f"Public camera register - {getattr(services.site, 'name', 'Vigie')}")
        page = (
            f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{title}</title><link rel='stylesheet' href='/static/app.css'></head><body><main><h1>{title}</h1>"
            "<p class='muted'>Every camera of this network, why it films, how long what it records is kept and what "
            "automatic analysis runs on it. No face recognition and no identification are ever run; faces and licence "
            "plates are blurred in every picture shown or exported.</p>"
            "<table class='table register'><tr><th>Camera</th><th>Commune</th><th>Purpose</th><th>Position</th>"
            "<th>Retention</th><th>Analysis</th><th>Controller (contact)</th><th>Id</th></tr>"
            f"{rows}</table><p>Download: <a href='/register.json'>JSON</a> · <a href='/register.csv'>CSV</a></p>"
            "</main></body></html>"
        )
        from vigie.web.ui import HEADERS, content_security_policy

        return HTMLResponse(page, headers={**HEADERS, "Content-Security-Policy": content_security_policy()})

    from vigie.web.ui import mount_ui

    mount_ui(app, services)  # the pages and their local assets
    return app

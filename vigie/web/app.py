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
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from fastapi import Body, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigie.accounts import users
from vigie.accounts.roles import Forbidden, MissingJustification, max_search_window, require
from vigie.audit import log as audit
from vigie.errors import VigieError
from vigie.search.query import SearchError, SearchQuery, parse_query
from vigie.store.sqlite import SQLiteStore, iso

COOKIE = "vigie_session"
MAX_ID = 2**63 - 1
TEXT = 256  # longest accepted free-text query parameter


@dataclass
class Services:
    """What the app is built from: the store, the site file (for the register), an optional blurrer."""

    store: SQLiteStore
    site: Any = None  # vigie.config.SiteConfig or None
    blurrer: Any = None  # vigie.privacy.blur.Blurrer or anything with blur_crop(crop_bgr, class_name)
    secure_cookie: bool = False  # set the cookie's Secure flag (behind HTTPS)
    blur_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=128)
    password: str = Field(max_length=users.MAX_PASSWORD_LENGTH)


class SearchRequest(SearchQuery):
    """A search query plus the justification investigators must give."""

    case_ref: str | None = Field(None, max_length=TEXT, description="Case reference (investigators: required).")
    purpose: str | None = Field(None, max_length=TEXT, description="Purpose of the search (investigators: required).")


def _err(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _page(items: list, limit: int, offset: int, total: int | None = None, **more) -> dict:
    out = {"items": items, "limit": limit, "offset": offset, **more}
    if total is not None:
        out["total"] = total
    return out


def _utc(text: str) -> datetime:
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _plain(d: dict) -> dict:
    return {k: v for k, v in d.items() if not isinstance(v, (bytes, bytearray, memoryview))}


def create_app(services: Services) -> FastAPI:
    store = services.store
    app = FastAPI(title="Vigie", description="Forensic video analytics: JSON API. Every call is role-checked and audited.",
                  openapi_url="/openapi.json", docs_url=None, redoc_url=None)

    # --- errors --------------------------------------------------------------------------------
    @app.exception_handler(ApiError)
    async def _api_error(request, exc: ApiError):
        return _err(exc.status, exc.message, **exc.extra)

    @app.exception_handler(VigieError)
    async def _vigie_error(request, exc: VigieError):
        if isinstance(exc, users.AccountLocked):
            return _err(423, str(exc), locked_until=exc.until)
        if isinstance(exc, users.AuthenticationFailed):
            return _err(401, str(exc))
        if isinstance(exc, MissingJustification):
            missing = [f for f, words in (("case_ref", "case reference"), ("purpose", "purpose")) if words in str(exc)]
            return _err(400, f"{exc} (give {' and '.join(missing)})", missing=missing)
        if isinstance(exc, Forbidden):
            return _err(403, str(exc))
        if isinstance(exc, SearchError):
            return _err(400, str(exc), field=exc.field)
        return _err(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request, exc: RequestValidationError):
        first = exc.errors()[0]
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "cookie", "header")]
        name = ".".join(loc) or "request"
        msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        return _err(422, f"field {name}: {msg}", field=name)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404:
            detail = f"not found: {request.url.path}"
        return _err(exc.status_code, detail)

    # --- who is asking -----------------------------------------------------------------------------
    def current_user(request: Request) -> users.User:
        token = request.cookies.get(COOKIE)
        user = users.session_user(store, token) if token else None
        if user is None:
            raise ApiError(401, "not logged in: POST /api/login first (or the session has expired)")
        return user

    def allow(user: users.User, permission: str, case_ref: str | None = None, purpose: str | None = None) -> None:
        require(user.role, permission, case_ref, purpose)

    def window_start(user: users.User) -> datetime | None:
        window = max_search_window(user.role)
        return datetime.now(timezone.utc) - window if window else None

    def visible_track(user: users.User, track_id: int) -> dict:
        track = store.get_track(track_id)
        if track is None:
            raise ApiError(404, f"no stored track has id {track_id}")
        lower = window_start(user)
        if lower is not None and _utc(track["last_seen"]) < lower:
            raise ApiError(403, f"role {user.role!r} may only see tracks of the last "
                                f"{int(max_search_window(user.role).total_seconds() // 3600)} hours; track {track_id} is older")
        return track

    def record(user: users.User, action: str, case_ref: str | None, purpose: str | None, details: dict) -> None:
        audit.append(store, user.username, user.role, action, case_ref=case_ref or None, purpose=purpose or None, details=details)

    def bounded(user: users.User, data: dict) -> SearchQuery:
        """The query, its window forced to (or checked against) the role's search window."""
        lower = window_start(user)
        if lower is None:
            return parse_query(data)
        query = parse_query(data)
        if query.start is None:
            if query.end is not None and query.end <= lower:
                raise ApiError(400, f"field end: {query.end.isoformat()} is outside the last 24 hours, "
                                    f"which is all role {user.role!r} may search", field="end")
            return parse_query({**data, "start": lower})
        if query.start < lower:
            raise ApiError(400, f"field start: {query.start.isoformat()} is outside the last 24 hours, "
                                f"which is all role {user.role!r} may search (from {iso(lower)})", field="start")
        return query

    Justification = dict(case_ref=Query(None, max_length=TEXT), purpose=Query(None, max_length=TEXT))

    # --- session ---------------------------------------------------------------------------------------
    @app.post("/api/login", tags=["session"])
    def login(body: LoginRequest, response: Response) -> dict:
        user = users.authenticate(store, body.username, body.password)  # audits success and failure
        token = users.create_session(store, user)
        response.set_cookie(COOKIE, token, max_age=int(users.SESSION_TTL.total_seconds()), path="/", httponly=True,
                            samesite="strict", secure=services.secure_cookie)
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
    def cameras(limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0),
                user: users.User = Depends(current_user)) -> dict:
        allow(user, "register_read")
        with store._read() as conn:
            total = conn.execute("SELECT count(*) FROM cameras").fetchone()[0]
            rows = [dict(r) for r in conn.execute("SELECT id, name, lat, lon, commune, grp AS 'group', purpose FROM cameras "
                                                  "ORDER BY id LIMIT ? OFFSET ?", (limit, offset))]
        return _page(rows, limit, offset, total)

    @app.get("/api/tracks", tags=["tracks"])
    def tracks(camera: str | None = Query(None, max_length=TEXT), class_: str | None = Query(None, alias="class", max_length=TEXT),
               limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0),
               case_ref: str | None = Justification["case_ref"], purpose: str | None = Justification["purpose"],
               user: users.User = Depends(current_user)) -> dict:
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
        record(user, "search", case_ref, purpose, {"endpoint": "tracks", "query": query.model_dump(mode="json"), "total": result.total})
        return _page([h.model_dump(mode="json") for h in result.hits], limit, offset, result.total)

    @app.get("/api/tracks/{track_id}", tags=["tracks"])
    def track(track_id: int = Path(ge=1, le=MAX_ID), points: bool = False,
              case_ref: str | None = Justification["case_ref"], purpose: str | None = Justification["purpose"],
              user: users.User = Depends(current_user)) -> dict:
        allow(user, "view_media_blurred", case_ref, purpose)
        out = _plain(visible_track(user, track_id))
        out.pop("thumbnail_path", None)  # a server path; the picture is at /thumbnail
        out["thumbnail_url"] = f"/api/tracks/{track_id}/thumbnail"
        if points:
            out["points"] = [_plain(p) for p in store.track_points(track_id)]
        record(user, "view_track", case_ref, purpose, {"track_id": track_id, "points": bool(points)})
        return out

    @app.get("/api/tracks/{track_id}/thumbnail", tags=["tracks"], response_class=Response,
             responses={200: {"content": {"image/jpeg": {}}}})
    def thumbnail(track_id: int = Path(ge=1, le=MAX_ID),
                  case_ref: str | None = Justification["case_ref"], purpose: str | None = Justification["purpose"],
                  user: users.User = Depends(current_user)) -> Response:
        allow(user, "view_media_blurred", case_ref, purpose)
        track = visible_track(user, track_id)
        if services.blurrer is None:
            raise ApiError(503, "no blurrer is configured: thumbnails are only served blurred")
        with store._read() as conn:
            row = conn.execute("SELECT jpeg FROM thumbnails WHERE track_id=?", (track_id,)).fetchone()
        if row is None or not row[0]:
            raise ApiError(404, f"track {track_id} has no stored thumbnail")
        import cv2
        import numpy as np

        image = cv2.imdecode(np.frombuffer(row[0], np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ApiError(500, f"the stored thumbnail of track {track_id} cannot be decoded")
        with services.blur_lock:  # a Blurrer is one per thread; the server shares one
            blurred, regions = services.blurrer.blur_crop(image, track["class"])
        ok, buf = cv2.imencode(".jpg", blurred, [cv2.IMWRITE_JPEG_QUALITY, 90])
        if not ok:
            raise ApiError(500, f"the blurred thumbnail of track {track_id} cannot be encoded")
        record(user, "view_track", case_ref, purpose, {"track_id": track_id, "thumbnail": True, "blurred_regions": len(regions)})
        return Response(buf.tobytes(), media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    # --- search, similar, trail ---------------------------------------------------------------------------------
    @app.post("/api/search", tags=["search"])
    def do_search(body: SearchRequest = Body(...), user: users.User = Depends(current_user)) -> dict:
        allow(user, "search", body.case_ref, body.purpose)
        data = body.model_dump(exclude={"case_ref", "purpose"}, exclude_unset=True)
        query = bounded(user, data)
        from vigie.search.engine import search

        result = search(store, query)
        record(user, "search", body.case_ref, body.purpose, {"query": query.model_dump(mode="json"), "total": result.total})
        return result.model_dump(mode="json")

    @app.get("/api/similar/{track_id}", tags=["search"])
    def do_similar(track_id: int = Path(ge=1, le=MAX_ID), limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
                   case_ref: str | None = Justification["case_ref"], purpose: str | None = Justification["purpose"],
                   user: users.User = Depends(current_user)) -> dict:
        allow(user, "similar", case_ref, purpose)
        visible_track(user, track_id)
        query = bounded(user, {"limit": limit, "offset": offset})
        from vigie.search.engine import similar

        result = similar(store, track_id, query)
        record(user, "similar", case_ref, purpose, {"track_id": track_id, "query": query.model_dump(mode="json"), "total": result.total})
        return result.model_dump(mode="json")

    @app.get("/api/trail/{track_id}", tags=["search"])
    def do_trail(track_id: int = Path(ge=1, le=MAX_ID), candidates: int = Query(200, ge=1, le=1000),
                 case_ref: str | None = Justification["case_ref"], purpose: str | None = Justification["purpose"],
                 user: users.User = Depends(current_user)) -> dict:
        allow(user, "trail", case_ref, purpose)
        visible_track(user, track_id)
        from vigie.search.trail import trail_geojson
        from vigie.search.trail_cli import trail_for_track

        data = trail_geojson(trail_for_track(store, track_id, bounded(user, {}), candidates=candidates))
        record(user, "trail", case_ref, purpose, {"track_id": track_id, "candidates": candidates,
                                                  "sightings": sum(f["properties"].get("kind") == "sighting" for f in data["features"])})
        return data

    # --- audit ---------------------------------------------------------------------------------------------
    @app.get("/api/audit", tags=["audit"])
    def audit_entries(user_: str | None = Query(None, alias="user", max_length=TEXT), action: str | None = Query(None, max_length=64),
                      case_ref: str | None = Query(None, max_length=TEXT), start: str | None = Query(None, max_length=64),
                      end: str | None = Query(None, max_length=64), limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0),
                      user: users.User = Depends(current_user)) -> dict:
        allow(user, "audit_read")
        entries = audit.query(store, user=user_, action=action, case_ref=case_ref, start=start, end=end, limit=limit, offset=offset)
        return _page([e.as_dict() for e in entries], limit, offset)

    @app.get("/api/audit/verify", tags=["audit"])
    def audit_verify(user: users.User = Depends(current_user)) -> dict:
        if user.role not in ("auditor", "admin"):
            raise ApiError(403, f"role {user.role!r} may not verify the audit log (auditor, admin)")
        r = audit.verify(store)
        return {"ok": r.ok, "entries": r.entries, "first_bad_seq": r.first_bad_seq, "reason": r.reason, "last_hash": r.last_hash}

    # --- the public register ----------------------------------------------------------------------------------
    def register_rows() -> list[dict]:
        site = services.site
        if site is None:
            with store._read() as conn:
                cams = [dict(r) for r in conn.execute("SELECT id, name, lat, lon, commune, grp AS 'group', purpose FROM cameras ORDER BY id")]
            return [{**c, "retention_days": None, "analytics": None, "controller": None} for c in cams]
        rows = []
        for cam in site.cameras:
            a = site.analysis_for(cam.id)
            rows.append({
                "id": cam.id, "name": cam.name, "commune": cam.commune, "group": cam.group, "purpose": cam.purpose,
                "lat": cam.lat, "lon": cam.lon, "retention_days": site.retention_for(cam.id),
                "analytics": {"detection_classes": list(a.classes), "tracking": True,
                              "appearance_search": a.search_crops > 0, "privacy_masks": len(cam.privacy_masks)},
                "controller": getattr(site, "controller", None) or site.name,
            })
        return rows

    @app.get("/register.json", tags=["register"])
    def register_json() -> dict:
        rows = register_rows()
        return {"site": getattr(services.site, "name", None), "cameras": rows, "total": len(rows)}

    @app.get("/register.csv", tags=["register"], response_class=Response, responses={200: {"content": {"text/csv": {}}}})
    def register_csv() -> Response:
        out = io.StringIO()
        columns = ["id", "name", "commune", "group", "purpose", "lat", "lon", "retention_days", "detection_classes",
                   "tracking", "appearance_search", "privacy_masks", "controller"]
        w = csv.writer(out)
        w.writerow(columns)
        for r in register_rows():
            a = r["analytics"] or {}
            flat = {**r, "detection_classes": " ".join(a.get("detection_classes", [])), "tracking": a.get("tracking"),
                    "appearance_search": a.get("appearance_search"), "privacy_masks": a.get("privacy_masks")}
            # free text a spreadsheet would run as a formula gets a leading quote
            w.writerow([("'" + v) if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v
                        for v in (flat.get(c) for c in columns)])
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8")

    @app.get("/register", tags=["register"], response_class=HTMLResponse)
    def register_html() -> HTMLResponse:
        e = html.escape
        rows = "".join(
            "<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in (
                r["id"], r["name"], r["commune"], r["group"], r["purpose"], f"{r['lat']:.5f}, {r['lon']:.5f}",
                r["retention_days"] if r["retention_days"] is not None else "-",
                ", ".join(f"{k}: {v}" for k, v in (r["analytics"] or {}).items()) or "-", r["controller"] or "-")) + "</tr>"
            for r in register_rows())
        title = e(f"Camera register - {getattr(services.site, 'name', 'Vigie')}")
        page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body><h1>{title}</h1>"
                "<table border='1'><tr><th>id</th><th>name</th><th>commune</th><th>group</th><th>purpose</th><th>position</th>"
                "<th>retention (days)</th><th>analytics</th><th>controller</th></tr>"
                f"{rows}</table><p><a href='/register.json'>JSON</a> <a href='/register.csv'>CSV</a></p></body></html>")
        return HTMLResponse(page)

    from vigie.web.ui import mount_ui

    mount_ui(app, services)  # the pages and their local assets
    return app

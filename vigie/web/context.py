"""What every route module shares: the services the app is built from, and the
per-request checks (who is asking, may they, within which window) and the
audit call. Route modules take an `ApiContext` and add their routes to the app;
nothing here is global, so two apps over two stores never mix.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from vigie.accounts import users
from vigie.accounts.roles import Forbidden, allowed, max_search_window, require
from vigie.audit import log as audit
from vigie.search.query import SearchQuery, parse_query
from vigie.store.sqlite import SQLiteStore, iso

COOKIE = "vigie_session"
MAX_ID = 2**63 - 1
MAX_OFFSET = 10**9  # paging deeper than this is a mistake (and SQLite's integers stop at 2**63)
TEXT = 256  # longest accepted free-text parameter


@dataclass
class Services:
    """What the app is built from: the store, the site file, an optional blurrer."""

    store: SQLiteStore
    site: Any = None  # vigie.config.SiteConfig or None
    blurrer: Any = None  # vigie.privacy.blur.Blurrer, or anything with blur_crop() and blur()
    secure_cookie: bool = False  # set the cookie's Secure flag (behind HTTPS)
    unblur_minutes: int = 60  # how long an investigator's unblurred view of a track stays open
    # How long one live alert feed (GET /api/alerts/stream) stays open before the server ends it; the
    # page's EventSource then reconnects with Last-Event-ID and misses nothing. A bounded feed never
    # holds a worker, a proxy connection or a test client for ever.
    alert_feed_s: float = 900.0
    blur_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class ErrorBody(BaseModel):
    """Every error the API sends: what is wrong, and where the request says which field."""

    error: str = Field(description="What is wrong, in words that name the problem.")
    field: str | None = Field(None, description="The request field at fault (400, 422).")
    missing: list[str] | None = Field(None, description="Justification fields an investigator must give (400).")
    locked_until: str | None = Field(None, description="When a locked account may try again (423).")


ERROR_RESPONSES = {  # declared on every operation, so the published schema says what the app really answers
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (400, "Refused: a bad value, or a missing case reference or purpose"),
        (401, "Not logged in, or the session expired"),
        (403, "The role may not do this"),
        (404, "Not found"),
        (409, "Conflict: the thing was already done (an alert already decided)"),
        (410, "The recording behind these media is gone"),
        (422, "Malformed request: the field is named"),
        (423, "Account locked after repeated failures"),
        (503, "Media refused: no blurrer is configured"),
    )
}


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def err(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def page(items: list, limit: int, offset: int, total: int | None = None, **more) -> dict:
    out = {"items": items, "limit": limit, "offset": offset, **more}
    if total is not None:
        out["total"] = total
    return out


def utc(text: str) -> datetime:
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def plain(d: dict) -> dict:
    """A row without its binary columns (vectors, JPEGs), for JSON."""
    return {k: v for k, v in d.items() if not isinstance(v, (bytes, bytearray, memoryview))}


def case_ref_param():
    return Query(None, max_length=TEXT, description="Case reference (investigators: required).")


def purpose_param():
    return Query(None, max_length=TEXT, description="Purpose (investigators: required).")


class ApiContext:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = services.store

    # --- who is asking ----------------------------------------------------------------------------
    def current_user(self, request: Request) -> users.User:
        """FastAPI dependency: the session's user, or 401."""
        token = request.cookies.get(COOKIE)
        user = users.session_user(self.store, token) if token else None
        if user is None:
            raise ApiError(401, "not logged in: POST /api/login first (or the session has expired)")
        return user

    @staticmethod
    def allow(user: users.User, permission: str, case_ref: str | None = None, purpose: str | None = None) -> None:
        require(user.role, permission, case_ref, purpose)

    def user_with(self, permission: str):
        """A FastAPI dependency: the session's user, whose role must hold `permission` (no justification)."""

        def dependency(request: Request) -> users.User:
            user = self.current_user(request)
            self.may(user, permission)
            return user

        return dependency

    @staticmethod
    def may(user: users.User, permission: str) -> None:
        """Forbidden unless the role holds the permission; for calls whose justification is elsewhere
        (an unblur grant carries its case; listing one's own exports needs none)."""
        if not allowed(user.role, permission):
            raise Forbidden(f"role {user.role!r} does not have permission {permission!r}")

    @staticmethod
    def window_start(user: users.User) -> datetime | None:
        window = max_search_window(user.role)
        return datetime.now(timezone.utc) - window if window else None

    def visible_track(self, user: users.User, track_id: int) -> dict:
        """The track, or 404; 403 when it is older than the role's window."""
        track = self.store.get_track(track_id)
        if track is None:
            raise ApiError(404, f"no stored track has id {track_id}")
        lower = self.window_start(user)
        if lower is not None and utc(track["last_seen"]) < lower:
            raise ApiError(
                403,
                f"role {user.role!r} may only see tracks of the last "
                f"{int(max_search_window(user.role).total_seconds() // 3600)} hours; track {track_id} is older",
            )
        return track

    def record(self, user: users.User, action: str, case_ref: str | None, purpose: str | None, details: dict):
        return audit.append(
            self.store,
            user.username,
            user.role,
            action,
            case_ref=case_ref or None,
            purpose=purpose or None,
            details=details,
        )

    def bounded(self, user: users.User, data: dict) -> SearchQuery:
        """The query, its window forced to (or checked against) the role's search window."""
        lower = self.window_start(user)
        if lower is None:
            return parse_query(data)
        query = parse_query(data)
        if query.start is None:
            if query.end is not None and query.end <= lower:
                raise ApiError(
                    400,
                    f"field end: {query.end.isoformat()} is outside the last 24 hours, "
                    f"which is all role {user.role!r} may search",
                    field="end",
                )
            return parse_query({**data, "start": lower})
        if query.start < lower:
            raise ApiError(
                400,
                f"field start: {query.start.isoformat()} is outside the last 24 hours, "
                f"which is all role {user.role!r} may search (from {iso(lower)})",
                field="start",
            )
        return query

    def camera_known(self, camera_id: str) -> None:
        """404 unless the camera is in the store's register."""
        with self.store._read() as conn:
            if conn.execute("SELECT 1 FROM cameras WHERE id = ?", (camera_id,)).fetchone() is None:
                raise ApiError(404, f"no camera has id {camera_id!r}")

    def effective_site(self):
        """The site file with the admin's stored settings applied (re-read per call: settings change)."""
        from vigie.settings import EffectiveSite

        return EffectiveSite(self.services.site, self.store)

    def blurrer(self):
        if self.services.blurrer is None:
            raise ApiError(
                503, "no blurrer is configured: media are only served blurred (start the server without --no-blur)"
            )
        return self.services.blurrer

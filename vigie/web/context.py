"""What every route module shares: the services the app is built from, the error
body, and the per-request checks (which track, within which window) and the
audit call, each a function of the services. Nothing here holds a store or
services: routes get them per request (vigie.web.deps), so two apps over two
stores never mix.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from vigie.accounts import users
from vigie.accounts.roles import max_search_window
from vigie.audit import log as audit
from vigie.errors import VigieError
from vigie.i18n import _
from vigie.search.query import SearchQuery, parse_query
from vigie.services import Services
from vigie.settings import EffectiveSite
from vigie.times import from_iso, iso

COOKIE = "vigie_session"
MAX_ID = 2**63 - 1
MAX_OFFSET = 10**9  # paging deeper than this is a mistake (and SQLite's integers stop at 2**63)
TEXT = 256  # longest accepted free-text parameter
# Where a request gives no justification, the case opened for the session is used (justified): every tab of a
# session works for the same case, and a result opened in a new tab needs nothing typed again.
OPEN_CASE = " A case opened for the session (PUT /api/case) is used when none is given."


class ErrorBody(BaseModel):
    """Every error the API sends: what is wrong, and where the request says which field."""

    error: str = Field(description="What is wrong, in words that name the problem.")
    field: str | None = Field(None, description="The request field at fault (400, 422).")
    missing: list[str] | None = Field(None, description="Justification fields an investigator must give (400).")
    expired: bool | None = Field(None, description="The session cookie sent is no longer valid: log in again (401).")


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
        (429, "Too many attempts: wait the seconds Retry-After says"),
        (503, "Media refused: no blurrer is configured"),
    )
}


class Justification(BaseModel):
    """The justification investigators give in a request body, for the bodies that carry one to inherit."""

    case_ref: str | None = Field(
        None, max_length=TEXT, description="Case reference (investigators: required)." + OPEN_CASE
    )
    purpose: str | None = Field(None, max_length=TEXT, description="Purpose (investigators: required)." + OPEN_CASE)


class ApiError(VigieError):
    """A refusal only the API makes, with its status and any extra JSON fields."""

    def __init__(self, status: int, message: str, **extra) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra

    def body(self) -> dict:
        return {"error": self.message, **self.extra}


# A server file path in a message: quoted (spaces allowed), or bare. The app's own URL paths stay.
_QUOTED_PATH = re.compile(r"""(['"])(/[^'"\n]*/[^'"\n/]*)\1""")
_BARE_PATH = re.compile(r"(?<![\w.~:/-])/(?:[\w.@+~%-]+/)+[\w.@+~%-]*")
URL_PREFIXES = ("/api/", "/open311/", "/register", "/report", "/tiles/", "/static/")


def hide_paths(text: str) -> str:
    """The message with every server file path cut to its last component (the recording's file name):
    errors and exports never show where the server keeps its files."""

    def last(path: str) -> str:
        return path if path.startswith(URL_PREFIXES) else path.rstrip("/").rsplit("/", 1)[-1] or "(a server path)"

    text = _QUOTED_PATH.sub(lambda m: m.group(1) + last(m.group(2)) + m.group(1), text)
    return _BARE_PATH.sub(lambda m: last(m.group(0)), text)


def err(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def page(items: list, limit: int, offset: int, total: int | None = None, **more) -> dict:
    out = {"items": items, "limit": limit, "offset": offset, **more}
    if total is not None:
        out["total"] = total
    return out


def plain(d: dict) -> dict:
    """A row without its binary columns (vectors, JPEGs), for JSON."""
    return {k: v for k, v in d.items() if not isinstance(v, (bytes, bytearray, memoryview))}


def justified(user: users.User, case_ref: str | None, purpose: str | None) -> tuple[str | None, str | None]:
    """The request's case reference and purpose, or the session's open case where the request gives none.

    A purpose is taken from the session only with the session's own case: a request that names another
    case must say why itself."""
    given_case = (case_ref or "").strip() or None
    given_purpose = (purpose or "").strip() or None
    if given_case is None and given_purpose is None:
        return (user.case_ref, user.case_purpose) if user.case_ref else (case_ref, purpose)
    if given_case is None:
        return user.case_ref, purpose
    if given_purpose is None and given_case == user.case_ref:
        return case_ref, user.case_purpose
    return case_ref, purpose


def window_start(user: users.User) -> datetime | None:
    window = max_search_window(user.role)
    return datetime.now(timezone.utc) - window if window else None


def visible_track(services: Services, user: users.User, track_id: int) -> dict:
    """The track, or 404; 403 when it is older than the role's window."""
    track = services.store.get_track(track_id)
    if track is None:
        raise ApiError(404, _("no stored track has id {track_id}", track_id=track_id))
    lower = window_start(user)
    if lower is not None and from_iso(track["last_seen"]) < lower:
        raise ApiError(
            403,
            _(
                "role {role} may only see tracks of the last {value} hours; track {track_id} is older",
                role=repr(user.role),
                value=int(max_search_window(user.role).total_seconds() // 3600),
                track_id=track_id,
            ),
        )
    return track


def record(services: Services, user: users.User, action: str, case_ref: str | None, purpose: str | None, details: dict):
    """Append what the user looked at to the audit log (under the session's open case where none is given)."""
    case_ref, purpose = justified(user, case_ref, purpose)
    return audit.append(
        services.store,
        user.username,
        user.role,
        action,
        case_ref=case_ref or None,
        purpose=purpose or None,
        details=details,
    )


def record_look(
    services: Services, user: users.User, action: str, grant: dict | None, case_ref, purpose, details: dict
):
    """A look at media in the audit log: under an open unblur grant, view_unblurred under the grant's case
    (naming the grant); else `action` under the request's justification."""
    if grant:
        details = {**details, "grant_id": grant["id"]}
        return record(services, user, "view_unblurred", grant["case_ref"], grant["purpose"], details)
    return record(services, user, action, case_ref, purpose, details)


def bounded(user: users.User, data: dict) -> SearchQuery:
    """The query, its window forced to (or checked against) the role's search window."""
    lower = window_start(user)
    if lower is None:
        return parse_query(data)
    query = parse_query(data)
    if query.start is None:
        if query.end is not None and query.end <= lower:
            raise ApiError(
                400,
                _(
                    "field end: {value} is outside the last 24 hours, which is all role {role} may search",
                    value=query.end.isoformat(),
                    role=repr(user.role),
                ),
                field="end",
            )
        return parse_query({**data, "start": lower})
    if query.start < lower:
        raise ApiError(
            400,
            _(
                "field start: {value} is outside the last 24 hours, which is all role {role} may search (from {value2})",
                value=query.start.isoformat(),
                role=repr(user.role),
                value2=iso(lower),
            ),
            field="start",
        )
    return query


def camera_known(services: Services, camera_id: str) -> None:
    """404 unless the camera is in the store's register."""
    with services.store.read() as conn:
        if conn.execute("SELECT 1 FROM cameras WHERE id = ?", (camera_id,)).fetchone() is None:
            raise ApiError(404, _("no camera has id {camera_id}", camera_id=repr(camera_id)))


def effective_site(services: Services):
    """The site file with the admin's stored settings applied (re-read per call: settings change)."""

    return EffectiveSite(services.site, services.store)


def blurrer(services: Services):
    if services.blurrer is None:
        raise ApiError(
            503, _("no blurrer is configured: media are only served blurred (start the server without --no-blur)")
        )
    return services.blurrer

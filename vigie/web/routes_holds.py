"""Legal-hold routes: investigators keep a case's tracks past retention, and release them.

The hold and its audit entry commit together (vigie.retention.holds); the
reason given is the audit entry's purpose. Investigators list holds with a case
reference and a purpose, like every other look at footage. A camera window is
bounded by the site file's hold_max_window_days; a longer or open-ended one needs
a supervisor. A hold is lifted by whoever placed it or by a supervisor, with a
reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from vigie.accounts import users
from vigie.i18n import _
from vigie.retention import holds
from vigie.web.context import MAX_ID, MAX_OFFSET, TEXT, page, record
from vigie.web.deps import CaseRef, Purpose, ServicesDep, allow, allow_body, user_with

router = APIRouter(tags=["holds"])

Holder = Annotated[users.User, Depends(user_with("holds"))]
DEFAULT_MAX_WINDOW_DAYS = 7  # the site file's default (SiteConfig.hold_max_window_days), when the app has no site


class NewHold(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_ref: str | None = Field(
        None,
        max_length=TEXT,
        description="Case reference (investigators: required, unless a case is open for the session).",
    )
    reason: str = Field(min_length=1, max_length=TEXT, description="Why the footage must be kept.")
    track_ids: list[int] = Field(default_factory=list, max_length=10000)
    camera_id: str | None = Field(None, max_length=128, description="With start and end: hold a camera's time window.")
    start: datetime | None = None
    end: datetime | None = Field(
        None, description="The window's end: at most the site's hold_max_window_days after start (supervisors: more)."
    )
    open_ended: bool = Field(
        False, description="A camera window with no end, kept until lifted: supervisors only (no end is given)."
    )


class LiftHold(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000, description="Why the footage need no longer be kept.")


def max_window_days(services) -> float:
    return services.site.hold_max_window_days if services.site is not None else DEFAULT_MAX_WINDOW_DAYS


@router.get("/api/holds")
def list_holds(
    services: ServicesDep,
    user: Holder,
    all: bool = Query(False, description="lifted holds too"),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    case_ref: CaseRef = None,
    purpose: Purpose = None,
) -> dict:
    """The legal holds (investigators: with a case reference and a purpose, audited)."""
    allow(user, "holds", case_ref, purpose)
    found = holds.list_holds(services.store, active_only=not all)
    record(services, user, "view_holds", case_ref, purpose, {"all": all, "limit": limit, "offset": offset})
    return page(found[offset : offset + limit], limit, offset, len(found))


@router.post("/api/holds", status_code=201)
def place(services: ServicesDep, body: NewHold, user: Holder) -> dict:
    """Hold tracks and/or a camera window (at most hold_max_window_days long; longer or open-ended: supervisors)."""
    body = allow_body(user, "holds", body, purpose=body.reason)  # none given: the session's open case
    for t in body.track_ids:
        if not 1 <= t <= MAX_ID:
            raise holds.HoldError(_("track id {t} is out of range", t=t))
    hold_id = holds.place_hold(
        services.store,
        body.case_ref,
        body.reason,
        user.username,
        track_ids=body.track_ids,
        camera_id=body.camera_id,
        start=body.start,
        end=body.end,
        role=user.role,
        open_end=body.open_ended,
        max_window_days=max_window_days(services),
    )
    return {"id": hold_id}


@router.post("/api/holds/{hold_id}/lift")
def lift(services: ServicesDep, body: LiftHold, user: Holder, hold_id: int = Path(ge=1, le=MAX_ID)) -> dict:
    """Lift a hold you placed (supervisors: any hold), with a reason; the hold's case is the audit entry's."""
    holds.lift_hold(services.store, hold_id, user.username, role=user.role, reason=body.reason)
    return {"id": hold_id, "lifted_by": user.username}

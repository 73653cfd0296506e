"""Legal-hold routes: investigators keep a case's tracks past retention, and release them.

The hold and its audit entry commit together (vigie.retention.holds); the
reason given is the audit entry's purpose.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from vigie.accounts import users
from vigie.retention import holds
from vigie.web.context import MAX_ID, MAX_OFFSET, TEXT, page
from vigie.web.deps import ServicesDep, user_with

router = APIRouter(tags=["holds"])

Investigator = Annotated[users.User, Depends(user_with("holds"))]


class NewHold(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_ref: str = Field(min_length=1, max_length=TEXT)
    reason: str = Field(min_length=1, max_length=TEXT, description="Why the footage must be kept.")
    track_ids: list[int] = Field(default_factory=list, max_length=10000)
    camera_id: str | None = Field(None, max_length=128, description="With start and end: hold a camera's time window.")
    start: datetime | None = None
    end: datetime | None = None


@router.get("/api/holds")
def list_holds(
    services: ServicesDep,
    user: Investigator,
    all: bool = Query(False, description="lifted holds too"),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict:
    found = holds.list_holds(services.store, active_only=not all)
    return page(found[offset : offset + limit], limit, offset, len(found))


@router.post("/api/holds", status_code=201)
def place(services: ServicesDep, body: NewHold, user: Investigator) -> dict:
    for t in body.track_ids:
        if not 1 <= t <= MAX_ID:
            raise holds.HoldError(f"track id {t} is out of range")
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
    )
    return {"id": hold_id}


@router.post("/api/holds/{hold_id}/lift")
def lift(services: ServicesDep, user: Investigator, hold_id: int = Path(ge=1, le=MAX_ID)) -> dict:
    holds.lift_hold(services.store, hold_id, user.username, role=user.role)
    return {"id": hold_id, "lifted_by": user.username}

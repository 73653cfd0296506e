"""Legal-hold routes: investigators keep a case's tracks past retention, and release them.

The hold and its audit entry commit together (vigie.retention.holds); the
reason given is the audit entry's purpose.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Depends, FastAPI, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from vigie.accounts import users
from vigie.retention import holds
from vigie.web.context import MAX_ID, MAX_OFFSET, TEXT, ApiContext, page


class NewHold(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_ref: str = Field(min_length=1, max_length=TEXT)
    reason: str = Field(min_length=1, max_length=TEXT, description="Why the footage must be kept.")
    track_ids: list[int] = Field(default_factory=list, max_length=10000)
    camera_id: str | None = Field(None, max_length=128, description="With start and end: hold a camera's time window.")
    start: datetime | None = None
    end: datetime | None = None


def add_routes(app: FastAPI, ctx: ApiContext) -> None:
    store = ctx.store

    investigator = ctx.user_with("holds")

    @app.get("/api/holds", tags=["holds"])
    def list_holds(
        all: bool = Query(False, description="lifted holds too"),
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
        user: users.User = Depends(investigator),
    ) -> dict:
        found = holds.list_holds(store, active_only=not all)
        return page(found[offset : offset + limit], limit, offset, len(found))

    @app.post("/api/holds", tags=["holds"], status_code=201)
    def place(body: NewHold, user: users.User = Depends(investigator)) -> dict:
        for t in body.track_ids:
            if not 1 <= t <= MAX_ID:
                raise holds.HoldError(f"track id {t} is out of range")
        hold_id = holds.place_hold(
            store,
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

    @app.post("/api/holds/{hold_id}/lift", tags=["holds"])
    def lift(hold_id: int = Path(ge=1, le=MAX_ID), user: users.User = Depends(investigator)) -> dict:
        holds.lift_hold(store, hold_id, user.username, role=user.role)
        return {"id": hold_id, "lifted_by": user.username}

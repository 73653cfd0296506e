"""Supervisor routes: the requests that open media to someone, and their decisions.

A supervisor lists the pending requests (an investigator's unblurred view of a track, an admin's
grant of a role that sees media, an admin's reset of such an account's password) and approves or
rejects each, with a note. The decider is never the requester (403). Everything is audited in the
same transaction as its effect (vigie.accounts.approvals). A reset's link is in the approving
supervisor's answer only, shown once.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from vigie.accounts import approvals, users
from vigie.web.context import MAX_ID, MAX_OFFSET, page
from vigie.web.deps import ServicesDep, user_with

router = APIRouter(tags=["approvals"])

Supervisor = Annotated[users.User, Depends(user_with("approve"))]


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["approve", "reject"]
    note: str | None = Field(None, max_length=1000, description="Why (kept in the audit log).")


@router.get("/api/approvals")
def list_requests(
    services: ServicesDep,
    user: Supervisor,
    status: Literal["pending", "approved", "rejected"] | None = Query("pending", description="None: every request."),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict:
    items, total = approvals.listing(services.store, status, limit, offset)
    return page(items, limit, offset, total)


@router.post("/api/approvals/{request_id}")
def decide(services: ServicesDep, body: Decision, user: Supervisor, request_id: int = Path(ge=1, le=MAX_ID)) -> dict:
    """Approve or reject a pending request (409 once decided; 403 for one's own request or account)."""
    out = approvals.decide(
        services.store, user, request_id, body.decision == "approve", body.note, services.unblur_minutes
    )
    if "link_token" in out:  # a reset: the link, for this supervisor to hand to the account's owner
        out["reset_link"] = f"/enrol#{out.pop('link_token')}"
    return out

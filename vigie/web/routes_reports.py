"""Moderation of citizen reports (role moderator, permission reports_moderate).

The queue with the senders' contact details (moderators only), each report and
its photo (sanitised and blurred before it was stored), and the decisions:
accept, reject, merge into an accepted report, redact the description,
post a status update. Reads are audited as view_reports, every decision as
report_moderate with the report id and the decision, in the same transaction
as the change.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from vigie.accounts import users
from vigie.citizen import reports
from vigie.web.context import MAX_ID, MAX_OFFSET, page, record
from vigie.web.deps import ServicesDep, user_with

# A ReportError carries its status (404 not there, 409 already decided, 400 refused): the app's handler answers it.
router = APIRouter(tags=["reports"])

Moderator = Annotated[users.User, Depends(user_with("reports_moderate"))]


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["accept", "reject", "merge"]
    reason: str | None = Field(
        None, max_length=1000, description="Why (required to reject; shown to the sender through their token)."
    )
    merge_into: int | None = Field(None, ge=1, le=MAX_ID, description="merge: the accepted report this one duplicates.")


class Redaction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = Field(
        max_length=20_000, description="The new description; it replaces the old one, which is not kept."
    )
    remove_photo: bool = Field(False, description="Also delete the photo (a person the blurrer missed, for instance).")


class StatusUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["open", "closed"]
    status_notes: str = Field("", max_length=2000, description="Shown publicly with the request and to its sender.")


def now() -> datetime:
    return datetime.now(timezone.utc)


@router.get("/api/reports")
def list_reports(
    services: ServicesDep,
    user: Moderator,
    moderation: Literal["pending", "accepted", "rejected", "merged"] | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict:
    """Citizen reports, oldest first (the queue's order), with the senders' contact details."""
    items, total = reports.list_reports(services.store, moderation, limit, offset)
    record(
        services,
        user,
        "view_reports",
        None,
        None,
        {
            "moderation": moderation,
            "limit": limit,
            "offset": offset,
            "total": total,
            "ids": [r["id"] for r in items],
        },
    )  # whose contact details were shown
    return page(items, limit, offset, total)


@router.get("/api/reports/{report_id}")
def get_report(services: ServicesDep, user: Moderator, report_id: int = Path(ge=1, le=MAX_ID)) -> dict:
    report = reports.get_report(services.store, report_id)
    report["photo_url"] = f"/api/reports/{report_id}/photo" if report["has_photo"] else None
    record(services, user, "view_reports", None, None, {"report_id": report_id})
    return report


@router.get(
    "/api/reports/{report_id}/photo",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def report_photo(services: ServicesDep, user: Moderator, report_id: int = Path(ge=1, le=MAX_ID)) -> Response:
    """The photo as stored: re-encoded without metadata, faces and plates blurred."""
    data = reports.photo(services.store, report_id)
    record(services, user, "view_reports", None, None, {"report_id": report_id, "photo": True})
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.post("/api/reports/{report_id}/decision")
def decide(services: ServicesDep, body: Decision, user: Moderator, report_id: int = Path(ge=1, le=MAX_ID)) -> dict:
    """Accept, reject or merge, once: a second decision is refused (409), naming the first."""
    return reports.decide(
        services.store,
        report_id,
        body.decision,
        user.username,
        user.role,
        now(),
        reason=body.reason,
        merge_into=body.merge_into,
    )


@router.post("/api/reports/{report_id}/redact")
def redact(services: ServicesDep, body: Redaction, user: Moderator, report_id: int = Path(ge=1, le=MAX_ID)) -> dict:
    """Replace the description (personal data removed): the original is not kept anywhere."""
    return reports.redact(
        services.store, report_id, body.description.strip(), body.remove_photo, user.username, user.role, now()
    )


@router.post("/api/reports/{report_id}/status")
def status(services: ServicesDep, body: StatusUpdate, user: Moderator, report_id: int = Path(ge=1, le=MAX_ID)) -> dict:
    """A public status update of an accepted report."""
    return reports.update_status(
        services.store, report_id, body.status, body.status_notes.strip(), user.username, user.role, now()
    )

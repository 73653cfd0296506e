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
from typing import Literal

from fastapi import Depends, FastAPI, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from vigie.accounts import users
from vigie.citizen import reports
from vigie.web.context import MAX_ID, MAX_OFFSET, ApiContext, ApiError, page

TAGS = ["reports"]


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


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except reports.ReportError as exc:
        raise ApiError(exc.status, str(exc)) from None


def add_routes(app: FastAPI, ctx: ApiContext) -> None:
    store = ctx.store
    moderator = ctx.user_with("reports_moderate")

    def now() -> datetime:
        return datetime.now(timezone.utc)

    @app.get("/api/reports", tags=TAGS)
    def list_reports(
        moderation: Literal["pending", "accepted", "rejected", "merged"] | None = None,
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
        user: users.User = Depends(moderator),
    ) -> dict:
        """Citizen reports, oldest first (the queue's order), with the senders' contact details."""
        items, total = _call(reports.list_reports, store, moderation, limit, offset)
        ctx.record(
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

    @app.get("/api/reports/{report_id}", tags=TAGS)
    def get_report(report_id: int = Path(ge=1, le=MAX_ID), user: users.User = Depends(moderator)) -> dict:
        report = _call(reports.get_report, store, report_id)
        report["photo_url"] = f"/api/reports/{report_id}/photo" if report["has_photo"] else None
        ctx.record(user, "view_reports", None, None, {"report_id": report_id})
        return report

    @app.get(
        "/api/reports/{report_id}/photo",
        tags=TAGS,
        response_class=Response,
        responses={200: {"content": {"image/jpeg": {}}}},
    )
    def report_photo(report_id: int = Path(ge=1, le=MAX_ID), user: users.User = Depends(moderator)) -> Response:
        """The photo as stored: re-encoded without metadata, faces and plates blurred."""
        data = _call(reports.photo, store, report_id)
        ctx.record(user, "view_reports", None, None, {"report_id": report_id, "photo": True})
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    @app.post("/api/reports/{report_id}/decision", tags=TAGS)
    def decide(body: Decision, report_id: int = Path(ge=1, le=MAX_ID), user: users.User = Depends(moderator)) -> dict:
        """Accept, reject or merge, once: a second decision is refused (409), naming the first."""
        return _call(
            reports.decide,
            store,
            report_id,
            body.decision,
            user.username,
            user.role,
            now(),
            reason=body.reason,
            merge_into=body.merge_into,
        )

    @app.post("/api/reports/{report_id}/redact", tags=TAGS)
    def redact(body: Redaction, report_id: int = Path(ge=1, le=MAX_ID), user: users.User = Depends(moderator)) -> dict:
        """Replace the description (personal data removed): the original is not kept anywhere."""
        return _call(
            reports.redact,
            store,
            report_id,
            body.description.strip(),
            body.remove_photo,
            user.username,
            user.role,
            now(),
        )

    @app.post("/api/reports/{report_id}/status", tags=TAGS)
    def status(
        body: StatusUpdate, report_id: int = Path(ge=1, le=MAX_ID), user: users.User = Depends(moderator)
    ) -> dict:
        """A public status update of an accepted report."""
        return _call(
            reports.update_status,
            store,
            report_id,
            body.status,
            body.status_notes.strip(),
            user.username,
            user.role,
            now(),
        )

"""Audit routes: the auditor filters, exports and verifies the log.

Reading the log is itself audited (who looked at whose activity is as much a
matter for the council as who looked at footage). Exports stream, so a log of
millions of entries never sits in memory.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Iterator, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from vigie.audit import log as audit
from vigie.web.context import MAX_OFFSET, TEXT, page, record
from vigie.web.deps import CurrentUser, ServicesDep, allow

router = APIRouter(tags=["audit"])


def _csv_lines(entries) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(audit.FIELDS)
    for n, entry in enumerate(entries, 1):
        writer.writerow([audit.csv_cell(f, getattr(entry, f)) for f in audit.FIELDS])
        if n % 500 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _jsonl_lines(entries) -> Iterator[str]:
    for entry in entries:
        yield json.dumps({f: getattr(entry, f) for f in audit.FIELDS}, ensure_ascii=False) + "\n"


def filters(
    user_: str | None = Query(None, alias="user", max_length=TEXT),
    action: str | None = Query(None, max_length=64),
    case_ref: str | None = Query(None, max_length=TEXT),
    start: str | None = Query(None, max_length=64, description="ISO 8601, inclusive (UTC unless an offset is given)"),
    end: str | None = Query(None, max_length=64, description="ISO 8601, exclusive"),
) -> dict:
    return {"user": user_, "action": action, "case_ref": case_ref, "start": start, "end": end}


Filters = Annotated[dict, Depends(filters)]


@router.get("/api/audit")
def audit_entries(
    services: ServicesDep,
    f: Filters,
    user: CurrentUser,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict:
    allow(user, "audit_read")
    entries = audit.query(services.store, **f, limit=limit, offset=offset)  # AuditError (400) names a bad filter
    details = {"filters": f, "limit": limit, "offset": offset, "returned": len(entries)}
    record(services, user, "audit_read", None, None, details)
    # Every action the code records, for the page's filter (it never lists them itself, so none is missed).
    return page([e.as_dict() for e in entries], limit, offset, actions=sorted(audit.ACTIONS))


@router.get(
    "/api/audit/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
)
def audit_export(
    services: ServicesDep, f: Filters, user: CurrentUser, format: Literal["csv", "jsonl"] = "csv"
) -> StreamingResponse:
    allow(user, "audit_read")
    entries = audit.iter_entries(services.store, **f)  # filters checked now, before anything is sent
    record(services, user, "audit_export", None, None, {"filters": f, "format": format})
    media, lines = (
        ("text/csv; charset=utf-8", _csv_lines) if format == "csv" else ("application/x-ndjson", _jsonl_lines)
    )
    return StreamingResponse(
        lines(entries),
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="vigie-audit.{format}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/api/audit/verify")
def audit_verify(services: ServicesDep, user: CurrentUser) -> dict:
    """Recompute the keyed chain and check it against the anchors kept outside the database
    (so that entries cut off the end show); legacy entries (before the key) are counted."""
    allow(user, "audit_verify")
    r = audit.verify(services.store)
    return {
        "ok": r.ok,
        "entries": r.entries,
        "first_bad_seq": r.first_bad_seq,
        "reason": r.reason,
        "last_hash": r.last_hash,
        "legacy_entries": r.legacy_entries,
        "anchors": r.anchors,
        "anchored_seq": r.anchored_seq,
    }

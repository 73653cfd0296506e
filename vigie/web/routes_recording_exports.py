"""Exports from recordings: `POST /api/cameras/{camera_id}/recordings/export`, a ZIP of one MP4 of the
camera's recording over a period, its manifest and SHA-256 sums (vigie.recording.export).

Access is that of clips and track exports (vigie.web.routes_media, routes_exports):
- the role must hold `export`, with a case reference and a purpose (an investigator);
- the period must lie inside the role's window (routes_media.visible_track's rule);
- faces and plates are blurred, unless `unblurred`: then the user must hold an open unblur grant
  (issue 13: approved by a supervisor) on a track of this camera whose time in view, give or take
  GRANT_PAD_S, covers the whole period: a grant opens the footage showing its track, no more;
- the export is audited (recording_export: camera, period, blurred, the MP4's SHA-256) and listed
  with the user's exports (table exports, no track ids); the server keeps the ZIP's SHA-256, not the ZIP.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import tempfile
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from vigie.recording.export import export_recording
from vigie.times import from_iso, iso, now_iso, parse_time
from vigie.web.context import TEXT, ApiError, blurrer, window_start
from vigie.web.deps import CurrentUser, ServicesDep, allow
from vigie.web.routes_media import NO_STORE

router = APIRouter(tags=["exports"])

MAX_API_EXPORT_S = 600  # blurred frame by frame while the request waits: longer periods from the console
GRANT_PAD_S = 10.0


class RecordingExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: str = Field(max_length=40, description="Start of the period, ISO 8601 (UTC unless an offset is given).")
    end: str = Field(max_length=40, description="End of the period (excluded), ISO 8601.")
    case_ref: str = Field(min_length=1, max_length=TEXT)
    purpose: str = Field(min_length=1, max_length=TEXT)
    unblurred: bool = Field(
        False,
        description="Unblurred: only where an open unblur grant of yours on a track of this camera covers the period.",
    )


@router.post(
    "/api/cameras/{camera_id}/recordings/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def export_from_recording(
    services: ServicesDep,
    body: RecordingExportRequest,
    user: CurrentUser,
    camera_id: str = PathParam(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"),
) -> Response:
    allow(user, "export", body.case_ref, body.purpose)
    start, end = parse_time(body.start, "field start"), parse_time(body.end, "field end")
    if end <= start:
        raise ApiError(422, f"field end: {iso(end)} is not after the start {iso(start)}", field="end")
    if (end - start).total_seconds() > MAX_API_EXPORT_S:
        raise ApiError(
            422,
            f"field end: an export from the web covers at most {MAX_API_EXPORT_S // 60} minutes "
            "(longer periods: vigie recordings export)",
            field="end",
        )
    lower = window_start(user)
    if lower is not None and start < lower:
        raise ApiError(
            403, f"role {user.role!r} may only export recordings of its search window; the period starts before it"
        )
    shared = None
    if body.unblurred:
        _check_grant_covers(services, user, camera_id, start, end)
    else:
        shared = blurrer(services)  # 503 when none: recordings are only exported blurred without a grant
    ref = secrets.token_hex(8)
    with tempfile.TemporaryDirectory(prefix="vigie-export-") as folder:
        out = Path(folder) / f"{camera_id}-{ref}.mp4"
        if shared is not None:
            with services.blur_lock:  # the shared Blurrer is one thread's at a time
                result = _export(services, user, camera_id, start, end, out, shared, body)
        else:
            result = _export(services, user, camera_id, start, end, out, None, body)
        files = {p.name: p.read_bytes() for p in (result.mp4, result.manifest, result.sums)}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".mp4") else zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    seq = result.manifest_doc["audit_seq"]
    services.store.write(
        lambda conn: conn.execute(
            "INSERT INTO exports (ref, username, case_ref, purpose, created_at, track_ids, blurred, sha256, bytes,"
            " audit_seq) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                ref,
                user.username,
                body.case_ref,
                body.purpose,
                now_iso(),
                "[]",
                int(result.blurred),
                digest,
                len(data),
                seq,
            ),
        )
    ).result()
    return Response(
        data,
        media_type="application/zip",
        headers={
            **NO_STORE,
            "Content-Disposition": f'attachment; filename="vigie-recording-{ref}.zip"',
            "X-Vigie-SHA256": digest,
        },
    )


def _export(services, user, camera_id: str, start: datetime, end: datetime, out: Path, shared, body):
    return export_recording(
        services.store,
        services.site,
        camera_id,
        start,
        end,
        out,
        blurrer=shared,
        user=user.username,
        role=user.role,
        case_ref=body.case_ref,
        purpose=body.purpose,
    )


def _check_grant_covers(services, user, camera_id: str, start: datetime, end: datetime) -> None:
    """403 unless an open unblur grant of the user, on a track of this camera, covers [start, end)."""
    pad = timedelta(seconds=GRANT_PAD_S)
    for track_id, first_seen, last_seen in services.store.granted_track_spans(user.username, camera_id, now_iso()):
        if from_iso(first_seen) - pad <= start and end <= from_iso(last_seen) + pad:
            return
    raise ApiError(
        403,
        f"no open unblur grant of yours covers camera {camera_id} from {iso(start)} to {iso(end)}: an unblurred "
        f"export needs a grant on a track of this camera in view over the whole period (give or take "
        f"{GRANT_PAD_S:.0f} s); request one on the track, or export blurred",
    )

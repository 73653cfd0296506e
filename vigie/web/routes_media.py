"""Media routes: a track's thumbnail and clip, unblurred-view requests, and exports.

Media are blurred by default (faces everywhere, plates on vehicles). An
investigator who needs to see one track unblurred asks for it with a case
reference, a purpose and a reason: the request opens a short grant for that
user and that track only, and both the request and every unblurred look are
audited. Unblurred media are rendered on demand and never written to disk.

An export is a ZIP streamed to the investigator: each track's record (with its
per-frame boxes), its thumbnail and its clip, a manifest naming who exported
what for which case, and SHA-256 sums of every file. The server keeps the
ZIP's SHA-256 (table exports, and the audit entry), not the ZIP.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import zipfile
from datetime import datetime, timedelta, timezone

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from vigie.accounts import users
from vigie.accounts.roles import Forbidden, allowed
from vigie.audit.log import append_in
from vigie.store.sqlite import iso, now_iso
from vigie.web.context import (
    MAX_ID,
    MAX_OFFSET,
    TEXT,
    ApiContext,
    ApiError,
    ErrorBody,
    case_ref_param,
    page,
    plain,
    purpose_param,
)

MAX_EXPORT_TRACKS = 50
NO_STORE = {"Cache-Control": "no-store"}


class UnblurRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_ref: str = Field(min_length=1, max_length=TEXT)
    purpose: str = Field(min_length=1, max_length=TEXT)
    reason: str = Field(min_length=1, max_length=1000, description="Why this track must be seen unblurred.")


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    track_ids: list[int] = Field(min_length=1, max_length=MAX_EXPORT_TRACKS)
    case_ref: str = Field(min_length=1, max_length=TEXT)
    purpose: str = Field(min_length=1, max_length=TEXT)
    unblurred: bool = Field(False, description="Unblurred media: only for tracks with an open unblur grant of yours.")
    clips: bool = Field(True, description="Include each track's clip (MP4, H.264).")


def _jpeg(image) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise ApiError(500, "an image could not be encoded as JPEG")
    return buf.tobytes()


def add_routes(app: FastAPI, ctx: ApiContext) -> None:
    store, services = ctx.store, ctx.services

    # --- unblur grants ---------------------------------------------------------------------------
    def open_grant(user: users.User, track_id: int) -> dict | None:
        with store._read() as conn:
            row = conn.execute(
                "SELECT * FROM unblur_grants WHERE track_id=? AND username=? AND expires_at>? "
                "ORDER BY expires_at DESC LIMIT 1",
                (track_id, user.username, now_iso()),
            ).fetchone()
        return dict(row) if row else None

    def grant_for(user: users.User, track_id: int) -> dict:
        """The user's open grant on the track, or 403 saying how to get one."""
        ctx.may(user, "view_media_unblurred_request")
        grant = open_grant(user, track_id)
        if grant is None:
            raise ApiError(
                403,
                f"no open unblur grant of yours on track {track_id}: "
                f"POST /api/tracks/{track_id}/unblur with a case reference, a purpose and a reason",
            )
        return grant

    @app.post("/api/tracks/{track_id}/unblur", tags=["media"], status_code=201)
    def request_unblur(
        body: UnblurRequest, track_id: int = Path(ge=1, le=MAX_ID), user: users.User = Depends(ctx.current_user)
    ) -> dict:
        ctx.allow(user, "view_media_unblurred_request", body.case_ref, body.purpose)
        ctx.visible_track(user, track_id)
        now = datetime.now(timezone.utc)
        expires = iso(now + timedelta(minutes=services.unblur_minutes))

        def fn(conn):
            conn.execute("BEGIN IMMEDIATE")
            cur = conn.execute(
                "INSERT INTO unblur_grants (track_id, username, case_ref, purpose, reason, granted_at, expires_at)"
                " VALUES (?,?,?,?,?,?,?)",
                (track_id, user.username, body.case_ref, body.purpose, body.reason, iso(now), expires),
            )
            append_in(
                conn,
                user.username,
                user.role,
                "unblur_request",
                case_ref=body.case_ref,
                purpose=body.purpose,
                details={"track_id": track_id, "reason": body.reason, "grant_id": cur.lastrowid, "expires_at": expires},
            )
            return cur.lastrowid

        grant_id = store.write(fn).result()
        return {"grant_id": grant_id, "track_id": track_id, "expires_at": expires}

    @app.get("/api/tracks/{track_id}/unblur", tags=["media"])
    def unblur_status(track_id: int = Path(ge=1, le=MAX_ID), user: users.User = Depends(ctx.current_user)) -> dict:
        ctx.may(user, "view_media_unblurred_request")
        grant = open_grant(user, track_id)
        return {
            "track_id": track_id,
            "open": grant is not None,
            "expires_at": grant["expires_at"] if grant else None,
            "case_ref": grant["case_ref"] if grant else None,
        }

    # --- thumbnail ------------------------------------------------------------------------------------
    @app.get(
        "/api/tracks/{track_id}/thumbnail",
        tags=["media"],
        response_class=Response,
        responses={200: {"content": {"image/jpeg": {}}}},
    )
    def thumbnail(
        track_id: int = Path(ge=1, le=MAX_ID),
        unblurred: bool = False,
        case_ref: str | None = case_ref_param(),
        purpose: str | None = purpose_param(),
        user: users.User = Depends(ctx.current_user),
    ) -> Response:
        """The track's best crop: blurred, or unblurred under an open grant of the caller's."""
        ctx.allow(user, "view_media_blurred", case_ref, purpose)
        track = ctx.visible_track(user, track_id)
        grant = grant_for(user, track_id) if unblurred else None
        blurrer = None if unblurred else ctx.blurrer()
        with store._read() as conn:
            row = conn.execute("SELECT jpeg FROM thumbnails WHERE track_id=?", (track_id,)).fetchone()
        if row is None or not row[0]:
            raise ApiError(404, f"track {track_id} has no stored thumbnail")
        import cv2
        import numpy as np

        image = cv2.imdecode(np.frombuffer(row[0], np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ApiError(500, f"the stored thumbnail of track {track_id} cannot be decoded")
        if grant:
            ctx.record(
                user,
                "view_unblurred",
                grant["case_ref"],
                grant["purpose"],
                {"track_id": track_id, "thumbnail": True, "grant_id": grant["id"]},
            )
            return Response(row[0], media_type="image/jpeg", headers=NO_STORE)
        with services.blur_lock:  # a Blurrer is one per thread; the server shares one
            blurred, regions = blurrer.blur_crop(image, track["class"])
        ctx.record(
            user,
            "view_track",
            case_ref,
            purpose,
            {"track_id": track_id, "thumbnail": True, "blurred_regions": len(regions)},
        )
        return Response(_jpeg(blurred), media_type="image/jpeg", headers=NO_STORE)

    # --- clip ---------------------------------------------------------------------------------------------
    def clip_bytes(track_id: int, blur: bool, fmt: str) -> bytes:
        from vigie.media.clips import render_clip

        site = services.site
        if blur:
            blurrer = ctx.blurrer()
            with services.blur_lock:  # the shared Blurrer is one thread's at a time
                return render_clip(store, track_id, site=site, blurrer=blurrer, blur=True, fmt=fmt).data
        return render_clip(store, track_id, site=site, blurrer=None, blur=False, fmt=fmt).data

    @app.get(
        "/api/tracks/{track_id}/clip",
        tags=["media"],
        response_class=Response,
        responses={
            200: {"content": {"video/webm": {}, "video/mp4": {}}},
            206: {"content": {"video/webm": {}, "video/mp4": {}}, "description": "A range of it"},
            416: {"model": ErrorBody, "description": "A range outside the clip"},
        },
    )
    def clip(
        request: Request,
        track_id: int = Path(ge=1, le=MAX_ID),
        unblurred: bool = False,
        format: str = Query("webm", pattern="^(webm|mp4)$"),
        case_ref: str | None = case_ref_param(),
        purpose: str | None = purpose_param(),
        user: users.User = Depends(ctx.current_user),
    ) -> Response:
        """The track's clip from its recording, its box drawn, privacy masks burned in, blurred unless granted."""
        ctx.allow(user, "view_media_blurred", case_ref, purpose)
        ctx.visible_track(user, track_id)
        grant = grant_for(user, track_id) if unblurred else None
        data = clip_bytes(track_id, blur=grant is None, fmt=format)
        # Byte ranges, so that a browser can seek in the clip (the track page opens it at a given moment).
        response = byte_range_response(data, request.headers.get("range"), f"video/{format}", NO_STORE)
        if response.status_code == 200 or response.headers.get("content-range", "").startswith("bytes 0-"):
            # a play (the clip from its start), not the next range of one
            if grant:
                ctx.record(
                    user,
                    "view_unblurred",
                    grant["case_ref"],
                    grant["purpose"],
                    {"track_id": track_id, "clip": True, "grant_id": grant["id"]},
                )
            else:
                ctx.record(user, "view_clip", case_ref, purpose, {"track_id": track_id, "format": format})
        return response

    # --- exports ---------------------------------------------------------------------------------------------
    @app.post(
        "/api/exports", tags=["exports"], response_class=Response, responses={200: {"content": {"application/zip": {}}}}
    )
    def export(body: ExportRequest, user: users.User = Depends(ctx.current_user)) -> Response:
        ctx.allow(user, "export", body.case_ref, body.purpose)
        ids = list(dict.fromkeys(body.track_ids))
        for t in ids:
            if not 1 <= t <= MAX_ID:
                raise ApiError(422, f"field track_ids: {t} is not a track id", field="track_ids")
        tracks = [ctx.visible_track(user, t) for t in ids]
        if body.unblurred:
            missing = [t for t in ids if open_grant(user, t) is None]
            if missing:
                raise ApiError(
                    403,
                    f"no open unblur grant of yours on track(s) {', '.join(map(str, missing))}: "
                    "request one per track first, or export blurred",
                )
        ref = secrets.token_hex(8)
        created = now_iso()
        data, manifest = _build_zip(ctx, tracks, body, user, ref, created, clip_bytes)
        digest = hashlib.sha256(data).hexdigest()

        def fn(conn):
            conn.execute("BEGIN IMMEDIATE")
            entry = append_in(
                conn,
                user.username,
                user.role,
                "export",
                case_ref=body.case_ref,
                purpose=body.purpose,
                details={
                    "export_ref": ref,
                    "track_ids": ids,
                    "unblurred": body.unblurred,
                    "sha256": digest,
                    "bytes": len(data),
                },
            )
            conn.execute(
                "INSERT INTO exports (ref, username, case_ref, purpose, created_at, track_ids, blurred, sha256, bytes,"
                " audit_seq) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    ref,
                    user.username,
                    body.case_ref,
                    body.purpose,
                    created,
                    json.dumps(ids),
                    int(not body.unblurred),
                    digest,
                    len(data),
                    entry.seq,
                ),
            )

        store.write(fn).result()
        name = f"vigie-export-{ref}.zip"
        return Response(
            data,
            media_type="application/zip",
            headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"', "X-Vigie-SHA256": digest},
        )

    @app.get("/api/exports", tags=["exports"])
    def list_exports(
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
        user: users.User = Depends(ctx.current_user),
    ) -> dict:
        """An investigator's own exports; an auditor sees everyone's."""
        if not (allowed(user.role, "audit_read") or allowed(user.role, "export")):  # listing needs no justification
            raise Forbidden(f"role {user.role!r} may not list exports (investigators: their own; auditors: all)")
        where, args = ("", []) if user.role == "auditor" else (" WHERE username = ?", [user.username])
        with store._read() as conn:
            total = conn.execute(f"SELECT count(*) FROM exports{where}", args).fetchone()[0]
            rows = [
                dict(r)
                for r in conn.execute(
                    f"SELECT * FROM exports{where} ORDER BY id DESC LIMIT ? OFFSET ?", [*args, limit, offset]
                )
            ]
        for r in rows:
            r["track_ids"] = json.loads(r["track_ids"])
            r["blurred"] = bool(r["blurred"])
        return page(rows, limit, offset, total)


def _build_zip(
    ctx: ApiContext, tracks: list[dict], body: ExportRequest, user: users.User, ref: str, created: str, clip_bytes
) -> tuple[bytes, dict]:
    """The export's ZIP in memory (at most 50 tracks), with its manifest and SHA256SUMS."""
    import cv2
    import numpy as np

    store, services = ctx.store, ctx.services
    files: dict[str, bytes] = {}
    listed = []
    for track in tracks:
        tid = track["id"]
        folder = f"tracks/{tid}"
        record = plain(track)
        record.pop("thumbnail_path", None)
        record["points"] = [plain(p) for p in store.track_points(tid)]
        files[f"{folder}/track.json"] = json.dumps(record, indent=2, ensure_ascii=False).encode()
        entry = {
            "track_id": tid,
            "camera_id": track["camera_id"],
            "class": track["class"],
            "first_seen": track["first_seen"],
            "last_seen": track["last_seen"],
        }
        with store._read() as conn:
            row = conn.execute("SELECT jpeg FROM thumbnails WHERE track_id=?", (tid,)).fetchone()
        if row and row[0]:
            if body.unblurred:
                files[f"{folder}/thumbnail.jpg"] = bytes(row[0])
            else:
                image = cv2.imdecode(np.frombuffer(row[0], np.uint8), cv2.IMREAD_COLOR)
                with services.blur_lock:
                    blurred, _ = ctx.blurrer().blur_crop(image, track["class"])
                files[f"{folder}/thumbnail.jpg"] = _jpeg(blurred)
        if body.clips:
            from vigie.errors import VigieError

            try:
                files[f"{folder}/clip.mp4"] = clip_bytes(tid, blur=not body.unblurred, fmt="mp4")
            except VigieError as exc:  # the recording is gone: say so in the manifest, export the rest
                entry["clip_unavailable"] = str(exc)
        entry["files"] = sorted(n for n in files if n.startswith(folder + "/"))
        listed.append(entry)
    manifest = {
        "export_ref": ref,
        "created_at": created,
        "exported_by": user.username,
        "role": user.role,
        "case_ref": body.case_ref,
        "purpose": body.purpose,
        "blurred": not body.unblurred,
        "site": getattr(services.site, "name", None),
        "tracks": listed,
        "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
        "note": "Faces and licence plates are blurred unless 'blurred' is false; privacy masks are always burned in. "
        "The server records this ZIP's SHA-256 with the export reference.",
    }
    files["manifest.json"] = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
    files["SHA256SUMS"] = "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in sorted(files.items())).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed: same content, same bytes
            info.compress_type = zipfile.ZIP_STORED if name.endswith((".mp4", ".jpg")) else zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue(), manifest


def byte_range_response(data: bytes, asked: str | None, media_type: str, headers: dict) -> Response:
    """The whole body (200), or the one byte range asked for (206, RFC 9110 §14): `bytes=a-b`, `bytes=a-` or
    `bytes=-n`. A range outside the body is 416; one the server does not serve (several ranges, another unit)
    gets the whole body, as the RFC allows."""
    size = len(data)
    whole = {**headers, "Accept-Ranges": "bytes"}
    spec = (asked or "").replace(" ", "")
    if not spec.startswith("bytes=") or "," in spec or spec.count("-") != 1:
        return Response(data, media_type=media_type, headers=whole)
    first, last = spec[len("bytes=") :].split("-")
    if not (first.isdigit() or last.isdigit()) or not all(p.isdigit() or p == "" for p in (first, last)):
        return Response(data, media_type=media_type, headers=whole)
    if first == "":  # the last n bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return Response(
            json.dumps({"error": f"range {asked!r} is outside the clip's {size} bytes"}),
            status_code=416,
            media_type="application/json",
            headers={**whole, "Content-Range": f"bytes */{size}"},
        )
    return Response(
        data[start : end + 1],
        status_code=206,
        media_type=media_type,
        headers={**whole, "Content-Range": f"bytes {start}-{end}/{size}"},
    )

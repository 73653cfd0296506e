"""Export routes: an investigator's ZIP of tracks for a case, and the list of exports.

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

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ConfigDict, Field

from vigie.accounts import users
from vigie.accounts.roles import Forbidden, allowed
from vigie.audit.log import append_in
from vigie.clock import local_text
from vigie.errors import VigieError
from vigie.i18n import gettext
from vigie.services import Services
from vigie.times import from_iso, now_iso
from vigie.web.context import (
    MAX_ID,
    MAX_OFFSET,
    ApiError,
    Justification,
    blurrer,
    hide_paths,
    page,
    plain,
    visible_track,
)
from vigie.web.deps import CurrentUser, ServicesDep, allow_body
from vigie.web.routes_media import NO_STORE, clip_bytes, jpeg_bytes, open_grant
from vigie.web.routes_time import site_zone

router = APIRouter(tags=["exports"])

MAX_EXPORT_TRACKS = 50


class ExportRequest(Justification):
    model_config = ConfigDict(extra="forbid")
    track_ids: list[int] = Field(min_length=1, max_length=MAX_EXPORT_TRACKS)
    unblurred: bool = Field(False, description="Unblurred media: only for tracks with an open unblur grant of yours.")
    clips: bool = Field(True, description="Include each track's clip (MP4, H.264).")


@router.post("/api/exports", response_class=Response, responses={200: {"content": {"application/zip": {}}}})
def export(services: ServicesDep, body: ExportRequest, user: CurrentUser) -> Response:
    body = allow_body(user, "export", body)  # none given: the session's open case
    ids = list(dict.fromkeys(body.track_ids))
    for t in ids:
        if not 1 <= t <= MAX_ID:
            raise ApiError(422, gettext("field track_ids: {t} is not a track id", t=t), field="track_ids")
    tracks = [visible_track(services, user, t) for t in ids]
    if body.unblurred:
        missing = [t for t in ids if open_grant(services, user, t) is None]
        if missing:
            raise ApiError(
                403,
                gettext(
                    "no open unblur grant of yours on track(s) {value}: request one per track first, or export blurred",
                    value=", ".join(map(str, missing)),
                ),
            )
    ref = secrets.token_hex(8)
    created = now_iso()
    data, manifest = _build_zip(services, tracks, body, user, ref, created)
    digest = record_export(services, user, body.case_ref, body.purpose, ids, body.unblurred, data, ref, created)
    name = f"vigie-export-{ref}.zip"
    return Response(
        data,
        media_type="application/zip",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"', "X-Vigie-SHA256": digest},
    )


def record_export(
    services: Services,
    user: users.User,
    case_ref: str,
    purpose: str,
    ids: list[int],
    unblurred: bool,
    data: bytes,
    ref: str,
    created: str,
    more: dict | None = None,
) -> str:
    """The export's audit entry and its row in the exports table, in one transaction; the ZIP's SHA-256."""
    digest = hashlib.sha256(data).hexdigest()

    def fn(conn):
        conn.execute("BEGIN IMMEDIATE")
        entry = append_in(
            conn,
            user.username,
            user.role,
            "export",
            case_ref=case_ref,
            purpose=purpose,
            details={
                "export_ref": ref,
                "track_ids": ids,
                "unblurred": unblurred,
                "sha256": digest,
                "bytes": len(data),
                **(more or {}),
            },
        )
        conn.execute(
            "INSERT INTO exports (ref, username, case_ref, purpose, created_at, track_ids, blurred, sha256, bytes,"
            " audit_seq) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                ref,
                user.username,
                case_ref,
                purpose,
                created,
                json.dumps(ids),
                int(not unblurred),
                digest,
                len(data),
                entry.seq,
            ),
        )

    services.store.write(fn).result()
    return digest


@router.get("/api/exports")
def list_exports(
    services: ServicesDep,
    user: CurrentUser,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict:
    """An investigator's own exports; an auditor sees everyone's."""
    if not (allowed(user.role, "audit_read") or allowed(user.role, "export")):  # listing needs no justification
        raise Forbidden(
            gettext("role {role} may not list exports (investigators: their own; auditors: all)", role=repr(user.role))
        )
    where, args = ("", []) if user.role == "auditor" else (" WHERE username = ?", [user.username])
    with services.store.read() as conn:
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
    services: Services, tracks: list[dict], body: ExportRequest, user: users.User, ref: str, created: str
) -> tuple[bytes, dict]:
    """The export's ZIP in memory (at most 50 tracks), with its manifest and SHA256SUMS."""
    files, listed = track_files(services, tracks, body.unblurred, body.clips)
    zone = site_zone(services)
    manifest = {
        "export_ref": ref,
        "created_at": created,
        "created_at_local": local_text(from_iso(created), zone, seconds=True),
        "timezone": zone.key,  # the site's: the *_local times are on its clock; the others are UTC
        "exported_by": user.username,
        "role": user.role,
        "case_ref": body.case_ref,
        "purpose": body.purpose,
        "blurred": not body.unblurred,
        "site": getattr(services.site, "name", None),
        "tracks": listed,
    }
    return zip_with_manifest(files, manifest), manifest


def track_files(
    services: Services, tracks: list[dict], unblurred: bool, clips: bool, progress=None
) -> tuple[dict[str, bytes], list[dict]]:
    """Each track's record, thumbnail and clip as ZIP entries, and the manifest's list of tracks;
    `progress(done, total)` is called after each track (the case export's job reports it)."""
    import cv2
    import numpy as np

    store = services.store
    zone = site_zone(services)
    files: dict[str, bytes] = {}
    listed = []
    for track in tracks:
        tid = track["id"]
        folder = f"tracks/{tid}"
        doc = plain(track)
        doc.pop("thumbnail_path", None)
        source = doc.pop("source", None)  # the server's path: only the recording's file name, as GET /api/tracks/{id}
        doc["source_name"] = source.replace("\\", "/").rsplit("/", 1)[-1] if source else None
        doc["points"] = [plain(p) for p in store.track_points(tid)]
        files[f"{folder}/track.json"] = json.dumps(doc, indent=2, ensure_ascii=False).encode()
        entry = {
            "track_id": tid,
            "camera_id": track["camera_id"],
            "class": track["class"],
            "first_seen": track["first_seen"],
            "last_seen": track["last_seen"],
            # the same times on the site's clock, labelled, as the pages show them (the ones above are UTC)
            "first_seen_local": local_text(from_iso(track["first_seen"]), zone, seconds=True),
            "last_seen_local": local_text(from_iso(track["last_seen"]), zone, seconds=True),
        }
        picture = store.thumbnail(tid)  # opened: it is sealed at rest
        if picture:
            if unblurred:
                files[f"{folder}/thumbnail.jpg"] = picture
            else:
                image = cv2.imdecode(np.frombuffer(picture, np.uint8), cv2.IMREAD_COLOR)
                with services.blur_lock:
                    blurred, _ = blurrer(services).blur_crop(image, track["class"])
                files[f"{folder}/thumbnail.jpg"] = jpeg_bytes(blurred)
        if clips:
            try:
                files[f"{folder}/clip.mp4"] = clip_bytes(services, tid, blur=not unblurred, fmt="mp4")
            except ApiError:
                raise  # no blurrer (503): the whole export is refused, as every blurred medium is
            except VigieError as exc:  # the recording is gone: say so in the manifest, export the rest
                entry["clip_unavailable"] = hide_paths(str(exc))  # the recording's name, never where it lies
        entry["files"] = sorted(n for n in files if n.startswith(folder + "/"))
        listed.append(entry)
        if progress is not None:
            progress(len(listed), len(tracks))
    return files, listed


def zip_with_manifest(files: dict[str, bytes], manifest: dict) -> bytes:
    """The ZIP of the files, with manifest.json (the manifest and every file's SHA-256) and SHA256SUMS."""
    manifest = {
        **manifest,
        "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
        "note": "Faces and licence plates are blurred unless 'blurred' is false; privacy masks are always burned in. "
        "The server records this ZIP's SHA-256 with the export reference.",
    }
    files = dict(files)
    files["manifest.json"] = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
    files["SHA256SUMS"] = "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in sorted(files.items())).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed: same content, same bytes
            info.compress_type = zipfile.ZIP_STORED if name.endswith((".mp4", ".jpg")) else zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()

"""A case's export as a job: several tracks (by default those marked "same person"), their trail, the
French evidence sheet (PDF) and the manifest, in one ZIP built in the background with its progress.

An export takes minutes (a clip per track), so a request starts a job and the page polls it. The same
request (same user, case, purpose, tracks and options) while its job runs or waits to be fetched gets
that job back: it is never started twice. Exports are built one after another (the machine's cores
are the analysis's), and a user has one export in progress at a time. The ZIP waits in memory for its
owner for KEEP_S, then is dropped; the server keeps its SHA-256 (table exports, and the audit entry), as for every export.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field

from vigie.accounts import users
from vigie.audit import log as audit
from vigie.cases import evidence
from vigie.cases import session as cases
from vigie.errors import VigieError
from vigie.services import Services
from vigie.times import now_iso
from vigie.web.context import ApiError, hide_paths
from vigie.web.routes_exports import record_export, track_files, zip_with_manifest

KEEP_S = 3600.0  # a finished export waits this long for its owner
CUSTODY_ACTIONS = frozenset({"hold_place", "hold_lift", "export", "case_mark", "unblur_request", "view_unblurred"})
MAX_CUSTODY = 400


@dataclass
class ExportJob:
    id: str
    key: tuple
    username: str
    case_ref: str
    purpose: str
    track_ids: list[int]
    unblurred: bool
    clips: bool
    status: str = "queued"  # queued, running, done, failed
    done: int = 0  # tracks packed so far
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    export_ref: str | None = None
    sha256: str | None = None
    data: bytes | None = field(default=None, repr=False)

    def as_dict(self) -> dict:
        total = len(self.track_ids)
        remaining = None
        if self.status == "running" and self.started is not None and self.done:
            remaining = round((time.monotonic() - self.started) / self.done * (total - self.done), 1)
        return {
            "id": self.id,
            "status": self.status,
            "case_ref": self.case_ref,
            "track_ids": self.track_ids,
            "unblurred": self.unblurred,
            "clips": self.clips,
            "progress": {"done": self.done, "total": total, "remaining_s": remaining},
            "error": self.error,
            "export_ref": self.export_ref,
            "sha256": self.sha256,
            "bytes": len(self.data) if self.data is not None else None,
        }


class CaseExports:
    """The app's case-export jobs and their one worker."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._lock = threading.Lock()
        self._jobs: dict[str, ExportJob] = {}
        self._one_at_a_time = threading.Lock()  # the worker: exports are built one after another

    def start(self, user: users.User, case_ref: str, purpose: str, ids: list[int], unblurred: bool, clips: bool):
        """(job, True) for a new job; (the running or waiting job, False) for a request made before."""
        key = (user.username, case_ref, purpose, tuple(sorted(ids)), unblurred, clips)
        with self._lock:
            self._drop_old()
            for job in self._jobs.values():
                if job.key == key and job.status != "failed":
                    return job, False
            busy = [j for j in self._jobs.values() if j.username == user.username and j.finished is None]
            if busy:
                raise ApiError(
                    409,
                    f"an export of yours is already being built (job {busy[0].id}): wait for it to finish "
                    "before asking for another",
                )
            job = ExportJob(secrets.token_hex(8), key, user.username, case_ref, purpose, sorted(ids), unblurred, clips)
            self._jobs[job.id] = job
        # a daemon thread: a server that stops does not wait for an export nobody will fetch
        threading.Thread(target=self._run, args=(job, user), name="vigie-case-export", daemon=True).start()
        return job, True

    def get(self, job_id: str) -> ExportJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _drop_old(self) -> None:
        now = time.monotonic()
        for job_id in [j.id for j in self._jobs.values() if j.finished is not None and now - j.finished > KEEP_S]:
            del self._jobs[job_id]

    def _run(self, job: ExportJob, user: users.User) -> None:
        with self._one_at_a_time:
            self._build(job, user)

    def _build(self, job: ExportJob, user: users.User) -> None:
        job.status, job.started = "running", time.monotonic()
        try:
            job.data, job.export_ref, job.sha256 = build(self.services, job, user)
            job.status = "done"
        except VigieError as exc:
            job.status, job.error = "failed", hide_paths(str(exc))
        except Exception as exc:  # noqa: BLE001 - a job's failure is reported to its owner, not lost in a thread
            job.status, job.error = "failed", f"the export could not be built ({type(exc).__name__})"
        finally:
            job.finished = time.monotonic()


def custody(store, case_ref: str, ids: list[int]) -> list[dict]:
    """The case's audit entries that handled these tracks or kept, marked or exported them (oldest first)."""
    wanted, out = set(ids), []
    for e in audit.iter_entries(store, case_ref=case_ref):
        d = e.details_dict() or {}
        named = {d["track_id"]} if isinstance(d.get("track_id"), int) else set()
        named |= {t for t in d.get("track_ids") or [] if isinstance(t, int)}
        if named & wanted or e.action in CUSTODY_ACTIONS:
            out.append({"seq": e.seq, "at": e.at, "user": e.user, "role": e.role, "action": e.action})
    return out[-MAX_CUSTODY:]


def build(services: Services, job: ExportJob, user: users.User) -> tuple[bytes, str, str]:
    """The ZIP (tracks, trail, evidence sheet, manifest, sums), recorded with its audit entry."""
    store = services.store
    tracks = [store.get_track(t) for t in job.track_ids]
    gone = [t for t, row in zip(job.track_ids, tracks) if row is None]
    if gone:
        raise VigieError(f"track(s) {', '.join(map(str, gone))} no longer exist (purged since the request)")

    def progress(done: int, total: int) -> None:
        job.done = done

    files, listed = track_files(services, tracks, job.unblurred, job.clips, progress)
    ref, created = secrets.token_hex(8), now_iso()
    marks = {m["track_id"]: m["mark"] for m in cases.marks(store, job.case_ref)}
    site = services.site
    zone = getattr(site, "timezone", None) or "UTC"

    def camera_name(camera_id: str) -> str:
        try:
            name = store.camera(camera_id).get("name")
        except (KeyError, VigieError):
            name = None
        return f"{name} ({camera_id})" if name and name != camera_id else camera_id

    ordered = sorted(tracks, key=lambda t: (t["first_seen"], t["id"]))
    trail = [
        {"track_id": t["id"], "camera_id": t["camera_id"], "first_seen": t["first_seen"], "last_seen": t["last_seen"]}
        for t in ordered
    ]
    files["trail.json"] = json.dumps(trail, indent=2, ensure_ascii=False).encode()
    sheet = evidence.Sheet(
        export_ref=ref,
        case_ref=job.case_ref,
        purpose=job.purpose,
        exported_by=user.username,
        created_at=created,
        blurred=not job.unblurred,
        site=getattr(site, "name", None),
        timezone=zone,
        tracks=[
            evidence.SheetTrack(
                t["id"],
                camera_name(t["camera_id"]),
                t["class"],
                t["first_seen"],
                t["last_seen"],
                files.get(f"tracks/{t['id']}/thumbnail.jpg"),
                marks.get(t["id"]),
            )
            for t in ordered
        ],
        custody=custody(store, job.case_ref, job.track_ids),
        sums={name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    )
    files["evidence-sheet.pdf"] = evidence.build(sheet, getattr(site, "language", None) or "fr")
    manifest = {
        "export_ref": ref,
        "created_at": created,
        "exported_by": user.username,
        "role": user.role,
        "case_ref": job.case_ref,
        "purpose": job.purpose,
        "blurred": not job.unblurred,
        "site": getattr(site, "name", None),
        "timezone": zone,
        "tracks": listed,
        "trail": trail,
        "marks": {str(t): m for t, m in marks.items() if t in set(job.track_ids)},
        "evidence_sheet": "evidence-sheet.pdf",
    }
    data = zip_with_manifest(files, manifest)
    digest = record_export(
        services,
        user,
        job.case_ref,
        job.purpose,
        job.track_ids,
        job.unblurred,
        data,
        ref,
        created,
        {"case_export": job.id},
    )
    return data, ref, digest

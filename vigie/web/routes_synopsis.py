"""Synopsis routes: a camera's period shown as one short video, built in the background, played in the page.

    POST /api/synopses               {camera, from, to, filters?, length_s?, max_collision?, case_ref?, purpose?} -> 202 {id, status}
    GET  /api/synopses               the caller's synopses, newest first (paged)
    GET  /api/synopses/{id}          status, progress (0..1), error or report, what was asked
    POST /api/synopses/{id}/play     start a play of the video (audited): its URL, holding the play's token
    GET  /api/synopses/{id}/video    the VP8 WebM (409 until ready), faces and plates blurred
    GET  /api/synopses/{id}/index    the JSON index: every object, and in every frame its box and original time

Who may: the roles that search (operators and investigators), with the same
rules as POST /api/search: an investigator gives a case reference and a
purpose, an operator's period must start in the last 24 hours (and the video
and index of a period that has since left that window are refused to them). Each
user sees only their own synopses (another's is 404). Asking is audited as
"synopsis" (camera, period, filters); each play of the video and each read of
the index as "view_synopsis". A play is started with POST .../play, audited
then, whose URL carries a per-play token (vigie.web.plays): the player's range
requests with it are not audited again; a video request without a token is
audited itself, whatever its range.

What is refused at once (400, make_synopsis' own message): an unknown camera,
a period with no matching track, tracks without tubes or backgrounds.
Malformed input is 422 naming the field (filters.<name> for a bad filter).

Building: one worker thread per app, started when a job is queued and gone
when the queue is empty, builds the synopses one at a time (they are
CPU-heavy: pasting and face search on every frame); the others wait, queued.
The app's blurrer is shared with clips and thumbnails: each call to it takes
the app's blur lock, so a long synopsis never keeps the other media waiting
for more than one crop.

Files: $VIGIE_DATA/synopses/web/<id>/ (store.data_dir is $VIGIE_DATA) holds
synopsis.webm, synopsis.json (the index) and job.json (who asked what, status,
error, report). The job table lives in memory and is read back from the
job.json files on first use, so finished synopses are listed and played after
a restart; one found queued or building there was cut short by the restart
and is marked failed ("interrupted").
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import threading
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from vigie.accounts import users
from vigie.errors import VigieError
from vigie.files import write_atomic
from vigie.i18n import _
from vigie.search.query import SearchError, parse_query
from vigie.services import Services
from vigie.synopsis import make
from vigie.times import UTC, from_iso, iso, now_iso, place
from vigie.web.context import MAX_OFFSET, ApiError, Justification, blurrer, hide_paths, page, record, window_start
from vigie.web.deps import CaseRef, CurrentUser, Purpose, ServicesDep, allow, allow_body, may, with_case
from vigie.web.plays import PLAY_TTL_S, PlaysDep, PlayStarted

log = logging.getLogger(__name__)
router = APIRouter(tags=["synopses"])

ID_PATTERN = "^[0-9a-f]{16}$"
MAX_LENGTH_S = 3600.0  # a synopsis longer than an hour is no synopsis
RESERVED_FILTERS = ("cameras", "groups", "communes", "start", "end", "limit", "offset", "sort")
NAME = "synopsis"  # <folder>/synopsis.webm and synopsis.json
NO_STORE = {"Cache-Control": "no-store"}


def _utc_time(v: datetime) -> datetime:
    return place(v, UTC, "", ValueError)  # pydantic names the field


class SynopsisRequest(Justification):
    model_config = ConfigDict(extra="forbid")
    camera: str = Field(min_length=1, max_length=128, description="Camera id.")
    start: datetime = Field(alias="from", description="Period start, UTC unless an offset is given.")
    end: datetime = Field(alias="to", description="Period end (excluded), UTC unless an offset is given.")
    filters: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Search attribute filters, as in POST /api/search (classes, upper, lower, body, directions, min_speed, "
            "max_speed, min_dwell, min_height, max_height, zones, colour_tolerance): only the matching objects are shown. "
            "cameras, groups, communes, start, end, limit, offset and sort are the synopsis' own."
        ),
    )
    length_s: float | None = Field(
        None,
        gt=0,
        le=MAX_LENGTH_S,
        description=(
            "Synopsis length in seconds (default: the shortest whose objects overlap by at most max_collision)."
        ),
    )
    max_collision: float = Field(
        0.05, ge=0, lt=1, description="Largest share of object area that may overlap another object."
    )

    @field_validator("start")
    @classmethod
    def _start(cls, v: datetime) -> datetime:
        return _utc_time(v)

    @field_validator("end")
    @classmethod
    def _end(cls, v: datetime, info: ValidationInfo) -> datetime:
        v, start = _utc_time(v), info.data.get("start")
        if start is not None and start >= v:
            raise ValueError(_("'from' ({value}) must be before 'to' ({value2})", value=iso(start), value2=iso(v)))
        return v

    @field_validator("length_s", "max_collision")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError(_("must be a finite number"))
        return v


def checked_filters(raw: dict[str, Any]) -> dict:
    """The filters as a search validates them (colour names lower-cased...), or 422 naming filters.<field>."""
    for name in raw:
        if name in RESERVED_FILTERS:
            raise ApiError(
                422,
                _("field filters.{name}: set by the synopsis itself (camera, from, to), not a filter", name=name),
                field=f"filters.{name}",
            )
    try:
        query = parse_query(raw)
    except SearchError as exc:
        name = f"filters.{exc.field}" if exc.field else "filters"
        raise ApiError(
            422, _("field {name}: {value}", name=name, value=str(exc).split(": ", 1)[-1]), field=name
        ) from None
    return query.model_dump(mode="json", exclude_unset=True)


class _SharedBlurrer:
    """The app's blurrer, one call at a time under the app's blur lock (the one clips and thumbnails take)."""

    def __init__(self, blurrer, lock: threading.Lock) -> None:
        self._blurrer, self._lock = blurrer, lock

    def blur_crop(self, *args, **kwargs):
        with self._lock:
            return self._blurrer.blur_crop(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._blurrer, name)


class SynopsisJobs:
    """The app's synopses: the job table (memory, mirrored in each folder's job.json) and the one worker."""

    PUBLIC = (
        "id",
        "status",
        "progress",
        "error",
        "report",
        "camera",
        "from",
        "to",
        "filters",
        "length_s",
        "max_collision",
        "case_ref",
        "created_at",
        "started_at",
        "finished_at",
    )

    def __init__(self, services: Services) -> None:
        self.services = services
        self._lock = threading.Lock()
        self._jobs: dict[str, dict] | None = None  # read from disk on first use (an app may be built without a store)
        self._queue: deque[str] = deque()
        self._worker: threading.Thread | None = None

    @property
    def root(self) -> Path:
        return Path(self.services.store.data_dir) / "synopses" / "web"

    def folder(self, job_id: str) -> Path:
        return self.root / job_id

    # --- the table ------------------------------------------------------------------------------------------
    def _table(self) -> dict[str, dict]:
        """Under self._lock."""
        if self._jobs is None:
            self._jobs = self._load()
        return self._jobs

    def _load(self) -> dict[str, dict]:
        jobs: dict[str, dict] = {}
        if not self.root.is_dir():
            return jobs
        for path in sorted(self.root.glob("*/job.json")):
            try:
                job = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                log.warning("synopsis job file %s cannot be read: skipped", path)
                continue
            if not isinstance(job, dict) or job.get("id") != path.parent.name:
                continue
            if job.get("status") in ("queued", "building"):
                job.update(
                    status="failed",
                    progress=0.0,
                    finished_at=now_iso(),
                    error="interrupted: the server stopped before this synopsis was finished; ask for it again",
                )
                self._save(job)
            jobs[job["id"]] = job
        return jobs

    def _save(self, job: dict) -> None:
        write_atomic(self.folder(job["id"]) / "job.json", json.dumps(job, indent=1, ensure_ascii=False).encode())

    def get(self, job_id: str, user: users.User) -> dict:
        """A copy of the user's job, or 404 (unknown, or another user's: the same answer)."""
        with self._lock:
            job = self._table().get(job_id)
            if job is None or job.get("user") != user.username:
                raise ApiError(404, _("no synopsis of yours has id {job_id}", job_id=job_id))
            return dict(job)

    def of_user(self, user: users.User) -> list[dict]:
        with self._lock:
            mine = [dict(j) for j in self._table().values() if j.get("user") == user.username]
        return sorted(mine, key=lambda j: (j.get("created_at") or "", j["id"]), reverse=True)

    def public(self, job: dict) -> dict:
        out = {k: job.get(k) for k in self.PUBLIC if job.get(k) is not None or k in ("status", "progress", "filters")}
        left = remaining_s(job)
        if left is not None:
            out["remaining_s"] = left
        return out

    # What makes two requests the same synopsis: a second click on Build joins the first one's job.
    SAME = ("user", "camera", "from", "to", "filters", "length_s", "max_collision")

    def running_like(self, job: dict) -> dict | None:
        """The user's queued or building job for the very same request, if any (a copy)."""
        with self._lock:
            for other in self._table().values():
                if other.get("status") in ("queued", "building") and all(other.get(k) == job.get(k) for k in self.SAME):
                    return dict(other)
        return None

    # --- the worker ----------------------------------------------------------------------------------------
    def submit(self, job: dict) -> dict:
        with self._lock:
            table = self._table()
            job["status"] = "queued" if (self._queue or self._worker is not None) else "building"
            table[job["id"]] = job
            self._save(job)
            self._queue.append(job["id"])
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="vigie-synopsis", daemon=True)
                self._worker.start()
            return dict(job)

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._worker = None
                    return
                job_id = self._queue.popleft()
            try:
                self._build(job_id)
            except Exception:  # noqa: BLE001 - the worker must outlive any one job
                log.exception("synopsis %s: the worker failed", job_id)

    def _build(self, job_id: str) -> None:
        services = self.services
        with self._lock:
            job = self._table()[job_id]
            job.update(status="building", started_at=now_iso(), progress=0.0)
            self._save(job)

        def progress(done: int, total: int) -> None:
            job["progress"] = round(done / total, 4) if total else 0.0

        try:
            if services.blurrer is None:
                raise ApiError(503, _("no blurrer is configured: media are only served blurred"))
            report = make.make_synopsis(
                services.store,
                job["camera"],
                from_iso(job["from"]),
                from_iso(job["to"]),
                self.folder(job_id),
                job["filters"],
                job.get("length_s"),
                job.get("max_collision", 0.05),
                blurrer=_SharedBlurrer(services.blurrer, services.blur_lock),
                video_format="webm",
                name=NAME,
                progress=progress,
                label_timezone=getattr(services.site, "timezone", None) or "UTC",
            )
        except VigieError as exc:
            done = {"status": "failed", "error": hide_paths(str(exc))}
        except Exception as exc:  # noqa: BLE001 - said in the job, logged in full
            log.exception("synopsis %s failed", job_id)
            done = {
                "status": "failed",
                "error": hide_paths(f"the synopsis could not be built: {type(exc).__name__}: {exc}"),
            }
        else:
            out = report.as_dict()
            out["video"] = f"/api/synopses/{job_id}/video"  # not the server's paths
            out["index"] = f"/api/synopses/{job_id}/index"
            done = {"status": "ready", "progress": 1.0, "report": out}
        if done["status"] == "failed":  # what the renderer had begun
            for partial in self.folder(job_id).glob(f".{NAME}.partial.*"):
                partial.unlink(missing_ok=True)
        with self._lock:
            job.update(done, finished_at=now_iso())
            self._save(job)


def remaining_s(job: dict) -> int | None:
    """Seconds a building job still needs, from its progress so far (None until it means something)."""
    progress, started = job.get("progress") or 0.0, job.get("started_at")
    if job.get("status") != "building" or not started or not 0.02 < progress < 1:
        return None
    elapsed = (datetime.now(UTC) - from_iso(started)).total_seconds()
    return max(1, round(elapsed * (1 - progress) / progress)) if elapsed > 1 else None


async def get_jobs(request: Request) -> SynopsisJobs:
    return request.app.state.synopses  # the app's own worker and job table (create_app makes it)


Jobs = Annotated[SynopsisJobs, Depends(get_jobs)]


def viewer(user: users.User, job: dict) -> None:
    """Operators: 403 once the whole period has left their window (as a track does, by its last sighting)."""
    lower = window_start(user)
    if lower is not None and from_iso(job["to"]) < lower:
        raise ApiError(
            403,
            _(
                "role {role} may only see the last 24 hours; synopsis {id} shows {v_from} - {to}",
                role=repr(user.role),
                id=job["id"],
                v_from=job["from"],
                to=job["to"],
            ),
        )


def justified_job(jobs: SynopsisJobs, user: users.User, synopsis_id: str, case_ref, purpose) -> dict:
    """The caller's ready synopsis, within their window; an investigator's justification is the one given,
    else the one the synopsis was asked with (so that no look is audited without a case and a purpose)."""
    may(user, "view_media_blurred")
    job = jobs.get(synopsis_id, user)
    allow(user, "view_media_blurred", case_ref or job.get("case_ref"), purpose or job.get("purpose"))
    viewer(user, job)
    ready(job)
    return job


def ready(job: dict) -> None:
    if job["status"] != "ready":
        state = {
            "queued": "is queued",
            "building": f"is being built ({job.get('progress', 0):.0%})",
            "failed": f"failed: {job.get('error')}",
        }.get(job["status"], job["status"])
        raise ApiError(409, _("synopsis {id} {state}: its video and index are not ready", id=job["id"], state=state))


def file(jobs: SynopsisJobs, job: dict, suffix: str) -> Path:
    path = jobs.folder(job["id"]) / f"{NAME}.{suffix}"
    if not path.is_file():
        raise ApiError(410, _("the files of synopsis {id} are gone (deleted on the server)", id=job["id"]))
    return path


@router.post("/api/synopses", status_code=202)
def create(services: ServicesDep, jobs: Jobs, body: SynopsisRequest, user: CurrentUser) -> dict:
    """Queue a synopsis of the camera's period (202): poll GET /api/synopses/{id} until ready."""
    body = allow_body(user, "search", body)  # none given: the session's open case
    blurrer(services)  # 503 without one: synopses are only made blurred
    filters = checked_filters(body.filters)
    lower = window_start(user)
    if lower is not None and body.start < lower:
        raise ApiError(
            400,
            _(
                "field from: {value} is outside the last 24 hours, which is all role {role} may search (from {value2})",
                value=iso(body.start),
                role=repr(user.role),
                value2=iso(lower),
            ),
            field="from",
        )
    make.check_request(services.store, body.camera, body.start, body.end, filters, body.length_s, body.max_collision)
    job_id = secrets.token_hex(8)
    job = {
        "id": job_id,
        "user": user.username,
        "role": user.role,
        "camera": body.camera,
        "from": iso(body.start),
        "to": iso(body.end),
        "filters": filters,
        "length_s": body.length_s,
        "max_collision": body.max_collision,
        "case_ref": body.case_ref or None,
        "purpose": body.purpose or None,
        "status": "queued",
        "progress": 0.0,
        "error": None,
        "report": None,
        "created_at": now_iso(),
    }
    same = jobs.running_like(job)
    if same is not None:  # a second click, or the same request from another tab: never two builds of one thing
        return {"id": same["id"], "status": same["status"], "existing": True}
    record(
        services,
        user,
        "synopsis",
        body.case_ref,
        body.purpose,
        {
            "id": job_id,
            "camera": body.camera,
            "from": job["from"],
            "to": job["to"],
            "filters": filters,
            "length_s": body.length_s,
            "max_collision": body.max_collision,
            "blurred": True,
        },
    )
    job = jobs.submit(job)
    return {"id": job_id, "status": job["status"]}


@router.get("/api/synopses")
def list_synopses(
    jobs: Jobs,
    user: CurrentUser,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict:
    """The caller's synopses, newest first."""
    may(user, "view_media_blurred")
    mine = jobs.of_user(user)
    return page([jobs.public(j) for j in mine[offset : offset + limit]], limit, offset, len(mine))


@router.get("/api/synopses/{synopsis_id}")
def get_synopsis(jobs: Jobs, user: CurrentUser, synopsis_id: str = PathParam(pattern=ID_PATTERN)) -> dict:
    """Status (queued, building, ready, failed), progress from 0 to 1, the error or the report."""
    may(user, "view_media_blurred")
    return jobs.public(jobs.get(synopsis_id, user))


@router.get(
    "/api/synopses/{synopsis_id}/video",
    response_class=FileResponse,
    responses={
        200: {"content": {"video/webm": {}}},
        206: {"content": {"video/webm": {}}, "description": "A range of it"},
    },
)
def synopsis_video(
    services: ServicesDep,
    jobs: Jobs,
    plays: PlaysDep,
    request: Request,
    user: CurrentUser,
    synopsis_id: str = PathParam(pattern=ID_PATTERN),
    case_ref: CaseRef = None,
    purpose: Purpose = None,
    play: str | None = Query(
        None, max_length=64, description="A play's token (POST /api/synopses/{synopsis_id}/play): not audited again."
    ),
) -> FileResponse:
    """The synopsis (VP8 WebM), faces and plates blurred; each object labelled with its original time.

    With `play`: a range of that play, audited when it was started. Without: audited, whatever its range."""
    if play is not None:
        started = plays.check(play, user.username, ("synopsis", synopsis_id))
        case_ref, purpose = started.case_ref, started.purpose
    job = justified_job(jobs, user, synopsis_id, case_ref, purpose)
    path = file(jobs, job, "webm")
    if play is None:
        audit_video(services, user, job, case_ref, purpose, {"range": request.headers.get("range")})
    return FileResponse(path, media_type="video/webm", headers=NO_STORE)


def audit_video(services: Services, user: users.User, job: dict, case_ref, purpose, more: dict) -> None:
    record(
        services,
        user,
        "view_synopsis",
        case_ref or job.get("case_ref"),
        purpose or job.get("purpose"),
        {"id": job["id"], "video": True, "camera": job["camera"], "from": job["from"], "to": job["to"], **more},
    )


class SynopsisPlay(Justification):
    model_config = ConfigDict(extra="forbid")


@router.post("/api/synopses/{synopsis_id}/play", status_code=201)
def start_play(
    services: ServicesDep,
    jobs: Jobs,
    plays: PlaysDep,
    body: SynopsisPlay,
    user: CurrentUser,
    synopsis_id: str = PathParam(pattern=ID_PATTERN),
) -> PlayStarted:
    """Start a play of the synopsis video: audited now, once (view_synopsis); answers the video's URL for this
    play, whose byte ranges the player then fetches without more entries."""
    body = with_case(user, body)  # none given: the session's open case
    job = justified_job(jobs, user, synopsis_id, body.case_ref, body.purpose)
    file(jobs, job, "webm")
    case_ref, purpose = body.case_ref or None, body.purpose or None
    token, started = plays.issue(user.username, ("synopsis", synopsis_id), case_ref, purpose)
    audit_video(services, user, job, case_ref, purpose, {"play": started.play_id})
    return PlayStarted(
        url=f"/api/synopses/{synopsis_id}/video?play={token}", play_id=started.play_id, expires_in_s=int(PLAY_TTL_S)
    )


@router.get("/api/synopses/{synopsis_id}/index")
def synopsis_index(
    services: ServicesDep,
    jobs: Jobs,
    user: CurrentUser,
    synopsis_id: str = PathParam(pattern=ID_PATTERN),
    case_ref: CaseRef = None,
    purpose: Purpose = None,
) -> dict:
    """The index: fps, frames, width, height, objects (track, class, synopsis and original times) and, per
    frame, each object's box in video pixels and its original time."""
    job = justified_job(jobs, user, synopsis_id, case_ref, purpose)
    index = json.loads(file(jobs, job, "json").read_text(encoding="utf-8"))
    index["video"] = f"/api/synopses/{synopsis_id}/video"
    record(
        services,
        user,
        "view_synopsis",
        case_ref or job.get("case_ref"),
        purpose or job.get("purpose"),
        {"id": synopsis_id, "index": True, "camera": job["camera"], "objects": len(index.get("objects", []))},
    )
    return index

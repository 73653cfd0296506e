"""Case routes: the case a session has open, a case's page, marks on its tracks, and its exports.

    GET    /api/case                      the session's open case (null when none)
    PUT    /api/case                      {case_ref, purpose}: open it for the session, or switch (audited)
    DELETE /api/case                      close it (audited)
    GET    /api/cases/{ref}               the case's searches, marks, trails, holds, exports, synopses
    PUT    /api/cases/{ref}/marks/{id}    {mark: same | different | null}: this track is (not) the person
    GET    /api/tracks/{id}/case          the holds that keep the track, and the cases' marks on it
    POST   /api/cases/{ref}/exports       {track_ids?, unblurred?, clips?}: a job (202; the same request: 200)
    GET    /api/case-exports/{id}         the job's progress; .../download its ZIP

Who may (the rule the case page documents): a case is opened by those who must justify what they do
(investigators; supervisors, for holds). An investigator's case page lists their own audit entries for
the case, and the case's shared record (its marks and holds); an auditor or a supervisor sees every
user's entries. Operators, admins, analysts and moderators have no case page. Every read is audited
under the case.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from vigie.accounts import users
from vigie.accounts.roles import JUSTIFICATION_REQUIRED, Forbidden, allowed
from vigie.cases import activity
from vigie.cases import session as cases
from vigie.web.case_exports import CaseExports
from vigie.web.context import COOKIE, MAX_ID, TEXT, ApiError, record, visible_track
from vigie.web.deps import CaseRef, CurrentUser, Purpose, ServicesDep, allow, may
from vigie.web.routes_exports import MAX_EXPORT_TRACKS
from vigie.web.routes_media import NO_STORE, open_grant

router = APIRouter(tags=["cases"])

CaseRefPath = Annotated[str, Path(min_length=1, max_length=TEXT, description="The case reference.")]
JOB_ID = r"^[0-9a-f]{16}$"


async def get_exports(request: Request) -> CaseExports:
    return request.app.state.case_exports  # the app's own job table and worker (create_app makes it)


Exports = Annotated[CaseExports, Depends(get_exports)]


class OpenCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_ref: str = Field(min_length=1, max_length=TEXT, description="The case reference (a complaint number...).")
    purpose: str = Field(min_length=1, max_length=TEXT, description="Why the footage is looked at for this case.")


class Mark(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mark: Literal["same", "different"] | None = Field(
        description="same: the person the case is about; different: not them; null: remove the mark."
    )
    purpose: str | None = Field(None, max_length=TEXT, description="Purpose (default: the session's open case's).")


class CaseExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    track_ids: list[int] | None = Field(
        None, max_length=MAX_EXPORT_TRACKS, description="The tracks (default: those marked 'same person')."
    )
    purpose: str | None = Field(None, max_length=TEXT, description="Purpose (default: the session's open case's).")
    unblurred: bool = Field(False, description="Unblurred media: only for tracks with an open unblur grant of yours.")
    clips: bool = Field(True, description="Include each track's clip (MP4, H.264).")


def opens_cases(user: users.User) -> bool:
    return user.role in JUSTIFICATION_REQUIRED


def session_token(request: Request) -> str:
    return users.token_hash(request.cookies.get(COOKIE) or "")


@router.get("/api/case")
def current_case(services: ServicesDep, user: CurrentUser, request: Request) -> dict:
    """The session's open case, and whether this role opens cases."""
    return {"case": cases.current(services.store, session_token(request)), "can_open": opens_cases(user)}


@router.put("/api/case")
def open_case(services: ServicesDep, user: CurrentUser, request: Request, body: OpenCase) -> dict:
    """Open a case for the session (every tab), or switch to another: audited (case_open)."""
    if not opens_cases(user):
        raise Forbidden(f"role {user.role!r} does not work for cases (investigators and supervisors do)")
    case = cases.open_case(
        services.store, session_token(request), user.username, user.role, body.case_ref, body.purpose
    )
    return {"case": case, "can_open": True}


@router.delete("/api/case")
def close_case(services: ServicesDep, user: CurrentUser, request: Request) -> dict:
    """Close the session's case (audited: case_close); requests must then give their own justification."""
    closed = cases.close_case(services.store, session_token(request), user.username, user.role)
    return {"case": None, "closed": closed, "can_open": opens_cases(user)}


def case_reader(user: users.User, case_ref: str, purpose: str | None) -> str | None:
    """None: every user's entries (auditors, supervisors); else the only user whose entries are listed."""
    if allowed(user.role, "audit_read") or allowed(user.role, "hold_lift_any"):
        return None
    if not allowed(user.role, "export"):
        raise Forbidden(f"role {user.role!r} has no case page (investigators, supervisors and auditors do)")
    allow(user, "export", case_ref, purpose)
    return user.username


def case_purpose(user: users.User, case_ref: str, purpose: str | None) -> str | None:
    """The request's purpose, else the open case's when it is this case."""
    return purpose if (purpose or "").strip() else (user.case_purpose if user.case_ref == case_ref else None)


def allow_for_case(user: users.User, permission: str, case_ref: str, purpose: str | None) -> str | None:
    """The purpose for the case (case_purpose), once the role may do `permission` with it (allow)."""
    purpose = case_purpose(user, case_ref, purpose)
    allow(user, permission, case_ref, purpose)
    return purpose


@router.get("/api/cases/{case_ref}")
def case_page(services: ServicesDep, user: CurrentUser, case_ref: CaseRefPath, purpose: Purpose = None) -> dict:
    """The case's searches, marked tracks, trails, holds, exports and synopses (audited: view_case)."""
    purpose = case_purpose(user, case_ref, purpose)
    only = case_reader(user, case_ref, purpose)
    found = activity.summary(services.store, case_ref, only)
    record(services, user, "view_case", case_ref, purpose, {"scope": found["scope"]})
    return found


@router.put("/api/cases/{case_ref}/marks/{track_id}")
def mark(
    services: ServicesDep,
    user: CurrentUser,
    body: Mark,
    case_ref: CaseRefPath,
    track_id: int = Path(ge=1, le=MAX_ID),
) -> dict:
    """Mark a track as the case's person (same), or not (different); null removes the mark. Audited."""
    purpose = allow_for_case(user, "similar", case_ref, body.purpose)
    visible_track(services, user, track_id)
    cases.mark_track(services.store, user.username, user.role, case_ref, purpose, track_id, body.mark)
    return {"case_ref": case_ref, "track_id": track_id, "mark": body.mark}


@router.get("/api/tracks/{track_id}/case")
def track_case(
    services: ServicesDep,
    user: CurrentUser,
    track_id: int = Path(ge=1, le=MAX_ID),
    case_ref: CaseRef = None,
    purpose: Purpose = None,
) -> dict:
    """The active holds that keep the track and the cases' marks on it (audited: view_holds)."""
    may(user, "holds")
    allow(user, "holds", case_ref, purpose)
    visible_track(services, user, track_id)
    found = {
        "holds": activity.track_holds(services.store, track_id),
        "marks": cases.marks_of_track(services.store, track_id),
    }
    record(services, user, "view_holds", case_ref, purpose, {"track_id": track_id})
    return found


class Progress(BaseModel):
    done: int = Field(description="Tracks packed so far.")
    total: int = Field(description="Tracks to pack.")
    remaining_s: float | None = Field(description="An estimate of the seconds left (null until a track is packed).")


class ExportJobOut(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    case_ref: str
    track_ids: list[int]
    unblurred: bool
    clips: bool
    progress: Progress
    error: str | None = Field(description="Why it failed, in words.")
    export_ref: str | None = Field(description="The export's reference (its manifest and audit entry name it).")
    sha256: str | None = Field(description="The ZIP's SHA-256, as the server keeps it.")
    bytes: int | None


@router.post(
    "/api/cases/{case_ref}/exports",
    status_code=202,
    responses={200: {"model": ExportJobOut, "description": "The same request's job, already started"}},
)
def start_export(
    services: ServicesDep,
    user: CurrentUser,
    jobs: Exports,
    body: CaseExportRequest,
    case_ref: CaseRefPath,
    response: Response,
) -> ExportJobOut:
    """Export several tracks of the case (default: those marked 'same person') with their trail, the
    evidence sheet (PDF) and the manifest: a job (202), polled at /api/case-exports/{id}. The same request
    while its job runs, or waits to be fetched, answers that job (200): an export is never started twice.
    One export of a user's runs at a time (another request meanwhile: 409)."""
    purpose = allow_for_case(user, "export", case_ref, body.purpose)
    ids = body.track_ids
    if ids is None:
        ids = [m["track_id"] for m in cases.marks(services.store, case_ref) if m["mark"] == "same"]
        if not ids:
            raise ApiError(
                400,
                "no track is marked as the same person for this case: mark some, or name the tracks",
                field="track_ids",
            )
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise ApiError(422, f"field track_ids: give 1 to {MAX_EXPORT_TRACKS} tracks", field="track_ids")
    for t in ids:
        if not 1 <= t <= MAX_ID:
            raise ApiError(422, f"field track_ids: {t} is not a track id", field="track_ids")
        visible_track(services, user, t)
    if body.unblurred:
        missing = [t for t in ids if open_grant(services, user, t) is None]
        if missing:
            raise ApiError(
                403,
                f"no open unblur grant of yours on track(s) {', '.join(map(str, missing))}: "
                "request one per track first, or export blurred",
            )
    job, new = jobs.start(user, case_ref, purpose, ids, body.unblurred, body.clips)
    response.headers.update(NO_STORE)
    if not new:
        response.status_code = 200
    return ExportJobOut(**job.as_dict())


def own_job(jobs: CaseExports, user: users.User, job_id: str):
    job = jobs.get(job_id)
    if job is None or job.username != user.username:  # another's job is not named as existing
        raise ApiError(404, f"no case export {job_id} of yours (finished exports are kept one hour)")
    return job


@router.get("/api/case-exports/{job_id}")
def export_status(jobs: Exports, user: CurrentUser, job_id: str = Path(pattern=JOB_ID)) -> ExportJobOut:
    """The export's status and progress (tracks packed, of how many; an estimate of the seconds left)."""
    return ExportJobOut(**own_job(jobs, user, job_id).as_dict())


@router.get(
    "/api/case-exports/{job_id}/download",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def download(jobs: Exports, user: CurrentUser, job_id: str = Path(pattern=JOB_ID)) -> Response:
    """The finished export's ZIP (its audit entry was written when it was built)."""
    job = own_job(jobs, user, job_id)
    if job.status != "done" or job.data is None:
        raise ApiError(409, f"case export {job_id} is {job.status}, not ready: poll /api/case-exports/{job_id}")
    name = f"vigie-case-export-{job.export_ref}.zip"
    return Response(
        job.data,
        media_type="application/zip",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"', "X-Vigie-SHA256": job.sha256},
    )

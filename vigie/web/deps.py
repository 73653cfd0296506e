"""The routes' dependencies, as `Annotated` types: the app's services, who is asking, and may they.

The services are found per request on the request's own app (`create_app` puts them on
app.state), never in a module: two apps over two stores never mix.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Query, Request

from vigie.accounts import users
from vigie.accounts.roles import Forbidden, allowed, require
from vigie.cases import session as cases
from vigie.i18n import _
from vigie.services import Services
from vigie.web.context import COOKIE, OPEN_CASE, TEXT, ApiError, justified


async def get_services(request: Request) -> Services:
    # async: it only reads the app's state, so FastAPI need not hand it to a worker thread
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


# What an account whose password someone else chose (must_change_password) may do: only change it.
MUST_CHANGE_ALLOWS = frozenset({"/api/me", "/api/password", "/api/logout"})


def current_user(request: Request, services: ServicesDep) -> users.User:
    """The session's user, or 401 (no session, or it expired: 8 hours, or 30 minutes unused); 403 for anything
    but changing it while the account's password must be changed."""
    token = request.cookies.get(COOKIE)
    user = users.session_user(services.store, token) if token else None
    if user is None and token:  # a session cookie the server no longer knows: the page says it expired
        raise ApiError(401, "the session has expired: POST /api/login again", expired=True)
    if user is None:
        raise ApiError(401, _("not logged in: POST /api/login first (or the session has expired)"))
    if user.must_change_password and request.url.path not in MUST_CHANGE_ALLOWS:
        raise ApiError(403, _("change your password first (POST /api/password): someone else chose the current one"))
    case = cases.current(services.store, users.token_hash(token))
    if case is not None:  # the case opened for the session: the justification of requests that give none
        user = replace(user, case_ref=case["case_ref"], case_purpose=case["purpose"])
    return user


CurrentUser = Annotated[users.User, Depends(current_user)]


def with_case(user: users.User, body):
    """A request body whose case_ref and purpose fall back on the session's open case (see justified)."""
    case_ref, purpose = justified(user, getattr(body, "case_ref", None), getattr(body, "purpose", None))
    update = {"case_ref": case_ref} | ({"purpose": purpose} if "purpose" in type(body).model_fields else {})
    return body.model_copy(update=update)


def allow(user: users.User, permission: str, case_ref: str | None = None, purpose: str | None = None) -> None:
    """Forbidden unless the role holds the permission; MissingJustification when it must say why and did not
    (the session's open case counts as the request's own)."""
    require(user.role, permission, *justified(user, case_ref, purpose))


def allow_body(user: users.User, permission: str, body, *, purpose: str | None = None):
    """The request body with the session's open case where it gives none (with_case), once its role may do
    `permission` with that justification (allow). The purpose is the body's own, unless `purpose` names what
    justifies it where the body has no purpose field (a legal hold's reason)."""
    body = with_case(user, body)
    allow(user, permission, body.case_ref, body.purpose if purpose is None else purpose)
    return body


def may(user: users.User, permission: str) -> None:
    """Forbidden unless the role holds the permission; for calls whose justification is elsewhere
    (an unblur grant carries its case; listing one's own exports needs none)."""
    if not allowed(user.role, permission):
        raise Forbidden(
            _("role {role} does not have permission {permission}", role=repr(user.role), permission=repr(permission))
        )


def user_with(permission: str):
    """A dependency: the session's user, whose role must hold `permission` (no justification)."""

    def dependency(user: CurrentUser) -> users.User:
        may(user, permission)
        return user

    return dependency


# The justification investigators give with what they look at, as query parameters (`case_ref: CaseRef = None`);
# the session's open case where the request gives none (context.OPEN_CASE).


def _case_ref(
    user: CurrentUser,
    case_ref: Annotated[
        str | None, Query(max_length=TEXT, description="Case reference (investigators: required)." + OPEN_CASE)
    ] = None,
) -> str | None:
    return justified(user, case_ref, None)[0]


def _purpose(
    request: Request,
    user: CurrentUser,
    purpose: Annotated[
        str | None, Query(max_length=TEXT, description="Purpose (investigators: required)." + OPEN_CASE)
    ] = None,
) -> str | None:
    return justified(user, request.query_params.get("case_ref"), purpose)[1]


CaseRef = Annotated[str | None, Depends(_case_ref)]
Purpose = Annotated[str | None, Depends(_purpose)]

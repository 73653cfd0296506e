"""Session routes: log in (the one /api call without a session), log out, who am I.

The session is an HttpOnly, SameSite=strict cookie; failed logins are audited and lock the account
(423) after repeated failures (vigie.accounts.users).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from vigie.accounts import users
from vigie.audit.log import audit_client
from vigie.web.context import COOKIE
from vigie.web.deps import CurrentUser, ServicesDep

router = APIRouter(tags=["session"])


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=128)
    password: str = Field(max_length=users.MAX_PASSWORD_LENGTH)


@router.post("/api/login")
def login(services: ServicesDep, body: LoginRequest, request: Request, response: Response) -> dict:
    # Failed logins are anonymous audit entries, capped per client (vigie.audit.log._AnonymousCap).
    audit_client.set(request.client.host if request.client else None)
    user = users.authenticate(services.store, body.username, body.password)  # audits success and failure
    token = users.create_session(services.store, user)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(users.SESSION_TTL.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=services.secure_cookie,
    )
    return {"username": user.username, "role": user.role}


@router.post("/api/logout")
def logout(services: ServicesDep, request: Request, response: Response, user: CurrentUser) -> dict:
    users.logout(services.store, request.cookies.get(COOKIE, ""))
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=services.secure_cookie)
    return {"logged_out": user.username}


@router.get("/api/me")
def me(user: CurrentUser) -> dict:
    return {"username": user.username, "role": user.role}

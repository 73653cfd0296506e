"""Session routes: log in (the one /api call without a session), log out, who am I.

The session is an HttpOnly, SameSite=strict cookie, Secure over HTTPS or when the server is not on
loopback. Every login attempt is audited with the client's address; the login throttle
(vigie.web.throttle) slows guessing per client and per name, caps concurrent hashing, and answers every
refusal the same way whether the name exists or not (401, or 429 with Retry-After).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from vigie.accounts import users
from vigie.audit.log import audit_client
from vigie.web.context import COOKIE, ApiError
from vigie.web.deps import CurrentUser, ServicesDep
from vigie.web.throttle import DEVICE_COOKIE, DEVICE_TTL_S, LoginThrottle

router = APIRouter(tags=["session"])


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=128)
    password: str = Field(max_length=users.MAX_PASSWORD_LENGTH)


def secure(services, request: Request) -> bool:
    """Cookies are Secure over HTTPS (directly or through a trusted proxy) and whenever the server is not on loopback."""
    return services.secure_cookie or request.url.scheme == "https"


@router.post("/api/login", responses={429: {"description": "Too many attempts: wait Retry-After seconds"}})
def login(services: ServicesDep, body: LoginRequest, request: Request, response: Response) -> dict:
    throttle: LoginThrottle = request.app.state.login_throttle
    client = request.client.host if request.client else "unknown"  # through the trusted proxies (vigie.web.proxy)
    # Failed logins are anonymous audit entries, capped per client (vigie.audit.log._AnonymousCap).
    audit_client.set(client)
    ticket = throttle.admit(client, body.username, request.cookies.get(DEVICE_COOKIE))  # TooManyAttempts: 429
    with throttle.hashing():  # HashingBusy: 503
        try:  # audits success and failure, with the client's address
            user = users.authenticate(services.store, body.username, body.password, client=client)
        except users.AuthenticationFailed:  # unknown, wrong, disabled, locked: one answer for all
            throttle.failed(ticket)
            raise ApiError(401, users.BAD_CREDENTIALS) from None
    device = throttle.succeeded(ticket)
    token = users.create_session(services.store, user)
    cookie = {"path": "/", "httponly": True, "samesite": "strict", "secure": secure(services, request)}
    response.set_cookie(COOKIE, token, max_age=int(users.SESSION_TTL.total_seconds()), **cookie)
    response.set_cookie(DEVICE_COOKIE, device, max_age=DEVICE_TTL_S, **{**cookie, "path": "/api/login"})
    return {"username": user.username, "role": user.role}


@router.post("/api/logout")
def logout(services: ServicesDep, request: Request, response: Response, user: CurrentUser) -> dict:
    users.logout(services.store, request.cookies.get(COOKIE, ""))
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=secure(services, request))
    return {"logged_out": user.username}


@router.get("/api/me")
def me(user: CurrentUser) -> dict:
    return {"username": user.username, "role": user.role}

"""Session routes: log in (the one /api call without a session, with enrolment), log out, who am I,
and the owner's own password.

The session is an HttpOnly, SameSite=strict cookie, Secure over HTTPS or when the server is not on
loopback. Every login attempt is audited with the client's address; the login throttle
(vigie.web.throttle) slows guessing per client and per name, caps concurrent hashing, and answers every
refusal the same way whether the name exists or not (401, or 429 with Retry-After).
A session ends 8 hours after login or 30 minutes after its last use. An account whose password someone else typed at the console
(must_change_password) may only change it (POST /api/password), see who it is, and log out.

Enrolment: an admin gives a new user (or one who asked for a reset) a one-time link,
`/enrol#token`; the page posts the token to /api/enrol/check (whose account), then with the
chosen password to /api/enrol. No one but its owner ever sees a password.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from vigie.accounts import passwords, users
from vigie.audit.log import audit_client
from vigie.web.context import COOKIE, ApiError
from vigie.web.deps import CurrentUser, ServicesDep
from vigie.web.language import apply_account_language
from vigie.web.throttle import DEVICE_COOKIE, DEVICE_TTL_S, LoginThrottle

router = APIRouter(tags=["session"])

TOKEN = Field(min_length=1, max_length=200, description="The token from the link's fragment (after '#').")


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=128)
    password: str = Field(max_length=users.MAX_PASSWORD_LENGTH)


class LinkCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = TOKEN


class Enrolment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = TOKEN
    new_password: str = Field(max_length=users.MAX_PASSWORD_LENGTH)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(max_length=users.MAX_PASSWORD_LENGTH)
    new_password: str = Field(max_length=users.MAX_PASSWORD_LENGTH)


def who(user: users.User) -> dict:
    return {"username": user.username, "role": user.role, "must_change_password": user.must_change_password}


def secure(services, request: Request) -> bool:
    """Cookies are Secure over HTTPS (directly or through a trusted proxy) and whenever the server is not on loopback."""
    return services.secure_cookie or request.url.scheme == "https"


def open_session(services, user: users.User, request: Request, response: Response) -> None:
    token = users.create_session(services.store, user)
    cookie = {"path": "/", "httponly": True, "samesite": "strict", "secure": secure(services, request)}
    response.set_cookie(COOKIE, token, max_age=int(users.SESSION_TTL.total_seconds()), **cookie)


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
    open_session(services, user, request, response)
    cookie = {"httponly": True, "samesite": "strict", "secure": secure(services, request)}
    response.set_cookie(DEVICE_COOKIE, device, max_age=DEVICE_TTL_S, path="/api/login", **cookie)
    # the language the account chose, on whatever browser it was: the pages after this one open in it
    apply_account_language(response, services.store, user)
    return who(user)


@router.post("/api/logout")
def logout(services: ServicesDep, request: Request, response: Response, user: CurrentUser) -> dict:
    users.logout(services.store, request.cookies.get(COOKIE, ""))
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=secure(services, request))
    return {"logged_out": user.username}


@router.get("/api/me")
def me(user: CurrentUser) -> dict:
    return who(user)


@router.post("/api/password")
def change_password(
    services: ServicesDep, body: PasswordChange, user: CurrentUser, request: Request, response: Response
) -> dict:
    """The user changes their own password, giving the current one. Every session of theirs ends; this
    browser gets a new one."""
    try:
        passwords.change_own_password(services.store, user, body.current_password, body.new_password)
    except users.PasswordPolicyError as exc:
        raise PolicyRefused(str(exc)) from None
    fresh = users.get_user(services.store, user.username)
    open_session(services, fresh, request, response)
    return who(fresh)


@router.post("/api/enrol/check")
def enrolment_link(services: ServicesDep, body: LinkCheck) -> dict:
    """Whose one-time link this is, and until when (404 when used, replaced or expired). No session."""
    return passwords.link_info(services.store, body.token)


@router.post("/api/enrol")
def enrol(services: ServicesDep, body: Enrolment) -> dict:
    """Set one's own password with a one-time link (the link is used up). No session: log in next."""
    try:
        username = passwords.redeem(services.store, body.token, body.new_password)
    except users.PasswordPolicyError as exc:
        raise PolicyRefused(str(exc)) from None
    return {"username": username, "password_set": True}


class PolicyRefused(users.PasswordPolicyError):
    """A new password the policy refuses: the API names the field."""

    def body(self) -> dict:
        return {**super().body(), "field": "new_password"}

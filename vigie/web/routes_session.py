"""Session routes: log in (the one /api call without a session, with enrolment), log out, who am I,
and the owner's own password.

The session is an HttpOnly, SameSite=strict cookie; failed logins are audited and lock the account
(423) after repeated failures (vigie.accounts.users). A session ends 8 hours after login or 30
minutes after its last use. An account whose password someone else typed at the console
(must_change_password) may only change it (POST /api/password), see who it is, and log out.

Enrolment: an admin gives a new user (or one who asked for a reset) a one-time link,
`/enrol#token`; the page posts the token to /api/enrol/check (whose account), then with the
chosen password to /api/enrol. No one but its owner ever sees a password.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from vigie.accounts import passwords, users
from vigie.web.context import COOKIE
from vigie.web.deps import CurrentUser, ServicesDep

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


def open_session(services, user: users.User, response: Response) -> None:
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


@router.post("/api/login")
def login(services: ServicesDep, body: LoginRequest, response: Response) -> dict:
    user = users.authenticate(services.store, body.username, body.password)  # audits success and failure
    open_session(services, user, response)
    return who(user)


@router.post("/api/logout")
def logout(services: ServicesDep, request: Request, response: Response, user: CurrentUser) -> dict:
    users.logout(services.store, request.cookies.get(COOKIE, ""))
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=services.secure_cookie)
    return {"logged_out": user.username}


@router.get("/api/me")
def me(user: CurrentUser) -> dict:
    return who(user)


@router.post("/api/password")
def change_password(services: ServicesDep, body: PasswordChange, user: CurrentUser, response: Response) -> dict:
    """The user changes their own password, giving the current one. Every session of theirs ends; this
    browser gets a new one."""
    try:
        passwords.change_own_password(services.store, user, body.current_password, body.new_password)
    except users.PasswordPolicyError as exc:
        raise PolicyRefused(str(exc)) from None
    fresh = users.get_user(services.store, user.username)
    open_session(services, fresh, response)
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

"""Admin routes: user accounts and run-time settings. Admins see no media.

Every change goes through vigie.accounts (users, approvals, passwords) or
vigie.settings, which write the change and its audit entry in one transaction.
An admin never sees a password: a new account, or a reset, gets a one-time
link (`/enrol#token`, vigie.accounts.links) with which its owner chooses their
own. A role that sees media (roles.APPROVAL_ROLES), and a reset link for an
account that has one, wait for a supervisor's approval (vigie.accounts.approvals);
such a reset link goes to the approving supervisor, never to the admin.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from vigie.accounts import approvals, passwords, users
from vigie.accounts.roles import APPROVAL_ROLES, ROLES
from vigie.i18n import gettext
from vigie.settings import change as change_setting
from vigie.settings import stored as stored_settings
from vigie.web.context import MAX_OFFSET, ApiError, effective_site, page
from vigie.web.deps import CurrentUser, ServicesDep, allow, user_with

router = APIRouter()

Admin = Annotated[users.User, Depends(user_with("users_admin"))]
USERNAME = Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
    role: Literal[ROLES]  # type: ignore[valid-type]


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal[ROLES] | None = None  # type: ignore[valid-type]
    disabled: bool | None = None


class SettingChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(max_length=200, description="'controller' or 'retention_days:<camera id>'")
    value: Any = Field(None, description="The new value; null removes the setting (back to the site file's).")


def link_path(token: str) -> str:
    """The enrolment page with the token in its fragment (never sent to a server); the page adds its origin."""
    return f"/enrol#{token}"


def _pending_roles(services) -> dict[str, dict]:
    pending, _ = approvals.listing(services.store, "pending", limit=10_000)
    return {r["target_user"].casefold(): r for r in pending if r["kind"] == "role"}


def _with_pending(user: users.User, pending: dict[str, dict]) -> dict:
    req = pending.get(user.username.casefold())
    return {
        **user.as_dict(),
        "pending_role": req["role"] if req else None,
        "pending_request": req["id"] if req else None,
    }


@router.get("/api/users", tags=["users"])
def list_users(
    services: ServicesDep,
    user: Admin,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict:
    everyone = users.list_users(services.store)
    pending = _pending_roles(services)
    return page(
        [_with_pending(u, pending) for u in everyone[offset : offset + limit]],
        limit,
        offset,
        len(everyone),
        roles=list(ROLES),
        approval_roles=sorted(APPROVAL_ROLES),
    )


@router.post("/api/users", tags=["users"], status_code=201)
def create_user(services: ServicesDep, body: NewUser, user: Admin) -> dict:
    """Create an account with no password, and its one-time enrolment link (its owner chooses the password).
    A role that sees media waits for a supervisor's approval: until then the account has role 'none'."""
    made = approvals.enrol_new_user(services.store, user, body.username, body.role)
    created = users.get_user(services.store, body.username)
    return {
        **_with_pending(created, _pending_roles(services)),
        "enrolment_link": link_path(made["link_token"]),
        "link_expires_at": made["link_expires_at"],
        "note": "give this link to the user only: it works once, until it expires, and sets their own password",
    }


@router.patch("/api/users/{username}", tags=["users"])
def change_user(services: ServicesDep, user: Admin, username: str = USERNAME, body: UserChange = Body(...)) -> dict:
    store = services.store
    if body.role is None and body.disabled is None:
        raise ApiError(400, gettext("nothing to change: give role and/or disabled"))
    target = users.get_user(store, username)
    if target is None:
        raise ApiError(404, gettext("no user named {username}", username=repr(username)))
    if username.lower() == user.username.lower() and body.disabled:
        raise ApiError(400, gettext("an admin may not disable their own account (ask another admin)"))
    request = None
    if body.role is not None and body.role == target.role:
        pass  # already so: nothing to ask for
    elif body.role is not None and body.role in APPROVAL_ROLES:  # a supervisor approves a role that sees media
        request = approvals.request_account_change(store, user, "role", username, body.role)
    elif body.role is not None:
        users.set_role(store, username, body.role, by=user)
    if body.disabled is True:
        users.disable_user(store, username, by=user)
    elif body.disabled is False:
        users.enable_user(store, username, by=user)
    out = _with_pending(users.get_user(store, username), _pending_roles(services))
    if request:
        out["note"] = (
            f"role {body.role!r} sees media: it applies once a supervisor approves request {request['request_id']}"
        )
    return out


@router.post("/api/users/{username}/password", tags=["users"])
def reset_password(services: ServicesDep, user: Admin, username: str = USERNAME) -> dict:
    """A one-time link with which the user chooses a new password (their current one works until then).
    For an account whose role sees media, a supervisor approves first and the link goes to them."""
    target = users.get_user(services.store, username)
    if target is None:
        raise ApiError(404, gettext("no user named {username}", username=repr(username)))
    if target.role in APPROVAL_ROLES:
        req = approvals.request_account_change(services.store, user, "reset", target.username)
        return {
            "username": target.username,
            "status": "pending",
            "request_id": req["request_id"],
            "note": f"{target.username} has role {target.role!r}, which sees media: a supervisor approves the reset "
            "and hands the link to them",
        }
    token, expires = passwords.issue_link(services.store, target.username, "reset", by=user)
    return {
        "username": target.username,
        "status": "issued",
        "reset_link": link_path(token),
        "link_expires_at": expires,
        "note": "give this link to the user only: it works once, until it expires",
    }


@router.get("/api/settings", tags=["settings"])
def get_settings(services: ServicesDep, user: CurrentUser) -> dict:
    allow(user, "settings_admin")
    site = effective_site(services)
    return {
        "stored": stored_settings(services.store),
        "legal_max_retention_days": site.legal_max_retention_days,
        "controller": site.controller,
        "retention_days": {c.id: site.retention_for(c.id) for c in site.cameras},
    }


@router.put("/api/settings", tags=["settings"])
def put_setting(services: ServicesDep, body: SettingChange, user: CurrentUser) -> dict:
    allow(user, "settings_admin")
    return change_setting(services.store, effective_site(services).site, body.key, body.value, user.username, user.role)

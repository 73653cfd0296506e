"""Admin routes: user accounts and run-time settings. Admins see no media.

Every change goes through vigie.accounts.users or vigie.settings, which write
the change and its audit entry in one transaction. A password an admin sets
for someone else is generated here and shown once in the response; the user
changes it with `vigie user passwd` (or an admin resets it again).
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from vigie.accounts import users
from vigie.accounts.roles import ROLES
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


def _new_password() -> str:
    return secrets.token_urlsafe(18)  # 24 characters, 144 bits; shown once


@router.get("/api/users", tags=["users"])
def list_users(
    services: ServicesDep,
    user: Admin,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict:
    everyone = users.list_users(services.store)
    return page([u.as_dict() for u in everyone[offset : offset + limit]], limit, offset, len(everyone))


@router.post("/api/users", tags=["users"], status_code=201)
def create_user(services: ServicesDep, body: NewUser, user: Admin) -> dict:
    password = _new_password()
    created = users.create_user(services.store, body.username, body.role, password, by=user)
    return {
        **created.as_dict(),
        "password": password,
        "note": "shown only this once: give it to the user, who changes it with `vigie user passwd`",
    }


@router.patch("/api/users/{username}", tags=["users"])
def change_user(services: ServicesDep, user: Admin, username: str = USERNAME, body: UserChange = Body(...)) -> dict:
    store = services.store
    if body.role is None and body.disabled is None:
        raise ApiError(400, "nothing to change: give role and/or disabled")
    if users.get_user(store, username) is None:
        raise ApiError(404, f"no user named {username!r}")
    if username.lower() == user.username.lower() and body.disabled:
        raise ApiError(400, "an admin may not disable their own account (ask another admin)")
    if body.role is not None:
        users.set_role(store, username, body.role, by=user)
    if body.disabled is True:
        users.disable_user(store, username, by=user)
    elif body.disabled is False:
        users.enable_user(store, username, by=user)
    return users.get_user(store, username).as_dict()


@router.post("/api/users/{username}/password", tags=["users"])
def reset_password(services: ServicesDep, user: Admin, username: str = USERNAME) -> dict:
    if users.get_user(services.store, username) is None:
        raise ApiError(404, f"no user named {username!r}")
    password = _new_password()
    users.set_password(services.store, username, password, by=user)  # ends the user's sessions
    return {"username": username, "password": password, "note": "shown only this once"}


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

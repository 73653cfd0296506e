"""Admin routes: user accounts and run-time settings. Admins see no media.

Every change goes through vigie.accounts.users or vigie.settings, which write
the change and its audit entry in one transaction. A password an admin sets
for someone else is generated here and shown once in the response; the user
changes it with `vigie user passwd` (or an admin resets it again).
"""

from __future__ import annotations

import secrets
from typing import Any, Literal

from fastapi import Body, Depends, FastAPI, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from vigie.accounts import users
from vigie.accounts.roles import ROLES
from vigie.settings import change as change_setting
from vigie.settings import stored as stored_settings
from vigie.web.context import MAX_OFFSET, ApiContext, ApiError, page

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


def add_routes(app: FastAPI, ctx: ApiContext) -> None:
    store = ctx.store

    admin = ctx.user_with("users_admin")

    @app.get("/api/users", tags=["users"])
    def list_users(
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0, le=MAX_OFFSET),
        user: users.User = Depends(admin),
    ) -> dict:
        everyone = users.list_users(store)
        return page([u.as_dict() for u in everyone[offset : offset + limit]], limit, offset, len(everyone))

    @app.post("/api/users", tags=["users"], status_code=201)
    def create_user(body: NewUser, user: users.User = Depends(admin)) -> dict:
        password = _new_password()
        created = users.create_user(store, body.username, body.role, password, by=user)
        return {
            **created.as_dict(),
            "password": password,
            "note": "shown only this once: give it to the user, who changes it with `vigie user passwd`",
        }

    @app.patch("/api/users/{username}", tags=["users"])
    def change_user(username: str = USERNAME, body: UserChange = Body(...), user: users.User = Depends(admin)) -> dict:
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

    @app.post("/api/users/{username}/password", tags=["users"])
    def reset_password(username: str = USERNAME, user: users.User = Depends(admin)) -> dict:
        if users.get_user(store, username) is None:
            raise ApiError(404, f"no user named {username!r}")
        password = _new_password()
        users.set_password(store, username, password, by=user)  # ends the user's sessions
        return {"username": username, "password": password, "note": "shown only this once"}

    @app.get("/api/settings", tags=["settings"])
    def get_settings(user: users.User = Depends(ctx.current_user)) -> dict:
        ctx.allow(user, "settings_admin")
        site = ctx.effective_site()
        return {
            "stored": stored_settings(store),
            "legal_max_retention_days": site.legal_max_retention_days,
            "controller": site.controller,
            "retention_days": {c.id: site.retention_for(c.id) for c in site.cameras},
        }

    @app.put("/api/settings", tags=["settings"])
    def put_setting(body: SettingChange, user: users.User = Depends(ctx.current_user)) -> dict:
        ctx.allow(user, "settings_admin")
        return change_setting(store, ctx.effective_site().site, body.key, body.value, user.username, user.role)

"""Settings an admin changes while the application runs, on top of the site file.

The site file stays the source of truth for what cameras exist; an admin may
change, from the web application, a camera's retention period (never above the
site's legal maximum) and the controller contact shown in the public register.
Each change is one row of the `settings` table and one audit entry, written in
the same transaction, with the old and new values.

`EffectiveSite(site, store)` is what purge and the register read: the site
file's answers with the admin's changes applied.
"""

from __future__ import annotations

import json
import re
from typing import Any

from vigie.audit.log import append_in
from vigie.config import SiteConfig, default_site
from vigie.errors import VigieError
from vigie.i18n import _
from vigie.times import now_iso

RETENTION_PREFIX = "retention_days:"
CONTROLLER = "controller"
_CAMERA_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class SettingError(VigieError, ValueError):
    """A setting that does not exist or a value it cannot take."""


def stored(store) -> dict[str, Any]:
    """Every stored setting, key -> value."""
    with store.read() as conn:
        return {r[0]: json.loads(r[1]) for r in conn.execute("SELECT key, value FROM settings ORDER BY key")}


def check(site: SiteConfig, key: str, value: Any) -> Any:
    """The value to store for key, or SettingError naming what is wrong. None removes the setting."""
    if key == CONTROLLER:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > 500:
            raise SettingError(_("controller: give the controller's name and contact as text (1 to 500 characters)"))
        return value.strip()
    if key.startswith(RETENTION_PREFIX):
        camera_id = key[len(RETENTION_PREFIX) :]
        if not _CAMERA_ID.match(camera_id):
            raise SettingError(
                _("setting {key}: {camera_id} is not a camera id", key=repr(key), camera_id=repr(camera_id))
            )
        site.camera(camera_id)  # ConfigError naming the known cameras
        if value is None:
            return None
        cap = site.legal_max_retention_days
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= cap:
            raise SettingError(
                _(
                    "setting {key}: retention must be a whole number of days from 1 to {cap} (the site's legal maximum), not {value}",
                    key=repr(key),
                    cap=cap,
                    value=repr(value),
                )
            )
        return value
    raise SettingError(
        _(
            "unknown setting {key}; settings: {controller}, '{retention_prefix}<camera id>'",
            key=repr(key),
            controller=repr(CONTROLLER),
            retention_prefix=RETENTION_PREFIX,
        )
    )


def change(store, site: SiteConfig, key: str, value: Any, user: str, role: str) -> dict:
    """Set (or with None, remove) one setting; audited as 'settings' with old and new values."""
    value = check(site, key, value)

    def fn(conn):
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        old = json.loads(row[0]) if row else None
        if value is None:
            conn.execute("DELETE FROM settings WHERE key = ?", (key,))
        else:
            conn.execute(
                "INSERT INTO settings VALUES (?,?,?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value,"
                " updated_at=excluded.updated_at, updated_by=excluded.updated_by",
                (key, json.dumps(value), now_iso(), user),
            )
        append_in(conn, user, role, "settings", details={"key": key, "old": old, "new": value})
        return {"key": key, "old": old, "new": value}

    return store.write(fn).result()


class EffectiveSite:
    """The site file with the admin's stored settings applied (read once, at construction)."""

    def __init__(self, site: SiteConfig | None, store) -> None:
        self.site = site or default_site()
        self.values = stored(store)

    @property
    def name(self) -> str:
        return self.site.name

    @property
    def cameras(self):
        return self.site.cameras

    @property
    def controller(self) -> str | None:
        return self.values.get(CONTROLLER) or self.site.controller

    @property
    def legal_max_retention_days(self) -> int:
        return self.site.legal_max_retention_days

    def retention_for(self, camera_id: str) -> int:
        # A value stored before the site's legal maximum was lowered is capped, never obeyed.
        override = self.values.get(RETENTION_PREFIX + camera_id)
        days = override if isinstance(override, int) else self.site.retention_for(camera_id)
        return min(days, self.site.legal_max_retention_days)

    def analysis_for(self, camera_id: str):
        return self.site.analysis_for(camera_id)

    def detector_for(self, camera_id: str):
        return self.site.detector_for(camera_id)

    def camera(self, camera_id: str):
        return self.site.camera(camera_id)

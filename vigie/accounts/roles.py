"""Roles and what each may do, as one permission table.

- operator: live view, searches over the last 24 hours, blurred media only;
- investigator: every search, similar, trail, exports, legal holds, blurred
  media and requests for unblurred media; each search, similar, trail, export
  and unblur request must name a case reference and a purpose;
- auditor: the audit log and the public register, no media;
- admin: users, cameras and settings, no media; may check the audit chain
  (verify) but not read its entries;
- analyst: the crime map (incidents, density, hot spots, reports for the
  security council) and incident imports; places and times only, no media;
- moderator: the citizen reports' queue (accept, reject, merge, redact,
  status updates) and their photos, blurred before they were stored;
- supervisor: approves (or rejects) each request that opens media to someone:
  an investigator's unblurred view of a track, an admin's grant of a role that
  sees media (APPROVAL_ROLES), an admin's reset of such an account's password.
  The approver is never the requester; both are audited. Also lifts any legal
  hold (with a reason) and places the holds that exceed the site's hold window
  (open-ended ones). No media.

'none' is not a role one is given: it is an account waiting for a supervisor
to approve the role an admin asked for, and it may do nothing.

Investigators give a case reference and a purpose for every action on footage
or people: searches, track details, thumbnails, clips, alerts, counts, holds.

The public register (what cameras exist and why) is public: every role may read it.
"""

from __future__ import annotations

from datetime import timedelta

from vigie.errors import VigieError
from vigie.i18n import gettext

ROLES = ("operator", "investigator", "auditor", "admin", "analyst", "moderator", "supervisor")
NO_ROLE = "none"  # an account whose role awaits a supervisor's approval: no permissions

ALL_PERMISSIONS = frozenset(
    {
        "live_view",
        "search",
        "search_any_time",
        "similar",
        "trail",
        "export",
        "view_media_blurred",
        "view_media_unblurred_request",
        "audit_read",
        "audit_verify",
        "register_read",
        "users_admin",
        "cameras_admin",
        "settings_admin",
        "holds",
        "hold_lift_any",  # lift a hold another user placed
        "hold_open_ended",  # place a hold whose window exceeds the site's hold_max_window_days, or has no end
        "alerts",
        "crime_map",
        "incidents_import",
        "reports_moderate",
        "approve",
    }
)

PERMISSIONS: dict[str, frozenset[str]] = {
    "operator": frozenset({"live_view", "search", "view_media_blurred", "register_read", "alerts"}),
    "investigator": frozenset(
        {
            "search",
            "search_any_time",
            "similar",
            "trail",
            "export",
            "view_media_blurred",
            "view_media_unblurred_request",
            "holds",
            "register_read",
            "alerts",
        }
    ),
    "auditor": frozenset({"audit_read", "audit_verify", "register_read"}),
    "admin": frozenset({"users_admin", "cameras_admin", "settings_admin", "audit_verify", "register_read"}),
    "analyst": frozenset({"crime_map", "incidents_import", "register_read"}),
    "moderator": frozenset({"reports_moderate", "register_read"}),
    "supervisor": frozenset({"approve", "holds", "hold_lift_any", "hold_open_ended", "register_read"}),
}

# What lets a role see media (footage, thumbnails, clips, citizen photos) or open them to others:
# an admin may ask for one of these roles, and a supervisor must approve it (vigie.accounts.approvals).
MEDIA_PERMISSIONS = frozenset(
    {"live_view", "view_media_blurred", "view_media_unblurred_request", "reports_moderate", "approve"}
)
APPROVAL_ROLES = frozenset(r for r, perms in PERMISSIONS.items() if perms & MEDIA_PERMISSIONS)

# Permissions a role may use only with a case reference and a purpose (both audited).
JUSTIFICATION_REQUIRED: dict[str, frozenset[str]] = {
    "investigator": frozenset(
        {
            "search",
            "search_any_time",
            "similar",
            "trail",
            "export",
            "view_media_blurred",  # track details, thumbnails, clips, synopses
            "view_media_unblurred_request",
            "alerts",  # alerts, their snapshots, the live feed, counts and heat maps
            "holds",  # listing, placing and lifting legal holds
        }
    ),
    "supervisor": frozenset({"holds"}),
}

OPERATOR_SEARCH_WINDOW = timedelta(hours=24)


class Forbidden(VigieError, PermissionError):
    """A role asked for something its permissions do not include."""

    status = 403


class MissingJustification(Forbidden):
    """An investigator's action without a case reference or a purpose."""

    status = 400  # a request to complete, not a role that may not

    def __init__(self, message: str, missing: list[str]) -> None:
        super().__init__(message)
        self.missing = missing  # the request fields to give: case_ref, purpose

    def body(self) -> dict:
        # The message (the CLI's line too) says it in words; the API also names the request fields.
        return {"error": f"{self} (give {' and '.join(self.missing)})", "missing": self.missing}


def check_role(role: str) -> str:
    if role not in PERMISSIONS:
        raise VigieError(gettext("unknown role {role}; roles: {value}", role=repr(role), value=", ".join(ROLES)))
    return role


def allowed(role: str, permission: str) -> bool:
    """Whether the role holds the permission (no justification check)."""
    if permission not in ALL_PERMISSIONS:
        raise VigieError(
            gettext(
                "unknown permission {permission}; permissions: {value}",
                permission=repr(permission),
                value=", ".join(sorted(ALL_PERMISSIONS)),
            )
        )
    return permission in PERMISSIONS.get(role, frozenset())


def require(role: str, permission: str, case_ref: str | None = None, purpose: str | None = None) -> None:
    """Raise Forbidden unless `role` may use `permission`; MissingJustification
    when the role must give a case reference and a purpose and did not."""
    if not allowed(role, permission):
        raise Forbidden(
            gettext("role {role} does not have permission {permission}", role=repr(role), permission=repr(permission))
        )
    if permission in JUSTIFICATION_REQUIRED.get(role, frozenset()):
        missing = [
            (field, words)
            for field, words, value in (("case_ref", "a case reference", case_ref), ("purpose", "a purpose", purpose))
            if not (isinstance(value, str) and value.strip())
        ]
        if missing:
            raise MissingJustification(
                f"role {role!r} needs {' and '.join(words for _, words in missing)} for {permission!r}",
                [field for field, _ in missing],
            )


def max_search_window(role: str) -> timedelta | None:
    """How far back the role may search (None: no limit beyond retention)."""
    check_role(role)
    return OPERATOR_SEARCH_WINDOW if role == "operator" else None

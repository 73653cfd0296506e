"""One-time links with which a user sets their own password: at enrolment, or after a reset.

A link is `<base>/enrol#<token>`: the token sits in the fragment, which browsers never send to a
server (so it reaches no access log, no proxy log, no Referer); the enrolment page reads it and
posts it. Only the token's SHA-256 is stored. A link works once, expires after LINK_TTL, and a new
link for the same account replaces the old one. Issuing is audited (never the token) in the
caller's transaction.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from datetime import datetime, timedelta

from vigie.audit.log import append_in
from vigie.i18n import _
from vigie.times import iso

LINK_TTL = timedelta(hours=48)
KINDS = ("enrol", "reset")
DEFAULT_BASE = "http://127.0.0.1:8000"  # `vigie serve`'s default address; $VIGIE_PUBLIC_URL replaces it


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_in(
    conn: sqlite3.Connection, user_id: int, username: str, kind: str, by: tuple[str, str], now: datetime
) -> tuple[str, str]:
    """A new link's (token, expiry) for the account, replacing any earlier one; audited as `by` (user, role).
    Runs in the caller's write transaction."""
    if kind not in KINDS:
        raise ValueError(_("link kind must be one of {kinds}, not {kind}", kinds=KINDS, kind=repr(kind)))
    token = secrets.token_urlsafe(32)  # 256 bits
    expires = iso(now + LINK_TTL)
    conn.execute("DELETE FROM enrolments WHERE user_id = ?", (user_id,))
    conn.execute(
        "INSERT INTO enrolments (token_hash, user_id, kind, created_at, expires_at, created_by) VALUES (?,?,?,?,?,?)",
        (_digest(token), user_id, kind, iso(now), expires, by[0]),
    )
    append_in(
        conn, by[0], by[1], "user_admin", details={"op": f"{kind}_link", "target": username, "expires_at": expires}
    )
    return token, expires


def find_in(conn: sqlite3.Connection, token: str, now: datetime):
    """The live link's row joined with its user (username, role, user_id, kind, expires_at), or None."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    return conn.execute(
        "SELECT e.token_hash, e.kind, e.expires_at, u.id AS user_id, u.username, u.role, u.disabled "
        "FROM enrolments e JOIN users u ON u.id = e.user_id WHERE e.token_hash = ? AND e.expires_at > ?",
        (_digest(token), iso(now)),
    ).fetchone()


def url(token: str, base: str | None = None) -> str:
    """The link to hand to the user: the enrolment page, the token in the fragment."""
    return f"{(base or DEFAULT_BASE).rstrip('/')}/enrol#{token}"

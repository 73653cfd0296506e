"""Passwords only their owner knows: one-time links, and changing one's own password.

- `issue_link`: an admin (or the console) gets a link for an account, never a password; the
  owner opens it and chooses their password (`redeem`). A reset link for an account that sees
  media is issued only on a supervisor's approval (vigie.accounts.approvals), to the supervisor.
- `change_own_password`: the owner, with their current password; it is also how a password
  someone else typed at the console (must_change_password) is replaced at first login.

Every step is audited in the transaction that makes it; tokens and passwords never are.
"""

from __future__ import annotations

from datetime import datetime, timezone

from vigie.accounts import links, users
from vigie.accounts.users import AccountError, PasswordPolicyError, User, _actor, _begin, _verify, check_password
from vigie.audit.log import append_in
from vigie.i18n import _
from vigie.store.sqlite import SQLiteStore


class LinkInvalid(AccountError):
    """An enrolment or reset link that is unknown, used already, or expired."""

    status = 404


class WrongPassword(AccountError):
    """The current password given to change it is wrong."""

    status = 400

    def body(self) -> dict:
        return {**super().body(), "field": "current_password"}


INVALID_LINK = "this link is not valid: it was used already, replaced by a newer one, or has expired; ask an admin"


def issue_link(store: SQLiteStore, username: str, kind: str, by=None) -> tuple[str, str]:
    """(token, expiry) of a new one-time link for the account (replacing earlier ones); `by` is the acting
    admin (User), a console name, or None. A reset ends nothing until the link is used."""
    actor = _actor(by)
    now = datetime.now(timezone.utc)

    def fn(conn):
        _begin(conn)
        row = conn.execute("SELECT id, username FROM users WHERE username = ?", (username,)).fetchone()
        if row is None:
            return None
        return links.issue_in(conn, row["id"], row["username"], kind, actor, now)

    out = store.write(fn).result()
    if out is None:
        raise AccountError(_("no user named {username}", username=repr(username)))
    return out


def link_info(store: SQLiteStore, token: str) -> dict:
    """Whose link this is and until when (the enrolment page shows the name); LinkInvalid if it is not live."""
    with store.read() as conn:
        row = links.find_in(conn, token, datetime.now(timezone.utc))
    if row is None or row["disabled"]:
        raise LinkInvalid(INVALID_LINK)
    return {"username": row["username"], "kind": row["kind"], "expires_at": row["expires_at"]}


def redeem(store: SQLiteStore, token: str, password: str) -> str:
    """Set the link owner's password (the policy applies), use the link up, end their sessions; the username."""
    username = link_info(store, token)["username"]
    check_password(username, password)
    hashed = users.HASHER.hash(password)
    now = datetime.now(timezone.utc)

    def fn(conn):
        _begin(conn)
        row = links.find_in(conn, token, now)  # again, under the write lock: a link works once
        if row is None or row["disabled"]:
            return None
        conn.execute("DELETE FROM enrolments WHERE user_id = ?", (row["user_id"],))
        conn.execute(
            "UPDATE users SET password_hash = ?, must_change_password = 0, failed_logins = 0, locked_until = NULL"
            " WHERE id = ?",
            (hashed, row["user_id"]),
        )
        conn.execute("DELETE FROM sessions WHERE user_id = ?", (row["user_id"],))
        op = "enrolled" if row["kind"] == "enrol" else "password_reset"
        append_in(conn, row["username"], row["role"], "user_admin", details={"op": op, "target": row["username"]})
        return row["username"]

    done = store.write(fn).result()
    if done is None:
        raise LinkInvalid(INVALID_LINK)
    return done


def change_own_password(store: SQLiteStore, user: User, current: str, new: str) -> None:
    """The user changes their own password, giving the current one; every session of theirs ends (the
    caller opens a new one for this browser)."""
    with store.read() as conn:
        row = conn.execute("SELECT password_hash FROM users WHERE id = ?", (user.id,)).fetchone()
    if row is None or not _verify(row["password_hash"], current if isinstance(current, str) else ""):

        def failed(conn):
            append_in(conn, user.username, user.role, "user_admin", details={"op": "password_change", "ok": False})

        store.write(failed).result()
        raise WrongPassword("the current password is wrong")
    if new == current:
        raise PasswordPolicyError(_("the new password must differ from the current one"))
    check_password(user.username, new)
    hashed = users.HASHER.hash(new)

    def fn(conn):
        _begin(conn)
        conn.execute("UPDATE users SET password_hash = ?, must_change_password = 0 WHERE id = ?", (hashed, user.id))
        conn.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
        append_in(conn, user.username, user.role, "user_admin", details={"op": "password_change", "ok": True})

    store.write(fn).result()

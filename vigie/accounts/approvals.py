"""Separation of duties: what opens media to someone waits for a supervisor.

Three kinds of request, each a row of `approvals` and an audit entry:
- 'unblur': an investigator asks to see one track unblurred, for a case, a purpose and a
  reason; on approval the investigator gets a short grant on that track (unblur_grants, with
  approved_by);
- 'role': an admin asks that an account get a role that sees media (roles.APPROVAL_ROLES),
  at its creation or later; on approval the role applies and the account's sessions end;
- 'reset': an admin asks for a password-reset link for such an account; on approval the
  link is issued to the approving supervisor, not to the admin, who could otherwise open it
  and become the investigator.

A supervisor decides (approve or reject, with a note); the decider is never the requester,
nor the account a role or reset is for. The decision and its effect commit together with
their audit entry ('approval').
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from vigie.accounts import links
from vigie.accounts.roles import APPROVAL_ROLES, NO_ROLE, Forbidden, check_role, require
from vigie.accounts.users import AccountError, User, _begin, check_username, unusable_hash
from vigie.audit.log import append_in
from vigie.errors import VigieError
from vigie.i18n import _
from vigie.store.sqlite import SQLiteStore
from vigie.times import iso

KINDS = ("unblur", "role", "reset")
STATUSES = ("pending", "approved", "rejected")
COLUMNS = (
    "id, kind, status, requested_by, requester_role, requested_at, target_user, role, track_id, case_ref, purpose,"
    " reason, decided_by, decided_at, note"
)


class ApprovalError(VigieError):
    """A decision that cannot be made (names the request and why)."""


class AlreadyDecided(ApprovalError):
    status = 409


class NoSuchRequest(ApprovalError):
    status = 404


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").casefold() == (b or "").casefold()


def _insert(conn, user: User, kind: str, now: datetime, **fields) -> int:
    names = ["kind", "requested_by", "requester_role", "requested_at", *fields]
    cur = conn.execute(
        f"INSERT INTO approvals ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
        (kind, user.username, user.role, iso(now), *fields.values()),
    )
    return cur.lastrowid


def request_unblur(store: SQLiteStore, user: User, track_id: int, case_ref: str, purpose: str, reason: str) -> dict:
    """An investigator's request to see a track unblurred (the caller checked the role and the track)."""
    require(user.role, "view_media_unblurred_request", case_ref, purpose)
    now = datetime.now(timezone.utc)

    def fn(conn):
        _begin(conn)
        rid = _insert(conn, user, "unblur", now, track_id=track_id, case_ref=case_ref, purpose=purpose, reason=reason)
        append_in(
            conn,
            user.username,
            user.role,
            "unblur_request",
            case_ref=case_ref,
            purpose=purpose,
            details={"track_id": track_id, "reason": reason, "request_id": rid, "status": "pending"},
        )
        return rid

    rid = store.write(fn).result()
    return {"request_id": rid, "track_id": track_id, "status": "pending", "requested_at": iso(now)}


def request_in(conn, admin: User, kind: str, username: str, role: str | None, now: datetime) -> int:
    """An admin's 'role' or 'reset' request, in the caller's transaction (audited as user_admin)."""
    require(admin.role, "users_admin")
    rid = _insert(conn, admin, kind, now, target_user=username, role=role)
    append_in(
        conn,
        admin.username,
        admin.role,
        "user_admin",
        details={"op": f"{kind}_request", "target": username, "role": role, "request_id": rid, "status": "pending"},
    )
    return rid


def request_account_change(store: SQLiteStore, admin: User, kind: str, username: str, role: str | None = None) -> dict:
    """An admin asks for a media role ('role') or a reset link for a media account ('reset')."""
    if kind == "role":
        check_role(role)
        if role not in APPROVAL_ROLES:
            raise ApprovalError(_("role {role} needs no approval: set it directly", role=repr(role)))
    now = datetime.now(timezone.utc)

    def fn(conn):
        _begin(conn)
        row = conn.execute("SELECT id, username, role FROM users WHERE username = ?", (username,)).fetchone()
        if row is None:
            return None
        if kind == "role" and row["id"] == admin.id:
            raise AccountError(_("an admin may not change their own role (ask another admin)"))
        return request_in(conn, admin, kind, row["username"], role, now), row["username"]

    out = store.write(fn).result()
    if out is None:
        raise AccountError(_("no user named {username}", username=repr(username)))
    return {"request_id": out[0], "kind": kind, "target_user": out[1], "role": role, "status": "pending"}


def listing(store: SQLiteStore, status: str | None = "pending", limit: int = 100, offset: int = 0) -> tuple[list, int]:
    """Requests, oldest first, and their count."""
    where, args = ("WHERE status = ?", (status,)) if status else ("", ())
    with store.read() as conn:
        total = conn.execute(f"SELECT COUNT(*) FROM approvals {where}", args).fetchone()[0]
        rows = conn.execute(
            f"SELECT {COLUMNS} FROM approvals {where} ORDER BY id LIMIT ? OFFSET ?", (*args, limit, offset)
        ).fetchall()
    return [dict(r) for r in rows], total


def pending_unblur(store: SQLiteStore, username: str, track_id: int) -> dict | None:
    """The user's latest pending unblur request on the track, if any."""
    with store.read() as conn:
        row = conn.execute(
            f"SELECT {COLUMNS} FROM approvals WHERE kind = 'unblur' AND status = 'pending' AND track_id = ?"
            " AND requested_by = ? ORDER BY id DESC LIMIT 1",
            (track_id, username),
        ).fetchone()
    return dict(row) if row else None


def decide(
    store: SQLiteStore, supervisor: User, request_id: int, approve: bool, note: str | None, unblur_minutes: float
) -> dict:
    """Approve or reject a pending request; the effect of an approval commits with it. A 'reset' approval's
    answer holds the link's token, for the supervisor to hand to the account's owner."""
    require(supervisor.role, "approve")
    now = datetime.now(timezone.utc)

    def fn(conn):
        _begin(conn)
        row = conn.execute(f"SELECT {COLUMNS} FROM approvals WHERE id = ?", (request_id,)).fetchone()
        if row is None:
            raise NoSuchRequest(f"no request has id {request_id}")
        req = dict(row)
        if req["status"] != "pending":
            raise AlreadyDecided(f"request {request_id} was {req['status']} already by {req['decided_by']}")
        if _same(req["requested_by"], supervisor.username) or _same(req["target_user"], supervisor.username):
            raise Forbidden(
                _(
                    "request {request_id} is yours (made by you or about your account): another supervisor decides it",
                    request_id=request_id,
                )
            )
        status = "approved" if approve else "rejected"
        conn.execute(
            "UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?, note = ? WHERE id = ?",
            (status, supervisor.username, iso(now), note, request_id),
        )
        out = {**req, "status": status, "decided_by": supervisor.username, "decided_at": iso(now), "note": note}
        details = {
            "request_id": request_id,
            "kind": req["kind"],
            "decision": status,
            "requested_by": req["requested_by"],
        }
        if approve and req["kind"] == "unblur":
            expires = iso(now + timedelta(minutes=unblur_minutes))
            cur = conn.execute(
                "INSERT INTO unblur_grants (track_id, username, case_ref, purpose, reason, granted_at, expires_at,"
                " approved_by) VALUES (?,?,?,?,?,?,?,?)",
                (
                    req["track_id"],
                    req["requested_by"],
                    req["case_ref"],
                    req["purpose"],
                    req["reason"],
                    iso(now),
                    expires,
                    supervisor.username,
                ),
            )
            out.update(grant_id=cur.lastrowid, expires_at=expires)
            details.update(track_id=req["track_id"], grant_id=cur.lastrowid, expires_at=expires)
        elif req["kind"] in ("role", "reset"):
            user = conn.execute("SELECT id, username FROM users WHERE username = ?", (req["target_user"],)).fetchone()
            details.update(target=req["target_user"], role=req["role"])
            if approve and user is None:
                raise NoSuchRequest(f"request {request_id}: user {req['target_user']!r} no longer exists")
            if approve and req["kind"] == "role":
                conn.execute("UPDATE users SET role = ? WHERE id = ?", (req["role"], user["id"]))
                conn.execute("DELETE FROM sessions WHERE user_id = ?", (user["id"],))
            elif approve:
                token, expires = links.issue_in(
                    conn, user["id"], user["username"], "reset", (supervisor.username, supervisor.role), now
                )
                out.update(link_token=token, link_expires_at=expires)
        append_in(
            conn,
            supervisor.username,
            supervisor.role,
            "approval",
            case_ref=req["case_ref"],
            purpose=req["purpose"],
            details={**details, "note": note} if note else details,
        )
        return out

    return store.write(fn).result()


def enrol_new_user(store: SQLiteStore, admin: User, username: str, role: str) -> dict:
    """An admin creates an account with no password and gets its one-time enrolment link (the owner
    chooses their password with it). A role that sees media waits for a supervisor: until then the
    account has role 'none'. Created, requested and linked in one transaction."""
    check_username(username)
    check_role(role)
    require(admin.role, "users_admin")
    hashed = unusable_hash()
    now = datetime.now(timezone.utc)
    needs_approval = role in APPROVAL_ROLES

    def fn(conn):
        _begin(conn)
        if conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
            return None
        cur = conn.execute(
            "INSERT INTO users (username, role, password_hash, created_at) VALUES (?,?,?,?)",
            (username, NO_ROLE if needs_approval else role, hashed, iso(now)),
        )
        append_in(
            conn,
            admin.username,
            admin.role,
            "user_admin",
            details={"op": "create", "target": username, "role": NO_ROLE if needs_approval else role},
        )
        rid = request_in(conn, admin, "role", username, role, now) if needs_approval else None
        token, expires = links.issue_in(conn, cur.lastrowid, username, "enrol", (admin.username, admin.role), now)
        return cur.lastrowid, rid, token, expires

    out = store.write(fn).result()
    if out is None:
        raise AccountError(_("user {username} already exists", username=repr(username)))
    uid, rid, token, expires = out
    return {"id": uid, "request_id": rid, "link_token": token, "link_expires_at": expires}

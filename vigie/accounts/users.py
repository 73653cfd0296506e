"""Users, passwords, sessions and lock-out, on the store's single writer.

Password hashing and verification (argon2id, deliberately slow) run in the
caller's thread; only the short database changes go to the writer thread, each
together with its audit entry in one transaction (both or neither). A write
job never raises to signal a refused login: it returns what happened, so that
the failure count and the audit entry are committed, and the caller raises.

Failures are counted per account (failed_logins, reset by a success). There
is no lock-out by default (MAX_FAILURES = 0): a lock told who exists and let
anyone keep `admin` out, so the web's login throttle (vigie.web.throttle)
slows guessing per client and per name instead. With MAX_FAILURES set, N
consecutive wrong passwords refuse the account until LOCK_DURATION has passed.
Unknown users cost a verification against a dummy hash and get the same
message as a wrong password. Every attempt is audited, with the client's
address when the caller gives it.

Passwords: at least 12 characters, not the username, and not guessable:
zxcvbn (Dropbox's estimator: dictionaries of common passwords, names and
words, keyboard patterns, repeats, sequences, dates) must rate it at least
MIN_PASSWORD_SCORE. Nobody but its owner ever sees a password: accounts are
created without a usable one and their owner sets it through a one-time link
(vigie.accounts.enrolment); a password typed at the console for someone else
must be changed at its first login (must_change_password).

Sessions end SESSION_TTL after login, or SESSION_IDLE after their last use.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from vigie.accounts import links
from vigie.accounts.roles import NO_ROLE, check_role, require
from vigie.audit.log import append_in
from vigie.audit.log import append_in as _append_in
from vigie.errors import VigieError
from vigie.i18n import _
from vigie.store.sqlite import SQLiteStore
from vigie.times import iso

# Replace (tests: PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)) to
# change the cost; stored hashes made with other parameters are rehashed at
# their next successful login.
HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile

MIN_PASSWORD_LENGTH = 12
MIN_PASSWORD_SCORE = 3  # zxcvbn's 0-4 scale: 3 is "safely unguessable", about 10^8 guesses or more
ZXCVBN_MAX = 72  # zxcvbn refuses longer input; a longer password is rated on its first 72 characters
MAX_PASSWORD_LENGTH = 1024
MAX_FAILURES = 0  # 0: no lock-out (the web's throttle slows guessing instead); N: lock after N failures
LOCK_DURATION = timedelta(minutes=15)
SESSION_TTL = timedelta(hours=8)
SESSION_IDLE = timedelta(minutes=30)  # a session unused this long ends (besides SESSION_TTL)
LAST_SEEN_EVERY = timedelta(minutes=1)  # session_user refreshes last_seen at most this often
ADMIN_USERNAME = "admin"
SYSTEM_ACTOR = ("system", "system")

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_USER_COLUMNS = "id, username, role, created_at, disabled, failed_logins, locked_until, must_change_password"
BAD_CREDENTIALS = "invalid username or password"


class AccountError(VigieError):
    """An account operation that cannot be done (names the user and why)."""


class PasswordPolicyError(AccountError, ValueError):
    """A password that does not meet the policy."""


class AuthenticationFailed(AccountError):
    """Wrong username or password: one message for both."""

    status = 401


class AccountLocked(AuthenticationFailed):
    """Too many consecutive failures; `until` says when the account opens again."""

    status = 423

    def __init__(self, username: str, until: str) -> None:
        super().__init__(f"account {username!r} is locked after {MAX_FAILURES} failed logins until {until}")
        self.until = until

    def body(self) -> dict:
        return {**super().body(), "locked_until": self.until}


class AccountDisabled(AuthenticationFailed):
    """The account exists but has been disabled."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    created_at: str
    disabled: bool
    failed_logins: int
    locked_until: str | None
    must_change_password: bool = False  # a password someone else chose: only changing it is allowed
    # The case opened for the request's session (vigie.cases), set by the web's session check; None elsewhere.
    case_ref: str | None = None
    case_purpose: str | None = None

    @classmethod
    def from_row(cls, row) -> "User":
        return cls(row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6], bool(row[7]))

    def as_dict(self) -> dict:
        # the account, not the request: a session's case is the session's (GET /api/case)
        return {k: v for k, v in self.__dict__.items() if k not in ("case_ref", "case_purpose")}


# --- helpers ---------------------------------------------------------------------------
def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    return now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)


def _begin(conn: sqlite3.Connection) -> None:
    """Take the write lock before reading what the job will change."""
    if not conn.in_transaction:
        conn.execute("BEGIN IMMEDIATE")


def _actor(by) -> tuple[str, str]:
    """(user, role) for the audit log: a User (who must be an admin), a name of
    a console actor (role 'system'), or None for the system itself."""
    if by is None:
        return SYSTEM_ACTOR
    if isinstance(by, User):
        require(by.role, "users_admin")
        return by.username, by.role
    if isinstance(by, str) and by.strip():
        return by, "system"
    raise AccountError(_("acting user must be a User or a name, got {by}", by=repr(by)))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_username(username: str) -> str:
    if not isinstance(username, str) or not _USERNAME.match(username):
        raise AccountError(
            _(
                "username {username} is not valid: 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit",
                username=repr(username),
            )
        )
    return username


def check_password(username: str, password: str) -> None:
    """The policy: at least 12 characters, not the username, and rated at least
    MIN_PASSWORD_SCORE by zxcvbn (common passwords, words, names, keyboard walks,
    repeats and sequences, and the username itself, are cheap to guess)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(
            _(
                "password for {username} is too short: at least {min_password_length} characters",
                username=repr(username),
                min_password_length=MIN_PASSWORD_LENGTH,
            )
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError(
            _(
                "password for {username} is too long: at most {max_password_length} characters",
                username=repr(username),
                max_password_length=MAX_PASSWORD_LENGTH,
            )
        )
    if password.strip().casefold() == username.strip().casefold():
        raise PasswordPolicyError(_("password for {username} must not be the username", username=repr(username)))
    from zxcvbn import zxcvbn  # lazy: its word lists take a moment to load

    rating = zxcvbn(password[:ZXCVBN_MAX], user_inputs=[username, "vigie"])
    if rating["score"] < MIN_PASSWORD_SCORE:
        feedback = rating.get("feedback") or {}
        hints = " ".join(x for x in [feedback.get("warning") or "", *(feedback.get("suggestions") or [])] if x)
        raise PasswordPolicyError(
            f"password for {username!r} is too easy to guess (a common password, word, name or pattern)"
            + (f": {hints}" if hints else "")
        )


_dummy: tuple[PasswordHasher, str] | None = None


def _dummy_hash() -> str:
    """A hash made with the current parameters, verified for unknown users so
    that they take about as long as known ones."""
    global _dummy
    if _dummy is None or _dummy[0] is not HASHER:
        _dummy = (HASHER, HASHER.hash(secrets.token_urlsafe(16)))
    return _dummy[1]


def _verify(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _row(conn: sqlite3.Connection, username: str) -> sqlite3.Row | None:
    return conn.execute(f"SELECT {_USER_COLUMNS}, password_hash FROM users WHERE username = ?", (username,)).fetchone()


# --- accounts ----------------------------------------------------------------------------
def create_user(
    store: SQLiteStore, username: str, role: str, password: str | None, by=None, must_change: bool = False
) -> User:
    """Create an account; `by` is the acting admin (User), a console name, or None (system).
    password None: none usable, until its owner sets one with a link (vigie.accounts.passwords.issue_link).
    must_change: the password was chosen by someone else, and its owner must change it at first login."""
    check_username(username)
    if role != NO_ROLE:
        check_role(role)
    if password is not None:
        check_password(username, password)
    user, actor_role = _actor(by)
    hashed = unusable_hash() if password is None else HASHER.hash(password)
    created = iso(datetime.now(timezone.utc))

    def fn(conn):
        _begin(conn)
        if conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
            return None
        cur = conn.execute(
            "INSERT INTO users (username, role, password_hash, created_at, must_change_password) VALUES (?,?,?,?,?)",
            (username, role, hashed, created, int(must_change)),
        )
        append_in(conn, user, actor_role, "user_admin", details={"op": "create", "target": username, "role": role})
        return User.from_row(
            conn.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", (cur.lastrowid,)).fetchone()
        )

    created_user = store.write(fn).result()
    if created_user is None:
        raise AccountError(_("user {username} already exists", username=repr(username)))
    return created_user


def get_user(store: SQLiteStore, username: str) -> User | None:
    with store.read() as conn:
        row = conn.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE username = ?", (username,)).fetchone()
    return User.from_row(row) if row else None


def list_users(store: SQLiteStore) -> list[User]:
    with store.read() as conn:
        return [User.from_row(r) for r in conn.execute(f"SELECT {_USER_COLUMNS} FROM users ORDER BY username")]


def set_password(store: SQLiteStore, username: str, password: str, by=None, must_change: bool = False) -> None:
    """Change a password; the user's open sessions end (they must log in again).
    must_change: someone else chose it (the console): its owner must change it at their next login."""
    check_password(username, password)
    user, actor_role = _actor(by)
    hashed = HASHER.hash(password)

    def fn(conn):
        _begin(conn)
        row = _row(conn, username)
        if row is None:
            return False
        conn.execute(
            "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL, must_change_password = ?"
            " WHERE id = ?",
            (hashed, int(must_change), row["id"]),
        )
        conn.execute("DELETE FROM sessions WHERE user_id = ?", (row["id"],))
        append_in(
            conn,
            user,
            actor_role,
            "user_admin",
            details={"op": "passwd", "target": row["username"], "must_change": bool(must_change)},
        )
        return True

    if not store.write(fn).result():
        raise AccountError(_("no user named {username}", username=repr(username)))


def disable_user(store: SQLiteStore, username: str, by=None) -> None:
    """Disable an account and end its sessions; it stays in the log and the table."""
    _update_user(store, username, "UPDATE users SET disabled = 1 WHERE id = ?", (), {"op": "disable"}, by)


def enable_user(store: SQLiteStore, username: str, by=None) -> None:
    """Re-enable a disabled account (its failure count and lock are cleared)."""
    _update_user(
        store,
        username,
        "UPDATE users SET disabled = 0, failed_logins = 0, locked_until = NULL WHERE id = ?",
        (),
        {"op": "enable"},
        by,
        end_sessions=False,
    )


def set_role(store: SQLiteStore, username: str, role: str, by=None) -> None:
    """Change an account's role; its open sessions end, so the new role applies at the next login."""
    check_role(role)
    _update_user(store, username, "UPDATE users SET role = ? WHERE id = ?", (role,), {"op": "role", "role": role}, by)


def _update_user(
    store: SQLiteStore, username: str, sql: str, args: tuple, details: dict, by, end_sessions: bool = True
) -> None:
    user, actor_role = _actor(by)

    def fn(conn):
        _begin(conn)
        row = _row(conn, username)
        if row is None:
            return False
        if isinstance(by, User) and row["id"] == by.id and details["op"] == "role":
            raise AccountError(_("an admin may not change their own role (ask another admin)"))
        conn.execute(sql, (*args, row["id"]))
        if end_sessions:
            conn.execute("DELETE FROM sessions WHERE user_id = ?", (row["id"],))
        append_in(conn, user, actor_role, "user_admin", details={**details, "target": row["username"]})
        return True

    if not store.write(fn).result():
        raise AccountError(_("no user named {username}", username=repr(username)))


def unusable_hash() -> str:
    """The hash of a random password nobody knows: an account that waits for its owner's enrolment link
    costs a full verification at login, like any other, and no password opens it."""
    return HASHER.hash(secrets.token_urlsafe(32))


def bootstrap_admin(store: SQLiteStore) -> tuple[str, str, str] | None:
    """Create the first admin, 'admin', when no admin exists, with no usable password and a one-time
    enrolment link with which its owner sets one; return (username, link token, expiry) for the caller
    to hand over (vigie.accounts.links.url), else None. No password is ever printed or logged."""
    with store.read() as conn:
        if conn.execute("SELECT 1 FROM users WHERE role = 'admin'").fetchone():
            return None
    hashed = unusable_hash()
    now = datetime.now(timezone.utc)

    def fn(conn):
        _begin(conn)
        if conn.execute("SELECT 1 FROM users WHERE role = 'admin'").fetchone():
            return "exists", None
        if conn.execute("SELECT 1 FROM users WHERE username = ?", (ADMIN_USERNAME,)).fetchone():
            return "taken", None
        cur = conn.execute(
            "INSERT INTO users (username, role, password_hash, created_at) VALUES (?, 'admin', ?, ?)",
            (ADMIN_USERNAME, hashed, iso(now)),
        )
        append_in(
            conn, *SYSTEM_ACTOR, "user_admin", details={"op": "bootstrap", "target": ADMIN_USERNAME, "role": "admin"}
        )
        return "created", links.issue_in(conn, cur.lastrowid, ADMIN_USERNAME, "enrol", SYSTEM_ACTOR, now)

    outcome, link = store.write(fn).result()
    if outcome == "exists":
        return None
    if outcome == "taken":
        raise AccountError(
            _(
                "no admin exists but the username {admin_username} is taken by another role: create an admin with `vigie user add NAME --role admin`",
                admin_username=repr(ADMIN_USERNAME),
            )
        )
    return ADMIN_USERNAME, *link


# --- authentication ------------------------------------------------------------------------
def authenticate(
    store: SQLiteStore, username: str, password: str, now: datetime | None = None, client: str | None = None
) -> User:
    """The user whose password this is; raises AuthenticationFailed (same
    message for an unknown user and a wrong password), AccountLocked (with the
    unlock time) or AccountDisabled. Every attempt is audited, naming `client`
    (the address it came from) when given."""

    def append_in(conn, user, role, action, details=None):  # this attempt's entries name its client
        return _append_in(
            conn, user, role, action, details={**(details or {}), "client": client} if client else details
        )

    now = _now(now)
    now_text = iso(now)
    tried = username if isinstance(username, str) and username.strip() else "(empty)"
    with store.read() as conn:
        row = _row(conn, username) if isinstance(username, str) else None
    if row is None:
        _verify(_dummy_hash(), password)

        def unknown(conn):
            append_in(conn, tried[:128], "anonymous", "login_failed", details={"reason": "bad credentials"})

        store.write(unknown).result()
        raise AuthenticationFailed(BAD_CREDENTIALS)

    name, uid = row["username"], row["id"]
    if row["locked_until"] and row["locked_until"] > now_text:

        def locked(conn):
            append_in(
                conn,
                name,
                "anonymous",
                "login_failed",
                details={"reason": "locked", "locked_until": row["locked_until"]},
            )

        store.write(locked).result()
        raise AccountLocked(name, row["locked_until"])

    if not _verify(row["password_hash"], password):

        def failed(conn):
            _begin(conn)
            current = conn.execute("SELECT failed_logins, locked_until FROM users WHERE id = ?", (uid,)).fetchone()
            if current is None:
                append_in(conn, name, "anonymous", "login_failed", details={"reason": "bad credentials"})
                return None
            if current["locked_until"] and current["locked_until"] > now_text:  # locked meanwhile by another attempt
                append_in(
                    conn,
                    name,
                    "anonymous",
                    "login_failed",
                    details={"reason": "locked", "locked_until": current["locked_until"]},
                )
                return current["locked_until"]
            failures = current["failed_logins"] + 1
            until = iso(now + LOCK_DURATION) if MAX_FAILURES and failures >= MAX_FAILURES else None
            conn.execute(
                "UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?",
                (0 if until else failures, until, uid),
            )
            details = {"reason": "bad credentials", "failures": failures}
            if until:
                details["locked_until"] = until
            append_in(conn, name, "anonymous", "login_failed", details=details)
            return until

        until = store.write(failed).result()
        if until:
            raise AccountLocked(name, until)
        raise AuthenticationFailed(BAD_CREDENTIALS)

    new_hash = HASHER.hash(password) if HASHER.check_needs_rehash(row["password_hash"]) else None

    def succeeded(conn):
        _begin(conn)
        current = conn.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", (uid,)).fetchone()
        if current is None:
            append_in(conn, name, "anonymous", "login_failed", details={"reason": "bad credentials"})
            return "gone", None
        user = User.from_row(current)
        if user.locked_until and user.locked_until > now_text:
            append_in(
                conn, name, "anonymous", "login_failed", details={"reason": "locked", "locked_until": user.locked_until}
            )
            return "locked", user
        if user.disabled:
            append_in(conn, name, user.role, "login_failed", details={"reason": "disabled"})
            return "disabled", user
        if new_hash:
            conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (new_hash, uid))
        conn.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?", (uid,))
        append_in(conn, name, user.role, "login", details={"rehashed": True} if new_hash else None)
        return "ok", User(user.id, user.username, user.role, user.created_at, False, 0, None, user.must_change_password)

    outcome, user = store.write(succeeded).result()
    if outcome == "ok":
        return user
    if outcome == "locked":
        raise AccountLocked(name, user.locked_until)
    if outcome == "disabled":
        raise AccountDisabled(f"account {name!r} is disabled")
    raise AuthenticationFailed(BAD_CREDENTIALS)


# --- sessions ----------------------------------------------------------------------------
def create_session(store: SQLiteStore, user: User, ttl: timedelta = SESSION_TTL, now: datetime | None = None) -> str:
    """A new bearer token for the user (shown once; only its SHA-256 is stored).
    Expired sessions of every user are removed on the way."""
    if ttl <= timedelta(0):
        raise AccountError(_("session lifetime must be positive, got {ttl}", ttl=ttl))
    now = _now(now)
    token = secrets.token_urlsafe(32)
    digest = token_hash(token)

    def fn(conn):
        _begin(conn)
        conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (iso(now),))
        ok = conn.execute("SELECT 1 FROM users WHERE id = ? AND disabled = 0", (user.id,)).fetchone()
        if not ok:
            return False
        conn.execute("INSERT INTO sessions VALUES (?,?,?,?,?)", (digest, user.id, iso(now), iso(now + ttl), iso(now)))
        return True

    if not store.write(fn).result():
        raise AccountError(_("user {username} no longer exists or is disabled", username=repr(user.username)))
    return token


def session_user(store: SQLiteStore, token: str, now: datetime | None = None) -> User | None:
    """The user of a live session; None for an unknown, expired (then deleted)
    or disabled user's token."""
    if not isinstance(token, str) or not token:
        return None
    now = _now(now)
    now_text = iso(now)
    digest = token_hash(token)
    with store.read() as conn:
        row = conn.execute(
            f"SELECT s.expires_at, s.last_seen, {', '.join('u.' + c.strip() for c in _USER_COLUMNS.split(','))} "
            "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
            (digest,),
        ).fetchone()
    if row is None:
        return None
    if row["expires_at"] <= now_text:
        store.write(lambda conn: conn.execute("DELETE FROM sessions WHERE token_hash = ?", (digest,))).result()
        return None
    if row["last_seen"] <= iso(now - SESSION_IDLE):  # unused too long: the idle timeout
        store.write(lambda conn: conn.execute("DELETE FROM sessions WHERE token_hash = ?", (digest,))).result()
        return None
    user = User.from_row(tuple(row)[2:])
    if user.disabled:
        return None
    if row["last_seen"] <= iso(now - LAST_SEEN_EVERY):
        store.write(
            lambda conn: conn.execute(
                "UPDATE sessions SET last_seen = ? WHERE token_hash = ? AND last_seen < ?", (now_text, digest, now_text)
            )
        ).result()
    return user


def logout(store: SQLiteStore, token: str) -> bool:
    """End a session (audited); False when the token was not a live session."""
    if not isinstance(token, str) or not token:
        return False
    digest = token_hash(token)

    def fn(conn):
        _begin(conn)
        row = conn.execute(
            "SELECT u.username, u.role FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
            (digest,),
        ).fetchone()
        if row is None:
            return False
        conn.execute("DELETE FROM sessions WHERE token_hash = ?", (digest,))
        append_in(conn, row["username"], row["role"], "logout")
        return True

    return store.write(fn).result()

"""Accounts: roles and permissions, users, passwords, lock-out, sessions, audit, CLI."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta, timezone

import pytest
from argon2 import PasswordHasher

from vigie.accounts import passwords, roles, users
from vigie.accounts.roles import PERMISSIONS, Forbidden, MissingJustification, max_search_window, require
from vigie.accounts.users import (
    AccountDisabled,
    AccountError,
    AccountLocked,
    AuthenticationFailed,
    PasswordPolicyError,
    authenticate,
    bootstrap_admin,
    create_session,
    create_user,
    disable_user,
    get_user,
    list_users,
    logout,
    session_user,
    set_password,
)
from vigie.audit.log import query, verify
from vigie.store.sqlite import SQLiteStore
from vigie.times import iso

T = datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc)
PW = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):
    """Low-cost argon2 so the suite stays fast (production keeps the defaults)."""
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def actions(store) -> list[tuple[str, str, str]]:
    return [(e.user, e.role, e.action) for e in query(store, limit=1000)]


# --- roles ---------------------------------------------------------------------------------------
EXPECTED = {
    "operator": {"live_view", "search", "view_media_blurred", "register_read", "alerts"},
    "investigator": {
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
    },
    "auditor": {"audit_read", "audit_verify", "register_read"},
    "admin": {"users_admin", "cameras_admin", "settings_admin", "audit_verify", "register_read"},
    "analyst": {"crime_map", "incidents_import", "register_read"},
    "moderator": {"reports_moderate", "register_read"},
    "supervisor": {"approve", "holds", "hold_lift_any", "hold_open_ended", "register_read"},
}


@pytest.mark.parametrize("role", roles.ROLES)
@pytest.mark.parametrize("permission", sorted(roles.ALL_PERMISSIONS))
def test_permission_table(role, permission):
    assert PERMISSIONS[role] <= roles.ALL_PERMISSIONS
    if permission in EXPECTED[role]:
        require(role, permission, case_ref="PV-2026-0142", purpose="burglary rue de la Madeleine")
    else:
        with pytest.raises(Forbidden, match=f"{role}.*{permission}"):
            require(role, permission, case_ref="PV-2026-0142", purpose="burglary")


def test_no_media_for_auditor_admin_and_supervisor():
    for role in ("auditor", "admin", "supervisor"):
        assert not {p for p in PERMISSIONS[role] if p.startswith("view_media") or p == "live_view"}


def test_the_roles_that_see_media_or_open_it_need_a_supervisor():
    """Issue 19 (finding 1): an admin alone may not give a role that sees media."""
    assert roles.APPROVAL_ROLES == {"operator", "investigator", "moderator", "supervisor"}
    assert "none" not in roles.ROLES and not roles.allowed("none", "register_read")


@pytest.mark.parametrize("permission", ["search", "similar", "trail", "export"])
def test_investigator_needs_case_and_purpose(permission):
    for case_ref, purpose in ((None, "theft"), ("PV-1", None), ("  ", "theft"), ("PV-1", ""), (None, None)):
        with pytest.raises(MissingJustification):
            require("investigator", permission, case_ref=case_ref, purpose=purpose)
    require("investigator", permission, case_ref="PV-1", purpose="theft")


def test_operator_search_needs_no_case_but_has_a_window():
    require("operator", "search")
    assert max_search_window("operator") == timedelta(hours=24)
    for role in ("investigator", "auditor", "admin"):
        assert max_search_window(role) is None


def test_unknown_role_and_permission():
    with pytest.raises(Forbidden):
        require("superuser", "search")
    with pytest.raises(Exception, match="unknown permission"):
        require("admin", "fly")
    with pytest.raises(Exception, match="unknown role"):
        max_search_window("superuser")


# --- users and passwords --------------------------------------------------------------------------
def test_create_and_authenticate(store):
    u = create_user(store, "alice", "investigator", PW, by="console:test")
    assert (u.username, u.role, u.disabled, u.failed_logins) == ("alice", "investigator", False, 0)
    assert authenticate(store, "alice", PW).id == u.id
    assert authenticate(store, "ALICE", PW).username == "alice"  # usernames are case-insensitive
    with store.read() as conn:
        stored = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and PW not in stored
    with pytest.raises(AccountError, match="already exists"):
        create_user(store, "Alice", "operator", PW)
    with pytest.raises(Exception, match="unknown role"):
        create_user(store, "bob", "root", PW)
    assert [x.username for x in list_users(store)] == ["alice"]


@pytest.mark.parametrize(
    "username, password, message",
    [
        ("alice", "short", "at least 12"),
        ("alice", "x" * 11, "at least 12"),
        ("alice.martin1", "Alice.Martin1", "must not be the username"),
        # Issue 19 (finding 12): long enough, yet among the first guesses of any cracker
        ("alice", "aaaaaaaaaaaa", "too easy to guess"),
        ("alice", "password1234", "too easy to guess"),
        ("alice", "azertyuiop12", "too easy to guess"),
        ("alice", "123456789012", "too easy to guess"),
        ("alice.martin", "alice.martin2026", "too easy to guess"),
    ],
)
def test_password_policy(store, username, password, message):
    with pytest.raises(PasswordPolicyError, match=message):
        create_user(store, username, "operator", password)
    assert list_users(store) == []


def test_set_password_ends_sessions(store):
    u = create_user(store, "alice", "operator", PW)
    token = create_session(store, u)
    with pytest.raises(PasswordPolicyError):
        set_password(store, "alice", "tooshort")
    set_password(store, "alice", "another long passphrase", by="console:test")
    assert session_user(store, token) is None
    with pytest.raises(AuthenticationFailed):
        authenticate(store, "alice", PW)
    assert authenticate(store, "alice", "another long passphrase").username == "alice"
    with pytest.raises(AccountError, match="no user"):
        set_password(store, "nobody", "another long passphrase")


def test_by_must_be_an_admin(store):
    op = create_user(store, "olivia", "operator", PW)
    with pytest.raises(Forbidden):
        create_user(store, "bob", "operator", PW, by=op)
    admin = create_user(store, "root1", "admin", PW)
    create_user(store, "bob", "operator", PW, by=admin)
    assert ("root1", "admin", "user_admin") in actions(store)


# --- lock-out ------------------------------------------------------------------------------------------
def test_unknown_user_same_message_as_wrong_password(store):
    create_user(store, "alice", "operator", PW)
    with pytest.raises(AuthenticationFailed) as wrong:
        authenticate(store, "alice", "wrong password!", now=T)
    with pytest.raises(AuthenticationFailed) as unknown:
        authenticate(store, "mallory", PW, now=T)
    assert str(wrong.value) == str(unknown.value) == users.BAD_CREDENTIALS
    assert type(wrong.value) is type(unknown.value) is AuthenticationFailed


def test_by_default_no_number_of_failures_locks_an_account(store):
    """Issue 19, finding 8: anyone could lock `admin` for ever by failing five times every quarter of an
    hour. There is no lock by default (the web's throttle slows guessing instead, vigie.web.throttle)."""
    create_user(store, "alice", "operator", PW)
    for k in range(20):
        with pytest.raises(AuthenticationFailed) as exc:
            authenticate(store, "alice", "wrong password!", now=T + timedelta(seconds=k), client="192.0.2.4")
        assert not isinstance(exc.value, AccountLocked)
    assert users.get_user(store, "alice").locked_until is None
    assert authenticate(store, "alice", PW, now=T + timedelta(seconds=21), client="192.0.2.5").username == "alice"
    entries = query(store, limit=100)
    assert entries[-1].action == "login" and entries[-1].details_dict() == {"client": "192.0.2.5"}
    assert entries[-2].details_dict() == {"reason": "bad credentials", "failures": 20, "client": "192.0.2.4"}


def test_with_max_failures_set_five_failures_lock_for_fifteen_minutes(store, monkeypatch):
    monkeypatch.setattr(users, "MAX_FAILURES", 5)
    create_user(store, "alice", "operator", PW)
    for k in range(4):
        with pytest.raises(AuthenticationFailed) as exc:
            authenticate(store, "alice", "wrong password!", now=T + timedelta(seconds=k))
        assert not isinstance(exc.value, AccountLocked)
    with pytest.raises(AccountLocked) as locked:
        authenticate(store, "alice", "wrong password!", now=T + timedelta(seconds=4))
    until = iso(T + timedelta(seconds=4) + timedelta(minutes=15))
    assert locked.value.until == until and until in str(locked.value)
    # Even the right password is refused while locked.
    with pytest.raises(AccountLocked) as again:
        authenticate(store, "alice", PW, now=T + timedelta(minutes=10))
    assert again.value.until == until
    # After the lock, the right password works and resets everything.
    u = authenticate(store, "alice", PW, now=T + timedelta(minutes=15, seconds=5))
    assert u.failed_logins == 0 and u.locked_until is None
    assert users.get_user(store, "alice").locked_until is None


def test_success_resets_the_counter(store):
    create_user(store, "alice", "operator", PW)
    for k in range(4):
        with pytest.raises(AuthenticationFailed):
            authenticate(store, "alice", "wrong password!", now=T)
    assert users.get_user(store, "alice").failed_logins == 4
    authenticate(store, "alice", PW, now=T)
    assert users.get_user(store, "alice").failed_logins == 0
    for k in range(4):  # four more are not a lock: the count started again
        with pytest.raises(AuthenticationFailed) as exc:
            authenticate(store, "alice", "wrong password!", now=T)
        assert not isinstance(exc.value, AccountLocked)


def test_disabled_refused(store):
    u = create_user(store, "alice", "operator", PW)
    token = create_session(store, u)
    disable_user(store, "alice", by="console:test")
    assert session_user(store, token) is None
    with pytest.raises(AccountDisabled, match="disabled"):
        authenticate(store, "alice", PW)
    with pytest.raises(AuthenticationFailed) as wrong:  # a wrong password says nothing of the state
        authenticate(store, "alice", "wrong password!")
    assert str(wrong.value) == users.BAD_CREDENTIALS
    with pytest.raises(AccountError):
        create_session(store, u)
    with pytest.raises(AccountError, match="no user"):
        disable_user(store, "nobody")


def test_rehash_when_parameters_change(store, monkeypatch):
    create_user(store, "alice", "operator", PW)
    with store.read() as conn:
        before = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    monkeypatch.setattr(users, "HASHER", PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    authenticate(store, "alice", PW)
    with store.read() as conn:
        after = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert after != before and "m=16,t=2" in after
    authenticate(store, "alice", PW)


# --- sessions ----------------------------------------------------------------------------------------------
def test_sessions_expire_and_logout(store):
    u = create_user(store, "alice", "investigator", PW)
    token = create_session(store, u, ttl=timedelta(hours=8), now=T)
    assert len(token) >= 43
    for minutes in range(0, 7 * 60 + 1, 20):  # in use every 20 minutes: alive until the 8 h limit
        assert session_user(store, token, now=T + timedelta(minutes=minutes)) == u
    assert session_user(store, "not-a-token", now=T) is None
    assert session_user(store, token, now=T + timedelta(hours=8)) is None
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0  # the expired one was deleted
    t2 = create_session(store, u, now=T)
    assert logout(store, t2) is True
    assert session_user(store, t2, now=T) is None
    assert logout(store, t2) is False


def test_idle_sessions_end_after_30_minutes(store):
    """Issue 19 (finding 12): a session left unused ends, well before its 8 h limit."""
    u = create_user(store, "alice", "investigator", PW)
    token = create_session(store, u, now=T)
    assert session_user(store, token, now=T + timedelta(minutes=29)) == u  # used: the idle clock restarts
    assert session_user(store, token, now=T + timedelta(minutes=58)) == u
    assert session_user(store, token, now=T + timedelta(minutes=58 + 31)) is None
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0  # deleted
    assert session_user(store, token, now=T + timedelta(minutes=58 + 32)) is None


def test_token_stored_only_hashed(store, tmp_path):
    u = create_user(store, "alice", "operator", PW)
    token = create_session(store, u)
    with store.read() as conn:
        assert conn.execute("SELECT token_hash FROM sessions").fetchone()[0] == users.token_hash(token)
    store.close()
    data = b"".join(p.read_bytes() for p in tmp_path.glob("vigie.db*"))
    assert token.encode() not in data
    assert users.token_hash(token).encode() in data


def test_user_delete_cascades_sessions(store, tmp_path):
    u = create_user(store, "alice", "operator", PW)
    create_session(store, u)
    store.write(lambda conn: conn.execute("DELETE FROM users WHERE id = ?", (u.id,))).result()
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0


# --- audit ----------------------------------------------------------------------------------------------------
def test_audit_entries_and_chain(store):
    create_user(store, "alice", "investigator", PW, by="console:root")
    with pytest.raises(AuthenticationFailed):
        authenticate(store, "alice", "wrong password!")
    with pytest.raises(AuthenticationFailed):
        authenticate(store, "mallory", "whatever password")
    u = authenticate(store, "alice", PW)
    token = create_session(store, u)
    logout(store, token)
    disable_user(store, "alice", by="console:root")
    assert actions(store) == [
        ("console:root", "system", "user_admin"),
        ("alice", "anonymous", "login_failed"),
        ("mallory", "anonymous", "login_failed"),
        ("alice", "investigator", "login"),
        ("alice", "investigator", "logout"),
        ("console:root", "system", "user_admin"),
    ]
    entries = query(store, limit=100)
    assert entries[0].details_dict() == {"op": "create", "target": "alice", "role": "investigator"}
    assert entries[1].details_dict() == {"reason": "bad credentials", "failures": 1}
    assert all(PW not in (e.details or "") for e in entries)
    result = verify(store)
    assert result.ok and result.entries == 6


def test_failed_login_count_and_audit_commit_together(store):
    create_user(store, "alice", "operator", PW)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            authenticate(store, "alice", "wrong password!", now=T)
    failed = query(store, action="login_failed")
    assert [e.details_dict()["failures"] for e in failed] == [1, 2, 3, 4, 5]
    assert "locked_until" not in failed[-1].details_dict()  # no lock-out by default (issue 19, finding 8)
    assert verify(store).ok


# --- bootstrap ----------------------------------------------------------------------------------------------
def test_bootstrap_admin_once(store):
    """Issue 19 (finding 12): the first admin gets a one-time link, not a password."""
    created = bootstrap_admin(store)
    assert created is not None
    name, token, expires = created
    assert name == "admin" and len(token) >= 43 and expires > iso(datetime.now(timezone.utc) + timedelta(hours=47))
    with pytest.raises(AuthenticationFailed):  # no password opens it before its owner chooses one
        authenticate(store, name, token)
    assert passwords.redeem(store, token, "my own long passphrase") == "admin"
    assert authenticate(store, name, "my own long passphrase").role == "admin"
    with pytest.raises(passwords.LinkInvalid):  # once only
        passwords.redeem(store, token, "a second long passphrase")
    assert bootstrap_admin(store) is None
    assert [u.username for u in list_users(store)] == ["admin"]
    assert ("system", "system", "user_admin") in actions(store)


def test_bootstrap_skipped_when_another_admin_exists(store):
    create_user(store, "chief", "admin", PW)
    assert bootstrap_admin(store) is None


# --- CLI -----------------------------------------------------------------------------------------------------
def run_cli(argv):
    from vigie.cli.accounts import register

    parser = argparse.ArgumentParser(prog="vigie")
    register(parser.add_subparsers(dest="verb", required=True))
    args = parser.parse_args(argv)
    return args.fn(args)


def test_cli_verbs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    monkeypatch.setenv("VIGIE_PASSWORD", PW)

    assert run_cli(["user", "bootstrap"]) == 0
    out = capsys.readouterr().out
    link_file = tmp_path / "first-admin-link.txt"
    assert "admin" in out and str(link_file) in out and "/enrol#" not in out  # the link is in the file only
    assert "/enrol#" in link_file.read_text() and link_file.stat().st_mode & 0o777 == 0o600
    assert run_cli(["user", "bootstrap"]) == 0
    assert "already exists" in capsys.readouterr().out

    assert run_cli(["user", "add", "alice", "--role", "investigator"]) == 0
    out = capsys.readouterr().out
    assert "alice" in out and "/enrol#" in out and PW not in out
    with pytest.raises(SystemExit):  # an unknown role is refused by the parser
        run_cli(["user", "add", "bob", "--role", "root"])
    capsys.readouterr()

    assert run_cli(["user", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(u["username"], u["role"], u["disabled"]) for u in listed] == [
        ("admin", "admin", False),
        ("alice", "investigator", False),
    ]
    # no password nor hash (the one field that names passwords says whether its owner must change it)
    assert all(k == "must_change_password" or "password" not in k for u in listed for k in u)
    assert PW not in json.dumps(listed) and "$argon2" not in json.dumps(listed)

    monkeypatch.setenv("VIGIE_PASSWORD", "a new long passphrase")
    assert run_cli(["user", "passwd", "alice"]) == 0
    assert run_cli(["user", "disable", "alice"]) == 0
    assert run_cli(["user", "list"]) == 0
    out = capsys.readouterr().out
    assert "disabled" in out and "alice" in out

    monkeypatch.setenv("VIGIE_PASSWORD", "short")
    with pytest.raises(PasswordPolicyError):
        run_cli(["user", "add", "carol", "--role", "operator", "--password"])
    with pytest.raises(AccountError, match="no user"):
        run_cli(["user", "disable", "nobody"])

    with SQLiteStore(tmp_path) as store:
        with pytest.raises(AccountDisabled):
            authenticate(store, "alice", "a new long passphrase")
        admin_ops = [e.details_dict()["op"] for e in query(store, action="user_admin")]
        assert admin_ops == ["bootstrap", "enrol_link", "create", "enrol_link", "passwd", "disable"]
        assert all(e.user.startswith("console:") for e in query(store, action="user_admin")[2:])
        assert get_user(store, "alice").must_change_password  # `passwd` typed it for her
        assert verify(store).ok


def test_cli_prompts_twice(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    monkeypatch.delenv("VIGIE_PASSWORD", raising=False)
    answers = iter([PW, "something else entirely"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(Exception, match="differ"):
        run_cli(["user", "add", "alice", "--role", "operator", "--password"])
    answers = iter([PW, PW])
    assert run_cli(["user", "add", "alice", "--role", "operator", "--password"]) == 0
    with SQLiteStore(tmp_path) as store:
        user = authenticate(store, "alice", PW)
        assert user.role == "operator" and user.must_change_password  # the console typed it: she changes it


def test_cli_add_prints_a_one_time_link_never_a_password(tmp_path, monkeypatch, capsys):
    """Issue 19 (finding 1): `--generate` printed the new user's password; now the owner chooses it."""
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    monkeypatch.setenv("VIGIE_PUBLIC_URL", "https://vigie.example.org")
    monkeypatch.delenv("VIGIE_PASSWORD", raising=False)
    assert run_cli(["user", "add", "dana", "--role", "investigator"]) == 0
    out = capsys.readouterr().out
    link = next(w for w in out.split() if w.startswith("https://vigie.example.org/enrol#"))
    token = link.split("#", 1)[1]
    with SQLiteStore(tmp_path) as store:
        with pytest.raises(AuthenticationFailed):
            users.authenticate(store, "dana", token)
        assert passwords.link_info(store, token)["username"] == "dana"
        passwords.redeem(store, token, "dana's own long passphrase")
        assert users.authenticate(store, "dana", "dana's own long passphrase").role == "investigator"
    assert run_cli(["user", "link", "dana"]) == 0
    assert "/enrol#" in capsys.readouterr().out

"""`vigie user add|list|disable|passwd|bootstrap`.

Passwords never come from the command line (it shows in `ps` and shell
history): they are read from $VIGIE_PASSWORD or prompted for twice. Changes
made here are audited as the console user (`console:<login name>`, role 'system').
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets

from vigie.accounts.roles import ROLES
from vigie.accounts.users import (
    bootstrap_admin,
    check_password,
    check_username,
    create_user,
    disable_user,
    get_user,
    list_users,
    set_password,
)
from vigie.cli.common import console_actor
from vigie.errors import VigieError
from vigie.services import Services

PASSWORD_ENV = "VIGIE_PASSWORD"


def register(sub) -> None:
    """Add `user` and its verbs to the `vigie` command's subparsers."""

    u = sub.add_parser("user", help="accounts: add, list, disable, change password, create the first admin")
    usub = u.add_subparsers(dest="user_verb", required=True)
    a = usub.add_parser("add", help=f"create an account (password from ${PASSWORD_ENV} or prompted twice)")
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--generate", action="store_true", help="generate a random password and print it once")
    a.set_defaults(fn=cmd_user_add)
    ls = usub.add_parser("list", help="list accounts")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(fn=cmd_user_list)
    d = usub.add_parser("disable", help="disable an account and end its sessions")
    d.add_argument("username")
    d.set_defaults(fn=cmd_user_disable)
    p = usub.add_parser(
        "passwd", help=f"set an account's password (from ${PASSWORD_ENV} or prompted twice); ends its sessions"
    )
    p.add_argument("username")
    p.set_defaults(fn=cmd_user_passwd)
    b = usub.add_parser(
        "bootstrap", help="create the first admin, 'admin', and print its password once (nothing if an admin exists)"
    )
    b.set_defaults(fn=cmd_user_bootstrap)


def _read_password(username: str) -> str:
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = getpass.getpass(f"Password for {username}: ")
        if getpass.getpass("Again: ") != password:
            raise VigieError("the two passwords differ; nothing was changed")
    check_password(username, password)
    return password


def cmd_user_add(args: argparse.Namespace) -> int:
    check_username(args.username)
    password = secrets.token_urlsafe(18) if args.generate else _read_password(args.username)
    with Services.from_env() as services:
        store = services.store
        user = create_user(store, args.username, args.role, password, by=console_actor())
    print(f"User {user.username} created with role {user.role}.")
    if args.generate:
        print(f"Password for {user.username} (shown only this once): {password}")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    with Services.from_env() as services:
        store = services.store
        users = list_users(store)
    if args.json:
        print(json.dumps([u.as_dict() for u in users], indent=2))
        return 0
    if not users:
        print("No users. Create the first admin with `vigie user bootstrap`.")
        return 0
    print(f"{'id':>4}  {'username':<24} {'role':<13} {'state':<8} {'created (UTC)':<20} locked until")
    for u in users:
        state = "disabled" if u.disabled else "active"
        print(f"{u.id:>4}  {u.username:<24.24} {u.role:<13} {state:<8} {u.created_at[:19]:<20} {u.locked_until or '-'}")
    return 0


def cmd_user_disable(args: argparse.Namespace) -> int:
    with Services.from_env() as services:
        store = services.store
        disable_user(store, args.username, by=console_actor())
    print(f"User {args.username} disabled; their sessions are closed.")
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:
    with Services.from_env() as services:
        store = services.store
        if get_user(store, args.username) is None:  # before asking for a password
            raise VigieError(f"no user named {args.username!r}")
        password = _read_password(args.username)
        set_password(store, args.username, password, by=console_actor())
    print(f"Password of {args.username} changed; their sessions are closed.")
    return 0


def cmd_user_bootstrap(args: argparse.Namespace) -> int:
    with Services.from_env() as services:
        store = services.store
        created = bootstrap_admin(store)
    if created is None:
        print("An admin already exists; nothing was created.")
        return 0
    username, password = created
    print(
        f"Created the first admin {username!r}. Its password, shown this once only:\n\n    {password}\n\n"
        f"Keep it safe, or change it now with `vigie user passwd {username}`."
    )
    return 0

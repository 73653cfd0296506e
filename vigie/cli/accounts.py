"""`vigie user add|list|disable|passwd|link|bootstrap`.

No password is ever shown to anyone but its owner. `add` and `link` print a one-time link
(vigie.accounts.links) with which the owner sets their own password; the first admin's link
(`bootstrap`, and `vigie serve` on an empty store) goes to a file only this service's user can
read, never to stdout or the service's log. A password typed here for someone else (`add
--password`, `passwd`) is read from $VIGIE_PASSWORD or prompted for twice, never from the command
line (it shows in `ps` and shell history), and its owner must change it at first login.
Changes made here are audited as the console user (`console:<login name>`, role 'system'); the
console, which holds the host, needs no supervisor's approval.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
from pathlib import Path

from vigie.accounts import links
from vigie.accounts.passwords import issue_link
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
from vigie.files import write_atomic
from vigie.i18n import _
from vigie.services import Services

PASSWORD_ENV = "VIGIE_PASSWORD"
PUBLIC_URL_ENV = "VIGIE_PUBLIC_URL"  # the address users open (links are printed with it)
FIRST_ADMIN_LINK = "first-admin-link.txt"  # in $VIGIE_DATA, mode 0600


def register(sub) -> None:
    """Add `user` and its verbs to the `vigie` command's subparsers."""

    u = sub.add_parser("user", help="accounts: add, list, disable, set a password, links, create the first admin")
    usub = u.add_subparsers(dest="user_verb", required=True)
    a = usub.add_parser("add", help="create an account and print its one-time enrolment link")
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument(
        "--password",
        action="store_true",
        help=f"set a password instead (from ${PASSWORD_ENV} or prompted twice); its owner must change it at first login",
    )
    a.set_defaults(fn=cmd_user_add)
    ls = usub.add_parser("list", help="list accounts")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(fn=cmd_user_list)
    d = usub.add_parser("disable", help="disable an account and end its sessions")
    d.add_argument("username")
    d.set_defaults(fn=cmd_user_disable)
    p = usub.add_parser(
        "passwd",
        help=f"set an account's password (from ${PASSWORD_ENV} or prompted twice); ends its sessions, and its "
        "owner must change it at next login",
    )
    p.add_argument("username")
    p.set_defaults(fn=cmd_user_passwd)
    k = usub.add_parser("link", help="print a one-time link with which the account's owner sets a new password")
    k.add_argument("username")
    k.set_defaults(fn=cmd_user_link)
    b = usub.add_parser(
        "bootstrap",
        help=f"create the first admin, 'admin', and write its one-time enrolment link to $VIGIE_DATA/{FIRST_ADMIN_LINK} "
        "(nothing if an admin exists)",
    )
    b.set_defaults(fn=cmd_user_bootstrap)


def public_url() -> str:
    return os.environ.get(PUBLIC_URL_ENV) or links.DEFAULT_BASE


def _read_password(username: str) -> str:
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = getpass.getpass(f"Password for {username}: ")
        if getpass.getpass("Again: ") != password:
            raise VigieError(_("the two passwords differ; nothing was changed"))
    check_password(username, password)
    return password


def _say_link(username: str, token: str, expires: str) -> None:
    print(f"One-time link for {username} (give it to them only; it works once, until {expires[:16]} UTC):")
    print(f"\n    {links.url(token, public_url())}\n")


def cmd_user_add(args: argparse.Namespace) -> int:
    check_username(args.username)
    password = _read_password(args.username) if args.password else None
    with Services.from_env() as services:
        store = services.store
        if password is not None:
            user = create_user(store, args.username, args.role, password, by=console_actor(), must_change=True)
        else:  # no usable password until its owner opens the link
            user = create_user(store, args.username, args.role, None, by=console_actor())
            token, expires = issue_link(store, user.username, "enrol", by=console_actor())
    print(f"User {user.username} created with role {user.role}.")
    if password is None:
        _say_link(user.username, token, expires)
    else:
        print("They must change the password at their first login.")
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
            raise VigieError(_("no user named {username}", username=repr(args.username)))
        password = _read_password(args.username)
        set_password(store, args.username, password, by=console_actor(), must_change=True)
    print(f"Password of {args.username} changed; their sessions are closed. They must change it at their next login.")
    return 0


def cmd_user_link(args: argparse.Namespace) -> int:
    with Services.from_env() as services:
        token, expires = issue_link(services.store, args.username, "reset", by=console_actor())
    _say_link(args.username, token, expires)
    return 0


def hand_over_first_admin(store, base: str) -> str:
    """Create the first admin if there is none, write its enrolment link to a file only this user can read
    (never to stdout: service logs keep stdout), and say where; or say that an admin exists."""
    created = bootstrap_admin(store)
    if created is None:
        return "The first admin exists already: log in with an existing account (`vigie user list`)."
    name, token, expires = created
    path = Path(store.data_dir) / FIRST_ADMIN_LINK
    write_atomic(
        path,
        (
            f"One-time enrolment link of the first admin {name!r}, valid once until {expires} (UTC).\n"
            f"Open it, choose the password, then delete this file.\n\n{links.url(token, base)}\n"
        ).encode("utf-8"),
        mode=0o600,
    )
    return (
        f"Created the first admin {name!r}. Its one-time enrolment link is in {path} (readable by this user only): "
        "open it to choose the password, then delete the file."
    )


def cmd_user_bootstrap(args: argparse.Namespace) -> int:
    with Services.from_env() as services:
        message = hand_over_first_admin(services.store, public_url())
    print(message if message.startswith("Created") else "An admin already exists; nothing was created.")
    return 0

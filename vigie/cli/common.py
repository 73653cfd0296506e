"""What the `vigie` commands share: the site file, the store under $VIGIE_DATA, times given on
the command line, the executor, and who acts from the console (for the audit log)."""

from __future__ import annotations

import argparse
import getpass
import os

from vigie.config import default_site, load_site
from vigie.i18n import set_default_language
from vigie.scale import get_executor

EXIT_USAGE = 2  # an error the user can fix: one line names it
EXIT_PARTIAL = 3  # a video that stopped early: analysed and stored as far as it could be read


def site_or_default(path: str | None):
    """The site file at `path`, or the built-in one-camera site ('camera-1').

    From then on the command speaks the site's language (its `language`, or $VIGIE_LANG where set); `main`
    scopes the change to the command."""
    site = load_site(path) if path else default_site()
    set_default_language(os.environ.get("VIGIE_LANG") or site.language)
    return site


def eval_site(args: argparse.Namespace):
    """(site, camera id) whose settings an evaluation runs with: --site and --camera, or the built-in defaults."""
    if args.site:
        site = site_or_default(args.site)
        return site, args.camera or site.cameras[0].id
    return site_or_default(None), "camera-1"


def executor_from_args(args: argparse.Namespace):
    """The executor --executor and --address name (with --chunk-s and --workers for ray)."""
    if args.executor == "ray":
        options = {
            k: v
            for k, v in (("chunk_s", getattr(args, "chunk_s", None)), ("workers", getattr(args, "workers", None)))
            if v is not None
        }
        return get_executor("ray", args.address, **options)
    return get_executor(args.executor, args.address)


def add_executor_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help="where the work runs: this machine (default) or a Ray cluster (vigie.scale)",
    )
    p.add_argument(
        "--address",
        metavar="HOST:PORT",
        help="--executor ray: the cluster's head (as `ray start --head` printed it); default: a Ray of this machine's own",
    )


def console_actor() -> str:
    """Who acts from the console, as the audit log names them."""
    try:
        name = getpass.getuser()
    except Exception:  # no login name (containers): still say it came from the console
        name = "unknown"
    return f"console:{name}"


def add_justification_flags(
    p: argparse.ArgumentParser,
    unblurred: bool = False,
    purpose_help: str = "why this is looked at (written to the audit log)",
) -> None:
    """--case and --purpose (written to the audit log), and --unblurred for a command that writes pictures."""
    p.add_argument("--case", dest="case_ref", help="case reference (written to the audit log)")
    p.add_argument("--purpose", help=purpose_help)
    if unblurred:
        p.add_argument(
            "--unblurred",
            action="store_true",
            help="write the pictures unblurred: needs --case and --purpose, and is audited (default: faces and plates blurred)",
        )


def audit_console(store, action: str, args: argparse.Namespace, details: dict) -> None:
    """One audit entry for a command's read, under the console user's name (console:<login>)."""
    from vigie.audit.log import append  # lazy: `vigie --help` stays quick

    case_ref = (getattr(args, "case_ref", None) or "").strip() or None
    purpose = (getattr(args, "purpose", None) or "").strip() or None
    append(store, console_actor(), "console", action, case_ref=case_ref, purpose=purpose, details=details)

"""The --start/--end period that several commands take, read the same way everywhere."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

from vigie.errors import VigieError


def add_period_flags(parser: argparse.ArgumentParser, what: str = "tracks in view") -> None:
    parser.add_argument(
        "--start", metavar="TIME", help=f"{what} from this time (ISO 8601, UTC unless an offset is given)"
    )
    parser.add_argument("--end", metavar="TIME", help="... until this time (excluded)")


def period_from_args(args: argparse.Namespace) -> tuple[datetime | None, datetime | None]:
    """(start, end), each None when not given; a malformed time raises an error naming the flag."""
    return flag_time(args.start, "--start"), flag_time(args.end, "--end")


def flag_time(text: str | None, flag: str) -> datetime | None:
    """One time flag's value (None when not given) in UTC; its error names the flag."""
    if text is None:
        return None
    stripped = text.strip()
    try:
        t = datetime.fromisoformat(stripped[:-1] + "+00:00" if stripped.endswith(("Z", "z")) else stripped)
        return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise VigieError(
            f"{flag} {text!r} is not an ISO 8601 time in the years 1 to 9999 (e.g. 2026-11-20T13:00:00Z)"
        ) from None

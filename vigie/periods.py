"""The --start/--end period that several commands take, read the same way everywhere."""

from __future__ import annotations

import argparse
from datetime import datetime

from vigie.times import parse_time


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
    return None if text is None else parse_time(text, flag)

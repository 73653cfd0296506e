"""Time-zone names in configuration: checked once, when a site file is read."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def known_timezone(v: str) -> str:
    """`v` if it names an IANA time zone (site files: the site's local time, zone rules' hours)."""
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {v!r} (e.g. Europe/Paris)") from None
    return v

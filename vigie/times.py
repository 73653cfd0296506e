"""Vigie's one clock: how times are stored, and how times that people and files give are read.

Stored: UTC, ISO 8601 with microseconds and 'Z' (`iso`), which sorts as text in time order;
`from_iso` reads it back.

Read (`parse_time`): ISO 8601 text; a 'Z' or an offset says the zone. A time without either
is in the zone the caller names: UTC where nothing else is known (the API, the CLI's period
flags, holds, audit filters), the site's zone where a person of the site typed it, or refused
where a wrong guess would shift a whole recording (`vigie analyze --recording-start`).
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo

from vigie.errors import VigieError

UTC = timezone.utc
EXAMPLE = "e.g. 2026-11-20T13:00:00Z"


def iso(t: datetime) -> str:
    """UTC ISO 8601 with microseconds and 'Z': sorts as text in time order."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_iso() -> str:
    return iso(datetime.now(UTC))


def from_iso(text: str) -> datetime:
    """A stored time (iso()'s text) back as an aware UTC datetime; a time without an offset is UTC."""
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def parse_time(
    value: str | datetime, what: str, naive: tzinfo | None = UTC, error: type[Exception] = VigieError
) -> datetime:
    """A time someone gave, as an aware UTC datetime.

    value: ISO 8601 text (or a datetime); 'Z', 'z' or an offset says its zone, and a time
    without one is in `naive` (None: refused). what: names the field or flag in the error,
    an `error` whose message says what is wrong with the value.
    """
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise error(f"{what} {text!r} is not an ISO 8601 time ({EXAMPLE})") from None
    if value.tzinfo is None:
        if naive is None:
            raise error(f"{what} {value.isoformat()!r} needs a time zone ({EXAMPLE})")
        value = value.replace(tzinfo=naive)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise error(f"{what} {value.isoformat()} is outside the years 1 to 9999 in UTC") from None

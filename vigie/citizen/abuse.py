"""Limits on what one sender may post, and the spam a public form attracts.

Rate limits are sliding windows (the last hour, the last day) counted in the
store, so a restart forgets nothing. A sender is known only by a salted
SHA-256 of their address (an IPv6 address by its /64, the block one household
gets): the address itself is never written. The salt lives in the same store,
so the hash keeps the address from being read, not from being found again by
whoever holds the database and tries every IPv4 address; that is why the
hashes are kept one day only, the longest window that needs them: `vigie
purge` deletes older counts and blanks the hash on older reports.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import sqlite3
from datetime import datetime, timedelta

from vigie.errors import VigieError
from vigie.times import from_iso, iso

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
MAX_LINKS = 2
MAX_RUN = 12  # the same character this many times in a row is not a description
_LINK = re.compile(r"(?i)\b(?:https?://|www\.)")
_RUN = re.compile(r"(.)\1{%d,}" % (MAX_RUN - 1), re.S)
# Control characters a form never sends (tab, newline and carriage return are fine).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class RateLimited(VigieError):
    """Too many reports from one sender: how long to wait, and which limit was hit."""

    status = 429

    def __init__(self, retry_after: int, message: str) -> None:
        super().__init__(message)
        self.retry_after, self.message = retry_after, message


def client_hash(conn: sqlite3.Connection, address: str) -> str:
    salt = conn.execute("SELECT salt FROM citizen_salt WHERE id = 1").fetchone()[0]
    return hashlib.sha256(f"{salt}:{sender_key(address)}".encode("utf-8")).hexdigest()


def sender_key(address: str) -> str:
    """What one sender is: an IPv4 address, or an IPv6 address's /64 (a host picks any address in it at will)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an address (a test client's name): itself
    if ip.version == 6:
        if ip.ipv4_mapped is not None:  # an IPv4 client seen through an IPv6 socket
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def check_rate(conn: sqlite3.Connection, who: str, now: datetime, per_hour: int, per_day: int) -> None:
    """RateLimited when the sender already sent `per_hour` reports in the last hour or `per_day` in the last day."""
    for window, limit, words in ((HOUR, per_hour, "hour"), (DAY, per_day, "day")):
        rows = conn.execute(
            "SELECT at FROM citizen_report_hits WHERE client_hash = ? AND at > ? ORDER BY at DESC LIMIT ?",
            (who, iso(now - window), limit),
        ).fetchall()
        if len(rows) >= limit:
            # The window frees a place when the oldest of the last `limit` reports leaves it.
            oldest = from_iso(rows[-1][0])
            wait = max(1, int((oldest + window - now).total_seconds()) + 1)
            raise RateLimited(
                wait,
                f"too many reports from this address: at most {limit} per {words} are accepted; "
                f"try again in {_duration(wait)}",
            )


def record_hit(conn: sqlite3.Connection, who: str, now: datetime) -> None:
    conn.execute("INSERT INTO citizen_report_hits (client_hash, at) VALUES (?, ?)", (who, iso(now)))


def purge_hits(conn: sqlite3.Connection, now: datetime) -> int:
    """Forget counts older than the longest window."""
    return conn.execute("DELETE FROM citizen_report_hits WHERE at <= ?", (iso(now - DAY),)).rowcount


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 7200:
        return f"{seconds // 60} minutes"
    return f"{seconds // 3600} hours"


# --- content -------------------------------------------------------------------------------------------
def control_characters(name: str, text: str) -> str | None:
    return f"{name} contains control characters" if _CONTROL.search(text) else None


def spam_reason(description: str) -> str | None:
    """Why the description looks like spam rather than a report, in general terms; None when it looks fine."""
    if len(_LINK.findall(description)) > MAX_LINKS:
        return f"the description contains more than {MAX_LINKS} links"
    if _RUN.search(description):
        return "the description repeats the same character many times"
    text = "".join(description.split())
    if len(text) >= 20:
        letters = sum(c.isalpha() for c in text)
        if letters < 0.5 * len(text):
            return "the description is mostly symbols or digits rather than words"
        if len(set(text.casefold())) <= 4:
            return "the description repeats the same few characters"
    return None


def normalised(description: str) -> str:
    """The description as compared for duplicates: case and spacing do not make it new."""
    return " ".join(description.casefold().split())


def is_repeat(conn: sqlite3.Connection, who: str, description: str, now: datetime) -> bool:
    """Whether this sender sent the same description within the last day."""
    if not normalised(description):
        return False  # reports without a description are about their place and service; not a repeat
    rows = conn.execute(
        "SELECT description FROM citizen_reports WHERE client_hash = ? AND requested_at > ?", (who, iso(now - DAY))
    )
    target = normalised(description)
    return any(normalised(r[0]) == target for r in rows)

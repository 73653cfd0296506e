"""Legal holds: tracks an investigator needs for a case are kept past retention.

A hold names the case, the reason and who placed it and when; it covers track
ids, a camera and time window (footage of an incident, held before anyone has
found its tracks, and tracks stored later in that window too), or both. Holds
are lifted, never deleted, so the store keeps the record of who held what and
who released it. Times are stored as ISO 8601 UTC text, like the tracks'.

A camera window is bounded (the site file's hold_max_window_days): a hold over a
whole camera for all time would switch its retention off. A longer window, or
one with no end (open-ended: `OPEN_END` is stored as its end), needs a role that
may place open-ended holds (a supervisor). A hold is lifted by whoever placed it,
or by a role that may lift any hold (a supervisor), always with a reason: the
reason is the audit entry's purpose.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from typing import Iterable

from vigie import times
from vigie.accounts.roles import ROLES, allowed
from vigie.audit.log import append_in
from vigie.errors import VigieError
from vigie.i18n import _
from vigie.times import iso, now_iso

OPEN_END = "9999-12-31T23:59:59.999999Z"  # the stored end of an open-ended window: after every footage time


class HoldError(VigieError):
    """A hold that cannot be placed or lifted (names the problem)."""


class HoldForbidden(HoldError, PermissionError):
    """A hold this user's role may not place or lift (names who may)."""

    status = 403


def parse_time(value: datetime | str, what: str) -> datetime:
    """A datetime from a datetime or ISO 8601 text; UTC unless an offset is given (as `vigie search`)."""
    return times.parse_time(value, f"hold {what}", error=HoldError)


def _required(value: str | None, what: str) -> str:
    if value is None or not value.strip():
        raise HoldError(_("a legal hold needs a non-empty {what}", what=what))
    return value.strip()


def _window(
    camera_id: str | None, start, end, open_end: bool, max_days: float | None, may_exceed: bool
) -> tuple[str, str, str] | None:
    """The validated (camera, start, end) window, or None when none is given.

    open_end: no end (kept until lifted). max_days: the site's bound on a window's length (None: none);
    may_exceed: the role may place a longer or open-ended window (a supervisor)."""
    if camera_id is None and start is None and end is None and not open_end:
        return None
    if open_end and end is not None:
        raise HoldError(_("an open-ended hold has no end: give either end or open_ended, not both"))
    if camera_id is None or start is None or (end is None and not open_end):
        raise HoldError(_("a hold on a time window needs all of camera, start and end (or open_ended)"))
    t0 = parse_time(start, "start")
    if open_end:
        if not may_exceed:
            raise HoldForbidden(_("an open-ended hold (a camera window with no end) needs a supervisor"))
        return camera_id, iso(t0), OPEN_END
    t1 = parse_time(end, "end")
    if t1 <= t0:
        raise HoldError(_("hold window ends ({value}) before it starts ({value2})", value=iso(t1), value2=iso(t0)))
    if max_days is not None and t1 - t0 > timedelta(days=max_days) and not may_exceed:
        raise HoldForbidden(
            _(
                "hold window {value} - {value2} is longer than the site's limit of {max_days:g} days (hold_max_window_days): hold a shorter window, or ask a supervisor",
                value=iso(t0),
                value2=iso(t1),
                max_days=max_days,
            )
        )
    return camera_id, iso(t0), iso(t1)


def place_hold(
    store,
    case_ref: str,
    reason: str,
    user: str,
    track_ids: Iterable[int] | None = None,
    camera_id: str | None = None,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    role: str = "system",
    open_end: bool = False,
    max_window_days: float | None = None,
) -> int:
    """Place a hold on tracks and/or a camera's time window; returns its id.

    max_window_days: the site's bound on a window (hold_max_window_days); a longer or open-ended window
    needs a role holding hold_open_ended (the command line, role "system", is the host's operator).
    The track ids and the camera are checked inside the same transaction that
    inserts the hold, so a hold never refers to a track deleted meanwhile; the
    audit entry (user, role, case, reason) commits with it."""
    case_ref, reason, user = _required(case_ref, "case reference"), _required(reason, "reason"), _required(user, "user")
    ids = sorted({int(t) for t in track_ids or ()})
    may_exceed = role not in ROLES or allowed(role, "hold_open_ended")
    window = _window(camera_id, start, end, open_end, max_window_days, may_exceed)
    if not ids and window is None:
        raise HoldError(_("a legal hold needs track ids or a camera with a start and end time"))

    def fn(conn: sqlite3.Connection) -> int:
        _check_tracks_exist(conn, ids)
        if window and conn.execute("SELECT 1 FROM cameras WHERE id=?", (window[0],)).fetchone() is None:
            raise HoldError(_("camera {value} is not in the store's camera register", value=repr(window[0])))
        cam, t0, t1 = window or (None, None, None)
        cur = conn.execute(
            "INSERT INTO legal_holds (case_ref, reason, placed_by, placed_at, camera_id, window_start, window_end)"
            " VALUES (?,?,?,?,?,?,?)",
            (case_ref, reason, user, now_iso(), cam, t0, t1),
        )
        conn.executemany("INSERT INTO legal_hold_tracks VALUES (?,?)", [(cur.lastrowid, t) for t in ids])
        append_in(
            conn,
            user,
            role,
            "hold_place",
            case_ref=case_ref,
            purpose=reason,
            details={
                "hold_id": cur.lastrowid,
                "track_ids": ids,
                "camera_id": cam,
                "window_start": t0,
                "window_end": t1,
                "open_ended": t1 == OPEN_END,
            },
        )
        return cur.lastrowid

    return store.write(fn).result()


def _check_tracks_exist(conn: sqlite3.Connection, ids: list[int]) -> None:
    found: set[int] = set()
    for k in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        chunk = ids[k : k + 500]
        found |= {
            r[0] for r in conn.execute(f"SELECT id FROM tracks WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        }
    missing = [t for t in ids if t not in found]
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise HoldError(_("no stored track has id {shown}: nothing was held", shown=shown))


def lift_hold(store, hold_id: int, user: str, role: str = "system", reason: str | None = None) -> None:
    """Lift a hold: its tracks fall back under their camera's retention (the record stays); audited.

    A user of the web application (a role of vigie.accounts.roles) lifts only a hold they placed, unless
    their role may lift any (a supervisor), and always gives a reason. The command line (role "system",
    the host's operator) may omit it; the audit entry then says so."""
    user = _required(user, "user")
    if role in ROLES:
        reason = _required(reason, "reason to lift it")
    reason = reason.strip() if reason and reason.strip() else None

    def fn(conn: sqlite3.Connection) -> None:
        row = conn.execute(
            "SELECT case_ref, placed_by, lifted_by, lifted_at FROM legal_holds WHERE id=?", (hold_id,)
        ).fetchone()
        if row is None:
            raise HoldError(_("no legal hold has id {hold_id}", hold_id=hold_id))
        if row["lifted_at"] is not None:
            raise HoldError(
                _(
                    "legal hold {hold_id} was already lifted by {lifted_by} at {lifted_at}",
                    hold_id=hold_id,
                    lifted_by=row["lifted_by"],
                    lifted_at=row["lifted_at"],
                )
            )
        if role in ROLES and row["placed_by"] != user and not allowed(role, "hold_lift_any"):
            raise HoldForbidden(
                _(
                    "legal hold {hold_id} was placed by {placed_by}: only they or a supervisor may lift it",
                    hold_id=hold_id,
                    placed_by=row["placed_by"],
                )
            )
        conn.execute("UPDATE legal_holds SET lifted_by=?, lifted_at=? WHERE id=?", (user, now_iso(), hold_id))
        append_in(
            conn,
            user,
            role,
            "hold_lift",
            case_ref=row["case_ref"],
            purpose=reason or "lifted from the command line, no reason given",
            details={"hold_id": hold_id, "placed_by": row["placed_by"], "reason": reason},
        )

    store.write(fn).result()


def list_holds(store, active_only: bool = True) -> list[dict]:
    """Holds in placing order, each with its track ids and whether it is active."""
    sql = "SELECT * FROM legal_holds" + (" WHERE lifted_at IS NULL" if active_only else "") + " ORDER BY id"
    with store.read() as conn:
        holds = [dict(r) for r in conn.execute(sql)]
        tracks: dict[int, list[int]] = {}
        for r in conn.execute("SELECT hold_id, track_id FROM legal_hold_tracks ORDER BY hold_id, track_id"):
            tracks.setdefault(r[0], []).append(r[1])
    for h in holds:
        h["track_ids"] = tracks.get(h["id"], [])
        h["active"] = h["lifted_at"] is None
    return holds

"""Alerts in the store: recorded once per event, decided once, audited.

`record(store, events, snapshots)` inserts the events not yet known (by
Event.key), in one transaction, and returns the new alerts' ids. `decide`
sets validated/dismissed exactly once, with who and when, and appends the
audit entry in the same transaction: a second decision is refused, naming
the first.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Iterable, Mapping

from vigie.audit.log import append_in
from vigie.errors import VigieError
from vigie.i18n import _
from vigie.times import iso, now_iso

DECISIONS = {"validate": "validated", "dismiss": "dismissed"}
STATUSES = ("new", "validated", "dismissed")
# "end" quoted: a reserved word in PostgreSQL (vigie.store.postgres); SQLite reads it alike.
_COLUMNS = (
    'id, rule, kind, camera_id, start, "end", track_ids, x, y, details, created_at, status, decided_by, decided_at, note,'
    " snapshot IS NOT NULL AS has_snapshot"
)


class AlertError(VigieError):
    """An alert that does not exist, or a decision that cannot be made."""


def _key(event) -> str:
    return json.dumps(
        [
            str(k) if not isinstance(k, (int, float, str)) else k
            for k in (event.rule, event.kind, event.camera_id, list(event.track_ids), event.start.isoformat())
        ]
    )


def record(store, events: Iterable, snapshots: Mapping[str, bytes] | None = None) -> list[int]:
    """Store the events not stored yet; snapshots: event key -> blurred JPEG. Returns new alert ids."""
    rows = []
    for e in events:
        key = _key(e)
        rows.append(
            (
                key,
                e.rule,
                e.kind,
                e.camera_id,
                iso(e.start),
                iso(e.end) if e.end else None,
                json.dumps(list(e.track_ids)),
                float(e.where[0]),
                float(e.where[1]),
                json.dumps(e.details, default=str, sort_keys=True),
                store.pictures.seal((snapshots or {}).get(key)),  # sealed at rest, though blurred
                now_iso(),
            )
        )

    def fn(conn):
        new = []
        for r in rows:
            cur = conn.execute(
                'INSERT OR IGNORE INTO alerts (event_key, rule, kind, camera_id, start, "end", track_ids, x, y,'
                " details, snapshot, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                r,
            )
            if cur.rowcount:
                new.append(cur.lastrowid)
        return new

    return store.write(fn).result() if rows else []


def event_key(event) -> str:
    """The key under which `record` stores an event (to pass its snapshot)."""
    return _key(event)


def _row(r) -> dict:
    d = dict(r)
    d["track_ids"] = json.loads(d["track_ids"])
    d["details"] = json.loads(d["details"])
    d["has_snapshot"] = bool(d["has_snapshot"])
    return d


def list_alerts(
    store,
    status: str | None = None,
    camera_id: str | None = None,
    after_id: int = 0,
    limit: int = 100,
    offset: int = 0,
    since: datetime | None = None,
) -> tuple[list[dict], int]:
    """(alerts newest first, or oldest first after `after_id` for a live feed; total matching).

    since: only alerts whose event was still going on at or after it (a role's window: an operator's 24 hours)."""
    if status is not None and status not in STATUSES:
        raise AlertError(
            _("alert status {status} is not one of {value}", status=repr(status), value=", ".join(STATUSES))
        )
    where, args = ["id > ?"], [after_id]
    if status:
        where.append("status = ?")
        args.append(status)
    if camera_id:
        where.append("camera_id = ?")
        args.append(camera_id)
    if since is not None:
        where.append('coalesce("end", start) >= ?')
        args.append(iso(since))
    sql_where = " WHERE " + " AND ".join(where)
    order = "id ASC" if after_id else "id DESC"
    with store.read() as conn:
        total = conn.execute(f"SELECT count(*) FROM alerts{sql_where}", args).fetchone()[0]
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM alerts{sql_where} ORDER BY {order} LIMIT ? OFFSET ?", [*args, limit, offset]
        )
        return [_row(r) for r in rows], total


def get_alert(store, alert_id: int) -> dict | None:
    with store.read() as conn:
        r = conn.execute(f"SELECT {_COLUMNS} FROM alerts WHERE id = ?", (alert_id,)).fetchone()
    return _row(r) if r else None


def in_window(alert: dict, since: datetime | None) -> bool:
    """Whether the alert's event was still going on at or after `since` (None: no window)."""
    return since is None or (alert["end"] or alert["start"]) >= iso(since)


def snapshot(store, alert_id: int) -> bytes | None:
    with store.read() as conn:
        r = conn.execute("SELECT snapshot FROM alerts WHERE id = ?", (alert_id,)).fetchone()
    if r is None:
        raise AlertError(_("no alert has id {alert_id}", alert_id=alert_id))
    return store.pictures.open(r[0])


def decide(
    store,
    alert_id: int,
    decision: str,
    user: str,
    role: str,
    note: str | None = None,
    case_ref: str | None = None,
    purpose: str | None = None,
) -> dict:
    """Validate or dismiss an alert, once; audited with the decision (and any case and purpose) in one transaction."""
    if decision not in DECISIONS:
        raise AlertError(
            _("decision {decision} is not one of {value}", decision=repr(decision), value=", ".join(DECISIONS))
        )
    status = DECISIONS[decision]

    def fn(conn):
        conn.execute("BEGIN IMMEDIATE")
        r = conn.execute(
            "SELECT status, decided_by, decided_at, rule, kind, camera_id FROM alerts WHERE id = ?", (alert_id,)
        ).fetchone()
        if r is None:
            raise AlertError(_("no alert has id {alert_id}", alert_id=alert_id))
        if r["status"] != "new":
            raise AlertError(
                _(
                    "alert {alert_id} was already {status} by {decided_by} at {decided_at}",
                    alert_id=alert_id,
                    status=r["status"],
                    decided_by=r["decided_by"],
                    decided_at=r["decided_at"],
                )
            )
        at = now_iso()
        conn.execute(
            "UPDATE alerts SET status = ?, decided_by = ?, decided_at = ?, note = ? WHERE id = ?",
            (status, user, at, note, alert_id),
        )
        append_in(
            conn,
            user,
            role,
            "alert_decision",
            case_ref=case_ref or None,
            purpose=purpose or None,
            details={
                "alert_id": alert_id,
                "decision": status,
                "note": note,
                "rule": r["rule"],
                "kind": r["kind"],
                "camera_id": r["camera_id"],
            },
        )
        return {"id": alert_id, "status": status, "decided_by": user, "decided_at": at}

    return store.write(fn).result()

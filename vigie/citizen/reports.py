"""Citizen reports in the store: received, moderated, published, purged.

A report arrives as moderation 'pending' with a token for its sender (kept
here only as its SHA-256). A moderator then, once:
- accepts it: it becomes public under its row id (the service_request_id);
- rejects it, with a reason: it is never public, and is deleted 30 days later;
- merges it into an accepted report (a duplicate): its token and its id then
  lead to that report (an accepted report found to be a duplicate later may
  still be merged).
On accepted reports a moderator also posts status updates (open/closed and
notes). Redaction REPLACES the description: the point of redacting is to
remove personal data, so no original is kept anywhere (the audit entry
records that it happened and the lengths, not the text).

Every decision is audited in the same transaction as the change it makes.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from vigie.audit.log import append_in
from vigie.citizen import abuse
from vigie.errors import VigieError
from vigie.i18n import _
from vigie.times import iso

MODERATION = ("pending", "accepted", "rejected", "merged")
DECISIONS = {"accept": "accepted", "reject": "rejected", "merge": "merged"}
STATUSES = ("open", "closed")
CONTACT_FIELDS = ("email", "first_name", "last_name", "phone", "device_id", "account_id")
REJECTED_KEPT = timedelta(days=30)
ANSWERED_CONTACT_KEPT = timedelta(days=30)  # after a report is closed or merged, its reporter needs no answer
CONTACT_KEPT = timedelta(days=90)  # however the report stands: contact details are for following it up, not for keeping
MAX_PUBLIC = 1000  # the specification's cap on one GET requests answer

# What a public answer may be built from: never contact details, hashes or the photo's bytes.
_PUBLIC_COLUMNS = (
    "id, service_code, lat, lon, address_string, address_id, description, requested_at, updated_at, "
    "status, status_notes, moderation, merged_into, photo IS NOT NULL AS has_photo"
)
_MODERATOR_COLUMNS = (
    _PUBLIC_COLUMNS + ", attributes, moderated_by, moderated_at, reject_reason, redacted, " + ", ".join(CONTACT_FIELDS)
)


class ReportError(VigieError):
    """A report that is not there (404), a decision already made (409), or a value refused (400)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class NewReport:
    service_code: str
    lat: float | None = None
    lon: float | None = None
    address_string: str | None = None
    address_id: str | None = None
    description: str = ""
    attributes: dict = field(default_factory=dict)
    contact: dict = field(default_factory=dict)  # CONTACT_FIELDS -> text, for moderators only
    photo: bytes | None = None  # already sanitised (vigie.citizen.photos)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# --- receiving -----------------------------------------------------------------------------------------
def precheck(store, address: str, description: str, now: datetime, per_hour: int, per_day: int) -> None:
    """The sender's limits and repeats, checked before the costly part (the photo); `submit` checks again."""
    with store.read() as conn:
        who = abuse.client_hash(conn, address)
        abuse.check_rate(conn, who, now, per_hour, per_day)
        if abuse.is_repeat(conn, who, description, now):
            raise ReportError(400, _("the same description was already sent from this address today"))


def submit(store, report: NewReport, address: str, now: datetime, per_hour: int, per_day: int) -> tuple[int, str]:
    """Store a pending report; (id, token). The limits are checked again under the write lock, so two
    requests at once cannot both pass."""
    token = secrets.token_urlsafe(24)
    contact = [report.contact.get(f) or None for f in CONTACT_FIELDS]

    def fn(conn: sqlite3.Connection):
        conn.execute("BEGIN IMMEDIATE")
        who = abuse.client_hash(conn, address)
        abuse.purge_hits(conn, now)
        abuse.check_rate(conn, who, now, per_hour, per_day)
        if abuse.is_repeat(conn, who, report.description, now):
            raise ReportError(400, _("the same description was already sent from this address today"))
        cur = conn.execute(
            "INSERT INTO citizen_reports (service_code, lat, lon, address_string, address_id, description, attributes,"
            " requested_at, updated_at, token_hash, client_hash, " + ", ".join(CONTACT_FIELDS) + ", photo)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                report.service_code,
                report.lat,
                report.lon,
                report.address_string,
                report.address_id,
                report.description,
                json.dumps(report.attributes, sort_keys=True),
                iso(now),
                iso(now),
                token_hash(token),
                who,
                *contact,
                store.pictures.seal(report.photo),  # sealed at rest (vigie.store.pictures), though blurred
            ),
        )
        abuse.record_hit(conn, who, now)
        return cur.lastrowid

    return store.write(fn).result(), token


# --- public reads ----------------------------------------------------------------------------------------
def _target(conn: sqlite3.Connection, report_id: int) -> sqlite3.Row | None:
    """The public report an id stands for: itself when accepted, its target when merged; None otherwise."""
    row = conn.execute(f"SELECT {_PUBLIC_COLUMNS} FROM citizen_reports WHERE id = ?", (report_id,)).fetchone()
    if row is not None and row["moderation"] == "merged" and row["merged_into"] is not None:
        row = conn.execute(
            f"SELECT {_PUBLIC_COLUMNS} FROM citizen_reports WHERE id = ?", (row["merged_into"],)
        ).fetchone()
    return row if row is not None and row["moderation"] == "accepted" else None


def public_request(store, report_id: int) -> dict | None:
    with store.read() as conn:
        row = _target(conn, report_id)
    return dict(row) if row else None


def public_requests(
    store,
    ids: list[int] | None = None,
    codes: list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    statuses: list[str] | None = None,
    limit: int = MAX_PUBLIC,
) -> list[dict]:
    """Accepted reports, newest first. `ids` (merged ones resolved to their target) supersede the other filters."""
    with store.read() as conn:
        if ids is not None:
            seen, out = set(), []
            for i in ids[:limit]:
                row = _target(conn, i)
                if row is not None and row["id"] not in seen:
                    seen.add(row["id"])
                    out.append(dict(row))
            return out
        where, args = ["moderation = 'accepted'"], []
        if codes:
            where.append(f"service_code IN ({','.join('?' * len(codes))})")
            args += codes
        if statuses:
            where.append(f"status IN ({','.join('?' * len(statuses))})")
            args += statuses
        if start is not None:
            where.append("requested_at >= ?")
            args.append(iso(start))
        if end is not None:
            where.append("requested_at <= ?")
            args.append(iso(end))
        sql = f"SELECT {_PUBLIC_COLUMNS} FROM citizen_reports WHERE {' AND '.join(where)} ORDER BY requested_at DESC, id DESC LIMIT ?"
        return [dict(r) for r in conn.execute(sql, [*args, limit])]


def by_token(store, token: str) -> dict | None:
    """What the sender of a token may know: {service_request_id (None until public), moderation, status, status_notes}."""
    with store.read() as conn:
        row = conn.execute(
            "SELECT id, moderation, merged_into, status, status_notes, reject_reason FROM citizen_reports"
            " WHERE token_hash = ?",
            (token_hash(token),),
        ).fetchone()
        if row is None:
            return None
        out = {"service_request_id": None, "moderation": row["moderation"], "status": None, "status_notes": None}
        if row["moderation"] == "rejected":
            out["status_notes"] = row["reject_reason"]  # the sender is told why; nobody else ever sees the report
        public = _target(conn, row["id"]) if row["moderation"] in ("accepted", "merged") else None
        if public is not None:
            out.update(
                service_request_id=public["id"], status=public["status"], status_notes=public["status_notes"] or None
            )
        return out


def public_photo(store, report_id: int) -> bytes | None:
    """The sanitised photo of an accepted report (None: no such public report, or no photo)."""
    with store.read() as conn:
        row = conn.execute(
            "SELECT photo FROM citizen_reports WHERE id = ? AND moderation = 'accepted'", (report_id,)
        ).fetchone()
    return store.pictures.open(row[0]) if row is not None and row[0] is not None else None


# --- moderation ------------------------------------------------------------------------------------------
def _moderator_view(row: sqlite3.Row) -> dict:
    d = dict(row)
    d["attributes"] = json.loads(d["attributes"])
    d["has_photo"], d["redacted"] = bool(d["has_photo"]), bool(d["redacted"])
    d["contact"] = {f: d.pop(f) for f in CONTACT_FIELDS}
    return d


def list_reports(store, moderation: str | None = None, limit: int = 100, offset: int = 0) -> tuple[list[dict], int]:
    """(reports, oldest first so the queue is worked in order; total matching)."""
    if moderation is not None and moderation not in MODERATION:
        raise ReportError(
            400,
            _(
                "moderation {moderation} is not one of {value}",
                moderation=repr(moderation),
                value=", ".join(MODERATION),
            ),
        )
    where, args = ("WHERE moderation = ?", [moderation]) if moderation else ("", [])
    with store.read() as conn:
        total = conn.execute(f"SELECT count(*) FROM citizen_reports {where}", args).fetchone()[0]
        rows = conn.execute(
            f"SELECT {_MODERATOR_COLUMNS} FROM citizen_reports {where} ORDER BY id LIMIT ? OFFSET ?",
            [*args, limit, offset],
        )
        return [_moderator_view(r) for r in rows], total


def get_report(store, report_id: int) -> dict:
    with store.read() as conn:
        row = conn.execute(f"SELECT {_MODERATOR_COLUMNS} FROM citizen_reports WHERE id = ?", (report_id,)).fetchone()
    if row is None:
        raise ReportError(404, _("no citizen report has id {report_id}", report_id=report_id))
    return _moderator_view(row)


def photo(store, report_id: int) -> bytes:
    with store.read() as conn:
        row = conn.execute("SELECT photo FROM citizen_reports WHERE id = ?", (report_id,)).fetchone()
    if row is None:
        raise ReportError(404, _("no citizen report has id {report_id}", report_id=report_id))
    if row[0] is None:
        raise ReportError(404, _("citizen report {report_id} has no photo", report_id=report_id))
    return store.pictures.open(row[0])


def _current(conn: sqlite3.Connection, report_id: int) -> sqlite3.Row:
    row = conn.execute(
        "SELECT id, moderation, moderated_by, moderated_at, merged_into, description, photo IS NOT NULL AS has_photo"
        " FROM citizen_reports WHERE id = ?",
        (report_id,),
    ).fetchone()
    if row is None:
        raise ReportError(404, _("no citizen report has id {report_id}", report_id=report_id))
    return row


def _already(row: sqlite3.Row) -> str:
    target = f" into report {row['merged_into']}" if row["moderation"] == "merged" else ""
    return (
        f"report {row['id']} was already {row['moderation']}{target} by {row['moderated_by']} at {row['moderated_at']}"
    )


def decide(
    store,
    report_id: int,
    decision: str,
    user: str,
    role: str,
    now: datetime,
    reason: str | None = None,
    merge_into: int | None = None,
) -> dict:
    """Accept, reject or merge a pending report, once (an accepted report may still be merged, as a duplicate
    found later); audited with the decision in one transaction."""
    if decision not in DECISIONS:
        raise ReportError(
            400, _("decision {decision} is not one of {value}", decision=repr(decision), value=", ".join(DECISIONS))
        )
    reason = (reason or "").strip() or None
    if decision == "reject" and reason is None:
        raise ReportError(400, _("a rejection needs a reason (it is shown to the sender through their token)"))
    if decision == "merge" and merge_into is None:
        raise ReportError(400, _("a merge needs merge_into: the accepted report this one duplicates"))
    if decision != "merge" and merge_into is not None:
        raise ReportError(
            400, _("merge_into is only for the decision 'merge', not {decision}", decision=repr(decision))
        )

    def fn(conn: sqlite3.Connection):
        conn.execute("BEGIN IMMEDIATE")
        row = _current(conn, report_id)
        if not (row["moderation"] == "pending" or (decision == "merge" and row["moderation"] == "accepted")):
            raise ReportError(409, _already(row))
        at = iso(now)
        if decision == "merge":
            if merge_into == report_id:
                raise ReportError(400, _("a report cannot be merged into itself"))
            target = conn.execute("SELECT moderation FROM citizen_reports WHERE id = ?", (merge_into,)).fetchone()
            if target is None or target["moderation"] != "accepted":
                state = "does not exist" if target is None else f"is {target['moderation']}"
                raise ReportError(
                    400,
                    _(
                        "merge_into {merge_into}: report {merge_into} {state}; a report can only be merged into an accepted report",
                        merge_into=merge_into,
                        state=state,
                    ),
                )
            # Reports already merged into this one follow it, so a token never leads through two merges.
            conn.execute(
                "UPDATE citizen_reports SET merged_into = ?, updated_at = ? WHERE merged_into = ?",
                (merge_into, at, report_id),
            )
        conn.execute(
            "UPDATE citizen_reports SET moderation = ?, moderated_by = ?, moderated_at = ?, reject_reason = ?,"
            " merged_into = ?, updated_at = ? WHERE id = ?",
            (
                DECISIONS[decision],
                user,
                at,
                reason if decision == "reject" else None,
                merge_into if decision == "merge" else None,
                at,
                report_id,
            ),
        )
        append_in(
            conn,
            user,
            role,
            "report_moderate",
            # The reason's length only: a reason may quote the personal data that got a report rejected,
            # and the audit log is never deleted; the reason itself goes with the report after 30 days.
            details={
                "report_id": report_id,
                "decision": decision,
                "reason_chars": len(reason or ""),
                "merge_into": merge_into,
                "was": row["moderation"],
            },
        )
        return {
            "id": report_id,
            "moderation": DECISIONS[decision],
            "moderated_by": user,
            "moderated_at": at,
            "merged_into": merge_into if decision == "merge" else None,
            "service_request_id": report_id if decision == "accept" else merge_into,
        }

    return store.write(fn).result()


def redact(store, report_id: int, description: str, remove_photo: bool, user: str, role: str, now: datetime) -> dict:
    """Replace the description (the original is not kept) and optionally delete the photo; audited."""

    def fn(conn: sqlite3.Connection):
        conn.execute("BEGIN IMMEDIATE")
        row = _current(conn, report_id)
        at = iso(now)
        conn.execute(
            "UPDATE citizen_reports SET description = ?, redacted = 1, updated_at = ?"
            + (", photo = NULL" if remove_photo else "")
            + " WHERE id = ?",
            (description, at, report_id),
        )
        # Lengths only: the audit log must not become the copy of what was removed.
        append_in(
            conn,
            user,
            role,
            "report_moderate",
            details={
                "report_id": report_id,
                "decision": "redact",
                "chars_before": len(row["description"]),
                "chars_after": len(description),
                "photo_removed": bool(remove_photo and row["has_photo"]),
            },
        )
        return {
            "id": report_id,
            "description": description,
            "redacted": True,
            "updated_at": at,
            "has_photo": bool(row["has_photo"]) and not remove_photo,
        }

    return store.write(fn).result()


def update_status(store, report_id: int, status: str, notes: str, user: str, role: str, now: datetime) -> dict:
    """A status update of an accepted report, shown publicly and to its sender; audited."""
    if status not in STATUSES:
        raise ReportError(
            400, _("status {status} is not one of {value}", status=repr(status), value=", ".join(STATUSES))
        )

    def fn(conn: sqlite3.Connection):
        conn.execute("BEGIN IMMEDIATE")
        row = _current(conn, report_id)
        if row["moderation"] != "accepted":
            where = f": update report {row['merged_into']}" if row["moderation"] == "merged" else ""
            raise ReportError(
                409,
                _(
                    "report {report_id} is {moderation}; only accepted reports have a public status{where}",
                    report_id=report_id,
                    moderation=row["moderation"],
                    where=where,
                ),
            )
        at = iso(now)
        conn.execute(
            "UPDATE citizen_reports SET status = ?, status_notes = ?, updated_at = ? WHERE id = ?",
            (status, notes, at, report_id),
        )
        append_in(
            conn,
            user,
            role,
            "report_moderate",
            details={"report_id": report_id, "decision": "status", "status": status, "status_notes": notes},
        )
        return {"id": report_id, "status": status, "status_notes": notes, "updated_at": at}

    return store.write(fn).result()


# --- retention -------------------------------------------------------------------------------------------
def purge_reports(store, now: datetime, dry_run: bool = False) -> dict[str, int]:
    """What `vigie purge` does to citizen reports:
    - delete those rejected more than 30 days before `now` (photos and contact details with them);
    - clear the reporters' contact details 30 days after their report was closed or merged, and 90 days after it
      was sent whatever its state (the place and event stay on the map);
    - forget who sent what after a day: rate-limit counts older than that, and the sender's hash on reports.
    Returns {"reports": deleted reports, "contacts": reports whose contact details were cleared, "hits": deleted
    counts, "senders": reports whose sender hash was blanked}; with dry_run, what would be, changing nothing."""
    rejected = ("FROM citizen_reports WHERE moderation = 'rejected' AND moderated_at < ?", (iso(now - REJECTED_KEPT),))
    with_contact = " OR ".join(f"{f} IS NOT NULL" for f in CONTACT_FIELDS)
    old_contact = (
        f"FROM citizen_reports WHERE ({with_contact}) AND ((status = 'closed' OR moderation = 'merged') "
        "AND updated_at < ? OR requested_at < ?)",
        (iso(now - ANSWERED_CONTACT_KEPT), iso(now - CONTACT_KEPT)),
    )
    old_sender = ("FROM citizen_reports WHERE client_hash <> '' AND requested_at < ?", (iso(now - abuse.DAY),))
    old_hits = ("FROM citizen_report_hits WHERE at <= ?", (iso(now - abuse.DAY),))

    if dry_run:
        with store.read() as conn:
            count = lambda q: conn.execute(f"SELECT count(*) {q[0]}", q[1]).fetchone()[0]  # noqa: E731
            return {
                "reports": count(rejected),
                "contacts": count(old_contact),
                "hits": count(old_hits),
                "senders": count(old_sender),
            }

    def fn(conn: sqlite3.Connection):
        reports = conn.execute(f"DELETE {rejected[0]}", rejected[1]).rowcount
        cleared = ", ".join(f"{f} = NULL" for f in CONTACT_FIELDS)
        contacts = conn.execute(
            f"UPDATE citizen_reports SET {cleared} WHERE id IN (SELECT id {old_contact[0]})", old_contact[1]
        ).rowcount
        senders = conn.execute(
            f"UPDATE citizen_reports SET client_hash = '' WHERE id IN (SELECT id {old_sender[0]})", old_sender[1]
        ).rowcount
        return {"reports": reports, "contacts": contacts, "hits": abuse.purge_hits(conn, now), "senders": senders}

    return store.write(fn).result()

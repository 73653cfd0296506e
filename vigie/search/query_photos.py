"""Example photos searched with, kept only as the audit log requires, and purged with their case.

A search by example photo (vigie.search.photo) is audited like any `similar`: the entry names the
photo by the SHA-256 of the JPEG compared (never its bytes, which a hash chain could never forget),
and this table (migration 0014) keeps those bytes, so that the entry can be checked against the
very picture searched with. The photo and its audit entry commit in one transaction.

The bytes are sealed at rest under the media key (vigie.store.pictures), though faces are blurred
in them: the hash is of the photo itself, so the entry is checked against the opened bytes.

A photo is kept per case: one row per (sha256, case_ref). `vigie purge` (vigie.retention.purge)
deletes, in the same transaction as the expired tracks, every photo last used longer ago than the
longest camera retention whose case has no active legal hold: a case whose footage is held keeps the
photos it was searched with, and they go when its holds are lifted (and the period has passed).
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime, timedelta

from vigie.audit.log import append_in
from vigie.times import iso, now_iso

# Rows to delete: older than the cutoff, and no active hold names their case.
_EXPIRED = (
    "FROM query_photos WHERE last_used < ? AND NOT EXISTS (SELECT 1 FROM legal_holds h"
    " WHERE h.lifted_at IS NULL AND h.case_ref = query_photos.case_ref AND query_photos.case_ref <> '')"
)


def sha256_of(jpeg: bytes) -> str:
    return hashlib.sha256(jpeg).hexdigest()


def keep_and_audit(
    store,
    jpeg: bytes,
    user: str,
    role: str,
    case_ref: str | None,
    purpose: str | None,
    details: dict,
    action: str = "similar",
) -> str:
    """Store the photo (or mark it used again) and append the search's audit entry, in one
    transaction; the entry's details get `photo_sha256`. Returns the hash."""
    digest = sha256_of(jpeg)
    case = (case_ref or "").strip()

    def fn(conn: sqlite3.Connection) -> None:
        now = now_iso()
        updated = conn.execute(
            "UPDATE query_photos SET last_used = ?, used_by = ? WHERE sha256 = ? AND case_ref = ?",
            (now, user, digest, case),
        ).rowcount
        if not updated:
            conn.execute(
                "INSERT INTO query_photos (sha256, case_ref, jpeg, first_used, last_used, used_by)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (digest, case, store.pictures.seal(jpeg), now, now, user),  # sealed at rest; hashed as compared
            )
        append_in(
            conn,
            user,
            role,
            action,
            case_ref=case_ref or None,
            purpose=purpose or None,
            details={**details, "photo_sha256": digest},
        )

    store.write(fn).result()
    return digest


def stored_photo(store, digest: str, case_ref: str | None = None) -> bytes | None:
    """The kept JPEG of that hash (for that case, where given), or None once purged."""
    sql, args = "SELECT jpeg FROM query_photos WHERE sha256 = ?", [digest]
    if case_ref is not None:
        sql, args = sql + " AND case_ref = ?", [*args, case_ref]
    with store.read() as conn:
        row = conn.execute(sql + " LIMIT 1", args).fetchone()
    return store.pictures.open(row[0]) if row is not None else None


def retention_days(site) -> int:
    """How long a photo is kept after its last use: as long as the footage it may be compared with
    (the longest of the cameras' retentions, the admin's settings applied where `site` has them)."""
    return max((site.retention_for(c.id) for c in site.cameras), default=site.legal_max_retention_days)


def cutoff(site, now: datetime) -> str:
    """Photos last used before this are expired (unless their case is held)."""
    return iso(now - timedelta(days=retention_days(site)))


def count_expired(conn: sqlite3.Connection, site, now: datetime) -> int:
    return conn.execute(f"SELECT count(*) {_EXPIRED}", (cutoff(site, now),)).fetchone()[0]


def delete_expired(conn: sqlite3.Connection, site, now: datetime) -> int:
    """Inside the purge's write transaction: delete the expired, unheld photos; how many."""
    return conn.execute(f"DELETE {_EXPIRED}", (cutoff(site, now),)).rowcount

"""Append, verify, query and export the hash-chained audit log.

Each entry's hash is the SHA-256 of a canonical serialisation of its own
fields and of the previous entry's hash (64 zeros for the first), so changing,
removing or inserting any entry breaks every link after it. Appends run on the
store's single writer thread, inside an IMMEDIATE transaction, so the previous
hash and the next seq are read and written under the write lock: concurrent
appends, from threads or from other processes, can never fork the chain.

The chain proves the log intact up to its last entry; cutting entries off the
end leaves a shorter, valid chain. `vigie audit verify` prints the last hash so
that it can be recorded elsewhere (a signed report, a second system) and
compared later with `expect_hash`.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Iterator

from vigie.errors import VigieError
from vigie.store.sqlite import SQLiteStore
from vigie.times import iso, now_iso, parse_time

GENESIS = "0" * 64
CHUNK = 5000  # rows per fetch when streaming the log: memory stays flat for millions of entries

ACTIONS = frozenset(
    {
        "login",
        "login_failed",
        "logout",
        "search",
        "similar",
        "trail",
        "view_track",
        "view_clip",
        "export",
        "settings",
        "user_admin",
        "hold_place",
        "hold_lift",
        "view_holds",
        "purge",
        "unblur_request",
        "view_unblurred",
        "audit_read",
        "audit_export",
        "alert_decision",
        "view_alerts",
        "synopsis",
        "view_synopsis",
        "view_crime_map",
        "crime_report",
        "incidents_import",
        "incidents_remove",
        "view_reports",
        "report_moderate",
    }
)
FIELDS = ("seq", "at", "user", "role", "action", "case_ref", "purpose", "details", "prev_hash", "hash")
# Quoted: `user` is a reserved word in PostgreSQL, where unquoted it means CURRENT_USER (SQLite accepts quotes alike).
_COLUMNS = ", ".join(f'"{f}"' for f in FIELDS)


class AuditError(VigieError, ValueError):
    """An audit entry or filter that cannot be used (names the field and value)."""


@dataclass(frozen=True)
class AuditEntry:
    """One row of the log, as stored: `details` is its canonical JSON text (or None)."""

    seq: int
    at: str
    user: str
    role: str
    action: str
    case_ref: str | None
    purpose: str | None
    details: str | None
    prev_hash: str
    hash: str

    @classmethod
    def from_row(cls, row: sqlite3.Row | tuple) -> "AuditEntry":
        return cls(*tuple(row))

    def details_dict(self) -> dict | None:
        """The details as data (None when the entry has none)."""
        return json.loads(self.details) if self.details is not None else None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output, details decoded."""
        return {f: getattr(self, f) for f in FIELDS} | {"details": self.details_dict()}


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of walking the chain. `entries` counts the entries found
    intact (all of them when ok; those before the first broken one otherwise)."""

    ok: bool
    entries: int
    first_bad_seq: int | None
    reason: str
    last_hash: str = GENESIS


# --- hashing -----------------------------------------------------------------------------
def canonical_json(value: Any) -> str:
    """One text per value (sorted keys, no spaces, UTF-8 kept), so a hash never depends on dict order."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(
    seq: int,
    at: str,
    user: str,
    role: str,
    action: str,
    case_ref: str | None,
    purpose: str | None,
    details: str | None,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the entry's fields as a canonical JSON array: unambiguous
    field boundaries, so no two different entries serialise alike."""
    text = canonical_json([seq, at, user, role, action, case_ref, purpose, details, prev_hash])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _recomputed(e: AuditEntry) -> str:
    return entry_hash(e.seq, e.at, e.user, e.role, e.action, e.case_ref, e.purpose, e.details, e.prev_hash)


# --- append ----------------------------------------------------------------------------------
def _check_entry(user: str, role: str, action: str, details: dict | None) -> str | None:
    """Refuse an entry the auditor could not read back; return its details as canonical JSON."""
    for name, value in (("user", user), ("role", role)):
        if not isinstance(value, str) or not value.strip():
            raise AuditError(f"audit entry field {name}: must be a non-empty text, got {value!r}")
    _check_action(action)
    if details is None:
        return None
    if not isinstance(details, dict):
        raise AuditError(f"audit entry field details: must be a dict, got {type(details).__name__}")
    try:
        return canonical_json(details)
    except (TypeError, ValueError) as exc:
        raise AuditError(f"audit entry field details: not JSON data ({exc})") from None


def _check_action(action: str) -> None:
    if action not in ACTIONS:
        raise AuditError(f"audit action {action!r} is not known; known actions: {', '.join(sorted(ACTIONS))}")


def append_in(
    conn: sqlite3.Connection,
    user: str,
    role: str,
    action: str,
    *,
    case_ref: str | None = None,
    purpose: str | None = None,
    details: dict | None = None,
) -> AuditEntry:
    """Append on a write connection that is already in use by a store.write job,
    so that an action and its audit entry commit together (or neither does)."""
    details_text = _check_entry(user, role, action, details)
    if not conn.in_transaction:
        conn.execute("BEGIN IMMEDIATE")  # take the write lock before reading the chain's head
    last = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = now_iso()
    digest = entry_hash(seq, at, user, role, action, case_ref, purpose, details_text, prev)
    entry = AuditEntry(seq, at, user, role, action, case_ref, purpose, details_text, prev, digest)
    conn.execute(
        f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", tuple(getattr(entry, f) for f in FIELDS)
    )
    return entry


def append(
    store: SQLiteStore,
    user: str,
    role: str,
    action: str,
    *,
    case_ref: str | None = None,
    purpose: str | None = None,
    details: dict | None = None,
) -> AuditEntry:
    """Append one entry through the store's single writer; returns it with its seq and hash.

    Bad input is refused here, in the caller's thread, before anything is queued."""
    _check_entry(user, role, action, details)
    return store.write(
        lambda conn: append_in(conn, user, role, action, case_ref=case_ref, purpose=purpose, details=details)
    ).result()


# --- verify ------------------------------------------------------------------------------------
def _stream(conn: sqlite3.Connection, sql: str, args: list | tuple = ()) -> Iterator[AuditEntry]:
    """Rows of one statement (one consistent snapshot), fetched CHUNK at a time."""
    cur = conn.execute(sql, args)
    while rows := cur.fetchmany(CHUNK):
        yield from (AuditEntry.from_row(r) for r in rows)


def _link_fault(entry: AuditEntry, prev_seq: int, prev_hash: str) -> str | None:
    """Why this entry does not follow the previous one, or None."""
    if entry.seq != prev_seq + 1:
        if entry.seq <= prev_seq:  # cannot happen with an INTEGER PRIMARY KEY; kept for hand-edited files
            return f"entry {entry.seq} is out of order (after entry {prev_seq})"
        if prev_seq == 0:
            return f"entry 1 is missing (sequence starts at {entry.seq})"
        missing = f"{prev_seq + 1}" if entry.seq == prev_seq + 2 else f"{prev_seq + 1}-{entry.seq - 1}"
        return f"entry {missing} is missing (sequence jumps from {prev_seq} to {entry.seq})"
    if _recomputed(entry) != entry.hash:
        return f"entry {entry.seq}: hash does not match its contents"
    if entry.prev_hash != prev_hash:
        previous = "the genesis hash" if prev_seq == 0 else f"entry {prev_seq}'s hash"
        return f"entry {entry.seq}: prev_hash is not {previous}"
    return None


def verify(store: SQLiteStore, expect_hash: str | None = None) -> VerifyResult:
    """Walk the whole chain in seq order and name the first entry that breaks it.

    `expect_hash`, a last hash recorded earlier, must still be in the chain:
    this is what catches entries cut off the end."""
    prev_seq, prev_hash, seen_expected = 0, GENESIS, expect_hash is None or expect_hash == GENESIS
    with store.read() as conn:
        for entry in _stream(conn, f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq"):
            fault = _link_fault(entry, prev_seq, prev_hash)
            if fault:
                bad = prev_seq + 1 if entry.seq > prev_seq + 1 else entry.seq
                return VerifyResult(False, prev_seq, bad, fault, prev_hash)
            prev_seq, prev_hash = entry.seq, entry.hash
            seen_expected = seen_expected or entry.hash == expect_hash
    if not seen_expected:
        return VerifyResult(
            False,
            prev_seq,
            prev_seq + 1,
            f"the recorded hash {expect_hash} is not in the log: entries after {prev_seq} were removed",
            prev_hash,
        )
    return VerifyResult(True, prev_seq, None, f"audit log intact: {prev_seq} entries, last hash {prev_hash}", prev_hash)


# --- query and export --------------------------------------------------------------------------
def _time_bound(name: str, value: str | datetime | None) -> str | None:
    """A filter time as stored text (UTC, 'Z'); a time without offset is UTC."""
    return None if value is None else iso(parse_time(value, f"audit filter {name}:", error=AuditError))


def _where(
    user: str | None = None,
    action: str | None = None,
    case_ref: str | None = None,
    start: str | datetime | None = None,
    end: str | datetime | None = None,
) -> tuple[str, list]:
    """SQL conditions for the filters (start inclusive, end exclusive), checked first."""
    if action is not None:
        _check_action(action)
    conds, args = [], []
    for column, value in (("user", user), ("action", action), ("case_ref", case_ref)):
        if value is not None:
            conds.append(f'"{column}" = ?')
            args.append(value)
    for op, name, value in ((">=", "start", start), ("<", "end", end)):
        bound = _time_bound(name, value)
        if bound is not None:
            conds.append(f"at {op} ?")
            args.append(bound)
    return (" WHERE " + " AND ".join(conds)) if conds else "", args


def query(
    store: SQLiteStore,
    user: str | None = None,
    action: str | None = None,
    case_ref: str | None = None,
    start: str | datetime | None = None,
    end: str | datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEntry]:
    """One page of matching entries, oldest first."""
    if limit < 1 or offset < 0:
        raise AuditError(f"audit filter: limit must be at least 1 and offset at least 0 (got {limit}, {offset})")
    where, args = _where(user, action, case_ref, start, end)
    with store.read() as conn:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM audit_log{where} ORDER BY seq LIMIT ? OFFSET ?", [*args, limit, offset]
        )
        return [AuditEntry.from_row(r) for r in rows]


def iter_entries(store: SQLiteStore, **filters) -> Iterator[AuditEntry]:
    """Every matching entry, oldest first, streamed (for exports of any size).

    The filters are checked now, not at the first row, so an export never
    starts a file it would then abandon."""
    where, args = _where(**filters)

    def rows() -> Iterator[AuditEntry]:
        with store.read() as conn:
            yield from _stream(conn, f"SELECT {_COLUMNS} FROM audit_log{where} ORDER BY seq", args)

    return rows()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FREE_TEXT = ("user", "role", "case_ref", "purpose", "details")


def csv_cell(field: str, value: Any) -> Any:
    """Free text that a spreadsheet would run as a formula gets a leading quote
    (CSV injection): the auditor opens exports in a spreadsheet. The JSON
    lines export keeps every value exactly, for re-hashing."""
    if field in _FREE_TEXT and isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _open_out(path_or_file: str | Path | IO[str]):
    if isinstance(path_or_file, (str, Path)):
        return open(path_or_file, "w", encoding="utf-8", newline=""), True
    return path_or_file, False


def export_csv(store: SQLiteStore, path_or_file: str | Path | IO[str], **filters) -> int:
    """Write matching entries as CSV (header row, then one row per entry); returns how many."""
    entries = iter_entries(store, **filters)
    out, owned = _open_out(path_or_file)
    try:
        writer = csv.writer(out)
        writer.writerow(FIELDS)
        n = 0
        for n, entry in enumerate(entries, 1):
            writer.writerow([csv_cell(f, getattr(entry, f)) for f in FIELDS])
        return n
    finally:
        if owned:
            out.close()


def export_jsonl(store: SQLiteStore, path_or_file: str | Path | IO[str], **filters) -> int:
    """Write matching entries as JSON lines, one object per entry, exact values; returns how many."""
    entries = iter_entries(store, **filters)
    out, owned = _open_out(path_or_file)
    try:
        n = 0
        for n, entry in enumerate(entries, 1):
            out.write(json.dumps({f: getattr(entry, f) for f in FIELDS}, ensure_ascii=False) + "\n")
        return n
    finally:
        if owned:
            out.close()

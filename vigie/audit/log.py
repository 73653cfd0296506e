"""Append, verify, query and export the keyed, hash-chained audit log.

Each entry's hash is the HMAC-SHA-256, under the audit key, of a canonical
serialisation of its own fields and of the previous entry's hash (64 zeros for
the first), so changing, removing or inserting any entry breaks every link
after it, and nobody without the key (vigie.keys: a file readable by the
service only, or $VIGIE_AUDIT_KEY; never in the database) can recompute the
chain after a rewrite. Appends run on the store's single writer thread, inside
an IMMEDIATE transaction, so the previous hash and the next seq are read and
written under the write lock: concurrent appends, from threads or from other
processes, can never fork the chain.

A chain proves the log intact up to its last entry only: cutting entries off
the end leaves a shorter, valid chain. Anchors (anchors.py) record the head
outside the database, daily and at every purge, and `verify` checks every
anchored entry is still there with the same hash, so truncation is caught.

Entries written before the key existed (plain SHA-256, "legacy") are checked
as such, up to the anchor file's start record; `verify` counts and names them.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import json
import logging
import re
import sqlite3
import threading
import time
import weakref
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Iterator

from vigie.audit.anchors import GENESIS, AnchorError, anchor_path, read_anchors, write_anchor
from vigie.errors import VigieError
from vigie.i18n import _
from vigie.keys import load_key
from vigie.store.base import writing_store
from vigie.store.sqlite import SQLiteStore
from vigie.times import iso, now_iso, parse_time

KEY_ENV = "VIGIE_AUDIT_KEY"
_log = logging.getLogger(__name__)
# The address of the client whose request is being served (set by the web routes that can write
# anonymous entries): anonymous entries, anyone's to cause, are capped per client (_AnonymousCap).
audit_client: ContextVar[str | None] = ContextVar("audit_client", default=None)
ANONYMOUS_CAP = 30  # anonymous entries logged per client per window ...
ANONYMOUS_WINDOW_S = 600.0  # ... of ten minutes
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
        "view_playback",  # a play of a camera's recording (issue 21)
        "view_live",  # a camera watched on the live wall (issue 21)
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
        "approval",
        "view_recordings",  # the segments and gaps of a camera's recording (vigie recordings list)
        "recording_export",  # an MP4 of a camera's recording over a period (vigie.recording.export)
        "case_open",
        "case_close",
        "case_mark",
        "view_case",
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
    legacy_entries: int = 0  # entries chained before the key existed (plain SHA-256), all at the start
    anchors: int = 0  # anchors checked against the chain
    anchored_seq: int = 0  # the newest entry an anchor records: the chain may not end before it


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
    key: bytes | None = None,
) -> str:
    """HMAC-SHA-256 under `key` (hex) of the entry's fields as a canonical JSON array:
    unambiguous field boundaries, so no two different entries serialise alike.
    Without a key, the plain SHA-256 of legacy entries (written before the key existed)."""
    text = canonical_json([seq, at, user, role, action, case_ref, purpose, details, prev_hash]).encode("utf-8")
    if key is None:
        return hashlib.sha256(text).hexdigest()
    return hmac.digest(key, text, "sha256").hex()


def _recomputed(e: AuditEntry, key: bytes | None) -> str:
    return entry_hash(e.seq, e.at, e.user, e.role, e.action, e.case_ref, e.purpose, e.details, e.prev_hash, key)


def chain_key(store, create: bool = True) -> bytes | None:
    """The audit HMAC key of this store: $VIGIE_AUDIT_KEY, else keys/audit.key (made 0600 at first use)."""
    return load_key(store.data_dir, "audit", KEY_ENV, create=create)


# --- untrusted text on terminals ---------------------------------------------------------------
# C0 and C1 controls, DEL, and the invisible format characters that reorder or hide text
# (bidirectional marks, overrides and isolates, zero-width characters, line and paragraph separators, BOM).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def printable(text: str) -> str:
    """`text` with every control or invisible format character written as an escape (\\x1b,
    \\u202e), so that no stored text can move the cursor, recolour the terminal or hide and
    reorder the lines around it."""
    return _UNPRINTABLE.sub(_escape, text)


def _escape(m: re.Match) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# --- append ----------------------------------------------------------------------------------
def _check_entry(user: str, role: str, action: str, details: dict | None) -> str | None:
    """Refuse an entry the auditor could not read back; return its details as canonical JSON."""
    for name, value in (("user", user), ("role", role)):
        if not isinstance(value, str) or not value.strip():
            raise AuditError(
                _("audit entry field {name}: must be a non-empty text, got {value}", name=name, value=repr(value))
            )
    _check_action(action)
    if details is None:
        return None
    if not isinstance(details, dict):
        raise AuditError(_("audit entry field details: must be a dict, got {name}", name=type(details).__name__))
    try:
        return canonical_json(details)
    except (TypeError, ValueError) as exc:
        raise AuditError(_("audit entry field details: not JSON data ({exc})", exc=exc)) from None


def _check_action(action: str) -> None:
    if action not in ACTIONS:
        raise AuditError(
            _(
                "audit action {action} is not known; known actions: {value}",
                action=repr(action),
                value=", ".join(sorted(ACTIONS)),
            )
        )


def append_in(
    conn: sqlite3.Connection,
    user: str,
    role: str,
    action: str,
    *,
    case_ref: str | None = None,
    purpose: str | None = None,
    details: dict | None = None,
) -> AuditEntry | None:
    """Append on a write connection that is already in use by a store.write job,
    so that an action and its audit entry commit together (or neither does).

    Text is stored exactly as given (a failed login's name included): what is
    printed escapes it (`printable`). An anonymous entry made for a client (audit_client)
    over its cap is not stored: None is returned."""
    store = writing_store()
    if store is None:
        raise AuditError(_("audit entries are appended inside a store.write job (on the store's writer thread)"))
    if role == "anonymous" and (client := audit_client.get()) is not None:
        keep, details = _cap_of(store).admit(client, details)
        if not keep:
            return None  # over this client's cap: counted, reported with its next logged entry
    details_text = _check_entry(user, role, action, details)
    key = chain_key(store)
    if not conn.in_transaction:
        conn.execute("BEGIN IMMEDIATE")  # take the write lock before reading the chain's head
    last = conn.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    last = AuditEntry.from_row(last) if last else None
    _start_anchors(store, last, key)
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    at = now_iso()
    digest = entry_hash(seq, at, user, role, action, case_ref, purpose, details_text, prev, key)
    entry = AuditEntry(seq, at, user, role, action, case_ref, purpose, details_text, prev, digest)
    conn.execute(
        f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", tuple(getattr(entry, f) for f in FIELDS)
    )
    return entry


class _AnonymousCap:
    """At most ANONYMOUS_CAP anonymous entries per client per window: a client sending
    failed logins with made-up names cannot flood the log (or the auditor). The entry that
    reaches the cap says so; the first one of the client's next window counts what was left out."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.windows: dict[str, list] = {}  # client -> [window start, logged, left out]

    def admit(self, client: str, details: dict | None) -> tuple[bool, dict | None]:
        """Whether to log the entry, and its details with the cap's notes."""
        now = time.monotonic()
        with self.lock:
            if len(self.windows) > 10_000:  # forget ended windows, so memory stays bounded
                self.windows = {c: w for c, w in self.windows.items() if now - w[0] < ANONYMOUS_WINDOW_S}
            w = self.windows.get(client)
            notes: dict = {}
            if w is None or now - w[0] >= ANONYMOUS_WINDOW_S:
                if w is not None and w[2]:
                    notes["left_out_before"] = w[2]
                w = self.windows[client] = [now, 0, 0]
            if w[1] >= ANONYMOUS_CAP:
                w[2] += 1
                return False, details
            w[1] += 1
            if w[1] == ANONYMOUS_CAP:
                notes["cap_reached"] = (
                    f"{ANONYMOUS_CAP} anonymous entries from this client in {int(ANONYMOUS_WINDOW_S // 60)} minutes: "
                    "more are counted, not logged, until the window ends"
                )
        return True, ({**(details or {}), **notes} if notes else details)


_caps: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # store -> its _AnonymousCap
_caps_lock = threading.Lock()


def _cap_of(store) -> _AnonymousCap:
    with _caps_lock:
        cap = _caps.get(store)
        if cap is None:
            cap = _caps[store] = _AnonymousCap()
        return cap


_started: set[str] = set()  # anchor files known to exist (one stat per file and process, not per append)


def _start_anchors(store, last: AuditEntry | None, key: bytes) -> None:
    """Before the first keyed entry, write the anchor file's start record: the entries up to the
    head are legacy (unkeyed). Under the write lock, so the head it records is the committed one.
    A keyed chain whose anchor file is gone is left for `verify` to report, never re-started here."""
    path = anchor_path(store.data_dir)
    if str(path) in _started:
        return
    if not path.exists():
        if last is not None and _recomputed(last, key) == last.hash:
            return  # keyed already: the file was removed; verify says so
        seq, hash_ = (last.seq, last.hash) if last else (0, GENESIS)
        try:
            write_anchor(path, seq, hash_, "start", legacy_end=seq)
        except OSError as exc:  # the entry is still appended; verify reports the missing anchor file
            _log.error("the audit anchor file %s cannot be written: %s", path, exc.strerror)
            return
    _started.add(str(path))


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
    """Why this entry's seq does not follow the previous one, or None."""
    if entry.seq != prev_seq + 1:
        if entry.seq <= prev_seq:  # cannot happen with an INTEGER PRIMARY KEY; kept for hand-edited files
            return f"entry {entry.seq} is out of order (after entry {prev_seq})"
        if prev_seq == 0:
            return f"entry 1 is missing (sequence starts at {entry.seq})"
        missing = f"{prev_seq + 1}" if entry.seq == prev_seq + 2 else f"{prev_seq + 1}-{entry.seq - 1}"
        return f"entry {missing} is missing (sequence jumps from {prev_seq} to {entry.seq})"
    return None


class _Walk:
    """The state of one walk along the chain: keyed entries, legacy ones, anchors to meet."""

    def __init__(self, key: bytes | None, legacy_end: int | None, anchors: list) -> None:
        self.key, self.legacy_end = key, legacy_end
        self.by_seq: dict[int, list] = {}
        for a in anchors:
            self.by_seq.setdefault(a.seq, []).append(a)
        self.legacy = 0
        self.first_keyed: int | None = None

    def fault(self, entry: AuditEntry, prev_seq: int, prev_hash: str) -> str | None:
        """Why this entry breaks the chain, or None (and it is counted as keyed or legacy)."""
        fault = _link_fault(entry, prev_seq, prev_hash)
        if fault:
            return fault
        keyed = self.key is not None and hmac.compare_digest(_recomputed(entry, self.key), entry.hash)
        if not keyed:
            if _recomputed(entry, None) != entry.hash:
                return f"entry {entry.seq}: hash does not match its contents"
            keyed_from = self.first_keyed or (self.legacy_end + 1 if self.legacy_end is not None else None)
            if keyed_from is not None and entry.seq >= keyed_from:
                return (
                    f"entry {entry.seq}: hash is not keyed, but the chain is keyed from entry {keyed_from}: "
                    "it was rewritten by someone without the audit key"
                )
            self.legacy += 1
        elif self.first_keyed is None:
            self.first_keyed = entry.seq
        if entry.prev_hash != prev_hash:
            previous = "the genesis hash" if prev_seq == 0 else f"entry {prev_seq}'s hash"
            return f"entry {entry.seq}: prev_hash is not {previous}"
        for a in self.by_seq.get(entry.seq, ()):
            if a.hash != entry.hash:
                return f"entry {entry.seq} is not the one anchored on {a.at} ({a.reason}): it was rewritten"
        return None


def verify(store: SQLiteStore, expect_hash: str | None = None) -> VerifyResult:
    """Walk the whole chain in seq order and name the first entry that breaks it.

    Every entry after the legacy ones must carry its HMAC under the audit key, and
    every anchor in the anchor file must still be in the chain with its hash: this
    catches entries cut off the end. `expect_hash`, a last hash recorded elsewhere,
    must still be in the chain too."""
    try:
        anchors = read_anchors(anchor_path(store.data_dir))
    except AnchorError as exc:
        return VerifyResult(False, 0, None, str(exc))
    key = chain_key(store, create=False)
    if anchors is not None and (not anchors or anchors[0].reason != "start"):
        return VerifyResult(
            False, 0, None, "the anchor file does not begin with its start record: it was cut or replaced"
        )
    if anchors and key is None:
        return VerifyResult(
            False,
            0,
            None,
            f"the audit key cannot be found (keys/audit.key or ${KEY_ENV}): keyed entries cannot be checked",
        )
    legacy_end = anchors[0].legacy_end if anchors else None
    walk = _Walk(key, legacy_end, anchors or [])
    anchored = max(anchors, key=lambda a: a.seq) if anchors else None
    counts = {"anchors": len(anchors or []), "anchored_seq": anchored.seq if anchored else 0}
    prev_seq, prev_hash, seen_expected = 0, GENESIS, expect_hash is None or expect_hash == GENESIS
    with store.read() as conn:
        for entry in _stream(conn, f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq"):
            fault = walk.fault(entry, prev_seq, prev_hash)
            if fault:
                bad = prev_seq + 1 if entry.seq > prev_seq + 1 else entry.seq
                return VerifyResult(False, prev_seq, bad, fault, prev_hash, walk.legacy, **counts)
            prev_seq, prev_hash = entry.seq, entry.hash
            seen_expected = seen_expected or entry.hash == expect_hash
    broken = None
    if anchors is None and walk.first_keyed is not None:
        broken = (
            f"the anchor file is missing, though the chain is keyed from entry {walk.first_keyed}: "
            "truncation cannot be ruled out; restore the file from its copy (syslog, webhook, backup)"
        )
    elif anchored is not None and anchored.seq > prev_seq:
        broken = (
            f"entries after {prev_seq} were removed: the anchor of {anchored.at} ({anchored.reason}) "
            f"records entry {anchored.seq}"
        )
    elif not seen_expected:
        broken = f"the recorded hash {expect_hash} is not in the log: entries after {prev_seq} were removed"
    if broken:
        return VerifyResult(False, prev_seq, prev_seq + 1, broken, prev_hash, walk.legacy, **counts)
    reason = f"audit log intact: {prev_seq} entries, last hash {prev_hash}"
    if anchors:
        n = len(anchors)
        reason += f"; {n} anchor{'s' if n > 1 else ''} checked, the newest at entry {counts['anchored_seq']}"
    else:
        reason += "; no anchor yet: truncation is caught once the service has anchored the chain"
    if walk.legacy:
        reason += f"; entries 1-{walk.legacy} are legacy (chained before the audit key existed, plain SHA-256)"
    return VerifyResult(True, prev_seq, None, reason, prev_hash, walk.legacy, **counts)


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
        raise AuditError(
            _(
                "audit filter: limit must be at least 1 and offset at least 0 (got {limit}, {offset})",
                limit=limit,
                offset=offset,
            )
        )
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

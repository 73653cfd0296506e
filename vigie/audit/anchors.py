"""Anchors: the audit chain's head, written outside the database so that truncation shows.

An anchor is one JSON line `{"at", "seq", "hash", "reason"}` appended to the
anchor file ($VIGIE_AUDIT_ANCHORS, else `audit-anchors.jsonl` in the data
folder; opened O_APPEND, 0600), and, when configured, sent to syslog
($VIGIE_AUDIT_SYSLOG=1: facility AUTHPRIV, tag vigie-audit) and to a webhook
($VIGIE_AUDIT_ANCHOR_URL: a JSON POST). Put the file on another machine's mount,
or make it append-only (`chattr +a`), so that whoever can write the database
cannot also rewrite it; syslog and the webhook carry copies off the machine.

The file's first line (reason "start", with `legacy_end`) is written at the
first keyed append: entries up to `legacy_end` were chained before the key
existed (plain SHA-256, "legacy"); every later one must carry an HMAC.
Anchors are written at that start, by `vigie serve` at start and then daily,
after every purge, and by `vigie audit anchor` (for cron): see anchoring.py.
`verify` then checks that every anchored entry is still in the chain with the
same hash.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from vigie.errors import VigieError
from vigie.i18n import _
from vigie.times import now_iso

ANCHORS_ENV = "VIGIE_AUDIT_ANCHORS"
SYSLOG_ENV = "VIGIE_AUDIT_SYSLOG"
WEBHOOK_ENV = "VIGIE_AUDIT_ANCHOR_URL"
GENESIS = "0" * 64

log = logging.getLogger(__name__)


class AnchorError(VigieError):
    """An anchor file that cannot be read or holds a line that is not an anchor."""


@dataclass(frozen=True)
class Anchor:
    line: int  # 1-based line in the file
    at: str
    seq: int
    hash: str
    reason: str
    legacy_end: int | None = None  # only on the start record


def anchor_path(data_dir: str | Path) -> Path:
    """The anchor file: $VIGIE_AUDIT_ANCHORS, else <data folder>/audit-anchors.jsonl."""
    return Path(os.environ.get(ANCHORS_ENV) or Path(data_dir) / "audit-anchors.jsonl")


def read_anchors(path: Path) -> list[Anchor] | None:
    """Every anchor in the file, in order; None when there is no file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AnchorError(_("the audit anchor file cannot be read ({strerror})", strerror=exc.strerror)) from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            out.append(Anchor(n, str(d["at"]), int(d["seq"]), str(d["hash"]), str(d["reason"]), d.get("legacy_end")))
        except (ValueError, KeyError, TypeError):
            raise AnchorError(_("line {n} of the audit anchor file is not an anchor", n=n)) from None
    return out


def _append_line(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(record, sort_keys=True) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def _copies(record: dict) -> None:
    """Syslog and webhook copies; a failure is logged, never raised (the file is the record)."""
    line = json.dumps(record, sort_keys=True)
    if os.environ.get(SYSLOG_ENV, "").strip() in ("1", "yes", "true"):
        try:
            import syslog  # Unix only

            syslog.openlog("vigie-audit", 0, syslog.LOG_AUTHPRIV)
            syslog.syslog(syslog.LOG_NOTICE, f"audit anchor {line}")
        except Exception as exc:  # noqa: BLE001 - a copy must never stop the service
            log.warning("audit anchor not sent to syslog: %s", exc)
    url = os.environ.get(WEBHOOK_ENV, "").strip()
    if url:
        try:
            import httpx

            httpx.post(url, json=record, timeout=10.0).raise_for_status()
        except Exception as exc:  # noqa: BLE001
            log.warning("audit anchor not sent to the webhook: %s", type(exc).__name__)


def write_anchor(path: Path, seq: int, hash_: str, reason: str, legacy_end: int | None = None) -> dict:
    """Append one anchor (and send its copies); returns it."""
    record = {"at": now_iso(), "seq": seq, "hash": hash_, "reason": reason}
    if legacy_end is not None:
        record["legacy_end"] = legacy_end
    _append_line(path, record)
    _copies(record)
    return record

"""Anchoring the audit chain's head: on demand, after every purge, and daily while serving.

Kept apart from the file format (anchors.py) and the chain (log.py) because it
needs both: the start record of a chain that has none says which entries are
legacy, and a keyed chain whose anchor file vanished is never silently given
a new one (that would hide whatever was cut off while the file was gone).
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from vigie.audit.anchors import GENESIS, AnchorError, anchor_path, write_anchor
from vigie.audit.log import _COLUMNS, AuditEntry, _recomputed, chain_key
from vigie.i18n import _

DAILY = timedelta(days=1)
log = logging.getLogger(__name__)


def anchor(store, reason: str) -> dict:
    """Anchor the chain's current head (reason: daily, purge, serve, manual); returns the record."""
    key = chain_key(store)
    with store.read() as conn:
        row = conn.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    last = AuditEntry.from_row(row) if row else None
    seq, hash_ = (last.seq, last.hash) if last else (0, GENESIS)
    path = anchor_path(store.data_dir)
    if not path.exists():
        if last is not None and _recomputed(last, key) == last.hash:
            raise AnchorError(
                _(
                    "the audit anchor file is missing though the chain is keyed: restore it from its copy (syslog, webhook, backup); a new one would hide what was cut off meanwhile"
                )
            )
        write_anchor(path, seq, hash_, "start", legacy_end=seq)  # everything so far is legacy
    return write_anchor(path, seq, hash_, reason)


class AnchorScheduler(threading.Thread):
    """Anchors the head now, then every `period` (a day), until stop(); an error is logged and retried."""

    def __init__(self, store, period: timedelta = DAILY) -> None:
        super().__init__(name="vigie-audit-anchor", daemon=True)
        self.store, self.period = store, period
        self.runs = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        reason = "serve"
        while not self._stop_event.is_set():
            try:
                anchor(self.store, reason)
            except Exception as exc:  # noqa: BLE001 - keep the schedule; verify reports what is wrong
                log.error("audit anchor failed: %s", exc)
            self.runs += 1
            reason = "daily"
            self._stop_event.wait(self.period.total_seconds())

    def stop(self, timeout: float = 10.0) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)

"""Retention while serving: purge once at start, then every day.

`run_purge` is the one place a purge is run for real (CLI, server, tests): it
reads the site file with the admin's stored settings applied, purges, and
appends one 'purge' audit entry with what was removed and kept. The
purge also anchors the audit chain's head outside the database (audit.anchoring).
The `PurgeScheduler` thread calls it on a fixed period and stops promptly when
asked; an error in one run is logged and the next run still happens, so one
bad day never stops retention for good.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from vigie.audit.anchoring import anchor
from vigie.audit.log import append
from vigie.errors import VigieError
from vigie.retention.purge import PurgeReport, purge
from vigie.settings import EffectiveSite

log = logging.getLogger(__name__)
DAILY = timedelta(days=1)


def run_purge(store, site, actor: tuple[str, str] = ("system", "system"), dry_run: bool = False) -> PurgeReport:
    """Purge with the effective retention; audited unless it is a dry run."""
    report = purge(store, EffectiveSite(site, store), dry_run=dry_run)
    if not dry_run:
        details = {**report.as_dict()["totals"], "cutoffs": {c.camera_id: c.cutoff for c in report.cameras}}
        append(store, *actor, "purge", details=details)
        try:  # what was purged, and the log up to it, can no longer be cut off unseen
            anchor(store, "purge")
        except VigieError as exc:  # a missing anchor file: `vigie audit verify` reports it; the purge stands
            log.error("audit anchor after the purge failed: %s", exc)
    return report


class PurgeScheduler(threading.Thread):
    """Purges now, then every `period`, until stop()."""

    def __init__(self, store, site, period: timedelta = DAILY) -> None:
        super().__init__(name="vigie-purge", daemon=True)
        self.store, self.site, self.period = store, site, period
        self.runs = 0
        self.last_report: PurgeReport | None = None
        self.last_error: str | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.last_report = run_purge(self.store, self.site)
                self.last_error = None
                r = self.last_report
                log.info(
                    "retention purge: removed %d tracks, kept %d under legal hold", r.tracks_removed, r.tracks_held
                )
            except Exception as exc:  # keep the schedule: the next run may succeed
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.error("retention purge failed: %s", self.last_error)
            self.runs += 1
            self._stop_event.wait(self.period.total_seconds())

    def stop(self, timeout: float = 30.0) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)

"""Retention while serving (vigie.retention.scheduler) and the admin's retention settings."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from builders import T0, jpeg_bytes, make_summary

from vigie.audit.log import query as audit_query
from vigie.audit.log import verify
from vigie.config import CameraConfig, SiteConfig
from vigie.retention import scheduler as sched
from vigie.retention.holds import place_hold
from vigie.retention.scheduler import PurgeScheduler, run_purge
from vigie.settings import SettingError, change
from vigie.store.sqlite import SQLiteStore

SITE = SiteConfig(name="t", retention_days=30, cameras=[CameraConfig(id="cam-a", name="A", lat=43.8, lon=4.3)])


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path)
    s.upsert_cameras(SITE.cameras)
    now = datetime.now(timezone.utc)
    ages_days = [40, 10, 2]  # one expired under 30 days, one under 5 days, one fresh
    tracks = [
        make_summary("cam-a", i + 1, start_s=(now - timedelta(days=d) - T0).total_seconds(), jpeg=jpeg_bytes())
        for i, d in enumerate(ages_days)
    ]
    aid = s.begin_analysis("cam-a", "/videos/x.mp4", "f" * 64)
    s.add_tracks(aid, tracks).result()
    s.finish_analysis(aid, "complete", 10, 10)
    yield s
    s.close()


def test_run_purge_is_audited_and_obeys_the_admins_retention(store):
    assert run_purge(store, SITE, dry_run=True).tracks_removed == 1
    assert not audit_query(store, action="purge")  # a dry run changes nothing, records nothing
    change(store, SITE, "retention_days:cam-a", 5, "admin", "admin")
    report = run_purge(store, SITE)
    assert report.tracks_removed == 2 and store.counts()["tracks"] == 1
    entry = audit_query(store, action="purge")[0]
    assert (entry.user, entry.role) == ("system", "system")
    assert entry.details_dict()["tracks_removed"] == 2 and "cam-a" in entry.details_dict()["cutoffs"]
    assert verify(store).ok


def test_settings_refuse_what_the_law_or_the_site_does_not_allow(store):
    with pytest.raises(SettingError, match="from 1 to 30"):
        change(store, SITE, "retention_days:cam-a", 45, "admin", "admin")
    with pytest.raises(SettingError, match="from 1 to 30"):
        change(store, SITE, "retention_days:cam-a", True, "admin", "admin")
    with pytest.raises(SettingError, match="unknown setting"):
        change(store, SITE, "retention", 5, "admin", "admin")
    assert change(store, SITE, "retention_days:cam-a", None, "admin", "admin")["new"] is None  # back to the site file


def test_scheduler_purges_at_start_and_again_each_period_and_survives_a_failure(store, monkeypatch):
    place_hold(store, "PV-9", "court order", "inv", track_ids=[1])
    real = sched.purge
    calls = {"n": 0}

    def flaky(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(*a, **kw)

    monkeypatch.setattr(sched, "purge", flaky)
    s = PurgeScheduler(store, SITE, period=timedelta(seconds=0.05))
    s.start()
    deadline = time.monotonic() + 10
    while s.runs < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    s.stop()
    assert not s.is_alive() and s.runs >= 3
    assert store.counts()["tracks"] == 3  # the only expired track is held
    assert s.last_report is not None and s.last_report.tracks_held == 1
    assert len(audit_query(store, action="purge", limit=100)) == s.runs - 1  # the failed run wrote nothing


def test_scheduler_stops_promptly_during_its_wait(store):
    s = PurgeScheduler(store, SITE, period=timedelta(days=1))
    s.start()
    deadline = time.monotonic() + 10
    while s.runs < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    started = time.monotonic()
    s.stop()
    assert not s.is_alive() and time.monotonic() - started < 5 and s.runs == 1

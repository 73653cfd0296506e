"""Every rule of the demo site on Vigie's own tracks of real footage: the two
halves of PETS09-S2L1 as analysed by `make demo` (the analysed_demo fixture),
evaluated as `vigie rules check` evaluates them.

The demo dates the footage 2026-11-20 13:00 UTC (14:00 in Nîmes), so the
night-time lawn rule must stay quiet; people cross the walkway both ways;
three people walk abreast in each half, and people converge by the signpost in
the first; nobody lies down or stays 30 s on the lawn."""

from __future__ import annotations

from collections import Counter

import pytest
from builders import DEMO_SITE, copy_data_dir

from vigie.config import load_site
from vigie.rules.runner import camera_events, stored_rule_tracks
from vigie.store.sqlite import SQLiteStore

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(analysed_demo, tmp_path_factory):
    """This module's own copy: opening a store writes beside it (SQLite's WAL files), and other test
    processes copy the shared folder meanwhile."""
    return copy_data_dir(analysed_demo, tmp_path_factory.mktemp("rules-demo"))


@pytest.fixture(scope="module")
def events(demo):
    site = load_site(DEMO_SITE)
    with SQLiteStore(demo) as store:
        return {
            cam: (camera_events(store, site, cam), stored_rule_tracks(store, cam))
            for cam in ("nimes-esplanade-01", "nimes-arenes-01")
        }


@pytest.mark.parametrize("camera", ["nimes-esplanade-01", "nimes-arenes-01"])
def test_demo_rules_on_real_tracks(events, camera):
    found, tracks = events[camera]
    by_rule = Counter(e.rule for e in found)
    # crossings both ways, each by a stored person track, at most a few per person
    directions = Counter(e.details["direction"] for e in found if e.rule == "walkway-count")
    assert directions["in"] >= 3 and directions["out"] >= 3
    people = {t.track_id for t in tracks if t.class_name == "person"}
    assert {e.track_ids[0] for e in found if e.rule == "walkway-count"} <= people
    assert by_rule["walkway-count"] <= 4 * len(people)
    # one group of three walking abreast per half, found once; in the first half people also
    # converge by the signpost (13:00:09-13:00:15: four to five within 2 m at frame 91, checked by
    # eye), which the issue-17 detector tracks whole where NanoDet lost the two standing there
    groups = [e for e in found if e.rule == "esplanade-gathering"]
    assert len(groups) == {"nimes-esplanade-01": 2, "nimes-arenes-01": 1}[camera], groups
    abreast = [e for e in groups if e.details["peak_size"] == 3 and 5 <= e.details["duration_s"] <= 10]
    assert len(abreast) == 1, groups
    # quiet rules stay quiet: daytime, nobody stays on the lawn, falls or leaves a bag
    assert by_rule["lawn-at-night"] == by_rule["lawn-loitering"] == 0
    assert by_rule["person-down"] == by_rule["left-luggage"] == 0
    assert set(by_rule) <= {"walkway-count", "esplanade-gathering"}


def test_the_left_luggage_camera_looks_for_carried_objects(demo):
    """The station forecourt's abandoned-object rule makes its analysis detect and track
    bags, with a COCO detector (YOLOX-nano: the default person-vehicle-bike model knows no
    bags); the Arènes camera, without that rule, keeps the site's detector and does not look
    for them."""
    from vigie.pipeline import CameraPipeline
    from vigie.types import CLASS_ID

    site = load_site(DEMO_SITE)
    bags = {CLASS_ID[c] for c in ("backpack", "handbag", "suitcase")}
    gare = CameraPipeline(site.camera("nimes-gare-01"), site, 7.0)
    assert bags <= gare.wanted and gare.detector.config.type == "yolox-nano"
    assert (gare.detector.coco_to_vigie >= 0).sum() == 9
    arenes = CameraPipeline(site.camera("nimes-arenes-01"), site, 7.0)
    assert not bags & arenes.wanted and arenes.detector.config.type == site.detector.type == "omz-pvb-2002"
    with SQLiteStore(demo) as store, store.read() as conn:
        classes = {c for (c,) in conn.execute("SELECT DISTINCT class FROM tracks")}
    assert "person" in classes

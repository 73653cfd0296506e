"""Re-identification on real people (PETS09-S2L1 ground-truth boxes), as `vigie eval reid` measures it.

The default descriptor is the fusion of two trained re-ID networks; the site
adaptation (camera normalisation) is learned from the tracks Vigie itself finds
in the video, never from ground-truth identities. Floors sit just below the
figures reached (docs/BENCHMARKS.md §21 and §35): sequence halves, ids of one
person merged (tests/data/pets09_s2l1_same_person.csv). Slow: a full analysis and
4,650 boxes described three ways (colour stripes, the wave-1 parts network, and the
fusion of two re-ID networks): three networks in all.
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import DEMO_CAMERA, DEMO_SITE, REPO_ROOT

from vigie.config import load_site
from vigie.eval.mot import read_mot
from vigie.eval.reid import (
    adaptation_from_video,
    describe_ground_truth,
    evaluate_variant,
    read_same_person,
)

# The module's fixture analyses the whole video and describes 4,650 boxes by three networks (see above):
# about 2 min alone, 4 beside another test process (make test runs two).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def reid(pets09, tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setenv("VIGIE_DATA", str(tmp_path_factory.mktemp("models")))
    projection, report = adaptation_from_video(pets09 / "vtest.avi", load_site(DEMO_SITE), DEMO_CAMERA)
    gt = read_mot(pets09 / "gt.txt")
    feats = describe_ground_truth(pets09 / "vtest.avi", gt, global_network=False)
    feats["adapted"] = projection.apply(feats["fusion"], DEMO_CAMERA)
    merge = read_same_person(REPO_ROOT / "tests" / "data" / "pets09_s2l1_same_person.csv")
    ids = np.array([merge.get(int(i), int(i)) for i in gt[:, 1]])
    return feats, gt[:, 0].astype(int), ids, report


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_adaptation_learns_from_vigies_own_tracks(reid):
    *_, report = reid
    assert report.tracks >= 15 and report.negative_pairs >= 50 and report.seconds < 60


def test_adapted_descriptor_reaches_the_goals_on_sequence_halves(reid):
    feats, frames, ids, _ = reid
    got = evaluate_variant(feats["adapted"], frames, ids, "sequence")
    # Six people (ids 1, 2, 3, 4, 5, 8 after merging), every first-half crop.
    assert got["crop"]["queries"] == 2136 and got["tracklet"]["queries"] == 6
    # Reached: 0.969 / 0.954 (docs/BENCHMARKS.md §35); the goals are 0.85 / 0.75.
    assert got["crop"]["rank1"] >= 0.95 and got["crop"]["map"] >= 0.93
    assert got["tracklet"]["rank1"] == 1.0


def test_adaptation_beats_the_plain_descriptors_it_starts_from(reid):
    feats, frames, ids, _ = reid
    for split in ("sequence", "identity"):
        adapted = evaluate_variant(feats["adapted"], frames, ids, split)["crop"]
        for plain in ("colour", "parts", "both"):  # the wave-1 descriptor and its parts
            other = evaluate_variant(feats[plain], frames, ids, split)["crop"]
            assert adapted["map"] > other["map"] + 0.1, (split, plain)
            assert adapted["rank1"] > other["rank1"], (split, plain)

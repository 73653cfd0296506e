"""The Market-1501 layout and protocol: names, exclusions and scores on tiny sets whose answer is known."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from builders import CUHK03

from vigie.cli import main
from vigie.describe.reid import CameraNormalisation, load_adaptation
from vigie.errors import VigieError
from vigie.eval.market import parse_name, rank_scores, read_dataset


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("0001_c1s1_000151_01.jpg", (1, 1)),
        ("1501_c6s4_001902_02.jpg", (1501, 6)),
        ("0000_c2s1_000000_00.jpg", (0, 2)),  # unlabeled
        ("-1_c3s2_000456_01.jpg", (-1, 3)),  # Market's junk
        ("0042_c12s1_000001_00.PNG", (42, 12)),
        ("0100_c2.jpeg", (100, 2)),
    ],
)
def test_market_names_are_read(name, expected):
    assert parse_name(name) == expected


@pytest.mark.parametrize("name", ["c1_0001.jpg", "0001_s1_000151.jpg", "0001_c1s1.txt", "abcd_c1s1_0.jpg", ""])
def test_other_names_are_refused_naming_the_file(name):
    with pytest.raises(VigieError, match="not a Market-1501 crop name"):
        parse_name(name)


def test_same_person_same_camera_and_junk_are_left_out_of_the_ranking():
    # One query: person 1 on camera 1. Gallery: person 1 again on camera 1 (left out, though the
    # best match), junk (left out), person 2 on camera 2, person 1 on camera 2 (the right match).
    gallery_persons = np.array([1, -1, 2, 1])
    gallery_cameras = np.array([1, 2, 2, 2])
    sim = np.array([[0.99, 0.98, 0.9, 0.8]])
    s = rank_scores(sim, np.array([1]), np.array([1]), gallery_persons, gallery_cameras)
    assert s["rank1"] == 0.0 and s["rank5"] == 1.0
    assert s["map"] == pytest.approx(0.5)  # the right match is second of the two kept
    s = rank_scores(np.array([[0.99, 0.98, 0.7, 0.8]]), np.array([1]), np.array([1]), gallery_persons, gallery_cameras)
    assert s["rank1"] == 1.0 and s["map"] == 1.0


def test_a_query_without_a_right_match_is_not_counted_and_none_is_an_error():
    persons, cameras = np.array([1, 3]), np.array([2, 2])
    s = rank_scores(np.array([[0.9, 0.1], [0.9, 0.1]]), np.array([1, 2]), np.array([1, 1]), persons, cameras)
    assert s["queries"] == 1 and s["rank1"] == 1.0
    with pytest.raises(VigieError, match="no query has a right match"):
        rank_scores(np.array([[0.9, 0.1]]), np.array([2]), np.array([1]), persons, cameras)


def test_map_averages_precision_at_every_right_match():
    # Right matches at ranks 1 and 3: AP = (1/1 + 2/3) / 2.
    s = rank_scores(np.array([[0.9, 0.8, 0.7]]), np.array([1]), np.array([1]), np.array([1, 2, 1]), np.array([2, 2, 2]))
    assert s["map"] == pytest.approx((1 + 2 / 3) / 2)


def test_a_set_without_its_folders_or_crops_is_refused(tmp_path):
    with pytest.raises(VigieError, match="not a folder"):
        read_dataset(tmp_path / "nope")
    (tmp_path / "query").mkdir()
    with pytest.raises(VigieError, match="bounding_box_test"):
        read_dataset(tmp_path)
    (tmp_path / "bounding_box_test").mkdir()
    with pytest.raises(VigieError, match="holds no crops"):
        read_dataset(tmp_path)
    (tmp_path / "query" / "holiday.jpg").write_bytes(b"x")
    with pytest.raises(VigieError, match="holiday.jpg"):
        read_dataset(tmp_path)


def test_camera_normalisation_takes_each_cameras_bias_away_and_keeps_through_storage():
    rng = np.random.default_rng(0)
    people = rng.normal(size=(20, 64))
    bias = {"a": rng.normal(size=64) * 5, "b": rng.normal(size=64) * 5}  # each camera pushes all its crops one way

    def seen(cam):
        x = people + bias[cam] + rng.normal(size=people.shape) * 0.05
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    a, b = seen("a"), seen("b")
    raw_rank1 = np.mean(np.argmax(a @ b.T, axis=1) == np.arange(20))
    norm = CameraNormalisation.fit("cn", "base", [64], np.vstack([a, b]), ["a"] * 20 + ["b"] * 20)
    na, nb = norm.apply(a, "a"), norm.apply(b, "b")
    assert np.mean(np.argmax(na @ nb.T, axis=1) == np.arange(20)) == 1.0 > raw_rank1
    again = load_adaptation("cn", norm.to_bytes())
    np.testing.assert_allclose(again.apply(b, "b"), nb, atol=1e-6)
    np.testing.assert_allclose(
        again.apply_each(np.vstack([a, b]), ["a"] * 20 + ["b"] * 20), np.vstack([na, nb]), atol=1e-6
    )
    # A camera it never saw gets the mean of all cameras.
    np.testing.assert_allclose(again.apply(b, "new-camera"), norm.apply(b, None), atol=1e-6)


def _small_set(root):
    """Five real people of CUHK03, camera 1 as query and camera 2 as gallery, and the same crops unlabeled."""
    for folder in ("query", "bounding_box_test", "bounding_box_train"):
        (root / folder).mkdir(parents=True)
    n = 0
    for folder in ("query", "bounding_box_test"):
        for path in sorted((CUHK03 / folder).iterdir()):
            if int(path.name[:4]) <= 5:
                shutil.copy(path, root / folder / path.name)
                shutil.copy(path, root / "bounding_box_train" / f"0000{path.name[4:8]}_{n:06d}_00.jpg")
                n += 1


def test_vigie_eval_reid_dataset_prints_every_variant_with_exactly_one_default(tmp_path, capsys):
    _small_set(tmp_path / "small")
    assert main(["eval", "reid", "--dataset", str(tmp_path / "small"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["queries"] == len(list((tmp_path / "small" / "query").iterdir()))
    assert report["adaptation_learned_from"].startswith("bounding_box_train")
    names = [v["name"] for v in report["variants"]]
    assert {"omz-0277", "omz-0286", "osnet-x0.5", "stripes+mnv2parts-v1", "omz-0277+omz-0286"} <= set(names)
    assert sum(v["default"] for v in report["variants"]) == 1
    for v in report["variants"]:
        assert set(v) >= {"name", "default", "rank1", "rank5", "map", "ms_per_crop", "licence"}
        assert 0 <= v["map"] <= 1 and v["ms_per_crop"] > 0
        assert set(v["directions"]) == {"query_to_gallery", "gallery_to_query"}  # two cameras: both ways
    default = next(v for v in report["variants"] if v["default"])
    assert default["rank5"] == 1.0  # five people: the right one is always among the first five


def test_vigie_eval_reid_needs_a_dataset_or_a_video(capsys):
    assert main(["eval", "reid"]) == 2
    assert "--dataset" in capsys.readouterr().err

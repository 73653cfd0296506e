from pathlib import Path

import numpy as np
import pytest

from vigie.eval.mot import read_mot, score, write_mot


@pytest.fixture(scope="module")
def tud():
    import motmetrics

    folder = Path(motmetrics.__file__).parent / "data" / "TUD-Campus"
    return read_mot(folder / "gt.txt"), read_mot(folder / "test.txt")


def test_tud_campus_reference_figures(tud):
    gt, hyp = tud
    s = score(gt, hyp)
    assert round(s.mota, 3) == 0.526
    assert round(s.idf1, 3) == 0.558
    assert s.num_frames == 71
    assert s.gt_boxes == 359
    assert s.gt_ids == 8


def test_perfect_hypothesis_scores_one(tud):
    gt, _ = tud
    s = score(gt, gt.copy())
    assert s.mota == pytest.approx(1.0)
    assert s.idf1 == pytest.approx(1.0)
    assert s.id_switches == 0
    assert s.precision == pytest.approx(1.0) and s.recall == pytest.approx(1.0)
    assert s.false_positives == 0 and s.misses == 0
    assert s.motp_iou == pytest.approx(1.0)


def test_renumbered_ids_change_nothing(tud):
    gt, _ = tud
    hyp = gt.copy()
    hyp[:, 1] += 100
    s = score(gt, hyp)
    assert s.mota == pytest.approx(1.0) and s.idf1 == pytest.approx(1.0)


def test_empty_hypothesis_misses_everything(tud):
    gt, _ = tud
    s = score(gt, np.zeros((0, 7)))
    assert s.mota == pytest.approx(0.0)
    assert s.recall == pytest.approx(0.0)
    assert s.misses == s.gt_boxes == 359


def test_boxes_shifted_past_half_iou_do_not_match():
    gt = np.array([[1, 1, 0, 0, 10, 10, 1], [2, 1, 0, 0, 10, 10, 1]], float)
    near = gt.copy()
    near[:, 2] += 2  # IoU 8/12 = 0.67: a match
    far = gt.copy()
    far[:, 2] += 5  # IoU 5/15 = 0.33: a miss and a false positive
    assert score(gt, near).mota == pytest.approx(1.0)
    s = score(gt, far)
    assert s.misses == 2 and s.false_positives == 2


def test_write_then_read_mot_round_trips(tmp_path):
    rows = [(1, 3, 10.0, 20.0, 30.5, 60.25, 0.9), (2, 3, 12.0, 21.0, 30.0, 60.0, 0.8)]
    path = tmp_path / "t.txt"
    write_mot(path, rows)
    back = read_mot(path)
    np.testing.assert_allclose(back[:, :7], np.array(rows), atol=1e-3)
    assert back.shape[1] == 10
    assert read_mot(path, min_conf=0.85).shape[0] == 1

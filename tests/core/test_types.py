from datetime import timedelta

import numpy as np
import pytest
from builders import box, make_dets, make_summary

from vigie.types import CLASS_ID, TRACKED_CLASSES, Detections


def three() -> Detections:
    return make_dets((box(10, 10), 0.9, "person"), (box(50, 10), 0.4, "car"), (box(90, 10), 0.2, "truck"))


# --- validation --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, column",
    [
        (dict(xyxy=np.zeros((3, 4)), confidence=np.zeros(2), class_id=np.zeros(3)), "confidence"),
        (dict(xyxy=np.zeros((3, 4)), confidence=np.zeros(3), class_id=np.zeros(4)), "class_id"),
        (dict(xyxy=np.zeros((3, 4)), confidence=np.zeros(3), class_id=np.zeros(3), track_id=np.zeros(1)), "track_id"),
        (dict(xyxy=np.zeros((2, 4)), confidence=np.zeros(2), class_id=np.zeros(2), data={"feat": np.zeros(3)}), "feat"),
        (dict(xyxy=np.zeros((0, 4)), confidence=np.zeros(1), class_id=np.zeros(0)), "confidence"),
    ],
    ids=["confidence", "class_id", "track_id", "data column", "empty boxes, one score"],
)
def test_mismatched_column_lengths_raise_naming_the_column(kwargs, column):
    with pytest.raises(ValueError, match=column):
        Detections(**kwargs)


def test_columns_are_normalised_to_documented_dtypes_and_track_ids_default_to_minus_one():
    d = Detections([[0, 0, 1, 1], [2, 2, 3, 3]], [0.5, 0.7], [0, 2])
    assert d.xyxy.shape == (2, 4) and d.xyxy.dtype == np.float32
    assert d.confidence.dtype == np.float32
    assert d.class_id.dtype == np.int16
    assert d.track_id.dtype == np.int64
    assert d.track_id.tolist() == [-1, -1]
    assert d.class_names == ["person", "car"]


def test_empty_has_no_rows():
    d = Detections.empty()
    assert len(d) == 0
    assert d.xyxy.shape == (0, 4)


# --- filtering -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "index, kept",
    [
        (np.array([True, False, True]), [0, 2]),
        (np.array([2, 0]), [2, 0]),
        (slice(1, 3), [1, 2]),
        (1, [1]),
        (np.int64(2), [2]),
        (np.array([False, False, False]), []),
    ],
    ids=["mask", "index array", "slice", "int", "numpy int", "nothing"],
)
def test_filtering_returns_a_new_object_and_leaves_the_original_unchanged(index, kept):
    d = three().with_track_ids(np.array([7, 8, 9])).with_data(area=np.array([1.0, 2.0, 3.0]))
    before = (d.xyxy.copy(), d.confidence.copy(), d.class_id.copy(), d.track_id.copy(), d.data["area"].copy())

    sub = d[index]

    assert sub is not d
    assert len(sub) == len(kept)
    assert sub.track_id.tolist() == [7 + k for k in kept]
    assert sub.data["area"].tolist() == [1.0 + k for k in kept]
    np.testing.assert_array_equal(sub.confidence, before[1][kept])
    assert len(d) == 3
    for now, then in zip((d.xyxy, d.confidence, d.class_id, d.track_id, d.data["area"]), before):
        np.testing.assert_array_equal(now, then)


def test_with_data_adds_a_column_without_touching_the_original():
    d = three()
    d2 = d.with_data(area=np.array([1, 2, 3]))
    assert "area" in d2.data and "area" not in d.data
    with pytest.raises(ValueError, match="area"):
        d.with_data(area=np.array([1, 2]))


# --- with_track_ids ------------------------------------------------------------------------------
def test_with_track_ids_returns_new_detections_with_ids_and_keeps_other_columns():
    d = three()
    tracked = d.with_track_ids(np.array([4, 5, 6]))
    assert tracked.track_id.tolist() == [4, 5, 6]
    assert d.track_id.tolist() == [-1, -1, -1]
    np.testing.assert_array_equal(tracked.xyxy, d.xyxy)
    np.testing.assert_array_equal(tracked.confidence, d.confidence)
    np.testing.assert_array_equal(tracked.class_id, d.class_id)


def test_with_track_ids_of_wrong_length_raises():
    with pytest.raises(ValueError, match="track_id"):
        three().with_track_ids(np.array([1, 2]))


# --- concat -------------------------------------------------------------------------------------
def test_concat_stacks_rows_in_order():
    a = make_dets((box(10, 10), 0.9, "person"), track_ids=[1])
    b = make_dets((box(50, 10), 0.4, "car"), (box(90, 10), 0.3, "bus"), track_ids=[2, 3])
    c = Detections.concat([a, b])
    assert len(c) == 3
    assert c.track_id.tolist() == [1, 2, 3]
    assert c.class_names == ["person", "car", "bus"]
    np.testing.assert_allclose(c.confidence, [0.9, 0.4, 0.3], rtol=1e-6)
    np.testing.assert_array_equal(c.xyxy[1:], b.xyxy)


def test_concat_skips_empty_parts_and_of_nothing_is_empty():
    a = make_dets((box(10, 10), 0.9, "person"))
    assert len(Detections.concat([Detections.empty(), a, Detections.empty()])) == 1
    assert len(Detections.concat([])) == 0
    assert len(Detections.concat([Detections.empty()])) == 0


def test_concat_keeps_only_data_columns_every_part_has():
    a = make_dets((box(10, 10), 0.9, "person"), area=np.array([1.0]), feat=np.array([5]))
    b = make_dets((box(50, 10), 0.4, "car"), area=np.array([2.0]))
    c = Detections.concat([a, b])
    assert set(c.data) == {"area"}
    assert c.data["area"].tolist() == [1.0, 2.0]


# --- constants and summaries --------------------------------------------------------------------
def test_class_ids_index_the_tracked_classes():
    assert [TRACKED_CLASSES[CLASS_ID[n]] for n in TRACKED_CLASSES] == list(TRACKED_CLASSES)


def test_dwell_is_last_seen_minus_first_seen():
    s = make_summary(n_points=15, fps=7.0)
    assert s.dwell_s == pytest.approx(2.0)
    assert s.last_seen - s.first_seen == timedelta(seconds=2)

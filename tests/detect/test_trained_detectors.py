"""The trained detectors of ../shared/models/detect (issue 17), each checked on real photos.

Darknet's sample photos (Debian package `darknet`) with objects boxed by hand
(tests/builders.py): a detector's decoding is right when its confident box lands on
the hand-drawn one. The person of person.jpg and the three kite flyers of kite.jpg are
found by every backend; the bicycle and the pickup of dog.jpg by those trained on COCO
(the surveillance-trained person-vehicle-bike SSDs do not take this close-up's pickup
for a vehicle; their ATSS sibling 2004 does).
"""

from __future__ import annotations

import numpy as np
import pytest
from builders import DOG_BICYCLE, DOG_TRUCK, KITE_PEOPLE, PERSON_PERSON, PHOTO_HIGH_SCORE, SHARED_MODELS, found, photo

from vigie.config import SiteConfig
from vigie.detect.registry import build_detector
from vigie.errors import ModelError
from vigie.track.matching import iou_matrix

TYPES = {
    "yolox-nano": {"type": "yolox-nano"},
    "bytetrack-nano": {"type": "bytetrack-nano"},
    "picodet-s-416": {"type": "picodet-s", "input_size": 416},
    "picodet-s-320": {"type": "picodet-s", "input_size": 320},
    "omz-person-0013": {"type": "omz-person-0013"},
    "omz-pedestrian-adas-0002": {"type": "omz-pedestrian-adas-0002"},
    "omz-pvb-2000": {"type": "omz-pvb-2000"},
    "omz-pvb-2002": {"type": "omz-pvb-2002"},
    "omz-pvb-2004": {"type": "omz-pvb-2004"},
}
FINDS_VEHICLES_IN_DOG_PHOTO = {"yolox-nano", "picodet-s-416", "picodet-s-320"}


def detector_config(spec: dict):
    return SiteConfig.model_validate(
        {"name": "t", "detector": spec, "cameras": [{"id": "c", "name": "c", "lat": 0, "lon": 0}]}
    ).detector


@pytest.fixture(scope="module", params=list(TYPES))
def detector(request):
    if not (SHARED_MODELS / "detect").is_dir():
        pytest.skip(f"trained detectors not found under {SHARED_MODELS / 'detect'}")
    return request.param, build_detector(detector_config(TYPES[request.param]), None)


@pytest.mark.timeout(120)
def test_the_person_photo_person(detector):
    _, det = detector
    assert found(det.detect(photo("person")), {"person"}, PERSON_PERSON) >= 0.8  # tight boxes


@pytest.mark.timeout(120)
def test_the_kite_flyers(detector):
    _, det = detector
    dets = det.detect(photo("kite"))
    for box in KITE_PEOPLE:
        assert found(dets, {"person"}, box) >= 0.7, box


@pytest.mark.timeout(120)
def test_the_dog_photo_vehicles_where_the_model_knows_them(detector):
    name, det = detector
    dets = det.detect(photo("dog"))
    if name in FINDS_VEHICLES_IN_DOG_PHOTO:
        assert found(dets, {"bicycle"}, DOG_BICYCLE) >= 0.5
        assert found(dets, {"car", "truck"}, DOG_TRUCK) >= 0.8
    elif name == "omz-pvb-2004":
        assert found(dets, {"car"}, DOG_TRUCK) >= 0.8
    # Nobody stands in this photo.
    assert not ((np.array(dets.class_names) == "person") & (dets.confidence >= 0.5)).any()


@pytest.mark.timeout(120)
def test_boxes_are_in_image_pixels_above_the_floor(detector):
    _, det = detector
    image = photo("kite")
    h, w = image.shape[:2]
    dets = det.detect(image)
    assert len(dets) and dets.xyxy.dtype == np.float32
    assert (dets.xyxy >= 0).all() and (dets.xyxy[:, [0, 2]] <= w - 1).all() and (dets.xyxy[:, [1, 3]] <= h - 1).all()
    assert (dets.confidence >= det.config.confidence).all()
    assert (dets.confidence >= PHOTO_HIGH_SCORE).sum() >= 3


@pytest.mark.timeout(120)
def test_only_the_asked_classes_come_out():
    det = build_detector(detector_config(TYPES["yolox-nano"]), ["bicycle"])
    assert set(det.detect(photo("dog")).class_names) == {"bicycle"}
    people_only = build_detector(detector_config(TYPES["omz-pvb-2002"]), ["person"])
    assert set(people_only.detect(photo("kite")).class_names) == {"person"}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("precision", ["f32", "auto"])
def test_openvino_runs_the_onnx_files_too(precision):
    ort = build_detector(detector_config(TYPES["yolox-nano"]), None).detect(photo("dog"))
    spec = {**TYPES["yolox-nano"], "runtime": "openvino", "precision": precision}
    ov = build_detector(detector_config(spec), None).detect(photo("dog"))
    strong_ort, strong_ov = ort.confidence >= 0.5, ov.confidence >= 0.5
    assert sorted(np.array(ort.class_names)[strong_ort]) == sorted(np.array(ov.class_names)[strong_ov])
    # float32 gives onnxruntime's boxes to within float noise; bfloat16 (where the CPU has it) moves an
    # edge by a few pixels, so each box must still be the same object.
    iou = iou_matrix(ort.xyxy[strong_ort], ov.xyxy[strong_ov])
    assert (iou.max(axis=1) >= (0.99 if precision == "f32" else 0.9)).all(), iou


@pytest.mark.timeout(180)
def test_without_the_default_file_nanodet_detects_and_a_warning_names_the_file(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    monkeypatch.setenv("VIGIE_MODELS", str(tmp_path / "nowhere"))
    det = build_detector(detector_config(TYPES["omz-pvb-2002"]), None)
    assert det.config.type == "nanodet"  # the registry package's detector
    warning = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert "person-vehicle-bike-detection-2002.xml" in warning and str(tmp_path / "models") in warning
    assert "NanoDet" in warning and "BENCHMARKS" in warning
    assert found(det.detect(photo("person")), {"person"}, PERSON_PERSON) >= 0.6  # and it still finds people


@pytest.mark.timeout(60)
def test_a_model_file_the_site_names_must_exist(tmp_path):
    spec = {**TYPES["omz-pvb-2002"], "model": str(tmp_path / "city" / "pvb.xml")}
    with pytest.raises(ModelError, match=str(tmp_path / "city" / "pvb.xml")):
        build_detector(detector_config(spec), None)


@pytest.mark.timeout(60)
def test_another_graph_under_a_detectors_name_is_refused(tmp_path):
    # PicoDet's file given as YOLOX: the outputs do not fit, and the error says so.
    wrong = {**TYPES["yolox-nano"], "model": str(SHARED_MODELS / "detect" / "picodet_s_320_coco.onnx")}
    with pytest.raises(ModelError, match="not a yolox-nano graph"):
        build_detector(detector_config(wrong), None)

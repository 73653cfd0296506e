from datetime import datetime, timezone
from pathlib import Path

import pytest
from builders import DEMO_CAMERA, DEMO_SITE, demo_raw, write_site

from vigie.config import SiteConfig, TrackerConfig, YoloV3TinyConfig, default_site, load_site
from vigie.errors import ConfigError
from vigie.types import PEOPLE_AND_VEHICLES


def test_demo_site_loads():
    site = load_site(DEMO_SITE)
    assert isinstance(site, SiteConfig)
    assert [c.id for c in site.cameras][0] == DEMO_CAMERA
    assert len(site.cameras) == 5
    cam = site.camera(DEMO_CAMERA)
    assert cam.frame_rate == 7
    assert cam.recording_start == datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc)
    assert cam.calibration is not None and len(cam.calibration.image_points) == 4
    assert site.detector_for(DEMO_CAMERA).type == "omz-pvb-2002"
    assert site.analysis_for("nimes-maison-carree-01") == site.analysis
    assert site.analysis_for("nimes-arenes-01") == site.analysis


def test_relative_source_is_resolved_against_the_site_file():
    cam = load_site(DEMO_SITE).camera(DEMO_CAMERA)
    expected = (DEMO_SITE.parent / "../../shared/data/pets09-s2l1/vtest.avi").resolve()
    assert Path(cam.source) == expected


def test_site_file_moved_elsewhere_resolves_sources_from_its_new_place(tmp_path):
    raw = demo_raw()
    raw["cameras"][0]["source"] = "videos/a.mp4"
    raw["cameras"][1]["source"] = "rtsp://10.0.0.5/stream1"
    site = load_site(write_site(tmp_path, raw))
    assert Path(site.cameras[0].source) == (tmp_path / "videos" / "a.mp4").resolve()
    assert site.cameras[1].source == "rtsp://10.0.0.5/stream1"


def test_recording_start_with_an_offset_is_converted_to_utc(tmp_path):
    raw = demo_raw()
    raw["cameras"][0]["recording_start"] = "2026-11-20T14:00:00+01:00"
    start = load_site(write_site(tmp_path, raw)).camera(DEMO_CAMERA).recording_start
    assert start == datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc)
    assert start.utcoffset().total_seconds() == 0


def test_per_camera_overrides(tmp_path):
    raw = demo_raw()
    raw["cameras"][3]["detector"] = {"type": "yolov3-tiny", "input_size": 320}
    raw["cameras"][3]["analysis"] = {"frame_step": 2}
    site = load_site(write_site(tmp_path, raw))
    assert site.detector_for("nimes-gare-01").input_size == 320
    assert site.analysis_for("nimes-gare-01").frame_step == 2
    assert site.analysis_for(DEMO_CAMERA).frame_step == 1


def test_an_abandoned_object_rule_makes_its_camera_track_the_objects(tmp_path):
    site = load_site(DEMO_SITE)
    # the demo's station forecourt watches for left luggage, with a detector that knows bags;
    # the other cameras track people and vehicles only, with the site's detector
    assert site.analysis_for("nimes-gare-01").classes == [*PEOPLE_AND_VEHICLES, "backpack", "handbag", "suitcase"]
    assert site.detector_for("nimes-gare-01").type == "yolox-nano"
    assert site.analysis_for("nimes-arenes-01").classes == list(PEOPLE_AND_VEHICLES)
    assert site.detector_for("nimes-arenes-01") == site.detector
    raw = demo_raw()
    raw["cameras"][3]["analysis"] = {"classes": ["person", "suitcase"]}
    raw["cameras"][3]["rules"] = [
        {"type": "abandoned_object", "name": "bags", "object_classes": ["suitcase", "backpack"]}
    ]
    site = load_site(write_site(tmp_path, raw))
    assert site.analysis_for("nimes-gare-01").classes == ["person", "suitcase", "backpack"]


def test_an_abandoned_object_rule_refuses_objects_the_detector_cannot_track(tmp_path):
    raw = demo_raw()
    raw["cameras"][3]["rules"] = [{"type": "abandoned_object", "name": "bags", "object_classes": ["car"]}]
    with pytest.raises(ConfigError, match="'car' is not an object"):
        load_site(write_site(tmp_path, raw))


def cam(i: int, **fields):
    def mutate(raw):
        raw["cameras"][i].update(fields)

    return mutate


def at(*keys, value):
    def mutate(raw):
        node = raw
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value

    return mutate


@pytest.mark.parametrize(
    "mutate, must_name",
    [
        (cam(1, zoom=3), ["nimes-arenes-01", "zoom", "Extra inputs"]),
        (
            cam(0, calibration={"image_points": [[0, 0]] * 4, "ground_points_m": [[0, 0]] * 4, "units": "m"}),
            ["nimes-esplanade-01", "calibration.units"],
        ),
        (cam(2, lat=123.0), ["nimes-maison-carree-01", "lat"]),
        (cam(2, lon=-200.0), ["nimes-maison-carree-01", "lon"]),
        (cam(2, lat="north"), ["nimes-maison-carree-01", "lat"]),
        (lambda raw: raw["cameras"].append(dict(raw["cameras"][1])), ["nimes-arenes-01", "twice"]),
        (cam(0, recording_start="2026-11-20T13:00:00"), ["nimes-esplanade-01", "recording_start", "time zone"]),
        (at("detector", value={"type": "yolov3-tiny", "input_size": 400}), ["input_size", "multiple of 32", "400"]),
        (at("detector", value={"type": "nanodet", "input_size": 320}), ["detector.nanodet.input_size", "416"]),
        (at("detector", value={"type": "picodet-s", "input_size": 512}), ["detector.picodet-s.input_size", "320"]),
        (at("detector", "precision", value="fp8"), ["detector.omz-pvb-2002.precision", "f32"]),
        (
            cam(3, detector={"type": "yolov3-tiny", "input_size": 300}),
            ["nimes-gare-01", "input_size", "multiple of 32"],
        ),
        (at("detector", "type", value="yolov8"), ["detector", "yolov8"]),
        (at("timezone", value="Mars/Olympus_Mons"), ["timezone", "Mars/Olympus_Mons", "IANA"]),
        (at("analysis", "tracker", "min_hit", value=3), ["analysis.tracker.min_hit"]),
        (at("analysis", "classes", value=["person", "dog"]), ["analysis.classes"]),
        (at("analysis", "frame_step", value=0), ["analysis.frame_step"]),
        (cam(0, frame_rate=0), ["nimes-esplanade-01", "frame_rate"]),
        (cam(1, id="bad id/with slash"), ["bad id/with slash", "id"]),
        (lambda raw: raw["cameras"][1].pop("id"), ["camera #2", "id", "required"]),
        (
            lambda raw: raw["cameras"][0]["calibration"]["image_points"].pop(),
            ["nimes-esplanade-01", "calibration.image_points"],
        ),
        (at("cameras", value=[]), ["cameras"]),
        (at("colour", value="blue"), ["colour"]),
        (at("analysis", "tracker", "low_score", value=0.8), ["analysis.tracker", "low_score <= high_score"]),
    ],
    ids=[
        "unknown camera field",
        "unknown nested field",
        "latitude",
        "longitude",
        "latitude not a number",
        "duplicate camera ids",
        "naive recording_start",
        "input_size",
        "nanodet input_size",
        "picodet input_size",
        "openvino precision",
        "camera input_size",
        "unknown detector",
        "unknown time zone",
        "unknown tracker field",
        "unknown class",
        "frame_step 0",
        "frame_rate 0",
        "bad camera id",
        "missing camera id",
        "three calibration points",
        "no cameras",
        "unknown top-level field",
        "tracker scores out of order",
    ],
)
def test_bad_site_file_raises_config_error_naming_the_problem(tmp_path, mutate, must_name):
    raw = demo_raw()
    mutate(raw)
    path = write_site(tmp_path, raw)
    with pytest.raises(ConfigError) as info:
        load_site(path)
    message = str(info.value)
    assert str(path) in message
    for part in must_name:
        assert part in message, f"{part!r} not in {message!r}"


@pytest.mark.parametrize(
    "text, must_name",
    [
        ("name: [unclosed\ncameras: []\n", "not valid YAML"),
        ("name: x\ncameras:\n  - id: a\n\tname: tab\n", "not valid YAML"),
        ("- just\n- a list\n", "mapping"),
        ("", "mapping"),
        ("just a sentence\n", "mapping"),
    ],
    ids=["unclosed bracket", "tab indent", "a list", "empty", "a scalar"],
)
def test_unreadable_site_file_raises_config_error(tmp_path, text, must_name):
    path = write_site(tmp_path, text)
    with pytest.raises(ConfigError, match=must_name) as info:
        load_site(path)
    assert str(path) in str(info.value)


def test_missing_site_file_raises_config_error_naming_the_path(tmp_path):
    path = tmp_path / "nowhere" / "site.yaml"
    with pytest.raises(ConfigError, match="does not exist") as info:
        load_site(path)
    assert str(path) in str(info.value)


def test_site_file_that_is_a_folder_raises_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read"):
        load_site(tmp_path)


def test_unknown_camera_raises_config_error_listing_known_ids():
    site = load_site(DEMO_SITE)
    with pytest.raises(ConfigError) as info:
        site.camera("nope")
    message = str(info.value)
    assert "'nope'" in message
    for c in site.cameras:
        assert c.id in message


def test_default_site_has_one_camera():
    site = default_site()
    assert [c.id for c in site.cameras] == ["camera-1"]
    assert site.camera("camera-1").calibration is None


@pytest.mark.parametrize("size", [128, 320, 416, 608, 1024])
def test_input_size_multiples_of_32_are_accepted(size):
    assert YoloV3TinyConfig(input_size=size).input_size == size


def test_tracker_defaults_are_consistent():
    cfg = TrackerConfig()
    assert 0 <= cfg.low_score <= cfg.high_score <= cfg.new_track_score <= 1
    assert cfg.min_hits >= 1

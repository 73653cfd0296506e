"""The site file's recording fields: validated once, with a message naming the field and the camera."""

from __future__ import annotations

import pytest
from builders import write_site

from vigie.config import load_site
from vigie.errors import ConfigError

CAMERA = {"id": "cam-a", "name": "Esplanade", "lat": 43.8, "lon": 4.3}


def site(tmp_path, **fields):
    return load_site(write_site(tmp_path, {"name": "t", "cameras": [CAMERA | fields]}))


def test_a_recorded_camera_has_its_settings(tmp_path):
    cam = site(tmp_path, stream="rtsp://127.0.0.1/x", record=True, record_quota_gb=50, record_masked_width=960).cameras[
        0
    ]
    assert (cam.record, cam.record_quota_gb, cam.record_segment_s, cam.record_masked_width) == (True, 50, 6.0, 960)
    assert site(tmp_path).cameras[0].record is False  # off unless asked


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"record": True}, "record: true needs a live `stream`"),
        ({"stream": "rtsp://x/", "record": True, "record_quota_gb": 0}, "record_quota_gb"),
        ({"stream": "rtsp://x/", "record": True, "record_segment_s": 60}, "record_segment_s"),
        ({"stream": "rtsp://x/", "record": "sometimes"}, "record"),
    ],
)
def test_bad_recording_settings_are_refused_by_name(tmp_path, fields, words):
    with pytest.raises(ConfigError, match="cam-a|cameras") as err:
        site(tmp_path, **fields)
    assert words in str(err.value)

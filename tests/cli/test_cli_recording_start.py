"""`vigie analyze --recording-start`: the recording's real start overrides the site file's."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from builders import DEMO_SITE

from vigie import pipeline
from vigie.cli import EXIT_USAGE, main


def test_recording_start_overrides_the_site_file(monkeypatch, tmp_path):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    seen = {}

    class Stop(Exception):
        pass

    def fake(video, camera_id, site, store, progress=True):
        seen["start"] = site.camera(camera_id).recording_start
        seen["other"] = site.camera("nimes-arenes-01").recording_start
        raise Stop

    monkeypatch.setattr(pipeline, "analyse_file", fake)
    with pytest.raises(Stop):
        main(
            [
                "analyze",
                "x.mp4",
                "--camera",
                "nimes-esplanade-01",
                "--site",
                str(DEMO_SITE),
                "--recording-start",
                "2026-11-26T14:30:00+01:00",
            ]
        )
    assert seen["start"] == datetime(2026, 11, 26, 13, 30, tzinfo=timezone.utc)
    assert seen["other"] == datetime(2026, 11, 20, 13, 4, tzinfo=timezone.utc)  # other cameras untouched


@pytest.mark.parametrize(
    "bad,words", [("yesterday", "not an ISO 8601 time"), ("2026-11-26T14:30:00", "needs a time zone")]
)
def test_a_bad_recording_start_is_named(monkeypatch, tmp_path, capsys, bad, words):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    code = main(
        ["analyze", "x.mp4", "--camera", "nimes-esplanade-01", "--site", str(DEMO_SITE), "--recording-start", bad]
    )
    err = capsys.readouterr().err
    assert code == EXIT_USAGE and "--recording-start" in err and words in err

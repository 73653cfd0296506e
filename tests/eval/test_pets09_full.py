"""Accuracy on the whole PETS09 S2.L1 sequence (795 frames, about two minutes)."""

from __future__ import annotations

import json

import pytest
from builders import DEMO_CAMERA, DEMO_SITE

from vigie.cli import main

# Floors just below what the demo site's settings reach on PETS09 S2.L1 (issue 17's defaults,
# chosen on PETS09 and TUD-Stadtmitte together: omz-pvb-2002 + ByteTrack with omz-0288 appearance,
# MOTA 0.862, IDF1 0.907, 22 ID switches, docs/BENCHMARKS.md §22). Issue 17 asks for MOTA >= 0.84
# and IDF1 >= 0.85 here; issue 3 for at most 25 switches (the wave-2 NanoDet default made 14, with
# IDF1 0.865: the new default switches more often but keeps each identity longer).
MOTA_FLOOR = 0.845
IDF1_FLOOR = 0.88
ID_SWITCHES_CEILING = 25


@pytest.mark.slow
def test_eval_mot_on_the_whole_sequence_meets_the_floors(pets09, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path))
    out = tmp_path / "pets09-tracks.txt"
    status = main(
        [
            "eval",
            "mot",
            "--video",
            str(pets09 / "vtest.avi"),
            "--gt",
            str(pets09 / "gt.txt"),
            "--site",
            str(DEMO_SITE),
            "--camera",
            DEMO_CAMERA,
            "--out",
            str(out),
            "--json",
            "--no-progress",
        ]
    )
    captured = capsys.readouterr()
    assert status == 0, captured.err
    scores = json.loads(captured.out)

    for key in ("mota", "idf1", "precision", "recall"):
        assert isinstance(scores[key], float) and 0.0 <= scores[key] <= 1.0, (key, scores[key])
    assert isinstance(scores["id_switches"], int) and scores["id_switches"] >= 0
    assert scores["num_frames"] == 795
    assert scores["gt_boxes"] == 4650
    assert scores["gt_ids"] == 19
    assert scores["tracks_file"] == str(out) and out.stat().st_size > 0

    assert scores["mota"] >= MOTA_FLOOR, scores
    assert scores["idf1"] >= IDF1_FLOOR, scores
    assert scores["id_switches"] <= ID_SWITCHES_CEILING, scores

"""`vigie eval mot` takes the true frame rate from MOTChallenge's seqinfo.ini."""

from __future__ import annotations

import pytest

from vigie.config import default_site
from vigie.eval.mot import read_seqinfo, with_frame_rate

PETS = "[Sequence]\nname=PETS09-S2L1\nimDir=img1\nframeRate=7\nseqLength=795\n"


@pytest.mark.parametrize(
    ("layout", "text", "expected"),
    [
        ("beside", PETS, 7.0),  # seqinfo.ini next to gt.txt (../shared/data/pets09-s2l1)
        ("parent", "[Sequence]\nframeRate=25\n", 25.0),  # MOTChallenge's SEQ/gt/gt.txt
        ("parent", "[Sequence]\nframeRate=14.985\n", 14.985),
        ("beside", "[Sequence]\nname=no-rate\n", None),  # no frameRate: the container's rate stays
        ("none", None, None),  # no seqinfo.ini at all
    ],
)
def test_frame_rate_is_read_beside_the_ground_truth_or_in_its_parent(tmp_path, layout, text, expected):
    gt_dir = tmp_path / "SEQ" / "gt"
    gt_dir.mkdir(parents=True)
    gt = gt_dir / "gt.txt"
    gt.write_text("1,1,10,10,20,40,1,1,1\n")
    if layout == "beside":
        (gt_dir / "seqinfo.ini").write_text(text)
    elif layout == "parent":
        (gt_dir.parent / "seqinfo.ini").write_text(text)
    assert read_seqinfo(gt) == expected


def test_the_file_beside_wins_over_the_parents(tmp_path):
    (tmp_path / "gt").mkdir()
    (tmp_path / "seqinfo.ini").write_text("[Sequence]\nframeRate=30\n")
    (tmp_path / "gt" / "seqinfo.ini").write_text("[Sequence]\nframeRate=10\n")
    assert read_seqinfo(tmp_path / "gt" / "gt.txt") == 10.0


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("frameRate=7\n", "seqinfo.ini"),  # no [Sequence] header
        ("[Sequence]\nframeRate=fast\n", "seqinfo.ini"),
        ("[Sequence]\nframeRate=0\n", "must be positive"),
    ],
)
def test_a_malformed_seqinfo_is_an_error_that_names_the_file(tmp_path, text, problem):
    (tmp_path / "seqinfo.ini").write_text(text)
    with pytest.raises(ValueError, match=problem) as err:
        read_seqinfo(tmp_path / "gt.txt")
    assert str(tmp_path / "seqinfo.ini") in str(err.value)


def test_the_rate_goes_to_the_evaluated_camera_only():
    site = default_site()
    assert site.cameras[0].frame_rate is None
    assert with_frame_rate(site, "camera-1", 7.0).cameras[0].frame_rate == 7.0
    assert with_frame_rate(site, "camera-1", None) is site

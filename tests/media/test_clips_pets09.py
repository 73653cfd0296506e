"""A real track's clip on PETS09 S2.L1, blurred by the real Blurrer.

Frames 265-329 of vtest.avi are analysed by the demo site's pipeline (its
detector remembered per frame, builders.CachingDetector), so the tracks'
clips start after the keyframe at frame 250: rendering seeks there and
numbers frames from the AVI's pts, whose time base says 10 fps where the
footage (and the site file) says 7. The clip's frames are checked against
FileSource's frames of the same numbers.
"""

from __future__ import annotations

import io
from itertools import takewhile

import av
import numpy as np
import pytest
from builders import DEMO_CAMERA, demo_raw, write_site

from vigie.config import load_site
from vigie.media.clips import clip_path, read_clip_info, render_clip
from vigie.pipeline import open_camera_file, run_frames
from vigie.sources.file import FileSource
from vigie.store.sqlite import SQLiteStore

FIRST, LAST = 265, 329  # frames analysed
MASK = [(300, 0), (560, 0), (560, 100), (300, 100)]  # the building's windows, in the top middle

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pets_site(tmp_path_factory):
    raw = demo_raw()
    raw["cameras"][0]["privacy_masks"] = [MASK]
    return load_site(write_site(tmp_path_factory.mktemp("site"), raw))


@pytest.fixture(scope="module")
def analysed(vtest, pets_site, yolo_cached, tmp_path_factory):
    """(store, a person track's id) after analysing frames FIRST..LAST of vtest.avi.

    The shortest person track of at least 15 frames: blurring costs ~0.3 s a
    frame on one core (bench/clip_render.py), and 15 frames show the box move."""
    store = SQLiteStore(tmp_path_factory.mktemp("var"))
    store.upsert_cameras(pets_site.cameras)
    source, pipeline = open_camera_file(vtest, DEMO_CAMERA, pets_site, detector=yolo_cached)
    frames = takewhile(lambda f: f.seq <= LAST, (f for f in source if f.seq >= FIRST))
    found = []
    run_frames(pipeline, frames, found.extend)
    aid = store.begin_analysis(DEMO_CAMERA, str(vtest), "pets09-s2l1-part")
    store.add_tracks(aid, found).result()
    store.finish_analysis(aid, "complete", LAST + 1, LAST + 1 - FIRST)
    people = [t for t in store.list_tracks(class_name="person", limit=1000)]
    assert len(people) >= 3, "PETS09 shows several people walking at every moment"
    long_enough = [t for t in people if t["n_points"] >= 15]
    assert long_enough, [t["n_points"] for t in people]
    yield store, min(long_enough, key=lambda t: (t["n_points"], t["id"]))["id"]
    store.close()


def test_a_real_tracks_blurred_clip(analysed, pets_site, vtest):
    from vigie.privacy.blur import Blurrer

    store, track_id = analysed
    points = store.track_points(track_id)
    first, last = points[0]["seq"], points[-1]["seq"]
    assert first > 257 and last - first >= 10

    clip = render_clip(store, track_id, site=pets_site, blurrer=Blurrer(), fmt="webm")
    assert (clip.first_seq, clip.last_seq, clip.fps) == (first - 7, min(last + 7, 794), 7.0)
    with av.open(io.BytesIO(clip.data)) as c:
        assert c.streams.video[0].codec_context.name == "vp8"
        frames = [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]
    assert len(frames) == clip.frames == clip.last_seq - clip.first_seq + 1
    assert clip.blurred and clip.path == clip_path(store, DEMO_CAMERA, track_id, "webm") and clip.path.is_file()
    assert read_clip_info(store.pictures.read_file(clip.path))[1] == clip.frames  # sealed at rest

    # The right frames: each checked one is closer to FileSource's frame of its number than to the neighbours.
    source = {
        f.seq: f.image
        for f in FileSource(vtest, DEMO_CAMERA, frame_rate=7)
        if clip.first_seq - 1 <= f.seq <= clip.last_seq + 1
    }
    below = slice(120, 576)  # under the caption and the mask
    for seq in (clip.first_seq, (first + last) // 2, clip.last_seq):
        got = frames[seq - clip.first_seq][below].astype(np.int16)
        diffs = {s: np.abs(got - source[s][below]).mean() for s in (seq - 1, seq, seq + 1) if s in source}
        assert min(diffs, key=diffs.get) == seq, (seq, diffs)

    # The subject's box, where the analysis put it, and the privacy mask, black.
    mid = points[len(points) // 2]
    image = frames[mid["seq"] - clip.first_seq]
    x1, y1, x2, y2 = (int(round(mid[k])) for k in ("x1", "y1", "x2", "y2"))
    ys = slice(y1 + (y2 - y1) // 4, y2 - (y2 - y1) // 4)
    for x in (x1, x2):
        edge = image[ys, max(0, x - 1) : x + 2].astype(int)
        assert (edge[..., 2] - edge[..., 0] > 60).mean() > 0.6, "the orange box edge"
    for f in frames:
        assert f[30:90, 310:550].max() < 30  # (the caption band is above y 30)

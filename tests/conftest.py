"""Fixtures shared by the tests: the real footage, the analysed demo, short clips, a cached detector.

Builders (tracks, detections, sites, pictures) are in tests/builders.py and imported from there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from builders import (
    CLIP_FPS,
    CLIP_FRAMES,
    DEMO_CAMERA,
    DEMO_SITE,
    PETS09,
    REPO_ROOT,
    SHARED_MODELS,
    CachingDetector,
    demo_raw,
    made_once_per_run,
    reencode_clip,
    write_site,
)

from vigie.i18n import set_default_language
from vigie.store.sqlite import SQLiteStore

# As `make test` sets it: the re-ID networks are read from ../shared/models (never fetched).
os.environ.setdefault("VIGIE_MODELS", str(SHARED_MODELS))

# The suite's messages are in English (its assertions are), unless a test asks for French: the language of code
# run outside a request (set here), of the CLI ($VIGIE_LANG), and of apps built without a site file (they take
# the process's). Sites that a test loads say `language: en` themselves, those it builds are builders.english_site;
# the French side is tested with `language: fr` sites or ?lang=fr (tests/web/test_i18n_ui.py, test_catalogues.py).
set_default_language("en")
os.environ["VIGIE_LANG"] = "en"


@pytest.fixture
def store(tmp_path):
    """An empty SQLite store; a module whose tests need cameras or tracks in it defines its own `store`."""
    with SQLiteStore(tmp_path) as s:
        yield s


@pytest.fixture(scope="session")
def pets09() -> Path:
    if not (PETS09 / "vtest.avi").is_file():
        pytest.skip(f"PETS09 footage not found under {PETS09.resolve()}")
    return PETS09


@pytest.fixture(scope="session")
def vtest(pets09) -> Path:
    return pets09 / "vtest.avi"


@pytest.fixture(scope="session")
def analysed_demo(vtest, tmp_path_factory) -> Path:
    """The demo's VIGIE_DATA folder, as `make demo` leaves it before `vigie adapt`.

    vtest.avi cut in two (examples/split_recording.py), each half analysed as a
    camera of examples/nimes-demo.yaml. Two full analyses, done once per
    run (made_once_per_run: once for all the xdist workers): never change this
    folder, take your own copy (copy_data_dir).
    """
    import subprocess
    import sys

    from vigie.cli import main

    def analyse(folder: Path) -> Path:
        first, second = folder / "esplanade.mp4", folder / "arenes.mp4"
        split = REPO_ROOT / "examples" / "split_recording.py"
        subprocess.run([sys.executable, str(split), str(vtest), str(first), str(second)], check=True)
        data = folder / "var"
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("VIGIE_DATA", str(data))
            for clip_path, camera in ((first, "nimes-esplanade-01"), (second, "nimes-arenes-01")):
                args = ["analyze", str(clip_path), "--camera", camera, "--site", str(DEMO_SITE), "--no-progress"]
                assert main(args) == 0
        return data

    return made_once_per_run(tmp_path_factory, "analysed-demo", analyse)


@pytest.fixture(scope="session")
def clip(vtest, tmp_path_factory) -> Path:
    """The first 60 frames of vtest.avi, re-encoded (MPEG-4 part 2, 7 fps, AVI)."""
    path = tmp_path_factory.mktemp("clip") / "pets09-first60.avi"
    reencode_clip(vtest, path, CLIP_FRAMES, CLIP_FPS)
    return path


@pytest.fixture(scope="session")
def truncated_clip(clip, tmp_path_factory) -> Path:
    """The clip cut after 40% of its bytes (a recorder that died mid-file)."""
    data = clip.read_bytes()
    path = tmp_path_factory.mktemp("trunc") / "pets09-first60-cut.avi"
    path.write_bytes(data[: len(data) * 4 // 10])
    return path


@pytest.fixture(scope="session")
def clip_site_file(clip, tmp_path_factory) -> Path:
    """The demo site file, its PETS09 camera bound to the short clip."""
    raw = demo_raw()
    raw["cameras"][0]["source"] = str(clip)
    return write_site(tmp_path_factory.mktemp("site"), raw)


@pytest.fixture(scope="session")
def yolo_cached():
    from vigie.config import load_site
    from vigie.detect.registry import build_detector

    site = load_site(DEMO_SITE)
    return CachingDetector(build_detector(site.detector_for(DEMO_CAMERA), list(site.analysis_for(DEMO_CAMERA).classes)))

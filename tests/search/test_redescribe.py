"""`vigie adapt` upgrades a store described by an older appearance backend from the kept synopsis tubes."""

from __future__ import annotations

import json
import shutil

import pytest
from builders import DEMO_CAMERA, demo_raw, write_site

from vigie.cli import main
from vigie.describe.reid import LEGACY_BASE, CameraNormalisation, active_projection
from vigie.store.sqlite import SQLiteStore

NEW_BASE = "omz-0277+omz-0286:v1"


@pytest.mark.timeout(300)
def test_adapt_describes_old_tracks_again_from_their_tubes_without_the_video(clip, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIGIE_DATA", str(tmp_path / "var"))
    raw = demo_raw()
    raw["analysis"]["appearance"] = {"backend": LEGACY_BASE}  # as wave 1 described people
    old_site = write_site(tmp_path, raw, "old.yaml")
    video = shutil.copy(clip, tmp_path / "recording.avi")
    assert main(["analyze", str(video), "--camera", DEMO_CAMERA, "--site", str(old_site), "--no-progress"]) == 0
    (tmp_path / "recording.avi").unlink()  # nothing may decode it again
    with SQLiteStore(tmp_path / "var") as store:
        assert store.newest_crop_base() == LEGACY_BASE
        people = len(store.person_crops(LEGACY_BASE))
        # One track lost its tube (synopsis purged, say): it cannot be upgraded, and must be named.
        lost = store.person_crops(LEGACY_BASE)[0]["id"]
        store.write(lambda conn: conn.execute("DELETE FROM tubes WHERE track_id = ?", (lost,))).result()
    capsys.readouterr()

    assert main(["adapt", "--site", str(write_site(tmp_path, demo_raw(), "new.yaml")), "--json"]) == 0
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert report["redescribed"]["tracks"] == people - 1 and report["redescribed"]["without_tube"] == 1
    with SQLiteStore(tmp_path / "var") as store:
        upgraded = store.person_crops(NEW_BASE)
        assert len(upgraded) == people - 1 and lost not in {t["id"] for t in upgraded}
        assert all(1 <= len(t["crops"]) <= 16 and t["crops"].shape[1] == 512 for t in upgraded)
        adaptation = active_projection(store)
        assert isinstance(adaptation, CameraNormalisation) and adaptation.base == NEW_BASE
        with store.read() as conn:
            models = dict(conn.execute("SELECT track_id, model FROM track_vectors").fetchall())
        assert {models[t["id"]] for t in upgraded} == {adaptation.name}
        assert store.crops_of_other_bases(NEW_BASE) == {"with_tube": 0, "without_tube": 1}

    # Without --json the operator is told what to analyse again.
    assert main(["adapt", "--site", str(tmp_path / "new.yaml"), "--no-progress"]) == 0
    assert "1 person tracks were described by an older appearance backend" in capsys.readouterr().err

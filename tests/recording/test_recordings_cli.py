"""`vigie recordings list` and `export` on a recording made from real footage (PETS09 as H.264, 25 fps,
recorded by SegmentWriter as `vigie run` records it, two passes with a gap between them).

list: segments and gaps, as text and JSON. export: the frames of exactly the asked period, masks burned
in, faces blurred by default (the real Blurrer), captioned; its manifest and SHA256SUMS check; an audit
entry with the case and purpose. Bad requests are refused by name and write nothing.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import av
import pytest
import yaml
from builders import T0
from loopback_camera import make_h264_clip, needs_ffmpeg

from vigie.audit.log import query as audit_query
from vigie.audit.log import verify
from vigie.cli import EXIT_USAGE, main
from vigie.recording.segments import SegmentWriter
from vigie.sources.stream import StreamSource
from vigie.store.sqlite import SQLiteStore
from vigie.times import iso

pytestmark = [needs_ffmpeg, pytest.mark.timeout(300)]

FPS = 25
GAP_S = 30.0  # between the two recorded passes


def record_pass(clip, store, start, seconds: int) -> None:
    """One pass of the clip recorded from `start` (UTC), on a clock at the stream's rate; segments indexed."""
    writer = SegmentWriter("cam-a", store.data_dir, lambda seg: store.add_recording_segment(**seg.index_args()))
    source = StreamSource(str(clip), "cam-a", analysis_fps=None, pace_files=False, recorder=writer)
    source.clock = lambda: start + timedelta(seconds=source.frames_decoded / FPS)
    for frame in source:
        if frame.seq >= seconds * FPS - 1:
            source.stop()


@pytest.fixture(scope="module")
def recorded(vtest, tmp_path_factory):
    folder = tmp_path_factory.mktemp("recorded")
    clip = make_h264_clip(vtest, folder / "camera.mp4", seconds=8)
    data = folder / "var"
    with SQLiteStore(data) as store:
        record_pass(clip, store, T0, 8)
        record_pass(clip, store, T0 + timedelta(seconds=8 + GAP_S), 8)
    site = {
        "name": "t",
        "cameras": [
            {
                "id": "cam-a", "name": "Esplanade", "lat": 43.8, "lon": 4.3, "stream": "rtsp://127.0.0.1:9/x",
                "record": True, "privacy_masks": [[[0, 0], [200, 0], [200, 150], [0, 150]]],
            }
        ],
    }  # fmt: skip
    (folder / "site.yaml").write_text(yaml.safe_dump(site))
    return data, folder / "site.yaml"


@pytest.fixture
def env(recorded, tmp_path, monkeypatch):
    data, site = recorded
    monkeypatch.setenv("VIGIE_DATA", str(data))
    return data, site


def test_list_prints_segments_and_gaps(env, capsys):
    assert main(["recordings", "list", "--camera", "cam-a", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    segs, gaps = doc["segments"], doc["gaps"]
    assert len(segs) >= 4 and sum(s["frames"] for s in segs) >= 2 * 8 * FPS - 6
    assert segs[0]["start"] == iso(T0) and all(s["container"] == "mpegts" for s in segs)
    assert len(gaps) == 1 and gaps[0]["duration_s"] == pytest.approx(GAP_S, abs=0.2)
    # Bounded: the gap at the window's edges too.
    args = ["--from", iso(T0 - timedelta(seconds=5)), "--to", iso(T0 + timedelta(seconds=3))]
    assert main(["recordings", "list", "--camera", "cam-a", "--json", *args]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [g["duration_s"] for g in doc["gaps"]] == [5.0] and len(doc["segments"]) == 1
    assert main(["recordings", "list", "--camera", "cam-a"]) == 0
    out = capsys.readouterr().out
    assert "gap: nothing recorded" in out and "segments" in out
    assert "start (UTC)" in out and "20/11/2026 13:00:00" in out  # the built-in site's clock: UTC, said so
    with SQLiteStore(env[0]) as store:
        assert json.loads(audit_query(store, action="view_recordings")[-1].details)["camera_id"] == "cam-a"


def paris_site(site, tmp_path, language: str | None = None):
    """The test site on Paris's clock (T0, 13:00 UTC in November, is 14:00 there), in `language` (default: fr)."""
    doc = yaml.safe_load(site.read_text()) | {"timezone": "Europe/Paris"} | ({"language": language} if language else {})
    path = tmp_path / "paris.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_list_speaks_the_sites_language_on_its_clock_and_vigie_lang_overrides_it(env, tmp_path, capsys, monkeypatch):
    """Issue 20: a French site (its default language) lists in French on its own clock, labelled; $VIGIE_LANG=en
    gives English on the same clock; --json stays UTC; --from/--to may be said on the site's clock."""
    site = paris_site(env[1], tmp_path)
    monkeypatch.delenv("VIGIE_LANG")
    assert main(["recordings", "list", "--camera", "cam-a", "--site", site]) == 0
    out = capsys.readouterr().out
    head, table = out.splitlines()[0], out.splitlines()[1]
    assert head.startswith("Caméra cam-a\u00a0: ") and "interruptions." in head and " Mo\u00a0; " in head
    assert table.split() == [
        "début",
        "(heure",
        "de",
        "Paris)",
        "fin",
        "(heure",
        "de",
        "Paris)",
        "s",
        "images",
        "Mo",
        "fichier",
    ]
    assert "20/11/2026 14:00:00" in out and "interruption\u00a0: rien d'enregistré" in out
    assert "UTC" not in out and "gap" not in out and "start" not in out and "nothing" not in out
    assert "30,0" in out  # the gap's seconds, with a decimal comma

    monkeypatch.setenv("VIGIE_LANG", "en")
    assert main(["recordings", "list", "--camera", "cam-a", "--site", site]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Camera cam-a: ") and "start (Paris time)" in out and "end (Paris time)" in out
    assert "20/11/2026 14:00:00" in out and "gap: nothing recorded" in out and "30.0" in out

    # the period said on the site's clock; --json gives the times as stored, ISO 8601 in UTC
    said = ["--from", "20/11/2026 13:59", "--to", "20/11/2026 14:01"]
    assert main(["recordings", "list", "--camera", "cam-a", "--site", site, "--json", *said]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["segments"][0]["start"] == iso(T0) and doc["segments"][0]["start"].endswith("Z")
    assert doc["gaps"][0] == {
        "camera_id": "cam-a",
        "start": iso(T0 - timedelta(seconds=60)),
        "end": iso(T0),
        "duration_s": 60.0,
    }


def test_a_bad_request_is_refused_in_the_sites_language(env, tmp_path, capsys, monkeypatch):
    site = paris_site(env[1], tmp_path)
    out = tmp_path / "x.mp4"
    argv = ["recordings", "export", "--camera", "cam-a", "--site", site, "--out", str(out)]
    backwards = ["--from", iso(T0), "--to", iso(T0 - timedelta(seconds=1)), "--case", "PV-1", "--purpose", "x"]
    monkeypatch.delenv("VIGIE_LANG")
    assert main([*argv, "--from", iso(T0), "--to", iso(T0 + timedelta(seconds=1))]) == EXIT_USAGE
    assert "un export exige --case et --purpose" in capsys.readouterr().err
    assert main([*argv, *backwards]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert (
        "--to 20/11/2026 13:59:59 (heure de Paris) n'est pas après --from 20/11/2026 14:00:00 (heure de Paris)" in err
    )
    monkeypatch.setenv("VIGIE_LANG", "en")
    assert main([*argv, *backwards]) == EXIT_USAGE
    assert (
        "--to 20/11/2026 13:59:59 (Paris time) is not after --from 20/11/2026 14:00:00 (Paris time)"
        in capsys.readouterr().err
    )
    # an English site speaks English without $VIGIE_LANG
    monkeypatch.delenv("VIGIE_LANG")
    english = ["--site", paris_site(env[1], tmp_path, "en")]
    assert main([*argv, *english, "--from", iso(T0), "--to", iso(T0 + timedelta(seconds=1))]) == EXIT_USAGE
    assert "an export needs --case and --purpose" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.mp4"))


def frames_of(path):
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def test_export_writes_the_period_masked_and_blurred_with_manifest_and_sums(env, tmp_path, capsys):
    data, site = env
    out = tmp_path / "case.mp4"
    period = ["--from", iso(T0 + timedelta(seconds=2)), "--to", iso(T0 + timedelta(seconds=3))]
    argv = ["recordings", "export", "--camera", "cam-a", *period, "--out", str(out), "--site", str(site)]
    assert main([*argv, "--case", "PV-2026-7", "--purpose", "theft at the fountain"]) == 0
    said = capsys.readouterr().out
    assert "faces and plates blurred" in said
    assert "Period: from 20/11/2026 13:00:02 to 20/11/2026 13:00:03 (UTC)." in said  # the test site's clock
    frames = frames_of(out)
    assert len(frames) == FPS  # exactly [2 s, 3 s)
    for image in frames:
        assert image[30:150, :200].max() <= 40  # the mask (main-stream pixels 0..200 x 0..150) is black
    manifest = json.loads(out.with_suffix(".manifest.json").read_text())
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert manifest["sha256"] == {"case.mp4": digest} and manifest["blurred"] is True
    assert (manifest["case_ref"], manifest["purpose"], manifest["frames"]) == (
        "PV-2026-7",
        "theft at the fountain",
        FPS,
    )
    assert manifest["gaps"] == [] and all(s["path"] is None for s in manifest["segments"])  # no server path
    sums = out.with_suffix(".SHA256SUMS").read_text().splitlines()
    assert sums[0] == f"{digest}  case.mp4"
    assert (
        sums[1] == f"{hashlib.sha256(out.with_suffix('.manifest.json').read_bytes()).hexdigest()}  case.manifest.json"
    )
    with SQLiteStore(data) as store:
        entry = audit_query(store, action="recording_export")[-1]
        assert (entry.case_ref, entry.purpose, json.loads(entry.details)["sha256"], json.loads(entry.details)["blurred"]) == (
            "PV-2026-7", "theft at the fountain", digest, True,
        )  # fmt: skip
        assert verify(store).ok
    assert not list(tmp_path.glob(".*part"))


def test_an_unblurred_export_across_the_gap_lists_it(env, tmp_path, capsys):
    data, site = env
    out = tmp_path / "gap.mp4"
    start, end = T0 + timedelta(seconds=7), T0 + timedelta(seconds=8 + GAP_S + 1)
    argv = ["recordings", "export", "--camera", "cam-a", "--from", iso(start), "--to", iso(end), "--out", str(out)]
    assert main([*argv, "--case", "PV-8", "--purpose", "assault", "--unblurred"]) == 0
    assert "1 gaps" in capsys.readouterr().out
    assert len(frames_of(out)) == 2 * FPS  # the last second of pass 1, the first of pass 2
    manifest = json.loads(out.with_suffix(".manifest.json").read_text())
    assert manifest["blurred"] is False and len(manifest["gaps"]) == 1


@pytest.mark.parametrize(
    "extra, words",
    [
        ([], "needs --case and --purpose"),
        (["--case", "PV-1", "--purpose", "x", "--to", iso(T0)], "is not after --from"),
        (["--case", "PV-1", "--purpose", "x", "--camera", "cam-z"], "has no recording"),
        (["--case", "PV-1", "--purpose", "x", "--out", "/nonexistent/x.mp4"], "does not exist"),
        (["--case", "PV-1", "--purpose", "x", "--out", "x.avi"], "ending in .mp4"),
    ],
)
def test_a_bad_export_is_refused_by_name_and_writes_nothing(env, tmp_path, capsys, extra, words):
    out = tmp_path / "x.mp4"
    argv = ["recordings", "export", "--camera", "cam-a", "--from", iso(T0), "--to", iso(T0 + timedelta(seconds=1))]
    argv += ["--out", str(out)]
    assert main([*argv, *extra]) == EXIT_USAGE
    assert words in capsys.readouterr().err
    assert not list(tmp_path.iterdir())

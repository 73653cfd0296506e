"""Stopping `vigie run` with SIGTERM or SIGINT (Ctrl-C): the tracks in flight
are finished and written before it exits, with status 0.

`--flush-s 600` means nothing is written during the run: every track stored
comes from the stop. The camera plays a file (real PETS09 footage at its own
rate, as a stream) that lasts longer than the run, so its end plays no part.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from builders import DEMO_CAMERA, demo_raw, write_site
from loopback_camera import recorded_clip

from vigie.live.run import gaps
from vigie.store.sqlite import SQLiteStore

pytestmark = [pytest.mark.slow, pytest.mark.serial]  # serial: a live stream in real time


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_vigie_run_writes_the_tracks_in_flight(vtest, tmp_path, sig):
    clip = tmp_path / "esplanade.mp4"
    recorded_clip(vtest, clip)  # 30 s
    raw = demo_raw()
    cam = next(c for c in raw["cameras"] if c["id"] == DEMO_CAMERA)
    cam.update(stream=str(clip))
    cam.pop("source", None)
    cam.pop("recording_start", None)
    site_file = write_site(tmp_path, raw)
    env = {
        "VIGIE_DATA": str(tmp_path / "var"),
        "VIGIE_MODELS": os.environ["VIGIE_MODELS"],  # the re-ID networks, as a site installs them
        "PATH": "/usr/bin:/bin",
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from vigie.cli import main; sys.exit(main())",
            "run",
            "--site",
            str(site_file),
            "--flush-s",
            "600",
            "--no-blur",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("vigie run: 1 camera(s)"), first
        time.sleep(15)  # the worker loads its models, then analyses ~10 s of footage
        assert proc.poll() is None, proc.stdout.read()
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "stopping, finishing the tracks in flight" in out
    stored = int(re.search(rf"{DEMO_CAMERA}: (\d+) tracks stored", out).group(1))
    with SQLiteStore(tmp_path / "var") as store:
        assert store.counts()["tracks"] == stored >= 2, out
        with store.read() as conn:
            chunks = conn.execute("SELECT count(*), min(status) FROM analyses").fetchone()
        # one live chunk, written at the stop, complete; the stream never dropped
        assert tuple(chunks) == (1, "complete")
        assert gaps(store, DEMO_CAMERA)[1] == 0

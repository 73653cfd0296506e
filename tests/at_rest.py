"""What the at-rest tests look for (issue 19, finding 7): pictures lying in the clear in a data folder.

A file or a stored value holds a picture in the clear when it starts with an image format's magic,
holds a JPEG (JFIF) or PNG signature anywhere (a tube is an .npz of JPEGs), or decodes as an image
with OpenCV or Pillow. A file holds video in the clear when it has MPEG-TS's sync byte (0x47) every 188
bytes, or PyAV opens it, finds a video stream and decodes at least five frames of it. (Opening alone is
not enough: about one sealed segment in 250 opens as raw H.263, whose probe takes one or two chance start
codes in random bytes for pictures, and one in two of those decodes a frame. Five chance start codes in a
few MB of random bytes is a chance of about one in ten million.) And every file under the data folder is
0600, every folder 0700.
"""

from __future__ import annotations

import io
import os
import re
import sqlite3
import stat
from itertools import islice
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")
# JPEG (JFIF, Exif), PNG: long enough that random bytes (a sealed picture) never hold one by chance (an
# Exif JPEG's first 4 bytes alone would turn up once in 4 GB, a few times a year of CI runs).
INSIDE = (
    re.compile(rb"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
    re.compile(rb"\xff\xd8\xff\xe1..Exif\x00\x00", re.DOTALL),
    re.compile(rb"\x89PNG\r\n\x1a\n"),
)


def picture_in(data: bytes) -> str | None:
    """Why `data` is or holds a picture in the clear, or None."""
    data = bytes(data)
    if data.startswith(MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return f"starts with an image format's magic ({data[:4]!r})"
    for sig in INSIDE:
        if found := sig.search(data):
            return f"holds an image signature at byte {found.start()}"
    if not data:
        return None
    if len(data) < 64 << 20 and cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) is not None:
        return "decodes with OpenCV"
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
        return f"decodes with Pillow ({image.format})"
    except Exception:
        return None


def pictures_in_files(folder: Path) -> list[str]:
    """Files under `folder` that are or hold a picture in the clear."""
    out = []
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and not path.is_symlink() and (why := picture_in(path.read_bytes())):
            out.append(f"{path.relative_to(folder)}: {why}")
    return out


def pictures_in_database(db: Path) -> list[str]:
    """Values of every BLOB (or bytes) column of every table of the SQLite database that are pictures."""
    out = []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cur = conn.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cur.description]
            for k, row in enumerate(cur):
                for name, value in zip(names, row):
                    if isinstance(value, bytes) and (why := picture_in(value)):
                        out.append(f"{table}.{name} (row {k}): {why}")
    finally:
        conn.close()
    return out


def open_to_others(folder: Path) -> list[str]:
    """Files under `folder` (the folder included) that are not 0600, folders that are not 0700."""
    out = []
    for path in [Path(folder), *sorted(Path(folder).rglob("*"))]:
        if path.is_symlink():
            continue
        mode = stat.S_IMODE(os.stat(path).st_mode)
        want = 0o700 if path.is_dir() else 0o600
        if mode != want:
            out.append(f"{path.relative_to(folder) if path != Path(folder) else '.'}: {oct(mode)}")
    return out


TS_PACKET = 188
MIN_FRAMES = 5  # a second of any real video has more


def video_in(data: bytes) -> str | None:
    """Why `data` is a video in the clear, or None."""
    import av  # lazy: the picture checks need no PyAV

    data = bytes(data)
    ts = len(data) >= 4 * TS_PACKET and any(
        all(data[k] == 0x47 for k in range(start, min(len(data), start + 64 * TS_PACKET), TS_PACKET))
        for start in range(TS_PACKET)
    )
    if ts:
        return "has MPEG-TS's sync byte every 188 bytes"
    if not data:
        return None
    try:
        with av.open(io.BytesIO(data)) as c:
            frames = list(islice(c.decode(video=0), MIN_FRAMES)) if c.streams.video else []
            if len(frames) == MIN_FRAMES:
                return f"decodes with PyAV ({c.format.name}, {frames[0].width} x {frames[0].height})"
    except Exception:
        return None
    return None


def videos_in_files(folder: Path) -> list[str]:
    """Files under `folder` that are a video in the clear."""
    out = []
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and not path.is_symlink() and (why := video_in(path.read_bytes())):
            out.append(f"{path.relative_to(folder)}: {why}")
    return out


def segment_video(data_dir: Path, path: Path) -> bytes:
    """A recorded segment's video, opened through the store's picture gateway (sealed at rest)."""
    from vigie.store.pictures import Pictures

    return Pictures(data_dir).open_file(path)

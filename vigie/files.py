"""Where Vigie keeps its files ($VIGIE_DATA), and files written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DATA_ENV = "VIGIE_DATA"
DEFAULT_DATA = "./var"
PRIVATE_DIR = 0o700  # the data folder and every folder in it: the service's user only
PRIVATE_FILE = 0o600  # every file in it: the database, thumbnails, clips, synopses, keys


def data_dir() -> Path:
    """Vigie's data folder: $VIGIE_DATA, else ./var (the store, thumbnails, clips, models, synopses)."""
    return Path(os.environ.get(DATA_ENV) or DEFAULT_DATA)


def write_atomic(path: str | Path, data: bytes, mode: int | None = None, suffix: str = ".tmp") -> Path:
    """Write `data` to `path` through a temp file beside it (.NAME.XXXX<suffix>) and a rename.

    Readers see the old file or the whole new one, never a partial write; two
    writers racing both leave a complete file. mode: permissions to give it
    (mkstemp makes the temp file private to its owner)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def make_private(folder: str | Path) -> Path:
    """Make `folder` (the data folder) the service's alone, and keep it so.

    The process's umask becomes 077, so everything Vigie creates from now on
    (the database and its WAL, thumbnails, clips, synopses, exports, keys) is
    0600 in 0700 folders. A folder that was open to others (made by an earlier
    version, or by hand) is closed once: every folder under it 0700, every file
    0600; symbolic links are not followed."""
    folder = Path(folder)
    os.umask(0o077)
    folder.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    for p in folder.iterdir():  # the database and its WAL, whatever made them
        if not p.is_symlink() and p.stat().st_mode & 0o077:
            os.chmod(p, PRIVATE_DIR if p.is_dir() else PRIVATE_FILE)
    if folder.stat().st_mode & 0o077:
        for root, dirs, names in os.walk(folder):
            for d in dirs:
                p = Path(root) / d
                if not p.is_symlink():
                    os.chmod(p, PRIVATE_DIR)
            for n in names:
                p = Path(root) / n
                if not p.is_symlink():
                    os.chmod(p, PRIVATE_FILE)
        os.chmod(folder, PRIVATE_DIR)  # last: a walk cut short is done again at the next start
    return folder

"""Where Vigie keeps its files ($VIGIE_DATA), and files written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

DATA_ENV = "VIGIE_DATA"
DEFAULT_DATA = "./var"


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

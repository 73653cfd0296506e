"""Where Vigie finds the trained model files a site supplies: never fetched, always named.

A model is named by a path relative to a models folder (for instance
`reid/person-reidentification-retail-0286/FP16/person-reidentification-retail-0286.xml`)
or by an absolute path (a site file may give either). Relative names are looked up in
turn in:

1. `$VIGIE_DATA/models` (./var/models by default): where a city puts its own copies;
2. each folder of `$VIGIE_MODELS` (separated by the system's path separator): the
   developers' and the demo's `../shared/models`, set by the Makefile.

Nothing is ever downloaded: a file found nowhere is a ModelError that names every
path tried, so an operator knows where to put it.
"""

from __future__ import annotations

import os
from pathlib import Path

from vigie.errors import ModelFileMissing
from vigie.files import data_dir

MODELS_ENV = "VIGIE_MODELS"


def model_dirs() -> list[Path]:
    """The folders searched for a relative model name, in order."""
    extra = [Path(p) for p in os.environ.get(MODELS_ENV, "").split(os.pathsep) if p.strip()]
    return [data_dir() / "models", *extra]


def find_model(name: str | Path, what: str) -> Path:
    """The file `name` names (absolute, or relative to a models folder); ModelFileMissing naming each path tried."""
    path = Path(name).expanduser()
    tried = [path] if path.is_absolute() else [d / path for d in model_dirs()]
    for candidate in tried:
        if candidate.is_file():
            return candidate
    where = ", ".join(str(p) for p in tried)
    raise ModelFileMissing(
        f"{what}: model file {name} not found (looked in {where}); copy it there, or name its path in the "
        f"site file (analysis.appearance.models for an appearance network, detector.model for a detector), "
        f"or add its folder to ${MODELS_ENV}"
    )

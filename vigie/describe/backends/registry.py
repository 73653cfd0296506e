"""Appearance backends by name, as the site file gives them (`analysis.appearance.backend`).

A name is one network, or several joined by '+' (fused: vigie.describe.backends.fusion),
or the wave-1 hand-made descriptor; `mirrored` also describes each crop mirrored.
The model files are found by vigie.models (the site file's `analysis.appearance.models`,
then $VIGIE_DATA/models, then $VIGIE_MODELS), never fetched.
"""

from __future__ import annotations

from vigie.describe.backends import openvino_ir, osnet
from vigie.describe.backends.fusion import Fusion
from vigie.describe.backends.stripes_parts import LICENCE as STRIPES_LICENCE
from vigie.describe.backends.stripes_parts import StripesParts
from vigie.describe.config import DEFAULT_BACKEND
from vigie.describe.reid import BASE_DIM, LEGACY_BASE
from vigie.errors import ConfigError

NETWORKS = {**openvino_ir.MODELS, **osnet.MODELS}  # short name -> model file, relative to a models folder
LICENCES = {
    **{n: openvino_ir.LICENCE for n in openvino_ir.MODELS},
    **{n: osnet.LICENCE for n in osnet.MODELS},
    LEGACY_BASE: STRIPES_LICENCE,
}
VERSION = "v1"  # bump when a backend's pre-processing changes: stored vectors of the old one are then kept apart


def network(name: str, model: str | None = None, threads: int = 1):
    """One network by short name; `model` overrides its file (absolute, or relative to a models folder)."""
    if name in openvino_ir.MODELS:
        return openvino_ir.OpenVinoReid(model or openvino_ir.MODELS[name], name, threads)
    if name in osnet.MODELS:
        return osnet.OsNet(model or osnet.MODELS[name], name, threads)
    raise ConfigError(f"unknown appearance network {name!r}: use one of {', '.join(NETWORKS)}")


def build_backend(
    spec: str = DEFAULT_BACKEND, models: dict[str, str] | None = None, threads: int = 1, mirrored: bool = False
):
    """The backend `spec` names: 'stripes+mnv2parts-v1', or networks joined by '+' (fused; each crop
    also seen mirrored where `mirrored`)."""
    if spec == LEGACY_BASE:
        return StripesParts(threads=threads)
    names = [n.strip() for n in spec.split("+")]
    if not names or len(set(names)) != len(names):
        raise ConfigError(f"appearance backend {spec!r}: name each network once, joined by '+'")
    members = [network(n, (models or {}).get(n), threads) for n in names]
    return Fusion(f"{'+'.join(names)}:{'flip-' if mirrored else ''}{VERSION}", members, flip=mirrored)


def block_dims(name: str) -> list[int]:
    """The width of each member's block in a stored descriptor named `name` (a backend's `name`)."""
    if name == LEGACY_BASE:
        return [BASE_DIM]
    spec = name.split(":")[0]
    dims = {**{n: 256 for n in openvino_ir.MODELS}, **{n: osnet.OsNet.dim for n in osnet.MODELS}}
    try:
        return [dims[n] for n in spec.split("+")]
    except KeyError:
        raise ConfigError(f"stored crops of an unknown appearance descriptor {name!r}") from None


def backend_licence(spec: str) -> str:
    if spec == LEGACY_BASE:
        return STRIPES_LICENCE
    return "; ".join(sorted({LICENCES.get(n.strip(), "unknown") for n in spec.split("+")}))

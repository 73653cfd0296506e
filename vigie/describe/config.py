"""The site file's `analysis.appearance` section: which appearance backend describes people."""

from __future__ import annotations

from pydantic import Field

from vigie.validated import StrictModel

DEFAULT_BACKEND = "omz-0277+omz-0286"


class AppearanceConfig(StrictModel):
    backend: str = Field(
        DEFAULT_BACKEND,
        description="What describes people for appearance search: one re-ID network (omz-0277, omz-0286, omz-0287, "
        "omz-0288, osnet-x0.25, osnet-x0.5), several joined by '+' (fused), or 'stripes+mnv2parts-v1' (the wave-1 "
        "descriptor, no model file needed). Changing it starts new vectors: `vigie adapt` re-describes kept crops.",
        min_length=1,
        max_length=200,
    )
    mirrored: bool = Field(
        False,
        description="Also describe each crop mirrored left-right and add the two vectors: +0.003 rank-1 on CUHK03 and "
        "PETS09 for twice the CPU (docs/BENCHMARKS.md §21). Changing it starts new vectors, as a new backend does.",
    )
    models: dict[str, str] = Field(
        default_factory=dict,
        description="A network's model file by its short name (e.g. omz-0286: /srv/models/0286.xml), absolute or "
        "relative to $VIGIE_DATA/models; a network not named here is looked up under its usual name there "
        "(e.g. reid/person-reidentification-retail-0286/FP16/person-reidentification-retail-0286.xml).",
    )

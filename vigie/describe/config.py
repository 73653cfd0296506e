"""The site file's `analysis.appearance` section: which appearance backend describes people."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from vigie.validated import StrictModel

DEFAULT_BACKEND = "omz-0277+omz-0286"
# Right on >= 85 % of the labelled people of both dev sequences together, and finding at least half of those
# who have it (docs/BENCHMARKS.md §24).
SEARCHABLE_BY_DEFAULT = ("long_trousers",)


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


class AttributesConfig(StrictModel):
    """The site file's `analysis.attributes` section: what people carry and wear, vehicles' type and colour."""

    people: bool = Field(
        True,
        description="Describe people's clothing and carried objects (bag, backpack, hat, long sleeves, long "
        "trousers, coat) with the person-attribute network. Its sex and hair outputs are never read.",
    )
    vehicles: bool = Field(True, description="Describe vehicles' type (car, bus, truck, van) and colour.")
    models: dict[Literal["people", "vehicles"], str] = Field(
        default_factory=dict,
        description="The networks' model files, absolute or relative to $VIGIE_DATA/models; by default "
        "attributes/person-attributes-recognition-crossroad-0230/FP32/... and "
        "attributes/vehicle-attributes-recognition-barrier-0039/FP32/....",
    )
    yes_at: float = Field(
        0.55, gt=0, lt=1, description="A person's pooled score at or above this says the attribute is present."
    )
    no_at: float = Field(
        0.5, gt=0, lt=1, description="At or below this, absent; in between, unknown (never matched by a filter)."
    )
    min_crops: int = Field(
        2, ge=1, le=64, description="Fewer clean views than this leave every attribute of a track unknown."
    )
    searchable: list[Literal["bag", "backpack", "hat", "long_sleeves", "long_trousers", "coat"]] = Field(
        default_factory=lambda: list(SEARCHABLE_BY_DEFAULT),
        description="The attributes investigators may search by. By default those right on at least 85 % of the "
        "people of PETS09-S2L1 and TUD-Stadtmitte together that also find at least half of the people who have "
        "them (docs/BENCHMARKS.md §24): long trousers. The others are stored but hidden: hat (0.86 right, but it "
        "found neither of the two hats), bag 0.66, long sleeves 0.52, coat 0.04; backpack could not be measured "
        "(nobody in the two sequences wears one) and gave 3 false alarms in 10 on TUD-Stadtmitte.",
    )
    vehicle_min_share: float = Field(
        0.5, gt=0, lt=1, description="A vehicle's type or colour is kept only when its pooled probability is this high."
    )

    @model_validator(mode="after")
    def _ordered(self) -> "AttributesConfig":
        if self.no_at >= self.yes_at:
            raise ValueError(f"attributes.no_at ({self.no_at}) must be below attributes.yes_at ({self.yes_at})")
        return self

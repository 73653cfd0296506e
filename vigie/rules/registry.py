"""Every rule a site file may name, as one discriminated union, and one `evaluate`.

A camera's `rules:` list in the site file is validated against `RuleConfig`
(the `type` field picks the model); `evaluate` hands each config to its module.
"""

from __future__ import annotations

from typing import Annotated, Sequence, Union

from pydantic import Field

from vigie.rules import crowd, geometry
from vigie.rules.base import Event, RuleContext, RuleTrack

RuleConfig = Annotated[
    Union[
        geometry.ZoneIntrusionConfig,
        geometry.LineCrossingConfig,
        geometry.LoiteringConfig,
        geometry.CounterFlowConfig,
        crowd.GatheringConfig,
        crowd.DensityConfig,
        crowd.CrowdMovementConfig,
        crowd.AbandonedObjectConfig,
        crowd.PersonOnGroundConfig,
    ],
    Field(discriminator="type"),
]

EVALUATORS = {**geometry._EVALUATORS, **crowd._EVALUATORS}  # rule type -> its function
NOT_SUPPORTED = crowd.NOT_SUPPORTED  # in the décret's list, but no registry ships a model for them


def evaluate(config, tracks: Sequence[RuleTrack], context: RuleContext) -> list[Event]:
    """The events of one rule over the tracks, sorted by start time."""
    return EVALUATORS[config.type](config, tracks, context)

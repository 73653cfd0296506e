"""Every rule a site file may name, as one discriminated union, and one `evaluate`.

A camera's `rules:` list in the site file is validated against `RuleConfig`
(the `type` field picks the model); `evaluate` hands each config to its module:
vigie.rules.geometry (zones, lines, loitering, counter-flow), vigie.rules.crowd
(gathering, density, crowd movement) and vigie.rules.incidents (abandoned
object, person on the ground).
"""

from __future__ import annotations

from typing import Annotated, Any, Sequence, Union

from pydantic import Field, TypeAdapter, ValidationError

from vigie.errors import ConfigError
from vigie.rules import crowd, geometry, incidents
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
        incidents.AbandonedObjectConfig,
        incidents.PersonOnGroundConfig,
    ],
    Field(discriminator="type"),
]

CROWD_EVALUATORS = {
    "gathering": crowd.gathering,
    "density": crowd.density,
    "crowd_movement": crowd.crowd_movement,
    "abandoned_object": incidents.abandoned_object,
    "person_on_ground": incidents.person_on_ground,
}
EVALUATORS = {**geometry._EVALUATORS, **CROWD_EVALUATORS}  # rule type -> its function

# The décret n° 2023-828 (algorithmic video surveillance, law 2023-380 for the
# 2024 Olympics) lists eight events. Vigie implements six (here and in
# vigie.rules.geometry); for these two no model in any package registry Vigie
# draws on is trained and evaluated for them, so Vigie does not detect them
# rather than pretend.
NOT_SUPPORTED: dict[str, str] = {
    "weapon": "Listed by décret 2023-828 (presence or use of weapons), but no model in the registries Vigie uses "
    "(PyPI, npm, its model list) is trained and evaluated for weapon detection in CCTV footage; "
    "COCO detectors have no weapon class (their 'knife' is cutlery). Vigie does not pretend to detect it.",
    "fire": "Listed by décret 2023-828 (départs de feux), but no model in the registries Vigie uses is trained and "
    "evaluated for fire or smoke in CCTV footage; COCO has no such class. Vigie does not pretend to detect it.",
}


# The crowd and incident rules alone (the rules that sample tracks on the time grid), read from plain data.
CrowdRuleConfig = Annotated[
    Union[
        crowd.GatheringConfig,
        crowd.DensityConfig,
        crowd.CrowdMovementConfig,
        incidents.AbandonedObjectConfig,
        incidents.PersonOnGroundConfig,
    ],
    Field(discriminator="type"),
]
_ADAPTER: TypeAdapter = TypeAdapter(CrowdRuleConfig)


def parse_rule(raw: dict[str, Any]) -> CrowdRuleConfig:
    """One rule from plain data (a site file's entry), or ConfigError naming the rule and the field."""
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        who = f"rule {raw.get('name')!r}" if isinstance(raw, dict) and raw.get("name") else "rule"
        kind = f" ({raw.get('type')})" if isinstance(raw, dict) and raw.get("type") else ""
        problems = []
        for e in exc.errors()[:5]:
            loc = [str(p) for p in e["loc"]]
            if loc and isinstance(raw, dict) and loc[0] == raw.get("type"):
                loc = loc[1:]  # the union's tag, not a field
            problems.append(f"field {'.'.join(loc)}: {e['msg']}" if loc else e["msg"])
        raise ConfigError(f"{who}{kind}: " + "; ".join(problems)) from None


def evaluate(config, tracks: Sequence[RuleTrack], context: RuleContext) -> list[Event]:
    """The events of one rule over the tracks, sorted by start time."""
    return EVALUATORS[config.type](config, tracks, context)

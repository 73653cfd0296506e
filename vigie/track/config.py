"""The tracker's settings (site file: `analysis.tracker`), beside the tracker they drive."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from vigie.validated import StrictModel

# The appearance gate measured for each kind of descriptor (docs/BENCHMARKS.md §1, §21, §22): a trained
# re-ID network's cosine distances between two views of one person run higher than the colour stripes'.
HAND_MADE_GATE = 0.3
NETWORK_GATE = 0.6


def default_gate(appearance: str) -> float:
    return HAND_MADE_GATE if appearance in ("none", "colour-stripes", "mobilenetv2", "both") else NETWORK_GATE


class TrackerConfig(StrictModel):
    high_score: float = Field(
        0.4, description="ByteTrack: detections above this start and first-match tracks.", ge=0.0, le=1.0
    )
    low_score: float = Field(
        0.1,
        description="ByteTrack: detections between this and high_score only extend existing tracks.",
        ge=0.0,
        le=1.0,
    )
    new_track_score: float = Field(0.6, description="Lowest score that may start a new track.", ge=0.0, le=1.0)
    match_iou: float = Field(
        0.1, description="First association: lowest IoU between prediction and detection.", ge=0.0, le=1.0
    )
    lost_seconds: float = Field(4.0, description="How long a lost track may be found again before it ends.", gt=0.0)
    recovery_radius: float = Field(
        0.3,
        description="A lost track may take back a box whose centre is within this many body heights of its prediction (widening while lost).",
        ge=0.0,
    )
    appearance: Literal[
        "none", "colour-stripes", "mobilenetv2", "both", "omz-0286", "omz-0287", "omz-0288", "osnet-x0.25", "osnet-x0.5"
    ] = Field(
        "omz-0288",
        description="Appearance vectors used in association: a trained re-ID network (omz-0288 by default, about 3 ms "
        "a box; its model file must be present, else colour stripes are used and a warning names the file), HSV "
        "histograms of upper/lower body (colour-stripes, 0.07 ms a box), ImageNet MobileNetV2 features (~8 ms a "
        "box), both, or none (motion only). Chosen on PETS09-S2L1 and TUD-Stadtmitte together (docs/BENCHMARKS.md §22).",
    )
    appearance_weight: float = Field(
        0.5, description="Weight of appearance against motion in association (0 = motion only).", ge=0.0, le=1.0
    )
    appearance_gate: float | None = Field(
        None,
        description="Cosine distance above which two looks are different objects: such a pair never matches. "
        "Default: the descriptor's own (0.6 for a re-ID network, 0.3 for the others), as measured.",
        gt=0.0,
        le=2.0,
    )
    appearance_refresh: int = Field(
        25,
        description="Analysed frames after which a track's look is refreshed from an unoccluded view (looks are "
        "also taken whenever boxes are ambiguous). 25 against 7: a third fewer network runs, the same accuracy "
        "on both dev sequences (docs/BENCHMARKS.md §22).",
        ge=1,
    )
    appearance_momentum: float = Field(
        0.9, description="How slowly a track's look follows new views (exponential moving average).", ge=0.0, lt=1.0
    )
    min_hits: int = Field(3, description="Matched frames before a track is reported (suppresses flicker).", ge=1)

    @property
    def gate(self) -> float:
        """The appearance gate in force: the site's, or the descriptor's own."""
        return self.appearance_gate if self.appearance_gate is not None else default_gate(self.appearance)

    @model_validator(mode="after")
    def _ordered_scores(self) -> "TrackerConfig":
        if not self.low_score <= self.high_score <= self.new_track_score:
            raise ValueError(
                f"scores must satisfy low_score <= high_score <= new_track_score, got "
                f"{self.low_score} / {self.high_score} / {self.new_track_score}"
            )
        return self

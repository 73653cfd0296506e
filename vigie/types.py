"""The core types that flow between stages: numpy and the standard library only.

`Detections` is one columnar batch (after roboflow/supervision's design): every
column is a numpy array with one row per box, validated when built, and never
changed in place: filtering or adding a column returns a new object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping

import numpy as np

# The classes Vigie cares about, by COCO name. Backends map their own labels
# onto these names (Darknet says "motorbike", COCO says "motorcycle").
# New classes go at the end: search indexes store a class as its position here.
PEOPLE_AND_VEHICLES: tuple[str, ...] = ("person", "bicycle", "car", "motorcycle", "bus", "truck")
# Things people carry and may leave behind: tracked only on cameras that have an
# abandoned-object rule (SiteConfig.analysis_for), so other cameras pay nothing.
CARRIED_OBJECTS: tuple[str, ...] = ("backpack", "handbag", "suitcase")
TRACKED_CLASSES: tuple[str, ...] = PEOPLE_AND_VEHICLES + CARRIED_OBJECTS
CLASS_ID = {name: i for i, name in enumerate(TRACKED_CLASSES)}
VEHICLE_CLASSES = frozenset({"bicycle", "car", "motorcycle", "bus", "truck"})


@dataclass(frozen=True)
class Frame:
    """One decoded frame with where and when it was seen."""

    camera_id: str
    seq: int  # 0-based index of the frame in its source, counting every decoded frame
    timestamp: datetime  # UTC, timezone-aware
    image: np.ndarray  # HxWx3 uint8, BGR (OpenCV's order)
    # Source pixels per image pixel: frames may be decoded smaller than the
    # source (AnalysisConfig.max_width); stored coordinates are the source's.
    scale: float = 1.0

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.image.shape[:2]
        return w, h


@dataclass(frozen=True)
class Detections:
    """Boxes found in one frame.

    xyxy: (N, 4) float32 pixel corners; confidence: (N,) float32;
    class_id: (N,) int16 indexes into TRACKED_CLASSES; track_id: (N,) int64,
    -1 where no tracker has assigned one; data: extra per-row columns.
    """

    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    track_id: np.ndarray = field(default=None)  # type: ignore[assignment]
    data: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        n = len(xyxy)
        conf = np.asarray(self.confidence, dtype=np.float32).reshape(-1)
        cls = np.asarray(self.class_id, dtype=np.int16).reshape(-1)
        tid = (
            np.full(n, -1, dtype=np.int64)
            if self.track_id is None
            else np.asarray(self.track_id, dtype=np.int64).reshape(-1)
        )
        for name, col in (("confidence", conf), ("class_id", cls), ("track_id", tid)):
            if len(col) != n:
                raise ValueError(f"Detections.{name} has {len(col)} rows, xyxy has {n}")
        data = {}
        for key, col in dict(self.data).items():
            col = np.asarray(col)
            if len(col) != n:
                raise ValueError(f"Detections.data[{key!r}] has {len(col)} rows, xyxy has {n}")
            data[key] = col
        # frozen dataclass: object.__setattr__ is the documented way to normalise in __post_init__
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "confidence", conf)
        object.__setattr__(self, "class_id", cls)
        object.__setattr__(self, "track_id", tid)
        object.__setattr__(self, "data", data)

    @classmethod
    def empty(cls) -> "Detections":
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros(0))

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index) -> "Detections":
        """Select rows with a boolean mask, an index array or a slice."""
        if isinstance(index, (int, np.integer)):
            index = [index]
        return Detections(
            self.xyxy[index],
            self.confidence[index],
            self.class_id[index],
            self.track_id[index],
            {k: v[index] for k, v in self.data.items()},
        )

    def with_track_ids(self, track_id: np.ndarray) -> "Detections":
        return Detections(self.xyxy, self.confidence, self.class_id, track_id, self.data)

    def with_data(self, **columns: np.ndarray) -> "Detections":
        return Detections(self.xyxy, self.confidence, self.class_id, self.track_id, {**self.data, **columns})

    @staticmethod
    def concat(parts: "list[Detections]") -> "Detections":
        parts = [p for p in parts if len(p)]
        if not parts:
            return Detections.empty()
        keys = set.intersection(*(set(p.data) for p in parts))
        return Detections(
            np.concatenate([p.xyxy for p in parts]),
            np.concatenate([p.confidence for p in parts]),
            np.concatenate([p.class_id for p in parts]),
            np.concatenate([p.track_id for p in parts]),
            {k: np.concatenate([p.data[k] for p in parts]) for k in keys},
        )

    @property
    def class_names(self) -> list[str]:
        return [TRACKED_CLASSES[i] for i in self.class_id]


@dataclass
class TrackPoint:
    """Where one track was in one analysed frame."""

    seq: int
    timestamp: datetime
    xyxy: tuple[float, float, float, float]
    confidence: float
    # Ground-plane position in metres, where the camera is calibrated.
    ground_xy: tuple[float, float] | None = None


@dataclass
class TrackSummary:
    """What the describe stage says about a whole track; what the store keeps."""

    camera_id: str
    track_no: int  # from the camera's own counter
    class_name: str
    first_seen: datetime
    last_seen: datetime
    points: list[TrackPoint]
    upper_colours: list[str] = field(default_factory=list)  # people: dominant colours, most first
    lower_colours: list[str] = field(default_factory=list)
    body_colours: list[str] = field(default_factory=list)  # vehicles
    median_height_px: float = 0.0
    median_width_px: float = 0.0
    direction: str | None = None  # one of 8 compass points in image space (N = up)
    speed_px_s: float | None = None
    speed_m_s: float | None = None
    thumbnail_jpeg: bytes | None = None
    thumbnail_seq: int | None = None
    # Source frame size (width, height) in pixels: the points' frame.
    frame_size: tuple[int, int] | None = None
    # People: base appearance descriptors of a few crops (vigie.describe.crops),
    # the frames they came from, and the track's search vector made from them.
    crops: "np.ndarray | None" = None
    crop_seqs: list[int] = field(default_factory=list)
    crop_base: str | None = None
    vector: "np.ndarray | None" = None
    vector_model: str | None = None
    # People: clothing and carried objects {name: (yes | no | unknown, pooled score)};
    # vehicles: type and colour from the vehicle network (vigie.describe.attributes).
    attributes: dict = field(default_factory=dict)
    vehicle_type: str | None = None
    vehicle_colour: str | None = None
    # Video synopsis: the track's tube (vigie.synopsis.capture.encode_tube), if kept.
    tube: bytes | None = None

    @property
    def dwell_s(self) -> float:
        return (self.last_seen - self.first_seen).total_seconds()

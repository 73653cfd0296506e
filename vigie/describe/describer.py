"""The describe stage: follows each track while it lives, summarises it when it ends.

While a track is seen it keeps: its points, the best crop so far, and colour
votes sampled every few observations. When the tracker ends it, the summary
(TrackSummary) is built: colours, size, direction, speed, dwell, thumbnail,
and for people a few described crops and the appearance vector for search.
Nothing here keeps whole frames, so memory does not grow with video length.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from vigie.describe import colours
from vigie.describe.attributes import VEHICLE_CLASSES, pool_attributes, pool_vehicle
from vigie.describe.config import AttributesConfig
from vigie.describe.crops import CropSampler
from vigie.describe.kinematics import GroundPlane, direction_of, foot_points, path_speed
from vigie.describe.reid import Adaptation, track_vector
from vigie.describe.white_balance import WhiteBalance
from vigie.track.matching import iou_matrix
from vigie.types import CLASS_ID, TRACKED_CLASSES, Detections, Frame, TrackPoint, TrackSummary

_VEHICLE_IDS = np.array([CLASS_ID[c] for c in VEHICLE_CLASSES])
_COLOUR_EVERY = 3  # sample colours on every 3rd observation: neighbours are near duplicates


@dataclass
class _Accumulator:
    class_votes: dict[int, float] = field(default_factory=dict)
    points: list[TrackPoint] = field(default_factory=list)
    upper: np.ndarray = field(default_factory=lambda: np.zeros(len(colours.PALETTE)))
    lower: np.ndarray = field(default_factory=lambda: np.zeros(len(colours.PALETTE)))
    body: np.ndarray = field(default_factory=lambda: np.zeros(len(colours.PALETTE)))
    best_quality: float = -1.0
    best_crop: np.ndarray | None = None
    best_seq: int | None = None


def crop_quality(image: np.ndarray, box: np.ndarray, confidence: float, overlap: float) -> float:
    """Best-crop score: large, sharp, confident, unoccluded, not cut by the frame edge."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = box.astype(int)
    crop = image[max(0, y1) : y2, max(0, x1) : x2]
    if crop.size == 0:
        return -1.0
    area = float((x2 - x1) * (y2 - y1))
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    sharp = float(cv2.Laplacian(gray, cv2.CV_32F).var())
    sharpness = sharp / (sharp + 100.0)  # saturating: beyond a point sharper adds nothing
    at_edge = x1 <= 1 or y1 <= 1 or x2 >= w - 2 or y2 >= h - 2
    return area * (0.5 + sharpness) * confidence * (1.0 - overlap) * (0.3 if at_edge else 1.0)


class Describer:
    def __init__(
        self,
        camera_id: str,
        ground: GroundPlane | None = None,
        frame_rate: float = 25.0,
        crops: CropSampler | None = None,
        projection: Adaptation | None = None,
        vehicle_crops: CropSampler | None = None,
        attributes: AttributesConfig | None = None,
        balance: WhiteBalance | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.ground = ground
        self.frame_rate = frame_rate
        # People's crops for search (None: no appearance vectors), and the
        # site adaptation that turns them into the track's vector (None: plain).
        self.crops = crops
        self.projection = projection
        # Vehicles' crops for their type and colour (None: not described), and the pooling settings.
        self.vehicle_crops = vehicle_crops
        self.attributes = attributes or AttributesConfig()
        # The camera's white balance, applied to the pixels colours are named on (None: raw pixels).
        self.balance = balance
        self.frame_size: tuple[int, int] | None = None
        self._live: dict[int, _Accumulator] = {}

    def observe(self, frame: Frame, tracked: Detections, fg_mask_for=None) -> None:
        """Record this frame's boxes of confirmed tracks."""
        if not len(tracked):
            return
        ious = iou_matrix(tracked.xyxy, tracked.xyxy)
        np.fill_diagonal(ious, 0.0)
        overlap = ious.max(axis=1) if len(tracked) > 1 else np.zeros(1)
        source_boxes = tracked.xyxy * frame.scale  # points are stored in source pixels
        h, w = frame.image.shape[:2]
        self.frame_size = (int(round(w * frame.scale)), int(round(h * frame.scale)))
        if self.crops is not None:
            people = np.flatnonzero(tracked.class_id == CLASS_ID["person"])
            if len(people):
                self.crops.offer(
                    frame.image, frame.seq, tracked.track_id[people], tracked.xyxy[people], overlap[people]
                )
        if self.vehicle_crops is not None:
            vehicles = np.flatnonzero(np.isin(tracked.class_id, _VEHICLE_IDS))
            if len(vehicles):
                self.vehicle_crops.offer(
                    frame.image, frame.seq, tracked.track_id[vehicles], tracked.xyxy[vehicles], overlap[vehicles]
                )
        ground = self.ground.to_ground(foot_points(source_boxes)) if self.ground else None
        for i, tid in enumerate(tracked.track_id):
            acc = self._live.setdefault(int(tid), _Accumulator())
            box = tracked.xyxy[i]
            conf = float(tracked.confidence[i])
            cls = int(tracked.class_id[i])
            acc.class_votes[cls] = acc.class_votes.get(cls, 0.0) + conf
            acc.points.append(
                TrackPoint(
                    frame.seq,
                    frame.timestamp,
                    tuple(float(v) for v in source_boxes[i]),
                    conf,
                    tuple(float(v) for v in ground[i]) if ground is not None else None,
                )
            )
            q = crop_quality(frame.image, box, conf, float(overlap[i]))
            if q > acc.best_quality:
                x1, y1, x2, y2 = box.astype(int)
                acc.best_quality, acc.best_seq = q, frame.seq
                acc.best_crop = frame.image[max(0, y1) : y2, max(0, x1) : x2].copy()
            # Colours only from boxes nobody overlaps: an occluder's clothes are not ours.
            if len(acc.points) % _COLOUR_EVERY == 1 and overlap[i] < 0.1:
                self._sample_colours(
                    acc, frame.image, box, cls, fg_mask_for(box) if fg_mask_for else None, self.balance
                )

    @staticmethod
    def _sample_colours(
        acc: _Accumulator,
        image: np.ndarray,
        box: np.ndarray,
        cls: int,
        mask: np.ndarray | None,
        balance: WhiteBalance | None = None,
    ) -> None:
        x1, y1, x2, y2 = box.astype(int)
        x1, y1 = max(0, x1), max(0, y1)
        crop = image[y1:y2, x1:x2]
        if crop.size == 0:
            return
        if balance is not None:
            crop = balance.apply(crop)  # the names only: the thumbnail and search crops stay raw
        if mask is not None:
            mask = mask[: crop.shape[0], : crop.shape[1]]
            # A mask with too few foreground pixels (person standing still,
            # absorbed by the background model) is no guide: use all pixels.
            if mask.shape[:2] != crop.shape[:2] or np.count_nonzero(mask) < 0.15 * mask.size:
                mask = None
        if TRACKED_CLASSES[cls] == "person":
            for part, target in ((colours.UPPER_BODY, acc.upper), (colours.LOWER_BODY, acc.lower)):
                rows, cols = colours.body_part(crop, part)
                target += colours.colour_shares(crop[rows, cols], None if mask is None else mask[rows, cols])
        else:
            rows, cols = colours.body_part(crop, (0.15, 0.85))
            acc.body += colours.colour_shares(crop[rows, cols], None if mask is None else mask[rows, cols])

    def finish(self, track_id: int) -> TrackSummary | None:
        """Summarise an ended track (None if it was never observed)."""
        acc = self._live.pop(track_id, None)
        crops = self.crops.take_all(track_id) if self.crops is not None else None
        vehicle_crops = self.vehicle_crops.take_all(track_id) if self.vehicle_crops is not None else None
        if acc is None or not acc.points:
            return None
        cls_name = TRACKED_CLASSES[max(acc.class_votes, key=acc.class_votes.get)]
        boxes = np.array([p.xyxy for p in acc.points])
        feet = foot_points(boxes)
        t0 = acc.points[0].timestamp
        secs = np.array([(p.timestamp - t0).total_seconds() for p in acc.points])
        heights = boxes[:, 3] - boxes[:, 1]
        widths = boxes[:, 2] - boxes[:, 0]
        window = max(3, int(round(self.frame_rate)))  # about a second of points
        summary = TrackSummary(
            camera_id=self.camera_id,
            track_no=track_id,
            class_name=cls_name,
            first_seen=acc.points[0].timestamp,
            last_seen=acc.points[-1].timestamp,
            points=acc.points,
            median_height_px=float(np.median(heights)),
            median_width_px=float(np.median(widths)),
            # A heading needs a move of at least half a body height, or it is jitter.
            direction=direction_of(feet, 0.5 * float(np.median(heights))),
            speed_px_s=path_speed(feet, secs, window),
            thumbnail_seq=acc.best_seq,
            frame_size=self.frame_size,
        )
        a = self.attributes
        if crops is not None and cls_name == "person":
            if crops.vectors is not None:
                summary.crop_seqs, summary.crops = crops.seqs, crops.vectors
                summary.crop_base = self.crops.describe_name
                summary.vector_model, summary.vector = track_vector(
                    summary.crops, self.projection, self.crops.describe_name, self.camera_id
                )
            if crops.attribute_scores is not None:
                summary.attributes = pool_attributes(crops.attribute_scores, a.yes_at, a.no_at, a.min_crops)
        if vehicle_crops is not None and cls_name in VEHICLE_CLASSES and vehicle_crops.attribute_scores is not None:
            scores = vehicle_crops.attribute_scores
            summary.vehicle_type, summary.vehicle_colour = pool_vehicle(
                scores[:, :4], scores[:, 4:], a.vehicle_min_share, a.min_crops
            )
        if self.ground is not None:
            ground = np.array([p.ground_xy for p in acc.points])
            summary.speed_m_s = path_speed(ground, secs, window)
        if cls_name == "person":
            summary.upper_colours = colours.dominant_names(acc.upper / max(acc.upper.sum(), 1e-9))
            summary.lower_colours = colours.dominant_names(acc.lower / max(acc.lower.sum(), 1e-9))
        else:
            summary.body_colours = colours.dominant_names(acc.body / max(acc.body.sum(), 1e-9))
        if acc.best_crop is not None and acc.best_crop.size:
            ok, jpeg = cv2.imencode(".jpg", acc.best_crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
            summary.thumbnail_jpeg = jpeg.tobytes() if ok else None
        return summary

    def live_ids(self) -> list[int]:
        return list(self._live)

    def live_first_seqs(self) -> dict[int, int]:
        """Each open track's first frame (vigie.scale.chunks: which chunk a track belongs to)."""
        return {tid: acc.points[0].seq for tid, acc in self._live.items() if acc.points}

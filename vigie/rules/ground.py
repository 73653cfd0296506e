"""Ground distances for the crowd rules: which rules need a calibrated camera, and a zone's area in m2.

Where the camera is calibrated every point carries its ground position
(TrackPoint.ground_xy, metres) and distances are metres. Where it is not:
- gathering works on image pixels only if its config gives `radius_px`;
  otherwise it raises NeedsCalibration (evaluate time), and
  `check_calibration(config, calibrated)` says so when the site is loaded;
- density needs the zone's area in m2: `area_m2`, or the ground projection of
  the zone (see `zone_area_m2` and density's doc), else NeedsCalibration;
- crowd movement converts image distances to metres with each person's own
  box height taken as 1.70 m (approximate, said in the event's details);
- abandoned object uses its `*_px` distances.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from vigie.describe.kinematics import GroundPlane
from vigie.errors import ConfigError
from vigie.rules.base import Point, RuleTrack
from vigie.rules.timegrid import GridRule
from vigie.zones import polygon_area


class NeedsCalibration(ConfigError):
    """A rule that needs ground distances (metres) on a camera that has none."""


def check_calibration(config: GridRule, calibrated: bool, camera_id: str = "") -> None:
    """At site load: refuse a rule that needs ground distances on a camera without calibration."""
    if not calibrated and config.needs_calibration():
        raise NeedsCalibration(needs_calibration_message(config, camera_id))


def needs_calibration_message(config: GridRule, camera_id: str) -> str:
    fix = {
        "gathering": "calibrate the camera or give radius_px",
        "density": "calibrate the camera or give area_m2",
    }.get(config.type, "calibrate the camera")
    cam = f"camera {camera_id!r}" if camera_id else "the camera"
    return f"rule {config.name!r} ({config.type}) needs a calibrated camera: {cam} has no ground positions; {fix}"


def points_inside(points: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Even-odd ray casting, vectorised over points."""
    x, y = points[:, 0][:, None], points[:, 1][:, None]
    x1, y1 = poly[:, 0][None, :], poly[:, 1][None, :]
    x2, y2 = np.roll(poly[:, 0], -1)[None, :], np.roll(poly[:, 1], -1)[None, :]
    straddle = (y1 > y) != (y2 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    return (np.sum(straddle & (x < x_cross), axis=1) % 2) == 1


def project(matrix: np.ndarray, points: np.ndarray) -> np.ndarray | None:
    """Image points through an image->ground homography; None if one lies beyond the horizon."""
    h = np.c_[points, np.ones(len(points))] @ matrix.T
    w = h[:, 2]
    if np.any(np.abs(w) < 1e-12) or (np.any(w < 0) and np.any(w > 0)):
        return None
    return h[:, :2] / w[:, None]


def zone_area_m2(zone: Sequence[Point], image_points: Sequence[Point], ground_points_m: Sequence[Point]) -> float:
    """Ground area (m2) of an image polygon, from a camera's calibration (four point pairs).

    For the site loader: fill DensityConfig.area_m2 from the camera's
    calibration, so the rule does not have to recover it from the tracks.
    """

    matrix = GroundPlane(image_points, ground_points_m).matrix
    ground = project(np.asarray(matrix, float), np.asarray(zone, float))
    if ground is None:
        raise ConfigError(
            "the zone reaches beyond the horizon of the camera's calibration: its ground area is infinite"
        )
    return polygon_area(ground)


def homography_from_tracks(tracks: Sequence[RuleTrack], zone: np.ndarray) -> np.ndarray | None:
    """The image->ground homography, recovered from the tracks' own (feet pixel, ground) pairs.

    RuleContext carries no calibration; each calibrated point's ground
    position is the calibration's homography applied to its feet, so the
    pairs give the homography back (least squares, normalised DLT). Trusted
    only if the pairs spread over an area (convex hull) of at least 400 px2
    and 5% of the zone, and reproduce every ground position to 5 cm.
    """
    pairs = [(f, p.ground_xy) for t in tracks for f, p in zip(t.feet(), t.points) if p.ground_xy is not None]
    if len(pairs) < 4:
        return None
    src = np.array([f for f, _ in pairs], float)
    dst = np.array([g for _, g in pairs], float)
    src, idx = np.unique(np.round(src, 3), axis=0, return_index=True)
    dst = dst[idx]
    if len(src) < 4:
        return None
    import cv2

    hull = cv2.convexHull(src.astype(np.float32))
    if cv2.contourArea(hull) < max(400.0, 0.05 * polygon_area(zone)):
        return None

    def normaliser(p: np.ndarray) -> np.ndarray:
        c = p.mean(axis=0)
        s = math.sqrt(2) / max(float(np.mean(np.linalg.norm(p - c, axis=1))), 1e-12)
        return np.array([[s, 0, -s * c[0]], [0, s, -s * c[1]], [0, 0, 1]])

    ts, td = normaliser(src), normaliser(dst)
    a = np.c_[src, np.ones(len(src))] @ ts.T
    b = np.c_[dst, np.ones(len(dst))] @ td.T
    rows = []
    for (x, y, _), (u, v, _) in zip(a, b):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, -u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, -v])
    _, _, vt = np.linalg.svd(np.array(rows))
    h = np.linalg.inv(td) @ vt[-1].reshape(3, 3) @ ts
    if abs(h[2, 2]) > 1e-12:
        h = h / h[2, 2]
    back = project(h, src)
    if back is None or float(np.max(np.linalg.norm(back - dst, axis=1))) > 0.05:
        return None
    return h

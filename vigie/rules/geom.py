"""Plane geometry for the rules, in image pixels (x right, y down).

Small pure functions on plain tuples: the rules call them a point at a time,
for tracks of a few hundred points, so numpy would buy nothing here.
"""

from __future__ import annotations

import math
from typing import Sequence

Point = tuple[float, float]


def point_in_polygon(p: Point, polygon: Sequence[Point]) -> bool:
    """Even-odd ray casting. A point exactly on an edge may fall either way:
    the rules ask for a time inside (or a distance from a line) on top of
    this, so which way the boundary itself goes does not matter."""
    x, y = p
    inside = False
    n = len(polygon)
    for i in range(n):
        (x1, y1), (x2, y2) = polygon[i], polygon[(i + 1) % n]
        if (y1 > y) != (y2 > y):  # the edge straddles the horizontal through p
            x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if x < x_cross:
                inside = not inside
    return inside


def polygon_area(polygon: Sequence[Point]) -> float:
    """Absolute area (shoelace); zero for degenerate polygons (all points on a line)."""
    s = 0.0
    n = len(polygon)
    for i in range(n):
        (x1, y1), (x2, y2) = polygon[i], polygon[(i + 1) % n]
        s += x1 * y2 - x2 * y1
    return abs(s) / 2.0


def signed_distance(a: Point, b: Point, p: Point) -> float:
    """Distance of p from the line through a and b, positive on the right of a->b.

    "Right" as seen on screen, facing from a to b: with y pointing down, the
    cross product (b - a) x (p - a) is positive on that side (a->b pointing
    right on screen: points below the line are positive). The unit normal
    pointing that way is (-dy, dx) / |ab|.
    """
    dx, dy = b[0] - a[0], b[1] - a[1]
    return (dx * (p[1] - a[1]) - dy * (p[0] - a[0])) / math.hypot(dx, dy)


def segment_param(a: Point, b: Point, p: Point) -> float:
    """Where p projects on a->b: 0 at a, 1 at b (outside [0, 1]: beyond an end)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    return ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)


def lerp(p: Point, q: Point, f: float) -> Point:
    return (p[0] + (q[0] - p[0]) * f, p[1] + (q[1] - p[1]) * f)


def heading_deg(dx: float, dy: float) -> float:
    """Compass-like angle of an image displacement: 0 = up the image, 90 =
    right, clockwise (vigie.describe.kinematics.compass uses the same)."""
    return math.degrees(math.atan2(dx, -dy)) % 360.0


def angle_between_deg(h1: float, h2: float) -> float:
    """Smallest angle between two headings, in [0, 180]."""
    d = abs(h1 - h2) % 360.0
    return 360.0 - d if d > 180.0 else d

"""What Vigie says a person carries and wears, and what kind of vehicle it saw.

The vocabulary is the one place these names are written: the attribute
networks' outputs are mapped onto it, the store's columns, the search query's
filters, the text grammar's words and the UI's labels all use these names.

Only clothing and carried objects: the person-attribute network also outputs
a sex estimate and long hair, which are body traits; Vigie never reads them.
"""

from __future__ import annotations

import numpy as np

# Clothing and carried objects, in the order the UI lists them.
PERSON_ATTRIBUTES: tuple[str, ...] = ("bag", "backpack", "hat", "long_sleeves", "long_trousers", "coat")

# Vehicle types the vehicle-attribute network tells apart.
VEHICLE_TYPES: tuple[str, ...] = ("car", "bus", "truck", "van")

# The detector's classes the vehicle-attribute network describes: it was trained on these, not on
# two-wheelers (vigie.types.VEHICLE_CLASSES, every vehicle class, is a different, wider set).
# Here rather than in vigie.describe.describer, so the public register reads it without importing scipy.
VEHICLE_CLASSES: tuple[str, ...] = ("car", "bus", "truck")

# The person-attribute network's outputs, in its order (Open Model Zoo
# person-attributes-recognition-crossroad-0230, output `453`), and the ones Vigie reads.
# is_male (0) and has_longhair (6) are body traits: their scores are never taken out of the
# network's output array, so no code path can store, show or search them.
NETWORK_OUTPUTS = (
    "is_male",
    "has_bag",
    "has_backpack",
    "has_hat",
    "has_longsleeves",
    "has_longpants",
    "has_longhair",
    "has_coat_jacket",
)
READ_OUTPUTS = {  # Vigie's name -> the network's output index
    "bag": 1,
    "backpack": 2,
    "hat": 3,
    "long_sleeves": 4,
    "long_trousers": 5,
    "coat": 7,
}
assert tuple(READ_OUTPUTS) == PERSON_ATTRIBUTES

# The vehicle network's colour outputs (vehicle-attributes-recognition-barrier-0039, `color`),
# named in Vigie's palette.
VEHICLE_COLOURS: tuple[str, ...] = ("white", "grey", "yellow", "red", "green", "blue", "black")

YES, NO, UNKNOWN = "yes", "no", "unknown"


def pool_attributes(scores: np.ndarray, yes_at: float, no_at: float, min_crops: int) -> dict[str, tuple[str, float]]:
    """A track's clothing and carried objects from its crops' scores.

    scores: (N, len(PERSON_ATTRIBUTES)) probabilities, one row per clean crop. Each
    attribute's pooled score is the mean over the crops (a bag hidden on one side in half
    the views still scores half); it is yes at or above yes_at, no at or below no_at, and
    unknown between, or when fewer than min_crops crops were seen.
    Returns {name: (state, pooled score)}.
    """
    scores = np.asarray(scores, np.float32).reshape(-1, len(PERSON_ATTRIBUTES))
    out = {}
    for k, name in enumerate(PERSON_ATTRIBUTES):
        if len(scores) < min_crops:
            out[name] = (UNKNOWN, float(scores[:, k].mean()) if len(scores) else float("nan"))
            continue
        p = float(scores[:, k].mean())
        out[name] = (YES if p >= yes_at else NO if p <= no_at else UNKNOWN, p)
    return out


def pool_vehicle(
    type_probs: np.ndarray, colour_probs: np.ndarray, min_share: float, min_crops: int
) -> tuple[str | None, str | None]:
    """A vehicle track's type and colour from its crops' softmax outputs: the class of the mean
    probabilities, or None when fewer than min_crops crops were seen or it has under min_share."""
    out: list[str | None] = []
    for probs, names in ((type_probs, VEHICLE_TYPES), (colour_probs, VEHICLE_COLOURS)):
        probs = np.asarray(probs, np.float32).reshape(-1, len(names))
        if len(probs) < min_crops:
            out.append(None)
            continue
        mean = probs.mean(axis=0)
        best = int(mean.argmax())
        out.append(names[best] if mean[best] >= min_share else None)
    return out[0], out[1]

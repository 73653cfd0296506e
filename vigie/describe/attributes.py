"""What Vigie says a person carries and wears, and what kind of vehicle it saw.

The vocabulary is the one place these names are written: the attribute
networks' outputs are mapped onto it, the store's columns, the search query's
filters, the text grammar's words and the UI's labels all use these names.

Only clothing and carried objects: the person-attribute network also outputs
a sex estimate and long hair, which are body traits; Vigie never reads them.
"""

from __future__ import annotations

# Clothing and carried objects, in the order the UI lists them.
PERSON_ATTRIBUTES: tuple[str, ...] = ("bag", "backpack", "hat", "long_sleeves", "long_trousers", "coat")

# Vehicle types the vehicle-attribute network tells apart.
VEHICLE_TYPES: tuple[str, ...] = ("car", "bus", "truck", "van")

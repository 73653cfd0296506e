"""The security council's crime map: incidents (imported, validated video alerts, accepted citizen
reports), area-based analyses (density, hot spots, near-repeat, time patterns), map layers and a
printable report. About places and times only: nothing here scores or predicts a person."""

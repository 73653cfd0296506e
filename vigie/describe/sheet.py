"""A contact sheet: the stored tracks' best crops in a grid, each labelled.

People would rather look at the people found than read a table of them;
`vigie tracks --sheet FILE` writes one JPEG that any viewer opens. The crops come
from `crop_of` (vigie.privacy.pictures: blurred unless a case asks otherwise).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import cv2
import numpy as np

CELL_H = 180  # crop height in the sheet
LABEL_H = 34
COLUMNS = 8


def contact_sheet(tracks: list[dict], path: str | Path, crop_of: Callable[[dict], np.ndarray | None]) -> int:
    """Write the sheet of `tracks` (rows of SQLiteStore.list_tracks), each drawn with `crop_of(track)`
    (a BGR image, or None to leave it out); returns how many were drawn."""
    cells = []
    for t in tracks:
        crop = crop_of(t)
        if crop is None or crop.size == 0:
            continue
        w = max(1, int(crop.shape[1] * CELL_H / crop.shape[0]))
        crop = cv2.resize(crop, (min(w, 2 * CELL_H), CELL_H), interpolation=cv2.INTER_AREA)
        cell = np.full((CELL_H + LABEL_H, max(150, crop.shape[1]), 3), 255, np.uint8)
        cell[:CELL_H, : crop.shape[1]] = crop
        colours = "/".join(t["upper"][:1] + t["lower"][:1]) if t["class"] == "person" else "/".join(t["body"][:1])
        # Hershey fonts are ASCII only: no '#', no accents.
        cv2.putText(
            cell,
            f"{t['id']} {t['class']} {t['first_seen'][11:19]}",
            (3, CELL_H + 14),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
        cv2.putText(
            cell,
            f"{colours or '-'} {t['direction'] or '-'}",
            (3, CELL_H + 29),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4,
            (60, 60, 60),
            1,
            cv2.LINE_AA,
        )
        cells.append(cell)
    if not cells:
        return 0
    rows = []
    for i in range(0, len(cells), COLUMNS):
        row = cells[i : i + COLUMNS]
        width = sum(c.shape[1] for c in row)
        rows.append((np.hstack(row), width))
    total = max(w for _, w in rows)
    sheet = np.vstack([np.pad(r, ((0, 0), (0, total - w), (0, 0)), constant_values=255) for r, w in rows])
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), sheet, [cv2.IMWRITE_JPEG_QUALITY, 88])
    return len(cells)

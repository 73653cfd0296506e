"""Track pictures for the files the `vigie` commands write: contact sheets, trail maps.

A track's best crop is stored sealed (vigie.store.pictures) and leaves the store
blurred (faces; plates on vehicles), as the web app serves it. Unblurred only
when the user asked for it with `--unblurred`, a case reference and a purpose:
the command then audits a `view_unblurred` entry naming the tracks and the file.
"""

from __future__ import annotations

from vigie.errors import VigieError
from vigie.i18n import gettext


class TrackPictures:
    """Opened, decoded and (unless `unblurred`) blurred crops of stored tracks."""

    def __init__(self, store, unblurred: bool = False, blurrer=None) -> None:
        self.store, self.unblurred = store, unblurred
        self._blurrer = blurrer
        self.used: list[int] = []  # the tracks whose picture went out: for the audit entry

    def blurrer(self):
        if self._blurrer is None:
            from vigie.privacy.blur import Blurrer  # lazy: loads onnxruntime and the face model

            self._blurrer = Blurrer()
        return self._blurrer

    def image(self, track_id: int, class_name: str):
        """The crop (BGR array), blurred unless unblurred was asked for; None without a thumbnail."""
        import cv2
        import numpy as np

        picture = self.store.thumbnail(track_id)
        if not picture:
            return None
        image = cv2.imdecode(np.frombuffer(picture, np.uint8), cv2.IMREAD_COLOR)
        if image is None or image.size == 0:
            return None
        if not self.unblurred:
            image, _ = self.blurrer().blur_crop(image, class_name)
        self.used.append(track_id)
        return image

    def jpeg(self, track_id: int, class_name: str) -> bytes | None:
        import cv2

        image = self.image(track_id, class_name)
        if image is None:
            return None
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        return buf.tobytes() if ok else None


def check_unblurred(unblurred: bool, case_ref: str | None, purpose: str | None) -> None:
    """--unblurred needs a case reference and a purpose, as in the web app."""
    if unblurred and not ((case_ref or "").strip() and (purpose or "").strip()):
        raise VigieError(
            gettext("--unblurred needs --case and --purpose: unblurred pictures are written only for a case")
        )

"""Search by example photo: a witness's picture described the way tracks are, then ranked like `similar`.

In order (issue 18):
1. The upload is made safe by the citizen-photo code (vigie.citizen.photos.sanitise): size limit,
   type checked by content, the declared pixel count checked before decoding (image bombs),
   re-encoded from its pixels alone (no EXIF, GPS, ICC or comments), faces blurred. Faces are
   blurred BEFORE the photo is described: no face is ever identified, and the re-identification
   networks look at the clothes and the figure (a face is a few percent of a standing person's
   box; docs/BENCHMARKS.md §25 gives the figure with it blurred). Text is not blurred: a slogan on
   a shirt is part of what is compared.
2. The person in it: the `box` given; else the site's detector (classes: person) on the photo,
   its largest person box (the others said); none found: the whole photo, with a warning. A photo
   already cut around one person is found by the detector too, and its box cut tight as a
   track's crops are.
3. That crop described as a track's crops are: the site's appearance backend
   (`analysis.appearance`), then the store's site adaptation (`vigie adapt`) as for a camera it
   never saw (CameraNormalisation: the mean of all cameras; a Projection ignores cameras). The
   model name must be the stored vectors' (vigie.search.engine.similar_to_vector refuses another).
4. What is read from it for the user: upper and lower clothing colours (the palette's names, on
   the raw pixels: the photo's camera has no learnt white balance) and the clothing and carried
   objects of the attribute network (one crop: min_crops 1). Never a sex, an age or a face.
   These are shown; they filter only when asked (`match_colours`: the photo's colours become the
   query's upper/lower colours where the user set none), since a phone's colours and a CCTV
   camera's differ more than one person's views do.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

import cv2
import numpy as np

from vigie.citizen import photos
from vigie.describe import colours
from vigie.describe.attribute_nets import attribute_networks
from vigie.describe.attributes import pool_attributes
from vigie.describe.backends.registry import build_backend
from vigie.describe.embed import crop_windows
from vigie.describe.reid import active_projection, track_vector
from vigie.i18n import _
from vigie.search.engine import SearchResult, similar_to_vector
from vigie.search.query import SearchError, SearchQuery, parse_query
from vigie.search.query_photos import sha256_of
from vigie.types import CLASS_ID

MAX_PHOTO_BYTES = 8_000_000  # read at each call: a test may lower them
MAX_PHOTO_PIXELS = 40_000_000
MIN_BOX_SIDE = 8  # pixels: a smaller given box is a mistake


@dataclass
class PhotoReading:
    """What was read from an example photo: the safe JPEG kept, the person's box in it, and how it
    was described (the vector, its model, the colours and attributes shown to the user)."""

    jpeg: bytes  # the sanitised photo: what is compared, kept and hashed
    sha256: str
    width: int
    height: int
    box: tuple[int, int, int, int]  # the person's crop in the sanitised photo, x1 y1 x2 y2
    found_by: str  # "given", "detector" or "whole photo"
    people: int  # person boxes the detector found (0 where it did not run)
    model: str
    vector: np.ndarray = field(repr=False)
    upper: list[str]
    lower: list[str]
    attributes: dict[str, str]  # clothing and carried objects: yes / no / unknown
    crop_jpeg: bytes = field(repr=False)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """JSON-able: everything but the bytes and the vector."""
        return {
            "sha256": self.sha256,
            "size": [self.width, self.height],
            "box": list(self.box),
            "found_by": self.found_by,
            "people": self.people,
            "model": self.model,
            "upper": self.upper,
            "lower": self.lower,
            "attributes": self.attributes,
            "notes": self.notes,
        }


def sanitised(data: bytes, blurrer, lock: threading.Lock | None = None) -> bytes:
    """The upload as a fresh JPEG (checked, no metadata, faces blurred); PhotoError when refused."""
    return photos.sanitise(
        data, max_bytes=MAX_PHOTO_BYTES, max_pixels=MAX_PHOTO_PIXELS, blurrer=blurrer, lock=lock, person=True
    )


def parse_box(text: str | None) -> tuple[int, int, int, int] | None:
    """'x1,y1,x2,y2' in the photo's pixels, or None."""
    if text is None or not str(text).strip():
        return None
    try:
        x1, y1, x2, y2 = (int(round(float(v))) for v in str(text).split(","))
    except ValueError:
        raise SearchError(
            _("box {text} is not x1,y1,x2,y2 (four numbers, the photo's pixels)", text=repr(text)), "box", text
        ) from None
    return x1, y1, x2, y2


class PhotoReader:
    """The site's networks for photos, loaded once: detector, appearance backend, attribute network."""

    def __init__(self, backend, detector=None, attributes=None, attribute_config=None) -> None:
        self.backend, self.detector, self.attributes = backend, detector, attributes
        self.attribute_config = attribute_config
        self._lock = threading.Lock()

    @classmethod
    def for_site(cls, site) -> PhotoReader:
        """The reader of the site's default analysis settings, built once per process and settings."""
        analysis = site.analysis
        key = json.dumps(
            [analysis.appearance.model_dump(mode="json"), site.detector.model_dump(mode="json"),
             analysis.attributes.model_dump(mode="json")],
            sort_keys=True,
        )  # fmt: skip
        with _READERS_LOCK:
            reader = _READERS.get(key)
            if reader is None:
                from vigie.detect.registry import build_detector  # only when a photo is read

                appearance = analysis.appearance
                backend = build_backend(appearance.backend, appearance.models, mirrored=appearance.mirrored)
                backend.check()
                people, _vehicles = attribute_networks(analysis.attributes)
                reader = cls(backend, build_detector(site.detector, ["person"]), people, analysis.attributes)
                _READERS[key] = reader
        return reader

    def read(self, jpeg: bytes, store=None, box: tuple[int, int, int, int] | None = None) -> PhotoReading:
        """Describe a sanitised photo (sanitised()): the person's crop, its vector (with the store's
        site adaptation, if any, made for this backend), colours and attributes."""
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise SearchError(_("the photo could not be decoded"), "image")
        h, w = image.shape[:2]
        notes: list[str] = []
        people = 0
        if box is not None:
            x1, y1, x2, y2 = crop_windows(image.shape, np.array([box], float))[0].tolist()
            if x2 - x1 < MIN_BOX_SIDE or y2 - y1 < MIN_BOX_SIDE:
                raise SearchError(
                    _(
                        "box {value} leaves less than {min_box_side} pixels a side inside the {w}x{h} photo",
                        value=list(box),
                        min_box_side=MIN_BOX_SIDE,
                        w=w,
                        h=h,
                    ),
                    "box",
                    list(box),
                )
            found_by = "given"
        else:
            x1, y1, x2, y2, people = self._person_box(image)
            found_by = "detector" if people else "whole photo"
            if people > 1:
                notes.append(f"{people} people in the photo: the largest one is searched for (give a box to choose)")
            if not people:
                notes.append("no person found in the photo: the whole photo is described as one person's crop")
        crop = image[y1:y2, x1:x2]
        with self._lock:  # the networks' sessions are shared by the server's threads
            base = np.asarray(self.backend.describe_crops([crop]), np.float32)
            scores = self.attributes.scores([crop]) if self.attributes is not None else None
        projection = active_projection(store) if store is not None else None
        if projection is not None and projection.base != self.backend.name:
            projection = None  # made for another descriptor: the stored vectors are plain too (see pipeline)
        # A photo's camera is none the adaptation saw: camera None takes the mean of all cameras.
        model, vector = track_vector(base, projection, self.backend.name, None)
        upper, lower = (
            colours.dominant_names(colours.colour_shares(crop[colours.body_part(crop, part)]))
            for part in (colours.UPPER_BODY, colours.LOWER_BODY)
        )
        if scores is not None:
            a = self.attribute_config
            pooled = pool_attributes(scores, a.yes_at, a.no_at, min_crops=1)
            attributes = {name: state for name, (state, _score) in pooled.items()}
        else:
            attributes = {}
            notes.append("no person attribute network here: clothing and carried objects not read")
        ok, crop_jpeg = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
        return PhotoReading(
            jpeg=jpeg,
            sha256=sha256_of(jpeg),
            width=w,
            height=h,
            box=(x1, y1, x2, y2),
            found_by=found_by,
            people=people,
            model=model,
            vector=vector,
            upper=upper,
            lower=lower,
            attributes=attributes,
            crop_jpeg=crop_jpeg.tobytes() if ok else b"",
            notes=notes,
        )

    def _person_box(self, image: np.ndarray) -> tuple[int, int, int, int, int]:
        """The largest person box the detector finds (x1, y1, x2, y2, how many people), or the whole photo."""
        h, w = image.shape[:2]
        if self.detector is None:
            return 0, 0, w, h, 0
        with self._lock:
            dets = self.detector.detect(image)
        person = np.flatnonzero(np.asarray(dets.class_id) == CLASS_ID["person"])
        if not len(person):
            return 0, 0, w, h, 0
        boxes = np.asarray(dets.xyxy, float)[person]
        largest = boxes[int(np.argmax((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])))]
        x1, y1, x2, y2 = crop_windows(image.shape, largest[None])[0].tolist()
        return x1, y1, x2, y2, len(person)


_READERS: dict[str, PhotoReader] = {}
_READERS_LOCK = threading.Lock()


def photo_query(query: SearchQuery, reading: PhotoReading, match_colours: bool) -> SearchQuery:
    """The user's query; with match_colours, the photo's colours as its upper/lower colours where it has none."""
    if not match_colours:
        return query
    data = query.model_dump()
    if not query.upper and reading.upper:
        data["upper"] = reading.upper
    if not query.lower and reading.lower:
        data["lower"] = reading.lower
    return parse_query(data)


def search_by_photo(
    store,
    site,
    data: bytes,
    query: SearchQuery | None = None,
    *,
    blurrer,
    lock: threading.Lock | None = None,
    box: tuple[int, int, int, int] | None = None,
    match_colours: bool = False,
    reader: PhotoReader | None = None,
) -> tuple[PhotoReading, SearchResult]:
    """Sanitise, read and rank: (what was read from the photo, the tracks most like its person).

    Storing the photo with the search's audit entry is the caller's (query_photos.keep_and_audit),
    who knows the user."""
    jpeg = sanitised(data, blurrer, lock)
    reading = (reader or PhotoReader.for_site(site)).read(jpeg, store, box)
    query = photo_query(query or SearchQuery(), reading, match_colours)
    result = similar_to_vector(store, reading.vector, reading.model, query, reference_photo=reading.sha256)
    return reading, result

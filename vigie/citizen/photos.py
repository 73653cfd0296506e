"""A citizen's photo made safe to keep: checked, re-encoded, blurred.

The upload itself is never stored. In order:
1. the type is checked by content (Pillow's parsers for JPEG, PNG and WebP
   only), whatever the file is called;
2. the pixel count the header declares is checked BEFORE anything is decoded:
   a 30000x30000 PNG of a few kilobytes would take gigabytes to decode (an
   "image bomb");
3. the EXIF orientation is applied, then the picture is downscaled and
   re-encoded from its pixels alone as a fresh JPEG: no EXIF (so no GPS
   position, camera serial or owner name), no ICC profile, no comments;
4. faces anywhere and text (licence plates) anywhere are blurred with the
   app's Blurrer before that JPEG is made.
"""

from __future__ import annotations

import io
import re
import threading
from contextlib import nullcontext

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from vigie.errors import VigieError
from vigie.i18n import _

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
MAX_SIDE = 2048  # longest side kept: enough to see the problem, small enough to store
JPEG_QUALITY = 85


class PhotoError(VigieError):
    """A photo refused: an HTTP status (400, 413, 503) and what is wrong with it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def check_size(n_bytes: int, max_bytes: int) -> None:
    if n_bytes > max_bytes:
        raise PhotoError(
            413,
            _(
                "the photo is larger than the {max_bytes} bytes accepted ({value} MB); send a smaller photo",
                max_bytes=max_bytes,
                value=max_bytes // 1_000_000,
            ),
        )


def _opened(data: bytes, max_pixels: int) -> Image.Image:
    """The image, opened lazily (header only), its type and declared size checked."""
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except UnidentifiedImageError:
        raise PhotoError(400, _("the photo is not a JPEG, PNG or WebP image")) from None
    except Image.DecompressionBombError as exc:  # Pillow's own net (twice Image.MAX_IMAGE_PIXELS), hit before ours
        declared = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{declared.group(1)} pixels" if declared else "more pixels"
        raise PhotoError(
            400,
            _(
                "the photo declares {size}, more than the {max_pixels} accepted (an image bomb)",
                size=size,
                max_pixels=max_pixels,
            ),
        ) from None
    except (OSError, ValueError, SyntaxError) as exc:  # a header Pillow's parser refuses
        raise PhotoError(400, _("the photo could not be decoded ({exc})", exc=exc)) from None
    w, h = image.size
    if w < 1 or h < 1 or w * h > max_pixels:
        raise PhotoError(
            400,
            _(
                "the photo declares {w}x{h} pixels, more than the {max_pixels} accepted (an image bomb; or downscale the photo before sending it)",
                w=w,
                h=h,
                max_pixels=max_pixels,
            ),
        )
    return image


def _decoded(image: Image.Image) -> Image.Image:
    """The first frame's pixels, upright, as RGB (transparency composed over white), at most MAX_SIDE."""
    try:
        if image.format == "JPEG":
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # decode a big JPEG at 1/2, 1/4 or 1/8 scale: faster, less memory
        image.seek(0)  # an animated PNG or WebP: its first frame
        image.load()
        upright = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError:
        raise PhotoError(400, _("the photo has more pixels than accepted (an image bomb?)")) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:  # truncated or corrupt data
        raise PhotoError(400, _("the photo could not be decoded ({exc})", exc=exc)) from None
    if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
        rgba = upright.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        upright = Image.alpha_composite(background, rgba)
    rgb = upright.convert("RGB")
    rgb.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return rgb


# A decoded photo takes up to max_photo_pixels x 4 bytes (160 MB at 40 MP): however many reports arrive at
# once, two are decoded at a time and the others wait, so a flood of large photos cannot exhaust the memory.
_DECODING = threading.BoundedSemaphore(2)


def sanitise(
    data: bytes,
    *,
    max_bytes: int,
    max_pixels: int,
    blurrer,
    lock: threading.Lock | None = None,
    person: bool = False,
) -> bytes:
    """The photo as a fresh, metadata-free JPEG with faces and text blurred; PhotoError when refused.

    person: a photo of someone to search by example (vigie.search.photo): the whole picture is also
    searched for faces as a person box is (upscaled: a small face is still found), and text is left
    as it is: a slogan on a shirt is part of what the search compares, and no vehicle is looked for."""
    check_size(len(data), max_bytes)
    with _DECODING:
        return _sanitised(data, max_pixels, blurrer, lock, person)


def _sanitised(data: bytes, max_pixels: int, blurrer, lock: threading.Lock | None, person: bool = False) -> bytes:
    image = _opened(data, max_pixels)
    if blurrer is None:
        raise PhotoError(
            503,
            _(
                "photos cannot be accepted: this server has no blurrer to hide faces and plates (send the report without a photo)"
            ),
        )
    rgb = _decoded(image)
    bgr = np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])
    h, w = bgr.shape[:2]
    # The whole photo is searched for text: any plate in it is blurred, whatever vehicle it is on.
    with lock or nullcontext():
        if person:
            blurred, _regions = blurrer.blur(bgr, person_boxes=[(0, 0, w, h)])
        else:
            blurred, _regions = blurrer.blur(bgr, vehicle_boxes=[(0, 0, w, h)])
    clean = Image.fromarray(np.ascontiguousarray(blurred[:, :, ::-1]), "RGB")  # pixels only: no info, no EXIF, no ICC
    out = io.BytesIO()
    clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()

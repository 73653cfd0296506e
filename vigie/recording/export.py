"""An export of a camera's recording over a period: one MP4, its manifest and SHA-256 sums, audited.

    result = export_recording(store, site, "cam-a", t0, t1, Path("case.mp4"), blurrer=blurrer,
                              user="console:martin", role="console", case_ref="PV-118", purpose="...")

Written beside each other: case.mp4 (H.264, the recording's frame rate), case.manifest.json (who
exported what, for which case, the segments used and the gaps met, the MP4's SHA-256) and
case.SHA256SUMS (the MP4 and the manifest, `sha256sum -c` format). The files are written under temp
names and renamed once whole. The audit entry (action "recording_export": camera, period, blurred,
the MP4's SHA-256) is appended before anything is written: an export nobody can account for never exists.

What each frame shows, in this order (as a track's clip, vigie.media.clips):
1. the recorded frame, for every frame whose time is in [start, end): its time is its segment's start
   plus its pts from the segment's first frame (vigie.store.recordings);
2. the camera's privacy masks black, whatever the segment holds (a masked camera's segments have them
   already; a mask added since is applied here too);
3. faces and plates blurred (unless blurrer is None: an unblurred export, for a case only), the blurrer
   given the boxes of the camera's stored tracks at that moment (people: faces looked for in them,
   upscaled; vehicles: plates), besides its own whole-frame search;
4. a caption: the camera id and the frame's UTC time.

The MP4 plays its frames back to back at the recording's rate: a gap in the period (listed in the
manifest) is a jump of the caption's time, not a still picture.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from vigie.audit.log import append
from vigie.clock import site_zone, zone_label
from vigie.errors import VigieError
from vigie.i18n import _
from vigie.media.clips import FACE_BOX_CLASSES
from vigie.privacy.blur import PLATE_CLASSES
from vigie.privacy.masks import PrivacyMask, masks_width
from vigie.store.recordings import RecordingError
from vigie.times import iso, now_iso

MAX_EXPORT_S = 4 * 3600  # one export file at most: longer periods are several exports
BOX_NEAR_S = 0.25  # a stored box (5 analysed frames a second) stands for the frames this close to it


class ExportError(VigieError):
    """An export that cannot be made (names the problem); nothing is written."""


@dataclass
class RecordingExport:
    mp4: Path
    manifest: Path
    sums: Path
    sha256: str
    frames: int
    segments: list[int]
    gaps: list[tuple[str, str]]
    blurred: bool
    regions_blurred: int = 0
    manifest_doc: dict = field(default_factory=dict, repr=False)


def export_recording(
    store,
    site,
    camera_id: str,
    start: datetime,
    end: datetime,
    out: str | Path,
    *,
    blurrer,
    user: str,
    role: str,
    case_ref: str | None,
    purpose: str | None,
    recorder=None,
) -> RecordingExport:
    """Export [start, end) of the camera's recording to `out` (.mp4); blurrer None: unblurred (needs a case)."""
    out = Path(out)
    if out.suffix.lower() != ".mp4":
        raise ExportError(_("export file {out}: give a name ending in .mp4", out=out))
    if end <= start:
        raise ExportError(_("the export's end {end} is not after its start {start}", end=iso(end), start=iso(start)))
    if (end - start).total_seconds() > MAX_EXPORT_S:
        raise ExportError(_("an export covers at most {hours} hours: split the period", hours=MAX_EXPORT_S // 3600))
    if blurrer is None and not ((case_ref or "").strip() and (purpose or "").strip()):
        raise ExportError(_("an unblurred export needs a case reference and a purpose"))
    if not out.parent.is_dir():
        raise ExportError(_("export folder {folder} does not exist", folder=out.parent))
    if recorder is None:
        from vigie.recording.recorder import FileRecorder

        recorder = FileRecorder(store)
    segments = recorder.segments(camera_id, start, end)
    if not segments:
        raise ExportError(
            _(
                "camera {camera} has no recording between {start} and {end}",
                camera=repr(camera_id),
                start=iso(start),
                end=iso(end),
            )
        )
    gaps = recorder.gaps(camera_id, start, end)
    camera = next((c for c in site.cameras if c.id == camera_id), None)
    zone = site_zone(getattr(site, "timezone", None))
    masks = PrivacyMask(camera.privacy_masks) if camera is not None and camera.privacy_masks else None
    # The main stream's width, as best known: the masks are in its pixels, not the segment's (masks_width says
    # why), and so are the stored boxes of tracks that did not record their analysed frame's width.
    main_width = masks_width(store, camera_id, camera, start)
    boxes = _track_boxes(store, camera_id, start, end) if blurrer is not None else []

    mp4, manifest_path, sums = out, out.with_suffix(".manifest.json"), out.with_suffix(".SHA256SUMS")
    tmp = out.with_name(f".{out.name}.part")
    frames = regions = 0
    encoder = None
    try:
        for seg in segments:
            video = recorder.segment_data(seg)  # sealed at rest: opened whole, in memory
            for t, frame in _frames_of(video, seg, start, end):
                image = np.ascontiguousarray(frame.to_ndarray(format="bgr24"))
                if masks:
                    image[masks.mask_for(image.shape, (main_width or image.shape[1]) / image.shape[1])] = 0
                if blurrer is not None:
                    # Stored boxes are in their track's analysed frame's pixels, scaled to this decoded picture
                    # (a sub-stream's or a record_masked_width segment is narrower).
                    persons, vehicles = _near(boxes, t, image.shape[1], main_width)
                    image, found = blurrer.blur(image, vehicle_boxes=vehicles, person_boxes=persons)
                    image = np.ascontiguousarray(image)
                    regions += len(found)
                _caption(image, _caption_text(camera_id, t, zone))
                if encoder is None:
                    encoder = _Mp4(tmp, _rate(video), image.shape[1] & ~1, image.shape[0] & ~1)
                encoder.add(image)
                frames += 1
        if encoder is None:
            raise ExportError(
                _(
                    "camera {camera}: the recording between {start} and {end} has no frame",
                    camera=repr(camera_id),
                    start=iso(start),
                    end=iso(end),
                )
            )
        encoder.finish()
        encoder = None
        data = tmp.read_bytes()
    except (RecordingError, av.error.FFmpegError, OSError) as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(
            _("the export of camera {camera} failed: {reason}", camera=repr(camera_id), reason=exc)
        ) from None
    finally:
        if encoder is not None:
            encoder.close()
            tmp.unlink(missing_ok=True)
    try:
        digest = hashlib.sha256(data).hexdigest()
        blurred = blurrer is not None
        details = {
            "camera_id": camera_id,
            "from": iso(start),
            "to": iso(end),
            "blurred": blurred,
            "segments": [s.id for s in segments],
            "frames": frames,
            "file": mp4.name,
            "sha256": digest,
            "bytes": len(data),
        }
        entry = append(store, user, role, "recording_export", case_ref=case_ref, purpose=purpose, details=details)
        doc = {
            "export": "recording",
            "created_at": now_iso(),
            "exported_by": user,
            "role": role,
            "case_ref": case_ref,
            "purpose": purpose,
            "audit_seq": entry.seq,
            "site": getattr(site, "name", None),
            "camera_id": camera_id,
            "from": iso(start),
            "to": iso(end),
            "blurred": blurred,
            "frames": frames,
            "segments": [s.as_dict() | {"path": None} for s in segments],
            "gaps": [g.as_dict() for g in gaps],
            "sha256": {mp4.name: digest},
            "note": "Faces and licence plates are blurred unless 'blurred' is false; privacy masks are always burned "
            "in. Each frame's caption is its UTC time. 'gaps' are spans of the period with no recording.",
        }
        manifest = json.dumps(doc, indent=2, ensure_ascii=False).encode()
        os.replace(tmp, mp4)
        _write(manifest_path, manifest)
        lines = f"{digest}  {mp4.name}\n{hashlib.sha256(manifest).hexdigest()}  {manifest_path.name}\n"
        _write(sums, lines.encode())
    finally:
        tmp.unlink(missing_ok=True)
    return RecordingExport(
        mp4, manifest_path, sums, digest, frames, [s.id for s in segments],
        [(g.as_dict()["start"], g.as_dict()["end"]) for g in gaps], blurrer is not None, regions, doc,
    )  # fmt: skip


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _rate(video: bytes) -> Fraction:
    with av.open(io.BytesIO(video)) as c:
        s = c.streams.video[0]
        return Fraction(s.average_rate or s.guessed_rate or 25).limit_denominator(1001)


def _frames_of(video: bytes, seg, start: datetime, end: datetime):
    """(UTC time, frame) of the segment's frames in [start, end), in presentation order."""
    with av.open(io.BytesIO(video)) as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        first = None
        for frame in c.decode(stream):
            if frame.pts is None:
                continue
            first = frame.pts if first is None else first
            t = seg.start + timedelta(seconds=float((frame.pts - first) * frame.time_base))
            if t >= end:
                return
            if t >= start:
                yield t, frame


def _track_boxes(store, camera_id: str, start: datetime, end: datetime) -> list[tuple[float, str, list, int | None]]:
    """(time, class, xyxy, analysed frame width) of the camera's stored track points over the period (in
    stored pixels: those of a frame that wide; None where the track does not say)."""
    return [
        (datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp(), cls, box, frame_width)
        for t, cls, box, frame_width in store.track_boxes(
            camera_id, start - timedelta(seconds=1), end + timedelta(seconds=1)
        )
    ]


def _near(boxes: list, t: datetime, width: int, main_width: int | None = None) -> tuple[list, list]:
    """Person and vehicle boxes stored within BOX_NEAR_S of t, in the pixels of an image `width` wide: each
    scaled by its track's analysed frame width (else the main stream's, else taken as this image's)."""
    ts = t.timestamp()
    persons, vehicles = [], []
    for when, cls, box, frame_width in boxes:
        if abs(when - ts) <= BOX_NEAR_S:
            scale = width / (frame_width or main_width or width)
            scaled = [v * scale for v in box]
            if cls in FACE_BOX_CLASSES:  # riders' faces too
                persons.append(scaled)
            if cls in PLATE_CLASSES:
                vehicles.append(scaled)
    return persons, vehicles


def _caption_text(camera_id: str, t: datetime, zone) -> str:
    """The burned-in caption: the camera and the frame's time on the site's clock, labelled (as clips say it)."""
    local = t.astimezone(zone)
    when = f"{local:%d/%m/%Y %H:%M:%S}.{local.microsecond // 1000:03d}"
    text = _("{camera}  {time} ({zone})", camera=camera_id, time=when, zone=zone_label(zone))
    # OpenCV's Hershey fonts draw ASCII only: "Montréal" is written "Montreal"
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _caption(image: np.ndarray, text: str) -> None:
    """White text on a black band in the top-left corner, sized to the frame (as clips are captioned): the
    band holds the text's descenders, so the caption stays in the top rows whatever the zone's label."""
    scale = max(0.4, image.shape[0] / 1100)
    thick = 1 if scale < 0.8 else 2
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    pad = max(3, th // 3)
    cv2.rectangle(image, (0, 0), (tw + 2 * pad, th + base + 2 * pad), (0, 0, 0), -1)
    cv2.putText(image, text, (pad, pad + th), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA)


class _Mp4:
    """H.264 MP4 written to a temp file (an export may be hours long: not in memory)."""

    def __init__(self, path: Path, rate: Fraction, width: int, height: int) -> None:
        self.out = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        self.stream = self.out.add_stream("libx264", rate=rate, options={"preset": "veryfast", "crf": "20"})
        self.stream.width, self.stream.height, self.stream.pix_fmt = width, height, "yuv420p"
        self.stream.time_base = 1 / rate
        self.n = 0

    def add(self, bgr: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(bgr[: self.stream.height, : self.stream.width], format="bgr24")
        frame.pts = self.n
        self.out.mux(self.stream.encode(frame))
        self.n += 1

    def finish(self) -> None:
        self.out.mux(self.stream.encode(None))
        self.out.close()

    def close(self) -> None:
        try:
            self.out.close()
        except av.error.FFmpegError:
            pass

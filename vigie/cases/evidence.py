"""The evidence sheet of a case's export: a PDF in the site's language (French for a French site) with
each track's picture, its times in the site's zone (labelled, UTC beside), its camera, the tracks'
trail in time order, the chain of custody read from the audit log, and the SHA-256 of every file the
export holds. Drawn with matplotlib's PdfPages, as the crime map's report is (no other PDF library).
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from vigie.i18n import _, use_language
from vigie.times import from_iso

A4 = (8.27, 11.69)
LINES_PER_PAGE = 48
WRAP = 100  # characters per line at 8 pt across A4's width


@dataclass
class SheetTrack:
    track_id: int
    camera: str  # the camera's name and id
    kind: str
    first_seen: str  # ISO UTC, as stored
    last_seen: str
    picture: bytes | None  # JPEG, blurred unless the export is unblurred
    mark: str | None = None


@dataclass
class Sheet:
    export_ref: str
    case_ref: str
    purpose: str
    exported_by: str
    created_at: str
    blurred: bool
    site: str | None
    timezone: str
    tracks: list[SheetTrack]
    custody: list[dict] = field(default_factory=list)  # audit entries: seq, at, user, role, action, details
    sums: dict[str, str] = field(default_factory=dict)  # file name -> SHA-256


def local_time(text: str, zone: str) -> str:
    """'14/03/2026 14:05:09 (Europe/Paris time; 13:05:09 UTC)': the site's clock, labelled, UTC beside."""
    t = from_iso(text)
    local = t.astimezone(ZoneInfo(zone))
    return _(
        "{date} {time} ({zone} time; {utc} UTC)",
        date=local.strftime("%d/%m/%Y"),
        time=local.strftime("%H:%M:%S"),
        zone=zone,
        utc=t.strftime("%H:%M:%S"),
    )


def _text_page(pdf, title: str, lines: list[str]) -> None:
    import matplotlib.pyplot as plt

    lines = [part for line in lines for part in (textwrap.wrap(line, WRAP) or [""])]
    chunks = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)] or [[]]
    for n, chunk in enumerate(chunks):
        fig = plt.figure(figsize=A4)
        fig.text(0.07, 0.95, title if n == 0 else _("{title} (continued)", title=title), fontsize=14, weight="bold")
        for i, line in enumerate(chunk):
            fig.text(0.07, 0.91 - i * 0.018, line, fontsize=8, family="DejaVu Sans")
        pdf.savefig(fig)
        plt.close(fig)


def _track_page(pdf, sheet: Sheet, t: SheetTrack) -> None:
    import cv2
    import matplotlib.pyplot as plt
    import numpy as np

    fig = plt.figure(figsize=A4)
    fig.text(0.07, 0.95, _("Track {id}", id=t.track_id), fontsize=14, weight="bold")
    facts = [
        _("Camera: {camera}", camera=t.camera),
        _("Kind: {kind}", kind=t.kind),
        _("First seen: {time}", time=local_time(t.first_seen, sheet.timezone)),
        _("Last seen: {time}", time=local_time(t.last_seen, sheet.timezone)),
    ]
    if t.mark == "same":
        facts.append(_("Marked as the same person for this case."))
    elif t.mark == "different":
        facts.append(_("Marked as not the same person for this case."))
    for i, line in enumerate(facts):
        fig.text(0.07, 0.91 - i * 0.022, line, fontsize=9)
    ax = fig.add_axes([0.15, 0.2, 0.7, 0.55])
    ax.axis("off")
    image = cv2.imdecode(np.frombuffer(t.picture, np.uint8), cv2.IMREAD_COLOR) if t.picture else None
    if image is not None:
        ax.imshow(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        caption = _("Faces and licence plates blurred.") if sheet.blurred else _("Unblurred, under an approved grant.")
    else:
        caption = _("No picture is stored for this track.")
    fig.text(0.07, 0.16, caption, fontsize=9)
    pdf.savefig(fig)
    plt.close(fig)


def build(sheet: Sheet, language: str | None = None) -> bytes:
    """The sheet as PDF bytes (in `language`, else the current one)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_pdf import PdfPages

    with use_language(language):
        out = io.BytesIO()
        title = _("Evidence sheet, case {case}", case=sheet.case_ref)
        fixed = datetime(2000, 1, 1)  # metadata dates fixed: the sheet is the same for the same content
        with PdfPages(out, metadata={"Title": title, "Creator": "Vigie", "CreationDate": fixed}) as pdf:
            cover = [
                _("Case reference: {case}", case=sheet.case_ref),
                _("Purpose: {purpose}", purpose=sheet.purpose),
                _("Export reference: {ref}", ref=sheet.export_ref),
                _("Exported by: {user}", user=sheet.exported_by),
                _("Exported on: {time}", time=local_time(sheet.created_at, sheet.timezone)),
                _("Site: {site}", site=sheet.site or "-"),
                _("Times are given in the site's time zone ({zone}), with UTC beside.", zone=sheet.timezone),
                _("Tracks: {n}", n=len(sheet.tracks)),
                (
                    _("Faces and licence plates are blurred; privacy masks are burned in.")
                    if sheet.blurred
                    else _("Unblurred pictures, under approved unblur grants; privacy masks are burned in.")
                ),
                _("The server keeps the SHA-256 of the ZIP file with the export reference."),
            ]
            _text_page(pdf, title, cover)
            for t in sheet.tracks:
                _track_page(pdf, sheet, t)
            trail = [
                _(
                    "{start} to {end}: track {id}, camera {camera}",
                    start=local_time(t.first_seen, sheet.timezone),
                    end=local_time(t.last_seen, sheet.timezone),
                    id=t.track_id,
                    camera=t.camera,
                )
                for t in sorted(sheet.tracks, key=lambda t: (t.first_seen, t.track_id))
            ]
            _text_page(pdf, _("Trail, in time order"), trail)
            custody = [
                _(
                    "No. {seq}, {time}: {user} ({role}), {action}",
                    seq=e["seq"],
                    time=local_time(e["at"], sheet.timezone),
                    user=e["user"],
                    role=e["role"],
                    action=e["action"],
                )
                for e in sheet.custody
            ]
            _text_page(pdf, _("Chain of custody (audit log)"), custody or [_("No audit entry was found.")])
            sums = [f"{digest}  {name}" for name, digest in sorted(sheet.sums.items())]
            _text_page(pdf, _("SHA-256 sums of the files"), sums)
        return out.getvalue()

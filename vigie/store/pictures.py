"""Pictures at rest: the one way picture bytes go into the store and come out of it.

Every picture Vigie keeps is sealed under the media key (vigie.keys.MediaBox: Fernet, the key
outside the database) on its way in and opened on its way out, here and nowhere else:
`store.pictures.seal(jpeg)` for a value written to a picture column, `store.pictures.open(blob)`
for one read from it, `write_file` / `read_file` for the picture files under the data folder
(the thumbnails, the cache of blurred clips), written whole and 0600, `seal_file` / `open_file` for
the recorded video segments (recordings/: a file muxed in the clear beside its final name is sealed
whole to it when it closes, and the clear file removed). Nothing else imports MediaBox.

PICTURE_COLUMNS lists every column that holds one; the upgrade (`seal_plain`, run once per data
folder when a command or the server starts) and the at-rest regression tests walk that list, so a
new picture column is added there. Some of those pictures are blurred before they are stored (the
alert snapshots, citizens' photos, example photos of photo searches, cached clips: faces and
plates, or faces); they are sealed all the same: a blurrer misses some faces, and they are still
pictures of people. (Not the synopsis videos: see docs/SECURITY.md, finding 7.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vigie import files
from vigie.errors import VigieError
from vigie.keys import MediaBox

MARKER = ".pictures-sealed"  # in the data folder: the upgrade of this folder's pictures is done
OLD_MARKER = ".thumbnails-sealed"  # the first upgrade's, thumbnails only: superseded


@dataclass(frozen=True)
class PictureColumn:
    table: str
    keys: tuple[str, ...]  # the row's primary key, in order
    column: str
    what: str
    batch: int = 200  # rows sealed per write: a few MB at most (a tube is a few hundred kB)


PICTURE_COLUMNS: tuple[PictureColumn, ...] = (
    PictureColumn("thumbnails", ("track_id",), "jpeg", "tracks' best crops (unblurred)"),
    PictureColumn("tubes", ("track_id",), "data", "synopsis tubes: each track's pixels in every frame (unblurred)", 20),
    PictureColumn("backgrounds", ("id",), "jpeg", "synopsis period backgrounds (unblurred)", 50),
    PictureColumn("alerts", ("id",), "snapshot", "alert snapshots (blurred)"),
    PictureColumn("citizen_reports", ("id",), "photo", "citizens' photos (faces and plates blurred)"),
    PictureColumn("query_photos", ("sha256", "case_ref"), "jpeg", "photo searches' example photos (faces blurred)"),
)
PICTURE_FOLDERS = ("thumbnails", "clips")  # folders of the data folder that hold picture files (sealed)


class Pictures:
    """The store's picture gateway: seals and opens with the data folder's media key."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._box: MediaBox | None = None

    @property
    def box(self) -> MediaBox:
        if self._box is None:  # at first use: a store that keeps no picture makes no key
            self._box = MediaBox.of(self.data_dir)
        return self._box

    is_sealed = staticmethod(MediaBox.is_sealed)

    def seal(self, picture: bytes | None) -> bytes | None:
        """What to write to a picture column (None stays None: no picture)."""
        return None if picture is None else self.box.seal(picture)

    def open(self, blob: bytes | None) -> bytes | None:
        """The picture in a value read from a picture column (None stays None). A value stored in the
        clear by an earlier version is returned as it is, until the upgrade seals it."""
        return None if blob is None else self.box.open(blob)

    def write_file(self, path: str | Path, picture: bytes) -> Path:
        """Write a picture file, sealed, whole or not at all, readable by the service only."""
        return files.write_atomic(path, self.box.seal(picture), mode=files.PRIVATE_FILE)

    def write_stored_file(self, path: str | Path, blob: bytes) -> Path:
        """Write a value read from a picture column as a picture file: its sealed bytes as they are
        (no second encryption), or sealed now if an earlier version stored it in the clear."""
        blob = bytes(blob)
        sealed = blob if self.is_sealed(blob) else self.box.seal(blob)
        return files.write_atomic(path, sealed, mode=files.PRIVATE_FILE)

    def seal_file(self, plain: str | Path, path: str | Path) -> Path:
        """Seal the file `plain` (a video segment just closed, a few MB) whole to `path` (0600, synced,
        renamed into place), then remove `plain`: from then on only the sealed file is left."""
        plain = Path(plain)
        self.write_file(path, plain.read_bytes())
        plain.unlink()
        return Path(path)

    def open_file(self, path: str | Path) -> bytes:
        """The video in a sealed file, whole in memory (a file an earlier version wrote in the clear is
        returned as it is). Raises OSError (FileNotFoundError: gone) or KeyFileError (another key, altered)."""
        return self.box.open(Path(path).read_bytes())

    def read_file(self, path: str | Path) -> bytes | None:
        """The picture in a picture file, or None if it cannot be read or opened."""
        try:
            return self.box.open(Path(path).read_bytes())
        except (OSError, VigieError):
            return None

    # --- the upgrade of a data folder an earlier version filled --------------------------------------
    def seal_plain(self, store) -> dict[str, int]:  # store: the StoreBase that owns this gateway
        """Seal, in place, every picture an earlier version stored in the clear: each picture column's
        rows, then the picture files. Returns how many per table or folder (empty when this folder
        was done already). Safe to run while the store serves: a row is rewritten only if it still
        holds the very bytes read (a photo removed meanwhile stays removed), and a run cut short
        is resumed at the next start (the marker is written last). SQLite's secure_delete
        overwrites the pages the clear pictures leave; PostgreSQL keeps dead row versions until
        VACUUM (run VACUUM FULL after the upgrade)."""
        marker = self.data_dir / MARKER
        if marker.exists():
            return {}
        done: dict[str, int] = {}
        for col in PICTURE_COLUMNS:
            if n := self._seal_column(store, col):
                done[col.table] = n
        for folder in PICTURE_FOLDERS:
            if n := self._seal_folder(self.data_dir / folder):
                done[folder] = n
        files.write_atomic(marker, b"", mode=files.PRIVATE_FILE)
        (self.data_dir / OLD_MARKER).unlink(missing_ok=True)
        return done

    def _seal_column(self, store, col: PictureColumn) -> int:
        keys = ", ".join(col.keys)
        sealed, last = 0, None
        while True:
            after, args = _after(col.keys, last)
            with store.read() as conn:
                rows = [
                    tuple(r)
                    for r in conn.execute(
                        f"SELECT {keys}, {col.column} FROM {col.table} {after} ORDER BY {keys} LIMIT ?",
                        [*args, col.batch],
                    )
                ]
            if not rows:
                return sealed
            last = rows[-1][: len(col.keys)]
            plain = [
                (self.box.seal(bytes(r[-1])), *r[: len(col.keys)], bytes(r[-1]))
                for r in rows
                if r[-1] is not None and not self.is_sealed(r[-1])
            ]
            if plain:
                match = " AND ".join(f"{k} = ?" for k in col.keys)
                sql = f"UPDATE {col.table} SET {col.column} = ? WHERE {match} AND {col.column} = ?"
                sealed += store.write(
                    lambda conn, p=plain, s=sql: sum(conn.execute(s, row).rowcount for row in p)
                ).result()

    def _seal_folder(self, folder: Path) -> int:
        sealed = 0
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.name.startswith(".") or path.is_symlink() or not path.is_file():
                continue  # a temp file of a write in progress is not a picture yet
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if data and not self.is_sealed(data):
                self.write_file(path, data)
                sealed += 1
        return sealed


def _after(keys: tuple[str, ...], last: tuple | None) -> tuple[str, list]:
    """The WHERE clause of keyset paging: rows after `last` in (keys) order (portable row comparison)."""
    if last is None:
        return "", []
    if len(keys) == 1:
        return f"WHERE {keys[0]} > ?", [last[0]]
    a, b = keys
    return f"WHERE ({a} > ? OR ({a} = ? AND {b} > ?))", [last[0], last[0], last[1]]

"""The embedded store: SQLite in WAL mode, one writer thread, concurrent readers.

Writes from any thread are queued to the single writer thread that owns the
write connection (datasette's pattern), so the pipeline never waits on disk
and SQLite never sees two writers. Reads open their own connections; WAL lets
them run while the writer commits. The store's methods are in base.py, shared
with the PostgreSQL store (postgres.py); open_store() picks the backend.
"""

from __future__ import annotations

import os
import sqlite3
from importlib import resources
from pathlib import Path

from vigie import files
from vigie.errors import VigieError
from vigie.store.base import (  # re-exported: the code base imports them from here
    VISIBLE_ANALYSES,
    VISIBLE_TRACKS,
    StoreBase,
    _Writer,
    file_fingerprint,
    in_view_sql,
)
from vigie.times import now_iso

__all__ = [
    "SQLiteStore",
    "open_store",
    "VISIBLE_ANALYSES",
    "VISIBLE_TRACKS",
    "in_view_sql",
    "file_fingerprint",
    "DATABASE_URL_VARIABLE",
]

# A migration holding this line rebuilds tables (new constraints): it runs with foreign keys off.
REBUILDS_TABLES = "-- vigie: rebuilds tables"


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("vigie.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 30000")
    # Freed pages are overwritten, not left behind: purged tracks and pictures sealed in place
    # leave nothing readable in the file.
    conn.execute("PRAGMA secure_delete = ON")
    return conn


class SQLiteStore(StoreBase):
    def __init__(self, data_dir: str | Path) -> None:
        self._init_files(data_dir)
        self.path = self.data_dir / "vigie.db"
        self.location = str(self.path)
        try:
            conn = _connect(self.path)
            conn.execute("PRAGMA journal_mode = WAL")
            self._migrate(conn)
            conn.close()
        except sqlite3.DatabaseError as exc:
            raise VigieError(f"store {self.path} cannot be opened: {exc}") from None
        self._writer = _Writer(_connect(self.path), self)
        self._writer.start()

    # --- plumbing --------------------------------------------------------------
    @staticmethod
    def _migrate(conn: sqlite3.Connection) -> None:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        done = {r[0] for r in conn.execute("SELECT version FROM schema_version")}
        for version, sql in _migrations():
            if version in done:
                continue
            if REBUILDS_TABLES in sql:
                SQLiteStore._migrate_rebuilding_tables(conn, version, sql)
                continue
            # executescript commits first; the version row is in the same script
            # so a crash leaves either both or neither.
            conn.executescript(f"BEGIN;\n{sql}\nINSERT INTO schema_version VALUES ({version}, '{now_iso()}');\nCOMMIT;")

    @staticmethod
    def _migrate_rebuilding_tables(conn: sqlite3.Connection, version: int, sql: str) -> None:
        """SQLite's way to change a table's constraints (sqlite.org/lang_altertable.html, "other kinds of
        table schema changes"): with foreign keys off, build the new table, copy, drop, rename; then check
        every reference before committing. With them on, dropping the old `users` would cascade to sessions."""
        conn.execute("PRAGMA foreign_keys = OFF")  # only takes effect outside a transaction
        try:
            conn.executescript(f"BEGIN;\n{sql}")
            broken = conn.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                conn.execute("ROLLBACK")
                raise VigieError(
                    f"migration {version} would break {len(broken)} references (first: table {broken[0][0]}); nothing was changed"
                )
            conn.execute("INSERT INTO schema_version VALUES (?, ?)", (version, now_iso()))
            conn.execute("COMMIT")
        finally:
            conn.execute("PRAGMA foreign_keys = ON")

    def _open_read(self) -> sqlite3.Connection:
        conn = _connect(self.path)
        conn.execute("PRAGMA query_only = ON")
        return conn

    def data_version(self, conn: sqlite3.Connection) -> int:
        """PRAGMA data_version: changes when any other connection commits."""
        return conn.execute("PRAGMA data_version").fetchone()[0]


DATABASE_URL_VARIABLE = "VIGIE_DATABASE_URL"


def open_store(data_dir: str | Path | None = None) -> StoreBase:
    """The store: PostgreSQL when $VIGIE_DATABASE_URL is set (postgresql://...), else SQLite
    under $VIGIE_DATA (default ./var). Thumbnails and the search index live under $VIGIE_DATA either way.

    The store of a server or a command: its schema migrated (as any store opened), then the data folder
    upgraded, once (StoreBase.seal_plain_pictures: the pictures an earlier version kept in the clear)."""
    data_dir = data_dir or files.data_dir()
    url = os.environ.get(DATABASE_URL_VARIABLE, "").strip()
    if url:
        from vigie.store.postgres import PostgresStore  # lazy: psycopg loads only where PostgreSQL is chosen

        store: StoreBase = PostgresStore(url, data_dir)
    else:
        store = SQLiteStore(data_dir)
    try:
        store.seal_plain_pictures()  # a marker in the data folder says it is done: later starts skip it
    except BaseException:
        store.close()
        raise
    return store

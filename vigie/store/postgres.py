"""The server store: PostgreSQL through psycopg 3, with the SQLite store's behaviour.

Selected by open_store() when $VIGIE_DATABASE_URL is set. The methods are the
SQLite store's (base.py); only the plumbing differs: one writer thread holding
one connection (each job in its own transaction, rolled back on error), read-only
connections kept for the next read (at most IDLE_READERS idle), and the schema from migrations/postgres/ (one
file per SQLite migration, same number and name, PostgreSQL's dialect).
pg_dialect.py lets the code base's SQLite-dialect SQL run unchanged.
Thumbnails and the search index stay files under data_dir.

Where it still differs from SQLite (none of it changes what the contract suite checks):
  * an error inside a write job aborts the whole job's transaction (SQLite undoes only the
    statement): a job that catches a database error and carries on fails at its next statement;
  * ids are never given again (a sequence), where SQLite may reuse the highest deleted one;
  * LIKE is case-sensitive (SQLite's ignores ASCII case); text sorts by the database's
    collation (create it with the C collation to sort as SQLite does);
  * results are read whole into memory, and a writer whose connection is lost is not
    reconnected (restart the process).
"""

from __future__ import annotations

import sqlite3
import threading
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.pq import TransactionStatus

from vigie.errors import VigieError
from vigie.store.base import StoreBase, _Writer
from vigie.store.pg_dialect import WRITE_LOCK_KEY, PgConnection
from vigie.times import now_iso

IDLE_READERS = 8  # read connections kept open between reads (a server's threads read at once)


def pg_migrations() -> list[tuple[int, str]]:
    folder = resources.files("vigie.store") / "migrations" / "postgres"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def masked(url: str) -> str:
    """The URL with its password replaced by ***, for messages and logs."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return "<unparseable database URL>"


class PostgresStore(StoreBase):
    def __init__(self, url: str, data_dir: str | Path) -> None:
        self.url = url
        self.location = masked(url)
        if urlsplit(url).scheme not in ("postgresql", "postgres"):
            raise VigieError(
                f"database URL {self.location!r} is not a PostgreSQL URL (postgresql://user:password@host:port/database)"
            )
        self._init_files(data_dir)
        self._lock = threading.Lock()
        self._readers: list[
            PgConnection
        ] = []  # long-lived read connections handed out (search engine): closed with the store
        self._idle: list[PgConnection] = []  # read connections back from `with store.read()`, for the next one
        self._closed = False
        conn = self._connect(writer=True)
        try:
            self._migrate(conn)
        except psycopg.Error as exc:
            raise VigieError(f"PostgreSQL store {self.location}: the schema cannot be migrated: {exc}") from None
        finally:
            conn.close()
        self._writer = _Writer(self._connect(writer=True), self)
        self._writer.start()

    # --- plumbing --------------------------------------------------------------
    def _connect(self, writer: bool) -> PgConnection:
        try:
            return PgConnection.connect(self.url, writer=writer)
        except (psycopg.Error, ValueError) as exc:
            text = str(exc).strip()
            password = urlsplit(self.url).password if "://" in self.url else None
            if password:
                text = text.replace(password, "***")
            raise VigieError(f"PostgreSQL store {self.location} cannot be reached: {text}") from None

    @staticmethod
    def _migrate(conn: PgConnection) -> None:
        """Apply the migrations not yet applied, each in one transaction with its schema_version row.

        An advisory lock (the writers' one) keeps two processes starting at once from both migrating."""
        raw = conn.raw
        with raw.transaction():
            raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
            raw.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
        raw.commit()
        for version, sql in pg_migrations():
            with raw.transaction():
                raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
                if raw.execute("SELECT 1 FROM schema_version WHERE version = %s", (version,)).fetchone():
                    continue
                raw.execute(sql)  # the file's statements, PostgreSQL's dialect as written
                raw.execute("INSERT INTO schema_version VALUES (%s, %s)", (version, now_iso()))
            raw.commit()

    def _open_read(self) -> PgConnection:
        return self._connect(writer=False)

    def read(self) -> "_PooledRead":
        """A read connection from the idle ones, or a new one: opening one costs ~8 ms (TCP, authentication,
        a backend process), more than most of the web's reads (BENCHMARKS section 17)."""
        return _PooledRead(self)

    def _take(self) -> PgConnection:
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed:
                    return conn
        return self._open_read()

    def _give(self, conn: PgConnection, failed: bool) -> None:
        if conn.closed:
            return
        if not failed:
            try:
                if conn.raw.info.transaction_status != TransactionStatus.IDLE:
                    conn.raw.rollback()  # a reader's BEGIN (one snapshot) ends with it
            except psycopg.Error:
                failed = True
        with self._lock:
            if not failed and not self._closed and len(self._idle) < IDLE_READERS:
                self._idle.append(conn)
                return
        conn.close()

    def data_version(self, conn: PgConnection) -> int | None:
        """The server's WAL position: unchanged, nothing was committed since (any write moves it, so a change
        only means "read the generation again"). None on a standby, which has no insert position."""
        try:
            return conn.execute("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn").fetchone()[0]
        except sqlite3.OperationalError:
            return None

    def long_reader(self) -> PgConnection:
        """A read connection kept open by its user (the search engine, one per thread); closed by close()."""
        conn = self._open_read()
        with self._lock:
            self._readers.append(conn)
        return conn

    def close(self) -> None:
        super().close()
        with self._lock:
            self._closed = True
            for conn in self._readers + self._idle:
                conn.close()
            self._readers.clear()
            self._idle.clear()


class _PooledRead:
    """`with store.read() as conn`: a pooled read connection, given back on exit (closed if it failed)."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    def __enter__(self) -> PgConnection:
        self.conn = self.store._take()
        return self.conn

    def __exit__(self, exc_type, *exc) -> None:
        self.store._give(self.conn, failed=exc_type is not None)

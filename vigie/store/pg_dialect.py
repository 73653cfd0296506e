"""Run the store's SQLite-dialect SQL on PostgreSQL (psycopg 3) with the sqlite3 connection's manners.

The code base writes SQL with `?` placeholders and reads rows as sqlite3.Row
(r[0], r["col"], keys(), dict(r)). PgConnection wraps a psycopg connection so
that the same calls work: it rewrites the few dialect differences statement by
statement, and turns results and errors into what sqlite3 gives. It is a
dialect adapter, not an ORM: SQL that only SQLite understands (group_concat,
strftime, INSERT OR REPLACE, ...) is rewritten where it is written, in a form
both databases run.

What is translated:
  * `?` -> `%s` (`:name` -> `%(name)s`) outside string literals, quoted names and comments; `%` -> `%%`;
  * `INSERT OR IGNORE INTO ...` -> `INSERT INTO ... ON CONFLICT DO NOTHING`;
  * `INSERT` into a table with an `id` column -> `... RETURNING id`, for cursor.lastrowid;
  * `PRAGMA ...` -> nothing (an empty cursor): they tune SQLite only;
  * `BEGIN IMMEDIATE` / `BEGIN EXCLUSIVE` on the writer -> a transaction-level advisory
    lock, so that, as in SQLite, one writer at a time (any process) reads-then-writes;
    a plain `BEGIN` there is a no-op (psycopg opens the transaction itself);
  * `BEGIN` on a read connection -> `BEGIN ISOLATION LEVEL REPEATABLE READ`: every later
    statement sees one snapshot, as in SQLite's read transaction;
  * numeric results (PostgreSQL's sum of BIGINTs, averages) -> int when integral, else float;
    booleans (EXISTS ..., comparisons) -> 0/1, as SQLite returns them.
"""

from __future__ import annotations

import re
import sqlite3
from functools import lru_cache
from typing import Iterable, Iterator, Mapping, Sequence

import psycopg
from psycopg import errors as pg_errors
from psycopg.adapt import Loader
from psycopg.pq import TransactionStatus

# pg_advisory_xact_lock key of the store's write lock (any constant shared by every Vigie process).
WRITE_LOCK_KEY = 0x76696769  # "vigi"


# --- statements ---------------------------------------------------------------------
_INSERT_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\b", re.I)
_INSERT_TABLE = re.compile(r'^\s*INSERT\s+(?:OR\s+IGNORE\s+)?INTO\s+"?(\w+)"?', re.I)
_BEGIN = re.compile(r"^\s*BEGIN(\s+(DEFERRED|IMMEDIATE|EXCLUSIVE))?(\s+TRANSACTION)?\s*;?\s*$", re.I)
_END = re.compile(r"^\s*(COMMIT|END|ROLLBACK)(\s+TRANSACTION)?\s*;?\s*$", re.I)
_PRAGMA = re.compile(r"^\s*PRAGMA\b", re.I)
_READING = re.compile(r"^\s*(SELECT|WITH|VALUES|EXPLAIN)\b", re.I)
_NAME = re.compile(r"[A-Za-z_]\w*")


@lru_cache(maxsize=1024)
def placeholders(sql: str, named: bool = False) -> str:
    """`?` (or `:name` when named) -> `%s` (`%(name)s`) and `%` -> `%%`, psycopg's placeholder syntax;
    '...', "..." and -- comments are left alone."""
    out, i, n = [], 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"":  # a literal or a quoted name, '' / "" escape themselves
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            out.append(sql[i : j + 1].replace("%", "%%"))
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j].replace("%", "%%"))
            i = j
        elif (
            named
            and ch == ":"
            and (m := _NAME.match(sql, i + 1))
            and not sql.startswith("::", i)
            and sql[i - 1 : i] != ":"
        ):
            out.append(f"%({m.group(0)})s")
            i = m.end()
        else:
            out.append("%s" if ch == "?" and not named else "%%" if ch == "%" else ch)
            i += 1
    return "".join(out)


@lru_cache(maxsize=1024)
def translate(sql: str, named: bool = False) -> str:
    """A statement in PostgreSQL's dialect (placeholders and INSERT OR IGNORE); RETURNING is added by the caller."""
    if _INSERT_OR_IGNORE.match(sql):
        sql = _INSERT_OR_IGNORE.sub("INSERT INTO", sql, count=1).rstrip().rstrip(";") + " ON CONFLICT DO NOTHING"
    return placeholders(sql, named)


# --- results --------------------------------------------------------------------------
class Row:
    """A result row that behaves like sqlite3.Row: r[0], r["name"] (any case), keys(), dict(r), tuple(r)."""

    __slots__ = ("_values", "_names", "_index")

    def __init__(self, values: Sequence, names: list[str], index: dict[str, int]) -> None:
        self._values, self._names, self._index = tuple(values), names, index

    def __getitem__(self, key):
        if isinstance(key, str):
            try:
                return self._values[self._index[key.lower()]]
            except KeyError:
                raise IndexError(f"No item with that key: {key!r}") from None  # sqlite3.Row raises IndexError too
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._names)

    def __iter__(self) -> Iterator:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other) -> bool:
        if isinstance(other, Row):
            return self._names == other._names and self._values == other._values
        return NotImplemented

    def __hash__(self) -> int:
        return hash((tuple(self._names), self._values))

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._names, self._values))!r})"


def _row_factory(cursor):
    if cursor.description is None:
        return tuple
    names = [d.name for d in cursor.description]
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        index.setdefault(name.lower(), i)  # the first of two same-named columns, as sqlite3.Row
    return lambda values: Row(values, names, index)


class _NumericLoader(Loader):
    """numeric -> int when it has no fractional part (sum of BIGINTs: an int in SQLite), else float."""

    def load(self, data) -> int | float:
        text = bytes(data)
        if text.lstrip(b"-").isdigit():
            return int(text)
        return float(text)


class _BoolLoader(Loader):
    """bool -> 1/0: SQLite has no booleans, and callers compare, sum or serialise these as integers."""

    def load(self, data) -> int:
        return 1 if bytes(data) == b"t" else 0


class Cursor:
    """The result of one execute: fetchone/fetchmany/fetchall/iteration, rowcount, lastrowid, description."""

    def __init__(self, cur=None, lastrowid: int | None = None) -> None:
        self._cur, self.lastrowid = cur, lastrowid

    def _has_rows(self) -> bool:
        return self._cur is not None and self._cur.description is not None and self.lastrowid is None

    @property
    def rowcount(self) -> int:
        return -1 if self._cur is None else self._cur.rowcount

    @property
    def description(self):
        return self._cur.description if self._has_rows() else None

    def fetchone(self):
        return self._cur.fetchone() if self._has_rows() else None

    def fetchmany(self, size: int = 1) -> list:
        return self._cur.fetchmany(size) if self._has_rows() else []

    def fetchall(self) -> list:
        return self._cur.fetchall() if self._has_rows() else []

    def __iter__(self) -> Iterator:
        return iter(self._cur) if self._has_rows() else iter(())

    def close(self) -> None:
        if self._cur is not None:
            self._cur.close()


# --- errors ---------------------------------------------------------------------------
def sqlite_error(exc: psycopg.Error) -> sqlite3.Error:
    """The sqlite3 exception a caller of the SQLite store would have got for this PostgreSQL error.

    Why sqlite3's classes: callers catch DB-API errors by sqlite3's names (the store's
    finish_analysis catches sqlite3.IntegrityError to recognise the legal-hold trigger;
    tests expect sqlite3.IntegrityError for a constraint), and they read the message
    text, so the primary message is kept as is (e.g. the triggers' own words)."""
    message = (exc.diag.message_primary if exc.diag is not None else None) or str(exc)
    if isinstance(exc, (psycopg.IntegrityError, pg_errors.RaiseException)):
        cls = sqlite3.IntegrityError  # constraints, and errors raised by the triggers (legal hold, append-only)
    elif isinstance(exc, (psycopg.OperationalError, psycopg.ProgrammingError, pg_errors.ReadOnlySqlTransaction)):
        cls = sqlite3.OperationalError  # syntax, unknown table or column, read-only, connection: as SQLite reports them
    elif isinstance(exc, psycopg.DataError):
        cls = sqlite3.DataError
    else:
        cls = sqlite3.DatabaseError
    return cls(message)


# --- connections ------------------------------------------------------------------------
class PgConnection:
    """A psycopg connection with sqlite3.Connection's manners (see the module's docstring).

    writer=True: not autocommit; `with conn:` commits or rolls back, as sqlite3's.
    writer=False: autocommit and read-only; `BEGIN` opens one REPEATABLE READ snapshot.
    """

    def __init__(self, raw: psycopg.Connection, writer: bool) -> None:
        self.raw, self.writer = raw, writer
        self._id_tables: set[str] | None = None
        self._changing = False  # writer: this transaction has changed something or holds the write lock
        raw.row_factory = _row_factory
        raw.adapters.register_loader("numeric", _NumericLoader)
        raw.adapters.register_loader("bool", _BoolLoader)

    @classmethod
    def connect(cls, url: str, writer: bool, connect_timeout: int = 10) -> "PgConnection":
        raw = psycopg.connect(url, autocommit=not writer, connect_timeout=connect_timeout)
        if not writer:
            raw.execute("SET default_transaction_read_only = on")  # as SQLite's PRAGMA query_only
        return cls(raw, writer)

    # --- sqlite3.Connection's interface ---------------------------------------------------
    @property
    def in_transaction(self) -> bool:
        """As sqlite3's: on the writer, only once the job has changed something (sqlite3 begins its
        transaction before the first INSERT/UPDATE/DELETE, not before a SELECT) or took the write lock;
        callers then issue BEGIN IMMEDIATE to take the lock before reading what they will change."""
        if self.writer:
            return self._changing
        return self.raw.info.transaction_status != TransactionStatus.IDLE

    @property
    def closed(self) -> bool:
        return self.raw.closed

    def execute(self, sql: str, params: Sequence | None = ()) -> Cursor:
        if _PRAGMA.match(sql):
            return Cursor()
        begin = _BEGIN.match(sql)
        if begin:
            return self._begin((begin.group(2) or "").upper())
        if _END.match(sql):
            (self.rollback if sql.strip().upper().startswith("ROLLBACK") else self.commit)()
            return Cursor()
        if self.writer and not _READING.match(sql):
            self._changing = True
        named = isinstance(params, Mapping)  # sqlite3's :name parameters
        query = translate(sql, named)
        returning = self._returns_id(sql)
        if returning:
            query = query.rstrip().rstrip(";") + " RETURNING id"
        try:
            cur = self.raw.execute(query, dict(params) if named else tuple(params or ()))
        except psycopg.Error as exc:
            raise sqlite_error(exc) from exc
        if returning:
            row = cur.fetchone()
            return Cursor(cur, lastrowid=row[0] if row else None)
        return Cursor(cur)

    def executemany(self, sql: str, seq_of_params: Iterable[Sequence]) -> Cursor:
        seq = list(seq_of_params)
        named = bool(seq) and isinstance(seq[0], Mapping)
        self._changing = self._changing or self.writer
        cur = self.raw.cursor()
        try:
            cur.executemany(translate(sql, named), [dict(p) if named else tuple(p) for p in seq])
        except psycopg.Error as exc:
            raise sqlite_error(exc) from exc
        return Cursor(cur)

    def commit(self) -> None:
        self._changing = False
        self.raw.commit()

    def rollback(self) -> None:
        self._changing = False
        self.raw.rollback()

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> "PgConnection":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        """As sqlite3's: commit if the block succeeded, roll back if it raised; the connection stays open."""
        if self.raw.closed:
            return
        if exc_type is None:
            try:
                self.commit()
            except psycopg.Error as err:  # a deferred constraint, a lost connection
                raise sqlite_error(err) from err
        else:
            self.rollback()

    # --- helpers ------------------------------------------------------------------------------
    def _begin(self, mode: str) -> Cursor:
        if not self.writer:
            if not self.in_transaction:
                self.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        elif mode in ("IMMEDIATE", "EXCLUSIVE"):
            # SQLite's write lock, taken before reading what the job will change: here a lock
            # that every Vigie writer takes the same way, released at commit or rollback.
            self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
            self._changing = True
        return Cursor()

    def _returns_id(self, sql: str) -> bool:
        """Whether this is an INSERT into a table with an `id` column (its new id becomes lastrowid)."""
        m = _INSERT_TABLE.match(sql)
        if not m or re.search(r"\bRETURNING\b", sql, re.I):
            return False
        if self._id_tables is None:
            rows = self.raw.execute(
                "SELECT table_name FROM information_schema.columns"
                " WHERE column_name = 'id' AND table_schema = current_schema()"
            ).fetchall()
            self._id_tables = {r[0] for r in rows}
        return m.group(1).lower() in self._id_tables

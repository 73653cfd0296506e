"""The PostgreSQL store's own plumbing: the dialect adapter, the migrations' files, store selection, connection errors."""

from __future__ import annotations

import sqlite3

import pytest

from vigie.errors import VigieError
from vigie.store import pg_dialect
from vigie.store.postgres import PostgresStore, masked, pg_migrations
from vigie.store.sqlite import _migrations, open_store


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM t WHERE a = ? AND b > ?", "SELECT * FROM t WHERE a = %s AND b > %s"),
        ("SELECT '?', \"col?\", ? -- why?\n, x LIKE '5%'", "SELECT '?', \"col?\", %s -- why?\n, x LIKE '5%%'"),
        ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', %s"),
        ("INSERT OR IGNORE INTO t VALUES (?, ?);", "INSERT INTO t VALUES (%s, %s) ON CONFLICT DO NOTHING"),
        ("SELECT 10 % 3", "SELECT 10 %% 3"),
    ],
)
def test_statements_are_translated_outside_literals(sql, expected):
    assert pg_dialect.translate(sql) == expected


def test_named_parameters_are_translated():
    assert (
        pg_dialect.translate("SELECT :t, ':x', a::int FROM p WHERE t = :t", named=True)
        == "SELECT %(t)s, ':x', a::int FROM p WHERE t = %(t)s"
    )


def test_every_sqlite_migration_has_its_postgresql_version():
    assert [v for v, _ in pg_migrations()] == [v for v, _ in _migrations()]
    folder = pg_dialect.__file__.rsplit("/", 1)[0] + "/migrations"
    import os

    assert sorted(f for f in os.listdir(folder) if f.endswith(".sql")) == sorted(os.listdir(folder + "/postgres"))


def test_urls_are_masked_in_messages():
    assert masked("postgresql://vigie:s3cret@db.example:5432/vigie") == "postgresql://vigie:***@db.example:5432/vigie"
    assert masked("postgresql://vigie@db/vigie") == "postgresql://vigie@db/vigie"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://vigie:s3cret@127.0.0.1:1/vigie", "cannot be reached"),
        ("postgresql://vigie:s3cret@127.0.0.1:notaport/vigie", "cannot be reached"),
        ("mysql://vigie:s3cret@127.0.0.1/vigie", "not a PostgreSQL URL"),
    ],
)
def test_an_unreachable_or_malformed_url_is_a_clear_error_without_the_password(url, message, tmp_path):
    with pytest.raises(VigieError, match=message) as err:
        PostgresStore(url, tmp_path)
    assert "s3cret" not in str(err.value) and "vigie:***@127.0.0.1" in str(err.value)


def test_open_store_picks_postgresql_when_the_variable_is_set(tmp_path, monkeypatch):
    monkeypatch.delenv("VIGIE_DATABASE_URL", raising=False)
    with open_store(tmp_path) as s:
        assert type(s).__name__ == "SQLiteStore"
    monkeypatch.setenv("VIGIE_DATABASE_URL", "postgresql://vigie:s3cret@127.0.0.1:1/vigie")
    with pytest.raises(
        VigieError, match=r"PostgreSQL store postgresql://vigie:\*\*\*@127.0.0.1:1/vigie cannot be reached"
    ):
        open_store(tmp_path)


def test_a_postgresql_store_opens_through_open_store(pg_server, tmp_path, monkeypatch):
    if isinstance(pg_server, str):
        pytest.fail(pg_server, pytrace=False)
    monkeypatch.setenv("VIGIE_DATABASE_URL", pg_server.fresh_database())
    with open_store(tmp_path) as s:
        assert isinstance(s, PostgresStore) and s.schema_version() == len(_migrations())
        assert s.thumb_dir == tmp_path / "thumbnails"


@pytest.fixture
def pg_store(pg_server, tmp_path):
    if isinstance(pg_server, str):
        pytest.fail(pg_server, pytrace=False)
    with PostgresStore(pg_server.fresh_database(), tmp_path) as s:
        yield s


def add_camera(store, camera_id: str) -> None:
    from vigie.config import CameraConfig

    store.upsert_cameras([CameraConfig(id=camera_id, name=camera_id, lat=43.8, lon=4.36)])


def cameras(store) -> list[str]:
    with store.read() as conn:
        return [r[0] for r in conn.execute("SELECT id FROM cameras ORDER BY id")]


def test_read_connections_are_kept_for_the_next_read_and_see_what_was_committed_since(pg_store):
    with pg_store.read() as first:
        pass
    with pg_store.read() as second:
        assert second is first  # no new connection (8 ms each)
        second.execute("BEGIN")  # a reader's snapshot...
        assert second.execute("SELECT count(*) FROM cameras").fetchone()[0] == 0
    add_camera(pg_store, "cam-a")
    assert cameras(pg_store) == ["cam-a"]  # ...ended when it was given back: the next reader sees the commit


def test_a_read_connection_that_failed_is_not_given_to_the_next_read(pg_store):
    with pytest.raises(sqlite3.OperationalError):
        with pg_store.read() as conn:
            conn.execute("SELECT no_such_column FROM cameras")
    assert conn.closed
    with pg_store.read() as other:
        assert other is not conn and other.execute("SELECT 1").fetchone()[0] == 1


def test_the_data_version_moves_whenever_something_is_committed(pg_store):
    """What the search engine relies on to skip re-reading the store's generation: an unchanged
    version means nothing was committed. (It may also move for the server's own WAL records.)"""
    reader = pg_store.long_reader()
    seen = [pg_store.data_version(reader)]
    for cam in ("cam-a", "cam-b"):
        add_camera(pg_store, cam)
        seen.append(pg_store.data_version(reader))
    assert seen[0] < seen[1] < seen[2]

"""The SQLite and PostgreSQL migrations build the same schema: the same tables, the same columns
(of the same kind: integer, real, text, bytes), the same indexes over the same columns.

A migration written for one dialect and forgotten (or mistyped) in the other fails here, by name,
before a city finds it on its PostgreSQL cluster.
"""

from __future__ import annotations

import sqlite3

import psycopg
import pytest

from vigie.store.sqlite import SQLiteStore

# Each dialect's column types, by the kind of value they hold.
KINDS = {
    "integer": "integer", "bigint": "integer", "smallint": "integer", "boolean": "integer",
    "real": "real", "double precision": "real", "float": "real", "numeric": "real",
    "text": "text", "character varying": "text", "varchar": "text",
    "blob": "bytes", "bytea": "bytes",
}  # fmt: skip


def kind(declared: str) -> str:
    name = declared.strip().lower().split("(")[0]
    if name not in KINDS:
        raise AssertionError(f"column type {declared!r} has no kind in this test: add it to KINDS")
    return KINDS[name]


def sqlite_schema(path) -> dict:
    conn = sqlite3.connect(path)
    try:
        tables = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
        ]
        columns = {t: {r[1]: kind(r[2]) for r in conn.execute(f'PRAGMA table_info("{t}")')} for t in tables}
        indexes = {}
        for name, table in conn.execute(
            "SELECT name, tbl_name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"
        ):
            indexes[name] = (table, tuple(r[2] for r in conn.execute(f'PRAGMA index_info("{name}")')))
        return {"columns": columns, "indexes": indexes}
    finally:
        conn.close()


def postgres_schema(url: str) -> dict:
    with psycopg.connect(url) as conn:
        columns: dict[str, dict[str, str]] = {}
        for table, column, data_type in conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
        ):
            columns.setdefault(table, {})[column] = kind(data_type)
        # Indexes created as such, not those that back a primary key or a UNIQUE constraint (SQLite keeps
        # those as automatic indexes, left out above).
        indexes = {}
        for name, table, cols in conn.execute(
            "SELECT i.relname, t.relname, array_agg(a.attname ORDER BY k.n) "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "JOIN pg_namespace ns ON ns.oid = t.relnamespace "
            "CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
            "WHERE ns.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) "
            "GROUP BY i.relname, t.relname"
        ):
            indexes[name] = (table, tuple(cols))
        return {"columns": columns, "indexes": indexes}


@pytest.fixture(scope="module")
def schemas(pg_server, tmp_path_factory):
    if isinstance(pg_server, str):
        pytest.fail(pg_server, pytrace=False)
    folder = tmp_path_factory.mktemp("sqlite-schema")
    SQLiteStore(folder).close()
    return sqlite_schema(folder / "vigie.db"), postgres_schema(pg_server.template_url())


def test_both_have_the_same_tables(schemas):
    lite, pg = schemas
    assert sorted(lite["columns"]) == sorted(pg["columns"])


def test_every_table_has_the_same_columns_of_the_same_kinds(schemas):
    lite, pg = schemas
    differ = {
        t: (lite["columns"][t], pg["columns"].get(t))
        for t in lite["columns"]
        if lite["columns"][t] != pg["columns"].get(t)
    }
    assert not differ, differ


def test_both_have_the_same_indexes_over_the_same_columns(schemas):
    lite, pg = schemas
    assert lite["indexes"] == pg["indexes"]

"""Fixtures of the store contract suite: every test runs on SQLite and on a real PostgreSQL 15.

The PostgreSQL server is Debian's (package postgresql-15), started once per session
on 127.0.0.1 and a free port in a temporary folder, and stopped at the end
(pg_ctl -m fast stop). It refuses to run as root, so as root it runs as the
`postgres` user (runuser) on a folder that user owns. Durability is off
(fsync, synchronous_commit): the data is thrown away. Each test gets a fresh
database, copied from a template that already holds the migrated schema.

Without the binaries the postgres cases FAIL (not skip): the contract is only
kept if it is checked on both backends.

This folder is a package (__init__.py) so that this conftest does not shadow
tests/conftest.py (whose fixtures the suite uses; its builders come from tests/builders.py).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from pg_server import PG_BIN, PG_PACKAGE, THROWAWAY, PgServer

BACKENDS = ["sqlite", "postgres"]
TEMPLATE = "vigie_template"


class ContractServer(PgServer):
    """The session's server: fresh databases copied from a template that holds the migrated schema."""

    def __init__(self) -> None:
        super().__init__(settings={**THROWAWAY, "max_connections": "300"})
        self._names = itertools.count(1)

    def make_template(self, data_dir: Path) -> None:
        from vigie.store.postgres import PostgresStore

        self.admin(f"CREATE DATABASE {TEMPLATE}")
        PostgresStore(self.url(TEMPLATE), data_dir).close()

    def template_url(self) -> str:
        """The database that holds the migrated schema, as the migrations left it."""
        return self.url(TEMPLATE)

    def fresh_database(self) -> str:
        name = f"t{next(self._names)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
        return self.url(name)


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """The session's PostgreSQL server, or the reason there is none (a text: the postgres cases then fail)."""
    if not (PG_BIN / "initdb").is_file() or not (PG_BIN / "pg_ctl").is_file():
        yield (
            f"PostgreSQL 15 is not installed ({PG_BIN}/initdb and pg_ctl are missing): install Debian's package "
            f"{PG_PACKAGE} (apt-get install {PG_PACKAGE}) to run the store contract on PostgreSQL"
        )
        return
    try:
        server = ContractServer()
    except Exception as exc:  # noqa: BLE001  (reported as the postgres cases' failure)
        yield f"the PostgreSQL 15 server of the store contract could not be started: {exc}"
        return
    try:
        server.make_template(tmp_path_factory.mktemp("pg-template"))
        yield server
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def store(backend, request, tmp_path):
    """A fresh, empty, migrated store of the backend; its thumbnails and index under tmp_path."""
    if backend == "sqlite":
        from vigie.store.sqlite import SQLiteStore

        s = SQLiteStore(tmp_path)
    else:
        server = request.getfixturevalue("pg_server")
        if isinstance(server, str):
            request.node.pg_unavailable = server  # failed in the test's call phase (pytest_runtest_call), not skipped
            yield None
            return
        from vigie.store.postgres import PostgresStore

        s = PostgresStore(server.fresh_database(), tmp_path)
    yield s
    s.close()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    reason = getattr(item, "pg_unavailable", None)
    if reason:
        pytest.fail(reason, pytrace=False)

"""Every storage contract test runs on each backend, through the same entry point the bot
uses (bot.storage.open_database), as the single implicit commune unless a test says otherwise.

PostgreSQL is a real server: the `pgserver` wheel started once per session (data under
pytest's tmp dir), or the server named by TEST_POSTGRES_URL. Each test gets a fresh database.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.storage import Database, open_database
from flows.models import DEFAULT_COMMUNE
from flows.ports import Storage

BACKENDS = ["memory", "sqlite", "postgres"]
_NAMES = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a server this session may create databases on."""
    existing = os.environ.get("TEST_POSTGRES_URL")
    if existing:
        yield existing
        return
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


async def fresh_postgres_database(server_url: str) -> str:
    """Create an empty database on the server; returns its URL."""
    import asyncpg

    name = f"t{os.getpid()}_{next(_NAMES)}"
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, query = server_url.partition("?")
    root = base.rsplit("/", 1)[0]
    return f"{root}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    url: str | None = None
    if request.param == "sqlite":
        url = str(tmp_path / "b.db")
    elif request.param == "postgres":
        url = await fresh_postgres_database(request.getfixturevalue("postgres_url"))
    db = open_database(url)
    await db.open()
    yield db
    await db.close()


@pytest.fixture
def store(database: Database) -> Storage:
    return database.for_commune(DEFAULT_COMMUNE)

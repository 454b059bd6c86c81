"""A real PostgreSQL for any test package: the `pgserver` wheel started once per session (data
in a temporary folder), or the server named by TEST_POSTGRES_URL; each test that asks gets a
fresh, empty database on it. `bot_db` runs a test on both databases the bot supports."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

DATABASES = ["sqlite", "postgres"]
_NAMES = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of a server this session may create databases on."""
    existing = os.environ.get("TEST_POSTGRES_URL")
    if existing:
        yield existing
        return
    import pgserver

    # not under pytest's basetemp: a concurrent pytest session of the same user prunes old
    # numbered folders there, data directory of a running server included
    data = Path(tempfile.mkdtemp(prefix="pgdata-tests-"))
    server = pgserver.get_server(data, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(data, ignore_errors=True)


async def fresh_postgres_database(server_url: str) -> str:
    """Create an empty database on the server; returns its URL."""
    import asyncpg  # type: ignore[import-untyped]

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


@pytest.fixture(params=DATABASES)
async def bot_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """BOT_DB for a whole-process test: a fresh SQLite file or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "bot.sqlite3")
    return await fresh_postgres_database(request.getfixturevalue("postgres_url"))

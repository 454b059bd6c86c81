"""Every storage contract test runs on each backend, through the same entry point the bot
uses (bot.storage.open_database), as the single implicit commune unless a test says otherwise.

PostgreSQL is a real server: the `pgserver` wheel started once per session (data under
pytest's tmp dir, tests/pg.py), or the server named by TEST_POSTGRES_URL. Each test gets a fresh
database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import Database, open_database
from flows.models import DEFAULT_COMMUNE
from flows.ports import Storage
from tests.pg import fresh_postgres_database

BACKENDS = ["memory", "sqlite", "postgres"]


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

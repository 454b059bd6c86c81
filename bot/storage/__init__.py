"""Storage: focused repositories (flows.ports) on memory, SQLite or PostgreSQL.

Every implementation passes the same contract tests (tests/storage). A `Database` holds the
connection(s) of a process; `for_commune` gives the Storage that sees one commune's rows.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

from bot.storage.memory import MemoryDatabase, MemoryStorage
from bot.storage.migrations import SchemaTooNewError
from bot.storage.sqlite import SqliteDatabase, SqliteStorage
from flows.models import DEFAULT_COMMUNE
from flows.ports import Storage

__all__ = [
    "Database",
    "MemoryDatabase",
    "MemoryStorage",
    "SchemaTooNewError",
    "SqliteDatabase",
    "SqliteStorage",
    "open_database",
    "open_storage",
]


class Database(Protocol):
    """The connection(s) of one process, shared by all its communes."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    def for_commune(self, commune: str) -> Storage: ...


def is_postgres(url: str | os.PathLike[str] | None) -> bool:
    return isinstance(url, str) and url.startswith(("postgresql://", "postgres://"))


def sqlite_path(url: str | os.PathLike[str]) -> str:
    """A plain path or "sqlite:PATH"."""
    text = os.fspath(url)
    return (
        text.removeprefix("sqlite://")
        if text.startswith("sqlite://")
        else (text.removeprefix("sqlite:"))
    )


def open_database(url: str | os.PathLike[str] | None, **opts: Any) -> Database:
    """The database for a configured setting: None -> memory; "postgresql://..." ->
    PostgreSQL; "sqlite:PATH" or a plain path -> SQLite (opts: synchronous, busy_timeout_ms).

    Only builds it; the caller awaits `open()` (and `close()` at shutdown)."""
    if url is None:
        return MemoryDatabase()
    if is_postgres(url):
        from bot.storage.postgres import PostgresDatabase

        return PostgresDatabase(str(url), **opts)
    return SqliteDatabase(sqlite_path(url), **opts)


def open_storage(path: str | os.PathLike[str] | None, *, synchronous: str = "NORMAL") -> Storage:
    """The single-commune store for a configured database path: memory when there is none.

    Only builds it; the caller still awaits `store.open()` (and `store.close()` at shutdown).
    """
    if path is None:
        return MemoryStorage()
    if is_postgres(path):
        from bot.storage.postgres import PostgresDatabase, PostgresStorage

        return PostgresStorage(PostgresDatabase(str(path)), DEFAULT_COMMUNE, owned=True)
    return SqliteStorage(sqlite_path(path), synchronous=synchronous)

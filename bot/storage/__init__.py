"""Conversation storage: SQLite in production, memory for tests and quick runs.

Both implement flows.ports.Storage and pass the same contract tests (tests/storage).
"""

from __future__ import annotations

import os

from bot.storage.memory import MemoryStorage
from bot.storage.migrations import SchemaTooNewError
from bot.storage.sqlite import SqliteStorage
from flows.ports import Storage

__all__ = ["MemoryStorage", "SchemaTooNewError", "SqliteStorage", "open_storage"]


def open_storage(path: str | os.PathLike[str] | None, *, synchronous: str = "NORMAL") -> Storage:
    """The store for a configured database path: memory when there is none.

    Only builds it; the caller still awaits `store.open()` (and `store.close()` at shutdown).
    """
    if path is None:
        return MemoryStorage()
    return SqliteStorage(path, synchronous=synchronous)

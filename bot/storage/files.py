"""Files staff send to a citizen from the web inbox.

The bytes are stored with the conversation (ON DELETE CASCADE): /xoadulieu and the retention
purge erase them with it. A web-chat citizen downloads a file from the chat API as long as the
conversation lives; the Telegram transport reads the bytes when it delivers the outbox entry.
"""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.storage.memory import MemoryStorage
from bot.storage.sqlite import SqliteStorage
from bot.storage.timecode import iso as _iso
from flows.ports import Storage

if TYPE_CHECKING:
    from bot.storage.postgres import PostgresStorage


@dataclass(frozen=True)
class StaffFile:
    id: int
    conversation_id: int
    name: str
    mime: str
    data: bytes


class StaffFiles(abc.ABC):
    @abc.abstractmethod
    async def put(
        self, conversation_id: int, name: str, mime: str, data: bytes, now: dt.datetime
    ) -> int | None:
        """Store a file of this commune's conversation; its id, or None when there is no such
        conversation (erased meanwhile)."""

    @abc.abstractmethod
    async def get(self, file_id: int) -> StaffFile | None:
        """None when unknown, of another commune, or erased with its conversation."""


def _file(row: object) -> StaffFile:
    r = row  # sqlite3.Row or asyncpg.Record: both index by position
    return StaffFile(int(r[0]), int(r[1]), str(r[2]), str(r[3]), bytes(r[4]))  # type: ignore[index]


class SqliteStaffFiles(StaffFiles):
    def __init__(self, storage: SqliteStorage) -> None:
        self._db = storage.database
        self._commune = storage.commune

    async def put(
        self, conversation_id: int, name: str, mime: str, data: bytes, now: dt.datetime
    ) -> int | None:
        rows = await self._db.write_one(
            "INSERT INTO staff_files (commune, conversation_id, name, mime, data, created_at)"
            " SELECT ?, id, ?, ?, ?, ? FROM conversations WHERE id = ? AND commune = ?"
            " RETURNING id",
            (self._commune, name, mime, data, _iso(now), conversation_id, self._commune),
        )
        return int(rows[0][0]) if rows else None

    async def get(self, file_id: int) -> StaffFile | None:
        rows = await self._db.read(
            "SELECT id, conversation_id, name, mime, data FROM staff_files"
            " WHERE id = ? AND commune = ?",
            (file_id, self._commune),
        )
        return _file(rows[0]) if rows else None


class PgStaffFiles(StaffFiles):
    def __init__(self, storage: PostgresStorage) -> None:
        self._db = storage.database
        self._commune = storage.commune

    async def put(
        self, conversation_id: int, name: str, mime: str, data: bytes, now: dt.datetime
    ) -> int | None:
        value = await self._db.pool.fetchval(
            "INSERT INTO staff_files (commune, conversation_id, name, mime, data, created_at)"
            " SELECT $1, id, $2, $3, $4, $5 FROM conversations WHERE id = $6 AND commune = $1"
            " RETURNING id",
            self._commune,
            name,
            mime,
            data,
            _iso(now),
            conversation_id,
        )
        return int(value) if value is not None else None

    async def get(self, file_id: int) -> StaffFile | None:
        row = await self._db.pool.fetchrow(
            "SELECT id, conversation_id, name, mime, data FROM staff_files"
            " WHERE id = $1 AND commune = $2",
            file_id,
            self._commune,
        )
        return _file(row) if row is not None else None


@dataclass
class MemoryStaffFiles(StaffFiles):
    """For tests and memory runs; a file of an erased conversation is dropped when asked for."""

    storage: Storage
    _files: dict[int, StaffFile] = field(default_factory=dict)
    _next: int = 0

    async def put(
        self, conversation_id: int, name: str, mime: str, data: bytes, now: dt.datetime
    ) -> int | None:
        if await self.storage.conversations.find(conversation_id) is None:
            return None
        self._next += 1
        self._files[self._next] = StaffFile(self._next, conversation_id, name, mime, data)
        return self._next

    async def get(self, file_id: int) -> StaffFile | None:
        found = self._files.get(file_id)
        if found is None:
            return None
        if await self.storage.conversations.find(found.conversation_id) is None:
            del self._files[file_id]
            return None
        return found


def staff_files(storage: Storage) -> StaffFiles:
    """The file store in the commune's own database (memory for a memory store)."""
    if isinstance(storage, SqliteStorage):
        return SqliteStaffFiles(storage)
    if isinstance(storage, MemoryStorage):
        return MemoryStaffFiles(storage)
    from bot.storage.postgres import PostgresStorage

    if isinstance(storage, PostgresStorage):
        return PgStaffFiles(storage)
    return MemoryStaffFiles(storage)

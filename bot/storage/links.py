"""Channel-side persistence: staff-desk links (queued sends live in the outbox of Storage).

Relay bots that routed staff replies by forward metadata lost messages when users hid their
forwards or topics were deleted; we keep citizen<->topic and message<->conversation links in the
database.
"""

from __future__ import annotations

import abc
import datetime as dt

from bot.storage.sqlite import SqliteStorage, _iso


class DeskLinks(abc.ABC):
    @abc.abstractmethod
    async def topic(self, conversation_id: int) -> tuple[int, int] | None:
        """(chat id, thread id) of the conversation's staff topic."""

    @abc.abstractmethod
    async def set_topic(
        self, conversation_id: int, chat_id: int, thread_id: int, now: dt.datetime
    ) -> None: ...

    @abc.abstractmethod
    async def drop_topic(self, conversation_id: int) -> None: ...

    @abc.abstractmethod
    async def conversation_for_thread(self, chat_id: int, thread_id: int) -> int | None: ...

    @abc.abstractmethod
    async def link_message(self, chat_id: int, message_id: int, conversation_id: int) -> None: ...

    @abc.abstractmethod
    async def conversation_for_message(self, chat_id: int, message_id: int) -> int | None: ...


# --- memory -------------------------------------------------------------------------------


class MemoryDeskLinks(DeskLinks):
    def __init__(self) -> None:
        self._topics: dict[int, tuple[int, int]] = {}
        self._messages: dict[tuple[int, int], int] = {}

    async def topic(self, conversation_id: int) -> tuple[int, int] | None:
        return self._topics.get(conversation_id)

    async def set_topic(
        self, conversation_id: int, chat_id: int, thread_id: int, now: dt.datetime
    ) -> None:
        self._topics[conversation_id] = (chat_id, thread_id)

    async def drop_topic(self, conversation_id: int) -> None:
        self._topics.pop(conversation_id, None)

    async def conversation_for_thread(self, chat_id: int, thread_id: int) -> int | None:
        return next((c for c, t in self._topics.items() if t == (chat_id, thread_id)), None)

    async def link_message(self, chat_id: int, message_id: int, conversation_id: int) -> None:
        self._messages[(chat_id, message_id)] = conversation_id

    async def conversation_for_message(self, chat_id: int, message_id: int) -> int | None:
        return self._messages.get((chat_id, message_id))


# --- SQLite (same database and connection as the conversations) ----------------------------


class SqliteDeskLinks(DeskLinks):
    def __init__(self, storage: SqliteStorage) -> None:
        self._storage = storage

    async def topic(self, conversation_id: int) -> tuple[int, int] | None:
        rows = await self._storage.query(
            "SELECT chat_id, thread_id FROM desk_topics WHERE conversation_id = ?",
            (conversation_id,),
        )
        return (int(rows[0][0]), int(rows[0][1])) if rows else None

    async def set_topic(
        self, conversation_id: int, chat_id: int, thread_id: int, now: dt.datetime
    ) -> None:
        await self._storage.execute(
            "INSERT INTO desk_topics (conversation_id, chat_id, thread_id, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (conversation_id) DO UPDATE SET chat_id = excluded.chat_id,"
            " thread_id = excluded.thread_id, created_at = excluded.created_at",
            (conversation_id, chat_id, thread_id, _iso(now)),
        )

    async def drop_topic(self, conversation_id: int) -> None:
        await self._storage.execute(
            "DELETE FROM desk_topics WHERE conversation_id = ?", (conversation_id,)
        )

    async def conversation_for_thread(self, chat_id: int, thread_id: int) -> int | None:
        rows = await self._storage.query(
            "SELECT conversation_id FROM desk_topics WHERE chat_id = ? AND thread_id = ?",
            (chat_id, thread_id),
        )
        return int(rows[0][0]) if rows else None

    async def link_message(self, chat_id: int, message_id: int, conversation_id: int) -> None:
        await self._storage.execute(
            "INSERT OR REPLACE INTO desk_messages (chat_id, message_id, conversation_id) VALUES (?, ?, ?)",
            (chat_id, message_id, conversation_id),
        )

    async def conversation_for_message(self, chat_id: int, message_id: int) -> int | None:
        rows = await self._storage.query(
            "SELECT conversation_id FROM desk_messages WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        return int(rows[0][0]) if rows else None

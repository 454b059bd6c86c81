"""Channel-side persistence: staff-desk links and sends that could not be delivered yet.

Relay bots that routed staff replies by forward metadata lost messages when users hid their
forwards or topics were deleted; we keep citizen<->topic and message<->conversation links in the
database. A send that failed transiently is queued here and retried, so nothing is lost.
"""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass

from bot.storage.sqlite import SqliteStorage, _iso, _us
from flows.models import ConversationKey, Reply


@dataclass(frozen=True)
class PendingSend:
    id: int
    key: ConversationKey
    reply: Reply
    reason: str
    attempts: int


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


class PendingSends(abc.ABC):
    @abc.abstractmethod
    async def add(
        self, key: ConversationKey, reply: Reply, reason: str, now: dt.datetime, due: dt.datetime
    ) -> int: ...

    @abc.abstractmethod
    async def due(
        self, now: dt.datetime, limit: int = 50, channel: str | None = None
    ) -> list[PendingSend]: ...

    @abc.abstractmethod
    async def done(self, send_id: int) -> None: ...

    @abc.abstractmethod
    async def retry_later(self, send_id: int, due: dt.datetime, reason: str) -> None: ...


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


class MemoryPendingSends(PendingSends):
    def __init__(self) -> None:
        self._items: dict[int, tuple[PendingSend, dt.datetime]] = {}
        self._next = 1

    async def add(
        self, key: ConversationKey, reply: Reply, reason: str, now: dt.datetime, due: dt.datetime
    ) -> int:
        send_id, self._next = self._next, self._next + 1
        self._items[send_id] = (PendingSend(send_id, key, reply, reason, 0), due)
        return send_id

    async def due(
        self, now: dt.datetime, limit: int = 50, channel: str | None = None
    ) -> list[PendingSend]:
        ready = sorted(
            (d, s.id)
            for s, d in self._items.values()
            if d <= now and (channel is None or s.key.channel == channel)
        )
        return [self._items[i][0] for _, i in ready[:limit]]

    async def done(self, send_id: int) -> None:
        self._items.pop(send_id, None)

    async def retry_later(self, send_id: int, due: dt.datetime, reason: str) -> None:
        item = self._items.get(send_id)
        if item is not None:
            send = item[0]
            self._items[send_id] = (
                PendingSend(send.id, send.key, send.reply, reason, send.attempts + 1),
                due,
            )


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


class SqlitePendingSends(PendingSends):
    def __init__(self, storage: SqliteStorage) -> None:
        self._storage = storage

    async def add(
        self, key: ConversationKey, reply: Reply, reason: str, now: dt.datetime, due: dt.datetime
    ) -> int:
        rows = await self._storage.execute(
            "INSERT INTO pending_sends (channel, user_id, reply, reason, created_at, due_us)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (key.channel, key.user_id, reply.model_dump_json(), reason, _iso(now), _us(due)),
        )
        return int(rows[0][0])

    async def due(
        self, now: dt.datetime, limit: int = 50, channel: str | None = None
    ) -> list[PendingSend]:
        rows = await self._storage.query(
            "SELECT id, channel, user_id, reply, reason, attempts FROM pending_sends"
            " WHERE due_us <= ? AND (? IS NULL OR channel = ?) ORDER BY due_us, id LIMIT ?",
            (_us(now), channel, channel, limit),
        )
        return [
            PendingSend(
                id=int(r[0]),
                key=ConversationKey(channel=r[1], user_id=r[2]),
                reply=Reply.model_validate_json(r[3]),
                reason=r[4],
                attempts=int(r[5]),
            )
            for r in rows
        ]

    async def done(self, send_id: int) -> None:
        await self._storage.execute("DELETE FROM pending_sends WHERE id = ?", (send_id,))

    async def retry_later(self, send_id: int, due: dt.datetime, reason: str) -> None:
        await self._storage.execute(
            "UPDATE pending_sends SET attempts = attempts + 1, due_us = ?, reason = ? WHERE id = ?",
            (_us(due), reason, send_id),
        )

"""The web chat's message log: what the widget shows, in order, fetched "everything after N".

Every line (the citizen's own message, echoed, and each part of every reply) gets a sequence
number that only grows (the table's AUTOINCREMENT id: never reused, even after an erasure), so a
browser that lost its connection asks for everything after the last number it has and gets each
line exactly once. Writes are idempotent: a resent citizen message (same client id) and a reply
delivered again after a crash (same outbox entry and part) are stored once.

Lines belong to the conversation (ON DELETE CASCADE): /xoadulieu and the retention purge erase
them with it. A line written when the conversation no longer exists (the confirmation of an
erasure) has no conversation and is kept only for a day.

Lines name their commune: a province's communes share one database, and a widget session of one
commune never reads another's lines.
"""

from __future__ import annotations

import abc
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.storage.memory import MemoryStorage
from bot.storage.sqlite import SqliteStorage
from bot.storage.timecode import iso as _iso
from bot.storage.timecode import us as _us
from flows.models import Button
from flows.ports import Storage

if TYPE_CHECKING:
    from bot.storage.postgres import PostgresStorage

ORPHAN_TTL = dt.timedelta(days=1)
MAX_LINES = 200  # a page load shows at most this many of the latest lines


@dataclass(frozen=True)
class ChatLine:
    seq: int
    sender: str  # "me" (the citizen) or "bot" (the assistant or a staff member)
    text: str
    buttons: tuple[Button, ...] = ()
    client_id: str | None = None


@dataclass(frozen=True)
class NewLine:
    """A line to append. `ref`: what makes it unique (client id, or outbox entry + part)."""

    sender: str
    text: str
    ref: str
    buttons: tuple[Button, ...] = ()
    client_id: str | None = None


class WebChatLog(abc.ABC):
    @abc.abstractmethod
    async def append(
        self, user: str, conversation_id: int | None, lines: list[NewLine], now: dt.datetime
    ) -> None:
        """Append in order, all or nothing; a line whose `ref` is stored already is skipped
        (a retry stores nothing twice)."""

    @abc.abstractmethod
    async def after(self, user: str, seq: int, limit: int = MAX_LINES) -> list[ChatLine]:
        """Lines with a sequence above `seq`, oldest first; from 0: the latest `limit`."""


def _buttons_json(buttons: tuple[Button, ...]) -> str:
    return json.dumps([{"label": b.label, "data": b.data} for b in buttons], ensure_ascii=False)


def _buttons(text: str) -> tuple[Button, ...]:
    return tuple(Button(label=b["label"], data=b["data"]) for b in json.loads(text or "[]"))


class SqliteWebChatLog(WebChatLog):
    def __init__(self, storage: SqliteStorage) -> None:
        self._db = storage.database
        self._commune = storage.commune

    async def append(
        self, user: str, conversation_id: int | None, lines: list[NewLine], now: dt.datetime
    ) -> None:
        if lines:  # one statement for every part of a reply; the refs make a retry safe
            # a conversation erased meanwhile (the confirmation of /xoadulieu): no owner
            row = (
                "(?, ?, (SELECT id FROM conversations WHERE id = ? AND commune = ?),"
                " ?, ?, ?, ?, ?, ?)"
            )
            values = ", ".join([row] * len(lines))
            params: list[object] = []
            for line in lines:
                params += [
                    self._commune,
                    user,
                    conversation_id,
                    self._commune,
                    line.sender,
                    line.text,
                    _buttons_json(line.buttons),
                    line.client_id,
                    line.ref,
                    _iso(now),
                ]
            await self._db.write_one(
                "INSERT INTO web_chat_lines (commune, user_id, conversation_id, sender, text,"
                f" buttons, client_id, ref, created_at) VALUES {values}"
                " ON CONFLICT (commune, user_id, ref) DO NOTHING",
                params,
            )
        if conversation_id is None:
            await self._db.write_one(
                "DELETE FROM web_chat_lines WHERE conversation_id IS NULL"
                " AND julianday(created_at) < julianday(?)",
                (_iso(now - ORPHAN_TTL),),
            )

    async def after(self, user: str, seq: int, limit: int = MAX_LINES) -> list[ChatLine]:
        rows = await self._db.read(
            "SELECT id, sender, text, buttons, client_id FROM ("
            " SELECT * FROM web_chat_lines WHERE commune = ? AND user_id = ? AND id > ?"
            " ORDER BY id DESC LIMIT ?"
            ") ORDER BY id",
            (self._commune, user, seq, limit),
        )
        return [ChatLine(int(r[0]), str(r[1]), str(r[2]), _buttons(str(r[3])), r[4]) for r in rows]


class PgWebChatLog(WebChatLog):
    """The same rows on PostgreSQL; the BIGSERIAL id is the sequence number (never reused)."""

    def __init__(self, storage: PostgresStorage) -> None:
        self._db = storage.database
        self._commune = storage.commune

    async def append(
        self, user: str, conversation_id: int | None, lines: list[NewLine], now: dt.datetime
    ) -> None:
        commune = self._commune
        async with self._db.pool.acquire() as conn, conn.transaction():
            if lines:
                # a conversation erased meanwhile (the confirmation of /xoadulieu): no owner
                owner = await conn.fetchval(
                    "SELECT id FROM conversations WHERE id = $1 AND commune = $2",
                    conversation_id,
                    commune,
                )
                await conn.executemany(
                    "INSERT INTO web_chat_lines (commune, user_id, conversation_id, sender, text,"
                    " buttons, client_id, ref, created_at, created_us)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                    " ON CONFLICT (commune, user_id, ref) DO NOTHING",
                    [
                        (
                            commune,
                            user,
                            owner,
                            line.sender,
                            line.text,
                            _buttons_json(line.buttons),
                            line.client_id,
                            line.ref,
                            _iso(now),
                            _us(now),
                        )
                        for line in lines
                    ],
                )
            if conversation_id is None:
                await conn.execute(
                    "DELETE FROM web_chat_lines WHERE conversation_id IS NULL AND created_us < $1",
                    _us(now - ORPHAN_TTL),
                )

    async def after(self, user: str, seq: int, limit: int = MAX_LINES) -> list[ChatLine]:
        rows = await self._db.pool.fetch(
            "SELECT id, sender, text, buttons, client_id FROM ("
            " SELECT * FROM web_chat_lines WHERE commune = $1 AND user_id = $2 AND id > $3"
            " ORDER BY id DESC LIMIT $4"
            ") AS latest ORDER BY id",
            self._commune,
            user,
            seq,
            limit,
        )
        return [ChatLine(int(r[0]), str(r[1]), str(r[2]), _buttons(str(r[3])), r[4]) for r in rows]


@dataclass
class _Stored:
    line: ChatLine
    conversation_id: int | None
    created_at: dt.datetime


@dataclass
class MemoryWebChatLog(WebChatLog):
    """For tests and memory runs; lines of an erased conversation disappear with it."""

    storage: Storage
    _lines: dict[str, list[_Stored]] = field(default_factory=dict)
    _refs: set[tuple[str, str]] = field(default_factory=set)
    _seq: int = 0

    async def append(
        self, user: str, conversation_id: int | None, lines: list[NewLine], now: dt.datetime
    ) -> None:
        for new in lines:
            if (user, new.ref) in self._refs:
                continue
            self._refs.add((user, new.ref))
            self._seq += 1
            line = ChatLine(self._seq, new.sender, new.text, new.buttons, new.client_id)
            self._lines.setdefault(user, []).append(_Stored(line, conversation_id, now))

    async def after(self, user: str, seq: int, limit: int = MAX_LINES) -> list[ChatLine]:
        kept = []
        for stored in self._lines.get(user, []):
            cid = stored.conversation_id
            if cid is not None and await self.storage.conversations.find(cid) is None:
                continue
            if stored.line.seq > seq:
                kept.append(stored.line)
        return kept[-limit:]


def web_chat_log(storage: Storage) -> WebChatLog:
    """The widget's log in the commune's own database (memory for a memory store)."""
    if isinstance(storage, SqliteStorage):
        return SqliteWebChatLog(storage)
    if isinstance(storage, MemoryStorage):
        return MemoryWebChatLog(storage)
    from bot.storage.postgres import PostgresStorage

    if isinstance(storage, PostgresStorage):
        return PgWebChatLog(storage)
    return MemoryWebChatLog(storage)

"""SQLite storage: one database file, WAL journal, schema from bot.storage.migrations.

A single aiosqlite connection is shared by every coroutine, and a connection has one transaction
at a time: an asyncio.Lock serialises all access so no coroutine's statements land inside
another's transaction. Writes run shielded from cancellation, so a cancelled caller (a timed-out
handler, a shutdown) never leaves half a transaction behind: it completes or rolls back.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import os
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from pydantic import TypeAdapter

from bot.crashpoints import crash_point
from bot.storage.memory import (
    PERSONAL_BY_KIND,
    PERSONAL_EVENT_KEYS,
    SEEN_TTL,
    aware,
    check_handoff,
    check_turn,
    feedback_ref,
    prune_due,
)
from bot.storage.migrations import MIGRATIONS, migrate
from flows.models import ConversationKey
from flows.ports import (
    OPEN_STATUSES,
    Conversation,
    ConversationState,
    Event,
    FeedbackItem,
    FeedbackStatus,
    Handoff,
    InboxItem,
    OutboxItem,
    Outgoing,
    Rating,
    Storage,
    TranscriptLine,
    Turn,
)

T = TypeVar("T")
Params = Sequence[Any]
Work = Callable[[aiosqlite.Connection], Awaitable[T]]

SYNCHRONOUS_MODES = ("NORMAL", "FULL")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_OPEN = "status IN ({})".format(", ".join(f"'{s}'" for s in OPEN_STATUSES))
# the same serialiser pydantic uses for Event.data, so both stores normalise data alike
_DATA = TypeAdapter(dict[str, Any])


def _iso(moment: dt.datetime) -> str:
    return aware(moment).isoformat()


def _iso_or_none(moment: dt.datetime | None) -> str | None:
    return None if moment is None else _iso(moment)


def _us(moment: dt.datetime) -> int:
    """UTC microseconds since the epoch: the sortable twin of an ISO column."""
    return (aware(moment) - _EPOCH) // dt.timedelta(microseconds=1)


def _private_file(path: Path) -> None:
    """Citizens' conversations are personal data: a new directory is 0700, the database file
    0600 (SQLite gives its -wal and -shm files the same mode). An existing file is tightened."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder, not a database file")
    if path.exists():
        with contextlib.suppress(OSError):
            path.chmod(path.stat().st_mode & 0o700)
        return
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)


def _conversation(row: sqlite3.Row) -> Conversation:
    return Conversation(
        id=row["id"],
        key=ConversationKey(channel=row["channel"], user_id=row["user_id"]),
        display_name=row["display_name"],
        state=ConversationState.model_validate_json(row["state"]),
        created_at=row["created_at"],
        last_seen_at=row["last_seen_at"],
    )


def _event(row: sqlite3.Row) -> Event:
    return Event(kind=row["kind"], at=row["at"], data=_DATA.validate_json(row["data"]))


def _handoff(row: sqlite3.Row) -> Handoff:
    return Handoff.model_validate(dict(row))


def _feedback(row: sqlite3.Row) -> FeedbackItem:
    return FeedbackItem.model_validate(dict(row))


def _rating(row: sqlite3.Row) -> Rating:
    return Rating.model_validate(dict(row))


async def _run(db: aiosqlite.Connection, sql: str, params: Params = ()) -> list[sqlite3.Row]:
    """One statement, fully stepped on the connection thread (so no cursor is left open)."""
    return list(await db.execute_fetchall(sql, params))


async def _run_many(db: aiosqlite.Connection, sql: str, rows: Iterable[Params]) -> None:
    async with db.executemany(sql, rows):
        pass


async def _require_conversation(db: aiosqlite.Connection, conversation_id: int) -> None:
    if not await _run(db, "SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)):
        raise LookupError(f"no conversation {conversation_id}")


_EVENT_TEXTS = "json_remove(data, {})".format(", ".join(f"'$.{k}'" for k in PERSONAL_EVENT_KEYS))


async def _strip_event_texts(db: aiosqlite.Connection, where: str, params: Params) -> None:
    """The same fields as memory.anonymised: what the citizen typed goes, counts stay."""
    await _run(db, f"UPDATE events SET data = {_EVENT_TEXTS} WHERE {where}", params)
    for kind, keys in PERSONAL_BY_KIND.items():
        paths = ", ".join(f"'$.{k}'" for k in keys)
        await _run(
            db,
            f"UPDATE events SET data = json_remove(data, {paths}) WHERE kind = ? AND ({where})",
            (kind, *params),
        )


async def _erase(db: aiosqlite.Connection, where: str, params: Params) -> int:
    """Inside a transaction: erase the conversations matching `where` and everything from
    their citizens (see delete_conversation). Returns how many were erased."""
    rows = await _run(db, f"SELECT id, channel, user_id FROM conversations WHERE {where}", params)
    for row in rows:
        cid, channel, user = row["id"], row["channel"], row["user_id"]
        await _strip_event_texts(db, "conversation_id = ?", (cid,))
        await _run(
            db,
            "UPDATE feedback SET conversation_id = NULL, content = '', name = NULL, phone = NULL"
            " WHERE conversation_id = ?",
            (cid,),
        )
        await _run(
            db,
            "DELETE FROM seen_messages WHERE channel = ? AND substr(message_id, 1, ?) = ?",
            (channel, len(user) + 1, f"{user}/"),
        )
        # queued messages to the citizen, and desk notices about them that were not posted yet
        await _run(
            db,
            "DELETE FROM outbox WHERE queue IN (?, ?)",
            (f"{channel}:{user}", f"desk:{channel}:{user}"),
        )
        await _run(
            db,
            "DELETE FROM inbound_events WHERE channel = ? AND json_valid(payload) AND ? IN ("
            + ", ".join(
                f"CAST(json_extract(payload, '$.{path}') AS TEXT)"
                for path in ("sender.id", "follower.id", "user.id", "user_id_by_app")
            )
            + ")",
            (channel, user),
        )
        await _run(db, "DELETE FROM conversations WHERE id = ?", (cid,))
    return len(rows)
def _handoff_params(h: Handoff) -> tuple[Any, ...]:
    return (
        h.status,
        h.guide_id,
        h.reason,
        _iso(h.created_at),
        _us(h.created_at),
        _iso_or_none(h.claimed_at),
        h.claimed_by,
        _iso_or_none(h.first_response_at),
        _iso_or_none(h.ended_at),
        _iso_or_none(h.reminded_at),
        h.id,
    )


async def _save_handoff(db: aiosqlite.Connection, h: Handoff, create: bool) -> None:
    """Update a handoff; with `create`, insert it (under its reserved id) if it is new."""
    found = await _run(db, "SELECT conversation_id FROM handoffs WHERE id = ?", (h.id,))
    if (found and found[0][0] != h.conversation_id) or (not found and not create):
        raise LookupError(f"no handoff {h.id} for conversation {h.conversation_id}")
    if h.status in OPEN_STATUSES:
        other = await _run(
            db,
            f"SELECT id FROM handoffs WHERE conversation_id = ? AND id != ? AND {_OPEN}",
            (h.conversation_id, h.id),
        )
        if other:
            raise ValueError(
                f"conversation {h.conversation_id} already has open handoff {other[0][0]}"
            )
    if not found:
        await _require_conversation(db, h.conversation_id)
        await _run(
            db,
            "INSERT INTO handoffs (status, guide_id, reason, created_at, created_us, claimed_at,"
            " claimed_by, first_response_at, ended_at, reminded_at, id, conversation_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*_handoff_params(h), h.conversation_id),
        )
        return
    await _run(
        db,
        "UPDATE handoffs SET status = ?, guide_id = ?, reason = ?, created_at = ?,"
        " created_us = ?, claimed_at = ?, claimed_by = ?, first_response_at = ?,"
        " ended_at = ?, reminded_at = ? WHERE id = ?",
        _handoff_params(h),
    )


async def _enqueue(db: aiosqlite.Connection, items: Sequence[Outgoing], now: dt.datetime) -> None:
    if items:
        await _run_many(
            db,
            "INSERT INTO outbox (queue, target, payload, created_at, due_us)"
            " VALUES (?, ?, ?, ?, ?)",
            [(o.queue, o.target, o.model_dump_json(), _iso(now), _us(now)) for o in items],
        )


async def _inbound_done(db: aiosqlite.Connection, item_id: int, now: dt.datetime) -> None:
    await _run(
        db,
        "UPDATE inbound_events SET processed_at = ?, payload = '' WHERE id = ?",
        (_iso(now), item_id),
    )


async def _reserve(db: aiosqlite.Connection, name: str) -> int:
    rows = await _run(
        db,
        "INSERT INTO sequences (name, value) VALUES (?, 1)"
        " ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
        (name,),
    )
    return int(rows[0][0])


@dataclass(frozen=True)
class _PreparedTurn:
    conversation: tuple[Any, ...]
    lines: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]
    handoffs: list[Handoff]
    outgoing: list[Outgoing]
    receipt: int | None
    now: dt.datetime


def _prepare(turn: Turn) -> _PreparedTurn:
    cid = turn.conversation_id
    return _PreparedTurn(
        conversation=(
            turn.state.model_dump_json(),
            _iso(turn.seen_at),
            turn.display_name or None,
            cid,
        ),
        lines=[(cid, cid, line.direction, line.text, _iso(line.at)) for line in turn.transcript],
        events=[
            (cid, e.kind, _DATA.dump_json(e.data).decode(), _iso(e.at), _us(e.at))
            for e in turn.events
        ],
        handoffs=list(turn.handoffs),
        outgoing=list(turn.outgoing),
        receipt=turn.receipt,
        now=turn.seen_at,
    )


async def _commit_turns(db: aiosqlite.Connection, turns: Sequence[_PreparedTurn]) -> None:
    """Inside a transaction: a handful of statements whatever the number of turns."""
    async with db.executemany(
        "UPDATE conversations SET state = ?, last_seen_at = ?,"
        " display_name = COALESCE(?, display_name) WHERE id = ?",
        [t.conversation for t in turns],
    ) as cursor:
        if cursor.rowcount != len(turns):
            raise LookupError("a conversation of this turn no longer exists")
    lines = [line for t in turns for line in t.lines]
    if lines:
        await _run_many(
            db,
            "INSERT INTO transcript (conversation_id, seq, direction, text, at) VALUES"
            " (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM transcript WHERE conversation_id = ?),"
            " ?, ?, ?)",
            lines,
        )
    events = [event for t in turns for event in t.events]
    if events:
        await _run_many(
            db,
            "INSERT INTO events (conversation_id, kind, data, at, at_us) VALUES (?, ?, ?, ?, ?)",
            events,
        )
    for t in turns:
        for handoff in t.handoffs:
            await _save_handoff(db, handoff, create=True)
        await _enqueue(db, t.outgoing, t.now)
        if t.receipt is not None:
            await _inbound_done(db, t.receipt, t.now)


class SqliteStorage(Storage):
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: str = "NORMAL",
        busy_timeout_ms: int = 5000,
        migrations: Sequence[str] = MIGRATIONS,
    ) -> None:
        """`synchronous`: NORMAL loses at most the last commits on power loss (never corrupts
        in WAL mode); FULL also survives that, at the price of an fsync per commit."""
        mode = synchronous.upper()
        if mode not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}, not {synchronous!r}")
        self._path = os.fspath(path)
        self._synchronous = mode
        self._busy_timeout_ms = int(busy_timeout_ms)
        self._migrations = tuple(migrations)
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._pending: list[tuple[_PreparedTurn, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._last_prune: dt.datetime | None = None

    @property
    def path(self) -> str:
        return self._path

    async def open(self) -> None:
        """Connect, refuse a schema newer than ours, migrate, switch to WAL. Idempotent."""
        if self._db is not None:
            return
        if self._path != ":memory:":
            _private_file(Path(self._path))
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, sqlite3 must not add its own
        db = await aiosqlite.connect(self._path, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            await _run(db, f"PRAGMA busy_timeout = {self._busy_timeout_ms:d}")
            await _run(db, "PRAGMA foreign_keys = ON")
            await migrate(db, self._migrations)
            await _run(db, "PRAGMA journal_mode = WAL")
            await _run(db, f"PRAGMA synchronous = {self._synchronous}")
            # erased rows are overwritten with zeros, not left readable in free pages
            await _run(db, "PRAGMA secure_delete = ON")
        except BaseException:
            await db.close()
            raise
        self._db = db

    async def check_writable(self) -> None:
        """Fail now, not at the first citizen, when the file or its folder is read-only."""

        async def work(db: aiosqlite.Connection) -> None:
            await _run(
                db,
                "INSERT INTO settings_kv (key, value, updated_at) VALUES ('startup.probe', '', '')"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )

        await self._write(work)

    async def flush(self) -> None:
        """Wait until every turn handed to commit() (even by a cancelled caller) is written."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.gather(self._flusher, return_exceptions=True)

    async def close(self) -> None:
        """Waits for writes in flight. Idempotent."""
        await self.flush()
        async with self._lock:
            db, self._db = self._db, None
            if db is not None:
                await db.close()

    def _connection(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("SqliteStorage is not open: await open() first")
        return self._db

    async def query(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """One read statement on the shared connection (for channel-side tables)."""
        return await self._read(sql, params)

    async def execute(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """One write statement in its own transaction (for channel-side tables)."""

        async def work(db: aiosqlite.Connection) -> list[sqlite3.Row]:
            return await _run(db, sql, params)

        return await self._write(work)

    async def _read(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._lock:
            return await _run(self._connection(), sql, params)

    async def _write(self, work: Work[T]) -> T:
        """Run `work` as one IMMEDIATE transaction (the write lock is taken up front, so another
        process cannot make it fail half way with SQLITE_BUSY)."""
        return await asyncio.shield(self._transaction(work))

    async def _transaction(self, work: Work[T]) -> T:
        async with self._lock:
            db = self._connection()
            await _run(db, "BEGIN IMMEDIATE")
            try:
                result = await work(db)
                await _run(db, "COMMIT")
            except BaseException:
                if db.in_transaction:
                    await _run(db, "ROLLBACK")
                raise
            return result

    async def conversation(
        self, key: ConversationKey, now: dt.datetime, display_name: str = ""
    ) -> Conversation:
        found = await self.find_by_key(key)
        if found is not None:
            return found
        stamp = _iso(now)
        state = ConversationState().model_dump_json()

        async def work(db: aiosqlite.Connection) -> Conversation:
            await _run(
                db,
                "INSERT INTO conversations"
                " (channel, user_id, display_name, state, created_at, last_seen_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel, user_id) DO NOTHING",
                (key.channel, key.user_id, display_name, state, stamp, stamp),
            )
            rows = await _run(
                db,
                "SELECT * FROM conversations WHERE channel = ? AND user_id = ?",
                (key.channel, key.user_id),
            )
            return _conversation(rows[0])

        return await self._write(work)

    async def find_conversation(self, conversation_id: int) -> Conversation | None:
        rows = await self._read("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        return _conversation(rows[0]) if rows else None

    async def find_by_key(self, key: ConversationKey) -> Conversation | None:
        rows = await self._read(
            "SELECT * FROM conversations WHERE channel = ? AND user_id = ?",
            (key.channel, key.user_id),
        )
        return _conversation(rows[0]) if rows else None

    async def commit(self, turn: Turn) -> None:
        """A display name of None or "" keeps the known one.

        Turns arriving while a transaction is running are committed together in the next one
        (group commit): the cost of a transaction is shared by every citizen writing at once,
        and each caller still returns only once its own turn is durable.
        """
        check_turn(turn)
        if turn.handoffs:
            crash_point("commit-handoff")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((_prepare(turn), future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await asyncio.shield(future)

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self._write(functools.partial(_commit_turns, turns=[p for p, _ in batch]))
            except Exception:
                # Isolate the failing turn(s): commit one by one, each all-or-nothing.
                for prepared, future in batch:
                    try:
                        await self._write(functools.partial(_commit_turns, turns=[prepared]))
                    except Exception as exc:
                        if not future.done():
                            future.set_exception(exc)
                    else:
                        if not future.done():
                            future.set_result(None)
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    async def recent_transcript(self, conversation_id: int, limit: int) -> list[TranscriptLine]:
        if limit <= 0:
            return []
        rows = await self._read(
            "SELECT direction, text, at FROM transcript WHERE conversation_id = ?"
            " ORDER BY seq DESC LIMIT ?",
            (conversation_id, limit),
        )
        return [
            TranscriptLine(direction=row["direction"], text=row["text"], at=row["at"])
            for row in reversed(rows)
        ]

    async def log_event(self, conversation_id: int | None, event: Event) -> None:
        params = (
            conversation_id,
            event.kind,
            _DATA.dump_json(event.data).decode(),
            _iso(event.at),
            _us(event.at),
        )

        async def work(db: aiosqlite.Connection) -> None:
            if conversation_id is not None:
                await _require_conversation(db, conversation_id)
            await _run(
                db,
                "INSERT INTO events (conversation_id, kind, data, at, at_us) VALUES (?, ?, ?, ?, ?)",
                params,
            )

        await self._write(work)

    async def events(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[tuple[int | None, Event]]:
        """Events with since <= at < until, so consecutive report periods never overlap."""
        where: list[str] = []
        params: list[int] = []
        if since is not None:
            where.append("at_us >= ?")
            params.append(_us(since))
        if until is not None:
            where.append("at_us < ?")
            params.append(_us(until))
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = await self._read(
            f"SELECT conversation_id, kind, data, at FROM events{clause} ORDER BY at_us, id",
            params,
        )
        return [(row["conversation_id"], _event(row)) for row in rows]

    async def open_handoff(
        self, conversation_id: int, now: dt.datetime, guide_id: str | None, reason: str
    ) -> Handoff:
        params = (conversation_id, guide_id, reason, _iso(now), _us(now))

        async def work(db: aiosqlite.Connection) -> Handoff:
            await _require_conversation(db, conversation_id)
            rows = await _run(
                db,
                f"SELECT * FROM handoffs WHERE conversation_id = ? AND {_OPEN}",
                (conversation_id,),
            )
            if not rows:
                rows = await _run(
                    db,
                    "INSERT INTO handoffs"
                    " (id, conversation_id, status, guide_id, reason, created_at, created_us)"
                    " VALUES (?, ?, 'waiting', ?, ?, ?, ?) RETURNING *",
                    (await _reserve(db, "handoffs"), *params),
                )
            return _handoff(rows[0])

        return await self._write(work)

    async def current_handoff(self, conversation_id: int) -> Handoff | None:
        rows = await self._read(
            f"SELECT * FROM handoffs WHERE conversation_id = ? AND {_OPEN}", (conversation_id,)
        )
        return _handoff(rows[0]) if rows else None

    async def save_handoff(self, handoff: Handoff) -> None:
        """Raises LookupError for an unknown handoff, ValueError when reopening it would give
        its conversation a second open handoff."""
        check_handoff(handoff)
        await self._write(functools.partial(_save_handoff, h=handoff, create=False))

    async def open_handoffs(self) -> list[Handoff]:
        rows = await self._read(f"SELECT * FROM handoffs WHERE {_OPEN} ORDER BY created_us, id")
        return [_handoff(row) for row in rows]

    async def add_feedback(
        self,
        conversation_id: int | None,
        content: str,
        now: dt.datetime,
        name: str | None = None,
        phone: str | None = None,
    ) -> FeedbackItem:
        """The reference code's year is the year of `now` in its own offset (local time)."""
        stamp = _iso(now)
        year = now.year

        async def work(db: aiosqlite.Connection) -> FeedbackItem:
            if conversation_id is not None:
                await _require_conversation(db, conversation_id)
            rows = await _run(
                db, "SELECT COALESCE(MAX(seq), 0) + 1 FROM feedback WHERE year = ?", (year,)
            )
            seq: int = rows[0][0]
            rows = await _run(
                db,
                "INSERT INTO feedback"
                " (ref, year, seq, conversation_id, content, name, phone, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (feedback_ref(year, seq), year, seq, conversation_id, content, name, phone, stamp),
            )
            return _feedback(rows[0])

        return await self._write(work)

    async def feedback_items(self) -> list[FeedbackItem]:
        """Oldest first."""
        return [_feedback(row) for row in await self._read("SELECT * FROM feedback ORDER BY id")]

    async def set_feedback_status(self, ref: str, status: FeedbackStatus) -> FeedbackItem | None:
        rows = await self.execute(
            "UPDATE feedback SET status = ? WHERE ref = ? RETURNING *",
            (status, ref.strip().upper()),
        )
        return _feedback(rows[0]) if rows else None

    async def add_rating(
        self, conversation_id: int | None, guide_id: str | None, helpful: bool, now: dt.datetime
    ) -> Rating:
        params = (conversation_id, guide_id, int(helpful), _iso(now))

        async def work(db: aiosqlite.Connection) -> Rating:
            if conversation_id is not None:
                await _require_conversation(db, conversation_id)
            rows = await _run(
                db,
                "INSERT INTO ratings (conversation_id, guide_id, helpful, created_at)"
                " VALUES (?, ?, ?, ?) RETURNING *",
                params,
            )
            return _rating(rows[0])

        return await self._write(work)

    async def set_rating_reason(self, rating_id: int, reason: str) -> None:
        async def work(db: aiosqlite.Connection) -> None:
            rows = await _run(
                db, "UPDATE ratings SET reason = ? WHERE id = ? RETURNING id", (reason, rating_id)
            )
            if not rows:
                raise LookupError(f"no rating {rating_id}")

        await self._write(work)

    async def ratings(self) -> list[Rating]:
        """Oldest first."""
        return [_rating(row) for row in await self._read("SELECT * FROM ratings ORDER BY id")]

    async def delete_conversation(self, conversation_id: int) -> None:
        """Deleting an unknown (or already deleted) conversation does nothing. Transcript,
        handoffs, ratings and desk links go by ON DELETE CASCADE; events lose their texts and are
        detached; feedback keeps its row (for the counts) without content or contact; message
        ids, stored webhook payloads and queued replies of the citizen are deleted. Then the WAL
        is checkpointed: with secure_delete on, the erased content is gone from the files."""

        async def work(db: aiosqlite.Connection) -> None:
            await _erase(db, "id = ?", (conversation_id,))

        await self._write(work)
        await self.checkpoint()

    async def purge_older_than(self, cutoff: dt.datetime) -> int:
        """Also drops every processed webhook payload (raw citizen messages): duplicates of
        them are recognised by their message ids, remembered for SEEN_TTL."""
        stamp, stamp_us = _iso(cutoff), _us(cutoff)

        async def work(db: aiosqlite.Connection) -> int:
            erased = await _erase(
                db,
                "julianday(last_seen_at) < julianday(?)"
                f" AND id NOT IN (SELECT conversation_id FROM handoffs WHERE {_OPEN})",
                (stamp,),
            )
            await _strip_event_texts(db, "at_us < ?", (stamp_us,))
            await _run(
                db,
                "UPDATE feedback SET conversation_id = NULL, content = '', name = NULL,"
                " phone = NULL WHERE julianday(created_at) < julianday(?) AND content != ''",
                (stamp,),
            )
            await _run(
                db,
                "UPDATE ratings SET reason = NULL"
                " WHERE julianday(created_at) < julianday(?) AND reason IS NOT NULL",
                (stamp,),
            )
            await _run(db, "DELETE FROM inbound_events WHERE processed_at IS NOT NULL")
            return erased

        erased = await self._write(work)
        await self.checkpoint()
        return erased

    async def checkpoint(self) -> None:
        """Copy the WAL into the database file and truncate it, so old page versions (deleted
        content) do not linger in the -wal file."""
        async with self._lock:
            await _run(self._connection(), "PRAGMA wal_checkpoint(TRUNCATE)")

    async def first_seen(self, channel: str, message_id: str, now: dt.datetime) -> bool:
        """Ids older than SEEN_TTL are forgotten (pruned at most once per PRUNE_INTERVAL)."""
        params = (channel, message_id, _iso(now), _us(now))

        async def work(db: aiosqlite.Connection) -> bool:
            if prune_due(self._last_prune, now):
                await _run(db, "DELETE FROM seen_messages WHERE at_us < ?", (_us(now - SEEN_TTL),))
                self._last_prune = now
            inserted = await _run(
                db,
                "INSERT INTO seen_messages (channel, message_id, at, at_us) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (channel, message_id) DO NOTHING RETURNING 1",
                params,
            )
            return bool(inserted)

        return await self._write(work)

    # --- inbox -----------------------------------------------------------------------------

    async def receive(self, channel: str, event_key: str, payload: str, now: dt.datetime) -> bool:
        rows = await self.execute(
            "INSERT INTO inbound_events (channel, event_key, payload, received_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (channel, event_key) DO NOTHING RETURNING id",
            (channel, event_key, payload, _iso(now)),
        )
        return bool(rows)

    async def claim_inbound(
        self, channel: str, now: dt.datetime, lease: dt.timedelta, limit: int = 100
    ) -> list[InboxItem]:
        rows = await self.execute(
            "UPDATE inbound_events SET claimed_until_us = ?, attempts = attempts + 1"
            " WHERE id IN (SELECT id FROM inbound_events WHERE channel = ?"
            " AND processed_at IS NULL AND claimed_until_us <= ? ORDER BY id LIMIT ?)"
            " RETURNING id, channel, event_key, payload, attempts",
            (_us(now + lease), channel, _us(now), limit),
        )
        items = [InboxItem.model_validate(dict(row)) for row in rows]
        return sorted(items, key=lambda item: item.id)

    async def inbound_done(self, item_id: int, now: dt.datetime) -> None:
        await self._write(functools.partial(_inbound_done, item_id=item_id, now=now))

    async def pending_inbound(self, channel: str | None = None) -> int:
        rows = await self._read(
            "SELECT count(*) FROM inbound_events WHERE processed_at IS NULL"
            " AND (? IS NULL OR channel = ?)",
            (channel, channel),
        )
        return int(rows[0][0])

    # --- outbox ----------------------------------------------------------------------------

    async def reserve_handoff_id(self) -> int:
        return await self._write(functools.partial(_reserve, name="handoffs"))

    async def enqueue(
        self, items: list[Outgoing], now: dt.datetime, receipt: int | None = None
    ) -> None:
        aware(now)

        async def work(db: aiosqlite.Connection) -> None:
            await _enqueue(db, items, now)
            if receipt is not None:
                await _inbound_done(db, receipt, now)

        await self._write(work)

    async def claim_outgoing(
        self, now: dt.datetime, lease: dt.timedelta, limit: int = 50
    ) -> list[OutboxItem]:
        rows = await self.execute(
            "UPDATE outbox SET claimed_until_us = ? WHERE id IN ("
            " SELECT o.id FROM (SELECT MIN(id) AS id FROM outbox GROUP BY queue) AS head"
            " JOIN outbox AS o ON o.id = head.id"
            " WHERE o.due_us <= ? AND o.claimed_until_us <= ? ORDER BY o.id LIMIT ?)"
            " RETURNING id, payload, attempts, progress, created_at",
            (_us(now + lease), _us(now), _us(now), limit),
        )
        items = [
            OutboxItem(
                id=row["id"],
                outgoing=Outgoing.model_validate_json(row["payload"]),
                attempts=row["attempts"],
                progress=row["progress"],
                created_at=row["created_at"],
            )
            for row in rows
        ]
        return sorted(items, key=lambda item: item.id)

    async def outgoing_sent(self, item_id: int) -> None:
        await self.execute("DELETE FROM outbox WHERE id = ?", (item_id,))

    async def outgoing_retry(
        self, item_id: int, due: dt.datetime, reason: str, progress: int
    ) -> None:
        await self.execute(
            "UPDATE outbox SET attempts = attempts + 1, due_us = ?, reason = ?, progress = ?,"
            " claimed_until_us = 0 WHERE id = ?",
            (_us(due), reason[:500], progress, item_id),
        )

    async def outgoing_failed(
        self, item_id: int, now: dt.datetime, report: list[Outgoing], event: Event | None
    ) -> None:
        async def work(db: aiosqlite.Connection) -> None:
            rows = await _run(db, "DELETE FROM outbox WHERE id = ? RETURNING payload", (item_id,))
            await _enqueue(db, report, now)
            if rows and event is not None:
                owner = Outgoing.model_validate_json(rows[0][0]).conversation_id
                if owner is not None and await _run(
                    db, "SELECT 1 FROM conversations WHERE id = ?", (owner,)
                ):
                    await _run(
                        db,
                        "INSERT INTO events (conversation_id, kind, data, at, at_us)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (
                            owner,
                            event.kind,
                            _DATA.dump_json(event.data).decode(),
                            _iso(event.at),
                            _us(event.at),
                        ),
                    )

        await self._write(work)

    async def release_claims(self) -> None:
        async def work(db: aiosqlite.Connection) -> None:
            await _run(db, "UPDATE outbox SET claimed_until_us = 0 WHERE claimed_until_us != 0")
            await _run(
                db,
                "UPDATE inbound_events SET claimed_until_us = 0"
                " WHERE claimed_until_us != 0 AND processed_at IS NULL",
            )

        await self._write(work)

    async def pending_outgoing(self) -> int:
        rows = await self._read("SELECT count(*) FROM outbox")
        return int(rows[0][0])

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
from bot.storage.timecode import Stamps
from bot.storage.timecode import iso as _iso
from bot.storage.timecode import iso_or_none as _iso_or_none
from bot.storage.timecode import us as _us
from flows.models import DEFAULT_COMMUNE, ConversationKey
from flows.ports import (
    OPEN_STATUSES,
    Conversation,
    ConversationRepo,
    ConversationState,
    DedupRepo,
    DeskLinkRepo,
    Event,
    EventRepo,
    FeedbackItem,
    FeedbackRepo,
    FeedbackStatus,
    Handoff,
    HandoffRepo,
    InboxEntryTaken,
    InboxItem,
    InboxRepo,
    KeyValueRepo,
    LeaseRepo,
    OutboxItem,
    OutboxRepo,
    Outgoing,
    Rating,
    RatingRepo,
    ReportRepo,
    Storage,
    TranscriptLine,
    Turn,
)

T = TypeVar("T")
Params = Sequence[Any]
Work = Callable[[aiosqlite.Connection], Awaitable[T]]

SYNCHRONOUS_MODES = ("NORMAL", "FULL")
_OPEN = "status IN ({})".format(", ".join(f"'{s}'" for s in OPEN_STATUSES))
# the same serialiser pydantic uses for Event.data, so both stores normalise data alike
_DATA = TypeAdapter(dict[str, Any])


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
        key=ConversationKey(channel=row["channel"], user_id=row["user_id"], commune=row["commune"]),
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


async def _require_conversation(db: aiosqlite.Connection, commune: str, cid: int) -> None:
    if not await _run(
        db, "SELECT 1 FROM conversations WHERE id = ? AND commune = ?", (cid, commune)
    ):
        raise LookupError(f"no conversation {cid}")


_EVENT_TEXTS = "json_remove(data, {})".format(", ".join(f"'$.{k}'" for k in PERSONAL_EVENT_KEYS))


async def _strip_event_texts(
    db: aiosqlite.Connection, commune: str, where: str, params: Params
) -> None:
    """The same fields as memory.anonymised: what the citizen typed goes, counts stay."""
    await _run(
        db,
        f"UPDATE events SET data = {_EVENT_TEXTS} WHERE commune = ? AND ({where})",
        (commune, *params),
    )
    for kind, keys in PERSONAL_BY_KIND.items():
        paths = ", ".join(f"'$.{k}'" for k in keys)
        await _run(
            db,
            f"UPDATE events SET data = json_remove(data, {paths})"
            f" WHERE commune = ? AND kind = ? AND ({where})",
            (commune, kind, *params),
        )


async def _erase(db: aiosqlite.Connection, commune: str, where: str, params: Params) -> int:
    """Inside a transaction: erase the conversations of `commune` matching `where` and
    everything from their citizens (see ConversationRepo.delete). Returns how many."""
    rows = await _run(
        db,
        f"SELECT id, channel, user_id FROM conversations WHERE commune = ? AND ({where})",
        (commune, *params),
    )
    for row in rows:
        cid, channel, user = row["id"], row["channel"], row["user_id"]
        await _strip_event_texts(db, commune, "conversation_id = ?", (cid,))
        await _run(
            db,
            "UPDATE feedback SET conversation_id = NULL, content = '', name = NULL, phone = NULL"
            " WHERE conversation_id = ?",
            (cid,),
        )
        await _run(
            db,
            "DELETE FROM seen_messages WHERE commune = ? AND channel = ?"
            " AND substr(message_id, 1, ?) = ?",
            (commune, channel, len(user) + 1, f"{user}/"),
        )
        # queued messages to the citizen, and desk notices about them that were not posted yet
        await _run(
            db,
            "DELETE FROM outbox WHERE commune = ? AND queue IN (?, ?)",
            (commune, f"{channel}:{user}", f"desk:{channel}:{user}"),
        )
        await _run(
            db,
            "DELETE FROM inbound_events WHERE commune = ? AND channel = ? AND json_valid(payload)"
            " AND ? IN ("
            + ", ".join(
                f"CAST(json_extract(payload, '$.{path}') AS TEXT)"
                for path in ("sender.id", "follower.id", "user.id", "user_id_by_app")
            )
            + ")",
            (commune, channel, user),
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


_HANDOFF_COLUMNS = (
    "id, conversation_id, status, guide_id, reason, created_at, claimed_at, claimed_by,"
    " first_response_at, ended_at, reminded_at"
)


async def _save_handoff(db: aiosqlite.Connection, commune: str, h: Handoff, create: bool) -> None:
    """Update a handoff; with `create`, insert it (under its reserved id) if it is new."""
    found = await _run(db, "SELECT conversation_id, commune FROM handoffs WHERE id = ?", (h.id,))
    if (found and (found[0][0] != h.conversation_id or found[0][1] != commune)) or (
        not found and not create
    ):
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
        await _require_conversation(db, commune, h.conversation_id)
        await _run(
            db,
            "INSERT INTO handoffs (status, guide_id, reason, created_at, created_us, claimed_at,"
            " claimed_by, first_response_at, ended_at, reminded_at, id, conversation_id, commune)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*_handoff_params(h), h.conversation_id, commune),
        )
        return
    await _run(
        db,
        "UPDATE handoffs SET status = ?, guide_id = ?, reason = ?, created_at = ?,"
        " created_us = ?, claimed_at = ?, claimed_by = ?, first_response_at = ?,"
        " ended_at = ?, reminded_at = ? WHERE id = ?",
        _handoff_params(h),
    )


async def _enqueue(
    db: aiosqlite.Connection, commune: str, items: Sequence[Outgoing], now: dt.datetime
) -> None:
    if items:
        await _run_many(
            db,
            "INSERT INTO outbox (commune, queue, target, payload, created_at, due_us)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(commune, o.queue, o.target, o.model_dump_json(), _iso(now), _us(now)) for o in items],
        )


_RENEW_CHUNK = 400  # claims renewed by one statement (two parameters each)
_RECEIPT = (
    "UPDATE inbound_events SET processed_at = ?, payload = ''"
    " WHERE id = ? AND commune = ? AND processed_at IS NULL"
)


async def _inbound_done(
    db: aiosqlite.Connection, commune: str, item_id: int, now: dt.datetime, turn: bool = True
) -> None:
    """`turn`: the entry is the receipt of a turn, which must not commit when the entry was
    processed already (another worker took it over and answered it)."""
    async with db.execute(_RECEIPT, (_iso(now), item_id, commune)) as cursor:
        updated = cursor.rowcount
    if turn and not updated:
        await _check_receipts(db, commune, [item_id])


async def _check_receipts(db: aiosqlite.Connection, commune: str, item_ids: list[int]) -> None:
    """Raise InboxEntryTaken if one of these entries is processed. A missing one is not an
    error: erasing a citizen's data deletes their pending entries, the current one included."""
    marks = ", ".join("?" * len(item_ids))
    rows = await _run(
        db,
        f"SELECT id FROM inbound_events WHERE commune = ? AND id IN ({marks})"
        " AND processed_at IS NOT NULL",
        (commune, *item_ids),
    )
    if rows:
        raise InboxEntryTaken(f"inbox entry {rows[0][0]} was processed already")


async def _reserve(db: aiosqlite.Connection, name: str) -> int:
    """Sequences are shared by the communes of a database (ids are unique in it)."""
    rows = await _run(
        db,
        "INSERT INTO sequences (name, value) VALUES (?, 1)"
        " ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
        (name,),
    )
    return int(rows[0][0])


async def _log_event(
    db: aiosqlite.Connection, commune: str, conversation_id: int | None, event: Event
) -> None:
    await _run(
        db,
        "INSERT INTO events (commune, conversation_id, kind, data, at, at_us)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            commune,
            conversation_id,
            event.kind,
            _DATA.dump_json(event.data).decode(),
            _iso(event.at),
            _us(event.at),
        ),
    )


@dataclass(frozen=True)
class _PreparedTurn:
    commune: str
    conversation: tuple[Any, ...]
    lines: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]
    handoffs: list[Handoff]
    outgoing: list[Outgoing]
    receipt: int | None
    now: dt.datetime


def _prepare(commune: str, turn: Turn) -> _PreparedTurn:
    cid = turn.conversation_id
    stamp = Stamps()
    return _PreparedTurn(
        commune=commune,
        conversation=(
            turn.state.model_dump_json(),
            stamp.iso(turn.seen_at),
            turn.display_name or None,
            cid,
            commune,
        ),
        lines=[
            (commune, cid, cid, line.direction, line.text, stamp.iso(line.at))
            for line in turn.transcript
        ],
        events=[
            (commune, cid, e.kind, _DATA.dump_json(e.data).decode(), *stamp.both(e.at))
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
        " display_name = COALESCE(?, display_name) WHERE id = ? AND commune = ?",
        [t.conversation for t in turns],
    ) as cursor:
        if cursor.rowcount != len(turns):
            raise LookupError("a conversation of this turn no longer exists")
    lines = [line for t in turns for line in t.lines]
    if lines:
        await _run_many(
            db,
            "INSERT INTO transcript (commune, conversation_id, seq, direction, text, at) VALUES"
            " (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM transcript WHERE conversation_id = ?),"
            " ?, ?, ?)",
            lines,
        )
    events = [event for t in turns for event in t.events]
    if events:
        await _run_many(
            db,
            "INSERT INTO events (commune, conversation_id, kind, data, at, at_us)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            events,
        )
    for t in turns:
        for handoff in t.handoffs:
            await _save_handoff(db, t.commune, handoff, create=True)
    outgoing = [
        (t.commune, o.queue, o.target, o.model_dump_json(), _iso(t.now), _us(t.now))
        for t in turns
        for o in t.outgoing
    ]
    if outgoing:
        await _run_many(
            db,
            "INSERT INTO outbox (commune, queue, target, payload, created_at, due_us)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            outgoing,
        )
    receipts = [(_iso(t.now), t.receipt, t.commune) for t in turns if t.receipt is not None]
    if receipts:
        async with db.executemany(_RECEIPT, receipts) as cursor:
            updated = cursor.rowcount
        if updated != len(receipts):
            for t in turns:
                if t.receipt is not None:
                    await _check_receipts(db, t.commune, [t.receipt])


def _point_reader(path: str, busy_timeout_ms: int) -> sqlite3.Connection:
    """A read-only connection for `SqliteDatabase.point_read` (autocommit: every statement
    is fully stepped, so no read transaction stays open to hold back checkpoints)."""
    reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    reader.row_factory = sqlite3.Row
    reader.execute("PRAGMA query_only = ON")
    reader.execute(f"PRAGMA busy_timeout = {min(busy_timeout_ms, 50):d}")
    return reader


class SqliteDatabase:
    """One SQLite file shared by every commune of the process: one connection, one lock, one
    group commit. `for_commune` gives the Storage that sees only that commune's rows."""

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
        self._reader: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._pending: list[tuple[_PreparedTurn, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.last_prune: dict[str, dt.datetime] = {}

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
            # foreign keys stay off while migrating: rebuilding a parent table must not
            # cascade into its children
            await migrate(db, self._migrations)
            await _run(db, "PRAGMA foreign_keys = ON")
            await _run(db, "PRAGMA journal_mode = WAL")
            await _run(db, f"PRAGMA synchronous = {self._synchronous}")
            # erased rows are overwritten with zeros, not left readable in free pages
            await _run(db, "PRAGMA secure_delete = ON")
            if self._path != ":memory:":
                self._reader = _point_reader(self._path, self._busy_timeout_ms)
        except BaseException:
            await db.close()
            raise
        self._db = db

    async def flush(self) -> None:
        """Wait until every turn handed to commit() (even by a cancelled caller) is written."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.gather(self._flusher, return_exceptions=True)

    async def close(self) -> None:
        """Waits for writes in flight. Idempotent."""
        await self.flush()
        async with self._lock:
            db, self._db = self._db, None
            reader, self._reader = self._reader, None
            if reader is not None:
                reader.close()
            if db is not None:
                await db.close()

    def for_commune(self, commune: str) -> SqliteStorage:
        return SqliteStorage(database=self, commune=commune)

    def _connection(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("SqliteStorage is not open: await open() first")
        return self._db

    async def read(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._lock:
            return await _run(self._connection(), sql, params)

    async def point_read(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """A lookup of a row or two by key, run at once on this thread with a read-only
        connection of its own: it waits neither for the connection thread nor for a write
        transaction in progress (WAL readers see the last commit). Every turn starts with one;
        the hop to aiosqlite's thread and back cost more than the query itself. Anything
        bigger goes through `read`, off the event loop."""
        reader = self._reader
        if reader is not None:
            try:
                return reader.execute(sql, params).fetchall()
            except sqlite3.OperationalError:  # busy (a checkpoint restarting the WAL): wait
                pass
        return await self.read(sql, params)

    async def write(self, work: Work[T]) -> T:
        """Run `work` as one IMMEDIATE transaction (the write lock is taken up front, so another
        process cannot make it fail half way with SQLITE_BUSY). Shielded: a cancelled caller
        never leaves half a transaction."""
        return await asyncio.shield(self._transaction(work))

    async def write_one(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """One statement, in autocommit: it is atomic on its own and, being a write, takes the
        write lock when it starts (as BEGIN IMMEDIATE would), so BEGIN and COMMIT would only
        add two round trips to the database thread. Shielded like `write`."""
        return await asyncio.shield(self._statement(sql, params))

    async def _statement(self, sql: str, params: Params) -> list[sqlite3.Row]:
        async with self._lock:
            return await _run(self._connection(), sql, params)

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

    async def checkpoint(self) -> None:
        """Copy the WAL into the database file and truncate it, so old page versions (deleted
        content) do not linger in the -wal file."""
        async with self._lock:
            await _run(self._connection(), "PRAGMA wal_checkpoint(TRUNCATE)")

    async def commit(self, prepared: _PreparedTurn) -> None:
        """Turns arriving while a transaction is running are committed together in the next one
        (group commit, across communes): the cost of a transaction is shared by every citizen
        writing at once, and each caller still returns only once its own turn is durable."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((prepared, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await asyncio.shield(future)

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self.write(functools.partial(_commit_turns, turns=[p for p, _ in batch]))
            except Exception:
                # Isolate the failing turn(s): commit one by one, each all-or-nothing.
                for prepared, future in batch:
                    try:
                        await self.write(functools.partial(_commit_turns, turns=[prepared]))
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


class _Repo:
    def __init__(self, database: SqliteDatabase, commune: str) -> None:
        self._db = database
        self._commune = commune


class SqliteConversations(_Repo, ConversationRepo):
    async def get_or_create(
        self, key: ConversationKey, now: dt.datetime, display_name: str = ""
    ) -> Conversation:
        found = await self.by_key(key)
        if found is not None:
            return found
        stamp = _iso(now)
        state = ConversationState().model_dump_json()
        # one statement in autocommit: one hop to the connection thread, not four
        rows = await self._db.write_one(
            "INSERT INTO conversations"
            " (commune, channel, user_id, display_name, state, created_at, last_seen_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (commune, channel, user_id) DO NOTHING"
            " RETURNING *",
            (self._commune, key.channel, key.user_id, display_name, state, stamp, stamp),
        )
        if rows:
            return _conversation(rows[0])
        created = await self.by_key(key)  # created by another process just now
        assert created is not None
        return created

    async def find(self, conversation_id: int) -> Conversation | None:
        rows = await self._db.point_read(
            "SELECT * FROM conversations WHERE id = ? AND commune = ?",
            (conversation_id, self._commune),
        )
        return _conversation(rows[0]) if rows else None

    async def by_key(self, key: ConversationKey) -> Conversation | None:
        rows = await self._db.point_read(
            "SELECT * FROM conversations WHERE commune = ? AND channel = ? AND user_id = ?",
            (self._commune, key.channel, key.user_id),
        )
        return _conversation(rows[0]) if rows else None

    async def transcript(self, conversation_id: int, limit: int) -> list[TranscriptLine]:
        if limit <= 0:
            return []
        rows = await self._db.read(
            "SELECT direction, text, at FROM transcript WHERE conversation_id = ? AND commune = ?"
            " ORDER BY seq DESC LIMIT ?",
            (conversation_id, self._commune, limit),
        )
        return [
            TranscriptLine(direction=row["direction"], text=row["text"], at=row["at"])
            for row in reversed(rows)
        ]

    async def delete(self, conversation_id: int) -> None:
        """Deleting an unknown (or already deleted) conversation does nothing. Transcript,
        handoffs, ratings and desk links go by ON DELETE CASCADE; events lose their texts and are
        detached; feedback keeps its row (for the counts) without content or contact; message
        ids, stored webhook payloads and queued replies of the citizen are deleted. Then the WAL
        is checkpointed: with secure_delete on, the erased content is gone from the files."""
        commune = self._commune

        async def work(db: aiosqlite.Connection) -> None:
            await _erase(db, commune, "id = ?", (conversation_id,))

        await self._db.write(work)
        await self._db.checkpoint()

    async def purge_older_than(self, cutoff: dt.datetime) -> int:
        """Processed inbox entries keep only their key (their payload went at `done`); the
        keys of those received before `cutoff` go now. Not sooner: a processed update may
        still be delivered again (Telegram re-sends all after the last confirmed offset), and
        a forgotten key would store it, and answer it, a second time."""
        stamp, stamp_us = _iso(cutoff), _us(cutoff)
        commune = self._commune

        async def work(db: aiosqlite.Connection) -> int:
            erased = await _erase(
                db,
                commune,
                "julianday(last_seen_at) < julianday(?)"
                f" AND id NOT IN (SELECT conversation_id FROM handoffs WHERE {_OPEN})",
                (stamp,),
            )
            await _strip_event_texts(db, commune, "at_us < ?", (stamp_us,))
            await _run(
                db,
                "UPDATE feedback SET conversation_id = NULL, content = '', name = NULL,"
                " phone = NULL WHERE commune = ? AND julianday(created_at) < julianday(?)"
                " AND content != ''",
                (commune, stamp),
            )
            await _run(
                db,
                "UPDATE ratings SET reason = NULL WHERE commune = ?"
                " AND julianday(created_at) < julianday(?) AND reason IS NOT NULL",
                (commune, stamp),
            )
            await _run(
                db,
                "DELETE FROM inbound_events WHERE commune = ? AND processed_at IS NOT NULL"
                " AND julianday(received_at) < julianday(?)",
                (commune, stamp),
            )
            return erased

        erased = await self._db.write(work)
        await self._db.checkpoint()
        return erased


class SqliteEvents(_Repo, EventRepo):
    async def log(self, conversation_id: int | None, event: Event) -> None:
        aware(event.at, "event time")
        commune = self._commune

        async def work(db: aiosqlite.Connection) -> None:
            if conversation_id is not None:
                await _require_conversation(db, commune, conversation_id)
            await _log_event(db, commune, conversation_id, event)

        await self._db.write(work)

    async def between(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[tuple[int | None, Event]]:
        """Events with since <= at < until, so consecutive report periods never overlap."""
        where = ["commune = ?"]
        params: list[Any] = [self._commune]
        if since is not None:
            where.append("at_us >= ?")
            params.append(_us(since))
        if until is not None:
            where.append("at_us < ?")
            params.append(_us(until))
        rows = await self._db.read(
            f"SELECT conversation_id, kind, data, at FROM events WHERE {' AND '.join(where)}"
            " ORDER BY at_us, id",
            params,
        )
        return [(row["conversation_id"], _event(row)) for row in rows]


class SqliteHandoffs(_Repo, HandoffRepo):
    async def open(
        self, conversation_id: int, now: dt.datetime, guide_id: str | None, reason: str
    ) -> Handoff:
        commune = self._commune
        params = (conversation_id, guide_id, reason, _iso(now), _us(now), commune)

        async def work(db: aiosqlite.Connection) -> Handoff:
            await _require_conversation(db, commune, conversation_id)
            rows = await _run(
                db,
                f"SELECT {_HANDOFF_COLUMNS} FROM handoffs WHERE conversation_id = ? AND {_OPEN}",
                (conversation_id,),
            )
            if not rows:
                rows = await _run(
                    db,
                    "INSERT INTO handoffs (id, conversation_id, status, guide_id, reason,"
                    " created_at, created_us, commune) VALUES (?, ?, 'waiting', ?, ?, ?, ?, ?)"
                    f" RETURNING {_HANDOFF_COLUMNS}",
                    (await _reserve(db, "handoffs"), *params),
                )
            return _handoff(rows[0])

        return await self._db.write(work)

    async def current(self, conversation_id: int) -> Handoff | None:
        rows = await self._db.read(
            f"SELECT {_HANDOFF_COLUMNS} FROM handoffs"
            f" WHERE conversation_id = ? AND commune = ? AND {_OPEN}",
            (conversation_id, self._commune),
        )
        return _handoff(rows[0]) if rows else None

    async def save(self, handoff: Handoff) -> None:
        check_handoff(handoff)
        await self._db.write(
            functools.partial(_save_handoff, commune=self._commune, h=handoff, create=False)
        )

    async def queue(self) -> list[Handoff]:
        rows = await self._db.read(
            f"SELECT {_HANDOFF_COLUMNS} FROM handoffs WHERE commune = ? AND {_OPEN}"
            " ORDER BY created_us, id",
            (self._commune,),
        )
        return [_handoff(row) for row in rows]

    async def reserve_id(self) -> int:
        return await self._db.write(functools.partial(_reserve, name="handoffs"))


_FEEDBACK_COLUMNS = "id, ref, conversation_id, content, name, phone, status, created_at"


class SqliteFeedback(_Repo, FeedbackRepo):
    async def add(
        self,
        conversation_id: int | None,
        content: str,
        now: dt.datetime,
        name: str | None = None,
        phone: str | None = None,
    ) -> FeedbackItem:
        """The reference code's year is the year of `now` in its own offset (local time);
        codes are numbered per commune."""
        stamp = _iso(now)
        year = now.year
        commune = self._commune

        async def work(db: aiosqlite.Connection) -> FeedbackItem:
            if conversation_id is not None:
                await _require_conversation(db, commune, conversation_id)
            rows = await _run(
                db,
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM feedback WHERE commune = ? AND year = ?",
                (commune, year),
            )
            seq: int = rows[0][0]
            rows = await _run(
                db,
                "INSERT INTO feedback (commune, ref, year, seq, conversation_id, content, name,"
                f" phone, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_FEEDBACK_COLUMNS}",
                (
                    commune,
                    feedback_ref(year, seq),
                    year,
                    seq,
                    conversation_id,
                    content,
                    name,
                    phone,
                    stamp,
                ),
            )
            return _feedback(rows[0])

        return await self._db.write(work)

    async def items(self) -> list[FeedbackItem]:
        rows = await self._db.read(
            f"SELECT {_FEEDBACK_COLUMNS} FROM feedback WHERE commune = ? ORDER BY id",
            (self._commune,),
        )
        return [_feedback(row) for row in rows]

    async def set_status(self, ref: str, status: FeedbackStatus) -> FeedbackItem | None:
        rows = await self._db.write_one(
            f"UPDATE feedback SET status = ? WHERE commune = ? AND ref = ?"
            f" RETURNING {_FEEDBACK_COLUMNS}",
            (status, self._commune, ref.strip().upper()),
        )
        return _feedback(rows[0]) if rows else None


_RATING_COLUMNS = "id, conversation_id, guide_id, helpful, reason, created_at"


class SqliteRatings(_Repo, RatingRepo):
    async def add(
        self, conversation_id: int | None, guide_id: str | None, helpful: bool, now: dt.datetime
    ) -> Rating:
        commune = self._commune
        params = (commune, conversation_id, guide_id, int(helpful), _iso(now))

        async def work(db: aiosqlite.Connection) -> Rating:
            if conversation_id is not None:
                await _require_conversation(db, commune, conversation_id)
            rows = await _run(
                db,
                "INSERT INTO ratings (commune, conversation_id, guide_id, helpful, created_at)"
                f" VALUES (?, ?, ?, ?, ?) RETURNING {_RATING_COLUMNS}",
                params,
            )
            return _rating(rows[0])

        return await self._db.write(work)

    async def set_reason(self, rating_id: int, reason: str) -> None:
        rows = await self._db.write_one(
            "UPDATE ratings SET reason = ? WHERE id = ? AND commune = ? RETURNING id",
            (reason, rating_id, self._commune),
        )
        if not rows:
            raise LookupError(f"no rating {rating_id}")

    async def all(self) -> list[Rating]:
        rows = await self._db.read(
            f"SELECT {_RATING_COLUMNS} FROM ratings WHERE commune = ? ORDER BY id",
            (self._commune,),
        )
        return [_rating(row) for row in rows]


class SqliteDedup(_Repo, DedupRepo):
    async def first_seen(self, channel: str, message_id: str, now: dt.datetime) -> bool:
        """Ids older than SEEN_TTL are forgotten (pruned at most once per PRUNE_INTERVAL)."""
        commune = self._commune
        params = (commune, channel, message_id, _iso(now), _us(now))
        pruned = self._db.last_prune

        async def work(db: aiosqlite.Connection) -> bool:
            if prune_due(pruned.get(commune), now):
                await _run(
                    db,
                    "DELETE FROM seen_messages WHERE commune = ? AND at_us < ?",
                    (commune, _us(now - SEEN_TTL)),
                )
                pruned[commune] = now
            inserted = await _run(
                db,
                "INSERT INTO seen_messages (commune, channel, message_id, at, at_us)"
                " VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (commune, channel, message_id) DO NOTHING RETURNING 1",
                params,
            )
            return bool(inserted)

        return await self._db.write(work)


class SqliteKeyValue(_Repo, KeyValueRepo):
    async def get(self, key: str) -> str | None:
        rows = await self._db.read(
            "SELECT value FROM settings_kv WHERE commune = ? AND key = ?", (self._commune, key)
        )
        return str(rows[0][0]) if rows else None

    async def set(self, key: str, value: str, now: dt.datetime) -> None:
        await self._db.write_one(
            "INSERT INTO settings_kv (commune, key, value, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (commune, key) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            (self._commune, key, value, _iso(now)),
        )


class SqliteInbox(_Repo, InboxRepo):
    async def receive(self, channel: str, event_key: str, payload: str, now: dt.datetime) -> bool:
        rows = await self._db.write_one(
            "INSERT INTO inbound_events (commune, channel, event_key, payload, received_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (commune, channel, event_key) DO NOTHING"
            " RETURNING id",
            (self._commune, channel, event_key, payload, _iso(now)),
        )
        return bool(rows)

    async def claim(
        self, channel: str, now: dt.datetime, lease: dt.timedelta, limit: int = 100
    ) -> list[InboxItem]:
        rows = await self._db.write_one(
            # an entry claimed before (its holder died or stalled) or waiting after a failure:
            # the round that ended without processing it counts as one attempt
            "UPDATE inbound_events SET claimed_until_us = ?,"
            " attempts = attempts + (claimed_until_us != 0)"
            " WHERE id IN (SELECT id FROM inbound_events WHERE commune = ? AND channel = ?"
            " AND processed_at IS NULL AND claimed_until_us <= ? ORDER BY id LIMIT ?)"
            " RETURNING id, channel, event_key, payload, attempts",
            (_us(now + lease), self._commune, channel, _us(now), limit),
        )
        until = now + lease
        items = [InboxItem.model_validate({**dict(row), "claimed_until": until}) for row in rows]
        return sorted(items, key=lambda item: item.id)

    async def renew(
        self, items: Sequence[InboxItem], now: dt.datetime, lease: dt.timedelta
    ) -> list[InboxItem]:
        held = [i for i in items if i.claimed_until is not None]
        if not held:
            return []
        until = now + lease
        kept: set[int] = set()
        for start in range(0, len(held), _RENEW_CHUNK):
            chunk = held[start : start + _RENEW_CHUNK]
            pairs = ", ".join("(?, ?)" for _ in chunk)
            claims = [v for i in chunk if i.claimed_until for v in (i.id, _us(i.claimed_until))]
            rows = await self._db.write_one(
                "UPDATE inbound_events SET claimed_until_us = ? WHERE commune = ?"
                f" AND processed_at IS NULL AND (id, claimed_until_us) IN (VALUES {pairs})"
                " RETURNING id",
                (_us(until), self._commune, *claims),
            )
            kept.update(int(row[0]) for row in rows)
        return [i.model_copy(update={"claimed_until": until}) for i in held if i.id in kept]

    async def failed(self, item: InboxItem, now: dt.datetime, retry_after: dt.timedelta) -> None:
        if item.claimed_until is None:
            return
        await self._db.write_one(
            "UPDATE inbound_events SET claimed_until_us = ?"  # counted when claimed again
            " WHERE id = ? AND commune = ? AND processed_at IS NULL AND claimed_until_us = ?",
            (_us(now + retry_after), item.id, self._commune, _us(item.claimed_until)),
        )

    async def done(self, item_id: int, now: dt.datetime) -> None:
        await self._db.write(
            functools.partial(
                _inbound_done, commune=self._commune, item_id=item_id, now=now, turn=False
            )
        )

    async def pending(self, channel: str | None = None) -> int:
        rows = await self._db.read(
            "SELECT count(*) FROM inbound_events WHERE commune = ? AND processed_at IS NULL"
            " AND (? IS NULL OR channel = ?)",
            (self._commune, channel, channel),
        )
        return int(rows[0][0])

    async def release_claims(self) -> None:
        await self._db.write_one(
            "UPDATE inbound_events SET claimed_until_us = 0, attempts = attempts + 1"
            " WHERE commune = ? AND claimed_until_us != 0 AND processed_at IS NULL",
            (self._commune,),
        )


class SqliteOutbox(_Repo, OutboxRepo):
    async def enqueue(
        self, items: list[Outgoing], now: dt.datetime, receipt: int | None = None
    ) -> None:
        aware(now)
        commune = self._commune

        async def work(db: aiosqlite.Connection) -> None:
            await _enqueue(db, commune, items, now)
            if receipt is not None:
                await _inbound_done(db, commune, receipt, now)

        await self._db.write(work)

    async def claim(
        self, now: dt.datetime, lease: dt.timedelta, limit: int = 50
    ) -> list[OutboxItem]:
        rows = await self._db.write_one(
            "UPDATE outbox SET claimed_until_us = ? WHERE id IN ("
            " SELECT o.id FROM (SELECT MIN(id) AS id FROM outbox WHERE commune = ?"
            " GROUP BY queue) AS head JOIN outbox AS o ON o.id = head.id"
            " WHERE o.due_us <= ? AND o.claimed_until_us <= ? ORDER BY o.id LIMIT ?)"
            " RETURNING id, payload, attempts, progress, created_at",
            (_us(now + lease), self._commune, _us(now), _us(now), limit),
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

    async def sent(self, item_id: int) -> None:
        await self._db.write_one(
            "DELETE FROM outbox WHERE id = ? AND commune = ?", (item_id, self._commune)
        )

    async def retry(self, item_id: int, due: dt.datetime, reason: str, progress: int) -> None:
        await self._db.write_one(
            "UPDATE outbox SET attempts = attempts + 1, due_us = ?, reason = ?, progress = ?,"
            " claimed_until_us = 0 WHERE id = ? AND commune = ?",
            (_us(due), reason[:500], progress, item_id, self._commune),
        )

    async def failed(
        self, item_id: int, now: dt.datetime, report: list[Outgoing], event: Event | None
    ) -> None:
        commune = self._commune

        async def work(db: aiosqlite.Connection) -> None:
            rows = await _run(
                db,
                "DELETE FROM outbox WHERE id = ? AND commune = ? RETURNING payload",
                (item_id, commune),
            )
            await _enqueue(db, commune, report, now)
            if rows and event is not None:
                owner = Outgoing.model_validate_json(rows[0][0]).conversation_id
                if owner is not None and await _run(
                    db,
                    "SELECT 1 FROM conversations WHERE id = ? AND commune = ?",
                    (owner, commune),
                ):
                    await _log_event(db, commune, owner, event)

        await self._db.write(work)

    async def pending(self) -> int:
        rows = await self._db.read(
            "SELECT count(*) FROM outbox WHERE commune = ?", (self._commune,)
        )
        return int(rows[0][0])

    async def release_claims(self) -> None:
        await self._db.write_one(
            "UPDATE outbox SET claimed_until_us = 0 WHERE commune = ? AND claimed_until_us != 0",
            (self._commune,),
        )


class SqliteDeskLinks(_Repo, DeskLinkRepo):
    """Same database and connection as the conversations."""

    async def topic(self, conversation_id: int) -> tuple[int, int] | None:
        rows = await self._db.read(
            "SELECT chat_id, thread_id FROM desk_topics WHERE conversation_id = ? AND commune = ?",
            (conversation_id, self._commune),
        )
        return (int(rows[0][0]), int(rows[0][1])) if rows else None

    async def set_topic(
        self, conversation_id: int, chat_id: int, thread_id: int, now: dt.datetime
    ) -> None:
        await self._db.write_one(
            "INSERT INTO desk_topics (commune, conversation_id, chat_id, thread_id, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (conversation_id) DO UPDATE SET"
            " chat_id = excluded.chat_id, thread_id = excluded.thread_id,"
            " created_at = excluded.created_at",
            (self._commune, conversation_id, chat_id, thread_id, _iso(now)),
        )

    async def drop_topic(self, conversation_id: int) -> None:
        await self._db.write_one(
            "DELETE FROM desk_topics WHERE conversation_id = ? AND commune = ?",
            (conversation_id, self._commune),
        )

    async def conversation_for_thread(self, chat_id: int, thread_id: int) -> int | None:
        rows = await self._db.read(
            "SELECT conversation_id FROM desk_topics"
            " WHERE commune = ? AND chat_id = ? AND thread_id = ?",
            (self._commune, chat_id, thread_id),
        )
        return int(rows[0][0]) if rows else None

    async def link_message(self, chat_id: int, message_id: int, conversation_id: int) -> None:
        await self._db.write_one(
            "INSERT INTO desk_messages (commune, chat_id, message_id, conversation_id)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (chat_id, message_id) DO UPDATE SET"
            " conversation_id = excluded.conversation_id, commune = excluded.commune",
            (self._commune, chat_id, message_id, conversation_id),
        )

    async def conversation_for_message(self, chat_id: int, message_id: int) -> int | None:
        rows = await self._db.read(
            "SELECT conversation_id FROM desk_messages"
            " WHERE commune = ? AND chat_id = ? AND message_id = ?",
            (self._commune, chat_id, message_id),
        )
        return int(rows[0][0]) if rows else None


class SqliteReports(_Repo, ReportRepo):
    async def events_of_kinds(
        self, kinds: Sequence[str], since: dt.datetime
    ) -> list[tuple[int | None, Event]]:
        if not kinds:
            return []
        marks = ", ".join("?" for _ in kinds)
        rows = await self._db.read(
            "SELECT conversation_id, kind, data, at FROM events"
            f" WHERE commune = ? AND at_us >= ? AND kind IN ({marks}) ORDER BY at_us, id",
            (self._commune, _us(since), *kinds),
        )
        return [(row["conversation_id"], _event(row)) for row in rows]

    async def handoffs_created(self, since: dt.datetime, until: dt.datetime) -> list[Handoff]:
        rows = await self._db.read(
            f"SELECT {_HANDOFF_COLUMNS} FROM handoffs"
            " WHERE commune = ? AND created_us >= ? AND created_us < ? ORDER BY created_us, id",
            (self._commune, _us(since), _us(until)),
        )
        return [_handoff(row) for row in rows]

    async def citizens(self) -> dict[int, ConversationKey]:
        rows = await self._db.read(
            "SELECT id, channel, user_id FROM conversations WHERE commune = ?", (self._commune,)
        )
        return {
            int(row["id"]): ConversationKey(
                channel=row["channel"], user_id=row["user_id"], commune=self._commune
            )
            for row in rows
        }


class SqliteLeases(LeaseRepo):
    """Leases are database-wide: they name a bot or a job, not a commune's rows."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def acquire(self, name: str, holder: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
        rows = await self._db.write_one(
            "INSERT INTO leases (name, holder, expires_us) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
            " expires_us = excluded.expires_us"
            " WHERE leases.holder = excluded.holder OR leases.expires_us <= ? RETURNING 1",
            (name, holder, _us(now + ttl), _us(now)),
        )
        return bool(rows)

    async def renew(self, name: str, holder: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
        rows = await self._db.write_one(
            "UPDATE leases SET expires_us = ? WHERE name = ? AND holder = ? AND expires_us > ?"
            " RETURNING 1",
            (_us(now + ttl), name, holder, _us(now)),
        )
        return bool(rows)

    async def release(self, name: str, holder: str) -> None:
        await self._db.write_one("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))


class SqliteStorage(Storage):
    """One commune's view of a SQLite database. Built from a path it owns its own database
    (the single-commune setup); built by SqliteDatabase.for_commune it shares that one."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        synchronous: str = "NORMAL",
        busy_timeout_ms: int = 5000,
        migrations: Sequence[str] = MIGRATIONS,
        database: SqliteDatabase | None = None,
        commune: str = DEFAULT_COMMUNE,
    ) -> None:
        if database is None:
            if path is None:
                raise ValueError("SqliteStorage needs a path or a database")
            database = SqliteDatabase(
                path,
                synchronous=synchronous,
                busy_timeout_ms=busy_timeout_ms,
                migrations=migrations,
            )
            self._owned = True
        else:
            self._owned = False
        self.database = database
        self.commune = commune
        self.conversations = SqliteConversations(database, commune)
        self.events = SqliteEvents(database, commune)
        self.handoffs = SqliteHandoffs(database, commune)
        self.feedback = SqliteFeedback(database, commune)
        self.ratings = SqliteRatings(database, commune)
        self.dedup = SqliteDedup(database, commune)
        self.kv = SqliteKeyValue(database, commune)
        self.inbox = SqliteInbox(database, commune)
        self.outbox = SqliteOutbox(database, commune)
        self.desk_links = SqliteDeskLinks(database, commune)
        self.reports = SqliteReports(database, commune)
        self.leases = SqliteLeases(database)

    @property
    def path(self) -> str:
        return self.database.path

    async def open(self) -> None:
        """Opens the database if this storage owns it (a shared one is opened by its owner)."""
        if self._owned:
            await self.database.open()

    async def close(self) -> None:
        if self._owned:
            await self.database.close()

    async def flush(self) -> None:
        await self.database.flush()

    async def check_writable(self) -> None:
        """Fail now, not at the first citizen, when the file or its folder is read-only."""
        await self.kv.set("startup.probe", "", dt.datetime.now(dt.UTC))

    async def commit(self, turn: Turn) -> None:
        """A display name of None or "" keeps the known one. Group-committed with the turns of
        every commune writing at the same moment (SqliteDatabase.commit)."""
        check_turn(turn)
        if turn.handoffs:
            crash_point("commit-handoff")
        await self.database.commit(_prepare(self.commune, turn))

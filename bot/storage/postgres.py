"""PostgreSQL storage (asyncpg): one pool per process, shared by every commune.

Same schema shape as SQLite (ISO text times with a `*_us` twin from bot.storage.timecode), so
`python -m bot migrate` copies rows unchanged. Several processes may share the database:
queues are claimed with FOR UPDATE SKIP LOCKED, duplicates are refused by unique keys, handoff
ids come from a sequence, leases are rows with an expiry.

Erasure deletes rows for real. PostgreSQL has no secure_delete: deleted tuples stay in the
data files until VACUUM reclaims the space (autovacuum does, soon after); disk encryption is
the operator's part.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from pydantic import TypeAdapter

from bot.storage.memory import (
    PERSONAL_BY_KIND,
    PERSONAL_EVENT_KEYS,
    SEEN_TTL,
    aware,
    check_handoff,
    check_turn,
    feedback_ref,
)
from bot.storage.timecode import Stamps
from bot.storage.timecode import iso as _iso
from bot.storage.timecode import iso_or_none as _iso_or_none
from bot.storage.timecode import us as _us
from flows.models import ConversationKey
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

Conn = Any  # asyncpg.Connection or pool connection proxy (asyncpg ships no type hints)
_DATA = TypeAdapter(dict[str, Any])
_OPEN = "status IN ({})".format(", ".join(f"'{s}'" for s in OPEN_STATUSES))

MIGRATIONS: tuple[str, ...] = (
    # 1: the schema as of SQLite migration 5 (tenancy and leases included)
    """
    CREATE TABLE conversations (
        id BIGSERIAL PRIMARY KEY,
        commune TEXT NOT NULL DEFAULT 'default',
        channel TEXT NOT NULL,
        user_id TEXT NOT NULL,
        display_name TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        UNIQUE (commune, channel, user_id)
    );
    CREATE TABLE transcript (
        conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        commune TEXT NOT NULL DEFAULT 'default',
        seq INTEGER NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('in', 'out', 'staff')),
        text TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (conversation_id, seq)
    );
    CREATE TABLE events (
        id BIGSERIAL PRIMARY KEY,
        commune TEXT NOT NULL DEFAULT 'default',
        conversation_id BIGINT REFERENCES conversations (id) ON DELETE SET NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL DEFAULT '{}',
        at TEXT NOT NULL,
        at_us BIGINT NOT NULL
    );
    CREATE INDEX events_commune_at ON events (commune, at_us, id);
    CREATE INDEX events_conversation ON events (conversation_id);
    CREATE SEQUENCE handoff_ids;
    CREATE TABLE handoffs (
        id BIGINT PRIMARY KEY,
        commune TEXT NOT NULL DEFAULT 'default',
        conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        status TEXT NOT NULL
            CHECK (status IN ('waiting', 'claimed', 'returned', 'closed', 'cancelled')),
        guide_id TEXT,
        reason TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        created_us BIGINT NOT NULL,
        claimed_at TEXT,
        claimed_by TEXT,
        first_response_at TEXT,
        ended_at TEXT,
        reminded_at TEXT
    );
    CREATE INDEX handoffs_conversation ON handoffs (conversation_id);
    CREATE INDEX handoffs_commune ON handoffs (commune, status);
    CREATE UNIQUE INDEX handoffs_one_open ON handoffs (conversation_id)
        WHERE status IN ('waiting', 'claimed');
    CREATE TABLE feedback (
        id BIGSERIAL PRIMARY KEY,
        commune TEXT NOT NULL DEFAULT 'default',
        ref TEXT NOT NULL,
        year INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        conversation_id BIGINT REFERENCES conversations (id) ON DELETE SET NULL,
        content TEXT NOT NULL,
        name TEXT,
        phone TEXT,
        status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'in_progress', 'answered')),
        created_at TEXT NOT NULL,
        UNIQUE (commune, ref),
        UNIQUE (commune, year, seq)
    );
    CREATE TABLE ratings (
        id BIGSERIAL PRIMARY KEY,
        commune TEXT NOT NULL DEFAULT 'default',
        conversation_id BIGINT REFERENCES conversations (id) ON DELETE CASCADE,
        guide_id TEXT,
        helpful BOOLEAN NOT NULL,
        reason TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE seen_messages (
        commune TEXT NOT NULL DEFAULT 'default',
        channel TEXT NOT NULL,
        message_id TEXT NOT NULL,
        at TEXT NOT NULL,
        at_us BIGINT NOT NULL,
        PRIMARY KEY (commune, channel, message_id)
    );
    CREATE INDEX seen_messages_at ON seen_messages (at_us);
    CREATE TABLE desk_topics (
        conversation_id BIGINT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
        commune TEXT NOT NULL DEFAULT 'default',
        chat_id BIGINT NOT NULL,
        thread_id BIGINT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (chat_id, thread_id)
    );
    CREATE TABLE desk_messages (
        chat_id BIGINT NOT NULL,
        message_id BIGINT NOT NULL,
        commune TEXT NOT NULL DEFAULT 'default',
        conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        PRIMARY KEY (chat_id, message_id)
    );
    CREATE TABLE settings_kv (
        commune TEXT NOT NULL DEFAULT 'default',
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (commune, key)
    );
    CREATE TABLE inbound_events (
        id BIGSERIAL PRIMARY KEY,
        commune TEXT NOT NULL DEFAULT 'default',
        channel TEXT NOT NULL,
        event_key TEXT NOT NULL,
        payload TEXT NOT NULL,
        received_at TEXT NOT NULL,
        processed_at TEXT,
        claimed_until_us BIGINT NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        UNIQUE (commune, channel, event_key)
    );
    CREATE INDEX inbound_events_pending ON inbound_events (commune, channel, id)
        WHERE processed_at IS NULL;
    CREATE TABLE outbox (
        id BIGSERIAL PRIMARY KEY,
        commune TEXT NOT NULL DEFAULT 'default',
        queue TEXT NOT NULL,
        target TEXT NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        progress INTEGER NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        due_us BIGINT NOT NULL,
        claimed_until_us BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX outbox_commune_queue ON outbox (commune, queue, id);
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_us BIGINT NOT NULL
    );
    """,
    # 2: the web console (SQLite 6: accounts, sessions, audit, notes), the web chat's lines
    # (SQLite 7 and 8, per commune) and failed logins (SQLite 8)
    """
    CREATE TABLE staff_accounts (
        username TEXT PRIMARY KEY,
        display_name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        province_admin BOOLEAN NOT NULL DEFAULT FALSE,
        roles TEXT NOT NULL DEFAULT '{}',
        active BOOLEAN NOT NULL DEFAULT TRUE,
        created_at TEXT NOT NULL
    );
    CREATE TABLE staff_sessions (
        token_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES staff_accounts (username) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_us BIGINT NOT NULL
    );
    CREATE INDEX staff_sessions_user ON staff_sessions (username);
    CREATE TABLE staff_audit (
        id BIGSERIAL PRIMARY KEY,
        at TEXT NOT NULL,
        at_us BIGINT NOT NULL,
        username TEXT NOT NULL,
        action TEXT NOT NULL,
        commune TEXT,
        target TEXT,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX staff_audit_at ON staff_audit (at_us, id);
    CREATE INDEX staff_audit_commune ON staff_audit (commune, at_us, id);
    CREATE TABLE inbox_notes (
        id BIGSERIAL PRIMARY KEY,
        conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        author TEXT NOT NULL,
        text TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX inbox_notes_conversation ON inbox_notes (conversation_id, id);
    CREATE TABLE web_chat_lines (
        id BIGSERIAL PRIMARY KEY,
        commune TEXT NOT NULL DEFAULT 'default',
        user_id TEXT NOT NULL,
        conversation_id BIGINT REFERENCES conversations (id) ON DELETE CASCADE,
        sender TEXT NOT NULL CHECK (sender IN ('me', 'bot')),
        text TEXT NOT NULL,
        buttons TEXT NOT NULL DEFAULT '[]',
        client_id TEXT,
        ref TEXT NOT NULL,
        created_at TEXT NOT NULL,
        created_us BIGINT NOT NULL DEFAULT 0, -- read only for lines without a conversation
        UNIQUE (commune, user_id, ref)
    );
    CREATE INDEX web_chat_lines_user ON web_chat_lines (commune, user_id, id);
    CREATE INDEX web_chat_lines_conversation ON web_chat_lines (conversation_id);
    CREATE INDEX web_chat_lines_orphans ON web_chat_lines (created_us)
        WHERE conversation_id IS NULL;
    CREATE TABLE login_failures (
        id BIGSERIAL PRIMARY KEY,
        username TEXT NOT NULL,
        address TEXT NOT NULL,
        at_us BIGINT NOT NULL
    );
    CREATE INDEX login_failures_user ON login_failures (username, at_us);
    CREATE INDEX login_failures_address ON login_failures (address, at_us);
    CREATE INDEX login_failures_at ON login_failures (at_us);
    """,
    # files staff send from the web inbox (issue 13f), erased with their conversation
    """
    CREATE TABLE staff_files (
        id BIGSERIAL PRIMARY KEY,
        commune TEXT NOT NULL DEFAULT 'default',
        conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        mime TEXT NOT NULL,
        data BYTEA NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX staff_files_conversation ON staff_files (conversation_id);
    """,
)

_MIGRATION_LOCK = 0x7468_7563  # pg_advisory_xact_lock key: one migrating process at a time


async def migrate(conn: Conn, migrations: Sequence[str] = MIGRATIONS) -> int:
    """Apply the missing migrations in one transaction under an advisory lock."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        current = await conn.fetchval("SELECT max(version) FROM schema_version") or 0
        if current > len(migrations):
            from bot.storage.migrations import SchemaTooNewError

            raise SchemaTooNewError(
                f"database schema version {current} is newer than this program knows "
                f"({len(migrations)}); upgrade the bot"
            )
        for version in range(current, len(migrations)):
            await conn.execute(migrations[version])
            await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", version + 1)
        return len(migrations)


def _conversation(row: Any) -> Conversation:
    return Conversation(
        id=row["id"],
        key=ConversationKey(channel=row["channel"], user_id=row["user_id"], commune=row["commune"]),
        display_name=row["display_name"],
        state=ConversationState.model_validate_json(row["state"]),
        created_at=row["created_at"],
        last_seen_at=row["last_seen_at"],
    )


def _event(row: Any) -> Event:
    return Event(kind=row["kind"], at=row["at"], data=_DATA.validate_json(row["data"]))


_HANDOFF_COLUMNS = (
    "id, conversation_id, status, guide_id, reason, created_at, claimed_at, claimed_by,"
    " first_response_at, ended_at, reminded_at"
)
_FEEDBACK_COLUMNS = "id, ref, conversation_id, content, name, phone, status, created_at"
_RATING_COLUMNS = "id, conversation_id, guide_id, helpful, reason, created_at"


def _handoff(row: Any) -> Handoff:
    return Handoff.model_validate(dict(row))


async def _require(conn: Conn, commune: str, cid: int) -> None:
    if not await conn.fetchval(
        "SELECT 1 FROM conversations WHERE id = $1 AND commune = $2", cid, commune
    ):
        raise LookupError(f"no conversation {cid}")


async def _log_event(conn: Conn, commune: str, cid: int | None, event: Event) -> None:
    await conn.execute(
        "INSERT INTO events (commune, conversation_id, kind, data, at, at_us)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        commune,
        cid,
        event.kind,
        _DATA.dump_json(event.data).decode(),
        _iso(event.at),
        _us(event.at),
    )


async def _enqueue(conn: Conn, commune: str, items: Sequence[Outgoing], now: dt.datetime) -> None:
    if items:
        await conn.executemany(
            "INSERT INTO outbox (commune, queue, target, payload, created_at, due_us)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            [(commune, o.queue, o.target, o.model_dump_json(), _iso(now), _us(now)) for o in items],
        )


async def _inbound_done(
    conn: Conn, commune: str, item_id: int, now: dt.datetime, turn: bool = True
) -> None:
    """`turn`: the entry is the receipt of a turn, which must not commit when the entry was
    processed already (another worker took it over and answered it). A concurrent commit of
    the same entry waits for the row lock, then sees it processed: one of them fails."""
    status = await conn.execute(
        "UPDATE inbound_events SET processed_at = $1, payload = ''"
        " WHERE id = $2 AND commune = $3 AND processed_at IS NULL",
        _iso(now),
        item_id,
        commune,
    )
    if turn and status == "UPDATE 0":
        # a missing entry is not an error: erasing a citizen's data deletes their pending
        # entries, the current one included
        taken = await conn.fetchval(
            "SELECT 1 FROM inbound_events WHERE id = $1 AND commune = $2"
            " AND processed_at IS NOT NULL",
            item_id,
            commune,
        )
        if taken:
            raise InboxEntryTaken(f"inbox entry {item_id} was processed already")


async def _save_handoff(conn: Conn, commune: str, h: Handoff, create: bool) -> None:
    found = await conn.fetchrow(
        "SELECT conversation_id, commune FROM handoffs WHERE id = $1 FOR UPDATE", h.id
    )
    if (found and (found[0] != h.conversation_id or found[1] != commune)) or (
        not found and not create
    ):
        raise LookupError(f"no handoff {h.id} for conversation {h.conversation_id}")
    if h.status in OPEN_STATUSES:
        other = await conn.fetchval(
            f"SELECT id FROM handoffs WHERE conversation_id = $1 AND id != $2 AND {_OPEN}",
            h.conversation_id,
            h.id,
        )
        if other is not None:
            raise ValueError(f"conversation {h.conversation_id} already has open handoff {other}")
    params = (
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
    if not found:
        await _require(conn, commune, h.conversation_id)
        await conn.execute(
            "INSERT INTO handoffs (status, guide_id, reason, created_at, created_us, claimed_at,"
            " claimed_by, first_response_at, ended_at, reminded_at, id, conversation_id, commune)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            *params,
            h.conversation_id,
            commune,
        )
        return
    await conn.execute(
        "UPDATE handoffs SET status = $1, guide_id = $2, reason = $3, created_at = $4,"
        " created_us = $5, claimed_at = $6, claimed_by = $7, first_response_at = $8,"
        " ended_at = $9, reminded_at = $10 WHERE id = $11",
        *params,
    )


_STRIP = "(data::jsonb {})::text".format(" ".join(f"- '{k}'" for k in PERSONAL_EVENT_KEYS))


async def _strip_event_texts(conn: Conn, commune: str, where: str, *params: Any) -> None:
    """The same fields as memory.anonymised. `where` uses $2... for `params`."""
    await conn.execute(
        f"UPDATE events SET data = {_STRIP} WHERE commune = $1 AND ({where})", commune, *params
    )
    shift = len(params) + 2
    for kind, keys in PERSONAL_BY_KIND.items():
        drop = " ".join(f"- '{k}'" for k in keys)
        await conn.execute(
            f"UPDATE events SET data = (data::jsonb {drop})::text"
            f" WHERE commune = $1 AND ({where}) AND kind = ${shift}",
            commune,
            *params,
            kind,
        )


_PAYLOAD_USER = " OR ".join(
    f"payload::jsonb #>> '{{{path}}}' = $3"
    for path in ("sender,id", "follower,id", "user,id", "user_id_by_app")
)


async def _erase(conn: Conn, commune: str, ids: Sequence[int]) -> int:
    """Inside a transaction: erase these conversations of `commune` and what came from them."""
    rows = await conn.fetch(
        "SELECT id, channel, user_id FROM conversations WHERE commune = $1 AND id = ANY($2)"
        " FOR UPDATE",
        commune,
        list(ids),
    )
    for row in rows:
        cid, channel, user = row["id"], row["channel"], row["user_id"]
        await _strip_event_texts(conn, commune, "conversation_id = $2", cid)
        await conn.execute(
            "UPDATE feedback SET conversation_id = NULL, content = '', name = NULL, phone = NULL"
            " WHERE conversation_id = $1",
            cid,
        )
        await conn.execute(
            "DELETE FROM seen_messages WHERE commune = $1 AND channel = $2"
            " AND starts_with(message_id, $3)",
            commune,
            channel,
            f"{user}/",
        )
        await conn.execute(
            "DELETE FROM outbox WHERE commune = $1 AND queue IN ($2, $3)",
            commune,
            f"{channel}:{user}",
            f"desk:{channel}:{user}",
        )
        await conn.execute(
            "DELETE FROM inbound_events WHERE commune = $1 AND channel = $2 AND payload IS JSON"
            f" AND ({_PAYLOAD_USER})",
            commune,
            channel,
            user,
        )
        await conn.execute("DELETE FROM conversations WHERE id = $1", cid)
    return len(rows)


_COMMIT_TURNS = """
WITH c AS (
    UPDATE conversations AS t
    SET state = u.state, last_seen_at = u.seen, display_name = COALESCE(u.name, t.display_name)
    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])
        AS u(id, commune, state, seen, name)
    WHERE t.id = u.id AND t.commune = u.commune
    RETURNING t.id
), l AS (
    INSERT INTO transcript (commune, conversation_id, seq, direction, text, at)
    SELECT x.commune, x.cid,
        COALESCE((SELECT MAX(s.seq) FROM transcript s WHERE s.conversation_id = x.cid), 0)
            + row_number() OVER (PARTITION BY x.cid ORDER BY x.n),
        x.direction, x.text, x.at
    FROM unnest($6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[])
        WITH ORDINALITY AS x(commune, cid, direction, text, at, n)
), e AS (
    INSERT INTO events (commune, conversation_id, kind, data, at, at_us)
    SELECT commune, cid, kind, data, at, at_us
    FROM unnest($11::text[], $12::bigint[], $13::text[], $14::text[], $15::text[], $16::bigint[])
        WITH ORDINALITY AS x(commune, cid, kind, data, at, at_us, n) ORDER BY n
), o AS (
    INSERT INTO outbox (commune, queue, target, payload, created_at, due_us)
    SELECT commune, queue, target, payload, created_at, due_us
    FROM unnest($17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::bigint[])
        WITH ORDINALITY AS x(commune, queue, target, payload, created_at, due_us, n) ORDER BY n
), r AS (
    UPDATE inbound_events AS i SET processed_at = x.at, payload = ''
    FROM unnest($23::bigint[], $24::text[], $25::text[]) AS x(id, commune, at)
    WHERE i.id = x.id AND i.commune = x.commune AND i.processed_at IS NULL
    RETURNING i.id
)
SELECT CASE WHEN count(*) = $26 AND (SELECT count(*) FROM r) = cardinality($23::bigint[])
    THEN 0 ELSE 1 / (count(*) * 0) END FROM c
"""
"""Every turn of a batch in one statement, so one round trip and one transaction (one WAL
flush) whatever the number of turns. A missing conversation, or an inbox entry processed
already, makes the final division fail, which rolls the whole statement back; the batch is
then committed turn by turn."""


def _turn_rows(commune: str, turn: Turn) -> tuple[list[Any], ...]:
    """The rows of one turn for `_COMMIT_TURNS`, column by column."""
    cid, now = turn.conversation_id, turn.seen_at
    stamp = Stamps()
    return (
        [(cid, commune, turn.state.model_dump_json(), stamp.iso(now), turn.display_name or None)],
        [(commune, cid, line.direction, line.text, stamp.iso(line.at)) for line in turn.transcript],
        [
            (commune, cid, e.kind, _DATA.dump_json(e.data).decode(), *stamp.both(e.at))
            for e in turn.events
        ],
        [
            (commune, o.queue, o.target, o.model_dump_json(), *stamp.both(now))
            for o in turn.outgoing
        ],
        [(turn.receipt, commune, stamp.iso(now))] if turn.receipt is not None else [],
    )


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


async def _commit_batch(conn: Conn, batch: Sequence[tuple[str, Turn]]) -> None:
    tables: list[list[tuple[Any, ...]]] = [[], [], [], [], []]
    for commune, turn in batch:
        for table, rows in zip(tables, _turn_rows(commune, turn), strict=True):
            table.extend(rows)
    params = [
        column
        for table, width in zip(tables, (5, 5, 6, 6, 3), strict=True)
        for column in _columns(table, width)
    ]
    await conn.fetchval(_COMMIT_TURNS, *params, len(batch))


async def _commit_one(conn: Conn, commune: str, turn: Turn) -> None:
    """One turn in its own transaction, statement by statement (handoffs need their checks)."""
    cid = turn.conversation_id
    async with conn.transaction():
        status = await conn.execute(
            "UPDATE conversations SET state = $1, last_seen_at = $2,"
            " display_name = COALESCE($3, display_name) WHERE id = $4 AND commune = $5",
            turn.state.model_dump_json(),
            _iso(turn.seen_at),
            turn.display_name or None,
            cid,
            commune,
        )
        if status != "UPDATE 1":
            raise LookupError("a conversation of this turn no longer exists")
        if turn.transcript:
            base = await conn.fetchval(
                "SELECT COALESCE(MAX(seq), 0) FROM transcript WHERE conversation_id = $1", cid
            )
            await conn.executemany(
                "INSERT INTO transcript (commune, conversation_id, seq, direction, text, at)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                [
                    (commune, cid, base + n, line.direction, line.text, _iso(line.at))
                    for n, line in enumerate(turn.transcript, start=1)
                ],
            )
        for event in turn.events:
            await _log_event(conn, commune, cid, event)
        for handoff in turn.handoffs:
            await _save_handoff(conn, commune, handoff, create=True)
        await _enqueue(conn, commune, turn.outgoing, turn.seen_at)
        if turn.receipt is not None:
            await _inbound_done(conn, commune, turn.receipt, turn.seen_at)


_BY_KEYS = (
    "SELECT c.* FROM unnest($1::text[], $2::text[], $3::text[]) AS k(commune, channel, user_id)"
    " JOIN conversations c USING (commune, channel, user_id)"
)
_CREATE = (
    "INSERT INTO conversations"
    " (commune, channel, user_id, display_name, state, created_at, last_seen_at)"
    " SELECT commune, channel, user_id, name, state, at, at"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])"
    " AS k(commune, channel, user_id, name, state, at)"
    " ON CONFLICT (commune, channel, user_id) DO NOTHING RETURNING *"
)
_CREATE_ONE = (
    "INSERT INTO conversations"
    " (commune, channel, user_id, display_name, state, created_at, last_seen_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $6)"
    " ON CONFLICT (commune, channel, user_id) DO NOTHING RETURNING *"
)
_Key = tuple[str, str, str]
_Creation = tuple[_Key, str, str, str]  # key, display name, state, created at


class PostgresDatabase:
    """A pool shared by every commune of the process; `for_commune` gives one commune's view."""

    def __init__(self, url: str, *, min_size: int = 2, max_size: int = 10, **_: Any) -> None:
        self._url = url
        self._min = min_size
        self._max = max_size
        self._pool: Any = None
        self._pending: list[tuple[str, Turn, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._lookups: list[tuple[tuple[str, str, str], asyncio.Future[Any]]] = []
        self._reader: asyncio.Task[None] | None = None
        self._creations: list[tuple[_Creation, asyncio.Future[Any]]] = []
        self._creator: asyncio.Task[None] | None = None
        self.split_batches = 0  # batches that failed and were committed turn by turn

    @property
    def url(self) -> str:
        return self._url

    async def open(self) -> None:
        if self._pool is not None:
            return
        pool = await asyncpg.create_pool(self._url, min_size=self._min, max_size=self._max)
        try:
            async with pool.acquire() as conn:
                await migrate(conn)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool

    async def commit(self, commune: str, turn: Turn) -> None:
        """Group commit: turns arriving while a batch is being written go together in the next
        one, across communes; each caller returns once its own turn is durable, and a batch
        that fails is retried turn by turn, so one bad turn fails alone and all-or-nothing."""
        if turn.handoffs:  # rare, and checked row by row
            async with self.pool.acquire() as conn:
                await _commit_one(conn, commune, turn)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((commune, turn, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await asyncio.shield(future)

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                async with self.pool.acquire() as conn:
                    await _commit_batch(conn, [(c, t) for c, t, _ in batch])
            except Exception:
                self.split_batches += 1
                for commune, turn, future in batch:
                    try:
                        async with self.pool.acquire() as conn:
                            await _commit_one(conn, commune, turn)
                    except Exception as exc:
                        if not future.done():
                            future.set_exception(exc)
                    else:
                        if not future.done():
                            future.set_result(None)
                continue
            for _, _, future in batch:
                if not future.done():
                    future.set_result(None)

    async def flush(self) -> None:
        """Wait until every turn handed to commit() (even by a cancelled caller) is written."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.gather(self._flusher, return_exceptions=True)

    async def conversation_row(self, commune: str, channel: str, user_id: str) -> Any:
        """The conversations row of a key, or None. Lookups made while one is in flight go
        together in the next statement (every turn starts with one: a statement and a pool
        round trip per batch instead of per message)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._lookups.append(((commune, channel, user_id), future))
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read_lookups())
        return await future

    async def _read_lookups(self) -> None:
        while self._lookups:
            batch, self._lookups = self._lookups, []
            keys = list({key for key, _ in batch})
            try:
                async with self.pool.acquire() as conn:
                    rows = await conn.fetch(
                        _BY_KEYS, [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]
                    )
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            found = {(r["commune"], r["channel"], r["user_id"]): r for r in rows}
            for key, future in batch:
                if not future.done():
                    future.set_result(found.get(key))

    async def create_conversation(
        self, commune: str, channel: str, user_id: str, name: str, state: str, at: str
    ) -> Any:
        """Insert a conversation; its row, or None when it exists already (another process
        created it). Creations asked for while one is in flight go together in the next
        statement: one transaction for a batch of first messages, not one each."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._creations.append((((commune, channel, user_id), name, state, at), future))
        if self._creator is None or self._creator.done():
            self._creator = asyncio.create_task(self._create_conversations())
        return await future

    async def _create_conversations(self) -> None:
        while self._creations:
            batch, self._creations = self._creations, []
            rows: dict[_Key, Any] = {}
            try:
                wanted = list({item[0]: item for item, _ in batch}.values())  # one row per key
                keys = [item[0] for item in wanted]
                async with self.pool.acquire() as conn:
                    found = await conn.fetch(
                        _CREATE,
                        [k[0] for k in keys],
                        [k[1] for k in keys],
                        [k[2] for k in keys],
                        [item[1] for item in wanted],
                        [item[2] for item in wanted],
                        [item[3] for item in wanted],
                    )
                rows = {(r["commune"], r["channel"], r["user_id"]): r for r in found}
            except Exception:
                # one bad row must not fail the others: each on its own
                for item, future in batch:
                    (commune, channel, user_id), name, state, at = item
                    try:
                        async with self.pool.acquire() as conn:
                            row = await conn.fetchrow(
                                _CREATE_ONE, commune, channel, user_id, name, state, at
                            )
                    except Exception as exc:
                        if not future.done():
                            future.set_exception(exc)
                    else:
                        if not future.done():
                            future.set_result(row)
                continue
            for item, future in batch:
                if not future.done():
                    future.set_result(rows.get(item[0]))

    async def close(self) -> None:
        await self.flush()
        for task in (self._reader, self._creator):
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    @property
    def pool(self) -> Any:
        if self._pool is None:
            raise RuntimeError("PostgresDatabase is not open: await open() first")
        return self._pool

    def for_commune(self, commune: str) -> PostgresStorage:
        return PostgresStorage(self, commune)


class _Repo:
    def __init__(self, database: PostgresDatabase, commune: str) -> None:
        self._db = database
        self._commune = commune

    @property
    def _pool(self) -> Any:
        return self._db.pool


class PgConversations(_Repo, ConversationRepo):
    async def get_or_create(
        self, key: ConversationKey, now: dt.datetime, display_name: str = ""
    ) -> Conversation:
        found = await self.by_key(key)
        if found is not None:
            return found
        row = await self._db.create_conversation(
            self._commune,
            key.channel,
            key.user_id,
            display_name,
            ConversationState().model_dump_json(),
            _iso(now),
        )
        if row is not None:
            return _conversation(row)
        created = await self.by_key(key)  # another process created it just now
        assert created is not None
        return created

    async def find(self, conversation_id: int) -> Conversation | None:
        row = await self._pool.fetchrow(
            "SELECT * FROM conversations WHERE id = $1 AND commune = $2",
            conversation_id,
            self._commune,
        )
        return _conversation(row) if row else None

    async def by_key(self, key: ConversationKey) -> Conversation | None:
        row = await self._db.conversation_row(self._commune, key.channel, key.user_id)
        return _conversation(row) if row else None

    async def transcript(self, conversation_id: int, limit: int) -> list[TranscriptLine]:
        if limit <= 0:
            return []
        rows = await self._pool.fetch(
            "SELECT direction, text, at FROM transcript WHERE conversation_id = $1"
            " AND commune = $2 ORDER BY seq DESC LIMIT $3",
            conversation_id,
            self._commune,
            limit,
        )
        return [
            TranscriptLine(direction=r["direction"], text=r["text"], at=r["at"])
            for r in reversed(rows)
        ]

    async def delete(self, conversation_id: int) -> None:
        """Rows are deleted for real (see the module docstring on VACUUM)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await _erase(conn, self._commune, [conversation_id])

    async def purge_older_than(self, cutoff: dt.datetime) -> int:
        aware(cutoff)
        commune = self._commune
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, last_seen_at FROM conversations WHERE commune = $1"
                f" AND id NOT IN (SELECT conversation_id FROM handoffs WHERE {_OPEN})",
                commune,
            )
            old = [r["id"] for r in rows if dt.datetime.fromisoformat(r["last_seen_at"]) < cutoff]
            erased = await _erase(conn, commune, old)
            await _strip_event_texts(conn, commune, "at_us < $2", _us(cutoff))
            for table, update in (
                ("feedback", "conversation_id = NULL, content = '', name = NULL, phone = NULL"),
                ("ratings", "reason = NULL"),
            ):
                rows = await conn.fetch(
                    f"SELECT id, created_at FROM {table} WHERE commune = $1", commune
                )
                ids = [r["id"] for r in rows if dt.datetime.fromisoformat(r["created_at"]) < cutoff]
                await conn.execute(f"UPDATE {table} SET {update} WHERE id = ANY($1)", ids)
            # processed entries are only keys now; a recent one may still be delivered again
            # (Telegram: all after the last confirmed offset), so only old keys are dropped
            await conn.execute(
                "DELETE FROM inbound_events WHERE commune = $1 AND processed_at IS NOT NULL"
                " AND received_at::timestamptz < $2",
                commune,
                cutoff,
            )
            return erased


class PgEvents(_Repo, EventRepo):
    async def log(self, conversation_id: int | None, event: Event) -> None:
        aware(event.at, "event time")
        async with self._pool.acquire() as conn, conn.transaction():
            if conversation_id is not None:
                await _require(conn, self._commune, conversation_id)
            await _log_event(conn, self._commune, conversation_id, event)

    async def between(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> list[tuple[int | None, Event]]:
        rows = await self._pool.fetch(
            "SELECT conversation_id, kind, data, at FROM events WHERE commune = $1"
            " AND ($2::bigint IS NULL OR at_us >= $2) AND ($3::bigint IS NULL OR at_us < $3)"
            " ORDER BY at_us, id",
            self._commune,
            None if since is None else _us(since),
            None if until is None else _us(until),
        )
        return [(r["conversation_id"], _event(r)) for r in rows]


class PgHandoffs(_Repo, HandoffRepo):
    async def open(
        self, conversation_id: int, now: dt.datetime, guide_id: str | None, reason: str
    ) -> Handoff:
        commune = self._commune
        async with self._pool.acquire() as conn, conn.transaction():
            await _require(conn, commune, conversation_id)
            row = await conn.fetchrow(
                f"SELECT {_HANDOFF_COLUMNS} FROM handoffs WHERE conversation_id = $1 AND {_OPEN}",
                conversation_id,
            )
            if row is None:
                row = await conn.fetchrow(
                    "INSERT INTO handoffs (id, conversation_id, status, guide_id, reason,"
                    " created_at, created_us, commune)"
                    " VALUES (nextval('handoff_ids'), $1, 'waiting', $2, $3, $4, $5, $6)"
                    f" RETURNING {_HANDOFF_COLUMNS}",
                    conversation_id,
                    guide_id,
                    reason,
                    _iso(now),
                    _us(now),
                    commune,
                )
            return _handoff(row)

    async def current(self, conversation_id: int) -> Handoff | None:
        row = await self._pool.fetchrow(
            f"SELECT {_HANDOFF_COLUMNS} FROM handoffs"
            f" WHERE conversation_id = $1 AND commune = $2 AND {_OPEN}",
            conversation_id,
            self._commune,
        )
        return _handoff(row) if row else None

    async def save(self, handoff: Handoff) -> None:
        check_handoff(handoff)
        async with self._pool.acquire() as conn, conn.transaction():
            await _save_handoff(conn, self._commune, handoff, create=False)

    async def queue(self) -> list[Handoff]:
        rows = await self._pool.fetch(
            f"SELECT {_HANDOFF_COLUMNS} FROM handoffs WHERE commune = $1 AND {_OPEN}"
            " ORDER BY created_us, id",
            self._commune,
        )
        return [_handoff(r) for r in rows]

    async def reserve_id(self) -> int:
        return int(await self._pool.fetchval("SELECT nextval('handoff_ids')"))


class PgFeedback(_Repo, FeedbackRepo):
    async def add(
        self,
        conversation_id: int | None,
        content: str,
        now: dt.datetime,
        name: str | None = None,
        phone: str | None = None,
    ) -> FeedbackItem:
        aware(now)
        commune, year = self._commune, now.year
        async with self._pool.acquire() as conn, conn.transaction():
            if conversation_id is not None:
                await _require(conn, commune, conversation_id)
            # serialise numbering per commune and year (two processes may add at once)
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"fb:{commune}:{year}")
            seq = await conn.fetchval(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM feedback WHERE commune = $1 AND year = $2",
                commune,
                year,
            )
            row = await conn.fetchrow(
                "INSERT INTO feedback (commune, ref, year, seq, conversation_id, content, name,"
                " phone, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                f" RETURNING {_FEEDBACK_COLUMNS}",
                commune,
                feedback_ref(year, seq),
                year,
                seq,
                conversation_id,
                content,
                name,
                phone,
                _iso(now),
            )
            return FeedbackItem.model_validate(dict(row))

    async def items(self) -> list[FeedbackItem]:
        rows = await self._pool.fetch(
            f"SELECT {_FEEDBACK_COLUMNS} FROM feedback WHERE commune = $1 ORDER BY id",
            self._commune,
        )
        return [FeedbackItem.model_validate(dict(r)) for r in rows]

    async def set_status(self, ref: str, status: FeedbackStatus) -> FeedbackItem | None:
        row = await self._pool.fetchrow(
            "UPDATE feedback SET status = $1 WHERE commune = $2 AND ref = $3"
            f" RETURNING {_FEEDBACK_COLUMNS}",
            status,
            self._commune,
            ref.strip().upper(),
        )
        return FeedbackItem.model_validate(dict(row)) if row else None


class PgRatings(_Repo, RatingRepo):
    async def add(
        self, conversation_id: int | None, guide_id: str | None, helpful: bool, now: dt.datetime
    ) -> Rating:
        aware(now)
        async with self._pool.acquire() as conn, conn.transaction():
            if conversation_id is not None:
                await _require(conn, self._commune, conversation_id)
            row = await conn.fetchrow(
                "INSERT INTO ratings (commune, conversation_id, guide_id, helpful, created_at)"
                f" VALUES ($1, $2, $3, $4, $5) RETURNING {_RATING_COLUMNS}",
                self._commune,
                conversation_id,
                guide_id,
                helpful,
                _iso(now),
            )
            return Rating.model_validate(dict(row))

    async def set_reason(self, rating_id: int, reason: str) -> None:
        found = await self._pool.fetchval(
            "UPDATE ratings SET reason = $1 WHERE id = $2 AND commune = $3 RETURNING id",
            reason,
            rating_id,
            self._commune,
        )
        if found is None:
            raise LookupError(f"no rating {rating_id}")

    async def all(self) -> list[Rating]:
        rows = await self._pool.fetch(
            f"SELECT {_RATING_COLUMNS} FROM ratings WHERE commune = $1 ORDER BY id", self._commune
        )
        return [Rating.model_validate(dict(r)) for r in rows]


class PgDedup(_Repo, DedupRepo):
    async def first_seen(self, channel: str, message_id: str, now: dt.datetime) -> bool:
        """Dedup by the primary key; ids older than SEEN_TTL are pruned as they are met."""
        aware(now)
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "DELETE FROM seen_messages WHERE commune = $1 AND channel = $2"
                " AND message_id = $3 AND at_us < $4",
                self._commune,
                channel,
                message_id,
                _us(now - SEEN_TTL),
            )
            inserted = await conn.fetchval(
                "INSERT INTO seen_messages (commune, channel, message_id, at, at_us)"
                " VALUES ($1, $2, $3, $4, $5)"
                " ON CONFLICT (commune, channel, message_id) DO NOTHING RETURNING 1",
                self._commune,
                channel,
                message_id,
                _iso(now),
                _us(now),
            )
            return inserted is not None


class PgKeyValue(_Repo, KeyValueRepo):
    async def get(self, key: str) -> str | None:
        value = await self._pool.fetchval(
            "SELECT value FROM settings_kv WHERE commune = $1 AND key = $2", self._commune, key
        )
        return None if value is None else str(value)

    async def set(self, key: str, value: str, now: dt.datetime) -> None:
        await self._pool.execute(
            "INSERT INTO settings_kv (commune, key, value, updated_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (commune, key) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            self._commune,
            key,
            value,
            _iso(now),
        )


class PgInbox(_Repo, InboxRepo):
    async def receive(self, channel: str, event_key: str, payload: str, now: dt.datetime) -> bool:
        found = await self._pool.fetchval(
            "INSERT INTO inbound_events (commune, channel, event_key, payload, received_at)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (commune, channel, event_key) DO NOTHING"
            " RETURNING id",
            self._commune,
            channel,
            event_key,
            payload,
            _iso(now),
        )
        return found is not None

    async def claim(
        self, channel: str, now: dt.datetime, lease: dt.timedelta, limit: int = 100
    ) -> list[InboxItem]:
        rows = await self._pool.fetch(
            # an entry claimed before (its holder died or stalled) or waiting after a failure:
            # the round that ended without processing it counts as one attempt
            "UPDATE inbound_events SET claimed_until_us = $1,"
            " attempts = attempts + (claimed_until_us <> 0)::int"
            " WHERE id IN (SELECT id FROM inbound_events WHERE commune = $2 AND channel = $3"
            " AND processed_at IS NULL AND claimed_until_us <= $4 ORDER BY id LIMIT $5"
            " FOR UPDATE SKIP LOCKED) RETURNING id, channel, event_key, payload, attempts",
            _us(now + lease),
            self._commune,
            channel,
            _us(now),
            limit,
        )
        until = now + lease
        items = (InboxItem.model_validate({**dict(r), "claimed_until": until}) for r in rows)
        return sorted(items, key=lambda i: i.id)

    async def renew(
        self, items: Sequence[InboxItem], now: dt.datetime, lease: dt.timedelta
    ) -> list[InboxItem]:
        held = [i for i in items if i.claimed_until is not None]
        if not held:
            return []
        until = now + lease
        rows = await self._pool.fetch(
            "UPDATE inbound_events AS i SET claimed_until_us = $1"
            " FROM unnest($2::bigint[], $3::bigint[]) AS x(id, until)"
            " WHERE i.id = x.id AND i.claimed_until_us = x.until AND i.commune = $4"
            " AND i.processed_at IS NULL RETURNING i.id",
            _us(until),
            [i.id for i in held],
            [_us(i.claimed_until) for i in held if i.claimed_until is not None],
            self._commune,
        )
        kept = {int(r[0]) for r in rows}
        return [i.model_copy(update={"claimed_until": until}) for i in held if i.id in kept]

    async def failed(self, item: InboxItem, now: dt.datetime, retry_after: dt.timedelta) -> None:
        if item.claimed_until is None:
            return
        await self._pool.execute(
            "UPDATE inbound_events SET claimed_until_us = $1"  # counted when claimed again
            " WHERE id = $2 AND commune = $3 AND processed_at IS NULL AND claimed_until_us = $4",
            _us(now + retry_after),
            item.id,
            self._commune,
            _us(item.claimed_until),
        )

    async def done(self, item_id: int, now: dt.datetime) -> None:
        await _inbound_done(self._pool, self._commune, item_id, now, turn=False)

    async def pending(self, channel: str | None = None) -> int:
        return int(
            await self._pool.fetchval(
                "SELECT count(*) FROM inbound_events WHERE commune = $1 AND processed_at IS NULL"
                " AND ($2::text IS NULL OR channel = $2)",
                self._commune,
                channel,
            )
        )

    async def release_claims(self) -> None:
        await self._pool.execute(
            "UPDATE inbound_events SET claimed_until_us = 0, attempts = attempts + 1"
            " WHERE commune = $1 AND claimed_until_us != 0 AND processed_at IS NULL",
            self._commune,
        )


class PgOutbox(_Repo, OutboxRepo):
    async def enqueue(
        self, items: list[Outgoing], now: dt.datetime, receipt: int | None = None
    ) -> None:
        aware(now)
        async with self._pool.acquire() as conn, conn.transaction():
            await _enqueue(conn, self._commune, items, now)
            if receipt is not None:
                await _inbound_done(conn, self._commune, receipt, now)

    async def claim(
        self, now: dt.datetime, lease: dt.timedelta, limit: int = 50
    ) -> list[OutboxItem]:
        """Heads of their queues only; a head locked by another sender is skipped, and the
        entry behind it is not a head while the head exists."""
        rows = await self._pool.fetch(
            "UPDATE outbox SET claimed_until_us = $1 WHERE id IN ("
            " SELECT o.id FROM outbox o WHERE o.commune = $2 AND o.due_us <= $3"
            " AND o.claimed_until_us <= $3 AND NOT EXISTS (SELECT 1 FROM outbox p"
            " WHERE p.commune = o.commune AND p.queue = o.queue AND p.id < o.id)"
            " ORDER BY o.id LIMIT $4 FOR UPDATE SKIP LOCKED)"
            " RETURNING id, payload, attempts, progress, created_at",
            _us(now + lease),
            self._commune,
            _us(now),
            limit,
        )
        items = [
            OutboxItem(
                id=r["id"],
                outgoing=Outgoing.model_validate_json(r["payload"]),
                attempts=r["attempts"],
                progress=r["progress"],
                created_at=r["created_at"],
            )
            for r in rows
        ]
        return sorted(items, key=lambda item: item.id)

    async def sent(self, item_id: int) -> None:
        await self._pool.execute(
            "DELETE FROM outbox WHERE id = $1 AND commune = $2", item_id, self._commune
        )

    async def retry(self, item_id: int, due: dt.datetime, reason: str, progress: int) -> None:
        await self._pool.execute(
            "UPDATE outbox SET attempts = attempts + 1, due_us = $1, reason = $2, progress = $3,"
            " claimed_until_us = 0 WHERE id = $4 AND commune = $5",
            _us(due),
            reason[:500],
            progress,
            item_id,
            self._commune,
        )

    async def failed(
        self, item_id: int, now: dt.datetime, report: list[Outgoing], event: Event | None
    ) -> None:
        aware(now)
        commune = self._commune
        async with self._pool.acquire() as conn, conn.transaction():
            payload = await conn.fetchval(
                "DELETE FROM outbox WHERE id = $1 AND commune = $2 RETURNING payload",
                item_id,
                commune,
            )
            await _enqueue(conn, commune, report, now)
            if payload is not None and event is not None:
                owner = Outgoing.model_validate_json(payload).conversation_id
                if owner is not None and await conn.fetchval(
                    "SELECT 1 FROM conversations WHERE id = $1 AND commune = $2", owner, commune
                ):
                    await _log_event(conn, commune, owner, event)

    async def pending(self) -> int:
        return int(
            await self._pool.fetchval(
                "SELECT count(*) FROM outbox WHERE commune = $1", self._commune
            )
        )

    async def release_claims(self) -> None:
        await self._pool.execute(
            "UPDATE outbox SET claimed_until_us = 0 WHERE commune = $1 AND claimed_until_us != 0",
            self._commune,
        )


class PgDeskLinks(_Repo, DeskLinkRepo):
    async def topic(self, conversation_id: int) -> tuple[int, int] | None:
        row = await self._pool.fetchrow(
            "SELECT chat_id, thread_id FROM desk_topics WHERE conversation_id = $1"
            " AND commune = $2",
            conversation_id,
            self._commune,
        )
        return (int(row[0]), int(row[1])) if row else None

    async def set_topic(
        self, conversation_id: int, chat_id: int, thread_id: int, now: dt.datetime
    ) -> None:
        await self._pool.execute(
            "INSERT INTO desk_topics (commune, conversation_id, chat_id, thread_id, created_at)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (conversation_id) DO UPDATE SET"
            " chat_id = excluded.chat_id, thread_id = excluded.thread_id,"
            " created_at = excluded.created_at",
            self._commune,
            conversation_id,
            chat_id,
            thread_id,
            _iso(now),
        )

    async def drop_topic(self, conversation_id: int) -> None:
        await self._pool.execute(
            "DELETE FROM desk_topics WHERE conversation_id = $1 AND commune = $2",
            conversation_id,
            self._commune,
        )

    async def conversation_for_thread(self, chat_id: int, thread_id: int) -> int | None:
        found = await self._pool.fetchval(
            "SELECT conversation_id FROM desk_topics"
            " WHERE commune = $1 AND chat_id = $2 AND thread_id = $3",
            self._commune,
            chat_id,
            thread_id,
        )
        return None if found is None else int(found)

    async def link_message(self, chat_id: int, message_id: int, conversation_id: int) -> None:
        await self._pool.execute(
            "INSERT INTO desk_messages (commune, chat_id, message_id, conversation_id)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (chat_id, message_id) DO UPDATE SET"
            " conversation_id = excluded.conversation_id, commune = excluded.commune",
            self._commune,
            chat_id,
            message_id,
            conversation_id,
        )

    async def conversation_for_message(self, chat_id: int, message_id: int) -> int | None:
        found = await self._pool.fetchval(
            "SELECT conversation_id FROM desk_messages"
            " WHERE commune = $1 AND chat_id = $2 AND message_id = $3",
            self._commune,
            chat_id,
            message_id,
        )
        return None if found is None else int(found)


class PgReports(_Repo, ReportRepo):
    async def events_of_kinds(
        self, kinds: Sequence[str], since: dt.datetime
    ) -> list[tuple[int | None, Event]]:
        rows = await self._pool.fetch(
            "SELECT conversation_id, kind, data, at FROM events WHERE commune = $1"
            " AND at_us >= $2 AND kind = ANY($3) ORDER BY at_us, id",
            self._commune,
            _us(since),
            list(kinds),
        )
        return [(r["conversation_id"], _event(r)) for r in rows]

    async def handoffs_created(self, since: dt.datetime, until: dt.datetime) -> list[Handoff]:
        rows = await self._pool.fetch(
            f"SELECT {_HANDOFF_COLUMNS} FROM handoffs WHERE commune = $1"
            " AND created_us >= $2 AND created_us < $3 ORDER BY created_us, id",
            self._commune,
            _us(since),
            _us(until),
        )
        return [_handoff(r) for r in rows]

    async def citizens(self) -> dict[int, ConversationKey]:
        rows = await self._pool.fetch(
            "SELECT id, channel, user_id FROM conversations WHERE commune = $1", self._commune
        )
        return {
            int(r["id"]): ConversationKey(
                channel=r["channel"], user_id=r["user_id"], commune=self._commune
            )
            for r in rows
        }


class PgLeases(LeaseRepo):
    """Database-wide, shared by every process: the row lock makes acquire race-free."""

    def __init__(self, database: PostgresDatabase) -> None:
        self._db = database

    async def acquire(self, name: str, holder: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
        found = await self._db.pool.fetchval(
            "INSERT INTO leases AS l (name, holder, expires_us) VALUES ($1, $2, $3)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
            " expires_us = excluded.expires_us WHERE l.holder = excluded.holder"
            " OR l.expires_us <= $4 RETURNING 1",
            name,
            holder,
            _us(now + ttl),
            _us(now),
        )
        return found is not None

    async def renew(self, name: str, holder: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
        found = await self._db.pool.fetchval(
            "UPDATE leases SET expires_us = $1 WHERE name = $2 AND holder = $3"
            " AND expires_us > $4 RETURNING 1",
            _us(now + ttl),
            name,
            holder,
            _us(now),
        )
        return found is not None

    async def release(self, name: str, holder: str) -> None:
        await self._db.pool.execute(
            "DELETE FROM leases WHERE name = $1 AND holder = $2", name, holder
        )


class PostgresStorage(Storage):
    """One commune's view of a PostgreSQL database (its pool is opened by the database)."""

    def __init__(self, database: PostgresDatabase, commune: str, *, owned: bool = False) -> None:
        """`owned`: open() and close() open and close the database (single-commune use)."""
        self._owned = owned
        self.database = database
        self.commune = commune
        self.conversations = PgConversations(database, commune)
        self.events = PgEvents(database, commune)
        self.handoffs = PgHandoffs(database, commune)
        self.feedback = PgFeedback(database, commune)
        self.ratings = PgRatings(database, commune)
        self.dedup = PgDedup(database, commune)
        self.kv = PgKeyValue(database, commune)
        self.inbox = PgInbox(database, commune)
        self.outbox = PgOutbox(database, commune)
        self.desk_links = PgDeskLinks(database, commune)
        self.reports = PgReports(database, commune)
        self.leases = PgLeases(database)

    @property
    def path(self) -> str:
        return self.database.url.split("@")[-1]  # no password in messages

    async def open(self) -> None:
        if self._owned:
            await self.database.open()

    async def close(self) -> None:
        if self._owned:
            await self.database.close()

    async def flush(self) -> None:
        await self.database.flush()

    async def check_writable(self) -> None:
        await self.kv.set("startup.probe", "", dt.datetime.now(dt.UTC))

    async def commit(self, turn: Turn) -> None:
        """One transaction per turn, shared with the turns committing at the same time."""
        check_turn(turn)
        await self.database.commit(self.commune, turn)


__all__ = ["MIGRATIONS", "PostgresDatabase", "PostgresStorage"]

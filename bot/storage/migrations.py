"""The SQLite schema as an append-only list of migrations.

`PRAGMA user_version` records how many have been applied. Never edit a released migration:
append a new script, so databases already in the field upgrade step by step at the next start.

Times are stored as ISO-8601 text with their UTC offset (read back as aware datetimes). Where SQL
must compare or order times, a companion `*_us` column holds UTC microseconds since the epoch,
because ISO strings with different offsets do not sort by instant.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Final

import aiosqlite

MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: initial schema
    """
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        channel TEXT NOT NULL,
        user_id TEXT NOT NULL,
        display_name TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        UNIQUE (channel, user_id)
    );

    CREATE TABLE transcript (
        conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('in', 'out', 'staff')),
        text TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (conversation_id, seq)
    ) WITHOUT ROWID;

    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id INTEGER REFERENCES conversations (id) ON DELETE SET NULL,
        kind TEXT NOT NULL,
        data TEXT NOT NULL DEFAULT '{}',
        at TEXT NOT NULL,
        at_us INTEGER NOT NULL
    );
    CREATE INDEX events_at ON events (at_us, id);
    CREATE INDEX events_conversation ON events (conversation_id);

    CREATE TABLE handoffs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        status TEXT NOT NULL
            CHECK (status IN ('waiting', 'claimed', 'returned', 'closed', 'cancelled')),
        guide_id TEXT,
        reason TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        created_us INTEGER NOT NULL,
        claimed_at TEXT,
        claimed_by TEXT,
        first_response_at TEXT,
        ended_at TEXT,
        reminded_at TEXT
    );
    CREATE INDEX handoffs_conversation ON handoffs (conversation_id);
    CREATE UNIQUE INDEX handoffs_one_open ON handoffs (conversation_id)
        WHERE status IN ('waiting', 'claimed');

    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ref TEXT NOT NULL UNIQUE,
        year INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        conversation_id INTEGER REFERENCES conversations (id) ON DELETE SET NULL,
        content TEXT NOT NULL,
        name TEXT,
        phone TEXT,
        status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'in_progress', 'answered')),
        created_at TEXT NOT NULL,
        UNIQUE (year, seq)
    );
    CREATE INDEX feedback_conversation ON feedback (conversation_id);

    CREATE TABLE ratings (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id INTEGER REFERENCES conversations (id) ON DELETE CASCADE,
        guide_id TEXT,
        helpful INTEGER NOT NULL CHECK (helpful IN (0, 1)),
        reason TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX ratings_conversation ON ratings (conversation_id);

    CREATE TABLE seen_messages (
        channel TEXT NOT NULL,
        message_id TEXT NOT NULL,
        at TEXT NOT NULL,
        at_us INTEGER NOT NULL,
        PRIMARY KEY (channel, message_id)
    ) WITHOUT ROWID;
    CREATE INDEX seen_messages_at ON seen_messages (at_us);
    """,
    # 2: staff-desk links (topic per conversation, message map) and the pending-send queue
    """
    CREATE TABLE desk_topics (
        conversation_id INTEGER PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
        chat_id INTEGER NOT NULL,
        thread_id INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (chat_id, thread_id)
    );

    CREATE TABLE desk_messages (
        chat_id INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        PRIMARY KEY (chat_id, message_id)
    ) WITHOUT ROWID;

    CREATE TABLE pending_sends (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        channel TEXT NOT NULL,
        user_id TEXT NOT NULL,
        reply TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        due_us INTEGER NOT NULL
    );
    CREATE INDEX pending_sends_due ON pending_sends (due_us);

    CREATE TABLE settings_kv (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
    # 3: webhook events stored before they are acknowledged (processed afterwards)
    """
    CREATE TABLE inbound_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        channel TEXT NOT NULL,
        event_key TEXT NOT NULL,
        payload TEXT NOT NULL,
        received_at TEXT NOT NULL,
        processed_at TEXT,
        UNIQUE (channel, event_key)
    );
    CREATE INDEX inbound_events_pending ON inbound_events (processed_at, id);
    """,
    # 4: the inbox for every channel (claims), the durable outbox (replaces pending_sends), and
    # handoff ids reserved before the turn that creates the handoff commits
    """
    ALTER TABLE inbound_events ADD COLUMN claimed_until_us INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE inbound_events ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;

    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        queue TEXT NOT NULL,
        target TEXT NOT NULL,
        payload TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        progress INTEGER NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        due_us INTEGER NOT NULL,
        claimed_until_us INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX outbox_queue ON outbox (queue, id);

    INSERT INTO outbox (queue, target, payload, attempts, reason, created_at, due_us)
    SELECT channel || ':' || user_id, channel,
        json_object('key', json_object('channel', channel, 'user_id', user_id),
                    'reply', json(reply)),
        attempts, reason, created_at, due_us
    FROM pending_sends ORDER BY id;
    DROP TABLE pending_sends;

    CREATE TABLE sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO sequences (name, value) SELECT 'handoffs', COALESCE(MAX(id), 0) FROM handoffs;
    """,
    # web chat (issue 13b): the widget's message log, fetched by sequence number
    """
    CREATE TABLE web_chat_lines (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id TEXT NOT NULL,
        conversation_id INTEGER REFERENCES conversations (id) ON DELETE CASCADE,
        sender TEXT NOT NULL CHECK (sender IN ('me', 'bot')),
        text TEXT NOT NULL,
        buttons TEXT NOT NULL DEFAULT '[]',
        client_id TEXT,
        ref TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (user_id, ref)
    );
    CREATE INDEX web_chat_lines_user ON web_chat_lines (user_id, id);
    CREATE INDEX web_chat_lines_conversation ON web_chat_lines (conversation_id);
    """,
)


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer version of the bot; opening it could corrupt it."""


def split_statements(script: str) -> list[str]:
    """Split a script into statements, so a migration runs inside our own transaction
    (sqlite3's executescript would commit first)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    rest = [
        line for line in buffer.splitlines() if line.strip() and not line.strip().startswith("--")
    ]
    if rest:
        raise ValueError(f"migration ends with an incomplete statement: {buffer.strip()!r}")
    return statements


async def schema_version(db: aiosqlite.Connection) -> int:
    rows = list(await db.execute_fetchall("PRAGMA user_version"))
    return int(rows[0][0])


async def migrate(db: aiosqlite.Connection, migrations: Sequence[str] = MIGRATIONS) -> int:
    """Bring the schema up to date; returns the version. `db` must be in autocommit mode.

    Each migration runs in its own IMMEDIATE transaction that re-reads the version, so two
    processes starting at once never apply the same step twice.
    """
    known = len(migrations)
    current = await schema_version(db)
    if current > known:
        raise SchemaTooNewError(
            f"database schema version {current} is newer than this program knows ({known}); "
            "upgrade the bot or restore a backup made by this version"
        )
    while current < known:
        await db.execute_fetchall("BEGIN IMMEDIATE")
        try:
            current = await schema_version(db)
            if current < known:
                for statement in split_statements(migrations[current]):
                    await db.execute_fetchall(statement)
                current += 1
                await db.execute_fetchall(f"PRAGMA user_version = {current:d}")
            await db.execute_fetchall("COMMIT")
        except BaseException:
            if db.in_transaction:
                await db.execute_fetchall("ROLLBACK")
            raise
    return current

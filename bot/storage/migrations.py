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


def rebuild(table: str, columns: str, copied: str, without_rowid: bool = False) -> str:
    """The SQLite way to change a table's keys: create the new table, copy the rows (they get
    the column defaults, e.g. commune 'default'), swap it in. AUTOINCREMENT counters carry over,
    so ids of deleted rows are never reused."""
    new = f"{table}_next"
    suffix = " WITHOUT ROWID" if without_rowid else ""
    script = (
        f"CREATE TABLE {new} ({columns}){suffix};\n"
        f"INSERT INTO {new} ({copied}) SELECT {copied} FROM {table};\n"
    )
    if "AUTOINCREMENT" in columns:
        script += (
            f"DELETE FROM sqlite_sequence WHERE name = '{new}';\n"
            f"INSERT INTO sqlite_sequence (name, seq) SELECT '{new}', COALESCE(MAX(seq), 0)"
            f" FROM sqlite_sequence WHERE name = '{table}';\n"
        )
    return script + f"DROP TABLE {table};\nALTER TABLE {new} RENAME TO {table};\n"


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
    # 5: tenancy (every row names its commune; existing rows belong to the implicit 'default'
    # commune; uniqueness is per commune) and leases (one poller / job runner at a time).
    # Tables whose unique keys change are rebuilt (foreign keys are off while migrating).
    rebuild(
        "conversations",
        """
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        commune TEXT NOT NULL DEFAULT 'default',
        channel TEXT NOT NULL,
        user_id TEXT NOT NULL,
        display_name TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        UNIQUE (commune, channel, user_id)
        """,
        "id, channel, user_id, display_name, state, created_at, last_seen_at",
    )
    + rebuild(
        "seen_messages",
        """
        commune TEXT NOT NULL DEFAULT 'default',
        channel TEXT NOT NULL,
        message_id TEXT NOT NULL,
        at TEXT NOT NULL,
        at_us INTEGER NOT NULL,
        PRIMARY KEY (commune, channel, message_id)
        """,
        "channel, message_id, at, at_us",
        without_rowid=True,
    )
    + rebuild(
        "inbound_events",
        """
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        commune TEXT NOT NULL DEFAULT 'default',
        channel TEXT NOT NULL,
        event_key TEXT NOT NULL,
        payload TEXT NOT NULL,
        received_at TEXT NOT NULL,
        processed_at TEXT,
        claimed_until_us INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        UNIQUE (commune, channel, event_key)
        """,
        "id, channel, event_key, payload, received_at, processed_at, claimed_until_us, attempts",
    )
    + rebuild(
        "settings_kv",
        """
        commune TEXT NOT NULL DEFAULT 'default',
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (commune, key)
        """,
        "key, value, updated_at",
    )
    + rebuild(
        "feedback",
        """
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        commune TEXT NOT NULL DEFAULT 'default',
        ref TEXT NOT NULL,
        year INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        conversation_id INTEGER REFERENCES conversations (id) ON DELETE SET NULL,
        content TEXT NOT NULL,
        name TEXT,
        phone TEXT,
        status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'in_progress', 'answered')),
        created_at TEXT NOT NULL,
        UNIQUE (commune, ref),
        UNIQUE (commune, year, seq)
        """,
        "id, ref, year, seq, conversation_id, content, name, phone, status, created_at",
    )
    + """
    CREATE INDEX seen_messages_at ON seen_messages (at_us);
    CREATE INDEX inbound_events_pending ON inbound_events (commune, processed_at, id);
    CREATE INDEX feedback_conversation ON feedback (conversation_id);
    ALTER TABLE transcript ADD COLUMN commune TEXT NOT NULL DEFAULT 'default';
    ALTER TABLE events ADD COLUMN commune TEXT NOT NULL DEFAULT 'default';
    ALTER TABLE handoffs ADD COLUMN commune TEXT NOT NULL DEFAULT 'default';
    ALTER TABLE ratings ADD COLUMN commune TEXT NOT NULL DEFAULT 'default';
    ALTER TABLE desk_topics ADD COLUMN commune TEXT NOT NULL DEFAULT 'default';
    ALTER TABLE desk_messages ADD COLUMN commune TEXT NOT NULL DEFAULT 'default';
    ALTER TABLE outbox ADD COLUMN commune TEXT NOT NULL DEFAULT 'default';
    CREATE INDEX events_commune_at ON events (commune, at_us, id);
    CREATE INDEX handoffs_commune ON handoffs (commune, status);
    CREATE INDEX outbox_commune_queue ON outbox (commune, queue, id);
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_us INTEGER NOT NULL
    );
    """,
    # web console (issue 13a): staff accounts, server-side sessions, audit log, inbox notes
    """
    CREATE TABLE staff_accounts (
        username TEXT PRIMARY KEY,
        display_name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        province_admin INTEGER NOT NULL DEFAULT 0,
        roles TEXT NOT NULL DEFAULT '{}',
        active INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL
    );

    CREATE TABLE staff_sessions (
        token_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES staff_accounts (username) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_us INTEGER NOT NULL
    );

    CREATE TABLE staff_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        at_us INTEGER NOT NULL,
        username TEXT NOT NULL,
        action TEXT NOT NULL,
        commune TEXT,
        target TEXT,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX staff_audit_at ON staff_audit (at_us, id);

    CREATE TABLE inbox_notes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        author TEXT NOT NULL,
        text TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX inbox_notes_conversation ON inbox_notes (conversation_id, id);
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
    # 8: the web chat for several communes (a line names its commune; refs are unique per
    # commune and user) and failed logins shared by every process of the database
    rebuild(
        "web_chat_lines",
        """
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        commune TEXT NOT NULL DEFAULT 'default',
        user_id TEXT NOT NULL,
        conversation_id INTEGER REFERENCES conversations (id) ON DELETE CASCADE,
        sender TEXT NOT NULL CHECK (sender IN ('me', 'bot')),
        text TEXT NOT NULL,
        buttons TEXT NOT NULL DEFAULT '[]',
        client_id TEXT,
        ref TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (commune, user_id, ref)
        """,
        "id, user_id, conversation_id, sender, text, buttons, client_id, ref, created_at",
    )
    + """
    CREATE INDEX web_chat_lines_user ON web_chat_lines (commune, user_id, id);
    CREATE INDEX web_chat_lines_conversation ON web_chat_lines (conversation_id);
    CREATE TABLE login_failures (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username TEXT NOT NULL,
        address TEXT NOT NULL,
        at_us INTEGER NOT NULL
    );
    CREATE INDEX login_failures_user ON login_failures (username, at_us);
    CREATE INDEX login_failures_address ON login_failures (address, at_us);
    CREATE INDEX login_failures_at ON login_failures (at_us);
    """,
    # 9: files staff send from the web inbox (issue 13f), erased with their conversation
    """
    CREATE TABLE staff_files (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        commune TEXT NOT NULL DEFAULT 'default',
        conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        mime TEXT NOT NULL,
        data BLOB NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX staff_files_conversation ON staff_files (conversation_id);
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

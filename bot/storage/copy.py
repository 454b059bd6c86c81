"""`python -m bot migrate --from sqlite:PATH --to postgresql://...`: copy one commune's rows.

Rows are copied table by table with their ids, so links between them (handoffs, feedback,
desk topics) stay valid; the target's id sequences are advanced past the copied ids. The copy
is one transaction on the target: it lands whole or not at all. Console accounts, sessions, the
audit log and inbox notes are the province's, not a commune's: they are not copied.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot.storage import is_postgres, sqlite_path
from bot.storage.postgres import PostgresDatabase
from bot.storage.sqlite import SqliteDatabase

# parents before children; columns common to both schemas
TABLES: dict[str, tuple[str, ...]] = {
    "conversations": (
        "id", "commune", "channel", "user_id", "display_name", "state", "created_at",
        "last_seen_at",
    ),
    "transcript": ("conversation_id", "commune", "seq", "direction", "text", "at"),
    "events": ("id", "commune", "conversation_id", "kind", "data", "at", "at_us"),
    "handoffs": (
        "id", "commune", "conversation_id", "status", "guide_id", "reason", "created_at",
        "created_us", "claimed_at", "claimed_by", "first_response_at", "ended_at", "reminded_at",
    ),
    "feedback": (
        "id", "commune", "ref", "year", "seq", "conversation_id", "content", "name", "phone",
        "status", "created_at",
    ),
    "ratings": ("id", "commune", "conversation_id", "guide_id", "helpful", "reason", "created_at"),
    "seen_messages": ("commune", "channel", "message_id", "at", "at_us"),
    "desk_topics": ("conversation_id", "commune", "chat_id", "thread_id", "created_at"),
    "desk_messages": ("chat_id", "message_id", "commune", "conversation_id"),
    "settings_kv": ("commune", "key", "value", "updated_at"),
    "inbound_events": (
        "id", "commune", "channel", "event_key", "payload", "received_at", "processed_at",
        "claimed_until_us", "attempts",
    ),
    "outbox": (
        "id", "commune", "queue", "target", "payload", "attempts", "progress", "reason",
        "created_at", "due_us",
    ),
    "web_chat_lines": (
        "id", "commune", "user_id", "conversation_id", "sender", "text", "buttons", "client_id",
        "ref", "created_at",
    ),
    "staff_files": ("id", "commune", "conversation_id", "name", "mime", "data", "created_at"),
}  # fmt: skip
SERIALS = (
    "conversations", "events", "feedback", "ratings", "inbound_events", "outbox", "web_chat_lines",
    "staff_files",
)  # fmt: skip


@dataclass(frozen=True)
class CopyResult:
    rows: dict[str, int]


async def copy_commune(source: str, target: str, commune: str) -> CopyResult:
    """Copy `commune` from a SQLite database to a PostgreSQL one (both migrated first)."""
    if is_postgres(source) or not is_postgres(target):
        raise ValueError("copies from a SQLite database to a postgresql:// database")
    src = SqliteDatabase(sqlite_path(source))
    await src.open()  # brings an older file up to the current schema
    dst = PostgresDatabase(target)
    await dst.open()
    counts: dict[str, int] = {}
    try:
        async with dst.pool.acquire() as conn, conn.transaction():
            for table, columns in TABLES.items():
                rows = await src.read(
                    f"SELECT {', '.join(columns)} FROM {table} WHERE commune = ?", (commune,)
                )
                values = [_convert(table, tuple(row)) for row in rows]
                if values:
                    marks = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
                    await conn.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values
                    )
                counts[table] = len(values)
            for table in SERIALS:
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1))"
                )
            handoffs = await src.read("SELECT value FROM sequences WHERE name = 'handoffs'")
            top = max([int(handoffs[0][0])] if handoffs else [0])
            await conn.execute(
                "SELECT setval('handoff_ids', GREATEST($1::bigint,"
                " (SELECT COALESCE(MAX(id), 0) FROM handoffs), 1))",
                top,
            )
    finally:
        await dst.close()
        await src.close()
    return CopyResult(counts)


def _convert(table: str, row: tuple[object, ...]) -> tuple[object, ...]:
    if table == "ratings":  # SQLite keeps booleans as 0/1
        return tuple(bool(v) if i == 4 else v for i, v in enumerate(row))
    return row


def main(source: str, target: str, commune: str) -> int:
    import asyncio

    try:
        result = asyncio.run(copy_commune(source, target, commune))
    except (OSError, sqlite3.Error, ValueError) as exc:
        print(f"migrate: {exc}")
        return 1
    for table, count in result.rows.items():
        print(f"{table:16} {count}")
    return 0

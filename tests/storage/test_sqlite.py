"""What only the SQLite store promises: durability, migrations, concurrency and atomicity."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import SchemaTooNewError, SqliteStorage
from bot.storage.migrations import MIGRATIONS, split_statements
from flows.models import ConversationKey
from flows.ports import VN_TZ, ConversationState, Event, TranscriptLine, Turn

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=VN_TZ)
ALICE = ConversationKey(channel="telegram", user_id="1001")


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def pragma(path: Path, name: str) -> object:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute(f"PRAGMA {name}").fetchone()[0]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "nested" / "bot.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SqliteStorage]:
    s = SqliteStorage(db_path)
    await s.open()
    yield s
    await s.close()


async def test_data_survives_a_restart(db_path: Path) -> None:
    first = SqliteStorage(db_path)
    await first.open()
    conv = await first.conversations.get_or_create(ALICE, T0, "An")
    state = ConversationState(mode="staff", data={"x": [1, {"y": "ý"}]})
    await first.commit(
        Turn(
            conversation_id=conv.id,
            state=state,
            seen_at=at(1),
            transcript=[TranscriptLine(direction="in", text="xin chào", at=at(1))],
            events=[Event(kind="question", at=at(1), data={"q": "xin chào"})],
        )
    )
    handoff = await first.handoffs.open(conv.id, at(2), "g1", "staff")
    item = await first.feedback.add(conv.id, "góp ý", at(3), name="An")
    rating = await first.ratings.add(conv.id, "g1", True, at(4))
    assert await first.dedup.first_seen("telegram", "m1", at(5))
    await first.close()

    second = SqliteStorage(db_path)
    await second.open()
    try:
        found = await second.conversations.by_key(ALICE)
        assert found is not None
        assert (found.id, found.state, found.display_name) == (conv.id, state, "An")
        assert [x.text for x in await second.conversations.transcript(conv.id, 5)] == ["xin chào"]
        assert [e.kind for _, e in await second.events.between()] == ["question"]
        assert await second.handoffs.current(conv.id) == handoff
        assert await second.feedback.items() == [item]
        assert await second.ratings.all() == [rating]
        assert not await second.dedup.first_seen("telegram", "m1", at(6))
        # the sequence continues after a restart
        assert (await second.feedback.add(None, "nữa", at(7))).ref == "PA-2026-000002"
    finally:
        await second.close()


async def test_pragmas(store: SqliteStorage, db_path: Path) -> None:
    assert db_path.exists()  # parent directories were created
    assert pragma(db_path, "journal_mode") == "wal"
    assert pragma(db_path, "user_version") == len(MIGRATIONS)


async def test_synchronous_is_configurable(tmp_path: Path) -> None:
    for mode, level in (("NORMAL", 1), ("full", 2)):
        s = SqliteStorage(tmp_path / f"{mode}.db", synchronous=mode)
        await s.open()
        db = s.database._connection()  # the setting is per connection
        [(synchronous,)] = await db.execute_fetchall("PRAGMA synchronous")
        [(foreign_keys,)] = await db.execute_fetchall("PRAGMA foreign_keys")
        assert (synchronous, foreign_keys) == (level, 1)
        await s.close()
    with pytest.raises(ValueError, match="synchronous"):
        SqliteStorage(tmp_path / "x.db", synchronous="OFF")


async def test_migrations_run_once_and_in_order(db_path: Path) -> None:
    probe = "CREATE TABLE IF NOT EXISTS probe (n INTEGER);\nINSERT INTO probe VALUES (1);"
    old = SqliteStorage(db_path, migrations=MIGRATIONS)
    await old.open()
    await old.conversations.get_or_create(ALICE, T0)
    await old.close()

    for _ in range(2):  # an upgrade, then a plain restart
        new = SqliteStorage(db_path, migrations=(*MIGRATIONS, probe))
        await new.open()
        await new.close()

    assert pragma(db_path, "user_version") == len(MIGRATIONS) + 1
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        assert db.execute("SELECT count(*) FROM probe").fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM conversations").fetchone()[0] == 1


async def test_a_failing_migration_leaves_the_previous_version(db_path: Path) -> None:
    broken = "CREATE TABLE half (n INTEGER);\nINSERT INTO nowhere VALUES (1);"
    s = SqliteStorage(db_path, migrations=(*MIGRATIONS, broken))
    with pytest.raises(sqlite3.OperationalError):
        await s.open()
    assert pragma(db_path, "user_version") == len(MIGRATIONS)
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half" not in tables
    assert "conversations" in tables


async def test_a_newer_database_is_refused(db_path: Path) -> None:
    s = SqliteStorage(db_path)
    await s.open()
    await s.close()
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 3}")

    with pytest.raises(SchemaTooNewError, match="newer"):
        await SqliteStorage(db_path).open()
    assert pragma(db_path, "user_version") == len(MIGRATIONS) + 3


def test_split_statements() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE a (x TEXT DEFAULT ';');
    CREATE TRIGGER t AFTER INSERT ON a BEGIN
        UPDATE a SET x = 'y';
    END;
    """
    table, trigger = split_statements(script)
    assert table.endswith("CREATE TABLE a (x TEXT DEFAULT ';');")
    assert trigger.startswith("CREATE TRIGGER") and trigger.endswith("END;")
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TABLE b (x)")
    assert len(split_statements(MIGRATIONS[0])) > 5


async def test_concurrent_commits_all_land_in_order(store: SqliteStorage) -> None:
    convs = [
        await store.conversations.get_or_create(
            ConversationKey(channel="telegram", user_id=str(n)), T0
        )
        for n in range(50)
    ]

    def turn(conv_id: int, n: int) -> Turn:
        return Turn(
            conversation_id=conv_id,
            state=ConversationState(step=n),
            seen_at=at(n),
            transcript=[
                TranscriptLine(direction="in", text=f"{conv_id}:q{n}", at=at(n)),
                TranscriptLine(direction="out", text=f"{conv_id}:a{n}", at=at(n)),
            ],
            events=[Event(kind="question", at=at(n), data={"c": conv_id, "n": n})],
        )

    await asyncio.gather(*(store.commit(turn(c.id, n)) for n in range(4) for c in convs))

    for conv in convs:
        texts = [x.text for x in await store.conversations.transcript(conv.id, 100)]
        assert texts == [f"{conv.id}:{qa}{n}" for n in range(4) for qa in "qa"]
        found = await store.conversations.find(conv.id)
        assert found is not None
        assert found.state.step == 3
    assert len(await store.events.between()) == 200


async def test_a_failing_turn_writes_nothing(store: SqliteStorage) -> None:
    conv = await store.conversations.get_or_create(ALICE, T0, "An")
    bad_line = TranscriptLine.model_construct(direction="bogus", text="x", at=at(1))  # type: ignore[arg-type]
    turn = Turn.model_construct(
        conversation_id=conv.id,
        state=ConversationState(step=5),
        seen_at=at(1),
        display_name="Changed",
        transcript=[TranscriptLine(direction="in", text="ok", at=at(1)), bad_line],
        events=[Event(kind="question", at=at(1))],
    )
    with pytest.raises(sqlite3.IntegrityError):
        await store.commit(turn)

    assert await store.conversations.find(conv.id) == conv
    assert await store.conversations.transcript(conv.id, 10) == []
    assert await store.events.between() == []

    # the connection is usable afterwards (no transaction left open)
    good = Turn(
        conversation_id=conv.id,
        state=ConversationState(step=6),
        seen_at=at(2),
        transcript=[TranscriptLine(direction="in", text="ok", at=at(2))],
    )
    await store.commit(good)
    assert [x.text for x in await store.conversations.transcript(conv.id, 10)] == ["ok"]


async def test_a_cancelled_caller_does_not_leave_half_a_turn(store: SqliteStorage) -> None:
    conv = await store.conversations.get_or_create(ALICE, T0)
    turn = Turn(
        conversation_id=conv.id,
        state=ConversationState(step=1),
        seen_at=at(1),
        transcript=[TranscriptLine(direction="in", text=str(n), at=at(1)) for n in range(3)],
        events=[Event(kind="question", at=at(1))],
    )
    for delay in range(6):
        task = asyncio.create_task(store.commit(turn))
        for _ in range(delay):
            await asyncio.sleep(0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await store.flush()  # turns already handed over are still written, whole
    lines = await store.conversations.transcript(conv.id, 100)
    events = await store.events.between()
    assert len(lines) % 3 == 0
    assert len(events) == len(lines) // 3


async def test_using_a_closed_store_fails_clearly(db_path: Path) -> None:
    s = SqliteStorage(db_path)
    with pytest.raises(RuntimeError, match="open"):
        await s.conversations.by_key(ALICE)
    await s.open()
    await s.open()  # idempotent
    await s.close()
    await s.close()
    with pytest.raises(RuntimeError, match="open"):
        await s.conversations.get_or_create(ALICE, T0)

"""PostgreSQL group commit: turns committing at the same time share one statement (one round
trip, one transaction), each still all-or-nothing and in order; a bad turn fails alone."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.storage.postgres import PostgresDatabase
from flows.models import ConversationKey, Reply
from flows.ports import VN_TZ, ConversationState, Event, Outgoing, TranscriptLine, Turn
from tests.storage.conftest import fresh_postgres_database

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=VN_TZ)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.fixture
async def database(postgres_url: str) -> AsyncIterator[PostgresDatabase]:
    db = PostgresDatabase(await fresh_postgres_database(postgres_url))
    await db.open()
    yield db
    await db.close()


def turn(conv_id: int, n: int) -> Turn:
    return Turn(
        conversation_id=conv_id,
        state=ConversationState(step=n),
        seen_at=at(n),
        display_name=f"Người {conv_id}",
        transcript=[
            TranscriptLine(direction="in", text=f"{conv_id}:q{n}", at=at(n)),
            TranscriptLine(direction="out", text=f"{conv_id}:a{n}", at=at(n)),
        ],
        events=[Event(kind="question", at=at(n), data={"c": conv_id, "n": n})],
        outgoing=[
            Outgoing(
                key=ConversationKey(channel="telegram", user_id=str(conv_id)),
                reply=Reply(text=f"{conv_id}:a{n}"),
                conversation_id=conv_id,
            )
        ],
    )


async def test_concurrent_turns_of_two_communes_land_whole_and_in_order(
    database: PostgresDatabase,
) -> None:
    stores = [database.for_commune("an-khanh"), database.for_commune("binh-minh")]
    convs = [
        (
            store,
            await store.conversations.get_or_create(
                ConversationKey(channel="telegram", user_id=str(n)), T0
            ),
        )
        for n in range(20)
        for store in stores
    ]
    for n in range(3):
        await asyncio.gather(*(store.commit(turn(c.id, n)) for store, c in convs))
    assert database.split_batches == 0  # every batch went in one statement
    for store, conv in convs:
        texts = [x.text for x in await store.conversations.transcript(conv.id, 100)]
        assert texts == [f"{conv.id}:{qa}{n}" for n in range(3) for qa in "qa"]
        found = await store.conversations.find(conv.id)
        assert found is not None and found.state.step == 2
        assert found.display_name == f"Người {conv.id}"
    for store in stores:
        assert len(await store.events.between()) == 60
        assert await store.outbox.pending() == 60


async def test_a_turn_for_a_missing_conversation_fails_alone(database: PostgresDatabase) -> None:
    store = database.for_commune("an-khanh")
    good = await store.conversations.get_or_create(ConversationKey(channel="zalo", user_id="1"), T0)
    gone = await store.conversations.get_or_create(ConversationKey(channel="zalo", user_id="2"), T0)
    await store.conversations.delete(gone.id)
    results = await asyncio.gather(
        store.commit(turn(good.id, 1)), store.commit(turn(gone.id, 1)), return_exceptions=True
    )
    assert results[0] is None and isinstance(results[1], LookupError)
    assert database.split_batches == 1
    assert [x.text for x in await store.conversations.transcript(good.id, 10)] == [
        f"{good.id}:q1",
        f"{good.id}:a1",
    ]
    assert [e.data for _, e in await store.events.between()] == [{"c": good.id, "n": 1}]
    assert await store.outbox.pending() == 1

"""Contract tests for the channel-side stores, run on every implementation."""

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.storage import SqliteStorage
from bot.storage.links import (
    DeskLinks,
    MemoryDeskLinks,
    MemoryPendingSends,
    PendingSends,
    SqliteDeskLinks,
    SqlitePendingSends,
)
from flows.models import Button, ConversationKey, Reply
from flows.ports import VN_TZ

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)
KEY = ConversationKey(channel="telegram", user_id="42")


@pytest.fixture(params=["memory", "sqlite"])
async def stores(request, tmp_path) -> AsyncIterator[tuple[DeskLinks, PendingSends, int]]:
    if request.param == "memory":
        yield MemoryDeskLinks(), MemoryPendingSends(), 1
        return
    storage = SqliteStorage(tmp_path / "db.sqlite3")
    await storage.open()
    conversation = await storage.conversation(KEY, T0)
    yield SqliteDeskLinks(storage), SqlitePendingSends(storage), conversation.id
    await storage.close()


async def test_topic_links_round_trip(stores):
    links, _, cid = stores
    assert await links.topic(cid) is None
    await links.set_topic(cid, -100, 7, T0)
    assert await links.topic(cid) == (-100, 7)
    assert await links.conversation_for_thread(-100, 7) == cid
    assert await links.conversation_for_thread(-100, 8) is None
    await links.set_topic(cid, -100, 9, T0)  # a recreated topic replaces the old link
    assert await links.topic(cid) == (-100, 9)
    assert await links.conversation_for_thread(-100, 7) is None
    await links.drop_topic(cid)
    assert await links.topic(cid) is None


async def test_message_links(stores):
    links, _, cid = stores
    await links.link_message(-100, 55, cid)
    assert await links.conversation_for_message(-100, 55) == cid
    assert await links.conversation_for_message(-100, 56) is None


async def test_pending_sends_are_due_in_order_and_retried(stores):
    _, pending, _ = stores
    reply = Reply(text="Chào anh", buttons=(Button(label="Menu", data="menu"),))
    first = await pending.add(KEY, reply, "timeout", T0, T0)
    second = await pending.add(KEY, Reply(text="2"), "timeout", T0, T0 + dt.timedelta(minutes=1))
    due = await pending.due(T0)
    assert [p.id for p in due] == [first]
    assert due[0].reply == reply and due[0].key == KEY and due[0].attempts == 0
    await pending.retry_later(first, T0 + dt.timedelta(minutes=5), "500")
    assert [p.id for p in await pending.due(T0 + dt.timedelta(minutes=2))] == [second]
    later = await pending.due(T0 + dt.timedelta(minutes=10))
    assert [(p.id, p.attempts, p.reason) for p in later] == [
        (second, 0, "timeout"),
        (first, 1, "500"),
    ]
    await pending.done(first)
    await pending.done(second)
    assert await pending.due(T0 + dt.timedelta(days=1)) == []


async def test_due_sends_can_be_taken_per_channel(stores):
    _, pending, _ = stores
    zalo = ConversationKey(channel="zalo", user_id="9")
    first = await pending.add(zalo, Reply(text="z"), "timeout", T0, T0)
    second = await pending.add(KEY, Reply(text="t"), "timeout", T0, T0)
    assert [p.id for p in await pending.due(T0, channel="telegram")] == [second]
    assert [p.id for p in await pending.due(T0, channel="zalo")] == [first]
    assert [p.id for p in await pending.due(T0)] == [first, second]

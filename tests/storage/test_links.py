"""Contract tests for the channel-side stores, run on every implementation."""

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.storage import SqliteStorage
from bot.storage.links import (
    DeskLinks,
    MemoryDeskLinks,
    SqliteDeskLinks,
)
from flows.models import ConversationKey
from flows.ports import VN_TZ

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)
KEY = ConversationKey(channel="telegram", user_id="42")


@pytest.fixture(params=["memory", "sqlite"])
async def stores(request, tmp_path) -> AsyncIterator[tuple[DeskLinks, None, int]]:
    if request.param == "memory":
        yield MemoryDeskLinks(), None, 1
        return
    storage = SqliteStorage(tmp_path / "db.sqlite3")
    await storage.open()
    conversation = await storage.conversation(KEY, T0)
    yield SqliteDeskLinks(storage), None, conversation.id
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

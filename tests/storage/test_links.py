"""Contract tests for the channel-side stores, run on every implementation."""

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from flows.models import ConversationKey
from flows.ports import VN_TZ, DeskLinkRepo, Storage

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=VN_TZ)
KEY = ConversationKey(channel="telegram", user_id="42")


@pytest.fixture
async def stores(store: Storage) -> AsyncIterator[tuple[DeskLinkRepo, None, int]]:
    conversation = await store.conversations.get_or_create(KEY, T0)
    yield store.desk_links, None, conversation.id


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

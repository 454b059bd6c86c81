"""A Bot API answer slower than the send timeout: Telegram may still deliver the message, and
it has no idempotency key, so a retry is a second copy. The bot waits as long again before that
retry (never a quick burst of copies), and an answer within the timeout is never sent twice."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.channels.telegram.channel import TelegramChannel
from bot.delivery import OutboxSender
from bot.storage.sqlite import SqliteStorage
from flows.models import ConversationKey, Reply
from flows.ports import ManualClock, Outgoing
from tests.telegram.conftest import OPEN_TIME, TOKEN, settings
from tests.telegram.fakeapi import FakeBotApi

CITIZEN = 5151
TIMEOUT = 0.5


@dataclass
class Slow:
    api: FakeBotApi
    storage: SqliteStorage
    clock: ManualClock
    sender: OutboxSender


@pytest.fixture
async def slow(tmp_path: Path) -> AsyncIterator[Slow]:
    async with FakeBotApi(token=TOKEN) as api:
        config = settings(telegram_base_url=api.base_url, telegram_send_timeout=TIMEOUT)
        storage = SqliteStorage(tmp_path / "bot.sqlite3")
        await storage.open()
        clock = ManualClock(OPEN_TIME)
        channel = TelegramChannel(config, storage, storage.desk_links, clock)
        await channel.app.bot.initialize()
        sender = OutboxSender(
            storage, {"telegram": channel.outbox}, clock, backoff=(0.0,), poll_seconds=0.02
        )
        try:
            yield Slow(api, storage, clock, sender)
        finally:
            await sender.stop()
            await channel.app.bot.shutdown()
            await storage.close()


async def queue_reply(rig: Slow) -> None:
    key = ConversationKey(channel="telegram", user_id=str(CITIZEN))
    await rig.storage.outbox.enqueue(
        [Outgoing(key=key, reply=Reply(text="Xin chào"))], rig.clock.now()
    )


def copies(api: FakeBotApi) -> int:
    return len([c for c in api.calls_to("sendMessage") if c.ok])


async def test_an_answer_within_the_timeout_is_sent_once(slow: Slow) -> None:
    slow.api.slow["sendmessage"] = TIMEOUT / 5
    await queue_reply(slow)
    await slow.sender.start()
    await slow.api.wait_for("sendMessage")
    await slow.sender.drain()
    assert copies(slow.api) == 1 and await slow.storage.outbox.pending() == 0


async def test_after_an_answer_that_never_came_the_retry_waits_as_long_again(slow: Slow) -> None:
    slow.api.slow["sendmessage"] = TIMEOUT * 3  # the client gives up; the fake still delivers
    await queue_reply(slow)
    await slow.sender.start()
    await slow.api.wait_for("sendMessage")  # the late answer: delivered once
    slow.api.slow.clear()
    slow.clock.advance(dt.timedelta(seconds=TIMEOUT * 0.8))  # no backoff configured at all
    slow.sender.wake()
    await asyncio.sleep(0.3)
    assert copies(slow.api) == 1
    slow.clock.advance(dt.timedelta(seconds=TIMEOUT * 0.4))
    slow.sender.wake()
    await slow.api.wait_for("sendMessage", count=2)
    await slow.sender.drain()
    assert copies(slow.api) == 2 and await slow.storage.outbox.pending() == 0

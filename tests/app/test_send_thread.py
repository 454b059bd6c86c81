"""A part Telegram or Zalo accepted is in the send journal at once, even while the bot's event
loop is busy with a long turn: a kill -9 at that moment does not send the citizen the message
again.

The fake API runs on a thread of its own here, so it answers while the test's event loop is
blocked (as the bot's loop is blocked by a turn's CPU work); the journal line can then only
come from the send thread's response hook."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.zalo.channel import ZaloChannel
from bot.delivery import DONE, OutboxSender, SendJournal
from bot.storage.sqlite import SqliteStorage
from flows.models import ConversationKey, Reply
from flows.ports import ManualClock, Outgoing
from tests.telegram.conftest import OPEN_TIME, TOKEN, settings
from tests.telegram.fakeapi import FakeBotApi
from tests.zalo.conftest import APP_ID, APP_SECRET, zalo_settings
from tests.zalo.fakezalo import V3_SEND, FakeZalo

CITIZEN = 6161


F = TypeVar("F", FakeBotApi, FakeZalo)


@contextlib.contextmanager
def in_thread(make: Callable[[], F]) -> Iterator[F]:
    """A fake API served by its own event loop in its own thread."""
    ready = threading.Event()
    holder: list[F] = []
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def serve() -> None:
        async with make() as api:
            holder.append(api)
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield holder[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


@pytest.fixture
def threaded_api() -> Iterator[FakeBotApi]:
    with in_thread(lambda: FakeBotApi(token=TOKEN)) as api:
        yield api


@pytest.fixture
def threaded_zalo() -> Iterator[FakeZalo]:
    with in_thread(lambda: FakeZalo(app_id=APP_ID, app_secret=APP_SECRET)) as zalo:
        yield zalo


async def until(condition: Callable[[], bool], timeout: float = 60) -> None:
    """Wait (yielding to the event loop) for what the test needs next; generous on a slow machine."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


def blocked_until_noted(journal: SendJournal, timeout: float = 60) -> dict[int, int]:
    """Block the event loop (a long turn) until the send thread has noted the answered part:
    only the send thread can note it meanwhile. The notes, read while still blocked."""
    deadline = time.monotonic() + timeout
    while not (noted := journal.replay()) and time.monotonic() < deadline:
        time.sleep(0.005)
    return noted


async def test_an_accepted_part_is_journalled_while_the_event_loop_is_busy(
    tmp_path: Path, threaded_api: FakeBotApi
) -> None:
    storage = SqliteStorage(tmp_path / "bot.sqlite3")
    await storage.open()
    clock = ManualClock(OPEN_TIME)
    channel = TelegramChannel(
        settings(telegram_base_url=threaded_api.base_url), storage, storage.desk_links, clock
    )
    journal = SendJournal(tmp_path / "bot.sqlite3.sent-default")
    sender = OutboxSender(storage, {"telegram": channel.outbox}, clock, journal=journal)
    key = ConversationKey(channel="telegram", user_id=str(CITIZEN))
    await storage.outbox.enqueue([Outgoing(key=key, reply=Reply(text="Xin chào"))], clock.now())
    try:
        threaded_api.slow["sendmessage"] = 0.2  # the request is out; its answer comes later
        await sender.start()
        await until(lambda: "sendMessage" in threaded_api.arrived)  # the request is out
        noted = blocked_until_noted(journal)  # a long turn: the event loop gets nothing
        sent = [c for c in threaded_api.calls_to("sendMessage") if c.ok]
        assert len(sent) == 1
        assert noted and set(noted.values()) <= {1, DONE}
        await sender.drain()
        assert await storage.outbox.pending() == 0
    finally:
        await sender.stop()
        await channel.stop()
        await storage.close()


async def test_a_message_zalo_accepted_is_journalled_while_the_event_loop_is_busy(
    tmp_path: Path, threaded_zalo: FakeZalo
) -> None:
    storage = SqliteStorage(tmp_path / "bot.sqlite3")
    await storage.open()
    clock = ManualClock(OPEN_TIME)
    channel = ZaloChannel(zalo_settings(threaded_zalo, "http://127.0.0.1:9/bot"), storage, clock)
    journal = SendJournal(tmp_path / "bot.sqlite3.sent-default")
    sender = OutboxSender(storage, {"zalo": channel.outbox}, clock, journal=journal)
    key = ConversationKey(channel="zalo", user_id="8463200000000000001")
    await storage.outbox.enqueue([Outgoing(key=key, reply=Reply(text="Xin chào"))], clock.now())
    try:
        await channel.start()
        threaded_zalo.slow[V3_SEND] = 0.2
        await sender.start()
        await until(lambda: V3_SEND in threaded_zalo.arrived)  # the request is out
        noted = blocked_until_noted(journal)  # a long turn
        assert len(threaded_zalo.sent()) == 1
        assert noted and set(noted.values()) <= {1, DONE}
        await sender.drain()
        assert await storage.outbox.pending() == 0
    finally:
        await sender.stop()
        await channel.stop()
        await storage.close()
